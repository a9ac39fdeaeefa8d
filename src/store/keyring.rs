//! The OS keyring backend (`--store keyring`, the default).
//!
//! Built on `keyring-core` with an explicit platform store passed to
//! [`keyring_core::Entry::new_in_store`] — not on the `keyring` wrapper crate,
//! whose default mode installs its own process-wide store:
//! - Linux: the Secret Service over D-Bus (`zbus-secret-service-keyring-store`,
//!   pure Rust; gnome-keyring, KeePassXC, KWallet's bridge…);
//! - macOS: the login Keychain (`apple-native-keyring-store`);
//! - Windows: the Credential Manager (`windows-native-keyring-store`).
//!
//! Entries: service [`super::SERVICE`], user [`super::EntryName::user`]
//! (`<profile>:<kind>` or `<profile>@<dir_id>:<kind>`).
//!
//! Every call, including the connection to the keyring, runs on a worker
//! thread and is abandoned after a timeout: 30 s by default, or
//! `CCSETUP_KEYRING_TIMEOUT_SECS` (a positive number of seconds, decimals
//! allowed). A keyring that is missing, locked, refuses or does not answer in
//! time is an [`ErrorKind::SecretStore`] error (exit 5) whose hint names
//! `--store file`; there is never a silent fallback to another store.
//!
//! No secret ever enters an error: keyring errors are turned into text from
//! their kind and platform cause only (the variants carrying the raw stored
//! bytes are described, never shown).

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keyring_core::{CredentialStore, Entry};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{EntryName, SERVICE, SecretKind, SecretStore, StoreChoice, check_profile};
use crate::error::{Error, Result};

/// Environment variable overriding the per-call keyring timeout (seconds).
pub const TIMEOUT_ENV: &str = "CCSETUP_KEYRING_TIMEOUT_SECS";
/// The per-call keyring timeout when [`TIMEOUT_ENV`] is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the keyring is called on this platform, in messages.
#[cfg(target_os = "linux")]
pub const BACKEND_NAME: &str = "OS keyring (Secret Service)";
#[cfg(target_os = "macos")]
pub const BACKEND_NAME: &str = "OS keyring (macOS Keychain)";
#[cfg(windows)]
pub const BACKEND_NAME: &str = "OS keyring (Windows Credential Manager)";
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub const BACKEND_NAME: &str = "OS keyring";

/// The timeout of one keyring call: [`TIMEOUT_ENV`] if set (a positive
/// number of seconds, e.g. `5` or `0.5`), else [`DEFAULT_TIMEOUT`].
pub fn timeout_from_env() -> Result<Duration> {
    match std::env::var(TIMEOUT_ENV) {
        Ok(v) if !v.trim().is_empty() => parse_timeout(&v).ok_or_else(|| {
            Error::usage(format!(
                "{TIMEOUT_ENV}={v:?} is not a valid timeout: use a positive number of seconds"
            ))
        }),
        _ => Ok(DEFAULT_TIMEOUT),
    }
}

fn parse_timeout(v: &str) -> Option<Duration> {
    let secs: f64 = v.trim().parse().ok()?;
    (secs.is_finite() && secs > 0.0 && secs <= 86_400.0).then(|| Duration::from_secs_f64(secs))
}

/// The OS keyring. Cheap to create; connects on first use and keeps the
/// connection.
pub struct KeyringStore {
    timeout: Duration,
    /// The platform store once a call has connected to it. Shared with the
    /// worker threads, which connect on the first call: one thread per call,
    /// connection included.
    store: Arc<Mutex<Option<Arc<CredentialStore>>>>,
}

impl std::fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyringStore")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// How far a call on the worker thread got.
enum Outcome<T> {
    /// The keyring could not be reached.
    Unreachable(keyring_core::Error),
    /// Connected; the operation's own result.
    Done(keyring_core::Result<T>),
}

impl KeyringStore {
    /// A keyring store whose every call is bounded by `timeout`.
    pub fn new(timeout: Duration) -> Self {
        KeyringStore {
            timeout,
            store: Arc::new(Mutex::new(None)),
        }
    }

