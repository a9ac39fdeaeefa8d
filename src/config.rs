//! `config.toml`: the non-secret state of every profile (docs/contract.md "Storage").
//!
//! Written atomically (temp file in the same directory, fsync, rename), mode
//! 0600 in a 0700 directory. A file that cannot be read or parsed is reported
//! with its path and never overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::store::{StoreChoice, parse_profile_name};

pub const CONFIG_FILE_NAME: &str = "config.toml";
/// The lock file serializing read-modify-writes of config.toml.
pub const CONFIG_LOCK_FILE_NAME: &str = "config.lock";
/// How long a config.toml writer waits for another: writers hold the lock
/// for a read and an atomic write (and, once per dir, a keyring migration).
pub const CONFIG_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    /// This config dir's id, part of its keyring entry names
    /// (`<profile>@<dir_id>:<kind>`; see [`crate::store::EntryName`]).
    /// Every dir, the platform's default one included, gets one when it
    /// first uses the keyring (files without it still load) and keeps it
    /// ([`crate::store::identity`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir_id: Option<String>,
    /// The canonical path of the dir `dir_id` was made for: a copy of the
    /// dir (`cp -a`) carries the same `dir_id` but lives elsewhere, and must
    /// not use the original's keyring entries ([`crate::store::identity`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dir_path: Option<String>,
    /// Profiles whose pre-v0.3 keyring entries (`<profile>:<kind>`) are
    /// being moved to this dir's names: recorded before the first copy, so
    /// a move cut short is finished by the next run, never orphaned.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moving_legacy_entries: Vec<String>,
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileConfig>,
}

/// One `[profiles.<name>]` table. No secret ever goes here. The text
/// values are shown on the terminal: made terminal-safe as they are read
/// (crate::text::sanitize_local), whoever edited the file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileConfig {
    #[serde(deserialize_with = "crate::text::de_local")]
    pub client_id: String,
    #[serde(deserialize_with = "crate::text::de_local")]
    pub app_name: String,
    pub scopes: Vec<String>,
    pub redirect_port: u16,
    /// `--redirect-uri`, when not `http://localhost:<redirect_port>/callback`
    /// (files written before it existed have none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::text::de_local_opt"
    )]
    pub redirect_uri: Option<String>,
    /// Which store holds this profile's secrets.
    pub secret_store: StoreChoice,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stackone_connector_profile_id: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::text::de_local_opt"
    )]
    pub stackone_profile_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stackone_actions: Vec<String>,
    /// From the account check (remote text): sanitized again when read, for
    /// files written before that rule.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::text::de_sanitized_opt"
    )]
    pub account_name: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::text::de_local_opt"
    )]
    pub account_email: Option<String>,
    /// RFC 3339 timestamps.
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_rotated_at: Option<String>,
    /// What `init` found the app's refresh tokens to be: `rotating` or
    /// `long_lived` (docs/contract.md `init` step 4); none when unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token_type: Option<String>,
    /// What ccsetup knows of the StackOne Connector Profile beyond its id
    /// (`[profiles.<name>.stackone]`; last, as TOML tables come after values).
    #[serde(default, skip_serializing_if = "StackOneRecord::is_empty")]
    pub stackone: StackOneRecord,
}

/// What StackOne's list never shows (docs/contract.md "StackOne API"): the
/// values ccsetup last wrote to, or verified in, the Connector Profile, how
/// it was verified, and the Constant Contact profile ids a non-interactive
/// run listed when it stopped at the dashboard step (the next run adopts the
/// one that is new).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StackOneRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<Vec<String>>,
    /// `linked` (an account was linked through the profile) or `listed`
    /// (only its id was seen) after a dashboard create or edit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified: Option<String>,
    /// `Some` (possibly empty) once a run stopped at the dashboard step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen_profile_ids: Option<Vec<String>>,
}

impl StackOneRecord {
    pub fn is_empty(&self) -> bool {
        *self == StackOneRecord::default()
    }
}

/// The config file of a config dir.
pub fn config_path(config_dir: &Path) -> PathBuf {
    config_dir.join(CONFIG_FILE_NAME)
}

