//! ccsetup: a guided, checked, scriptable setup of a Constant Contact OAuth
//! application and its StackOne Connector Profile.
//!
//! The binary is a thin wrapper around [`run`]. Layers, top down (each
//! imports only from the layers below it; `layering_tests` keeps it so):
//! - [`commands`]: one module per command: arguments → inputs → workflow →
//!   render (`init` is a folder: seven named steps over one resolved plan);
//! - [`context`]: what a command receives; [`cli`]: the clap surface;
//! - [`workflow`]: what the commands share (the token lifecycle,
//!   authorization, `init`'s storage, the portal and dashboard guides,
//!   StackOne, rotation), over a [`workflow::ProfileSession`];
//!   [`render`]: output several commands print;
//! - the domain, which knows nothing above it:
//! - [`oauth`]: PKCE authorization with a loopback listener, token grants;
//! - [`constant_contact`]: CC facts and the account check;
//! - [`stackone`]: the StackOne API client and the dashboard path;
//! - [`store`] and [`config`]: secrets and non-secret state;
//! - [`ui`], [`browser`], [`interrupt`]: the terminal, the browser, Ctrl-C;
//! - [`endpoints`], [`http`], [`clock`], [`fsutil`], [`error`]: plumbing;
//! - [`hints`]: the one catalogue of what-to-do-next hints;
//! - [`text`]: remote text made safe for a terminal; [`secret_env`]: secret
//!   environment variables, read once and removed from the environment;
//! - `testing` (compiled into unit tests only): a scripted prompter, a test context;
//! - [`sandbox`]: strict local stand-ins of both remote services.

pub mod browser;
pub mod cli;
pub mod clipboard;
pub mod clock;
pub mod commands;
pub mod config;
pub mod constant_contact;
pub mod context;
pub mod endpoints;
pub mod error;
pub mod fsutil;
pub mod hints;
pub mod http;
pub mod interrupt;
pub mod oauth;
pub mod render;
pub mod sandbox;
pub mod secret_env;
pub mod stackone;
pub mod store;
#[cfg(test)]
pub mod testing;
pub mod text;
pub mod ui;
pub mod workflow;

use std::ffi::OsString;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::error::Error;
use crate::ui::IoStreams;

/// Parses `args`, runs the command, reports any error, returns the exit code.
pub fn run<I, T>(args: I, mut io: IoStreams) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            match cli::subcommand_long_help(&args) {
                Some(help) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
                    let _ = io.print_raw_stdout(help.trim_end());
                }
                _ => {
                    let _ = e.print();
                }
            }
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
        }
    };
    io.json = cli.global.json;
    io.quiet = cli.global.quiet;
    if io.json {
        io.disable_color();
    }
    let verbose = cli.global.verbose;

    // Completions and man pages need no runtime, config, network or keyring.
    let offline = match &cli.command {
        Command::Completions(args) => Some(commands::completions::run(args, &mut io)),
        Command::Man(args) => Some(commands::man::run(args, &mut io)),
        _ => None,
    };
    if let Some(result) = offline {
        return match result {
            Ok(()) => 0,
            Err(e) => report(&mut io, &e, verbose),
        };
    }

    init_tracing(verbose, cli.global.quiet, io.color);
    let mut ctx = match context::from_global(&cli.global, io) {
        Ok(ctx) => ctx,
        Err(e) => {
            let mut io = IoStreams::system();
            io.json = cli.global.json;
            return report(&mut io, &e, verbose);
        }
    };
    // A cached `token` reads and prints: no runtime, no signal handling
    // (nothing it does needs guarding), no threads but the keyring's.
    if let Some(result) = commands::finish_without_runtime(&mut ctx, &cli.command) {
        return match result {
            Ok(()) => 0,
            Err(e) => report(&mut ctx.io, &e, verbose),
        };
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let err = Error::failure("could not start the async runtime").with_source(e);
            return report(&mut ctx.io, &err, verbose);
        }
    };
    interrupt::install(&rt);

    let result = rt.block_on(commands::dispatch(&mut ctx, cli.command));
    let code = match result {
        Ok(()) => 0,
        Err(e) => report(&mut ctx.io, &e, verbose),
    };
    // Do not wait for stray blocking reads (a paste prompt nobody answered).
    rt.shutdown_timeout(std::time::Duration::from_millis(200));
    code
}

fn report(io: &mut IoStreams, err: &Error, verbose: u8) -> i32 {
    if err.kind() == error::ErrorKind::Interrupted {
        // A prompt cut short by Ctrl-C may have hidden the cursor.
        ui::restore_terminal();
    }
    io.error(err, verbose > 0);
    err.exit_code()
}

/// `-v` shows ccsetup's info events, `-vv` its HTTP traces; `RUST_LOG`
/// overrides. Other crates stay at `warn` so no library can log a header.
fn init_tracing(verbose: u8, quiet: bool, color: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "warn,ccsetup=info",
        (false, _) => "warn,ccsetup=trace",
    };
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.is_empty())
        .and_then(|v| EnvFilter::try_new(v).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .without_time()
        .try_init();
}

/// The layering rules of the module map above, checked on the source text
/// so that a forbidden `use` fails `cargo test`.
#[cfg(test)]
mod shape_tests;

#[cfg(test)]
mod layering_tests {
    use std::path::{Path, PathBuf};

