//! In-place merging of a wanted tree of keys into a PHP array literal (`app/etc/env.php`'s
//! returned array), as byte edits over the original source: changed values are replaced at
//! their spans, missing keys are appended to their array in the array's own style (short
//! `[ ]` or `var_export`'s `array (`, its indentation, its trailing-comma habit), dead keys
//! are removed with their line. Every byte outside those spans stays as it was.

use anyhow::{Result, bail};
use serde_json::Value;

pub use crate::patch::edit::{Edit, apply};
use crate::patch::render::php_quote;
use crate::syntax::php::{ArrayItem, Expr};

/// What the planner wants under one key.
#[derive(Debug, Clone, PartialEq)]
pub enum Want {
    /// A scalar: its PHP source text and its value. `force`: replace a different existing
    /// value; otherwise only add it where the key is missing.
    Leaf {
        src: String,
        value: Value,
        force: bool,
    },
    /// A nested array of wanted keys (merged key by key into an existing array).
    Tree(Vec<(String, Want)>),
    /// Remove the key if present.
    Remove,
}

/// A wanted tree from a parsed PHP array literal (a rendered template): every leaf gets
/// `force`. `text` is the source the spans of `items` point into.
pub fn want_from(text: &str, items: &[ArrayItem], force: bool) -> Result<Vec<(String, Want)>> {
    let mut out = Vec::new();
    for item in items {
        let Some(key) = item.key.as_ref().and_then(Expr::key_string) else {
            bail!(
                "template array entry without a string key at line {}",
                item.line
            );
        };
        let want = match &item.value {
            Expr::Array(children) => Want::Tree(want_from(text, children, force)?),
            other => match other.literal() {
                Some(value) => Want::Leaf {
                    src: text[item.value_start..item.value_end].to_string(),
                    value,
                    force,
                },
                None => bail!("template value for '{key}' is not a literal"),
            },
        };
        out.push((key, want));
    }
    Ok(out)
}

/// Add the entries of `extra` to `base` where `base` has no such key (recursively).
pub fn add_missing(base: &mut Vec<(String, Want)>, extra: Vec<(String, Want)>) {
    for (key, want) in extra {
        match base.iter_mut().find(|(k, _)| *k == key) {
            None => base.push((key, want)),
            Some((_, Want::Tree(children))) => {
                if let Want::Tree(more) = want {
                    add_missing(children, more);
                }
            }
            Some(_) => {}
        }
    }
}

/// The wanted subtree at `path` (created as needed).
pub fn subtree<'a>(
    tree: &'a mut Vec<(String, Want)>,
    path: &[&str],
) -> &'a mut Vec<(String, Want)> {
    let Some((first, rest)) = path.split_first() else {
        return tree;
    };
    let idx = match tree.iter().position(|(k, _)| k == first) {
        Some(i) => i,
        None => {
            tree.push((first.to_string(), Want::Tree(Vec::new())));
            tree.len() - 1
        }
    };
    if !matches!(tree[idx].1, Want::Tree(_)) {
        tree[idx].1 = Want::Tree(Vec::new());
    }
    match &mut tree[idx].1 {
        Want::Tree(children) => subtree(children, rest),
        _ => unreachable!("just made a tree"),
    }
}

/// How the file writes arrays.
#[derive(Debug, Clone)]
pub struct Style {
    /// `var_export` style: `array (` … `),` with the nested array on its own line.
    pub long: bool,
    /// One indentation step.
    pub unit: String,
    /// Whether the last entry of an array is followed by a comma.
    pub trailing_comma: bool,
}

/// An array literal in the source: its entries and where its body is.
#[derive(Debug, Clone, Copy)]
pub struct ArrayAt<'a> {
    pub items: &'a [ArrayItem],
    /// Byte offset just after the opening `[` / `array (`.
    pub body_start: usize,
    /// Byte offset of the closing `]` / `)`.
    pub close: usize,
    /// Indentation of the line the array's own key (or `return`) is on.
    pub outer_indent: &'a str,
}

