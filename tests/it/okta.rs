//! Constant Contact's Okta as it really answers (issue 23): errors on the
//! redirect URI before sign-in (`invalid_scope`, `unauthorized_client`),
//! both shapes of `invalid_client`, the 429's `X-Rate-Limit-Reset`, the
//! refresh-token grace period and reuse detection, and one rule for client
//! authentication — the stand-in strict about each, ccsetup read right.

use std::time::{Duration, Instant};

use crate::support::e2e::{TestEnv, error_text, run_plain, status_check};
use crate::support::stand_in_http::{block_on, get_without_redirect};
use ccsetup::sandbox::constant_contact::{AppRegistration, ErrorShape, OAuthFlow, OktaRotation};
use ccsetup::sandbox::test_browser::Decision;
use serde_json::Value;

const TOKEN_PATH: &str = "/oauth2/default/v1/token";
const SIGN_IN_PATH: &str = "/oauth2/default/v1/authorize/signin";
/// Every reserved character RFC 6749 §2.3.1's encoding changes.
const AWKWARD_SECRET: &str = "s3:cr%t+a/b c";

/// A token-endpoint `POST` with a raw `Authorization` header (or none):
/// status, headers and JSON body.
fn post_token(
    env: &TestEnv,
    authorization: Option<String>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    block_on(async {
        let mut req = ccsetup::http::client()
            .unwrap()
            .post(env.sandbox.cc().token_url())
            .form(form);
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.json().await.unwrap_or(Value::Null))
    })
}

