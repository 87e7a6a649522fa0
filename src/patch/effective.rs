//! The post-condition of every plan: the planned content of the site's files, read back in
//! memory with rcfg's own readers (the same includes and precedence as `detect`), must give
//! the settings the plan intends. When it does not — an earlier definition wins, an include
//! overrides it, a guard keeps the old value — the plan is refused with the file:line that
//! wins, instead of writing a config that does not take effect. `--check` plans through the
//! same path, so it judges a site by the same effective view.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use serde_json::Value;

use super::Plan;
use super::magento::edit::{loosely_equal, value_of as magento_value_of};
use super::server_key;
use crate::cms::drupal::effective_cache;
use crate::cms::wordpress::{EffectiveConst, effective_bedrock_constants, effective_constants};
use crate::model::{Cms, Location, Site, Transport};
use crate::syntax::php::{self, StmtKind};

/// A setting a plan means to put in effect.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// WordPress classic: constant `name` is `value` once `config` (the active
    /// `wp-config.php`) and everything it includes are loaded.
    WpConstant {
        config: PathBuf,
        name: String,
        value: Value,
    },
    /// Bedrock: constant `name` is `value` once the project at `root` is loaded (`.env`,
    /// `config/application.php`, the active environment file).
    BedrockConstant {
        root: PathBuf,
        name: String,
        value: Value,
    },
    /// Magento `env.php`: the key path `keys` of the array `file` returns is `value` (PHP
    /// keeps the last of a key set twice; Magento compares `'0'` and `0` alike).
    PhpReturnKey {
        file: PathBuf,
        keys: Vec<String>,
        value: Value,
    },
    /// Drupal 8+: `$settings['redis.connection']` and `cache_prefix` once `settings` and
    /// everything it includes (in order, later assignments winning) are loaded.
    DrupalCache {
        root: PathBuf,
        webroot: PathBuf,
        settings: PathBuf,
        transport: Transport,
        database: i64,
        prefix: String,
    },
    /// Medusa: the cache and session connections once `config` is evaluated with `env` (the
    /// `.env` it reads through `process.env`, defaults and spreads included).
    MedusaConnections {
        root: PathBuf,
        layout: String,
        config: PathBuf,
        env: PathBuf,
        cache: (Transport, i64),
        session: (Transport, i64),
    },
}

/// Check every intent of `plan` against its planned files read back.
pub fn check(plan: &Plan) -> Result<()> {
    let mut wp: BTreeMap<&Path, Vec<(&str, &Value)>> = BTreeMap::new();
    let mut bedrock: BTreeMap<&Path, Vec<(&str, &Value)>> = BTreeMap::new();
    for i in &plan.intent {
        match i {
            Intent::WpConstant {
                config,
                name,
                value,
            } => wp
                .entry(config.as_path())
                .or_default()
                .push((name.as_str(), value)),
            Intent::BedrockConstant { root, name, value } => bedrock
                .entry(root.as_path())
                .or_default()
                .push((name.as_str(), value)),
            Intent::PhpReturnKey { file, keys, value } => {
                check_return_key(plan, file, keys, value)?;
            }
            Intent::DrupalCache {
                root,
                webroot,
                settings,
                transport,
                database,
                prefix,
            } => check_drupal(plan, root, webroot, settings, transport, *database, prefix)?,
            Intent::MedusaConnections {
                root,
                layout,
                config,
                env,
                cache,
                session,
            } => check_medusa(plan, root, layout, config, env, cache, session)?,
        }
    }
    for (config, wants) in wp {
        let names: Vec<&str> = wants.iter().map(|(n, _)| *n).collect();
        let got = effective_constants(config, overlay(plan), &names)
            .map_err(|errs| read_back_error(&errs[0]))?;
        check_wp(&got, config, &wants)?;
    }
    for (root, wants) in bedrock {
        let names: Vec<&str> = wants.iter().map(|(n, _)| *n).collect();
        let got = effective_bedrock_constants(root, overlay(plan), &names)
            .map_err(|errs| read_back_error(&errs[0]))?;
        check_wp(&got, root, &wants)?;
    }
    Ok(())
}

/// The planned content of every patched file, keyed as the readers look files up.
fn overlay(plan: &Plan) -> BTreeMap<PathBuf, String> {
    plan.patches
        .iter()
        .map(|p| (canonical(&p.path), p.after.clone()))
        .collect()
}

/// The canonical path of a file, or of its parent joined with its name when it does not
/// exist yet.
fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .ok()
        .or_else(|| {
            let parent = std::fs::canonicalize(path.parent()?).ok()?;
            Some(parent.join(path.file_name()?))
        })
        .unwrap_or_else(|| path.to_path_buf())
}

