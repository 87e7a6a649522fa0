//! PHP read as data: a lexer and an expression/statement parser for the subset config files
//! use (`define()`, `$settings[...] = …`, `return [ … ];`, `Config::define()`, includes,
//! `if` blocks). Unknown constructs are skipped statement by statement, never guessed at;
//! unterminated strings or comments and unbalanced brackets are errors that name the line.

use std::fmt;

/// A lexical token and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    /// Byte offset of the first character.
    pub start: usize,
    /// Byte offset one past the last character.
    pub end: usize,
    /// 1-based line of the first character.
    pub line: usize,
    /// 1-based column (in bytes) of the first character.
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// Text outside `<?php … ?>`.
    InlineHtml,
    /// `$name`
    Var(String),
    /// Identifiers and keywords, including namespaced names (`\Foo\Bar`).
    Ident(String),
    /// A string literal, unescaped. `interpolated` is true for a double-quoted or heredoc
    /// string that contains `$`/`{$` interpolation (its value is then not a constant).
    Str {
        value: String,
        interpolated: bool,
    },
    Int(i64),
    Float(f64),
    /// Operators and punctuation.
    Punct(&'static str),
    /// A comment (`//`, `#`, `/* */`), text included.
    Comment(String),
}

/// A lexing or parsing error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for SyntaxError {}

const PUNCTS: &[&str] = &[
    "<<=", ">>=", "**=", "...", "<=>", "===", "!==", "??=", "?->", "::", "=>", "->", "++", "--",
    "==", "!=", "<>", "<=", ">=", "&&", "||", "??", ".=", "+=", "-=", "*=", "/=", "%=", "&=", "|=",
    "^=", "<<", ">>", "**", "+", "-", "*", "/", "%", "=", "<", ">", "!", ".", "(", ")", "[", "]",
    "{", "}", ",", ";", "?", ":", "&", "|", "^", "~", "@", "\\",
];

/// Split PHP source into tokens. Whitespace is dropped; comments are kept as tokens.
pub fn lex(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let mut toks = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
        line: 1,
        out: Vec::new(),
    }
    .run()?;
    super::set_columns(src, toks.iter_mut().map(|t| (t.start, &mut t.col)));
    Ok(toks)
}

struct Lexer<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    line: usize,
    out: Vec<Token>,
}

