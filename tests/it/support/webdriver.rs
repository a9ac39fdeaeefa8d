//! A real browser for tests: Debian's `chromium`, headless, driven by its
//! `chromedriver` over W3C WebDriver (plain JSON over HTTP, through the
//! reqwest the crate already has: fantoccini and thirtyfour would bring a
//! second version of crates already in the tree).
//!
//! Every wait is bounded. A step that fails — and any panic while a
//! [`Browser`] is alive — keeps a screenshot and the page's HTML under
//! `target/browser-artifacts/`, and the failure names the files.
//!
//! Missing `chromium` / `chromium-driver` fail the test with the package
//! names, unless `CCSETUP_SKIP_BROWSER_TESTS=1`.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// Skips the browser tests (machines without Chromium).
pub const SKIP_ENV: &str = "CCSETUP_SKIP_BROWSER_TESTS";

/// Longest wait for a page, an element or a text.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// The W3C name of an element reference in JSON.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Flags Chromium needs as root in a container, on a closed network: no
/// sandbox, no GPU, no /dev/shm, and none of the background connections
/// (updates, sync, QUIC probes) that such a network refuses.
const CHROMIUM_FLAGS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// A headless Chromium session; ended (and its driver stopped) on drop.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    http: reqwest::Client,
    session: String,
    base: String,
    driver: Child,
    profile_dir: tempfile::TempDir,
    test: String,
    artifacts_kept: Cell<bool>,
}

/// An element found on the current page.
#[derive(Clone)]
pub struct Element {
    id: String,
    css: String,
}

