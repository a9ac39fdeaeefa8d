//! Fault injection, end to end: the real binary against the stand-ins, with
//! faults injected into the stand-ins (resets, 5xx storms, slow answers),
//! into the filesystem (a file where a directory must be), into the secret
//! store (`CCSETUP_TEST_FAIL_STORE_WRITES`, debug builds) and into the
//! process (SIGTERM mid-`init`).
//!
//! Each case checks the four promises: a clear message, the documented exit
//! code, no lost refresh token (or, where the network lost it, the hint to
//! re-authorize), and no half-written file.
// Unix only: symlinks, file modes and SIGTERM.
#![cfg(unix)]

use std::time::{Duration, Instant};

use crate::support::e2e::{Run, TestEnv, terminate_after};
use crate::support::fault;
use ccsetup::sandbox::Response;
use ccsetup::sandbox::stackone::faults;
use ccsetup::sandbox::test_browser::Decision;

const TOKEN_PATH: &str = "/oauth2/default/v1/token";

/// A set-up profile: `init` done, refresh token stored.
fn initialized() -> TestEnv {
    let env = TestEnv::initialized_without_stackone();
    assert!(env.secret("default", "refresh_token").is_some());
    // Counting starts here: init's own requests (its checks, its one
    // refresh) are not the tested command's.
    env.sandbox.cc().log().clear();
    env
}

fn refresh_grants_at_stand_in(env: &TestEnv) -> usize {
    env.sandbox
        .cc()
        .log()
        .entries()
        .iter()
        .filter(|r| {
            r.path == TOKEN_PATH
                && String::from_utf8_lossy(&r.body).contains("grant_type=refresh_token")
        })
        .count()
}

/// No temp file of an atomic write is left anywhere in the config dir, and
/// every file ccsetup keeps parses.
#[track_caller]
fn assert_nothing_half_written(env: &TestEnv) {
    for (path, bytes) in env.files() {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(
            !name.starts_with(ccsetup::fsutil::TEMP_PREFIX),
            "temp file left: {}",
            path.display()
        );
        let text = String::from_utf8(bytes).expect("text files only");
        if name == "config.toml" {
            ccsetup::config::parse(&text, &path).expect("config.toml is valid");
        } else if name.ends_with(".json") {
            let v: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()));
            assert!(v.is_object());
        }
    }
}

fn token(env: &TestEnv, extra: &[&str]) -> Run {
    let mut cmd = env.cmd();
    cmd.arg("token").args(extra);
    env.run_no_consent(cmd)
}

// ---- the token endpoint ----

#[test]
fn refresh_answer_lost_after_rotation_exits_4_with_reauthorize_hint() {
    let env = initialized();
    let before_secrets = env.secrets("default");
    let before_config = env.config_text();
    // The stand-in rotates, then the connection drops: the new refresh
    // token never arrives. Every retry is answered the same way.
    env.sandbox.cc().inject(
        fault::on("POST", TOKEN_PATH)
            .times(10)
            .reset_after_handling(),
    );
    let started = Instant::now();
    let run = token(&env, &["--force-refresh"]);
    run.assert_code(4);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(
        run.stdout.is_empty(),
        "nothing printed as a token: {}",
        run.stdout
    );
    assert!(
        run.stderr.contains("ccsetup rotate --reauthorize"),
        "{}",
        run.stderr
    );
    // One redemption, one retry with the same token — never a loop.
    assert!(refresh_grants_at_stand_in(&env) <= 2, "bounded retries");
    // Stored state untouched: same secrets, same config, all parseable.
    assert_eq!(env.secrets("default"), before_secrets);
    assert_eq!(env.config_text(), before_config);
    assert_nothing_half_written(&env);
    // And the way out works: re-authorize, then tokens flow again.
    env.sandbox.cc().clear_faults();
    let mut reauth = env.cmd();
    reauth.args(["rotate", "--reauthorize", "--non-interactive"]);
    env.run(reauth, Decision::Approve).assert_code(0);
    let run = token(&env, &["--force-refresh"]);
    run.assert_code(0);
    assert_eq!(
        env.secret("default", "refresh_token"),
        env.live_refresh_token(),
        "the stored refresh token is the live one"
    );
}

