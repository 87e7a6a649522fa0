//! Drupal 8+ patches. Owns the `settings.redis.php` rcfg writes next to the active
//! `settings.php` and the one include line that loads it.
//!
//! - `settings.redis.php` holds one block between `// BEGIN rcfg apply` and `// END rcfg
//!   apply`, guarded the way the redis module recommends. A file rcfg created is rewritten
//!   block-wise; a hand-written one is kept and rcfg's block is appended after it, so rcfg's
//!   values win while the file's other settings survive.
//! - `settings.php` gets an include of `settings.redis.php` at its end, unless some include
//!   of it already exists (in `settings.php`, or in a file it includes such as
//!   `settings.local.php`).
//! - Permanent-item TTLs are written per bin in the form the installed module line reads:
//!   `$settings['redis.settings']['perm_ttl_<bin>']` (8.x-1.x, also read by 2.x) or
//!   `$settings['redis_perm_ttl_<bin>']` (2.x).
//!
//! Drupal 7 never reaches this planner (`site.supported` is false).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde_json::{Value, json};

use super::edit::{self, Edit};
use super::render::Templates;
use super::wordpress::{parse_php, rel_path};
use super::{Patch, Plan, Planner, Target};
use crate::fsutil;
use crate::model::{Site, Transport};
use crate::syntax::php::{self, Stmt, StmtKind};

pub struct DrupalPlanner;

/// Bins that get a permanent-item TTL: the ones `cache.default` (or the ChainedFast backend
/// that uses it as its consistent layer) sends to Redis on a stock site.
pub const PERM_TTL_BINS: &[&str] = &[
    "default",
    "bootstrap",
    "config",
    "data",
    "discovery",
    "dynamic_page_cache",
    "entity",
    "menu",
    "page",
    "render",
];

const BEGIN: &str = "// BEGIN rcfg apply";
const END: &str = "// END rcfg apply";

/// The redis module line whose settings keys rcfg writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModuleLine {
    V1,
    V2,
}

/// `8.x-1.7`, `1.8.0` → 1; `2.0.0`, `8.x-2.x-dev` → 2; anything else unknown.
fn module_line(version: &str) -> Option<ModuleLine> {
    let v = version.trim().trim_start_matches('v');
    let v = v.strip_prefix("8.x-").unwrap_or(v);
    match v.split(['.', '-']).next()?.parse::<u32>().ok()? {
        1 => Some(ModuleLine::V1),
        2 => Some(ModuleLine::V2),
        _ => None,
    }
}

