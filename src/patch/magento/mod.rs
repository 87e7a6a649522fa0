//! Magento 2 patches: merge the Redis cache, full-page cache and session settings into
//! `app/etc/env.php`'s returned array, editing it in place (see [`edit`]). What is written
//! comes from `templates/magento/env.php` (values rcfg manages) and
//! `templates/magento/env-defaults.php` (setup defaults, added only where missing); the
//! equivalent `bin/magento setup:config:set` command comes from
//! `templates/magento/setup-config-set.txt` and is added to the plan's notes.
//!
//! Knobs, per reference 3B/3C: `id_prefix` at the frontend level (Magento's own
//! `[a-zA-Z0-9_]` form of the site prefix), the backend class the installed version uses,
//! the socket as `server` with port `0`, one database per frontend, and
//! `auto_expire_lifetime` + `auto_expire_pattern` — the only settings that bound entries
//! saved with a null lifetime. `default_lifetime`, `min_lifetime`, `max_lifetime` and
//! `id_prefix` inside `backend_options` are never read by Cm_Cache_Backend_Redis and are
//! removed. Sessions go to the persistent instance.

pub mod edit;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use self::edit::{Outcome, Style, Want};
use super::cmd::{DEFAULT_PASSWORD_ENV, DEFAULT_SESSION_PASSWORD_ENV};
use super::render::{Templates, php_quote};
use super::{Endpoint, Patch, Plan, Planner, Target};
use crate::model::{Cms, Site, Transport};
use crate::syntax::php::{self, ArrayItem, Expr, StmtKind};

pub struct MagentoPlanner;

/// Where Magento keeps its deployment config, relative to the site root.
pub const ENV_PHP: &str = "app/etc/env.php";

/// Keys inside `backend_options` that Cm_Cache_Backend_Redis never reads (reference 3B,
/// Surprise 13). `id_prefix` belongs one level up, where rcfg sets it.
pub const DEAD_BACKEND_OPTIONS: &[&str] = &[
    "default_lifetime",
    "min_lifetime",
    "max_lifetime",
    "id_prefix",
    "lifetimelimit",
];

const CM_BACKEND: &str = "Cm_Cache_Backend_Redis";
const M24_BACKEND: &str = "Magento\\Framework\\Cache\\Backend\\Redis";

impl Planner for MagentoPlanner {
    fn plan(&self, site: &Site, target: &Target, templates: &Templates) -> Result<Plan> {
        if site.cms != Cms::Magento2 || !site.supported {
            bail!(
                "{}: {} — nothing written",
                site.path.display(),
                site.unsupported_reason.as_deref().unwrap_or(
                    "not a Magento 2 site; rcfg apply only patches Magento 2 (app/etc/env.php)"
                )
            );
        }
        let rel = env_rel(site);
        let path = site.path.join(&rel);
        if !path.exists() {
            bail!(
                "{}: not found — Magento 2 keeps its deployment config there; run bin/magento setup:install (or restore the file) first; nothing written",
                path.display()
            );
        }
        let before = crate::fsutil::read_config(&path)?;
        let mut plan = Plan::new(&site.path);
        let after = patch_env_php(&path, &before, site, target, templates, &mut plan)?;
        plan.patches
            .push(Patch::edit(&site.path, rel, before, after));
        plan.add_secret(&target.cache);
        plan.add_secret(&target.session);
        Ok(plan)
    }
}

/// `app/etc/env.php` relative to the site root (from the detector's config files when it
/// named one).
fn env_rel(site: &Site) -> PathBuf {
    site.config_files
        .iter()
        .find(|c| c.role == "env.php")
        .and_then(|c| c.path.strip_prefix(&site.path).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from(ENV_PHP))
}

