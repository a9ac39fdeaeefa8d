//! Harness for end-to-end tests: the real `ccsetup` binary against the
//! in-process stand-ins, over loopback HTTP, with a test "browser" that
//! answers the consent page when the binary prints the authorization URL.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ccsetup::sandbox::constant_contact::{AppRegistration, RegisteredApp};
use ccsetup::sandbox::test_browser::{self, Decision};
use ccsetup::sandbox::{Sandbox, SandboxOptions};

pub struct TestEnv {
    pub sandbox: Sandbox,
    pub config: tempfile::TempDir,
    /// `XDG_CONFIG_HOME` of the runs (see [`TestEnv::cmd`]).
    xdg_config: tempfile::TempDir,
    pub app: RegisteredApp,
    pub port: u16,
}

/// A loopback port that is free right now (on IPv4 and IPv6 loopback).
pub fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("::1", port)).is_ok()
            || std::net::TcpListener::bind(("::1", 0)).is_err()
        {
            return port;
        }
    }
}

impl TestEnv {
    /// The stand-ins as the real services are: StackOne without any
    /// profile-write endpoint, so a profile is made on the dashboard
    /// (docs/contract.md, docs/vendors.md §4).
    pub fn new() -> Self {
        Self::with(SandboxOptions::default())
    }

    /// The stand-ins with StackOne's HYPOTHETICAL profile-write API on: a
    /// StackOne that does not exist today, for the tests of the API
    /// create/update path, which name it by calling this.
    pub fn with_hypothetical_write_api() -> Self {
        Self::with(SandboxOptions::with_hypothetical_write_api())
    }

    pub fn with(options: SandboxOptions) -> Self {
        let sandbox = Sandbox::start(options).expect("sandbox starts");
        let port = free_port();
        let app = sandbox.cc().register_app(
            AppRegistration::new().redirect_uri(format!("http://localhost:{port}/callback")),
        );
        TestEnv {
            sandbox,
            config: tempfile::tempdir().unwrap(),
            xdg_config: tempfile::tempdir().unwrap(),
            app,
            port,
        }
    }

    pub fn config_dir(&self) -> &Path {
        self.config.path()
    }

    pub fn client_secret(&self) -> String {
        self.sandbox
            .cc()
            .app(&self.app.client_id)
            .and_then(|a| a.client_secret)
            .unwrap_or_else(|| self.app.secret().to_string())
    }

    pub fn stackone_key(&self) -> String {
        self.sandbox.stackone().api_key()
    }

    /// The binary, pointed at the stand-ins, with a private config dir, the
    /// file store, no browser and nothing inherited from the caller's ccsetup
    /// environment.
    pub fn cmd(&self) -> Command {
        let mut cmd = super::ccsetup_command();
        for (k, v) in self.sandbox.env() {
            cmd.env(k, v);
        }
        // The platform's default config dir holds the lock every config dir
        // takes for its keyring identity: a private one, never the real
        // home's (inside a Secret Service session the XDG dirs are private
        // already, and tests there use the default dir on purpose).
        if std::env::var_os("CCSETUP_SS_TMP").is_none() {
            cmd.env("XDG_CONFIG_HOME", self.xdg_config.path());
        }
        cmd.env("CCSETUP_CONFIG_DIR", self.config_dir())
            .env("CCSETUP_STORE", "file")
            .env("CCSETUP_NO_BROWSER", "1")
            .env("CCSETUP_REDIRECT_PORT", self.port.to_string())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        cmd
    }

    /// `init --non-interactive` with the app's credentials in the environment.
    pub fn init_cmd(&self, extra: &[&str]) -> Command {
        let mut cmd = self.cmd();
        cmd.args([
            "init",
            "--non-interactive",
            "--client-id",
            &self.app.client_id,
        ])
        .args(extra)
        .env("CC_CLIENT_SECRET", self.client_secret())
        .env("STACKONE_API_KEY", self.stackone_key());
        cmd
    }

    /// Runs `cmd`, answering every authorization URL it prints with `decision`.
    pub fn run(&self, cmd: Command, decision: Decision) -> Run {
        run_with_browser(cmd, Some(decision), None)
    }

    /// Runs `cmd` without ever answering consent.
    pub fn run_no_consent(&self, cmd: Command) -> Run {
        run_with_browser(cmd, None, None)
    }

    pub fn config_text(&self) -> String {
        std::fs::read_to_string(self.config_dir().join("config.toml")).unwrap_or_default()
    }

