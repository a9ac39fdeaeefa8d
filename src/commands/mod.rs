//! One module per command. Each takes the [`Context`] and its parsed args,
//! turns them into inputs, calls [`crate::workflow`], and renders the
//! result. No command module imports another: `demo` running the real
//! `init` is the one deliberate exception, named in the layering test.

pub mod completions;
pub mod demo;
pub mod doctor;
pub mod init;
pub mod link;
pub mod man;
pub mod reset;
pub mod rotate;
pub mod status;
pub mod token;

use crate::cli::Command;
use crate::context::Context;
use crate::error::Result;

/// Runs one command.
pub async fn dispatch(ctx: &mut Context, command: Command) -> Result<()> {
    announce_overrides(ctx, &command);
    use crate::hints::Command as Place;
    let (place, result) = match command {
        Command::Init(args) => (Place::Init, init::run(ctx, args).await),
        Command::Status(args) => (Place::Status, status::run(ctx, args).await),
        Command::Token(args) => (Place::Token, token::run(ctx, args).await),
        Command::Rotate(args) => (Place::Rotate, rotate::run(ctx, args).await),
        Command::Link(args) => (Place::Link, link::run(ctx, args).await),
        Command::Reset(args) => (Place::Reset, reset::run(ctx, args).await),
        Command::Doctor(args) => (Place::Doctor, doctor::run(ctx, args).await),
        Command::Demo(args) => (Place::Demo, demo::run(ctx, args).await),
        Command::Completions(args) => return completions::run(&args, &mut ctx.io),
        Command::Man(args) => return man::run(&args, &mut ctx.io),
    };
    fit_hint(result, place)
}

/// Runs `command` if it can finish before the async runtime starts, which
/// then never does: `token` answering from its cache. `None`: nothing was
/// done or printed, run [`dispatch`].
pub fn finish_without_runtime(ctx: &mut Context, command: &Command) -> Option<Result<()>> {
    let Command::Token(args) = command else {
        return None;
    };
    let cached = token::cached(ctx, args)?;
    // Printed before anything else, as by `dispatch`.
    announce_overrides(ctx, command);
    let result = cached.and_then(|token| token::print_cached(&mut ctx.io, &token));
    Some(fit_hint(result, crate::hints::Command::Token))
}

/// Once per run, on stderr (never in --json stdout). Not for `demo`, whose
/// stand-ins are its own and announced as such, nor `completions` and
/// `man`, which talk to nothing.
fn announce_overrides(ctx: &mut Context, command: &Command) {
    if !matches!(
        command,
        Command::Demo(_) | Command::Completions(_) | Command::Man(_)
    ) && let Some(notice) = ctx.endpoints.override_notice()
    {
        ctx.io.notice(notice);
    }
}

/// A refused Client Secret found deep down gets the hint for this command.
fn fit_hint(result: Result<()>, place: crate::hints::Command) -> Result<()> {
    result.map_err(|e| crate::workflow::authorize::fit_invalid_client_hint(e, place))
}

#[cfg(test)]
mod tests;
