//! One file, start to finish: find the calls the rules name, check receivers and context,
//! resolve the arguments, judge them and turn outcomes into [`Finding`]s with location,
//! trace and code line. A file that does not lex falls back to a text-level match whose
//! findings say so.

use std::collections::HashMap;
use std::sync::Arc;

use regex::Regex;

use crate::model::Location;
use crate::report::Finding;

use super::callsite::{Recv, declared_groups, finish, judge_receiver, wrapper};
use super::context::{self, FileFacts};
use super::js::JsFile;
use super::php::{PhpFile, Resolver, TreeIndex};
use super::receiver::{self, Typed};
use super::rules::{Lang, Matcher, RuleSet, UNRESOLVED, Verdict};
use super::verdict::{CallFacts, Outcome, R, Val, judge};

/// What a file is judged with.
pub struct Ctx<'a> {
    pub rules: &'a RuleSet,
    pub tree: &'a TreeIndex,
    /// Major version of the Drupal site the file belongs to.
    pub drupal_major: Option<u32>,
    /// The CMS of the detected site the file belongs to.
    pub site_cms: Option<crate::model::Cms>,
    /// Version of the detected site the file belongs to.
    pub site_version: Option<&'a str>,
    /// Why the file is test, mock or example code, from its path (see `context`).
    pub test_path: Option<String>,
}

/// The outcome for one file.
#[derive(Default)]
pub struct FileResult {
    pub findings: Vec<Finding>,
    /// The file did not lex/balance: findings are text-level.
    pub regex_level: bool,
    pub facts: FileFacts,
}

/// Analyse one file's text.
pub fn analyze(ctx: &Ctx, lang: Lang, display: &str, src: String) -> FileResult {
    match lang {
        Lang::Php => match PhpFile::parse(display.to_string(), src) {
            Ok(f) => {
                let (findings, facts) = analyze_php(ctx, Arc::new(f));
                FileResult {
                    findings,
                    regex_level: false,
                    facts,
                }
            }
            Err((e, src)) => regex_level(ctx, lang, display, &src, &e.to_string()),
        },
        Lang::Js => match JsFile::parse(display.to_string(), src) {
            Ok(f) => FileResult {
                findings: analyze_js(ctx, &f),
                regex_level: false,
                facts: FileFacts::default(),
            },
            Err((e, src)) => regex_level(ctx, lang, display, &src, &e.to_string()),
        },
    }
}

/// Per-file cache of `requires`/`client-context` regex results.
struct Applies<'a> {
    src: &'a str,
    requires: HashMap<usize, bool>,
}

impl Applies<'_> {
    fn check(&mut self, ctx: &Ctx, mi: usize, m: &Matcher, receiver: &str) -> bool {
        self.context_ok(ctx, mi, m) && m.receiver_ok(receiver, self.src)
    }

    /// The matcher's conditions on the file (Drupal major, `requires`), not the receiver.
    fn context_ok(&mut self, ctx: &Ctx, mi: usize, m: &Matcher) -> bool {
        if m.drupal_major.is_some() && m.drupal_major != ctx.drupal_major {
            return false;
        }
        let in_site = m
            .site_cms
            .as_deref()
            .is_some_and(|c| ctx.site_cms.is_some_and(|s| s.as_str() == c));
        if let Some(req) = &m.requires
            && !in_site
        {
            let src = self.src;
            if !*self.requires.entry(mi).or_insert_with(|| req.is_match(src)) {
                return false;
            }
        }
        true
    }
}

