//! The stand-in hub in one tab: the consent opens in a new tab (said on the
//! page), and a user who comes back to the hub (back button, reload, a
//! second Connect) continues the attempt under way instead of starting a new
//! one whose `state` would refuse the consent given in the other tab.

use ccsetup::sandbox::constant_contact::AppRegistration;
use ccsetup::sandbox::stackone::{CALLBACK_PATH, STACKONE_CALLBACK_URI};
use ccsetup::sandbox::test_browser::{Decision, consent_blocking};
use ccsetup::sandbox::{Sandbox, SandboxOptions};
use serde_json::json;

fn state_in(page: &str) -> String {
    let at = page.find("state=").expect("an authorization link") + "state=".len();
    page[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect()
}

#[test]
fn a_returning_user_continues_the_attempt_and_the_consent_opens_in_a_new_tab() {
    let sandbox = Sandbox::start(SandboxOptions::default()).unwrap();
    let app = sandbox.cc().register_app(
        AppRegistration::new().redirect_uri("http://localhost:8917/callback".to_string()),
    );
    let so = sandbox.stackone();
    let profile = so
        .fill_dashboard_form(&app.client_id, app.secret(), &[], &[])
        .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let http = ccsetup::http::client().unwrap();
    let session: serde_json::Value = rt.block_on(async {
        http.post(so.url("/connect_sessions"))
            .basic_auth(so.api_key(), Some(""))
            .json(&json!({"origin_owner_id": "o", "origin_owner_name": "O", "connector_profile_id": profile}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    let link = session["auth_link_url"].as_str().unwrap().to_string();
    let token = session["token"].as_str().unwrap().to_string();
    let get = |url: &str| {
        rt.block_on(async { http.get(url).send().await.unwrap().text().await.unwrap() })
    };
    let connect = || {
        rt.block_on(async {
            http.post(so.url("/hub/connect"))
                .form(&[("token", token.as_str())])
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        })
    };
    assert!(get(&link).contains("id=\"connect\""));
    let first = connect();
    assert!(first.contains("target=\"_blank\""), "{first}");
    assert!(first.contains("opens in a new tab"), "{first}");
    assert!(first.contains(STACKONE_CALLBACK_URI));
    let state = state_in(&first);
    // Back, reload, Connect again: the same attempt.
    assert_eq!(
        state_in(&connect()),
        state,
        "Connect again keeps the attempt"
    );
    let back = get(&link);
    assert!(
        !back.contains("id=\"connect\""),
        "not a fresh attempt:\n{back}"
    );
    assert_eq!(state_in(&back), state);

    // The consent (in the other tab) still matches, and its redirect lands
    // on the stand-in's own callback page, never on the real StackOne host.
    let at = back.find("id=\"authorize\" href=\"").unwrap() + "id=\"authorize\" href=\"".len();
    let authorize = back[at..at + back[at..].find('"').unwrap()].replace("&amp;", "&");
    let landed = consent_blocking(&authorize, Decision::Approve).unwrap();
    assert!(
        landed.starts_with(so.url(CALLBACK_PATH).as_str()),
        "{landed}"
    );
    assert!(!landed.contains("api.stackone.com"), "{landed}");
    let linked_page = get(&landed);
    assert!(linked_page.contains("Account linked"), "{linked_page}");
    let done = get(&link);
    assert!(done.contains("id=\"linked\""), "{done}");
    assert_eq!(so.linked_accounts().len(), 1);
}
