//! WordPress detection: classic installs (ABSPATH with `wp-settings.php`, `wp-config.php` in
//! ABSPATH or its parent, as core's `wp-load.php` resolves it) and Bedrock projects
//! (`config/application.php`, `.env`, `web/wp`). Reads the site's constants as data
//! (`define()`, Bedrock's `Config::define()` with `env()` resolved from `.env`, Pantheon's
//! `$redis_server` array), recognises the Redis Object Cache plugin and drop-in and the
//! Pantheon WP Redis drop-in, normalises the object-cache connection and reports the
//! WordPress config lints. The small file helpers at the end are shared with the Drupal
//! detector.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::common::{ComposerLock, PathCtx, eval_path, load_php, parent_dir, tidy_path};
use super::{DetectError, Detector};
use crate::fsutil;
use crate::lints::lint;
use crate::model::{Cms, Component, Connection, Location, Setting, Site, Sourced, Transport};
use crate::syntax::dotenv::{self, EnvVar};
use crate::syntax::php::{self, Expr, StmtKind};

pub struct WordPress;

impl Detector for WordPress {
    fn detect(&self, dir: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
        if let Some(site) = detect_bedrock(dir, errors) {
            return Some(site);
        }
        detect_classic(dir, errors)
    }
}

/// Connection constants Redis Object Cache reads in `build_parameters()` (plus the
/// replication/cluster forms). Any of them defined means the site is set up for Redis.
const CONNECTION_CONSTANTS: &[&str] = &[
    "WP_REDIS_HOST",
    "WP_REDIS_PORT",
    "WP_REDIS_PATH",
    "WP_REDIS_SCHEME",
    "WP_REDIS_DATABASE",
    "WP_REDIS_PASSWORD",
    "WP_REDIS_SERVERS",
    "WP_REDIS_SHARDS",
    "WP_REDIS_CLUSTER",
    "WP_REDIS_SENTINEL",
];

/// Constants that are normalised into [`Connection`] fields rather than listed as options.
const NORMALISED: &[&str] = &[
    "WP_REDIS_HOST",
    "WP_REDIS_PORT",
    "WP_REDIS_PATH",
    "WP_REDIS_DATABASE",
    "WP_REDIS_PREFIX",
    "WP_REDIS_PASSWORD",
    "WP_REDIS_USERNAME",
    "WP_REDIS_MAXTTL",
    "WP_REDIS_DEFAULT_EXPIRE_SECONDS",
];

/// Redis Object Cache reads only these from `getenv()` when the constants are undefined
/// (reference Surprise 5).
const ENV_READ_DIRECTLY: &[&str] = &["WP_REDIS_PREFIX", "WP_REDIS_SELECTIVE_FLUSH"];

// ---------------------------------------------------------------------------------------
// Layouts

fn detect_classic(dir: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
    let version_php = dir.join("wp-includes/version.php");
    let settings_php = dir.join("wp-settings.php");
    if !settings_php.is_file() && !version_php.is_file() {
        return None;
    }
    // wp-load.php: ABSPATH/wp-config.php, else dirname(ABSPATH)/wp-config.php when the parent
    // is not itself an install (has no wp-settings.php).
    let own = dir.join("wp-config.php");
    let parent = parent_dir(dir);
    let (root, config, docroot) = if fsutil::exists(&own) {
        (dir.to_path_buf(), Some(own), None)
    } else if fsutil::exists(&parent.join("wp-config.php"))
        && !parent.join("wp-settings.php").is_file()
    {
        let cfg = parent.join("wp-config.php");
        (parent, Some(cfg), Some(dir.to_path_buf()))
    } else {
        (dir.to_path_buf(), None, None)
    };
    let mut site = Site::new(&root, Cms::WordPress, "classic");
    site.docroot = docroot;
    if settings_php.is_file() {
        site.evidence(&settings_php, "WordPress core bootstrap file");
    }
    site.version = read_wp_version(&version_php, &mut site, errors);

    let mut cfg = WpConfig::default();
    if let Some(config) = &config {
        site.config_file(config, "wp-config");
        site.evidence(config, "wp-config.php as wp-load.php resolves it");
        cfg.read_php(config, "wp-config", &mut site, errors, 0);
    }
    let content = dir.join("wp-content");
    finish(&mut site, cfg, &content, errors);
    Some(site)
}

fn detect_bedrock(dir: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
    let application = dir.join("config/application.php");
    if !application.is_file() {
        return None;
    }
    let composer = dir.join("composer.json");
    let requires_roots = fsutil::read_config_opt(&composer)
        .ok()
        .flatten()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .is_some_and(|j| {
            ["roots/wordpress", "roots/wp-config"]
                .iter()
                .any(|p| j["require"].get(p).is_some())
        });
    let core = dir.join("web/wp");
    if !requires_roots && !core.join("wp-settings.php").is_file() {
        return None;
    }
    let mut site = Site::new(dir, Cms::WordPress, "bedrock");
    site.docroot = Some(dir.join("web"));
    site.evidence(&application, "Bedrock config/application.php");
    if requires_roots {
        site.evidence(&composer, "composer.json requires roots/wordpress");
    }
    site.version = ComposerLock::read(&dir.join("composer.lock"), errors)
        .and_then(|lock| {
            lock.version(&[
                "roots/wordpress",
                "roots/wordpress-no-content",
                "johnpbloch/wordpress-core",
            ])
        })
        .or_else(|| read_wp_version(&core.join("wp-includes/version.php"), &mut site, errors));

    let mut cfg = WpConfig::default();
    let env_path = dir.join(".env");
    match fsutil::read_config_opt(&env_path) {
        Ok(Some(text)) => {
            site.config_file(&env_path, "dotenv");
            cfg.env = dotenv::parse(&text);
            cfg.env_path = Some(env_path);
        }
        Ok(None) => {}
        Err(e) => errors.push(DetectError::from_err(&env_path, &e)),
    }
    site.config_file(&application, "application");
    cfg.read_php(&application, "application", &mut site, errors, 0);
    // application.php requires config/environments/<WP_ENV>.php before Config::apply().
    let wp_env = cfg
        .effective("WP_ENV")
        .and_then(|d| cfg.resolve(d).0)
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "production".to_string());
    let env_dir = dir.join("config/environments");
    let mut env_files: Vec<PathBuf> = std::fs::read_dir(&env_dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "php"))
                .collect()
        })
        .unwrap_or_default();
    env_files.sort();
    for f in &env_files {
        site.config_file(f, "environment");
    }
    let active = env_dir.join(format!("{wp_env}.php"));
    if fsutil::exists(&active) {
        cfg.read_php(&active, "environment", &mut site, errors, 0);
    }
    let wp_config = dir.join("web/wp-config.php");
    if fsutil::exists(&wp_config) {
        site.config_file(&wp_config, "wp-config");
        cfg.read_php(&wp_config, "wp-config", &mut site, errors, 0);
    }
    let content = dir.join("web/app");
    finish(&mut site, cfg, &content, errors);
    Some(site)
}

