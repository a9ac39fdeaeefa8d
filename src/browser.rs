//! Opening URLs in the user's browser, with a printed fallback.
//!
//! A failed launch never aborts a flow: the URL is always printed too, and
//! the caller carries on (SSH sessions, containers, WSL without a browser).

/// Opens a URL for the user.
pub trait Browser: Send + Sync {
    /// Tries to open `url`; `Err` says why it could not (the caller prints the URL).
    fn open(&self, url: &str) -> Result<(), String>;
    /// Whether a launch is worth attempting at all on this machine.
    fn can_launch(&self) -> Result<(), String>;
}

/// Whether `url` may be handed to a browser or any other child process:
/// an absolute `https` URL, or `http` to a loopback host (the local
/// callback), written the way it parses. Anything else — a leading `-` a
/// browser would read as an option (`--gpu-launcher=…`), another scheme
/// (`file:`, `javascript:`), spaces or control characters — is refused with
/// the reason (SECURITY.md "Links"). A hub link comes from StackOne's answer,
/// so this is checked, not assumed.
pub fn check_openable(url: &str) -> Result<url::Url, String> {
    let refuse = |why: &str| Err(format!("not a link a browser may be given ({why})"));
    if url.starts_with('-') {
        return refuse("it starts with `-`, which a browser would read as an option");
    }
    if url.contains(' ') || !crate::text::is_terminal_safe(url) {
        return refuse("it contains spaces or control characters");
    }
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://")) {
        return refuse("only https:// links are opened");
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("not a valid URL ({e})"))?;
    match parsed.scheme() {
        "https" if parsed.host_str().is_some_and(|h| !h.is_empty()) => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => refuse("plain http is opened only for this machine (loopback)"),
        _ => refuse("only https:// links are opened"),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The platform default browser through the `webbrowser` crate, which honours
/// `$BROWSER` on Unix.
pub struct SystemBrowser;

impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        // Before anything runs: no child is ever given a refused URL.
        check_openable(url)?;
        self.can_launch()?;
        // The webbrowser crate spawns `$BROWSER` in the background and
        // reports success whatever it does (`BROWSER=false` "works"): run
        // it ourselves and look at how it ends.
        #[cfg(unix)]
        if let Some(list) = std::env::var("BROWSER")
            .ok()
            .filter(|b| !b.trim().is_empty())
            && !names_text_browser(&list)
        {
            return browser_env::open(&list, url);
        }
        webbrowser::open(url).map_err(|e| format!("could not launch a browser: {e}"))
    }

    fn can_launch(&self) -> Result<(), String> {
        if std::env::var_os("BROWSER").is_some_and(|b| !b.is_empty()) {
            return Ok(());
        }
        if cfg!(all(unix, not(target_os = "macos"))) {
            let has_display = ["DISPLAY", "WAYLAND_DISPLAY"]
                .iter()
                .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()));
            let in_wsl = std::env::var_os("WSL_DISTRO_NAME").is_some();
            if !has_display && !in_wsl {
                return Err("no display (DISPLAY/WAYLAND_DISPLAY unset) and no $BROWSER".into());
            }
        }
        if std::env::var_os("SSH_CONNECTION").is_some() && std::env::var_os("DISPLAY").is_none() {
            return Err("this is an SSH session without a forwarded display".into());
        }
        Ok(())
    }
}

/// `--no-browser`: never launches.
pub struct NoBrowser;

impl Browser for NoBrowser {
    fn open(&self, _url: &str) -> Result<(), String> {
        Err("--no-browser is set".into())
    }
    fn can_launch(&self) -> Result<(), String> {
        Err("--no-browser is set".into())
    }
}

/// Text browsers need the terminal in the foreground: left to the
/// webbrowser crate, which runs them that way.
#[cfg(unix)]
fn names_text_browser(list: &str) -> bool {
    const TEXT_BROWSERS: [&str; 5] = ["lynx", "links", "links2", "elinks", "w3m"];
    list.split(':').any(|entry| {
        entry
            .split_whitespace()
            .next()
            .and_then(|program| std::path::Path::new(program).file_name())
            .is_some_and(|name| TEXT_BROWSERS.iter().any(|t| name == *t))
    })
}

/// `$BROWSER` as the webbrowser crate and xdg-utils read it: `:`-separated
/// commands, `%s` the URL (appended when absent), `%c` a colon, `%%` a per cent.
#[cfg(unix)]
pub mod browser_env {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    /// How long a launch may take to fail before it counts as started: a
    /// launcher exits at once (0 or not), a browser keeps running.
    const LAUNCH_GRACE: Duration = Duration::from_millis(1500);

    /// Secret inputs ccsetup may have in its environment: never a child's.
    const SECRET_ENV: [&str; 2] = ["CC_CLIENT_SECRET", "STACKONE_API_KEY"];

