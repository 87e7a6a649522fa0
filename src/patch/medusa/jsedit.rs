//! In-place merging of wanted keys into JS/TS object literals (`medusa-config`), as byte
//! edits: a different value is replaced at its span, a missing key is appended to its object
//! in the object's own style (indentation, quotes, trailing commas), module/provider entries
//! are matched by `resolve`/`id` (or their key in object form) and merged, never
//! duplicated. References to top-level `const`s are followed, so `projectConfig,` or
//! `modules: modules` edit the object where it is written.

use anyhow::{Result, bail};

use crate::patch::magento::edit::{Edit, indent_before, line_indent};
use crate::syntax::js::{Expr, Item, Node, Prop};

/// When an existing value is already what rcfg wants.
#[derive(Debug, Clone, PartialEq)]
pub enum Keep {
    /// A string equal to one of these.
    Strs(Vec<String>),
    Num(f64),
    Bool(bool),
    /// An expression that reads this environment variable (`process.env.X`, with `||`/`??`
    /// defaults, or through a top-level `const`).
    Env(String),
    /// Any positive number (a site's own TTL, kept unless the user gave one).
    Positive,
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsWant {
    Leaf {
        src: String,
        keep: Keep,
    },
    Object(Vec<(String, JsWant)>),
    /// Module or provider entries: matched by their key (object form), `resolve` or `id`.
    Entries(Vec<(String, JsWant)>),
}

/// How the file writes code.
#[derive(Debug, Clone)]
pub struct JsStyle {
    pub unit: String,
    pub single_quotes: bool,
    pub trailing_comma: bool,
}

impl JsStyle {
    pub fn quote(&self, s: &str) -> String {
        if self.single_quotes && !s.contains(['\'', '\\']) {
            format!("'{s}'")
        } else {
            crate::patch::render::js_quote(s)
        }
    }
}

/// Other package names that mean the same module (kept as written).
fn aliases(resolve: &str) -> Vec<String> {
    let same: &[&[&str]] = &[
        &["@medusajs/medusa/cache-redis", "@medusajs/cache-redis"],
        &["@medusajs/medusa/caching"],
        &["@medusajs/caching-redis", "@medusajs/medusa/caching-redis"],
    ];
    same.iter()
        .find(|g| g.contains(&resolve))
        .map(|g| g.iter().map(|s| s.to_string()).collect())
        .unwrap_or_else(|| vec![resolve.to_string()])
}

/// A wanted tree from a rendered template object.
pub fn want_from(node: &Node, style: &JsStyle) -> Result<JsWant> {
    Ok(match &node.expr {
        Expr::Object(props) => {
            let mut out = Vec::new();
            for p in props {
                let Some(key) = &p.key else {
                    bail!("template object has a computed key at line {}", p.line);
                };
                let mut w = want_from(&p.value, style)?;
                if key == "resolve"
                    && let JsWant::Leaf {
                        keep: Keep::Strs(s),
                        ..
                    } = &mut w
                {
                    *s = aliases(&s[0]);
                }
                out.push((key.clone(), w));
            }
            JsWant::Object(out)
        }
        Expr::Array(items) => {
            let mut out = Vec::new();
            for i in items {
                let w = want_from(i, style)?;
                let key = match &w {
                    JsWant::Object(ch) => ch
                        .iter()
                        .find(|(k, _)| k == "id")
                        .and_then(|(_, w)| match w {
                            JsWant::Leaf {
                                keep: Keep::Strs(s),
                                ..
                            } => s.first().cloned(),
                            _ => None,
                        })
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                out.push((key, w));
            }
            JsWant::Entries(out)
        }
        Expr::Str(s) => JsWant::Leaf {
            src: style.quote(s),
            keep: Keep::Strs(vec![s.clone()]),
        },
        Expr::Num(n) => JsWant::Leaf {
            src: format_num(*n),
            keep: Keep::Num(*n),
        },
        Expr::Bool(b) => JsWant::Leaf {
            src: b.to_string(),
            keep: Keep::Bool(*b),
        },
        _ => match node.env_var() {
            Some(var) => JsWant::Leaf {
                src: format!("process.env.{var}"),
                keep: Keep::Env(var),
            },
            None => bail!("template value at line {} is not data", node.line),
        },
    })
}

pub fn format_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// The file being edited: its text and top-level statements (for `const` references).
pub struct Ctx<'a> {
    pub src: &'a str,
    pub items: &'a [Item],
    pub style: JsStyle,
}

/// Why a merge cannot go on: a value rcfg must edit is not a literal it can follow.
#[derive(Debug)]
pub struct Blocked {
    pub path: String,
    pub line: usize,
    pub what: String,
}

impl Ctx<'_> {
    /// Follow `Ident` references to top-level `const x = …` initialisers.
    pub fn resolve<'n>(&'n self, node: &'n Node) -> &'n Node {
        let mut n = node;
        for _ in 0..8 {
            let Expr::Ident(name) = &n.expr else {
                return n;
            };
            match self.items.iter().rev().find_map(|i| match i {
                Item::Var { name: v, init, .. } if v == name => Some(init),
                _ => None,
            }) {
                Some(init) => n = init,
                None => return n,
            }
        }
        n
    }

