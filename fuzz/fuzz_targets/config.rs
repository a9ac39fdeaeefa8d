//! `config.toml` as `config::load` reads it (the text after reading).
//! Beyond "never panics": an accepted file survives the round trip through
//! what `config::save` writes, and a refused one names the file.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

const PATH: &str = "/fuzz/ccsetup/config.toml";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ccsetup::config::parse(text, Path::new(PATH)) {
        Ok(config) => {
            let written = ccsetup::config::to_text(&config).expect("a loaded config serializes");
            let reread = ccsetup::config::parse(&written, Path::new(PATH))
                .expect("what save writes, load reads");
            assert_eq!(reread, config, "round trip changed the config:\n{written}");
        }
        Err(e) => {
            assert!(e.message().contains(PATH), "{}", e.message());
            assert!(e.hint().is_some());
        }
    }
});
