//! Constant Contact as it really is: the stand-in behaves like
//! the Okta authorization server behind it, and ccsetup checks the app's
//! registration and the Client Secret before anyone is sent to a browser,
//! takes any redirect URI, tells rotating refresh tokens from long-lived
//! ones, revokes on `reset`, and treats the two kinds of 429 apart.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::browser_stub::BrowserStub;
use crate::support::e2e::{Run, TestEnv, error_text, free_port, init_for, run_plain};
use crate::support::stand_in_http::{block_on, get_without_redirect};
use ccsetup::sandbox::constant_contact::{
    AppRegistration, CcStandIn, RegisteredApp, STACKONE_REDIRECT_URI,
};
use ccsetup::sandbox::test_browser::{self, Decision};
use ccsetup::sandbox::{Fault, FaultAction, Response};
use serde_json::Value;

const TOKEN_PATH: &str = "/oauth2/default/v1/token";

fn local_uri(port: u16) -> String {
    format!("http://localhost:{port}/callback")
}

/// A form POST over real HTTP: status and JSON body (`Null` if none).
fn post_form(url: url::Url, basic: Option<(&str, &str)>, form: &[(&str, &str)]) -> (u16, Value) {
    block_on(async {
        let mut req = ccsetup::http::client().unwrap().post(url).form(form);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.bytes().await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    })
}

/// Runs a refused `init` with the browser stub and checks the promise of docs/contract.md:
/// exit 3 within 2 s, the fix named, no browser, no token request.
#[track_caller]
fn assert_refused_before_the_browser(env: &TestEnv, mut cmd: Command, names: &[&str]) -> Run {
    let browser = BrowserStub::new();
    browser.attach(&mut cmd);
    let started = Instant::now();
    let run = run_plain(cmd);
    let took = started.elapsed();
    eprintln!("refused in {took:?}");
    run.assert_code(3);
    assert!(took < Duration::from_secs(2), "took {took:?}");
    let err = error_text(&run);
    for name in names {
        assert!(err.contains(name), "the error names {name}:\n{err}");
    }
    assert_eq!(browser.launches(), Vec::<String>::new(), "no browser");
    assert!(env.cc_requests(TOKEN_PATH).is_empty(), "no token request");
    assert!(env.config_text().is_empty(), "nothing saved");
    run
}

// ------------------------------------------------- the registration check

#[test]
fn a_mistyped_api_key_is_exit_3_naming_client_id_before_any_browser() {
    let env = TestEnv::new();
    let typo = RegisteredApp {
        client_id: "0f1e2d3c-0000-4000-8000-000000000000".into(),
        client_secret: Some(env.client_secret()),
    };
    assert_refused_before_the_browser(
        &env,
        init_for(&env, &typo, &[]),
        &["--client-id", &typo.client_id, STACKONE_REDIRECT_URI],
    );
}

#[test]
fn a_missing_local_redirect_uri_is_exit_3_naming_it() {
    let env = TestEnv::new();
    // StackOne's callback only, as the seed guide alone would leave it.
    let app = env.sandbox.cc().register_app(AppRegistration::new());
    let run = assert_refused_before_the_browser(
        &env,
        init_for(&env, &app, &[]),
        &[&local_uri(env.port), "not registered"],
    );
    assert!(!error_text(&run).contains(STACKONE_REDIRECT_URI));
}

#[test]
fn a_missing_stackone_callback_is_exit_3_naming_it_and_a_warning_with_skip_stackone() {
    let env = TestEnv::new();
    let mut registration = AppRegistration::new();
    registration.redirect_uris = vec![local_uri(env.port)];
    let app = env.sandbox.cc().register_app(registration);
    assert_refused_before_the_browser(
        &env,
        init_for(&env, &app, &[]),
        &[STACKONE_REDIRECT_URI, "--skip-stackone"],
    );

    // Not needed without StackOne: a warning, and the setup goes on.
    let run = env.run(
        init_for(&env, &app, &["--skip-stackone", "--json"]),
        Decision::Approve,
    );
    run.assert_code(0);
    assert!(run.stderr.contains("warning:"), "{}", run.stderr);
    assert_eq!(
        run.json()["registration"],
        serde_json::json!({"local_redirect_uri":"registered","stackone_redirect_uri":"missing"})
    );
}

