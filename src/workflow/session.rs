//! One profile's local state: its secret store, its lock and its entry in
//! `config.toml`. Every workflow reaches the store, the lock and the config
//! through here, so each has one timeout, one error and one writer.
//!
//! Lock order: the profile lock (held by `token`, `init`, `rotate` and
//! `reset` around their secret writes), then the config lock (held only
//! around one read-modify-write of config.toml, or while a dir gets its id).
//! Nothing waits for a profile lock while holding the config lock, so two
//! runs never wait for each other.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use secrecy::{ExposeSecret, SecretString};

use crate::config::{self, ConfigFile, ProfileConfig};
use crate::error::{Error, Result};
use crate::store::{EntryName, ProfileLock, SecretKind, SecretStore, StoreChoice, recovery};

/// This profile's store, lock and settings.
#[derive(Clone)]
pub struct ProfileSession {
    config_dir: PathBuf,
    profile: String,
    store: Arc<dyn SecretStore>,
    /// Whether `config_dir` is the platform's default config dir, whose
    /// keyring entries carry no dir id (decided by the caller, which knows
    /// where the default dir is).
    default_dir: bool,
    /// The names of this profile's keyring entries, once known.
    entry: Arc<Mutex<Option<EntryName>>>,
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
    /// A session on a config dir that is not the platform's default one
    /// (its keyring entries carry its dir id; see [`Self::in_default_dir`]).
    pub fn new(config_dir: PathBuf, profile: String, store: Arc<dyn SecretStore>) -> Self {
        ProfileSession {
            config_dir,
            profile,
            store,
            default_dir: false,
            entry: Arc::new(Mutex::new(None)),
        }
    }

    /// Marks `config_dir` as the platform's default config dir (or not):
    /// its keyring entries are named `<profile>:<kind>`, as before v0.2.
    pub fn in_default_dir(mut self, default_dir: bool) -> Self {
        self.default_dir = default_dir;
        self
    }

    /// The names of this profile's entries in its store. The file store and
    /// the default dir need none but the profile. Another dir's keyring
    /// entries carry the dir id from config.toml; a dir without one gets
    /// one when it first writes to the keyring (`create`), or when its
    /// config.toml lists keyring profiles written before ids existed (their
    /// entries are moved: [`create_dir_id`]). `None`: the dir has no id and
    /// nothing to move, so nothing of it can be in the keyring.
    /// Blocking (config.toml, keyring): call it on the blocking pool.
    fn entry_name(&self, create: bool) -> Result<Option<EntryName>> {
        if self.default_dir || self.store.choice() != StoreChoice::Keyring {
            return Ok(Some(EntryName::default_dir(&self.profile)));
        }
        let mut slot = self.entry.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = slot.as_ref() {
            return Ok(Some(entry.clone()));
        }
        let file = config::load(&self.config_dir)?;
        let id = match file.dir_id {
            Some(id) => id,
            None if !create && keyring_profiles(&file).is_empty() => return Ok(None),
            None => create_dir_id(&self.config_dir, self.store.as_ref())?,
        };
        let entry = EntryName::in_dir(&self.profile, &id);
        *slot = Some(entry.clone());
        Ok(Some(entry))
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
        let this = self.clone();
        blocking(move || match this.entry_name(false)? {
            Some(entry) => this.store.get(&entry, kind),
            None => Ok(None),
        })
        .await
    }

    pub async fn set(&self, kind: SecretKind, value: &SecretString) -> Result<()> {
        let (this, value) = (self.clone(), value.clone());
        blocking(move || {
            let entry = this.entry_name(true)?.expect("created on demand");
            this.store.set(&entry, kind, &value)
        })
        .await
    }

