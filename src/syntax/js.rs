//! JavaScript/TypeScript read as data: a lexer and an expression parser for what config
//! files and cache calls use (object and array literals, strings and templates, calls,
//! member access, `process.env.X`, `||`/`??` defaults, TS `as`/`satisfies`/annotations).
//! Top-level statements are recognised (`module.exports = …`, `export default …`,
//! `const x = …`); function bodies are skipped. Nothing is evaluated or executed.

use std::fmt;

pub use super::php::SyntaxError;

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: Tok,
    pub start: usize,
    pub end: usize,
    pub line: usize,
    /// 1-based column (in bytes) of the first character.
    pub col: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// A quoted string, unescaped.
    Str(String),
    /// A template literal: the literal chunks and the source text of each `${…}`.
    Template(Vec<TplPart>),
    Num(f64),
    Regex,
    Punct(&'static str),
    Comment(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TplPart {
    Lit(String),
    /// Source text of a substitution, with its byte offset in the file.
    Subst(String, usize),
}

const PUNCTS: &[&str] = &[
    ">>>=", "...", "===", "!==", "**=", "<<=", ">>=", ">>>", "&&=", "||=", "??=", "=>", "==", "!=",
    "<=", ">=", "&&", "||", "??", "?.", "++", "--", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=",
    "**", "<<", ">>", "+", "-", "*", "/", "%", "=", "<", ">", "!", "~", "&", "|", "^", "?", ":",
    ";", ",", ".", "(", ")", "[", "]", "{", "}", "@", "#",
];

/// Keywords after which a `/` starts a regex literal rather than a division.
const REGEX_AFTER: &[&str] = &[
    "return",
    "typeof",
    "instanceof",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "case",
    "do",
    "else",
    "yield",
    "await",
];

pub fn lex(src: &str) -> Result<Vec<Token>, SyntaxError> {
    let b = src.as_bytes();
    let mut out: Vec<Token> = Vec::new();
    let mut pos = 0usize;
    let mut line = 1usize;
    // A leading `#!` line.
    if src.starts_with("#!") {
        pos = src.find('\n').unwrap_or(src.len());
    }
    let err = |line: usize, m: String| SyntaxError { line, message: m };
    while pos < b.len() {
        let c = b[pos];
        let start = pos;
        let start_line = line;
        let push = |out: &mut Vec<Token>, kind: Tok, end: usize| {
            out.push(Token {
                kind,
                start,
                end,
                line: start_line,
                col: 0,
            })
        };
        match c {
            b'\n' => {
                line += 1;
                pos += 1;
            }
            b' ' | b'\t' | b'\r' => pos += 1,
            b'/' if b.get(pos + 1) == Some(&b'/') => {
                let end = src[pos..].find('\n').map_or(src.len(), |i| pos + i);
                push(&mut out, Tok::Comment(src[pos..end].to_string()), end);
                pos = end;
            }
            b'/' if b.get(pos + 1) == Some(&b'*') => {
                let Some(rel) = src[pos + 2..].find("*/") else {
                    return Err(err(line, "unterminated /* comment".into()));
                };
                let end = pos + 2 + rel + 2;
                line += src[pos..end].matches('\n').count();
                push(&mut out, Tok::Comment(src[pos..end].to_string()), end);
                pos = end;
            }
            b'/' if regex_allowed(&out) => {
                // Regex literal: to the closing unescaped `/` outside a class, then flags.
                let mut i = pos + 1;
                let mut in_class = false;
                loop {
                    match b.get(i) {
                        None | Some(b'\n') => {
                            return Err(err(line, "unterminated regular expression".into()));
                        }
                        Some(b'\\') => i += 2,
                        Some(b'[') => {
                            in_class = true;
                            i += 1
                        }
                        Some(b']') => {
                            in_class = false;
                            i += 1
                        }
                        Some(b'/') if !in_class => break,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                while b.get(i).is_some_and(|c| c.is_ascii_alphabetic()) {
                    i += 1;
                }
                push(&mut out, Tok::Regex, i);
                pos = i;
            }
            b'\'' | b'"' => {
                let (value, end) =
                    quoted(src, pos).ok_or_else(|| err(line, "unterminated string".into()))?;
                push(&mut out, Tok::Str(value), end);
                pos = end;
            }
            b'`' => {
                let (parts, end) = template(src, pos, 0).ok_or_else(|| {
                    err(
                        line,
                        "unterminated (or too deeply nested) template literal".into(),
                    )
                })?;
                line += src[pos..end].matches('\n').count();
                push(&mut out, Tok::Template(parts), end);
                pos = end;
            }
            b'0'..=b'9' => {
                let rest = &src[pos..];
                let len = rest
                    .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '_'))
                    .unwrap_or(rest.len());
                let text: String = rest[..len].chars().filter(|&ch| ch != '_').collect();
                let text = text.trim_end_matches('n'); // BigInt
                let lower = text.to_ascii_lowercase();
                let v = if let Some(h) = lower.strip_prefix("0x") {
                    i64::from_str_radix(h, 16).ok().map(|v| v as f64)
                } else if let Some(o) = lower.strip_prefix("0o") {
                    i64::from_str_radix(o, 8).ok().map(|v| v as f64)
                } else if let Some(bb) = lower.strip_prefix("0b") {
                    i64::from_str_radix(bb, 2).ok().map(|v| v as f64)
                } else {
                    lower.parse::<f64>().ok()
                };
                let Some(v) = v else {
                    return Err(err(line, format!("malformed number {text:?}")));
                };
                push(&mut out, Tok::Num(v), pos + len);
                pos += len;
            }
            c if c == b'_' || c == b'$' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let rest = &src[pos..];
                let len = rest
                    .find(|ch: char| !(ch == '_' || ch == '$' || ch.is_alphanumeric()))
                    .unwrap_or(rest.len());
                // A non-ASCII character that is not alphanumeric (a combining mark such as
                // U+0307 in `İ`, a zero-width joiner) is taken as one identifier character,
                // so the lexer always advances.
                let len = if len == 0 {
                    rest.chars().next().map_or(1, char::len_utf8)
                } else {
                    len
                };
                push(&mut out, Tok::Ident(rest[..len].to_string()), pos + len);
                pos += len;
            }
            _ => {
                let rest = &src[pos..];
                match super::longest_punct(PUNCTS, rest) {
                    Some(p) => {
                        // `?.` followed by a digit is `?` then a number.
                        if p == "?." && rest.as_bytes().get(2).is_some_and(u8::is_ascii_digit) {
                            push(&mut out, Tok::Punct("?"), pos + 1);
                            pos += 1;
                        } else {
                            push(&mut out, Tok::Punct(p), pos + p.len());
                            pos += p.len();
                        }
                    }
                    None => {
                        let ch = rest.chars().next().unwrap_or('?');
                        return Err(err(line, format!("unexpected character {ch:?}")));
                    }
                }
            }
        }
    }
    super::set_columns(src, out.iter_mut().map(|t| (t.start, &mut t.col)));
    Ok(out)
}

fn regex_allowed(out: &[Token]) -> bool {
    match out
        .iter()
        .rev()
        .find(|t| !matches!(t.kind, Tok::Comment(_)))
    {
        None => true,
        Some(t) => match &t.kind {
            Tok::Punct(p) => !matches!(*p, ")" | "]" | "}" | "++" | "--"),
            Tok::Ident(w) => REGEX_AFTER.contains(&w.as_str()),
            _ => false,
        },
    }
}

fn quoted(src: &str, pos: usize) -> Option<(String, usize)> {
    let b = src.as_bytes();
    let q = b[pos];
    let mut out = String::new();
    let mut i = pos + 1;
    loop {
        let c = *b.get(i)?;
        if c == q {
            return Some((out, i + 1));
        }
        if c == b'\n' {
            return None;
        }
        if c == b'\\' {
            let n = src[i + 1..].chars().next()?;
            match n {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '\n' => {}
                other => out.push(other),
            }
            i += 1 + n.len_utf8();
            continue;
        }
        let ch = src[i..].chars().next()?;
        out.push(ch);
        i += ch.len_utf8();
    }
}

/// A template literal starting at `pos`; `None` when unterminated or when templates nest
/// inside `${…}` more than [`super::MAX_NESTING`] deep.
fn template(src: &str, pos: usize, depth: usize) -> Option<(Vec<TplPart>, usize)> {
    if depth >= super::MAX_NESTING {
        return None;
    }
    let b = src.as_bytes();
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut i = pos + 1;
    loop {
        let c = *b.get(i)?;
        match c {
            b'`' => {
                parts.push(TplPart::Lit(lit));
                return Some((parts, i + 1));
            }
            b'\\' => {
                let n = src[i + 1..].chars().next()?;
                lit.push(match n {
                    'n' => '\n',
                    't' => '\t',
                    other => other,
                });
                i += 1 + n.len_utf8();
            }
            b'$' if b.get(i + 1) == Some(&b'{') => {
                parts.push(TplPart::Lit(std::mem::take(&mut lit)));
                // Find the matching `}`, skipping nested strings/templates/braces.
                let start = i + 2;
                let mut depth = 1usize;
                let mut j = start;
                while depth > 0 {
                    match *b.get(j)? {
                        b'{' => depth += 1,
                        b'}' => depth -= 1,
                        b'\'' | b'"' => {
                            j = quoted(src, j)?.1;
                            continue;
                        }
                        b'`' => {
                            j = super::grow_stack(|| template(src, j, depth + 1))?.1;
                            continue;
                        }
                        _ => {}
                    }
                    j += 1;
                }
                parts.push(TplPart::Subst(src[start..j - 1].to_string(), start));
                i = j;
            }
            _ => {
                let ch = src[i..].chars().next()?;
                lit.push(ch);
                i += ch.len_utf8();
            }
        }
    }
}

// ---------------------------------------------------------------------------------------

/// An expression node with its source span.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub expr: Expr,
    pub start: usize,
    pub end: usize,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    /// A template literal: literal chunks and parsed substitutions.
    Template(Vec<TemplateChunk>),
    Num(f64),
    Bool(bool),
    Null,
    Undefined,
    Ident(String),
    Member {
        object: Box<Node>,
        prop: String,
    },
    Index {
        object: Box<Node>,
        index: Box<Node>,
    },
    Call {
        callee: Box<Node>,
        args: Vec<Node>,
    },
    New {
        callee: Box<Node>,
        args: Vec<Node>,
    },
    Object(Vec<Prop>),
    Array(Vec<Node>),
    Spread(Box<Node>),
    Binary {
        op: &'static str,
        left: Box<Node>,
        right: Box<Node>,
    },
    Unary {
        op: &'static str,
        expr: Box<Node>,
    },
    Cond {
        test: Box<Node>,
        then: Box<Node>,
        otherwise: Box<Node>,
    },
    Assign {
        op: &'static str,
        target: Box<Node>,
        value: Box<Node>,
    },
    /// Functions, classes, regexes: present but not data.
    Opaque,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplateChunk {
    Lit(String),
    Expr(Node),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prop {
    /// The key as a string (identifier, string or numeric key); `None` for computed keys
    /// and spreads.
    pub key: Option<String>,
    pub value: Node,
    pub line: usize,
    pub start: usize,
    pub end: usize,
}

impl Node {
    /// `a.b.c` as `["a", "b", "c"]` when the node is a plain member chain.
    pub fn path(&self) -> Option<Vec<String>> {
        match &self.expr {
            Expr::Ident(n) => Some(vec![n.clone()]),
            Expr::Member { object, prop } => {
                let mut p = object.path()?;
                p.push(prop.clone());
                Some(p)
            }
            Expr::Index { object, index } => {
                let mut p = object.path()?;
                p.push(index.as_str()?.to_string());
                Some(p)
            }
            _ => None,
        }
    }

    /// The dotted callee/member name (`process.env.REDIS_URL`).
    pub fn dotted(&self) -> Option<String> {
        self.path().map(|p| p.join("."))
    }

    /// `Some("X")` for `process.env.X` / `process.env["X"]`.
    pub fn env_var(&self) -> Option<String> {
        let p = self.path()?;
        (p.len() == 3 && p[0] == "process" && p[1] == "env").then(|| p[2].clone())
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.expr {
            Expr::Str(s) => Some(s),
            Expr::Template(chunks) if chunks.len() <= 1 => match chunks.first() {
                Some(TemplateChunk::Lit(s)) => Some(s),
                None => Some(""),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_num(&self) -> Option<f64> {
        match &self.expr {
            Expr::Num(n) => Some(*n),
            Expr::Unary { op: "-", expr } => expr.as_num().map(|n| -n),
            Expr::Binary { op, left, right } if matches!(*op, "*" | "+" | "-" | "/") => {
                let (l, r) = (left.as_num()?, right.as_num()?);
                Some(match *op {
                    "*" => l * r,
                    "+" => l + r,
                    "-" => l - r,
                    _ if r != 0.0 => l / r,
                    _ => return None,
                })
            }
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[Prop]> {
        match &self.expr {
            Expr::Object(props) => Some(props),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.expr {
            Expr::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The property `key` of an object literal (the last one wins, as in JS).
    pub fn get(&self, key: &str) -> Option<&Prop> {
        self.as_object()?
            .iter()
            .rev()
            .find(|p| p.key.as_deref() == Some(key))
    }
}

/// A top-level statement of interest.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `const|let|var name = init` (also each declarator of a list).
    Var {
        name: String,
        init: Node,
        line: usize,
    },
    /// `target = value` (e.g. `module.exports = {…}`).
    Assign {
        target: Node,
        value: Node,
        line: usize,
    },
    /// `export default value`.
    ExportDefault { value: Node, line: usize },
    /// Any other expression statement.
    Expr(Node),
}

/// Parse a module's top-level statements. Imports, type declarations, functions and classes
/// are skipped; blocks are entered.
pub fn parse_module(src: &str) -> Result<Vec<Item>, SyntaxError> {
    let tokens: Vec<Token> = lex(src)?
        .into_iter()
        .filter(|t| !matches!(t.kind, Tok::Comment(_)))
        .collect();
    let mut p = Parser {
        t: &tokens,
        i: 0,
        base: 0,
        src_len: src.len(),
        depth: 0,
    };
    super::check_balance(tokens.iter().filter_map(|t| match t.kind {
        Tok::Punct(p) => Some((p, t.line)),
        _ => None,
    }))?;
    let mut items = Vec::new();
    p.items(&mut items)?;
    Ok(items)
}

/// Parse the argument list of a call whose `(` is `tokens[open]`. Returns the arguments and
/// the index after the closing `)`.
pub fn parse_args_at(tokens: &[Token], open: usize) -> Result<(Vec<Node>, usize), SyntaxError> {
    let mut p = Parser {
        t: tokens,
        i: open,
        base: 0,
        src_len: tokens.last().map_or(0, |t| t.end),
        depth: 0,
    };
    let args = p.args()?;
    Ok((args, p.i))
}

/// Parse one expression from source text (used for template substitutions and tests).
pub fn parse_expr(src: &str) -> Result<Node, SyntaxError> {
    parse_expr_offset(src, 0, 0)
}

fn parse_expr_offset(src: &str, base: usize, depth: usize) -> Result<Node, SyntaxError> {
    let tokens: Vec<Token> = lex(src)?
        .into_iter()
        .filter(|t| !matches!(t.kind, Tok::Comment(_)))
        .collect();
    let mut p = Parser {
        t: &tokens,
        i: 0,
        base,
        src_len: src.len(),
        depth,
    };
    p.expr()
}

struct Parser<'a> {
    t: &'a [Token],
    i: usize,
    /// Added to spans (for sub-parses of template substitutions).
    base: usize,
    src_len: usize,
    /// Current nesting (blocks, expressions, operator chains); see [`super::MAX_NESTING`].
    depth: usize,
}

type PResult<T> = Result<T, SyntaxError>;

impl fmt::Debug for Parser<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Parser@{}", self.i)
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i).map(|t| &t.kind)
    }
    fn peek_at(&self, n: usize) -> Option<&Tok> {
        self.t.get(self.i + n).map(|t| &t.kind)
    }
    fn is(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(x)) if *x == p)
    }
    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(x)) if x == w)
    }
    fn eat(&mut self, p: &str) -> bool {
        if self.is(p) {
            self.i += 1;
            true
        } else {
            false
        }
    }
    fn line(&self) -> usize {
        self.t.get(self.i).or(self.t.last()).map_or(1, |t| t.line)
    }
    fn pos(&self) -> usize {
        self.base + self.t.get(self.i).map_or(self.src_len, |t| t.start)
    }
    fn prev_end(&self) -> usize {
        self.base
            + if self.i == 0 {
                0
            } else {
                self.t[self.i - 1].end
            }
    }
    fn error(&self, m: impl Into<String>) -> SyntaxError {
        let near = match self.peek() {
            Some(Tok::Punct(p)) => format!(" near `{p}`"),
            Some(Tok::Ident(w)) => format!(" near `{w}`"),
            None => " at end of file".into(),
            _ => String::new(),
        };
        SyntaxError {
            line: self.line(),
            message: format!("{}{near}", m.into()),
        }
    }
    fn expect(&mut self, p: &str) -> PResult<()> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{p}`")))
        }
    }
    fn node(&self, expr: Expr, start: usize, line: usize) -> Node {
        Node {
            expr,
            start,
            end: self.prev_end(),
            line,
        }
    }

    fn skip_group(&mut self) {
        self.i = super::group_end(self.t, self.i, |t| match t.kind {
            Tok::Punct(p) => Some(p),
            _ => None,
        });
    }

    /// Skip to the end of a statement: `;` at depth 0, a closing block, or a newline
    /// boundary we cannot see (tokens do not keep newlines, so stop before a keyword that
    /// starts a statement).
    fn skip_statement(&mut self) {
        let start_line = self.line();
        while let Some(t) = self.peek() {
            match t {
                Tok::Punct(";") => {
                    self.i += 1;
                    return;
                }
                Tok::Punct("(" | "[") => self.skip_group(),
                Tok::Punct("{") => {
                    self.skip_group();
                    if self.line() != start_line {
                        return;
                    }
                }
                Tok::Punct("}") => return,
                Tok::Ident(w)
                    if self.line() != start_line
                        && matches!(
                            w.as_str(),
                            "const"
                                | "let"
                                | "var"
                                | "export"
                                | "import"
                                | "module"
                                | "function"
                                | "class"
                        ) =>
                {
                    return;
                }
                _ => self.i += 1,
            }
        }
    }

    /// `import 'x'`, `import x from 'y'`, `import { a } from 'y'`, `import x = require('y')`.
    fn skip_import(&mut self) {
        self.i += 1;
        if matches!(self.peek(), Some(Tok::Str(_))) {
            self.i += 1;
            self.eat(";");
            return;
        }
        while let Some(t) = self.peek() {
            match t {
                Tok::Ident(w) if w == "from" && matches!(self.peek_at(1), Some(Tok::Str(_))) => {
                    self.i += 2;
                    self.eat(";");
                    return;
                }
                Tok::Punct(";") => {
                    self.i += 1;
                    return;
                }
                Tok::Punct("{" | "(") => self.skip_group(),
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

    fn items(&mut self, out: &mut Vec<Item>) -> PResult<()> {
        while let Some(tok) = self.peek().cloned() {
            match tok {
                Tok::Punct(";") => self.i += 1,
                Tok::Punct("{") => {
                    self.i += 1;
                    let mut inner = Vec::new();
                    while !self.is("}") && self.peek().is_some() {
                        let before = self.i;
                        self.item(&mut inner)?;
                        if self.i == before {
                            self.i += 1;
                        }
                    }
                    self.expect("}")?;
                    out.extend(inner);
                }
                Tok::Punct("}") => return Err(self.error("unmatched `}`")),
                _ => {
                    let before = self.i;
                    self.item(out)?;
                    if self.i == before {
                        self.i += 1;
                    }
                }
            }
        }
        Ok(())
    }

    fn item(&mut self, out: &mut Vec<Item>) -> PResult<()> {
        self.nested(|p| p.item_inner(out))
    }

    fn item_inner(&mut self, out: &mut Vec<Item>) -> PResult<()> {
        let line = self.line();
        match self.peek().cloned() {
            Some(Tok::Ident(w)) => match w.as_str() {
                "import" if !matches!(self.peek_at(1), Some(Tok::Punct("(" | "."))) => {
                    self.skip_import()
                }
                "export" => {
                    self.i += 1;
                    if self.is_word("default") {
                        self.i += 1;
                        let value = self.expr()?;
                        self.eat(";");
                        out.push(Item::ExportDefault { value, line });
                    } else if self.is("=") {
                        // TS `export = {…}`
                        self.i += 1;
                        let value = self.expr()?;
                        self.eat(";");
                        out.push(Item::ExportDefault { value, line });
                    } else {
                        return self.item(out);
                    }
                }
                "const" | "let" | "var" => {
                    self.i += 1;
                    loop {
                        let name = match self.peek().cloned() {
                            Some(Tok::Ident(n)) => {
                                self.i += 1;
                                n
                            }
                            Some(Tok::Punct("{" | "[")) => {
                                // Destructuring: not data we track.
                                self.skip_group();
                                String::new()
                            }
                            _ => return Err(self.error("expected a variable name")),
                        };
                        if self.eat(":") {
                            self.skip_type();
                        }
                        if self.eat("=") {
                            let decl_line = self.line();
                            let init = self.assign()?;
                            if !name.is_empty() {
                                out.push(Item::Var {
                                    name,
                                    init,
                                    line: decl_line,
                                });
                            }
                        }
                        if !self.eat(",") {
                            break;
                        }
                    }
                    self.eat(";");
                }
                "function" | "class" | "async" | "interface" | "enum" | "abstract" => {
                    // Declarations: skip header and body.
                    while let Some(t) = self.peek() {
                        if matches!(t, Tok::Punct("{")) {
                            self.skip_group();
                            break;
                        }
                        self.i += 1;
                    }
                }
                "type" | "declare" | "namespace"
                    if matches!(self.peek_at(1), Some(Tok::Ident(_))) =>
                {
                    self.skip_statement()
                }
                "if" | "for" | "while" | "switch" | "try" | "catch" | "finally" | "else" | "do" => {
                    self.i += 1;
                    if self.is("(") {
                        self.skip_group();
                    }
                }
                "return" | "throw" | "break" | "continue" => self.skip_statement(),
                "case" => {
                    // `case expr:` inside a switch body: skip the label.
                    self.i += 1;
                    self.assign()?;
                    self.eat(":");
                }
                "default" if matches!(self.peek_at(1), Some(Tok::Punct(":"))) => self.i += 2,
                _ => self.expr_item(out, line)?,
            },
            _ => self.expr_item(out, line)?,
        }
        Ok(())
    }

    fn expr_item(&mut self, out: &mut Vec<Item>, line: usize) -> PResult<()> {
        let e = self.expr()?;
        self.eat(";");
        match e.expr {
            Expr::Assign {
                op: "=",
                target,
                value,
            } => out.push(Item::Assign {
                target: *target,
                value: *value,
                line,
            }),
            _ => out.push(Item::Expr(e)),
        }
        Ok(())
    }

    /// Skip a TypeScript type (after `:`, `as`, `satisfies`).
    fn skip_type(&mut self) {
        let mut angle = 0usize;
        while let Some(t) = self.peek() {
            match t {
                Tok::Punct("<") => {
                    angle += 1;
                    self.i += 1;
                }
                Tok::Punct(">") if angle > 0 => {
                    angle -= 1;
                    self.i += 1;
                }
                Tok::Punct(">>") if angle > 1 => {
                    angle -= 2;
                    self.i += 1;
                }
                Tok::Punct("(" | "[" | "{") => self.skip_group(),
                Tok::Punct("|" | "&" | "." | "?" | "=>") => self.i += 1,
                Tok::Punct(",") if angle > 0 => self.i += 1,
                Tok::Ident(_) | Tok::Str(_) | Tok::Num(_) => {
                    self.i += 1;
                    if angle == 0
                        && !matches!(
                            self.peek(),
                            Some(Tok::Punct("<" | "|" | "&" | "." | "[" | "=>"))
                        )
                    {
                        // `keyof T`/`typeof x` continue with another word.
                        if !matches!(self.t.get(self.i - 1).map(|t| &t.kind), Some(Tok::Ident(w)) if w == "keyof" || w == "typeof" || w == "readonly" || w == "unique")
                        {
                            return;
                        }
                    }
                }
                _ => return,
            }
        }
    }

    pub fn expr(&mut self) -> PResult<Node> {
        self.assign()
    }

    fn assign(&mut self) -> PResult<Node> {
        let start = self.pos();
        let line = self.line();
        // Arrow functions: `x => …`, `(a, b) => …`, `async (…) => …`.
        if self.is_arrow_start() {
            self.skip_arrow()?;
            return Ok(self.node(Expr::Opaque, start, line));
        }
        let left = self.conditional()?;
        if let Some(Tok::Punct(p)) = self.peek() {
            let p = *p;
            if matches!(
                p,
                "=" | "+="
                    | "-="
                    | "*="
                    | "/="
                    | "%="
                    | "||="
                    | "&&="
                    | "??="
                    | "**="
                    | "<<="
                    | ">>="
                    | ">>>="
                    | "&="
                    | "|="
                    | "^="
            ) {
                self.i += 1;
                let value = self.nested(|p| p.assign())?;
                return Ok(self.node(
                    Expr::Assign {
                        op: p,
                        target: Box::new(left),
                        value: Box::new(value),
                    },
                    start,
                    line,
                ));
            }
        }
        Ok(left)
    }

    fn is_arrow_start(&self) -> bool {
        let mut j = self.i;
        if matches!(self.t.get(j).map(|t| &t.kind), Some(Tok::Ident(w)) if w == "async") {
            j += 1;
        }
        match self.t.get(j).map(|t| &t.kind) {
            Some(Tok::Ident(_)) => {
                matches!(self.t.get(j + 1).map(|t| &t.kind), Some(Tok::Punct("=>")))
            }
            Some(Tok::Punct("(")) => {
                let mut depth = 0usize;
                while let Some(t) = self.t.get(j) {
                    match t.kind {
                        Tok::Punct("(" | "[" | "{") => depth += 1,
                        Tok::Punct(")" | "]" | "}") => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                // `(…) =>` or `(…): Type =>`
                match self.t.get(j + 1).map(|t| &t.kind) {
                    Some(Tok::Punct("=>")) => true,
                    Some(Tok::Punct(":")) => {
                        let mut k = j + 2;
                        while let Some(t) = self.t.get(k) {
                            match t.kind {
                                Tok::Punct("=>") => return true,
                                Tok::Punct(";" | ")" | "," | "}") => return false,
                                _ => k += 1,
                            }
                        }
                        false
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }

    fn skip_arrow(&mut self) -> PResult<()> {
        while !self.is("=>") {
            if self.is("(") {
                self.skip_group();
            } else if self.peek().is_none() {
                return Err(self.error("unterminated arrow function"));
            } else {
                self.i += 1;
            }
        }
        self.i += 1;
        if self.is("{") {
            self.skip_group();
        } else {
            // `a => b => …` recurses here: one level deeper per arrow.
            self.nested(|p| p.assign())?;
        }
        Ok(())
    }

    fn conditional(&mut self) -> PResult<Node> {
        let start = self.pos();
        let line = self.line();
        let test = self.binary(0)?;
        if self.eat("?") {
            let then = self.nested(|p| p.assign())?;
            self.expect(":")?;
            let otherwise = self.nested(|p| p.assign())?;
            return Ok(self.node(
                Expr::Cond {
                    test: Box::new(test),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                },
                start,
                line,
            ));
        }
        Ok(test)
    }

    fn binary(&mut self, min: u8) -> PResult<Node> {
        // Each link of a chain (`1 + 1 + …`) nests the tree one level deeper.
        let depth_before = self.depth;
        let r = self.binary_chain(min);
        self.depth = depth_before;
        r
    }

    fn binary_chain(&mut self, min: u8) -> PResult<Node> {
        let start = self.pos();
        let line = self.line();
        let mut left = self.unary()?;
        loop {
            // TS postfix type operators.
            if self.is_word("as") || self.is_word("satisfies") {
                self.i += 1;
                self.skip_type();
                continue;
            }
            let op: &'static str = match self.peek() {
                Some(Tok::Punct(p)) => p,
                Some(Tok::Ident(w)) if w == "instanceof" => "instanceof",
                Some(Tok::Ident(w)) if w == "in" => "in",
                _ => break,
            };
            let Some(prec) = prec(op) else { break };
            if prec < min {
                break;
            }
            self.enter()?;
            self.i += 1;
            // Recursion without `unary` in between: grow the stack here too (the link was
            // counted by `enter` above).
            let right = if op == "**" {
                super::grow_stack(|| self.binary(prec))?
            } else {
                super::grow_stack(|| self.binary(prec + 1))?
            };
            left = self.node(
                Expr::Binary {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                },
                start,
                line,
            );
        }
        Ok(left)
    }

    fn unary(&mut self) -> PResult<Node> {
        self.nested(|p| p.unary_inner())
    }

    fn unary_inner(&mut self) -> PResult<Node> {
        let start = self.pos();
        let line = self.line();
        if let Some(Tok::Punct(p)) = self.peek() {
            let p = *p;
            if matches!(p, "!" | "-" | "+" | "~" | "++" | "--") {
                self.i += 1;
                let e = self.unary()?;
                return Ok(self.node(
                    Expr::Unary {
                        op: p,
                        expr: Box::new(e),
                    },
                    start,
                    line,
                ));
            }
            if p == "<" {
                // TS angle-bracket assertion `<T>expr`.
                self.skip_type();
                return self.unary();
            }
        }
        if let Some(Tok::Ident(w)) = self.peek() {
            let w = w.clone();
            if matches!(w.as_str(), "typeof" | "void" | "delete" | "await")
                && !matches!(
                    self.peek_at(1),
                    Some(Tok::Punct("." | ")" | "," | ";" | ":" | "="))
                )
            {
                self.i += 1;
                let e = self.unary()?;
                let op = match w.as_str() {
                    "typeof" => "typeof",
                    "void" => "void",
                    "delete" => "delete",
                    _ => "await",
                };
                if op == "await" {
                    return Ok(e);
                }
                return Ok(self.node(
                    Expr::Unary {
                        op,
                        expr: Box::new(e),
                    },
                    start,
                    line,
                ));
            }
        }
        let prim = self.primary()?;
        self.postfix(prim, start, line)
    }

    fn postfix(&mut self, e: Node, start: usize, line: usize) -> PResult<Node> {
        // Each link of a chain (`a.b().c()…`) nests the tree one level deeper.
        let depth_before = self.depth;
        let r = self.postfix_chain(e, start, line);
        self.depth = depth_before;
        r
    }

    fn postfix_chain(&mut self, mut e: Node, start: usize, line: usize) -> PResult<Node> {
        loop {
            if matches!(self.peek(), Some(Tok::Punct("." | "?." | "(" | "[" | "!"))) {
                self.enter()?;
            }
            if self.is(".") || self.is("?.") {
                self.i += 1;
                if self.is("(") {
                    // `f?.(x)`
                    let args = self.args()?;
                    e = self.node(
                        Expr::Call {
                            callee: Box::new(e),
                            args,
                        },
                        start,
                        line,
                    );
                    continue;
                }
                if self.is("[") {
                    self.i += 1;
                    let idx = self.expr()?;
                    self.expect("]")?;
                    e = self.node(
                        Expr::Index {
                            object: Box::new(e),
                            index: Box::new(idx),
                        },
                        start,
                        line,
                    );
                    continue;
                }
                self.eat("#");
                let prop = match self.peek() {
                    Some(Tok::Ident(n)) => n.clone(),
                    _ => return Err(self.error("expected a property name")),
                };
                self.i += 1;
                e = self.node(
                    Expr::Member {
                        object: Box::new(e),
                        prop,
                    },
                    start,
                    line,
                );
            } else if self.is("[") {
                self.i += 1;
                let idx = self.expr()?;
                self.expect("]")?;
                e = self.node(
                    Expr::Index {
                        object: Box::new(e),
                        index: Box::new(idx),
                    },
                    start,
                    line,
                );
            } else if self.is("(") {
                let args = self.args()?;
                e = self.node(
                    Expr::Call {
                        callee: Box::new(e),
                        args,
                    },
                    start,
                    line,
                );
            } else if self.is("!")
                && !matches!(self.peek_at(1), Some(Tok::Punct("=" | "==")))
                && matches!(
                    self.peek_at(1),
                    Some(Tok::Punct("." | ")" | "," | ";" | "]" | "}" | "(")) | None
                )
            {
                // TS non-null assertion.
                self.i += 1;
            } else if self.is("++") || self.is("--") {
                self.i += 1;
            } else if matches!(self.peek(), Some(Tok::Template(_))) {
                // Tagged template.
                self.i += 1;
                e = self.node(Expr::Opaque, start, line);
            } else if self.is("<") && self.generic_call_ahead() {
                self.skip_type();
            } else {
                return Ok(e);
            }
        }
    }

    /// `f<T>(…)`: a `<` that closes with `>` right before a `(`.
    fn generic_call_ahead(&self) -> bool {
        let mut depth = 0usize;
        let mut j = self.i;
        while let Some(t) = self.t.get(j) {
            match t.kind {
                Tok::Punct("<") => depth += 1,
                Tok::Punct(">") => {
                    depth -= 1;
                    if depth == 0 {
                        return matches!(self.t.get(j + 1).map(|t| &t.kind), Some(Tok::Punct("(")));
                    }
                }
                Tok::Punct(";" | "{" | "}" | ")" | "=") => return false,
                _ => {}
            }
            j += 1;
        }
        false
    }

    fn args(&mut self) -> PResult<Vec<Node>> {
        self.expect("(")?;
        let mut args = Vec::new();
        while !self.is(")") {
            if self.peek().is_none() {
                return Err(self.error("unterminated argument list"));
            }
            let start = self.pos();
            let line = self.line();
            if self.eat("...") {
                let e = self.assign()?;
                args.push(self.node(Expr::Spread(Box::new(e)), start, line));
            } else {
                args.push(self.assign()?);
            }
            if !self.eat(",") {
                break;
            }
        }
        self.expect(")")?;
        Ok(args)
    }

    fn primary(&mut self) -> PResult<Node> {
        let start = self.pos();
        let line = self.line();
        let Some(tok) = self.peek().cloned() else {
            return Err(self.error("expected an expression"));
        };
        let expr = match tok {
            Tok::Str(s) => {
                self.i += 1;
                Expr::Str(s)
            }
            Tok::Num(n) => {
                self.i += 1;
                Expr::Num(n)
            }
            Tok::Regex => {
                self.i += 1;
                Expr::Opaque
            }
            Tok::Template(parts) => {
                self.i += 1;
                let mut chunks = Vec::new();
                for part in parts {
                    match part {
                        TplPart::Lit(s) => chunks.push(TemplateChunk::Lit(s)),
                        TplPart::Subst(src, off) => {
                            let node = parse_expr_offset(&src, self.base + off, self.depth)
                                .map_err(|e| SyntaxError {
                                    line,
                                    message: e.message,
                                })?;
                            chunks.push(TemplateChunk::Expr(node));
                        }
                    }
                }
                chunks.retain(|c| !matches!(c, TemplateChunk::Lit(s) if s.is_empty()));
                Expr::Template(chunks)
            }
            Tok::Punct("(") => {
                self.i += 1;
                let mut e = self.assign()?;
                while self.eat(",") {
                    e = self.assign()?;
                }
                self.expect(")")?;
                return Ok(Node {
                    start,
                    end: self.prev_end(),
                    line,
                    ..e
                });
            }
            Tok::Punct("[") => {
                self.i += 1;
                let mut items = Vec::new();
                while !self.is("]") {
                    if self.peek().is_none() {
                        return Err(self.error("unterminated array"));
                    }
                    if self.is(",") {
                        self.i += 1;
                        continue;
                    }
                    let s = self.pos();
                    let l = self.line();
                    if self.eat("...") {
                        let e = self.assign()?;
                        items.push(self.node(Expr::Spread(Box::new(e)), s, l));
                    } else {
                        items.push(self.assign()?);
                    }
                    if !self.eat(",") {
                        break;
                    }
                }
                self.expect("]")?;
                Expr::Array(items)
            }
            Tok::Punct("{") => {
                self.i += 1;
                Expr::Object(self.object_props()?)
            }
            Tok::Ident(w) => match w.as_str() {
                "true" => {
                    self.i += 1;
                    Expr::Bool(true)
                }
                "false" => {
                    self.i += 1;
                    Expr::Bool(false)
                }
                "null" => {
                    self.i += 1;
                    Expr::Null
                }
                "undefined" => {
                    self.i += 1;
                    Expr::Undefined
                }
                "function" | "class" => {
                    while let Some(t) = self.peek() {
                        if matches!(t, Tok::Punct("{")) {
                            self.skip_group();
                            break;
                        }
                        if matches!(t, Tok::Punct("(")) {
                            self.skip_group();
                            continue;
                        }
                        self.i += 1;
                    }
                    Expr::Opaque
                }
                "async" if matches!(self.peek_at(1), Some(Tok::Ident(f)) if f == "function") => {
                    self.i += 1;
                    return self.primary();
                }
                "new" => {
                    self.i += 1;
                    let cs = self.pos();
                    let cl = self.line();
                    let callee = self.primary()?;
                    // Member chain of the constructor (no calls).
                    let mut callee = callee;
                    while self.is(".") {
                        self.i += 1;
                        let prop = match self.peek() {
                            Some(Tok::Ident(n)) => n.clone(),
                            _ => return Err(self.error("expected a name")),
                        };
                        self.i += 1;
                        callee = self.node(
                            Expr::Member {
                                object: Box::new(callee),
                                prop,
                            },
                            cs,
                            cl,
                        );
                    }
                    if self.is("<") && self.generic_call_ahead() {
                        self.skip_type();
                    }
                    let args = if self.is("(") {
                        self.args()?
                    } else {
                        Vec::new()
                    };
                    Expr::New {
                        callee: Box::new(callee),
                        args,
                    }
                }
                _ => {
                    self.i += 1;
                    Expr::Ident(w)
                }
            },
            _ => return Err(self.error("expected an expression")),
        };
        Ok(self.node(expr, start, line))
    }

    fn object_props(&mut self) -> PResult<Vec<Prop>> {
        let mut props = Vec::new();
        while !self.is("}") {
            if self.peek().is_none() {
                return Err(self.error("unterminated object"));
            }
            if self.is(",") {
                // `{a: 1,, b: 2}` and `{, a}`: a syntax error in JS and TS.
                let (line, col) = self.t.get(self.i).map_or((1, 1), |t| (t.line, t.col));
                return Err(SyntaxError {
                    line,
                    message: format!("empty property at {line}:{col} (`,,` in an object)"),
                });
            }
            let start = self.pos();
            let line = self.line();
            if self.eat("...") {
                let e = self.assign()?;
                let value = self.node(Expr::Spread(Box::new(e)), start, line);
                props.push(Prop {
                    key: None,
                    value,
                    line,
                    start,
                    end: self.prev_end(),
                });
            } else {
                // Getter/setter/async/method shorthand: `get x() {}`, `x() {}`.
                let key = match self.peek().cloned() {
                    Some(Tok::Ident(n)) => {
                        self.i += 1;
                        Some(n)
                    }
                    Some(Tok::Str(s)) => {
                        self.i += 1;
                        Some(s)
                    }
                    Some(Tok::Num(n)) => {
                        self.i += 1;
                        Some(format_num(n))
                    }
                    Some(Tok::Punct("[")) => {
                        self.skip_group();
                        None
                    }
                    _ => return Err(self.error("expected a property")),
                };
                if matches!(key.as_deref(), Some("get" | "set" | "async" | "static"))
                    && matches!(
                        self.peek(),
                        Some(Tok::Ident(_) | Tok::Str(_) | Tok::Punct("["))
                    )
                {
                    // Accessor or async method: skip the rest.
                    while !self.is("{") && self.peek().is_some() {
                        if self.is("(") {
                            self.skip_group();
                        } else {
                            self.i += 1;
                        }
                    }
                    self.skip_group();
                    continue;
                }
                self.eat("?");
                if self.is("(") {
                    // Method shorthand.
                    self.skip_group();
                    if self.eat(":") {
                        self.skip_type();
                    }
                    if self.is("{") {
                        self.skip_group();
                    }
                    let value = self.node(Expr::Opaque, start, line);
                    props.push(Prop {
                        key,
                        value,
                        line,
                        start,
                        end: self.prev_end(),
                    });
                } else if self.eat(":") {
                    let value = self.assign()?;
                    props.push(Prop {
                        key,
                        value,
                        line,
                        start,
                        end: self.prev_end(),
                    });
                } else {
                    // Shorthand `{ redisUrl }` (or `{ a = 1 }` in patterns).
                    let ident = key.clone().unwrap_or_default();
                    if self.eat("=") {
                        self.assign()?;
                    }
                    let value = self.node(Expr::Ident(ident), start, line);
                    props.push(Prop {
                        key,
                        value,
                        line,
                        start,
                        end: self.prev_end(),
                    });
                }
            }
            if !self.eat(",") {
                break;
            }
        }
        self.expect("}")?;
        Ok(props)
    }
}

fn format_num(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn prec(op: &str) -> Option<u8> {
    Some(match op {
        "??" => 1,
        "||" => 2,
        "&&" => 3,
        "|" => 4,
        "^" => 5,
        "&" => 6,
        "==" | "!=" | "===" | "!==" => 7,
        "<" | ">" | "<=" | ">=" | "instanceof" | "in" => 8,
        "<<" | ">>" | ">>>" => 9,
        "+" | "-" => 10,
        "*" | "/" | "%" => 11,
        "**" => 12,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medusa_v2_config_reads_as_data() {
        let src = r#"import { loadEnv, defineConfig } from '@medusajs/framework/utils'

loadEnv(process.env.NODE_ENV || 'development', process.cwd())

module.exports = defineConfig({
  projectConfig: {
    databaseUrl: process.env.DATABASE_URL,
    redisUrl: process.env.REDIS_URL ?? "redis://localhost:6379",
    http: {
      storeCors: process.env.STORE_CORS!,
    },
  },
  modules: [
    {
      resolve: "@medusajs/medusa/cache-redis",
      options: { redisUrl: process.env.CACHE_REDIS_URL, ttl: 60 * 5 },
    },
  ],
})
"#;
        let items = parse_module(src).unwrap();
        let Item::Assign {
            target,
            value,
            line,
        } = &items[1]
        else {
            panic!("{items:?}")
        };
        assert_eq!(target.dotted().as_deref(), Some("module.exports"));
        assert_eq!(*line, 5);
        let Expr::Call { callee, args } = &value.expr else {
            panic!()
        };
        assert_eq!(callee.dotted().as_deref(), Some("defineConfig"));
        let cfg = &args[0];
        let redis = &cfg
            .get("projectConfig")
            .unwrap()
            .value
            .get("redisUrl")
            .unwrap();
        assert_eq!(redis.line, 8);
        let Expr::Binary {
            op: "??",
            left,
            right,
        } = &redis.value.expr
        else {
            panic!()
        };
        assert_eq!(left.env_var().as_deref(), Some("REDIS_URL"));
        assert_eq!(right.as_str(), Some("redis://localhost:6379"));
        let module = &cfg.get("modules").unwrap().value.as_array().unwrap()[0];
        assert_eq!(
            module.get("resolve").unwrap().value.as_str(),
            Some("@medusajs/medusa/cache-redis")
        );
        let opts = &module.get("options").unwrap().value;
        assert_eq!(opts.get("ttl").unwrap().value.as_num(), Some(300.0));
        assert_eq!(opts.get("ttl").unwrap().line, 16);
        assert_eq!(
            &src[opts.get("ttl").unwrap().value.start..opts.get("ttl").unwrap().value.end],
            "60 * 5"
        );
    }

    #[test]
    fn typescript_annotations_and_v1_exports() {
        let src = "const REDIS_URL: string = process.env.REDIS_URL || 'redis://localhost:6379';\nconst plugins = [`medusa-fulfillment-manual`, { resolve: 'x', options: { a: 1 } as const }];\nmodule.exports = {\n  projectConfig: { redis_url: REDIS_URL, database_extra: {} } satisfies Record<string, unknown>,\n  plugins,\n  modules: { cacheService: { resolve: '@medusajs/cache-redis', options: { redisUrl: REDIS_URL, ttl: 0 } } },\n};\n";
        let items = parse_module(src).unwrap();
        assert!(matches!(&items[0], Item::Var { name, .. } if name == "REDIS_URL"));
        let Item::Assign { value, .. } = &items[2] else {
            panic!("{items:?}")
        };
        let cache = &value
            .get("modules")
            .unwrap()
            .value
            .get("cacheService")
            .unwrap()
            .value;
        assert_eq!(
            cache
                .get("options")
                .unwrap()
                .value
                .get("ttl")
                .unwrap()
                .value
                .as_num(),
            Some(0.0)
        );
        assert!(
            matches!(value.get("plugins").unwrap().value.expr, Expr::Ident(ref n) if n == "plugins")
        );
    }

    #[test]
    fn regexes_templates_and_arrows_do_not_confuse_the_lexer() {
        let src = "const re = /a\\/b[/]c/g; const t = `x${a + `y${b}`}z`; const f = (a, b) => { return a / b }; export default { f, t, n: 10 / 2 / 1 }\n";
        let items = parse_module(src).unwrap();
        let Item::ExportDefault { value, .. } = items.last().unwrap() else {
            panic!("{items:?}")
        };
        assert_eq!(value.get("n").unwrap().value.as_num(), Some(5.0));
    }

    #[test]
    fn switch_blocks_in_v1_configs_parse() {
        let src = "let ADMIN_CORS = 'x';\nswitch (process.env.NODE_ENV) {\n  case \"production\":\n    ENV_FILE_NAME = \".env.production\";\n    break;\n  default:\n    ENV_FILE_NAME = \".env\";\n    break;\n}\nmodule.exports = { projectConfig: { redis_url: REDIS_URL } };\n";
        let items = parse_module(src).unwrap();
        let Item::Assign { value, .. } = items.last().unwrap() else {
            panic!("{items:?}")
        };
        assert!(value.get("projectConfig").is_some());
    }

    #[test]
    fn call_args_can_be_parsed_in_place() {
        let src = "await client.set(key, JSON.stringify(v), 'EX', 60);";
        let toks: Vec<Token> = lex(src).unwrap();
        let open = toks.iter().position(|t| t.kind == Tok::Punct("(")).unwrap();
        let (args, next) = parse_args_at(&toks, open).unwrap();
        assert_eq!(args.len(), 4);
        assert_eq!(args[2].as_str(), Some("EX"));
        assert_eq!(args[3].as_num(), Some(60.0));
        assert_eq!(toks[next].kind, Tok::Punct(";"));
    }

    #[test]
    fn broken_config_names_the_line() {
        let err = parse_module("module.exports = {\n  projectConfig: {\n    redisUrl: 'x',\n}\n")
            .unwrap_err();
        assert!(err.message.contains("never closed"), "{err}");
        let err = parse_module("const a = 'open\n").unwrap_err();
        assert_eq!(err.line, 1);
    }
}