/// Loads the file; a missing file is an empty config.
pub fn load(config_dir: &Path) -> Result<ConfigFile> {
    let path = config_path(config_dir);
    crate::fsutil::check_trusted_dir(config_dir)?;
    let bytes = match crate::fsutil::read_private_file(&path) {
        Ok(Some(b)) => b.to_vec(),
        Ok(None) => return Ok(ConfigFile::default()),
        // Say why (not a directory, permission denied, …) and what to do,
        // without needing -v.
        Err(e) => {
            return Err(crate::fsutil::io_error(
                ErrorKind::Failure,
                "read",
                &path,
                &e,
            ));
        }
    };
    // Not text at all (a disk error, a stray binary write) is as corrupt as
    // bad TOML, and reported the same way.
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::failure(format!(
            "{} is not valid ccsetup configuration (it is not UTF-8 text)",
            path.display()
        ))
        .with_hint("fix or move the file away; ccsetup will not overwrite it")
    })?;
    parse(&text, &path)
}

/// Parses the text of a config file read from `path` (named in the error).
/// Pure: what [`load`] does after reading, exposed for tests and fuzzing.
pub fn parse(text: &str, path: &Path) -> Result<ConfigFile> {
    let file: ConfigFile = toml::from_str(text).map_err(|e| {
        // Where and why, without -v: the file holds no secret, so the
        // parser's cause (which may quote it) can be shown.
        let place = match e.span() {
            Some(span) => {
                let (line, column) = line_and_column(text, span.start);
                format!(" at line {line}, column {column}")
            }
            None => String::new(),
        };
        invalid(path, &place, e.message())
    })?;
    // It becomes part of keyring entry names.
    if let Some(id) = &file.dir_id {
        crate::store::check_dir_id(id)
            .map_err(|why| invalid(path, "", &format!("dir_id {id:?}: {why}")))?;
    }
    for profile in &file.moving_legacy_entries {
        parse_profile_name(profile).map_err(|why| {
            invalid(
                path,
                "",
                &format!("moving_legacy_entries {profile:?}: {why}"),
            )
        })?;
    }
    Ok(file)
}

