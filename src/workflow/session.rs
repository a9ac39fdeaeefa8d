//! One profile's local state: its secret store, its lock and its entry in
//! `config.toml`. Every workflow reaches the store, the lock and the config
//! through here, so each has one timeout, one error and one writer.
//!
//! Lock order: the profile lock (held by `token`, `init`, `rotate` and
//! `reset` around their secret writes), then the config lock (held only
//! around one read-modify-write of config.toml), or, while a dir gets its
//! keyring identity, the lock shared by every config dir and then the
//! config lock. Nothing waits for a profile lock while holding the others,
//! so two runs never wait for each other.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use crate::config::{self, ProfileConfig};
use crate::error::{Error, Result};
use crate::store::{EntryName, ProfileLock, SecretKind, SecretStore, StoreChoice, recovery};

/// This profile's store, lock and settings.
#[derive(Clone)]
pub struct ProfileSession {
    config_dir: PathBuf,
    profile: String,
    store: Arc<dyn SecretStore>,
    /// The platform's default config dir, if there is one (the caller
    /// knows where): it holds the lock shared by every config dir, and only
    /// it may move the pre-v0.3 keyring entries ([`crate::store::identity`]).
    default_dir: Option<PathBuf>,
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
            default_dir: None,
            entry: Arc::new(Mutex::new(None)),
        }
    }

    /// Names the platform's default config dir (`None`: there is none).
    pub fn with_default_config_dir(mut self, default_dir: Option<PathBuf>) -> Self {
        self.default_dir = default_dir;
        self
    }

    /// A session of another profile of the same config dir, on `store`.
    pub fn sibling(&self, profile: &str, store: Arc<dyn SecretStore>) -> ProfileSession {
        ProfileSession::new(self.config_dir.clone(), profile.to_string(), store)
            .with_default_config_dir(self.default_dir.clone())
    }

    /// The names of this profile's entries in its store. The file store
    /// needs none but the profile. Keyring entries carry the dir's id
    /// ([`crate::workflow::dir_identity::dir_id`]: created when the dir first
    /// writes to the keyring (`create`) or lists keyring profiles).
    /// `None`: the dir has no id and lists no keyring profile, so nothing
    /// of it can be in the keyring.
    /// Blocking (config.toml, keyring): call it on the blocking pool.
    fn entry_name(&self, create: bool) -> Result<Option<EntryName>> {
        if self.store.choice() != StoreChoice::Keyring {
            return Ok(Some(EntryName::legacy(&self.profile)));
        }
        let mut slot = self.entry.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(entry) = slot.as_ref() {
            return Ok(Some(entry.clone()));
        }
        let Some(id) = crate::workflow::dir_identity::dir_id(
            &self.config_dir,
            self.default_dir.as_deref(),
            self.store.as_ref(),
            create,
        )?
        else {
            return Ok(None);
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

    /// Under a signal deferral (a token being stored): the `calls` store
    /// calls starting now may each take the store's whole timeout.
    fn extend_deferral(&self, calls: u32) {
        crate::interrupt::extend_deferral(self.store.call_timeout().saturating_mul(calls));
    }

    /// Proves the store works: a bounded write/read/delete.
    pub async fn probe(&self) -> Result<()> {
        let store = self.store.clone();
        blocking(move || store.probe()).await
    }

    pub async fn get(&self, kind: SecretKind) -> Result<Option<SecretString>> {
        self.extend_deferral(1);
        let this = self.clone();
        blocking(move || this.get_now(kind)).await
    }

    /// [`Self::get`] on this thread, for a caller without the async runtime
    /// (`token` answering from its cache). Blocking.
    pub fn get_now(&self, kind: SecretKind) -> Result<Option<SecretString>> {
        match self.entry_name(false)? {
            Some(entry) => self.store.get(&entry, kind),
            None => Ok(None),
        }
    }

    pub async fn set(&self, kind: SecretKind, value: &SecretString) -> Result<()> {
        self.extend_deferral(1);
        let (this, value) = (self.clone(), value.clone());
        blocking(move || {
            let entry = this.entry_name(true)?.expect("created on demand");
            this.store.set(&entry, kind, &value)
        })
        .await
    }

    /// Deleting what is not there is not an error. In the default config
    /// dir the pre-v0.3 name goes too (a move that could not remove it).
    pub async fn delete(&self, kind: SecretKind) -> Result<()> {
        self.extend_deferral(2);
        let this = self.clone();
        blocking(move || match this.entry_name(false)? {
            Some(entry) => {
                for name in crate::workflow::dir_identity::all_names(
                    &entry,
                    &this.config_dir,
                    this.default_dir.as_deref(),
                ) {
                    this.store.delete(&name, kind)?;
                }
                Ok(())
            }
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

    /// The profile's exclusive lock, waiting for another process at most
    /// [`Self::lock_wait`].
    pub async fn lock(&self) -> Result<ProfileLock> {
        let wait = self.lock_wait();
        crate::interrupt::extend_deferral(wait);
        let (dir, profile) = (self.config_dir.clone(), self.profile.clone());
        blocking(move || ProfileLock::acquire(&dir, &profile, wait)).await
    }

    /// How long to wait for the profile lock: as long as the process holding
    /// it may legitimately take to redeem a refresh token and store the
    /// answer (its signal deferral, `tokens::redeem_deferral`), and never
    /// less than [`crate::store::lock::DEFAULT_TIMEOUT`]. A shorter wait
    /// would fail a second `token` while the first is still doing its job.
    pub fn lock_wait(&self) -> std::time::Duration {
        let refresh = super::tokens::redeem_deferral(
            &crate::oauth::retry::RetryPolicy::default(),
            self.store.as_ref(),
        );
        crate::store::lock::DEFAULT_TIMEOUT.max(refresh)
    }

    /// Puts back a refresh token that an earlier run saved to a recovery
    /// file because the store refused it. The caller holds the lock: of two
    /// runs that both saw the file, the second must not put the token back
    /// after the first has rotated it. Returns what was done with the file.
    pub async fn recover_refresh_token_locked(&self) -> Result<Option<recovery::Taken>> {
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
    pub async fn recover_refresh_token(&self) -> Result<Option<recovery::Taken>> {
        if !self.recovery_pending()? {
            return Ok(None);
        }
        let _lock = self.lock().await?;
        self.recover_refresh_token_locked().await
    }

    /// Whether a refresh token waits in a recovery file (one `stat`).
    pub fn recovery_pending(&self) -> Result<bool> {
        recovery::pending(&self.config_dir, &self.profile)
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

    use secrecy::ExposeSecret;

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
        fn call_timeout(&self) -> std::time::Duration {
            std::time::Duration::from_secs(1)
        }
    }

    #[test]
    fn the_lock_waits_as_long_as_a_refresh_may_hold_it() {
        let tmp = tempfile::tempdir().unwrap();
        let keyring =
            crate::store::keyring::KeyringStore::new(crate::store::keyring::DEFAULT_TIMEOUT);
        let session = ProfileSession::new(tmp.path().into(), "default".into(), Arc::new(keyring));
        let refresh = crate::workflow::tokens::redeem_deferral(
            &crate::oauth::retry::RetryPolicy::default(),
            session.store().as_ref(),
        );
        assert!(refresh > crate::store::lock::DEFAULT_TIMEOUT, "{refresh:?}");
        assert!(session.lock_wait() >= refresh);
    }

    fn v01_dir(dir: &Path) {
        let text = "[profiles.default]\nclient_id = \"c\"\napp_name = \"a\"\nscopes = []\n\
                    redirect_port = 8917\nsecret_store = \"keyring\"\ncreated_at = \"x\"\n\
                    updated_at = \"x\"\n";
        std::fs::create_dir_all(dir).unwrap();
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

    fn session(dir: &Path, default: &Path, store: &Arc<MemoryKeyring>) -> ProfileSession {
        ProfileSession::new(dir.into(), "default".into(), store.clone())
            .with_default_config_dir(Some(default.into()))
    }

    /// A temp dir with a default config dir in it.
    fn dirs() -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let default = tmp.path().join("default");
        (tmp, default)
    }

    #[test]
    fn the_default_dir_gets_an_id_and_its_old_entries_move() {
        let (_tmp, default) = dirs();
        v01_dir(&default);
        let store = keyring_with_v01_entries(false);
        let entry = session(&default, &default, &store)
            .entry_name(false)
            .unwrap()
            .unwrap();
        let file = config::load(&default).unwrap();
        let id = file.dir_id.unwrap();
        assert_eq!(entry, EntryName::in_dir("default", &id));
        assert!(file.moving_legacy_entries.is_empty());
        assert_eq!(
            users(&store),
            vec![
                format!("default@{id}:client_secret"),
                format!("default@{id}:refresh_token"),
                "other:refresh_token".to_string(),
            ]
        );
    }

    #[test]
    fn another_dir_without_id_takes_nothing() {
        let (tmp, default) = dirs();
        let copy = tmp.path().join("copy");
        v01_dir(&copy);
        let store = keyring_with_v01_entries(false);
        let before = users(&store);
        let entry = session(&copy, &default, &store)
            .entry_name(false)
            .unwrap()
            .unwrap();
        let id = config::load(&copy).unwrap().dir_id.unwrap();
        assert_eq!(entry, EntryName::in_dir("default", &id));
        assert_eq!(users(&store), before, "the old entries are not this dir's");
    }

    #[test]
    fn a_copy_of_a_dir_gets_its_own_id_and_a_moved_dir_keeps_its_own() {
        let (tmp, default) = dirs();
        v01_dir(&default);
        let store = keyring_with_v01_entries(false);
        session(&default, &default, &store)
            .entry_name(false)
            .unwrap();
        let id = config::load(&default).unwrap().dir_id.unwrap();
        let before = users(&store);
        // cp -a: same config.toml, elsewhere.
        let copy = tmp.path().join("copy");
        std::fs::create_dir_all(&copy).unwrap();
        std::fs::copy(config::config_path(&default), config::config_path(&copy)).unwrap();
        let entry = session(&copy, &default, &store)
            .entry_name(false)
            .unwrap()
            .unwrap();
        let copy_id = config::load(&copy).unwrap().dir_id.unwrap();
        assert_ne!(copy_id, id);
        assert_eq!(entry, EntryName::in_dir("default", &copy_id));
        assert_eq!(users(&store), before);
        // The original keeps its id.
        let entry = session(&default, &default, &store)
            .entry_name(false)
            .unwrap()
            .unwrap();
        assert_eq!(entry, EntryName::in_dir("default", &id));
        // mv: the old place no longer holds the id, so it is still this dir's.
        let moved = tmp.path().join("moved");
        std::fs::rename(&default, &moved).unwrap();
        let entry = session(&moved, &default, &store)
            .entry_name(false)
            .unwrap()
            .unwrap();
        assert_eq!(entry, EntryName::in_dir("default", &id));
        assert_eq!(
            config::load(&moved).unwrap().dir_path.unwrap(),
            crate::workflow::dir_identity::real_path(&moved).to_string_lossy()
        );
    }

    #[test]
    fn a_move_cut_short_is_finished_by_the_next_run() {
        let (_tmp, default) = dirs();
        v01_dir(&default);
        let store = keyring_with_v01_entries(false);
        // What a kill -9 after the commit point and one copy leaves.
        let id = "0123456789abcdef";
        config::update(&default, |f| {
            f.dir_id = Some(id.into());
            f.dir_path = Some(
                crate::workflow::dir_identity::real_path(&default)
                    .to_string_lossy()
                    .into_owned(),
            );
            f.moving_legacy_entries = vec!["default".into()];
            true
        })
        .unwrap();
        store
            .entries
            .lock()
            .unwrap()
            .insert(format!("default@{id}:client_secret"), "cs".into());
        session(&default, &default, &store)
            .entry_name(false)
            .unwrap();
        assert_eq!(
            users(&store),
            vec![
                format!("default@{id}:client_secret"),
                format!("default@{id}:refresh_token"),
                "other:refresh_token".to_string(),
            ]
        );
        assert!(
            config::load(&default)
                .unwrap()
                .moving_legacy_entries
                .is_empty()
        );
    }

    #[test]
    fn a_failed_move_keeps_the_old_entries_and_stays_recorded() {
        let (_tmp, default) = dirs();
        v01_dir(&default);
        let store = keyring_with_v01_entries(true);
        assert!(
            session(&default, &default, &store)
                .entry_name(false)
                .is_err()
        );
        let file = config::load(&default).unwrap();
        assert!(
            file.dir_id.is_some(),
            "copies are only ever under a recorded id"
        );
        assert_eq!(file.moving_legacy_entries, vec!["default".to_string()]);
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
        let (tmp, default) = dirs();
        let dir = tmp.path().join("fresh");
        let store = keyring_with_v01_entries(false);
        let s = session(&dir, &default, &store);
        // No keyring profile listed: the old entries are not this dir's.
        assert_eq!(s.entry_name(false).unwrap(), None);
        assert!(!config::config_path(&dir).exists());
        let entry = s.entry_name(true).unwrap().unwrap();
        let id = config::load(&dir).unwrap().dir_id.unwrap();
        assert_eq!(entry, EntryName::in_dir("default", &id));
        assert!(users(&store).contains(&"default:refresh_token".to_string()));
    }
}
