//! Copying a value to the system clipboard through the platform's own tool.
//!
//! The value is written to the tool's stdin, never passed as an argument, so
//! it does not show in `ps`. No clipboard crate: they pull in a windowing
//! stack, and every desktop already ships one of these tools.

use std::io::Write;
use std::process::{Command, Stdio};

/// Candidate tools, in order of preference for this platform.
fn candidates() -> Vec<(&'static str, &'static [&'static str])> {
    if cfg!(target_os = "macos") {
        vec![("pbcopy", &[])]
    } else if cfg!(windows) {
        vec![("clip", &[])]
    } else {
        let mut v: Vec<(&'static str, &'static [&'static str])> = Vec::new();
        if std::env::var_os("WAYLAND_DISPLAY").is_some() {
            v.push(("wl-copy", &[]));
        }
        if std::env::var_os("DISPLAY").is_some() {
            v.push(("xclip", &["-selection", "clipboard"]));
            v.push(("xsel", &["--clipboard", "--input"]));
        }
        if std::env::var_os("WSL_DISTRO_NAME").is_some() {
            v.push(("clip.exe", &[]));
        }
        v
    }
}

/// Whether some clipboard tool is likely usable here.
pub fn available() -> bool {
    !candidates().is_empty()
}

/// Copies `text`; returns the tool used, or why nothing worked.
pub fn copy(text: &str) -> Result<&'static str, String> {
    let tools = candidates();
    if tools.is_empty() {
        return Err("no clipboard here (no display)".into());
    }
    for (tool, args) in tools {
        let child = Command::new(tool)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut child) = child else { continue };
        let wrote = child
            .stdin
            .take()
            .map(|mut stdin| stdin.write_all(text.as_bytes()).is_ok())
            .unwrap_or(false);
        // xclip forks to serve the selection; wait only for the parent.
        if wrote && child.wait().map(|s| s.success()).unwrap_or(false) {
            return Ok(tool);
        }
    }
    Err("no clipboard tool worked (tried wl-copy, xclip, xsel, pbcopy, clip)".into())
}
