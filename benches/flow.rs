//! `cargo bench`: the real `ccsetup` binary against the in-process stand-ins.
//!
//! A hand-written timing loop (no criterion: every sample is a whole process
//! of several milliseconds, so criterion's statistics buy little, and it
//! would add ~40 crates to every `cargo bench` build on a 2-core machine).
//!
//! Scenarios, each run N times after one warm-up (fresh stand-ins and a
//! fresh config dir for every `init`):
//! - `init --non-interactive --store file --skip-stackone`
//! - the same with StackOne (the Connector Profile created over StackOne's
//!   HYPOTHETICAL write API, which [`Env::new`] switches on by name: the
//!   dashboard path waits on a person, so it has no time to measure)
//! - `token` answered from the cached access token (file store; also the
//!   Secret Service store with `CCSETUP_BENCH_KEYRING=1` inside a private
//!   D-Bus session with an unlocked gnome-keyring), interleaved with
//!   `--version` and with `gh auth token` (`GH_TOKEN` set) as the yardstick
//! - `token --force-refresh` (a refresh grant against the stand-in)
//!
//! Per run: wall time from spawn to exit; the child's CPU time and peak RSS
//! (`wait4` rusage); the stand-ins' own time (the sandbox request log's
//! timings: from a request's head arriving to its answer being ready); for
//! `init`, the consent simulation (from the authorization URL appearing on
//! stderr to the test browser holding the redirect, during which ccsetup
//! only waits). "CLI overhead" = wall − stand-ins (outside the consent
//! window) − consent simulation: process start, TLS/HTTP set-up, loopback
//! transport, the file store, output. Loopback transport and the stand-ins'
//! HTTP parsing are counted as ccsetup's, so the figure errs high.
//!
//! - `latency`: `status`, `doctor` and `init` (its checks before the browser,
//!   and whole) with every stand-in answer delayed by 0 and 200 ms, like a
//!   round trip to the real services; prints the requests made, the wall
//!   time, and its ratio to the scenario's longest chain of dependent
//!   requests (what a perfect overlap of independent requests would take).
//!
//! Environment: `CCSETUP_BENCH_RUNS` (default 15), `CCSETUP_BENCH_BIN` (a
//! binary to measure instead of the one cargo built for this bench, e.g. the
//! `panic = "abort"` release binary: cargo builds bench dependencies with
//! unwinding), `CCSETUP_BENCH_GH` (the `gh` to compare with),
//! `CCSETUP_BENCH_KEYRING=1` (also the Secret Service store: run the bench
//! through `tests/it/support/secret-service-session.sh`, see
//! docs/performance.md). A non-flag argument filters scenarios by name
//! (`cargo bench --bench flow -- token`).

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ccsetup::sandbox::constant_contact::AppRegistration;
use ccsetup::sandbox::test_browser::{self, Decision};
use ccsetup::sandbox::{RequestTiming, Sandbox, SandboxOptions};

/// The longest one run may take before it is killed and the bench fails.
const RUN_DEADLINE: Duration = Duration::from_secs(60);

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let runs: usize = std::env::var("CCSETUP_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(15);
    let bin = std::env::var("CCSETUP_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_ccsetup").to_string());
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));

    println!("ccsetup flow benchmark: {bin}");
    println!(
        "{runs} runs per scenario after 1 warm-up; 2 shared cores, so wall times are noisy: \
         medians and p90 are reported"
    );
    let mut report = Report::default();

    if wanted("init-skip-stackone") {
        let samples = repeat(runs, || init_run(&bin, true));
        report.scenario("init-skip-stackone", &samples);
    }
    if wanted("init-stackone") {
        let samples = repeat(runs, || init_run(&bin, false));
        report.scenario("init-stackone", &samples);
    }
    if wanted("token-cache") || wanted("token-force-refresh") {
        // One set-up serves every token run.
        let env = Env::new();
        let setup = env.init(&bin, true);
        assert_eq!(
            setup.code, 0,
            "init for the token runs failed:\n{}",
            setup.stderr
        );
        if wanted("token-cache") {
            token_cache_report(&mut report, &env, &bin, runs);
        }
        if wanted("token-force-refresh") {
            let samples = repeat(runs, || env.token(&bin, true));
            report.scenario("token-force-refresh", &samples);
        }
    }
    report.print();
    if wanted("latency") {
        latency_report(&bin, runs.min(5));
    }
}