fn analyze_php(ctx: &Ctx, f: Arc<PhpFile>) -> (Vec<Finding>, FileFacts) {
    let mut out = Vec::new();
    let mut facts = FileFacts {
        wp_version: ctx
            .site_version
            .filter(|_| ctx.site_cms == Some(crate::model::Cms::WordPress))
            .map(str::to_string),
        ..Default::default()
    };
    let test = ctx
        .test_path
        .clone()
        .or_else(|| context::test_text(&f.src).map(str::to_string));
    let resolver = Resolver {
        tree: ctx.tree,
        drupal_major: ctx.drupal_major,
    };
    let mut applies = Applies {
        src: &f.src,
        requires: HashMap::new(),
    };
    for site in super::php::call_sites(&f) {
        let ms = ctx.rules.for_call(Lang::Php, site.method, &site.name);
        if ms.is_empty() {
            continue;
        }
        let receiver = if site.method {
            f.receiver(site.tok)
        } else {
            ""
        };
        let mut parsed = None;
        let mut typed: Option<Option<Typed>> = None;
        let mut unresolved_done = false;
        for &mi in ms {
            let m = &ctx.rules.matchers[mi];
            if m.verdict == Verdict::NonPersistentGroups {
                // A test's declaration says nothing about the site's groups.
                if test.is_some() {
                    continue;
                }
                let at = f.loc(f.toks[site.tok].line);
                for g in declared_groups(&f, site.tok + 1) {
                    facts.np_groups.push((g, at.clone()));
                }
                continue;
            }
            if !applies.context_ok(ctx, mi, m) {
                continue;
            }
            let recv = match (&m.api, site.method) {
                (Some(api), true) => {
                    let t = typed.get_or_insert_with(|| receiver::php(&f, ctx.tree, site.tok));
                    match judge_receiver(m, api, t.as_ref(), receiver, &f.src) {
                        Some(Recv::Skip) => continue,
                        Some(r) => Some(r),
                        None => match wrapper(&f, t.as_ref(), &site.name, m.expiry_arg) {
                            Ok(how) => Some(Recv::Known(how)),
                            Err(Some(mut fw)) => {
                                fw.caller = f.loc(f.toks[site.tok].line);
                                facts.forwards.push(fw);
                                continue;
                            }
                            Err(None) => continue,
                        },
                    }
                }
                _ => {
                    if !m.receiver_ok(receiver, &f.src) {
                        continue;
                    }
                    None
                }
            };
            if parsed.is_none() {
                parsed = Some(crate::syntax::php::parse_args_at(&f.toks, site.tok + 1));
            }
            let Some(Ok((args, after))) = &parsed else {
                continue;
            };
            if args.len() < m.min_args {
                continue;
            }
            // A test double's expectation (`->set(…)->shouldBeCalled()`) is no write.
            if site.method
                && f.is_punct(*after, "->")
                && f.ident(after + 1).is_some_and(context::is_expectation)
            {
                continue;
            }
            let sc = f.scope_at(site.tok);
            let from = m.expiry_arg.unwrap_or(usize::MAX);
            let placed = place_named(args, m.expiry_arg);
            let texts: Vec<String> = placed
                .iter()
                .map(|a| a.map_or_else(String::new, |a| f.src[a.start..a.end].to_string()))
                .collect();
            let resolved: Vec<R> = placed
                .iter()
                .enumerate()
                .map(|(i, a)| match a {
                    Some(a) if i >= from => resolver.resolve(&f, sc, &a.expr, 0).at_line(a.line),
                    _ => R::err("not read"),
                })
                .collect();
            let expire_in_scope = (m.expire_in_scope_ok || m.verdict == Verdict::NeedsExpire)
                && texts
                    .first()
                    .is_some_and(|k| super::php::expire_in_range(&f, f.scope_range(sc), k));
            let call = if site.method {
                format!("{receiver}->{}()", site.name)
            } else {
                format!("{}()", site.name)
            };
            let facts_call = CallFacts {
                lang: Lang::Php,
                call: &call,
                args: &resolved,
                texts: &texts,
                drupal_major: ctx.drupal_major,
                expire_in_scope,
            };
            let tok = &f.toks[site.tok];
            let before = out.len();
            for o in judge(m.verdict, m.expiry_arg, &facts_call) {
                push_outcome(
                    ctx,
                    &mut out,
                    m.rule,
                    o,
                    &f.display,
                    &f.src,
                    tok.start,
                    tok.line,
                    &mut unresolved_done,
                );
            }
            finish(&mut out[before..], &recv, receiver, test.as_deref());
            // The object-cache group of a wp_cache_*() write (the argument before the expiry).
            if !site.method
                && m.verdict == Verdict::Seconds
                && site.name.to_ascii_lowercase().starts_with("wp_cache_")
                && let Some(g) = m
                    .expiry_arg
                    .and_then(|e| e.checked_sub(1))
                    .and_then(|gi| placed.get(gi).copied().flatten())
                    .and_then(|a| match resolver.resolve(&f, sc, &a.expr, 0).v {
                        Ok(Val::Str(s)) => Some(s),
                        _ => None,
                    })
            {
                for i in before..out.len() {
                    facts.group_of.push((i, g.clone()));
                }
            }
        }
    }
    (out, facts)
}