    /// The environment variable an expression reads, if it is one (possibly with a default).
    pub fn env_driven(&self, node: &Node) -> Option<String> {
        if let Some(v) = node.env_var() {
            return Some(v);
        }
        match &node.expr {
            Expr::Binary {
                op: "||" | "??",
                left,
                ..
            } => self.env_driven(left),
            Expr::Ident(_) => {
                let r = self.resolve(node);
                (!std::ptr::eq(r, node))
                    .then(|| self.env_driven(r))
                    .flatten()
            }
            _ => None,
        }
    }

    fn keeps(&self, keep: &Keep, node: &Node) -> bool {
        match keep {
            Keep::Strs(s) => self
                .resolve(node)
                .as_str()
                .is_some_and(|v| s.iter().any(|x| x == v)),
            Keep::Num(n) => self.resolve(node).as_num() == Some(*n),
            Keep::Bool(b) => self.resolve(node).expr == Expr::Bool(*b),
            Keep::Env(var) => self.env_driven(node).as_deref() == Some(var.as_str()),
            Keep::Positive => self.resolve(node).as_num().is_some_and(|n| n > 0.0),
        }
    }

    /// Render a wanted value for a new entry whose line is indented by `indent`.
    pub fn render(&self, w: &JsWant, indent: &str) -> String {
        let inner = format!("{indent}{}", self.style.unit);
        let (open, close, entries): (&str, &str, Vec<String>) = match w {
            JsWant::Leaf { src, .. } => return src.clone(),
            JsWant::Object(ch) => (
                "{",
                "}",
                ch.iter()
                    .map(|(k, c)| format!("{}: {}", js_key(k, &self.style), self.render(c, &inner)))
                    .collect(),
            ),
            JsWant::Entries(es) => (
                "[",
                "]",
                es.iter().map(|(_, c)| self.render(c, &inner)).collect(),
            ),
        };
        let mut s = String::from(open);
        for (n, e) in entries.iter().enumerate() {
            s.push('\n');
            s.push_str(&inner);
            s.push_str(e);
            if n + 1 < entries.len() || self.style.trailing_comma {
                s.push(',');
            }
        }
        s.push('\n');
        s.push_str(indent);
        s.push_str(close);
        s
    }

