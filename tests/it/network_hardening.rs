//! What the network may send back, and where requests may go: answers of
//! any size, proxies, hub links handed to a browser, deadlines that hold
//! while a server hangs, remote text on the terminal and in JSON, and the
//! notice that endpoints are overridden. Each test runs the real binary
//! against the stand-ins (and loopback servers of its own) on loopback.
// Unix only: resource limits, a `$BROWSER` shell script.
#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::e2e::{Run, TestEnv, run_plain};
use ccsetup::sandbox::{Fault, FaultAction, Response};

const TOKEN_PATH: &str = "/oauth2/default/v1/token";
const PROXY_VARS: [&str; 8] = [
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// `cmd` with no proxy variable inherited from the test's environment.
fn without_proxies(mut cmd: Command) -> Command {
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// Reads one request's head (up to the blank line).
fn read_head(stream: &mut TcpStream) -> String {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => head.push_str(&line),
        }
    }
    head
}

/// A server answering every request with `total` bytes of JSON whitespace,
/// chunked (no length announced), produced as it is sent: never held in
/// memory. Counts the bytes that were accepted by the peer.
struct EndlessServer {
    port: u16,
    sent: Arc<AtomicU64>,
}

impl EndlessServer {
    fn start(total: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let sent = Arc::new(AtomicU64::new(0));
        let counter = sent.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let counter = counter.clone();
                std::thread::spawn(move || {
                    read_head(&mut stream);
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                                Transfer-Encoding: chunked\r\n\r\n";
                    if stream.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    let chunk = vec![b' '; 64 * 1024];
                    let framed = [
                        format!("{:x}\r\n", chunk.len()).into_bytes(),
                        chunk,
                        b"\r\n".to_vec(),
                    ]
                    .concat();
                    let mut left = total;
                    while left > 0 {
                        if stream.write_all(&framed).is_err() {
                            return;
                        }
                        counter.fetch_add(64 * 1024, Ordering::Relaxed);
                        left = left.saturating_sub(64 * 1024);
                    }
                    let _ = stream.write_all(b"0\r\n\r\n");
                });
            }
        });
        EndlessServer { port, sent }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

/// Runs `cmd` with its address space capped at `limit_bytes` (as
/// `ulimit -v` would): an unbounded read aborts instead of swapping.
fn run_with_address_space_limit(mut cmd: Command, limit_bytes: u64) -> Run {
    // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child
    // between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: limit_bytes,
                rlim_max: limit_bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    run_plain(cmd)
}

// ---- answers of any size ----

/// A StackOne streaming 1.5 GB to `/accounts` (and every other path) while
/// the token endpoint has rotated the refresh token and holds its answer:
/// the answer is refused at the cap, nothing aborts, the new refresh token
/// is stored.
#[test]
fn a_huge_stackone_answer_during_a_held_refresh_keeps_the_rotated_token() {
    let env = TestEnv::initialized();
    // No cached access token: `status` must redeem the refresh token.
    env.set_secret("default", "access_token", None);
    let issued = env.sandbox.cc().issued_refresh_tokens().len();
    env.sandbox.cc().inject(Fault::new(
        Some("POST"),
        TOKEN_PATH,
        FaultAction::DelayAfterHandling(Duration::from_millis(1500)),
        1,
    ));
    let huge = EndlessServer::start(1_500_000_000);
    let mut cmd = without_proxies(env.ccsetup(&["status", "--json"]));
    cmd.env("CCSETUP_STACKONE_API_URL", huge.url());
    let started = Instant::now();
    // 1 GiB of address space: plenty for ccsetup, less than the answer.
    let run = run_with_address_space_limit(cmd, 1 << 30);
    let elapsed = started.elapsed();

    assert!(
        matches!(run.code, Some(0 | 1)),
        "status ended cleanly (not aborted): {run:?}"
    );
    assert!(
        env.sandbox.cc().issued_refresh_tokens().len() > issued,
        "the refresh was redeemed"
    );
    assert_eq!(
        env.secret("default", "refresh_token"),
        env.live_refresh_token(),
        "the rotated refresh token was stored"
    );
    let json = run.json();
    let accounts = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "stackone_accounts")
        .unwrap()
        .clone();
    assert_eq!(accounts["status"], "failing", "{accounts}");
    assert!(
        accounts["detail"].as_str().unwrap().contains("larger than"),
        "{accounts}"
    );
    let sent = huge.sent.load(Ordering::Relaxed);
    eprintln!("the 1.5 GB answer: {sent} bytes accepted by ccsetup's socket, run took {elapsed:?}");
    assert!(
        sent < 64 << 20,
        "only about the cap was read before hanging up ({sent} bytes sent)"
    );
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
}

