//! StackOne as users meet it (docs/contract.md "StackOne API"): the stand-in
//! has no profile-write endpoint by default, its dashboard form has exactly
//! the real form's fields, and each profile has a page with "Copy connector
//! ID" and an edit form.

use ccsetup::sandbox::stackone::{DEFAULT_API_KEY, StackOneOptions, StackOneStandIn};
use serde_json::{Value, json};

const SECRET: &str = "as-it-is-secret-9b1e";

pub(crate) struct StandIn {
    pub so: StackOneStandIn,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

pub(crate) struct Answer {
    pub status: u16,
    pub location: Option<String>,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl StandIn {
    pub fn start(options: StackOneOptions) -> Self {
        let (rt, so) = crate::support::stand_in_http::start_stackone(options);
        StandIn {
            so,
            http: ccsetup::http::client().unwrap(),
            rt,
        }
    }

    /// `body`: JSON for the API (sent with the key), a form for the pages.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        json: Option<Value>,
        form: Option<&[(&str, &str)]>,
    ) -> Answer {
        let mut rb = self.http.request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            self.so.url(path),
        );
        if !path.starts_with("/dashboard") {
            rb = rb.basic_auth(DEFAULT_API_KEY, Some(""));
        }
        if let Some(v) = json {
            rb = rb.json(&v);
        }
        if let Some(f) = form {
            rb = rb.form(f);
        }
        self.rt.block_on(async move {
            let resp = rb.send().await.expect("request");
            let status = resp.status().as_u16();
            let location = resp
                .headers()
                .get("location")
                .map(|v| v.to_str().unwrap().to_string());
            Answer {
                status,
                location,
                text: resp.text().await.unwrap(),
            }
        })
    }
}

#[test]
fn by_default_stackone_has_no_profile_write_endpoint_and_answers_404_like_any_unknown_path() {
    let h = StandIn::start(StackOneOptions::default());
    let id =
        h.so.fill_dashboard_form("cid", SECRET, &["account_read"], &[])
            .unwrap();
    let unknown = h.send("GET", "/no_such_path", None, None);
    assert_eq!(unknown.status, 404);
    for (method, path, body) in [
        (
            "POST",
            "/connector_profiles".to_string(),
            json!({"bad": true}),
        ),
        (
            "POST",
            "/connector_profiles".to_string(),
            json!({"connector_key": "constantcontact"}),
        ),
        ("GET", format!("/connector_profiles/{id}"), Value::Null),
        (
            "PATCH",
            format!("/connector_profiles/{id}"),
            json!({"name": "x"}),
        ),
        ("DELETE", format!("/connector_profiles/{id}"), Value::Null),
    ] {
        let body = (!body.is_null()).then_some(body);
        let a = h.send(method, &path, body, None);
        assert_eq!(a.status, 404, "{method} {path}: {}", a.text);
        let err = a.json();
        assert_eq!(err["statusCode"], 404);
        assert_eq!(
            err["message"],
            format!("Cannot {method} {path}"),
            "the same answer as an unknown path"
        );
        assert!(err["timestamp"].is_string());
    }
    assert_eq!(h.so.constant_contact_profiles().len(), 1, "nothing changed");
    // The list still works.
    let listed = h.send(
        "GET",
        "/connector_profiles?connector_key=constantcontact",
        None,
        None,
    );
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json()["data"][0]["id"], id.as_str());
}

#[test]
fn the_dashboard_form_has_the_real_fields_and_no_name() {
    let h = StandIn::start(StackOneOptions::default());
    let form = h.send("GET", "/dashboard/connector-profiles/new", None, None);
    assert_eq!(form.status, 200);
    for needle in [
        "id=\"profile-form\"",
        "id=\"client_id\" name=\"client_id\"",
        "type=\"password\" id=\"client_secret\" name=\"client_secret\"",
        "id=\"scopes\" name=\"scopes\"",
        "name=\"actions\"",
        "id=\"create-profile\"",
        "API Key (Client ID)",
        "Client Secret",
        "Scopes (optional)",
        "Actions (optional)",
    ] {
        assert!(
            form.text.contains(needle),
            "{needle} missing:\n{}",
            form.text
        );
    }
    assert!(
        !form.text.contains("name=\"name\""),
        "the real form has no Name field"
    );
    assert!(!form.text.to_lowercase().contains(">name"), "{}", form.text);
}