impl Planner for DrupalPlanner {
    fn plan(&self, site: &Site, target: &Target, templates: &Templates) -> Result<Plan> {
        let webroot = site.docroot.clone().unwrap_or_else(|| site.path.clone());
        let settings = site
            .config_files
            .iter()
            .find(|c| c.role == "settings")
            .map(|c| c.path.clone())
            .unwrap_or_else(|| webroot.join("sites/default/settings.php"));
        let settings_file = settings.display().to_string();
        let settings_before = fsutil::read_config_opt(&settings)?.ok_or_else(|| {
            anyhow!(
                "{settings_file}: not found; install the site first (drush site:install) — nothing written"
            )
        })?;
        let stmts = parse_php(&settings, &settings_before)?;
        let site_dir = settings.parent().unwrap_or(Path::new(".")).to_path_buf();
        let redis_path = site_dir.join("settings.redis.php");
        let redis_file = redis_path.display().to_string();

        let module = module_dir(&webroot).ok_or_else(|| {
            anyhow!(
                "{}: the drupal/redis module is not installed (looked in modules/contrib/redis and modules/redis); install it (composer require drupal/redis) and run rcfg apply again — nothing written",
                webroot.display()
            )
        })?;
        let mut plan = Plan::new(&site.path);
        let version = site
            .redis
            .components
            .iter()
            .find(|c| c.name == "drupal/redis")
            .and_then(|c| c.version.clone());
        let line = match version.as_deref().and_then(module_line) {
            Some(l) => l,
            None => {
                plan.notes.push(format!(
                    "drupal/redis version {}: writing the 8.x-1.x perm_ttl keys ($settings['redis.settings']['perm_ttl_<bin>']), which 2.x also reads.",
                    version.as_deref().unwrap_or("unknown")
                ));
                ModuleLine::V1
            }
        };

        // The block.
        // A hand-written settings.redis.php that already loads a services file keeps doing so.
        let existing = fsutil::read_config_opt(&redis_path)?;
        let pushed = match &existing {
            Some(text) => pushed_yamls(&parse_php(&redis_path, &outside_block(text))?),
            None => Vec::new(),
        };
        let mut yamls = Vec::new();
        for f in ["example.services.yml", "redis.services.yml"] {
            let rel = format!("{module}/{f}");
            if pushed.contains(&rel) {
                continue;
            }
            if webroot.join(&module).join(f).is_file() {
                yamls.push(rel);
            } else {
                plan.notes.push(format!(
                    "{}/{module}/{f} is missing, so it is not added to container_yamls; reinstall the redis module if this is unexpected.",
                    webroot.display()
                ));
            }
        }
        let (host, port, socket) = match &target.cache.transport {
            Transport::Unix { path } => (path.clone(), 0, true),
            Transport::Tcp { host, port } => (host.clone(), *port, false),
            Transport::Tls { host, port } => {
                plan.notes.push(
                    "TLS: the host is written as tls://host, which PhpRedis 5+ understands.".into(),
                );
                (format!("tls://{host}"), *port, false)
            }
        };
        // No new password: the one in rcfg's own block stays (plan_site has checked that the
        // endpoint is the same server); one set elsewhere stays in effect untouched.
        let password = target
            .cache
            .password
            .as_ref()
            .map(|p| p.expose().to_string())
            .or_else(|| existing.as_deref().and_then(block_password));
        plan.add_secret(&target.cache);
        if target.cache.username.is_some() {
            plan.notes.push(
                "the drupal/redis module has no ACL user name setting; only the password is written."
                    .into(),
            );
        }
        if password.is_none() && site.redis.cache.as_ref().is_some_and(|c| c.password_set) {
            plan.notes.push(
                "a Redis password is configured in the existing settings and stays in effect (no password given; set RCFG_REDIS_PASSWORD or --password-file to change it)."
                    .into(),
            );
        }
        // Dead settings in the hand-written part are removed; a wrong-version perm TTL's
        // value is carried into the right form.
        let dead = match &existing {
            Some(text) => dead_settings(&redis_path, text, line)?,
            None => Vec::new(),
        };
        let perm_ttls: Vec<Value> = PERM_TTL_BINS
            .iter()
            .map(|bin| {
                let key = match line {
                    ModuleLine::V1 => format!("['redis.settings']['perm_ttl_{bin}']"),
                    ModuleLine::V2 => format!("['redis_perm_ttl_{bin}']"),
                };
                let ttl = kept_perm_ttl(site, line, bin, &dead, target, &mut plan.notes);
                json!({ "key": key, "ttl": ttl })
            })
            .collect();
        change_notes(site, target, &host, port, socket, &mut plan.notes);
        let block = templates.render(
            "drupal/block.php",
            &json!({
                "module_line": if line == ModuleLine::V2 { "2.x" } else { "8.x-1.x" },
                "socket": socket,
                "host": host,
                "port": port,
                "base": target.db,
                "password": password.unwrap_or_default(),
                "prefix": target.prefix.trim_end_matches(':'),
                "container_yamls": yamls,
                "perm_ttls": perm_ttls,
                "ttl": target.ttl,
            }),
        )?;

        // settings.redis.php
        let redis_rel = rel_path(&site.path, &redis_path)?;
        match existing {
            None => {
                let text =
                    templates.render("drupal/settings.redis.php", &json!({ "block": block }))?;
                plan.patches
                    .push(Patch::create(&site.path, redis_rel, text));
            }
            Some(before) => {
                let after = replace_block(&redis_file, &before, &block, &dead, &mut plan.notes)?;
                plan.patches
                    .push(Patch::edit(&site.path, redis_rel, before, after));
            }
        }

        // The include in settings.php.
        let settings_after = if includes_redis(&stmts, &site_dir, site) {
            settings_before.clone()
        } else {
            let include = templates.render("drupal/include.php", &json!({}))?;
            append_php(&settings_file, &settings_before, &include)?
        };
        override_notes(&settings_file, &stmts, &site_dir, &mut plan.notes);
        plan.patches.push(Patch::edit(
            &site.path,
            rel_path(&site.path, &settings)?,
            settings_before,
            settings_after,
        ));
        plan.intent.push(super::effective::Intent::DrupalCache {
            root: site.path.clone(),
            webroot: webroot.clone(),
            settings: settings.clone(),
            transport: target.cache.transport.clone(),
            database: target.db,
            prefix: target.prefix.trim_end_matches(':').to_string(),
        });
        // Keep settings.php first in diffs.
        plan.patches.reverse();
        Ok(plan)
    }
}

