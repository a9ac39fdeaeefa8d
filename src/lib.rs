//! ccsetup: a guided, checked, scriptable setup of a Constant Contact OAuth
//! application and its StackOne Connector Profile.
//!
//! The binary is a thin wrapper around [`run`]. Modules, one per concern:
//! - [`cli`]: the clap surface; [`commands`]: one module per command;
//! - [`oauth`]: PKCE authorization with a loopback listener, token grants;
//! - [`constant_contact`]: CC facts and the account check;
//! - [`stackone`]: the StackOne API client and the dashboard path;
//! - [`store`] and [`config`]: secrets and non-secret state;
//! - [`ui`], [`browser`], [`interrupt`]: the terminal, the browser, Ctrl-C;
//! - [`sandbox`]: strict local stand-ins of both remote services.

pub mod browser;
pub mod cli;
pub mod clipboard;
pub mod commands;
pub mod config;
pub mod constant_contact;
pub mod context;
pub mod endpoints;
pub mod error;
pub mod fsutil;
pub mod http;
pub mod interrupt;
pub mod oauth;
pub mod sandbox;
pub mod secret_env;
pub mod stackone;
pub mod store;
pub mod text;
pub mod ui;

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
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
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

    // Completions need no runtime, config, network or keyring.
    if let Command::Completions(args) = &cli.command {
        return match commands::completions::run(args, &mut io) {
            Ok(()) => 0,
            Err(e) => report(&mut io, &e, verbose),
        };
    }

    init_tracing(verbose, cli.global.quiet, io.color);
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let err = Error::failure("could not start the async runtime").with_source(e);
            return report(&mut io, &err, verbose);
        }
    };
    interrupt::install(&rt);

    let mut ctx = match context::from_global(&cli.global, io) {
        Ok(ctx) => ctx,
        Err(e) => {
            let mut io = IoStreams::system();
            io.json = cli.global.json;
            return report(&mut io, &e, verbose);
        }
    };
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
