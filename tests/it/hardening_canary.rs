//! Secret canaries: every command, at `-vv` (and some at `RUST_LOG=trace`),
//! against the stand-ins, with every secret the run handles collected from
//! the stand-ins' own records and the file store, then searched for in every
//! place a secret must never reach:
//!
//! - stdout and stderr of every run;
//! - `config.toml` and every other file ccsetup leaves in its config dir
//!   (locks, recovery, temp files) — except the secrets file itself;
//! - the arguments of every child process: `$BROWSER` is a script that
//!   records its argv, and the same recorder shadows the usual launcher and
//!   clipboard tools on `PATH` (xdg-open, xclip, …).
//!
//! Two appearances are allowed, and only these:
//! 1. `ccsetup token` prints the access token on its stdout — that is its
//!    purpose (docs/contract.md `token`). Its stdout must be exactly that token.
//! 2. A StackOne connect-session token appears inside the hub link
//!    (`auth_link_url`) that `link` prints and opens: StackOne embeds it in
//!    the link, and handing that link to a customer is `link`'s purpose. The
//!    token must never appear outside that link (no `token` field, no log).
// Unix only: fake browser and clipboard tools are shell scripts recording their argv.
#![cfg(unix)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::e2e::{Run, TestEnv};
use ccsetup::sandbox::stackone::StackOneOptions;
use ccsetup::sandbox::test_browser::Decision;
use ccsetup::sandbox::{RecordedRequest, SandboxOptions};

/// A StackOne API key nobody else uses, accepted by the stand-in.
const STACKONE_KEY: &str = "v1.canary.stackone.k3y-5d9e2a7c41b6f08e";

/// Every child-process launcher ccsetup could reach on Linux, shadowed by the
/// argv recorder.
const SHADOWED_TOOLS: &[&str] = &[
    "xdg-open",
    "x-www-browser",
    "gio",
    "gnome-open",
    "kde-open",
    "wslview",
    "xclip",
    "xsel",
    "wl-copy",
    "clip.exe",
];

/// Secrets seen so far: label (what it is) by value. A value is labelled
/// once, by whoever saw it first.
#[derive(Default)]
struct Canaries(BTreeMap<String, String>);

impl Canaries {
    fn add(&mut self, label: impl Into<String>, value: &str) {
        let label = label.into();
        assert!(
            value.len() >= 12,
            "canary {label} is too short to search for reliably: {value:?}"
        );
        self.0.entry(value.to_string()).or_insert(label);
    }

    /// (label, value) pairs.
    fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(value, label)| (label, value))
    }

    fn labels(&self) -> Vec<&String> {
        self.0.values().collect()
    }
}

struct Harness {
    env: TestEnv,
    bin_dir: tempfile::TempDir,
    argv_log: PathBuf,
    secrets: Canaries,
    /// Hub links printed by `link`: the only place a session token may show.
    hub_links: Vec<String>,
    /// The sinks, each with what was written to it.
    sinks: Vec<(String, String)>,
}

impl Harness {
    fn new() -> Self {
        let options = SandboxOptions {
            stackone: StackOneOptions {
                api_keys: vec![STACKONE_KEY.to_string()],
                ..StackOneOptions::with_hypothetical_write_api()
            },
            ..SandboxOptions::default()
        };
        let env = TestEnv::with(options);
        assert_eq!(env.stackone_key(), STACKONE_KEY);
        let bin_dir = tempfile::tempdir().unwrap();
        let argv_log = bin_dir.path().join("argv.log");
        let recorder = bin_dir.path().join("record-argv");
        std::fs::write(
            &recorder,
            format!(
                "#!/bin/sh\n{{ printf 'exec %s\\n' \"$0\"; for a in \"$@\"; do printf 'arg %s\\n' \"$a\"; done; }} >> '{}'\nexit 0\n",
                argv_log.display()
            ),
        )
        .unwrap();
        make_executable(&recorder);
        for tool in SHADOWED_TOOLS {
            let path = bin_dir.path().join(tool);
            std::fs::copy(&recorder, &path).unwrap();
            make_executable(&path);
        }
        let mut secrets = Canaries::default();
        secrets.add("client secret (initial)", &env.client_secret());
        secrets.add("StackOne API key", STACKONE_KEY);
        Harness {
            env,
            bin_dir,
            argv_log,
            secrets,
            hub_links: Vec::new(),
            sinks: Vec::new(),
        }
    }

