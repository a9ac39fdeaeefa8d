//! Rotation safety net for refresh tokens.
//!
//! Constant Contact rotates refresh tokens: once a refresh token is redeemed
//! the old one is dead, so a new one that cannot be stored is lost access.
//! When storing a freshly rotated refresh token fails, the caller calls
//! [`save`], which writes it to `<config dir>/recovery/<profile>.refresh_token`
//! (0600, directory 0700) and returns the path to print (never the token).
//! At the start of the next run, [`take`] moves it into the secret store and
//! deletes the file only after the store accepted it.
//!
//! A full disk would defeat that (the store and the recovery file usually
//! share it), so before a refresh token is redeemed the caller takes a
//! [`Reservation`]: the recovery file, created 0600 and filled with
//! [`RESERVED_BYTES`] zero bytes, fsynced. If that fails, nothing is
//! redeemed. After the redeem the new token is written into the already
//! allocated file ([`Reservation::keep`]) when the store refuses it, or the
//! file is removed ([`Reservation::release`]). A reservation that was never
//! filled (the process was killed) is empty or holds only zero bytes: the
//! next [`take`] removes it and says so ([`Taken::DeadReservationRemoved`]).

use std::path::{Path, PathBuf};

use std::io::{Seek, Write};

use secrecy::{ExposeSecret, SecretString};

use super::{EntryName, SecretKind, SecretStore};
use crate::error::{Error, ErrorKind, Result};

/// The recovery directory.
pub fn recovery_dir(config_dir: &Path) -> PathBuf {
    config_dir.join("recovery")
}

/// Where `profile`'s pending refresh token is kept.
pub fn path(config_dir: &Path, profile: &str) -> Result<PathBuf> {
    super::profile_path(&recovery_dir(config_dir), profile, ".refresh_token")
}

/// Whether a recovered refresh token (or an unfilled reservation) is
/// waiting for `profile`.
pub fn pending(config_dir: &Path, profile: &str) -> Result<bool> {
    let path = path(config_dir, profile)?;
    crate::fsutil::check_trusted_dirs_of(config_dir, &path)?;
    Ok(crate::fsutil::exists_no_follow(&path))
}

/// Bytes set aside for a refresh token: far more than Constant Contact's
/// (a few dozen characters), little enough to fit almost any disk.
pub const RESERVED_BYTES: usize = 4096;

/// Room for the next refresh token, allocated before it is redeemed (see the
/// module docs). Dropping it unused removes the file.
#[derive(Debug)]
pub struct Reservation {
    file: Option<std::fs::File>,
    path: PathBuf,
    dir: PathBuf,
}

impl Reservation {
    /// Creates the recovery file of `profile` with [`RESERVED_BYTES`] zero
    /// bytes, fsynced. Fails (exit 5: the token could not be kept, so the
    /// refresh must not start) when the disk is full or the dir unwritable,
    /// and when a recovery file already exists (call [`take`] first).
    pub fn reserve(config_dir: &Path, profile: &str) -> Result<Reservation> {
        let path = path(config_dir, profile)?;
        let dir = recovery_dir(config_dir);
        let not_kept = |e: &dyn std::fmt::Display| {
            Error::secret_store(format!(
                "no refresh was started: the new refresh token could not be kept if the secret store refused it, because {} cannot be written ({e})",
                path.display()
            ))
            .with_hint(format!(
                "free some space in {} (or make it writable), then re-run; the stored refresh token was not used and still works",
                dir.display()
            ))
        };
        for d in [config_dir, dir.as_path()] {
            crate::fsutil::ensure_private_dir_as(ErrorKind::SecretStore, d).map_err(|e| {
                // A foreign or loose dir stays the exit-2 refusal it is.
                if e.kind() == ErrorKind::Usage {
                    e
                } else {
                    not_kept(&e.message())
                }
            })?;
        }
        let _guard = crate::interrupt::critical();
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = crate::fsutil::open_private(&path, &mut options).map_err(|e| not_kept(&e))?;
        let mut reservation = Reservation {
            file: Some(file),
            path: path.clone(),
            dir: dir.clone(),
        };
        let filled = (|| {
            let file = reservation.file.as_mut().expect("just opened");
            // Written, not set_len: a sparse file reserves nothing.
            file.write_all(&[0u8; RESERVED_BYTES])?;
            file.sync_all()?;
            crate::fsutil::sync_dir(&dir)
        })();
        drop(_guard);
        // On error, dropping the reservation removes the file.
        filled.map_err(|e| not_kept(&e))?;
        Ok(reservation)
    }

    /// Writes `refresh_token` into the reserved file (no new space needed)
    /// and returns its path. Longer than the reservation (never seen): an
    /// ordinary [`save`].
    pub fn keep(
        mut self,
        config_dir: &Path,
        profile: &str,
        refresh_token: &SecretString,
    ) -> Result<PathBuf> {
        let bytes = refresh_token.expose_secret().as_bytes();
        if bytes.len() > RESERVED_BYTES {
            drop(self.file.take());
            return save(config_dir, profile, refresh_token);
        }
        let file = self.file.take().expect("a reservation holds its file");
        let path = std::mem::take(&mut self.path);
        let _guard = crate::interrupt::critical();
        let written = (|| {
            let mut file = file;
            file.seek(std::io::SeekFrom::Start(0))?;
            file.write_all(bytes)?;
            file.set_len(bytes.len() as u64)?;
            file.sync_all()
        })();
        written.map_err(|e| {
            Error::failure(format!(
                "the new refresh token could not be saved anywhere: cannot write {}: {e}",
                path.display()
            ))
            .with_hint(
                "the previous refresh token is no longer valid: re-run `ccsetup rotate --reauthorize` once the secret store or the config dir is writable again",
            )
        })?;
        Ok(path)
    }

