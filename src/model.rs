//! The site model every subcommand shares: what a CMS tree is ([`Site`]), how its Redis is set
//! up today ([`RedisSettings`]) and where each value came from ([`Location`]).
//!
//! Detectors (`cms/`) build these values; `apply`, `audit-ttl` and the reporters only read
//! them. Serialisation here *is* the `detect --format json` contract: add fields freely, never
//! rename or remove one.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::report::Finding;

/// A place in a file: path plus 1-based line (and column when known).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

impl Location {
    pub fn new(path: impl Into<PathBuf>, line: usize) -> Location {
        Location {
            path: path.into(),
            line,
            column: None,
        }
    }

    pub fn with_column(mut self, column: usize) -> Location {
        self.column = Some(column);
        self
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.path.display(), self.line)?;
        if let Some(col) = self.column {
            write!(f, ":{col}")?;
        }
        Ok(())
    }
}

/// A value together with the place it was read from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub at: Location,
}

impl<T> Sourced<T> {
    pub fn new(value: T, at: Location) -> Sourced<T> {
        Sourced { value, at }
    }
}

/// One raw setting as written in a config file (a TTL knob, an option), kept verbatim.
/// `value` is the literal as rcfg understood it (a string, number, bool or null), never a
/// password.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Setting {
    pub key: String,
    pub value: serde_json::Value,
    pub at: Location,
}

/// How a client reaches Redis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Transport {
    Unix { path: String },
    Tcp { host: String, port: u16 },
    Tls { host: String, port: u16 },
}

impl Transport {
    /// A stable text key for "same endpoint" comparisons (`unix:/path`, `tcp:host:port`).
    /// `localhost` and `127.0.0.1` are the same endpoint.
    pub fn endpoint_key(&self) -> String {
        fn host(h: &str) -> &str {
            match h {
                "localhost" | "::1" | "[::1]" => "127.0.0.1",
                other => other,
            }
        }
        match self {
            Transport::Unix { path } => format!("unix:{path}"),
            Transport::Tcp { host: h, port } => format!("tcp:{}:{port}", host(h)),
            Transport::Tls { host: h, port } => format!("tls:{}:{port}", host(h)),
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Unix { path } => write!(f, "unix:{path}"),
            Transport::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            Transport::Tls { host, port } => write!(f, "tls://{host}:{port}"),
        }
    }
}

/// One Redis connection a site uses (its object cache, page cache or session store).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Connection {
    /// `None` when the CMS's default applies and nothing says otherwise.
    pub transport: Option<Sourced<Transport>>,
    /// Database number; `None` means the client default (normally 0).
    pub database: Option<Sourced<i64>>,
    /// Key prefix as configured (`None`: no prefix of the site's own).
    pub prefix: Option<Sourced<String>>,
    /// True when a password/ACL credential is configured. The secret itself is never kept.
    pub password_set: bool,
    /// TTL knobs in effect for this connection (`WP_REDIS_MAXTTL`, `perm_ttl_<bin>`,
    /// `auto_expire_lifetime`, Medusa `ttl`, …).
    pub ttl: Vec<Setting>,
    /// Other settings worth showing (backend class, client, selective flush, …).
    pub options: Vec<Setting>,
}

impl Connection {
    /// Database number as Redis sees it (absent means 0).
    pub fn effective_database(&self) -> i64 {
        self.database.as_ref().map_or(0, |d| d.value)
    }
}

/// A Redis plugin, module, drop-in or package that a site has installed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Component {
    /// e.g. `redis-cache`, `wp-redis`, `drupal/redis`, `@medusajs/cache-redis`.
    pub name: String,
    pub version: Option<String>,
    pub path: PathBuf,
}

/// Everything rcfg knows about how a site uses Redis today.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RedisSettings {
    /// True when the site's config actually routes something (cache or sessions) to Redis.
    pub configured: bool,
    /// Installed Redis plugins/modules/drop-ins/packages and their versions.
    pub components: Vec<Component>,
    /// The main (object/application) cache.
    pub cache: Option<Connection>,
    /// Magento's full-page cache frontend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_cache: Option<Connection>,
    /// Sessions, where the CMS keeps them in Redis.
    pub sessions: Option<Connection>,
}

impl RedisSettings {
    /// Every configured connection with its role name.
    pub fn connections(&self) -> impl Iterator<Item = (&'static str, &Connection)> {
        [
            ("cache", self.cache.as_ref()),
            ("page_cache", self.page_cache.as_ref()),
            ("sessions", self.sessions.as_ref()),
        ]
        .into_iter()
        .filter_map(|(role, conn)| conn.map(|c| (role, c)))
    }
}

/// Which CMS a tree is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cms {
    WordPress,
    Drupal,
    Magento2,
    /// Magento 1 / OpenMage: recognised, never patched.
    Magento1,
    Medusa,
    Unknown,
}

impl Cms {
    pub fn as_str(self) -> &'static str {
        match self {
            Cms::WordPress => "wordpress",
            Cms::Drupal => "drupal",
            Cms::Magento2 => "magento2",
            Cms::Magento1 => "magento1",
            Cms::Medusa => "medusa",
            Cms::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Cms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a tree was recognised as what it is: a marker file and what it showed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    pub path: PathBuf,
    pub why: String,
}

/// A config file that belongs to a site, with its role (`wp-config`, `settings`, `env.php`, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub role: String,
}

/// One recognised (or unrecognised) site.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Site {
    /// The project root (where composer.json/package.json live; the WordPress ABSPATH parent
    /// for a classic install whose `wp-config.php` sits one level up).
    pub path: PathBuf,
    pub cms: Cms,
    pub version: Option<String>,
    /// Layout variant: `classic`, `bedrock`, `composer`, `git`, `v1`, `v2`, …
    pub layout: String,
    /// Web root / ABSPATH / Drupal root, when it differs from `path`.
    pub docroot: Option<PathBuf>,
    /// False for trees rcfg recognises but will not patch (Drupal 7, Magento 1).
    pub supported: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported_reason: Option<String>,
    /// The PATH this site was found from, when it is not the site root itself (a site's
    /// own directory above its docroot, a subdirectory of the docroot, a deploy `current`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_from: Option<PathBuf>,
    pub config_files: Vec<ConfigFile>,
    pub evidence: Vec<Evidence>,
    pub redis: RedisSettings,
    pub lints: Vec<Finding>,
}

impl Site {
    /// A new site with empty settings.
    pub fn new(path: &Path, cms: Cms, layout: &str) -> Site {
        Site {
            path: path.to_path_buf(),
            cms,
            version: None,
            layout: layout.to_string(),
            docroot: None,
            supported: cms != Cms::Unknown,
            unsupported_reason: None,
            found_from: None,
            config_files: Vec::new(),
            evidence: Vec::new(),
            redis: RedisSettings::default(),
            lints: Vec::new(),
        }
    }

    pub fn unsupported(mut self, reason: &str) -> Site {
        self.supported = false;
        self.unsupported_reason = Some(reason.to_string());
        self
    }

    pub fn evidence(&mut self, path: &Path, why: impl Into<String>) {
        self.evidence.push(Evidence {
            path: path.to_path_buf(),
            why: why.into(),
        });
    }

    pub fn config_file(&mut self, path: &Path, role: &str) {
        if !self.config_files.iter().any(|c| c.path == path) {
            self.config_files.push(ConfigFile {
                path: path.to_path_buf(),
                role: role.to_string(),
            });
        }
    }
}
