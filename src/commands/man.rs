//! `ccsetup man [COMMAND]`: the man pages, rendered from the same clap
//! definitions as `--help` (so they cannot drift), for installs that have
//! no packaged pages (`cargo install --path .`). `cargo xtask dist-assets`
//! writes the packaged ones through [`write_pages`] too.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};
use crate::error::{Error, Result};
use crate::ui::IoStreams;

pub fn run(args: &ManArgs, io: &mut IoStreams) -> Result<()> {
    if let Some(dir) = &args.dir {
        let written = write_pages(dir).map_err(|e| {
            Error::failure(format!(
                "could not write the man pages to {}",
                dir.display()
            ))
            .with_source(e)
        })?;
        io.info(format!(
            "Wrote {} man pages to {} (`man ccsetup` finds them when that is a man1 folder on the manual path, \
             e.g. ~/.local/share/man/man1).",
            written.len(),
            dir.display()
        ));
        return Ok(());
    }
    let page = page(args.command.as_deref())?;
    let text = String::from_utf8(page)
        .map_err(|e| Error::failure("the man page is not UTF-8").with_source(e))?;
    io.print_raw_stdout(text.trim_end())
}

/// The roff source of ccsetup(1), or of ccsetup-`command`(1).
pub fn page(command: Option<&str>) -> Result<Vec<u8>> {
    // As clap_mangen::generate_to builds it: no `help` page, and each
    // subcommand named ccsetup-<command> by the build.
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    let cmd = match command {
        None => cli,
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
                return Err(Error::usage(format!("no man page for {name:?}"))
                    .with_hint(format!("the commands are: {}", names.join(", "))));
            }
        },
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut out)
        .map_err(|e| Error::failure("could not render the man page").with_source(e))?;
    Ok(out)
}

/// Writes ccsetup.1 and ccsetup-<command>.1 for every command into `dir`
/// (created if missing); returns the files written.
pub fn write_pages(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    clap_mangen::generate_to(Cli::command(), dir)?;
    let mut files = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()?;
    files.retain(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("ccsetup") && n.ends_with(".1"))
    });
    files.sort();
    Ok(files)
}
