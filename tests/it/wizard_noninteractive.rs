//! `init` without a person: every input by flag or environment, failures
//! early and precise (exit 2 naming flag and env var), never a hang without
//! a terminal, `--dry-run` changing nothing, `--json` one object on stdout.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::e2e::TestEnv;
use ccsetup::sandbox::test_browser::Decision;

/// Everything under the config dir, directories included.
fn entries_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        out.push(e.path());
        if e.path().is_dir() {
            out.extend(entries_under(&e.path()));
        }
    }
    out
}

#[track_caller]
fn assert_nothing_written(env: &TestEnv) {
    let entries = entries_under(env.config_dir());
    assert!(entries.is_empty(), "written: {entries:?}");
}

#[test]
fn each_missing_input_exits_2_naming_its_flag_and_env_var_before_any_instructions() {
    let cases: [(&str, &str, &str); 3] = [
        ("client id", "--client-id", "CC_CLIENT_ID"),
        ("client secret", "--client-secret-stdin", "CC_CLIENT_SECRET"),
        (
            "StackOne key",
            "--stackone-api-key-stdin",
            "STACKONE_API_KEY",
        ),
    ];
    for (what, flag, var) in cases {
        let env = TestEnv::new();
        let mut cmd = env.cmd();
        cmd.args(["init", "--non-interactive"])
            .env("CC_CLIENT_SECRET", env.client_secret())
            .env("STACKONE_API_KEY", env.stackone_key())
            .env_remove(var);
        if var != "CC_CLIENT_ID" {
            cmd.args(["--client-id", &env.app.client_id]);
        }
        let run = env.run_no_consent(cmd);
        run.assert_code(2);
        assert!(
            run.stderr.contains(flag) && run.stderr.contains(var),
            "{what}: the error names {flag} and {var}:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("--non-interactive is set"),
            "{what}: says why no prompt"
        );
        assert!(
            !run.stderr.contains("Step 2/7"),
            "{what}: fails before the instructions:\n{}",
            run.stderr
        );
        assert!(run.stdout.is_empty(), "{what}: {}", run.stdout);
        assert_nothing_written(&env);
        assert!(
            env.sandbox.all_requests().is_empty(),
            "{what}: no request reached a service"
        );
    }
}

#[test]
fn without_a_terminal_a_needed_prompt_fails_at_once_instead_of_hanging() {
    let env = TestEnv::new();
    // No --non-interactive, no inputs, and a stdin that stays open: a
    // wizard waiting for an answer here would hang forever.
    let mut child = env
        .cmd()
        .arg("init")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _stdin_kept_open = child.stdin.take();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("ccsetup waited for input without a terminal");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = crate::support::e2e::read_piped(child.stderr.take());
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--client-id") && stderr.contains("CC_CLIENT_ID"),
        "{stderr}"
    );
    assert!(stderr.contains("stdin is not a terminal"), "{stderr}");
    assert_nothing_written(&env);
}

#[test]
fn dry_run_json_changes_nothing_and_redacts_the_secret() {
    let env = TestEnv::new();
    let run = env.run_no_consent(env.init_cmd(&["--dry-run", "--json"]));
    run.assert_code(0);
    let plan = run.json();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(plan["client_secret"], "[redacted]");
    assert_eq!(plan["client_id"], env.app.client_id.as_str());
    assert_eq!(plan["stackone"]["action"], "create");
    assert!(!run.all_output().contains(&env.client_secret()));
    assert!(!run.all_output().contains(&env.stackone_key()));
    assert_nothing_written(&env);
    // Only the read-only check of the StackOne API key.
    assert!(
        env.sandbox.all_requests().iter().all(|r| r.method == "GET"),
        "a dry run changes no service"
    );
    assert!(
        env.sandbox
            .stackone()
            .constant_contact_profiles()
            .is_empty()
    );
}

#[test]
fn dry_run_after_a_setup_leaves_it_as_it_was() {
    let env = TestEnv::with_hypothetical_write_api();
    env.run(env.init_cmd(&[]), Decision::Approve).assert_code(0);
    let before = env.files();
    let writes = || {
        env.sandbox
            .all_requests()
            .iter()
            .filter(|r| r.method != "GET")
            .count()
    };
    let writes_before = writes();
    let run = env.run_no_consent(env.init_cmd(&["--dry-run"]));
    run.assert_code(0);
    assert!(
        run.stdout.contains("Dry run — nothing was changed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("[redacted]"), "{}", run.stdout);
    assert!(run.stdout.contains("create or update"), "{}", run.stdout);
    assert_eq!(env.files(), before, "files unchanged");
    // Only the read-only check of the StackOne API key.
    assert_eq!(writes(), writes_before, "no service changed");
}

#[test]
fn json_stdout_is_exactly_one_object_and_human_text_goes_to_stderr() {
    let env = TestEnv::with_hypothetical_write_api();
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(0);
    assert_eq!(run.stdout.lines().count(), 1, "one line: {}", run.stdout);
    let value: serde_json::Value = serde_json::from_str(&run.stdout).expect("one JSON value");
    assert!(value.is_object());
    // Nothing but that one object: a second value would fail here.
    let mut values =
        serde_json::Deserializer::from_str(&run.stdout).into_iter::<serde_json::Value>();
    assert!(values.next().unwrap().is_ok());
    assert!(values.next().is_none());
    for step in 1..=7 {
        assert!(
            run.stderr.contains(&format!("Step {step}/7")),
            "{}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("ccsetup link"), "{}", run.stderr);
}

#[test]
fn no_colour_or_spinner_codes_without_a_terminal() {
    let env = TestEnv::with_hypothetical_write_api();
    // NO_COLOR unset: only the missing terminal turns colour off.
    let mut cmd = env.init_cmd(&[]);
    cmd.env_remove("NO_COLOR");
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(0);
    assert!(!run.all_output().contains('\x1b'), "{:?}", run.stderr);
    assert!(
        run.stderr
            .contains("Exchanging the authorization code for tokens…")
    );
}

#[test]
fn a_refused_app_name_by_flag_exits_2_saying_why() {
    let env = TestEnv::new();
    let run = env.run_no_consent(env.init_cmd(&["--app-name", "ConstantContact Sync"]));
    run.assert_code(2);
    assert!(
        run.stderr.contains("may not contain \"Constant Contact\""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--app-name"), "{}", run.stderr);
    assert_nothing_written(&env);
}

#[test]
fn a_malformed_secret_in_the_environment_exits_2_naming_the_variable() {
    let env = TestEnv::new();
    let mut cmd = env.init_cmd(&[]);
    cmd.env("STACKONE_API_KEY", "v1.two words");
    let run = env.run_no_consent(cmd);
    run.assert_code(2);
    assert!(
        run.stderr.contains("from STACKONE_API_KEY"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("two words"), "the value is not echoed");
    assert_nothing_written(&env);
}

#[test]
fn a_secret_on_stdin_is_taken_without_a_terminal() {
    let env = TestEnv::with_hypothetical_write_api();
    let mut cmd = env.init_cmd(&["--client-secret-stdin", "--json"]);
    cmd.env_remove("CC_CLIENT_SECRET");
    let run = crate::support::e2e::run_with_browser(
        cmd,
        Some(Decision::Approve),
        Some(format!("{}\n", env.client_secret())),
    );
    run.assert_code(0);
    assert_eq!(run.json()["stackone"]["action"], "created");
}
