//! The keyring backend against a real Secret Service (Linux only).
//!
//! Each outer test starts a private session bus with `dbus-run-session`
//! (a bus config without service activation, tests/it/support/
//! bus-without-activation.conf) and, for the real-keyring cases, an unlocked
//! gnome-keyring-daemon (tests/it/support/secret-service-session.sh), with
//! private `XDG_*` dirs in a temp dir (HOME is left alone). Inside it, the
//! script re-executes this test binary to run one `#[ignore]`d inner test,
//! which only does something when `CCSETUP_SS_INNER=1` is set.
//!
//! Needs `dbus-run-session`, `dbus-send`, `dbus-monitor`, `gnome-keyring-daemon` and
//! `secret-tool` (Debian: `dbus-daemon gnome-keyring libsecret-tools`). If
//! they are missing the tests fail, unless `CCSETUP_SKIP_SECRET_SERVICE_TESTS=1`.
#![cfg(target_os = "linux")]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ccsetup::cli::StoreChoice;
use ccsetup::error::ErrorKind;
use ccsetup::store::{self, SecretKind, SecretStore, StoredAccessToken, recovery};
use secrecy::{ExposeSecret, SecretString};

const INNER_ENV: &str = "CCSETUP_SS_INNER";
const SKIP_ENV: &str = "CCSETUP_SKIP_SECRET_SERVICE_TESTS";
const PACKAGES: &str = "dbus-daemon gnome-keyring libsecret-tools";
const TOOLS: [&str; 5] = [
    "dbus-run-session",
    "dbus-send",
    "dbus-monitor",
    "gnome-keyring-daemon",
    "secret-tool",
];
/// Upper bound of one outer test (bus + keyring + inner test).
const OUTER_TIMEOUT: Duration = Duration::from_secs(120);

// ------------------------------------------------------------------ harness

fn in_path(tool: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(dir.join(tool))
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    })
}

/// `false` when the tests are skipped on purpose; panics when tools are
/// missing and skipping was not asked for.
fn tools_available() -> bool {
    if std::env::var(SKIP_ENV).as_deref() == Ok("1") {
        eprintln!("skipped: {SKIP_ENV}=1 (real Secret Service tests not run)");
        return false;
    }
    let missing: Vec<&str> = TOOLS.iter().copied().filter(|t| !in_path(t)).collect();
    assert!(
        missing.is_empty(),
        "the real Secret Service tests need {} (Debian/Ubuntu: apt-get install -y \
         --no-install-recommends {PACKAGES}); set {SKIP_ENV}=1 to skip them",
        missing.join(", ")
    );
    true
}

