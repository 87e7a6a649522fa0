//! The PHP front-end of the scanner: a class/function-aware index of one file (the config
//! statement parser skips function and class bodies on purpose; cache writes live in them),
//! call sites anywhere in the file, and the resolver that follows an expiry argument through
//! constants, `define()`s, class constants, local variables and functions that return them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use crate::syntax::php::{self as syn, Expr, Stmt, StmtKind, Tok, Token};

use super::verdict::{R, Val};

const MAX_DEPTH: u32 = 16;

/// WordPress time constants (`wp-includes/default-constants.php`).
pub const WP_TIME_CONSTANTS: &[(&str, i64)] = &[
    ("MINUTE_IN_SECONDS", 60),
    ("HOUR_IN_SECONDS", 3600),
    ("DAY_IN_SECONDS", 86400),
    ("WEEK_IN_SECONDS", 604800),
    ("MONTH_IN_SECONDS", 2592000),
    ("YEAR_IN_SECONDS", 31536000),
];

/// A function or method declaration.
#[derive(Debug)]
pub struct FnDecl {
    pub name: String,
    pub params: Vec<(String, Option<Expr>)>,
    /// Token index of the parameter list's `(`.
    pub popen: usize,
    /// Token indexes of the body's `{` and `}` (equal for abstract methods).
    pub open: usize,
    pub close: usize,
    stmts: OnceLock<Vec<Stmt>>,
}

#[derive(Debug)]
pub struct ClassDecl {
    pub name: String,
    pub extends: Option<String>,
    /// Every name after `extends` and `implements` (interfaces extend several).
    pub parents: Vec<String>,
    pub open: usize,
    pub close: usize,
    pub consts: Vec<(String, Expr, usize)>,
    pub methods: Vec<FnDecl>,
}

/// One PHP file, lexed and indexed.
#[derive(Debug)]
pub struct PhpFile {
    pub display: String,
    pub src: String,
    /// Tokens without comments and inline HTML.
    pub toks: Vec<Token>,
    /// For each bracket token, the index of its partner.
    pub partner: Vec<usize>,
    pub classes: Vec<ClassDecl>,
    pub functions: Vec<FnDecl>,
    top: OnceLock<Vec<Stmt>>,
    expires: OnceLock<Vec<(usize, String)>>,
    /// The file's namespace and `use` aliases (lowercase alias → name), read once.
    pub(crate) names: OnceLock<(Option<String>, HashMap<String, String>)>,
}

/// Where an expression sits: its class and function (method), by index.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope {
    pub class: Option<usize>,
    pub func: Option<FnId>,
}

#[derive(Debug, Clone, Copy)]
pub enum FnId {
    Method(usize, usize),
    Func(usize),
}

