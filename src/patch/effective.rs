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
use crate::cms::wordpress::{EffectiveConst, effective_constants};

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
}

/// Check every intent of `plan` against its planned files read back.
pub fn check(plan: &Plan) -> Result<()> {
    let mut wp: BTreeMap<&Path, Vec<(&str, &Value)>> = BTreeMap::new();
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
        }
    }
    for (config, wants) in wp {
        check_wp(plan, config, &wants)?;
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

fn check_wp(plan: &Plan, config: &Path, wants: &[(&str, &Value)]) -> Result<()> {
    let names: Vec<&str> = wants.iter().map(|(n, _)| *n).collect();
    let got = effective_constants(config, overlay(plan), &names).map_err(|errs| {
        let e = &errs[0];
        anyhow!(
            "{}: {}; rcfg cannot read the planned config back to check that it takes effect — nothing written",
            e.path.display(),
            e.message
        )
    })?;
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

    #[test]
    fn values_compare_as_the_plugin_casts_them() {
        assert!(same(Some(&json!("7")), &json!(7)));
        assert!(same(Some(&json!(7)), &json!(7)));
        assert!(!same(Some(&json!(2)), &json!(7)));
        assert!(!same(Some(&json!("a:")), &json!("b:")));
        assert!(!same(None, &json!(7)));
    }
}