    /// Merge `wants` into the object literal `obj`.
    pub fn merge_object(
        &self,
        obj: &Node,
        wants: &[(String, JsWant)],
        path: &str,
        edits: &mut Vec<Edit>,
    ) -> std::result::Result<(), Blocked> {
        let Some(props) = obj.as_object() else {
            return Err(self.blocked(path, obj));
        };
        let indent = child_indent(self.src, obj, props.iter().map(|p| p.start), &self.style);
        let mut appends = Vec::new();
        for (key, w) in wants {
            let here = join(path, key);
            let existing = props.iter().rev().find(|p| p.key.as_deref() == Some(key));
            match (w, existing) {
                (_, None) => appends.push(format!(
                    "{}: {}",
                    js_key(key, &self.style),
                    self.render(w, &indent)
                )),
                (JsWant::Leaf { src, keep }, Some(p)) => {
                    if !self.keeps(keep, &p.value) {
                        edits.push(self.replace_value(p, key, src));
                    }
                }
                (JsWant::Object(ch), Some(p)) => {
                    let target = self.resolve(&p.value);
                    match &target.expr {
                        Expr::Object(_) => self.merge_object(target, ch, &here, edits)?,
                        Expr::Null | Expr::Undefined => edits.push(self.replace_value(
                            p,
                            key,
                            &self.render(w, line_indent(self.src, p.start)),
                        )),
                        _ => return Err(self.blocked(&here, target)),
                    }
                }
                (JsWant::Entries(es), Some(p)) => {
                    let target = self.resolve(&p.value);
                    match &target.expr {
                        Expr::Array(_) => self.merge_array_entries(target, es, &here, edits)?,
                        Expr::Object(_) => self.merge_keyed_entries(target, es, &here, edits)?,
                        _ => return Err(self.blocked(&here, target)),
                    }
                }
            }
        }
        if !appends.is_empty() {
            let spans: Vec<(usize, usize)> = props.iter().map(|p| (p.start, p.end)).collect();
            edits.push(self.append(obj, &spans, &appends, &indent));
        }
        Ok(())
    }

    /// Entries in an array (`modules: [ … ]`, `providers: [ … ]`).
    fn merge_array_entries(
        &self,
        arr: &Node,
        es: &[(String, JsWant)],
        path: &str,
        edits: &mut Vec<Edit>,
    ) -> std::result::Result<(), Blocked> {
        let Some(items) = arr.as_array() else {
            return Err(self.blocked(path, arr));
        };
        let indent = child_indent(self.src, arr, items.iter().map(|i| i.start), &self.style);
        let mut appends = Vec::new();
        for (key, w) in es {
            let JsWant::Object(ch) = w else { continue };
            let found = items
                .iter()
                .map(|i| self.resolve(i))
                .find(|i| self.entry_matches(i, key, ch));
            match found {
                Some(obj) => self.merge_object(obj, ch, &join(path, key), edits)?,
                None => appends.push(self.render(w, &indent)),
            }
        }
        if !appends.is_empty() {
            let spans: Vec<(usize, usize)> = items.iter().map(|i| (i.start, i.end)).collect();
            edits.push(self.append(arr, &spans, &appends, &indent));
        }
        Ok(())
    }

    /// Entries keyed in an object (`modules: { cacheService: { … } }`).
    fn merge_keyed_entries(
        &self,
        obj: &Node,
        es: &[(String, JsWant)],
        path: &str,
        edits: &mut Vec<Edit>,
    ) -> std::result::Result<(), Blocked> {
        let Some(props) = obj.as_object() else {
            return Err(self.blocked(path, obj));
        };
        let indent = child_indent(self.src, obj, props.iter().map(|p| p.start), &self.style);
        let mut appends = Vec::new();
        for (key, w) in es {
            let JsWant::Object(ch) = w else { continue };
            let found = props
                .iter()
                .find(|p| p.key.as_deref() == Some(key.as_str()))
                .or_else(|| {
                    props
                        .iter()
                        .find(|p| self.entry_matches(self.resolve(&p.value), "", ch))
                });
            match found {
                Some(p) => {
                    let target = self.resolve(&p.value);
                    if target.as_object().is_none() {
                        return Err(self.blocked(&join(path, key), target));
                    }
                    self.merge_object(target, ch, &join(path, key), edits)?;
                }
                None => appends.push(format!(
                    "{}: {}",
                    js_key(key, &self.style),
                    self.render(w, &indent)
                )),
            }
        }
        if !appends.is_empty() {
            let spans: Vec<(usize, usize)> = props.iter().map(|p| (p.start, p.end)).collect();
            edits.push(self.append(obj, &spans, &appends, &indent));
        }
        Ok(())
    }

