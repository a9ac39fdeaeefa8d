//! Running an inner test inside a private D-Bus session with an unlocked
//! throwaway gnome-keyring (`secret-service-session.sh`), with private XDG
//! dirs: the platform's default config dir is then
//! `$XDG_CONFIG_HOME/ccsetup` in a temp dir, and no real keyring is touched.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Runs test `inner` of module `module_path` (this binary, `--exact`,
/// `--ignored`) in such a session, with `inner_env=1` set so the inner test
/// knows it was started here. Returns false when the Secret Service tests
/// are skipped (`CCSETUP_SKIP_SECRET_SERVICE_TESTS=1`); fails the test when
/// the inner one fails or the session cannot start.
pub fn run_inner(module_path: &str, inner: &str, inner_env: &str) -> bool {
    if std::env::var("CCSETUP_SKIP_SECRET_SERVICE_TESTS").as_deref() == Ok("1") {
        eprintln!("skipped: CCSETUP_SKIP_SECRET_SERVICE_TESTS=1");
        return false;
    }
    let tmp = tempfile::tempdir().unwrap();
    let xdg = |d: &str| {
        let p = tmp.path().join(d);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let runtime = xdg("run");
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let (out, err) = (tmp.path().join("out"), tmp.path().join("err"));
    let mut cmd = Command::new("dbus-run-session");
    cmd.arg(format!(
        "--config-file={}",
        super::file("bus-without-activation.conf").display()
    ))
    .arg("--")
    .arg("bash")
    .arg(super::file("secret-service-session.sh"))
    .arg(std::env::current_exe().unwrap())
    .args([
        "--exact",
        &super::test_name(module_path, inner),
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env_remove("DBUS_SESSION_BUS_ADDRESS")
    .env_remove("DISPLAY")
    .env_remove("WAYLAND_DISPLAY")
    .env("XDG_DATA_HOME", xdg("data"))
    .env("XDG_CACHE_HOME", xdg("cache"))
    .env("XDG_CONFIG_HOME", xdg("config"))
    .env("XDG_RUNTIME_DIR", &runtime)
    .env(inner_env, "1")
    .env("CCSETUP_SS_TMP", tmp.path())
    .stdin(Stdio::null())
    .stdout(std::fs::File::create(&out).unwrap())
    .stderr(std::fs::File::create(&err).unwrap());
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let mut child = cmd.spawn().unwrap_or_else(|e| {
        panic!(
            "cannot start dbus-run-session ({e}); install dbus-daemon gnome-keyring \
             libsecret-tools or set CCSETUP_SKIP_SECRET_SERVICE_TESTS=1"
        )
    });
    let status = super::e2e::wait_bounded(&mut child, Duration::from_secs(180));
    if status.is_none() {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", child.id())])
            .status();
    }
    let stdout = std::fs::read_to_string(&out).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err).unwrap_or_default();
    assert!(
        status.is_some_and(|s| s.success()) && stdout.contains("test result: ok. 1 passed"),
        "inner {inner} failed ({status:?})\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    true
}
