//! `rcfg apply`: plan Redis config patches for a site, then show them as unified diffs or
//! write them. One [`Plan`] feeds both sinks, so the preview and the write cannot disagree.
//!
//! Planning is pure (reads files, renders `templates/`, never writes); `diff` renders a plan;
//! `write` applies a plan atomically. Each CMS has a [`Planner`] that knows which knobs take
//! effect and where they go.

pub mod assign;
pub mod cmd;
pub mod diff;
pub mod drupal;
pub mod edit;
pub mod faults;
pub mod journal;
pub mod magento;
pub mod medusa;
pub mod meta;
pub mod paths;
pub mod render;
pub mod safety;
pub mod state;
pub mod undo;
pub mod wordpress;
pub mod write;

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use crate::model::{Cms, Site, Transport};

/// A secret (Redis password). Never printed: `Debug` and `Display` mask it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for rendering into a config file only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(********)")
    }
}

/// Where a site should send one kind of data.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    pub transport: Transport,
    pub password: Option<Secret>,
    /// ACL user name, when one is used.
    pub username: Option<String>,
}

/// Everything a planner needs to know about the desired state of one site. Values are
/// validated (see [`validate_prefix`], [`validate_path`]) before a planner sees them.
#[derive(Debug, Clone)]
pub struct Target {
    /// Object/application cache.
    pub cache: Endpoint,
    pub db: i64,
    /// Magento's full-page cache database (on the cache endpoint).
    pub page_cache_db: i64,
    /// Key prefix, ending in `:`.
    pub prefix: String,
    /// TTL in seconds for cached data (always > 0).
    pub ttl: u64,
    /// Persistent instance for sessions.
    pub session: Endpoint,
    pub session_db: i64,
    /// Session lifetime in seconds (always > 0).
    pub session_ttl: u64,
}

/// One file change. `before` is `None` for a file the plan creates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Patch {
    /// Path as rcfg reads and writes it.
    pub path: PathBuf,
    /// Path relative to the site root (used in diff headers).
    pub rel: PathBuf,
    pub before: Option<String>,
    pub after: String,
}

impl Patch {
    /// A patch for an existing file at `rel` below `root` (reads nothing: `before` given).
    pub fn edit(root: &Path, rel: impl Into<PathBuf>, before: String, after: String) -> Patch {
        let rel = rel.into();
        Patch {
            path: root.join(&rel),
            rel,
            before: Some(before),
            after,
        }
    }

    /// A patch that creates `rel` below `root`.
    pub fn create(root: &Path, rel: impl Into<PathBuf>, after: String) -> Patch {
        let rel = rel.into();
        Patch {
            path: root.join(&rel),
            rel,
            before: None,
            after,
        }
    }

    pub fn changes(&self) -> bool {
        self.before.as_deref() != Some(self.after.as_str())
    }
}

/// All file changes for one site, plus notes for the user (e.g. the equivalent
/// `bin/magento setup:config:set` command).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub root: PathBuf,
    pub patches: Vec<Patch>,
    pub notes: Vec<String>,
    /// Secrets that appear in the rendered files; masked in every output.
    pub secrets: Vec<Secret>,
}

impl Plan {
    pub fn new(root: &Path) -> Plan {
        Plan {
            root: root.to_path_buf(),
            ..Plan::default()
        }
    }

    /// Patches that actually change something.
    pub fn changed(&self) -> impl Iterator<Item = &Patch> {
        self.patches.iter().filter(|p| p.changes())
    }

    pub fn is_noop(&self) -> bool {
        self.changed().next().is_none()
    }

    /// Remember an endpoint's password so every output masks it.
    pub fn add_secret(&mut self, endpoint: &Endpoint) {
        if let Some(pw) = &endpoint.password
            && !self.secrets.contains(pw)
        {
            self.secrets.push(pw.clone());
        }
    }

    /// Replace every secret in `text` with `********`: the raw value and the forms it takes
    /// once quoted for PHP, JS/JSON or a URL.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for s in &self.secrets {
            let raw = s.expose();
            if raw.is_empty() {
                continue;
            }
            let js = render::js_quote(raw);
            let forms = [
                render::php_quote(raw)[1..]
                    .trim_end_matches('\'')
                    .to_string(),
                js[1..js.len() - 1].to_string(),
                percent_encode(raw),
                raw.to_string(),
            ];
            for form in forms {
                if !form.is_empty() {
                    out = out.replace(&form, "********");
                }
            }
        }
        out
    }
}

