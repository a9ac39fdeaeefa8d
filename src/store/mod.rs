//! Where secrets live: the OS keyring, or an explicit 0600 file.
//!
//! Entries are named as docs/contract.md "Storage" says: service `ccsetup`, user
//! `<profile>@<dir_id>:<kind>`, each config dir with its own `dir_id`
//! ([`EntryName`], `workflow::dir_identity`); `<profile>:<kind>` names are what earlier
//! versions wrote, read only to move them.
//! Every operation is bounded in time: a keyring that does not answer is an
//! error (exit 5), never a hang.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::SecretString;

use crate::error::{Error, ErrorKind, Result};

pub mod access_token;
#[cfg(debug_assertions)]
pub mod fault;
pub mod file;
pub mod keyring;
pub mod lock;
pub mod recovery;

pub use access_token::StoredAccessToken;
pub use file::FileStore;
pub use keyring::KeyringStore;
pub use lock::ProfileLock;

/// Where a profile's secrets go (`--store`, and `secret_store` in config.toml).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum StoreChoice {
    /// The OS keyring (Secret Service, Keychain, Credential Manager)
    Keyring,
    /// A 0600 file in the config dir (explicit opt-in)
    File,
}

impl StoreChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreChoice::Keyring => "keyring",
            StoreChoice::File => "file",
        }
    }

    /// The other store (where an earlier run with another `--store` may
    /// have left this profile's secrets).
    pub fn other(self) -> StoreChoice {
        match self {
            StoreChoice::Keyring => StoreChoice::File,
            StoreChoice::File => StoreChoice::Keyring,
        }
    }
}

/// The keyring service name of every entry.
pub const SERVICE: &str = "ccsetup";

/// The kinds of secret kept per profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    ClientSecret,
    RefreshToken,
    /// JSON: `{"access_token","expires_at","scope"}`.
    AccessToken,
    StackOneApiKey,
    /// The client secret being replaced by `rotate`, kept until the StackOne
    /// profile carries the new one.
    PreviousClientSecret,
}

impl SecretKind {
    pub const ALL: [SecretKind; 5] = [
        SecretKind::ClientSecret,
        SecretKind::RefreshToken,
        SecretKind::AccessToken,
        SecretKind::StackOneApiKey,
        SecretKind::PreviousClientSecret,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "client_secret",
            SecretKind::RefreshToken => "refresh_token",
            SecretKind::AccessToken => "access_token",
            SecretKind::StackOneApiKey => "stackone_api_key",
            SecretKind::PreviousClientSecret => "client_secret_previous",
        }
    }

    /// The pre-v0.3 keyring user name of this kind for `profile`
    /// (`<profile>:<kind>`, see [`EntryName::legacy`]).
    pub fn user(self, profile: &str) -> String {
        EntryName::legacy(profile).user(self)
    }
}

/// Whose secrets an operation is about: a profile of one config dir. The
/// keyring is shared by every config dir, so each dir adds its `dir_id`
/// (kept in its config.toml, see `workflow::dir_identity`) to the names; the file store
/// lives inside the dir and needs only the profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryName {
    profile: String,
    dir_id: Option<String>,
}

impl EntryName {
    /// The name `profile` has in the file store, and had in the keyring
    /// before v0.3 (`<profile>:<kind>`: v0.1 in every config dir, v0.2 in
    /// the default one).
    pub fn legacy(profile: &str) -> Self {
        EntryName {
            profile: profile.to_string(),
            dir_id: None,
        }
    }

    /// The entries of `profile` in the config dir whose id is `dir_id`.
    pub fn in_dir(profile: &str, dir_id: &str) -> Self {
        EntryName {
            profile: profile.to_string(),
            dir_id: Some(dir_id.to_string()),
        }
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// The keyring user name of `kind`: `<profile>:<kind>` or
    /// `<profile>@<dir_id>:<kind>`.
    pub fn user(&self, kind: SecretKind) -> String {
        match &self.dir_id {
            None => format!("{}:{}", self.profile, kind.as_str()),
            Some(id) => format!("{}@{id}:{}", self.profile, kind.as_str()),
        }
    }
}

/// The profile's entries by their plain name (the file store's).
impl From<&str> for EntryName {
    fn from(profile: &str) -> Self {
        EntryName::legacy(profile)
    }
}

/// A fresh config dir id: 16 random hex digits.
pub fn new_dir_id() -> String {
    random_hex(8)
}

/// Checks a `dir_id` read from config.toml before it becomes part of
/// keyring names (1-64 lowercase letters, digits or '-').
pub fn check_dir_id(id: &str) -> std::result::Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err("use 1-64 lowercase letters, digits or '-'".to_string())
    }
}

