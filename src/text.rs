//! Remote text on a terminal: the one rule.
//!
//! Anything a remote service sends (an account's organization name, a token
//! endpoint's `error_description`, a StackOne message or profile name) may
//! be chosen by someone else — an attacker's own Constant Contact account
//! name is enough — and must not drive the terminal: an ESC/CSI/OSC
//! sequence could recolour, retitle or rewrite the line SECURITY.md tells
//! users to check, a newline could forge a whole line, a bidi override
//! could reorder what is read. [`sanitize_remote`] is applied where remote
//! text enters ccsetup's types (serde helpers below), so nothing later has
//! to remember it.
//!
//! A remote service may also echo a secret it was sent (a token endpoint's
//! `error_description` quoting the refresh token, a StackOne error quoting
//! the API key). Every secret ccsetup puts on the wire is remembered
//! ([`remember_secret`], [`remember_basic_credentials`]) and
//! [`sanitize_remote`] replaces it — and its case variants and base64 forms —
//! with `[redacted]`, after removing what could split it and before any
//! clipping could cut it.

use std::sync::Mutex;

use base64::Engine as _;
use serde::{Deserialize, Deserializer};

/// `text` without terminal control: escape sequences (CSI, OSC, and the
/// other ESC forms) are dropped whole, every other control character (C0,
/// DEL, C1, newlines, tabs) becomes a space, and invisible format
/// characters that reorder or hide text (bidi overrides and isolates,
/// zero-width characters, BOM) are dropped. Runs of spaces collapse to one;
/// the result is trimmed.
pub fn sanitize_remote(text: &str) -> String {
    redact_known(&strip_terminal_control(text))
}

/// A local value (a client id, a redirect URI, a path from config.toml or
/// a flag) as it may be shown on a terminal: the rule of
/// [`sanitize_remote`], so a hostile config file cannot drive the terminal
/// either.
pub fn sanitize_local(text: &str) -> String {
    strip_terminal_control(text)
}

fn strip_terminal_control(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut last_space = true;
    let mut push = |out: &mut String, c: char| {
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates, then one final byte.
                Some('[') => skip_csi(&mut chars),
                // OSC, DCS, SOS, PM, APC: a string up to BEL or ST.
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // Two-character sequences (ESC c, ESC 7, …).
                _ => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            c if is_invisible_format(c) => {}
            c if c.is_control() || c.is_whitespace() => push(&mut out, ' '),
            c => push(&mut out, c),
        }
    }
    let trimmed = out.trim_end();
    trimmed.to_string()
}

/// [`sanitize_remote`], then at most `max_chars` characters (an ellipsis
/// marks the cut), so a long answer cannot flood the screen.
pub fn sanitize_remote_clipped(text: &str, max_chars: usize) -> String {
    let clean = sanitize_remote(text);
    if clean.chars().count() <= max_chars {
        return clean;
    }
    let mut out: String = clean.chars().take(max_chars).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Whether `text` is free of everything [`sanitize_remote`] removes
/// (an invariant the fuzz targets check).
pub fn is_terminal_safe(text: &str) -> bool {
    !text
        .chars()
        .any(|c| c.is_control() || is_invisible_format(c) || (c.is_whitespace() && c != ' '))
}

/// Serialized JSON with every character a terminal would act on or hide
/// (C1 controls, DEL, bidi and zero-width format characters, line and
/// paragraph separators) written as a `\uXXXX` escape. serde_json escapes
/// only C0 controls; these can appear only inside strings, where the escape
/// means the same character to any JSON reader.
pub fn escape_json_invisible(json: &str) -> String {
    if is_terminal_safe(json) {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_control() || is_invisible_format(c) || (c.is_whitespace() && c != ' ') {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
        if !('\u{20}'..='\u{3f}').contains(&c) {
            // Not a well-formed CSI: stop at what cannot belong to it.
            return;
        }
    }
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

/// Format characters that change how the rest of a line is shown or hide
/// text: bidi marks, embeddings, overrides and isolates; zero-width space,
/// joiners and word joiner; BOM; soft hyphen; Arabic letter mark.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{61c}' | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}')
}

/// Shorter forms are not searched for: they could match ordinary words,
/// and no secret ccsetup handles is that short. Not below the length of
/// `[redacted]`, so redacting never makes a text longer.
const MIN_SECRET_LEN: usize = 10;

/// Every form of every secret sent or received so far, ASCII-lower-cased.
static KNOWN_SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remembers `secret` (a client secret, a token, a key, a PKCE verifier, a
/// code) so that [`sanitize_remote`] redacts it wherever it is echoed: as
/// is, in any letter case, percent-encoded, and base64-encoded alone or as
/// `secret:` (standard and URL-safe alphabets, padded or not).
pub fn remember_secret(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut forms = vec![
        secret.to_string(),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
    ];
    forms.extend(base64_forms(secret));
    forms.extend(base64_forms(&format!("{secret}:")));
    remember_forms(forms);
}

/// Remembers HTTP Basic credentials: the password, and
/// `base64(user:password)` as the header carries it. The user name (a
/// public client id) is not a secret; a key sent as the user name (StackOne)
/// is remembered with [`remember_secret`].
pub fn remember_basic_credentials(user: &str, password: &str) {
    remember_secret(password);
    remember_forms(base64_forms(&format!("{user}:{password}")));
}

fn base64_forms(text: &str) -> Vec<String> {
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    // Unpadded: a padded echo contains it too.
    vec![STANDARD_NO_PAD.encode(text), URL_SAFE_NO_PAD.encode(text)]
}

fn remember_forms(forms: Vec<String>) {
    let mut known = KNOWN_SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    for form in forms {
        let form = form.to_ascii_lowercase();
        if form.len() >= MIN_SECRET_LEN && !known.contains(&form) {
            known.push(form);
        }
    }
    // Longest first, so a longer form is replaced whole before a shorter
    // one inside it.
    known.sort_by_key(|f| std::cmp::Reverse(f.len()));
}

/// `text` with every remembered secret form replaced by `[redacted]`,
/// whatever its letter case.
pub fn redact_known(text: &str) -> String {
    let known = KNOWN_SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for form in known.iter() {
        // ASCII lower-casing keeps byte offsets, so matches map back.
        loop {
            let lower = out.to_ascii_lowercase();
            let Some(at) = lower.find(form.as_str()) else {
                break;
            };
            out.replace_range(at..at + form.len(), "[redacted]");
        }
    }
    out
}

/// Serde: a remote string, sanitized.
pub fn de_sanitized<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(sanitize_remote(&String::deserialize(d)?))
}

/// Serde: a local string (from config.toml), made terminal-safe
/// ([`sanitize_local`]).
pub fn de_local<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(sanitize_local(&String::deserialize(d)?))
}

/// Serde: an optional local string, made terminal-safe.
pub fn de_local_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| sanitize_local(&s)))
}

