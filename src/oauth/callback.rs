//! Pure parsing of what reaches the redirect URI: the HTTP request line the
//! loopback listener reads, and the query string of a callback (from the
//! listener or from a pasted URL).
//!
//! No IO here: these functions take bytes or text and return a verdict, so
//! they can be unit-tested exhaustively and fuzzed.

use std::fmt;

use oauth2::AuthorizationCode;

/// The most the listener reads of one request (request line and headers).
/// A browser's callback request is 1–2 KiB; anything bigger is not ours.
pub const MAX_REQUEST_HEAD: usize = 8 * 1024;

/// The path of the local redirect URI (`http://localhost:<port>/callback`).
pub const CALLBACK_PATH: &str = "/callback";

/// Why a request line was not a usable `GET <target> HTTP/1.x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestLineError {
    /// No line end yet: more bytes are needed.
    Incomplete,
    /// No line end within [`MAX_REQUEST_HEAD`] bytes.
    TooLong,
    /// Not `METHOD SP TARGET SP HTTP/1.x`, or a target that is not origin-form
    /// printable ASCII.
    Malformed,
    /// Well-formed, but not a `GET`.
    MethodNotAllowed,
}

impl fmt::Display for RequestLineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RequestLineError::Incomplete => "incomplete request line",
            RequestLineError::TooLong => "request line too long",
            RequestLineError::Malformed => "malformed request line",
            RequestLineError::MethodNotAllowed => "method not allowed",
        })
    }
}

/// Extracts the request target (`/callback?code=…`) from the start of an
/// HTTP/1.x request. Only the first line is looked at; headers are ignored.
pub fn parse_request_target(head: &[u8]) -> Result<&str, RequestLineError> {
    let Some(end) = head.iter().position(|&b| b == b'\n') else {
        return Err(if head.len() >= MAX_REQUEST_HEAD {
            RequestLineError::TooLong
        } else {
            RequestLineError::Incomplete
        });
    };
    if end >= MAX_REQUEST_HEAD {
        return Err(RequestLineError::TooLong);
    }
    let line = &head[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let line = std::str::from_utf8(line).map_err(|_| RequestLineError::Malformed)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(RequestLineError::Malformed);
    };
    let method_ok = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
    let version_ok = version == "HTTP/1.1" || version == "HTTP/1.0";
    let target_ok = target.starts_with('/') && target.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if !(method_ok && version_ok && target_ok) {
        return Err(RequestLineError::Malformed);
    }
    if method != "GET" {
        return Err(RequestLineError::MethodNotAllowed);
    }
    Ok(target)
}

/// What a request target means for the flow waiting on `state`.
pub enum CallbackOutcome {
    /// The answer we wait for: an authorization code with the matching state.
    Code(AuthorizationCode),
    /// The provider answered our request with an error (e.g. `access_denied`):
    /// the flow ends.
    ProviderError {
        error: String,
        description: Option<String>,
    },
    /// `/callback` without a `state`: not an answer to our request.
    MissingState,
    /// `/callback` with someone else's `state` (a stale tab, a forged link).
    StateMismatch,
    /// `/callback` with our state but no code, an empty one, or a repeated
    /// parameter: unusable, keep waiting.
    Malformed(&'static str),
    /// Any other path (`/favicon.ico`, `/`): 404.
    NotFound,
}

// Hand-written so that a code can never reach a log through `{:?}`.
impl fmt::Debug for CallbackOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackOutcome::Code(_) => f.write_str("Code([redacted])"),
            CallbackOutcome::ProviderError { error, description } => f
                .debug_struct("ProviderError")
                .field("error", error)
                .field("description", description)
                .finish(),
            CallbackOutcome::MissingState => f.write_str("MissingState"),
            CallbackOutcome::StateMismatch => f.write_str("StateMismatch"),
            CallbackOutcome::Malformed(why) => f.debug_tuple("Malformed").field(why).finish(),
            CallbackOutcome::NotFound => f.write_str("NotFound"),
        }
    }
}

/// Classifies a request target (`/callback?code=…&state=…`) against the
/// state this flow sent.
pub fn classify_callback(target: &str, expected_state: &str) -> CallbackOutcome {
    classify_callback_at(target, CALLBACK_PATH, expected_state)
}

/// [`classify_callback`] for a redirect URI whose path is `expected_path`.
pub fn classify_callback_at(
    target: &str,
    expected_path: &str,
    expected_state: &str,
) -> CallbackOutcome {
    let (path, query) = match target.split_once('?') {
        Some((path, query)) => (path, query),
        None => (target, ""),
    };
    if path != expected_path {
        return CallbackOutcome::NotFound;
    }
    classify_callback_query(query, expected_state)
}

/// Classifies the query string of a callback (without the `?`).
pub fn classify_callback_query(query: &str, expected_state: &str) -> CallbackOutcome {
    let mut code = None;
    let mut state = None;
    let mut error = None;
    let mut description = None;
    let (mut state_repeated, mut other_repeated) = (false, false);
    for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "code" => &mut code,
            "state" => &mut state,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        // A repeated parameter is ambiguous: refuse rather than pick one.
        if slot.replace(value.into_owned()).is_some() {
            if name == "state" {
                state_repeated = true;
            } else {
                other_repeated = true;
            }
        }
    }
    match state.as_deref() {
        None | Some("") => return CallbackOutcome::MissingState,
        _ if state_repeated => return CallbackOutcome::StateMismatch,
        s if !state_matches(s, expected_state) => return CallbackOutcome::StateMismatch,
        _ => {}
    }
    if other_repeated {
        return CallbackOutcome::Malformed("a parameter is repeated");
    }
    if let Some(error) = error {
        return CallbackOutcome::ProviderError {
            error: sanitize_provider_text(&error, 64),
            description: description.map(|d| sanitize_provider_text(&d, 300)),
        };
    }
    match code {
        Some(code) if !code.is_empty() => CallbackOutcome::Code(AuthorizationCode::new(code)),
        _ => CallbackOutcome::Malformed("the callback carries no authorization code"),
    }
}