    /// Whether an existing entry is the one `want` describes: same `resolve` (or an alias),
    /// or the same `id`.
    fn entry_matches(&self, node: &Node, _key: &str, want: &[(String, JsWant)]) -> bool {
        if node.as_object().is_none() {
            return false;
        }
        want.iter().any(|(k, w)| {
            (k == "resolve" || k == "id")
                && matches!(w, JsWant::Leaf { keep: keep @ Keep::Strs(_), .. }
                    if node.get(k).is_some_and(|p| self.keeps(keep, &p.value)))
        })
    }

    /// Replace a property's value (a shorthand `{ key }` becomes `key: value`).
    fn replace_value(&self, p: &Prop, key: &str, text: &str) -> Edit {
        if p.value.start == p.start && matches!(p.value.expr, Expr::Ident(_)) {
            Edit {
                start: p.start,
                end: p.end,
                text: format!("{}: {text}", js_key(key, &self.style)),
            }
        } else {
            Edit {
                start: p.value.start,
                end: p.value.end,
                text: text.to_string(),
            }
        }
    }

    fn blocked(&self, path: &str, node: &Node) -> Blocked {
        Blocked {
            path: path.to_string(),
            line: node.line,
            what: self.src[node.start..node.end]
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(60)
                .collect(),
        }
    }

    /// Append rendered entries to the object/array `node` whose entries span `spans`.
    fn append(
        &self,
        node: &Node,
        spans: &[(usize, usize)],
        appends: &[String],
        indent: &str,
    ) -> Edit {
        let src = self.src;
        let body_start = node.start + 1;
        let close = node.end - 1;
        let trailing = match spans.last() {
            Some(&(_, end)) => comma_after(src, end).is_some(),
            None => self.style.trailing_comma,
        };
        let mut text = String::new();
        // A one-line object stays on one line: `{ a: 1, b: 2 }`.
        if let Some(&(_, end)) = spans.last()
            && !src[node.start..node.end].contains('\n')
            && appends.iter().all(|a| !a.contains('\n'))
        {
            let at = match comma_after(src, end) {
                Some(c) => c + 1,
                None => end,
            };
            for a in appends {
                if at == end || !text.is_empty() {
                    text.push(',');
                }
                text.push(' ');
                text.push_str(a);
            }
            if at != end {
                text.push(',');
            }
            return Edit {
                start: at,
                end: at,
                text,
            };
        }
        let at = match spans.last() {
            Some(&(_, end)) => match comma_after(src, end) {
                Some(c) => c + 1,
                None => {
                    text.push(',');
                    end
                }
            },
            None => body_start,
        };
        for (n, a) in appends.iter().enumerate() {
            text.push('\n');
            text.push_str(indent);
            text.push_str(a);
            if n + 1 < appends.len() || trailing {
                text.push(',');
            }
        }
        if spans.is_empty() && !src[body_start..close].contains('\n') {
            text.push('\n');
            text.push_str(line_indent(src, node.start));
            return Edit {
                start: body_start,
                end: close,
                text,
            };
        }
        Edit {
            start: at,
            end: at,
            text,
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// Indentation for entries of `node`: that of its first entry, else one step more than the
/// line it opens on.
fn child_indent(
    src: &str,
    node: &Node,
    mut starts: impl Iterator<Item = usize>,
    style: &JsStyle,
) -> String {
    starts
        .next()
        .and_then(|s| indent_before(src, s))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}{}", line_indent(src, node.start), style.unit))
}

/// A key as JS source: bare when it is an identifier.
pub fn js_key(key: &str, style: &JsStyle) -> String {
    let ident = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if ident {
        key.to_string()
    } else {
        style.quote(key)
    }
}

/// Position of the comma after a JS entry ending at `end` (skipping spaces and comments).
pub fn comma_after(src: &str, end: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut p = end;
    loop {
        while p < b.len() && b[p].is_ascii_whitespace() {
            p += 1;
        }
        if src[p..].starts_with("//") {
            p = src[p..].find('\n').map_or(b.len(), |i| p + i);
        } else if src[p..].starts_with("/*") {
            p = src[p + 2..].find("*/").map_or(b.len(), |i| p + 2 + i + 2);
        } else {
            break;
        }
    }
    (b.get(p) == Some(&b',')).then_some(p)
}
