//! A fault hook for end-to-end tests, compiled into debug builds only.
//!
//! Why it exists: docs/contract.md `token` requires that a rotated refresh token
//! which the secret store refuses to take is not lost — it goes to a 0600
//! recovery file, the run exits 5, and the next run puts it back. Proving
//! that against the real binary needs a store that fails a write *after* a
//! successful refresh, on cue, which no real store does. So in debug builds
//! `CCSETUP_TEST_FAIL_STORE_WRITES=<kind>[,<kind>…]` (kinds as in
//! [`SecretKind::as_str`], e.g. `refresh_token`) makes [`super::open`] wrap
//! the store: `set` of those kinds fails with a secret-store error; every
//! other operation goes through. Release builds contain none of this and
//! ignore the variable.

use std::sync::Arc;

use secrecy::SecretString;

use super::{EntryName, SecretKind, SecretStore, StoreChoice};
use crate::error::{Error, Result};

/// The environment variable naming the kinds whose writes fail.
pub const ENV: &str = "CCSETUP_TEST_FAIL_STORE_WRITES";

/// `store`, wrapped when [`ENV`] names at least one known kind.
pub fn wrap(store: Arc<dyn SecretStore>) -> Arc<dyn SecretStore> {
    let failing: Vec<SecretKind> = std::env::var(ENV)
        .unwrap_or_default()
        .split(',')
        .filter_map(|name| {
            SecretKind::ALL
                .into_iter()
                .find(|k| k.as_str() == name.trim())
        })
        .collect();
    if failing.is_empty() {
        store
    } else {
        Arc::new(FailingWrites {
            inner: store,
            failing,
        })
    }
}

struct FailingWrites {
    inner: Arc<dyn SecretStore>,
    failing: Vec<SecretKind>,
}

impl SecretStore for FailingWrites {
    fn choice(&self) -> StoreChoice {
        self.inner.choice()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
    fn get(&self, entry: &EntryName, kind: SecretKind) -> Result<Option<SecretString>> {
        self.inner.get(entry, kind)
    }
    fn set(&self, entry: &EntryName, kind: SecretKind, value: &SecretString) -> Result<()> {
        if self.failing.contains(&kind) {
            return Err(Error::secret_store(format!(
                "the {} refused to store {} (injected by {ENV})",
                self.inner.describe(),
                entry.user(kind)
            )));
        }
        self.inner.set(entry, kind, value)
    }
    fn delete(&self, entry: &EntryName, kind: SecretKind) -> Result<()> {
        self.inner.delete(entry, kind)
    }
    fn probe(&self) -> Result<()> {
        self.inner.probe()
    }
    fn call_timeout(&self) -> std::time::Duration {
        self.inner.call_timeout()
    }
}