/// Compares states without an early exit, so timing does not reveal how
/// much of a guessed state was right.
fn state_matches(got: Option<&str>, expected: &str) -> bool {
    let Some(got) = got else { return false };
    let (a, b) = (got.as_bytes(), expected.as_bytes());
    if a.len() != b.len() || b.is_empty() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Provider text goes into terminal messages: keep it printable and short so
/// a crafted callback cannot inject escape sequences or flood the screen
/// ([`crate::text`] holds the rule).
pub fn sanitize_provider_text(text: &str, max_chars: usize) -> String {
    crate::text::sanitize_remote_clipped(text, max_chars)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_parsing() {
        assert_eq!(
            parse_request_target(b"GET /callback?code=a&state=b HTTP/1.1\r\nHost: x\r\n\r\n"),
            Ok("/callback?code=a&state=b")
        );
        assert_eq!(parse_request_target(b"GET / HTTP/1.0\n"), Ok("/"));
        assert_eq!(
            parse_request_target(b"GET /callback"),
            Err(RequestLineError::Incomplete)
        );
        assert_eq!(
            parse_request_target(b"POST /callback HTTP/1.1\r\n"),
            Err(RequestLineError::MethodNotAllowed)
        );
        for bad in [
            &b"GET  /callback HTTP/1.1\r\n"[..],
            b"GET /callback HTTP/2\r\n",
            b"GET http://evil/callback HTTP/1.1\r\n",
            b"GET /a b HTTP/1.1\r\n",
            b"get /callback HTTP/1.1\r\n",
            b"\r\n",
            b"\xff\xfe /x HTTP/1.1\r\n",
            b"GET /caf\xc3\xa9 HTTP/1.1\r\n",
        ] {
            assert_eq!(
                parse_request_target(bad),
                Err(RequestLineError::Malformed),
                "{bad:?}"
            );
        }
        let long = vec![b'a'; MAX_REQUEST_HEAD];
        assert_eq!(parse_request_target(&long), Err(RequestLineError::TooLong));
        let mut long_line = b"GET /".to_vec();
        long_line.extend(vec![b'a'; MAX_REQUEST_HEAD]);
        long_line.extend(b" HTTP/1.1\r\n");
        assert_eq!(
            parse_request_target(&long_line),
            Err(RequestLineError::TooLong)
        );
    }

    #[test]
    fn callback_classification() {
        let s = "expected-state";
        assert!(matches!(
            classify_callback("/callback?code=abc&state=expected-state", s),
            CallbackOutcome::Code(c) if c.secret() == "abc"
        ));
        assert!(matches!(
            classify_callback("/callback?code=abc%2Fd&state=expected%2Dstate", s),
            CallbackOutcome::Code(c) if c.secret() == "abc/d"
        ));
        assert!(matches!(
            classify_callback("/callback?code=abc", s),
            CallbackOutcome::MissingState
        ));
        assert!(matches!(
            classify_callback("/callback?code=abc&state=", s),
            CallbackOutcome::MissingState
        ));
        assert!(matches!(
            classify_callback("/callback?code=abc&state=other", s),
            CallbackOutcome::StateMismatch
        ));
        assert!(matches!(
            classify_callback("/callback?code=abc&state=expected-stat", s),
            CallbackOutcome::StateMismatch
        ));
        assert!(matches!(
            classify_callback("/callback?state=expected-state", s),
            CallbackOutcome::Malformed(_)
        ));
        assert!(matches!(
            classify_callback("/callback?code=&state=expected-state", s),
            CallbackOutcome::Malformed(_)
        ));
        assert!(matches!(
            classify_callback("/callback?code=a&code=b&state=expected-state", s),
            CallbackOutcome::Malformed(_)
        ));
        assert!(matches!(
            classify_callback("/callback?state=x&code=a&state=expected-state", s),
            CallbackOutcome::StateMismatch
        ));
        for path in [
            "/favicon.ico",
            "/",
            "/callback/",
            "/CALLBACK?state=expected-state",
        ] {
            assert!(
                matches!(classify_callback(path, s), CallbackOutcome::NotFound),
                "{path}"
            );
        }
    }

    #[test]
    fn provider_errors_need_the_matching_state() {
        let s = "st";
        match classify_callback(
            "/callback?error=access_denied&error_description=User+said+no%1b%5b2J&state=st",
            s,
        ) {
            CallbackOutcome::ProviderError { error, description } => {
                assert_eq!(error, "access_denied");
                // The whole escape sequence goes, not only its ESC.
                assert_eq!(description.as_deref(), Some("User said no"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            classify_callback("/callback?error=access_denied", s),
            CallbackOutcome::MissingState
        ));
        assert!(matches!(
            classify_callback("/callback?error=access_denied&state=nope", s),
            CallbackOutcome::StateMismatch
        ));
    }

    #[test]
    fn debug_never_shows_the_code() {
        let out = classify_callback("/callback?code=topsecret&state=s", "s");
        assert!(!format!("{out:?}").contains("topsecret"));
    }

    #[test]
    fn sanitize_caps_length() {
        let long = "x".repeat(500);
        let s = sanitize_provider_text(&long, 300);
        assert_eq!(s.chars().count(), 301);
    }
}
