//! The pasted redirect URL (`--no-browser` paste mode): anything a user (or
//! a clipboard) pastes. Beyond "never panics": an accepted paste names the
//! redirect path and port, carries a non-empty code, and every rejection
//! has a printable explanation.
#![no_main]

use ccsetup::oauth::parse_pasted_redirect;
use libfuzzer_sys::fuzz_target;

const STATE: &str = "q8Xo2H0yq3Lr4kq5xQ1wZg";
const REDIRECTS: [&str; 3] = [
    "http://localhost:8917/callback",
    "http://127.0.0.1:8917/callback",
    "http://[::1]:8917/callback",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let redirect = REDIRECTS[usize::from(pick) % REDIRECTS.len()];
    match parse_pasted_redirect(text, redirect, STATE) {
        Ok(code) => {
            assert!(!code.secret().is_empty());
            // The URL standard drops ASCII tab, CR and LF anywhere in the
            // input (a paste wrapped by a terminal still parses), so look
            // for the address without them.
            let flat: String = text
                .chars()
                .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
                .collect();
            assert!(flat.contains("/callback"), "{text:?}");
            assert!(flat.contains("8917"), "{text:?}");
        }
        Err(rejection) => {
            let message = rejection.to_string();
            assert!(!message.is_empty());
        }
    }
});
