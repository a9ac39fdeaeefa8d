//! Helpers shared by the test areas. Nothing here is a test.

pub mod e2e;
pub mod fault;
pub mod http;
#[cfg(unix)]
pub mod pages;
#[cfg(unix)]
pub mod pty;
#[cfg(unix)]
pub mod secret_service_session;
#[cfg(unix)]
pub mod webdriver;

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
