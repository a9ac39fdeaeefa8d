//! What ccsetup says to do next fits where it is said: hints for the command
//! and state the user is in, an unreachable authorization server stopped
//! before the browser, timeouts that do not offer a spent URL, and the
//! refresh-token type reported as found. The real binary, non-interactive,
//! against the stand-ins.

use ccsetup::sandbox::test_browser::Decision;

use crate::support::e2e::{TestEnv, error_text, free_port, init_for, run_plain, status_check};

// ---- hints (item: one catalogue, the hint for the place) ----

#[test]
fn status_with_nothing_set_up_hints_init_and_never_rotate() {
    let env = TestEnv::new();
    let run = run_plain(env.ccsetup(&["status"]));
    run.assert_code(1);
    let err = error_text(&run);
    assert!(err.contains("`ccsetup init` sets this profile up"), "{err}");
    assert!(!run.stderr.contains("rotate"), "{}", run.stderr);
}

#[test]
fn a_refused_secret_in_the_first_init_never_says_run_rotate() {
    let env = TestEnv::new();
    let mut cmd = env.init_cmd(&[]);
    cmd.env("CC_CLIENT_SECRET", "not-the-secret");
    let run = env.run_no_consent(cmd);
    run.assert_code(3);
    let err = error_text(&run);
    assert!(err.contains("CC_CLIENT_SECRET"), "{err}");
    assert!(!run.stderr.contains("ccsetup rotate"), "{}", run.stderr);
    assert!(env.config_text().is_empty());
}

#[test]
fn status_names_rotate_once_for_a_client_secret_generated_again() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let run = run_plain(env.ccsetup(&["status", "--json"]));
    run.assert_code(1);
    let secret = status_check(&run.json(), "client_secret").clone();
    let detail = secret["detail"].as_str().unwrap();
    assert_eq!(detail.matches("ccsetup rotate").count(), 1, "{detail}");
    // The closing hint does not repeat it, nor offer a re-authorization.
    let err = error_text(&run);
    assert!(!err.contains("rotate"), "{err}");
}

// ---- an unreachable authorization server ----

#[test]
fn an_unreachable_authorization_server_stops_before_the_browser_with_exit_4() {
    let env = TestEnv::new();
    let port = free_port();
    let mut cmd = env.init_cmd(&["--auth-timeout", "5"]);
    cmd.env(
        "CCSETUP_CC_AUTHORIZE_URL",
        format!("http://127.0.0.1:{port}/oauth2/default/v1/authorize"),
    )
    .env(
        "CCSETUP_CC_TOKEN_URL",
        format!("http://127.0.0.1:{port}/oauth2/default/v1/token"),
    );
    let run = env.run_no_consent(cmd);
    run.assert_code(4);
    let err = error_text(&run);
    assert!(err.contains(&format!("127.0.0.1:{port}")), "{err}");
    assert!(err.contains("ccsetup doctor"), "{err}");
    let all = run.all_output();
    for leak in ["state=", "code_challenge", "Open this URL"] {
        assert!(!all.contains(leak), "{leak} in:\n{all}");
    }
    assert!(env.config_text().is_empty());
}

// ---- timeouts ----

#[test]
fn a_timeout_promises_a_new_url_and_never_repeats_the_spent_one() {
    let env = TestEnv::new();
    let run = env.run_no_consent(env.init_cmd(&["--auth-timeout", "2"]));
    run.assert_code(3);
    let err = error_text(&run);
    assert!(err.contains("new authorization URL"), "{err}");
    assert!(!err.contains("state="), "{err}");
}

// ---- the refresh-token type ----

#[test]
fn a_long_lived_app_is_explained_and_status_reports_its_type() {
    let env = TestEnv::with_hypothetical_write_api();
    let app = env.register_long_lived_app();
    let run = env.run(init_for(&env, &app, &["--json"]), Decision::Approve);
    run.assert_code(0);
    assert!(run.stderr.contains("never rotate"), "{}", run.stderr);
    assert!(!run.stderr.contains("seed guide"), "{}", run.stderr);

    let status = run_plain(env.ccsetup(&["status", "--json"]));
    status.assert_code(0);
    let json = status.json();
    assert_eq!(json["refresh_token_type"], "long_lived", "{json}");
    let refresh = status_check(&json, "refresh_token");
    assert_eq!(refresh["status"], "warning", "{refresh}");
    let detail = refresh["detail"].as_str().unwrap();
    assert!(!detail.contains("single-use"), "{detail}");
    assert!(detail.contains("never rotates"), "{detail}");
}

#[test]
fn a_rotating_app_is_reported_rotating_and_an_unrecorded_one_unknown() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let status = run_plain(env.ccsetup(&["status", "--json"]));
    status.assert_code(0);
    assert_eq!(status.json()["refresh_token_type"], "rotating");

    // A setup from before the type was recorded.
    let path = env.config_dir().join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let without: String = text
        .lines()
        .filter(|l| !l.starts_with("refresh_token_type"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(text, without, "the type was recorded:\n{text}");
    std::fs::write(&path, without).unwrap();
    let status = run_plain(env.ccsetup(&["status", "--json"]));
    assert_eq!(status.json()["refresh_token_type"], "unknown");
    let detail = status_check(&status.json(), "refresh_token")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(!detail.contains("single-use"), "{detail}");
}
