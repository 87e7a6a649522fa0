//! Bedrock: Redis Object Cache constants as `Config::define('WP_REDIS_…', env('WP_REDIS_…'))`
//! in `config/application.php` (before `Config::apply()`), values in `.env`.
//!
//! Only `WP_REDIS_PREFIX` and `WP_REDIS_SELECTIVE_FLUSH` are read from the environment by the
//! drop-in itself (reference, Surprise 5), so every managed constant gets a `Config::define`.
//! An existing `Config::define` is edited in place: one whose value is an `env()` call keeps
//! it and its `.env` variable changes; one with a literal keeps a literal. `.env` lines are
//! edited in place (every assignment of the key, since phpdotenv's immutable loader keeps the
//! first and other loaders the last), missing keys are appended.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};

use super::super::edit::{self, Edit, line_start};
use super::super::render::Templates;
use super::super::{Patch, Plan, Target};
use super::{Want, classic_wants, matches, parse_php, rel_path};
use crate::fsutil;
use crate::model::Site;
use crate::syntax::php::{Expr, Stmt, StmtKind};

fn role_path(site: &Site, role: &str, default: &str) -> PathBuf {
    site.config_files
        .iter()
        .find(|c| c.role == role)
        .map(|c| c.path.clone())
        .unwrap_or_else(|| site.path.join(default))
}

/// `Config::define` (any namespace spelling) or a plain `define()` of `name`.
fn first_define<'a>(stmts: &'a [Stmt], name: &str) -> Option<(&'a Stmt, &'a Expr, usize, usize)> {
    stmts.iter().find_map(|s| match &s.kind {
        StmtKind::StaticDefine {
            class,
            name: n,
            value,
            value_start,
            value_end,
        } if n == name && is_config_class(class) => Some((s, value, *value_start, *value_end)),
        StmtKind::Define {
            name: n,
            value,
            value_start,
            value_end,
        } if n == name => Some((s, value, *value_start, *value_end)),
        _ => None,
    })
}

fn is_config_class(class: &str) -> bool {
    class == "Config" || class.ends_with("\\Config")
}

/// `env('NAME')` (also `\Env\env`, `getenv`): the variable it reads.
fn env_call(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Call { name, args }
            if matches!(name.trim_start_matches('\\'), "env" | "Env\\env" | "getenv") =>
        {
            args.first()?.as_str()
        }
        _ => None,
    }
}

/// The `.env` text for a value, or an error when it cannot be written safely.
fn env_value(env_file: &str, name: &str, v: &Value) -> Result<String> {
    match v {
        Value::Number(n) => Ok(n.to_string()),
        Value::String(s) => {
            if s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./:@+,%".contains(c))
            {
                Ok(s.clone())
            } else if !s.contains('\'') && !s.contains('\n') {
                Ok(format!("'{s}'"))
            } else {
                bail!(
                    "{env_file}: the value for {name} contains a single quote or newline, which .env cannot hold safely; choose another value — nothing written"
                )
            }
        }
        _ => bail!(
            "{env_file}: {name} needs an array value (an ACL user name), which .env cannot hold; set it in config/application.php by hand — nothing written"
        ),
    }
}

/// A `.env` assignment line: the key and the byte span of its raw value.
struct EnvLine {
    key: String,
    value_start: usize,
    value_end: usize,
    value: String,
}

fn env_lines(text: &str) -> Vec<EnvLine> {
    let mut out = Vec::new();
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let line_off = offset;
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        let lead = line.len() - line.trim_start().len();
        let mut body = &line[lead..];
        let mut pos = line_off + lead;
        if body.starts_with('#') || body.is_empty() {
            continue;
        }
        if let Some(rest) = body.strip_prefix("export ") {
            pos += body.len() - rest.len();
            body = rest;
        }
        let Some(eq) = body.find('=') else { continue };
        let key = body[..eq].trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        let after = &body[eq + 1..];
        let ws = after.len() - after.trim_start().len();
        let v = &after[ws..];
        let start = pos + eq + 1 + ws;
        let (len, value) = if let Some(q) = v.chars().next().filter(|c| *c == '"' || *c == '\'') {
            match v[1..].find(q) {
                Some(end) => (end + 2, v[1..end + 1].to_string()),
                None => (v.len(), v.to_string()),
            }
        } else {
            let end = v.find(" #").unwrap_or(v.len());
            let raw = v[..end].trim_end();
            (raw.len(), raw.to_string())
        };
        out.push(EnvLine {
            key: key.to_string(),
            value_start: start,
            value_end: start + len,
            value,
        });
    }
    out
}

