//! Drupal detection: Drupal 8+ in the classic (tarball) and composer layouts (web root from
//! `extra.drupal-scaffold.locations.web-root`, `web/` or `docroot/`), and Drupal 7, which is
//! recognised but not supported by `apply`. Reads `sites/default/settings.php` and every file
//! it includes, as data, into one settings tree (later assignments override earlier ones, as
//! in PHP), recognises the `drupal/redis` module and its major line, normalises the cache
//! connection and reports the Drupal config lints.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::common::{ComposerLock, PathCtx, eval_path, load_php, tidy_path};
use super::{DetectError, Detector};
use crate::fsutil;
use crate::lints::lint;
use crate::model::{Cms, Component, Connection, Location, Setting, Site, Sourced, Transport};
use crate::syntax::php::{self, Expr, StmtKind};

pub struct Drupal;

impl Detector for Drupal {
    fn detect(&self, dir: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
        if let Some(webroot) = composer_web_root(dir) {
            let layout = if webroot == dir {
                "classic"
            } else {
                "composer"
            };
            return Some(detect_d8(dir, &webroot, layout, errors));
        }
        if dir.join("core/lib/Drupal.php").is_file() {
            return Some(detect_d8(dir, dir, "classic", errors));
        }
        let bootstrap = dir.join("includes/bootstrap.inc");
        if bootstrap.is_file() && !dir.join("core").exists() {
            return detect_d7(dir, &bootstrap, errors);
        }
        None
    }
}

/// The Redis cache backend service name.
const REDIS_BACKEND: &str = "cache.backend.redis";

/// The web root of a composer-managed Drupal project at `dir`: `web-root` from
/// `extra.drupal-scaffold.locations`, else `web/` or `docroot/` when they hold Drupal core.
/// `None` when `dir` is not one.
fn composer_web_root(dir: &Path) -> Option<PathBuf> {
    let composer = dir.join("composer.json");
    if !composer.is_file() {
        return None;
    }
    let in_subdir = || {
        ["web", "docroot"]
            .iter()
            .map(|r| dir.join(r))
            .find(|w| w.join("core/lib/Drupal.php").is_file())
    };
    // An unreadable composer.json still leaves the usual web roots to look at.
    let Some(json) = fsutil::read_config(&composer)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return in_subdir();
    };
    let declared = json["extra"]["drupal-scaffold"]["locations"]["web-root"].as_str();
    let requires_core = ["require", "require-dev"].iter().any(|s| {
        json[s].as_object().is_some_and(|m| {
            m.keys()
                .any(|k| matches!(k.as_str(), "drupal/core" | "drupal/core-recommended"))
        })
    });
    let join = |root: &str| {
        let r = root.trim_start_matches("./").trim_end_matches('/');
        if r.is_empty() || r == "." {
            dir.to_path_buf()
        } else {
            dir.join(r)
        }
    };
    match declared {
        Some(root) if requires_core || join(root).join("core/lib/Drupal.php").is_file() => {
            Some(join(root))
        }
        Some(_) => None,
        None => in_subdir(),
    }
}

fn detect_d8(root: &Path, webroot: &Path, layout: &str, errors: &mut Vec<DetectError>) -> Site {
    let mut site = Site::new(root, Cms::Drupal, layout);
    if webroot != root {
        site.docroot = Some(webroot.to_path_buf());
    }
    let drupal_php = webroot.join("core/lib/Drupal.php");
    let lock = ComposerLock::read(&root.join("composer.lock"), errors);
    site.version = lock
        .as_ref()
        .and_then(|l| l.version(&["drupal/core", "drupal/core-recommended"]))
        .or_else(|| const_version(&drupal_php, errors));
    site.evidence(&drupal_php, "Drupal 8+ core (core/lib/Drupal.php)");

    let module = redis_module(root, webroot, lock.as_ref(), errors);
    let major = module
        .as_ref()
        .and_then(|c| c.version.as_deref())
        .and_then(major_line);
    site.redis.components.extend(module);

    let settings_path = webroot.join("sites/default/settings.php");
    let mut tree = Settings::new(webroot);
    if fsutil::exists(&settings_path) {
        tree.read(&settings_path, &mut site, errors, 0);
    }
    analyse_d8(&mut site, &tree, major);
    // Drupal keeps sessions in the database.
    site.redis.sessions = None;
    site
}

