//! Helpers shared by the test areas. Nothing here is a test.

pub mod browser_stub;
pub mod e2e;
pub mod fault;
pub mod http;
#[cfg(unix)]
pub mod keyring;
#[cfg(unix)]
pub mod pages;
#[cfg(unix)]
pub mod pty;
#[cfg(unix)]
pub mod secret_service_session;
pub mod stand_in_http;
#[cfg(unix)]
pub mod webdriver;

/// The binary with nothing of the caller's ccsetup environment: no ccsetup
/// or Constant Contact variable, no StackOne key, no `BROWSER`, no
/// `RUST_LOG`. Every test's command starts here.
pub fn ccsetup_command() -> std::process::Command {
    // `CCSETUP_TEST_BINARY`: run the tests against another build (an older
    // one, to see a test fail without its fix).
    let bin = std::env::var_os("CCSETUP_TEST_BINARY")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| assert_cmd::cargo::cargo_bin("ccsetup"));
    clean_command(bin)
}

/// `program` with nothing of the caller's ccsetup environment (see
/// [`ccsetup_command`]): for a shell that runs ccsetup itself.
pub fn clean_command(program: impl AsRef<std::ffi::OsStr>) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    for (k, _) in std::env::vars() {
        if k.starts_with("CCSETUP_")
            || k.starts_with("CC_")
            || k == "STACKONE_API_KEY"
            || k == "BROWSER"
            || k == "RUST_LOG"
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// `cmd` cut off from the tester's desktop: no keyring (a D-Bus address
/// that leads nowhere, so a keyring call fails rather than reaching the
/// tester's own), no colour, and a free port for the loopback listener.
pub fn without_desktop(cmd: &mut std::process::Command) -> &mut std::process::Command {
    cmd.env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/ccsetup-test",
    )
    .env("NO_COLOR", "1")
    .env(
        "CCSETUP_REDIRECT_PORT",
        crate::support::e2e::free_port().to_string(),
    )
}

/// A data file of this directory (the D-Bus config and keyring script that
/// the Secret Service tests run under).
#[cfg(unix)]
pub fn file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/support")
        .join(name)
}

/// The name libtest knows the test `name` of module `module_path` by (the
/// crate name dropped), for re-running this binary with `--exact`.
#[cfg(unix)]
pub fn test_name(module_path: &str, name: &str) -> String {
    let module = module_path.split_once("::").map_or("", |(_, rest)| rest);
    format!("{module}::{name}")
}

/// A regex matching `text` literally, except that each space also matches a
/// line break: the wizard wraps its text to the terminal's width.
pub fn wrapped(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            word.chars()
                .flat_map(|c| {
                    let special = "\\.+*?()|[]{}^$#&-~".contains(c);
                    special.then_some('\\').into_iter().chain([c])
                })
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(r"\s+")
}
