//! Terminal-safe text for human output: key names, file paths and code snippets come from
//! other people's files and servers, so control characters (ESC sequences included), C1
//! controls, bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+200E/F,
//! U+061C) and invisible format characters are shown as visible escapes (`\x1b`,
//! `\u{202e}`) instead of being sent to the terminal. JSON output never goes through here:
//! serde_json already escapes control characters, and the exact text is kept.

use std::borrow::Cow;

/// Characters that are not control characters but still rearrange or hide text.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061c}'                   // Arabic letter mark
            | '\u{200b}'..='\u{200f}' // zero-width space/joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202a}'..='\u{202e}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{206a}'..='\u{206f}' // deprecated format characters
            | '\u{feff}'              // zero-width no-break space (BOM)
            | '\u{fff9}'..='\u{fffb}' // interlinear annotation
    )
}

fn needs_escape(c: char) -> bool {
    c.is_control() || is_invisible_format(c)
}

fn push_escaped(c: char, out: &mut String) {
    use std::fmt::Write;
    if (c as u32) < 0x80 {
        let _ = write!(out, "\\x{:02x}", c as u32);
    } else {
        let _ = write!(out, "\\u{{{:x}}}", c as u32);
    }
}

/// `s` with every control, bidi and invisible format character escaped; borrowed when
/// nothing needs escaping (the common case).
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            push_escaped(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Like [`escape`] for bytes that may not be UTF-8: invalid bytes become `\xNN`.
pub fn escape_bytes(b: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(b.len());
    for chunk in b.utf8_chunks() {
        out.push_str(&escape(chunk.valid()));
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// A path for human output.
pub fn path(p: &std::path::Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    escape_bytes(p.as_os_str().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        assert!(matches!(escape("shop1:wp:options"), Cow::Borrowed(_)));
        assert!(matches!(escape("café ünïcode 日本"), Cow::Borrowed(_)));
    }

    #[test]
    fn dangerous_characters_become_visible() {
        assert_eq!(escape("evil\u{202e}gpj.php"), "evil\\u{202e}gpj.php");
        assert_eq!(escape("\u{2066}x\u{2069}"), "\\u{2066}x\\u{2069}");
        assert_eq!(
            escape("\x1b[2J\x1b]0;title\x07"),
            "\\x1b[2J\\x1b]0;title\\x07"
        );
        assert_eq!(escape("a\rb\nc\td"), "a\\x0db\\x0ac\\x09d");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(
            escape("zero\u{200b}width\u{feff}"),
            "zero\\u{200b}width\\u{feff}"
        );
        assert_eq!(escape("\x7f"), "\\x7f");
    }

    #[test]
    fn bytes_and_paths() {
        assert_eq!(escape_bytes(b"k\xff\xfe:\x1b"), "k\\xff\\xfe:\\x1b");
        assert_eq!(
            path(std::path::Path::new("/srv/a\u{202e}b/wp-config.php")),
            "/srv/a\\u{202e}b/wp-config.php"
        );
    }
}