/// The cache connection of a Drupal 8+ site as detect reads it from `settings` (and what it
/// includes), with `overlay`'s text (keyed by canonical path) in place of the files on disk.
/// A file that cannot be read or parsed is an error naming it.
pub(crate) fn effective_cache(
    root: &Path,
    webroot: &Path,
    settings: &Path,
    overlay: BTreeMap<PathBuf, String>,
) -> Result<Option<Connection>, Vec<DetectError>> {
    let mut site = Site::new(root, Cms::Drupal, "effective");
    let mut tree = Settings::new(webroot);
    tree.overlay = overlay;
    let mut errors = Vec::new();
    tree.read(settings, &mut site, &mut errors, 0);
    if !errors.is_empty() {
        return Err(errors);
    }
    analyse_d8(&mut site, &tree, None);
    Ok(site.redis.cache)
}

fn detect_d7(dir: &Path, bootstrap: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
    let text = match fsutil::read_config(bootstrap) {
        Ok(t) => t,
        Err(e) => {
            errors.push(DetectError::from_err(bootstrap, &e));
            return None;
        }
    };
    static D7_VERSION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"define\(\s*'VERSION'\s*,\s*'([^']+)'\s*\)"#).expect("static regex")
    });
    let version = D7_VERSION.captures(&text).map(|c| c[1].to_string())?;
    let layout = if version.starts_with("7.") {
        "drupal7"
    } else {
        "drupal-legacy"
    };
    let mut site = Site::new(dir, Cms::Drupal, layout)
        .unsupported("Drupal 7 is recognised but not supported by apply");
    site.evidence(bootstrap, format!("define('VERSION', '{version}')"));
    site.version = Some(version);
    for info in [
        "sites/all/modules/redis/redis.info",
        "sites/all/modules/contrib/redis/redis.info",
    ] {
        let p = dir.join(info);
        if let Ok(Some(t)) = fsutil::read_config_opt(&p) {
            let v = t.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == "version").then(|| v.trim().trim_matches('"').to_string())
            });
            site.redis.components.push(Component {
                name: "drupal/redis".into(),
                version: v,
                path: p,
            });
            break;
        }
    }
    let settings_path = dir.join("sites/default/settings.php");
    let mut tree = Settings::new(dir);
    if fsutil::exists(&settings_path) {
        tree.read(&settings_path, &mut site, errors, 0);
    }
    analyse_d7(&mut site, &tree);
    Some(site)
}

/// `const VERSION = '…';` in `core/lib/Drupal.php`.
fn const_version(path: &Path, errors: &mut Vec<DetectError>) -> Option<String> {
    let text = match fsutil::read_config_opt(path) {
        Ok(t) => t?,
        Err(e) => {
            errors.push(DetectError::from_err(path, &e));
            return None;
        }
    };
    static D8_VERSION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"const\s+VERSION\s*=\s*['"]([^'"]+)['"]"#).expect("static regex")
    });
    D8_VERSION.captures(&text).map(|c| c[1].to_string())
}

/// The `drupal/redis` module: `composer.lock`, else `redis.info.yml` `version:`.
fn redis_module(
    root: &Path,
    webroot: &Path,
    lock: Option<&ComposerLock>,
    errors: &mut Vec<DetectError>,
) -> Option<Component> {
    let dirs = [
        webroot.join("modules/contrib/redis"),
        webroot.join("modules/redis"),
    ];
    let installed = dirs.iter().find(|d| d.is_dir());
    if let Some(v) = lock.and_then(|l| l.version(&["drupal/redis"])) {
        return Some(Component {
            name: "drupal/redis".into(),
            version: Some(v),
            path: installed
                .cloned()
                .unwrap_or_else(|| root.join("composer.lock")),
        });
    }
    let dir = installed?;
    let info = dir.join("redis.info.yml");
    let version = match fsutil::read_config_opt(&info) {
        Ok(Some(t)) => t.lines().find_map(|l| {
            let v = l.strip_prefix("version:")?.trim();
            Some(v.trim_matches(|c| c == '\'' || c == '"').to_string())
        }),
        Ok(None) => None,
        Err(e) => {
            errors.push(DetectError::from_err(&info, &e));
            None
        }
    };
    Some(Component {
        name: "drupal/redis".into(),
        version,
        path: dir.clone(),
    })
}