/// The token endpoint's answer has a smaller cap: an answer past it is an
/// answer lost (clear error, exit 4), not something read into memory.
#[test]
fn a_token_answer_past_its_cap_is_refused() {
    let env = TestEnv::initialized();
    let padded = format!("{}{{\"token_type\":\"Bearer\"}}", " ".repeat(100 * 1024));
    env.sandbox.cc().inject(Fault::new(
        Some("POST"),
        TOKEN_PATH,
        FaultAction::RespondAfterHandling(
            Response::new(200)
                .with_header("Content-Type", "application/json")
                .with_body(padded),
        ),
        1,
    ));
    let run = run_plain(without_proxies(env.ccsetup(&["token", "--force-refresh"])));
    run.assert_code(4);
    assert!(run.stderr.contains("larger than 64 KiB"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
}

// ---- proxies ----

/// A "proxy" that records the request line of every connection and refuses
/// it.
struct RecordingProxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let head = read_head(&mut stream);
                log.lock().unwrap().push(head);
                let _ = stream.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            }
        });
        RecordingProxy { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// `HTTP_PROXY` (and `ALL_PROXY`) with loopback http endpoints: the Basic
/// client secret and the refresh token go to the token endpoint directly,
/// never to the proxy.
#[test]
fn an_http_proxy_never_sees_the_plain_http_requests() {
    let env = TestEnv::initialized();
    let proxy = RecordingProxy::start();
    let mut cmd = without_proxies(env.ccsetup(&["token", "--force-refresh"]));
    for var in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        cmd.env(var, proxy.url());
    }
    let run = run_plain(cmd);
    run.assert_code(0);
    assert_eq!(
        proxy.seen(),
        Vec::<String>::new(),
        "nothing reached the proxy"
    );
    assert_eq!(
        env.secret("default", "refresh_token"),
        env.live_refresh_token()
    );
}

/// https requests use `HTTPS_PROXY` (a CONNECT tunnel), except the hosts in
/// `NO_PROXY`; `doctor` says which proxy is in use.
#[test]
fn https_goes_through_the_https_proxy_unless_no_proxy_names_the_host() {
    let env = TestEnv::new();
    let proxy = RecordingProxy::start();
    let doctor = |no_proxy: Option<&str>| {
        let mut cmd = without_proxies(env.ccsetup(&["doctor", "--json"]));
        cmd.env("CCSETUP_STACKONE_API_URL", "https://stackone.invalid/")
            .env("HTTPS_PROXY", proxy.url())
            .env("HTTP_PROXY", proxy.url());
        if let Some(hosts) = no_proxy {
            cmd.env("NO_PROXY", hosts);
        }
        run_plain(cmd)
    };
    let run = doctor(None);
    let connects: Vec<String> = proxy.seen();
    assert!(
        connects
            .iter()
            .any(|h| h.starts_with("CONNECT stackone.invalid:443")),
        "the https request went through the proxy: {connects:?}"
    );
    assert!(
        connects.iter().all(|h| h.starts_with("CONNECT ")),
        "only TLS tunnels reach the proxy: {connects:?}"
    );
    let json = run.json();
    let proxy_check = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "proxy")
        .unwrap_or_else(|| panic!("doctor reports the proxy: {json}"))
        .clone();
    let detail = proxy_check["detail"].as_str().unwrap();
    assert!(detail.contains(&proxy.url()), "{detail}");
    assert!(detail.contains("HTTP_PROXY is ignored"), "{detail}");

    let before = proxy.seen().len();
    let run = doctor(Some("example.org, stackone.invalid"));
    assert_eq!(
        proxy.seen().len(),
        before,
        "NO_PROXY hosts bypass the proxy: {:?}",
        proxy.seen()
    );
    let detail = run.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "proxy")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("stackone.invalid"), "{detail}");
}

// ---- links handed to a browser ----

/// A `$BROWSER` that records its arguments in `record`.
fn recording_browser(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let record = dir.join("browser-argv");
    let script = dir.join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, record)
}