/// `$wp_version = '…';` from `wp-includes/version.php`.
fn read_wp_version(path: &Path, site: &mut Site, errors: &mut Vec<DetectError>) -> Option<String> {
    let text = match fsutil::read_config_opt(path) {
        Ok(Some(t)) => t,
        Ok(None) => return None,
        Err(e) => {
            errors.push(DetectError::from_err(path, &e));
            return None;
        }
    };
    static WP_VERSION: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r#"\$wp_version\s*=\s*['"]([^'"]+)['"]"#).expect("static regex")
    });
    let v = WP_VERSION.captures(&text).map(|c| c[1].to_string());
    if let Some(v) = &v {
        site.evidence(path, format!("$wp_version = '{v}'"));
    }
    v
}

// ---------------------------------------------------------------------------------------
// Constants as read

/// One `define()` or `Config::define()` as written.
#[derive(Debug, Clone)]
struct Def {
    name: String,
    value: Expr,
    at: Location,
    conditional: bool,
    /// Bedrock `Config::define()`: stored in a map, the last call wins.
    config_define: bool,
}

/// Everything read from a site's config files, in load order.
#[derive(Debug, Default)]
struct WpConfig {
    defs: Vec<Def>,
    env: BTreeMap<String, EnvVar>,
    env_path: Option<PathBuf>,
    /// Pantheon WP Redis `$redis_server = [...]`: the value and the file it is in.
    redis_server: Option<(Expr, Location)>,
    /// Where `wp-settings.php` is required (the object cache starts there).
    wp_settings_at: Option<Location>,
    visited: HashSet<PathBuf>,
    /// Planned contents read instead of the files on disk (keyed by canonical path): the
    /// post-condition of `apply` reads a plan with the same rules as detect.
    overlay: BTreeMap<PathBuf, String>,
}

