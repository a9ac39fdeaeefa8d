//! What every command receives: its IO, prompter, browser, endpoints and
//! global options. No command reaches for a global; tests build a
//! [`Context`] with whatever parts they need.

use std::path::PathBuf;
use std::sync::Arc;

use crate::browser::Browser;
use crate::cli::{GlobalArgs, StoreChoice};
use crate::endpoints::Endpoints;
use crate::error::{Error, Result};
use crate::store::SecretStore;
use crate::ui::{IoStreams, Prompter};

pub struct Context {
    pub io: IoStreams,
    pub prompter: Box<dyn Prompter>,
    pub browser: Box<dyn Browser>,
    pub endpoints: Endpoints,
    /// `--profile`.
    pub profile: String,
    /// `--config-dir` or the platform default.
    pub config_dir: PathBuf,
    /// `--store` as given (None: use the profile's, else keyring).
    pub store_choice: Option<StoreChoice>,
    /// `--non-interactive` (or no terminal to ask on).
    pub non_interactive: bool,
    pub verbose: u8,
    /// Secret inputs supplied by the caller rather than the environment,
    /// keyed by the env var they stand for (`demo` hands `init` the
    /// stand-in's StackOne key this way, without touching the process env).
    pub preset_secrets: std::collections::HashMap<&'static str, secrecy::SecretString>,
}

impl Context {
    /// The HTTP client for remote calls (built on first use: `--help` and
    /// `--version` never set up TLS).
    pub fn http(&self) -> Result<reqwest::Client> {
        crate::http::client()
    }

    /// Opens the secret store: `--store` if given, else `fallback` (the one
    /// config.toml names), else the keyring.
    pub fn open_store(&self, fallback: Option<StoreChoice>) -> Result<Arc<dyn SecretStore>> {
        let choice = self
            .store_choice
            .or(fallback)
            .unwrap_or(StoreChoice::Keyring);
        crate::store::open(choice, &self.config_dir)
    }
}

/// The platform config dir + `ccsetup` (e.g. `~/.config/ccsetup`).
pub fn default_config_dir() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "ccsetup")
        .map(|d| d.config_dir().to_path_buf())
        .ok_or_else(|| {
            Error::usage("cannot find a config directory for this user (no home directory)")
                .with_hint("pass --config-dir or set CCSETUP_CONFIG_DIR")
        })
}

/// Builds the context of a real run from parsed global options.
pub fn from_global(global: &GlobalArgs, io: IoStreams) -> Result<Context> {
    let config_dir = match &global.config_dir {
        Some(dir) => dir.clone(),
        None => default_config_dir()?,
    };
    let endpoints = Endpoints::from_env()?;
    let non_interactive = global.non_interactive;
    let prompter: Box<dyn Prompter> = if non_interactive {
        Box::new(crate::ui::NoPrompter {
            reason: "--non-interactive is set",
        })
    } else if !(io.stdin_is_tty && io.stderr_is_tty) {
        Box::new(crate::ui::NoPrompter {
            reason: "stdin is not a terminal",
        })
    } else {
        Box::new(crate::ui::DialoguerPrompter::new())
    };
    let browser: Box<dyn Browser> = if global.no_browser {
        Box::new(crate::browser::NoBrowser)
    } else {
        Box::new(crate::browser::SystemBrowser)
    };
    Ok(Context {
        io,
        prompter,
        browser,
        endpoints,
        profile: global.profile.clone(),
        config_dir,
        store_choice: global.store,
        non_interactive,
        verbose: global.verbose,
        preset_secrets: Default::default(),
    })
}
