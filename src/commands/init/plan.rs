//! `init`'s arguments, the saved setup and the terminal, resolved once into
//! one plan (as ripgrep turns low arguments into high ones). This is the only
//! reader of `InitArgs`, `--yes`, `--dry-run`, the saved profile and whether
//! anyone can be asked; the steps read the plan.

use crate::cli::{
    DEFAULT_APP_NAME, DEFAULT_REDIRECT_PORT, DEFAULT_SCOPES, DEFAULT_STACKONE_PROFILE_NAME,
    InitArgs,
};
use crate::config::{self, ProfileConfig};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::oauth::RedirectTarget;
use crate::stackone::StackOneMode;
use crate::store::StoreChoice;
use crate::workflow::authorize::redirect_target_of;

/// How this run meets the person (or script) that started it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Someone at a terminal: the portal walk, prompts and menus.
    Interactive,
    /// Nobody to ask: every input comes from flags, environment, the saved
    /// setup or a default, and a missing one is exit 2.
    Scripted,
    /// `--dry-run`: inputs resolved and checked, nothing changed. In a
    /// terminal the inputs nobody gave are still asked for.
    DryRun { in_terminal: bool },
}

/// Everything `init` decided before its first step.
pub struct InitPlan {
    pub mode: Mode,
    /// `--yes`: every input that has a value (given, saved or default) takes
    /// it unasked, and every confirmation takes its default. Only an input
    /// with no value at all is asked for.
    pub accept_defaults: bool,
    /// This profile's setup as saved by an earlier run.
    pub saved: Option<ProfileConfig>,
    pub app_name: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_stdin: bool,
    pub stackone_key_stdin: bool,
    pub stackone_mode: StackOneMode,
    /// `--stackone-profile-id`: adopt this existing Connector Profile.
    pub stackone_profile_id: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub actions: Option<Vec<String>>,
    pub stackone_profile_name: String,
    redirect_uri: Option<String>,
    redirect_port: Option<u16>,
    pub skip_authorize: bool,
    pub skip_stackone: bool,
    pub auth_timeout_secs: u64,
}

impl InitPlan {
    /// Reads the saved setup and the arguments; no other IO.
    pub fn resolve(ctx: &Context, args: InitArgs) -> Result<InitPlan> {
        let saved = config::load(&ctx.config_dir)?
            .profile(&ctx.profile)
            .cloned();
        let in_terminal = ctx.prompter.is_interactive();
        let mode = match (args.dry_run, in_terminal) {
            (true, _) => Mode::DryRun { in_terminal },
            (false, true) => Mode::Interactive,
            (false, false) => Mode::Scripted,
        };
        let stackone_profile_name = args
            .stackone_profile_name
            .clone()
            .or_else(|| saved.as_ref().and_then(|e| e.stackone_profile_name.clone()))
            .unwrap_or_else(|| DEFAULT_STACKONE_PROFILE_NAME.to_string());
        Ok(InitPlan {
            mode,
            accept_defaults: args.yes,
            saved,
            app_name: args.app_name,
            client_id: args.client_id,
            client_secret_stdin: args.client_secret_stdin,
            stackone_key_stdin: args.stackone.stackone_api_key_stdin,
            stackone_mode: args.stackone.stackone_mode,
            stackone_profile_id: args.stackone_profile_id,
            scopes: args.scopes,
            actions: args.actions,
            stackone_profile_name,
            redirect_uri: args.redirect_uri,
            redirect_port: args.redirect_port,
            skip_authorize: args.skip_authorize,
            skip_stackone: args.skip_stackone,
            auth_timeout_secs: args.auth_timeout,
        })
    }

    /// Whether someone is at the terminal (a dry run there included): the
    /// portal is walked, missing inputs are asked for, failures offer a fix.
    pub fn in_terminal(&self) -> bool {
        matches!(
            self.mode,
            Mode::Interactive | Mode::DryRun { in_terminal: true }
        )
    }

    /// Whether an input is asked for; `has_value`: whether it has one
    /// (given, saved or default) that `--yes` would take.
    pub fn asks(&self, has_value: bool) -> bool {
        self.in_terminal() && !(self.accept_defaults && has_value)
    }

    /// Whether the run stops for confirmations and menus (the re-run menu,
    /// "is it done?", the clipboard, the proof): not under `--yes`, and not
    /// in a dry run, which changes nothing and so has nothing to confirm.
    pub fn confirms(&self) -> bool {
        self.mode == Mode::Interactive && !self.accept_defaults
    }

    pub fn is_dry_run(&self) -> bool {
        matches!(self.mode, Mode::DryRun { .. })
    }

    /// The application name to offer or take.
    pub fn default_app_name(&self) -> &str {
        self.saved
            .as_ref()
            .map(|e| e.app_name.as_str())
            .unwrap_or(DEFAULT_APP_NAME)
    }

    /// The API Key saved by an earlier run.
    pub fn saved_client_id(&self) -> Option<&str> {
        self.saved.as_ref().map(|e| e.client_id.as_str())
    }

    pub fn default_scopes(&self) -> Vec<String> {
        self.saved
            .as_ref()
            .map(|e| e.scopes.clone())
            .unwrap_or_else(|| DEFAULT_SCOPES.split(',').map(str::to_string).collect())
    }

    pub fn default_actions(&self) -> Vec<String> {
        self.saved
            .as_ref()
            .map(|e| e.stackone_actions.clone())
            .unwrap_or_default()
    }

    /// The store of the saved setup, if any (`--store` wins over it).
    pub fn saved_store(&self) -> Option<StoreChoice> {
        self.saved.as_ref().map(|e| e.secret_store)
    }

    /// Whether the saved setup names a StackOne Connector Profile.
    pub fn has_saved_stackone_profile(&self) -> bool {
        self.saved
            .as_ref()
            .and_then(|e| e.stackone_connector_profile_id.as_ref())
            .is_some()
    }

    /// `--redirect-uri` (or the saved one) and the port it implies. Giving it
    /// with a different `--redirect-port` is exit 2; a new `--redirect-port`
    /// alone means the default URI on that port.
    pub fn redirect(&self) -> Result<(RedirectTarget, u16)> {
        let saved = self.saved.as_ref();
        let target = match (&self.redirect_uri, self.redirect_port, saved) {
            (Some(uri), _, _) if !uri.trim().is_empty() => RedirectTarget::parse(uri)?,
            (_, Some(port), _) => RedirectTarget::local(port),
            (_, None, Some(e)) => redirect_target_of(e)?,
            (_, None, None) => RedirectTarget::local(DEFAULT_REDIRECT_PORT),
        };
        let uri_port = url::Url::parse(target.uri())
            .ok()
            .and_then(|u| u.port_or_known_default());
        if let (Some(given), Some(uri_port)) = (self.redirect_port, uri_port)
            && self.redirect_uri.is_some()
            && given != uri_port
        {
            return Err(Error::usage(format!(
                "--redirect-port {given} conflicts with --redirect-uri {}, whose port is {uri_port}",
                target.uri()
            ))
            .with_hint(
                "give only --redirect-uri (CCSETUP_REDIRECT_URI), or a port that matches it",
            ));
        }
        let port = target
            .port()
            .or(self.redirect_port)
            .or(saved.map(|e| e.redirect_port))
            .unwrap_or(DEFAULT_REDIRECT_PORT);
        Ok((target, port))
    }
}