    /// Removes the reserved file (the store took the token).
    pub fn release(mut self) -> Result<()> {
        drop(self.file.take());
        let path = std::mem::take(&mut self.path);
        crate::fsutil::remove_file_durable(&path)
            .map_err(|e| crate::fsutil::io_error(ErrorKind::Failure, "remove", &path, &e))
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.file.take().is_some() && !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
            let _ = crate::fsutil::sync_dir(&self.dir);
        }
    }
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

/// The largest recovery file read: a token written into a reservation, or
/// an ordinary [`save`] of a longer one (never seen) fits many times over.
pub const MAX_FILE_BYTES: u64 = 64 * 1024;

/// What a recovery file holds.
pub enum Content {
    /// No recovery file.
    Absent,
    /// Empty, or only zero bytes: a reservation whose run ended (a crash, a
    /// kill) before it needed it, or between creating and filling it. Its
    /// refresh was never answered, so the stored token is the live one.
    DeadReservation,
    /// The refresh token an earlier run could not store: the live one.
    Token(SecretString),
}

/// Reads `profile`'s recovery file, refusing anything but what ccsetup
/// writes there: a regular file with one link, of the current user, mode
/// 0600, opened with `O_NOFOLLOW|O_NONBLOCK` (a symlink is not followed, a
/// FIFO does not block the open, a hard link to a file elsewhere is not
/// read). Refusals are exit 2, naming the path.
pub fn read(config_dir: &Path, profile: &str) -> Result<Content> {
    use std::io::Read;
    let path = path(config_dir, profile)?;
    crate::fsutil::check_trusted_dirs_of(config_dir, &path)?;
    let file = match open_checked(&path) {
        Ok(Some(f)) => f,
        Ok(None) => return Ok(Content::Absent),
        Err(Refused(why)) => {
            return Err(Error::usage(format!(
                "the refresh token recovery file {} is refused: {why}",
                path.display()
            ))
            .with_hint(
                "ccsetup writes that file itself (a regular 0600 file of yours); if you did not \
                 put this there, someone else may have: look at it, remove it, then re-run",
            ));
        }
    };
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::fsutil::io_error(ErrorKind::Failure, "read", &path, &e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::usage(format!(
            "the refresh token recovery file {} is refused: it is larger than {MAX_FILE_BYTES} \
             bytes, which ccsetup never writes",
            path.display()
        ))
        .with_hint("look at it, remove it, then re-run"));
    }
    if bytes.iter().all(|&b| b == 0) {
        return Ok(Content::DeadReservation);
    }
    // A token written into a reservation that was cut short before the
    // file was trimmed ends in zero bytes.
    let text = std::str::from_utf8(&bytes)
        .map(|t| t.trim_end_matches('\0').trim())
        .unwrap_or("");
    if text.is_empty() || text.contains('\0') {
        return Err(Error::failure(format!(
            "the refresh token recovery file {} holds no readable token",
            path.display()
        ))
        .with_hint(
            "it was not written by ccsetup as it is now: look at it; if it holds no token, \
             remove it and re-run",
        ));
    }
    Ok(Content::Token(SecretString::from(text.to_string())))
}

/// Why a file at the recovery path is not read.
struct Refused(String);

/// Opens the recovery file without following a link or blocking on a FIFO,
/// and checks what was opened (see [`read`]). `None`: there is none.
fn open_checked(path: &Path) -> std::result::Result<Option<std::fs::File>, Refused> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        let file = match options.open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(Refused("it is a symbolic link".into()));
            }
            Err(e) => return Err(Refused(format!("it cannot be opened ({e})"))),
        };
        let meta = file
            .metadata()
            .map_err(|e| Refused(format!("it cannot be examined ({e})")))?;
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        let mode = meta.mode() & 0o7777;
        if !meta.file_type().is_file() {
            return Err(Refused("it is not a regular file".into()));
        }
        if meta.nlink() != 1 {
            return Err(Refused(format!(
                "it has {} hard links (a link to a file elsewhere)",
                meta.nlink()
            )));
        }
        if meta.uid() != me {
            return Err(Refused(format!(
                "it belongs to another user (uid {})",
                meta.uid()
            )));
        }
        if mode != 0o600 {
            return Err(Refused(format!("its mode is {mode:04o}, not 0600")));
        }
        Ok(Some(file))
    }
    #[cfg(not(unix))]
    {
        match options.open(path) {
            Ok(f) => Ok(Some(f)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Refused(format!("it cannot be opened ({e})"))),
        }
    }
}

/// What [`take`] did with a recovery file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Its token is in the store now; the file (this path) is gone.
    Recovered(PathBuf),
    /// It was a dead reservation (see [`Content::DeadReservation`]),
    /// removed; the stored token is unchanged.
    DeadReservationRemoved(PathBuf),
}

/// If a recovery file exists for the profile of `entry`, stores its token as
/// the profile's refresh token in `store` and then deletes the file; a dead
/// reservation is removed. `None` when there was none. If the store write
/// fails the file is kept and the error returned.
pub fn take(
    config_dir: &Path,
    entry: &EntryName,
    store: &dyn SecretStore,
) -> Result<Option<Taken>> {
    let path = path(config_dir, entry.profile())?;
    let token = match read(config_dir, entry.profile())? {
        Content::Absent => return Ok(None),
        Content::DeadReservation => {
            crate::fsutil::remove_file_durable(&path)
                .map_err(|e| crate::fsutil::io_error(ErrorKind::Failure, "remove", &path, &e))?;
            return Ok(Some(Taken::DeadReservationRemoved(path)));
        }
        Content::Token(token) => token,
    };
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
    Ok(Some(Taken::Recovered(path)))
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
