//! `ccsetup completions <shell>`.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::error::{Error, Result};
use crate::ui::IoStreams;

pub fn run(args: &CompletionsArgs, io: &mut IoStreams) -> Result<()> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "ccsetup", &mut buf);
    let text = String::from_utf8(buf)
        .map_err(|e| Error::failure("completion script is not UTF-8").with_source(e))?;
    io.print_raw_stdout(text.trim_end())
}
