//! WordPress patches. Owns which constants take effect for each object-cache drop-in and
//! where they go:
//!
//! - classic layout with Redis Object Cache: `WP_REDIS_*` `define()`s in the active
//!   `wp-config.php`, edited in place (the first `define()` of a name is the one PHP keeps),
//!   new ones in one block before the "stop editing" comment (fallback: before the
//!   `wp-settings.php` require);
//! - Pantheon's WP Redis drop-in: the global `$redis_server` array plus `WP_CACHE_KEY_SALT`
//!   and `WP_REDIS_DEFAULT_EXPIRE_SECONDS`;
//! - Bedrock: `Config::define()` in `config/application.php` and values in `.env`
//!   (see [`bedrock`]).
//!
//! Planning is pure: files are read, never written. Every byte outside the value spans rcfg
//! manages is kept.

mod bedrock;

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use super::edit::{self, Edit, line_start};
use super::effective::Intent;
use super::render::{Templates, php_quote};
use super::{Endpoint, Patch, Plan, Planner, Target};
use crate::cms::wordpress::guarded_define;
use crate::fsutil;
use crate::model::{Site, Transport};
use crate::syntax::php::{self, Expr, Stmt, StmtKind, Tok, Token};

pub struct WordPressPlanner;

impl Planner for WordPressPlanner {
    fn plan(&self, site: &Site, target: &Target, templates: &Templates) -> Result<Plan> {
        if site.layout == "bedrock" {
            return bedrock::plan(site, target, templates);
        }
        let config = wp_config_path(site)?;
        let rel = rel_path(&site.path, &config)?;
        let before = fsutil::read_config(&config)?;
        let stmts = with_guarded_defines(&before, parse_php(&config, &before)?);
        let mut plan = Plan::new(&site.path);
        plan.add_secret(&target.cache);
        let file = config.display().to_string();
        let ttl_key = match drop_in(site) {
            DropIn::WpRedis => "WP_REDIS_DEFAULT_EXPIRE_SECONDS",
            DropIn::RedisObjectCache { .. } => "WP_REDIS_MAXTTL",
        };
        let target = &kept_ttl(site, target, ttl_key);
        let intents = |wants: Vec<Want>| -> Vec<Intent> {
            wants
                .into_iter()
                .map(|w| Intent::WpConstant {
                    config: config.clone(),
                    name: w.name.to_string(),
                    value: w.value,
                })
                .collect()
        };
        let after = match drop_in(site) {
            DropIn::WpRedis => {
                plan.intent = intents(wp_redis_wants(target));
                plan_wp_redis(&file, &before, &stmts, target, templates, &mut plan.notes)?
            }
            DropIn::RedisObjectCache { installed } => {
                if !installed {
                    plan.notes.push(
                        "Redis Object Cache is not installed: these constants take effect once \
                         the plugin's drop-in is in place (`wp plugin install redis-cache \
                         --activate && wp redis enable`)."
                            .into(),
                    );
                }
                plan.intent = intents(classic_wants(target));
                plan_classic(&file, &before, &stmts, target, templates, &mut plan.notes)?
            }
        };
        plan.patches
            .push(Patch::edit(&site.path, rel, before, after));
        Ok(plan)
    }
}

/// `target` with the site's own positive TTL (`key` as detect read it) unless the user gave
/// one.
pub(super) fn kept_ttl(site: &Site, target: &Target, key: &str) -> Target {
    let mut t = target.clone();
    if target.ttl_explicit {
        return t;
    }
    let own = site
        .redis
        .cache
        .as_ref()
        .and_then(|c| c.ttl.iter().find(|s| s.key == key))
        .and_then(|s| match &s.value {
            Value::Number(n) => n.as_u64(),
            Value::String(v) => v.trim().parse::<u64>().ok(),
            _ => None,
        })
        .filter(|v| *v > 0);
    if let Some(v) = own {
        t.ttl = v;
    }
    t
}

/// Which object-cache drop-in the constants are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DropIn {
    /// Redis Object Cache (rhubarbgroup/redis-cache); `installed` when the plugin or its
    /// drop-in is present.
    RedisObjectCache { installed: bool },
    /// Pantheon's WP Redis (`$redis_server`).
    WpRedis,
}