#[test]
fn an_inconclusive_registration_answer_is_a_warning_never_a_block() {
    let env = TestEnv::with_hypothetical_write_api();
    env.sandbox.cc().inject(Fault::new(
        Some("GET"),
        "/oauth2/default/v1/authorize",
        FaultAction::Respond(Response::text(503, "maintenance")),
        2,
    ));
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(0);
    assert!(
        run.stderr
            .contains("could not check the app's registration"),
        "{}",
        run.stderr
    );
    assert_eq!(run.json()["registration"]["local_redirect_uri"], "unknown");
}

#[test]
fn init_json_reports_the_registration_and_the_refresh_token_type() {
    let env = TestEnv::with_hypothetical_write_api();
    let run = env.init_ok(&["--json"]);
    let json = run.json();
    assert_eq!(
        json["registration"],
        serde_json::json!({"local_redirect_uri":"registered","stackone_redirect_uri":"registered"})
    );
    assert_eq!(json["refresh_token_type"], "rotating");
    // The refresh was rotation-safe: the stored token is the live one, and
    // no token was redeemed twice.
    let stored = env.secret("default", "refresh_token").unwrap();
    assert_eq!(stored, env.last_issued_refresh_token());
    assert!(env.refresh_token_alive(&stored));
    assert_eq!(env.sandbox.cc().refresh_redemptions().len(), 1);
    assert!(
        env.sandbox
            .cc()
            .refresh_tokens_redeemed_more_than_once()
            .is_empty()
    );
}

#[test]
fn rotate_reauthorize_checks_the_registration_before_the_browser() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    env.sandbox
        .cc()
        .set_redirect_uris(&env.app.client_id, &[STACKONE_REDIRECT_URI])
        .unwrap();
    env.sandbox.cc().log().clear();
    let browser = BrowserStub::new();
    let mut cmd = env.ccsetup(&["rotate", "--reauthorize", "--non-interactive"]);
    browser.attach(&mut cmd);
    let run = run_plain(cmd);
    run.assert_code(3);
    assert!(
        error_text(&run).contains(&local_uri(env.port)),
        "{}",
        run.stderr
    );
    assert!(browser.launches().is_empty());
    assert!(env.cc_requests(TOKEN_PATH).is_empty());
}

#[test]
fn status_and_doctor_report_the_app_registration() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let status = run_plain(env.ccsetup(&["status", "--json"]));
    status.assert_code(0);
    let check = |json: &Value, name: &str| -> Value {
        json["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} check in {json}"))
    };
    assert_eq!(check(&status.json(), "app_registration")["status"], "ok");

    env.sandbox
        .cc()
        .set_redirect_uris(&env.app.client_id, &[local_uri(env.port)])
        .unwrap();
    let status = run_plain(env.ccsetup(&["status", "--json"]));
    status.assert_code(1);
    let reg = check(&status.json(), "app_registration");
    assert_eq!(reg["status"], "failing", "{reg}");
    assert!(
        reg["detail"]
            .as_str()
            .unwrap()
            .contains(STACKONE_REDIRECT_URI)
    );

    let doctor = run_plain(env.ccsetup(&["doctor", "--json"]));
    let reg = check(&doctor.json(), "app_registration");
    assert_eq!(reg["status"], "failing", "{reg}");
    assert!(reg["fix"].as_str().unwrap().contains(STACKONE_REDIRECT_URI));

    // No profile, no registration check.
    let other = run_plain(env.ccsetup(&["--profile", "other", "doctor", "--json"]));
    assert!(
        other.json()["checks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["name"] != "app_registration")
    );
}

// ------------------------------------------------------- the secret check

