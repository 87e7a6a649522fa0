//! The JavaScript/TypeScript front-end of the scanner: call sites anywhere in a file
//! (`redis.set(…)`, `this.cacheService_.set(…)`), the enclosing function of a call, and a
//! small resolver for arguments (literals, arithmetic, object literals, `const` values).

use crate::syntax::js::{self as syn, Expr, Node, Tok, Token};

use super::verdict::{R, Val};

/// One JS file, lexed.
pub struct JsFile {
    pub display: String,
    pub src: String,
    pub toks: Vec<Token>,
    pub partner: Vec<usize>,
    expires: std::sync::OnceLock<Vec<(usize, String)>>,
    /// How each name is made or typed (`receiver`), read once per file.
    pub(crate) decls: std::sync::OnceLock<std::collections::HashMap<String, Vec<JsDecl>>>,
}

/// How a JS name is made or typed: `x = new C(…)`, `x = createClient(…)`, `x: C`.
#[derive(Debug, Clone)]
pub enum JsDecl {
    New(String),
    Call(String),
    Typed(String),
}

impl JsFile {
    pub fn parse(display: String, src: String) -> Result<JsFile, (syn::SyntaxError, String)> {
        let toks: Vec<Token> = match syn::lex(&src) {
            Ok(t) => t
                .into_iter()
                .filter(|t| !matches!(t.kind, Tok::Comment(_)))
                .collect(),
            Err(e) => return Err((e, src)),
        };
        let partner = match super::php::bracket_partners(toks.iter().map(|t| {
            (
                match t.kind {
                    Tok::Punct(p) => Some(p),
                    _ => None,
                },
                t.line,
            )
        })) {
            Ok(p) => p,
            Err(e) => return Err((e, src)),
        };
        Ok(JsFile {
            display,
            src,
            toks,
            partner,
            expires: std::sync::OnceLock::new(),
            decls: std::sync::OnceLock::new(),
        })
    }

    fn is_punct(&self, i: usize, p: &str) -> bool {
        matches!(self.toks.get(i), Some(Token { kind: Tok::Punct(x), .. }) if *x == p)
    }

    fn ident(&self, i: usize) -> Option<&str> {
        match self.toks.get(i) {
            Some(Token {
                kind: Tok::Ident(s),
                ..
            }) => Some(s),
            _ => None,
        }
    }

    /// Receiver text of the method call whose name is `toks[name_idx]`.
    pub fn receiver(&self, name_idx: usize) -> &str {
        let dot = name_idx - 1;
        let mut j = dot;
        while j > 0 {
            let k = j - 1;
            match &self.toks[k].kind {
                Tok::Ident(w) if !matches!(w.as_str(), "await" | "return" | "new" | "yield") => {
                    j = k
                }
                Tok::Punct("." | "?." | "!") => j = k,
                Tok::Punct(")" | "]") => {
                    let p = self.partner[k];
                    if p >= k {
                        break;
                    }
                    j = p;
                }
                _ => break,
            }
        }
        if j >= dot {
            return "";
        }
        &self.src[self.toks[j].start..self.toks[dot].start]
    }

    /// Token range of the innermost function body around token `i` (whole file if none).
    /// Walks back over sibling blocks by their partners, so it costs the distance to the
    /// enclosing block, not the file size.
    pub fn scope_range(&self, i: usize) -> (usize, usize) {
        let mut k = i;
        while k > 0 {
            k -= 1;
            match self.toks[k].kind {
                Tok::Punct("}" | ")" | "]") => {
                    let p = self.partner[k];
                    if p < k {
                        k = p;
                    }
                }
                Tok::Punct("{") if self.is_function_body(k) => return (k, self.partner[k]),
                _ => {}
            }
        }
        (0, self.toks.len())
    }

    fn is_function_body(&self, open: usize) -> bool {
        if open == 0 {
            return false;
        }
        let mut k = open - 1;
        if self.is_punct(k, "=>") {
            return true;
        }
        // Skip a TS return type annotation: `): Promise<void> {`.
        let mut guard = 0;
        while !self.is_punct(k, ")") && k > 0 && guard < 16 {
            match &self.toks[k].kind {
                Tok::Ident(_) | Tok::Punct(":" | "<" | ">" | "|" | "." | "[" | "]" | ",") => k -= 1,
                _ => return false,
            }
            guard += 1;
        }
        if !self.is_punct(k, ")") {
            return false;
        }
        let popen = self.partner[k];
        if popen == usize::MAX || popen == 0 {
            return false;
        }
        match self.ident(popen - 1) {
            Some(w) => !matches!(
                w,
                "if" | "for" | "while" | "switch" | "catch" | "with" | "return"
            ),
            None => self.is_punct(popen - 1, ">"), // generic `<T>(…)`
        }
    }