/// The module's major line: `8.x-1.7`, `1.8.0` → 1; `2.0.0`, `8.x-2.x-dev` → 2.
fn major_line(version: &str) -> Option<u32> {
    let v = version.trim().trim_start_matches('v');
    let v = v.strip_prefix("8.x-").unwrap_or(v);
    v.split(['.', '-']).next()?.parse().ok()
}

// ---------------------------------------------------------------------------------------
// The settings tree

/// A value assigned in a settings file: a leaf expression, or an array built by literals
/// and `[...]` assignments. Each keeps the place it was (last) written.
#[derive(Debug, Clone)]
enum Node {
    Leaf {
        value: Expr,
        at: Location,
    },
    Map {
        entries: Vec<(String, Node)>,
        at: Location,
    },
}

impl Node {
    fn from_expr(value: &Expr, at: Location) -> Node {
        match value {
            Expr::Array(items) => {
                let mut entries: Vec<(String, Node)> = Vec::new();
                let mut next = 0i64;
                for item in items {
                    let key = match item.key.as_ref().and_then(Expr::key_string) {
                        Some(k) => {
                            if let Ok(n) = k.parse::<i64>() {
                                next = next.max(n + 1);
                            }
                            k
                        }
                        None => {
                            next += 1;
                            (next - 1).to_string()
                        }
                    };
                    let node = Node::from_expr(&item.value, Location::new(&at.path, item.line));
                    match entries.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = node,
                        None => entries.push((key, node)),
                    }
                }
                Node::Map { entries, at }
            }
            other => Node::Leaf {
                value: other.clone(),
                at,
            },
        }
    }

    fn at(&self) -> &Location {
        match self {
            Node::Leaf { at, .. } | Node::Map { at, .. } => at,
        }
    }

    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map { entries, .. } => entries.iter().find(|(k, _)| k == key).map(|(_, n)| n),
            Node::Leaf { .. } => None,
        }
    }

    fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Map { entries, .. } => entries,
            Node::Leaf { .. } => &[],
        }
    }

    fn expr(&self) -> Option<&Expr> {
        match self {
            Node::Leaf { value, .. } => Some(value),
            Node::Map { .. } => None,
        }
    }

    fn str(&self) -> Option<&str> {
        self.expr()?.as_str()
    }

    /// The value for output: a literal, or the source-like text of an expression.
    fn json(&self) -> Value {
        match self {
            Node::Leaf { value, .. } => value
                .literal()
                .unwrap_or_else(|| Value::String(value.describe())),
            Node::Map { entries, .. } => {
                Value::Object(entries.iter().map(|(k, n)| (k.clone(), n.json())).collect())
            }
        }
    }

    /// Set `keys` (below this node) to `value`; `push` appends (`$a['x'][] = v`).
    fn set(&mut self, keys: &[String], value: Node, push: bool, only_if_absent: bool) {
        let at = value.at().clone();
        if !matches!(self, Node::Map { .. }) {
            *self = Node::Map {
                entries: Vec::new(),
                at: at.clone(),
            };
        }
        let Node::Map { entries, .. } = self else {
            return;
        };
        match keys.split_first() {
            None if push => {
                let next = entries
                    .iter()
                    .filter_map(|(k, _)| k.parse::<i64>().ok())
                    .max()
                    .map_or(0, |m| m + 1);
                entries.push((next.to_string(), value));
            }
            None => {}
            Some((first, rest)) => {
                let slot = match entries.iter().position(|(k, _)| k == first) {
                    Some(i) => &mut entries[i].1,
                    None => {
                        if rest.is_empty() && !push {
                            entries.push((first.clone(), value));
                            return;
                        }
                        entries.push((
                            first.clone(),
                            Node::Map {
                                entries: Vec::new(),
                                at: at.clone(),
                            },
                        ));
                        &mut entries.last_mut().expect("just pushed").1
                    }
                };
                if rest.is_empty() && !push {
                    if !only_if_absent {
                        *slot = value;
                    }
                } else {
                    slot.set(rest, value, push, only_if_absent);
                }
            }
        }
    }
}

