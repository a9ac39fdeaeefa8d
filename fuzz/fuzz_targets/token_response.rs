//! The token endpoint's answers: a 200 body as `TokenEndpoint` parses it
//! (`oauth::token::parse_token_response`), and an error body as it is
//! classified. Beyond "never panics": a parsed token set never has an empty
//! (or blank) access or refresh token, its `Debug` shows neither, and an
//! error message carries no control character (the body is remote text).
#![no_main]

use ccsetup::oauth::token::{Grant, classify_token_error_response, parse_token_response};
use libfuzzer_sys::fuzz_target;
use secrecy::{ExposeSecret, SecretString};

const NOW: i64 = 1_760_000_000;

fuzz_target!(|data: &[u8]| {
    if let Some(set) = parse_token_response(data, NOW, &["contact_data".to_string()]) {
        let access = set.access_token.expose_secret();
        assert!(!access.trim().is_empty(), "empty access token accepted");
        if let Some(refresh) = &set.refresh_token {
            assert!(
                !refresh.expose_secret().trim().is_empty(),
                "empty refresh token"
            );
        }
        // The same set with other tokens: any occurrence beyond the ones
        // there (field names, scopes) would be the token itself.
        let mut other = set.clone();
        other.access_token = SecretString::from("X");
        other.refresh_token = other.refresh_token.map(|_| SecretString::from("X"));
        let (debug, baseline) = (format!("{set:?}"), format!("{other:?}"));
        assert_eq!(
            debug.matches(access).count(),
            baseline.matches(access).count(),
            "Debug shows the access token"
        );
        assert!(set.scope.iter().all(|s| !s.is_empty()));
    }
    let status = data.first().map_or(400, |b| 400 + u16::from(*b % 200));
    for grant in [Grant::AuthorizationCode, Grant::RefreshToken] {
        let verdict = classify_token_error_response(grant, status, data);
        let message = verdict.error.message();
        assert!(
            !message.chars().any(char::is_control),
            "control character in {message:?}"
        );
    }
});