    /// Deleting what is not there is not an error.
    pub async fn delete(&self, kind: SecretKind) -> Result<()> {
        let this = self.clone();
        blocking(move || match this.entry_name(false)? {
            Some(entry) => this.store.delete(&entry, kind),
            None => Ok(()),
        })
        .await
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
        let this = self.clone();
        blocking(move || {
            if !recovery::pending(&this.config_dir, &this.profile)? {
                return Ok(None);
            }
            let entry = this.entry_name(true)?.expect("created on demand");
            recovery::take(&this.config_dir, &entry, this.store.as_ref())
        })
        .await
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
    /// re-read under the config lock, not overwritten with a stale copy).
    pub fn save_config(&self, settings: &ProfileConfig) -> Result<()> {
        config::update(&self.config_dir, |file| {
            file.upsert(&self.profile, settings.clone());
            true
        })
        .map(|_| ())
    }

    /// Read, change and write this profile's settings in one step (under the
    /// config lock); a profile that is not in the file is left alone.
    /// Returns the settings written.
    pub fn update_config(
        &self,
        change: impl FnOnce(&mut ProfileConfig),
    ) -> Result<Option<ProfileConfig>> {
        let mut written = None;
        config::update(&self.config_dir, |file| {
            let Some(settings) = file.profile_mut(&self.profile) else {
                return false;
            };
            change(settings);
            settings.updated_at = crate::clock::now_rfc3339();
            written = Some(settings.clone());
            true
        })?;
        Ok(written)
    }

    /// Removes this profile from `config.toml` (under the config lock);
    /// whether it was there.
    pub fn remove_config(&self) -> Result<bool> {
        config::update(&self.config_dir, |file| {
            file.remove(&self.profile).is_some()
        })
    }
}

/// The profiles a config.toml keeps in the keyring.
fn keyring_profiles(file: &ConfigFile) -> Vec<String> {
    file.profiles
        .iter()
        .filter(|(_, p)| p.secret_store == StoreChoice::Keyring)
        .map(|(name, _)| name.clone())
        .collect()
}

/// Gives a config dir (not the default one) its id, under the config lock,
/// and moves the keyring entries of the profiles its config.toml keeps in
/// the keyring from their v0.1 names (`<profile>:<kind>`, shared by every
/// dir) to this dir's names. Crash-safe order: copy each old entry to its
/// new name; write the id to config.toml (the commit point: a crash before
/// it leaves the old entries as they were, and the next run starts again
/// with another id); then delete each old entry that still holds the value
/// copied (another dir may have written that name meanwhile: it keeps its
/// value). Returns the id.
fn create_dir_id(config_dir: &Path, store: &dyn SecretStore) -> Result<String> {
    let _lock = config::lock(config_dir)?;
    let mut file = config::load(config_dir)?;
    if let Some(id) = &file.dir_id {
        // Another run got here first.
        return Ok(id.clone());
    }
    let id = crate::store::new_dir_id();
    let mut copied = Vec::new();
    for profile in keyring_profiles(&file) {
        let (old, new) = (
            EntryName::default_dir(&profile),
            EntryName::in_dir(&profile, &id),
        );
        for kind in SecretKind::ALL {
            if let Some(value) = store.get(&old, kind)? {
                store.set(&new, kind, &value)?;
                copied.push((old.clone(), kind, value));
            }
        }
    }
    file.dir_id = Some(id.clone());
    config::save(config_dir, &file)?;
    for (old, kind, value) in &copied {
        let still_ours = matches!(
            store.get(old, *kind),
            Ok(Some(now)) if now.expose_secret() == value.expose_secret()
        );
        if still_ours && let Err(e) = store.delete(old, *kind) {
            tracing::warn!(
                entry = old.user(*kind),
                error = e.message(),
                "old entry kept"
            );
        }
    }
    tracing::info!(
        dir_id = id,
        moved = copied.len(),
        "this config dir has an id now; its v0.1 keyring entries were moved"
    );
    Ok(id)
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    /// An in-memory keyring; `fail_sets` makes every write fail.
    #[derive(Default)]
    struct MemoryKeyring {
        entries: Mutex<BTreeMap<String, String>>,
        fail_sets: bool,
    }

    impl SecretStore for MemoryKeyring {
        fn choice(&self) -> StoreChoice {
            StoreChoice::Keyring
        }
        fn describe(&self) -> String {
            "memory keyring".into()
        }
        fn get(&self, entry: &EntryName, kind: SecretKind) -> Result<Option<SecretString>> {
            let entries = self.entries.lock().unwrap();
            Ok(entries
                .get(&entry.user(kind))
                .cloned()
                .map(SecretString::from))
        }
        fn set(&self, entry: &EntryName, kind: SecretKind, value: &SecretString) -> Result<()> {
            if self.fail_sets {
                return Err(Error::secret_store("refused"));
            }
            let mut entries = self.entries.lock().unwrap();
            entries.insert(entry.user(kind), value.expose_secret().to_string());
            Ok(())
        }
        fn delete(&self, entry: &EntryName, kind: SecretKind) -> Result<()> {
            self.entries.lock().unwrap().remove(&entry.user(kind));
            Ok(())
        }
        fn probe(&self) -> Result<()> {
            Ok(())
        }
    }

    fn v01_dir(dir: &Path) {
        let text = "[profiles.default]\nclient_id = \"c\"\napp_name = \"a\"\nscopes = []\n\
                    redirect_port = 8917\nsecret_store = \"keyring\"\ncreated_at = \"x\"\n\
                    updated_at = \"x\"\n";
        std::fs::write(config::config_path(dir), text).unwrap();
    }

    fn keyring_with_v01_entries(fail_sets: bool) -> Arc<MemoryKeyring> {
        let store = Arc::new(MemoryKeyring {
            fail_sets,
            ..Default::default()
        });
        let mut entries = store.entries.lock().unwrap();
        entries.insert("default:client_secret".into(), "cs".into());
        entries.insert("default:refresh_token".into(), "rt".into());
        entries.insert("other:refresh_token".into(), "not this dir's".into());
        drop(entries);
        store
    }

    fn users(store: &MemoryKeyring) -> Vec<String> {
        store.entries.lock().unwrap().keys().cloned().collect()
    }

    #[test]
    fn a_v01_dir_gets_an_id_and_its_entries_move() {
        let tmp = tempfile::tempdir().unwrap();
        v01_dir(tmp.path());
        let store = keyring_with_v01_entries(false);
        let session = ProfileSession::new(tmp.path().into(), "default".into(), store.clone());
        let entry = session.entry_name(false).unwrap().unwrap();
        let id = config::load(tmp.path()).unwrap().dir_id.unwrap();
        assert_eq!(entry, EntryName::in_dir("default", &id));
        assert_eq!(
            users(&store),
            vec![
                format!("default@{id}:client_secret"),
                format!("default@{id}:refresh_token"),
                "other:refresh_token".to_string(),
            ]
        );
        // The default dir's session keeps the v0.1 names.
        let default = ProfileSession::new(tmp.path().into(), "default".into(), store.clone())
            .in_default_dir(true);
        assert_eq!(
            default.entry_name(false).unwrap().unwrap(),
            EntryName::default_dir("default")
        );
    }

    #[test]
    fn a_failed_move_keeps_the_old_entries_and_no_id() {
        let tmp = tempfile::tempdir().unwrap();
        v01_dir(tmp.path());
        let store = keyring_with_v01_entries(true);
        let session = ProfileSession::new(tmp.path().into(), "default".into(), store.clone());
        assert!(session.entry_name(false).is_err());
        assert_eq!(config::load(tmp.path()).unwrap().dir_id, None);
        assert_eq!(
            users(&store),
            vec![
                "default:client_secret",
                "default:refresh_token",
                "other:refresh_token"
            ]
        );
    }

    #[test]
    fn a_dir_without_id_reads_nothing_and_writes_nothing_until_a_write() {
        let tmp = tempfile::tempdir().unwrap();
        let store = keyring_with_v01_entries(false);
        let session = ProfileSession::new(tmp.path().into(), "default".into(), store.clone());
        // No keyring profile listed: the v0.1 entries are not this dir's.
        assert_eq!(session.entry_name(false).unwrap(), None);
        assert!(!config::config_path(tmp.path()).exists());
        let entry = session.entry_name(true).unwrap().unwrap();
        let id = config::load(tmp.path()).unwrap().dir_id.unwrap();
        assert_eq!(entry, EntryName::in_dir("default", &id));
        assert!(users(&store).contains(&"default:refresh_token".to_string()));
    }
}
