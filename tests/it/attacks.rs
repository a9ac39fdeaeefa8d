//! Attacks on the real binary: each test reproduces one attack
//! against the real binary (stand-ins on loopback, real signals, a real
//! 64 KiB tmpfs, real symlinks and file modes) and checks the fix.
// Unix only: signals, tmpfs, file modes, symlinks, ownership.
#![cfg(unix)]

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::e2e::{Run, TestEnv};
use ccsetup::sandbox::constant_contact::{Account, CcOptions};
use ccsetup::sandbox::test_browser::Decision;
use ccsetup::sandbox::{Fault, FaultAction, SandboxOptions};

const TOKEN_PATH: &str = "/oauth2/default/v1/token";

fn initialized() -> TestEnv {
    let env = TestEnv::initialized_without_stackone();
    assert!(env.secret("default", "refresh_token").is_some());
    env
}

fn refresh_grants(env: &TestEnv) -> usize {
    env.cc_requests(TOKEN_PATH)
        .iter()
        .filter(|r| String::from_utf8_lossy(&r.body).contains("grant_type=refresh_token"))
        .count()
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

// ---- 1 and 14: every terminating signal is deferred across the refresh ----

/// Runs `token --force-refresh` while the stand-in rotates the refresh token
/// and then holds its answer; sends `signal` right after the rotation.
fn signal_after_rotation(env: &TestEnv, signal: i32) -> Run {
    let issued = env.sandbox.cc().issued_refresh_tokens().len();
    env.sandbox.cc().inject(Fault::new(
        Some("POST"),
        TOKEN_PATH,
        FaultAction::DelayAfterHandling(Duration::from_millis(1500)),
        1,
    ));
    let mut child = env
        .ccsetup(&["token", "--force-refresh"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while env.sandbox.cc().issued_refresh_tokens().len() == issued {
        assert!(
            Instant::now() < deadline,
            "the refresh never reached the stand-in"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    // The server has rotated; its answer is on hold.
    // SAFETY: kill(2) on our own child's pid.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let status = crate::support::e2e::wait_bounded(&mut child, Duration::from_secs(30));
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    Run {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
        callbacks: Vec::new(),
    }
}

#[test]
fn every_terminating_signal_waits_for_the_rotated_token_to_be_stored() {
    let env = initialized();
    for signal in [
        libc::SIGHUP,
        libc::SIGQUIT,
        libc::SIGUSR1,
        libc::SIGUSR2,
        libc::SIGALRM,
        libc::SIGTERM,
    ] {
        let run = signal_after_rotation(&env, signal);
        assert_eq!(run.code, Some(128 + signal), "signal {signal}: {run:?}");
        // The process stopped after storing, before printing the token.
        assert_eq!(run.stdout, "", "signal {signal}: no token printed");
        assert!(
            run.stderr.contains("finishing the token exchange"),
            "signal {signal}: {}",
            run.stderr
        );
        assert_eq!(
            env.secret("default", "refresh_token"),
            env.live_refresh_token(),
            "signal {signal}: the rotated refresh token was stored"
        );
        assert!(
            !env.config_dir()
                .join("recovery/default.refresh_token")
                .exists(),
            "signal {signal}: no recovery file or reservation left"
        );
    }
    // And the stored token still works.
    env.run_no_consent(env.ccsetup(&["token", "--force-refresh"]))
        .assert_code(0);
}

// ---- 3: a full disk stops the refresh before the redeem ----

/// A 64 KiB tmpfs (we run as root in CI containers); `None` where mounting
/// is not allowed.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount() -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the disk with 4 KiB files until it is full; returns them.
    fn fill(&self) -> Vec<PathBuf> {
        let mut files = Vec::new();
        for i in 0.. {
            let path = self.path().join(format!("filler-{i}"));
            let mut f = std::fs::File::create(&path).unwrap();
            if f.write_all(&[7u8; 4096])
                .and_then(|()| f.sync_all())
                .is_err()
            {
                drop(f);
                std::fs::remove_file(&path).unwrap();
                // A failed write may have left a partly written page: fill it.
                let mut tail = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(self.path().join("filler-tail"))
                    .unwrap();
                while tail.write_all(&[7u8; 512]).is_ok() {}
                break;
            }
            files.push(path);
        }
        files
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn env_on(disk: &SmallDisk) -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let config = disk.path().join("ccsetup");
    let mut cmd = env.init_cmd(&["--skip-stackone"]);
    cmd.env("CCSETUP_CONFIG_DIR", &config);
    env.run(cmd, Decision::Approve).assert_code(0);
    (env, config)
}

fn token_in(env: &TestEnv, config: &Path) -> Run {
    let mut cmd = env.ccsetup(&["token", "--force-refresh"]);
    cmd.env("CCSETUP_CONFIG_DIR", config);
    env.run_no_consent(cmd)
}

fn stored_refresh_token(config: &Path) -> Option<String> {
    let text = std::fs::read_to_string(config.join("secrets/default.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["refresh_token"].as_str().map(str::to_string)
}

#[test]
fn a_full_disk_stops_the_refresh_before_anything_is_redeemed() {
    let Some(disk) = SmallDisk::mount() else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (not root?)");
        return;
    };
    let (env, config) = env_on(&disk);
    let stored = stored_refresh_token(&config).unwrap();
    let grants = refresh_grants(&env);
    disk.fill();

    let run = token_in(&env, &config);
    run.assert_code(5);
    assert_eq!(run.stdout, "");
    let err = crate::support::e2e::error_text(&run);
    assert!(err.contains("no refresh was started"), "{err}");
    assert!(err.contains("free some space"), "{err}");
    assert_eq!(refresh_grants(&env), grants, "nothing was redeemed");
    assert_eq!(
        stored_refresh_token(&config).as_deref(),
        Some(stored.as_str())
    );
    assert!(
        env.refresh_token_alive(&stored),
        "the stored token still works"
    );
    assert!(!config.join("recovery/default.refresh_token").exists());
}

#[test]
fn room_for_the_reservation_only_keeps_the_rotated_token_in_it() {
    let Some(disk) = SmallDisk::mount() else {
        eprintln!("SKIPPED: cannot mount a tmpfs here (not root?)");
        return;
    };
    let (env, config) = env_on(&disk);
    // Let the recovery dir exist (it is created on first use).
    std::fs::create_dir_all(config.join("recovery")).unwrap();
    set_mode(&config.join("recovery"), 0o700);
    let mut fillers = disk.fill();
    std::fs::remove_file(disk.path().join("filler-tail")).unwrap();
    // Exactly one page free: the reservation takes it, the store's write
    // (a temp file next to secrets/default.json) then fails.
    std::fs::remove_file(fillers.pop().unwrap()).unwrap();

    let run = token_in(&env, &config);
    run.assert_code(5);
    assert_eq!(run.stdout, "");
    let saved = std::fs::read_to_string(config.join("recovery/default.refresh_token")).unwrap();
    assert_eq!(Some(saved), env.live_refresh_token(), "{}", run.stderr);

    // Space again: the next run picks the token up.
    for f in fillers {
        std::fs::remove_file(f).unwrap();
    }
    let run = token_in(&env, &config);
    run.assert_code(0);
    assert_eq!(stored_refresh_token(&config), env.live_refresh_token());
    assert!(!config.join("recovery/default.refresh_token").exists());
}

// ---- 4: foreign or loose directories, planted symlinks ----

#[test]
fn a_config_dir_writable_by_others_is_refused_with_the_chmod() {
    let env = initialized();
    set_mode(env.config_dir(), 0o777);
    let grants = refresh_grants(&env);
    let run = env.run_no_consent(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(2);
    let err = crate::support::e2e::error_text(&run);
    assert!(
        err.contains(&env.config_dir().display().to_string()),
        "{err}"
    );
    assert!(err.contains("chmod go-w"), "{err}");
    assert_eq!(refresh_grants(&env), grants);
    set_mode(env.config_dir(), 0o700);
    env.run_no_consent(env.ccsetup(&["token"])).assert_code(0);

    // A loose sub-dir too.
    set_mode(&env.config_dir().join("locks"), 0o777);
    let run = env.run_no_consent(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(2);
    assert!(
        crate::support::e2e::error_text(&run).contains("locks"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_config_dir_owned_by_another_user_is_refused_with_the_chown() {
    let env = initialized();
    // We run as root in CI: like ssh, refuse what the current uid does not own.
    std::os::unix::fs::chown(env.config_dir(), Some(65534), Some(65534)).unwrap();
    let run = env.run_no_consent(env.ccsetup(&["token"]));
    std::os::unix::fs::chown(env.config_dir(), Some(0), Some(0)).unwrap();
    run.assert_code(2);
    let err = crate::support::e2e::error_text(&run);
    assert!(err.contains("another user (uid 65534)"), "{err}");
    assert!(err.contains("chown"), "{err}");
}

#[test]
fn planted_symlinks_in_the_config_dir_are_not_followed() {
    let env = initialized();
    let victim = tempfile::tempdir().unwrap();
    // recovery/<profile>.refresh_token -> a file of the victim's.
    let secret_txt = victim.path().join("secret.txt");
    std::fs::write(&secret_txt, "victim-private-data").unwrap();
    let recovery = env.config_dir().join("recovery");
    std::fs::create_dir_all(&recovery).unwrap();
    set_mode(&recovery, 0o700);
    std::os::unix::fs::symlink(&secret_txt, recovery.join("default.refresh_token")).unwrap();
    let run = env.run_no_consent(env.ccsetup(&["token", "--force-refresh"]));
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(run.stderr.contains("symbolic link"), "{}", run.stderr);
    assert_ne!(
        env.secret("default", "refresh_token").as_deref(),
        Some("victim-private-data")
    );
    assert!(
        !env.cc_requests(TOKEN_PATH)
            .iter()
            .any(|r| String::from_utf8_lossy(&r.body).contains("victim-private-data")),
        "the victim's file was never sent"
    );
    std::fs::remove_file(recovery.join("default.refresh_token")).unwrap();

    // locks/<profile>.secrets.lock -> a path of the victim's that does not exist.
    let target = victim.path().join("X");
    let lock = env.config_dir().join("locks/default.secrets.lock");
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&target, &lock).unwrap();
    let run = env.run_no_consent(env.ccsetup(&["token", "--force-refresh"]));
    assert_ne!(run.code, Some(0), "{run:?}");
    assert!(!target.exists(), "no file was created through the link");
}

// ---- 7: bounded stdin ----

#[test]
fn an_endless_secret_on_stdin_is_refused_quickly() {
    let env = TestEnv::new();
    let mut cmd = env.cmd();
    cmd.args([
        "init",
        "--non-interactive",
        "--client-id",
        &env.app.client_id,
    ])
    .arg("--client-secret-stdin")
    .env("STACKONE_API_KEY", env.stackone_key())
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // `yes | ccsetup …`: writes until the reader goes away (at most 64 MiB).
    let writer = std::thread::spawn(move || {
        let chunk = vec![b'y'; 64 * 1024];
        let mut sent = 0usize;
        while sent < 64 << 20 && stdin.write_all(&chunk).is_ok() {
            sent += chunk.len();
        }
        sent
    });
    let status = crate::support::e2e::wait_bounded(&mut child, Duration::from_secs(30));
    let sent = writer.join().unwrap();
    let stderr = crate::support::e2e::read_piped(child.stderr.take());
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{stderr}");
    assert!(stderr.contains("longer than"), "{stderr}");
    assert!(stderr.contains("--client-secret-stdin"), "{stderr}");
    assert!(
        sent < 64 << 20,
        "ccsetup stopped reading early ({sent} bytes)"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

// ---- 8: remote text cannot drive the terminal ----

#[test]
fn an_account_name_with_escape_sequences_and_a_newline_reaches_no_terminal() {
    let evil = "Evil\u{1b}[2K\u{1b}[1A\r\n✓ Authorized for Trusted Corp\u{1b}]0;pwned\u{7}\u{202e}";
    let env = TestEnv::with(SandboxOptions {
        cc: CcOptions {
            account: Some(Account {
                organization_name: evil.into(),
                ..Account::default()
            }),
        },
        ..SandboxOptions::with_hypothetical_write_api()
    });
    let run = env.init_ok(&[]);
    let status = env.run_no_consent(env.ccsetup(&["status"]));
    for (what, out) in [
        ("init", run.all_output()),
        ("status", status.all_output()),
        ("config.toml", env.config_text()),
    ] {
        assert!(
            !out.contains('\u{1b}'),
            "{what}: ESC reached the output:\n{out}"
        );
        assert!(!out.contains('\u{202e}'), "{what}: bidi override:\n{out}");
        assert!(!out.contains('\u{7}'), "{what}: BEL:\n{out}");
        assert!(
            !out.lines()
                .any(|l| l.starts_with("✓ Authorized for Trusted Corp")),
            "{what}: a forged line:\n{out}"
        );
    }
    assert!(
        run.stderr
            .contains("Authorized for Evil ✓ Authorized for Trusted Corp"),
        "{}",
        run.stderr
    );
}

// ---- 9: children do not inherit the secrets ----

#[test]
fn the_browser_process_gets_no_secret_in_its_environment() {
    let env = TestEnv::with_hypothetical_write_api();
    let bin = tempfile::tempdir().unwrap();
    let dump = bin.path().join("env.txt");
    let browser = bin.path().join("browser");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\nenv > '{}'\nexit 0\n", dump.display()),
    )
    .unwrap();
    set_mode(&browser, 0o755);
    let mut cmd = env.init_cmd(&[]);
    cmd.env_remove("CCSETUP_NO_BROWSER")
        .env("BROWSER", &browser)
        .env("DISPLAY", ":99");
    env.run(cmd, Decision::Approve).assert_code(0);
    let seen = std::fs::read_to_string(&dump).expect("the browser ran");
    assert!(seen.contains("PATH="), "{seen}");
    for name in ["CC_CLIENT_SECRET", "STACKONE_API_KEY"] {
        assert!(
            !seen.contains(&format!("{name}=")),
            "{name} reached the browser"
        );
    }
    assert!(!seen.contains(&env.client_secret()));
    assert!(!seen.contains(&env.stackone_key()));
}

// ---- 11: a secret with a BOM or surrounding spaces ----

#[test]
fn a_client_secret_with_a_bom_is_refused_before_consent() {
    let env = TestEnv::new();
    let mut cmd = env.init_cmd(&[]);
    cmd.env(
        "CC_CLIENT_SECRET",
        format!("\u{feff}{}", env.client_secret()),
    );
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(2);
    let err = crate::support::e2e::error_text(&run);
    assert!(err.contains("byte order mark"), "{err}");
    assert!(err.contains("CC_CLIENT_SECRET"), "{err}");
    assert!(run.callbacks.is_empty(), "no consent was asked");
    assert!(env.cc_requests(TOKEN_PATH).is_empty());
}

#[test]
fn a_client_secret_with_surrounding_spaces_on_stdin_is_trimmed() {
    let env = TestEnv::with_hypothetical_write_api();
    let mut cmd = env.init_cmd(&["--client-secret-stdin"]);
    cmd.env_remove("CC_CLIENT_SECRET");
    let run = crate::support::e2e::run_with_browser(
        cmd,
        Some(Decision::Approve),
        Some(format!("  {}\t\r\n", env.client_secret())),
    );
    run.assert_code(0);
    assert_eq!(
        env.secret("default", "client_secret"),
        Some(env.client_secret())
    );
}

// ---- 12: a broken config.toml says where and why ----

#[test]
fn a_broken_config_toml_names_line_column_and_cause() {
    let env = initialized();
    let path = env.config_dir().join("config.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text = text.replacen("redirect_port = ", "redirect_port = \"eighty\" # ", 1);
    std::fs::write(&path, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.starts_with("redirect_port"))
        .unwrap()
        + 1;
    let run = env.run_no_consent(env.ccsetup(&["token"]));
    run.assert_code(1);
    let err = crate::support::e2e::error_text(&run);
    assert!(err.contains(&format!("line {line}, column 17")), "{err}");
    assert!(err.contains("invalid type"), "{err}");
}

// ---- 14: --json errors on stdout ----

#[test]
fn json_errors_are_one_object_on_stdout_and_human_text_on_stderr() {
    let env = TestEnv::new();
    let run = env.run_no_consent(env.ccsetup(&["--json", "token"]));
    run.assert_code(2);
    let v = run.json();
    assert_eq!(v["error"]["exit_code"], 2, "{v}");
    assert_eq!(v["error"]["kind"], "usage", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("not set up"), "{v}");
    assert!(run.stderr.contains("error: "), "{}", run.stderr);
}

// ---- 6: a loopback listener flood ----

#[test]
fn two_hundred_idle_connections_do_not_block_the_real_callback() {
    let env = TestEnv::with_hypothetical_write_api();
    let port = env.port;
    let hold = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let held = hold.clone();
    let flood_then_consent: crate::support::e2e::OnUrl = std::sync::Arc::new(move |url, _| {
        for _ in 0..200 {
            if let Ok(s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                held.lock().unwrap().push(s);
            }
        }
        ccsetup::sandbox::test_browser::consent_blocking(&url, Decision::Approve)
            .and_then(|loc| ccsetup::sandbox::test_browser::deliver_blocking(&loc))
            .unwrap_or_else(|e| (0, e))
    });
    let started = Instant::now();
    let run = crate::support::e2e::run_answering(
        env.init_cmd(&["--auth-timeout", "30"]),
        false,
        Some(flood_then_consent),
    );
    run.assert_code(0);
    assert!(hold.lock().unwrap().len() >= 100, "the flood connected");
    assert!(started.elapsed() < Duration::from_secs(25));
}