/// `token` from the cache (file store; and the Secret Service store when
/// the bench runs inside a private D-Bus session with an unlocked keyring,
/// `CCSETUP_BENCH_KEYRING=1`), `--version`, and `gh auth token` with
/// `GH_TOKEN` set as the yardstick (`CCSETUP_BENCH_GH`, else `gh` on PATH;
/// left out when there is none). Interleaved run by run, so load drifts hit
/// all alike.
fn token_cache_report(report: &mut Report, env: &Env, bin: &str, runs: usize) {
    let gh = gh_binary();
    let keyring_env = (std::env::var("CCSETUP_BENCH_KEYRING").as_deref() == Ok("1")).then(|| {
        let env = Env::new().with_keyring();
        let setup = env.init_with_store(bin, true, "keyring");
        assert_eq!(
            setup.code, 0,
            "init --store keyring failed:\n{}",
            setup.stderr
        );
        env
    });
    let mut token = Vec::new();
    let mut keyring = Vec::new();
    let mut version = Vec::new();
    let mut gh_token = Vec::new();
    for i in 0..=runs {
        let warm_up = i == 0;
        let keep = |into: &mut Vec<Sample>, sample: Sample| {
            if !warm_up {
                into.push(sample);
            }
        };
        keep(&mut token, env.token(bin, false));
        if let Some(k) = &keyring_env {
            keep(&mut keyring, k.token(bin, false));
        }
        keep(&mut version, version_run(bin));
        if let Some(gh) = &gh {
            keep(&mut gh_token, gh_auth_token_run(gh));
        }
    }
    report.scenario("token-cache", &token);
    if keyring_env.is_some() {
        report.scenario("token-cache-keyring", &keyring);
    }
    report.scenario("version", &version);
    if gh.is_some() {
        report.scenario("gh-auth-token", &gh_token);
        let cpu =
            |samples: &[Sample]| stats(samples.iter().map(|s| s.cpu.as_secs_f64()).collect())[0];
        report.ratio(
            "token-cache.cpu/gh-auth-token.cpu",
            cpu(&token) / cpu(&gh_token),
        );
        if keyring_env.is_some() {
            report.ratio(
                "token-cache-keyring.cpu/gh-auth-token.cpu",
                cpu(&keyring) / cpu(&gh_token),
            );
        }
        report.ratio(
            "version.cpu/gh-auth-token.cpu",
            cpu(&version) / cpu(&gh_token),
        );
    } else {
        eprintln!("  no gh: set CCSETUP_BENCH_GH or install gh to compare with `gh auth token`");
    }
}

/// `gh`, if one runs: `CCSETUP_BENCH_GH`, else the one on PATH.
fn gh_binary() -> Option<String> {
    let gh = std::env::var("CCSETUP_BENCH_GH").unwrap_or_else(|_| "gh".into());
    Command::new(&gh)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        .then_some(gh)
}

/// `gh auth token` answering from `GH_TOKEN` (no network, a throwaway
/// config dir): what a CLI printing a stored token costs elsewhere.
fn gh_auth_token_run(gh: &str) -> Sample {
    let config = tempfile::tempdir().expect("temp dir");
    let mut cmd = Command::new(gh);
    cmd.env_clear()
        .envs(std::env::var_os("PATH").map(|p| ("PATH", p)))
        .env("GH_TOKEN", "ghp_benchmark0000000000000000000000000000")
        .env("GH_CONFIG_DIR", config.path())
        .env("NO_COLOR", "1")
        .args(["auth", "token"])
        .stdin(Stdio::null());
    let run = run(cmd, false);
    assert_eq!(run.code, 0, "gh auth token failed:\n{}", run.stderr);
    run.sample(&[])
}

