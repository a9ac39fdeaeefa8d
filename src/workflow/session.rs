//! One profile's local state: its secret store, its lock and its entry in
//! `config.toml`. Every workflow reaches the store, the lock and the config
//! through here, so each has one timeout, one error and one writer.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use secrecy::SecretString;

use crate::config::{self, ProfileConfig};
use crate::error::{Error, Result};
use crate::store::{ProfileLock, SecretKind, SecretStore, recovery};

/// This profile's store, lock and settings.
#[derive(Clone)]
pub struct ProfileSession {
    config_dir: PathBuf,
    profile: String,
    store: Arc<dyn SecretStore>,
}

/// Runs a blocking store or file call on the blocking pool (the keyring
/// crates block; calling them on the runtime's threads would stall it).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::failure("a secret store call failed unexpectedly").with_source(e))?
}

impl ProfileSession {
    pub fn new(config_dir: PathBuf, profile: String, store: Arc<dyn SecretStore>) -> Self {
        ProfileSession {
            config_dir,
            profile,
            store,
        }
    }

    pub fn profile(&self) -> &str {
        &self.profile
    }

    pub fn config_dir(&self) -> &Path {
        &self.config_dir
    }

    pub fn store(&self) -> &Arc<dyn SecretStore> {
        &self.store
    }

    /// Proves the store works: a bounded write/read/delete.
    pub async fn probe(&self) -> Result<()> {
        let store = self.store.clone();
        blocking(move || store.probe()).await
    }

    pub async fn get(&self, kind: SecretKind) -> Result<Option<SecretString>> {
        let (store, profile) = (self.store.clone(), self.profile.clone());
        blocking(move || store.get(&profile, kind)).await
    }

    pub async fn set(&self, kind: SecretKind, value: &SecretString) -> Result<()> {
        let (store, profile, value) = (self.store.clone(), self.profile.clone(), value.clone());
        blocking(move || store.set(&profile, kind, &value)).await
    }

    /// Deleting what is not there is not an error.
    pub async fn delete(&self, kind: SecretKind) -> Result<()> {
        let (store, profile) = (self.store.clone(), self.profile.clone());
        blocking(move || store.delete(&profile, kind)).await
    }

    /// The stored client secret, or the error that says how to get one.
    pub async fn client_secret(&self) -> Result<SecretString> {
        self.get(SecretKind::ClientSecret)
            .await?
            .ok_or_else(|| missing_client_secret(&self.profile))
    }

    /// The profile's exclusive lock (waiting at most
    /// [`crate::store::lock::DEFAULT_TIMEOUT`] for another process).
    pub async fn lock(&self) -> Result<ProfileLock> {
        let (dir, profile) = (self.config_dir.clone(), self.profile.clone());
        blocking(move || ProfileLock::acquire(&dir, &profile, crate::store::lock::DEFAULT_TIMEOUT))
            .await
    }

    /// Puts back a refresh token that an earlier run saved to a recovery
    /// file because the store refused it. The caller holds the lock: of two
    /// runs that both saw the file, the second must not put the token back
    /// after the first has rotated it. Returns the file it came from.
    pub async fn recover_refresh_token_locked(&self) -> Result<Option<PathBuf>> {
        let (dir, profile, store) = (
            self.config_dir.clone(),
            self.profile.clone(),
            self.store.clone(),
        );
        blocking(move || recovery::take(&dir, &profile, store.as_ref())).await
    }

    /// [`Self::recover_refresh_token_locked`], taking the lock only when a
    /// recovery file is there (the common case costs one `stat`).
    pub async fn recover_refresh_token(&self) -> Result<Option<PathBuf>> {
        if !recovery::pending(&self.config_dir, &self.profile)? {
            return Ok(None);
        }
        let _lock = self.lock().await?;
        self.recover_refresh_token_locked().await
    }

    /// Forgets a refresh token waiting in a recovery file (it belongs to an
    /// authorization that a newer one replaces).
    pub fn discard_recovered_refresh_token(&self) -> Result<()> {
        recovery::discard(&self.config_dir, &self.profile)
    }

    /// This profile's settings, or the exit-2 error telling to run `init`.
    pub fn require_config(&self) -> Result<ProfileConfig> {
        require_profile(&self.config_dir, &self.profile)
    }

    /// Writes this profile's settings (the other profiles in the file are
    /// re-read, not overwritten with a stale copy).
    pub fn save_config(&self, settings: &ProfileConfig) -> Result<()> {
        let mut file = config::load(&self.config_dir)?;
        file.upsert(&self.profile, settings.clone());
        config::save(&self.config_dir, &file)
    }

    /// Read, change and write this profile's settings in one step; a profile
    /// that is not in the file is left alone. Returns the settings written.
    pub fn update_config(
        &self,
        change: impl FnOnce(&mut ProfileConfig),
    ) -> Result<Option<ProfileConfig>> {
        let mut file = config::load(&self.config_dir)?;
        let Some(settings) = file.profile_mut(&self.profile) else {
            return Ok(None);
        };
        change(settings);
        settings.updated_at = crate::clock::now_rfc3339();
        let written = settings.clone();
        config::save(&self.config_dir, &file)?;
        Ok(Some(written))
    }

    /// Removes this profile from `config.toml`; whether it was there.
    pub fn remove_config(&self) -> Result<bool> {
        let mut file = config::load(&self.config_dir)?;
        if file.remove(&self.profile).is_none() {
            return Ok(false);
        }
        config::save(&self.config_dir, &file)?;
        Ok(true)
    }
}

/// The settings of `profile`, or the exit-2 error telling to run `init`.
pub fn require_profile(config_dir: &Path, profile: &str) -> Result<ProfileConfig> {
    let file = config::load(config_dir)?;
    file.profile(profile).cloned().ok_or_else(|| {
        Error::usage(format!(
            "profile \"{profile}\" is not set up (no entry in {})",
            config::config_path(config_dir).display()
        ))
        .with_hint("run `ccsetup init` first (or pass the right --profile / --config-dir)")
    })
}

/// The one "no client secret is stored" error.
pub fn missing_client_secret(profile: &str) -> Error {
    Error::usage(format!(
        "no client secret is stored for profile \"{profile}\""
    ))
    .with_hint(
        "run `ccsetup rotate --client-secret` with the app's current Client Secret \
         (or `ccsetup init` to start over)",
    )
}