    /// Resolve an argument node.
    pub fn resolve(&self, n: &Node, depth: u32) -> R {
        if depth > 12 {
            return R::err("too many hops");
        }
        let d = depth + 1;
        let r = match &n.expr {
            Expr::Num(x) if x.fract() == 0.0 => R::ok(Val::Int(*x as i64)),
            Expr::Num(x) => R::ok(Val::Int(*x as i64)),
            Expr::Str(s) => R::ok(Val::Str(s.clone())),
            Expr::Template(_) => match n.as_str() {
                Some(s) => R::ok(Val::Str(s.to_string())),
                None => R::err("a template string with substitutions"),
            },
            Expr::Bool(b) => R::ok(Val::Bool(*b)),
            Expr::Null | Expr::Undefined => R::ok(Val::Null),
            Expr::Unary { op: "-", expr } => match self.resolve(expr, d) {
                R {
                    v: Ok(Val::Int(x)),
                    trace,
                    ..
                } => R {
                    v: Ok(Val::Int(-x)),
                    trace,
                    line: 0,
                },
                other => other,
            },
            Expr::Binary { op, left, right } if matches!(*op, "+" | "-" | "*" | "/") => {
                let (l, r) = (self.resolve(left, d), self.resolve(right, d));
                let mut trace = l.trace.clone();
                trace.extend(r.trace.clone());
                let v = match (l.v, r.v) {
                    (Ok(Val::Int(a)), Ok(Val::Int(b))) => match *op {
                        "+" => a.checked_add(b),
                        "-" => a.checked_sub(b),
                        "*" => a.checked_mul(b),
                        _ if b != 0 => Some(a / b),
                        _ => None,
                    }
                    .map(Val::Int)
                    .ok_or_else(|| "arithmetic overflow".to_string()),
                    (Err(e), _) | (_, Err(e)) => Err(e),
                    _ => Err("arithmetic on a non-number".into()),
                };
                R { v, trace, line: 0 }
            }
            Expr::Object(props) => R::ok(Val::Map(
                props
                    .iter()
                    .map(|p| (p.key.clone(), self.resolve(&p.value, d).at_line(p.line)))
                    .collect(),
            )),
            Expr::Array(items) => R::ok(Val::Map(
                items
                    .iter()
                    .map(|i| (None, self.resolve(i, d).at_line(i.line)))
                    .collect(),
            )),
            Expr::Ident(name) => self.constant(name, d),
            Expr::Opaque => R::ok(Val::Opaque),
            _ => match n.env_var() {
                Some(v) => R::err(format!("environment variable {v} (read at run time)")),
                None => R::err(format!(
                    "`{}` is a runtime value",
                    &self.src[n.start.min(self.src.len())..n.end.min(self.src.len())]
                )),
            },
        };
        r.at_line(n.line)
    }

    /// `const NAME = …` (or let/var) declared exactly once in the file.
    fn constant(&self, name: &str, d: u32) -> R {
        let mut decls = Vec::new();
        for k in 0..self.toks.len().saturating_sub(3) {
            if matches!(self.ident(k), Some("const" | "let" | "var"))
                && self.ident(k + 1) == Some(name)
                && self.is_punct(k + 2, "=")
            {
                decls.push(k);
            }
        }
        let [k] = decls.as_slice() else {
            return if decls.is_empty() {
                R::err(format!("`{name}` is not a constant declared in this file"))
            } else {
                R::err(format!("`{name}` is declared {} times", decls.len()))
            };
        };
        // The initialiser runs to `;`/`,` at depth 0 or to the end of its line.
        let start = k + 3;
        let mut end = start;
        let mut depth = 0i32;
        while end < self.toks.len() {
            let t = &self.toks[end];
            match t.kind {
                Tok::Punct("(" | "[" | "{") => depth += 1,
                Tok::Punct(")" | "]" | "}") => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1
                }
                Tok::Punct(";" | ",") if depth == 0 => break,
                _ => {}
            }
            if depth == 0 && end > start && t.line > self.toks[end - 1].line {
                break;
            }
            end += 1;
        }
        if end == start {
            return R::err(format!("`{name}` has no initialiser"));
        }
        let text = &self.src[self.toks[start].start..self.toks[end - 1].end];
        let line = self.toks[*k].line;
        match syn::parse_expr(text) {
            Ok(node) => self.resolve(&node, d).hop(format!(
                "`{name}` → `{} {name} = {text}` at {}:{line}",
                self.ident(*k).unwrap_or("const"),
                self.display
            )),
            Err(_) => R::err(format!("cannot read the initialiser of `{name}`")),
        }
    }
}

/// `(token index, is method call, name)` of every `name(` call.
pub fn call_sites(f: &JsFile) -> Vec<(usize, bool, String)> {
    let mut out = Vec::new();
    for i in 0..f.toks.len().saturating_sub(1) {
        let Tok::Ident(name) = &f.toks[i].kind else {
            continue;
        };
        if !f.is_punct(i + 1, "(") {
            continue;
        }
        let method = i > 0 && (f.is_punct(i - 1, ".") || f.is_punct(i - 1, "?."));
        out.push((i, method, name.clone()));
    }
    out
}

/// Whether an expire-family call on key text `key` appears in token range `range`.
pub fn expire_in_range(f: &JsFile, range: (usize, usize), key: &str) -> bool {
    let calls = f.expires.get_or_init(|| {
        let mut out = Vec::new();
        for i in 0..f.toks.len().saturating_sub(1) {
            let Tok::Ident(name) = &f.toks[i].kind else {
                continue;
            };
            if !super::php::is_expire_name(name) || !f.is_punct(i + 1, "(") {
                continue;
            }
            if let Ok((args, _)) = syn::parse_args_at(&f.toks, i + 1)
                && let Some(a) = args.first()
            {
                out.push((i, super::php::norm_text(&f.src[a.start..a.end])));
            }
        }
        out
    });
    let key = super::php::norm_text(key);
    calls
        .iter()
        .any(|(i, k)| range.0 <= *i && *i < range.1 && *k == key)
}
