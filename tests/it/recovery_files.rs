//! The refresh token recovery file (`<config dir>/recovery/<profile>.refresh_token`)
//! is read only when it is what ccsetup writes there, a dead reservation is
//! dropped with a note, and `reset` revokes the token that is live.
// Unix only: FIFOs, hard links and file modes.
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::e2e::{Run, TestEnv, run_plain};

/// The recovery file's path, its dir created as ccsetup makes it.
fn recovery_path(env: &TestEnv) -> PathBuf {
    let dir = env.config_dir().join("recovery");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    dir.join("default.refresh_token")
}

fn write_private(path: &std::path::Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// `ccsetup <args>`, killed if it runs longer than `limit`.
fn run_bounded(env: &TestEnv, args: &[&str], limit: Duration) -> (Run, Duration) {
    let started = Instant::now();
    let mut child = env
        .ccsetup(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = crate::support::e2e::wait_bounded(&mut child, limit);
    if status.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output().unwrap();
    let run = Run {
        code: status.and_then(|s| s.code()),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        callbacks: Vec::new(),
    };
    (run, started.elapsed())
}

#[test]
fn an_empty_or_zero_filled_recovery_file_is_a_dead_reservation_dropped_with_a_note() {
    let env = TestEnv::initialized_without_stackone();
    let stored = env.secret("default", "refresh_token");
    for (what, bytes) in [("empty", Vec::new()), ("zero-filled", vec![0u8; 4096])] {
        let path = recovery_path(&env);
        write_private(&path, &bytes);
        let run = run_plain(env.ccsetup(&["token"]));
        run.assert_code(0);
        assert!(
            run.stderr.contains("ended before needing it"),
            "{what}: says what it was: {}",
            run.stderr
        );
        assert!(!run.stderr.contains("remove it, then"), "{what}");
        assert!(!path.exists(), "{what}: removed");
        assert_eq!(
            env.secret("default", "refresh_token"),
            stored,
            "{what}: the stored token is kept"
        );
    }
}

#[test]
fn a_fifo_at_the_recovery_path_is_refused_at_once() {
    let env = TestEnv::initialized_without_stackone();
    let path = recovery_path(&env);
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mkfifo(3) with a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
    let (run, took) = run_bounded(&env, &["token"], Duration::from_secs(20));
    assert!(took < Duration::from_secs(10), "no hang: {took:?}");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("not a regular file"), "{}", run.stderr);
}

#[test]
fn a_hard_link_or_a_loose_mode_at_the_recovery_path_is_refused_and_nothing_is_sent() {
    let env = TestEnv::initialized_without_stackone();
    let stored = env.secret("default", "refresh_token");
    let planted = "rt-planted-elsewhere-0123456789";
    let elsewhere = env.config_dir().join("elsewhere.txt");
    write_private(&elsewhere, planted.as_bytes());
    let path = recovery_path(&env);

    std::fs::hard_link(&elsewhere, &path).unwrap();
    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("hard links"), "{}", run.stderr);
    std::fs::remove_file(&path).unwrap();

    write_private(&path, planted.as_bytes());
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("not 0600"), "{}", run.stderr);

    assert_eq!(env.secret("default", "refresh_token"), stored, "not stored");
    assert!(
        env.token_requests("refresh")
            .iter()
            .all(|r| !r.contains(planted)),
        "never sent"
    );
}

#[test]
fn reset_revokes_the_token_waiting_in_the_recovery_file_not_the_dead_stored_one() {
    let env = TestEnv::initialized_without_stackone();
    // A refresh whose rotated token the store refused: it waits in the
    // recovery file; the stored one was redeemed and is dead.
    let run = run_plain({
        let mut cmd = env.ccsetup(&["token", "--force-refresh"]);
        cmd.env("CCSETUP_TEST_FAIL_STORE_WRITES", "refresh_token");
        cmd
    });
    assert_eq!(run.code, Some(5), "{}", run.stderr);
    let live = env.last_issued_refresh_token();
    assert!(env.refresh_token_alive(&live));
    assert_ne!(env.secret("default", "refresh_token"), Some(live.clone()));

    let run = run_plain(env.ccsetup(&["reset", "--yes", "--json"]));
    run.assert_code(0);
    assert_eq!(run.json()["revoked"], serde_json::json!(true), "{run:?}");
    assert!(
        !env.refresh_token_alive(&live),
        "the live token is revoked at the provider"
    );
    // The stand-in ends a whole grant whichever of its tokens is revoked;
    // a provider need not: the token sent must be the live one.
    let revokes = env.cc_requests("/oauth2/default/v1/revoke");
    assert_eq!(revokes.len(), 1);
    assert!(revokes[0].contains(&live), "the live token was sent");
    assert!(
        !env.config_dir()
            .join("recovery/default.refresh_token")
            .exists()
    );
}

#[test]
fn reset_without_a_recovery_file_revokes_the_stored_token() {
    let env = TestEnv::initialized_without_stackone();
    let stored = env.secret("default", "refresh_token").unwrap();
    assert!(env.refresh_token_alive(&stored));
    let run = run_plain(env.ccsetup(&["reset", "--yes", "--json"]));
    run.assert_code(0);
    assert_eq!(run.json()["revoked"], serde_json::json!(true));
    assert!(!env.refresh_token_alive(&stored));
}