#[test]
fn refresh_answer_lost_once_is_retried_and_refused_with_exit_4() {
    // Only the first answer is lost: the retry presents the already-rotated
    // token, the stand-in refuses it (invalid_grant) → exit 4 + hint, not 3.
    let env = initialized();
    env.sandbox
        .cc()
        .inject(fault::on("POST", TOKEN_PATH).reset_after_handling());
    let run = token(&env, &["--force-refresh"]);
    run.assert_code(4);
    assert!(
        run.stderr.contains("rotate --reauthorize"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("lost"), "{}", run.stderr);
    assert_nothing_half_written(&env);
}

#[test]
fn token_endpoint_500_storm_exits_4_after_bounded_retries_keeping_the_refresh_token() {
    let env = initialized();
    let stored = env.secret("default", "refresh_token").unwrap();
    env.sandbox.cc().inject(
        fault::on("POST", TOKEN_PATH)
            .times(100)
            .respond(Response::json(
                500,
                &serde_json::json!({"error": "server_error"}),
            )),
    );
    let started = Instant::now();
    let run = token(&env, &["--force-refresh"]);
    run.assert_code(4);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(15), "bounded time: {took:?}");
    let tries = refresh_grants_at_stand_in(&env);
    assert!((2..=3).contains(&tries), "bounded retries: {tries}");
    assert!(run.stderr.contains("gave up after"), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    // A 500 spent nothing: the stored token is unchanged and still works.
    assert_eq!(
        env.secret("default", "refresh_token").as_deref(),
        Some(stored.as_str())
    );
    assert_nothing_half_written(&env);
    env.sandbox.cc().clear_faults();
    token(&env, &["--force-refresh"]).assert_code(0);
    assert!(
        env.sandbox
            .cc()
            .refresh_tokens_redeemed_more_than_once()
            .is_empty()
    );
}

#[test]
fn token_endpoint_503_storm_honours_retry_after_and_exits_4() {
    let env = initialized();
    env.sandbox.cc().inject(
        fault::on("POST", TOKEN_PATH)
            .times(100)
            .respond(Response::text(503, "busy").with_header("retry-after", "1")),
    );
    let started = Instant::now();
    let run = token(&env, &["--force-refresh"]);
    run.assert_code(4);
    let took = started.elapsed();
    // Retry-After: 1 between tries: at least ~1 s, and bounded.
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(15),
        "{took:?}"
    );
    assert!(refresh_grants_at_stand_in(&env) <= 3);
    // A Retry-After far in the future is not slept on: exit 4 at once.
    env.sandbox.cc().clear_faults();
    env.sandbox.cc().inject(
        fault::on("POST", TOKEN_PATH)
            .times(100)
            .respond(Response::text(503, "busy").with_header("retry-after", "3600")),
    );
    let started = Instant::now();
    let run = token(&env, &["--force-refresh"]);
    run.assert_code(4);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(run.stderr.contains("3600"), "{}", run.stderr);
    env.sandbox.cc().clear_faults();
    token(&env, &["--force-refresh"]).assert_code(0);
    assert_nothing_half_written(&env);
}

// ---- StackOne ----

#[test]
fn stackone_create_answering_after_the_client_timeout_is_adopted_not_duplicated() {
    let env = TestEnv::with_hypothetical_write_api();
    // Longer than the HTTP client's 30 s timeout: ccsetup gives up on the
    // answer, but the stand-in creates the profile a little later. A create
    // is never blindly retried: ccsetup re-lists, finds it, adopts it.
    env.sandbox.stackone().inject(faults::slow(
        Some("POST"),
        "/connector_profiles",
        Duration::from_secs(31),
        1,
    ));
    let started = Instant::now();
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(0);
    assert!(started.elapsed() < Duration::from_secs(80));
    assert_eq!(
        env.sandbox.stackone().constant_contact_profiles().len(),
        1,
        "no duplicate profile"
    );
    let id = env.sandbox.stackone().constant_contact_profiles()[0]
        .id
        .clone();
    assert_eq!(run.json()["stackone"]["connector_profile_id"], id.as_str());
}

