//! What a cache call's arguments mean: resolved values ([`Val`], with the trace of hops
//! that produced them) and, per rule semantics ([`Verdict`]), whether the write never
//! expires. Language front-ends (`php.rs`, `js.rs`) resolve arguments; this module judges.
//! Semantics follow `shared/reference/cms-redis.md` sections 1C, 2C, 3C, 4C and 5.

use super::rules::{Lang, Verdict};

/// A resolved value.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    Null,
    Bool(bool),
    Str(String),
    /// The current time plus an offset in seconds (`time()`, `REQUEST_TIME`,
    /// `\Drupal::time()->getRequestTime()`): an absolute timestamp.
    Time(i64),
    /// An array or object literal: keys (None for positional entries) and resolved values.
    Map(Vec<(Option<String>, R)>),
    /// A function, callback or other value that is not data.
    Opaque,
}

/// A resolution result: the value or why it could not be resolved, the hops followed, and
/// the line of the expression (for array items).
#[derive(Debug, Clone, PartialEq)]
pub struct R {
    pub v: Result<Val, String>,
    pub trace: Vec<String>,
    pub line: usize,
}

impl R {
    pub fn ok(v: Val) -> R {
        R {
            v: Ok(v),
            trace: Vec::new(),
            line: 0,
        }
    }
    pub fn err(why: impl Into<String>) -> R {
        R {
            v: Err(why.into()),
            trace: Vec::new(),
            line: 0,
        }
    }
    /// Prepend a hop to the trace.
    pub fn hop(mut self, hop: String) -> R {
        self.trace.insert(0, hop);
        self
    }
    pub fn at_line(mut self, line: usize) -> R {
        self.line = line;
        self
    }
}

impl Val {
    /// The value as PHP would use it as an integer; `None` for timestamps, maps, opaque.
    pub fn int(&self) -> Option<i64> {
        match self {
            Val::Int(n) => Some(*n),
            Val::Null => Some(0),
            Val::Bool(b) => Some(i64::from(*b)),
            Val::Str(s) => Some(crate::syntax::php::php_intval(s)),
            _ => None,
        }
    }

    pub fn show(&self) -> String {
        match self {
            Val::Int(n) => n.to_string(),
            Val::Null => "null".into(),
            Val::Bool(b) => b.to_string(),
            Val::Str(s) => format!("'{s}'"),
            Val::Time(0) => "the current time".into(),
            Val::Time(n) => format!("the current time {n:+}"),
            Val::Map(items) => format!("[{} entries]", items.len()),
            Val::Opaque => "a function".into(),
        }
    }
}

/// The call being judged, its arguments resolved.
pub struct CallFacts<'a> {
    pub lang: Lang,
    /// `wp_cache_set()`, `$this->cache->save()`.
    pub call: &'a str,
    pub args: &'a [R],
    /// Source text of each argument.
    pub texts: &'a [String],
    pub drupal_major: Option<u32>,
    /// An expire/pexpire/expireat on the same key was found in the same function.
    pub expire_in_scope: bool,
}

/// One conclusion about a call.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The write never expires (or has the rule's bug): report under the rule.
    Finding {
        why: String,
        trace: Vec<String>,
        /// A more precise line (an array item) than the call's.
        line: Option<usize>,
    },
    /// The expiry could not be resolved: report as `expiry-unresolved`.
    Unresolved { why: String, trace: Vec<String> },
}

fn finding(why: String, trace: &[String]) -> Vec<Outcome> {
    vec![Outcome::Finding {
        why,
        trace: trace.to_vec(),
        line: None,
    }]
}

fn unresolved(text: &str, why: &str, trace: &[String]) -> Vec<Outcome> {
    vec![Outcome::Unresolved {
        why: format!("`{text}`: {why}"),
        trace: trace.to_vec(),
    }]
}

/// "`X` resolves to 0", or "is 0" when the text is the value itself.
fn resolves(text: &str, v: &Val) -> String {
    let shown = v.show();
    if text.trim() == shown || text.trim().eq_ignore_ascii_case(&shown) {
        format!("is {shown}")
    } else {
        format!("`{text}` resolves to {shown}")
    }
}