/// Locate the body of the array literal spanning `start..end`.
pub fn array_at<'a>(
    src: &'a str,
    items: &'a [ArrayItem],
    start: usize,
    end: usize,
    outer_indent: &'a str,
) -> Result<ArrayAt<'a>> {
    let open_text = &src[start..end];
    let body_start = if open_text.starts_with('[') {
        start + 1
    } else {
        match open_text.find('(') {
            Some(i) => start + i + 1,
            None => bail!("internal error: array literal without bracket at byte {start}"),
        }
    };
    let close = end - 1;
    if !matches!(src.as_bytes()[close], b']' | b')') {
        bail!("internal error: array literal does not end in a bracket at byte {close}");
    }
    Ok(ArrayAt {
        items,
        body_start,
        close,
        outer_indent,
    })
}

/// Indentation (spaces/tabs) before `pos` when only whitespace precedes it on its line.
pub fn indent_before(src: &str, pos: usize) -> Option<&str> {
    let line_start = src[..pos].rfind('\n').map_or(0, |i| i + 1);
    let prefix = &src[line_start..pos];
    prefix
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then_some(prefix)
}

/// Indentation of the line containing `pos` (its leading whitespace).
pub fn line_indent(src: &str, pos: usize) -> &str {
    let line_start = src[..pos].rfind('\n').map_or(0, |i| i + 1);
    let rest = &src[line_start..];
    let n = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    &rest[..n]
}

/// Skip whitespace and comments from `pos`.
fn skip_trivia(src: &str, mut pos: usize) -> usize {
    let b = src.as_bytes();
    loop {
        while pos < b.len() && b[pos].is_ascii_whitespace() {
            pos += 1;
        }
        if src[pos..].starts_with("//") || src[pos..].starts_with('#') {
            pos = src[pos..].find('\n').map_or(b.len(), |i| pos + i);
        } else if src[pos..].starts_with("/*") {
            pos = src[pos + 2..]
                .find("*/")
                .map_or(b.len(), |i| pos + 2 + i + 2);
        } else {
            return pos;
        }
    }
}

/// Position of the comma following an entry ending at `end`, if any.
pub fn comma_after(src: &str, end: usize) -> Option<usize> {
    let p = skip_trivia(src, end);
    (src.as_bytes().get(p) == Some(&b',')).then_some(p)
}

/// End of the line at `pos` when only spaces remain on it (just past the `\n`), else `pos`.
fn eol_after(src: &str, pos: usize) -> usize {
    let rest = &src[pos..];
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    if rest[spaces..].starts_with('\n') {
        pos + spaces + 1
    } else if rest[spaces..].starts_with("\r\n") {
        pos + spaces + 2
    } else {
        pos
    }
}

/// A value as data: a literal, or `Foo\\Bar::class` as the class name it evaluates to (PHP
/// gives the name without a leading backslash).
pub fn value_of(e: &Expr) -> Option<Value> {
    match e {
        Expr::ClassConst { class, name } if name.eq_ignore_ascii_case("class") => {
            Some(Value::String(class.trim_start_matches('\\').to_string()))
        }
        other => other.literal(),
    }
}

/// Whether two literals are the same for PHP config readers (Magento casts: `'0'` == `0`).
pub fn loosely_equal(a: &Value, b: &Value) -> bool {
    fn s(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(true) => Some("1".into()),
            Value::Bool(false) => Some(String::new()),
            Value::Null => None,
            _ => None,
        }
    }
    a == b || (s(a).is_some() && s(a) == s(b))
}

/// A merge failure that names the key path and line: the value there is not a literal.
#[derive(Debug)]
pub struct Computed {
    pub path: String,
    pub line: usize,
    pub what: String,
}

/// Everything a merge did, for notes.
#[derive(Debug, Default)]
pub struct Outcome {
    pub edits: Vec<Edit>,
    /// Key paths removed (dead keys).
    pub removed: Vec<String>,
    /// Values replaced: key path, line, old source text, new source text.
    pub replaced: Vec<(String, usize, String, String)>,
}