fn connect_session_answer(auth_link_url: &str) -> Response {
    Response::json(
        201,
        &serde_json::json!({
            "id": "sess-hostile-1",
            "auth_link_url": auth_link_url,
            "created_at": "2026-01-01T00:00:00Z",
            "expires_at": "2099-01-01T00:00:00Z",
            "token": "tok-hostile-session-0123456789",
        }),
    )
}

#[test]
fn a_hub_link_that_is_not_an_https_url_never_reaches_the_browser() {
    let env = TestEnv::initialized();
    let tmp = tempfile::tempdir().unwrap();
    let (browser, record) = recording_browser(tmp.path());
    let pwned = tmp.path().join("pwned");
    for hostile in [
        format!("--gpu-launcher=touch {}", pwned.display()),
        "file:///etc/passwd".to_string(),
        "http://attacker.example/hub".to_string(),
    ] {
        env.sandbox.stackone().inject(Fault::new(
            Some("POST"),
            "/connect_sessions",
            FaultAction::Respond(connect_session_answer(&hostile)),
            1,
        ));
        let mut cmd = env.ccsetup(&[
            "link",
            "--origin-owner-id",
            "cust-1",
            "--origin-owner-name",
            "Bakery",
            "--no-wait",
        ]);
        cmd.env_remove("CCSETUP_NO_BROWSER")
            .env("BROWSER", &browser)
            .env("DISPLAY", ":0");
        let run = run_plain(cmd);
        run.assert_code(0);
        assert!(
            !record.exists(),
            "{hostile}: the browser was given {:?}",
            std::fs::read_to_string(&record)
        );
        assert!(
            run.stderr
                .contains("The hub link was not opened in a browser"),
            "{hostile}: the refusal is explained: {}",
            run.stderr
        );
        assert!(
            run.all_output().contains(&hostile),
            "{hostile}: the link is printed instead"
        );
    }
    assert!(!pwned.exists());

    // A real hub link is opened as before.
    let mut cmd = env.ccsetup(&[
        "link",
        "--origin-owner-id",
        "cust-1",
        "--origin-owner-name",
        "Bakery",
        "--no-wait",
    ]);
    cmd.env_remove("CCSETUP_NO_BROWSER")
        .env("BROWSER", &browser)
        .env("DISPLAY", ":0");
    run_plain(cmd).assert_code(0);
    let opened = std::fs::read_to_string(&record).unwrap_or_default();
    assert!(opened.starts_with("http"), "{opened:?}");
}

// ---- deadlines ----

/// `link --wait-timeout 2` while `GET /connect_sessions/{id}` hangs: the
/// wait ends at its deadline, not after the client's timeouts and retries.
#[test]
fn the_wait_timeout_bounds_a_hanging_session_read() {
    let env = TestEnv::initialized();
    env.sandbox.stackone().inject(Fault::new(
        Some("GET"),
        "/connect_sessions/",
        FaultAction::Delay(Duration::from_secs(120)),
        20,
    ));
    let started = Instant::now();
    let run = run_plain(env.ccsetup(&[
        "link",
        "--origin-owner-id",
        "cust-1",
        "--origin-owner-name",
        "Bakery",
        "--wait",
        "--wait-timeout",
        "2",
    ]));
    let elapsed = started.elapsed();
    run.assert_code(3);
    assert!(
        elapsed < Duration::from_secs(10),
        "the 2 s wait took {elapsed:?}"
    );
    assert!(run.stderr.contains("not linked yet"), "{}", run.stderr);
}

// ---- remote text on the terminal and in JSON ----

const HOSTILE_TEXT: &str = "Bad\u{202e}gnp.exe\u{200b} \u{9b}31mred\u{1b}]0;title\u{7} end";

fn assert_terminal_safe(what: &str, text: &str) {
    for c in text.chars() {
        let invisible = matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        let control = c.is_control() && c != '\n';
        assert!(!invisible && !control, "{what} holds {c:?}: {text:?}");
    }
}