#[test]
fn each_profile_has_a_page_with_copy_connector_id_and_an_edit_form() {
    let h = StandIn::start(StackOneOptions::default());
    let created = h.send(
        "POST",
        "/dashboard/connector-profiles",
        None,
        Some(&[
            ("connector_key", "constantcontact"),
            ("authentication_config_key", "oauth2"),
            ("client_id", "first-client"),
            ("client_secret", SECRET),
            ("scopes", "account_read offline_access"),
        ]),
    );
    assert_eq!(created.status, 303, "{}", created.text);
    let p = h.so.constant_contact_profiles().pop().unwrap();
    assert_eq!(
        p.name, "Constant Contact",
        "StackOne names it after the connector"
    );

    let list = h.send("GET", "/dashboard/connector-profiles", None, None);
    assert!(list.text.contains(&format!("id=\"profile-{}\"", p.id)));
    let page_path = format!("/dashboard/connector-profiles/{}", p.id);
    let page = h.send("GET", &page_path, None, None);
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains(&format!("id=\"connector-id\" value=\"{}\"", p.id)),
        "{}",
        page.text
    );
    assert!(page.text.contains("id=\"copy-connector-id\""));
    assert!(page.text.contains("Copy connector ID"));
    assert!(page.text.contains("id=\"edit-form\""));
    assert!(page.text.contains("value=\"first-client\""));
    assert!(!page.text.contains(SECRET), "a page never shows the secret");

    // An edit with the secret left empty keeps it; the other fields are saved as shown.
    let kept = h.send(
        "POST",
        &page_path,
        None,
        Some(&[
            ("client_id", "second-client"),
            ("client_secret", ""),
            ("scopes", "account_read"),
            ("actions", "marketing_list_contacts"),
        ]),
    );
    assert_eq!(kept.status, 303, "{}", kept.text);
    assert_eq!(
        kept.location.as_deref(),
        Some(format!("{page_path}?saved=1").as_str())
    );
    let p2 = h.so.profile_by_id(&p.id).unwrap();
    assert_eq!(p2.client_id(), Some("second-client"));
    assert_eq!(p2.client_secret(), Some(SECRET));
    assert_eq!(p2.scopes, ["account_read"]);
    assert_eq!(p2.actions, ["marketing_list_contacts"]);

    let changed = h.send(
        "POST",
        &page_path,
        None,
        Some(&[
            ("client_id", "second-client"),
            ("client_secret", "new-secret-2"),
        ]),
    );
    assert_eq!(changed.status, 303);
    assert_eq!(
        h.so.profile_by_id(&p.id).unwrap().client_secret(),
        Some("new-secret-2")
    );
    let refused = h.send("POST", &page_path, None, Some(&[("name", "Mine")]));
    assert_eq!(refused.status, 422, "the edit form has no Name either");
    let missing = h.send("GET", "/dashboard/connector-profiles/nope", None, None);
    assert_eq!(missing.status, 404);
}

#[test]
fn the_dashboard_has_an_api_keys_page_with_the_sandbox_key() {
    let h = StandIn::start(StackOneOptions::default());
    let list = h.send("GET", "/dashboard/connector-profiles", None, None);
    assert!(
        list.text
            .contains("id=\"api-keys\" href=\"/dashboard/api-keys\"")
    );
    let keys = h.send("GET", "/dashboard/api-keys", None, None);
    assert_eq!(keys.status, 200);
    assert!(
        keys.text
            .contains(&format!("<code id=\"api-key-0\">{DEFAULT_API_KEY}</code>")),
        "{}",
        keys.text
    );
}

#[test]
fn a_missing_stackone_key_names_where_the_demo_shows_it() {
    let env = crate::support::e2e::TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let out = env
        .ccsetup(&[
            "link",
            "--non-interactive",
            "--origin-owner-id",
            "c1",
            "--origin-owner-name",
            "C",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("STACKONE_API_KEY"), "{stderr}");
    assert!(stderr.contains("/dashboard/api-keys"), "{stderr}");
    assert!(stderr.contains("demo --serve"), "{stderr}");
}