/// Merge `want` into the array `arr`. `path` names the array (`cache/frontend`), for messages.
pub fn merge(
    src: &str,
    arr: ArrayAt<'_>,
    want: &[(String, Want)],
    style: &Style,
    path: &str,
    out: &mut Outcome,
) -> std::result::Result<(), Computed> {
    let item_indent: String = arr
        .items
        .first()
        .and_then(|i| indent_before(src, i.start))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}{}", arr.outer_indent, style.unit));
    let mut appends: Vec<String> = Vec::new();
    let mut removed: Vec<usize> = Vec::new();
    for (key, w) in want {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}/{key}")
        };
        let existing = arr
            .items
            .iter()
            .enumerate()
            .rev()
            .find(|(_, i)| i.key.as_ref().and_then(Expr::key_string).as_deref() == Some(key));
        match (w, existing) {
            (Want::Remove, None) => {}
            (Want::Remove, Some((idx, _))) => {
                removed.push(idx);
                out.removed.push(here);
            }
            (Want::Leaf { src: lit, .. }, None) => {
                appends.push(format!("{} => {lit}", php_quote(key)));
            }
            (Want::Tree(children), None) => {
                if children.iter().all(|(_, w)| matches!(w, Want::Remove)) {
                    continue;
                }
                appends.push(render_entry(key, children, style, &item_indent));
            }
            (
                Want::Leaf {
                    src: lit,
                    value,
                    force,
                },
                Some((_, item)),
            ) => {
                if !force {
                    continue;
                }
                match value_of(&item.value) {
                    Some(have) if loosely_equal(&have, value) => {}
                    Some(_) => {
                        out.replaced.push((
                            here,
                            item.line,
                            src[item.value_start..item.value_end].to_string(),
                            lit.clone(),
                        ));
                        out.edits.push(Edit {
                            start: item.value_start,
                            end: item.value_end,
                            text: lit.clone(),
                        });
                    }
                    None => {
                        return Err(Computed {
                            path: here,
                            line: item.line,
                            what: item.value.describe(),
                        });
                    }
                }
            }
            (Want::Tree(children), Some((_, item))) => match &item.value {
                Expr::Array(inner) => {
                    let sub = array_at(
                        src,
                        inner,
                        item.value_start,
                        item.value_end,
                        line_indent(src, item.start),
                    )
                    .map_err(|e| Computed {
                        path: here.clone(),
                        line: item.line,
                        what: e.to_string(),
                    })?;
                    merge(src, sub, children, style, &here, out)?;
                }
                other if value_of(other).is_some() => {
                    // e.g. `'session' => null`: replace with the wanted array.
                    let body = render_array(children, style, line_indent(src, item.start));
                    out.edits.push(Edit {
                        start: item.value_start,
                        end: item.value_end,
                        text: body.trim_start().to_string(),
                    });
                }
                other => {
                    return Err(Computed {
                        path: here,
                        line: item.line,
                        what: other.describe(),
                    });
                }
            },
        }
    }
    structural_edits(src, &arr, &removed, &appends, style, &item_indent, out);
    Ok(())
}

/// Removals and appends inside one array, so that the separators stay right.
fn structural_edits(
    src: &str,
    arr: &ArrayAt<'_>,
    removed: &[usize],
    appends: &[String],
    style: &Style,
    item_indent: &str,
    out: &mut Outcome,
) {
    let items = arr.items;
    let trailing = match items.last() {
        Some(last) => comma_after(src, last.end).is_some(),
        None => style.trailing_comma,
    };
    for &idx in removed {
        let item = &items[idx];
        let start = match indent_before(src, item.start) {
            Some(ind) => item.start - ind.len(),
            None => item.start,
        };
        let end = match comma_after(src, item.end) {
            Some(c) => eol_after(src, c + 1),
            None => eol_after(src, item.end),
        };
        out.edits.push(Edit {
            start,
            end,
            text: String::new(),
        });
    }
    let last_kept = (0..items.len()).rev().find(|i| !removed.contains(i));
    // A removed last entry without a comma leaves the kept one's comma dangling.
    let last_removed_had_no_comma = items
        .last()
        .is_some_and(|l| removed.contains(&(items.len() - 1)) && comma_after(src, l.end).is_none());
    match last_kept {
        Some(k) => {
            let kept = &items[k];
            let kept_comma = comma_after(src, kept.end);
            if appends.is_empty() {
                if last_removed_had_no_comma && let Some(c) = kept_comma {
                    out.edits.push(Edit {
                        start: c,
                        end: c + 1,
                        text: String::new(),
                    });
                }
                return;
            }
            let mut text = String::new();
            let at = match kept_comma {
                Some(c) => c + 1,
                None => {
                    text.push(',');
                    kept.end
                }
            };
            for (n, a) in appends.iter().enumerate() {
                text.push('\n');
                text.push_str(item_indent);
                text.push_str(a);
                if n + 1 < appends.len() || trailing {
                    text.push(',');
                }
            }
            // A one-line array gets its closing bracket on a line of its own.
            if !src[arr.body_start..arr.close].contains('\n') {
                text.push('\n');
                text.push_str(arr.outer_indent);
            }
            out.edits.push(Edit {
                start: at,
                end: at,
                text,
            });
        }
        None => {
            if appends.is_empty() {
                return;
            }
            let mut text = String::new();
            for (n, a) in appends.iter().enumerate() {
                text.push('\n');
                text.push_str(item_indent);
                text.push_str(a);
                if n + 1 < appends.len() || trailing {
                    text.push(',');
                }
            }
            // Put the closing bracket back on its own line when the body was empty/inline.
            let between = &src[arr.body_start..arr.close];
            if items.is_empty() && !between.contains('\n') {
                text.push('\n');
                text.push_str(arr.outer_indent);
                out.edits.push(Edit {
                    start: arr.body_start,
                    end: arr.close,
                    text,
                });
            } else {
                out.edits.push(Edit {
                    start: arr.body_start,
                    end: arr.body_start,
                    text,
                });
            }
        }
    }
}

