//! Careful file writes: owner-only permissions, atomic replacement, private
//! directories.
//!
//! [`write_atomic`] writes a temp file in the target's directory, fsyncs it,
//! renames it over the target and fsyncs the directory (Unix), all while
//! holding [`crate::interrupt::critical`], so neither a crash nor Ctrl-C can
//! leave a torn file. The temp file is removed on every error path.
//!
//! Callers must not already hold `critical()` when they call into this module:
//! the guard is a plain mutex, not a re-entrant one.
//!
//! Trust (Unix): a directory ccsetup keeps state in must belong to the
//! current user and not be writable by group or others ([`check_trusted_dir`],
//! as ssh refuses a loose `~/.ssh`): anyone who can write there could plant
//! a symlink or swap a file. Files in it are opened with `O_NOFOLLOW` and
//! checked after opening ([`read_private_file`], [`open_private`]).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// Prefix of the temp files [`write_atomic`] creates next to its target.
pub const TEMP_PREFIX: &str = ".ccsetup-tmp-";

/// Names that ccsetup itself puts in its config dir and its subdirectories.
/// A directory holding nothing else is considered ours (see
/// [`ensure_private_dir`]).
#[cfg_attr(not(unix), allow(dead_code))]
const OUR_NAMES: &[&str] = &["config.toml", "secrets", "locks", "recovery"];
#[cfg_attr(not(unix), allow(dead_code))]
const OUR_SUFFIXES: &[&str] = &[".json", ".lock", ".refresh_token"];

/// Writes `bytes` to `path` atomically, with permissions `mode` (Unix; ignored
/// elsewhere). Creates the parent directory (0700) if it is missing.
///
/// Errors are [`ErrorKind::Failure`] and name the path.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    write_atomic_as(ErrorKind::Failure, path, bytes, mode)
}

/// [`write_atomic`] with errors of the given kind (the file store reports
/// exit 5, config writes exit 1).
pub fn write_atomic_as(kind: ErrorKind, path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let parent = parent_of(path);
    ensure_private_dir_as(kind, &parent)?;
    write_atomic_io(path, bytes, mode).map_err(|e| io_error(kind, "write", path, &e))
}

/// The IO part of [`write_atomic`]; the parent directory must exist.
pub fn write_atomic_io(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let parent = parent_of(path);
    let _guard = crate::interrupt::critical();
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(mode & 0o777));
    }
    #[cfg(not(unix))]
    let _ = mode;
    // Dropping `tmp` on any error below removes the temp file.
    let mut tmp = builder.tempfile_in(&parent)?;
    #[cfg(unix)]
    {
        // The umask may have cleared bits of `mode`; set it exactly.
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode & 0o777))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(&parent)
}

/// Makes sure `dir` exists as a private directory.
///
/// - Missing: it is created (with any missing ancestors) with mode 0700.
/// - Existing and ours (it holds nothing but ccsetup's own files: config.toml,
///   `secrets/`, `locks/`, `recovery/`, `*.json`, `*.lock`, `*.refresh_token`,
///   our temp files — or nothing at all): group and other permission bits are
///   removed. Permissions are never loosened, and a directory that also holds
///   other files (say `--config-dir ~`) is left exactly as it is.
pub fn ensure_private_dir(dir: &Path) -> Result<()> {
    ensure_private_dir_as(ErrorKind::Failure, dir)
}

/// [`ensure_private_dir`] with errors of the given kind.
pub fn ensure_private_dir_as(kind: ErrorKind, dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => {
            check_trusted_meta(dir, &meta)?;
            tighten_if_ours(dir, &meta);
            Ok(())
        }
        Ok(_) => Err(Error::new(
            kind,
            format!("{} exists but is not a directory", dir.display()),
        )
        .with_hint("move it away, or choose another directory with --config-dir")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            create_private_dir_all(dir).map_err(|e| io_error(kind, "create directory", dir, &e))
        }
        Err(e) => Err(io_error(kind, "read", dir, &e)),
    }
}

fn create_private_dir_all(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(unix)]
fn tighten_if_ours(dir: &Path, meta: &std::fs::Metadata) {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 == 0 || !holds_only_our_files(dir) {
        return;
    }
    // Best effort: a directory of another user refuses (EPERM) and stays as is.
    let tightened = std::fs::Permissions::from_mode(mode & !0o077);
    if let Err(e) = std::fs::set_permissions(dir, tightened) {
        tracing::debug!("could not tighten {}: {e}", dir.display());
    }
}

#[cfg(not(unix))]
fn tighten_if_ours(_dir: &Path, _meta: &std::fs::Metadata) {}

#[cfg(unix)]
fn holds_only_our_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            return false;
        };
        let ours = OUR_NAMES.contains(&name)
            || name.starts_with(TEMP_PREFIX)
            || OUR_SUFFIXES.iter().any(|s| name.ends_with(s));
        if !ours {
            return false;
        }
    }
    true
}

/// Refuses (exit 2, naming the path and the fix) a directory that belongs to
/// another user or is writable by group or others; a missing one is fine
/// (ccsetup creates it 0700). The directory itself may be a symlink (to a
/// directory that passes).
pub fn check_trusted_dir(dir: &Path) -> Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => check_trusted_meta(dir, &meta),
        _ => Ok(()),
    }
}

/// [`check_trusted_dir`] for `config_dir` and for the directory holding
/// `path` inside it (`locks/`, `recovery/`, `secrets/`).
pub fn check_trusted_dirs_of(config_dir: &Path, path: &Path) -> Result<()> {
    check_trusted_dir(config_dir)?;
    let parent = parent_of(path);
    if parent != config_dir {
        check_trusted_dir(&parent)?;
    }
    Ok(())
}

