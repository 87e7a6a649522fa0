//! The CI policy: `[policy]` in rcfg.toml plus `--allow-persistent`/`--max-*` flags, turned
//! into findings over the live report. Persistent-by-design namespaces never violate; allowed
//! namespaces (globs over namespace names) never violate. Without any threshold, a namespace
//! with even one key without expiry is a finding (the strict default CI wants).

use anyhow::{Result, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use super::namespace::Class;
use super::{LiveReport, NamespaceReport};
use crate::report::{Finding, Severity, group};

/// `[policy]` in rcfg.toml (kebab-case keys, the same names as the flags).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PolicyConfig {
    /// Namespace globs whose keys may persist (`shop1:wp:options`, `*:cachetags`).
    #[serde(default)]
    pub allow_persistent: Vec<String>,
    /// Per namespace: at most this many keys without expiry.
    pub max_without_expiry: Option<u64>,
    /// Per namespace: at most this share (0–100) of keys without expiry.
    pub max_without_expiry_pct: Option<f64>,
    /// Per namespace: at most this much memory in keys without expiry (`10MB`, `512k`, or
    /// bytes). Turns on `--memory`.
    pub max_memory_without_expiry: Option<ByteSize>,
    /// Whole keyspace: at most this many keys without expiry (outside allowed and
    /// persistent-by-design namespaces).
    pub max_total_without_expiry: Option<u64>,
    /// Whole keyspace: at most this share (0–100).
    pub max_total_without_expiry_pct: Option<f64>,
    /// Severity of policy findings (default `warning`, which fails with the default
    /// `--fail-on warning`).
    pub severity: Option<Severity>,
}

/// A byte count written as a number or with a unit (`512k`, `10MB`, `1GiB`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "toml::Value")]
pub struct ByteSize(pub u64);

impl TryFrom<toml::Value> for ByteSize {
    type Error = String;
    fn try_from(v: toml::Value) -> Result<Self, Self::Error> {
        match v {
            toml::Value::Integer(i) if i >= 0 => Ok(ByteSize(i as u64)),
            toml::Value::String(s) => parse_bytes(&s).map(ByteSize).map_err(|e| e.to_string()),
            other => Err(format!(
                "expected bytes (a number or \"10MB\"), got {other}"
            )),
        }
    }
}

/// `123`, `512k`, `10MB`, `1.5G`, `2GiB` (k/M/G are powers of 1024, as redis.conf reads them).
pub fn parse_bytes(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = match num.parse() {
        Ok(n) => n,
        Err(_) => bail!("`{text}` is not a size (e.g. 512k, 10MB)"),
    };
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => bail!("`{text}`: unknown unit `{other}` (use k, MB or GB)"),
    };
    Ok((n * mult) as u64)
}

/// The effective policy: file values overridden by flags, globs compiled.
#[derive(Debug, Clone)]
pub struct Policy {
    pub config: PolicyConfig,
    allowed: GlobSet,
}

impl Policy {
    pub fn new(config: PolicyConfig) -> Result<Policy> {
        let mut b = GlobSetBuilder::new();
        for g in &config.allow_persistent {
            b.add(Glob::new(g).map_err(|e| anyhow::anyhow!("--allow-persistent `{g}`: {e}"))?);
        }
        let allowed = b.build()?;
        Ok(Policy { config, allowed })
    }

    pub fn is_allowed(&self, ns: &NamespaceReport) -> bool {
        ns.class == Class::PersistentByDesign || self.allowed.is_match(&ns.namespace)
    }

    fn has_count_limits(&self) -> bool {
        self.config.max_without_expiry.is_some() || self.config.max_without_expiry_pct.is_some()
    }