    /// The per-call timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn connected(slot: &Mutex<Option<Arc<CredentialStore>>>) -> Option<Arc<CredentialStore>> {
        slot.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Runs `op` on the entry `user` of service `ccsetup`, connecting first
    /// if no call has yet; both on one worker thread within one timeout.
    fn with_entry<T: Send + 'static>(
        &self,
        what: &str,
        user: String,
        op: impl FnOnce(&Entry) -> keyring_core::Result<T> + Send + 'static,
    ) -> Result<std::result::Result<T, keyring_core::Error>> {
        let slot = Arc::clone(&self.store);
        let outcome = bounded(self.timeout, move || {
            let store = match Self::connected(&slot) {
                Some(store) => store,
                // The lock is not held while connecting: an abandoned
                // worker must never keep a later call waiting.
                None => match platform_store() {
                    Ok(store) => Arc::clone(
                        slot.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(store),
                    ),
                    Err(e) => return Outcome::Unreachable(e),
                },
            };
            Outcome::Done(Entry::new_in_store(&store, SERVICE, &user).and_then(|e| op(&e)))
        });
        match outcome {
            Ok(Outcome::Done(r)) => Ok(r),
            Ok(Outcome::Unreachable(e)) => Err(unavailable(&describe_error(&e))),
            Err(Elapsed) if Self::connected(&self.store).is_none() => Err(unavailable(&format!(
                "it did not answer within {} (it may be locked and waiting for a password)",
                secs(self.timeout)
            ))
            .with_hint(timeout_hint())),
            Err(Elapsed) => Err(timed_out(what, self.timeout)),
        }
    }
}

impl SecretStore for KeyringStore {
    fn choice(&self) -> StoreChoice {
        StoreChoice::Keyring
    }

    fn describe(&self) -> String {
        BACKEND_NAME.to_string()
    }

    fn get(&self, entry: &EntryName, kind: SecretKind) -> Result<Option<SecretString>> {
        let profile = entry.profile();
        check_profile(profile)?;
        let what = format!("reading the {} of profile '{profile}'", kind.as_str());
        match self.with_entry(&what, entry.user(kind), |e| e.get_password())? {
            Ok(value) => Ok(Some(SecretString::from(value))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(op_failed(&what, &e)),
        }
    }

    fn set(&self, entry: &EntryName, kind: SecretKind, value: &SecretString) -> Result<()> {
        let profile = entry.profile();
        check_profile(profile)?;
        let what = format!("saving the {} of profile '{profile}'", kind.as_str());
        let value = Zeroizing::new(value.expose_secret().to_string());
        match self.with_entry(&what, entry.user(kind), move |e| {
            e.set_password(value.as_str())
        })? {
            Ok(()) => Ok(()),
            Err(e) => Err(op_failed(&what, &e)),
        }
    }

    fn delete(&self, entry: &EntryName, kind: SecretKind) -> Result<()> {
        let profile = entry.profile();
        check_profile(profile)?;
        let what = format!("deleting the {} of profile '{profile}'", kind.as_str());
        match self.with_entry(&what, entry.user(kind), |e| e.delete_credential())? {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(op_failed(&what, &e)),
        }
    }

    fn call_timeout(&self) -> Duration {
        self.timeout
    }

    /// Writes, reads back and deletes `ccsetup-probe:<random>` with a random
    /// value, all within one timeout.
    fn probe(&self) -> Result<()> {
        let what = "checking the keyring with a test entry";
        let user = format!("ccsetup-probe:{}", super::random_hex(8));
        let value = Zeroizing::new(super::random_hex(16));
        let outcome = self.with_entry(what, user, move |e| {
            e.set_password(value.as_str())?;
            let back = e.get_password().map(Zeroizing::new);
            // Delete even when the read failed; report the first failure.
            let deleted = e.delete_credential();
            let back = back?;
            deleted?;
            Ok(back.as_str() == value.as_str())
        })?;
        match outcome {
            Ok(true) => Ok(()),
            Ok(false) => Err(Error::secret_store(format!(
                "the {BACKEND_NAME} returned a different value than the one just saved in it"
            ))
            .with_hint(hint())),
            Err(e) => Err(op_failed(what, &e)),
        }
    }
}

/// The Secret Service, with `plain` transfer: the secrets cross the user's
/// own session bus unencrypted, as with gh and other Go clients
/// (go-keyring). The specification's `dh-ietf1024-sha256-aes128-cbc-pkcs7`
/// transfer "is not envisioned to withstand man in the middle attacks, or
/// other active attacks" (Secret Service API, "Transfer of Secrets"): it
/// only keeps plain text out of the bus daemon's memory, while every process
/// of the user can read any unlocked item anyway. Its 1024-bit key exchange
/// was 31 M of a cached `token`'s 34 M instructions (docs/performance.md);
/// SECURITY.md records the choice.
#[cfg(target_os = "linux")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let config = std::collections::HashMap::from([("encryption", "plain")]);
    let store: Arc<CredentialStore> =
        zbus_secret_service_keyring_store::Store::new_with_configuration(&config)?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    Ok(store)
}

