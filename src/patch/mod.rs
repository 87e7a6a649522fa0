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
pub mod effective;
pub mod faults;
pub mod journal;
pub mod magento;
pub mod mask;
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
    /// True when the user gave the TTL (`--ttl` or `[apply] ttl`): it replaces a site's own
    /// positive TTL. Otherwise an existing positive TTL is kept and `ttl` only fills gaps.
    pub ttl_explicit: bool,
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
    /// What the planned files must amount to once read back ([`effective::check`]).
    pub intent: Vec<effective::Intent>,
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
        if let Some(pw) = &endpoint.password {
            self.add_raw_secret(pw.expose());
        }
    }

    /// Remember a secret value (as written in a file, or as rcfg will write it).
    pub fn add_raw_secret(&mut self, raw: &str) {
        if !raw.is_empty() && !self.secrets.iter().any(|s| s.expose() == raw) {
            self.secrets.push(Secret::new(raw));
        }
    }

    /// Add every secret found in the files of the plan, before and after ([`mask::scan`]),
    /// so that context and removed lines are masked as well as added ones.
    pub fn collect_file_secrets(&mut self) {
        let mut found = Vec::new();
        for p in &self.patches {
            let name = p.rel.to_string_lossy();
            for text in p.before.iter().chain(std::iter::once(&p.after)) {
                found.extend(mask::scan(&name, text));
            }
        }
        // Short found values are masked where they stand only (mask::MIN_VALUE_MASK).
        for s in found
            .iter()
            .filter(|s| s.chars().count() >= mask::MIN_VALUE_MASK)
        {
            self.add_raw_secret(s);
        }
    }

    /// Replace every secret in `text` with `********`: the raw value and the forms it takes
    /// once quoted for PHP, JS/JSON or a URL ([`mask::mask`]).
    pub fn mask(&self, text: &str) -> String {
        mask::mask(text, &self.secrets)
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

/// Plan one site: keep the credentials and TLS of the endpoints it already uses (or refuse
/// when that cannot be decided), run its CMS planner, then collect every secret of the plan
/// (given and already in its files) for masking. A failure's message is masked too.
pub fn plan_site(site: &Site, target: &Target, templates: &render::Templates) -> Result<Plan> {
    let planner = planner_for(site)?;
    let mut target = target.clone();
    let mut notes = Vec::new();
    // The post-condition: the planned files, read back as detect reads them, must say what
    // was intended, or nothing is shown or written.
    let planned = keep_credentials(site, &mut target, &mut notes)
        .and_then(|()| planner.plan(site, &target, templates))
        .and_then(|plan| effective::check(&plan).map(|()| plan));
    match planned {
        Ok(mut plan) => {
            notes.append(&mut plan.notes);
            plan.notes = notes;
            plan.add_secret(&target.cache);
            plan.add_secret(&target.session);
            plan.collect_file_secrets();
            Ok(plan)
        }
        Err(e) => {
            let mut secrets: Vec<Secret> = [&target.cache, &target.session]
                .iter()
                .filter_map(|ep| ep.password.clone())
                .collect();
            for c in &site.config_files {
                if let Ok(Some(text)) = crate::fsutil::read_config_opt(&c.path) {
                    let name = c.path.to_string_lossy();
                    secrets.extend(
                        mask::scan(&name, &text)
                            .into_iter()
                            .filter(|s| s.chars().count() >= mask::MIN_VALUE_MASK)
                            .map(Secret::new),
                    );
                }
            }
            Err(anyhow::anyhow!(mask::mask(&format!("{e:#}"), &secrets)))
        }
    }
}

/// `host:port` or the socket path, without the TLS/TCP distinction.
pub(crate) fn server_key(t: &Transport) -> String {
    let key = t.endpoint_key();
    key.strip_prefix("tls:")
        .or_else(|| key.strip_prefix("tcp:"))
        .map(|k| format!("net:{k}"))
        .unwrap_or(key)
}

/// For each connection the planner rewrites: an existing password (or ACL user, which comes
/// with one) stays in effect when no new password was given and the new endpoint is the same
/// server; when rcfg cannot tell that it is, it refuses. A TLS connection stays TLS when the
/// new endpoint is the same host and port given as plain TCP.
fn keep_credentials(site: &Site, target: &mut Target, notes: &mut Vec<String>) -> Result<()> {
    let conns = &site.redis;
    let mut roles: Vec<(&str, Option<&crate::model::Connection>, bool)> =
        vec![("cache", conns.cache.as_ref(), false)];
    if site.cms == Cms::Magento2 {
        roles.push(("page_cache", conns.page_cache.as_ref(), false));
    }
    if matches!(site.cms, Cms::Magento2 | Cms::Medusa) {
        roles.push(("sessions", conns.sessions.as_ref(), true));
    }
    for (role, conn, session) in roles {
        let Some(conn) = conn else { continue };
        let (ep, env) = if session {
            (&mut target.session, cmd::DEFAULT_SESSION_PASSWORD_ENV)
        } else {
            (&mut target.cache, cmd::DEFAULT_PASSWORD_ENV)
        };
        let same = conn
            .transport
            .as_ref()
            .is_some_and(|t| server_key(&t.value) == server_key(&ep.transport));
        if let (Some(t), Transport::Tcp { host, port }) = (&conn.transport, &ep.transport)
            && same
            && matches!(t.value, Transport::Tls { .. })
        {
            notes.push(format!(
                "{}: the {role} connection uses TLS to {host}:{port}; kept (the new endpoint was given as plain TCP to the same host and port).",
                t.at
            ));
            ep.transport = Transport::Tls {
                host: host.clone(),
                port: *port,
            };
        }
        if !conn.password_set || ep.password.is_some() {
            continue;
        }
        if same {
            continue;
        }
        let (at, was) = match &conn.transport {
            Some(t) => (t.at.to_string(), t.value.to_string()),
            None => (
                site.path.display().to_string(),
                "the CMS's default server".to_string(),
            ),
        };
        anyhow::bail!(
            "{at}: the {role} connection has a Redis password for {was}; the new endpoint {} may be another server, and rcfg cannot tell whether that password applies there. Give the new server's password ({env} or --password-file), or remove the password from the site's config by hand if the new server needs none — nothing written",
            ep.transport
        );
    }
    Ok(())
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

/// The default prefix for a site: its directory name (the domain or user directory above a
/// docroot such as `public_html`, or above a deploy release, see
/// [`crate::cms::locate::site_name`]), lower-cased, anything outside `[a-z0-9_]` turned into
/// `_`, ending in `:`.
pub fn default_prefix(site_root: &Path) -> String {
    let name = std::fs::canonicalize(site_root)
        .ok()
        .and_then(|p| crate::cms::locate::site_name(&p))
        .or_else(|| crate::cms::locate::site_name(site_root))
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

    fn tls_site(password: bool) -> Site {
        use crate::model::{Connection, Location, Sourced};
        let mut site = Site::new(Path::new("/www/a"), Cms::WordPress, "classic");
        site.redis.cache = Some(Connection {
            transport: Some(Sourced::new(
                Transport::Tls {
                    host: "10.0.0.5".into(),
                    port: 6380,
                },
                Location::new("/www/a/wp-config.php", 40),
            )),
            password_set: password,
            ..Connection::default()
        });
        site
    }

    fn target_to(transport: Transport) -> Target {
        let ep = Endpoint {
            transport,
            password: None,
            username: None,
        };
        Target {
            cache: ep.clone(),
            db: 1,
            page_cache_db: 1,
            prefix: "a:".into(),
            ttl: 60,
            session: ep,
            session_db: 1,
            session_ttl: 60,
            ttl_explicit: false,
        }
    }

    #[test]
    fn tls_and_passwords_of_the_same_server_are_kept_and_another_server_is_refused() {
        let tcp = Transport::Tcp {
            host: "10.0.0.5".into(),
            port: 6380,
        };
        let mut t = target_to(tcp);
        let mut notes = Vec::new();
        keep_credentials(&tls_site(true), &mut t, &mut notes).unwrap();
        assert!(matches!(
            t.cache.transport,
            Transport::Tls { port: 6380, .. }
        ));
        assert!(
            notes[0].contains("wp-config.php:40: the cache connection uses TLS"),
            "{notes:?}"
        );
        let mut t = target_to(Transport::Unix {
            path: "/run/r.sock".into(),
        });
        let err = keep_credentials(&tls_site(true), &mut t, &mut Vec::new())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("/www/a/wp-config.php:40: the cache connection has a Redis password for tls://10.0.0.5:6380")
                && err.contains("cannot tell"),
            "{err}"
        );
        // No password there: nothing to keep, nothing to refuse.
        let mut t = target_to(Transport::Unix {
            path: "/run/r.sock".into(),
        });
        keep_credentials(&tls_site(false), &mut t, &mut Vec::new()).unwrap();
        // A password given: it is the one written.
        t.cache.password = Some(Secret::new("new"));
        keep_credentials(&tls_site(true), &mut t, &mut Vec::new()).unwrap();
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
