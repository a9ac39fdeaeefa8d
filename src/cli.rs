//! The command-line surface of docs/contract.md, as clap derive types.
//!
//! Parsing only: no IO, no defaults that depend on the machine. Commands turn
//! these into their own options in `commands::*`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use crate::stackone::{DEFAULT_STACKONE_PROFILE_NAME, StackOneMode};
pub use crate::store::StoreChoice;
pub use crate::store::parse_profile_name;

/// Default scopes: enough for a refresh token and the account check.
pub const DEFAULT_SCOPES: &str = "account_read,contact_data,campaign_data,offline_access";
pub const DEFAULT_REDIRECT_PORT: u16 = 8917;
pub const DEFAULT_APP_NAME: &str = "StackOne Integration";
pub const DEFAULT_AUTH_TIMEOUT_SECS: u64 = 300;

const AFTER_HELP: &str = "\
Exit codes: 0 ok · 1 failure · 2 bad usage/input · 3 authorization failed ·
4 remote service failed or dashboard step needed · 5 secret store unavailable · 130 interrupted

Start with `ccsetup demo` to walk the whole flow against local stand-ins,
then `ccsetup init` for real.";

#[derive(Debug, Parser)]
#[command(
    name = "ccsetup",
    version,
    about = "Set up a Constant Contact OAuth app and its StackOne Connector Profile, checked end to end",
    long_about = "ccsetup walks you through creating the Constant Contact OAuth application, proves \
the API Key and Client Secret with a real authorization (PKCE, loopback redirect), keeps the client \
secret and the rotating refresh token in your OS keyring, and creates the StackOne Connector Profile.",
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after any command.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Named local setup; secrets and state are kept per profile
    #[arg(long, global = true, env = "CCSETUP_PROFILE", value_name = "NAME", default_value = "default", value_parser = parse_profile_name)]
    pub profile: String,

    /// Where state lives [default: the platform config dir + ccsetup]
    #[arg(long, global = true, env = "CCSETUP_CONFIG_DIR", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,

    /// Never prompt; a missing value is an error naming its flag and env var
    #[arg(long, global = true, env = "CCSETUP_NON_INTERACTIVE", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub non_interactive: bool,

    /// Print one JSON object on stdout as the result; human text goes to stderr
    #[arg(long, global = true)]
    pub json: bool,

    /// Do not launch a browser; print the URL instead (SSH, containers)
    #[arg(long, global = true, env = "CCSETUP_NO_BROWSER", value_parser = clap::builder::BoolishValueParser::new(), action = clap::ArgAction::SetTrue)]
    pub no_browser: bool,

    /// Where secrets go: the OS keyring, or (explicit opt-in) a 0600 file in the config dir
    #[arg(
        long,
        global = true,
        env = "CCSETUP_STORE",
        value_enum,
        value_name = "STORE"
    )]
    pub store: Option<StoreChoice>,

    /// More output (-vv traces HTTP, never secrets)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Less output: errors and results only
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The whole setup, interactive by default; re-running offers rotation
    #[command(after_help = INIT_EXAMPLES)]
    Init(InitArgs),
    /// What is set up, and whether each part still works
    #[command(after_help = STATUS_EXAMPLES)]
    Status(StatusArgs),
    /// Print a valid Constant Contact access token (refreshing as needed)
    #[command(after_help = TOKEN_EXAMPLES)]
    Token(TokenArgs),
    /// Rotate the client secret and/or re-authorize, then update StackOne
    #[command(after_help = ROTATE_EXAMPLES)]
    Rotate(RotateArgs),
    /// Create a StackOne connect session and open the hub to link an account
    #[command(after_help = LINK_EXAMPLES)]
    Link(LinkArgs),
    /// Forget local secrets and state (optionally delete the StackOne profile)
    #[command(after_help = RESET_EXAMPLES)]
    Reset(ResetArgs),
    /// Check this machine: redirect port, browser, secret store, clock, endpoints
    #[command(after_help = DOCTOR_EXAMPLES)]
    Doctor(DoctorArgs),
    /// The whole `init` against built-in local stand-ins; touches no real account
    #[command(after_help = DEMO_EXAMPLES)]
    Demo(DemoArgs),
    /// Print shell completions
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions(CompletionsArgs),
    /// Print a man page, or write them all to a directory (source installs)
    #[command(after_help = MAN_EXAMPLES)]
    Man(ManArgs),
}