struct Outcome {
    success: bool,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Outcome {
    fn assert_inner_passed(&self, name: &str) {
        // Shown with --nocapture (and by the harness when the test fails).
        eprintln!("--- inner {name} stderr\n{}", self.stderr.trim_end());
        assert!(
            self.success && self.stdout.contains("test result: ok. 1 passed"),
            "inner test {name} failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            self.elapsed,
            self.stdout,
            self.stderr
        );
    }
}

enum Session {
    /// No bus at all: DBUS_SESSION_BUS_ADDRESS names a missing socket.
    NoBus,
    /// DBUS_SESSION_BUS_ADDRESS is this address (a socket that never answers).
    Address(String),
    /// A private bus with the keyring script (its env vars choose the mode).
    Bus,
}

/// Runs the inner test `name` of this binary in a fresh environment.
fn run_inner(name: &str, session: Session, envs: &[(&str, &str)]) -> Outcome {
    let tmp = tempfile::tempdir().unwrap();
    let xdg = |d: &str| {
        let p = tmp.path().join(d);
        std::fs::create_dir_all(&p).unwrap();
        p
    };
    let (data, cache, config, runtime) = (xdg("data"), xdg("cache"), xdg("config"), xdg("run"));
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let full_name = crate::support::test_name(module_path!(), name);
    let inner_args = [
        "--exact",
        &full_name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ];
    let mut cmd = match session {
        Session::NoBus => {
            let mut c = Command::new(&exe);
            c.args(inner_args);
            let missing = runtime.join("no-such-bus-socket");
            c.env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", missing.display()),
            );
            c
        }
        Session::Address(address) => {
            let mut c = Command::new(&exe);
            c.args(inner_args);
            c.env("DBUS_SESSION_BUS_ADDRESS", address);
            c
        }
        Session::Bus => {
            let mut c = Command::new("dbus-run-session");
            c.arg(format!(
                "--config-file={}",
                crate::support::file("bus-without-activation.conf").display()
            ))
            .arg("--")
            .arg("bash")
            .arg(crate::support::file("secret-service-session.sh"))
            .arg(&exe)
            .args(inner_args);
            c.env_remove("DBUS_SESSION_BUS_ADDRESS");
            c
        }
    };
    // Output goes to files, not pipes: a stray daemon keeping a pipe open
    // must not hang the test.
    let out_path = tmp.path().join("stdout");
    let err_path = tmp.path().join("stderr");
    cmd.env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env("XDG_DATA_HOME", &data)
        .env("XDG_CACHE_HOME", &cache)
        .env("XDG_CONFIG_HOME", &config)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env(INNER_ENV, "1")
        .env("CCSETUP_SS_TMP", tmp.path())
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap());
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("cannot start the inner test");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > OUTER_TIMEOUT {
            // Our own process group: the session, the daemon and the test.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    Outcome {
        success: status.is_some_and(|s| s.success()),
        stdout: read(&out_path),
        stderr: read(&err_path)
            + &match status {
                None => format!("\n(killed after {OUTER_TIMEOUT:?})"),
                Some(_) => String::new(),
            },
        elapsed,
    }
}

fn inner_enabled() -> bool {
    let on = std::env::var(INNER_ENV).as_deref() == Ok("1");
    if !on {
        eprintln!("inner test: only runs when started by its outer test");
    }
    on
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_string())
}

fn get(store: &dyn SecretStore, profile: &str, kind: SecretKind) -> Option<String> {
    store
        .get(&profile.into(), kind)
        .unwrap_or_else(|e| panic!("get {profile}:{}: {}", kind.as_str(), e.render(true)))
        .map(|s| s.expose_secret().to_string())
}