#[test]
fn stackone_timing_out_then_unavailable_exits_4_and_a_rerun_makes_one_profile() {
    let env = TestEnv::with_hypothetical_write_api();
    // The first create hangs past the client timeout (and never lands), the
    // next ones meet 503s: exit 4 after bounded tries.
    env.sandbox.stackone().inject(faults::slow(
        Some("POST"),
        "/connector_profiles",
        Duration::from_secs(3600),
        1,
    ));
    env.sandbox.stackone().inject(faults::unavailable(
        Some("POST"),
        "/connector_profiles",
        100,
    ));
    let started = Instant::now();
    let run = env.run(env.init_cmd(&[]), Decision::Approve);
    run.assert_code(4);
    assert!(
        started.elapsed() < Duration::from_secs(80),
        "{:?}",
        started.elapsed()
    );
    assert!(run.stderr.contains("StackOne"), "{}", run.stderr);
    // Authorization and secrets were kept; no profile id is recorded.
    assert!(env.secret("default", "refresh_token").is_some());
    assert!(env.config_text().contains(&env.app.client_id));
    assert!(!env.config_text().contains("stackone_connector_profile_id"));
    assert!(
        env.sandbox
            .stackone()
            .constant_contact_profiles()
            .is_empty()
    );
    assert_nothing_half_written(&env);
    env.sandbox.stackone().clear_faults();
    env.run(env.init_cmd(&["--json"]), Decision::Approve)
        .assert_code(0);
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
}

#[test]
fn stackone_500_after_create_finds_the_profile_instead_of_duplicating() {
    let env = TestEnv::with_a_500_after_the_profile_create();
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(0);
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
    assert!(env.config_text().contains("stackone_connector_profile_id"));
}

#[test]
fn stackone_unavailable_storm_exits_4_in_bounded_time() {
    let env = TestEnv::new();
    env.sandbox
        .stackone()
        .inject(faults::unavailable(None, "/connector_profiles", 100));
    let started = Instant::now();
    let run = env.run(env.init_cmd(&[]), Decision::Approve);
    run.assert_code(4);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert!(
        env.sandbox
            .stackone()
            .constant_contact_profiles()
            .is_empty()
    );
    assert!(env.secret("default", "refresh_token").is_some());
    assert_nothing_half_written(&env);
}

// ---- the filesystem ----

#[test]
fn config_dir_under_a_regular_file_fails_before_the_browser_with_exit_1() {
    // Root ignores permission bits, so make writes impossible instead: the
    // config dir's parent is a regular file.
    let env = TestEnv::new();
    let blocker = env.config_dir().join("not-a-dir");
    std::fs::write(&blocker, "x").unwrap();
    let dir = blocker.join("ccsetup");
    for args in [
        &["init"][..],
        &["token"],
        &["status"],
        &["rotate", "--reauthorize"],
    ] {
        let mut cmd = env.cmd();
        cmd.args(args)
            .arg("--non-interactive")
            .env("CCSETUP_CONFIG_DIR", &dir);
        let run = env.run(cmd, Decision::Approve);
        // `status` reports it as its failing `config` line (exit 1 too).
        run.assert_code(1);
        let out = run.all_output();
        assert!(out.contains(&dir.display().to_string()), "{out}");
        assert!(out.contains("Not a directory"), "says why: {out}");
        if args[0] != "status" {
            assert!(out.contains("--config-dir"), "says what to do: {out}");
        }
    }
    // Found before consent was asked for: nothing was sent anywhere.
    assert!(env.sandbox.all_requests().is_empty(), "nothing sent");
    assert_eq!(
        std::fs::read_to_string(&blocker).unwrap(),
        "x",
        "left as it was"
    );
}

