//! A terminating signal never costs a token: during a refresh that takes
//! its whole retry budget, and between a code exchange (`init`, `rotate
//! --reauthorize`) and the storing of its result. The real binary, real
//! signals, the Constant Contact stand-in holding or refusing answers.
// Unix only: signals.
#![cfg(unix)]

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::e2e::{TestEnv, terminate_after};
use crate::support::fault;
use ccsetup::sandbox::{FaultAction, Response};

const TOKEN_PATH: &str = "/oauth2/default/v1/token";

/// The case, scaled down (the deferral's length against the full
/// budget is `workflow::tokens`' unit test): 503 with `Retry-After` twice,
/// then a rotated answer held back; SIGTERM at 1 s, during the first wait.
#[test]
fn sigterm_during_a_refresh_that_retries_and_answers_slowly_keeps_the_rotated_token() {
    let env = TestEnv::initialized_without_stackone();
    let busy = Response::text(503, "busy").with_header("retry-after", "2");
    env.sandbox
        .cc()
        .inject(fault::on("POST", TOKEN_PATH).times(2).respond(busy));
    env.sandbox.cc().inject(
        fault::on("POST", TOKEN_PATH)
            .action(FaultAction::DelayAfterHandling(Duration::from_secs(3))),
    );
    let started = Instant::now();
    let mut child = env
        .ccsetup(&["token", "--force-refresh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(1));
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let status = crate::support::e2e::wait_bounded(&mut child, Duration::from_secs(60));
    let stderr = crate::support::e2e::read_piped(child.stderr.take());
    let stdout = crate::support::e2e::read_piped(child.stdout.take());
    assert_eq!(status.and_then(|s| s.code()), Some(143), "{stderr}");
    assert!(
        started.elapsed() >= Duration::from_secs(7),
        "it waited for the retries and the slow answer: {:?}",
        started.elapsed()
    );
    assert_eq!(stdout, "", "no token printed after the signal");
    assert_eq!(
        env.secret("default", "refresh_token"),
        env.live_refresh_token(),
        "the rotated token is stored: {stderr}"
    );
    assert!(
        !env.config_dir()
            .join("recovery/default.refresh_token")
            .exists()
    );
    env.run_no_consent(env.ccsetup(&["token", "--force-refresh"]))
        .assert_code(0);
}

#[test]
fn sigterm_during_the_account_check_of_rotate_reauthorize_keeps_the_new_grant() {
    let env = TestEnv::initialized_without_stackone();
    let before = env.secret("default", "refresh_token");
    env.sandbox
        .cc()
        .inject(fault::on("GET", "/v3/account/summary").delay(Duration::from_secs(3)));
    let (code, stderr) = terminate_after(
        env.ccsetup(&["rotate", "--reauthorize"]),
        "Constant Contact accepted the API Key and Client Secret",
    );
    assert_eq!(code, Some(143), "{stderr}");
    let live = env.live_refresh_token();
    assert_ne!(live, before, "a new grant was issued");
    assert_eq!(
        env.secret("default", "refresh_token"),
        live,
        "the new grant is stored: {stderr}"
    );
    env.sandbox.cc().clear_faults();
    env.run_no_consent(env.ccsetup(&["token", "--force-refresh"]))
        .assert_code(0);
}