/// The module directory below the web root, as a relative path for `container_yamls`.
fn module_dir(webroot: &Path) -> Option<String> {
    ["modules/contrib/redis", "modules/redis"]
        .into_iter()
        .find(|m| webroot.join(m).is_dir())
        .map(str::to_string)
}

/// The text of a settings.redis.php without rcfg's block (its hand-written part).
fn outside_block(text: &str) -> String {
    match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => {
            let start = edit::line_start(text, b);
            let end = text[e..].find('\n').map_or(text.len(), |n| e + n + 1);
            format!("{}{}", &text[..start], &text[end..])
        }
        _ => text.to_string(),
    }
}

/// Literal `$settings['container_yamls'][] = '…';` entries.
fn pushed_yamls(stmts: &[Stmt]) -> Vec<String> {
    stmts
        .iter()
        .filter_map(|s| match &s.kind {
            StmtKind::Assign { target, value, .. } if matches!(target, php::Expr::Push(_)) => {
                let (var, keys) = php::target_path(target)?;
                (var == "settings" && keys == ["container_yamls"])
                    .then(|| value.as_str().map(str::to_string))
                    .flatten()
            }
            _ => None,
        })
        .collect()
}

/// A setting in the hand-written part of settings.redis.php that Drupal 8+'s redis module
/// never reads (or, for the wrong module line, reads only in the other line): removed.
#[derive(Debug, Clone)]
struct Dead {
    line: usize,
    start: usize,
    end: usize,
    what: String,
    why: &'static str,
    /// For a perm TTL in the other module line's form: its bin and positive value.
    carried: Option<(String, i64)>,
}

/// The dead Redis settings outside rcfg's block: `$conf[…]` (Drupal 7), Drupal 7-style
/// `perm_ttl` / `perm_ttl_cache_*` / `redis_perm_ttl` keys, and `redis_perm_ttl_<bin>` when
/// the 1.x module is installed. Only unconditional statements are touched.
fn dead_settings(path: &Path, text: &str, line: ModuleLine) -> Result<Vec<Dead>> {
    let (lo, hi) = match (text.find(BEGIN), text.find(END)) {
        (Some(b), Some(e)) if e > b => (b, e),
        _ => (text.len(), text.len()),
    };
    let stmts = parse_php(path, text)?;
    let mut out = Vec::new();
    for s in stmts
        .iter()
        .filter(|s| !s.conditional && (s.end <= lo || s.start >= hi))
    {
        let StmtKind::Assign { target, value, .. } = &s.kind else {
            continue;
        };
        let Some((var, keys)) = php::target_path(target) else {
            continue;
        };
        let first = keys.first().map(String::as_str).unwrap_or("");
        let shown = format!(
            "${var}{}",
            keys.iter().map(|k| format!("['{k}']")).collect::<String>()
        );
        let (why, carried) = if var == "conf" && first.starts_with("redis") {
            ("Drupal 8+ never reads $conf (a Drupal 7 setting)", None)
        } else if var != "settings" {
            continue;
        } else if first == "redis_perm_ttl"
            || first.starts_with("redis_perm_ttl_cache_")
            || (first == "redis.settings"
                && keys
                    .get(1)
                    .is_some_and(|k| k == "perm_ttl" || k.starts_with("perm_ttl_cache_")))
        {
            (
                "a Drupal 7-style perm TTL name that Drupal 8+ never reads",
                None,
            )
        } else if line == ModuleLine::V1 && first.starts_with("redis_perm_ttl_") {
            let bin = first.trim_start_matches("redis_perm_ttl_").to_string();
            (
                "read only by redis 2.x; the installed 1.x module reads $settings['redis.settings']['perm_ttl_<bin>']",
                value.as_int().filter(|v| *v > 0).map(|v| (bin, v)),
            )
        } else if first == "redis_cache_socket" {
            (
                "not read on Drupal 8+ (the socket goes in redis.connection host)",
                None,
            )
        } else {
            continue;
        };
        out.push(Dead {
            line: s.line,
            start: s.start,
            end: s.end,
            what: shown,
            why,
            carried,
        });
    }
    Ok(out)
}

/// The password in rcfg's own block of settings.redis.php, if it sets one.
fn block_password(text: &str) -> Option<String> {
    let b = text.find(BEGIN)?;
    let e = b + text[b..].find(END)?;
    // The block body sits inside an `if`; parse it as plain statements.
    let body: String = text[b..e]
        .lines()
        .filter(|l| {
            l.trim_start()
                .starts_with("$settings['redis.connection']['password']")
        })
        .collect();
    let stmts = php::parse(&format!("<?php {body}")).ok()?;
    stmts.iter().find_map(|s| match &s.kind {
        StmtKind::Assign { value, .. } => value.as_str().map(str::to_string),
        _ => None,
    })
}