impl WpConfig {
    /// Read one PHP config file's defines (and the files it includes, except core).
    fn read_php(
        &mut self,
        path: &Path,
        role: &str,
        site: &mut Site,
        errors: &mut Vec<DetectError>,
        depth: usize,
    ) {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if depth > 8 || !self.visited.insert(key.clone()) {
            return;
        }
        let planned = self.overlay.get(&key).map(String::as_str);
        let Some(stmts) = load_php(path, planned, errors) else {
            return;
        };
        for stmt in &stmts {
            let at = Location::new(path, stmt.line);
            match &stmt.kind {
                StmtKind::Define { name, value, .. } => self.defs.push(Def {
                    name: name.clone(),
                    value: value.clone(),
                    at,
                    conditional: stmt.conditional,
                    config_define: false,
                }),
                StmtKind::Expr(e) if guarded_define(e).is_some() => {
                    if let Some((name, value)) = guarded_define(e) {
                        self.defs.push(Def {
                            name,
                            value: value.clone(),
                            at,
                            conditional: stmt.conditional,
                            config_define: false,
                        });
                    }
                }
                StmtKind::StaticDefine {
                    class, name, value, ..
                } if class.trim_start_matches('\\').ends_with("Config") => self.defs.push(Def {
                    name: name.clone(),
                    value: value.clone(),
                    at,
                    conditional: stmt.conditional,
                    config_define: true,
                }),
                StmtKind::Assign {
                    op: "=",
                    target: Expr::Var { name, path: p },
                    value,
                    ..
                } if name == "redis_server" && p.is_empty() => {
                    self.redis_server = Some((value.clone(), at));
                }
                StmtKind::Include { path: inc, .. }
                    if !stmt.conditional && inc.describe().ends_with("'wp-settings.php'") =>
                {
                    self.wp_settings_at.get_or_insert(at);
                }
                StmtKind::Include { path: inc, .. } => {
                    let ctx = PathCtx::for_file(path);
                    let Some(target) = eval_path(inc, &ctx) else {
                        continue;
                    };
                    // A relative path: PHP tries the include_path (`.`, the directory of
                    // the request's script) and then the including file's directory; both
                    // are that directory for a wp-config.php in ABSPATH.
                    let target = match Path::new(&target) {
                        t if t.is_relative() => parent_dir(path).join(t),
                        t => t.to_path_buf(),
                    };
                    let target = tidy_path(&target.to_string_lossy());
                    let name = target.file_name().and_then(|n| n.to_str()).unwrap_or("");
                    let skip = name == "wp-settings.php"
                        || name == "autoload.php"
                        || target.components().any(|c| {
                            matches!(c.as_os_str().to_str(), Some("vendor" | "wp-includes"))
                        });
                    if !skip && fsutil::exists(&target) {
                        site.config_file(&target, role);
                        self.read_php(&target, role, site, errors, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    /// The definition PHP ends up with: the first plain `define()` (later ones are ignored),
    /// else the last `Config::define()` (Bedrock's map is overwritten in call order).
    fn effective(&self, name: &str) -> Option<&Def> {
        self.defs
            .iter()
            .find(|d| d.name == name && !d.config_define)
            .or_else(|| {
                self.defs
                    .iter()
                    .rev()
                    .find(|d| d.name == name && d.config_define)
            })
    }

    /// The literal value of a definition and where it really comes from: the `.env` line
    /// for `env('X')`, the define's line for a literal. `None` when it is not data.
    fn resolve(&self, def: &Def) -> (Option<Value>, Location) {
        self.eval(&def.value, &def.at, 0)
            .unwrap_or((None, def.at.clone()))
    }

    fn eval(&self, e: &Expr, at: &Location, depth: usize) -> Option<(Option<Value>, Location)> {
        if let Some(v) = e.literal() {
            return Some((Some(v), at.clone()));
        }
        if depth > 16 {
            return None;
        }
        match e {
            // A constant of a constant: the value of the one it names, where that is defined.
            Expr::Const(name) => {
                let def = self.effective(name)?;
                self.eval(&def.value, &def.at, depth + 1)
            }
            Expr::Call { name, args } if is_env_fn(name) => {
                let var = args.first()?.as_str()?;
                match (self.env.get(var), &self.env_path) {
                    (Some(v), Some(p)) => Some((
                        Some(if name.ends_with("getenv") {
                            Value::String(v.value.clone())
                        } else {
                            env_value(&v.value)
                        }),
                        Location::new(p, v.line),
                    )),
                    // Bedrock loaded .env and the variable is not there: env() is null.
                    (None, Some(_)) => Some((Some(Value::Null), at.clone())),
                    // No .env: the value comes from the server environment, unknown here.
                    _ => None,
                }
            }
            Expr::Var { name, path }
                if (name == "_ENV" || name == "_SERVER") && path.len() == 1 =>
            {
                let var = path[0].as_str()?;
                let v = self.env.get(var)?;
                Some((
                    Some(Value::String(v.value.clone())),
                    Location::new(self.env_path.as_ref()?, v.line),
                ))
            }
            // `env('X') ?: 'fallback'` and `env('X') ?? 'fallback'`.
            Expr::Ternary {
                cond,
                then: None,
                otherwise,
            } => {
                let (v, loc) = self.eval(cond, at, depth + 1)?;
                if v.as_ref().is_some_and(truthy) {
                    Some((v, loc))
                } else {
                    self.eval(otherwise, at, depth + 1)
                }
            }
            Expr::Binary {
                op: "??",
                left,
                right,
            } => {
                let (v, loc) = self.eval(left, at, depth + 1)?;
                if v.as_ref().is_some_and(|v| !v.is_null()) {
                    Some((v, loc))
                } else {
                    self.eval(right, at, depth + 1)
                }
            }
            Expr::Cast { to, expr } if to == "int" || to == "integer" => {
                let (v, loc) = self.eval(expr, at, depth + 1)?;
                let n = match v? {
                    Value::Number(n) => n.as_i64().unwrap_or(0),
                    Value::String(s) => php::php_intval(&s),
                    Value::Bool(b) => i64::from(b),
                    _ => 0,
                };
                Some((Some(Value::from(n)), loc))
            }
            _ => None,
        }
    }

    /// A resolved, non-null value of constant `name` and its location.
    fn value(&self, name: &str) -> Option<(Value, Location)> {
        let def = self.effective(name)?;
        match self.resolve(def) {
            (Some(Value::Null), _) | (None, _) => None,
            (Some(v), at) => Some((v, at)),
        }
    }

    /// Constant `name` is defined (whatever its value), or, for the two variables Redis
    /// Object Cache reads with `getenv()`, set in `.env`.
    fn defined(&self, name: &str) -> bool {
        self.effective(name).is_some()
    }

    /// Constant `name` is defined with something other than null (a literal, or an
    /// expression rcfg cannot evaluate).
    fn says(&self, name: &str) -> bool {
        self.effective(name)
            .is_some_and(|d| !matches!(self.resolve(d).0, Some(Value::Null)))
    }

    /// Value from `define`/`Config::define`, else from `.env` for the two variables the
    /// drop-in reads from the environment itself.
    fn value_or_env(&self, name: &str) -> Option<(Value, Location)> {
        if self.defined(name) {
            return self.value(name);
        }
        if ENV_READ_DIRECTLY.contains(&name) {
            let v = self.env.get(name)?;
            return Some((
                Value::String(v.value.clone()),
                Location::new(self.env_path.as_ref()?, v.line),
            ));
        }
        None
    }
}

/// One constant as PHP ends up with it once the config files are loaded.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EffectiveConst {
    /// The value, when rcfg can evaluate it (`None`: computed from something it cannot see).
    pub value: Option<Value>,
    /// The expression as written.
    pub expr: String,
    /// The definition that wins (file:line).
    pub at: Location,
}

/// The effective constants `names` of a classic install whose active config is `config`,
/// read as detect reads them (same includes, first `define()` wins) with `overlay`'s text
/// (keyed by canonical path) in place of the files on disk. A file that cannot be read or
/// parsed is an error naming it.
pub(crate) fn effective_constants(
    config: &Path,
    overlay: BTreeMap<PathBuf, String>,
    names: &[&str],
) -> Result<BTreeMap<String, EffectiveConst>, Vec<DetectError>> {
    let mut cfg = WpConfig {
        overlay,
        ..WpConfig::default()
    };
    let mut site = Site::new(&parent_dir(config), Cms::WordPress, "classic");
    let mut errors = Vec::new();
    cfg.read_php(config, "wp-config", &mut site, &mut errors, 0);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(cfg.effective_of(names))
}

/// [`effective_constants`] for a Bedrock project at `dir`: `.env`, `config/application.php`,
/// the active `config/environments/<WP_ENV>.php` and `web/wp-config.php`, in the order
/// detect reads them (the last `Config::define()` wins, values from `.env`).
pub(crate) fn effective_bedrock_constants(
    dir: &Path,
    overlay: BTreeMap<PathBuf, String>,
    names: &[&str],
) -> Result<BTreeMap<String, EffectiveConst>, Vec<DetectError>> {
    let mut cfg = WpConfig {
        overlay,
        ..WpConfig::default()
    };
    let mut site = Site::new(dir, Cms::WordPress, "bedrock");
    let mut errors = Vec::new();
    let env_path = dir.join(".env");
    let planned_env = std::fs::canonicalize(&env_path)
        .ok()
        .and_then(|k| cfg.overlay.get(&k).cloned());
    let env_text = match planned_env {
        Some(t) => Some(t),
        None => fsutil::read_config_opt(&env_path)
            .map_err(|e| vec![DetectError::from_err(&env_path, &e)])?,
    };
    if let Some(text) = env_text {
        cfg.env = dotenv::parse(&text);
        cfg.env_path = Some(env_path);
    }
    cfg.read_php(
        &dir.join("config/application.php"),
        "application",
        &mut site,
        &mut errors,
        0,
    );
    let wp_env = cfg
        .effective("WP_ENV")
        .and_then(|d| cfg.resolve(d).0)
        .and_then(|v| v.as_str().map(str::to_string))
        // Stock Bedrock defines WP_ENV from .env; a config that does not still has the
        // variable Bedrock loaded.
        .or_else(|| cfg.env.get("WP_ENV").map(|v| v.value.clone()))
        .unwrap_or_else(|| "production".to_string());
    for f in [
        dir.join(format!("config/environments/{wp_env}.php")),
        dir.join("web/wp-config.php"),
    ] {
        if f.is_file() {
            cfg.read_php(&f, "environment", &mut site, &mut errors, 0);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(cfg.effective_of(names))
}

impl WpConfig {
    /// The effective definition of each of `names` that is defined.
    fn effective_of(&self, names: &[&str]) -> BTreeMap<String, EffectiveConst> {
        let cfg = self;
        names
            .iter()
            .filter_map(|n| {
                let def = cfg.effective(n)?;
                let (value, at) = cfg.resolve(def);
                Some((
                    n.to_string(),
                    EffectiveConst {
                        value,
                        expr: def.value.describe(),
                        at,
                    },
                ))
            })
            .collect()
    }
}

/// The guarded idiom `defined('X') || define('X', v)` (also with `or`): the `define()` runs
/// only when `X` is not defined yet, which is what a first plain `define()` does. Returns the
/// name and the value expression; a guard on another constant is not recognised.
pub(crate) fn guarded_define(e: &Expr) -> Option<(String, &Expr)> {
    let Expr::Binary {
        op: "||",
        left,
        right,
    } = e
    else {
        return None;
    };
    let is = |n: &str, want: &str| n.trim_start_matches('\\').eq_ignore_ascii_case(want);
    let (
        Expr::Call {
            name: g,
            args: guard,
        },
        Expr::Call { name: d, args },
    ) = (left.as_ref(), right.as_ref())
    else {
        return None;
    };
    if !is(g, "defined") || !is(d, "define") || args.len() < 2 {
        return None;
    }
    let name = args[0].as_str()?;
    (guard.first()?.as_str()? == name).then(|| (name.to_string(), &args[1]))
}

/// The literal a computed value falls back to: `x ?: 2`, `x ?? 'a:'`, `(int) (x ?: 2)`.
fn visible_default(e: &Expr) -> Option<Value> {
    match e {
        Expr::Ternary {
            then: None,
            otherwise,
            ..
        } => otherwise.literal().or_else(|| visible_default(otherwise)),
        Expr::Binary {
            op: "??", right, ..
        } => right.literal().or_else(|| visible_default(right)),
        Expr::Cast { expr, .. } => visible_default(expr),
        _ => None,
    }
}

fn is_env_fn(name: &str) -> bool {
    let n = name.trim_start_matches('\\');
    n.eq_ignore_ascii_case("env")
        || n.eq_ignore_ascii_case("Env\\env")
        || n.eq_ignore_ascii_case("getenv")
}

/// oscarotero/env conversions Bedrock's `env()` applies: booleans, null, integers.
fn env_value(raw: &str) -> Value {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "(true)" => Value::Bool(true),
        "false" | "(false)" => Value::Bool(false),
        "null" | "(null)" => Value::Null,
        "empty" | "(empty)" => Value::String(String::new()),
        _ => match raw.parse::<i64>() {
            Ok(n) if !raw.starts_with('+') => Value::from(n),
            _ => Value::String(raw.to_string()),
        },
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty() && s != "0",
        _ => true,
    }
}

// ---------------------------------------------------------------------------------------
// Plugins, drop-ins, connection, lints

/// The installed `object-cache.php` drop-in.
#[derive(Debug, Clone, PartialEq)]
enum DropIn {
    None,
    RedisObjectCache,
    PantheonWpRedis,
    /// Some other object cache (Memcached, APCu, …).
    Other,
}

fn finish(site: &mut Site, cfg: WpConfig, content: &Path, errors: &mut Vec<DetectError>) {
    // Plugins.
    let plugin = content.join("plugins/redis-cache/redis-cache.php");
    let rc_plugin = plugin_component(&plugin, "redis-cache", errors);
    let wpr_plugin = plugin_component(
        &content.join("plugins/wp-redis/wp-redis.php"),
        "wp-redis",
        errors,
    );
    // Drop-in.
    let dropin_path = content.join("object-cache.php");
    let mut dropin = DropIn::None;
    match fsutil::read_config_opt(&dropin_path) {
        Ok(Some(text)) => {
            let head = file_head(&text);
            let name = header_field(head, "Plugin Name");
            if name
                .as_deref()
                .is_some_and(|n| n.starts_with("Redis Object Cache"))
            {
                dropin = DropIn::RedisObjectCache;
                site.redis.components.push(Component {
                    name: "redis-cache-dropin".into(),
                    version: header_field(head, "Version"),
                    path: dropin_path.clone(),
                });
            } else if text.contains("WP_REDIS_DEFAULT_EXPIRE_SECONDS")
                || text.contains("$redis_server")
                || text.contains("WP_REDIS_USE_CACHE_GROUPS")
            {
                dropin = DropIn::PantheonWpRedis;
                site.redis.components.push(Component {
                    name: "wp-redis-dropin".into(),
                    version: header_field(head, "Version"),
                    path: dropin_path.clone(),
                });
            } else {
                dropin = DropIn::Other;
            }
        }
        Ok(None) => {}
        Err(e) => errors.push(DetectError::from_err(&dropin_path, &e)),
    }
    let has_rc_plugin = rc_plugin.is_some();
    site.redis.components.extend(rc_plugin);
    site.redis.components.extend(wpr_plugin);

    // Configured: a Redis drop-in is installed, or connection constants say where Redis is
    // (the site owner meant to use Redis even if the drop-in is missing). A plugin without
    // drop-in and without constants is installed but not configured.
    // A constant defined as null (Bedrock's `env('X')` with X unset) says nothing.
    let constants = CONNECTION_CONSTANTS.iter().any(|c| cfg.says(c));
    site.redis.configured = matches!(dropin, DropIn::RedisObjectCache | DropIn::PantheonWpRedis)
        || constants
        || (cfg.redis_server.is_some() && dropin != DropIn::Other);

    let use_pantheon = dropin == DropIn::PantheonWpRedis
        || (dropin == DropIn::None && !constants && cfg.redis_server.is_some());
    let conn = if use_pantheon {
        pantheon_connection(&cfg)
    } else {
        rc_connection(&cfg)
    };
    if site.redis.configured || conn != Connection::default() {
        site.redis.cache = Some(conn);
    }
    // WordPress keeps no sessions in Redis.
    site.redis.sessions = None;

    lint_wordpress(site, &cfg, &dropin, has_rc_plugin);
}

/// A plugin's component from its main file's header (`Version:`), when installed.
fn plugin_component(path: &Path, name: &str, errors: &mut Vec<DetectError>) -> Option<Component> {
    match fsutil::read_config_opt(path) {
        Ok(Some(text)) => Some(Component {
            name: name.into(),
            version: header_field(file_head(&text), "Version"),
            path: path.to_path_buf(),
        }),
        Ok(None) => None,
        Err(e) => {
            errors.push(DetectError::from_err(path, &e));
            None
        }
    }
}

/// The first 8 KiB of a file, where WordPress looks for header fields (`get_file_data()`),
/// cut at a character boundary.
fn file_head(text: &str) -> &str {
    let mut end = text.len().min(8192);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A WordPress file-header field (`get_file_data()`): `Field: value` on a line of its own,
/// optionally after comment characters.
pub(super) fn header_field(text: &str, field: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let l = line.trim_start_matches(|c: char| " \t/*#@".contains(c));
        let l = l.strip_prefix("<?php").map(str::trim_start).unwrap_or(l);
        let rest = l.strip_prefix(field)?.trim_start().strip_prefix(':')?;
        let v = rest.trim().trim_end_matches("*/").trim();
        (!v.is_empty()).then(|| v.to_string())
    })
}

fn setting(key: &str, value: Value, at: Location) -> Setting {
    Setting {
        key: key.into(),
        value,
        at,
    }
}

fn as_port(v: &Value) -> Option<u16> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|p| u16::try_from(p).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_db(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Redis Object Cache: `build_parameters()` from the `WP_REDIS_*` constants.
fn rc_connection(cfg: &WpConfig) -> Connection {
    let mut conn = Connection::default();
    let scheme = cfg
        .value("WP_REDIS_SCHEME")
        .map(|(v, at)| (value_text(&v).to_ascii_lowercase(), at));
    let host = cfg.value("WP_REDIS_HOST");
    let port = cfg.value("WP_REDIS_PORT");
    let host_s = host
        .as_ref()
        .map_or_else(|| "127.0.0.1".to_string(), |(v, _)| value_text(v));
    let port_n = port.as_ref().and_then(|(v, _)| as_port(v)).unwrap_or(6379);
    let at_of = |fallback: Option<&Location>| {
        host.as_ref()
            .map(|(_, at)| at.clone())
            .or_else(|| port.as_ref().map(|(_, at)| at.clone()))
            .or_else(|| fallback.cloned())
    };
    // WP_REDIS_HOST set from something rcfg cannot see (the server environment): the
    // endpoint is unknown, not the default.
    let host_unknown = cfg.says("WP_REDIS_HOST") && host.is_none();
    conn.transport = match scheme.as_ref().map(|(s, at)| (s.as_str(), at)) {
        Some((s, _)) if s != "unix" && host_unknown => None,
        None if host_unknown => None,
        // The socket is located at its WP_REDIS_PATH define.
        Some(("unix", _)) => cfg.value("WP_REDIS_PATH").map(|(p, at)| {
            Sourced::new(
                Transport::Unix {
                    path: value_text(&p),
                },
                at,
            )
        }),
        Some(("tls" | "rediss", at)) => Some(Sourced::new(
            Transport::Tls {
                host: host_s.trim_start_matches("tls://").to_string(),
                port: port_n,
            },
            at_of(Some(at)).unwrap_or_else(|| at.clone()),
        )),
        Some((_, at)) => Some(Sourced::new(
            Transport::Tcp {
                host: host_s,
                port: port_n,
            },
            at_of(Some(at)).unwrap_or_else(|| at.clone()),
        )),
        None => at_of(None).map(|at| {
            Sourced::new(
                Transport::Tcp {
                    host: host_s,
                    port: port_n,
                },
                at,
            )
        }),
    };
    conn.database = cfg
        .value("WP_REDIS_DATABASE")
        .and_then(|(v, at)| as_db(&v).map(|d| Sourced::new(d, at)));
    conn.prefix = cfg
        .value_or_env("WP_REDIS_PREFIX")
        .or_else(|| cfg.value("WP_CACHE_KEY_SALT"))
        .map(|(v, at)| Sourced::new(value_text(&v).trim().to_string(), at))
        .filter(|p| !p.value.is_empty());
    conn.password_set =
        cfg.effective("WP_REDIS_PASSWORD")
            .is_some_and(|d| match cfg.resolve(d).0 {
                Some(Value::String(s)) => !s.is_empty(),
                Some(Value::Null) | Some(Value::Bool(false)) => false,
                _ => true, // an array (`['user', 'pass']`) or an expression
            });
    if let Some(def) = cfg.effective("WP_REDIS_MAXTTL") {
        let (v, at) = cfg.resolve(def);
        conn.ttl.push(setting(
            "WP_REDIS_MAXTTL",
            v.unwrap_or_else(|| Value::String(def.value.describe())),
            at,
        ));
    }
    let mut seen = HashSet::new();
    for def in &cfg.defs {
        let n = def.name.as_str();
        if !n.starts_with("WP_REDIS_") || NORMALISED.contains(&n) || !seen.insert(n) {
            continue;
        }
        let def = cfg.effective(n).unwrap_or(def);
        let (v, at) = cfg.resolve(def);
        conn.options.push(setting(
            n,
            v.unwrap_or_else(|| Value::String(def.value.describe())),
            at,
        ));
    }
    // Connection constants computed from what rcfg cannot see (`getenv('X') ?: 2`,
    // `$_ENV['X'] ?? 'a:'`): reported as computed, with the expression and the default it
    // falls back to where one is visible. (A password's expression is never shown.)
    for n in [
        "WP_REDIS_HOST",
        "WP_REDIS_PORT",
        "WP_REDIS_PATH",
        "WP_REDIS_DATABASE",
        "WP_REDIS_PREFIX",
    ] {
        if let Some(def) = cfg.effective(n)
            && cfg.resolve(def).0.is_none()
        {
            let mut v = serde_json::json!({ "computed": def.value.describe() });
            if let Some(d) = visible_default(&def.value) {
                v["default"] = d;
            }
            conn.options.push(setting(n, v, def.at.clone()));
        }
    }
    if !cfg.defined("WP_REDIS_SELECTIVE_FLUSH")
        && let Some((v, at)) = cfg.value_or_env("WP_REDIS_SELECTIVE_FLUSH")
    {
        conn.options.push(setting(
            "WP_REDIS_SELECTIVE_FLUSH",
            env_value(&value_text(&v)),
            at,
        ));
    }
    conn
}

/// Pantheon WP Redis: the `$redis_server` array, `WP_CACHE_KEY_SALT` and
/// `WP_REDIS_DEFAULT_EXPIRE_SECONDS`.
fn pantheon_connection(cfg: &WpConfig) -> Connection {
    let mut conn = Connection::default();
    if let Some((server, at)) = &cfg.redis_server {
        let item = |k: &str| {
            server.get(k).map(|i| {
                (
                    i.value.literal().unwrap_or(Value::Null),
                    Location::new(&at.path, i.line),
                )
            })
        };
        let host = item("host").filter(|(v, _)| !v.is_null());
        let port = item("port").and_then(|(v, _)| as_port(&v)).unwrap_or(6379);
        conn.transport = host.map(|(h, hat)| {
            let h = value_text(&h);
            let t = if h.starts_with('/') {
                Transport::Unix { path: h }
            } else {
                Transport::Tcp { host: h, port }
            };
            Sourced::new(t, hat)
        });
        conn.database =
            item("database").and_then(|(v, dat)| as_db(&v).map(|d| Sourced::new(d, dat)));
        conn.password_set = item("auth").is_some_and(|(v, _)| match v {
            Value::String(s) => !s.is_empty(),
            Value::Null | Value::Bool(false) => false,
            _ => true,
        }) || server
            .get("auth")
            .is_some_and(|i| matches!(i.value, Expr::Array(_)));
    }
    conn.prefix = cfg
        .value("WP_CACHE_KEY_SALT")
        .map(|(v, at)| Sourced::new(value_text(&v), at))
        .filter(|p| !p.value.is_empty());
    if let Some(def) = cfg.effective("WP_REDIS_DEFAULT_EXPIRE_SECONDS") {
        let (v, at) = cfg.resolve(def);
        conn.ttl.push(setting(
            "WP_REDIS_DEFAULT_EXPIRE_SECONDS",
            v.unwrap_or_else(|| Value::String(def.value.describe())),
            at,
        ));
    }
    for name in [
        "WP_REDIS_USE_CACHE_GROUPS",
        "WP_REDIS_IGNORE_GLOBAL_GROUPS",
        "WP_REDIS_USE_RELAY",
        "WP_REDIS_DISABLE_FAILBACK_FLUSH",
    ] {
        if let Some((v, at)) = cfg.value(name) {
            conn.options.push(setting(name, v, at));
        }
    }
    conn
}

/// `WP_REDIS_MAXTTL` that makes every key permanent: 0, or anything `(int)` turns into 0.
fn maxttl_is_zero(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_some_and(|f| f as i64 == 0),
        Value::String(s) => php::php_intval(s) == 0,
        Value::Bool(b) => !b,
        Value::Null => true,
        _ => false,
    }
}

fn lint_wordpress(site: &mut Site, cfg: &WpConfig, dropin: &DropIn, rc_plugin: bool) {
    let mut out = Vec::new();
    // A constant defined twice (plain define() only; Bedrock's Config::define is a map whose
    // later entries are meant to override). Conditional defines are skipped: the common
    // `if (!defined('X')) define('X', …)` is correct, and an `if` may not run at all.
    let mut first: BTreeMap<&str, &Def> = BTreeMap::new();
    for def in cfg
        .defs
        .iter()
        .filter(|d| !d.config_define && !d.conditional)
    {
        match first.get(def.name.as_str()) {
            None => {
                first.insert(&def.name, def);
            }
            Some(f) => {
                let where_first = if f.at.path == def.at.path {
                    format!("line {}", f.at.line)
                } else {
                    format!("{}", f.at)
                };
                out.push(lint(
                    "php-constant-defined-twice",
                    format!(
                        "{} is defined again here; PHP keeps the first definition ({where_first}) and ignores this one",
                        def.name
                    ),
                    def.at.clone(),
                ));
            }
        }
    }

    // Redis constants defined after wp-settings.php is required come too late: the drop-in
    // has connected (wp_start_object_cache) by then.
    if let Some(ws) = &cfg.wp_settings_at {
        for def in cfg.defs.iter().filter(|d| {
            !d.config_define
                && d.at.path == ws.path
                && d.at.line > ws.line
                && (d.name.starts_with("WP_REDIS_") || d.name == "WP_CACHE_KEY_SALT")
        }) {
            out.push(lint(
                "wp-redis-constant-after-wp-settings",
                format!(
                    "{} is defined after wp-settings.php is loaded (line {}): the object cache has already connected without it",
                    def.name, ws.line
                ),
                def.at.clone(),
            ));
        }
    }

    let pantheon = *dropin == DropIn::PantheonWpRedis;
    if !pantheon
        && cfg.says("WP_REDIS_PATH")
        && let Some(path_def) = cfg.effective("WP_REDIS_PATH")
    {
        let scheme = cfg
            .value("WP_REDIS_SCHEME")
            .map(|(v, _)| value_text(&v).to_ascii_lowercase());
        if scheme.as_deref() != Some("unix") {
            out.push(lint(
                "wp-redis-path-without-unix-scheme",
                match scheme {
                    Some(s) => format!(
                        "WP_REDIS_PATH is set but WP_REDIS_SCHEME is '{s}': the socket is not used"
                    ),
                    None => "WP_REDIS_PATH is set without WP_REDIS_SCHEME 'unix': Redis Object Cache connects over TCP and ignores the socket".to_string(),
                },
                cfg.resolve(path_def).1,
            ));
        }
    }

    let rc_in_use = *dropin == DropIn::RedisObjectCache || (*dropin == DropIn::None && rc_plugin);
    if let Some(def) = cfg.effective("WP_REDIS_MAXTTL") {
        let (v, at) = cfg.resolve(def);
        if v.as_ref().is_some_and(maxttl_is_zero) {
            out.push(lint(
                "wp-redis-maxttl-zero",
                format!(
                    "WP_REDIS_MAXTTL is {}: every cache key is stored without expiry, even keys that asked for one",
                    v.map(|v| v.to_string()).unwrap_or_default()
                ),
                at,
            ));
        }
    } else if site.redis.configured && rc_in_use {
        let at = cfg
            .defs
            .iter()
            .find(|d| d.name.starts_with("WP_REDIS_"))
            .map(|d| cfg.resolve(d).1)
            .or_else(|| site.config_files.first().map(|c| Location::new(&c.path, 1)))
            .unwrap_or_else(|| Location::new(&site.path, 1));
        out.push(lint(
            "wp-redis-maxttl-missing",
            "Redis Object Cache is configured without WP_REDIS_MAXTTL: entries saved without expiry never expire",
            at,
        ));
    }

    if let Some(def) = cfg.effective("WP_REDIS_DEFAULT_EXPIRE_SECONDS") {
        let (v, at) = cfg.resolve(def);
        if pantheon {
            if v.as_ref().is_some_and(maxttl_is_zero) {
                out.push(lint(
                    "wp-redis-default-expire-zero",
                    "WP_REDIS_DEFAULT_EXPIRE_SECONDS is 0: WP Redis stores entries without expiry by default",
                    at,
                ));
            }
        } else if rc_in_use {
            out.push(lint(
                "wp-redis-default-expire-wrong-plugin",
                "WP_REDIS_DEFAULT_EXPIRE_SECONDS belongs to Pantheon WP Redis; the installed Redis Object Cache never reads it",
                at,
            ));
        }
    }

    // Bedrock: WP_REDIS_* in .env reach Redis Object Cache only through Config::define, except
    // the two it reads with getenv().
    if let Some(env_path) = &cfg.env_path {
        for (name, var) in &cfg.env {
            if name.starts_with("WP_REDIS_")
                && !ENV_READ_DIRECTLY.contains(&name.as_str())
                && !cfg.defs.iter().any(|d| &d.name == name)
            {
                out.push(lint(
                    "wp-redis-env-not-mapped",
                    format!(
                        "{name} is set in .env but no Config::define('{name}', env('{name}')) maps it: Redis Object Cache never sees it"
                    ),
                    Location::new(env_path, var.line),
                ));
            }
        }
    }
    site.lints.extend(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composer_lock_versions_and_bad_locks() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("composer.lock");
        std::fs::write(
            &p,
            r#"{"packages": [{"name": "roots/wordpress-no-content", "version": "v6.6.2", "dist": {}}],
               "packages-dev": [{"name": "drupal/redis", "version": "1.8.0"}], "content-hash": "x"}"#,
        )
        .unwrap();
        let mut errors = Vec::new();
        let lock = ComposerLock::read(&p, &mut errors).unwrap();
        assert_eq!(
            lock.version(&["roots/wordpress", "roots/wordpress-no-content"])
                .as_deref(),
            Some("6.6.2")
        );
        assert_eq!(lock.version(&["drupal/redis"]).as_deref(), Some("1.8.0"));
        assert_eq!(lock.version(&["drupal/core"]), None);
        std::fs::write(&p, "{\n  \"packages\": [\n").unwrap();
        assert!(ComposerLock::read(&p, &mut errors).is_none());
        assert!(errors[0].message.starts_with("line 3:"), "{errors:?}");
    }

    #[test]
    fn file_head_cuts_at_a_character_boundary() {
        let text = format!("{}ü tail", "a".repeat(8191));
        assert_eq!(file_head(&text).len(), 8191);
        assert_eq!(file_head("short"), "short");
    }

    #[test]
    fn header_fields_as_wordpress_reads_them() {
        let text =
            "<?php\n/**\n * Plugin Name: Redis Object Cache Drop-In\n * Version: 2.6.3\n */\n";
        assert_eq!(
            header_field(text, "Plugin Name").as_deref(),
            Some("Redis Object Cache Drop-In")
        );
        assert_eq!(header_field(text, "Version").as_deref(), Some("2.6.3"));
        assert_eq!(header_field(text, "Author"), None);
    }

    #[test]
    fn env_values_convert_like_oscarotero_env() {
        assert_eq!(env_value("true"), Value::Bool(true));
        assert_eq!(env_value("3"), Value::from(3));
        assert_eq!(
            env_value("/var/run/redis/redis.sock"),
            Value::from("/var/run/redis/redis.sock")
        );
        assert_eq!(env_value("null"), Value::Null);
    }

    #[test]
    fn maxttl_zero_covers_non_numeric() {
        assert!(maxttl_is_zero(&Value::from(0)));
        assert!(maxttl_is_zero(&Value::from("one day")));
        assert!(maxttl_is_zero(&Value::from("0")));
        assert!(!maxttl_is_zero(&Value::from("3600")));
        assert!(!maxttl_is_zero(&Value::from(86400)));
    }

    #[test]
    fn include_paths_resolve_dir_and_concatenation() {
        let stmts = php::parse(
            "<?php require __DIR__ . '/wp-config-redis.php'; include dirname(__FILE__, 2) . '/x.php'; include $unknown . 'y';",
        )
        .unwrap();
        let ctx = PathCtx::for_file(Path::new("site/public/wp-config.php"));
        let paths: Vec<Option<String>> = stmts
            .iter()
            .map(|s| match &s.kind {
                StmtKind::Include { path, .. } => eval_path(path, &ctx),
                _ => None,
            })
            .collect();
        assert_eq!(paths[0].as_deref(), Some("site/public/wp-config-redis.php"));
        assert_eq!(paths[1].as_deref(), Some("site/x.php"));
        assert_eq!(paths[2], None);
        assert_eq!(tidy_path("a/./b//c.php"), PathBuf::from("a/b/c.php"));
    }

    /// A config read from PHP source (`define` and `Config::define` only).
    fn cfg_of(src: &str) -> WpConfig {
        let mut cfg = WpConfig::default();
        for s in php::parse(src).unwrap() {
            let (name, value, config_define) = match s.kind {
                StmtKind::Define { name, value, .. } => (name, value, false),
                StmtKind::StaticDefine { name, value, .. } => (name, value, true),
                _ => continue,
            };
            cfg.defs.push(Def {
                name,
                value,
                at: Location::new("wp-config.php", s.line),
                conditional: s.conditional,
                config_define,
            });
        }
        cfg
    }

    #[test]
    fn transports_from_scheme_host_and_port() {
        let tls = rc_connection(&cfg_of(
            "<?php\ndefine('WP_REDIS_SCHEME', 'tls');\ndefine('WP_REDIS_HOST', 'redis.internal');\n",
        ));
        let t = tls.transport.unwrap();
        assert_eq!(
            t.value,
            Transport::Tls {
                host: "redis.internal".into(),
                port: 6379
            }
        );
        assert_eq!(t.at.line, 3, "located at WP_REDIS_HOST");
        let tcp = rc_connection(&cfg_of("<?php\ndefine('WP_REDIS_PORT', '6380');\n"));
        assert_eq!(
            tcp.transport.unwrap().value,
            Transport::Tcp {
                host: "127.0.0.1".into(),
                port: 6380
            }
        );
        let none = rc_connection(&cfg_of("<?php\ndefine('WP_REDIS_MAXTTL', 60);\n"));
        assert_eq!(none.transport, None, "no constant names an endpoint");
        let unix_without_path = rc_connection(&cfg_of("<?php define('WP_REDIS_SCHEME', 'unix');"));
        assert_eq!(unix_without_path.transport, None);
        let pw = rc_connection(&cfg_of(
            "<?php define('WP_REDIS_PASSWORD', ['user', 'pass']);",
        ));
        assert!(pw.password_set);
        let empty = rc_connection(&cfg_of("<?php define('WP_REDIS_PASSWORD', '');"));
        assert!(!empty.password_set, "an empty password is ignored");
    }

    #[test]
    fn host_from_the_server_environment_is_unknown_not_default() {
        let c = cfg_of(
            "<?php\ndefine('WP_REDIS_HOST', getenv('REDIS_HOST'));\ndefine('WP_REDIS_PORT', 6380);\n",
        );
        assert!(c.says("WP_REDIS_HOST"), "still a connection constant");
        assert_eq!(rc_connection(&c).transport, None);
    }

    #[test]
    fn first_define_wins_config_define_last_wins() {
        let mut cfg = WpConfig::default();
        let stmts = php::parse(
            "<?php define('A', 1);\ndefine('A', 2);\nConfig::define('B', 1);\nConfig::define('B', env('B') ?: 5);\n",
        )
        .unwrap();
        for s in &stmts {
            match &s.kind {
                StmtKind::Define { name, value, .. } => cfg.defs.push(Def {
                    name: name.clone(),
                    value: value.clone(),
                    at: Location::new("f", s.line),
                    conditional: false,
                    config_define: false,
                }),
                StmtKind::StaticDefine { name, value, .. } => cfg.defs.push(Def {
                    name: name.clone(),
                    value: value.clone(),
                    at: Location::new("f", s.line),
                    conditional: false,
                    config_define: true,
                }),
                _ => {}
            }
        }
        assert_eq!(cfg.value("A").unwrap().0, Value::from(1));
        assert_eq!(cfg.value("B"), None, "no .env: env('B') is unknown");
        cfg.env_path = Some(PathBuf::from(".env"));
        let (b, at) = cfg.value("B").unwrap();
        assert_eq!(b, Value::from(5), "not in .env: falls back");
        assert_eq!(at.line, 4);
        cfg.env.insert(
            "B".into(),
            EnvVar {
                value: "7".into(),
                line: 9,
            },
        );
        let (b, at) = cfg.value("B").unwrap();
        assert_eq!((b, at.line), (Value::from(7), 9));
    }
}
