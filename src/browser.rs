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

/// The platform default browser through the `webbrowser` crate, which honours
/// `$BROWSER` on Unix.
pub struct SystemBrowser;

impl Browser for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), String> {
        self.can_launch()?;
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