#[test]
fn config_toml_that_is_a_directory_is_reported_not_replaced() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.config_dir().join("config.toml")).unwrap();
    let run = env.run(env.init_cmd(&[]), Decision::Approve);
    run.assert_code(1);
    assert!(run.stderr.contains("config.toml"), "{}", run.stderr);
    assert!(
        env.config_dir().join("config.toml").is_dir(),
        "left as it was"
    );
    assert!(env.sandbox.cc().log().entries().is_empty(), "nothing sent");
}

#[test]
fn unwritable_lock_dir_stops_refresh_before_anything_is_sent() {
    let env = initialized();
    let stored = env.secret("default", "refresh_token").unwrap();
    let locks = env.config_dir().join("locks");
    let _ = std::fs::remove_dir_all(&locks);
    std::fs::write(&locks, "a file where the lock directory must be").unwrap();
    let sent_before = refresh_grants_at_stand_in(&env);
    let run = token(&env, &["--force-refresh"]);
    run.assert_code(1);
    assert!(run.stderr.contains("locks"), "{}", run.stderr);
    assert!(run.stderr.contains("--config-dir"), "{}", run.stderr);
    assert_eq!(
        refresh_grants_at_stand_in(&env),
        sent_before,
        "nothing redeemed"
    );
    assert_eq!(
        env.secret("default", "refresh_token").as_deref(),
        Some(stored.as_str())
    );
    std::fs::remove_file(&locks).unwrap();
    token(&env, &["--force-refresh"]).assert_code(0);
}

// ---- the secret store ----

#[test]
fn store_refusing_the_rotated_refresh_token_saves_it_to_a_recovery_file() {
    let env = initialized();
    let mut cmd = env.cmd();
    cmd.args(["token", "--force-refresh"])
        .env("CCSETUP_TEST_FAIL_STORE_WRITES", "refresh_token");
    let run = env.run_no_consent(cmd);
    run.assert_code(5);
    assert!(
        run.stdout.is_empty(),
        "no token printed before the new refresh token is safe"
    );
    let recovery = env
        .config_dir()
        .join("recovery")
        .join("default.refresh_token");
    assert!(
        run.stderr.contains(&recovery.display().to_string()),
        "{}",
        run.stderr
    );
    // The recovery file holds exactly the live token, mode 0600.
    let saved = std::fs::read_to_string(&recovery).unwrap();
    assert_eq!(Some(saved.trim().to_string()), env.live_refresh_token());
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&recovery).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(!run.all_output().contains(saved.trim()));
    assert_nothing_half_written(&env);
    // Next run, store healthy: the token is picked up, used, and nothing is
    // redeemed twice.
    let run = token(&env, &["--force-refresh"]);
    run.assert_code(0);
    assert!(run.stderr.contains("Recovered"), "{}", run.stderr);
    assert!(!recovery.exists());
    assert_eq!(
        env.secret("default", "refresh_token"),
        env.live_refresh_token()
    );
    assert!(
        env.sandbox
            .cc()
            .refresh_tokens_redeemed_more_than_once()
            .is_empty()
    );
}