pub(super) fn plan(site: &Site, target: &Target, templates: &Templates) -> Result<Plan> {
    let target = &super::kept_ttl(site, target, "WP_REDIS_MAXTTL");
    let app_path = role_path(site, "application", "config/application.php");
    let env_path = role_path(site, "dotenv", ".env");
    let app_file = app_path.display().to_string();
    let env_file = env_path.display().to_string();
    let app_before = fsutil::read_config(&app_path)?;
    let env_before = fsutil::read_config_opt(&env_path)?.ok_or_else(|| {
        anyhow!(
            "{env_file}: not found; Bedrock reads its settings from .env and rcfg will not create one (a new .env without WP_HOME and the DB settings stops the site); create it first — nothing written"
        )
    })?;
    let stmts = parse_php(&app_path, &app_before)?;
    let mut plan = Plan::new(&site.path);
    plan.add_secret(&target.cache);
    if target.cache.username.is_some() {
        bail!(
            "{app_file}: an ACL user name needs WP_REDIS_PASSWORD as an array, which .env cannot hold; set it in config/application.php by hand — nothing written"
        );
    }
    let apply = stmts
        .iter()
        .find(|s| {
            matches!(&s.kind, StmtKind::Expr(Expr::StaticCall { class, method, .. })
                if is_config_class(class) && method == "apply")
        })
        .ok_or_else(|| {
            anyhow!(
                "{app_file}: no Config::apply(); call, so rcfg cannot tell where Bedrock settings end; add it (Bedrock's stock config/application.php has it) — nothing written"
            )
        })?;

    let wants: Vec<Want> = classic_wants(target);
    plan.intent = wants
        .iter()
        .map(|w| super::super::effective::Intent::BedrockConstant {
            root: site.path.clone(),
            name: w.name.to_string(),
            value: w.value.clone(),
        })
        .collect();
    let mut edits = Vec::new();
    let mut env_sets: Vec<(String, &Value)> = Vec::new();
    let mut new_names: Vec<&str> = Vec::new();
    for w in &wants {
        match first_define(&stmts, w.name) {
            None => {
                new_names.push(w.name);
                env_sets.push((w.name.to_string(), &w.value));
            }
            Some((stmt, value, vs, ve)) => {
                if stmt.start > apply.start {
                    plan.notes.push(format!(
                        "{app_file}:{}: {} is defined after Config::apply(), so Bedrock never applies it; move it above.",
                        stmt.line, w.name
                    ));
                }
                if let Some(var) = env_call(value) {
                    env_sets.push((var.to_string(), &w.value));
                } else if value.literal().is_some() {
                    if !matches(value, &w.value) {
                        edits.push(Edit {
                            start: vs,
                            end: ve,
                            text: super::php_literal(&w.value),
                        });
                    }
                } else {
                    plan.notes.push(format!(
                        "{app_file}:{}: {} was computed ({}); rcfg reads it from .env instead.",
                        stmt.line,
                        w.name,
                        value.describe()
                    ));
                    edits.push(Edit {
                        start: vs,
                        end: ve,
                        text: format!("env('{}')", w.name),
                    });
                    env_sets.push((w.name.to_string(), &w.value));
                }
            }
        }
    }
    if !new_names.is_empty() {
        let at = line_start(&app_before, apply.start);
        let text = templates.render(
            "wordpress/bedrock-defines.php",
            &json!({ "names": new_names }),
        )?;
        edits.push(Edit {
            start: at,
            end: at,
            text,
        });
    }
    environment_notes(site, &wants, &mut plan.notes);
    if target.cache.password.is_none()
        && let Some((s, ..)) = first_define(&stmts, "WP_REDIS_PASSWORD")
    {
        plan.notes.push(format!(
            "{app_file}:{}: WP_REDIS_PASSWORD is left unchanged (no password given; set RCFG_REDIS_PASSWORD or --password-file to change it).",
            s.line
        ));
    }
    plan.notes
        .extend(edit::replacement_notes(&app_file, &app_before, &edits));
    let app_after = edit::apply_eol(&app_before, edits)?;

    // .env
    let lines = env_lines(&env_before);
    let mut env_edits = Vec::new();
    let mut append: Vec<Value> = Vec::new();
    for (name, v) in &env_sets {
        let text = env_value(&env_file, name, v)?;
        let want_plain = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let found: Vec<&EnvLine> = lines.iter().filter(|l| &l.key == name).collect();
        if found.is_empty() {
            if !append.iter().any(|a| a["name"] == json!(name)) {
                append.push(json!({"name": name, "value": text}));
            }
            continue;
        }
        for l in found {
            if l.value != want_plain {
                env_edits.push(Edit {
                    start: l.value_start,
                    end: l.value_end,
                    text: text.clone(),
                });
            }
        }
    }
    // Bedrock's stock application.php also loads .env.local when it exists.
    let local = env_path.with_file_name(".env.local");
    if let Ok(Some(text)) = fsutil::read_config_opt(&local) {
        for l in env_lines(&text) {
            if env_sets.iter().any(|(name, _)| *name == l.key) {
                plan.notes.push(format!(
                    "{}:{}: {} is set here too; rcfg only edits .env, so check which value the site loads.",
                    local.display(),
                    crate::fsutil::line_of(&text, l.value_start),
                    l.key
                ));
            }
        }
    }
    // WP_REDIS_* values that nothing maps and the new connection makes moot: removed, so
    // they do not suggest a setting that is not in effect.
    let moot: &[&str] = match target.cache.transport {
        crate::model::Transport::Unix { .. } => &["WP_REDIS_HOST", "WP_REDIS_PORT"],
        _ => &["WP_REDIS_PATH"],
    };
    for l in &lines {
        if moot.contains(&l.key.as_str())
            && first_define(&stmts, &l.key).is_none()
            && !env_sets.iter().any(|(n, _)| *n == l.key)
        {
            let start = line_start(&env_before, l.value_start);
            let end = env_before[l.value_end..]
                .find('\n')
                .map_or(env_before.len(), |n| l.value_end + n + 1);
            plan.notes.push(format!(
                "{env_file}:{}: removed {}={}: config/application.php does not map it and Redis Object Cache ignores it with the new connection.",
                crate::fsutil::line_of(&env_before, start),
                l.key,
                l.value
            ));
            env_edits.push(Edit {
                start,
                end,
                text: String::new(),
            });
        }
    }
    plan.notes
        .extend(edit::replacement_notes(&env_file, &env_before, &env_edits));
    let mut env_after = edit::apply_eol(&env_before, env_edits)?;
    if !append.is_empty() {
        let mut text = String::new();
        if !env_after.is_empty() && !env_after.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&templates.render("wordpress/bedrock.env", &json!({ "vars": append }))?);
        env_after.push_str(&edit::eol(&env_before, &text));
    }

    plan.patches.push(Patch::edit(
        &site.path,
        rel_path(&site.path, &app_path)?,
        app_before,
        app_after,
    ));
    plan.patches.push(Patch::edit(
        &site.path,
        rel_path(&site.path, &env_path)?,
        env_before,
        env_after,
    ));
    Ok(plan)
}

/// `config/environments/*.php` run after application.php's defines: a `Config::define` there
/// overrides rcfg's value for that environment.
fn environment_notes(site: &Site, wants: &[Want], notes: &mut Vec<String>) {
    for f in site.config_files.iter().filter(|c| c.role == "environment") {
        let Ok(text) = fsutil::read_config(&f.path)
            .with_context(|| format!("{}: cannot read", f.path.display()))
        else {
            continue;
        };
        let Ok(stmts) = crate::syntax::php::parse(&text) else {
            continue;
        };
        for w in wants {
            if let Some((s, ..)) = first_define(&stmts, w.name) {
                notes.push(format!(
                    "{}:{}: {} is set here too and overrides config/application.php in that environment; rcfg left it.",
                    f.path.display(),
                    s.line,
                    w.name
                ));
            }
        }
    }
}
