//! The file backend (`--store file`, an explicit opt-in).
//!
//! One JSON object per profile, `<config dir>/secrets/<profile>.json`, mode
//! 0600 in a 0700 directory, keyed by [`SecretKind::as_str`]:
//! `{"client_secret":"…","refresh_token":"…"}`. Every change is a
//! read-modify-write under a per-profile lock file (`locks/<profile>.secrets.lock`)
//! and an atomic replace ([`crate::fsutil::write_atomic_as`]). A file that
//! cannot be parsed is an error (exit 5) naming its path and is never
//! rewritten. Keys ccsetup does not know are kept as they are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use zeroize::{Zeroize, Zeroizing};

use super::{EntryName, SecretKind, SecretStore, StoreChoice};
use crate::error::{Error, ErrorKind, Result};

/// How long a write waits for another process writing the same profile.
const WRITE_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// The directory holding the per-profile secret files.
pub fn secrets_dir(config_dir: &Path) -> PathBuf {
    config_dir.join("secrets")
}

/// A 0600 JSON file per profile in the config dir.
#[derive(Debug, Clone)]
pub struct FileStore {
    config_dir: PathBuf,
}

/// The parsed content of one file; zeroed when dropped.
#[derive(Default)]
struct Secrets(BTreeMap<String, String>);

impl Drop for Secrets {
    fn drop(&mut self) {
        for value in self.0.values_mut() {
            value.zeroize();
        }
    }
}

impl FileStore {
    pub fn new(config_dir: &Path) -> Self {
        FileStore {
            config_dir: config_dir.to_path_buf(),
        }
    }

    /// The file holding `profile`'s secrets.
    pub fn path_for(&self, profile: &str) -> Result<PathBuf> {
        super::profile_path(&secrets_dir(&self.config_dir), profile, ".json")
    }

    fn read(&self, path: &Path) -> Result<Secrets> {
        crate::fsutil::check_trusted_dirs_of(&self.config_dir, path)?;
        let bytes = match crate::fsutil::read_private_file(path) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(Secrets::default()),
            Err(e) => {
                return Err(crate::fsutil::io_error(
                    ErrorKind::SecretStore,
                    "read",
                    path,
                    &e,
                ));
            }
        };
        match serde_json::from_slice::<BTreeMap<String, String>>(&bytes) {
            Ok(map) => Ok(Secrets(map)),
            // Only the position: serde's messages can quote file content.
            Err(e) => Err(Error::secret_store(format!(
                "{} is not a valid ccsetup secrets file (JSON error at line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            ))
            .with_hint(
                "ccsetup will not overwrite it: fix it or move it away, then store the secrets \
                 again (`ccsetup rotate` or `ccsetup init`)",
            )),
        }
    }

    fn write(&self, path: &Path, secrets: &Secrets) -> Result<()> {
        let bytes = Zeroizing::new(serde_json::to_vec_pretty(&secrets.0).map_err(|e| {
            Error::secret_store("cannot encode the secrets file")
                .with_source(anyhow::anyhow!("{e}"))
        })?);
        crate::fsutil::write_atomic_as(ErrorKind::SecretStore, path, &bytes, 0o600)
    }

    /// Read-modify-write of `profile`'s file under its write lock.
    fn update(&self, profile: &str, change: impl FnOnce(&mut Secrets) -> bool) -> Result<()> {
        let path = self.path_for(profile)?;
        crate::fsutil::ensure_private_dir_as(ErrorKind::SecretStore, &self.config_dir)?;
        let lock_path = super::profile_path(
            &super::lock::locks_dir(&self.config_dir),
            profile,
            ".secrets.lock",
        )?;
        let _lock = super::lock::FileLock::acquire(&lock_path, WRITE_LOCK_TIMEOUT)
            .map_err(|e| super::rekind(e, ErrorKind::SecretStore))?;
        let mut secrets = self.read(&path)?;
        if !change(&mut secrets) {
            return Ok(());
        }
        if secrets.0.is_empty() {
            crate::fsutil::remove_file_durable(&path)
                .map_err(|e| crate::fsutil::io_error(ErrorKind::SecretStore, "remove", &path, &e))
        } else {
            self.write(&path, &secrets)
        }
    }
}

impl SecretStore for FileStore {
    fn choice(&self) -> StoreChoice {
        StoreChoice::File
    }

    fn describe(&self) -> String {
        format!(
            "file store (0600 JSON files in {})",
            secrets_dir(&self.config_dir).display()
        )
    }

    // The files live in the config dir itself: the profile names them.
    fn get(&self, entry: &EntryName, kind: SecretKind) -> Result<Option<SecretString>> {
        let path = self.path_for(entry.profile())?;
        let secrets = self.read(&path)?;
        Ok(secrets
            .0
            .get(kind.as_str())
            .map(|v| SecretString::from(v.clone())))
    }

    fn set(&self, entry: &EntryName, kind: SecretKind, value: &SecretString) -> Result<()> {
        self.update(entry.profile(), |s| {
            if let Some(mut old) =
                s.0.insert(kind.as_str().to_string(), value.expose_secret().to_string())
            {
                old.zeroize();
            }
            true
        })
    }

    fn delete(&self, entry: &EntryName, kind: SecretKind) -> Result<()> {
        let path = self.path_for(entry.profile())?;
        if !path.exists() {
            return Ok(());
        }
        self.update(entry.profile(), |s| match s.0.remove(kind.as_str()) {
            Some(mut old) => {
                old.zeroize();
                true
            }
            None => false,
        })
    }

    /// The write lock's wait, and a few seconds for the write and fsyncs
    /// (a local file: no timeout of its own).
    fn call_timeout(&self) -> Duration {
        WRITE_LOCK_TIMEOUT + Duration::from_secs(5)
    }

    /// Writes, reads back and removes a throwaway file in the secrets dir,
    /// or, before there is one, in the config dir that will hold it: making
    /// the secrets dir for the probe and removing it again raced with
    /// another run creating it at the same time. A check (`init --dry-run`,
    /// `doctor`) leaves nothing behind.
    fn probe(&self) -> Result<()> {
        let dir = secrets_dir(&self.config_dir);
        crate::fsutil::ensure_private_dir_as(ErrorKind::SecretStore, &self.config_dir)?;
        if dir.is_dir() {
            probe_dir(&dir)
        } else {
            probe_dir(&self.config_dir)
        }
    }
}

/// Writes, reads back and removes a throwaway file in `dir`.
fn probe_dir(dir: &Path) -> Result<()> {
    let path = dir.join(format!("ccsetup-probe-{}.json", super::random_hex(8)));
    let value = super::random_hex(16);
    crate::fsutil::write_atomic_as(ErrorKind::SecretStore, &path, value.as_bytes(), 0o600)?;
    let back = std::fs::read(&path);
    let removed = crate::fsutil::remove_file_durable(&path);
    let back =
        back.map_err(|e| crate::fsutil::io_error(ErrorKind::SecretStore, "read", &path, &e))?;
    removed.map_err(|e| crate::fsutil::io_error(ErrorKind::SecretStore, "remove", &path, &e))?;
    if back != value.as_bytes() {
        return Err(Error::secret_store(format!(
            "{} read back different content than was written",
            path.display()
        )));
    }
    Ok(())
}