/// Serde: an optional remote string, sanitized (`null` stays `None`).
pub fn de_sanitized_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.map(|s| sanitize_remote(&s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_newlines_and_bidi_are_gone() {
        let evil = "Bakery\u{1b}[2K\u{1b}[1A\r✓ Authorized for Trusted Corp\u{1b}]0;title\u{7}\n\
                    next\u{202e}gnp.exe\u{9b}31m \u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\";
        let clean = sanitize_remote(evil);
        assert!(is_terminal_safe(&clean), "{clean:?}");
        assert_eq!(
            clean,
            "Bakery ✓ Authorized for Trusted Corp nextgnp.exe link"
        );
    }

    #[test]
    fn plain_text_is_unchanged_and_clipping_marks_the_cut() {
        assert_eq!(sanitize_remote("Sandbox Bakery"), "Sandbox Bakery");
        assert_eq!(sanitize_remote("  a\t\tb  "), "a b");
        assert_eq!(sanitize_remote_clipped("abcdef", 3), "abc…");
        assert_eq!(sanitize_remote_clipped("abc", 3), "abc");
    }

    #[test]
    fn remembered_secrets_are_redacted_in_every_form_before_clipping() {
        let key = "v1.unit.text.k3y-0123456789abcdef";
        remember_secret(key);
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("{key}:"));
        for echo in [
            format!("bad key {key}"),
            format!("BAD KEY {}", key.to_ascii_uppercase()),
            format!("Authorization: Basic {b64}"),
            format!("split {}\u{200b}{}", &key[..10], &key[10..]),
        ] {
            let clean = sanitize_remote_clipped(&echo, 20);
            assert!(
                !clean
                    .to_ascii_lowercase()
                    .contains(&key[..8].to_ascii_lowercase()),
                "{echo:?} -> {clean:?}"
            );
            assert!(!clean.contains(&b64[..12]), "{echo:?} -> {clean:?}");
        }
        assert_eq!(sanitize_remote(&format!("x {key} y")), "x [redacted] y");
        // Local values are not redacted, only made terminal-safe.
        assert_eq!(sanitize_local("id\u{1b}[2Jx"), "idx");
    }

    #[test]
    fn json_escapes_what_a_terminal_would_act_on() {
        let value = serde_json::json!({"name": "a\u{9b}31mb\u{202e}c\u{200b}d\u{2028}"});
        let text = escape_json_invisible(&serde_json::to_string(&value).unwrap());
        assert!(is_terminal_safe(&text), "{text:?}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            value
        );
    }

    #[test]
    fn unterminated_sequences_do_not_panic_or_leak() {
        for s in [
            "\u{1b}",
            "\u{1b}[",
            "\u{1b}]0;never ends",
            "x\u{9b}",
            "\u{1b}[12",
        ] {
            assert!(is_terminal_safe(&sanitize_remote(s)));
        }
    }
}
