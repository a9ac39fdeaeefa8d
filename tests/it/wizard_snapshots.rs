//! The wizard's screens as insta snapshots, so wording changes are reviewed.
//!
//! Non-interactive runs against the stand-ins (the interactive screens are
//! the same text around dialoguer's prompts, covered by `wizard_pty`, whose
//! redraws are timing-dependent and unfit for snapshots). Volatile parts —
//! temp paths, ports, ids, the authorization URL — are replaced by
//! placeholders before comparing.

use crate::support::e2e::{Run, TestEnv};
use ccsetup::sandbox::test_browser::Decision;

/// The run's text with everything volatile replaced. The one-line notice
/// that the endpoints are overridden (here: by the stand-ins, which is how
/// these tests run) is not part of a screen a user sees against the real
/// services; `network_hardening` tests it.
fn screens(env: &TestEnv, run: &Run) -> String {
    let stderr = run
        .stderr
        .strip_prefix(&format!("{}\n", overridden_notice(env)))
        .unwrap_or(&run.stderr);
    let text = format!(
        "exit code: {:?}\n--- stderr ---\n{}\n--- stdout ---\n{}",
        run.code, stderr, run.stdout
    );
    redact(env, &text)
}

/// What every run against the stand-ins prints first.
fn overridden_notice(env: &TestEnv) -> String {
    env.sandbox
        .endpoints()
        .override_notice()
        .expect("the stand-ins override the endpoints")
}

fn redact(env: &TestEnv, text: &str) -> String {
    let mut text: String = text
        .lines()
        .map(|line| match line.find("http") {
            Some(at) if line.contains("/oauth2/default/v1/authorize?") => {
                format!("{}[authorization URL]", &line[..at])
            }
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    // Longest and most specific first: ids and paths may contain port digits.
    let mut replacements: Vec<(String, String)> = vec![(
        env.config_dir().display().to_string(),
        "[config dir]".into(),
    )];
    replacements.push((env.app.client_id.clone(), "[client id]".into()));
    for profile in env.sandbox.stackone().profiles() {
        replacements.push((profile.id.clone(), "[connector profile id]".into()));
    }
    let endpoints = env.sandbox.endpoints();
    for (url, name) in [
        (&endpoints.cc_portal, "[cc]"),
        (&endpoints.stackone_dashboard, "[stackone]"),
    ] {
        replacements.push((url.origin().ascii_serialization(), name.to_string()));
    }
    replacements.push((format!("localhost:{}", env.port), "localhost:[port]".into()));
    replacements.push((format!("Port {} ", env.port), "Port [port] ".into()));
    for (from, to) in replacements {
        text = text.replace(&from, &to);
    }
    text
}

#[test]
fn first_run() {
    let env = TestEnv::with_hypothetical_write_api();
    let run = env.run(env.init_cmd(&[]), Decision::Approve);
    run.assert_code(0);
    insta::assert_snapshot!("init_first_run", screens(&env, &run));
}

#[test]
fn rerun_with_the_same_inputs() {
    let env = TestEnv::with_hypothetical_write_api();
    env.run(env.init_cmd(&[]), Decision::Approve).assert_code(0);
    let run = env.run(env.init_cmd(&[]), Decision::Approve);
    run.assert_code(0);
    insta::assert_snapshot!("init_rerun", screens(&env, &run));
}

#[test]
fn dry_run() {
    let env = TestEnv::new();
    let run = env.run_no_consent(env.init_cmd(&["--dry-run"]));
    run.assert_code(0);
    insta::assert_snapshot!("init_dry_run", screens(&env, &run));
}

#[test]
fn skip_stackone() {
    let env = TestEnv::new();
    let run = env.run(env.init_cmd(&["--skip-stackone"]), Decision::Approve);
    run.assert_code(0);
    insta::assert_snapshot!("init_skip_stackone", screens(&env, &run));
}

#[test]
fn missing_client_secret() {
    let env = TestEnv::new();
    let mut cmd = env.init_cmd(&[]);
    cmd.env_remove("CC_CLIENT_SECRET");
    let run = env.run_no_consent(cmd);
    run.assert_code(2);
    insta::assert_snapshot!("init_missing_client_secret", screens(&env, &run));
}

#[test]
fn rotate_the_client_secret() {
    let env = TestEnv::with_hypothetical_write_api();
    env.run(env.init_cmd(&[]), Decision::Approve).assert_code(0);
    let new_secret = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let mut cmd = env.cmd();
    cmd.args(["rotate", "--non-interactive"])
        .env("CC_CLIENT_SECRET", &new_secret);
    let run = env.run_no_consent(cmd);
    run.assert_code(0);
    assert!(!run.all_output().contains(&new_secret));
    insta::assert_snapshot!("rotate_client_secret", screens(&env, &run));
}