/// The TTL for `bin`: the user's `--ttl`, else a positive integer the site already has in
/// the form the module reads (or carried from a removed wrong-version key), else the default.
fn kept_perm_ttl(
    site: &Site,
    line: ModuleLine,
    bin: &str,
    dead: &[Dead],
    target: &Target,
    notes: &mut Vec<String>,
) -> u64 {
    let key = match line {
        ModuleLine::V1 => format!("redis.settings.perm_ttl_{bin}"),
        ModuleLine::V2 => format!("redis_perm_ttl_{bin}"),
    };
    let have = site
        .redis
        .cache
        .as_ref()
        .and_then(|c| c.ttl.iter().rev().find(|t| t.key == key));
    let carried = dead
        .iter()
        .find_map(|d| d.carried.as_ref().filter(|(b, _)| b == bin).map(|c| c.1));
    if target.ttl_explicit {
        if let Some(h) = have
            && h.value != json!(target.ttl)
        {
            notes.push(format!(
                "{}: perm_ttl_{bin}: {} → {}",
                h.at, h.value, target.ttl
            ));
        }
        return target.ttl;
    }
    match (have, carried) {
        (_, Some(v)) => v as u64,
        (Some(h), _) if h.value.as_i64().is_some_and(|v| v > 0) => {
            h.value.as_i64().unwrap_or_default() as u64
        }
        (Some(h), _) => {
            notes.push(format!(
                "{}: perm_ttl_{bin}: {} → {}",
                h.at, h.value, target.ttl
            ));
            target.ttl
        }
        (None, None) => target.ttl,
    }
}

/// `old → new` notes for the connection values rcfg's block replaces.
fn change_notes(
    site: &Site,
    target: &Target,
    host: &str,
    port: u16,
    socket: bool,
    notes: &mut Vec<String>,
) {
    let Some(c) = &site.redis.cache else { return };
    let new_transport = if socket {
        host.to_string()
    } else {
        format!("{host}:{port}")
    };
    if let Some(t) = &c.transport {
        let old = match &t.value {
            Transport::Unix { path } => path.clone(),
            Transport::Tcp { host, port } => format!("{host}:{port}"),
            Transport::Tls { host, port } => format!("tls://{host}:{port}"),
        };
        if old != new_transport {
            notes.push(format!(
                "{}: redis.connection: {old} → {new_transport}",
                t.at
            ));
        }
    }
    if let Some(d) = &c.database
        && d.value != target.db
    {
        notes.push(format!(
            "{}: redis.connection base: {} → {}",
            d.at, d.value, target.db
        ));
    }
    let prefix = target.prefix.trim_end_matches(':');
    if let Some(p) = &c.prefix
        && p.value != prefix
    {
        notes.push(format!("{}: cache_prefix: {} → {prefix}", p.at, p.value));
    }
}

/// `settings.redis.php` with rcfg's block replaced, or appended after hand-written content,
/// and the `dead` settings removed (each with a note).
fn replace_block(
    file: &str,
    before: &str,
    block: &str,
    dead: &[Dead],
    notes: &mut Vec<String>,
) -> Result<String> {
    let mut edits: Vec<Edit> = dead
        .iter()
        .map(|d| {
            let start = edit::line_start(before, d.start);
            let rest = &before[d.end..];
            let trailing = rest.len() - rest.trim_start_matches([' ', '\t', '\r']).len();
            let end = if before[d.end + trailing..].starts_with('\n')
                && before[start..d.start].trim().is_empty()
            {
                d.end + trailing + 1
            } else {
                d.end
            };
            Edit {
                start: if before[start..d.start].trim().is_empty() {
                    start
                } else {
                    d.start
                },
                end,
                text: String::new(),
            }
        })
        .collect();
    for d in dead {
        notes.push(format!(
            "{file}:{}: removed {}: {}{}.",
            d.line,
            d.what,
            d.why,
            match &d.carried {
                Some((bin, v)) =>
                    format!("; its value {v} is kept as perm_ttl_{bin} in rcfg's block"),
                None => String::new(),
            }
        ));
    }
    if let Some(b) = before.find(BEGIN) {
        let Some(e) = before[b..].find(END).map(|e| b + e) else {
            bail!(
                "{file}: has the '{BEGIN}' line but not '{END}'; restore the END line or delete the file and run rcfg apply again — nothing written"
            );
        };
        let end_line = before[e..].find('\n').map_or(before.len(), |n| e + n + 1);
        let start = edit::line_start(before, b);
        edits.push(Edit {
            start,
            end: end_line,
            text: edit::eol(before, block),
        });
        return edit::apply(before, edits);
    }
    // Hand-written: keep it, append rcfg's block so its values win.
    notes.push(format!(
        "{file}: hand-written settings.redis.php kept; rcfg appends its block at the end, so its values override the file's own Redis settings."
    ));
    let appended = append_php(file, before, block)?;
    edits.push(Edit {
        start: before.len(),
        end: before.len(),
        text: appended[before.len()..].to_string(),
    });
    edit::apply(before, edits)
}