fn check_wp(
    got: &BTreeMap<String, EffectiveConst>,
    config: &Path,
    wants: &[(&str, &Value)],
) -> Result<()> {
    let mut wrong = Vec::new();
    for (name, want) in wants {
        match got.get(*name) {
            None => wrong.push(format!(
                "{name} would not be defined by {}",
                config.display()
            )),
            Some(c) if !same(c.value.as_ref(), want) => wrong.push(describe(name, c)),
            Some(_) => {}
        }
    }
    if !wrong.is_empty() {
        bail!(
            "the planned config would not take effect: {} — PHP keeps the first define() of a constant, so rcfg's value would be ignored; remove or change the winning definition (or its include) and run rcfg apply again — nothing written",
            wrong.join("; ")
        );
    }
    Ok(())
}

fn check_drupal(
    plan: &Plan,
    root: &Path,
    webroot: &Path,
    settings: &Path,
    transport: &Transport,
    database: i64,
    prefix: &str,
) -> Result<()> {
    let conn = effective_cache(root, webroot, settings, overlay(plan))
        .map_err(|errs| read_back_error(&errs[0]))?
        .unwrap_or_default();
    let mut wrong = Vec::new();
    match &conn.transport {
        Some(t) if server_key(&t.value) == server_key(transport) => {}
        Some(t) => wrong.push(format!(
            "{}: redis.connection = {} is the value Drupal keeps",
            t.at, t.value
        )),
        None => wrong.push("redis.connection would have no host".to_string()),
    }
    match &conn.database {
        Some(d) if d.value == database => {}
        Some(d) => wrong.push(format!(
            "{}: redis.connection base = {} is the value Drupal keeps",
            d.at, d.value
        )),
        None if database == 0 => {}
        None => wrong.push("redis.connection base would not be set".to_string()),
    }
    match &conn.prefix {
        Some(p) if p.value == prefix => {}
        Some(p) => wrong.push(format!(
            "{}: cache_prefix = '{}' is the value Drupal keeps",
            p.at, p.value
        )),
        None => wrong.push("cache_prefix would not be set".to_string()),
    }
    if !wrong.is_empty() {
        bail!(
            "the planned config would not take effect: {} — a later assignment (often in an include such as settings.local.php) overrides rcfg's settings.redis.php; remove it or move rcfg's include after it and run rcfg apply again — nothing written",
            wrong.join("; ")
        );
    }
    Ok(())
}

fn check_medusa(
    plan: &Plan,
    root: &Path,
    layout: &str,
    config: &Path,
    env: &Path,
    cache: &(Transport, i64),
    session: &(Transport, i64),
) -> Result<()> {
    let text = planned_text(plan, config)?;
    let env_text = match plan.patches.iter().find(|p| p.path == env) {
        Some(p) => Some(p.after.clone()),
        None => crate::fsutil::read_config_opt(env)?,
    };
    let vars = env_text
        .as_deref()
        .map(crate::syntax::dotenv::parse)
        .unwrap_or_default();
    let mut site = Site::new(root, Cms::Medusa, layout);
    let mut errors = Vec::new();
    crate::cms::medusa::config::read_text(config, &text, env, vars, &mut site, &mut errors);
    if let Some(e) = errors.first() {
        return Err(read_back_error(e));
    }
    let mut wrong = Vec::new();
    for (role, conn, (transport, db)) in [
        ("cache", &site.redis.cache, cache),
        ("sessions", &site.redis.sessions, session),
    ] {
        let Some(conn) = conn else {
            wrong.push(format!("the {role} connection would not be configured"));
            continue;
        };
        match &conn.transport {
            Some(t) if server_key(&t.value) == server_key(transport) => {}
            Some(t) => wrong.push(format!(
                "{}: the {role} connection goes to {} instead",
                t.at, t.value
            )),
            None => wrong.push(format!("the {role} connection would have no server")),
        }
        let got = conn.database.as_ref().map_or(0, |d| d.value);
        if got != *db {
            let at = conn
                .database
                .as_ref()
                .map(|d| format!("{}: ", d.at))
                .unwrap_or_default();
            wrong.push(format!("{at}the {role} connection uses database {got}"));
        }
    }
    if !wrong.is_empty() {
        bail!(
            "the planned config would not take effect: {} — something later in medusa-config (a spread or a second key) overrides rcfg's value; remove it and run rcfg apply again — nothing written",
            wrong.join("; ")
        );
    }
    Ok(())
}

fn read_back_error(e: &crate::cms::DetectError) -> anyhow::Error {
    anyhow!(
        "{}: {}; rcfg cannot read the planned config back to check that it takes effect — nothing written",
        e.path.display(),
        e.message
    )
}

/// The planned text of `file` (the file on disk when the plan leaves it alone).
fn planned_text(plan: &Plan, file: &Path) -> Result<String> {
    match plan.patches.iter().find(|p| p.path == file) {
        Some(p) => Ok(p.after.clone()),
        None => crate::fsutil::read_config(file),
    }
}