/// Every variable assigned while loading `settings.php` and its includes.
struct Settings {
    vars: Node,
    webroot: PathBuf,
    visited: HashSet<PathBuf>,
    /// Planned contents read instead of the files on disk (keyed by canonical path): the
    /// post-condition of `apply` reads a plan with the same rules as detect.
    overlay: BTreeMap<PathBuf, String>,
}

impl Settings {
    fn new(webroot: &Path) -> Settings {
        Settings {
            vars: Node::Map {
                entries: Vec::new(),
                at: Location::new(webroot, 0),
            },
            webroot: webroot.to_path_buf(),
            visited: HashSet::new(),
            overlay: BTreeMap::new(),
        }
    }

    fn var(&self, name: &str) -> Option<&Node> {
        self.vars.get(name)
    }

    fn get(&self, keys: &[&str]) -> Option<&Node> {
        self.vars.path(keys)
    }

    /// `path` is a file the plan being checked creates.
    fn planned(&self, path: &Path) -> bool {
        !self.overlay.is_empty()
            && path
                .parent()
                .and_then(|p| std::fs::canonicalize(p).ok())
                .zip(path.file_name())
                .is_some_and(|(dir, name)| self.overlay.contains_key(&dir.join(name)))
    }

    /// Read one settings file, following includes in place (cycle-guarded).
    fn read(&mut self, path: &Path, site: &mut Site, errors: &mut Vec<DetectError>, depth: usize) {
        let key = std::fs::canonicalize(path)
            .ok()
            .or_else(|| {
                let dir = std::fs::canonicalize(path.parent()?).ok()?;
                Some(dir.join(path.file_name()?))
            })
            .unwrap_or_else(|| path.to_path_buf());
        if depth > 16 || !self.visited.insert(key.clone()) {
            return;
        }
        site.config_file(
            path,
            if depth == 0 {
                "settings"
            } else {
                "settings-include"
            },
        );
        let planned = self.overlay.get(&key).map(String::as_str);
        let Some(stmts) = load_php(path, planned, errors) else {
            return;
        };
        let webroot = self.webroot.to_string_lossy().into_owned();
        let mut ctx = PathCtx::for_file(path);
        ctx.vars = vec![
            ("app_root".into(), webroot.clone()),
            ("site_path".into(), "sites/default".into()),
        ];
        ctx.consts = vec![("DRUPAL_ROOT".into(), webroot)];
        for stmt in &stmts {
            let at = Location::new(path, stmt.line);
            match &stmt.kind {
                StmtKind::Assign {
                    op, target, value, ..
                } => {
                    let Some((name, mut keys)) = php::target_path(target) else {
                        continue;
                    };
                    let push = matches!(target, Expr::Push(_));
                    keys.insert(0, name.to_string());
                    let node = Node::from_expr(value, at);
                    match *op {
                        "=" => self.vars.set(&keys, node, push, false),
                        "??=" => self.vars.set(&keys, node, push, true),
                        // `.=`, `+=` …: the result is not data; record the key if new.
                        _ => self.vars.set(&keys, node, push, true),
                    }
                }
                StmtKind::Include { path: inc, .. } => {
                    let Some(raw) = eval_path(inc, &ctx) else {
                        continue;
                    };
                    let mut target = tidy_path(&raw);
                    // A bare relative literal is resolved from the Drupal root (index.php's
                    // working directory).
                    if inc.literal().is_some() && target.is_relative() {
                        target = self.webroot.join(target);
                    }
                    if fsutil::exists(&target) || self.planned(&target) {
                        self.read(&target, site, errors, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Normalising and linting

fn setting(key: impl Into<String>, node: &Node) -> Setting {
    Setting {
        key: key.into(),
        value: node.json(),
        at: node.at().clone(),
    }
}

fn int_of(node: &Node) -> Option<i64> {
    node.expr()?.as_int()
}

fn secret_set(node: &Node) -> bool {
    match node.expr().and_then(Expr::literal) {
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Null) | Some(Value::Bool(false)) => false,
        _ => true,
    }
}

/// A `DateInterval::createFromDateString()` string made only of days/weeks, which redis
/// 8.x-1.x turns into a TTL of 0 (it multiplies `$iv->days`, false for such intervals).
fn day_only_string(s: &str) -> bool {
    static DAYS: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^\s*(\+?\d+\s*(day|days|week|weeks|fortnight|fortnights)\s*,?\s*)+$")
            .expect("static regex")
    });
    DAYS.is_match(s)
}

fn analyse_d8(site: &mut Site, tree: &Settings, major: Option<u32>) {
    let mut lints = Vec::new();
    let mut conn = Connection::default();
    let settings = tree.var("settings");

    // Which caches go to Redis.
    let default_backend = tree.get(&["settings", "cache", "default"]);
    let default_is_redis = default_backend.and_then(Node::str) == Some(REDIS_BACKEND);
    let bins = tree
        .get(&["settings", "cache", "bins"])
        .map(Node::entries)
        .unwrap_or_default();
    let bin_is_redis = bins.iter().any(|(_, n)| n.str() == Some(REDIS_BACKEND));
    site.redis.configured = default_is_redis || bin_is_redis;
    if let Some(n) = default_backend {
        conn.options.push(setting("cache.default", n));
    }
    for (bin, n) in bins {
        conn.options.push(setting(format!("cache.bins.{bin}"), n));
    }

    // Connection.
    let connection = tree.get(&["settings", "redis.connection"]);
    if let Some(c) = connection {
        let host = c.get("host");
        let port = c.get("port");
        let host_s = host.and_then(Node::str);
        match host_s {
            Some(h) if h.starts_with('/') => {
                let hat = host
                    .map(|n| n.at().clone())
                    .unwrap_or_else(|| c.at().clone());
                conn.transport = Some(Sourced::new(
                    Transport::Unix { path: h.into() },
                    hat.clone(),
                ));
                match port {
                    None => lints.push(lint(
                        "drupal-socket-port-not-zero",
                        "redis.connection host is a socket but no port is set: the client passes the default 6379",
                        hat,
                    )),
                    Some(p) if int_of(p) != Some(0) => lints.push(lint(
                        "drupal-socket-port-not-zero",
                        format!(
                            "redis.connection host is a socket but port is {}; it must be 0",
                            p.json()
                        ),
                        p.at().clone(),
                    )),
                    _ => {}
                }
            }
            // A host from getenv() or another expression: the endpoint is unknown.
            None if host.is_some() => {}
            _ if host_s.is_some() || port.is_some() => {
                let port_n = port
                    .and_then(int_of)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(6379);
                let at = host.or(port).map(|n| n.at().clone()).expect("host or port");
                conn.transport = Some(Sourced::new(
                    Transport::Tcp {
                        host: host_s.unwrap_or("127.0.0.1").to_string(),
                        port: port_n,
                    },
                    at,
                ));
            }
            _ => {}
        }
        conn.database = c
            .get("base")
            .and_then(|n| int_of(n).map(|d| Sourced::new(d, n.at().clone())));
        conn.password_set = c.get("password").is_some_and(secret_set);
        if let Some(i) = c.get("interface") {
            conn.options.push(setting("redis.connection.interface", i));
        }
    }

    // Prefix: a string, or an array whose 'default' entry applies to every bin.
    let prefix = tree
        .get(&["settings", "cache_prefix"])
        .and_then(|n| match n {
            Node::Map { .. } => n.get("default"),
            leaf => Some(leaf),
        });
    conn.prefix = prefix.and_then(|n| {
        n.str()
            .filter(|s| !s.is_empty())
            .map(|s| Sourced::new(s.to_string(), n.at().clone()))
    });

    // Permanent-item TTLs.
    if let Some(rs) = tree.get(&["settings", "redis.settings"]) {
        for (key, n) in rs.entries() {
            if key == "perm_ttl" || key.starts_with("perm_ttl_cache_") {
                lints.push(lint(
                    "drupal-perm-ttl-d7-key",
                    format!(
                        "$settings['redis.settings']['{key}'] is a Drupal 7-style name: Drupal 8+ never reads it"
                    ),
                    n.at().clone(),
                ));
            } else if key.starts_with("perm_ttl_") {
                conn.ttl.push(setting(format!("redis.settings.{key}"), n));
                if major == Some(1)
                    && let Some(s) = n.str()
                    && day_only_string(s)
                {
                    lints.push(lint(
                        "drupal-perm-ttl-days-string",
                        format!(
                            "'{s}' for {key}: redis 8.x-1.x reads day-only date strings as 0 (items are deleted on write)"
                        ),
                        n.at().clone(),
                    ));
                }
            }
        }
    }
    for (key, n) in settings.map(Node::entries).unwrap_or_default() {
        if key == "redis_perm_ttl" || key.starts_with("redis_perm_ttl_cache_") {
            lints.push(lint(
                "drupal-perm-ttl-d7-key",
                format!("$settings['{key}'] is a Drupal 7-style name: Drupal 8+ never reads it"),
                n.at().clone(),
            ));
        } else if key.starts_with("redis_perm_ttl_") {
            if major == Some(1) {
                lints.push(lint(
                    "drupal-perm-ttl-wrong-module-version",
                    format!(
                        "$settings['{key}'] is read only by redis 2.x; the installed 1.x module reads $settings['redis.settings']['{}']",
                        key.trim_start_matches("redis_")
                    ),
                    n.at().clone(),
                ));
            } else {
                conn.ttl.push(setting(key.clone(), n));
            }
        } else if key == "redis_ttl_offset" {
            conn.ttl.push(setting(key.clone(), n));
        } else if key == "redis_cache_socket" {
            lints.push(socket_lint("$settings", n));
        } else if key == "container_yamls" {
            // Only the Redis service definitions matter here.
            for (_, y) in n.entries() {
                if y.str().is_some_and(|s| s.contains("redis")) {
                    conn.options.push(setting("container_yamls", y));
                }
            }
        } else if matches!(
            key.as_str(),
            "queue_default" | "redis_compress_length" | "redis_compress_level"
        ) {
            conn.options.push(setting(key.clone(), n));
        }
    }
    for (key, n) in tree.var("conf").map(Node::entries).unwrap_or_default() {
        if key == "redis_cache_socket" {
            lints.push(socket_lint("$conf", n));
        } else if key == "redis_perm_ttl" || key.starts_with("redis_perm_ttl_") {
            lints.push(lint(
                "drupal-perm-ttl-d7-key",
                format!("$conf['{key}'] is a Drupal 7 setting: Drupal 8+ never reads $conf"),
                n.at().clone(),
            ));
        }
    }

    if let Some(c) = connection
        && !site.redis.components.is_empty()
        && !default_is_redis
    {
        let what = default_backend
            .map(|n| format!("cache.default is {}", n.json()))
            .unwrap_or_else(|| "cache.default is not set".into());
        lints.push(lint(
            "drupal-redis-not-default-backend",
            format!("the redis module is installed and redis.connection is set, but {what}"),
            c.at().clone(),
        ));
    }

    // A cache connection is reported when something routes to Redis or describes it.
    if site.redis.configured || connection.is_some() || !conn.ttl.is_empty() {
        site.redis.cache = Some(conn);
    }
    site.lints.extend(lints);
}

fn socket_lint(var: &str, n: &Node) -> crate::report::Finding {
    lint(
        "drupal-redis-cache-socket",
        format!("{var}['redis_cache_socket'] is not read on Drupal 8+: the socket is never used"),
        n.at().clone(),
    )
}

/// Drupal 7 redis module settings (`$conf['redis_client_*']`, `cache_backends`,
/// `cache_default_class`), read for information only.
fn analyse_d7(site: &mut Site, tree: &Settings) {
    let Some(conf) = tree.var("conf") else {
        return;
    };
    let backends_redis = conf
        .get("cache_backends")
        .map(Node::entries)
        .unwrap_or_default()
        .iter()
        .any(|(_, n)| n.str().is_some_and(|s| s.contains("redis")));
    let class = conf.get("cache_default_class");
    site.redis.configured = backends_redis
        && class
            .and_then(Node::str)
            .is_some_and(|c| c.starts_with("Redis_"));
    let mut conn = Connection::default();
    let host = conf.get("redis_client_host");
    let socket = conf.get("redis_client_socket");
    if let Some(s) = socket.and_then(|n| n.str().map(|s| (s, n))) {
        conn.transport = Some(Sourced::new(
            Transport::Unix { path: s.0.into() },
            s.1.at().clone(),
        ));
    } else if let Some(h) = host {
        let port = conf
            .get("redis_client_port")
            .and_then(int_of)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(6379);
        conn.transport = Some(Sourced::new(
            Transport::Tcp {
                host: h.str().unwrap_or("127.0.0.1").into(),
                port,
            },
            h.at().clone(),
        ));
    }
    conn.database = conf
        .get("redis_client_base")
        .and_then(|n| int_of(n).map(|d| Sourced::new(d, n.at().clone())));
    conn.password_set = conf.get("redis_client_password").is_some_and(secret_set);
    conn.prefix = conf
        .get("cache_prefix")
        .and_then(|n| n.str().map(|s| Sourced::new(s.to_string(), n.at().clone())));
    for (key, n) in conf.entries() {
        if key == "redis_perm_ttl" || key.starts_with("redis_perm_ttl_") {
            conn.ttl.push(setting(key.clone(), n));
        } else if matches!(
            key.as_str(),
            "cache_default_class" | "redis_client_interface" | "lock_inc" | "redis_flush_mode"
        ) {
            conn.options.push(setting(key.clone(), n));
        }
    }
    if site.redis.configured || conn != Connection::default() {
        site.redis.cache = Some(conn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_of(src: &str) -> Settings {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("settings.php");
        std::fs::write(&p, src).unwrap();
        let mut t = Settings::new(dir.path());
        let mut site = Site::new(dir.path(), Cms::Drupal, "classic");
        let mut errors = Vec::new();
        t.read(&p, &mut site, &mut errors, 0);
        assert!(errors.is_empty(), "{errors:?}");
        t
    }

    #[test]
    fn later_assignments_override_and_merge() {
        let t = tree_of(
            "<?php\n$settings['redis.connection'] = ['host' => 'a', 'port' => 1];\n$settings['redis.connection']['port'] = 0;\n$settings['container_yamls'][] = 'x.yml';\n$settings['container_yamls'][] = 'y.yml';\n$settings['cache_prefix'] = 'old';\n$settings['cache_prefix'] = ['default' => 'new'];\n",
        );
        let c = t.get(&["settings", "redis.connection"]).unwrap();
        assert_eq!(c.get("host").unwrap().str(), Some("a"));
        assert_eq!(int_of(c.get("port").unwrap()), Some(0));
        assert_eq!(c.get("port").unwrap().at().line, 3);
        let yamls = t.get(&["settings", "container_yamls"]).unwrap().entries();
        assert_eq!(yamls.len(), 2);
        assert_eq!(yamls[1].1.str(), Some("y.yml"));
        let p = t.get(&["settings", "cache_prefix", "default"]).unwrap();
        assert_eq!((p.str(), p.at().line), (Some("new"), 7));
    }

    #[test]
    fn includes_are_followed_once() {
        let dir = tempfile::tempdir().unwrap();
        let sites = dir.path().join("sites/default");
        std::fs::create_dir_all(&sites).unwrap();
        std::fs::write(
            sites.join("settings.php"),
            "<?php\n$settings['a'] = 1;\nif (file_exists($app_root . '/' . $site_path . '/settings.local.php')) {\n  include $app_root . '/' . $site_path . '/settings.local.php';\n}\n",
        )
        .unwrap();
        std::fs::write(
            sites.join("settings.local.php"),
            "<?php\n$settings['a'] = 2;\ninclude __DIR__ . '/settings.php';\n",
        )
        .unwrap();
        let mut t = Settings::new(dir.path());
        let mut site = Site::new(dir.path(), Cms::Drupal, "classic");
        let mut errors = Vec::new();
        t.read(&sites.join("settings.php"), &mut site, &mut errors, 0);
        assert!(errors.is_empty());
        assert_eq!(int_of(t.get(&["settings", "a"]).unwrap()), Some(2));
        let files: Vec<_> = site.config_files.iter().map(|c| c.role.as_str()).collect();
        assert_eq!(files, ["settings", "settings-include"], "each file once");
    }

    #[test]
    fn module_major_lines() {
        assert_eq!(major_line("8.x-1.7"), Some(1));
        assert_eq!(major_line("1.8.0"), Some(1));
        assert_eq!(major_line("2.0.0-beta1"), Some(2));
        assert_eq!(major_line("dev-2.x"), None);
    }

    #[test]
    fn day_only_strings() {
        assert!(day_only_string("3 days"));
        assert!(day_only_string("1 week"));
        assert!(!day_only_string("12 hours"));
        assert!(!day_only_string("1 month"));
        assert!(!day_only_string("2 days 3 hours"));
    }
}