#[test]
fn link_json_and_text_carry_no_raw_control_or_bidi_characters() {
    let env = TestEnv::initialized();
    env.sandbox.stackone().inject(Fault::new(
        Some("GET"),
        "/connect_sessions/",
        FaultAction::Respond(Response::json(
            200,
            &serde_json::json!({
                "id": "sess-1",
                "latest_connection_attempt": {
                    "status": "error",
                    "oauth_error_code": format!("access_denied{HOSTILE_TEXT}"),
                    "oauth_error_description": HOSTILE_TEXT,
                }
            }),
        )),
        1,
    ));
    let run = run_plain(env.ccsetup(&[
        "link",
        "--origin-owner-id",
        "cust-1",
        "--origin-owner-name",
        "Bakery",
        "--wait",
        "--wait-timeout",
        "20",
        "--json",
    ]));
    run.assert_code(3);
    assert_terminal_safe("stdout", &run.stdout);
    assert_terminal_safe("stderr", &run.stderr);
    let json = run.json();
    let description = json["oauth_error_description"].as_str().unwrap();
    assert_terminal_safe("the parsed description", description);
    assert!(description.contains("gnp.exe"), "{description}");
}

#[test]
fn status_shows_account_names_without_control_or_bidi_characters() {
    let env = TestEnv::initialized();
    env.sandbox.stackone().inject(Fault::new(
        Some("GET"),
        "/accounts",
        FaultAction::Respond(Response::json(
            200,
            &serde_json::json!({"data": [{
                "id": "acc-1",
                "status": "active",
                "origin_owner_id": "cust-1",
                "origin_owner_name": HOSTILE_TEXT,
                "label": HOSTILE_TEXT,
            }]}),
        )),
        1,
    ));
    let run = run_plain(env.ccsetup(&["status", "--json"]));
    assert_terminal_safe("stdout", &run.stdout);
    let json = run.json();
    let account = &json["stackone_accounts"][0];
    assert_terminal_safe(
        "origin_owner_name",
        account["origin_owner_name"].as_str().unwrap(),
    );
    assert_terminal_safe("label", account["label"].as_str().unwrap());
}

#[test]
fn local_values_with_escape_sequences_are_not_echoed_raw() {
    let env = TestEnv::with_hypothetical_write_api();
    let hostile = format!("http://localhost:{}/callback\u{1b}]0;pwned\u{7}", env.port);
    let mut cmd = env.init_cmd(&["--redirect-uri", &hostile]);
    cmd.env("CCSETUP_STACKONE_API_URL", "http://127.0.0.1:9/");
    let run = run_plain(cmd);
    run.assert_code(2);
    assert_terminal_safe("stderr", &run.stderr);
    assert!(
        run.stderr.contains("control or invisible"),
        "{}",
        run.stderr
    );

    // A config.toml edited to hold an escape sequence in the client id.
    let env = TestEnv::initialized();
    let path = env.config_dir().join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replace(
        &format!("client_id = \"{}\"", env.app.client_id),
        &format!("client_id = \"{}\\u001b[2J\\u009b1m\"", env.app.client_id),
    );
    assert_ne!(edited, text, "the client id line was found");
    std::fs::write(&path, edited).unwrap();
    let run = run_plain(env.ccsetup(&["status", "--offline"]));
    assert_terminal_safe("stdout", &run.stdout);
    assert_terminal_safe("stderr", &run.stderr);
}

// ---- overridden endpoints ----

#[test]
fn every_command_says_once_that_endpoints_are_overridden() {
    let env = TestEnv::initialized();
    let notice = "note: endpoints overridden by";
    for args in [
        &["token"][..],
        &["token", "--json"],
        &["status", "--json"],
        &["status", "--offline", "-q"],
    ] {
        let run = run_plain(env.ccsetup(args));
        run.assert_code(0);
        assert_eq!(
            run.stderr.matches(notice).count(),
            1,
            "{args:?}: {}",
            run.stderr
        );
        assert!(run.stderr.starts_with(notice), "{args:?}: {}", run.stderr);
        assert!(!run.stdout.contains(notice), "{args:?}");
        assert!(
            run.stderr
                .lines()
                .next()
                .unwrap()
                .contains("CCSETUP_CC_TOKEN_URL"),
            "{}",
            run.stderr
        );
    }
    // Commands that talk to nothing say nothing of endpoints.
    for args in [&["completions", "bash"][..], &["man", "token"]] {
        let run = run_plain(env.ccsetup(args));
        run.assert_code(0);
        assert!(!run.stderr.contains(notice), "{args:?}: {}", run.stderr);
    }
    let run = run_plain(env.ccsetup(&["doctor", "--json"]));
    let json = run.json();
    let check = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "endpoints")
        .unwrap_or_else(|| panic!("doctor flags the overrides: {json}"))
        .clone();
    assert_eq!(check["status"], "warning", "{check}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .contains("CCSETUP_CC_TOKEN_URL="),
        "{check}"
    );
}
