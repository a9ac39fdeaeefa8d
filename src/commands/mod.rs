//! One module per command. Each takes the [`Context`] and its parsed args.

pub mod completions;

use crate::cli::Command;
use crate::context::Context;
use crate::error::{Error, Result};

/// Runs one command.
pub async fn dispatch(ctx: &mut Context, command: Command) -> Result<()> {
    match command {
        Command::Init(_) => not_yet("init"),
        Command::Status(_) => not_yet("status"),
        Command::Token(_) => not_yet("token"),
        Command::Rotate(_) => not_yet("rotate"),
        Command::Link(_) => not_yet("link"),
        Command::Reset(_) => not_yet("reset"),
        Command::Doctor(_) => not_yet("doctor"),
        Command::Demo(_) => not_yet("demo"),
        Command::Completions(args) => completions::run(&args, &mut ctx.io),
    }
}

fn not_yet(command: &str) -> Result<()> {
    Err(Error::failure(format!(
        "`ccsetup {command}` is not implemented yet"
    )))
}