/// `ccsetup --version`.
fn version_run(bin: &str) -> Sample {
    let mut cmd = Command::new(bin);
    cmd.env_clear()
        .envs(std::env::var_os("PATH").map(|p| ("PATH", p)))
        .arg("--version")
        .stdin(Stdio::null());
    let run = run(cmd, false);
    assert_eq!(run.code, 0, "--version failed:\n{}", run.stderr);
    run.sample(&[])
}

/// One latency scenario: its arguments and its longest chain of dependent
/// requests (the floor that overlapping independent requests can reach).
struct LatencyScenario {
    name: &'static str,
    args: &'static [&'static str],
    /// Requests that must follow one another (each needs the previous answer).
    chain: u32,
}

const LATENCY_SCENARIOS: [LatencyScenario; 2] = [
    // A cached access token: the account call, the StackOne profile and
    // accounts lists and the app checks are all independent.
    LatencyScenario {
        name: "status",
        args: &["status", "--json"],
        chain: 1,
    },
    // The clock and the four endpoint checks are independent.
    LatencyScenario {
        name: "doctor",
        args: &["doctor", "--json"],
        chain: 1,
    },
];

/// Before the browser: the StackOne key check and the two registration
/// probes at once, then the Client Secret probe (on purpose: no token
/// request for an unknown API Key or redirect URI): a chain of 2.
const INIT_PRE_BROWSER_CHAIN: u32 = 2;
/// The whole `init`: the checks before the browser (2); the test browser's
/// authorize, sign-in and approve (3); the code exchange (1); the account
/// check (1); the refresh-type check (1); the StackOne list and create (2).
const INIT_WHOLE_CHAIN: u32 = 10;

fn latency_report(bin: &str, runs: usize) {
    let env = Env::new();
    let setup = env.init(bin, false);
    assert_eq!(
        setup.code, 0,
        "init for the latency runs failed:\n{}",
        setup.stderr
    );
    println!();
    println!(
        "latency: {runs} runs each; ratio = (wall at 200 ms − wall at 0 ms) / (chain × 200 ms)"
    );
    println!(
        "{:<18} {:>7} {:>9} {:>12} {:>10} {:>6} {:>6}",
        "scenario", "delay", "requests", "connections", "wall ms", "chain", "ratio"
    );
    let mut zero_wall = std::collections::HashMap::new();
    for delay_ms in [0u64, 200] {
        env.sandbox.set_latency(Duration::from_millis(delay_ms));
        let mut row = |name: &str,
                       requests: usize,
                       connections: usize,
                       walls: Vec<f64>,
                       chain: u32| {
            let [median, _, _] = stats(walls);
            let ratio = if delay_ms == 0 {
                zero_wall.insert(name.to_string(), median);
                "-".to_string()
            } else {
                let local = zero_wall.get(name).copied().unwrap_or(0.0);
                format!(
                    "{:.2}",
                    (median - local) / (f64::from(chain) * delay_ms as f64)
                )
            };
            println!(
                "{name:<18} {delay_ms:>5}ms {requests:>9} {connections:>12} {median:>10.1} {chain:>6} {ratio:>6}"
            );
            println!(
                "summary latency.{name}.{delay_ms}ms wall_median={median:.1} requests={requests} connections={connections} ratio={ratio}"
            );
        };
        for scenario in &LATENCY_SCENARIOS {
            let (mut walls, mut requests, mut connections) = (Vec::new(), 0, 0);
            for _ in 0..runs {
                env.sandbox.cc().log().clear();
                env.sandbox.stackone().log().clear();
                let before = env.sandbox.connections_accepted();
                let mut cmd = env.cmd(bin);
                cmd.args(scenario.args)
                    .env("STACKONE_API_KEY", env.sandbox.stackone().api_key());
                let run = run(cmd, false);
                assert_eq!(run.code, 0, "{} failed:\n{}", scenario.name, run.stderr);
                walls.push(run.wall.as_secs_f64() * 1e3);
                requests = env.sandbox.all_requests().len();
                connections = env.sandbox.connections_accepted() - before;
            }
            row(scenario.name, requests, connections, walls, scenario.chain);
        }
        let (mut pre, mut whole) = (Vec::new(), Vec::new());
        let (mut pre_requests, mut requests, mut connections) = (0, 0, 0);
        for _ in 0..runs {
            let before = env.sandbox.connections_accepted();
            let run = env.init(bin, false);
            assert_eq!(run.code, 0, "init failed:\n{}", run.stderr);
            let (seen, _) = run.consent.expect("init showed the authorization URL");
            pre.push((seen - run.started).as_secs_f64() * 1e3);
            whole.push(run.wall.as_secs_f64() * 1e3);
            let timings = env.timings();
            pre_requests = timings.iter().filter(|t| t.started < seen).count();
            requests = timings.len();
            connections = env.sandbox.connections_accepted() - before;
        }
        row(
            "init-pre-browser",
            pre_requests,
            connections,
            pre,
            INIT_PRE_BROWSER_CHAIN,
        );
        row("init-whole", requests, connections, whole, INIT_WHOLE_CHAIN);
    }
}

