//! `text::sanitize_remote`, the one rule for remote text on a terminal:
//! its output is terminal-safe, a fixed point (sanitizing again changes
//! nothing), never longer than its input, and the clipped form keeps to
//! its limit. `--json` output of any text (`escape_json_invisible`) is
//! terminal-safe and reads back as the same text.
#![no_main]

use ccsetup::text::{
    escape_json_invisible, is_terminal_safe, sanitize_remote, sanitize_remote_clipped,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let clean = sanitize_remote(text);
    assert!(is_terminal_safe(&clean), "{clean:?}");
    assert_eq!(sanitize_remote(&clean), clean, "not idempotent");
    assert!(clean.len() <= text.len());
    assert!(!clean.starts_with(' ') && !clean.ends_with(' '));
    let max = data.len() % 40;
    let clipped = sanitize_remote_clipped(text, max);
    assert!(is_terminal_safe(&clipped));
    assert!(clipped.chars().count() <= max + 1);
    let json = escape_json_invisible(&serde_json::to_string(text).unwrap());
    assert!(is_terminal_safe(&json), "{json:?}");
    assert_eq!(serde_json::from_str::<String>(&json).unwrap(), text);
});
