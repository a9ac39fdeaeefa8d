//! One module per command. Each takes the [`Context`] and its parsed args,
//! turns them into inputs, calls [`crate::workflow`], and renders the
//! result. No command module imports another: `demo` runs `init` through
//! `run_init_for_demo`, the one deliberate exception.

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

/// `demo` runs the real `init` against the stand-ins it started.
async fn run_init_for_demo(ctx: &mut Context, args: crate::cli::InitArgs) -> Result<()> {
    init::run(ctx, args).await
}

/// Runs one command.
pub async fn dispatch(ctx: &mut Context, command: Command) -> Result<()> {
    match command {
        Command::Init(args) => init::run(ctx, args).await,
        Command::Status(args) => status::run(ctx, args).await,
        Command::Token(args) => token::run(ctx, args).await,
        Command::Rotate(args) => rotate::run(ctx, args).await,
        Command::Link(args) => link::run(ctx, args).await,
        Command::Reset(args) => reset::run(ctx, args).await,
        Command::Doctor(args) => doctor::run(ctx, args).await,
        Command::Demo(args) => demo::run(ctx, args).await,
        Command::Completions(args) => completions::run(&args, &mut ctx.io),
        Command::Man(args) => man::run(&args, &mut ctx.io),
    }
}

#[cfg(test)]
mod tests;