/// `'key' => <array>` for a new entry whose line is indented by `indent`.
fn render_entry(key: &str, children: &[(String, Want)], style: &Style, indent: &str) -> String {
    let body = render_array(children, style, indent);
    if style.long {
        // var_export puts the nested array on the next line, at the key's indentation.
        format!("{} => \n{indent}{}", php_quote(key), body.trim_start())
    } else {
        format!("{} => {}", php_quote(key), body.trim_start())
    }
}

/// A new array literal; its entries are indented one step more than `indent`, the closing
/// bracket is at `indent`.
pub fn render_array(children: &[(String, Want)], style: &Style, indent: &str) -> String {
    let inner = format!("{indent}{}", style.unit);
    let entries: Vec<String> = children
        .iter()
        .filter_map(|(k, w)| match w {
            Want::Leaf { src, .. } => Some(format!("{} => {src}", php_quote(k))),
            Want::Tree(c) => Some(render_entry(k, c, style, &inner)),
            Want::Remove => None,
        })
        .collect();
    let (open, close) = if style.long {
        ("array (", ")")
    } else {
        ("[", "]")
    };
    let mut s = String::from(open);
    for (n, e) in entries.iter().enumerate() {
        s.push('\n');
        s.push_str(&inner);
        s.push_str(e);
        if n + 1 < entries.len() || style.trailing_comma {
            s.push(',');
        }
    }
    s.push('\n');
    s.push_str(indent);
    s.push_str(close);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::php::{self, StmtKind};

    fn leaf(src: &str, force: bool) -> Want {
        let value = match src.strip_prefix('\'') {
            Some(s) => Value::String(s.trim_end_matches('\'').to_string()),
            None => serde_json::from_str(src).unwrap(),
        };
        Want::Leaf {
            src: src.to_string(),
            value,
            force,
        }
    }

    fn run(src: &str, want: &[(String, Want)], style: &Style) -> String {
        let stmts = php::parse(src).unwrap();
        let StmtKind::Return {
            value: Expr::Array(items),
            value_start,
            value_end,
        } = &stmts[0].kind
        else {
            panic!()
        };
        let arr = array_at(src, items, *value_start, *value_end, "").unwrap();
        let mut out = Outcome::default();
        merge(src, arr, want, style, "", &mut out).unwrap();
        apply(src, out.edits).unwrap()
    }

    fn short() -> Style {
        Style {
            long: false,
            unit: "    ".into(),
            trailing_comma: false,
        }
    }

    #[test]
    fn replaces_appends_and_removes_in_place() {
        let src = "<?php\nreturn [\n    'a' => '1', // keep me\n    'b' => [\n        'x' => 1,\n        'dead' => 2\n    ],\n    'c' => true\n];\n";
        let want = vec![
            ("a".to_string(), leaf("'2'", true)),
            (
                "b".to_string(),
                Want::Tree(vec![
                    ("dead".into(), Want::Remove),
                    ("y".into(), leaf("'new'", true)),
                    ("x".into(), leaf("'1'", true)),
                ]),
            ),
            (
                "d".to_string(),
                Want::Tree(vec![("k".into(), leaf("0", false))]),
            ),
        ];
        let got = run(src, &want, &short());
        assert_eq!(
            got,
            "<?php\nreturn [\n    'a' => '2', // keep me\n    'b' => [\n        'x' => 1,\n        'y' => 'new'\n    ],\n    'c' => true,\n    'd' => [\n        'k' => 0\n    ]\n];\n"
        );
        // Idempotent: the result already matches.
        assert_eq!(run(&got, &want, &short()), got);
    }

    #[test]
    fn var_export_style_and_empty_arrays() {
        let src = "<?php\nreturn array (\n  'session' => \n  array (\n    'save' => 'files',\n  ),\n  'e' => [],\n);\n";
        let style = Style {
            long: true,
            unit: "  ".into(),
            trailing_comma: true,
        };
        let want = vec![
            (
                "session".to_string(),
                Want::Tree(vec![
                    ("save".into(), leaf("'redis'", true)),
                    (
                        "redis".into(),
                        Want::Tree(vec![("host".into(), leaf("'/s.sock'", true))]),
                    ),
                ]),
            ),
            (
                "e".to_string(),
                Want::Tree(vec![("k".into(), leaf("1", true))]),
            ),
        ];
        let got = run(src, &want, &style);
        assert_eq!(
            got,
            "<?php\nreturn array (\n  'session' => \n  array (\n    'save' => 'redis',\n    'redis' => \n    array (\n      'host' => '/s.sock',\n    ),\n  ),\n  'e' => [\n    'k' => 1,\n  ],\n);\n"
        );
        assert_eq!(run(&got, &want, &style), got);
    }

    #[test]
    fn removing_the_last_entry_keeps_separators_valid() {
        let src = "<?php\nreturn [\n    'a' => 1,\n    'b' => 2\n];\n";
        let want = vec![("b".to_string(), Want::Remove)];
        assert_eq!(
            run(src, &want, &short()),
            "<?php\nreturn [\n    'a' => 1\n];\n"
        );
        let want = vec![
            ("b".to_string(), Want::Remove),
            ("c".to_string(), leaf("3", true)),
        ];
        assert_eq!(
            run(src, &want, &short()),
            "<?php\nreturn [\n    'a' => 1,\n    'c' => 3\n];\n"
        );
    }

    #[test]
    fn class_constants_are_values() {
        let src = "<?php\nreturn [\n    'backend' => \\Magento\\Framework\\Cache\\Backend\\Redis::class,\n    'other' => Foo::class\n];\n";
        let want = vec![
            (
                "backend".to_string(),
                Want::Leaf {
                    src: r"'Magento\\Framework\\Cache\\Backend\\Redis'".into(),
                    value: Value::from(r"Magento\Framework\Cache\Backend\Redis"),
                    force: true,
                },
            ),
            ("other".to_string(), leaf("'Bar'", true)),
        ];
        let got = run(src, &want, &short());
        assert_eq!(
            got,
            "<?php\nreturn [\n    'backend' => \\Magento\\Framework\\Cache\\Backend\\Redis::class,\n    'other' => 'Bar'\n];\n"
        );
    }

    #[test]
    fn one_line_arrays_open_up_for_new_entries() {
        let src = "<?php\nreturn ['MAGE_MODE' => 'production'];\n";
        let want = vec![(
            "cache".to_string(),
            Want::Tree(vec![("k".into(), leaf("1", true))]),
        )];
        let got = run(src, &want, &short());
        assert_eq!(
            got,
            "<?php\nreturn ['MAGE_MODE' => 'production',\n    'cache' => [\n        'k' => 1\n    ]\n];\n"
        );
        assert_eq!(run(&got, &want, &short()), got);
    }

    #[test]
    fn loose_equality_follows_php_casts() {
        assert!(loosely_equal(&Value::from(0), &Value::from("0")));
        assert!(loosely_equal(&Value::from(true), &Value::from("1")));
        assert!(!loosely_equal(&Value::from(1), &Value::from("2")));
        assert!(!loosely_equal(&Value::Null, &Value::from("")));
    }
}