#[test]
fn a_secret_generated_again_turns_status_red_with_the_rotate_hint_spending_nothing() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    // The cached access token has expired: a refresh would be due.
    let mut cached: Value =
        serde_json::from_str(&env.secret("default", "access_token").unwrap()).unwrap();
    cached["expires_at"] = serde_json::json!(1);
    env.set_secret("default", "access_token", Some(&cached.to_string()));
    let refresh_token = env.secret("default", "refresh_token").unwrap();
    let redemptions = env.sandbox.cc().refresh_redemptions().len();

    env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let status = run_plain(env.ccsetup(&["status", "--json"]));
    status.assert_code(1);
    let json = status.json();
    let secret = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "client_secret")
        .unwrap();
    assert_eq!(secret["status"], "failing", "{json}");
    let detail = secret["detail"].as_str().unwrap();
    assert!(detail.contains("ccsetup rotate"), "{detail}");
    assert!(detail.contains("PKCE Flow"), "{detail}");
    // Nothing spent: no refresh grant reached the stand-in, the token lives.
    assert_eq!(env.sandbox.cc().refresh_redemptions().len(), redemptions);
    assert!(env.refresh_token_alive(&refresh_token));

    // `token` says the same when it meets invalid_client.
    let token = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    token.assert_code(3);
    let err = error_text(&token);
    assert!(err.contains("ccsetup rotate"), "{err}");
    assert!(
        err.contains("PKCE Flow") && err.contains("Authorization Code Flow and Implicit Flow"),
        "{err}"
    );
}

#[test]
fn stand_in_authenticates_the_client_before_looking_at_the_code() {
    let env = TestEnv::new();
    let post = |secret: &str| -> (u16, Value) {
        post_form(
            env.sandbox.cc().token_url(),
            Some((&env.app.client_id, secret)),
            &[
                ("grant_type", "authorization_code"),
                ("code", "no-such-code"),
                ("redirect_uri", &local_uri(env.port)),
                ("code_verifier", &"v".repeat(43)),
            ],
        )
    };
    let (status, body) = post("wrong-secret");
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    let (status, body) = post(&env.client_secret());
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[test]
fn stand_in_authorize_redirects_to_sign_in_only_for_a_registered_client_and_uri() {
    let env = TestEnv::new();
    let get = |client_id: &str, redirect_uri: &str| -> (u16, Option<String>) {
        let mut url = env.sandbox.cc().authorize_url();
        url.query_pairs_mut().extend_pairs([
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("response_type", "code"),
            ("scope", "account_read offline_access"),
            ("state", "s"),
            ("code_challenge", &"A".repeat(43)),
            ("code_challenge_method", "S256"),
        ]);
        get_without_redirect(url)
    };
    let (status, location) = get(&env.app.client_id, &local_uri(env.port));
    assert_eq!(status, 302);
    assert!(
        location.unwrap().contains("/authorize/signin?"),
        "to the sign-in page"
    );
    assert_eq!(get(&env.app.client_id, STACKONE_REDIRECT_URI).0, 302);
    assert_eq!(get(&env.app.client_id, &local_uri(1)).0, 400);
    assert_eq!(get("unknown-client", &local_uri(env.port)).0, 400);
}

// ---------------------------------------------------------------- revoke

#[test]
fn reset_revokes_the_refresh_token_leaving_a_dead_one() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let refresh_token = env.secret("default", "refresh_token").unwrap();
    let run = run_plain(env.ccsetup(&["reset", "--yes", "--json"]));
    run.assert_code(0);
    assert_eq!(run.json()["revoked"], true);
    assert!(!env.refresh_token_alive(&refresh_token));
    let revokes = env.cc_requests("/oauth2/default/v1/revoke");
    assert_eq!(revokes.len(), 1);
    assert!(revokes[0].contains("token_type_hint=refresh_token"));
    assert!(
        revokes[0]
            .header("authorization")
            .unwrap()
            .starts_with("Basic ")
    );
    // The stand-in now refuses it, as Constant Contact would.
    let (status, body) = post_form(
        env.sandbox.cc().token_url(),
        Some((&env.app.client_id, &env.client_secret())),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh_token),
        ],
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
}

