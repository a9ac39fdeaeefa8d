//! Test hook, debug builds only: `CCSETUP_TEST_FAIL_STORE_WRITES=<kind>[,<kind>]`
//! makes `set` of those kinds (names as in [`SecretKind::as_str`], e.g.
//! `refresh_token`) fail with a secret-store error (exit 5), the way a
//! keyring that refuses a write does. Reads, deletes and the probe work as
//! usual. Release builds never read the variable.

use secrecy::SecretString;

use super::{SecretKind, SecretStore, StoreChoice};
use crate::error::{Error, Result};

pub const ENV: &str = "CCSETUP_TEST_FAIL_STORE_WRITES";

/// The kinds named by [`ENV`] (debug builds only; empty otherwise).
pub fn kinds_from_env() -> Vec<SecretKind> {
    if !cfg!(debug_assertions) {
        return Vec::new();
    }
    let Ok(value) = std::env::var(ENV) else {
        return Vec::new();
    };
    value
        .split(',')
        .map(str::trim)
        .filter_map(|name| SecretKind::ALL.into_iter().find(|k| k.as_str() == name))
        .collect()
}

/// Wraps `inner` so writes of `kinds` are refused.
pub struct FailingWrites {
    pub inner: std::sync::Arc<dyn SecretStore>,
    pub kinds: Vec<SecretKind>,
}

impl SecretStore for FailingWrites {
    fn choice(&self) -> StoreChoice {
        self.inner.choice()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn get(&self, profile: &str, kind: SecretKind) -> Result<Option<SecretString>> {
        self.inner.get(profile, kind)
    }
    fn set(&self, profile: &str, kind: SecretKind, value: &SecretString) -> Result<()> {
        if self.kinds.contains(&kind) {
            return Err(Error::secret_store(format!(
                "the secret store refused to save the {} ({ENV})",
                kind.as_str()
            ))
            .with_hint("unlock or fix the secret store, then run the command again"));
        }
        self.inner.set(profile, kind, value)
    }
    fn delete(&self, profile: &str, kind: SecretKind) -> Result<()> {
        self.inner.delete(profile, kind)
    }
    fn probe(&self) -> Result<()> {
        self.inner.probe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn named_kinds_are_refused_others_pass() {
        let tmp = tempfile::tempdir().unwrap();
        let store = FailingWrites {
            inner: Arc::new(super::super::FileStore::new(tmp.path())),
            kinds: vec![SecretKind::RefreshToken],
        };
        let v = SecretString::from("v".to_string());
        let err = store.set("p", SecretKind::RefreshToken, &v).unwrap_err();
        assert_eq!(err.exit_code(), 5);
        store.set("p", SecretKind::ClientSecret, &v).unwrap();
        assert!(store.get("p", SecretKind::ClientSecret).unwrap().is_some());
        assert!(store.get("p", SecretKind::RefreshToken).unwrap().is_none());
    }
}
