//! The two secrets that may come from the environment, kept in memory only.
//!
//! `CC_CLIENT_SECRET` and `STACKONE_API_KEY` are read once, at the very
//! start of the process ([`capture`], from `main` while it is still the only
//! thread), and removed from the environment, so no child process — the
//! browser `webbrowser` spawns, `$BROWSER`, `xdg-open`, a clipboard tool —
//! inherits them. Code asks [`get`] instead of `std::env::var`.
//!
//! What this cannot do: `/proc/<pid>/environ` shows the environment the
//! process was *started* with, so other processes of the same user can
//! still read the values there (SECURITY.md says so).

use std::collections::HashMap;
use std::sync::OnceLock;

use secrecy::SecretString;

/// The environment variables that carry secrets.
pub const NAMES: [&str; 2] = ["CC_CLIENT_SECRET", "STACKONE_API_KEY"];

static CAPTURED: OnceLock<HashMap<&'static str, SecretString>> = OnceLock::new();

/// Moves the secret variables from the environment into memory.
///
/// # Safety
/// Must be called while no other thread runs (it changes the environment):
/// at the top of `main`.
pub unsafe fn capture() {
    let mut values = HashMap::new();
    for name in NAMES {
        if let Some(value) = std::env::var_os(name) {
            if let Ok(text) = value.into_string() {
                values.insert(name, SecretString::from(text));
            }
            // SAFETY: the caller guarantees no other thread runs.
            unsafe { std::env::remove_var(name) };
        }
    }
    let _ = CAPTURED.set(values);
}

/// The value `name` had at start. Where [`capture`] did not run (the
/// library used in-process, tests), the environment is read as it is.
pub fn get(name: &str) -> Option<SecretString> {
    match CAPTURED.get() {
        Some(values) => values.get(name).cloned(),
        None => std::env::var(name).ok().map(SecretString::from),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn get_without_capture_reads_the_environment() {
        // Not captured in unit tests: falls back to the live environment.
        assert!(super::get("CCSETUP_TEST_SURELY_UNSET_VARIABLE").is_none());
    }
}