#[test]
fn reset_no_revoke_and_a_failed_revocation_leave_the_token_and_say_what_to_do() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let refresh_token = env.secret("default", "refresh_token").unwrap();
    let run = run_plain(env.ccsetup(&["reset", "--yes", "--no-revoke", "--json"]));
    run.assert_code(0);
    assert_eq!(run.json()["revoked"], false);
    assert!(env.refresh_token_alive(&refresh_token));
    assert!(env.cc_requests("/oauth2/default/v1/revoke").is_empty());

    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let refresh_token = env.secret("default", "refresh_token").unwrap();
    env.sandbox.cc().inject(Fault::new(
        Some("POST"),
        "/oauth2/default/v1/revoke",
        FaultAction::Respond(Response::text(503, "down")),
        1,
    ));
    let run = run_plain(env.ccsetup(&["reset", "--yes", "--json"]));
    run.assert_code(0);
    assert_eq!(run.json()["revoked"], false);
    assert!(run.stderr.contains("by hand"), "{}", run.stderr);
    assert!(env.refresh_token_alive(&refresh_token));
    assert!(
        !env.config_text().contains("[profiles.default]"),
        "the reset went on: {}",
        env.config_text()
    );
}

#[test]
fn stand_in_revocation_authenticates_the_client() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let refresh_token = env.secret("default", "refresh_token").unwrap();
    let (status, body) = post_form(
        env.sandbox.cc().revoke_url(),
        Some((&env.app.client_id, "wrong")),
        &[("token", refresh_token.as_str())],
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
    assert!(env.refresh_token_alive(&refresh_token));
}

// ----------------------------------------------------------------- 429s

fn refresh_requests(env: &TestEnv) -> usize {
    env.token_requests("refresh").len()
}

#[test]
fn a_throttled_token_request_is_retried() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let before = refresh_requests(&env);
    env.sandbox.cc().inject(CcStandIn::token_throttle_fault(1));
    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(0);
    assert_eq!(refresh_requests(&env) - before, 2, "one 429, one retry");
}

#[test]
fn quota_exceeded_at_the_token_endpoint_is_exit_4_at_once() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let before = refresh_requests(&env);
    let refresh_token = env.secret("default", "refresh_token").unwrap();
    env.sandbox
        .cc()
        .inject(CcStandIn::token_quota_exceeded_fault(5));
    let started = Instant::now();
    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(4);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(refresh_requests(&env) - before, 1, "not retried");
    let err = error_text(&run);
    assert!(err.contains("quota") && err.contains("00:00 UTC"), "{err}");
    assert!(env.refresh_token_alive(&refresh_token));
}

#[test]
fn quota_exceeded_on_the_account_call_is_exit_4_at_once() {
    let env = TestEnv::new();
    env.sandbox.cc().inject(CcStandIn::quota_exceeded_fault(5));
    let run = env.run(env.init_cmd(&["--skip-stackone"]), Decision::Approve);
    run.assert_code(4);
    assert_eq!(env.cc_requests("/v3/").len(), 1, "not retried");
    assert!(error_text(&run).contains("00:00 UTC"), "{}", run.stderr);
}

#[test]
fn stand_in_answers_both_429_kinds_with_cc_error_keys() {
    let env = TestEnv::new();
    for (fault, key) in [
        (CcStandIn::token_throttle_fault(1), "throttled"),
        (CcStandIn::token_quota_exceeded_fault(1), "quota_exceeded"),
    ] {
        env.sandbox.cc().inject(fault);
        let (status, body) = post_form(
            env.sandbox.cc().token_url(),
            None,
            &[("grant_type", "refresh_token")],
        );
        assert_eq!(status, 429);
        assert_eq!(body[0]["error_key"], key);
        assert!(body[0]["error_message"].is_string());
    }
}

// --------------------------------------------------- refresh token type

#[test]
fn a_long_lived_refresh_token_app_is_a_warning_naming_the_portal_setting() {
    let env = TestEnv::with_hypothetical_write_api();
    let app = env.register_long_lived_app();
    let run = env.run(init_for(&env, &app, &["--json"]), Decision::Approve);
    run.assert_code(0);
    assert_eq!(run.json()["refresh_token_type"], "long_lived");
    assert!(
        run.stderr.contains("Rotating Refresh Tokens"),
        "{}",
        run.stderr
    );
    // Long-lived: the one refresh gave the same token back, still stored.
    let issued = env.sandbox.cc().issued_refresh_tokens();
    let stored = env.secret("default", "refresh_token").unwrap();
    assert_eq!(issued.last().unwrap().token, stored);
    assert!(env.refresh_token_alive(&stored));
}