    /// The binary with a browser that records its argv (no `--no-browser`),
    /// a PATH whose launchers and clipboard tools record theirs, and `-vv`.
    fn cmd(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.cmd();
        let path = format!(
            "{}:{}",
            self.bin_dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env_remove("CCSETUP_NO_BROWSER")
            .env("BROWSER", self.bin_dir.path().join("record-argv"))
            .env("PATH", path)
            .env("DISPLAY", ":99")
            .args(args)
            .arg("-vv");
        cmd
    }

    /// Runs `cmd` (approving consent), records its output as sinks, and
    /// harvests the secrets the stand-ins issued meanwhile.
    fn run(&mut self, name: &str, cmd: Command, expect: i32) -> Run {
        let run = self.env.run(cmd, Decision::Approve);
        run.assert_code(expect);
        self.sinks
            .push((format!("{name}: stdout"), run.stdout.clone()));
        self.sinks
            .push((format!("{name}: stderr"), run.stderr.clone()));
        self.harvest(name);
        run
    }

    /// Collects every secret now known: the stand-ins' records of what they
    /// issued and received, and what the file store holds.
    fn harvest(&mut self, after: &str) {
        let cc = self.env.sandbox.cc();
        if let Some(secret) = cc
            .app(&self.env.app.client_id)
            .and_then(|a| a.client_secret)
        {
            self.secrets.add("client secret (current)", &secret);
        }
        for (i, t) in cc.issued_refresh_tokens().iter().enumerate() {
            self.secrets.add(format!("refresh token #{i}"), &t.token);
        }
        // Token responses: every access token (and refresh token) issued.
        for r in cc.responses() {
            let body = String::from_utf8_lossy(&r.body).to_string();
            if r.status == 200
                && let Ok(json) = serde_json::from_str::<serde_json::Value>(&body)
            {
                for field in ["access_token", "refresh_token", "id_token"] {
                    if let Some(v) = json[field].as_str() {
                        self.secrets.add(format!("{field} {}", short(v)), v);
                    }
                }
            }
            // The authorization code, in the consent redirect's Location.
            for (name, value) in &r.headers {
                if name.eq_ignore_ascii_case("location")
                    && let Ok(url) = url::Url::parse(value)
                    && let Some((_, code)) = url.query_pairs().find(|(k, _)| k == "code")
                {
                    self.secrets
                        .add(format!("authorization code {}", short(&code)), &code);
                }
            }
        }
        // PKCE verifiers, from the code exchanges ccsetup sent.
        for req in cc.log().entries() {
            if let Some(v) = form_param(&req, "code_verifier") {
                self.secrets.add(format!("PKCE verifier {}", short(&v)), &v);
            }
        }
        // Connect sessions: the session token and the trigger token.
        for r in self.env.sandbox.stackone().responses() {
            if r.method == "POST"
                && r.path.starts_with("/connect_sessions")
                && let Ok(json) = serde_json::from_slice::<serde_json::Value>(&r.body)
            {
                if let Some(t) = json["token"].as_str() {
                    self.secrets
                        .add(format!("connect session token {}", short(t)), t);
                }
                if let Some(t) = json["external_trigger_token"].as_str() {
                    self.secrets
                        .add(format!("external trigger token {}", short(t)), t);
                }
                if let Some(link) = json["auth_link_url"].as_str()
                    && !self.hub_links.iter().any(|l| l == link)
                {
                    self.hub_links.push(link.to_string());
                }
            }
        }
        // The file store: whatever it holds is secret.
        let store = self.env.config_dir().join("secrets").join("default.json");
        if let Ok(text) = std::fs::read_to_string(&store) {
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            for (kind, value) in json.as_object().unwrap() {
                let value = value.as_str().unwrap();
                if kind == "access_token" {
                    let inner: serde_json::Value = serde_json::from_str(value).unwrap();
                    let t = inner["access_token"].as_str().unwrap();
                    self.secrets
                        .add(format!("stored access token {}", short(t)), t);
                } else {
                    self.secrets
                        .add(format!("stored {kind} {}", short(value)), value);
                }
            }
        }
        // config.toml and every other non-secret file, as they are now.
        for (path, bytes) in self.env.files() {
            if path.starts_with(self.env.config_dir().join("secrets")) {
                continue;
            }
            self.sinks.push((
                format!("{after}: file {}", path.display()),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }

    fn argv_log(&self) -> String {
        // The browser is spawned in the background: give a late one a moment.
        std::thread::sleep(std::time::Duration::from_millis(200));
        std::fs::read_to_string(&self.argv_log).unwrap_or_default()
    }
}

fn short(v: &str) -> String {
    v.chars().take(6).collect()
}

fn form_param(req: &RecordedRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(&req.body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// `text` with every hub link removed (allowed appearance 2).
fn without_links(text: &str, links: &[String]) -> String {
    links.iter().fold(text.to_string(), |t, link| {
        t.replace(link.as_str(), "<hub link>")
    })
}

#[test]
fn no_secret_reaches_output_config_logs_or_child_arguments() {
    let mut h = Harness::new();
    let client_id = h.env.app.client_id.clone();

    // init: authorize, store, create the StackOne profile.
    let mut init = h.cmd(&["init", "--non-interactive", "--client-id", &client_id]);
    init.env("CC_CLIENT_SECRET", h.env.client_secret())
        .env("STACKONE_API_KEY", STACKONE_KEY);
    h.run("init", init, 0);
    assert_eq!(
        h.env.sandbox.stackone().constant_contact_profiles().len(),
        1
    );

    // token (cached), then a forced refresh (rotates the refresh token).
    let mut token_stdouts = Vec::new();
    for (name, args) in [
        ("token", &["token"][..]),
        ("token --force-refresh", &["token", "--force-refresh"][..]),
    ] {
        let run = h.run(name, h.cmd(args), 0);
        token_stdouts.push((name, run.stdout.trim_end().to_string()));
    }
    // Library logs too: everything at trace, on the refresh path.
    let mut traced = h.cmd(&["token", "--force-refresh"]);
    traced.env("RUST_LOG", "trace");
    let run = h.run("token --force-refresh (RUST_LOG=trace)", traced, 0);
    token_stdouts.push(("token (trace)", run.stdout.trim_end().to_string()));

    h.run("status", h.cmd(&["status"]), 0);

    // rotate --client-secret: a new secret from the portal, proven and pushed.
    let new_secret = h.env.sandbox.cc().generate_client_secret(&client_id);
    h.secrets.add("client secret (rotated)", &new_secret);
    let mut rotate = h.cmd(&["rotate", "--client-secret", "--non-interactive"]);
    rotate.env("CC_CLIENT_SECRET", &new_secret);
    h.run("rotate --client-secret", rotate, 0);
    assert_eq!(
        h.env.sandbox.stackone().constant_contact_profiles()[0].client_secret(),
        Some(new_secret.as_str()),
        "the rotated secret reached StackOne"
    );

    // rotate --reauthorize, once at -vv and once with every library at trace.
    h.run(
        "rotate --reauthorize",
        h.cmd(&["rotate", "--reauthorize", "--non-interactive"]),
        0,
    );
    let mut traced = h.cmd(&["rotate", "--reauthorize", "--non-interactive"]);
    traced.env("RUST_LOG", "trace");
    h.run("rotate --reauthorize (RUST_LOG=trace)", traced, 0);

    // link: interactive-style (opens the hub link in the browser) and --json.
    let link = h.run(
        "link",
        h.cmd(&[
            "link",
            "--origin-owner-id",
            "cust-42",
            "--origin-owner-name",
            "Acme",
        ]),
        0,
    );
    let mut link_json = h.cmd(&[
        "link",
        "--json",
        "--non-interactive",
        "--origin-owner-id",
        "cust-43",
        "--origin-owner-name",
        "Acme 2",
    ]);
    link_json.env("RUST_LOG", "trace");
    let json_run = h.run("link --json (RUST_LOG=trace)", link_json, 0);
    let json = json_run.json();
    assert!(json.get("token").is_none(), "{json}");
    assert_eq!(h.hub_links.len(), 2, "two connect sessions were created");
    assert!(link.stdout.contains(&h.hub_links[0]), "{}", link.stdout);

    h.run("doctor", h.cmd(&["doctor"]), 0);

    h.run(
        "reset",
        h.cmd(&["reset", "--yes", "--delete-stackone-profile"]),
        0,
    );
    assert!(
        h.env
            .sandbox
            .stackone()
            .constant_contact_profiles()
            .is_empty()
    );

    // ---- the verdict ----
    let canaries = &h.secrets;
    // Every kind of secret was actually exercised (a harvest that found
    // nothing would make this test pass vacuously).
    for kind in [
        "client secret (initial)",
        "client secret (rotated)",
        "StackOne API key",
        "refresh token #",
        "access_token ",
        "authorization code ",
        "PKCE verifier ",
        "connect session token ",
        "external trigger token ",
    ] {
        assert!(
            canaries.labels().iter().any(|k| k.starts_with(kind)),
            "no canary of kind {kind:?} was collected: {:?}",
            canaries.labels()
        );
    }
    let refresh_tokens = canaries
        .labels()
        .iter()
        .filter(|k| k.starts_with("refresh token #"))
        .count();
    assert!(
        refresh_tokens >= 5,
        "init, 2 refreshes, rotate, 2 reauthorizations: {refresh_tokens}"
    );

    let argv = h.argv_log();
    // The browser was really launched (authorization URLs and the hub link),
    // and was given URLs only.
    assert!(argv.contains("/oauth2/default/v1/authorize?"), "{argv}");
    assert!(argv.contains(&h.hub_links[0]), "{argv}");
    for line in argv.lines().filter_map(|l| l.strip_prefix("arg ")) {
        assert!(
            line.starts_with("http://127.0.0.1:") || line.starts_with("http://localhost:"),
            "a child process got a non-URL argument: {line:?}"
        );
    }
    let mut sinks = h.sinks.clone();
    sinks.push(("child process arguments".into(), argv));

    let mut leaks = Vec::new();
    for (sink, text) in &sinks {
        // Allowed appearance 1: `token`'s own stdout, which must be exactly
        // the access token and nothing else.
        if sink.starts_with("token") && sink.ends_with(": stdout") {
            continue;
        }
        // Allowed appearance 2: session tokens inside the hub link.
        let text = without_links(text, &h.hub_links);
        for (label, secret) in canaries.iter() {
            if text.contains(secret.as_str()) {
                leaks.push(format!("{label} in {sink}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));

    // Exception 1, checked precisely: each token stdout is one access token
    // the stand-in issued, and nothing else.
    for (name, out) in &token_stdouts {
        assert!(
            canaries.iter().any(|(k, v)| (k.starts_with("access_token ")
                || k.starts_with("stored access"))
                && v == out),
            "{name} printed something other than an issued access token: {out:?}"
        );
        for (label, secret) in canaries.iter() {
            if !label.starts_with("access_token ") && !label.starts_with("stored access token") {
                assert!(
                    !out.contains(secret.as_str()),
                    "{name} stdout holds {label}"
                );
            }
        }
    }
    // Exception 2, checked precisely: outside hub links no session token, and
    // every hub link shown is one StackOne issued.
    for (sink, text) in &sinks {
        let rest = without_links(text, &h.hub_links);
        assert!(
            !rest.contains("/hub?"),
            "a hub link StackOne did not issue (altered or partial) in {sink}: {rest}"
        );
    }
}
