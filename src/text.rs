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

use serde::{Deserialize, Deserializer};

/// `text` without terminal control: escape sequences (CSI, OSC, and the
/// other ESC forms) are dropped whole, every other control character (C0,
/// DEL, C1, newlines, tabs) becomes a space, and invisible format
/// characters that reorder or hide text (bidi overrides and isolates,
/// zero-width characters, BOM) are dropped. Runs of spaces collapse to one;
/// the result is trimmed.
pub fn sanitize_remote(text: &str) -> String {
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

/// Serde: a remote string, sanitized.
pub fn de_sanitized<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(sanitize_remote(&String::deserialize(d)?))
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
