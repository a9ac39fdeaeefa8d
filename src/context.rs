//! What every command receives: its IO, prompter, browser, endpoints and
//! global options. Commands hand workflows only the parts they use
//! ([`Context::parts`], [`Context::session`]), never the context itself.

use std::path::PathBuf;
use std::sync::Arc;

use crate::browser::Browser;
use crate::cli::GlobalArgs;
use crate::endpoints::Endpoints;
use crate::error::{Error, Result};
use crate::store::{SecretStore, StoreChoice};
use crate::ui::{IoStreams, Prompter};
use crate::workflow::secrets::SecretSources;
use crate::workflow::{ProfileSession, Remote, Terminal};

pub struct Context {
    pub io: IoStreams,
    pub prompter: Box<dyn Prompter>,
    pub browser: Box<dyn Browser>,
    pub endpoints: Endpoints,
    /// `--profile`.
    pub profile: String,
    /// `--config-dir` or the platform default.
    pub config_dir: PathBuf,
    /// Whether `--config-dir` (or `CCSETUP_CONFIG_DIR`) was given.
    pub config_dir_given: bool,
    /// `--store` as given (None: use the profile's, else keyring).
    pub store_choice: Option<StoreChoice>,
    /// Whether the user gave `--store` (or `CCSETUP_STORE`); false when
    /// `store_choice` is the demo's own, which no warning should blame on
    /// a flag.
    pub store_choice_given: bool,
    /// `--non-interactive` as given (whether anyone can be asked at all is
    /// the prompter's answer: no terminal also means no prompts).
    pub non_interactive: bool,
    /// Secret inputs given to this run from outside the store.
    pub secrets: SecretSources,
    /// The HTTP client, built by the first [`Context::http`] call and shared
    /// after: each build loads and parses the platform's root certificates
    /// (~3.5 ms CPU here), and `init` asked for one three times.
    pub http_client: std::sync::OnceLock<reqwest::Client>,
}

impl Context {
    /// The HTTP client for remote calls (built on first use: `--help` and
    /// `--version` never set up TLS; clones share one connection pool).
    pub fn http(&self) -> Result<reqwest::Client> {
        if let Some(client) = self.http_client.get() {
            return Ok(client.clone());
        }
        let client = crate::http::client()?;
        Ok(self.http_client.get_or_init(|| client).clone())
    }

    /// The secret store to use: `--store` if given, else `fallback` (the one
    /// config.toml names), else the keyring.
    pub fn store_choice_or(&self, fallback: Option<StoreChoice>) -> StoreChoice {
        self.store_choice
            .or(fallback)
            .unwrap_or(StoreChoice::Keyring)
    }

    /// Opens the secret store chosen by [`Context::store_choice_or`].
    pub fn open_store(&self, fallback: Option<StoreChoice>) -> Result<Arc<dyn SecretStore>> {
        crate::store::open(self.store_choice_or(fallback), &self.config_dir)
    }

    /// This profile's session on the store chosen by [`Context::store_choice_or`].
    pub fn session(&self, fallback: Option<StoreChoice>) -> Result<ProfileSession> {
        self.session_on(self.store_choice_or(fallback))
    }

    /// This profile's session on the store `choice`, whatever `--store` says.
    pub fn session_on(&self, choice: StoreChoice) -> Result<ProfileSession> {
        Ok(ProfileSession::new(
            self.config_dir.clone(),
            self.profile.clone(),
            crate::store::open(choice, &self.config_dir)?,
        )
        .with_default_config_dir(default_config_dir().ok()))
    }

    /// The parts a workflow takes: the terminal, the remote services, and
    /// the secrets given to this run.
    pub fn parts(&mut self) -> Result<(Terminal<'_>, Remote<'_>, &SecretSources)> {
        self.http()?;
        let http = self.http_client.get().expect("built just above");
        Ok((
            Terminal {
                io: &mut self.io,
                prompter: self.prompter.as_mut(),
                browser: self.browser.as_ref(),
            },
            Remote {
                http,
                endpoints: &self.endpoints,
            },
            &self.secrets,
        ))
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
        config_dir_given: global.config_dir.is_some(),
        store_choice: global.store,
        store_choice_given: global.store.is_some(),
        non_interactive,
        secrets: SecretSources::default(),
        http_client: std::sync::OnceLock::new(),
    })
}