#[cfg(windows)]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = windows_native_keyring_store::Store::new()?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn platform_store() -> keyring_core::Result<Arc<CredentialStore>> {
    Err(keyring_core::Error::NotSupportedByStore(
        "ccsetup has no keyring support on this platform".to_string(),
    ))
}

/// The keyring did not answer in time.
struct Elapsed;

/// Runs `f` on a worker thread and waits at most `timeout` for it. On
/// timeout the worker is abandoned (it ends whenever the call returns).
fn bounded<T: Send + 'static>(
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::result::Result<T, Elapsed> {
    if std::env::var_os("CCX_INLINE").is_some() {
        return Ok(f());
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let spawned = std::thread::Builder::new()
        .name("ccsetup-keyring".into())
        .spawn(move || {
            let _ = tx.send(f());
        });
    if spawned.is_err() {
        return Err(Elapsed);
    }
    match rx.recv_timeout(timeout) {
        Ok(v) => Ok(v),
        Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => Err(Elapsed),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{} s", s as u64)
    } else {
        format!("{s:.1} s")
    }
}

/// What to do when the keyring cannot be used.
fn hint() -> String {
    let mut hint = String::new();
    if cfg!(target_os = "linux") {
        hint.push_str(
            "a Secret Service provider (gnome-keyring or KeePassXC) must be running and unlocked \
             in your session; ",
        );
    }
    hint.push_str(
        "or pass --store file (CCSETUP_STORE=file) to keep the secrets in a 0600 file in the \
         config dir instead",
    );
    hint
}

fn unavailable(reason: &str) -> Error {
    Error::secret_store(format!("the {BACKEND_NAME} is not available: {reason}")).with_hint(hint())
}

fn timed_out(what: &str, timeout: Duration) -> Error {
    Error::secret_store(format!(
        "the {BACKEND_NAME} did not answer within {} while {what} (it may be locked and waiting \
         for a password)",
        secs(timeout)
    ))
    .with_hint(timeout_hint())
}

fn timeout_hint() -> String {
    format!(
        "unlock the keyring and re-run, or raise {TIMEOUT_ENV} (seconds); {}",
        hint()
    )
}

fn op_failed(what: &str, err: &keyring_core::Error) -> Error {
    let detail = describe_error(err);
    match err {
        keyring_core::Error::NoStorageAccess(_) => Error::secret_store(format!(
            "the {BACKEND_NAME} refused access while {what}: it is locked or access was denied \
             ({detail})"
        ))
        .with_hint(hint()),
        _ if looks_unavailable(&detail) => unavailable(&detail),
        _ => Error::secret_store(format!("the {BACKEND_NAME} failed while {what}: {detail}"))
            .with_hint(hint()),
    }
}

/// Text of a keyring error that can never contain a secret, in the user's
/// terms where the cause is recognised.
fn describe_error(err: &keyring_core::Error) -> String {
    use keyring_core::Error as K;
    let raw = match err {
        K::PlatformFailure(e) | K::NoStorageAccess(e) => error_chain(e.as_ref()),
        K::NoEntry => return "no such entry".to_string(),
        K::BadEncoding(_) => return "the stored value is not valid UTF-8 text".to_string(),
        K::BadDataFormat(_, _) => return "the stored value is malformed".to_string(),
        K::Ambiguous(items) => {
            return format!(
                "{} entries match one name; remove the extra ones",
                items.len()
            );
        }
        other => other.to_string(),
    };
    plain_reason(&raw).unwrap_or(raw)
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        cur = e.source();
    }
    out
}