fn analyze_js(ctx: &Ctx, f: &JsFile) -> Vec<Finding> {
    let mut out = Vec::new();
    let test = ctx
        .test_path
        .clone()
        .or_else(|| context::test_text(&f.src).map(str::to_string));
    let mut applies = Applies {
        src: &f.src,
        requires: HashMap::new(),
    };
    for (tok_i, method, name) in super::js::call_sites(f) {
        let ms = ctx.rules.for_call(Lang::Js, method, &name);
        if ms.is_empty() {
            continue;
        }
        let receiver = if method { f.receiver(tok_i) } else { "" };
        let mut parsed = None;
        let mut typed: Option<Option<Typed>> = None;
        let mut unresolved_done = false;
        for &mi in ms {
            let m = &ctx.rules.matchers[mi];
            if !applies.context_ok(ctx, mi, m) {
                continue;
            }
            let recv = match (&m.api, method) {
                (Some(api), true) => {
                    let t = typed.get_or_insert_with(|| receiver::js(f, receiver));
                    match judge_receiver(m, api, t.as_ref(), receiver, &f.src) {
                        Some(Recv::Skip) | None => continue,
                        r => r,
                    }
                }
                _ => {
                    if !m.receiver_ok(receiver, &f.src) {
                        continue;
                    }
                    None
                }
            };
            if parsed.is_none() {
                parsed = Some(crate::syntax::js::parse_args_at(&f.toks, tok_i + 1));
            }
            let Some(Ok((args, _))) = &parsed else {
                continue;
            };
            if args.len() < m.min_args {
                continue;
            }
            let texts: Vec<String> = args
                .iter()
                .map(|a| f.src[a.start.min(f.src.len())..a.end.min(f.src.len())].to_string())
                .collect();
            // `x.set(this, v)` is a WeakMap (TypeScript's downlevelled private fields,
            // `_RedisStorage_isWorker.set(this, false)`), never a Redis key.
            if texts.first().is_some_and(|t| t == "this") {
                continue;
            }
            let from = m.expiry_arg.unwrap_or(usize::MAX);
            let resolved: Vec<R> = args
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    if i >= from {
                        f.resolve(a, 0)
                    } else {
                        R::err("not read")
                    }
                })
                .collect();
            let expire_in_scope = (m.expire_in_scope_ok || m.verdict == Verdict::NeedsExpire)
                && texts
                    .first()
                    .is_some_and(|k| super::js::expire_in_range(f, f.scope_range(tok_i), k));
            let call = format!("{receiver}.{name}()");
            let facts = CallFacts {
                lang: Lang::Js,
                call: &call,
                args: &resolved,
                texts: &texts,
                drupal_major: ctx.drupal_major,
                expire_in_scope,
            };
            let tok = &f.toks[tok_i];
            let before = out.len();
            for o in judge(m.verdict, m.expiry_arg, &facts) {
                push_outcome(
                    ctx,
                    &mut out,
                    m.rule,
                    o,
                    &f.display,
                    &f.src,
                    tok.start,
                    tok.line,
                    &mut unresolved_done,
                );
            }
            finish(&mut out[before..], &recv, receiver, test.as_deref());
        }
    }
    out
}