/// The drop-in in place decides; without one, an installed WP Redis plugin (and no Redis
/// Object Cache plugin) does.
fn drop_in(site: &Site) -> DropIn {
    let has = |n: &str| site.redis.components.iter().any(|c| c.name == n);
    let rc = site
        .redis
        .components
        .iter()
        .any(|c| c.name.starts_with("redis-cache"));
    let wp_redis = site
        .redis
        .components
        .iter()
        .any(|c| c.name.starts_with("wp-redis"));
    if has("redis-cache-dropin") {
        DropIn::RedisObjectCache { installed: true }
    } else if has("wp-redis-dropin") || (!rc && wp_redis) {
        DropIn::WpRedis
    } else {
        DropIn::RedisObjectCache { installed: rc }
    }
}

/// The active `wp-config.php`: the detector's choice, else `ABSPATH/wp-config.php`, else the
/// one in the parent directory (as `wp-load.php` looks for it).
fn wp_config_path(site: &Site) -> Result<PathBuf> {
    if let Some(c) = site.config_files.iter().find(|c| c.role == "wp-config") {
        return Ok(c.path.clone());
    }
    let abspath = site.docroot.clone().unwrap_or_else(|| site.path.clone());
    let own = abspath.join("wp-config.php");
    if own.is_file() {
        return Ok(own);
    }
    if let Some(parent) = abspath.parent() {
        let up = parent.join("wp-config.php");
        if up.is_file() && !parent.join("wp-settings.php").is_file() {
            return Ok(up);
        }
    }
    bail!(
        "{}: no wp-config.php found (looked in {} and its parent); create it from wp-config-sample.php first — nothing written",
        site.path.display(),
        abspath.display()
    )
}

/// `path` relative to the site root, for diff headers.
pub(super) fn rel_path(root: &Path, path: &Path) -> Result<PathBuf> {
    path.strip_prefix(root)
        .map(Path::to_path_buf)
        .map_err(|_| {
            anyhow!(
                "{}: outside the site root {}; rcfg only patches files below the site root — nothing written",
                path.display(),
                root.display()
            )
        })
}

/// Parse PHP or refuse, naming the file and line.
pub(super) fn parse_php(path: &Path, text: &str) -> Result<Vec<Stmt>> {
    php::parse(text).map_err(|e| {
        anyhow!(
            "{}:{}: cannot parse this PHP file ({}); fix the syntax (check with `php -l`) and run rcfg apply again — nothing written",
            path.display(),
            e.line,
            e.message
        )
    })
}

/// The guarded idiom `defined('X') || define('X', v);` (or `or`) as a plain `Define`
/// statement (the whole statement's span, the value's span), so it is read and edited in
/// place like the first `define()` it amounts to.
fn with_guarded_defines(src: &str, mut stmts: Vec<Stmt>) -> Vec<Stmt> {
    let Ok(tokens) = php::lex(src) else {
        return stmts;
    };
    let tokens: Vec<Token> = tokens
        .into_iter()
        .filter(|t| !matches!(t.kind, Tok::Comment(_) | Tok::InlineHtml))
        .collect();
    for s in &mut stmts {
        let StmtKind::Expr(e) = &s.kind else {
            continue;
        };
        let Some((name, value)) = guarded_define(e) else {
            continue;
        };
        let is_define = |i: usize| {
            let t = &tokens[i];
            t.start >= s.start
                && t.end <= s.end
                && matches!(&t.kind, Tok::Ident(n) if n.trim_start_matches('\\').eq_ignore_ascii_case("define"))
                && matches!(tokens.get(i + 1).map(|t| &t.kind), Some(Tok::Punct("(")))
        };
        let Some(at) = (0..tokens.len()).find(|&i| is_define(i)) else {
            continue;
        };
        let Ok((args, _)) = php::parse_args_at(&tokens, at + 1) else {
            continue;
        };
        let Some(arg) = args.get(1) else {
            continue;
        };
        s.kind = StmtKind::Define {
            name,
            value: value.clone(),
            value_start: arg.start,
            value_end: arg.end,
        };
    }
    stmts
}

/// The prefix as Redis Object Cache wants it: ending in `:` (the blog part follows).
fn wp_prefix(prefix: &str) -> String {
    if prefix.ends_with(':') {
        prefix.to_string()
    } else {
        format!("{prefix}:")
    }
}

/// One constant rcfg manages and the value it should have.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Want {
    pub name: &'static str,
    pub value: Value,
}

fn want(name: &'static str, value: Value) -> Want {
    Want { name, value }
}

