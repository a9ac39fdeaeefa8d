//! `ccsetup demo`: the real `init` against the built-in stand-ins.

use std::process::Command;

fn demo() -> Command {
    let mut cmd = crate::support::ccsetup_command();
    // A keyring call would fail here: the demo must not make one.
    crate::support::without_desktop(&mut cmd).stdin(std::process::Stdio::null());
    cmd
}

/// The temporary directory the demo announced.
fn announced_workdir(stderr: &str) -> std::path::PathBuf {
    let start = stderr
        .find("temporary directory (")
        .expect("demo names its temp dir")
        + "temporary directory (".len();
    let end = start + stderr[start..].find(')').unwrap();
    std::path::PathBuf::from(&stderr[start..end])
}

#[test]
fn non_interactive_demo_runs_the_whole_flow_and_cleans_up() {
    let out = demo().args(["demo", "--non-interactive"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("ccsetup demo"), "says plainly it is a demo");
    assert!(stderr.contains("Nothing leaves this machine"));
    for step in 1..=7 {
        assert!(
            stderr.contains(&format!("Step {step}/7")),
            "step {step} missing:\n{stderr}"
        );
    }
    assert!(stderr.contains("Sandbox Bakery"), "the account check ran");
    // StackOne as it is: the demo's user fills the dashboard form (no Name),
    // init adopts the new profile by id, and a link proves its credentials.
    assert!(
        stderr.contains("fills the dashboard form"),
        "the dashboard path:\n{stderr}"
    );
    assert!(
        stderr.contains("The Connector Profile's credentials work."),
        "{stderr}"
    );
    let workdir = announced_workdir(&stderr);
    assert!(!workdir.exists(), "{} was left behind", workdir.display());
}

#[test]
fn non_interactive_demo_json_is_init_json() {
    let out = demo()
        .args(["--json", "demo", "--non-interactive"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["authorized"], true);
    assert_eq!(json["secret_store"], "file");
    assert_eq!(json["stackone"]["action"], "dashboard");
    assert_eq!(json["stackone"]["verified"], "listed");
}

#[test]
fn the_hypothetical_write_api_is_an_opt_in_that_says_so() {
    let out = demo()
        .args([
            "--json",
            "demo",
            "--non-interactive",
            "--stackone-write-api",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("HYPOTHETICAL"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(json["stackone"]["action"], "created");
}

#[test]
fn demo_without_a_terminal_and_without_non_interactive_still_plays_itself() {
    // stdin is not a TTY: no prompts are possible, so the demo plays every part.
    let out = demo().arg("demo").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn very_verbose_traces_http_calls_without_escape_codes_in_a_pipe() {
    let out = demo()
        .args(["-vv", "demo", "--non-interactive"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for line in [
        "token endpoint request",
        "token endpoint answer",
        "GET account summary",
        "StackOne request",
    ] {
        assert!(stderr.contains(line), "-vv misses {line:?}:\n{stderr}");
    }
    assert!(!stderr.contains('\u{1b}'), "escape codes in piped stderr");
}
