//! Byte-range edits of config text, shared by every planner: an edit replaces
//! `start..end` with new text; edits never overlap; inserted lines follow the file's own
//! line endings where asked. Everything outside the edits stays byte-identical.

use anyhow::{Result, bail};

/// Replace `start..end` with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// Apply non-overlapping edits to `src` (in any order).
pub fn apply(src: &str, mut edits: Vec<Edit>) -> Result<String> {
    edits.sort_by_key(|e| (e.start, e.end));
    for pair in edits.windows(2) {
        if pair[0].end > pair[1].start {
            bail!(
                "internal error: overlapping edits at bytes {}..{}",
                pair[1].start,
                pair[0].end
            );
        }
    }
    let mut out = String::with_capacity(src.len() + 1024);
    let mut at = 0;
    for e in &edits {
        out.push_str(&src[at..e.start]);
        out.push_str(&e.text);
        at = e.end;
    }
    out.push_str(&src[at..]);
    Ok(out)
}

/// [`apply`], with every inserted text converted to `src`'s line endings.
pub fn apply_eol(src: &str, edits: Vec<Edit>) -> Result<String> {
    let edits = edits
        .into_iter()
        .map(|e| Edit {
            text: eol(src, &e.text),
            ..e
        })
        .collect();
    apply(src, edits)
}

/// `text` with the line endings `src` uses (a CRLF file gets CRLF lines).
pub fn eol(src: &str, text: &str) -> String {
    let crlf = src
        .find('\n')
        .is_some_and(|i| i > 0 && src.as_bytes()[i - 1] == b'\r');
    if crlf {
        text.replace("\r\n", "\n").replace('\n', "\r\n")
    } else {
        text.to_string()
    }
}

/// `text` on one line for a note: whitespace runs collapsed, at most 80 characters.
fn one_line(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 80 {
        format!("{}…", flat.chars().take(79).collect::<String>())
    } else {
        flat
    }
}

/// A note `file:line: old → new` for every edit that replaces existing text with new text
/// (insertions and removals are described by their planners). Secrets in them are masked
/// when the plan's notes are printed.
pub fn replacement_notes(file: &str, src: &str, edits: &[Edit]) -> Vec<String> {
    let mut sorted: Vec<&Edit> = edits
        .iter()
        .filter(|e| e.start < e.end && !e.text.is_empty() && src[e.start..e.end] != e.text)
        .collect();
    sorted.sort_by_key(|e| e.start);
    sorted
        .into_iter()
        .map(|e| {
            // The line names what changes (`define( 'WP_REDIS_MAXTTL', 0 );`, `ttl: 0,`).
            let ls = line_start(src, e.start);
            let le = src[e.start..].find('\n').map_or(src.len(), |n| e.start + n);
            format!(
                "{file}:{}: {}: {} → {}",
                crate::fsutil::line_of(src, e.start),
                one_line(&src[ls..le]),
                one_line(&src[e.start..e.end]),
                one_line(&e.text)
            )
        })
        .collect()
}

/// Byte offset of the start of the line holding `offset`.
pub fn line_start(src: &str, offset: usize) -> usize {
    src[..offset].rfind('\n').map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_order_and_refuse_overlaps() {
        let e = |start, end, text: &str| Edit {
            start,
            end,
            text: text.into(),
        };
        assert_eq!(
            apply("abcdef", vec![e(4, 5, "E"), e(0, 1, "A")]).unwrap(),
            "AbcdEf"
        );
        assert!(apply("abcdef", vec![e(0, 3, "x"), e(2, 4, "y")]).is_err());
        assert_eq!(
            apply_eol("a\r\nb\r\n", vec![e(3, 3, "x\ny\n")]).unwrap(),
            "a\r\nx\r\ny\r\nb\r\n"
        );
        assert_eq!(line_start("ab\ncd", 4), 3);
        assert_eq!(
            replacement_notes("f", "a\nb = 1;\n", &[e(6, 7, "2"), e(0, 0, "x")]),
            vec!["f:2: b = 1;: 1 → 2".to_string()]
        );
    }
}
