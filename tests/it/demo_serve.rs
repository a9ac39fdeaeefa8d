//! `ccsetup demo --serve` the way the README runs it: in an interactive
//! bash with job control (a real PTY), as a background job (`&`, `kill %1`)
//! and in the foreground (Ctrl-C), twice and more in the same shell.
#![cfg(unix)]

use std::path::Path;
use std::time::{Duration, Instant};

use expectrl::session::OsSession;

use crate::support::pty::Wizard;

/// An interactive bash (job control on) in a PTY, in `dir`, with nothing
/// of the caller's ccsetup settings and no `ccsetup` on its PATH: this
/// build is `$CCSETUP_BIN`, as `cargo run` would run it.
fn interactive_bash(dir: &Path) -> Wizard {
    let mut cmd = crate::support::clean_command("bash");
    cmd.args(["--norc", "--noprofile", "-i"]).current_dir(dir);
    cmd.env("PATH", "/usr/bin:/bin")
        .env("CCSETUP_BIN", assert_cmd::cargo::cargo_bin("ccsetup"))
        .env("PS1", "$ ")
        .env("TERM", "dumb")
        .env("CCSETUP_NO_BROWSER", "1");
    crate::support::without_desktop(&mut cmd);
    Wizard {
        session: OsSession::spawn(cmd).expect("bash in a PTY"),
        transcript: String::new(),
    }
}

/// Waits (bounded) until the demo wrote its last export to `env_file`;
/// fails with what the shell shows (`jobs -l`) otherwise.
fn wait_for_exports(bash: &mut Wizard, env_file: &Path) -> String {
    let started = Instant::now();
    loop {
        let text = std::fs::read_to_string(env_file).unwrap_or_default();
        if text.contains("CCSETUP_STACKONE_DASHBOARD_URL=") {
            return text;
        }
        if started.elapsed() > Duration::from_secs(90) {
            bash.line("jobs -l; echo \"jobs-$((5*5))\"");
            bash.expect("jobs-25");
            panic!(
                "no exports in {}:\n{text}\nthe shell:\n{}",
                env_file.display(),
                bash.transcript
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn exported_dir(exports: &str) -> std::path::PathBuf {
    exports
        .lines()
        .find_map(|l| l.strip_prefix("export CCSETUP_CONFIG_DIR="))
        .map(|v| std::path::PathBuf::from(v.trim_matches('\'')))
        .expect("the exports name the config dir")
}

/// The README's block, as written, with `ccsetup` run as `launcher` and
/// `signal` for `kill`: the demo in the background, the exports sourced, a
/// command, the job killed. Checks the job ended (not "Stopped"), said
/// nothing on the terminal (neither `init`'s progress nor the waiting note)
/// and left nothing behind.
fn background_round(bash: &mut Wizard, dir: &Path, round: u32, launcher: &str, signal: &str) {
    let env_file = dir.join("demo.env");
    let _ = std::fs::remove_file(&env_file);
    bash.line(&format!(
        "{launcher} demo --serve --non-interactive > demo.env &"
    ));
    let exports = wait_for_exports(bash, &env_file);
    let workdir = exported_dir(&exports);
    bash.line("until grep -q DASHBOARD_URL demo.env; do sleep 1; done");
    bash.line(". ./demo.env");
    // Markers computed by the shell: the typed command line never matches.
    bash.line(&format!(
        "ccsetup status >/dev/null && echo \"status-ok-$(({round}*100))\""
    ));
    bash.expect(&format!("status-ok-{}", round * 100));
    bash.line(&format!("kill -{signal} %1"));
    bash.line(
        "for i in $(seq 100); do jobs %1 >/dev/null 2>&1 || break; sleep 0.1; done; \
         jobs; echo \"jobs-$((7*7))\"",
    );
    bash.expect("jobs-49");
    assert!(
        !bash.transcript.contains("Stopped"),
        "round {round}: the background demo was stopped instead of ending:\n{}",
        bash.transcript
    );
    assert!(
        !workdir.exists(),
        "round {round}: {} was left behind:\n{}",
        workdir.display(),
        bash.transcript
    );
    for written in ["demo stopped", "Step 1/7", "The stand-ins keep running"] {
        assert!(
            !bash.transcript.contains(written),
            "round {round}: a background job wrote {written:?} to the terminal:\n{}",
            bash.transcript
        );
    }
    assert!(
        !bash.transcript.contains("does not take --config-dir"),
        "{}",
        bash.transcript
    );
    bash.transcript.clear();
}

#[test]
fn the_readme_recipe_runs_twice_in_one_bash_and_each_signal_ends_the_background_demo() {
    let dir = tempfile::tempdir().unwrap();
    let mut bash = interactive_bash(dir.path());
    bash.line("set -m; echo \"ready-$((6*7))\"");
    bash.expect("ready-42");
    // Not installed: run by path, as `cargo run` does; the exports then put
    // it on PATH, so the next rounds are the README's block to the letter.
    background_round(&mut bash, dir.path(), 1, "\"$CCSETUP_BIN\"", "TERM");
    background_round(&mut bash, dir.path(), 2, "ccsetup", "HUP");
    background_round(&mut bash, dir.path(), 3, "ccsetup", "INT");
    // Under `stty tostop` a background job that writes to the terminal is
    // stopped (SIGTTOU): this one never is.
    bash.line("stty tostop; echo \"tostop-$((8*8))\"");
    bash.expect("tostop-64");
    background_round(&mut bash, dir.path(), 4, "ccsetup", "TERM");
    bash.line("stty -tostop");

    // In the foreground: Ctrl-C from the terminal stops it, and it says so.
    let env_file = dir.path().join("demo.env");
    let _ = std::fs::remove_file(&env_file);
    bash.line("ccsetup demo --serve --non-interactive > demo.env; echo \"exit-$((40+2))-$?\"");
    let workdir = exported_dir(&wait_for_exports(&mut bash, &env_file));
    std::thread::sleep(Duration::from_millis(300));
    bash.ctrl_c();
    bash.expect("demo stopped");
    bash.expect("exit-42-0");
    assert!(!workdir.exists(), "{} was left behind", workdir.display());
    bash.line("exit");
}
