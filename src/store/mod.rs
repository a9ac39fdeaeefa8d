//! Where secrets live: the OS keyring, or an explicit 0600 file.
//!
//! Entries are named as SPEC.md "Storage" says: service `ccsetup`, user
//! `<profile>:<kind>`. Every operation is bounded in time: a keyring that
//! does not answer is an error (exit 5), never a hang.

use secrecy::SecretString;

use crate::error::Result;

pub use crate::cli::StoreChoice;

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
}

impl SecretKind {
    pub const ALL: [SecretKind; 4] = [
        SecretKind::ClientSecret,
        SecretKind::RefreshToken,
        SecretKind::AccessToken,
        SecretKind::StackOneApiKey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::ClientSecret => "client_secret",
            SecretKind::RefreshToken => "refresh_token",
            SecretKind::AccessToken => "access_token",
            SecretKind::StackOneApiKey => "stackone_api_key",
        }
    }

    /// The keyring user name of this kind for `profile`.
    pub fn user(self, profile: &str) -> String {
        format!("{profile}:{}", self.as_str())
    }
}

/// A place to keep secrets. Implementations are synchronous and bounded;
/// async callers use `spawn_blocking`.
pub trait SecretStore: Send + Sync {
    /// Which store this is.
    fn choice(&self) -> StoreChoice;
    /// A human description ("Secret Service keyring", "file ~/.config/…").
    fn describe(&self) -> String;
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SecretString>>;
    fn set(&self, profile: &str, kind: SecretKind, value: &SecretString) -> Result<()>;
    /// Deleting what is not there is not an error.
    fn delete(&self, profile: &str, kind: SecretKind) -> Result<()>;
    /// A bounded write/read/delete round trip of a throwaway entry.
    fn probe(&self) -> Result<()>;
}

/// Opens the chosen store for a config dir.
pub fn open(
    _choice: StoreChoice,
    _config_dir: &std::path::Path,
) -> Result<std::sync::Arc<dyn SecretStore>> {
    Err(crate::error::Error::failure(
        "the secret store is not implemented yet",
    ))
}