/// Inputs shared by `init` and `rotate` that reach StackOne.
#[derive(Debug, Clone, Args)]
pub struct StackOneArgs {
    /// Read the StackOne API key from stdin [env: STACKONE_API_KEY]
    #[arg(long, conflicts_with = "client_secret_stdin")]
    pub stackone_api_key_stdin: bool,

    /// How to write the Connector Profile: auto, api or dashboard
    #[arg(long, env = "CCSETUP_STACKONE_MODE", value_enum, default_value_t = StackOneMode::Auto)]
    pub stackone_mode: StackOneMode,
}

#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Application name in the Constant Contact portal (may not contain "Constant Contact")
    #[arg(long, env = "CCSETUP_APP_NAME", value_name = "NAME")]
    pub app_name: Option<String>,

    /// API Key (client id) of the Constant Contact application
    #[arg(long, env = "CC_CLIENT_ID", value_name = "API_KEY")]
    pub client_id: Option<String>,

    /// Read the Client Secret from stdin [env: CC_CLIENT_SECRET]
    #[arg(long)]
    pub client_secret_stdin: bool,

    #[command(flatten)]
    pub stackone: StackOneArgs,

    /// Adopt this existing Constant Contact Connector Profile (its page's "Copy connector ID", or the page's URL)
    #[arg(long, env = "CCSETUP_STACKONE_PROFILE_ID", value_name = "ID")]
    pub stackone_profile_id: Option<String>,

    /// Comma-separated scopes [default: account_read,contact_data,campaign_data,offline_access]
    #[arg(
        long,
        env = "CCSETUP_SCOPES",
        value_name = "A,B,C",
        value_delimiter = ','
    )]
    pub scopes: Option<Vec<String>>,

    /// Comma-separated StackOne actions to enable on the profile
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    pub actions: Option<Vec<String>>,

    /// Name of the StackOne Connector Profile
    #[arg(long, value_name = "NAME")]
    pub stackone_profile_name: Option<String>,

    /// Local redirect port; the redirect URI is http://localhost:PORT/callback [default: 8917]
    #[arg(long, env = "CCSETUP_REDIRECT_PORT", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub redirect_port: Option<u16>,

    /// Redirect URI exactly as registered [default: http://localhost:PORT/callback]; a non-loopback one means pasting the redirected address
    #[arg(long, env = "CCSETUP_REDIRECT_URI", value_name = "URI")]
    pub redirect_uri: Option<String>,

    /// Create the profile without the local OAuth check (no refresh token is stored)
    #[arg(long, conflicts_with = "skip_stackone")]
    pub skip_authorize: bool,

    /// Authorize and store only; do not touch StackOne
    #[arg(long)]
    pub skip_stackone: bool,

    /// Validate inputs, check the secret store and the port, show what would change; change nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Seconds to wait for consent in the browser
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_AUTH_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub auth_timeout: u64,

    /// Accept defaults and confirmations
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Skip network checks (they are reported as skipped)
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Redeem the refresh token even if the cached access token is still valid
    #[arg(long)]
    pub force_refresh: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RotateArgs {
    /// Rotate the client secret (the default when nothing else is named)
    #[arg(long)]
    pub client_secret: bool,

    /// Run the authorization again and replace the refresh token
    #[arg(long)]
    pub reauthorize: bool,

    /// Read the new Client Secret from stdin [env: CC_CLIENT_SECRET]
    #[arg(long)]
    pub client_secret_stdin: bool,

    #[command(flatten)]
    pub stackone: StackOneArgs,

    /// Do not update the StackOne profile
    #[arg(long)]
    pub skip_stackone: bool,

    /// Seconds to wait for consent in the browser
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_AUTH_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..))]
    pub auth_timeout: u64,

    /// Accept defaults and confirmations
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct LinkArgs {
    /// Your identifier for the customer who links their account
    #[arg(long, value_name = "ID")]
    pub origin_owner_id: Option<String>,

    /// Display name of that customer
    #[arg(long, value_name = "NAME")]
    pub origin_owner_name: Option<String>,

    /// Label for the linked account
    #[arg(long)]
    pub label: Option<String>,

    /// Read the StackOne API key from stdin [env: STACKONE_API_KEY]
    #[arg(long)]
    pub stackone_api_key_stdin: bool,

    /// Wait until the account is linked, failed or cancelled (default in a terminal)
    #[arg(long, conflicts_with = "no_wait")]
    pub wait: bool,

    /// Print the link and end at once (default without a terminal)
    #[arg(long)]
    pub no_wait: bool,

    /// How long --wait waits, in seconds
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_LINK_WAIT_SECS,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub wait_timeout: u64,

    /// Milliseconds between two reads of the session while waiting (tests)
    #[arg(long, hide = true, default_value_t = 2000,
          value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub wait_interval_ms: u64,
}