/// What `secret-tool` (libsecret, not our code) finds under docs/contract.md's
/// attributes: the number of items and the secret of the first one.
fn secret_tool_lookup(user: &str) -> (usize, Option<String>) {
    let out = Command::new("secret-tool")
        .args([
            "search", "--all", "--unlock", "service", "ccsetup", "username", user,
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let items = text.lines().filter(|l| l.starts_with("[/")).count();
    let first = text
        .lines()
        .find_map(|l| l.strip_prefix("secret = "))
        .map(str::to_string);
    (items, first)
}

fn all_ccsetup_users() -> Vec<String> {
    let out = Command::new("secret-tool")
        .args(["search", "--all", "service", "ccsetup"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    // secret-tool prints the attributes on stderr.
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.strip_prefix("attribute.username = "))
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------- outer tests

#[test]
fn keyring_backend_works_against_a_real_secret_service() {
    if !tools_available() {
        return;
    }
    let name = "inner_real_secret_service";
    let outcome = run_inner(name, Session::Bus, &[]);
    outcome.assert_inner_passed(name);
    eprintln!(
        "real Secret Service: bus + keyring + inner test in {:.2} s",
        outcome.elapsed.as_secs_f64()
    );
}

#[test]
fn keyring_without_a_session_bus_is_exit_5_naming_store_file() {
    let name = "inner_no_session_bus";
    let outcome = run_inner(
        name,
        Session::NoBus,
        &[("CCSETUP_KEYRING_TIMEOUT_SECS", "10")],
    );
    outcome.assert_inner_passed(name);
}

#[test]
fn keyring_that_never_answers_times_out_as_exit_5() {
    // A "bus" that accepts connections and never says a word.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("silent-bus");
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    let name = "inner_unresponsive_bus";
    let outcome = run_inner(
        name,
        Session::Address(format!("unix:path={}", socket.display())),
        &[("CCSETUP_KEYRING_TIMEOUT_SECS", "1")],
    );
    outcome.assert_inner_passed(name);
}

#[test]
fn keyring_with_no_secret_service_provider_is_exit_5() {
    if !tools_available() {
        return;
    }
    let name = "inner_no_provider";
    let outcome = run_inner(
        name,
        Session::Bus,
        &[
            ("CCSETUP_SS_NO_PROVIDER", "1"),
            ("CCSETUP_KEYRING_TIMEOUT_SECS", "10"),
        ],
    );
    outcome.assert_inner_passed(name);
}

#[test]
fn keyring_that_is_locked_is_exit_5_within_the_timeout() {
    if !tools_available() {
        return;
    }
    let name = "inner_locked_keyring";
    let outcome = run_inner(
        name,
        Session::Bus,
        &[
            ("CCSETUP_SS_LOCKED", "1"),
            ("CCSETUP_KEYRING_TIMEOUT_SECS", "2"),
        ],
    );
    outcome.assert_inner_passed(name);
}

// ---------------------------------------------------------- inner tests

#[test]
#[ignore = "started by keyring_backend_works_against_a_real_secret_service"]
fn inner_real_secret_service() {
    if !inner_enabled() {
        return;
    }
    let start = Instant::now();
    let tmp = PathBuf::from(std::env::var("CCSETUP_SS_TMP").unwrap());
    // Never touch a real keyring: the keyring files must live in our temp dir.
    let data_home = PathBuf::from(std::env::var("XDG_DATA_HOME").unwrap());
    assert!(data_home.starts_with(&tmp), "{}", data_home.display());
    assert!(
        data_home.join("keyrings").is_dir(),
        "the private keyring of this run"
    );
    let config_dir = tmp.join("cfg");
    let store = store::open(StoreChoice::Keyring, &config_dir).unwrap();
    assert_eq!(store.choice(), StoreChoice::Keyring);
    assert!(
        store.describe().contains("Secret Service"),
        "{}",
        store.describe()
    );

    // Secrets cross the bus in a `plain` session (SECURITY.md).
    let algorithms = sessions_opened_during(|| {
        store
            .probe()
            .unwrap_or_else(|e| panic!("probe: {}", e.render(true)));
    });
    assert_eq!(algorithms, ["plain"], "one session, opened plain");
    assert!(
        !all_ccsetup_users()
            .iter()
            .any(|u| u.starts_with("ccsetup-probe")),
        "the probe entry is deleted"
    );

    let profiles = ["default", "prod-eu"];
    for p in profiles {
        for kind in SecretKind::ALL {
            assert_eq!(get(&*store, p, kind), None, "{p}:{}", kind.as_str());
        }
    }
    for p in profiles {
        for kind in SecretKind::ALL {
            let value = format!("{p}/{}/v1", kind.as_str());
            store.set(&p.into(), kind, &secret(&value)).unwrap();
        }
    }
    for p in profiles {
        for kind in SecretKind::ALL {
            let value = format!("{p}/{}/v1", kind.as_str());
            assert_eq!(get(&*store, p, kind).as_deref(), Some(value.as_str()));
            // Stored under service `ccsetup`, user `<profile>:<kind>`.
            assert_eq!(
                secret_tool_lookup(&kind.user(p)),
                (1, Some(value.clone())),
                "{}",
                kind.user(p)
            );
        }
    }

    // Overwrite: one item, new value; the other profile is untouched.
    for kind in SecretKind::ALL {
        let value = format!("default/{}/v2", kind.as_str());
        store.set(&"default".into(), kind, &secret(&value)).unwrap();
        assert_eq!(
            get(&*store, "default", kind).as_deref(),
            Some(value.as_str())
        );
        assert_eq!(secret_tool_lookup(&kind.user("default")), (1, Some(value)));
        assert_eq!(
            get(&*store, "prod-eu", kind),
            Some(format!("prod-eu/{}/v1", kind.as_str()))
        );
    }

    // A second handle (a new D-Bus connection) sees the same entries.
    let again = store::open(StoreChoice::Keyring, &config_dir).unwrap();
    assert_eq!(
        get(&*again, "default", SecretKind::ClientSecret).as_deref(),
        Some("default/client_secret/v2")
    );

    // The cached access token and the recovery path through the keyring.
    let token = StoredAccessToken {
        access_token: "at-real".into(),
        expires_at: 2_000_000_000,
        scope: "account_read offline_access".into(),
    };
    store
        .set(
            &"prod-eu".into(),
            SecretKind::AccessToken,
            &token.to_secret(),
        )
        .unwrap();
    let back = store
        .get(&"prod-eu".into(), SecretKind::AccessToken)
        .unwrap()
        .unwrap();
    assert_eq!(StoredAccessToken::from_secret(&back).unwrap(), token);
    let path = recovery::save(&config_dir, "prod-eu", &secret("rt-recovered")).unwrap();
    assert!(
        recovery::take(&config_dir, &"prod-eu".into(), &*store)
            .unwrap()
            .is_some()
    );
    assert!(!path.exists());
    assert_eq!(
        get(&*store, "prod-eu", SecretKind::RefreshToken).as_deref(),
        Some("rt-recovered")
    );

    // Delete: gone for us and for libsecret; deleting again is fine.
    for p in profiles {
        for kind in SecretKind::ALL {
            store.delete(&p.into(), kind).unwrap();
            assert_eq!(get(&*store, p, kind), None);
            assert_eq!(secret_tool_lookup(&kind.user(p)).0, 0);
            store.delete(&p.into(), kind).unwrap();
        }
    }
    assert!(all_ccsetup_users().is_empty(), "{:?}", all_ccsetup_users());
    eprintln!(
        "inner: keyring round trips took {:.2} s",
        start.elapsed().as_secs_f64()
    );
}

/// The algorithms of the Secret Service sessions opened on the bus while
/// `work` runs, as `dbus-monitor` sees the `OpenSession` calls.
fn sessions_opened_during(work: impl FnOnce()) -> Vec<String> {
    use std::io::BufRead as _;
    use std::sync::{Arc, Mutex};
    let mut monitor = Command::new("dbus-monitor")
        .args([
            "--session",
            "type='method_call',interface='org.freedesktop.Secret.Service',member='OpenSession'",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-monitor runs");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let reader = {
        let (lines, stdout) = (Arc::clone(&lines), monitor.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                lines.lock().unwrap().push(line);
            }
        })
    };
    let seen = |what: &dyn Fn(&[String]) -> bool| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !what(&lines.lock().unwrap()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    // It says it is watching (the bus's NameLost/NameAcquired) first.
    seen(&|l| !l.is_empty());
    work();
    seen(&|l| {
        l.iter()
            .position(|line| line.contains("member=OpenSession"))
            .is_some_and(|header| l.len() > header + 1)
    });
    std::thread::sleep(Duration::from_millis(100));
    let _ = monitor.kill();
    let _ = monitor.wait();
    let _ = reader.join();
    let lines = lines.lock().unwrap();
    // Each call is a header line, then its arguments: the algorithm first.
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains("member=OpenSession"))
        .filter_map(|(i, _)| lines.get(i + 1))
        .map(|arg| {
            arg.trim()
                .trim_start_matches("string ")
                .trim_matches('"')
                .to_string()
        })
        .collect()
}

/// One store operation, named.
type Op<'a> = (
    &'static str,
    Box<dyn Fn() -> ccsetup::error::Result<()> + 'a>,
);

/// Asserts the exit-5 error of an unusable keyring for every operation.
fn assert_unavailable(store: &dyn SecretStore, bound: Duration, expect: &[&str]) {
    let ops: [Op<'_>; 4] = [
        (
            "get",
            Box::new(|| {
                store
                    .get(&"default".into(), SecretKind::ClientSecret)
                    .map(|_| ())
            }),
        ),
        (
            "set",
            Box::new(|| {
                store.set(
                    &"default".into(),
                    SecretKind::RefreshToken,
                    &secret("SHHH-secret"),
                )
            }),
        ),
        (
            "delete",
            Box::new(|| store.delete(&"default".into(), SecretKind::AccessToken)),
        ),
        ("probe", Box::new(|| store.probe())),
    ];
    for (op, f) in ops {
        let start = Instant::now();
        let err = f().expect_err(op);
        let took = start.elapsed();
        let shown = err.render(true);
        eprintln!("{op} failed in {took:?}:\n{shown}");
        assert_eq!(err.kind(), ErrorKind::SecretStore, "{op}: {shown}");
        assert_eq!(err.exit_code(), 5);
        assert!(took < bound, "{op} took {took:?}");
        let hint = err.hint().unwrap_or("");
        assert!(hint.contains("--store file"), "{op}: {shown}");
        assert!(hint.contains("gnome-keyring"), "{op}: {shown}");
        assert!(!shown.contains("SHHH"), "{op}: {shown}");
        for word in expect {
            assert!(shown.contains(word), "{op}: expected {word:?} in\n{shown}");
        }
    }
}

#[test]
#[ignore = "started by keyring_without_a_session_bus_is_exit_5_naming_store_file"]
fn inner_no_session_bus() {
    if !inner_enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::Keyring, dir.path()).unwrap();
    assert_unavailable(
        &*store,
        Duration::from_secs(10),
        &["is not available", "no D-Bus session bus"],
    );
}

#[test]
#[ignore = "started by keyring_that_never_answers_times_out_as_exit_5"]
fn inner_unresponsive_bus() {
    if !inner_enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::Keyring, dir.path()).unwrap();
    let start = Instant::now();
    let err = store
        .get(&"default".into(), SecretKind::ClientSecret)
        .expect_err("a silent keyring must time out");
    let took = start.elapsed();
    let shown = err.render(true);
    eprintln!("get on a silent bus failed in {took:?}:\n{shown}");
    assert_eq!(err.kind(), ErrorKind::SecretStore, "{shown}");
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
    assert!(shown.contains("did not answer within 1 s"), "{shown}");
    assert!(err.hint().unwrap_or("").contains("--store file"), "{shown}");
}