impl PhpFile {
    /// Lex and index `src`. Errors when it does not lex or its brackets do not balance.
    pub fn parse(display: String, src: String) -> Result<PhpFile, (syn::SyntaxError, String)> {
        let toks: Vec<Token> = match syn::lex(&src) {
            Ok(t) => t
                .into_iter()
                .filter(|t| !matches!(t.kind, Tok::Comment(_) | Tok::InlineHtml))
                .collect(),
            Err(e) => return Err((e, src)),
        };
        let partner = match bracket_partners(toks.iter().map(|t| {
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
        let mut f = PhpFile {
            display,
            src,
            toks,
            partner,
            classes: Vec::new(),
            functions: Vec::new(),
            top: OnceLock::new(),
            expires: OnceLock::new(),
            names: OnceLock::new(),
        };
        f.index();
        Ok(f)
    }

    pub fn empty(display: String) -> PhpFile {
        PhpFile {
            display,
            src: String::new(),
            toks: Vec::new(),
            partner: Vec::new(),
            classes: Vec::new(),
            functions: Vec::new(),
            top: OnceLock::new(),
            expires: OnceLock::new(),
            names: OnceLock::new(),
        }
    }

    pub(crate) fn is_punct(&self, i: usize, p: &str) -> bool {
        matches!(self.toks.get(i), Some(Token { kind: Tok::Punct(x), .. }) if *x == p)
    }

    pub(crate) fn ident(&self, i: usize) -> Option<&str> {
        match self.toks.get(i) {
            Some(Token {
                kind: Tok::Ident(s),
                ..
            }) => Some(s),
            _ => None,
        }
    }

    fn index(&mut self) {
        let n = self.toks.len();
        let mut i = 0;
        while i < n {
            let word = self.ident(i).map(str::to_ascii_lowercase);
            let after_arrow = i > 0 && (self.is_punct(i - 1, "->") || self.is_punct(i - 1, "::"));
            match word.as_deref() {
                Some("class" | "interface" | "trait" | "enum")
                    if !after_arrow && self.ident(i.wrapping_sub(1)) != Some("new") =>
                {
                    if let Some(name) = self.ident(i + 1).map(str::to_string) {
                        let mut j = i + 2;
                        let mut extends = None;
                        let mut parents = Vec::new();
                        while j < n && !self.is_punct(j, "{") && !self.is_punct(j, ";") {
                            if let Some(w) = self.ident(j) {
                                if w.eq_ignore_ascii_case("extends") {
                                    extends = self.ident(j + 1).map(str::to_string);
                                } else if !w.eq_ignore_ascii_case("implements") {
                                    parents.push(w.to_string());
                                }
                            }
                            j += 1;
                        }
                        if self.is_punct(j, "{") {
                            let close = self.partner[j];
                            let mut class = self.class_body(name, extends, j, close);
                            class.parents = parents;
                            self.classes.push(class);
                            i = close + 1;
                            continue;
                        }
                    }
                }
                Some("function") if !after_arrow => {
                    if let Some(f) = self.fn_decl(i) {
                        let next = f.close + 1;
                        self.functions.push(f);
                        i = next;
                        continue;
                    }
                }
                _ => {}
            }
            i += 1;
        }
    }

    /// A named function declaration starting at the `function` token `i`.
    fn fn_decl(&self, i: usize) -> Option<FnDecl> {
        let mut j = i + 1;
        if self.is_punct(j, "&") {
            j += 1;
        }
        let name = self.ident(j)?.to_string();
        if !self.is_punct(j + 1, "(") {
            return None;
        }
        let popen = j + 1;
        let pclose = self.partner[popen];
        let params = self.params(popen, pclose);
        let mut k = pclose + 1;
        while k < self.toks.len() && !self.is_punct(k, "{") && !self.is_punct(k, ";") {
            k += 1;
        }
        let (open, close) = if self.is_punct(k, "{") {
            (k, self.partner[k])
        } else {
            (
                k.min(self.toks.len().saturating_sub(1)),
                k.min(self.toks.len().saturating_sub(1)),
            )
        };
        Some(FnDecl {
            name,
            params,
            popen,
            open,
            close,
            stmts: OnceLock::new(),
        })
    }

    fn params(&self, open: usize, close: usize) -> Vec<(String, Option<Expr>)> {
        let mut out = Vec::new();
        let mut k = open + 1;
        while k < close {
            if let Tok::Var(name) = &self.toks[k].kind {
                let mut default = None;
                if self.is_punct(k + 1, "=")
                    && let Ok((e, next)) = syn::parse_expr_at(&self.toks[..close], k + 2)
                {
                    default = Some(e);
                    out.push((name.clone(), default));
                    k = next;
                    continue;
                }
                out.push((name.clone(), default.take()));
            }
            if matches!(self.toks[k].kind, Tok::Punct("(" | "[")) {
                k = self.partner[k];
            }
            k += 1;
        }
        out
    }

    fn class_body(
        &self,
        name: String,
        extends: Option<String>,
        open: usize,
        close: usize,
    ) -> ClassDecl {
        let mut consts = Vec::new();
        let mut methods = Vec::new();
        let mut k = open + 1;
        while k < close {
            match &self.toks[k].kind {
                Tok::Ident(w) if w.eq_ignore_ascii_case("const") => {
                    k += 1;
                    // Typed constants (PHP 8.3): `const int X = 1;`.
                    if self.ident(k).is_some() && self.ident(k + 1).is_some() {
                        k += 1;
                    }
                    while let Some(cname) = self.ident(k).map(str::to_string) {
                        let line = self.toks[k].line;
                        if !self.is_punct(k + 1, "=") {
                            break;
                        }
                        let Ok((e, next)) = syn::parse_expr_at(&self.toks[..close], k + 2) else {
                            break;
                        };
                        consts.push((cname, e, line));
                        k = next;
                        if !self.is_punct(k, ",") {
                            break;
                        }
                        k += 1;
                    }
                }
                Tok::Ident(w) if w.eq_ignore_ascii_case("function") => {
                    if let Some(f) = self.fn_decl(k) {
                        k = f.close;
                        methods.push(f);
                    }
                }
                Tok::Punct("{" | "(" | "[") => k = self.partner[k],
                _ => {}
            }
            k += 1;
        }
        ClassDecl {
            name,
            extends,
            parents: Vec::new(),
            open,
            close,
            consts,
            methods,
        }
    }

    /// Statements outside functions and classes.
    pub fn top(&self) -> &[Stmt] {
        self.top
            .get_or_init(|| syn::parse_tokens(&self.toks).unwrap_or_default())
    }

    pub fn fn_decl_of(&self, id: FnId) -> &FnDecl {
        match id {
            FnId::Method(c, m) => &self.classes[c].methods[m],
            FnId::Func(f) => &self.functions[f],
        }
    }

    /// Statements of a function body (nested closures skipped).
    pub fn body(&self, id: FnId) -> &[Stmt] {
        let f = self.fn_decl_of(id);
        f.stmts.get_or_init(|| {
            if f.close > f.open + 1 {
                syn::parse_tokens(&self.toks[f.open + 1..f.close]).unwrap_or_default()
            } else {
                Vec::new()
            }
        })
    }

    /// The innermost class and function around token `i`.
    pub fn scope_at(&self, i: usize) -> Scope {
        let mut sc = Scope::default();
        for (ci, c) in self.classes.iter().enumerate() {
            if c.open < i && i < c.close {
                sc.class = Some(ci);
                for (mi, m) in c.methods.iter().enumerate() {
                    if m.open < i && i < m.close {
                        sc.func = Some(FnId::Method(ci, mi));
                    }
                }
            }
        }
        if sc.func.is_none() {
            let mut best: Option<(usize, usize)> = None;
            for (fi, f) in self.functions.iter().enumerate() {
                if f.open < i && i < f.close && best.is_none_or(|(_, w)| f.close - f.open < w) {
                    best = Some((fi, f.close - f.open));
                }
            }
            sc.func = best.map(|(fi, _)| FnId::Func(fi));
        }
        sc
    }

    /// Token range of the scope's function body, or the whole file.
    pub fn scope_range(&self, sc: Scope) -> (usize, usize) {
        match sc.func {
            Some(id) => {
                let f = self.fn_decl_of(id);
                (f.open, f.close)
            }
            None => (0, self.toks.len()),
        }
    }

    /// Source text of the receiver of the method call whose name is `toks[name_idx]`
    /// (`$this->cache`, `\Drupal::cache('render')`).
    pub fn receiver(&self, name_idx: usize) -> &str {
        let arrow = name_idx - 1;
        let j = self.receiver_start(name_idx);
        if j >= arrow {
            return "";
        }
        &self.src[self.toks[j].start..self.toks[arrow].start]
    }

    /// Token index where the receiver of the method call named at `name_idx` starts
    /// (`name_idx - 1`, the arrow, when there is none).
    pub fn receiver_start(&self, name_idx: usize) -> usize {
        let arrow = name_idx - 1;
        let mut j = arrow;
        while j > 0 {
            let k = j - 1;
            match &self.toks[k].kind {
                // A statement keyword before the receiver is not part of it.
                Tok::Ident(w)
                    if matches!(
                        w.to_ascii_lowercase().as_str(),
                        "return"
                            | "echo"
                            | "print"
                            | "yield"
                            | "throw"
                            | "else"
                            | "case"
                            | "and"
                            | "or"
                            | "xor"
                            | "instanceof"
                            | "clone"
                            | "include"
                            | "require"
                            | "include_once"
                            | "require_once"
                    ) =>
                {
                    break;
                }
                Tok::Ident(_) | Tok::Var(_) | Tok::Punct("->" | "?->" | "::" | "\\") => j = k,
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
        j
    }

    pub fn loc(&self, line: usize) -> String {
        format!("{}:{line}", self.display)
    }
}

/// Bracket partners (index of the matching bracket, `usize::MAX` for other tokens), given
/// each token's punctuation (if any) and line. Unbalanced brackets are the shared
/// [`crate::syntax::check_balance`] error.
pub fn bracket_partners<'a, I>(puncts: I) -> Result<Vec<usize>, syn::SyntaxError>
where
    I: IntoIterator<Item = (Option<&'a str>, usize)> + Clone,
{
    crate::syntax::check_balance(
        puncts
            .clone()
            .into_iter()
            .filter_map(|(p, line)| p.map(|p| (p, line))),
    )?;
    let mut partner = Vec::new();
    let mut stack: Vec<usize> = Vec::new();
    for (i, (p, _)) in puncts.into_iter().enumerate() {
        partner.push(usize::MAX);
        match p {
            Some("(" | "[" | "{") => stack.push(i),
            Some(")" | "]" | "}") => {
                if let Some(o) = stack.pop() {
                    partner[o] = i;
                    partner[i] = o;
                }
            }
            _ => {}
        }
    }
    Ok(partner)
}

/// A class found in the tree: its file and index in [`PhpFile::classes`].
pub type ClassRef = (Arc<PhpFile>, usize);

/// A `define()` seen anywhere in the tree.
#[derive(Debug, Clone)]
pub struct DefineSite {
    pub value: String,
    pub display: String,
    pub line: usize,
}

/// What the whole scanned tree contributes to resolution: `define()`s and class lookup.
#[derive(Debug, Default)]
pub struct TreeIndex {
    pub defines: HashMap<String, Vec<DefineSite>>,
    /// Every PHP file seen: filesystem path and display path.
    pub php_files: Vec<PathBuf>,
    pub max_filesize: u64,
    /// PATH: function lookups never look above it.
    pub root: PathBuf,
    pub classes: Mutex<HashMap<String, Option<ClassRef>>>,
    pub functions: Mutex<HashMap<(PathBuf, String), Option<ClassRef>>>,
    /// `php_files` indexes by normalised file stem, built on the first class lookup.
    pub stems: OnceLock<HashMap<String, Vec<usize>>>,
}

fn norm_name(s: &str) -> String {
    let s = s.to_ascii_lowercase();
    let s = s
        .strip_prefix("class-")
        .or_else(|| s.strip_prefix("interface-"))
        .or_else(|| s.strip_prefix("trait-"))
        .or_else(|| s.strip_prefix("abstract-"))
        .unwrap_or(&s)
        .to_string();
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | '.'))
        .collect()
}

impl TreeIndex {
    /// Find class `short` (no namespace) in a file named after it (PSR-4 `Foo.php`,
    /// WordPress `class-foo.php`).
    pub fn find_class(&self, short: &str) -> Option<(Arc<PhpFile>, usize)> {
        let key = short.to_ascii_lowercase();
        if let Some(hit) = self.classes.lock().ok()?.get(&key) {
            return hit.clone();
        }
        let want = norm_name(short);
        let stems = self.stems.get_or_init(|| {
            let mut m: HashMap<String, Vec<usize>> = HashMap::new();
            for (i, path) in self.php_files.iter().enumerate() {
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                m.entry(norm_name(stem)).or_default().push(i);
            }
            m
        });
        let mut found = None;
        for &i in stems.get(&want).map_or(&[][..], Vec::as_slice) {
            let path = &self.php_files[i];
            let display = path.display().to_string();
            let Ok(bytes) = read_limited(path, self.max_filesize) else {
                continue;
            };
            let src = String::from_utf8_lossy(&bytes).into_owned();
            let Ok(file) = PhpFile::parse(display, src) else {
                continue;
            };
            if let Some(ci) = file
                .classes
                .iter()
                .position(|c| c.name.eq_ignore_ascii_case(short))
            {
                found = Some((Arc::new(file), ci));
                break;
            }
        }
        if let Ok(mut m) = self.classes.lock() {
            m.insert(key, found.clone());
        }
        found
    }
}

impl TreeIndex {
    /// Find function `name` declared near `from` (a file path): in the PHP files below the
    /// directory three levels above `from` (never above PATH), i.e. in the same plugin or
    /// module. The result is (file, index in [`PhpFile::functions`]).
    pub fn find_function(&self, from: &std::path::Path, name: &str) -> Option<ClassRef> {
        let mut dir = from.parent()?.to_path_buf();
        for _ in 0..3 {
            match dir.parent() {
                Some(p) if p.starts_with(&self.root) && p != dir => dir = p.to_path_buf(),
                _ => break,
            }
        }
        let key = (dir.clone(), name.to_ascii_lowercase());
        if let Some(hit) = self.functions.lock().ok()?.get(&key) {
            return hit.clone();
        }
        let re = regex::bytes::Regex::new(&format!(
            r"(?i)\bfunction\s+&?\s*{}\s*\(",
            regex::escape(name)
        ))
        .ok()?;
        let mut found = None;
        for path in self
            .php_files
            .iter()
            .filter(|p| p.starts_with(&dir))
            .take(5000)
        {
            let display = path.display().to_string();
            let Ok(bytes) = read_limited(path, self.max_filesize) else {
                continue;
            };
            if !re.is_match(&bytes) {
                continue;
            }
            let src = String::from_utf8_lossy(&bytes).into_owned();
            let Ok(file) = PhpFile::parse(display, src) else {
                continue;
            };
            if let Some(fi) = file
                .functions
                .iter()
                .position(|f| f.name.eq_ignore_ascii_case(name))
            {
                found = Some((Arc::new(file), fi));
                break;
            }
        }
        if let Ok(mut m) = self.functions.lock() {
            m.insert(key, found.clone());
        }
        found
    }
}

/// Read a file through the crate's bounded reader (`max == 0`: no cap); the error text
/// names the reason (too large, not a regular file, permission denied …).
pub fn read_limited(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    let max = if max == 0 { u64::MAX } else { max };
    crate::fsutil::read_bounded(path, max, crate::fsutil::Links::Follow)
        .map_err(|e| std::io::Error::other(e.reason()))
}

fn short_class(name: &str) -> &str {
    name.rsplit('\\').next().unwrap_or(name)
}

/// Follows expressions to values.
pub struct Resolver<'a> {
    pub tree: &'a TreeIndex,
    pub drupal_major: Option<u32>,
}

impl Resolver<'_> {
    pub fn resolve(&self, f: &Arc<PhpFile>, sc: Scope, e: &Expr, depth: u32) -> R {
        if depth > MAX_DEPTH {
            return R::err("too many hops (the value refers back to itself)");
        }
        let d = depth + 1;
        match e {
            Expr::Int(n) => R::ok(Val::Int(*n)),
            Expr::Float(x) => R::ok(Val::Int(*x as i64)),
            Expr::Bool(b) => R::ok(Val::Bool(*b)),
            Expr::Null => R::ok(Val::Null),
            Expr::Str(s) => R::ok(Val::Str(s.clone())),
            Expr::Array(items) => {
                let mut out = Vec::new();
                for it in items {
                    let key = it
                        .key
                        .as_ref()
                        .and_then(|k| match self.resolve(f, sc, k, d).v {
                            Ok(Val::Str(s)) => Some(s),
                            Ok(Val::Int(n)) => Some(n.to_string()),
                            _ => None,
                        });
                    out.push((key, self.resolve(f, sc, &it.value, d).at_line(it.line)));
                }
                R::ok(Val::Map(out))
            }
            Expr::Unary { op: "-", expr } => {
                let r = self.resolve(f, sc, expr, d);
                map_val(r, |v| match v {
                    Val::Int(n) => Some(Val::Int(-n)),
                    other => other.int().map(|n| Val::Int(-n)),
                })
            }
            Expr::Unary { op: "+", expr } => self.resolve(f, sc, expr, d),
            Expr::Cast { to, expr } if to == "int" || to == "integer" => {
                let r = self.resolve(f, sc, expr, d);
                map_val(r, |v| match v {
                    Val::Time(t) => Some(Val::Time(t)),
                    other => other.int().map(Val::Int),
                })
            }
            Expr::Binary { op, left, right } if matches!(*op, "+" | "-" | "*" | "/" | "%") => {
                let l = self.resolve(f, sc, left, d);
                let r = self.resolve(f, sc, right, d);
                let mut trace = l.trace.clone();
                trace.extend(r.trace.clone());
                let v = match (l.v, r.v) {
                    (Err(w), _) | (_, Err(w)) => Err(w),
                    (Ok(Val::Time(t)), Ok(b)) | (Ok(b), Ok(Val::Time(t)))
                        if matches!(*op, "+" | "-") =>
                    {
                        match b.int() {
                            Some(n) => Ok(Val::Time(if *op == "+" { t + n } else { t - n })),
                            None => Err("arithmetic on a non-number".into()),
                        }
                    }
                    (Ok(a), Ok(b)) => match (a.int(), b.int()) {
                        (Some(a), Some(b)) => arith(op, a, b)
                            .map(Val::Int)
                            .ok_or_else(|| "arithmetic overflow or division by 0".to_string()),
                        _ => Err("arithmetic on a non-number".into()),
                    },
                };
                R { v, trace, line: 0 }
            }
            Expr::Binary { op: "??", left, .. } => R::err(format!(
                "`{}` depends on whether a value is set",
                left.describe()
            )),
            Expr::Ternary {
                then, otherwise, ..
            } => {
                let a = then.as_ref().map(|t| self.resolve(f, sc, t, d));
                let b = self.resolve(f, sc, otherwise, d);
                match a {
                    Some(a) if a.v.is_ok() && a.v == b.v => a,
                    _ => R::err(format!("`{}` depends on a condition", e.describe())),
                }
            }
            Expr::Const(name) => self.constant(f, name.trim_start_matches('\\'), d),
            Expr::ClassConst { class, name } => self.class_const(f, sc, class, name, d),
            Expr::Var { name, path } if path.is_empty() => self.variable(f, sc, name, d),
            Expr::Var { name, .. } if name == "this" => R::err(format!(
                "`{}` is an object property (set at run time)",
                e.describe()
                    .replacen("$this[", "$this->", 1)
                    .replace(['[', ']', '\''], "")
            )),
            Expr::Call { name, args } => self.call(f, sc, name.trim_start_matches('\\'), args, d),
            Expr::StaticCall {
                class,
                method,
                args: _,
            } => {
                if short_class(class).eq_ignore_ascii_case("Drupal") && method == "time" {
                    return R::err("\\Drupal::time() is a service");
                }
                let Some((cf, ci)) = self.class_of(f, sc, class) else {
                    return R::err(format!("class {class} is not in the scanned tree"));
                };
                self.method(&cf, ci, method, &format!("{class}::{method}()"), d)
            }
            Expr::MethodCall {
                target,
                method,
                args: _,
            } => {
                let m = method.to_ascii_lowercase();
                if m == "getrequesttime" || m == "getcurrenttime" {
                    return R::ok(Val::Time(0))
                        .hop(format!("`{}` → the current time", e.describe()));
                }
                if matches!(target.as_ref(), Expr::Var { name, path } if name == "this" && path.is_empty())
                    && let Some(ci) = sc.class
                {
                    return self.method(f, ci, method, &format!("$this->{method}()"), d);
                }
                R::err(format!("`{}` is a runtime call", e.describe()))
            }
            _ => R::err(format!("`{}` is not a constant expression", e.describe())),
        }
    }

    fn constant(&self, f: &Arc<PhpFile>, name: &str, d: u32) -> R {
        if let Some((_, v)) = WP_TIME_CONSTANTS.iter().find(|(n, _)| *n == name) {
            return R::ok(Val::Int(*v)).hop(format!("`{name}` → {v} (WordPress time constant)"));
        }
        match name.to_ascii_lowercase().as_str() {
            "true" => return R::ok(Val::Bool(true)),
            "false" => return R::ok(Val::Bool(false)),
            "null" => return R::ok(Val::Null),
            _ => {}
        }
        if name == "REQUEST_TIME" {
            return R::ok(Val::Time(0)).hop("`REQUEST_TIME` → the current time".into());
        }
        if self.drupal_major == Some(7) {
            match name {
                "CACHE_PERMANENT" => {
                    return R::ok(Val::Int(0))
                        .hop("`CACHE_PERMANENT` → 0 (Drupal 7 bootstrap.inc)".into());
                }
                "CACHE_TEMPORARY" => {
                    return R::ok(Val::Int(-1))
                        .hop("`CACHE_TEMPORARY` → -1 (Drupal 7 bootstrap.inc)".into());
                }
                _ => {}
            }
        }
        // A define() in this file, then anywhere in the tree.
        for (n, value, stmt) in syn::defines(f.top()) {
            if n == name {
                let r = self.resolve(f, Scope::default(), value, d);
                return r.hop(format!(
                    "`{name}` → `define('{name}', {})` at {}",
                    value.describe(),
                    f.loc(stmt.line)
                ));
            }
        }
        let Some(sites) = self.tree.defines.get(name) else {
            return R::err(format!(
                "constant {name} is not defined in the scanned tree"
            ));
        };
        let mut results: Vec<R> = Vec::new();
        for site in sites {
            let r = match lex_expr(&site.value) {
                Some(e) => {
                    let df = Arc::new(PhpFile::empty(site.display.clone()));
                    self.resolve(&df, Scope::default(), &e, d)
                }
                None => R::err(format!("cannot read `{}`", site.value)),
            };
            results.push(r.hop(format!(
                "`{name}` → `define('{name}', {})` at {}:{}",
                site.value, site.display, site.line
            )));
        }
        let first = results.remove(0);
        if results.iter().all(|r| r.v == first.v) {
            first
        } else {
            R::err(format!(
                "{name} is defined {} times with different values",
                results.len() + 1
            ))
        }
    }

    fn class_of(&self, f: &Arc<PhpFile>, sc: Scope, class: &str) -> Option<(Arc<PhpFile>, usize)> {
        let lower = class.to_ascii_lowercase();
        if lower == "self" || lower == "static" {
            return sc.class.map(|c| (f.clone(), c));
        }
        if lower == "parent" {
            let parent = f.classes.get(sc.class?)?.extends.clone()?;
            return self.class_by_name(f, &parent);
        }
        self.class_by_name(f, class)
    }

    fn class_by_name(&self, f: &Arc<PhpFile>, class: &str) -> Option<(Arc<PhpFile>, usize)> {
        let short = short_class(class);
        if let Some(ci) = f
            .classes
            .iter()
            .position(|c| c.name.eq_ignore_ascii_case(short))
        {
            return Some((f.clone(), ci));
        }
        self.tree.find_class(short)
    }

    fn class_const(&self, f: &Arc<PhpFile>, sc: Scope, class: &str, name: &str, d: u32) -> R {
        let shown = format!("{class}::{name}");
        let found = self.class_of(f, sc, class);
        let short = short_class(class);
        if found.is_none()
            && ((short == "Cache" && name == "PERMANENT")
                || (short == "CacheBackendInterface" && name == "CACHE_PERMANENT"))
        {
            return R::ok(Val::Int(-1)).hop(format!(
                "`{shown}` → -1 (Drupal CacheBackendInterface::CACHE_PERMANENT)"
            ));
        }
        let Some((mut cf, mut ci)) = found else {
            return R::err(format!("class {class} is not in the scanned tree"));
        };
        for _ in 0..6 {
            let c = &cf.classes[ci];
            if let Some((_, e, line)) = c.consts.iter().find(|(n, _, _)| n == name) {
                let e = e.clone();
                let line = *line;
                let r = self.resolve(
                    &cf,
                    Scope {
                        class: Some(ci),
                        func: None,
                    },
                    &e,
                    d,
                );
                return r.hop(format!(
                    "`{shown}` → `const {name} = {}` at {}",
                    e.describe(),
                    cf.loc(line)
                ));
            }
            let Some(parent) = c.extends.clone() else {
                break;
            };
            match self.class_by_name(&cf, &parent) {
                Some((pf, pi)) => {
                    cf = pf;
                    ci = pi;
                }
                None => break,
            }
        }
        R::err(format!("{shown} is not declared in the scanned tree"))
    }

    fn variable(&self, f: &Arc<PhpFile>, sc: Scope, name: &str, d: u32) -> R {
        if name == "this" {
            return R::err("$this is an object");
        }
        let stmts: &[Stmt] = match sc.func {
            Some(id) => f.body(id),
            None => f.top(),
        };
        let assigns: Vec<&Stmt> = stmts
            .iter()
            .filter(|s| {
                matches!(&s.kind, StmtKind::Assign { target: Expr::Var { name: n, path }, .. }
                    if n == name && path.is_empty())
            })
            .collect();
        let is_param = sc
            .func
            .is_some_and(|id| f.fn_decl_of(id).params.iter().any(|(p, _)| p == name));
        if assigns.is_empty() {
            if let Some(id) = sc.func
                && is_param
            {
                let fun = f.fn_decl_of(id);
                return R::err(format!(
                    "${name} is a parameter of {}(): its value comes from the caller",
                    fun.name
                ));
            }
            return R::err(format!("${name} is not assigned in this scope"));
        }
        let mut results = Vec::new();
        for s in &assigns {
            let StmtKind::Assign { op, value, .. } = &s.kind else {
                continue;
            };
            if *op != "=" {
                return R::err(format!("${name} is modified with `{op}`"));
            }
            if mentions_var(value, name) {
                return R::err(format!(
                    "`${name} = {}` at {} derives ${name} from its previous value",
                    value.describe(),
                    f.loc(s.line)
                ));
            }
            let r = self.resolve(f, sc, value, d);
            results.push(r.hop(format!(
                "`${name}` → `${name} = {}` at {}",
                value.describe(),
                f.loc(s.line)
            )));
        }
        let first = results.remove(0);
        if is_param && assigns[0].conditional {
            return R::err(format!(
                "${name} is a parameter only sometimes reassigned: it may come from the caller"
            ));
        }
        if results.iter().all(|r| r.v == first.v) {
            first
        } else {
            R::err(format!(
                "${name} is assigned {} times with different values",
                results.len() + 1
            ))
        }
    }

    fn call(&self, f: &Arc<PhpFile>, sc: Scope, name: &str, args: &[Expr], d: u32) -> R {
        let lower = name.to_ascii_lowercase();
        let shown = format!(
            "{name}({})",
            args.iter()
                .map(Expr::describe)
                .collect::<Vec<_>>()
                .join(", ")
        );
        match lower.as_str() {
            "intval" | "absint" | "floor" | "ceil" | "round" => {
                let Some(a) = args.first() else {
                    return R::err(format!("{name}() without argument"));
                };
                let r = self.resolve(f, sc, a, d);
                let abs = lower == "absint";
                return map_val(r, |v| match v {
                    Val::Time(t) => Some(Val::Time(t)),
                    other => other.int().map(|n| Val::Int(if abs { n.abs() } else { n })),
                });
            }
            "apply_filters" => {
                let (Some(hook), Some(def)) = (args.first(), args.get(1)) else {
                    return R::err("apply_filters() without a default value");
                };
                let r = self.resolve(f, sc, def, d);
                return r.hop(format!(
                    "`{shown}` → default `{}` (a '{}' filter can change it)",
                    def.describe(),
                    hook.as_str().unwrap_or("…")
                ));
            }
            "time" => return R::ok(Val::Time(0)).hop("`time()` → the current time".into()),
            "max" | "min" => {
                let mut vals = Vec::new();
                let mut trace = Vec::new();
                for a in args {
                    let r = self.resolve(f, sc, a, d);
                    trace.extend(r.trace.clone());
                    match r.v.ok().and_then(|v| v.int()) {
                        Some(n) => vals.push(n),
                        None => return R::err(format!("`{shown}` has a non-constant argument")),
                    }
                }
                let v = if lower == "max" {
                    vals.iter().max()
                } else {
                    vals.iter().min()
                };
                return match v {
                    Some(n) => R {
                        v: Ok(Val::Int(*n)),
                        trace,
                        line: 0,
                    },
                    None => R::err(format!("`{shown}` has no arguments")),
                };
            }
            _ => {}
        }
        if let Some(fi) = f
            .functions
            .iter()
            .position(|x| x.name.eq_ignore_ascii_case(name))
        {
            return self.returns(f, None, FnId::Func(fi), &format!("{name}()"), d);
        }
        if let Some((ff, fi)) = self
            .tree
            .find_function(std::path::Path::new(&f.display), name)
        {
            return self.returns(&ff, None, FnId::Func(fi), &format!("{name}()"), d);
        }
        R::err(format!(
            "function {name}() is not declared in this file or near it"
        ))
    }

    fn method(&self, f: &Arc<PhpFile>, ci: usize, method: &str, shown: &str, d: u32) -> R {
        let (mut cf, mut cc) = (f.clone(), ci);
        for _ in 0..6 {
            let c = &cf.classes[cc];
            if let Some(mi) = c
                .methods
                .iter()
                .position(|m| m.name.eq_ignore_ascii_case(method))
            {
                return self.returns(&cf, Some(cc), FnId::Method(cc, mi), shown, d);
            }
            let Some(parent) = c.extends.clone() else {
                break;
            };
            match self.class_by_name(&cf, &parent) {
                Some((pf, pi)) => {
                    cf = pf;
                    cc = pi;
                }
                None => break,
            }
        }
        R::err(format!(
            "method {shown} is not declared in the scanned tree"
        ))
    }

    fn returns(&self, f: &Arc<PhpFile>, class: Option<usize>, id: FnId, shown: &str, d: u32) -> R {
        let sc = Scope {
            class,
            func: Some(id),
        };
        let rets: Vec<&Stmt> = f
            .body(id)
            .iter()
            .filter(|s| matches!(s.kind, StmtKind::Return { .. }))
            .collect();
        if rets.is_empty() {
            return R::err(format!("{shown} has no return statement rcfg can read"));
        }
        let mut results = Vec::new();
        for s in &rets {
            let StmtKind::Return { value, .. } = &s.kind else {
                continue;
            };
            let r = self.resolve(f, sc, value, d);
            results.push(r.hop(format!(
                "`{shown}` → returns `{}` at {}",
                value.describe(),
                f.loc(s.line)
            )));
        }
        let first = results.remove(0);
        if results.is_empty() || (first.v.is_ok() && results.iter().all(|r| r.v == first.v)) {
            first
        } else {
            R::err(format!("{shown} returns different values"))
        }
    }
}

/// Whether `$name` appears in `e` (source-like rendering, whole variable names only).
fn mentions_var(e: &Expr, name: &str) -> bool {
    let text = e.describe();
    let needle = format!("${name}");
    text.match_indices(&needle).any(|(i, _)| {
        !text[i + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c == '_' || c.is_alphanumeric())
    })
}

fn arith(op: &str, a: i64, b: i64) -> Option<i64> {
    match op {
        "+" => a.checked_add(b),
        "-" => a.checked_sub(b),
        "*" => a.checked_mul(b),
        "/" if b != 0 => Some(a / b),
        "%" if b != 0 => Some(a % b),
        _ => None,
    }
}

fn map_val(r: R, f: impl FnOnce(Val) -> Option<Val>) -> R {
    let R { v, trace, line } = r;
    let v = match v {
        Ok(v) => f(v).ok_or_else(|| "not a number".to_string()),
        Err(e) => Err(e),
    };
    R { v, trace, line }
}

/// Parse a PHP expression from source text (a `define()` value).
pub fn lex_expr(text: &str) -> Option<Expr> {
    let src = format!("<?php {text};");
    let toks: Vec<Token> = syn::lex(&src)
        .ok()?
        .into_iter()
        .filter(|t| !matches!(t.kind, Tok::Comment(_) | Tok::InlineHtml))
        .collect();
    syn::parse_expr_at(&toks, 0).ok().map(|(e, _)| e)
}

/// A call site: the call name's token index, whether it is a method call, the name.
pub struct Site {
    pub tok: usize,
    pub method: bool,
    pub name: String,
}

/// Every `name(` call in the file: function calls and `->name(` method calls.
pub fn call_sites(f: &PhpFile) -> Vec<Site> {
    let mut out = Vec::new();
    for i in 0..f.toks.len().saturating_sub(1) {
        let Tok::Ident(name) = &f.toks[i].kind else {
            continue;
        };
        if !f.is_punct(i + 1, "(") {
            continue;
        }
        let prev = i.checked_sub(1).map(|p| &f.toks[p].kind);
        let method = matches!(prev, Some(Tok::Punct("->" | "?->")));
        let skip = matches!(prev, Some(Tok::Punct("::" | "&")))
            || matches!(prev, Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("function") || w.eq_ignore_ascii_case("new") || w.eq_ignore_ascii_case("fn"));
        if skip {
            continue;
        }
        out.push(Site {
            tok: i,
            method,
            name: name.trim_start_matches('\\').to_string(),
        });
    }
    out
}

/// Whether an expire-family call on key text `key` appears in token range `range`.
pub fn expire_in_range(f: &PhpFile, range: (usize, usize), key: &str) -> bool {
    let calls = f.expires.get_or_init(|| {
        let mut out = Vec::new();
        for i in 0..f.toks.len().saturating_sub(1) {
            let Tok::Ident(name) = &f.toks[i].kind else {
                continue;
            };
            if !is_expire_name(name) || !f.is_punct(i + 1, "(") {
                continue;
            }
            if let Ok((args, _)) = syn::parse_args_at(&f.toks, i + 1)
                && let Some(a) = args.first()
            {
                out.push((i, norm_text(&f.src[a.start..a.end])));
            }
        }
        out
    });
    let key = norm_text(key);
    calls
        .iter()
        .any(|(i, k)| range.0 <= *i && *i < range.1 && *k == key)
}

pub fn is_expire_name(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "expire" | "pexpire" | "expireat" | "pexpireat" | "settimeout"
    )
}

pub fn norm_text(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}