fn looks_unavailable(detail: &str) -> bool {
    detail.starts_with("no D-Bus session bus") || detail.starts_with("no Secret Service provider")
}

/// Recognised causes, said plainly (with the raw text after it).
fn plain_reason(raw: &str) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let lower = raw.to_ascii_lowercase();
    if lower.contains("serviceunknown")
        || lower.contains("org.freedesktop.secrets was not provided")
        || (lower.contains("org.freedesktop.secrets") && lower.contains("not provided"))
    {
        return Some(format!(
            "no Secret Service provider is running on the session bus (org.freedesktop.secrets) [{raw}]"
        ));
    }
    if lower.contains("dbus_session_bus_address")
        || lower.contains("no such file or directory")
        || lower.contains("connection refused")
        || (lower.contains("address")
            && (lower.contains("not found") || lower.contains("notfound")))
    {
        return Some(format!("no D-Bus session bus could be reached [{raw}]"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn timeout_parsing() {
        assert_eq!(parse_timeout("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_timeout(" 0.5 "), Some(Duration::from_millis(500)));
        for bad in ["0", "-1", "abc", "NaN", "inf", "1e9"] {
            assert_eq!(parse_timeout(bad), None, "{bad}");
        }
    }

    #[test]
    fn bounded_returns_value_or_times_out() {
        assert!(matches!(bounded(Duration::from_secs(5), || 7), Ok(7)));
        let start = std::time::Instant::now();
        let r = bounded(Duration::from_millis(100), || {
            std::thread::sleep(Duration::from_secs(3))
        });
        assert!(r.is_err());
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn errors_never_show_stored_bytes() {
        let secret = b"super-secret-value".to_vec();
        let e = keyring_core::Error::BadEncoding(secret.clone());
        let text = op_failed("reading", &e).render(true);
        assert!(!text.contains("super-secret-value"), "{text}");
        assert!(!text.contains("115, 117"), "{text}");
        let e = keyring_core::Error::BadDataFormat(secret, "bad".into());
        let text = op_failed("reading", &e).render(true);
        assert!(!text.contains("super-secret-value"), "{text}");
        assert!(!text.contains("115, 117"), "{text}");
    }

    #[test]
    fn errors_are_exit_5_and_name_store_file() {
        let e = keyring_core::Error::NoStorageAccess("locked".into());
        let err = op_failed("saving", &e);
        assert_eq!(err.kind(), ErrorKind::SecretStore);
        assert!(err.hint().unwrap().contains("--store file"));
        let err = unavailable("x");
        assert_eq!(err.exit_code(), 5);
        assert!(err.message().contains("is not available"));
        let err = timed_out("saving", Duration::from_secs(30));
        assert_eq!(err.exit_code(), 5);
        assert!(err.message().contains("30 s"), "{}", err.message());
        assert!(err.hint().unwrap().contains(TIMEOUT_ENV));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn recognises_missing_provider_and_bus() {
        let r = plain_reason("org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files").unwrap();
        assert!(r.starts_with("no Secret Service provider"), "{r}");
        let r = plain_reason("I/O error: No such file or directory (os error 2)").unwrap();
        assert!(r.starts_with("no D-Bus session bus"), "{r}");
    }
}
