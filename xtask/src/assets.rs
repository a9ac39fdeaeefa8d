//! Man pages and shell completions, generated from ccsetup's own clap
//! definitions so they cannot drift from `--help`.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;

use ccsetup::cli::Cli;

/// Where `cargo xtask dist-assets` writes when given no directory; the paths in
/// Cargo.toml (dist `include`, cargo-deb `assets`) name this one.
pub const DEFAULT_OUT_DIR: &str = "target/assets";

const BIN_NAME: &str = "ccsetup";

/// Writes `out/man/` and `out/completions/` afresh (a command removed from the
/// CLI must not leave its old page behind) and returns the files written.
pub fn write_dist_assets(out: &Path) -> io::Result<Vec<PathBuf>> {
    let man_dir = out.join("man");
    let completions_dir = out.join("completions");
    for dir in [&man_dir, &completions_dir] {
        match fs::remove_dir_all(dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        fs::create_dir_all(dir)?;
    }

    // ccsetup.1, then ccsetup-<command>.1 for each command (recursively).
    ccsetup::commands::man::write_pages(&man_dir)?;

    for shell in Shell::value_variants() {
        let mut cmd = Cli::command();
        clap_complete::generate_to(*shell, &mut cmd, BIN_NAME, &completions_dir)?;
    }

    let mut files = Vec::new();
    for dir in [&man_dir, &completions_dir] {
        let mut entries = fs::read_dir(dir)?
            .map(|entry| entry.map(|e| e.path()))
            .collect::<io::Result<Vec<_>>>()?;
        entries.sort();
        files.extend(entries);
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The commands the user is told about: the README's "## Commands" table
    /// (`| `ccsetup NAME …` | … |` rows). A second source besides clap, so a
    /// command documented but missing from the CLI (or hidden from the man
    /// page) fails here too.
    fn readme_commands() -> BTreeSet<String> {
        let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .expect("README.md")
            // A Windows checkout may have CRLF line ends.
            .replace("\r\n", "\n");
        let section = readme
            .split("\n## Commands\n")
            .nth(1)
            .expect("README has a \"## Commands\" section");
        let section = section.split("\n## ").next().unwrap();
        section
            .lines()
            .filter_map(|line| line.strip_prefix("| `ccsetup "))
            .map(|rest| rest.split(['`', ' ']).next().unwrap().to_string())
            .collect()
    }

    fn clap_commands() -> BTreeSet<String> {
        Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .collect()
    }

    /// roff escapes '-' as "\-"; compare on the text a reader sees.
    fn unescape(roff: &str) -> String {
        roff.replace("\\-", "-")
    }

    /// The lines of one `.SH NAME` section of a man page.
    fn section<'a>(page: &'a str, name: &str) -> Vec<&'a str> {
        page.lines()
            .skip_while(|l| *l != format!(".SH {name}"))
            .skip(1)
            .take_while(|l| !l.starts_with(".SH "))
            .collect()
    }

    #[test]
    fn the_man_page_names_every_command() {
        let out = tempfile::tempdir().unwrap();
        write_dist_assets(out.path()).unwrap();

        let documented = readme_commands();
        assert!(
            documented.len() >= 9,
            "README's command table parsed to {documented:?}"
        );
        let commands: BTreeSet<String> = clap_commands().union(&documented).cloned().collect();

        let main_page = unescape(&fs::read_to_string(out.path().join("man/ccsetup.1")).unwrap());
        let listed: BTreeSet<String> = section(&main_page, "SUBCOMMANDS")
            .into_iter()
            .filter_map(|l| l.strip_prefix("ccsetup-")?.strip_suffix("(1)"))
            .map(str::to_string)
            .collect();
        assert_eq!(
            listed, commands,
            "ccsetup(1) SUBCOMMANDS must list exactly the commands of the CLI and the README"
        );

        for command in &commands {
            let path = out.path().join(format!("man/ccsetup-{command}.1"));
            let page = unescape(
                &fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
            );
            let name = section(&page, "NAME").join(" ");
            assert!(
                name.starts_with(&format!("ccsetup-{command} ")),
                "{}: NAME section is {name:?}",
                path.display()
            );
        }
    }

    #[test]
    fn every_shell_gets_a_completion_file_that_knows_the_commands() {
        let out = tempfile::tempdir().unwrap();
        write_dist_assets(out.path()).unwrap();
        // The names cargo-deb's assets and the README point at.
        for file in [
            "ccsetup.bash",
            "_ccsetup",
            "ccsetup.fish",
            "_ccsetup.ps1",
            "ccsetup.elv",
        ] {
            let text = fs::read_to_string(out.path().join("completions").join(file))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            for command in clap_commands() {
                assert!(text.contains(&command), "{file} does not offer {command}");
            }
        }
    }

    #[test]
    fn a_page_left_from_an_earlier_run_is_removed() {
        let out = tempfile::tempdir().unwrap();
        let stale = out.path().join("man/ccsetup-retired.1");
        fs::create_dir_all(stale.parent().unwrap()).unwrap();
        fs::write(&stale, ".TH ccsetup-retired 1\n").unwrap();
        let files = write_dist_assets(out.path()).unwrap();
        assert!(!stale.exists());
        assert!(!files.contains(&stale));
        assert!(files.contains(&out.path().join("man/ccsetup.1")));
    }
}