/// The password value: a string, or `[user, password]` for an ACL user.
fn password_value(ep: &Endpoint) -> Option<Value> {
    let pw = ep.password.as_ref()?;
    Some(match &ep.username {
        Some(u) => json!([u, pw.expose()]),
        None => Value::String(pw.expose().to_string()),
    })
}

/// Redis Object Cache constants for `target` (classic and Bedrock).
pub(super) fn classic_wants(target: &Target) -> Vec<Want> {
    let mut w = Vec::new();
    match &target.cache.transport {
        Transport::Unix { path } => {
            w.push(want("WP_REDIS_SCHEME", json!("unix")));
            w.push(want("WP_REDIS_PATH", json!(path)));
        }
        Transport::Tcp { host, port } => {
            w.push(want("WP_REDIS_SCHEME", json!("tcp")));
            w.push(want("WP_REDIS_HOST", json!(host)));
            w.push(want("WP_REDIS_PORT", json!(port)));
        }
        Transport::Tls { host, port } => {
            w.push(want("WP_REDIS_SCHEME", json!("tls")));
            w.push(want("WP_REDIS_HOST", json!(host)));
            w.push(want("WP_REDIS_PORT", json!(port)));
        }
    }
    w.push(want("WP_REDIS_DATABASE", json!(target.db)));
    w.push(want("WP_REDIS_PREFIX", json!(wp_prefix(&target.prefix))));
    w.push(want("WP_REDIS_MAXTTL", json!(target.ttl)));
    if let Some(pw) = password_value(&target.cache) {
        w.push(want("WP_REDIS_PASSWORD", pw));
    }
    w
}

