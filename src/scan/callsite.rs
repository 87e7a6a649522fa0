//! Per-call decisions shared by the PHP and JS passes of `analyze`: what a receiver's
//! resolved type (`receiver`) means for a rule's matcher (judged as the API, skipped as
//! another API, forwarded to the wrapper that does the write, or matched by name one
//! severity lower), the post-processing of a call's findings (receiver note, lowered
//! severity, test code), and the groups a `wp_cache_add_non_persistent_groups()` declares.

use crate::report::{Finding, Severity};

use super::context::{self, Forward};
use super::php::PhpFile;
use super::receiver::{Kind, Typed};
use super::rules::{Matcher, UNRESOLVED};

/// How a method call's receiver relates to a matcher with an `api`.
pub enum Recv {
    /// Not this rule's API (another API, a mock, a wrapper without an expiry parameter).
    Skip,
    /// Known to be the API: report at the rule's severity, with how it was told.
    Known(String),
    /// Not resolved: matched by name; lower the severity unless the name is evidence.
    ByName { lower: bool },
}

/// Decide the receiver for matcher `m` given what `receiver` resolution said.
pub fn judge_receiver(
    m: &Matcher,
    api: &str,
    typed: Option<&Typed>,
    receiver: &str,
    file_text: &str,
) -> Option<Recv> {
    Some(match typed.map(|t| (&t.kind, &t.how)) {
        Some((Kind::Api(a), how)) if *a == api => Recv::Known(how.clone()),
        Some((Kind::Api(_) | Kind::Other, _)) => Recv::Skip,
        Some((Kind::Wrapper(..), _)) => return None,
        None => {
            if !m.receiver_ok(receiver, file_text) {
                return Some(Recv::Skip);
            }
            let last = receiver
                .rsplit(['>', '.', '$'])
                .next()
                .unwrap_or(receiver)
                .to_ascii_lowercase();
            let named = api == "redis"
                && (last.contains("redis")
                    || last.contains("valkey")
                    || m.client_context
                        .as_ref()
                        .is_some_and(|c| c.is_match(file_text)));
            Recv::ByName { lower: !named }
        }
    })
}

/// Post-process the findings a call produced: receiver notes, lowered severity for
/// unresolved receivers, test code.
pub fn finish(out: &mut [Finding], recv: &Option<Recv>, receiver: &str, test: Option<&str>) {
    for f in out {
        if f.code == UNRESOLVED {
            continue;
        }
        match recv {
            Some(Recv::Known(how)) => f.trace.insert(0, format!("receiver: {how}")),
            Some(Recv::ByName { lower: true }) => {
                f.severity = match f.severity {
                    Severity::Error => Severity::Warning,
                    _ => Severity::Info,
                };
                f.message = format!(
                    "{} (receiver `{receiver}` not resolved to a type; matched by its name)",
                    f.message
                );
            }
            _ => {}
        }
        if let Some(why) = test {
            context::mark_test(f, why);
        }
    }
}

/// The first argument of `wp_cache_add_non_persistent_groups()`: a string or an array of
/// strings.
pub fn declared_groups(f: &PhpFile, open: usize) -> Vec<String> {
    use crate::syntax::php::Expr;
    let Ok((args, _)) = crate::syntax::php::parse_args_at(&f.toks, open) else {
        return Vec::new();
    };
    match args.first().map(|a| &a.expr) {
        Some(e) if e.as_str().is_some() => e.as_str().map(str::to_string).into_iter().collect(),
        Some(e @ Expr::Array(_)) => e
            .as_array()
            .unwrap_or(&[])
            .iter()
            .filter_map(|i| i.value.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// A receiver that is a class of the tree (a wrapper): `Ok` when its method `name` takes
/// the expiry on (a parameter at the expiry position: judge the call as the API's), or the
/// forward to record when it has no such parameter (the write is reported at the wrapper).
pub fn wrapper(
    f: &PhpFile,
    typed: Option<&Typed>,
    name: &str,
    expiry_arg: Option<usize>,
) -> Result<String, Option<Forward>> {
    let Some(Typed {
        kind: Kind::Wrapper(wf, ci),
        how,
    }) = typed
    else {
        return Err(None);
    };
    let class = &wf.classes[*ci];
    let Some(d) = class
        .methods
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
    else {
        return Err(None);
    };
    let label = format!("{}::{}()", class.name, d.name);
    if expiry_arg.is_none_or(|e| d.params.len() > e) {
        return Ok(format!("{how}; {label} passes the expiry on"));
    }
    let _ = f;
    Err(Some(Forward {
        file: wf.display.clone(),
        lines: (wf.toks[d.popen].line, wf.toks[d.close].line),
        wrapper: label,
        caller: String::new(),
    }))
}