/// PHP named arguments (`expire: 60`, `lifeTime: 3600`) for the expiry parameter are put
/// at the expiry position; other named arguments are dropped (they are not read).
fn place_named(
    args: &[crate::syntax::php::Arg],
    expiry_arg: Option<usize>,
) -> Vec<Option<&crate::syntax::php::Arg>> {
    const EXPIRY_NAMES: &[&str] = &[
        "expire",
        "expiration",
        "lifetime",
        "ttl",
        "timeout",
        "options",
    ];
    let mut out: Vec<Option<&crate::syntax::php::Arg>> = args
        .iter()
        .take_while(|a| a.name.is_none())
        .map(Some)
        .collect();
    if let Some(i) = expiry_arg
        && let Some(named) = args.iter().find(|a| {
            a.name
                .as_deref()
                .is_some_and(|n| EXPIRY_NAMES.iter().any(|e| e.eq_ignore_ascii_case(n)))
        })
    {
        if out.len() <= i {
            out.resize(i + 1, None);
        }
        out[i] = Some(named);
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn push_outcome(
    ctx: &Ctx,
    out: &mut Vec<Finding>,
    rule: usize,
    o: Outcome,
    display: &str,
    src: &str,
    offset: usize,
    line: usize,
    unresolved_done: &mut bool,
) {
    let col = column(src, offset);
    match o {
        Outcome::Finding {
            why,
            trace,
            line: item_line,
        } => {
            let spec = &ctx.rules.rules[rule].spec;
            let same_line = item_line.is_none_or(|l| l == line);
            let (line, col) = match item_line {
                Some(l) if l != line => (l, first_col(src, l)),
                _ => (line, col),
            };
            let mut f = Finding::new(&spec.id, spec.severity, why)
                .hint(spec.hint.clone())
                .at(Location::new(display, line).with_column(col));
            f.trace = trace;
            f.snippet = Some(if same_line {
                snippet_at(src, offset, col)
            } else {
                snippet(src, line, col)
            });
            out.push(f);
        }
        Outcome::Unresolved { why, trace } => {
            if *unresolved_done {
                return;
            }
            *unresolved_done = true;
            let spec = &ctx.rules.rules[rule].spec;
            let un = ctx.rules.rule(UNRESOLVED).expect("built-in rule");
            let mut f = Finding::new(
                UNRESOLVED,
                un.spec.severity,
                format!("expiry not resolved (rule {}): {why}", spec.id),
            )
            .hint(un.spec.hint.clone())
            .at(Location::new(display, line).with_column(col));
            f.trace = trace;
            f.snippet = Some(snippet_at(src, offset, col));
            out.push(f);
        }
    }
}

/// 1-based column (in characters) of byte `offset`.
pub fn column(src: &str, offset: usize) -> usize {
    let offset = offset.min(src.len());
    let start = src[..offset].rfind('\n').map_or(0, |p| p + 1);
    src[start..offset].chars().count() + 1
}

fn line_text(src: &str, line: usize) -> &str {
    src.split('\n').nth(line.saturating_sub(1)).unwrap_or("")
}

fn first_col(src: &str, line: usize) -> usize {
    let t = line_text(src, line);
    t.chars().take_while(|c| c.is_whitespace()).count() + 1
}

const SNIPPET_MAX: usize = 200;

/// The snippet of the line holding byte `offset` (found from the offset, not by counting
/// lines from the start of the file).
pub fn snippet_at(src: &str, offset: usize, col: usize) -> String {
    let offset = offset.min(src.len());
    let start = src[..offset].rfind('\n').map_or(0, |p| p + 1);
    let end = src[offset..].find('\n').map_or(src.len(), |p| offset + p);
    cut(&src[start..end], col)
}

/// The source line, trimmed; long (minified) lines are cut around the column.
pub fn snippet(src: &str, line: usize, col: usize) -> String {
    cut(line_text(src, line), col)
}

fn cut(text: &str, col: usize) -> String {
    let text = text.trim_end_matches('\r');
    let n = text.chars().count();
    if n <= SNIPPET_MAX {
        return text.trim().to_string();
    }
    let start = col.saturating_sub(SNIPPET_MAX / 4);
    let s: String = text.chars().skip(start).take(SNIPPET_MAX).collect();
    format!("…{}…", s.trim())
}

/// Text-level fallback for a file that does not lex: find the calls by regex, split their
/// arguments by brackets and quotes, judge literal arguments and flag every finding.
fn regex_level(ctx: &Ctx, lang: Lang, display: &str, src: &str, error: &str) -> FileResult {
    let mut out = Vec::new();
    let names: Vec<String> = ctx
        .rules
        .call_names(lang, false)
        .into_iter()
        .chain(ctx.rules.call_names(lang, true))
        .map(|n| regex::escape(&n))
        .collect();
    if names.is_empty() {
        return FileResult::default();
    }
    // ASCII-only and without capture groups: a DFA search, fast on megabyte lines.
    let re = Regex::new(&format!(r"(?i-u)\b(?:{})\s*\(", names.join("|"))).expect("valid");
    let note = format!(
        "regex-level: the file does not parse ({error}); this verdict comes from a text match"
    );
    let mut applies = Applies {
        src,
        requires: HashMap::new(),
    };
    let (mut line, mut counted) = (1usize, 0usize);
    for whole in re.find_iter(src) {
        let text = whole.as_str();
        let name = &text[..text
            .find(|c: char| c.is_ascii_whitespace() || c == '(')
            .unwrap_or(text.len())];
        let before = src[..whole.start()].trim_end();
        let arrow = before
            .strip_suffix("->")
            .or_else(|| before.strip_suffix('.'))
            .map(|r| r.strip_suffix('?').unwrap_or(r).len());
        let method = arrow.is_some();
        let receiver = match arrow {
            Some(end) => {
                let start = src[..end]
                    .rfind(|c: char| {
                        c.is_whitespace() || matches!(c, '=' | '(' | ',' | ';' | '{' | '!')
                    })
                    .map_or(0, |p| p + 1);
                &src[start..end]
            }
            None => "",
        };
        let Some(texts) = split_args(&src[whole.end()..]) else {
            continue;
        };
        let name_off = whole.start();
        line += src[counted..name_off].matches('\n').count();
        counted = name_off;
        let mut unresolved_done = false;
        for &mi in ctx.rules.for_call(lang, method, name) {
            let m = &ctx.rules.matchers[mi];
            if !applies.check(ctx, mi, m, receiver) || texts.len() < m.min_args {
                continue;
            }
            let resolved: Vec<R> = texts.iter().map(|t| literal(t)).collect();
            let call = if method {
                format!("{receiver}->{name}()")
            } else {
                format!("{name}()")
            };
            let facts = CallFacts {
                lang,
                call: &call,
                args: &resolved,
                texts: &texts,
                drupal_major: ctx.drupal_major,
                expire_in_scope: false,
            };
            for o in judge(m.verdict, m.expiry_arg, &facts) {
                let before = out.len();
                push_outcome(
                    ctx,
                    &mut out,
                    m.rule,
                    o,
                    display,
                    src,
                    name_off,
                    line,
                    &mut unresolved_done,
                );
                for f in &mut out[before..] {
                    f.message = format!("[regex-level] {}", f.message);
                    f.trace.push(note.clone());
                }
            }
        }
    }
    FileResult {
        findings: out,
        regex_level: true,
        facts: FileFacts::default(),
    }
}

fn literal(t: &str) -> R {
    let t = t.trim();
    if let Ok(n) = t.parse::<i64>() {
        return R::ok(Val::Int(n));
    }
    match t.to_ascii_lowercase().as_str() {
        "null" => return R::ok(Val::Null),
        "false" => return R::ok(Val::Bool(false)),
        "true" => return R::ok(Val::Bool(true)),
        _ => {}
    }
    if t.len() >= 2
        && ((t.starts_with('\'') && t.ends_with('\'')) || (t.starts_with('"') && t.ends_with('"')))
    {
        return R::ok(Val::Str(t[1..t.len() - 1].to_string()));
    }
    R::err("not resolved (regex-level)")
}

/// Split a call's arguments (text after its `(`) at top-level commas; None when the `)`
/// is not found within 64 KiB.
pub(crate) fn split_args(rest: &str) -> Option<Vec<String>> {
    let mut args = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in rest.char_indices() {
        if i > 65536 {
            return None;
        }
        if let Some(q) = quote {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' | '`' => {
                quote = Some(c);
                cur.push(c);
            }
            '(' | '[' | '{' => {
                depth += 1;
                cur.push(c);
            }
            ')' | ']' | '}' if depth > 0 => {
                depth -= 1;
                cur.push(c);
            }
            ')' => {
                if !cur.trim().is_empty() {
                    args.push(cur.trim().to_string());
                }
                return Some(args);
            }
            ',' if depth == 0 => {
                args.push(cur.trim().to_string());
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Analyse a snippet as a file of `lang` (PHP gets `<?php` when missing).
    pub fn run(lang: Lang, src: &str, drupal_major: Option<u32>) -> Vec<Finding> {
        let rules = RuleSet::builtin();
        let tree = TreeIndex::default();
        let ctx = Ctx {
            rules: &rules,
            tree: &tree,
            drupal_major,
            site_cms: None,
            site_version: None,
            test_path: None,
        };
        let src = if lang == Lang::Php && !src.starts_with("<?php") {
            format!("<?php\n{src}\n")
        } else {
            src.to_string()
        };
        let res = analyze(&ctx, lang, "t", src);
        assert!(!res.regex_level, "example does not parse");
        let mut found = res.findings;
        context::apply(&mut found, vec![(0, res.facts)]);
        found
    }

    #[test]
    fn every_rule_example_runs_through_the_real_matcher() {
        let rules = RuleSet::builtin();
        let mut checked = 0;
        for r in &rules.rules {
            let lang = r.spec.languages[0];
            for ex in &r.spec.invalid {
                let found = run(lang, ex, None);
                let codes: Vec<&str> = found.iter().map(|f| f.code.as_str()).collect();
                assert_eq!(
                    codes,
                    vec![r.spec.id.as_str()],
                    "invalid example of {} must produce exactly that rule:\n{ex}\n{found:#?}",
                    r.spec.id
                );
                checked += 1;
            }
            for ex in &r.spec.valid {
                let found = run(lang, ex, None);
                assert!(
                    found.is_empty(),
                    "valid example of {} must produce nothing:\n{ex}\n{found:#?}",
                    r.spec.id
                );
                checked += 1;
            }
        }
        assert!(checked > 40, "{checked}");
    }

    fn codes(found: &[Finding]) -> Vec<(String, usize)> {
        found
            .iter()
            .map(|f| (f.code.clone(), f.location.as_ref().unwrap().line))
            .collect()
    }

    #[test]
    fn drupal_7_constants_are_the_opposite_of_drupal_8() {
        let src = "function stock_warm($data) {\n  cache_set('stock', $data);\n  cache_set('stock', $data, 'cache', CACHE_PERMANENT);\n  cache_set('stock', $data, 'cache', CACHE_TEMPORARY);\n  cache_set('stock', $data, 'cache', REQUEST_TIME + 3600);\n  cache_set('stock', $data, 'cache', 3600);\n  cache_set('stock', $data, 'cache', 0);\n}";
        let found = run(Lang::Php, src, Some(7));
        assert_eq!(
            codes(&found),
            vec![
                ("drupal-cache-set-permanent".into(), 3),
                ("drupal-cache-set-permanent".into(), 4),
                ("drupal-cache-expire-relative".into(), 7),
                ("drupal-cache-set-permanent".into(), 8),
            ]
        );
        assert!(
            found[1].trace[0].contains("0 (Drupal 7"),
            "{:?}",
            found[1].trace
        );
        // Outside a Drupal 7 tree cache_set() is not Drupal's.
        assert!(run(Lang::Php, src, None).is_empty());
        // Drupal 8: -1 is permanent, 0 is a 1970 timestamp.
        let d8 = "namespace Drupal\\m;\n\\Drupal::cache()->set($c, $d, -1);\n\\Drupal::cache()->set($c, $d, 0);\n\\Drupal::cache()->set($c, $d, CACHE_TEMPORARY);";
        assert_eq!(
            codes(&run(Lang::Php, d8, None)),
            vec![
                ("drupal-cache-set-permanent".into(), 3),
                ("drupal-cache-expire-relative".into(), 4),
                ("expiry-unresolved".into(), 5),
            ]
        );
    }

    #[test]
    fn magento_lifetime_null_zero_false_and_repositories() {
        let src = "namespace A\\B; use Magento\\Framework\\App\\CacheInterface;\nclass C {\n  const NONE = null;\n  function f($d) {\n    $this->cache->save($d, 'a', [], self::NONE);\n    $this->cache->save($d, 'b', [], false);\n    $this->cache->save($d, 'c', ['t'], 0);\n    $this->orderRepository->save($d);\n    $this->cache->save($d);\n  }\n}";
        let found = run(Lang::Php, src, None);
        assert_eq!(
            codes(&found),
            vec![
                ("magento-cache-save-no-lifetime".into(), 6),
                ("magento-cache-save-no-lifetime".into(), 8),
            ]
        );
        assert!(
            found[0].message.contains("resolves to null"),
            "{}",
            found[0].message
        );
        assert!(found[1].message.contains("deleted at once without Lua"));
        // Not a Magento file: Zend's own default (false) applies, nothing to say.
        assert!(run(Lang::Php, "$this->cache->save($d, 'a');", None).is_empty());
    }

    #[test]
    fn redis_clients_php_and_js() {
        let php = "function f($redis, $k, $opts) {\n  $redis->set($k, 1, $opts);\n  $redis->set('a', 1, 'EX', 5);\n  $redis->set('b', 1, 'NX');\n  $redis->sAdd('members', 'x');\n  $redis->lPush('q', 'x');\n  $redis->pExpire('q', 500);\n}";
        assert_eq!(
            codes(&run(Lang::Php, php, None)),
            vec![
                ("expiry-unresolved".into(), 3),
                ("php-redis-set-no-ttl".into(), 5),
                ("php-redis-write-no-expire".into(), 6),
            ]
        );
        let js = "import { createClient } from 'redis';\nconst client = createClient();\nconst TTL = 60 * 5;\nexport async function f(k: string): Promise<void> {\n  await client.set(k, 'v', { EX: TTL });\n  await client.set(k, 'v', { expiration: 'KEEPTTL' });\n  await client.set(k, 'v', { NX: true, GET: true });\n  await client.hSet(k, { a: 1 });\n}\nasync function g(client, k) {\n  await client.sAdd(k, 'm');\n  await client.expire(k, 60);\n}";
        assert_eq!(
            codes(&run(Lang::Js, js, None)),
            vec![
                ("js-redis-set-no-ttl".into(), 7),
                ("js-redis-write-no-expire".into(), 8),
            ]
        );
    }

    #[test]
    fn combining_marks_in_js_identifiers_do_not_hang_the_lexer() {
        // From WordPress's wp-includes/js/dist/keycodes.js: `I` + U+0307 as an object key.
        let src =
            "const map = {\n  I\u{307}: \"\\u0069\",\n  x\u{200d}y: 1,\n};\nredis.set(k, v);\n";
        assert_eq!(
            codes(&run(Lang::Js, src, None)),
            vec![("js-redis-set-no-ttl".into(), 5)]
        );
    }

    #[test]
    fn a_variable_derived_from_itself_is_unresolved_not_looped() {
        // The shape of WordPress core's set_transient().
        let src = "function set_transient( $transient, $value, $expiration = 0 ) {\n  $expiration = (int) $expiration;\n  $expiration = apply_filters( \"expiration_of_transient_{$transient}\", $expiration, $value, $transient );\n  return wp_cache_set( $transient, $value, 'transient', $expiration );\n}";
        let found = run(Lang::Php, src, None);
        assert_eq!(codes(&found), vec![("expiry-unresolved".into(), 5)]);
        assert!(
            found[0]
                .message
                .contains("derives $expiration from its previous value"),
            "{}",
            found[0].message
        );
    }
}