    /// The file store's JSON for a profile.
    pub fn secrets(&self, profile: &str) -> serde_json::Value {
        let path = self
            .config_dir()
            .join("secrets")
            .join(format!("{profile}.json"));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).unwrap()
    }

    pub fn secret(&self, profile: &str, kind: &str) -> Option<String> {
        self.secrets(profile)
            .get(kind)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    }

    /// Every file under the config dir, with its contents.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if let Ok(b) = std::fs::read(&p) {
                    out.push((p, b));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.config_dir(), &mut out);
        out
    }
}

/// A finished run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// How the test browser's consent went (status of the callback delivery).
    pub callbacks: Vec<(u16, String)>,
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// The authorization URL in a line printed by ccsetup, if any.
pub fn authorize_url_in(line: &str) -> Option<String> {
    line.split_whitespace()
        .find(|w| w.contains("/oauth2/default/v1/authorize?"))
        .map(str::to_string)
}

/// Spawns `cmd`; a thread reads stderr and plays the browser with
/// `decision`; optional `stdin_text` is written to stdin, which is then closed.
pub fn run_with_browser(
    cmd: Command,
    decision: Option<Decision>,
    stdin_text: Option<String>,
) -> Run {
    run_full(cmd, stdin_text, false, decision.map(answer_listener))
}

/// Handle on the child's stdin, shared with the answering threads.
pub type StdinHandle = Arc<Mutex<Option<std::process::ChildStdin>>>;

/// What the test does with an authorization URL printed by ccsetup; the
/// returned pair is recorded in [`Run::callbacks`].
pub type OnUrl = Arc<dyn Fn(String, &StdinHandle) -> (u16, String) + Send + Sync>;

/// The usual browser: consent with `decision`, deliver to the listener.
pub fn answer_listener(decision: Decision) -> OnUrl {
    Arc::new(move |url, _| {
        test_browser::consent_blocking(&url, decision)
            .and_then(|location| test_browser::deliver_blocking(&location))
            .unwrap_or_else(|e| (0, e))
    })
}

/// Paste mode: consent at the stand-in, never touch the listener, and type
/// the redirected URL into ccsetup's stdin.
pub fn answer_paste(decision: Decision) -> OnUrl {
    Arc::new(
        move |url, stdin| match test_browser::consent_blocking(&url, decision) {
            Ok(location) => {
                write_stdin_line(stdin, &location);
                (0, "pasted".into())
            }
            Err(e) => (0, e),
        },
    )
}

/// Writes one line to the child's stdin (if it is still open).
pub fn write_stdin_line(stdin: &StdinHandle, line: &str) {
    if let Some(s) = stdin.lock().unwrap().as_mut() {
        let _ = s.write_all(format!("{line}\n").as_bytes());
        let _ = s.flush();
    }
}

/// Like [`run_with_browser`], but with any answer, and stdin optionally
/// kept open (piped) for the answer to type into.
pub fn run_answering(cmd: Command, keep_stdin_open: bool, on_url: Option<OnUrl>) -> Run {
    run_full(cmd, None, keep_stdin_open, on_url)
}

fn run_full(
    mut cmd: Command,
    initial_stdin: Option<String>,
    keep_stdin_open: bool,
    on_url: Option<OnUrl>,
) -> Run {
    if keep_stdin_open || initial_stdin.is_some() {
        cmd.stdin(Stdio::piped());
    }
    let mut child: Child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ccsetup");
    let mut child_stdin = child.stdin.take();
    if let (Some(text), Some(pipe)) = (initial_stdin, child_stdin.as_mut()) {
        pipe.write_all(text.as_bytes()).unwrap();
    }
    if !keep_stdin_open {
        child_stdin = None;
    }
    let stdin: StdinHandle = Arc::new(Mutex::new(child_stdin));
    let mut stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let callbacks = Arc::new(Mutex::new(Vec::new()));
    let cb = callbacks.clone();
    let stdin_for_answers = stdin.clone();
    let err_thread = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            all.push_str(&line);
            all.push('\n');
            if let (Some(on_url), Some(url)) = (on_url.clone(), authorize_url_in(&line)) {
                let (cb, stdin) = (cb.clone(), stdin_for_answers.clone());
                std::thread::spawn(move || {
                    let result = on_url(url, &stdin);
                    cb.lock().unwrap().push(result);
                });
            }
        }
        all
    });
    let status = wait_bounded(&mut child, Duration::from_secs(90));
    stdin.lock().unwrap().take();
    let stdout = out_thread.join().unwrap();
    let stderr = err_thread.join().unwrap();
    // Answers still running (e.g. after a timeout) are not waited for.
    std::thread::sleep(Duration::from_millis(50));
    let callbacks = callbacks.lock().unwrap().clone();
    Run {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
        callbacks,
    }
}