/// Magento's form of a key prefix: cache ids must match `[a-zA-Z0-9_]+` (Zend_Cache_Core
/// validates the prefixed id), so `shop1:` becomes `shop1_`, the same shape as the `69d_`
/// prefixes setup generates.
pub fn id_prefix(prefix: &str) -> String {
    prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `(major, minor)` of the Magento release line, from the detected version. Framework
/// package versions (100.x–103.x) and Mage-OS releases are mapped to the Magento line.
pub fn release_line(version: Option<&str>, mage_os: bool) -> Option<(u32, u32)> {
    let v = version?.trim().trim_start_matches('v');
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major: u32 = parts.next()?.parse().ok()?;
    let minor: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    match major {
        _ if mage_os && major < 100 => Some((2, 4)),
        2 => Some((2, minor)),
        100 => Some((2, minor)),
        101 => Some((2, 2)),
        102 => Some((2, 3)),
        103 => Some((2, 4)),
        _ => None,
    }
}

fn is_mage_os(site: &Site) -> bool {
    site.path.join("vendor/mage-os").is_dir()
        || crate::fsutil::read_config(&site.path.join("composer.json"))
            .is_ok_and(|t| t.contains("mage-os/product-community-edition"))
}

/// Backend values that name Valkey or the newest setup's bare `redis`: kept as they are.
fn is_newer_backend(b: &str) -> bool {
    let t = b.trim_start_matches('\\');
    t.eq_ignore_ascii_case("redis")
        || t.eq_ignore_ascii_case("valkey")
        || t == "Magento\\Framework\\Cache\\Backend\\Valkey"
}

fn is_redis_backend(b: &str) -> bool {
    let t = b.trim_start_matches('\\');
    t == CM_BACKEND || t == M24_BACKEND || is_newer_backend(t)
}

/// The backend value to write, given the existing one and the release line.
pub fn backend_for(existing: Option<&str>, line: Option<(u32, u32)>) -> String {
    if let Some(e) = existing
        && is_newer_backend(e)
    {
        return e.to_string();
    }
    let want = match line {
        Some((2, minor)) if minor <= 3 => CM_BACKEND,
        Some(_) => M24_BACKEND,
        None => match existing {
            Some(e) if is_redis_backend(e) => return e.to_string(),
            _ => CM_BACKEND,
        },
    };
    match existing {
        // `\Magento\…\Redis` is the same class: keep the site's spelling.
        Some(e) if e.trim_start_matches('\\') == want => e.to_string(),
        _ => want.to_string(),
    }
}

#[derive(Serialize)]
struct ConnData {
    server: String,
    port: String,
    password: String,
    has_password: bool,
    password_env: &'static str,
}

impl ConnData {
    fn new(ep: &Endpoint, password_env: &'static str) -> ConnData {
        let (server, port) = match &ep.transport {
            // Credis ignores the port for a socket path; setup writes '0'.
            Transport::Unix { path } => (path.clone(), "0".to_string()),
            Transport::Tcp { host, port } => (host.clone(), port.to_string()),
            Transport::Tls { host, port } => (format!("tls://{host}"), port.to_string()),
        };
        ConnData {
            server,
            port,
            password: ep
                .password
                .as_ref()
                .map(|p| p.expose().to_string())
                .unwrap_or_default(),
            has_password: ep.password.is_some(),
            password_env,
        }
    }
}

#[derive(Serialize)]
struct EnvData {
    root: String,
    id_prefix: String,
    backend: String,
    page_cache_backend: String,
    /// `redis` or `valkey`: the setup:config:set flag family.
    kind: &'static str,
    cache: ConnData,
    session: ConnData,
    db: String,
    page_cache_db: String,
    session_db: String,
    ttl: u64,
    session_ttl: u64,
}

/// The returned array of `env.php`, or a refusal naming the file and the reason.
const WHAT_TO_DO: &str = "rcfg only edits a plain `return [ … ];` array; make env.php a literal array again (bin/magento setup:config:set writes one) or set Redis with the setup:config:set command shown by `rcfg apply --dry-run`; nothing written";

/// Refuse an env.php that includes another file anywhere (a statement or an expression):
/// its settings may come from, or be overridden by, a file rcfg does not edit.
fn refuse_includes(path: &Path, src: &str) -> Result<()> {
    let tokens = php::lex(src).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}: cannot read env.php as PHP: {}; fix the syntax (php -l) first; nothing written",
            path.display(),
            e.line,
            e.message
        )
    })?;
    for t in &tokens {
        if let php::Tok::Ident(word) = &t.kind {
            let w = word.to_ascii_lowercase();
            if matches!(
                w.as_str(),
                "include" | "include_once" | "require" | "require_once"
            ) {
                bail!(
                    "{}:{}: env.php includes another file ({w}), so its settings may come from or be overridden by a file rcfg does not edit; {WHAT_TO_DO}",
                    path.display(),
                    t.line
                );
            }
        }
    }
    Ok(())
}

fn returned_array<'a>(
    path: &Path,
    stmts: &'a [php::Stmt],
) -> Result<(&'a [ArrayItem], usize, usize)> {
    for s in stmts {
        if let StmtKind::Return {
            value,
            value_start,
            value_end,
        } = &s.kind
        {
            if s.conditional {
                bail!(
                    "{}:{}: env.php returns its array conditionally; {WHAT_TO_DO}",
                    path.display(),
                    s.line
                );
            }
            return match value {
                Expr::Array(items) => Ok((items, *value_start, *value_end)),
                other => bail!(
                    "{}:{}: env.php returns {}, not a literal array; {WHAT_TO_DO}",
                    path.display(),
                    s.line,
                    other.describe()
                ),
            };
        }
    }
    bail!(
        "{}: no `return [ … ];` found — this is not a Magento 2 deployment config; {WHAT_TO_DO}",
        path.display()
    )
}

