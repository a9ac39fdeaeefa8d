//! Per-profile exclusive locks between ccsetup processes.
//!
//! `ccsetup token` holds [`ProfileLock`] across read → refresh → write, so two
//! concurrent calls never redeem the same (rotating) refresh token: the second
//! waits, then re-reads the store and finds the fresh access token. Locks are
//! OS advisory locks (`flock` / `LockFileEx` via fs4) on
//! `<config dir>/locks/<profile>.lock`; the OS releases them when the holder
//! exits, so a crash never leaves a stale lock. Lock files are never deleted
//! (deleting them would let two processes lock two different files).
//!
//! Acquiring polls a non-blocking lock with a bounded wait. It blocks the
//! calling thread: async code calls it through `spawn_blocking`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A sensible wait for [`ProfileLock::acquire`]: long enough for another
/// `ccsetup token` to finish a refresh (HTTP plus a keyring write).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(90);

/// Poll interval while waiting for a lock.
const POLL: Duration = Duration::from_millis(25);

/// The directory of the lock files.
pub fn locks_dir(config_dir: &Path) -> PathBuf {
    config_dir.join("locks")
}

/// An exclusive lock on one file, released on drop.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Locks `path` (created 0600 if missing, parent 0700), waiting at most
    /// `timeout`. A timeout is an [`ErrorKind::Failure`](crate::error::ErrorKind::Failure).
    pub fn acquire(path: &Path, timeout: Duration) -> Result<FileLock> {
        if let Some(parent) = path.parent() {
            crate::fsutil::ensure_private_dir(parent)?;
        }
        let file = open_lock_file(path).map_err(|e| {
            crate::fsutil::io_error(crate::error::ErrorKind::Failure, "open", path, &e)
        })?;
        let deadline = Instant::now() + timeout;
        loop {
            match fs4::FileExt::try_lock(&file) {
                Ok(()) => {
                    return Ok(FileLock {
                        file,
                        path: path.to_path_buf(),
                    });
                }
                Err(fs4::TryLockError::WouldBlock) => {}
                Err(fs4::TryLockError::Error(e)) => {
                    return Err(crate::fsutil::io_error(
                        crate::error::ErrorKind::Failure,
                        "lock",
                        path,
                        &e,
                    ));
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::failure(format!(
                    "another ccsetup process is still using this profile: gave up waiting for the \
                     lock {} after {:.1} s",
                    path.display(),
                    timeout.as_secs_f64()
                ))
                .with_hint("wait for the other ccsetup command to finish, then re-run this one"));
            }
            std::thread::sleep(POLL.min(deadline - now));
        }
    }

    /// The locked file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlock explicitly anyway.
        let _ = fs4::FileExt::unlock(&self.file);
    }
}

/// Never through a symlink: a planted `locks/x.lock -> ~/file` must not make
/// ccsetup create or lock a file elsewhere.
fn open_lock_file(path: &Path) -> std::io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    crate::fsutil::open_private(path, &mut opts)
}

/// The exclusive lock of one profile (`locks/<profile>.lock`). After
/// acquiring it, re-read the store: another process may have changed it.
/// Not re-entrant: acquiring it twice in one process waits for the timeout.
#[derive(Debug)]
pub struct ProfileLock {
    inner: FileLock,
}

impl ProfileLock {
    /// Waits at most `timeout` for the profile's lock; a timeout is a clear
    /// [`ErrorKind::Failure`](crate::error::ErrorKind::Failure) naming the lock file.
    pub fn acquire(config_dir: &Path, profile: &str, timeout: Duration) -> Result<ProfileLock> {
        let path = super::profile_path(&locks_dir(config_dir), profile, ".lock")?;
        crate::fsutil::ensure_private_dir(config_dir)?;
        Ok(ProfileLock {
            inner: FileLock::acquire(&path, timeout)?,
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        self.inner.path()
    }
}
