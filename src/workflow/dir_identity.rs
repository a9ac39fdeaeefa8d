//! Which keyring names a config dir's secrets have (docs/contract.md
//! "Storage"): every config dir, the platform's default one included, names
//! its keyring entries `<profile>@<dir_id>:<kind>` with its own `dir_id`.
//!
//! The keyring is shared by every config dir of the user, so a dir must
//! never use a name another dir owns. Two things could make it do so:
//! - a copy of a dir (`cp -a`) carries the original's `dir_id`. So the id is
//!   kept with the canonical path it was made for (`dir_path`); a dir whose
//!   recorded path is another dir that still holds the same id is a copy,
//!   and gets a fresh id of its own (nothing of the original is read, moved
//!   or deleted). A recorded path that no longer holds that id means the
//!   dir was moved: it keeps its id.
//! - pre-v0.3 entries are named `<profile>:<kind>`, shared by every dir.
//!   Since v0.2 only the platform's default config dir wrote those names,
//!   so only the dir that *is* the default one (by canonical path, not by
//!   content: a copy has the same content) moves them to its own names,
//!   and only for the profiles its config.toml keeps in the keyring. Any
//!   other dir copies nothing and says why (they may be the default dir's,
//!   or a v0.1 dir's: nothing recorded which dir wrote them).
//!
//! Giving a dir its identity happens under a lock shared by every config
//! dir of the user ([`machine_lock_path`], in the default config dir) and
//! the dir's config lock. The move is crash-safe: the new id and the
//! profiles to move are written to config.toml before the first copy (so a
//! copy is never under an id nobody recorded), and the next run finishes
//! a move that was cut short before anything uses the names.

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::config::{self, ConfigFile};
use crate::error::Result;
use crate::store::{EntryName, SecretKind, SecretStore, StoreChoice};

/// The lock file shared by every config dir (kept in the default one).
pub const MACHINE_LOCK_FILE_NAME: &str = "keyring.lock";
/// How long giving a dir its identity waits for another dir doing so.
pub const MACHINE_LOCK_TIMEOUT: Duration = config::CONFIG_LOCK_TIMEOUT;

/// The lock every config dir takes before changing its keyring identity:
/// in the platform's default config dir (`default_dir`), or in the dir
/// itself when there is no default one (no home directory).
pub fn machine_lock_path(config_dir: &Path, default_dir: Option<&Path>) -> PathBuf {
    default_dir
        .unwrap_or(config_dir)
        .join(MACHINE_LOCK_FILE_NAME)
}

/// `path` with symlinks resolved once it exists, absolute before.
pub fn real_path(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// Whether `a` and `b` are the same directory.
pub fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || real_path(a) == real_path(b)
}

/// The profiles a config.toml keeps in the keyring.
pub fn keyring_profiles(file: &ConfigFile) -> Vec<String> {
    file.profiles
        .iter()
        .filter(|(_, p)| p.secret_store == StoreChoice::Keyring)
        .map(|(name, _)| name.clone())
        .collect()
}

/// The `dir_id` naming `config_dir`'s keyring entries. A dir without one
/// gets one when it first writes to the keyring (`create`) or when its
/// config.toml lists keyring profiles; `None`: no id and nothing to give
/// one for, so nothing of this dir can be in the keyring. `default_dir` is
/// the platform's default config dir, if there is one. Blocking.
pub fn dir_id(
    config_dir: &Path,
    default_dir: Option<&Path>,
    store: &dyn SecretStore,
    create: bool,
) -> Result<Option<String>> {
    let file = config::load(config_dir)?;
    if let (Some(id), Some(path)) = (&file.dir_id, &file.dir_path)
        && file.moving_legacy_entries.is_empty()
        && same_dir(Path::new(path), config_dir)
    {
        return Ok(Some(id.clone()));
    }
    if file.dir_id.is_none() && !create && keyring_profiles(&file).is_empty() {
        return Ok(None);
    }
    let _machine = crate::store::lock::FileLock::acquire(
        &machine_lock_path(config_dir, default_dir),
        MACHINE_LOCK_TIMEOUT,
    )?;
    let _config = config::lock(config_dir)?;
    establish(config_dir, default_dir, store).map(Some)
}

