//! Rotation safety net for refresh tokens.
//!
//! Constant Contact rotates refresh tokens: once a refresh token is redeemed
//! the old one is dead, so a new one that cannot be stored is lost access.
//! When storing a freshly rotated refresh token fails, the caller calls
//! [`save`], which writes it to `<config dir>/recovery/<profile>.refresh_token`
//! (0600, directory 0700) and returns the path to print (never the token).
//! At the start of the next run, [`take`] moves it into the secret store and
//! deletes the file only after the store accepted it.

use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::{EntryName, SecretKind, SecretStore};
use crate::error::{Error, Result};

/// The recovery directory.
pub fn recovery_dir(config_dir: &Path) -> PathBuf {
    config_dir.join("recovery")
}

/// Where `profile`'s pending refresh token is kept.
pub fn path(config_dir: &Path, profile: &str) -> Result<PathBuf> {
    super::profile_path(&recovery_dir(config_dir), profile, ".refresh_token")
}

/// Whether a recovered refresh token is waiting for `profile`.
pub fn pending(config_dir: &Path, profile: &str) -> Result<bool> {
    Ok(path(config_dir, profile)?.exists())
}

/// Writes `refresh_token` to the recovery file (atomically, 0600) and returns
/// its path. An existing recovery file is replaced: the newest token is the
/// only live one.
pub fn save(config_dir: &Path, profile: &str, refresh_token: &SecretString) -> Result<PathBuf> {
    let path = path(config_dir, profile)?;
    crate::fsutil::ensure_private_dir(config_dir)?;
    crate::fsutil::write_atomic(&path, refresh_token.expose_secret().as_bytes(), 0o600).map_err(
        |e| {
            Error::failure(format!(
                "the new refresh token could not be saved anywhere: {}",
                e.message()
            ))
            .with_hint(
                "the previous refresh token is no longer valid: re-run `ccsetup rotate \
                 --reauthorize` once the secret store or the config dir is writable again",
            )
        },
    )?;
    Ok(path)
}

/// If a recovery file exists for the profile of `entry`, stores its token as
/// the profile's refresh token in `store` and then deletes the file. Returns
/// the path of the file it consumed, or `None` when there was none. If the
/// store write fails the file is kept and the error returned.
pub fn take(
    config_dir: &Path,
    entry: &EntryName,
    store: &dyn SecretStore,
) -> Result<Option<PathBuf>> {
    let path = path(config_dir, entry.profile())?;
    let bytes = match std::fs::read(&path) {
        Ok(b) => Zeroizing::new(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(crate::fsutil::io_error(
                crate::error::ErrorKind::Failure,
                "read",
                &path,
                &e,
            ));
        }
    };
    let text = std::str::from_utf8(&bytes).map(str::trim).unwrap_or("");
    if text.is_empty() {
        return Err(Error::failure(format!(
            "the refresh token recovery file {} is empty or not text",
            path.display()
        ))
        .with_hint("remove it, then re-run `ccsetup rotate --reauthorize`"));
    }
    let token = SecretString::from(text.to_string());
    store
        .set(entry, SecretKind::RefreshToken, &token)
        .map_err(|e| {
            let mut err = Error::new(
                e.kind(),
                format!(
                    "the refresh token saved in {} could not be moved into the {}: {}",
                    path.display(),
                    store.describe(),
                    e.message()
                ),
            );
            if let Some(hint) = e.hint() {
                err = err.with_hint(format!(
                    "{hint}; the file is kept and retried on the next run"
                ));
            }
            err
        })?;
    crate::fsutil::remove_file_durable(&path).map_err(|e| {
        crate::fsutil::io_error(crate::error::ErrorKind::Failure, "remove", &path, &e)
    })?;
    Ok(Some(path))
}

/// Removes a pending recovery file (`reset`): its token belongs to a setup
/// that is being forgotten.
pub fn discard(config_dir: &Path, profile: &str) -> Result<()> {
    let path = path(config_dir, profile)?;
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(crate::fsutil::io_error(
            crate::error::ErrorKind::Failure,
            "remove",
            &path,
            &e,
        )),
    }
}
