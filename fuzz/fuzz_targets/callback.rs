//! The loopback redirect listener's parsing: the request line it reads
//! (`parse_request_target`) and the verdict on the target
//! (`classify_callback`). Beyond "never panics", it checks that a code is
//! accepted only for `/callback` with exactly one `state` equal to ours and
//! exactly one non-empty `code`, and that provider text is sanitized.
#![no_main]

use ccsetup::oauth::callback::{
    CALLBACK_PATH, CallbackOutcome, MAX_REQUEST_HEAD, classify_callback, parse_request_target,
};
use libfuzzer_sys::fuzz_target;

/// Shaped like oauth2's `CsrfToken::new_random` (16 bytes, base64url).
const STATE: &str = "q8Xo2H0yq3Lr4kq5xQ1wZg";

fuzz_target!(|data: &[u8]| {
    // As the listener sees it: bytes off the socket.
    if let Ok(target) = parse_request_target(data) {
        assert!(target.starts_with('/'), "{target:?}");
        assert!(target.bytes().all(|b| (0x21..=0x7e).contains(&b)));
        assert!(target.len() < MAX_REQUEST_HEAD);
        let line_end = data.iter().position(|&b| b == b'\n').unwrap();
        let line = &data[..line_end];
        assert!(line.starts_with(b"GET "), "only GET yields a target");
        check(target, classify_callback(target, STATE));
    }
    // The target alone (any text, not only what passes the request line).
    if let Ok(text) = std::str::from_utf8(data) {
        check(text, classify_callback(text, STATE));
    }
});

fn params(target: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let pairs = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    (path.to_string(), pairs)
}

fn values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

fn check(target: &str, outcome: CallbackOutcome) {
    let (path, pairs) = params(target);
    match outcome {
        CallbackOutcome::Code(code) => {
            assert_eq!(path, CALLBACK_PATH);
            assert_eq!(values(&pairs, "state"), [STATE], "{target:?}");
            assert_eq!(values(&pairs, "code"), [code.secret().as_str()]);
            assert!(!code.secret().is_empty());
            assert!(values(&pairs, "error").is_empty(), "{target:?}");
        }
        CallbackOutcome::ProviderError { error, description } => {
            assert_eq!(path, CALLBACK_PATH);
            assert_eq!(values(&pairs, "state"), [STATE], "{target:?}");
            assert_eq!(values(&pairs, "error").len(), 1);
            assert!(!error.chars().any(char::is_control), "{error:?}");
            assert!(error.chars().count() <= 64 + 1);
            if let Some(d) = description {
                assert!(!d.chars().any(char::is_control), "{d:?}");
                assert!(d.chars().count() <= 300 + 1);
            }
        }
        CallbackOutcome::NotFound => assert_ne!(path, CALLBACK_PATH),
        // Either way the callback is refused; `state=x&state=` counts as
        // missing, which is as good.
        CallbackOutcome::MissingState | CallbackOutcome::StateMismatch => {
            assert_eq!(path, CALLBACK_PATH);
            assert_ne!(values(&pairs, "state"), [STATE]);
        }
        CallbackOutcome::Malformed(_) => {
            assert_eq!(path, CALLBACK_PATH);
            assert_eq!(values(&pairs, "state"), [STATE], "{target:?}");
        }
    }
}
