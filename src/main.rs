//! The `ccsetup` binary: everything lives in the library.

fn main() {
    let code = ccsetup::run(std::env::args_os(), ccsetup::ui::IoStreams::system());
    std::process::exit(code);
}