/// `link --wait-timeout` default: ten minutes.
pub const DEFAULT_LINK_WAIT_SECS: u64 = crate::workflow::stackone::PROOF_WAIT.as_secs();

#[derive(Debug, Clone, Args)]
pub struct ResetArgs {
    /// Do not ask for confirmation
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Also delete the Connector Profile in StackOne
    #[arg(long)]
    pub delete_stackone_profile: bool,

    /// Do not revoke the refresh token at Constant Contact first
    #[arg(long)]
    pub no_revoke: bool,

    /// Read the StackOne API key from stdin [env: STACKONE_API_KEY]
    #[arg(long)]
    pub stackone_api_key_stdin: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// Redirect port to check [default: the profile's, else 8917]
    #[arg(long, env = "CCSETUP_REDIRECT_PORT", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub redirect_port: Option<u16>,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// The default (kept for old scripts): StackOne as it is, without a profile-write API
    #[arg(long, hide = true, conflicts_with = "stackone_write_api")]
    pub dashboard: bool,

    /// HYPOTHETICAL: give the stand-in StackOne a profile-write API that the real
    /// StackOne does not have (ccsetup then creates the profile through it)
    #[arg(long)]
    pub stackone_write_api: bool,

    /// With no terminal: the demo's "user" types a wrong Client Secret into the
    /// dashboard form, to show the link proof catching it
    #[arg(long, conflicts_with = "stackone_write_api")]
    pub mistype_secret: bool,

    /// Local redirect port for the demo [default: 8917, or a free one if taken]
    #[arg(long, env = "CCSETUP_REDIRECT_PORT", value_name = "PORT", value_parser = clap::value_parser!(u16).range(1..))]
    pub redirect_port: Option<u16>,

    /// After the demo's init, keep the stand-ins running and print `export` lines for them; stop with Ctrl-C
    #[arg(long)]
    pub serve: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// Shell to print completions for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Args)]
pub struct ManArgs {
    /// The command whose page to print (ccsetup-COMMAND(1)) [default: ccsetup(1)]
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,

