//! The command-line surface of docs/contract.md: every command parses, help is
//! useful and reviewed (snapshots), usage errors exit 2.

use assert_cmd::Command;
use predicates::prelude::*;

const COMMANDS: [&str; 10] = [
    "init",
    "status",
    "token",
    "rotate",
    "link",
    "reset",
    "doctor",
    "demo",
    "completions",
    "man",
];

/// The binary with no ccsetup variables from the caller's environment.
fn ccsetup() -> Command {
    let mut cmd = Command::from_std(crate::support::ccsetup_command());
    cmd.env("NO_COLOR", "1");
    cmd
}

fn stdout_of(args: &[&str]) -> String {
    let out = ccsetup().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn top_level_help_lists_every_command() {
    let help = stdout_of(&["--help"]);
    for c in COMMANDS {
        assert!(
            help.contains(&format!("  {c} ")),
            "--help misses {c}:\n{help}"
        );
    }
    insta::assert_snapshot!("help", help);
}

#[test]
fn every_command_has_help_with_examples() {
    for c in COMMANDS {
        let help = stdout_of(&[c, "--help"]);
        assert!(help.contains("Examples:"), "{c} --help has no examples");
        insta::assert_snapshot!(format!("help_{c}"), help);
    }
}

#[test]
fn version_is_the_crate_version() {
    ccsetup()
        .arg("--version")
        .assert()
        .success()
        .stdout(format!("ccsetup {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains("ccsetup"), "{shell}");
        assert!(
            script.contains("rotate") && script.contains("redirect-port"),
            "{shell}"
        );
    }
    ccsetup().args(["completions", "tcsh"]).assert().code(2);
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let cases: &[&[&str]] = &[
        &["--bogus", "status"],
        &["status", "--bogus"],
        &["nosuchcommand"],
        &[],
        &["--profile", "bad name", "status"],
        &["--store", "cloud", "status"],
        &["init", "--redirect-port", "0"],
        &["init", "--redirect-port", "70000"],
        &["init", "--auth-timeout", "0"],
        &["init", "--stackone-mode", "sometimes"],
        &["init", "--client-secret-stdin", "--stackone-api-key-stdin"],
        &["init", "--skip-authorize", "--skip-stackone"],
        &["-v", "-q", "status"],
        &[
            "rotate",
            "--client-secret-stdin",
            "--stackone-api-key-stdin",
        ],
    ];
    for args in cases {
        ccsetup()
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("error"));
    }
}

#[test]
fn global_options_go_before_or_after_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    // Same parse either way: a bad profile is rejected in both positions…
    ccsetup()
        .args(["--profile", "x y", "status"])
        .assert()
        .code(2);
    ccsetup()
        .args(["status", "--profile", "x y"])
        .assert()
        .code(2);
    // …and --json/--config-dir are accepted in both positions.
    let a = ccsetup()
        .args(["--json", "--config-dir", d, "status", "--offline"])
        .output()
        .unwrap();
    let b = ccsetup()
        .args(["status", "--offline", "--json", "--config-dir", d])
        .output()
        .unwrap();
    assert_eq!(a.status.code(), b.status.code());
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn bad_endpoint_override_is_a_usage_error_naming_the_variable() {
    ccsetup()
        .args(["status", "--offline"])
        .env("CCSETUP_STACKONE_API_URL", "http://example.com")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("CCSETUP_STACKONE_API_URL"));
}

#[test]
fn boolean_env_vars_accept_the_usual_spellings() {
    for v in ["1", "true", "yes"] {
        ccsetup()
            .args(["completions", "bash"])
            .env("CCSETUP_NON_INTERACTIVE", v)
            .env("CCSETUP_NO_BROWSER", v)
            .assert()
            .success();
    }
    ccsetup()
        .args(["completions", "bash"])
        .env("CCSETUP_NON_INTERACTIVE", "maybe")
        .assert()
        .code(2);
}
