//! The `ccsetup` binary: everything lives in the library.

fn main() {
    // SAFETY: first thing in main, before any thread exists.
    unsafe { ccsetup::secret_env::capture() };
    let code = ccsetup::run(std::env::args_os(), ccsetup::ui::IoStreams::system());
    std::process::exit(code);
}
