//! `config.toml`: the non-secret state of every profile (SPEC.md "Storage").
//!
//! Written atomically (temp file in the same directory, fsync, rename), mode
//! 0600 in a 0700 directory. A file that cannot be read or parsed is reported
//! with its path and never overwritten.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cli::StoreChoice;
use crate::error::{Error, Result};

pub const CONFIG_FILE_NAME: &str = "config.toml";

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConfigFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, ProfileConfig>,
}

/// One `[profiles.<name>]` table. No secret ever goes here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileConfig {
    pub client_id: String,
    pub app_name: String,
    pub scopes: Vec<String>,
    pub redirect_port: u16,
    /// Which store holds this profile's secrets.
    pub secret_store: StoreChoice,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stackone_connector_profile_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stackone_profile_name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stackone_actions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_email: Option<String>,
    /// RFC 3339 timestamps.
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorized_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_rotated_at: Option<String>,
}

/// The config file of a config dir.
pub fn config_path(config_dir: &Path) -> PathBuf {
    config_dir.join(CONFIG_FILE_NAME)
}

/// Loads the file; a missing file is an empty config.
pub fn load(config_dir: &Path) -> Result<ConfigFile> {
    let path = config_path(config_dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ConfigFile::default()),
        Err(e) => {
            return Err(Error::failure(format!("cannot read {}", path.display())).with_source(e));
        }
    };
    toml::from_str(&text).map_err(|e| {
        Error::failure(format!(
            "{} is not valid ccsetup configuration",
            path.display()
        ))
        .with_hint("fix or move the file away; ccsetup will not overwrite it")
        .with_source(anyhow::anyhow!("{}", e.message()))
    })
}

/// Writes the file atomically with owner-only permissions.
pub fn save(_config_dir: &Path, _config: &ConfigFile) -> Result<()> {
    Err(Error::failure("saving config.toml is not implemented yet"))
}