// ------------------------------------------------------------ redirect URI

#[test]
fn a_loopback_redirect_uri_with_its_own_path_works_end_to_end_and_is_reused() {
    let env = TestEnv::with_hypothetical_write_api();
    let port = free_port();
    let uri = format!("http://127.0.0.1:{port}/cb");
    let app = env
        .sandbox
        .cc()
        .register_app(AppRegistration::new().redirect_uri(uri.clone()));
    let mut cmd = init_for(&env, &app, &["--redirect-uri", &uri, "--json"]);
    cmd.env_remove("CCSETUP_REDIRECT_PORT");
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(0);
    // The checklist names it as the URI to register.
    assert!(
        run.stderr.lines().any(|l| l.trim() == uri),
        "{}",
        run.stderr
    );
    assert_eq!(run.callbacks.len(), 1);
    assert_eq!(run.callbacks[0].0, 200, "{:?}", run.callbacks);
    assert_eq!(
        run.json()["registration"]["local_redirect_uri"],
        "registered"
    );
    let config = env.config_text();
    assert!(
        config.contains(&format!("redirect_uri = \"{uri}\"")),
        "{config}"
    );
    assert!(
        config.contains(&format!("redirect_port = {port}")),
        "{config}"
    );
    let code = &env.token_requests("code")[0];
    assert!(code.contains(&uri), "the exchange repeats the URI");

    // rotate --reauthorize uses it again, and its listener answers that
    // path only.
    let mut cmd = env.ccsetup(&["rotate", "--reauthorize"]);
    cmd.env_remove("CCSETUP_REDIRECT_PORT");
    let on_url: crate::support::e2e::OnUrl = std::sync::Arc::new(|url, _| {
        let location = test_browser::consent_blocking(&url, Decision::Approve).unwrap();
        let wrong_path = location.replacen("/cb?", "/callback?", 1);
        let (status, _) = test_browser::deliver_blocking(&wrong_path).unwrap();
        assert_eq!(status, 404, "{wrong_path}");
        test_browser::deliver_blocking(&location).unwrap()
    });
    let run = crate::support::e2e::run_answering(cmd, false, Some(on_url));
    run.assert_code(0);
    assert_eq!(run.callbacks[0].0, 200, "{:?}", run.callbacks);
    assert!(env.token_requests("code")[1].contains(&uri));
}

#[test]
fn redirect_uri_usage_errors_are_exit_2() {
    let env = TestEnv::new();
    let init = |extra: &[&str]| {
        let mut cmd = env.init_cmd(extra);
        cmd.env_remove("CCSETUP_REDIRECT_PORT");
        run_plain(cmd)
    };
    // A different --redirect-port.
    let run = init(&[
        "--redirect-uri",
        "http://127.0.0.1:4567/cb",
        "--redirect-port",
        "4568",
    ]);
    run.assert_code(2);
    assert!(
        error_text(&run).contains("--redirect-port"),
        "{}",
        run.stderr
    );
    // A URI no listener serves needs a terminal to paste into.
    let run = init(&["--redirect-uri", "https://localhost:8888/cb"]);
    run.assert_code(2);
    assert!(error_text(&run).contains("terminal"), "{}", run.stderr);
    assert!(env.cc_requests("/oauth2/").is_empty());
    // Not a URL.
    init(&["--redirect-uri", "localhost:8888"]).assert_code(2);
}

#[test]
fn dry_run_shows_the_redirect_uri() {
    let env = TestEnv::new();
    let run = run_plain(env.init_cmd(&[
        "--dry-run",
        "--json",
        "--redirect-uri",
        &format!("http://[::1]:{}/x", env.port),
    ]));
    run.assert_code(0);
    assert_eq!(
        run.json()["redirect_uri"],
        format!("http://[::1]:{}/x", env.port)
    );
}