fn repeat(runs: usize, mut one: impl FnMut() -> Sample) -> Vec<Sample> {
    let _warm_up = one();
    (0..runs).map(|_| one()).collect()
}

fn init_run(bin: &str, skip_stackone: bool) -> Sample {
    let env = Env::new();
    let run = env.init(bin, skip_stackone);
    assert_eq!(run.code, 0, "init failed:\n{}", run.stderr);
    if !skip_stackone {
        assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
    }
    run.sample(&env.timings())
}

/// Fresh stand-ins, a registered app and a private config dir.
struct Env {
    sandbox: Sandbox,
    config: tempfile::TempDir,
    client_id: String,
    client_secret: String,
    port: u16,
    /// Whether the run's Secret Service session is passed to the binary.
    keyring: bool,
}

impl Env {
    /// With StackOne's HYPOTHETICAL profile-write API on, so `init` makes
    /// the profile without a person at the dashboard.
    fn new() -> Self {
        let sandbox =
            Sandbox::start(SandboxOptions::with_hypothetical_write_api()).expect("sandbox starts");
        let port = free_port();
        let app = sandbox.cc().register_app(
            AppRegistration::new().redirect_uri(format!("http://localhost:{port}/callback")),
        );
        Env {
            client_id: app.client_id.clone(),
            client_secret: app.secret().to_string(),
            sandbox,
            config: tempfile::tempdir().expect("temp dir"),
            port,
            keyring: false,
        }
    }

    /// Passes the bench's D-Bus session and XDG dirs to the binary, for
    /// the Secret Service store.
    fn with_keyring(mut self) -> Self {
        self.keyring = true;
        self
    }