/// The entry at `keys` below `items`.
fn lookup<'a>(items: &'a [ArrayItem], keys: &[&str]) -> Option<&'a ArrayItem> {
    let (first, rest) = keys.split_first()?;
    let item = items
        .iter()
        .rev()
        .find(|i| i.key.as_ref().and_then(Expr::key_string).as_deref() == Some(*first))?;
    if rest.is_empty() {
        Some(item)
    } else {
        lookup(item.value.as_array()?, rest)
    }
}

/// A string value (or `Class::class`) at `keys`.
fn lookup_str(items: &[ArrayItem], keys: &[&str]) -> Option<String> {
    match edit::value_of(&lookup(items, keys)?.value)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

/// Parse a rendered template (`<?php return [ … ];`) into a wanted tree.
fn want_of(name: &str, text: &str, force: bool) -> Result<Vec<(String, Want)>> {
    let stmts = php::parse(text)
        .map_err(|e| anyhow::anyhow!("templates/{name}.hbs renders invalid PHP: {e}"))?;
    let items = stmts
        .iter()
        .find_map(|s| match &s.kind {
            StmtKind::Return {
                value: Expr::Array(items),
                ..
            } => Some(items),
            _ => None,
        })
        .with_context(|| format!("templates/{name}.hbs does not return an array"))?;
    edit::want_from(text, items, force)
}

/// Compute the patched text of `env.php`.
fn patch_env_php(
    path: &Path,
    before: &str,
    site: &Site,
    target: &Target,
    templates: &Templates,
    plan: &mut Plan,
) -> Result<String> {
    let stmts = php::parse(before).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}: cannot read env.php as PHP: {}; fix the syntax (php -l) first; nothing written",
            path.display(),
            e.line,
            e.message
        )
    })?;
    refuse_includes(path, before)?;
    let (items, start, end) = returned_array(path, &stmts)?;

    // Backends: the right name for the installed release; Valkey/bare names are kept.
    let line = release_line(site.version.as_deref(), is_mage_os(site));
    let existing_default = lookup_str(items, &["cache", "frontend", "default", "backend"]);
    let existing_page = lookup_str(items, &["cache", "frontend", "page_cache", "backend"]);
    let backend = backend_for(existing_default.as_deref(), line);
    // A page cache without a backend of its own follows a Valkey/bare default.
    let page_cache_backend = backend_for(
        existing_page
            .as_deref()
            .or(existing_default.as_deref().filter(|b| is_newer_backend(b))),
        line,
    );
    if line.is_none() {
        plan.notes.push(format!(
            "Magento version unknown{}: backend set to {backend}",
            site.version
                .as_deref()
                .map(|v| format!(" ({v})"))
                .unwrap_or_default()
        ));
    }
    let kind = if backend.to_ascii_lowercase().contains("valkey") {
        "valkey"
    } else {
        "redis"
    };
    let data = EnvData {
        root: site.path.display().to_string(),
        id_prefix: id_prefix(&target.prefix),
        backend: backend.clone(),
        page_cache_backend,
        kind,
        cache: ConnData::new(&target.cache, DEFAULT_PASSWORD_ENV),
        session: ConnData::new(&target.session, DEFAULT_SESSION_PASSWORD_ENV),
        db: target.db.to_string(),
        page_cache_db: target.page_cache_db.to_string(),
        session_db: target.session_db.to_string(),
        ttl: target.ttl,
        session_ttl: target.session_ttl,
    };

    let mut want = want_of(
        "magento/env.php",
        &templates.render("magento/env.php", &data)?,
        true,
    )?;
    let defaults = want_of(
        "magento/env-defaults.php",
        &templates.render("magento/env-defaults.php", &data)?,
        false,
    )?;
    edit::add_missing(&mut want, defaults);
    for frontend in ["default", "page_cache"] {
        let opts = edit::subtree(
            &mut want,
            &["cache", "frontend", frontend, "backend_options"],
        );
        if let Some(user) = &target.cache.username {
            opts.push((
                "username".into(),
                Want::Leaf {
                    src: php_quote(user),
                    value: user.clone().into(),
                    force: true,
                },
            ));
        }
        for dead in DEAD_BACKEND_OPTIONS {
            opts.push(((*dead).to_string(), Want::Remove));
        }
        // A positive auto_expire_lifetime of the site's own stays unless --ttl was given.
        let have = lookup(
            items,
            &[
                "cache",
                "frontend",
                frontend,
                "backend_options",
                "auto_expire_lifetime",
            ],
        )
        .and_then(|i| edit::value_of(&i.value))
        .and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.parse::<i64>().ok(),
            _ => None,
        });
        if !target.ttl_explicit
            && have.is_some_and(|t| t > 0)
            && let Some((_, Want::Leaf { force, .. })) =
                opts.iter_mut().find(|(k, _)| k == "auto_expire_lifetime")
        {
            *force = false;
        }
    }
    if let Some(user) = &target.session.username {
        edit::subtree(&mut want, &["session", "redis"]).push((
            "username".into(),
            Want::Leaf {
                src: php_quote(user),
                value: user.clone().into(),
                force: true,
            },
        ));
    }

    // A password the site had stays when none was given (plan_site has checked that the
    // endpoint is the same server).
    for (keys, ep, env) in [
        (
            &[
                "cache",
                "frontend",
                "default",
                "backend_options",
                "password",
            ][..],
            &target.cache,
            DEFAULT_PASSWORD_ENV,
        ),
        (
            &["session", "redis", "password"][..],
            &target.session,
            DEFAULT_SESSION_PASSWORD_ENV,
        ),
    ] {
        if ep.password.is_none() && lookup_str(items, keys).is_some_and(|p| !p.is_empty()) {
            plan.notes.push(format!(
                "{} is kept: no new password was given for this endpoint (set {env} to change it)",
                keys.join("/")
            ));
        }
    }

    let style = Style {
        long: !before[start..].starts_with('['),
        unit: items
            .first()
            .and_then(|i| edit::indent_before(before, i.start))
            .filter(|i| !i.is_empty())
            .unwrap_or("    ")
            .to_string(),
        trailing_comma: items
            .last()
            .is_some_and(|l| edit::comma_after(before, l.end).is_some()),
    };
    // What env.php must say once written (forced values only), checked by the
    // post-condition on the planned text (a key set twice: the last one wins).
    fn intents(tree: &[(String, Want)], keys: &mut Vec<String>, file: &Path, plan: &mut Plan) {
        for (k, w) in tree {
            keys.push(k.clone());
            match w {
                Want::Leaf {
                    value, force: true, ..
                } => plan.intent.push(super::effective::Intent::PhpReturnKey {
                    file: file.to_path_buf(),
                    keys: keys.clone(),
                    value: value.clone(),
                }),
                Want::Tree(sub) => intents(sub, keys, file, plan),
                _ => {}
            }
            keys.pop();
        }
    }
    intents(&want, &mut Vec::new(), path, plan);
    let arr = edit::array_at(before, items, start, end, edit::line_indent(before, start))?;
    let mut outcome = Outcome::default();
    edit::merge(before, arr, &want, &style, "", &mut outcome).map_err(|c| {
        anyhow::anyhow!(
            "{}:{}: '{}' is computed ({}), not a literal value; rcfg will not guess what it evaluates to — write a literal there or configure Redis with the setup:config:set command shown by `rcfg apply --dry-run`; nothing written",
            path.display(),
            c.line,
            c.path,
            c.what
        )
    })?;
    for (key, line, old, new) in &outcome.replaced {
        plan.notes
            .push(format!("{}:{line}: {key}: {old} → {new}", path.display()));
    }
    for r in &outcome.removed {
        if r.ends_with("/lifetimelimit") {
            plan.notes.push(format!(
                "removed {r}: Cm_Cache_Backend_Redis parses it but never applies it; auto_expire_lifetime takes over"
            ));
            continue;
        }
        plan.notes.push(format!(
            "removed {r}: Cm_Cache_Backend_Redis never reads it inside backend_options{}",
            if r.ends_with("/id_prefix") {
                " (id_prefix is set at the frontend level)"
            } else {
                " (auto_expire_lifetime bounds entries saved without a lifetime)"
            }
        ));
    }
    if kind == "valkey" || backend.eq_ignore_ascii_case("redis") {
        plan.notes.push(format!(
            "backend '{backend}' (newest Magento, Symfony cache adapter): whether it honours auto_expire_lifetime is not verified; check `redis-cli ttl` on a config entry after deploying"
        ));
    }
    plan.notes.push(
        templates
            .render("magento/setup-config-set.txt", &data)?
            .trim()
            .to_string(),
    );
    let after = edit::apply(before, outcome.edits)?;
    // The result must still be a plain returned array that already matches: merging again
    // changes nothing (guards the editor itself; idempotence is a hard requirement).
    let check = php::parse(&after).map_err(|e| {
        anyhow::anyhow!(
            "{}: internal error: the patched env.php does not parse (line {}: {}); nothing written",
            path.display(),
            e.line,
            e.message
        )
    })?;
    let (items2, start2, end2) = returned_array(path, &check)?;
    let arr2 = edit::array_at(
        &after,
        items2,
        start2,
        end2,
        edit::line_indent(&after, start2),
    )?;
    let mut again = Outcome::default();
    let settled =
        edit::merge(&after, arr2, &want, &style, "", &mut again).is_ok() && again.edits.is_empty();
    if !settled {
        bail!(
            "{}: internal error: the patched env.php does not settle (a second merge would change it again); nothing written",
            path.display()
        );
    }
    Ok(after)
}

#[cfg(test)]
mod tests;