/// `https://localhost:8888/…` through the paste path, typed into a real PTY.
#[cfg(unix)]
#[test]
fn an_https_redirect_uri_works_through_the_paste_path_in_a_terminal() {
    use expectrl::session::OsSession;
    use expectrl::{Eof, Expect, Regex};

    let env = TestEnv::new();
    let uri = "https://localhost:8888/oauth/cc";
    let app = env
        .sandbox
        .cc()
        .register_app(AppRegistration::new().redirect_uri(uri));
    let base = env.cmd();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("stty echo icanon; exec \"$0\" \"$@\"")
        .arg(base.get_program())
        .args(["init", "--yes", "--skip-stackone", "--redirect-uri", uri]);
    for (key, value) in base.get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    cmd.env("TERM", "xterm-256color")
        .env("CC_CLIENT_ID", &app.client_id)
        .env("CC_CLIENT_SECRET", app.secret())
        .env_remove("CCSETUP_REDIRECT_PORT")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .stdin(std::process::Stdio::inherit());
    let mut session = OsSession::spawn(cmd).expect("spawn in a PTY");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let found = session
        .expect(Regex(r"(http://\S+/oauth2/default/v1/authorize\?\S+)\r?\n"))
        .expect("the authorization URL");
    let url = String::from_utf8_lossy(found.get(1).unwrap()).into_owned();
    session
        .expect("paste it here")
        .expect("the paste instruction");
    // The browser is sent to a page that does not load; the user copies
    // the address bar and pastes it.
    let location = test_browser::consent_blocking(&url, Decision::Approve).unwrap();
    assert!(location.starts_with(uri), "{location}");
    session.send_line(&location).unwrap();
    let rest = session.expect(Eof).expect("the end");
    let transcript = String::from_utf8_lossy(rest.before()).into_owned();
    let status = session.get_process().wait().unwrap();
    assert!(
        matches!(status, expectrl::process::unix::WaitStatus::Exited(_, 0)),
        "{status:?}\n{transcript}"
    );
    assert!(env.has_secret("default", "refresh_token"));
    assert!(
        env.config_text()
            .contains(&format!("redirect_uri = \"{uri}\""))
    );
    assert!(env.token_requests("code")[0].contains(uri));
}

/// In a terminal, a refused registration shows the fix and offers to check
/// again, and a refused Client Secret is asked again — all before the
/// browser.
#[cfg(unix)]
#[test]
fn a_terminal_user_fixes_the_app_and_the_secret_without_starting_over() {
    use crate::support::pty::Wizard;

    let env = TestEnv::new();
    // StackOne's callback only: the local redirect URI is not there yet.
    let app = env.sandbox.cc().register_app(AppRegistration::new());
    let mut w = Wizard::spawn(
        &env,
        &["init", "--skip-stackone"],
        &[("CC_CLIENT_ID", app.client_id.clone())],
    );
    w.walk_the_portal("");
    w.expect("Client Secret (hidden)");
    w.secret("a-mistyped-secret-4c1d");
    w.expect("Scopes");
    w.key("\r");

    w.expect("is not registered in the Constant Contact app");
    w.expect("Fix:");
    w.expect("Check again");
    assert!(
        env.cc_requests(TOKEN_PATH).is_empty(),
        "nothing before the fix"
    );
    env.sandbox
        .cc()
        .set_redirect_uris(
            &app.client_id,
            &[STACKONE_REDIRECT_URI, &local_uri(env.port)],
        )
        .unwrap();
    // The menu's default entry.
    w.key("\r");
    w.expect("both redirect URIs are registered");

    w.expect("refused the Client Secret");
    w.expect("Generate Client Secret");
    w.expect("Client Secret (hidden)");
    w.secret(app.secret());
    w.expect("accepts this API Key and Client Secret");
    assert!(env.token_requests("code").is_empty(), "no browser yet");

    let url = w.expect_capture(r"(http://\S+/oauth2/default/v1/authorize\?\S+)\r?\n");
    let delivered = test_browser::consent_blocking(&url, Decision::Approve)
        .and_then(|l| test_browser::deliver_blocking(&l))
        .unwrap();
    assert_eq!(delivered.0, 200);
    w.expect("Step 7/7");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    assert_eq!(
        env.secret("default", "client_secret").as_deref(),
        Some(app.secret())
    );
}