#[test]
fn store_refusing_writes_and_no_recovery_dir_says_reauthorize_with_exit_5() {
    let env = initialized();
    // The recovery file cannot be written either: `recovery` is a dangling
    // symlink (reads find nothing, mkdir fails, even as root). init's
    // refresh-type check may have left the (empty) directory: replace it.
    let _ = std::fs::remove_dir(env.config_dir().join("recovery"));
    std::os::unix::fs::symlink(
        env.config_dir().join("nowhere").join("recovery"),
        env.config_dir().join("recovery"),
    )
    .unwrap();
    let stored = env.secret("default", "refresh_token").unwrap();
    let grants = refresh_grants_at_stand_in(&env);
    let mut cmd = env.cmd();
    cmd.args(["token", "--force-refresh"])
        .env("CCSETUP_TEST_FAIL_STORE_WRITES", "refresh_token");
    let run = env.run_no_consent(cmd);
    run.assert_code(5);
    // Issue 16 item 3: the recovery file is reserved before the redeem, so
    // a refresh whose answer could not be kept is not started at all.
    assert!(
        run.stderr.contains("no refresh was started"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("recovery"), "{}", run.stderr);
    assert_eq!(refresh_grants_at_stand_in(&env), grants, "nothing redeemed");
    assert_eq!(env.secret("default", "refresh_token"), Some(stored));
    assert!(run.stdout.is_empty());
    assert_nothing_half_written(&env);
}

#[test]
fn store_refusing_the_client_secret_at_init_writes_no_config() {
    let env = TestEnv::with_hypothetical_write_api();
    let mut cmd = env.init_cmd(&[]);
    cmd.env("CCSETUP_TEST_FAIL_STORE_WRITES", "client_secret");
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(5);
    assert!(
        run.stderr.contains("client_secret") || run.stderr.contains("secret store"),
        "{}",
        run.stderr
    );
    assert!(
        env.config_text().is_empty(),
        "config.toml names no secrets that were not stored"
    );
    assert!(
        env.sandbox
            .stackone()
            .constant_contact_profiles()
            .is_empty()
    );
    assert_nothing_half_written(&env);
    // Store healthy again: init works.
    env.run(env.init_cmd(&[]), Decision::Approve).assert_code(0);
}

// ---- SIGTERM ----

#[test]
fn sigterm_right_after_the_token_exchange_waits_until_the_new_grant_is_stored() {
    let env = TestEnv::with_hypothetical_write_api();
    // Hold the process in the account check that follows the exchange.
    env.sandbox
        .cc()
        .inject(fault::on("GET", "/v3/account/summary").delay(Duration::from_secs(3)));
    let (code, stderr) = terminate_after(
        env.init_cmd(&[]),
        "Constant Contact accepted the API Key and Client Secret",
    );
    assert_eq!(code, Some(143), "{stderr}");
    assert!(stderr.contains("terminated"), "{stderr}");
    // The exchange's answer was not abandoned: the new grant is stored
    // (docs/vendors.md §5: it may expire the older tokens), whole.
    assert_eq!(
        env.secret("default", "refresh_token"),
        env.live_refresh_token(),
        "{stderr}"
    );
    assert!(env.config_text().contains(&env.app.client_id));
    assert_nothing_half_written(&env);
    // The next init works and makes one StackOne profile.
    env.sandbox.cc().clear_faults();
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(0);
    assert_eq!(
        env.secret("default", "refresh_token"),
        env.live_refresh_token()
    );
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
}

#[test]
fn sigterm_during_the_stackone_step_keeps_stored_state_and_rerun_makes_one_profile() {
    let env = TestEnv::with_hypothetical_write_api();
    env.sandbox.stackone().inject(faults::slow(
        Some("POST"),
        "/connector_profiles",
        Duration::from_secs(3),
        1,
    ));
    let (code, stderr) = terminate_after(env.init_cmd(&[]), "Step 6/7");
    assert_eq!(code, Some(143), "{stderr}");
    // Step 5 completed: secrets and config are whole and agree.
    assert_nothing_half_written(&env);
    let config = env.config_text();
    assert!(config.contains(&env.app.client_id), "{config}");
    assert_eq!(
        env.secret("default", "refresh_token"),
        env.live_refresh_token()
    );
    assert_eq!(
        env.secret("default", "client_secret"),
        Some(env.client_secret())
    );
    // Let the request the stand-in was holding finish (or be dropped).
    std::thread::sleep(Duration::from_secs(4));
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(0);
    assert_eq!(
        env.sandbox.stackone().constant_contact_profiles().len(),
        1,
        "no duplicate"
    );
    assert_nothing_half_written(&env);
}