/// A PHP literal for a JSON value (strings single-quoted, arrays in `[ … ]` form).
pub(super) fn php_literal(v: &Value) -> String {
    match v {
        Value::String(s) => php_quote(s),
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => format!(
            "[ {} ]",
            items.iter().map(php_literal).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "[ {} ]",
            map.iter()
                .map(|(k, v)| format!("{} => {}", php_quote(k), php_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// True when `expr` already evaluates to `want` as the plugin reads it (digit strings count
/// as the int they are cast to).
pub(super) fn matches(expr: &Expr, want: &Value) -> bool {
    match want {
        Value::String(s) => expr.as_str() == Some(s.as_str()),
        Value::Number(n) => n.as_i64().is_some() && expr.as_int() == n.as_i64(),
        Value::Null => expr.literal() == Some(Value::Null),
        Value::Bool(b) => expr.literal() == Some(Value::Bool(*b)),
        Value::Array(items) => expr.as_array().is_some_and(|have| {
            have.len() == items.len()
                && have
                    .iter()
                    .zip(items)
                    .all(|(h, w)| h.key.is_none() && matches(&h.value, w))
        }),
        Value::Object(_) => false,
    }
}

/// Where new constants go: the start of the line of the "stop editing" comment, else of the
/// `wp-settings.php` require.
fn find_anchor(src: &str, stmts: &[Stmt]) -> Option<usize> {
    if let Ok(tokens) = php::lex(src) {
        for t in &tokens {
            if let Tok::Comment(text) = &t.kind {
                let lower = text.to_lowercase();
                if lower.contains("stop editing") && !lower.contains("between this line") {
                    return Some(line_start(src, t.start));
                }
            }
        }
    }
    settings_require(stmts).map(|s| line_start(src, s.start))
}

/// The `require_once ABSPATH . 'wp-settings.php';` statement.
fn settings_require(stmts: &[Stmt]) -> Option<&Stmt> {
    stmts.iter().find(|s| {
        matches!(&s.kind, StmtKind::Include { path, .. } if path.describe().contains("wp-settings.php"))
    })
}

/// An edit removing statement `s` with its line (when it is alone on it).
fn remove_stmt(src: &str, s: &Stmt) -> Edit {
    let start = line_start(src, s.start);
    let alone_before = src[start..s.start].trim().is_empty();
    let rest = &src[s.end..];
    let ws = rest.len() - rest.trim_start_matches([' ', '\t', '\r']).len();
    let alone_after = src[s.end + ws..].starts_with('\n');
    if alone_before && alone_after {
        Edit {
            start,
            end: s.end + ws + 1,
            text: String::new(),
        }
    } else {
        Edit {
            start: s.start,
            end: s.end,
            text: String::new(),
        }
    }
}

/// Every `define()` of `name`, in source order.
fn defines_of<'a>(stmts: &'a [Stmt], name: &str) -> Vec<(&'a Stmt, &'a Expr, usize, usize)> {
    stmts
        .iter()
        .filter_map(|s| match &s.kind {
            StmtKind::Define {
                name: n,
                value,
                value_start,
                value_end,
            } if n == name => Some((s, value, *value_start, *value_end)),
            _ => None,
        })
        .collect()
}

/// Edits that give every wanted constant its value: the first `define()` of a name is edited
/// in place; missing ones are returned for the new block. Later duplicates are left alone
/// and reported.
fn edit_defines<'w>(
    file: &str,
    file_src: &str,
    stmts: &[Stmt],
    wants: &'w [Want],
    edits: &mut Vec<Edit>,
    notes: &mut Vec<String>,
) -> Vec<&'w Want> {
    let require = settings_require(stmts).map(|s| s.start);
    let mut missing = Vec::new();
    for w in wants {
        let defs = defines_of(stmts, w.name);
        let Some((first, value, vs, ve)) = defs.first() else {
            missing.push(w);
            continue;
        };
        if !matches(value, &w.value) {
            if value.literal().is_none() && value.as_array().is_none() {
                notes.push(format!(
                    "{file}:{}: {} was computed ({}); rcfg replaces it with a literal value.",
                    first.line,
                    w.name,
                    value.describe()
                ));
            }
            edits.push(Edit {
                start: *vs,
                end: *ve,
                text: php_literal(&w.value),
            });
        }
        if require.is_some_and(|r| first.start > r) {
            notes.push(format!(
                "{file}:{}: {} is defined after the wp-settings.php require, when WordPress has already connected; move it above the \"stop editing\" line.",
                first.line, w.name
            ));
        }
        for (dup, _, _, _) in defs.iter().skip(1) {
            if dup.conditional || first.conditional {
                notes.push(format!(
                    "{file}:{}: a second define('{}') is ignored by PHP (the first one, at line {}, wins and is the one rcfg sets); remove the duplicate.",
                    dup.line, w.name, first.line
                ));
                continue;
            }
            notes.push(format!(
                "{file}:{}: removed a second define('{}'): PHP ignores it (the first one, at line {}, wins and is the one rcfg sets).",
                dup.line, w.name, first.line
            ));
            edits.push(remove_stmt(file_src, dup));
        }
    }
    missing
}

/// The new block of constants (and, for WP Redis, the `$redis_server` array), inserted at
/// the anchor.
#[allow(clippy::too_many_arguments)]
fn insert_block(
    file: &str,
    src: &str,
    stmts: &[Stmt],
    title: &str,
    redis_server: &str,
    missing: &[&Want],
    templates: &Templates,
    edits: &mut Vec<Edit>,
) -> Result<()> {
    if missing.is_empty() && redis_server.is_empty() {
        return Ok(());
    }
    let at = find_anchor(src, stmts).ok_or_else(|| {
        anyhow!(
            "{file}: no usable anchor in wp-config.php: add the stop-editing comment (/* That's all, stop editing! Happy publishing. */) or the wp-settings.php require (require_once ABSPATH . 'wp-settings.php';) — nothing written"
        )
    })?;
    let defines: Vec<Value> = missing
        .iter()
        .map(|w| json!({"name": w.name, "value": php_literal(&w.value)}))
        .collect();
    let text = templates.render(
        "wordpress/defines.php",
        &json!({"title": title, "redis_server": redis_server, "defines": defines}),
    )?;
    edits.push(Edit {
        start: at,
        end: at,
        text,
    });
    Ok(())
}

fn first_define_line(stmts: &[Stmt], name: &str) -> Option<usize> {
    defines_of(stmts, name).first().map(|(s, ..)| s.line)
}

fn plan_classic(
    file: &str,
    src: &str,
    stmts: &[Stmt],
    target: &Target,
    templates: &Templates,
    notes: &mut Vec<String>,
) -> Result<String> {
    for multi in [
        "WP_REDIS_SERVERS",
        "WP_REDIS_SHARDS",
        "WP_REDIS_CLUSTER",
        "WP_REDIS_SENTINEL",
    ] {
        if let Some(line) = first_define_line(stmts, multi) {
            bail!(
                "{file}:{line}: {multi} is defined, so Redis Object Cache ignores the single-server constants rcfg writes; remove it to use one server, or configure the cluster by hand — nothing written"
            );
        }
    }
    let wants = classic_wants(target);
    let mut edits = Vec::new();
    let missing = edit_defines(file, src, stmts, &wants, &mut edits, notes);
    // Pantheon's TTL constant does nothing for Redis Object Cache, whose WP_REDIS_MAXTTL rcfg
    // sets: removed, so no lint keeps pointing at it.
    for (s, ..) in defines_of(stmts, "WP_REDIS_DEFAULT_EXPIRE_SECONDS") {
        if !s.conditional {
            notes.push(format!(
                "{file}:{}: removed WP_REDIS_DEFAULT_EXPIRE_SECONDS: it belongs to Pantheon's WP Redis and Redis Object Cache never reads it (WP_REDIS_MAXTTL is its cap).",
                s.line
            ));
            edits.push(remove_stmt(src, s));
        }
    }
    insert_block(
        file,
        src,
        stmts,
        "Redis Object Cache",
        "",
        &missing,
        templates,
        &mut edits,
    )?;
    contradiction_notes(file, stmts, target, notes);
    notes.extend(edit::replacement_notes(file, src, &edits));
    edit::apply_eol(src, edits)
}

/// Constants rcfg leaves in place although the new connection makes them moot.
fn contradiction_notes(file: &str, stmts: &[Stmt], target: &Target, notes: &mut Vec<String>) {
    let ignored: &[&str] = match target.cache.transport {
        Transport::Unix { .. } => &["WP_REDIS_HOST", "WP_REDIS_PORT"],
        _ => &["WP_REDIS_PATH"],
    };
    let scheme = match target.cache.transport {
        Transport::Unix { .. } => "unix",
        Transport::Tcp { .. } => "tcp",
        Transport::Tls { .. } => "tls",
    };
    for name in ignored {
        if let Some(line) = first_define_line(stmts, name) {
            notes.push(format!(
                "{file}:{line}: {name} is left in place; Redis Object Cache ignores it with WP_REDIS_SCHEME '{scheme}'."
            ));
        }
    }
    if target.cache.password.is_none()
        && let Some(line) = first_define_line(stmts, "WP_REDIS_PASSWORD")
    {
        notes.push(format!(
            "{file}:{line}: WP_REDIS_PASSWORD is left unchanged (no password given; set RCFG_REDIS_PASSWORD or --password-file to change it)."
        ));
    }
    if let Some(line) = first_define_line(stmts, "WP_CACHE_KEY_SALT") {
        notes.push(format!(
            "{file}:{line}: WP_CACHE_KEY_SALT is left in place; Redis Object Cache uses WP_REDIS_PREFIX instead when both are defined."
        ));
    }
    if let Some((s, ..)) = defines_of(stmts, "WP_REDIS_DEFAULT_EXPIRE_SECONDS")
        .into_iter()
        .find(|(s, ..)| s.conditional)
    {
        notes.push(format!(
            "{file}:{}: WP_REDIS_DEFAULT_EXPIRE_SECONDS belongs to Pantheon's WP Redis; Redis Object Cache never reads it (WP_REDIS_MAXTTL is its cap); it is conditional, so it is left alone.",
            s.line
        ));
    }
    if let Some((s, v, ..)) = defines_of(stmts, "WP_REDIS_DISABLED").first()
        && v.literal() == Some(Value::Bool(true))
    {
        notes.push(format!(
            "{file}:{}: WP_REDIS_DISABLED is true, so the object cache stays off until it is removed.",
            s.line
        ));
    }
}

/// `$redis_server` for Pantheon's WP Redis: socket path as host with a null port.
fn redis_server_items(target: &Target) -> Vec<(&'static str, Value)> {
    let mut items = match &target.cache.transport {
        Transport::Unix { path } => vec![("host", json!(path)), ("port", Value::Null)],
        Transport::Tcp { host, port } | Transport::Tls { host, port } => {
            vec![("host", json!(host)), ("port", json!(port))]
        }
    };
    items.push(("database", json!(target.db)));
    if let Some(pw) = password_value(&target.cache) {
        items.push(("auth", pw));
    }
    items
}

/// The constants WP Redis reads next to `$redis_server`.
fn wp_redis_wants(target: &Target) -> Vec<Want> {
    vec![
        want("WP_CACHE_KEY_SALT", json!(wp_prefix(&target.prefix))),
        want("WP_REDIS_DEFAULT_EXPIRE_SECONDS", json!(target.ttl)),
    ]
}

fn plan_wp_redis(
    file: &str,
    src: &str,
    stmts: &[Stmt],
    target: &Target,
    templates: &Templates,
    notes: &mut Vec<String>,
) -> Result<String> {
    if matches!(target.cache.transport, Transport::Tls { .. }) {
        bail!(
            "{file}: Pantheon's WP Redis drop-in has no TLS setting in $redis_server; use a socket or plain TCP, or switch to Redis Object Cache — nothing written"
        );
    }
    let mut edits = Vec::new();
    let items = redis_server_items(target);
    let mut new_array = String::new();
    // The last top-level `$redis_server = …;` is the one in effect.
    let assign = stmts.iter().rev().find_map(|s| match &s.kind {
        StmtKind::Assign {
            op: "=",
            target: Expr::Var { name, path },
            value,
            value_start,
            value_end,
        } if name == "redis_server" && path.is_empty() => {
            Some((s, value, *value_start, *value_end))
        }
        _ => None,
    });
    let render_array = |items: &[(&str, Value)]| -> Result<String> {
        let rows: Vec<Value> = items
            .iter()
            .map(|(k, v)| json!({"key": k, "value": php_literal(v)}))
            .collect();
        let text = templates.render("wordpress/redis-server.php", &json!({ "items": rows }))?;
        Ok(text.trim_end().to_string())
    };
    match assign {
        None => new_array = render_array(&items)?,
        Some((stmt, value, vs, ve)) => match value.as_array() {
            Some(have) if !have.is_empty() => {
                let mut missing = Vec::new();
                for (key, v) in &items {
                    match value.get(key) {
                        Some(item) if matches(&item.value, v) => {}
                        Some(item) => edits.push(Edit {
                            start: item.value_start,
                            end: item.value_end,
                            text: php_literal(v),
                        }),
                        None => missing.push((*key, v)),
                    }
                }
                if !missing.is_empty() {
                    let last = have.last().expect("non-empty");
                    let indent: String = src[line_start(src, last.start)..]
                        .chars()
                        .take_while(|c| *c == ' ' || *c == '\t')
                        .collect();
                    let rest = &src[last.end..];
                    let comma = rest.trim_start().starts_with(',');
                    let mut text = String::new();
                    let at = if comma {
                        last.end + rest.find(',').expect("comma") + 1
                    } else {
                        last.end
                    };
                    for (k, v) in &missing {
                        if comma {
                            text.push_str(&format!(
                                "\n{indent}{} => {},",
                                php_quote(k),
                                php_literal(v)
                            ));
                        } else {
                            text.push_str(&format!(
                                ",\n{indent}{} => {}",
                                php_quote(k),
                                php_literal(v)
                            ));
                        }
                    }
                    edits.push(Edit {
                        start: at,
                        end: at,
                        text,
                    });
                }
                if target.cache.password.is_none() && value.get("auth").is_some() {
                    notes.push(format!(
                        "{file}:{}: $redis_server['auth'] is left unchanged (no password given; set RCFG_REDIS_PASSWORD or --password-file to change it).",
                        stmt.line
                    ));
                }
            }
            _ => {
                notes.push(format!(
                    "{file}:{}: $redis_server was {}; rcfg replaces it with a literal array.",
                    stmt.line,
                    value.describe()
                ));
                edits.push(Edit {
                    start: vs,
                    end: ve,
                    text: render_array(&items)?,
                });
            }
        },
    }
    let wants = wp_redis_wants(target);
    let missing = edit_defines(file, src, stmts, &wants, &mut edits, notes);
    let redis_server = if new_array.is_empty() {
        String::new()
    } else {
        format!("$redis_server = {new_array};")
    };
    insert_block(
        file,
        src,
        stmts,
        "WP Redis (Pantheon)",
        &redis_server,
        &missing,
        templates,
        &mut edits,
    )?;
    notes.extend(edit::replacement_notes(file, src, &edits));
    notes.push(
        "WP Redis: WP_REDIS_DEFAULT_EXPIRE_SECONDS only changes the default of the $expire argument; callers that pass 0 explicitly (e.g. set_transient(…, 0)) still store keys without expiry, and hash groups (WP_REDIS_USE_CACHE_GROUPS) ignore expiry."
            .into(),
    );
    edit::apply_eol(src, edits)
}

#[cfg(test)]
mod tests;
