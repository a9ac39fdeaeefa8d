//! A `$BROWSER` that opens nothing: a shell script that records every URL
//! ccsetup hands it, for the tests of when and what ccsetup opens.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A shell-script browser that records every URL it is asked to open.
pub struct BrowserStub {
    _dir: tempfile::TempDir,
    script: PathBuf,
    opened: PathBuf,
}

impl BrowserStub {
    /// A new script in a directory of its own, nothing opened yet.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let opened = dir.path().join("opened.txt");
        let script = dir.path().join("browser.sh");
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"$1\" >> '{}'\n",
                opened.display()
            ),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        BrowserStub {
            _dir: dir,
            script,
            opened,
        }
    }

    /// The file the script appends each URL it is given to.
    pub fn opened_file(&self) -> &Path {
        &self.opened
    }

    /// Points `cmd`'s `BROWSER` at the script (and lets it open one).
    pub fn attach(&self, cmd: &mut Command) {
        cmd.env_remove("CCSETUP_NO_BROWSER")
            .env("BROWSER", &self.script);
    }

    /// The URLs the script was given, in order.
    pub fn launches(&self) -> Vec<String> {
        std::fs::read_to_string(&self.opened)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}
