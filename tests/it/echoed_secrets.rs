//! Secrets a remote service echoes back: one canary per echo path. The
//! stand-ins are made to quote the secret ccsetup just sent them — as is,
//! upper-cased, base64-encoded as HTTP Basic carries it, and placed where
//! clipping would cut it — and no trace of it may reach stdout, stderr or
//! the `--json` error (SECURITY.md "Logs and output").
// Unix only like the other canary areas.
#![cfg(unix)]

use base64::Engine as _;

use crate::support::e2e::{Run, TestEnv, run_plain};
use ccsetup::sandbox::{Fault, FaultAction, Response};

const TOKEN_PATH: &str = "/oauth2/default/v1/token";
const REVOKE_PATH: &str = "/oauth2/default/v1/revoke";

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// Every form of `secret` an echo could take, and its first 12 characters
/// (what clipping before redaction would leave).
fn forms_of(secret: &str) -> Vec<String> {
    assert!(secret.len() >= 16, "canary too short: {secret:?}");
    vec![
        secret.to_string(),
        secret.to_ascii_uppercase(),
        secret.to_ascii_lowercase(),
        secret[..12].to_string(),
        b64(&format!("{secret}:"))[..16].to_string(),
        b64(secret)[..16].to_string(),
    ]
}

#[track_caller]
fn assert_not_echoed(run: &Run, what: &str, secret: &str) {
    let all = run.all_output();
    for form in forms_of(secret) {
        assert!(
            !all.contains(&form),
            "the {what} ({form:?}) was echoed:\n{all}"
        );
    }
}

/// A text that quotes `secret` in every way, long enough that a 300- or
/// 64-character clip would cut the last quote in half.
fn echo_of(secret: &str, basic_user: Option<&str>) -> String {
    let basic = match basic_user {
        Some(user) => b64(&format!("{user}:{secret}")),
        None => b64(&format!("{secret}:")),
    };
    format!(
        "{secret} {} Basic {basic} {} {secret}",
        secret.to_ascii_uppercase(),
        "x".repeat(280)
    )
}

#[test]
fn a_token_endpoint_quoting_the_refresh_token_and_the_secret_is_redacted() {
    let env = TestEnv::initialized();
    let refresh_token = env.secret("default", "refresh_token").unwrap();
    let client_secret = env.client_secret();
    let description = format!(
        "{} / {}",
        echo_of(&refresh_token, None),
        echo_of(&client_secret, Some(&env.app.client_id))
    );
    env.sandbox.cc().inject(Fault::new(
        Some("POST"),
        TOKEN_PATH,
        FaultAction::Respond(Response::json(
            400,
            &serde_json::json!({
                "error": "invalid_request",
                "error_description": description,
            }),
        )),
        5,
    ));
    let run = run_plain(env.ccsetup(&["token", "--force-refresh", "--json"]));
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("[redacted]"), "{}", run.stderr);
    assert_not_echoed(&run, "refresh token", &refresh_token);
    assert_not_echoed(&run, "client secret", &client_secret);
    // The --json error object too.
    let error = run.json();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("[redacted]"),
        "{error}"
    );
}

#[test]
fn a_revocation_error_quoting_the_refresh_token_is_redacted() {
    let env = TestEnv::initialized();
    let refresh_token = env.secret("default", "refresh_token").unwrap();
    // Quoted at the start of `error`, which is clipped to 64 characters.
    let quoted = format!(
        "{} {}",
        refresh_token.to_ascii_uppercase(),
        echo_of(&refresh_token, None)
    );
    env.sandbox.cc().inject(Fault::new(
        Some("POST"),
        REVOKE_PATH,
        FaultAction::Respond(Response::json(400, &serde_json::json!({ "error": quoted }))),
        1,
    ));
    let run = run_plain(env.ccsetup(&["reset", "--yes"]));
    assert!(
        run.stderr.contains("did not revoke"),
        "the revocation warning is shown: {}",
        run.stderr
    );
    assert_not_echoed(&run, "refresh token", &refresh_token);
}

#[test]
fn stackone_quoting_the_api_key_is_redacted_in_every_form() {
    let env = TestEnv::initialized();
    let key = env.stackone_key();
    env.sandbox.stackone().inject(Fault::new(
        Some("POST"),
        "/connect_sessions",
        FaultAction::Respond(Response::json(
            422,
            &serde_json::json!({
                "statusCode": 422,
                "message": [
                    echo_of(&key, None),
                    format!("key {}", key.to_ascii_uppercase()),
                    format!("Authorization: Basic {}", b64(&format!("{key}:"))),
                    format!("{}{key}", "y".repeat(295)),
                ],
            }),
        )),
        // A 422 is tried once more with the older field name.
        2,
    ));
    let run = run_plain(env.ccsetup(&[
        "link",
        "--origin-owner-id",
        "cust-1",
        "--origin-owner-name",
        "Bakery",
        "--no-wait",
        "--json",
    ]));
    run.assert_code(2);
    assert!(run.stderr.contains("[redacted]"), "{}", run.stderr);
    assert_not_echoed(&run, "StackOne API key", &key);
}