/// Judge a call under `verdict`, reading the expiry at `expiry_arg`.
pub fn judge(verdict: Verdict, expiry_arg: Option<usize>, f: &CallFacts) -> Vec<Outcome> {
    let idx = expiry_arg.unwrap_or(usize::MAX);
    let arg = f.args.get(idx);
    let text = f.texts.get(idx).map_or("", String::as_str);
    match verdict {
        Verdict::Seconds => match arg {
            None => finding(
                format!(
                    "{} has no expiry argument: the default 0 means the entry never expires",
                    f.call
                ),
                &[],
            ),
            Some(r) => match &r.v {
                Err(why) => unresolved(text, why, &r.trace),
                Ok(Val::Time(_)) => Vec::new(),
                Ok(v) => match v.int() {
                    Some(n) if n > 0 => Vec::new(),
                    Some(0) => finding(
                        format!(
                            "{} expiry {}: the entry never expires",
                            f.call,
                            resolves(text, v)
                        ),
                        &r.trace,
                    ),
                    Some(_) => finding(
                        format!(
                            "{} expiry {} (negative): not a lifetime",
                            f.call,
                            resolves(text, v)
                        ),
                        &r.trace,
                    ),
                    None => unresolved(text, "not a number", &r.trace),
                },
            },
        },
        Verdict::DrupalPermanent => {
            let d7 = f.drupal_major == Some(7);
            let perm = if d7 { 0 } else { -1 };
            let name = if d7 {
                "CACHE_PERMANENT (0 in Drupal 7)"
            } else {
                "CacheBackendInterface::CACHE_PERMANENT (-1)"
            };
            match arg {
                None => finding(
                    format!(
                        "{} has no $expire: the default is {name}, a permanent item",
                        f.call
                    ),
                    &[],
                ),
                Some(r) => match &r.v {
                    Err(why) => unresolved(text, why, &r.trace),
                    Ok(v @ Val::Int(n)) if *n == perm => finding(
                        format!(
                            "{} $expire {}, which is {name}: a permanent item",
                            f.call,
                            resolves(text, v)
                        ),
                        &r.trace,
                    ),
                    Ok(_) => Vec::new(),
                },
            }
        }
        Verdict::DrupalRelative => {
            let d7 = f.drupal_major == Some(7);
            match arg.map(|r| (r, &r.v)) {
                Some((_, Err(_))) | None => Vec::new(), // the permanent rule reports these
                Some((r, Ok(v @ Val::Int(n))))
                    if (*n > 0 || (*n == 0 && !d7)) && *n < 1_000_000_000 =>
                {
                    finding(
                        format!(
                            "{} $expire {}: a number of seconds, but Drupal wants an absolute \
                             timestamp; {n} is in 1970, so the item is expired when written",
                            f.call,
                            resolves(text, v)
                        ),
                        &r.trace,
                    )
                }
                Some(_) => Vec::new(),
            }
        }
        Verdict::DrupalMultiple => {
            let d7 = f.drupal_major == Some(7);
            let perm = if d7 { 0 } else { -1 };
            let Some(r) = arg else { return Vec::new() };
            match &r.v {
                Err(why) => unresolved(text, why, &r.trace),
                Ok(Val::Map(items)) => {
                    let mut out = Vec::new();
                    for (key, item) in items {
                        let label = key.as_deref().unwrap_or("?");
                        match &item.v {
                            Ok(Val::Map(fields)) => {
                                match fields
                                    .iter()
                                    .rev()
                                    .find(|(k, _)| k.as_deref() == Some("expire"))
                                {
                                    None => out.push(Outcome::Finding {
                                        why: format!(
                                            "{} item '{label}' has no 'expire': it is stored as \
                                             CACHE_PERMANENT",
                                            f.call
                                        ),
                                        trace: item.trace.clone(),
                                        line: (item.line > 0).then_some(item.line),
                                    }),
                                    Some((_, e)) if e.v == Ok(Val::Int(perm)) => {
                                        out.push(Outcome::Finding {
                                            why: format!(
                                                "{} item '{label}' has 'expire' = CACHE_PERMANENT",
                                                f.call
                                            ),
                                            trace: e.trace.clone(),
                                            line: (e.line > 0).then_some(e.line),
                                        })
                                    }
                                    Some(_) => {}
                                }
                            }
                            Ok(_) => {}
                            Err(why) => out.push(Outcome::Unresolved {
                                why: format!("{} item '{label}': {why}", f.call),
                                trace: item.trace.clone(),
                            }),
                        }
                    }
                    out
                }
                Ok(_) => Vec::new(),
            }
        }
        Verdict::MagentoLifetime => match arg {
            None => finding(
                format!(
                    "{} has no $lifeTime: the default null is an infinite lifetime with \
                     Cm_Cache_Backend_Redis (only false means the default lifetime)",
                    f.call
                ),
                &[],
            ),
            Some(r) => match &r.v {
                Err(why) => unresolved(text, why, &r.trace),
                Ok(v @ Val::Null) => finding(
                    format!(
                        "{} $lifeTime {}: an infinite lifetime (only false means the \
                         default lifetime)",
                        f.call,
                        resolves(text, v)
                    ),
                    &r.trace,
                ),
                Ok(v @ Val::Int(0)) => finding(
                    format!(
                        "{} $lifeTime {}: infinite with use_lua (Cm's default), deleted at \
                         once without Lua",
                        f.call,
                        resolves(text, v)
                    ),
                    &r.trace,
                ),
                Ok(_) => Vec::new(),
            },
        },
        Verdict::RedisSet => {
            if f.args.len() < 2 || f.expire_in_scope {
                return Vec::new();
            }
            let opts = &f.args[2..];
            let opt_texts = f.texts[2.min(f.texts.len())..].join(", ");
            if opts.is_empty() {
                return finding(
                    format!("{} has no TTL argument: the key never expires", f.call),
                    &[],
                );
            }
            redis_set_options(f, opts, &opt_texts)
        }
        Verdict::NeedsExpire => {
            if f.expire_in_scope {
                Vec::new()
            } else {
                let key = f.texts.first().map_or("the key", String::as_str);
                finding(
                    format!(
                        "{} creates `{key}` without TTL and no expire/pexpire/expireat on it \
                         follows in the same function",
                        f.call
                    ),
                    &[],
                )
            }
        }
        Verdict::NonPersistentGroups => Vec::new(),
        Verdict::MedusaCaching => {
            let Some(r) = arg else { return Vec::new() };
            let Ok(Val::Map(props)) = &r.v else {
                // The v1/v2.0 positional set(key, data, ttl): 0 means "not cached".
                return Vec::new();
            };
            match props
                .iter()
                .rev()
                .find(|(k, _)| k.as_deref() == Some("ttl"))
            {
                None => Vec::new(),
                Some((_, t)) => match &t.v {
                    Err(why) => unresolved("ttl", why, &t.trace),
                    Ok(Val::Int(0)) => vec![Outcome::Finding {
                        why: format!(
                            "{} with ttl 0: the Caching Module stores the entry forever (a falsy \
                             ttl means no expiry)",
                            f.call
                        ),
                        trace: t.trace.clone(),
                        line: None,
                    }],
                    Ok(_) => Vec::new(),
                },
            }
        }
    }
}