    /// Findings for `live`; also marks each namespace's `violation`.
    pub fn evaluate(&self, live: &mut LiveReport) -> Vec<Finding> {
        let sev = self.config.severity.unwrap_or(Severity::Warning);
        let mut findings = Vec::new();
        let mut total_keys = 0u64;
        let mut total_without = 0u64;
        for ns in &mut live.namespaces {
            total_keys += ns.keys;
            if self.is_allowed(ns) {
                ns.allowed = true;
                continue;
            }
            total_without += ns.without_expiry;
            let target = format!("{} {}", ns.endpoint_db, ns.namespace);
            let mut reasons = Vec::new();
            if ns.without_expiry > 0 {
                let over_count = match self.config.max_without_expiry {
                    Some(max) => ns.without_expiry > max,
                    None => !self.has_count_limits(),
                };
                let over_pct = self
                    .config
                    .max_without_expiry_pct
                    .is_some_and(|max| ns.without_expiry_pct > max);
                if over_count || over_pct {
                    let limit = match (
                        self.config.max_without_expiry,
                        self.config.max_without_expiry_pct,
                    ) {
                        (Some(n), Some(p)) => format!("limit {} keys / {p}%", group(n)),
                        (Some(n), None) => format!("limit {}", group(n)),
                        (None, Some(p)) => format!("limit {p}%"),
                        (None, None) => "limit 0".to_string(),
                    };
                    reasons.push("count");
                    let mut f = Finding::new(
                        "redis-keys-without-expiry",
                        sev,
                        format!(
                            "{} of {} keys ({:.1}%) in `{}` have no expiry ({limit})",
                            group(ns.without_expiry),
                            group(ns.keys),
                            ns.without_expiry_pct,
                            ns.namespace
                        ),
                    )
                    .hint(hint_for(ns));
                    f.target = Some(target.clone());
                    findings.push(f);
                }
            }
            if let (Some(max), Some(bytes)) = (
                self.config.max_memory_without_expiry,
                ns.bytes_without_expiry,
            ) && bytes > max.0
            {
                reasons.push("memory");
                let mut f = Finding::new(
                    "redis-memory-without-expiry",
                    sev,
                    format!(
                        "keys without expiry in `{}` use {} bytes (limit {})",
                        ns.namespace,
                        group(bytes),
                        group(max.0)
                    ),
                )
                .hint(hint_for(ns));
                f.target = Some(target);
                findings.push(f);
            }
            ns.violation = !reasons.is_empty();
        }
        let pct = if total_keys == 0 {
            0.0
        } else {
            100.0 * total_without as f64 / total_keys as f64
        };
        let over_total = self
            .config
            .max_total_without_expiry
            .is_some_and(|m| total_without > m)
            || self
                .config
                .max_total_without_expiry_pct
                .is_some_and(|m| pct > m);
        if over_total {
            let mut f = Finding::new(
                "redis-total-without-expiry",
                sev,
                format!(
                    "{total_without} of {total_keys} keys ({pct:.1}%) have no expiry outside allowed namespaces"
                ),
            )
            .hint("set TTLs in the code that writes them, or raise max-total-without-expiry in [policy]");
            f.target = Some(live.server.endpoint.clone());
            findings.push(f);
        }
        findings
    }
}

fn hint_for(ns: &NamespaceReport) -> String {
    hint_for_layout(ns.layout, &ns.namespace)
}

fn hint_for_layout(layout: super::namespace::Layout, namespace: &str) -> String {
    use super::namespace::Layout;
    match layout {
        Layout::WordPress => "set WP_REDIS_MAXTTL (never 0) or pass an expiry to wp_cache_set()/set_transient(); or allow it with --allow-persistent".to_string(),
        Layout::Drupal => "set $settings['redis_perm_ttl_<bin>'] (2.x) or perm_ttl_<bin> (1.x); or allow it with --allow-persistent".to_string(),
        Layout::Magento => "save() without a lifetime is infinite under Cm: pass a lifetime or set auto_expire_lifetime + auto_expire_pattern".to_string(),
        // `mc:` is the Caching Module (caching-redis provider); `medusa:` the older
        // cache-redis module (v2 before 2.11) and v1's cacheService.
        Layout::Medusa if namespace.starts_with("mc") => "caching-redis with ttl: 0 caches forever; give the caching-redis provider a positive ttl".to_string(),
        Layout::Medusa => "the cache-redis module (and v1 cacheService) always writes with EX (its ttl 0 means \"do not cache\"), so keys here without expiry come from other code using the same namespace: find it with rcfg audit-ttl on the project".to_string(),
        Layout::Session => "session keys should always carry a TTL: check the session handler's lifetime settings".to_string(),
        _ => format!(
            "write these keys with EX/PX (or EXPIRE them), or allow the namespace with --allow-persistent '{}'",
            namespace
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medusa_hints_name_the_module_that_owns_the_namespace() {
        use crate::redis_audit::namespace::Layout;
        let caching = hint_for_layout(Layout::Medusa, "mc:tag");
        assert!(caching.contains("caching-redis provider"), "{caching}");
        let cache = hint_for_layout(Layout::Medusa, "medusa");
        assert!(cache.contains("cache-redis module"), "{cache}");
        assert!(!cache.contains("ttl: 0 caches forever"), "{cache}");
    }

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_bytes("512").unwrap(), 512);
        assert_eq!(parse_bytes("1k").unwrap(), 1024);
        assert_eq!(parse_bytes("10MB").unwrap(), 10 * 1024 * 1024);
        assert_eq!(parse_bytes("1.5G").unwrap(), 1_610_612_736);
        assert!(parse_bytes("ten").is_err());
        assert!(parse_bytes("3 parsecs").is_err());
    }

    #[test]
    fn policy_section_deserializes() {
        let cfg: PolicyConfig = toml::from_str(
            "allow-persistent = ['*:options']\nmax-without-expiry-pct = 5.0\nmax-memory-without-expiry = '1MB'\nseverity = 'error'\n",
        )
        .unwrap();
        assert_eq!(cfg.allow_persistent, vec!["*:options".to_string()]);
        assert_eq!(cfg.max_memory_without_expiry, Some(ByteSize(1024 * 1024)));
        assert_eq!(cfg.severity, Some(Severity::Error));
        assert!(toml::from_str::<PolicyConfig>("bogus = 1").is_err());
    }
}