    /// Write every page (ccsetup.1, ccsetup-COMMAND.1) to DIR instead of printing one
    #[arg(long, value_name = "DIR", conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

const INIT_EXAMPLES: &str = "\
Examples:
  ccsetup init
  ccsetup init --no-browser
  CC_CLIENT_SECRET=… STACKONE_API_KEY=… ccsetup init --non-interactive --client-id 1a2b… --json
  printf '%s' \"$SECRET\" | ccsetup init --client-id 1a2b… --client-secret-stdin --skip-stackone
  ccsetup init --dry-run --client-id 1a2b…";
const STATUS_EXAMPLES: &str = "\
Examples:
  ccsetup status
  ccsetup status --offline --json";
const TOKEN_EXAMPLES: &str = "\
Examples:
  curl -H \"Authorization: Bearer $(ccsetup token)\" https://api.cc.email/v3/account/summary
  ccsetup token --json --force-refresh";
const ROTATE_EXAMPLES: &str = "\
Examples:
  ccsetup rotate                      # new Client Secret (the default)
  ccsetup rotate --reauthorize        # new refresh token
  printf '%s' \"$NEW\" | ccsetup rotate --client-secret --client-secret-stdin --non-interactive";
const LINK_EXAMPLES: &str = "\
Examples:
  ccsetup link --origin-owner-id cust-42 --origin-owner-name \"Acme Ltd\"
  ccsetup link --origin-owner-id cust-42 --origin-owner-name Acme --json --no-browser
  ccsetup link --origin-owner-id me --origin-owner-name \"My test user\" --wait";
const RESET_EXAMPLES: &str = "\
Examples:
  ccsetup reset
  ccsetup reset --yes --delete-stackone-profile";
const DOCTOR_EXAMPLES: &str = "\
Examples:
  ccsetup doctor
  ccsetup doctor --redirect-port 8917 --json";
const DEMO_EXAMPLES: &str = "\
Examples:
  ccsetup demo
  ccsetup demo --no-browser
  ccsetup demo --stackone-write-api   # a HYPOTHETICAL StackOne with a profile-write API";
const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  ccsetup completions bash > ~/.local/share/bash-completion/completions/ccsetup
  ccsetup completions zsh > \"${fpath[1]}/_ccsetup\"
  ccsetup completions fish > ~/.config/fish/completions/ccsetup.fish";

const MAN_EXAMPLES: &str = "\
Examples:
  ccsetup man init | man -l -
  ccsetup man --dir ~/.local/share/man/man1     # then: man ccsetup, man ccsetup-init";

/// The global options in a few lines, as `gh` shows its "INHERITED FLAGS":
/// a subcommand's `--help` is about that subcommand.
const GLOBAL_OPTIONS_SUMMARY: &str = "\
Global options (before or after the command; details: ccsetup --help):
  --profile NAME    --config-dir DIR    --non-interactive    --json    --no-browser
  --store keyring|file    -v, --verbose    -q, --quiet";

/// A subcommand's `--help` with the global options as
/// `GLOBAL_OPTIONS_SUMMARY` instead of ~40 lines of their full entries;
/// `None` when `args` do not ask for one. Rendered from a copy: parsing is
/// untouched.
pub fn subcommand_long_help(args: &[std::ffi::OsString]) -> Option<String> {
    use clap::CommandFactory;
    // `ccsetup help init` shows what `ccsetup init --help` shows.
    if !args.iter().any(|a| a == "--help" || a == "help") {
        return None;
    }
    let mut cmd = Cli::command();
    cmd.build();
    let name = args
        .iter()
        .skip(1)
        .filter_map(|a| a.to_str())
        .find(|a| *a != "help" && cmd.find_subcommand(a).is_some())?
        .to_string();
    let globals: Vec<clap::Id> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .map(|a| a.get_id().clone())
        .collect();
    let mut sub = std::mem::take(cmd.find_subcommand_mut(&name)?);
    for id in globals {
        sub = sub.mut_arg(id, |a| a.hide_long_help(true));
    }
    let examples = sub
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_default();
    let mut sub = sub.after_long_help(format!("{GLOBAL_OPTIONS_SUMMARY}\n\n{examples}"));
    Some(sub.render_long_help().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn profile_names_are_restricted() {
        assert!(parse_profile_name("prod-eu_1").is_ok());
        for bad in ["", "a:b", "a b", "ü", &"x".repeat(65)] {
            assert!(parse_profile_name(bad).is_err(), "{bad:?}");
        }
    }
}