impl Lexer<'_> {
    fn err<T>(&self, line: usize, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            line,
            message: message.into(),
        })
    }

    fn push(&mut self, kind: Tok, start: usize, line: usize) {
        self.out.push(Token {
            kind,
            start,
            end: self.pos,
            line,
            col: 0,
        });
    }

    fn advance_to(&mut self, to: usize) {
        self.line += self.b[self.pos..to].iter().filter(|&&c| c == b'\n').count();
        self.pos = to;
    }

    fn run(mut self) -> Result<Vec<Token>, SyntaxError> {
        // Inline HTML until the first open tag.
        self.inline_html();
        while self.pos < self.b.len() {
            let c = self.b[self.pos];
            let start = self.pos;
            let line = self.line;
            match c {
                b' ' | b'\t' | b'\r' | b'\n' => {
                    self.advance_to(self.pos + 1);
                }
                b'?' if self.src[self.pos..].starts_with("?>") => {
                    self.pos += 2;
                    // A single newline right after `?>` belongs to the tag.
                    if self.src[self.pos..].starts_with('\n') {
                        self.advance_to(self.pos + 1);
                    }
                    self.push(Tok::Punct(";"), start, line);
                    self.inline_html();
                }
                b'#' if !self.src[self.pos..].starts_with("#[") => self.line_comment(),
                b'/' if self.src[self.pos..].starts_with("//") => self.line_comment(),
                b'/' if self.src[self.pos..].starts_with("/*") => {
                    let Some(rel) = self.src[self.pos + 2..].find("*/") else {
                        return self.err(line, "unterminated /* comment");
                    };
                    let end = self.pos + 2 + rel + 2;
                    let text = self.src[self.pos..end].to_string();
                    self.advance_to(end);
                    self.push(Tok::Comment(text), start, line);
                }
                b'#' => {
                    // `#[Attribute]`: skip to the matching `]`.
                    let mut depth = 0usize;
                    let mut i = self.pos + 1;
                    while i < self.b.len() {
                        match self.b[i] {
                            b'[' => depth += 1,
                            b']' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                        i += 1;
                    }
                    self.advance_to((i + 1).min(self.b.len()));
                }
                b'\'' => {
                    let value = self.single_quoted()?;
                    self.push(
                        Tok::Str {
                            value,
                            interpolated: false,
                        },
                        start,
                        line,
                    );
                }
                b'"' => {
                    let (value, interpolated) = self.double_quoted()?;
                    self.push(
                        Tok::Str {
                            value,
                            interpolated,
                        },
                        start,
                        line,
                    );
                }
                b'<' if self.src[self.pos..].starts_with("<<<") => {
                    let (value, interpolated) = self.heredoc()?;
                    self.push(
                        Tok::Str {
                            value,
                            interpolated,
                        },
                        start,
                        line,
                    );
                }
                b'$' if self
                    .b
                    .get(self.pos + 1)
                    .is_some_and(|&n| n == b'_' || n.is_ascii_alphabetic() || n >= 0x80) =>
                {
                    self.pos += 1;
                    let name = self.ident_chars();
                    self.push(Tok::Var(name), start, line);
                }
                b'0'..=b'9' => self.number(start, line)?,
                b'.' if self.b.get(self.pos + 1).is_some_and(u8::is_ascii_digit) => {
                    self.number(start, line)?
                }
                c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 || c == b'\\' => {
                    // Identifier, possibly namespaced (`\Foo\Bar`, `Foo\Bar`).
                    let mut name = String::new();
                    loop {
                        if self.b.get(self.pos) == Some(&b'\\')
                            && self
                                .b
                                .get(self.pos + 1)
                                .is_some_and(|&n| n == b'_' || n.is_ascii_alphabetic())
                        {
                            name.push('\\');
                            self.pos += 1;
                            continue;
                        }
                        let part = self.ident_chars();
                        if part.is_empty() {
                            break;
                        }
                        name.push_str(&part);
                        if self.b.get(self.pos) != Some(&b'\\') {
                            break;
                        }
                    }
                    if name.is_empty() {
                        self.pos += 1;
                        self.push(Tok::Punct("\\"), start, line);
                    } else {
                        self.push(Tok::Ident(name), start, line);
                    }
                }
                _ => {
                    let rest = &self.src[self.pos..];
                    match super::longest_punct(PUNCTS, rest) {
                        Some(p) => {
                            self.pos += p.len();
                            self.push(Tok::Punct(p), start, line);
                        }
                        None => {
                            let ch = rest.chars().next().unwrap_or('?');
                            return self.err(line, format!("unexpected character {ch:?}"));
                        }
                    }
                }
            }
        }
        Ok(self.out)
    }

    fn inline_html(&mut self) {
        let start = self.pos;
        let line = self.line;
        let rest = &self.src[self.pos..];
        // `<?=` is only looked for when there is no `<?php` (same result, one scan less).
        let (skip, tag_len) = match rest.find("<?php") {
            Some(a) => (a, 5),
            None => rest.find("<?=").map_or((rest.len(), 0), |b| (b, 3)),
        };
        if skip > 0 {
            self.advance_to(self.pos + skip);
            self.push(Tok::InlineHtml, start, line);
        }
        self.pos = (self.pos + tag_len).min(self.b.len());
    }

    fn line_comment(&mut self) {
        let start = self.pos;
        let line = self.line;
        let rest = &self.src[self.pos..];
        let mut end = rest.find('\n').unwrap_or(rest.len());
        // `?>` ends a line comment too.
        if let Some(close) = rest[..end].find("?>") {
            end = close;
        }
        let text = rest[..end].to_string();
        self.pos += end;
        self.push(Tok::Comment(text), start, line);
    }

    fn ident_chars(&mut self) -> String {
        let start = self.pos;
        while self
            .b
            .get(self.pos)
            .is_some_and(|&c| c == b'_' || c.is_ascii_alphanumeric() || c >= 0x80)
        {
            self.pos += 1;
        }
        self.src[start..self.pos].to_string()
    }

    fn number(&mut self, start: usize, line: usize) -> Result<(), SyntaxError> {
        let rest = &self.src[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .unwrap_or(rest.len());
        // `1.` followed by an identifier is `1 . ident`? Rare in configs; keep simple.
        let text: String = rest[..len].chars().filter(|&c| c != '_').collect();
        self.pos += len;
        let lower = text.to_ascii_lowercase();
        let int = if let Some(h) = lower.strip_prefix("0x") {
            i64::from_str_radix(h, 16).ok()
        } else if let Some(b) = lower.strip_prefix("0b") {
            i64::from_str_radix(b, 2).ok()
        } else if let Some(o) = lower.strip_prefix("0o") {
            i64::from_str_radix(o, 8).ok()
        } else if lower.len() > 1
            && lower.starts_with('0')
            && lower.bytes().all(|c| c.is_ascii_digit())
        {
            i64::from_str_radix(&lower[1..], 8).ok()
        } else {
            lower.parse::<i64>().ok()
        };
        match int {
            Some(v) => self.push(Tok::Int(v), start, line),
            None => match lower.parse::<f64>() {
                Ok(v) => self.push(Tok::Float(v), start, line),
                Err(_) => return self.err(line, format!("malformed number {text:?}")),
            },
        }
        Ok(())
    }

    fn single_quoted(&mut self) -> Result<String, SyntaxError> {
        let line = self.line;
        let mut out = String::new();
        let mut i = self.pos + 1;
        loop {
            let Some(&c) = self.b.get(i) else {
                return self.err(line, "unterminated string");
            };
            match c {
                b'\\' if matches!(self.b.get(i + 1), Some(b'\'') | Some(b'\\')) => {
                    out.push(self.b[i + 1] as char);
                    i += 2;
                }
                b'\'' => break,
                _ => {
                    let ch = self.src[i..].chars().next().unwrap_or('\u{fffd}');
                    out.push(ch);
                    i += ch.len_utf8();
                }
            }
        }
        self.advance_to(i + 1);
        Ok(out)
    }

    fn double_quoted(&mut self) -> Result<(String, bool), SyntaxError> {
        let line = self.line;
        let mut i = self.pos + 1;
        loop {
            match self.b.get(i) {
                None => return self.err(line, "unterminated string"),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        let body = &self.src[self.pos + 1..i];
        let value = unescape_double(body);
        let interpolated = has_interpolation(body);
        self.advance_to(i + 1);
        Ok((value, interpolated))
    }

    fn heredoc(&mut self) -> Result<(String, bool), SyntaxError> {
        let line = self.line;
        let rest = &self.src[self.pos + 3..];
        let header_end = rest.find('\n').unwrap_or(rest.len());
        let header = rest[..header_end].trim();
        let nowdoc = header.starts_with('\'');
        let label = header.trim_matches(|c| c == '\'' || c == '"').to_string();
        if label.is_empty() {
            return self.err(line, "malformed heredoc");
        }
        let body_start = self.pos + 3 + header_end + 1;
        // The closing label is on its own line, optionally indented.
        let mut search = body_start;
        loop {
            let Some(rel) = self.src.get(search..).and_then(|s| s.find('\n')) else {
                // Last line of the file.
                let last = self.src.get(search..).unwrap_or("");
                if last.trim_start().starts_with(&label) {
                    break;
                }
                return self.err(line, format!("unterminated heredoc <<<{label}"));
            };
            let this_line = &self.src[search..search + rel];
            if this_line.trim_start().starts_with(&label)
                && !this_line
                    .trim_start()
                    .as_bytes()
                    .get(label.len())
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
            {
                break;
            }
            search += rel + 1;
        }
        let body = self.src[body_start.min(search)..search.max(body_start)]
            .trim_end_matches('\n')
            .to_string();
        let close_at = search + self.src[search..].find(&label).unwrap_or(0) + label.len();
        self.advance_to(close_at);
        if nowdoc {
            Ok((body, false))
        } else {
            let interpolated = has_interpolation(&body);
            Ok((unescape_double(&body), interpolated))
        }
    }
}

fn has_interpolation(body: &str) -> bool {
    let b = body.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'$'
            && (i == 0 || b[i - 1] != b'\\')
            && b.get(i + 1)
                .is_some_and(|&n| n == b'_' || n == b'{' || n.is_ascii_alphabetic())
    })
}

fn unescape_double(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('$') => out.push('$'),
            Some('"') => out.push('"'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// Expressions

/// A PHP expression as far as config files need it.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    /// A double-quoted string with `$var` interpolation (raw text kept).
    Interpolated(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Null,
    Array(Vec<ArrayItem>),
    /// A bare constant (`WP_DEBUG`, `__DIR__`, `PHP_EOL`).
    Const(String),
    /// `Class::NAME` (also `self::NAME`, `static::NAME`).
    ClassConst {
        class: String,
        name: String,
    },
    /// `$name` with optional `[index]` accesses and `->prop`.
    Var {
        name: String,
        path: Vec<Expr>,
    },
    /// `name(args)`.
    Call {
        name: String,
        args: Vec<Expr>,
    },
    /// `Class::method(args)`.
    StaticCall {
        class: String,
        method: String,
        args: Vec<Expr>,
    },
    /// `$x->method(args)`.
    MethodCall {
        target: Box<Expr>,
        method: String,
        args: Vec<Expr>,
    },
    /// `new Class(args)`.
    New {
        class: String,
        args: Vec<Expr>,
    },
    /// Binary operators, `.` included.
    Binary {
        op: &'static str,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// Unary `-`, `+`, `!`, `~`, `@`.
    Unary {
        op: &'static str,
        expr: Box<Expr>,
    },
    /// `(int) $x` and friends.
    Cast {
        to: String,
        expr: Box<Expr>,
    },
    /// `a ? b : c` and `a ?: c` (then is None).
    Ternary {
        cond: Box<Expr>,
        then: Option<Box<Expr>>,
        otherwise: Box<Expr>,
    },
    /// `target = value` and compound assignments (`.=`, `??=` …) used as expressions.
    Assign {
        op: &'static str,
        target: Box<Expr>,
        value: Box<Expr>,
    },
    /// `$x[]` as an assignment target.
    Push(Box<Expr>),
    /// A closure, arrow function, `match` or anything else whose value is not data.
    Opaque,
}

/// One `key => value` (or positional `value`) entry of an array literal.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayItem {
    pub key: Option<Expr>,
    pub value: Expr,
    /// 1-based line of the entry's first token.
    pub line: usize,
    /// Byte span of the whole entry (key and value).
    pub start: usize,
    pub end: usize,
    /// Byte span of the value alone.
    pub value_start: usize,
    pub value_end: usize,
}

impl Expr {
    /// The value as a plain literal when it is one (string, number, bool, null), with
    /// arithmetic and concatenation on literals folded.
    pub fn literal(&self) -> Option<serde_json::Value> {
        use serde_json::Value;
        match self {
            Expr::Str(s) => Some(Value::String(s.clone())),
            Expr::Int(i) => Some(Value::from(*i)),
            Expr::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number),
            Expr::Bool(b) => Some(Value::Bool(*b)),
            Expr::Null => Some(Value::Null),
            Expr::Unary { op: "-", expr } => match expr.literal()? {
                Value::Number(n) if n.is_i64() => Some(Value::from(-n.as_i64()?)),
                Value::Number(n) => serde_json::Number::from_f64(-n.as_f64()?).map(Value::Number),
                _ => None,
            },
            Expr::Unary { op: "+", expr } => expr.literal(),
            Expr::Cast { to, expr } if to == "int" || to == "integer" => {
                let v = expr.literal()?;
                match v {
                    Value::Number(n) => Some(Value::from(n.as_f64()? as i64)),
                    Value::String(s) => Some(Value::from(php_intval(&s))),
                    Value::Bool(b) => Some(Value::from(i64::from(b))),
                    Value::Null => Some(Value::from(0)),
                    _ => None,
                }
            }
            Expr::Binary {
                op: ".",
                left,
                right,
            } => {
                let l = left.literal()?;
                let r = right.literal()?;
                Some(Value::String(format!(
                    "{}{}",
                    php_string(&l)?,
                    php_string(&r)?
                )))
            }
            Expr::Binary { op, left, right } if matches!(*op, "+" | "-" | "*" | "/" | "%") => {
                let (l, r) = (left.literal()?, right.literal()?);
                let (l, r) = (l.as_i64(), r.as_i64());
                let (l, r) = (l?, r?);
                let v = match *op {
                    "+" => l.checked_add(r)?,
                    "-" => l.checked_sub(r)?,
                    "*" => l.checked_mul(r)?,
                    "/" if r != 0 && l % r == 0 => l / r,
                    "%" if r != 0 => l % r,
                    _ => return None,
                };
                Some(Value::from(v))
            }
            Expr::Const(c) if c.eq_ignore_ascii_case("true") => Some(Value::Bool(true)),
            Expr::Const(c) if c.eq_ignore_ascii_case("false") => Some(Value::Bool(false)),
            Expr::Const(c) if c.eq_ignore_ascii_case("null") => Some(Value::Null),
            _ => None,
        }
    }

    /// The value as a string literal.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an integer (ints, digit strings, folded arithmetic).
    pub fn as_int(&self) -> Option<i64> {
        match self.literal()? {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s)
                if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) =>
            {
                s.parse().ok()
            }
            _ => None,
        }
    }

    /// The entries of an array literal.
    pub fn as_array(&self) -> Option<&[ArrayItem]> {
        match self {
            Expr::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The value under string key `key` of an array literal.
    pub fn get(&self, key: &str) -> Option<&ArrayItem> {
        self.as_array()?
            .iter()
            .rev() // PHP: a later duplicate key wins
            .find(|item| item.key.as_ref().and_then(Expr::key_string).as_deref() == Some(key))
    }

    /// A key as PHP would normalise it to a string (`'3'` and `3` are the same key).
    pub fn key_string(&self) -> Option<String> {
        match self {
            Expr::Str(s) => Some(s.clone()),
            Expr::Int(i) => Some(i.to_string()),
            _ => None,
        }
    }

    /// Short source-like rendering, for messages and traces.
    pub fn describe(&self) -> String {
        match self {
            Expr::Str(s) => format!("'{s}'"),
            Expr::Interpolated(s) => format!("\"{s}\""),
            Expr::Int(i) => i.to_string(),
            Expr::Float(f) => f.to_string(),
            Expr::Bool(b) => b.to_string(),
            Expr::Null => "null".into(),
            Expr::Array(items) => format!("[… {} entries]", items.len()),
            Expr::Const(c) => c.clone(),
            Expr::ClassConst { class, name } => format!("{class}::{name}"),
            Expr::Var { name, path } => {
                let mut s = format!("${name}");
                for p in path {
                    s.push_str(&format!("[{}]", p.describe()));
                }
                s
            }
            Expr::Call { name, args } => format!("{name}({})", describe_args(args)),
            Expr::StaticCall {
                class,
                method,
                args,
            } => format!("{class}::{method}({})", describe_args(args)),
            Expr::MethodCall {
                target,
                method,
                args,
            } => format!("{}->{method}({})", target.describe(), describe_args(args)),
            Expr::New { class, .. } => format!("new {class}(…)"),
            Expr::Binary { op, left, right } => {
                format!("{} {op} {}", left.describe(), right.describe())
            }
            Expr::Unary { op, expr } => format!("{op}{}", expr.describe()),
            Expr::Cast { to, expr } => format!("({to}) {}", expr.describe()),
            Expr::Ternary { cond, .. } => format!("{} ? … : …", cond.describe()),
            Expr::Assign { op, target, value } => {
                format!("{} {op} {}", target.describe(), value.describe())
            }
            Expr::Push(t) => format!("{}[]", t.describe()),
            Expr::Opaque => "…".into(),
        }
    }
}

fn describe_args(args: &[Expr]) -> String {
    args.iter()
        .map(Expr::describe)
        .collect::<Vec<_>>()
        .join(", ")
}

/// PHP's `intval()` of a string: leading whitespace, optional sign, leading digits.
pub fn php_intval(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let n: String = digits.chars().take_while(char::is_ascii_digit).collect();
    let v = n.parse::<i64>().unwrap_or(0);
    if neg { -v } else { v }
}

fn php_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(true) => Some("1".into()),
        serde_json::Value::Bool(false) | serde_json::Value::Null => Some(String::new()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// Statements

/// A top-level (or block-level) statement of interest.
#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    /// 1-based line of the first token.
    pub line: usize,
    /// Byte span of the statement including its `;`.
    pub start: usize,
    pub end: usize,
    /// True inside `if`/`else`/loops/`switch` (the statement may not run).
    pub conditional: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// `define('NAME', value)`. `value_start..value_end` is the value's byte span.
    Define {
        name: String,
        value: Expr,
        value_start: usize,
        value_end: usize,
    },
    /// `Class::define('NAME', value)` (Bedrock's `Config::define`).
    StaticDefine {
        class: String,
        name: String,
        value: Expr,
        value_start: usize,
        value_end: usize,
    },
    /// `$target = value` (`op` is `=`, `.=`, `??=` …). `$a['x'][] = v` has a `Push` target.
    Assign {
        op: &'static str,
        target: Expr,
        value: Expr,
        value_start: usize,
        value_end: usize,
    },
    /// `return value;`
    Return {
        value: Expr,
        value_start: usize,
        value_end: usize,
    },
    /// `include`/`require`(`_once`) of a path expression.
    Include { kind: String, path: Expr },
    /// Any other expression statement (a call, a static call …).
    Expr(Expr),
}

/// Parse a PHP file into its statements. Function, class and closure bodies are skipped
/// (they do not run when a config file is loaded); `if`/loop bodies are included and marked
/// conditional.
pub fn parse(src: &str) -> Result<Vec<Stmt>, SyntaxError> {
    let tokens: Vec<Token> = lex(src)?
        .into_iter()
        .filter(|t| !matches!(t.kind, Tok::Comment(_) | Tok::InlineHtml))
        .collect();
    super::check_balance(tokens.iter().filter_map(|t| match t.kind {
        Tok::Punct(p) => Some((p, t.line)),
        _ => None,
    }))?;
    let mut p = Parser {
        t: &tokens,
        i: 0,
        src_len: src.len(),
        depth: 0,
        empty_elem: None,
    };
    let mut out = Vec::new();
    p.statements(&mut out, 0, false)?;
    p.check_empty_elems()?;
    Ok(out)
}

struct Parser<'a> {
    t: &'a [Token],
    i: usize,
    src_len: usize,
    /// Current nesting (blocks, expressions, operator chains); see [`super::MAX_NESTING`].
    depth: usize,
    /// Token index of the first empty array element (`[1,,2]`) not yet known to be a
    /// destructuring target (`[, $b] = …`, which PHP allows).
    empty_elem: Option<usize>,
}

type PResult<T> = Result<T, SyntaxError>;

const CONTROL: &[&str] = &[
    "if", "elseif", "while", "for", "foreach", "switch", "declare",
];
const SKIP_BODY: &[&str] = &["function", "class", "interface", "trait", "enum", "fn"];

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i).map(|t| &t.kind)
    }
    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.t.get(self.i + n).map(|t| &t.kind)
    }
    fn line(&self) -> usize {
        self.t.get(self.i).or(self.t.last()).map_or(1, |t| t.line)
    }
    fn pos(&self) -> usize {
        self.t.get(self.i).map_or(self.src_len, |t| t.start)
    }
    fn prev_end(&self) -> usize {
        if self.i == 0 {
            0
        } else {
            self.t[self.i - 1].end
        }
    }
    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(x)) if *x == p)
    }
    fn is_ident(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(x)) if x.eq_ignore_ascii_case(word))
    }
    fn eat_punct(&mut self, p: &str) -> bool {
        if self.is_punct(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn expect_punct(&mut self, p: &str) -> PResult<()> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{p}`")))
        }
    }
    fn error(&self, message: impl Into<String>) -> SyntaxError {
        let found = match self.peek() {
            Some(Tok::Punct(p)) => format!(" near `{p}`"),
            Some(Tok::Ident(s)) => format!(" near `{s}`"),
            Some(Tok::Var(s)) => format!(" near `${s}`"),
            None => " at end of file".to_string(),
            _ => String::new(),
        };
        SyntaxError {
            line: self.line(),
            message: format!("{}{found}", message.into()),
        }
    }

    /// Skip a balanced bracket group starting at the current `(`, `[` or `{`.
    fn skip_group(&mut self) {
        self.i = super::group_end(self.t, self.i, |t| match t.kind {
            Tok::Punct(p) => Some(p),
            _ => None,
        });
    }

    /// Skip to the end of the current statement (`;` at depth 0, or a block).
    fn skip_statement(&mut self) {
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Punct(";") => {
                    self.i += 1;
                    return;
                }
                Tok::Punct("(" | "[") => self.skip_group(),
                Tok::Punct("{") => {
                    self.skip_group();
                    return;
                }
                Tok::Punct("}") => return,
                _ => self.i += 1,
            }
        }
    }

    /// One level deeper, or the "too deeply nested" error once past [`super::MAX_NESTING`].
    /// Every recursive step of the parser and every link of an operator chain goes through
    /// here, so no input can overflow the stack (or build a tree too deep to drop).
    fn enter(&mut self) -> PResult<()> {
        let at = self
            .t
            .get(self.i)
            .or(self.t.last())
            .map(|t| (t.line, t.col));
        self.depth = super::deeper(self.depth, at)?;
        Ok(())
    }

    /// Run `f` one level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        self.enter()?;
        let r = super::grow_stack(|| f(self));
        self.depth -= 1;
        r
    }

    /// Refuse an empty array element left over once a whole expression or statement list
    /// has been read (PHP: "Cannot use empty array elements in arrays").
    fn check_empty_elems(&self) -> PResult<()> {
        match self.empty_elem {
            Some(j) => {
                let t = &self.t[j];
                Err(SyntaxError {
                    line: t.line,
                    message: format!(
                        "empty array element at {}:{} (PHP refuses `,,` in an array)",
                        t.line, t.col
                    ),
                })
            }
            None => Ok(()),
        }
    }

    fn statements(&mut self, out: &mut Vec<Stmt>, depth: usize, conditional: bool) -> PResult<()> {
        self.nested(|p| p.statements_inner(out, depth, conditional))
    }

    fn statements_inner(
        &mut self,
        out: &mut Vec<Stmt>,
        depth: usize,
        conditional: bool,
    ) -> PResult<()> {
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Punct("}") if depth > 0 => return Ok(()),
                Tok::Punct("}") => return Err(self.error("unmatched `}`")),
                Tok::Punct(";") => self.i += 1,
                Tok::Punct("{") => {
                    self.i += 1;
                    self.statements(out, depth + 1, conditional)?;
                    self.expect_punct("}")?;
                }
                Tok::Ident(w) => {
                    let w = w.to_ascii_lowercase();
                    if CONTROL.contains(&w.as_str()) {
                        self.i += 1;
                        if self.is_punct("(") {
                            self.skip_group();
                        }
                        self.body(out, depth, true)?;
                    } else if w == "else" || w == "do" || w == "try" || w == "finally" {
                        self.i += 1;
                        if w == "else" && self.is_ident("if") {
                            continue;
                        }
                        self.body(out, depth, w == "else" || w == "do" || conditional)?;
                    } else if w == "catch" {
                        self.i += 1;
                        if self.is_punct("(") {
                            self.skip_group();
                        }
                        self.body(out, depth, true)?;
                    } else if matches!(
                        w.as_str(),
                        "endif" | "endforeach" | "endwhile" | "endfor" | "endswitch" | "enddeclare"
                    ) {
                        self.i += 1;
                        self.eat_punct(";");
                        return Ok(());
                    } else if SKIP_BODY.contains(&w.as_str())
                        || ((w == "abstract" || w == "final" || w == "readonly")
                            && matches!(self.peek_at(1), Some(Tok::Ident(_))))
                    {
                        // Declarations: skip to the end of the body.
                        while let Some(t) = self.peek() {
                            if matches!(t, Tok::Punct("{")) {
                                self.skip_group();
                                break;
                            }
                            if matches!(t, Tok::Punct(";")) {
                                self.i += 1;
                                break;
                            }
                            self.i += 1;
                        }
                    } else if matches!(w.as_str(), "namespace" | "use" | "global" | "static")
                        && !matches!(self.peek_at(1), Some(Tok::Punct("::")))
                    {
                        self.skip_statement();
                    } else if w == "return" {
                        let (start, line) = (self.pos(), self.line());
                        self.i += 1;
                        let value_start = self.pos();
                        let value = if self.is_punct(";") {
                            Expr::Null
                        } else {
                            self.expr()?
                        };
                        let value_end = self.prev_end();
                        self.end_statement()?;
                        out.push(Stmt {
                            kind: StmtKind::Return {
                                value,
                                value_start,
                                value_end,
                            },
                            line,
                            start,
                            end: self.prev_end(),
                            conditional,
                        });
                    } else if matches!(
                        w.as_str(),
                        "include" | "include_once" | "require" | "require_once"
                    ) {
                        let (start, line) = (self.pos(), self.line());
                        self.i += 1;
                        let path = self.expr()?;
                        self.end_statement()?;
                        out.push(Stmt {
                            kind: StmtKind::Include { kind: w, path },
                            line,
                            start,
                            end: self.prev_end(),
                            conditional,
                        });
                    } else if matches!(
                        w.as_str(),
                        "echo"
                            | "print"
                            | "unset"
                            | "break"
                            | "continue"
                            | "exit"
                            | "die"
                            | "throw"
                            | "goto"
                    ) {
                        self.skip_statement();
                    } else {
                        self.expr_statement(out, conditional)?;
                    }
                }
                _ => self.expr_statement(out, conditional)?,
            }
        }
        if depth > 0 {
            return Err(self.error("unterminated block"));
        }
        Ok(())
    }

    /// The body of a control structure: a block, alternative syntax (`:` … `endif;`) or
    /// a single statement.
    fn body(&mut self, out: &mut Vec<Stmt>, depth: usize, conditional: bool) -> PResult<()> {
        self.nested(|p| p.body_inner(out, depth, conditional))
    }

    fn body_inner(&mut self, out: &mut Vec<Stmt>, depth: usize, conditional: bool) -> PResult<()> {
        if self.eat_punct("{") {
            self.statements(out, depth + 1, conditional)?;
            self.expect_punct("}")
        } else if self.eat_punct(":") {
            self.alt_body(out, depth, conditional)
        } else {
            // A single statement.
            let mut one = Vec::new();
            let before = self.i;
            self.single_statement(&mut one, conditional)?;
            if self.i == before {
                self.skip_statement();
            }
            out.extend(one);
            Ok(())
        }
    }

    fn alt_body(&mut self, out: &mut Vec<Stmt>, depth: usize, conditional: bool) -> PResult<()> {
        // Alternative syntax: parse until a matching end keyword; `else:`/`elseif (...):`
        // continue the same construct.
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated alternative-syntax block")),
                Some(Tok::Ident(w))
                    if matches!(
                        w.to_ascii_lowercase().as_str(),
                        "endif" | "endforeach" | "endwhile" | "endfor" | "endswitch" | "enddeclare"
                    ) =>
                {
                    self.i += 1;
                    self.eat_punct(";");
                    return Ok(());
                }
                Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("else") => {
                    self.i += 1;
                    self.eat_punct(":");
                }
                Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("elseif") => {
                    self.i += 1;
                    if self.is_punct("(") {
                        self.skip_group();
                    }
                    self.eat_punct(":");
                }
                _ => {
                    let before = self.i;
                    self.single_statement(out, conditional)?;
                    if self.i == before {
                        self.i += 1;
                    }
                }
            }
            let _ = depth;
        }
    }

    fn single_statement(&mut self, out: &mut Vec<Stmt>, conditional: bool) -> PResult<()> {
        // Re-use the block parser on exactly one statement by parsing into a temp vector
        // with a sentinel depth: simplest is to handle the common forms directly.
        match self.peek() {
            Some(Tok::Ident(w))
                if CONTROL.contains(&w.to_ascii_lowercase().as_str())
                    || matches!(
                        w.to_ascii_lowercase().as_str(),
                        "return"
                            | "include"
                            | "include_once"
                            | "require"
                            | "require_once"
                            | "echo"
                            | "unset"
                            | "function"
                            | "class"
                    ) =>
            {
                // Parse statements until one has been consumed.
                let start_len = out.len();
                let start_i = self.i;
                let word = w.to_ascii_lowercase();
                if CONTROL.contains(&word.as_str()) {
                    self.i += 1;
                    if self.is_punct("(") {
                        self.skip_group();
                    }
                    return self.body(out, 1, true);
                }
                // Fallback: parse a run of statements bounded to the first `;`.
                let end = self.find_statement_end();
                let sub = &self.t[start_i..end];
                let mut p = Parser {
                    t: sub,
                    i: 0,
                    src_len: self.src_len,
                    depth: self.depth,
                    empty_elem: None,
                };
                p.statements(out, 0, conditional)?;
                if self.empty_elem.is_none() {
                    self.empty_elem = p.empty_elem.map(|j| j + start_i);
                }
                self.i = end;
                let _ = start_len;
                Ok(())
            }
            Some(Tok::Punct(";")) => {
                self.i += 1;
                Ok(())
            }
            _ => self.expr_statement(out, conditional),
        }
    }

    fn find_statement_end(&self) -> usize {
        let mut depth = 0usize;
        let mut j = self.i;
        while j < self.t.len() {
            match self.t[j].kind {
                Tok::Punct("(" | "[" | "{") => depth += 1,
                Tok::Punct(")" | "]" | "}") => {
                    if depth == 0 {
                        return j;
                    }
                    depth -= 1;
                    if depth == 0 && matches!(self.t[j].kind, Tok::Punct("}")) {
                        return j + 1;
                    }
                }
                Tok::Punct(";") if depth == 0 => return j + 1,
                _ => {}
            }
            j += 1;
        }
        j
    }

    fn end_statement(&mut self) -> PResult<()> {
        if self.eat_punct(";") || self.peek().is_none() {
            Ok(())
        } else {
            Err(self.error("expected `;`"))
        }
    }

    fn expr_statement(&mut self, out: &mut Vec<Stmt>, conditional: bool) -> PResult<()> {
        let (start, line) = (self.pos(), self.line());
        let save = self.i;
        let expr = match self.expr() {
            Ok(e) => e,
            Err(e) => {
                // Keyword constructs outside the data subset (`yield`, `static fn` …) are
                // skipped; anything else that does not parse is a syntax error.
                self.i = save;
                if !matches!(self.peek(), Some(Tok::Ident(_))) {
                    return Err(e);
                }
                self.skip_statement();
                return Ok(());
            }
        };
        if !self.eat_punct(";") && self.peek().is_some() {
            if self.is_punct("}") {
                // PHP requires `;` here, but a closing brace ends the block: be lenient.
            } else {
                return Err(self.error("expected `;`"));
            }
        }
        let end = self.prev_end();
        let kind = match expr {
            Expr::Call { ref name, ref args }
                if name.trim_start_matches('\\').eq_ignore_ascii_case("define")
                    && args.len() >= 2 =>
            {
                let (value_start, value_end) = self.arg_span(save, 1);
                match args[0].literal() {
                    Some(serde_json::Value::String(n)) => StmtKind::Define {
                        name: n,
                        value: args[1].clone(),
                        value_start,
                        value_end,
                    },
                    _ => StmtKind::Expr(expr),
                }
            }
            Expr::StaticCall {
                ref class,
                ref method,
                ref args,
            } if method.eq_ignore_ascii_case("define") && args.len() >= 2 => {
                let (value_start, value_end) = self.arg_span(save, 1);
                match args[0].literal() {
                    Some(serde_json::Value::String(n)) => StmtKind::StaticDefine {
                        class: class.clone(),
                        name: n,
                        value: args[1].clone(),
                        value_start,
                        value_end,
                    },
                    _ => StmtKind::Expr(expr),
                }
            }
            Expr::Assign { op, target, value } => {
                let (value_start, value_end) = self.assign_value_span(save);
                StmtKind::Assign {
                    op,
                    target: *target,
                    value: *value,
                    value_start,
                    value_end,
                }
            }
            other => StmtKind::Expr(other),
        };
        out.push(Stmt {
            kind,
            line,
            start,
            end,
            conditional,
        });
        Ok(())
    }

    /// Byte span of the `n`th (0-based) argument of the call starting at token `from`.
    fn arg_span(&self, from: usize, n: usize) -> (usize, usize) {
        let mut depth = 0usize;
        let mut arg = 0usize;
        let mut start = None;
        let mut j = from;
        while j < self.i {
            let t = &self.t[j];
            match t.kind {
                Tok::Punct("(" | "[" | "{") => {
                    depth += 1;
                    if depth == 1 {
                        if n == 0 {
                            start = self.t.get(j + 1).map(|t| t.start);
                        }
                        j += 1;
                        continue;
                    }
                }
                Tok::Punct(")" | "]" | "}") => {
                    if depth == 1
                        && let Some(s) = start
                    {
                        return (s, self.t[j - 1].end);
                    }
                    depth = depth.saturating_sub(1);
                }
                Tok::Punct(",") if depth == 1 => {
                    if let Some(s) = start {
                        return (s, self.t[j - 1].end);
                    }
                    arg += 1;
                    if arg == n {
                        start = self.t.get(j + 1).map(|t| t.start);
                    }
                }
                _ => {}
            }
            j += 1;
        }
        (0, 0)
    }

    /// Byte span of the right-hand side of the assignment starting at token `from`.
    fn assign_value_span(&self, from: usize) -> (usize, usize) {
        let mut depth = 0usize;
        for j in from..self.i {
            match self.t[j].kind {
                Tok::Punct("(" | "[" | "{") => depth += 1,
                Tok::Punct(")" | "]" | "}") => depth = depth.saturating_sub(1),
                Tok::Punct(p) if depth == 0 && is_assign_op(p) => {
                    let start = self.t.get(j + 1).map_or(0, |t| t.start);
                    let mut end_tok = self.i - 1;
                    if matches!(self.t[end_tok].kind, Tok::Punct(";")) && end_tok > j {
                        end_tok -= 1;
                    }
                    return (start, self.t[end_tok].end);
                }
                _ => {}
            }
        }
        (0, 0)
    }

    // -- expressions, by precedence --------------------------------------------------

    fn expr(&mut self) -> PResult<Expr> {
        self.assignment()
    }

    fn assignment(&mut self) -> PResult<Expr> {
        let empty_before = self.empty_elem;
        let left = self.ternary()?;
        if let Some(Tok::Punct(p)) = self.peek()
            && is_assign_op(p)
        {
            let op = *p;
            if op == "=" {
                // `[, $b] = …` destructures: empty elements are fine on the left.
                self.empty_elem = empty_before;
            }
            self.i += 1;
            // `= &$x` reference assignment.
            self.eat_punct("&");
            // Right-associative (`$a = $b = …`): one level deeper per link.
            let value = self.nested(|p| p.assignment())?;
            return Ok(Expr::Assign {
                op,
                target: Box::new(left),
                value: Box::new(value),
            });
        }
        Ok(left)
    }

    fn ternary(&mut self) -> PResult<Expr> {
        let cond = self.binary(0)?;
        if self.eat_punct("?") {
            let then = if self.is_punct(":") {
                None
            } else {
                Some(Box::new(self.nested(|p| p.assignment())?))
            };
            self.expect_punct(":")?;
            // `a ? b : c ? d : …` recurses here: one level deeper per link.
            let otherwise = self.nested(|p| p.assignment())?;
            return Ok(Expr::Ternary {
                cond: Box::new(cond),
                then,
                otherwise: Box::new(otherwise),
            });
        }
        Ok(cond)
    }

    fn binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut left = self.unary()?;
        // Each link of a chain (`1 + 1 + …`) nests the tree one level deeper.
        let depth_before = self.depth;
        let r = self.binary_chain(&mut left, min_prec);
        self.depth = depth_before;
        r.map(|()| left)
    }

    fn binary_chain(&mut self, left: &mut Expr, min_prec: u8) -> PResult<()> {
        loop {
            let op = match self.peek() {
                Some(Tok::Punct(p)) => *p,
                Some(Tok::Ident(w)) => match w.to_ascii_lowercase().as_str() {
                    "and" => "&&",
                    "or" => "||",
                    "xor" => "^",
                    "instanceof" => "instanceof",
                    _ => break,
                },
                _ => break,
            };
            let Some(prec) = binary_prec(op) else { break };
            if prec < min_prec {
                break;
            }
            self.enter()?;
            self.i += 1;
            let right = if op == "instanceof" {
                let _ = self.unary()?;
                Expr::Opaque
            } else if op == "??" {
                // Right-associative: recursion without `unary` in between, so the stack
                // is grown here too (the link was counted by `enter` above).
                super::grow_stack(|| self.binary(prec))?
            } else {
                super::grow_stack(|| self.binary(prec + 1))?
            };
            let l = std::mem::replace(left, Expr::Null);
            *left = Expr::Binary {
                op,
                left: Box::new(l),
                right: Box::new(right),
            };
        }
        Ok(())
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.nested(|p| p.unary_inner())
    }

    fn unary_inner(&mut self) -> PResult<Expr> {
        if let Some(Tok::Punct(p)) = self.peek() {
            let p = *p;
            if matches!(p, "-" | "+" | "!" | "~" | "@" | "&") {
                self.i += 1;
                let e = self.unary()?;
                return Ok(if p == "&" {
                    e
                } else {
                    Expr::Unary {
                        op: p,
                        expr: Box::new(e),
                    }
                });
            }
            if matches!(p, "++" | "--") {
                self.i += 1;
                let _ = self.unary()?;
                return Ok(Expr::Opaque);
            }
            // Cast: `(int)`, `(string)` …
            if p == "("
                && let (Some(Tok::Ident(ty)), Some(Tok::Punct(")"))) =
                    (self.peek_at(1), self.peek_at(2))
            {
                let ty = ty.to_ascii_lowercase();
                if matches!(
                    ty.as_str(),
                    "int"
                        | "integer"
                        | "string"
                        | "bool"
                        | "boolean"
                        | "float"
                        | "double"
                        | "array"
                        | "object"
                ) {
                    self.i += 3;
                    let e = self.unary()?;
                    return Ok(Expr::Cast {
                        to: ty,
                        expr: Box::new(e),
                    });
                }
            }
        }
        if self.is_ident("new") {
            self.i += 1;
            let class = match self.peek() {
                Some(Tok::Ident(c)) => c.clone(),
                _ => return Err(self.error("expected a class name after `new`")),
            };
            self.i += 1;
            let args = if self.is_punct("(") {
                self.args()?
            } else {
                Vec::new()
            };
            return self.postfix(Expr::New { class, args });
        }
        if self.is_ident("clone") || self.is_ident("print") {
            self.i += 1;
            let _ = self.unary()?;
            return Ok(Expr::Opaque);
        }
        let primary = self.primary()?;
        self.postfix(primary)
    }

    fn postfix(&mut self, e: Expr) -> PResult<Expr> {
        // Each link of a chain (`$a->b()->c()…`) nests the tree one level deeper.
        let depth_before = self.depth;
        let r = self.postfix_chain(e);
        self.depth = depth_before;
        r
    }

    fn postfix_chain(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            if matches!(
                self.peek(),
                Some(Tok::Punct("[" | "->" | "?->" | "::" | "("))
            ) {
                self.enter()?;
            }
            if self.is_punct("[") {
                self.i += 1;
                if self.eat_punct("]") {
                    e = Expr::Push(Box::new(e));
                    continue;
                }
                let idx = self.expr()?;
                self.expect_punct("]")?;
                e = match e {
                    Expr::Var { name, mut path } => {
                        path.push(idx);
                        Expr::Var { name, path }
                    }
                    _ => Expr::Opaque,
                };
            } else if self.is_punct("->") || self.is_punct("?->") {
                self.i += 1;
                let name = match self.peek() {
                    Some(Tok::Ident(n)) => n.clone(),
                    Some(Tok::Var(n)) => n.clone(),
                    _ => return Err(self.error("expected a property or method name")),
                };
                self.i += 1;
                if self.is_punct("(") {
                    let args = self.args()?;
                    e = Expr::MethodCall {
                        target: Box::new(e),
                        method: name,
                        args,
                    };
                } else {
                    e = match e {
                        Expr::Var { name: v, mut path } => {
                            path.push(Expr::Str(name));
                            Expr::Var { name: v, path }
                        }
                        _ => Expr::Opaque,
                    };
                }
            } else if self.is_punct("::") {
                self.i += 1;
                let class = match &e {
                    Expr::Const(c) => c.clone(),
                    _ => String::from("?"),
                };
                match self.peek().cloned() {
                    Some(Tok::Ident(name)) => {
                        self.i += 1;
                        if self.is_punct("(") {
                            let args = self.args()?;
                            e = Expr::StaticCall {
                                class,
                                method: name,
                                args,
                            };
                        } else {
                            e = Expr::ClassConst { class, name };
                        }
                    }
                    Some(Tok::Var(_)) => {
                        self.i += 1;
                        e = Expr::Opaque;
                    }
                    _ => return Err(self.error("expected a name after `::`")),
                }
            } else if self.is_punct("(") && matches!(e, Expr::Var { .. } | Expr::Opaque) {
                let _ = self.args()?;
                e = Expr::Opaque;
            } else if self.is_punct("++") || self.is_punct("--") {
                self.i += 1;
                e = Expr::Opaque;
            } else {
                return Ok(e);
            }
        }
    }

    fn args(&mut self) -> PResult<Vec<Expr>> {
        self.expect_punct("(")?;
        let mut args = Vec::new();
        while !self.is_punct(")") {
            if self.peek().is_none() {
                return Err(self.error("unterminated argument list"));
            }
            self.eat_punct("...");
            // Named argument `name: value`.
            if matches!(self.peek(), Some(Tok::Ident(_)))
                && matches!(self.peek_at(1), Some(Tok::Punct(":")))
                && !matches!(self.peek_at(2), Some(Tok::Punct(":")))
            {
                self.i += 2;
            }
            if self.is_punct(")") {
                break;
            }
            args.push(self.expr()?);
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(")")?;
        Ok(args)
    }

    fn array_items(&mut self, close: &'static str) -> PResult<Vec<ArrayItem>> {
        let mut items = Vec::new();
        while !self.is_punct(close) {
            if self.peek().is_none() {
                return Err(self.error("unterminated array"));
            }
            if self.is_punct(",") {
                self.empty_elem.get_or_insert(self.i);
                self.i += 1;
                continue;
            }
            let (start, line) = (self.pos(), self.line());
            self.eat_punct("...");
            self.eat_punct("&");
            let mut value_start = self.pos();
            let first = self.expr()?;
            let (key, value) = if self.eat_punct("=>") {
                self.eat_punct("&");
                value_start = self.pos();
                (Some(first), self.expr()?)
            } else {
                (None, first)
            };
            let end = self.prev_end();
            items.push(ArrayItem {
                key,
                value,
                line,
                start,
                end,
                value_start,
                value_end: end,
            });
            if !self.eat_punct(",") {
                break;
            }
        }
        self.expect_punct(close)?;
        Ok(items)
    }

    fn primary(&mut self) -> PResult<Expr> {
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error("expected an expression"));
        };
        match tok {
            Tok::Str {
                value,
                interpolated,
            } => {
                self.i += 1;
                Ok(if interpolated {
                    Expr::Interpolated(value)
                } else {
                    Expr::Str(value)
                })
            }
            Tok::Int(v) => {
                self.i += 1;
                Ok(Expr::Int(v))
            }
            Tok::Float(v) => {
                self.i += 1;
                Ok(Expr::Float(v))
            }
            Tok::Var(name) => {
                self.i += 1;
                Ok(Expr::Var {
                    name,
                    path: Vec::new(),
                })
            }
            Tok::Punct("[") => {
                self.i += 1;
                Ok(Expr::Array(self.array_items("]")?))
            }
            Tok::Punct("(") => {
                self.i += 1;
                let e = self.expr()?;
                self.expect_punct(")")?;
                Ok(e)
            }
            Tok::Ident(word) => {
                let lower = word.to_ascii_lowercase();
                match lower.as_str() {
                    "true" => {
                        self.i += 1;
                        Ok(Expr::Bool(true))
                    }
                    "false" => {
                        self.i += 1;
                        Ok(Expr::Bool(false))
                    }
                    "null" => {
                        self.i += 1;
                        Ok(Expr::Null)
                    }
                    "array" if matches!(self.peek_at(1), Some(Tok::Punct("("))) => {
                        self.i += 2;
                        Ok(Expr::Array(self.array_items(")")?))
                    }
                    "list" if matches!(self.peek_at(1), Some(Tok::Punct("("))) => {
                        self.i += 1;
                        self.skip_group();
                        Ok(Expr::Opaque)
                    }
                    "function" | "fn" | "static"
                        if lower != "static"
                            || matches!(self.peek_at(1), Some(Tok::Ident(w)) if w == "function" || w == "fn") =>
                    {
                        // Closure / arrow function: skip header and body.
                        while let Some(t) = self.peek() {
                            match t {
                                Tok::Punct("(") => self.skip_group(),
                                Tok::Punct("{") => {
                                    self.skip_group();
                                    break;
                                }
                                Tok::Punct("=>") => {
                                    self.i += 1;
                                    let _ = self.assignment()?;
                                    break;
                                }
                                _ => self.i += 1,
                            }
                        }
                        Ok(Expr::Opaque)
                    }
                    "match" if matches!(self.peek_at(1), Some(Tok::Punct("("))) => {
                        self.i += 1;
                        self.skip_group();
                        if self.is_punct("{") {
                            self.skip_group();
                        }
                        Ok(Expr::Opaque)
                    }
                    "isset" | "empty" if matches!(self.peek_at(1), Some(Tok::Punct("("))) => {
                        self.i += 1;
                        let args = self.args()?;
                        Ok(Expr::Call { name: lower, args })
                    }
                    "include" | "include_once" | "require" | "require_once" => {
                        self.i += 1;
                        let path = self.expr()?;
                        Ok(Expr::Call {
                            name: lower,
                            args: vec![path],
                        })
                    }
                    _ => {
                        self.i += 1;
                        if self.is_punct("(") {
                            let args = self.args()?;
                            Ok(Expr::Call { name: word, args })
                        } else {
                            Ok(Expr::Const(word))
                        }
                    }
                }
            }
            _ => Err(self.error("expected an expression")),
        }
    }
}

fn is_assign_op(p: &str) -> bool {
    matches!(
        p,
        "=" | ".="
            | "+="
            | "-="
            | "*="
            | "/="
            | "%="
            | "??="
            | "**="
            | "&="
            | "|="
            | "^="
            | "<<="
            | ">>="
    )
}

fn binary_prec(op: &str) -> Option<u8> {
    Some(match op {
        "??" => 1,
        "||" => 2,
        "&&" => 3,
        "|" => 4,
        "^" => 5,
        "&" => 6,
        "==" | "!=" | "===" | "!==" | "<>" | "<=>" => 7,
        "<" | ">" | "<=" | ">=" => 8,
        "." => 9,
        "<<" | ">>" => 10,
        "+" | "-" => 11,
        "*" | "/" | "%" => 12,
        "instanceof" => 13,
        "**" => 14,
        _ => return None,
    })
}

/// One argument of a call parsed by [`parse_args_at`], with where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub expr: Expr,
    /// Named argument (`expire: 60`), when given by name.
    pub name: Option<String>,
    /// Byte offset and 1-based line of the argument's first token.
    pub start: usize,
    pub line: usize,
    /// Byte offset one past the argument's last token.
    pub end: usize,
}

/// Parse the argument list of a call whose `(` is `tokens[open]` (`tokens` without
/// comments). Returns the arguments and the index after the closing `)`. Used by the
/// `audit-ttl` scanner, which looks at calls anywhere in a file, function bodies included.
pub fn parse_args_at(tokens: &[Token], open: usize) -> Result<(Vec<Arg>, usize), SyntaxError> {
    let mut p = Parser {
        t: tokens,
        i: open,
        src_len: tokens.last().map_or(0, |t| t.end),
        depth: 0,
        empty_elem: None,
    };
    p.expect_punct("(")?;
    let mut args = Vec::new();
    while !p.is_punct(")") {
        if p.peek().is_none() {
            return Err(p.error("unterminated argument list"));
        }
        p.eat_punct("...");
        let mut name = None;
        if let (Some(Tok::Ident(n)), Some(Tok::Punct(":"))) = (p.peek(), p.peek_at(1))
            && !matches!(p.peek_at(2), Some(Tok::Punct(":")))
        {
            name = Some(n.clone());
            p.i += 2;
        }
        if p.is_punct(")") {
            break;
        }
        let (start, line) = (p.pos(), p.line());
        let expr = p.expr()?;
        args.push(Arg {
            expr,
            name,
            start,
            line,
            end: p.prev_end(),
        });
        if !p.eat_punct(",") {
            break;
        }
    }
    p.expect_punct(")")?;
    p.check_empty_elems()?;
    Ok((args, p.i))
}

/// Parse one expression starting at `tokens[at]`; returns it and the index after it.
pub fn parse_expr_at(tokens: &[Token], at: usize) -> Result<(Expr, usize), SyntaxError> {
    let mut p = Parser {
        t: tokens,
        i: at,
        src_len: tokens.last().map_or(0, |t| t.end),
        depth: 0,
        empty_elem: None,
    };
    let e = p.expr()?;
    p.check_empty_elems()?;
    Ok((e, p.i))
}

/// Parse a token slice (e.g. a function body between its braces, without comments) into
/// statements, like [`parse`] does for a whole file: nested function and class bodies are
/// skipped, `if`/loop bodies are included and marked conditional.
pub fn parse_tokens(tokens: &[Token]) -> Result<Vec<Stmt>, SyntaxError> {
    let mut p = Parser {
        t: tokens,
        i: 0,
        src_len: tokens.last().map_or(0, |t| t.end),
        depth: 0,
        empty_elem: None,
    };
    let mut out = Vec::new();
    p.statements(&mut out, 0, false)?;
    p.check_empty_elems()?;
    Ok(out)
}

/// Every `define()`d constant in `stmts`, in order (duplicates kept: the first one wins at
/// run time, later ones are ignored by PHP).
pub fn defines(stmts: &[Stmt]) -> impl Iterator<Item = (&str, &Expr, &Stmt)> {
    stmts.iter().filter_map(|s| match &s.kind {
        StmtKind::Define { name, value, .. } => Some((name.as_str(), value, s)),
        _ => None,
    })
}

/// For an assignment target `$name['a']['b']`, the variable name and string keys.
pub fn target_path(target: &Expr) -> Option<(&str, Vec<String>)> {
    let (inner, _push) = match target {
        Expr::Push(inner) => (inner.as_ref(), true),
        other => (other, false),
    };
    match inner {
        Expr::Var { name, path } => {
            let keys: Option<Vec<String>> = path.iter().map(Expr::key_string).collect();
            Some((name.as_str(), keys?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexes_strings_comments_and_numbers() {
        let toks = lex("<?php\n// c\n$a = 'it\\'s' . \"x\\n$y\"; # h\n/* b */ 0x1F;").unwrap();
        let kinds: Vec<&Tok> = toks.iter().map(|t| &t.kind).collect();
        assert!(matches!(kinds[0], Tok::Comment(_)));
        assert_eq!(kinds[1], &Tok::Var("a".into()));
        assert_eq!(
            kinds[3],
            &Tok::Str {
                value: "it's".into(),
                interpolated: false
            }
        );
        assert!(matches!(
            kinds[5],
            Tok::Str {
                interpolated: true,
                ..
            }
        ));
        assert!(toks.iter().any(|t| t.kind == Tok::Int(31)));
        assert_eq!(
            toks.iter().find(|t| t.kind == Tok::Int(31)).unwrap().line,
            4
        );
    }

    #[test]
    fn unterminated_string_names_its_line() {
        let err = lex("<?php\n$a = 1;\n$b = 'oops;\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err.message.contains("unterminated string"));
    }

    #[test]
    fn defines_and_settings_assignments() {
        let src = "<?php\ndefine( 'WP_REDIS_DATABASE', 3 );\ndefine('WP_REDIS_PREFIX', 'shop' . ':');\nif (true) {\n  $settings['redis.connection']['host'] = '/var/run/redis/redis.sock';\n}\n$settings['container_yamls'][] = 'x.yml';\nfunction f() { define('INSIDE', 1); }\nrequire_once ABSPATH . 'wp-settings.php';\n";
        let stmts = parse(src).unwrap();
        let d: Vec<_> = defines(&stmts)
            .map(|(n, v, s)| (n.to_string(), v.literal(), s.line))
            .collect();
        assert_eq!(d[0], ("WP_REDIS_DATABASE".into(), Some(3.into()), 2));
        assert_eq!(d[1].1, Some("shop:".into()));
        assert_eq!(d.len(), 2, "defines inside functions do not run");
        let assigns: Vec<_> = stmts
            .iter()
            .filter_map(|s| match &s.kind {
                StmtKind::Assign { target, value, .. } => Some((
                    target_path(target).unwrap(),
                    value.clone(),
                    s.conditional,
                    matches!(target, Expr::Push(_)),
                )),
                _ => None,
            })
            .collect();
        assert_eq!(assigns[0].0.0, "settings");
        assert_eq!(
            assigns[0].0.1,
            vec!["redis.connection".to_string(), "host".into()]
        );
        assert!(assigns[0].2, "inside if");
        assert!(assigns[1].3, "push target");
        assert!(
            stmts.iter().any(
                |s| matches!(&s.kind, StmtKind::Include { kind, .. } if kind == "require_once")
            )
        );
    }

    #[test]
    fn value_spans_point_at_the_source() {
        let src = "<?php define('WP_REDIS_MAXTTL', 0 );";
        let stmts = parse(src).unwrap();
        let StmtKind::Define {
            value_start,
            value_end,
            ..
        } = &stmts[0].kind
        else {
            panic!()
        };
        assert_eq!(&src[*value_start..*value_end], "0");
        let src = "<?php $x['a'] = [ 'b' => 1 ];";
        let stmts = parse(src).unwrap();
        let StmtKind::Assign {
            value_start,
            value_end,
            ..
        } = &stmts[0].kind
        else {
            panic!()
        };
        assert_eq!(&src[*value_start..*value_end], "[ 'b' => 1 ]");
    }

    #[test]
    fn returned_array_with_nested_entries() {
        let src = "<?php\nreturn [\n  'cache' => [\n    'frontend' => array(\n      'default' => ['id_prefix' => 'a1_', 'backend_options' => ['database' => '0', 'port' => 6379]],\n    ),\n  ],\n  'x' => true,\n];\n";
        let stmts = parse(src).unwrap();
        let StmtKind::Return { value, .. } = &stmts[0].kind else {
            panic!("{stmts:?}")
        };
        let def = &value
            .get("cache")
            .unwrap()
            .value
            .get("frontend")
            .unwrap()
            .value
            .get("default")
            .unwrap();
        assert_eq!(def.line, 5);
        assert_eq!(
            def.value.get("id_prefix").unwrap().value.as_str(),
            Some("a1_")
        );
        assert_eq!(
            def.value
                .get("backend_options")
                .unwrap()
                .value
                .get("database")
                .unwrap()
                .value
                .as_int(),
            Some(0)
        );
        assert_eq!(value.get("x").unwrap().value, Expr::Bool(true));
    }

    #[test]
    fn broken_files_are_errors_with_lines() {
        let err = parse("<?php\nreturn [\n  'a' => [1, 2,\n];\n").unwrap_err();
        assert!(
            err.message.contains("never closed") || err.message.contains("closes"),
            "{err}"
        );
        let err = parse("<?php\n$a = ;\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
    }

    #[test]
    fn class_constants_static_calls_and_casts() {
        let stmts = parse("<?php Config::define('WP_REDIS_MAXTTL', (int) env('X') ?: 3600); $a = self::B * 60; $b = -5;").unwrap();
        assert!(
            matches!(&stmts[0].kind, StmtKind::StaticDefine { class, name, .. } if class == "Config" && name == "WP_REDIS_MAXTTL")
        );
        let StmtKind::Assign { value, .. } = &stmts[1].kind else {
            panic!()
        };
        assert!(matches!(value, Expr::Binary { op: "*", .. }));
        let StmtKind::Assign { value, .. } = &stmts[2].kind else {
            panic!()
        };
        assert_eq!(value.as_int(), Some(-5));
    }

    #[test]
    fn heredoc_and_alternative_syntax() {
        let src = "<?php\n$t = <<<EOT\nhello\nEOT;\nif ($x):\n  define('A', 1);\nelse:\n  define('A', 2);\nendif;\n";
        let stmts = parse(src).unwrap();
        let StmtKind::Assign { value, .. } = &stmts[0].kind else {
            panic!()
        };
        assert_eq!(value.as_str(), Some("hello"));
        let d: Vec<_> = defines(&stmts).collect();
        assert_eq!(d.len(), 2);
        assert!(d.iter().all(|(_, _, s)| s.conditional));
    }

    #[test]
    fn call_arguments_anywhere_and_function_bodies() {
        let src = "<?php\nclass A { function f() { wp_cache_set( $k, $v, expire: self::TTL ); return 1 + 2; } }";
        let toks: Vec<Token> = lex(src)
            .unwrap()
            .into_iter()
            .filter(|t| !matches!(t.kind, Tok::Comment(_)))
            .collect();
        let open = toks
            .iter()
            .position(|t| t.kind == Tok::Ident("wp_cache_set".into()))
            .unwrap()
            + 1;
        let (args, next) = parse_args_at(&toks, open).unwrap();
        assert_eq!(args.len(), 3);
        assert_eq!(&src[args[0].start..args[0].end], "$k");
        assert_eq!(args[2].name.as_deref(), Some("expire"));
        assert_eq!(
            args[2].expr,
            Expr::ClassConst {
                class: "self".into(),
                name: "TTL".into()
            }
        );
        assert_eq!(toks[next].kind, Tok::Punct(";"));
        let body_open = toks
            .iter()
            .rposition(|t| t.kind == Tok::Punct("{"))
            .unwrap();
        let stmts = parse_tokens(&toks[body_open + 1..toks.len() - 2]).unwrap();
        assert_eq!(stmts.len(), 2);
        assert!(
            matches!(&stmts[1].kind, StmtKind::Return { value, .. } if value.as_int() == Some(3))
        );
        let (e, _) = parse_expr_at(&toks, next - 8).unwrap();
        assert_eq!(e.describe(), "$v");
    }
}