/// The error for a config file that cannot be used, with where and why.
fn invalid(path: &Path, place: &str, cause: &str) -> Error {
    let cause = cause.trim().replace('\n', " ");
    Error::failure(format!(
        "{} is not valid ccsetup configuration{place}: {}",
        path.display(),
        crate::text::sanitize_remote(&cause)
    ))
    .with_hint("fix or move the file away; ccsetup will not overwrite it")
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The text [`save`] writes for `config`.
pub fn to_text(config: &ConfigFile) -> Result<String> {
    toml::to_string_pretty(config).map_err(|e| {
        Error::failure("cannot serialize the configuration").with_source(anyhow::anyhow!("{e}"))
    })
}

/// The config dir's exclusive lock (`<config dir>/config.lock`): every
/// read-modify-write of config.toml holds it, so two runs changing
/// different profiles at once both keep their change. Hold it only around
/// the read and the write, never across prompts or network calls.
pub fn lock(config_dir: &Path) -> Result<crate::store::lock::FileLock> {
    crate::store::lock::FileLock::acquire(
        &config_dir.join(CONFIG_LOCK_FILE_NAME),
        CONFIG_LOCK_TIMEOUT,
    )
}

/// Loads the file, lets `change` edit it and writes it back, all under
/// [`lock`]; nothing is written when `change` returns `false`. Returns what
/// `change` returned.
pub fn update(config_dir: &Path, change: impl FnOnce(&mut ConfigFile) -> bool) -> Result<bool> {
    let _lock = lock(config_dir)?;
    let mut file = load(config_dir)?;
    if !change(&mut file) {
        return Ok(false);
    }
    pause_before_write_for_tests();
    save(config_dir, &file)?;
    Ok(true)
}

/// Debug builds only: `CCSETUP_TEST_CONFIG_WRITE_PAUSE_MS=<ms>` waits between
/// reading and writing config.toml, so a test can make two writers overlap
/// (the lock must keep both changes). Release builds ignore it.
fn pause_before_write_for_tests() {
    #[cfg(debug_assertions)]
    if let Some(ms) = std::env::var("CCSETUP_TEST_CONFIG_WRITE_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms.min(10_000)));
    }
}

/// Writes the file atomically (temp file, fsync, rename, fsync dir) with mode
/// 0600; the config dir is created 0700 if it is missing.
pub fn save(config_dir: &Path, config: &ConfigFile) -> Result<()> {
    let text = to_text(config)?;
    crate::fsutil::write_atomic(&config_path(config_dir), text.as_bytes(), 0o600)
}

impl ConfigFile {
    /// The profile called `name`, if set up.
    pub fn profile(&self, name: &str) -> Option<&ProfileConfig> {
        self.profiles.get(name)
    }

    /// Mutable access to the profile called `name`.
    pub fn profile_mut(&mut self, name: &str) -> Option<&mut ProfileConfig> {
        self.profiles.get_mut(name)
    }

    /// Inserts or replaces the profile `name`. When it replaces one, the
    /// original `created_at` is kept. Returns the previous value.
    pub fn upsert(&mut self, name: &str, mut profile: ProfileConfig) -> Option<ProfileConfig> {
        if let Some(old) = self.profiles.get(name) {
            profile.created_at = old.created_at.clone();
        }
        self.profiles.insert(name.to_string(), profile)
    }

    /// Removes the profile `name`; returns it if it was there.
    pub fn remove(&mut self, name: &str) -> Option<ProfileConfig> {
        self.profiles.remove(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(now: &str) -> ProfileConfig {
        ProfileConfig {
            redirect_uri: None,
            client_id: "client-123".into(),
            app_name: "StackOne Integration".into(),
            scopes: vec!["account_read".into(), "offline_access".into()],
            redirect_port: 8917,
            secret_store: StoreChoice::Keyring,
            stackone_connector_profile_id: Some("cp_1".into()),
            stackone_profile_name: Some("Constant Contact".into()),
            stackone_actions: vec![],
            account_name: Some("Acme".into()),
            account_email: None,
            created_at: now.into(),
            updated_at: now.into(),
            authorized_at: None,
            client_secret_rotated_at: None,
            refresh_token_type: None,
            stackone: StackOneRecord::default(),
        }
    }

    #[test]
    fn upsert_keeps_created_at_and_remove_returns_the_profile() {
        let mut cfg = ConfigFile::default();
        assert!(
            cfg.upsert("default", sample("2024-01-01T00:00:00Z"))
                .is_none()
        );
        let mut newer = sample("2025-01-01T00:00:00Z");
        newer.client_id = "client-456".into();
        let old = cfg.upsert("default", newer).expect("replaced");
        assert_eq!(old.client_id, "client-123");
        let p = cfg.profile("default").unwrap();
        assert_eq!(p.client_id, "client-456");
        assert_eq!(p.created_at, "2024-01-01T00:00:00Z");
        assert_eq!(p.updated_at, "2025-01-01T00:00:00Z");
        assert!(cfg.profile("other").is_none());
        assert!(cfg.remove("default").is_some());
        assert!(cfg.remove("default").is_none());
        assert!(cfg.profiles.is_empty());
    }

    #[test]
    fn unreadable_config_says_why_and_what_to_do() {
        // A config dir under a regular file: writes and reads fail even as root.
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        std::fs::write(&file, "x").unwrap();
        let err = load(&file.join("ccsetup")).unwrap_err();
        assert_eq!(err.exit_code(), 1);
        assert!(err.message().contains("config.toml"), "{}", err.message());
        assert!(err.message().contains("directory"), "{}", err.message());
        assert!(err.hint().unwrap().contains("--config-dir"));
    }

    #[test]
    fn parse_names_the_file_and_round_trips() {
        let path = Path::new("/x/config.toml");
        let err = parse("[profiles.a]\nclient_id = 1\n", path).unwrap_err();
        assert!(err.message().contains("/x/config.toml"));
        let mut cfg = ConfigFile::default();
        cfg.upsert("default", sample("2024-01-01T00:00:00Z"));
        assert_eq!(parse(&to_text(&cfg).unwrap(), path).unwrap(), cfg);
    }

    #[test]
    fn now_is_rfc3339_utc() {
        let now = crate::clock::now_rfc3339();
        let parsed =
            time::OffsetDateTime::parse(&now, &time::format_description::well_known::Rfc3339)
                .unwrap();
        assert!(now.ends_with('Z'), "{now}");
        let delta = (time::OffsetDateTime::now_utc() - parsed)
            .whole_seconds()
            .abs();
        assert!(delta < 5, "{now}");
    }
}