const EXPIRY_WORDS: &[&str] = &["ex", "px", "exat", "pxat", "keepttl"];

fn is_expiry_word(s: &str) -> bool {
    EXPIRY_WORDS.iter().any(|w| w.eq_ignore_ascii_case(s))
}

fn redis_set_options(f: &CallFacts, opts: &[R], opt_texts: &str) -> Vec<Outcome> {
    let mut pending: Option<(String, Vec<String>)> = None;
    for (i, r) in opts.iter().enumerate() {
        match &r.v {
            Err(why) => {
                if pending.is_none() {
                    pending = Some((why.clone(), r.trace.clone()));
                }
            }
            Ok(Val::Str(s)) if is_expiry_word(s) => return Vec::new(),
            Ok(Val::Map(items)) => {
                let has = items.iter().any(|(k, v)| {
                    k.as_deref()
                        .is_some_and(|k| is_expiry_word(k) || k.eq_ignore_ascii_case("expiration"))
                        || matches!(&v.v, Ok(Val::Str(s)) if is_expiry_word(s))
                });
                if has {
                    return Vec::new();
                }
            }
            Ok(v) if f.lang == Lang::Php && i == 0 => {
                // phpredis: an int third argument is a timeout (SETEX).
                match v.int() {
                    Some(n) if n > 0 => return Vec::new(),
                    Some(_) => {
                        return finding(
                            format!(
                                "{} timeout {} (not positive): the key never expires",
                                f.call,
                                resolves(f.texts.get(2).map_or("", String::as_str), v)
                            ),
                            &r.trace,
                        );
                    }
                    None => {}
                }
            }
            Ok(_) => {}
        }
    }
    if let Some((why, trace)) = pending {
        return unresolved(opt_texts, &why, &trace);
    }
    finding(
        format!(
            "{} options `{opt_texts}` give no EX/PX/EXAT/PXAT/KEEPTTL: the key never expires",
            f.call
        ),
        &[],
    )
}