/// Waits for `child` at most `limit`, killing it after that.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a command that needs no consent (token, status, reset, link…).
pub fn run_plain(cmd: Command) -> Run {
    run_answering(cmd, false, None)
}

impl TestEnv {
    /// `ccsetup <args>` with the environment of [`TestEnv::cmd`].
    pub fn ccsetup(&self, args: &[&str]) -> Command {
        let mut cmd = self.cmd();
        cmd.args(args);
        cmd
    }

    /// A full non-interactive `init` (authorized, StackOne profile created).
    pub fn init_ok(&self, extra: &[&str]) -> Run {
        let run = self.run(self.init_cmd(extra), Decision::Approve);
        run.assert_code(0);
        run
    }

    /// Replaces (or with `None` removes) one entry of the file store.
    #[cfg(unix)] // only the Unix-only areas use it
    pub fn set_secret(&self, profile: &str, kind: &str, value: Option<&str>) {
        let path = self
            .config_dir()
            .join("secrets")
            .join(format!("{profile}.json"));
        let mut json = self.secrets(profile);
        let map = json.as_object_mut().unwrap();
        match value {
            Some(v) => map.insert(kind.to_string(), serde_json::json!(v)),
            None => map.remove(kind),
        };
        std::fs::write(&path, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    }

    /// Whether the file store of `profile` exists and holds `kind`.
    pub fn has_secret(&self, profile: &str, kind: &str) -> bool {
        let path = self
            .config_dir()
            .join("secrets")
            .join(format!("{profile}.json"));
        path.exists() && self.secret(profile, kind).is_some()
    }

    /// Requests the Constant Contact stand-in received on `path_prefix`.
    pub fn cc_requests(&self, path_prefix: &str) -> Vec<ccsetup::sandbox::RecordedRequest> {
        self.sandbox
            .cc()
            .log()
            .entries()
            .into_iter()
            .filter(|r| r.path.starts_with(path_prefix))
            .collect()
    }

    /// Token-endpoint requests of one kind: `"code"` (a code exchange, not
    /// the secret check's deliberately invalid code), `"secret_check"` or
    /// `"refresh"`.
    pub fn token_requests(&self, kind: &str) -> Vec<ccsetup::sandbox::RecordedRequest> {
        self.cc_requests("/oauth2/default/v1/token")
            .into_iter()
            .filter(|r| {
                let probe = r.contains("ccsetup-secret-check-");
                match kind {
                    "code" => r.contains("grant_type=authorization_code") && !probe,
                    "secret_check" => probe,
                    "refresh" => r.contains("grant_type=refresh_token"),
                    other => panic!("unknown token request kind {other}"),
                }
            })
            .collect()
    }

    /// Requests the StackOne stand-in received.
    pub fn stackone_requests(&self) -> Vec<ccsetup::sandbox::RecordedRequest> {
        self.sandbox.stackone().log().entries()
    }

    /// The refresh token the stand-in issued last.
    pub fn last_issued_refresh_token(&self) -> String {
        self.sandbox
            .cc()
            .issued_refresh_tokens()
            .last()
            .expect("a refresh token was issued")
            .token
            .clone()
    }

    /// A profile set up by a full `init` with the hypothetical write API
    /// (Constant Contact authorized, StackOne profile created): the starting
    /// point of the tests of what later commands do.
    pub fn initialized() -> Self {
        let env = Self::with_hypothetical_write_api();
        env.init_ok(&[]);
        env
    }

    /// [`TestEnv::initialized`], against a StackOne without
    /// `GET /connect_sessions/{id}` (it answers 404): `link --wait` can only
    /// follow the owner's accounts.
    pub fn initialized_without_the_session_endpoint() -> Self {
        let env = Self::with(SandboxOptions {
            stackone: ccsetup::sandbox::stackone::StackOneOptions {
                session_get_refused: Some(404),
                ..ccsetup::sandbox::stackone::StackOneOptions::with_hypothetical_write_api()
            },
            ..Default::default()
        });
        env.init_ok(&[]);
        env
    }

    /// An env (hypothetical write API) whose StackOne creates the first
    /// Connector Profile it is sent and then answers 500, as if the answer
    /// were lost: a retry must find the profile, not make a second.
    pub fn with_a_500_after_the_profile_create() -> Self {
        let env = Self::with_hypothetical_write_api();
        env.sandbox.stackone().inject(
            ccsetup::sandbox::stackone::faults::server_error_after_handling(
                Some("POST"),
                "/connector_profiles",
                1,
            ),
        );
        env
    }

    /// A profile set up by `init --skip-stackone`: Constant Contact only,
    /// for the tests of refreshes, revocations and signals.
    pub fn initialized_without_stackone() -> Self {
        let env = Self::new();
        env.init_ok(&["--skip-stackone"]);
        env
    }

    /// Against StackOne as it is, `init --json` stops (exit 4) for a
    /// Connector Profile made in the dashboard; the user makes one there,
    /// with this app's credentials and the four scopes. Returns its id, for
    /// the caller's `init` to adopt.
    pub fn profile_made_in_the_dashboard(&self) -> String {
        let run = self.run(self.init_cmd(&["--json"]), Decision::Approve);
        run.assert_code(4);
        self.sandbox
            .stackone()
            .fill_dashboard_form(
                &self.app.client_id,
                &self.client_secret(),
                &[
                    "account_read",
                    "contact_data",
                    "campaign_data",
                    "offline_access",
                ],
                &[],
            )
            .unwrap()
    }

    /// A second app registered at the stand-in, its refresh tokens
    /// long-lived (Rotating Refresh Tokens off in the portal), redirecting to
    /// the env's loopback listener.
    pub fn register_long_lived_app(&self) -> RegisteredApp {
        self.sandbox.cc().register_app(
            AppRegistration::new()
                .refresh_kind(ccsetup::sandbox::constant_contact::RefreshKind::LongLived)
                .redirect_uri(format!("http://localhost:{}/callback", self.port)),
        )
    }

    /// The refresh token the stand-in considers live for this app, if any
    /// (the last one issued to this client that is still alive).
    pub fn live_refresh_token(&self) -> Option<String> {
        self.sandbox
            .cc()
            .issued_refresh_tokens()
            .into_iter()
            .filter(|t| t.alive && t.client_id == self.app.client_id)
            .map(|t| t.token)
            .last()
    }

    /// Whether the stand-in still accepts `refresh_token`.
    pub fn refresh_token_alive(&self, refresh_token: &str) -> bool {
        self.sandbox
            .cc()
            .issued_refresh_tokens()
            .iter()
            .any(|t| t.token == refresh_token && t.alive)
    }
}

/// `init --non-interactive` for `app`, another app than the env's own
/// (its client id and secret), with the env's StackOne key.
pub fn init_for(env: &TestEnv, app: &RegisteredApp, extra: &[&str]) -> Command {
    let mut cmd = env.cmd();
    cmd.args(["init", "--non-interactive", "--client-id", &app.client_id])
        .args(extra)
        .env("CC_CLIENT_SECRET", app.secret())
        .env("STACKONE_API_KEY", env.stackone_key());
    cmd
}

/// The check called `name` in a `status --json` or `doctor --json` answer.
pub fn status_check<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check in {json}"))
}