fn check_return_key(plan: &Plan, file: &Path, keys: &[String], want: &Value) -> Result<()> {
    let text = planned_text(plan, file)?;
    let stmts = php::parse(&text).map_err(|e| {
        anyhow!(
            "{}:{}: the planned file does not parse ({}) — nothing written",
            file.display(),
            e.line,
            e.message
        )
    })?;
    let Some(mut cur) = stmts.iter().find_map(|s| match &s.kind {
        StmtKind::Return { value, .. } if !s.conditional => Some(value),
        _ => None,
    }) else {
        bail!(
            "{}: the planned file returns no array — nothing written",
            file.display()
        );
    };
    let key = keys.join("/");
    let mut line = None;
    for k in keys {
        let Some(item) = cur.get(k) else {
            bail!(
                "the planned config would not take effect: {}: '{key}' would be missing — nothing written",
                file.display()
            );
        };
        line = Some(item.line);
        cur = &item.value;
    }
    let got = magento_value_of(cur);
    if !got.as_ref().is_some_and(|g| loosely_equal(g, want)) {
        let at = Location::new(file, line.unwrap_or(0));
        let shown = if keys.iter().any(|k| k.contains("password")) {
            String::new()
        } else {
            format!(" = {}", cur.describe())
        };
        bail!(
            "the planned config would not take effect: {at}: '{key}'{shown} is the value PHP keeps (the last of a key set twice wins); remove the duplicate and run rcfg apply again — nothing written"
        );
    }
    Ok(())
}

/// `file:line: NAME = expr wins` (a password's expression is not shown).
fn describe(name: &str, c: &EffectiveConst) -> String {
    if name.contains("PASSWORD") {
        format!("{}: {name} is defined here first and wins", c.at)
    } else if c.value.is_none() {
        format!(
            "{}: {name} is computed ({}) and defined here first, so it wins",
            c.at, c.expr
        )
    } else {
        format!(
            "{}: {name} = {} is defined here first and wins",
            c.at, c.expr
        )
    }
}

/// The value as the plugin reads it equals the wanted one (digit strings count as the int
/// they are cast to).
fn same(got: Option<&Value>, want: &Value) -> bool {
    match (got, want) {
        (Some(Value::String(s)), Value::Number(n)) => {
            s.trim().parse::<i64>().ok() == n.as_i64() && n.as_i64().is_some()
        }
        (Some(g), w) => g == w,
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan_with(dir: &Path, rel: &str, after: &str) -> Plan {
        let mut plan = Plan::new(dir);
        plan.patches
            .push(super::super::Patch::create(dir, rel, after.to_string()));
        plan
    }

    #[test]
    fn a_magento_key_set_twice_is_judged_by_the_last_one() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("env.php");
        let intent = Intent::PhpReturnKey {
            file: file.clone(),
            keys: vec!["cache".into(), "database".into()],
            value: json!("7"),
        };
        let mut plan = plan_with(
            tmp.path(),
            "env.php",
            "<?php\nreturn [\n  'cache' => [\n    'database' => '7',\n    'database' => '2',\n  ],\n];\n",
        );
        plan.intent.push(intent.clone());
        let err = check(&plan).unwrap_err().to_string();
        assert!(
            err.contains("env.php:5: 'cache/database' = '2' is the value PHP keeps"),
            "{err}"
        );
        let mut ok = plan_with(
            tmp.path(),
            "env.php",
            "<?php\nreturn ['cache' => ['database' => '2', 'database' => 7]];\n",
        );
        ok.intent.push(intent);
        check(&ok).unwrap();
    }

    #[test]
    fn wordpress_constants_are_read_back_through_includes() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        std::fs::write(
            d.join("early.php"),
            "<?php define('WP_REDIS_DATABASE', 5);\n",
        )
        .unwrap();
        let config = d.join("wp-config.php");
        std::fs::write(&config, "<?php\n").unwrap();
        let intent = |v: i64| Intent::WpConstant {
            config: config.clone(),
            name: "WP_REDIS_DATABASE".into(),
            value: json!(v),
        };
        let mut plan = plan_with(
            d,
            "wp-config.php",
            "<?php\nrequire_once __DIR__ . '/early.php';\ndefine('WP_REDIS_DATABASE', 7);\n",
        );
        plan.intent.push(intent(7));
        let err = check(&plan).unwrap_err().to_string();
        assert!(
            err.contains("early.php:1: WP_REDIS_DATABASE = 5 is defined here first and wins"),
            "{err}"
        );
        // The planned text is what is read, not the file on disk.
        let mut ok = plan_with(
            d,
            "wp-config.php",
            "<?php\ndefine('WP_REDIS_DATABASE', '7');\n",
        );
        ok.intent.push(intent(7));
        check(&ok).unwrap();
    }

    #[test]
    fn values_compare_as_the_plugin_casts_them() {
        assert!(same(Some(&json!("7")), &json!(7)));
        assert!(same(Some(&json!(7)), &json!(7)));
        assert!(!same(Some(&json!(2)), &json!(7)));
        assert!(!same(Some(&json!("a:")), &json!("b:")));
        assert!(!same(None, &json!(7)));
    }
}