/// A place to keep secrets. Implementations are synchronous and bounded;
/// async callers use `spawn_blocking`.
pub trait SecretStore: Send + Sync {
    /// Which store this is.
    fn choice(&self) -> StoreChoice;
    /// A human description ("Secret Service keyring", "file ~/.config/…").
    fn describe(&self) -> String;
    fn get(&self, entry: &EntryName, kind: SecretKind) -> Result<Option<SecretString>>;
    fn set(&self, entry: &EntryName, kind: SecretKind, value: &SecretString) -> Result<()>;
    /// Deleting what is not there is not an error.
    fn delete(&self, entry: &EntryName, kind: SecretKind) -> Result<()>;
    /// A bounded write/read/delete round trip of a throwaway entry.
    fn probe(&self) -> Result<()>;
    /// The longest one call may take before it fails (its timeout): what a
    /// signal deferral around a write must allow for.
    fn call_timeout(&self) -> std::time::Duration;
}

/// Opens the chosen store for a config dir.
///
/// Opening is cheap and does not touch the keyring yet: the keyring backend
/// connects on its first operation (bounded by its timeout, see
/// [`keyring::timeout_from_env`]), and the file backend creates nothing until
/// the first write. An invalid `CCSETUP_KEYRING_TIMEOUT_SECS` is a usage
/// error (exit 2).
pub fn open(choice: StoreChoice, config_dir: &Path) -> Result<Arc<dyn SecretStore>> {
    let store: Arc<dyn SecretStore> = match choice {
        StoreChoice::Keyring => Arc::new(KeyringStore::new(keyring::timeout_from_env()?)),
        StoreChoice::File => Arc::new(FileStore::new(config_dir)),
    };
    // Debug builds only: `CCSETUP_TEST_FAIL_STORE_WRITES` (see `fault`).
    #[cfg(debug_assertions)]
    let store = fault::wrap(store);
    Ok(store)
}

/// Profile names become keyring user names (`<profile>:<kind>`) and TOML keys:
/// keep them to a safe, unambiguous alphabet.
pub fn parse_profile_name(s: &str) -> std::result::Result<String, String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(s.to_string())
    } else {
        Err("use 1-64 letters, digits, '-' or '_'".to_string())
    }
}

/// Checks a profile name before it becomes part of a path or keyring entry
/// (the CLI enforces the same rule; this guards library callers).
pub(crate) fn check_profile(profile: &str) -> Result<()> {
    parse_profile_name(profile)
        .map(|_| ())
        .map_err(|why| Error::usage(format!("invalid profile name {profile:?}: {why}")))
}

/// `<dir>/<profile><suffix>` after checking the profile name.
pub(crate) fn profile_path(dir: &Path, profile: &str, suffix: &str) -> Result<PathBuf> {
    check_profile(profile)?;
    Ok(dir.join(format!("{profile}{suffix}")))
}

/// A fresh random lowercase hex string of `bytes` random bytes.
pub(crate) fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// Re-labels an error with another kind, keeping message, hint and cause text.
pub(crate) fn rekind(err: Error, kind: ErrorKind) -> Error {
    if err.kind() == kind {
        return err;
    }
    let mut out = Error::new(kind, err.message().to_string());
    if let Some(hint) = err.hint() {
        out = out.with_hint(hint.to_string());
    }
    if let Some(cause) = err.cause() {
        out = out.with_source(anyhow::anyhow!("{cause:#}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_the_spec() {
        assert_eq!(
            SecretKind::ClientSecret.user("default"),
            "default:client_secret"
        );
        assert_eq!(SecretKind::RefreshToken.user("p"), "p:refresh_token");
        assert_eq!(SecretKind::AccessToken.user("p"), "p:access_token");
        assert_eq!(SecretKind::StackOneApiKey.user("p"), "p:stackone_api_key");
        let other = EntryName::in_dir("default", "0123abcd");
        assert_eq!(
            other.user(SecretKind::RefreshToken),
            "default@0123abcd:refresh_token"
        );
        assert_eq!(
            EntryName::from("p").user(SecretKind::ClientSecret),
            "p:client_secret"
        );
    }

    #[test]
    fn dir_ids_are_checked() {
        let id = new_dir_id();
        assert_eq!(id.len(), 16);
        assert!(check_dir_id(&id).is_ok());
        for bad in ["", "A", "x:y", "a@b", "a b", &"a".repeat(65)] {
            assert!(check_dir_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn profile_paths_refuse_traversal() {
        let dir = Path::new("/x");
        assert!(profile_path(dir, "prod-1", ".json").is_ok());
        for bad in ["", "../etc", "a/b", "a.b", "a\\b"] {
            let err = profile_path(dir, bad, ".json").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Usage, "{bad:?}");
        }
    }

    #[test]
    fn open_file_store_describes_its_path() {
        let tmp = tempfile::tempdir().unwrap();
        let store = open(StoreChoice::File, tmp.path()).unwrap();
        assert_eq!(store.choice(), StoreChoice::File);
        assert!(store.describe().contains(&tmp.path().display().to_string()));
    }
}