/// `text` appended at the end of a PHP file (before a final `?>`, if any).
fn append_php(file: &str, before: &str, text: &str) -> Result<String> {
    let trimmed = before.trim_end();
    if trimmed.ends_with("?>") {
        bail!(
            "{file}: ends with a closing ?> tag; remove it (Drupal's coding standard omits it) so rcfg can append safely — nothing written"
        );
    }
    let mut add = String::new();
    if !before.is_empty() && !before.ends_with('\n') {
        add.push('\n');
    }
    let blank_before = before.ends_with("\n\n") || before.ends_with("\r\n\r\n");
    if !text.starts_with('\n') && !blank_before {
        add.push('\n');
    }
    add.push_str(text);
    Ok(format!("{before}{}", edit::eol(before, &add)))
}

fn mentions_redis_settings(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| {
        matches!(&s.kind, StmtKind::Include { path, .. } if path.describe().contains("settings.redis.php"))
    })
}

/// True when settings.php, or a settings file it includes, already includes
/// `settings.redis.php`.
fn includes_redis(stmts: &[Stmt], site_dir: &Path, site: &Site) -> bool {
    if mentions_redis_settings(stmts) {
        return true;
    }
    let mut others: Vec<PathBuf> = site
        .config_files
        .iter()
        .filter(|c| c.role == "settings-include")
        .map(|c| c.path.clone())
        .collect();
    let includes_local = stmts.iter().any(|s| {
        matches!(&s.kind, StmtKind::Include { path, .. } if path.describe().contains("settings.local.php"))
    });
    if includes_local {
        others.push(site_dir.join("settings.local.php"));
    }
    others.iter().any(|p| {
        fsutil::read_config_opt(p)
            .ok()
            .flatten()
            .and_then(|t| php::parse(&t).ok())
            .is_some_and(|s| mentions_redis_settings(&s))
    })
}

/// True for a `$settings` assignment rcfg's block also makes.
fn is_managed_assignment(s: &Stmt) -> Option<Vec<String>> {
    let StmtKind::Assign { target, .. } = &s.kind else {
        return None;
    };
    let ("settings", keys) = php::target_path(target)? else {
        return None;
    };
    let k = keys.first()?;
    let managed = matches!(
        k.as_str(),
        "redis.connection" | "cache_prefix" | "redis.settings"
    ) || k.starts_with("redis_perm_ttl_")
        || (k == "cache" && keys.get(1).is_some_and(|b| b == "default"));
    managed.then_some(keys)
}

/// Redis settings that come after an existing include of settings.redis.php (in
/// settings.php, or in a settings.local.php included after it) override rcfg's values.
fn override_notes(file: &str, stmts: &[Stmt], site_dir: &Path, notes: &mut Vec<String>) {
    let Some(include_at) = stmts.iter().find_map(|s| match &s.kind {
        StmtKind::Include { path, .. } if path.describe().contains("settings.redis.php") => {
            Some(s.start)
        }
        _ => None,
    }) else {
        return;
    };
    let mut later_local = false;
    for s in stmts.iter().filter(|s| s.start > include_at) {
        if let StmtKind::Include { path, .. } = &s.kind
            && path.describe().contains("settings.local.php")
        {
            later_local = true;
        }
        if let Some(keys) = is_managed_assignment(s) {
            notes.push(format!(
                "{file}:{}: $settings['{}'] is set after settings.redis.php is included, so it overrides rcfg's value; remove it.",
                s.line,
                keys.join("']['")
            ));
        }
    }
    let local = site_dir.join("settings.local.php");
    if later_local
        && let Ok(Some(text)) = fsutil::read_config_opt(&local)
        && let Ok(local_stmts) = php::parse(&text)
    {
        for s in &local_stmts {
            if let Some(keys) = is_managed_assignment(s) {
                notes.push(format!(
                    "{}:{}: $settings['{}'] is set in settings.local.php, which settings.php includes after settings.redis.php, so it overrides rcfg's value; remove it.",
                    local.display(),
                    s.line,
                    keys.join("']['")
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests;