    /// Runs each command of `list` until one starts; `Err` says what each did.
    pub fn open(list: &str, url: &str) -> Result<(), String> {
        let mut failures = Vec::new();
        for entry in list.split(':').filter(|e| !e.trim().is_empty()) {
            let argv = command_line(entry, url);
            match launch(&argv) {
                Ok(()) => return Ok(()),
                Err(why) => failures.push(format!("`{}` {why}", argv[0])),
            }
        }
        Err(format!("$BROWSER did not open it: {}", failures.join("; ")))
    }

    /// One entry's argv, with the field codes expanded.
    pub fn command_line(entry: &str, url: &str) -> Vec<String> {
        let mut has_url = false;
        let mut argv: Vec<String> = entry
            .split_whitespace()
            .map(|field| {
                let mut out = String::new();
                let mut chars = field.chars();
                while let Some(c) = chars.next() {
                    if c != '%' {
                        out.push(c);
                        continue;
                    }
                    match chars.next() {
                        Some('s') => {
                            has_url = true;
                            out.push_str(url);
                        }
                        Some('c') => out.push(':'),
                        Some('%') => out.push('%'),
                        Some(other) => {
                            out.push('%');
                            out.push(other);
                        }
                        None => out.push('%'),
                    }
                }
                out
            })
            .collect();
        if !has_url {
            argv.push(url.to_string());
        }
        argv
    }

    fn launch(argv: &[String]) -> Result<(), String> {
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for name in SECRET_ENV {
            command.env_remove(name);
        }
        let mut child = command
            .spawn()
            .map_err(|e| format!("could not be started ({e})"))?;
        let deadline = Instant::now() + LAUNCH_GRACE;
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("failed ({status})")),
                Ok(None) if Instant::now() >= deadline => {
                    // Still running: a browser. Reap it whenever it ends.
                    std::thread::spawn(move || child.wait());
                    return Ok(());
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(format!("could not be watched ({e})")),
            }
        }
    }

    /// Why `list` cannot open anything, when that is known without running
    /// it (for `doctor`): no command found, or one that opens nothing.
    pub fn problem(list: &str) -> Option<String> {
        let programs: Vec<String> = list
            .split(':')
            .filter_map(|e| e.split_whitespace().next().map(str::to_string))
            .collect();
        let found: Vec<&String> = programs.iter().filter(|p| on_path(p)).collect();
        if found.is_empty() {
            return Some(format!(
                "$BROWSER names no command found here ({})",
                programs.join(", ")
            ));
        }
        let opens_nothing = |p: &&String| {
            std::path::Path::new(p.as_str())
                .file_name()
                .is_some_and(|n| n == "false" || n == "true")
        };
        if found.iter().all(opens_nothing) {
            return Some(format!("$BROWSER runs `{}`, which opens nothing", found[0]));
        }
        None
    }

    fn on_path(program: &str) -> bool {
        if program.contains('/') {
            return std::path::Path::new(program).is_file();
        }
        std::env::var_os("PATH")
            .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn field_codes_expand_and_the_url_is_appended_once() {
            assert_eq!(command_line("firefox", "u"), ["firefox", "u"]);
            assert_eq!(
                command_line("open -a %s --x=%c%%", "u"),
                ["open", "-a", "u", "--x=:%"]
            );
        }

        #[test]
        fn a_failing_command_is_reported_and_the_next_one_tried() {
            let err = open("false", "http://x/").unwrap_err();
            assert!(err.contains("`false` failed"), "{err}");
            assert!(open("false:true", "http://x/").is_ok());
            let err = open("/nonexistent/browser", "http://x/").unwrap_err();
            assert!(err.contains("could not be started"), "{err}");
        }

        #[test]
        fn doctor_sees_commands_that_open_nothing() {
            assert!(problem("false").unwrap().contains("opens nothing"));
            assert!(
                problem("/nonexistent/browser")
                    .unwrap()
                    .contains("no command")
            );
            assert!(problem("sh").is_none());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::check_openable;

    #[test]
    fn only_https_or_loopback_http_links_are_opened() {
        for ok in [
            "https://hub.stackone.com/connect?token=abc",
            "http://localhost:8917/callback",
            "http://127.0.0.1:9/x",
            "http://[::1]:9/",
        ] {
            assert!(check_openable(ok).is_ok(), "{ok}");
        }
        for bad in [
            "--gpu-launcher=touch ~/pwned",
            "-https://x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "http://example.com/",
            "https://x/ --flag",
            "https://x/\u{202e}y",
            "https:///",
            "hub.stackone.com/connect",
        ] {
            let err = check_openable(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
        assert!(
            check_openable("--gpu-launcher=x")
                .unwrap_err()
                .contains("`-`")
        );
    }
}