    /// The binary with nothing inherited but `PATH`, pointed at the stand-ins.
    fn cmd(&self, bin: &str) -> Command {
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .envs(std::env::var_os("PATH").map(|p| ("PATH", p)))
            .envs(self.sandbox.env())
            .env("CCSETUP_CONFIG_DIR", self.config.path())
            .env("CCSETUP_NO_BROWSER", "1")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null());
        if self.keyring {
            for name in [
                "DBUS_SESSION_BUS_ADDRESS",
                "XDG_RUNTIME_DIR",
                "XDG_DATA_HOME",
                "XDG_CONFIG_HOME",
                "XDG_CACHE_HOME",
            ] {
                if let Some(value) = std::env::var_os(name) {
                    cmd.env(name, value);
                }
            }
        }
        cmd
    }

    fn init(&self, bin: &str, skip_stackone: bool) -> Run {
        self.init_with_store(bin, skip_stackone, "file")
    }

    fn init_with_store(&self, bin: &str, skip_stackone: bool, store: &str) -> Run {
        let mut cmd = self.cmd(bin);
        cmd.args(["init", "--non-interactive", "--store", store, "--json"])
            .args(["--client-id", &self.client_id])
            .args(["--redirect-port", &self.port.to_string()])
            .env("CC_CLIENT_SECRET", &self.client_secret);
        if skip_stackone {
            cmd.arg("--skip-stackone");
        } else {
            cmd.env("STACKONE_API_KEY", self.sandbox.stackone().api_key());
        }
        self.sandbox.cc().log().clear();
        self.sandbox.stackone().log().clear();
        run(cmd, true)
    }

    fn token(&self, bin: &str, force_refresh: bool) -> Sample {
        let mut cmd = self.cmd(bin);
        cmd.arg("token");
        if force_refresh {
            cmd.arg("--force-refresh");
        }
        self.sandbox.cc().log().clear();
        self.sandbox.stackone().log().clear();
        let run = run(cmd, false);
        assert_eq!(run.code, 0, "token failed:\n{}", run.stderr);
        assert!(!run.stdout.trim().is_empty(), "token printed nothing");
        let timings = self.timings();
        if !force_refresh {
            assert!(timings.is_empty(), "a cached token must not call out");
        }
        run.sample(&timings)
    }

    fn timings(&self) -> Vec<RequestTiming> {
        let mut all = self.sandbox.cc().log().timings();
        all.extend(self.sandbox.stackone().log().timings());
        all
    }
}

/// A loopback port free right now on IPv4 and (if present) IPv6 loopback.
fn free_port() -> u16 {
    loop {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let port = l.local_addr().expect("local addr").port();
        if std::net::TcpListener::bind(("::1", port)).is_ok()
            || std::net::TcpListener::bind(("::1", 0)).is_err()
        {
            return port;
        }
    }
}

/// One finished process.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    started: Instant,
    wall: Duration,
    cpu: Duration,
    max_rss_kib: u64,
    /// The consent simulation: URL seen on stderr .. redirect in hand.
    consent: Option<(Instant, Instant)>,
}

impl Run {
    fn sample(&self, timings: &[RequestTiming]) -> Sample {
        let in_consent = |t: &RequestTiming| {
            self.consent
                .is_some_and(|(from, to)| t.started >= from && t.started <= to)
        };
        let stand_ins: Duration = timings
            .iter()
            .filter(|t| t.started >= self.started && !in_consent(t))
            .map(|t| t.took)
            .sum();
        let consent = self.consent.map_or(Duration::ZERO, |(from, to)| to - from);
        Sample {
            wall: self.wall,
            cpu: self.cpu,
            max_rss_kib: self.max_rss_kib,
            stand_ins,
            consent,
            overhead: self.wall.saturating_sub(stand_ins + consent),
        }
    }
}

