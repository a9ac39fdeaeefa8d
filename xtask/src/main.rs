//! Release chores, run as `cargo xtask <task>` (alias in .cargo/config.toml).
//!
//! A separate workspace member rather than a build.rs, so ordinary builds of
//! ccsetup never pay for these.
//!
//! Tasks:
//! - `dist-assets [OUT_DIR]` (default `target/assets`): `OUT_DIR/man/*.1`, one
//!   page for `ccsetup` and one per command, and `OUT_DIR/completions/` for
//!   bash, zsh, fish, PowerShell and elvish. The release archives (dist's
//!   `include`) and the Debian package (cargo-deb's `assets`) ship these files.

use std::path::PathBuf;
use std::process::ExitCode;

mod assets;

const USAGE: &str = "usage: cargo xtask dist-assets [OUT_DIR]   (default: target/assets)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out_dir = match args.as_slice() {
        [task] if task == "dist-assets" => PathBuf::from(assets::DEFAULT_OUT_DIR),
        [task, dir] if task == "dist-assets" => PathBuf::from(dir),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match assets::write_dist_assets(&out_dir) {
        Ok(files) => {
            for file in files {
                println!("{}", file.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("xtask dist-assets: {}: {e}", out_dir.display());
            ExitCode::FAILURE
        }
    }
}