/// All that a child wrote to one of its piped streams (`child.stderr.take()`),
/// read to the end: call it once the child has exited.
pub fn read_piped(stream: Option<impl Read>) -> String {
    let mut text = String::new();
    stream
        .expect("the stream was piped")
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Asserts that none of `secrets` occurs in the run's output.
#[track_caller]
pub fn assert_no_secret_in(run: &Run, secrets: &[&str]) {
    let all = run.all_output();
    for s in secrets {
        assert!(
            !s.is_empty() && !all.contains(s),
            "a secret ({}…) was printed:\n{all}",
            &s[..s.len().min(6)]
        );
    }
}

/// The part of stderr from the final `error:` line on.
pub fn error_text(run: &Run) -> String {
    run.stderr
        .rfind("error: ")
        .map(|i| run.stderr[i..].to_string())
        .unwrap_or_default()
}

/// Runs `cmd`, approving consent, and sends SIGTERM (via `kill`) as soon as
/// a stderr line contains `marker`. Returns the exit code and stderr.
pub fn terminate_after(cmd: Command, marker: &'static str) -> (Option<i32>, String) {
    let mut cmd = cmd;
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ccsetup");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        let mut reader = BufReader::new(stderr);
        let mut line = String::new();
        while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
            if let Some(url) = authorize_url_in(&line) {
                std::thread::spawn(move || {
                    let _ = test_browser::consent_blocking(&url, Decision::Approve)
                        .and_then(|loc| test_browser::deliver_blocking(&loc));
                });
            }
            if line.contains(marker) {
                let _ = tx.send(());
            }
            all.push_str(&line);
            line.clear();
        }
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        all + &rest
    });
    let saw_marker = rx.recv_timeout(Duration::from_secs(60)).is_ok();
    if saw_marker {
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    } else {
        let _ = child.kill();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stderr = reader.join().unwrap();
    assert!(saw_marker, "never saw {marker:?}:\n{stderr}");
    (status.and_then(|s| s.code()), stderr)
}