/// `$env` when set (a path), else the first of `names` on PATH or where
/// Debian puts them.
fn find_program(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([
            PathBuf::from("/usr/bin"),
            PathBuf::from("/usr/lib/chromium"),
        ])
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

impl Browser {
    /// Starts chromedriver and a fresh Chromium session for test `test`
    /// (its name goes into the artifacts' file names). `None` when the
    /// browser tests are skipped.
    pub fn start(test: &str) -> Option<Browser> {
        if std::env::var(SKIP_ENV).as_deref() == Ok("1") {
            eprintln!("skipped: {SKIP_ENV}=1");
            return None;
        }
        let chromium = find_program("CHROMIUM", &["chromium", "chromium-browser"]);
        let driver = find_program("CHROMEDRIVER", &["chromedriver"]);
        let (Some(chromium), Some(driver)) = (chromium, driver) else {
            panic!(
                "the browser tests need Chromium and its WebDriver: install the Debian packages \
                 `chromium` and `chromium-driver` (apt-get install chromium chromium-driver; \
                 .ci/run does), or set {SKIP_ENV}=1 to skip them"
            );
        };
        let port = crate::support::e2e::free_port();
        let driver = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver.display()));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let http = ccsetup::http::client().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            rt,
            http,
            session: String::new(),
            base,
            driver,
            profile_dir: profile,
            test: test.to_string(),
            artifacts_kept: Cell::new(false),
        };
        browser.wait_until_driver_ready();
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|f| f.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            browser.profile_dir.path().display()
        ));
        args.push("--window-size=1000,900".into());
        let created = browser.call(
            "POST",
            "/session",
            Some(json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args},
            }}})),
        );
        browser.session = match created {
            Ok(v) => v["sessionId"].as_str().unwrap_or_default().to_string(),
            Err(e) => panic!("Chromium did not start under chromedriver: {e}"),
        };
        assert!(!browser.session.is_empty(), "no WebDriver session id");
        Some(browser)
    }

    fn wait_until_driver_ready(&self) {
        let started = Instant::now();
        loop {
            if let Ok(v) = self.call("GET", "/status", None)
                && v["ready"] == true
            {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not get ready within 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// One WebDriver command: its `value`, or the error WebDriver named.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => self
                .http
                .post(&url)
                .json(&body.unwrap_or_else(|| json!({}))),
        };
        self.rt.block_on(async {
            let resp = request
                .timeout(Duration::from_secs(60))
                .send()
                .await
                .map_err(|e| format!("{method} {path}: {e}"))?;
            let ok = resp.status().is_success();
            let answer: Value = resp
                .json()
                .await
                .map_err(|e| format!("{method} {path}: {e}"))?;
            let value = answer.get("value").cloned().unwrap_or(Value::Null);
            if ok {
                Ok(value)
            } else {
                Err(format!(
                    "{method} {path}: {} — {}",
                    value["error"].as_str().unwrap_or("error"),
                    value["message"]
                        .as_str()
                        .unwrap_or("")
                        .lines()
                        .next()
                        .unwrap_or("")
                ))
            }
        })
    }

    fn session_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    /// Fails the test with `what`, keeping a screenshot and the page.
    #[track_caller]
    pub fn fail(&self, what: impl std::fmt::Display) -> ! {
        let kept = self.keep_artifacts();
        panic!("{what}\n(browser at {}; {kept})", self.current_url());
    }

    /// Saves a screenshot and the page's HTML; says where.
    pub fn keep_artifacts(&self) -> String {
        self.artifacts_kept.set(true);
        let dir = artifacts_dir();
        if let Err(e) = std::fs::create_dir_all(&dir) {
            return format!("no artifacts: {}: {e}", dir.display());
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let stem = dir.join(format!("{}-{stamp}", self.test.replace("::", "-")));
        let png = stem.with_extension("png");
        let html = stem.with_extension("html");
        let mut kept = Vec::new();
        if let Ok(shot) = self.session_call("GET", "/screenshot", None)
            && let Some(b64) = shot.as_str()
            && let Ok(bytes) =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
            && std::fs::write(&png, bytes).is_ok()
        {
            kept.push(format!("screenshot {}", png.display()));
        }
        if let Ok(source) = self.session_call("GET", "/source", None)
            && std::fs::write(&html, source.as_str().unwrap_or_default()).is_ok()
        {
            kept.push(format!("page {}", html.display()));
        }
        if kept.is_empty() {
            "no screenshot could be taken".into()
        } else {
            kept.join(", ")
        }
    }

    /// Opens `url` and waits for the page to load.
    #[track_caller]
    pub fn goto(&self, url: &str) {
        if let Err(e) = self.session_call("POST", "/url", Some(json!({ "url": url }))) {
            self.fail(format!("could not open {url}: {e}"));
        }
    }

    pub fn current_url(&self) -> String {
        self.session_call("GET", "/url", None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    pub fn title(&self) -> String {
        self.session_call("GET", "/title", None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Reloads the current page (as the browser's reload button does).
    pub fn refresh(&self) {
        if let Err(e) = self.session_call("POST", "/refresh", None) {
            self.fail(format!("could not reload: {e}"));
        }
    }

    fn try_find(&self, css: &str) -> Option<Element> {
        let found = self
            .session_call(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .ok()?;
        found[ELEMENT_KEY].as_str().map(|id| Element {
            id: id.to_string(),
            css: css.to_string(),
        })
    }

    /// The element `css` selects, waiting (bounded) for it to appear.
    #[track_caller]
    pub fn find(&self, css: &str) -> Element {
        let started = Instant::now();
        loop {
            if let Some(e) = self.try_find(css) {
                return e;
            }
            if started.elapsed() > STEP_TIMEOUT {
                self.fail(format!(
                    "no element {css:?} on the page {:?} within {STEP_TIMEOUT:?}",
                    self.title()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clicks `css` (waits for it first).
    #[track_caller]
    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.click_element(&element);
    }

    #[track_caller]
    pub fn click_element(&self, element: &Element) {
        let path = format!("/element/{}/click", element.id);
        if let Err(e) = self.session_call("POST", &path, None) {
            self.fail(format!("could not click {:?}: {e}", element.css));
        }
    }

    /// The handle of the window (tab) commands go to.
    pub fn current_window(&self) -> String {
        self.session_call("GET", "/window", None)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Clicks `css` and, when that opened a new tab or window, switches to
    /// it. Returns the handle of the window the click started in.
    #[track_caller]
    pub fn click_following_new_tab(&self, css: &str) -> String {
        let before = self.window_handles();
        let current = self.current_window();
        self.click(css);
        // A new tab appears asynchronously: give it a moment.
        let started = Instant::now();
        while started.elapsed() < Duration::from_millis(1500) {
            if let Some(new) = self
                .window_handles()
                .into_iter()
                .find(|h| !before.contains(h))
            {
                self.switch_to_window(&new);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        current
    }

    fn window_handles(&self) -> Vec<String> {
        self.session_call("GET", "/window/handles", None)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    #[track_caller]
    pub fn switch_to_window(&self, handle: &str) {
        if let Err(e) = self.session_call("POST", "/window", Some(json!({ "handle": handle }))) {
            self.fail(format!("could not switch to window {handle}: {e}"));
        }
    }

    /// Closes the current tab if others are open, and switches to `back_to`.
    pub fn close_tab_and_return(&self, back_to: &str) {
        if self.current_window() != back_to {
            let _ = self.session_call("DELETE", "/window", None);
            self.switch_to_window(back_to);
        }
    }

    /// Types `text` into the field `css`, replacing what it held.
    #[track_caller]
    pub fn fill(&self, css: &str, text: &str) {
        let element = self.find(css);
        let clear = format!("/element/{}/clear", element.id);
        let keys = format!("/element/{}/value", element.id);
        if let Err(e) = self
            .session_call("POST", &clear, None)
            .and_then(|_| self.session_call("POST", &keys, Some(json!({ "text": text }))))
        {
            self.fail(format!("could not type into {css:?}: {e}"));
        }
    }

    /// The visible text of `css`.
    #[track_caller]
    pub fn text(&self, css: &str) -> String {
        let element = self.find(css);
        let path = format!("/element/{}/text", element.id);
        match self.session_call("GET", &path, None) {
            Ok(v) => v.as_str().unwrap_or_default().to_string(),
            Err(e) => self.fail(format!("could not read {css:?}: {e}")),
        }
    }

    /// The current value of the form field `css` (what a person would copy
    /// from it).
    #[track_caller]
    pub fn value(&self, css: &str) -> String {
        let element = self.find(css);
        let path = format!("/element/{}/property/value", element.id);
        match self.session_call("GET", &path, None) {
            Ok(v) => v.as_str().unwrap_or_default().to_string(),
            Err(e) => self.fail(format!("could not read the value of {css:?}: {e}")),
        }
    }

    /// Waits (bounded) until the page's visible text contains `text`.
    #[track_caller]
    pub fn expect_text(&self, text: &str) {
        let started = Instant::now();
        loop {
            let body = self
                .try_find("body")
                .and_then(|b| {
                    self.session_call("GET", &format!("/element/{}/text", b.id), None)
                        .ok()
                })
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            if body.contains(text) {
                return;
            }
            if started.elapsed() > STEP_TIMEOUT {
                self.fail(format!("the page never showed {text:?}; it shows:\n{body}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking() && !self.artifacts_kept.get() && !self.session.is_empty() {
            eprintln!(
                "browser at {} when the test failed; {}",
                self.current_url(),
                self.keep_artifacts()
            );
        }
        if !self.session.is_empty() {
            let _ = self.call("DELETE", &format!("/session/{}", self.session), None);
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// `target/browser-artifacts`, next to the tests' `target/tmp`.
pub fn artifacts_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new("target"))
        .join("browser-artifacts")
}