/// Gives `config_dir` its identity (both locks held): see the module docs.
fn establish(
    config_dir: &Path,
    default_dir: Option<&Path>,
    store: &dyn SecretStore,
) -> Result<String> {
    let mut file = config::load(config_dir)?;
    let here = real_path(config_dir);
    let here_text = here.to_string_lossy().into_owned();
    let is_default = default_dir.is_some_and(|d| same_dir(d, &here));
    let mut changed = true;
    match (file.dir_id.clone(), file.dir_path.clone()) {
        (Some(_), Some(path)) if same_dir(Path::new(&path), &here) => changed = false,
        (Some(id), Some(path)) if holds_dir_id(Path::new(&path), &id) => {
            tracing::warn!(
                "config dir {} is a copy of {path}: the keyring secrets stay with {path}; this \
                 dir gets its own keyring identity and has no secrets in the keyring yet (run \
                 `ccsetup init` with this --config-dir to set it up)",
                here.display()
            );
            file.dir_id = Some(crate::store::new_dir_id());
            file.moving_legacy_entries.clear();
        }
        // Moved (its old place no longer holds its id), or an id from v0.2,
        // which recorded no path: it stays this dir's.
        (Some(_), _) => {}
        (None, _) => {
            file.dir_id = Some(crate::store::new_dir_id());
            let listed = keyring_profiles(&file);
            if is_default {
                file.moving_legacy_entries = listed;
            } else if !listed.is_empty() {
                explain_unclaimed(config_dir, store, &listed);
            }
        }
    }
    if changed {
        file.dir_path = Some(here_text);
        // The commit point: the id, and the moves it owes, are recorded
        // before any entry is copied to its names.
        config::save(config_dir, &file)?;
    }
    let id = file.dir_id.clone().expect("set above");
    if !file.moving_legacy_entries.is_empty() {
        let moved = move_legacy_entries(store, &file.moving_legacy_entries, &id)?;
        file.moving_legacy_entries.clear();
        config::save(config_dir, &file)?;
        tracing::info!(
            dir_id = id,
            moved,
            "the default config dir has a keyring id now; its pre-v0.3 keyring entries were moved"
        );
    }
    Ok(id)
}

/// Whether the config dir at `path` (still) has `dir_id`. One that cannot
/// be read counts as having it: a copy must never take the original's
/// entries because the original was unreadable for a moment.
fn holds_dir_id(path: &Path, dir_id: &str) -> bool {
    if !crate::fsutil::exists_no_follow(&config::config_path(path)) {
        return false;
    }
    match config::load(path) {
        Ok(file) => file.dir_id.as_deref() == Some(dir_id),
        Err(_) => true,
    }
}

/// Moves the pre-v0.3 entries of `profiles` to this dir's names: copy, then
/// delete the old entry. Idempotent, so a move cut short is simply run
/// again. A copy that fails is an error (the move stays recorded and is
/// retried); an old entry that cannot be deleted stays (a warning; `reset`
/// removes it). Returns how many entries moved.
fn move_legacy_entries(store: &dyn SecretStore, profiles: &[String], id: &str) -> Result<usize> {
    let mut moved = 0;
    for profile in profiles {
        let (old, new) = (EntryName::legacy(profile), EntryName::in_dir(profile, id));
        for kind in SecretKind::ALL {
            let Some(value) = store.get(&old, kind)? else {
                continue;
            };
            store.set(&new, kind, &value)?;
            moved += 1;
            let still_same = matches!(
                store.get(&old, kind),
                Ok(Some(now)) if now.expose_secret() == value.expose_secret()
            );
            if still_same && let Err(e) = store.delete(&old, kind) {
                tracing::warn!(
                    "the old keyring entry {} was copied but could not be removed ({}); \
                     `ccsetup reset` removes it",
                    old.user(kind),
                    e.message()
                );
            }
        }
    }
    Ok(moved)
}

/// Says why a dir other than the default one, listing keyring profiles
/// but without an id, gets no secrets from the pre-v0.3 names.
fn explain_unclaimed(config_dir: &Path, store: &dyn SecretStore, listed: &[String]) {
    let legacy_present = listed.iter().any(|p| {
        [SecretKind::ClientSecret, SecretKind::RefreshToken]
            .iter()
            .any(|k| matches!(store.get(&EntryName::legacy(p), *k), Ok(Some(_))))
    });
    let names = listed.join(", ");
    if legacy_present {
        tracing::warn!(
            "config dir {} lists keyring profile(s) {names} but had no keyring identity: the \
             keyring entries named `<profile>:<kind>` belong to the default config dir (or to a \
             dir set up by ccsetup v0.1), and nothing records that they were written for this \
             dir, so they were left where they are. This dir now has its own identity; run \
             `ccsetup init` with this --config-dir to set the profile up here",
            config_dir.display()
        );
    } else {
        tracing::warn!(
            "config dir {} lists keyring profile(s) {names} but had no keyring identity and no \
             secrets of its own in the keyring (a copy of another config dir?). This dir now \
             has its own identity; run `ccsetup init` with this --config-dir to set the profile \
             up here",
            config_dir.display()
        );
    }
}

/// Every keyring name `profile` of `config_dir` may have left: its own
/// names, and in the default config dir the pre-v0.3 names (a move that
/// could not delete one). What `reset` deletes.
pub fn all_names(
    entry: &EntryName,
    config_dir: &Path,
    default_dir: Option<&Path>,
) -> Vec<EntryName> {
    let mut names = vec![entry.clone()];
    if default_dir.is_some_and(|d| same_dir(d, config_dir)) {
        let legacy = EntryName::legacy(entry.profile());
        if legacy != *entry {
            names.push(legacy);
        }
    }
    names
}