/// `Basic base64(id:secret)` without RFC 6749's form-urlencoding.
fn raw_basic(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

fn encoded_basic(id: &str, secret: &str) -> String {
    let header = ccsetup::oauth::ClientCredentials::new(id, &secrecy::SecretString::from(secret))
        .authorization();
    header.to_str().unwrap().to_string()
}

const REFRESH_WITH_UNKNOWN_TOKEN: [(&str, &str); 2] = [
    ("grant_type", "refresh_token"),
    ("refresh_token", "not-a-token"),
];

fn authorize_url(env: &TestEnv, client_id: &str, scopes: &str) -> String {
    let request = ccsetup::oauth::AuthorizationRequest::new(
        &env.sandbox.cc().authorize_url(),
        client_id,
        &format!("http://localhost:{}/callback", env.port),
        &scopes.split(' ').map(str::to_string).collect::<Vec<_>>(),
    )
    .unwrap();
    request.url().to_string()
}

fn query_of(location: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

// ------------------------------------------- errors on the redirect URI

#[test]
fn stand_in_refuses_a_scope_the_app_may_not_ask_for_by_redirect() {
    let env = TestEnv::new();
    let cc = env.sandbox.cc();
    let id = env.app.client_id.clone();
    let scopes = "account_read campaign_data offline_access";
    let (status, location) = get_without_redirect(authorize_url(&env, &id, scopes));
    assert_eq!(status, 302);
    assert!(
        location.unwrap().contains("/authorize/signin"),
        "every scope allowed"
    );

    // The portal unticks campaign_data.
    let page = cc.portal_url().join(&format!("apps/{id}/scopes")).unwrap();
    let saved = block_on(async {
        ccsetup::http::client()
            .unwrap()
            .post(page)
            .form(&[
                ("scope", "account_read"),
                ("scope", "contact_data"),
                ("scope", "offline_access"),
            ])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(saved, 303);
    assert_eq!(
        cc.app(&id).unwrap().allowed_scopes,
        vec!["account_read", "contact_data", "offline_access"]
    );
    let (status, location) = get_without_redirect(authorize_url(&env, &id, scopes));
    assert_eq!(status, 302);
    let location = location.unwrap();
    assert!(
        location.starts_with(&format!("http://localhost:{}/callback?", env.port)),
        "back to the client: {location}"
    );
    let q = query_of(&location);
    assert_eq!(q["error"], "invalid_scope");
    assert!(q["error_description"].contains("'campaign_data'"), "{q:?}");
    assert!(q.contains_key("state"));
    // What the app may ask for still goes to the sign-in page.
    let (_, location) =
        get_without_redirect(authorize_url(&env, &id, "account_read offline_access"));
    assert!(location.unwrap().contains("/authorize/signin"));
}

#[test]
fn stand_in_answers_unauthorized_client_by_redirect_for_an_app_without_the_code_flow() {
    let env = TestEnv::new();
    let local = format!("http://localhost:{}/callback", env.port);
    let device = env.sandbox.cc().register_app(
        AppRegistration::new()
            .name("TV")
            .flow(OAuthFlow::Device)
            .redirect_uri(local.clone()),
    );
    let (status, location) =
        get_without_redirect(authorize_url(&env, &device.client_id, "account_read"));
    assert_eq!(status, 302);
    let location = location.unwrap();
    assert!(location.starts_with(&format!("{local}?")), "{location}");
    assert_eq!(query_of(&location)["error"], "unauthorized_client");
}

#[test]
fn init_stops_before_any_browser_when_the_app_may_not_ask_for_a_scope() {
    let env = TestEnv::with_hypothetical_write_api();
    env.sandbox
        .cc()
        .set_allowed_scopes(
            &env.app.client_id,
            &[
                "account_read",
                "account_update",
                "contact_data",
                "offline_access",
            ],
        )
        .unwrap();
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(3);
    let text = error_text(&run);
    assert!(text.contains("campaign_data"), "{text}");
    assert!(text.contains("invalid_scope"), "{text}");
    assert!(
        text.contains("--scopes account_read,contact_data,offline_access"),
        "the fix: untick it\n{text}"
    );
    assert!(text.contains("or allow it for the app"), "{text}");
    assert!(run.callbacks.is_empty(), "no consent: {:?}", run.callbacks);
    assert!(env.cc_requests(SIGN_IN_PATH).is_empty(), "no browser");
    assert!(env.token_requests("code").is_empty());
    let json = run.json();
    assert_eq!(
        json["registration"]["error"]["scopes"],
        serde_json::json!(["campaign_data"]),
        "{json}"
    );
    assert_eq!(json["registration"]["error"]["error"], "invalid_scope");

    // Unticked with --scopes, the same app works.
    let run = env.run(
        env.init_cmd(&["--scopes", "account_read,contact_data,offline_access"]),
        Decision::Approve,
    );
    run.assert_code(0);
}

#[test]
fn init_names_the_app_type_for_unauthorized_client() {
    let env = TestEnv::new();
    let local = format!("http://localhost:{}/callback", env.port);
    let device = env.sandbox.cc().register_app(
        AppRegistration::new()
            .name("TV")
            .flow(OAuthFlow::Device)
            .redirect_uri(local),
    );
    let mut cmd = env.cmd();
    cmd.args([
        "init",
        "--non-interactive",
        "--skip-stackone",
        "--client-id",
        &device.client_id,
    ])
    .env("CC_CLIENT_SECRET", "no-secret-exists");
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(3);
    let text = error_text(&run);
    assert!(text.contains("unauthorized_client"), "{text}");
    assert!(
        text.contains("Authorization Code Flow and Implicit Flow"),
        "{text}"
    );
    assert!(env.cc_requests(SIGN_IN_PATH).is_empty());
    assert!(
        env.cc_requests(TOKEN_PATH).is_empty(),
        "no secret check either"
    );
}

#[test]
fn status_reports_a_refused_scope_as_a_failing_registration() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    env.sandbox
        .cc()
        .set_allowed_scopes(&env.app.client_id, &["account_read", "offline_access"])
        .unwrap();
    let status = run_plain(env.ccsetup(&["status", "--json"]));
    status.assert_code(1);
    let json = status.json();
    let reg = status_check(&json, "app_registration");
    assert_eq!(reg["status"], "failing", "{reg}");
    let detail = reg["detail"].as_str().unwrap();
    assert!(
        detail.contains("contact_data") && detail.contains("campaign_data"),
        "{detail}"
    );
    assert!(
        detail.contains("--scopes account_read,offline_access"),
        "{detail}"
    );
}

// ------------------------------------------------- client authentication

#[test]
fn stand_in_form_urldecodes_basic_credentials() {
    let env = TestEnv::new();
    let id = env.app.client_id.clone();
    env.sandbox.cc().set_client_secret(&id, AWKWARD_SECRET);
    let (status, _, body) = post_token(
        &env,
        Some(encoded_basic(&id, AWKWARD_SECRET)),
        &REFRESH_WITH_UNKNOWN_TOKEN,
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) = post_token(
        &env,
        Some(raw_basic(&id, AWKWARD_SECRET)),
        &REFRESH_WITH_UNKNOWN_TOKEN,
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

#[test]
fn a_secret_with_reserved_characters_is_judged_alike_by_the_probe_and_the_exchange() {
    let env = TestEnv::new();
    env.sandbox
        .cc()
        .set_client_secret(&env.app.client_id, AWKWARD_SECRET);
    // The probe accepts it, the exchange and the refresh use it, and the
    // revocation authenticates with it.
    let run = env.run(env.init_cmd(&["--skip-stackone"]), Decision::Approve);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("Constant Contact accepts this API Key and Client Secret"),
        "{}",
        run.stderr
    );
    assert_eq!(env.token_requests("code").len(), 1);
    run_plain(env.ccsetup(&["token", "--force-refresh"])).assert_code(0);
    let live = env.secret("default", "refresh_token").unwrap();
    let reset = run_plain(env.ccsetup(&["reset", "--yes"]));
    reset.assert_code(0);
    assert!(!env.refresh_token_alive(&live), "revoked: {}", reset.stderr);

    // One character off: both refuse it, before the browser.
    let env = TestEnv::new();
    env.sandbox
        .cc()
        .set_client_secret(&env.app.client_id, AWKWARD_SECRET);
    let mut cmd = env.init_cmd(&["--skip-stackone"]);
    cmd.env("CC_CLIENT_SECRET", "s3:cr%t+a/b  c");
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(3);
    assert!(
        error_text(&run).contains("invalid_client"),
        "{}",
        run.stderr
    );
    assert!(env.token_requests("code").is_empty());
}

// ----------------------------------------------------- invalid_client shapes

#[test]
fn stand_in_words_invalid_client_in_the_shape_the_app_chose() {
    let env = TestEnv::new();
    let id = env.app.client_id.clone();
    let wrong = Some(encoded_basic(&id, "wrong"));
    let (status, headers, rfc) = post_token(&env, wrong.clone(), &REFRESH_WITH_UNKNOWN_TOKEN);
    assert_eq!(status, 401);
    assert!(headers.contains_key("www-authenticate"));
    assert_eq!(rfc["error"], "invalid_client");
    assert!(rfc.get("errorCode").is_none());

    env.sandbox
        .cc()
        .set_error_shape(&id, ErrorShape::Okta)
        .unwrap();
    let (status, _, okta) = post_token(&env, wrong, &REFRESH_WITH_UNKNOWN_TOKEN);
    assert_eq!(status, 401);
    assert!(okta.get("error").is_none(), "{okta}");
    assert_eq!(okta["errorCode"], "invalid_client");
    assert!(okta["errorSummary"].is_string());
    assert!(okta["errorId"].is_string() && okta["errorCauses"].is_array());
}

#[test]
fn okta_shaped_invalid_client_is_a_wrong_secret_to_the_probe_and_the_refresh() {
    let env = TestEnv::new();
    env.sandbox
        .cc()
        .set_error_shape(&env.app.client_id, ErrorShape::Okta)
        .unwrap();
    let mut cmd = env.init_cmd(&["--skip-stackone"]);
    cmd.env("CC_CLIENT_SECRET", "not-the-secret");
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(3);
    assert!(
        error_text(&run).contains("invalid_client"),
        "{}",
        run.stderr
    );

    env.init_ok(&["--skip-stackone"]);
    env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(3);
    let text = error_text(&run);
    assert!(text.contains("refused the client credentials"), "{text}");
    assert!(text.contains("ccsetup rotate"), "{text}");
}

// -------------------------------------------------------------- rate limit

#[test]
fn stand_in_rate_limits_the_token_endpoint_with_x_rate_limit_reset() {
    let env = TestEnv::new();
    env.sandbox
        .cc()
        .rate_limit_token_endpoint(Duration::from_secs(60));
    let (status, headers, body) = post_token(
        &env,
        Some(encoded_basic(&env.app.client_id, &env.client_secret())),
        &REFRESH_WITH_UNKNOWN_TOKEN,
    );
    assert_eq!(status, 429);
    assert_eq!(body["errorCode"], "E0000047");
    let reset: u64 = headers["x-rate-limit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 59..=now + 61).contains(&reset), "{reset} vs {now}");
    assert_eq!(headers["x-rate-limit-remaining"], "0");
}

#[test]
fn a_refresh_waits_for_x_rate_limit_reset_within_the_cap() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    // Longer than the retries' own backoff (0.5 s + 1 s): only a client that
    // reads the header gets through.
    env.sandbox
        .cc()
        .rate_limit_token_endpoint(Duration::from_millis(2500));
    let started = Instant::now();
    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(0);
    assert!(started.elapsed() >= Duration::from_secs(2), "it waited");

    // Past the cap (30 s): no waiting, exit 4 saying how long.
    env.sandbox
        .cc()
        .rate_limit_token_endpoint(Duration::from_secs(600));
    let started = Instant::now();
    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(4);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(error_text(&run).contains("asked to wait"), "{}", run.stderr);
}

// ----------------------------------------- grace period and reuse detection

fn refresh(env: &TestEnv, token: &str) -> (u16, Value) {
    let (status, _, body) = post_token(
        env,
        Some(encoded_basic(&env.app.client_id, &env.client_secret())),
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    );
    (status, body)
}

#[test]
fn stand_in_grace_period_then_reuse_detection_revokes_the_newest() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let cc = env.sandbox.cc();
    cc.set_okta_rotation(
        &env.app.client_id,
        Some(OktaRotation {
            grace_period: Duration::from_secs(30),
        }),
    )
    .unwrap();
    let first = env.secret("default", "refresh_token").unwrap();
    let (status, body) = refresh(&env, &first);
    assert_eq!(status, 200, "{body}");
    let second = body["refresh_token"].as_str().unwrap().to_string();
    // Within the grace period the spent token still works.
    let (status, body) = refresh(&env, &first);
    assert_eq!(status, 200, "{body}");
    let newest = body["refresh_token"].as_str().unwrap().to_string();
    assert!(cc.refresh_token_reuses().is_empty());

    cc.advance_clock(Duration::from_secs(31));
    let (status, body) = refresh(&env, &first);
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    assert_eq!(cc.refresh_token_reuses(), vec![first]);
    for token in [&second, &newest] {
        let (status, body) = refresh(&env, token);
        assert_eq!(status, 400, "the reuse revoked the newest too: {body}");
    }
}

#[test]
fn ccsetup_never_replays_a_spent_refresh_token() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let cc = env.sandbox.cc();
    // A grace period would hide a replay from the client: look at what the
    // stand-in saw.
    cc.set_okta_rotation(
        &env.app.client_id,
        Some(OktaRotation {
            grace_period: Duration::from_secs(60),
        }),
    )
    .unwrap();
    for _ in 0..3 {
        run_plain(env.ccsetup(&["token", "--force-refresh"])).assert_code(0);
    }
    run_plain(env.ccsetup(&["token"])).assert_code(0);
    run_plain(env.ccsetup(&["status", "--json"]));
    assert!(cc.refresh_tokens_redeemed_more_than_once().is_empty());
    assert!(cc.refresh_token_reuses().is_empty());
    let stored = env.secret("default", "refresh_token").unwrap();
    assert_eq!(stored, env.last_issued_refresh_token());

    // Past the grace period the stored token is still the newest and works.
    cc.advance_clock(Duration::from_secs(120));
    run_plain(env.ccsetup(&["token", "--force-refresh"])).assert_code(0);
    assert!(cc.refresh_token_reuses().is_empty());
}

/// In a terminal, a refused scope shows the fix and offers to check again;
/// once the scope is allowed for the app, the same run goes on — all before
/// the browser.
#[cfg(unix)]
#[test]
fn a_terminal_user_allows_the_scope_and_checks_again() {
    use expectrl::Expect;
    use expectrl::session::OsSession;
    use std::process::Command;

    let env = TestEnv::new();
    let cc = env.sandbox.cc();
    cc.set_allowed_scopes(
        &env.app.client_id,
        &["account_read", "contact_data", "offline_access"],
    )
    .unwrap();
    let base = env.cmd();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("stty echo icanon; exec \"$0\" \"$@\"")
        .arg(base.get_program())
        .args(["init", "--skip-stackone"]);
    for (key, value) in base.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    cmd.env("TERM", "xterm-256color")
        .env("CC_CLIENT_ID", &env.app.client_id)
        .env("CC_CLIENT_SECRET", env.client_secret())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(std::process::Stdio::inherit());
    let mut session = OsSession::spawn(cmd).expect("spawn in a PTY");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let expect = |session: &mut OsSession, text: &str| {
        session
            .expect(crate::support::pty::wrapped_text(text))
            .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}"));
    };
    expect(&mut session, "Application name");
    session.send_line("").unwrap();
    expect(&mut session, "Is the application created?");
    session.send_line("y").unwrap();
    expect(&mut session, "Are both redirect URIs saved?");
    session.send_line("y").unwrap();
    expect(&mut session, "Scopes");
    session.send("\r").unwrap();

    expect(&mut session, "may not ask for the scope campaign_data");
    expect(&mut session, "Fix:");
    expect(&mut session, "Check again");
    assert!(env.cc_requests(SIGN_IN_PATH).is_empty(), "no browser");
    cc.set_allowed_scopes(
        &env.app.client_id,
        &[
            "account_read",
            "contact_data",
            "campaign_data",
            "offline_access",
        ],
    )
    .unwrap();
    session.send_line("y").unwrap();
    expect(&mut session, "both redirect URIs are registered");
    expect(&mut session, "accepts this API Key and Client Secret");
    let found = session
        .expect(expectrl::Regex(
            r"(http://\S+/oauth2/default/v1/authorize\?\S+)\r?\n",
        ))
        .expect("the authorization URL");
    let url = String::from_utf8_lossy(found.get(1).unwrap()).into_owned();
    let delivered = ccsetup::sandbox::test_browser::consent_blocking(&url, Decision::Approve)
        .and_then(|l| ccsetup::sandbox::test_browser::deliver_blocking(&l))
        .unwrap();
    assert_eq!(delivered.0, 200);
    session.expect(expectrl::Eof).unwrap();
    let status = session.get_process().wait().unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
    assert_eq!(
        env.cc_requests(SIGN_IN_PATH).len(),
        1,
        "one browser, after the fix"
    );
    assert!(env.has_secret("default", "refresh_token"));
}