/// Spawns `cmd`, plays the browser if `browser`, waits with `wait4`.
fn run(mut cmd: Command, browser: bool) -> Run {
    let started = Instant::now();
    #[allow(clippy::zombie_processes, reason = "reaped by wait4 below")]
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ccsetup");
    let pid = child.id() as libc::pid_t;
    let mut stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let out_thread = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let (consent_tx, consent_rx) = mpsc::channel();
    let err_thread = std::thread::spawn(move || {
        let mut all = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if browser && let Some(url) = authorize_url_in(&line) {
                let seen = Instant::now();
                let tx = consent_tx.clone();
                // Off the reading thread, so stderr keeps draining.
                std::thread::spawn(move || {
                    let location = test_browser::consent_blocking(&url, Decision::Approve);
                    let done = Instant::now();
                    let delivered = location.and_then(|l| test_browser::deliver_blocking(&l));
                    let _ = tx.send((seen, done, delivered));
                });
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });

    // A watchdog: a run that hangs is killed, and the bench fails.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(RUN_DEADLINE).is_err() {
            // SAFETY: plain syscall; the child is not reaped yet.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value; wait4 fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; std's Child is not waited on after.
    let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    assert_eq!(rc, pid, "wait4: {}", std::io::Error::last_os_error());

    let stdout = out_thread.join().expect("stdout reader");
    let stderr = err_thread.join().expect("stderr reader");
    let consent = if browser {
        let (seen, done, delivered) = consent_rx
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_else(|_| panic!("ccsetup never showed an authorization URL:\n{stderr}"));
        let (status, _) = delivered.expect("the test browser delivered the callback");
        assert_eq!(status, 200, "the callback was refused");
        Some((seen, done))
    } else {
        None
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Run {
        code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        stdout,
        stderr,
        started,
        wall,
        cpu: tv(usage.ru_utime) + tv(usage.ru_stime),
        max_rss_kib: usage.ru_maxrss as u64,
        consent,
    }
}

fn authorize_url_in(line: &str) -> Option<String> {
    line.split_whitespace()
        .find(|w| w.contains("/oauth2/default/v1/authorize?"))
        .map(str::to_string)
}

struct Sample {
    wall: Duration,
    cpu: Duration,
    max_rss_kib: u64,
    stand_ins: Duration,
    consent: Duration,
    overhead: Duration,
}

#[derive(Default)]
struct Report {
    rows: Vec<(String, &'static str, [f64; 3], &'static str)>,
    /// Ratios of medians, e.g. ccsetup's CPU against `gh`'s.
    ratios: Vec<(&'static str, f64)>,
}

impl Report {
    fn ratio(&mut self, name: &'static str, value: f64) {
        self.ratios.push((name, value));
    }

    fn scenario(&mut self, name: &str, samples: &[Sample]) {
        let ms = |f: fn(&Sample) -> Duration| -> Vec<f64> {
            samples.iter().map(|s| f(s).as_secs_f64() * 1e3).collect()
        };
        let mut add = |metric: &'static str, values: Vec<f64>, unit: &'static str| {
            self.rows
                .push((name.to_string(), metric, stats(values), unit));
        };
        add("wall", ms(|s| s.wall), "ms");
        add("cpu", ms(|s| s.cpu), "ms");
        if samples.iter().any(|s| !s.stand_ins.is_zero()) {
            add("stand_ins", ms(|s| s.stand_ins), "ms");
        }
        if samples.iter().any(|s| !s.consent.is_zero()) {
            add("consent_sim", ms(|s| s.consent), "ms");
        }
        add("cli_overhead", ms(|s| s.overhead), "ms");
        add(
            "peak_rss",
            samples
                .iter()
                .map(|s| s.max_rss_kib as f64 / 1024.0)
                .collect(),
            "MiB",
        );
        // Progress, as scenarios can take a while.
        eprintln!("  done: {name} ({} runs)", samples.len());
    }

    fn print(&self) {
        println!();
        println!(
            "{:<22} {:<13} {:>9} {:>9} {:>9}",
            "scenario", "metric", "median", "p90", "min"
        );
        for (name, metric, [median, p90, min], unit) in &self.rows {
            println!("{name:<22} {metric:<13} {median:>9.2} {p90:>9.2} {min:>9.2} {unit}");
        }
        println!();
        for (name, value) in &self.ratios {
            println!("ratio of medians {name}: {value:.3}");
        }
        println!();
        // One line per figure for scripts (scripts/measure-startup.sh).
        for (name, metric, [median, p90, _], unit) in &self.rows {
            println!("summary {name}.{metric} median={median:.3} p90={p90:.3} unit={unit}");
        }
        for (name, value) in &self.ratios {
            println!("summary ratio {name}={value:.4}");
        }
    }
}

/// Median, p90 (nearest rank) and minimum.
fn stats(mut values: Vec<f64>) -> [f64; 3] {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    let p90 = values[(n * 9).div_ceil(10).max(1) - 1];
    [median, p90, values[0]]
}
