//! `token` from the cache touches only what it needs (issue 23): no file of
//! the system's certificate store is opened or looked at, because the
//! platform's roots load at the first TLS handshake (src/http.rs), and no
//! thread is started, because it answers before the async runtime exists
//! (src/commands/token.rs). Watched with `strace` (installed by .ci/run),
//! which sees every call the process and its threads make.
#![cfg(target_os = "linux")]

use std::path::Path;
use std::process::{Command, Stdio};

use crate::support::e2e::TestEnv;

/// Where rustls-native-certs (through openssl-probe) looks on Linux.
const CERT_PLACES: [&str; 7] = [
    "/etc/ssl/",
    "/etc/pki/",
    "/usr/lib/ssl/",
    "/usr/share/ca-certificates",
    "/usr/local/share/certs",
    "/etc/ca-certificates",
    "/etc/certs",
];

/// Runs `cmd` under `strace -f`, watching the system calls `calls`: its
/// exit code and the trace's lines.
fn traced(cmd: Command, trace: &Path, calls: &str) -> (i32, Vec<String>) {
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(ToOwned::to_owned).collect();
    let mut strace = Command::new("strace");
    strace
        .args(["-f", "-qq", "-o"])
        .arg(trace)
        .arg("-e")
        .arg(format!("trace={calls}"))
        .arg("--")
        .arg(program)
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => strace.env(k, v),
            None => strace.env_remove(k),
        };
    }
    // Where the store is, and nothing else, decides what is read.
    strace
        .env_remove("SSL_CERT_FILE")
        .env_remove("SSL_CERT_DIR");
    let out = strace
        .output()
        .expect("strace runs (apt-get install strace; .ci/run installs it on CI)");
    let text = std::fs::read_to_string(trace).expect("strace wrote its trace");
    (
        out.status.code().unwrap_or(-1),
        text.lines().map(str::to_string).collect(),
    )
}

/// Every path `cmd` (and its threads) opened or looked at.
fn paths_touched(cmd: Command, trace: &Path) -> (i32, Vec<String>) {
    let (code, lines) = traced(
        cmd,
        trace,
        "open,openat,openat2,stat,lstat,newfstatat,statx,access,faccessat,faccessat2,readlink,getdents64",
    );
    let paths = lines
        .iter()
        .filter_map(|line| {
            let start = line.find('"')? + 1;
            let len = line[start..].find('"')?;
            Some(line[start..start + len].to_string())
        })
        .collect();
    (code, paths)
}

/// The threads `cmd` started (a `clone` sharing its memory, or `clone3`,
/// which only threads use here).
fn threads_started(cmd: Command, trace: &Path) -> (i32, Vec<String>) {
    let (code, lines) = traced(cmd, trace, "clone,clone3");
    let threads = lines
        .into_iter()
        .filter(|l| l.contains("clone3(") || (l.contains("clone(") && l.contains("CLONE_VM")))
        .collect();
    (code, threads)
}

fn under_cert_store(paths: &[String]) -> Vec<&String> {
    paths
        .iter()
        .filter(|p| CERT_PLACES.iter().any(|place| p.starts_with(place)))
        .collect()
}

#[test]
fn a_cached_token_opens_nothing_of_the_certificate_store() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let trace_dir = tempfile::tempdir().unwrap();

    let (code, paths) = paths_touched(
        env.ccsetup(&["token"]),
        &trace_dir.path().join("cached.trace"),
    );
    assert_eq!(code, 0, "the cached token");
    assert!(
        paths.iter().any(|p| p.ends_with("config.toml")),
        "the trace sees the files the command does read: {paths:?}"
    );
    let certs = under_cert_store(&paths);
    assert!(
        certs.is_empty(),
        "a cached token must not load the root certificates: {} paths, e.g. {:?}",
        certs.len(),
        certs.iter().take(5).collect::<Vec<_>>()
    );
}

#[test]
fn a_cached_token_starts_no_thread_and_a_refresh_does() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let trace_dir = tempfile::tempdir().unwrap();

    let (code, threads) = threads_started(
        env.ccsetup(&["token"]),
        &trace_dir.path().join("cached.trace"),
    );
    assert_eq!(code, 0, "the cached token");
    assert!(
        threads.is_empty(),
        "a cached token needs no async runtime (the file store, no keyring thread): {threads:?}"
    );

    // The whole path still runs when the cache cannot answer.
    let (code, threads) = threads_started(
        env.ccsetup(&["token", "--force-refresh"]),
        &trace_dir.path().join("refresh.trace"),
    );
    assert_eq!(code, 0, "the refresh");
    assert!(
        !threads.is_empty(),
        "the trace sees the runtime's threads when there are some"
    );
}

/// The other side: the first HTTPS handshake does load the platform's
/// roots (so the check above can see them, and TLS still verifies). Needs
/// `openssl` for a local TLS server; without it, only the check above runs.
#[test]
fn the_first_https_handshake_loads_the_platform_roots() {
    let dir = tempfile::tempdir().unwrap();
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
    };
    let generated = openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "key.pem",
        "-out",
        "cert.pem",
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
    ]);
    if !generated.is_ok_and(|s| s.success()) {
        eprintln!("skipped: no openssl to run a local TLS server");
        return;
    }
    let port = crate::support::e2e::free_port();
    let mut server = Command::new("openssl")
        .args([
            "s_server", "-quiet", "-www", "-cert", "cert.pem", "-key", "key.pem", "-accept",
        ])
        .arg(port.to_string())
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }

    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let mut cmd = env.ccsetup(&["token", "--force-refresh"]);
    cmd.env(
        "CCSETUP_CC_TOKEN_URL",
        format!("https://localhost:{port}/oauth2/default/v1/token"),
    );
    let (code, paths) = paths_touched(cmd, &dir.path().join("https.trace"));
    let _ = server.kill();
    let _ = server.wait();
    assert_ne!(code, 0, "a self-signed certificate is refused");
    assert!(
        !under_cert_store(&paths).is_empty(),
        "the handshake loaded the roots"
    );
}