#[cfg(unix)]
fn check_trusted_meta(dir: &Path, meta: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let me = current_uid();
    if meta.uid() != me {
        return Err(Error::usage(format!(
            "{} belongs to another user (uid {}), so ccsetup will not keep or read secrets there",
            dir.display(),
            meta.uid()
        ))
        .with_hint(format!(
            "use a directory of your own (--config-dir, CCSETUP_CONFIG_DIR), or if this one is yours: `chown {me} {}`",
            dir.display()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Error::usage(format!(
            "{} is writable by {} (mode {mode:04o}), so other users could plant files or links in it",
            dir.display(),
            match (mode & 0o020 != 0, mode & 0o002 != 0) {
                (true, true) => "group and others",
                (true, false) => "its group",
                _ => "others",
            }
        ))
        .with_hint(format!(
            "check nothing in it is foreign, then `chmod go-w {}` (ccsetup creates it 0700)",
            dir.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_trusted_meta(_dir: &Path, _meta: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

#[cfg(unix)]
fn current_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Opens `path` without following a symlink at its last component, then
/// checks what was opened: a regular file of the current user (Unix).
/// `options` says read/write/create; `O_NOFOLLOW` is added.
pub fn open_private(
    path: &Path,
    options: &mut std::fs::OpenOptions,
) -> std::io::Result<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
        options.custom_flags(libc::O_NOFOLLOW);
        let file = options.open(path).map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other("it is a symbolic link, which ccsetup does not follow here")
            } else {
                e
            }
        })?;
        let meta = file.metadata()?;
        if !meta.file_type().is_file() {
            return Err(std::io::Error::other("it is not a regular file"));
        }
        if meta.uid() != current_uid() {
            return Err(std::io::Error::other(format!(
                "it belongs to another user (uid {})",
                meta.uid()
            )));
        }
        Ok(file)
    }
    #[cfg(not(unix))]
    {
        options.open(path)
    }
}

/// Reads a whole file of ccsetup's (see [`open_private`]); `None` if it
/// does not exist. The bytes are wiped when dropped.
pub fn read_private_file(path: &Path) -> std::io::Result<Option<zeroize::Zeroizing<Vec<u8>>>> {
    use std::io::Read;
    let mut file = match open_private(path, std::fs::OpenOptions::new().read(true)) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut bytes = zeroize::Zeroizing::new(Vec::new());
    file.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}

/// Whether something (a file, a link) is at `path`, without following it.
pub fn exists_no_follow(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

/// Makes a rename or removal in `dir` durable (Unix); a no-op elsewhere.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Removes a file durably while holding the critical guard; a missing file
/// is not an error.
pub fn remove_file_durable(path: &Path) -> std::io::Result<()> {
    let _guard = crate::interrupt::critical();
    match std::fs::remove_file(path) {
        Ok(()) => sync_dir(&parent_of(path)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// A user-facing error for a failed file operation: what, which path, why,
/// and what to do.
pub fn io_error(kind: ErrorKind, action: &str, path: &Path, err: &std::io::Error) -> Error {
    let dir = parent_of(path);
    let hint = match err.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => format!(
            "make {} writable for your user, or choose another directory with --config-dir (CCSETUP_CONFIG_DIR)",
            dir.display()
        ),
        _ => "check the path and the free space, or choose another directory with --config-dir (CCSETUP_CONFIG_DIR)".to_string(),
    };
    Error::new(kind, format!("cannot {action} {}: {err}", path.display())).with_hint(hint)
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn creates_missing_parents_private_and_file_with_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("a/b/file.json");
        write_atomic(&path, b"hello", 0o600).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"hello");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        assert_eq!(mode(&tmp.path().join("a/b")), 0o700);
    }

    #[test]
    fn replaces_content_and_fixes_mode() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("f.json");
        std::fs::write(&path, b"old old old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&path, b"new", 0o600).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        assert_eq!(mode(&path), 0o600);
        let names: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "only the target is left");
    }

    #[test]
    fn tightens_our_dir_but_not_a_foreign_one() {
        let tmp = tempfile::tempdir().unwrap();
        let ours = tmp.path().join("ours");
        std::fs::create_dir(&ours).unwrap();
        std::fs::write(ours.join("config.toml"), b"").unwrap();
        std::fs::set_permissions(&ours, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_private_dir(&ours).unwrap();
        assert_eq!(mode(&ours), 0o700);

        let foreign = tmp.path().join("home");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join(".bashrc"), b"").unwrap();
        std::fs::set_permissions(&foreign, std::fs::Permissions::from_mode(0o755)).unwrap();
        write_atomic(&foreign.join("config.toml"), b"x", 0o600).unwrap();
        assert_eq!(
            mode(&foreign),
            0o755,
            "a directory with other files is left alone"
        );
    }

    #[test]
    fn never_loosens() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("d");
        std::fs::create_dir(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
        ensure_private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o500);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }

    #[test]
    fn failed_write_leaves_no_temp_file() {
        let tmp = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the final rename must fail.
        let target = tmp.path().join("config.toml");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), b"").unwrap();
        let err = write_atomic(&target, b"data", 0o600).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Failure);
        assert!(err.message().contains("config.toml"), "{}", err.message());
        let left: Vec<String> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, vec!["config.toml".to_string()], "no temp file left");
    }

    #[test]
    fn parent_that_is_a_file_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let blocker = tmp.path().join("blocker");
        std::fs::write(&blocker, b"").unwrap();
        let err = write_atomic(&blocker.join("config.toml"), b"x", 0o600).unwrap_err();
        assert!(
            err.message().contains("not a directory"),
            "{}",
            err.message()
        );
        assert!(err.message().contains("blocker"));
    }
}