    /// Every `.rs` file under `src/`, as (path relative to `src/`, code
    /// without comment lines).
    pub(super) fn sources() -> Vec<(String, String)> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(path);
                }
            }
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&root, &mut files);
        files
            .into_iter()
            .map(|p| {
                let rel = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                (rel, code_of(&std::fs::read_to_string(&p).unwrap()))
            })
            .collect()
    }

    pub(super) fn code_of(text: &str) -> String {
        text.lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The crate paths `code` names (`crate::x::y::z` → `x::y::z`).
    fn crate_paths(code: &str) -> Vec<String> {
        code.match_indices("crate::")
            .map(|(i, m)| {
                code[i + m.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
                    .collect::<String>()
                    .trim_end_matches(':')
                    .to_string()
            })
            .collect()
    }

    /// The one command another command may run: `demo` runs the real `init`.
    const COMMAND_EXCEPTIONS: [(&str, &str); 1] = [("commands/demo.rs", "commands::init::run")];

    /// The rule broken by `file` naming `crate::path`, if any.
    fn violation(file: &str, path: &str) -> Option<&'static str> {
        let top = file.split('/').next().unwrap_or(file);
        let in_commands = top == "commands";
        let module = path.split("::").next().unwrap_or(path);
        match module {
            "cli" if !(in_commands || ["lib.rs", "cli.rs", "context.rs"].contains(&file)) => {
                Some("only lib.rs, cli.rs, context.rs and commands/ may import crate::cli")
            }
            "commands" if !(in_commands || file == "lib.rs") => {
                Some("only lib.rs and commands/ may import crate::commands")
            }
            "commands" if in_commands && !COMMAND_EXCEPTIONS.contains(&(file, path)) => Some(
                "a command module must not import another command (the exceptions are named in COMMAND_EXCEPTIONS)",
            ),
            "context"
                if !(in_commands || ["lib.rs", "context.rs", "testing.rs"].contains(&file)) =>
            {
                Some("workflows and the domain take what they use, never the Context")
            }
            "constant_contact" if top == "oauth" => {
                Some("oauth must not import constant_contact (no import cycle)")
            }
            "config" if top == "store" => {
                Some("store must not import config (config imports store: no import cycle)")
            }
            m if top == "sandbox" && !["sandbox", "endpoints", "http"].contains(&m) => {
                Some("the sandbox depends on nothing of the product but endpoints and http")
            }
            _ => None,
        }
    }

    /// The `super::` paths by which a command file reaches outside its own
    /// command: from `commands/x.rs` anything but its own test module's
    /// `use super::*`, from `commands/x/y.rs` anything above `x`
    /// (`super::super::`). `commands/tests.rs` tests the dispatcher.
    fn super_violations(file: &str, code: &str) -> Vec<String> {
        let depth = file.matches('/').count();
        if !file.starts_with("commands/") || file == "commands/tests.rs" {
            return Vec::new();
        }
        code.lines()
            .map(str::trim)
            .filter(|line| match depth {
                1 => line.contains("super::") && *line != "use super::*;",
                _ => line.contains("super::super::"),
            })
            .map(|line| format!("{file}: `{line}`: a command reaches another through super::"))
            .collect()
    }

    #[test]
    fn dependencies_point_downward() {
        let mut broken = Vec::new();
        for (file, code) in sources() {
            for path in crate_paths(&code) {
                if let Some(rule) = violation(&file, &path) {
                    broken.push(format!("{file}: crate::{path}: {rule}"));
                }
            }
            broken.extend(super_violations(&file, &code));
        }
        broken.sort();
        broken.dedup();
        assert!(broken.is_empty(), "layering broken:\n{}", broken.join("\n"));
    }

    #[test]
    fn the_checker_catches_forbidden_imports() {
        let code = code_of("// crate::cli in a comment is fine\nuse crate::cli::StoreChoice;");
        let found: Vec<_> = crate_paths(&code)
            .into_iter()
            .filter_map(|m| violation("store/mod.rs", &m))
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(violation("workflow/tokens.rs", "commands").is_some());
        assert!(violation("commands/demo.rs", "commands::run_init_for_demo").is_some());
        assert!(violation("commands/demo.rs", "commands::init::run").is_none());
        assert!(violation("commands/status.rs", "commands::init::run").is_some());
        assert!(violation("workflow/rotation.rs", "context").is_some());
        assert!(violation("oauth/listener.rs", "constant_contact").is_some());
        assert!(violation("store/mod.rs", "config::parse_profile_name").is_some());
        assert!(violation("sandbox/server.rs", "store").is_some());
        assert!(violation("commands/init/mod.rs", "cli").is_none());
        assert!(violation("workflow/tokens.rs", "store").is_none());
    }

    #[test]
    fn the_checker_catches_super_paths_between_commands() {
        let demo = "use super::*;\n    super::run_init_for_demo(ctx, args).await";
        assert_eq!(super_violations("commands/demo.rs", demo).len(), 1);
        assert!(super_violations("commands/init/plan.rs", "use super::Wizard;").is_empty());
        assert_eq!(
            super_violations("commands/init/plan.rs", "use super::super::status;").len(),
            1
        );
        assert!(super_violations("commands/tests.rs", "use super::dispatch;").is_empty());
    }
}