/// `%XX`-encode everything outside the URL-safe unreserved set.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Plans the patches for one CMS.
pub trait Planner: Sync {
    fn plan(&self, site: &Site, target: &Target, templates: &render::Templates) -> Result<Plan>;
}

/// The planner for a site, or an error saying why the site cannot be patched.
pub fn planner_for(site: &Site) -> Result<&'static dyn Planner> {
    if !site.supported {
        anyhow::bail!(
            "{}: {} — nothing written",
            site.path.display(),
            site.unsupported_reason
                .as_deref()
                .unwrap_or("this site is not supported by apply")
        );
    }
    Ok(match site.cms {
        Cms::WordPress => &wordpress::WordPressPlanner,
        Cms::Drupal => &drupal::DrupalPlanner,
        Cms::Magento2 => &magento::MagentoPlanner,
        Cms::Medusa => &medusa::MedusaPlanner,
        Cms::Magento1 | Cms::Unknown => anyhow::bail!(
            "{}: no supported CMS recognised here — nothing written",
            site.path.display()
        ),
    })
}

/// A key prefix must be safe inside a PHP single-quoted string, a JS string, a `.env` value
/// and a shell argument: letters, digits, `_`, `-`, `.`, `:` only.
pub fn validate_prefix(prefix: &str) -> Result<()> {
    if prefix.is_empty() || prefix.len() > 64 {
        anyhow::bail!("prefix {prefix:?} must be 1 to 64 characters long");
    }
    if let Some(bad) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
    {
        anyhow::bail!(
            "prefix {prefix:?} contains {bad:?}, which would break the generated config; use letters, digits, '_', '-', '.', ':'"
        );
    }
    Ok(())
}

/// A socket path or host must be safe inside generated code: no quotes, backslashes,
/// whitespace, `$` or control characters.
pub fn validate_path(what: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        anyhow::bail!("{what} is empty");
    }
    if let Some(bad) = value.chars().find(|c| {
        c.is_control()
            || c.is_whitespace()
            || matches!(c, '\'' | '"' | '\\' | '$' | '`' | '{' | '}')
    }) {
        anyhow::bail!("{what} {value:?} contains {bad:?}, which would break the generated config");
    }
    Ok(())
}

/// The default prefix for a site: its directory name, lower-cased, anything outside
/// `[a-z0-9_]` turned into `_`, ending in `:`.
pub fn default_prefix(site_root: &Path) -> String {
    let name = std::fs::canonicalize(site_root)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| {
            site_root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "site".into());
    let mut s: String = name
        .chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while s.contains("__") {
        s = s.replace("__", "_");
    }
    let s = s.trim_matches('_');
    let s = if s.is_empty() { "site" } else { s };
    format!("{s}:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_derived_and_validated() {
        assert_eq!(
            default_prefix(Path::new("/var/www/Shop-One.example.com")),
            "shop_one_example_com:"
        );
        assert_eq!(default_prefix(Path::new("/var/www/---")), "site:");
        assert!(validate_prefix("shop1:").is_ok());
        let err = validate_prefix("x');drop").unwrap_err().to_string();
        assert!(err.contains("would break"), "{err}");
        assert!(validate_path("socket", "/var/run/redis/redis.sock").is_ok());
        assert!(validate_path("socket", "/tmp/a b.sock").is_err());
    }

    #[test]
    fn secrets_are_masked() {
        let mut plan = Plan::new(Path::new("/s"));
        plan.secrets.push(Secret::new("hunter2"));
        assert_eq!(plan.mask("pw='hunter2'"), "pw='********'");
        plan.secrets.push(Secret::new(r"it's\x"));
        assert_eq!(plan.mask(r"pw='it\'s\\x'"), "pw='********'");
        assert_eq!(plan.mask(r#"pw="it's\\x""#), r#"pw="********""#);
        assert_eq!(plan.mask("redis://:it%27s%5Cx@h"), "redis://:********@h");
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(********)");
    }
}