#[test]
#[ignore = "started by keyring_with_no_secret_service_provider_is_exit_5"]
fn inner_no_provider() {
    if !inner_enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::Keyring, dir.path()).unwrap();
    assert_unavailable(
        &*store,
        Duration::from_secs(10),
        &["is not available", "no Secret Service provider"],
    );
}

#[test]
#[ignore = "started by keyring_that_is_locked_is_exit_5_within_the_timeout"]
fn inner_locked_keyring() {
    if !inner_enabled() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let store = store::open(StoreChoice::Keyring, dir.path()).unwrap();
    let start = Instant::now();
    let err = store
        .set(
            &"default".into(),
            SecretKind::RefreshToken,
            &secret("SHHH-secret"),
        )
        .expect_err("a locked keyring must refuse");
    let took = start.elapsed();
    let shown = err.render(true);
    eprintln!("set on a locked keyring failed in {took:?}:\n{shown}");
    assert_eq!(err.kind(), ErrorKind::SecretStore, "{shown}");
    // Refused at once, or given up after CCSETUP_KEYRING_TIMEOUT_SECS=2.
    assert!(took < Duration::from_secs(6), "{took:?}");
    assert!(err.hint().unwrap_or("").contains("--store file"), "{shown}");
    assert!(!shown.contains("SHHH"), "{shown}");
}
