//! `app/etc/env.php` read as data: the returned array's cache frontends and session settings,
//! normalised into [`Connection`]s with the line of every value, plus the Magento lints about
//! settings that Cm_Cache_Backend_Redis and the session handler never read.

use std::path::Path;

use serde_json::Value;

use crate::cms::DetectError;
use crate::lints::lint;
use crate::model::{Connection, Location, Setting, Site, Sourced, Transport};
use crate::syntax::php::{self, ArrayItem, Expr, StmtKind};

/// Backend names that mean Redis (or its Valkey twin). Compared after trimming a leading `\`.
const REDIS_BACKENDS: &[&str] = &[
    "Cm_Cache_Backend_Redis",
    "Magento\\Framework\\Cache\\Backend\\Redis",
    "Magento\\Framework\\Cache\\Backend\\Valkey",
    "redis",
    "valkey",
];

/// Keys people put inside `backend_options` that Cm_Cache_Backend_Redis never reads.
const IGNORED_BACKEND_OPTIONS: &[&str] = &[
    "default_lifetime",
    "min_lifetime",
    "max_lifetime",
    "id_prefix",
];

const INCLUDES: &[&str] = &["include", "include_once", "require", "require_once"];

/// True when a cache `backend` value selects Redis/Valkey.
pub fn is_redis_backend(backend: &str) -> bool {
    let b = backend.trim().trim_start_matches('\\');
    REDIS_BACKENDS.iter().any(|r| r.eq_ignore_ascii_case(b))
}

/// `Foo\\Bar::class` as the class name it evaluates to.
fn class_name(e: &Expr) -> Option<&str> {
    match e {
        Expr::ClassConst { class, name } if name.eq_ignore_ascii_case("class") => Some(class),
        _ => None,
    }
}

/// A `backend` value: a string, or `Class::class`.
fn backend_name(e: &Expr) -> Option<&str> {
    e.as_str().or_else(|| class_name(e))
}

/// Read `env.php` into `site`: connections, lints, and errors for anything that is not data.
pub fn read(path: &Path, site: &mut Site, errors: &mut Vec<DetectError>) {
    let text = match crate::fsutil::read_config(path) {
        Ok(t) => t,
        Err(e) => {
            errors.push(DetectError::from_err(path, &e));
            return;
        }
    };
    let Some(config) = returned_array(path, &text, errors) else {
        return;
    };
    let at = |item: &ArrayItem| Location::new(path, item.line);

    let frontends = config
        .get("cache")
        .and_then(|c| c.value.get("frontend"))
        .and_then(|f| f.value.as_array())
        .unwrap_or(&[]);
    for frontend in frontends {
        let Some(name) = frontend.key.as_ref().and_then(Expr::key_string) else {
            continue;
        };
        let Some(conn) = cache_connection(&frontend.value, &at) else {
            continue;
        };
        lint_frontend(&name, &frontend.value, &at, site);
        match name.as_str() {
            "default" => site.redis.cache = Some(conn),
            "page_cache" => site.redis.page_cache = Some(conn),
            _ => {}
        }
    }
    if let Some(conn) = session_connection(&config, &at, site) {
        site.redis.sessions = Some(conn);
    }
    site.lints
        .sort_by_key(|l| l.location.as_ref().map_or(0, |loc| loc.line));
    let any = site.redis.connections().next().is_some();
    site.redis.configured = any;
}

/// The array `env.php` returns, or `None` with an error saying why it is not plain data.
fn returned_array(path: &Path, text: &str, errors: &mut Vec<DetectError>) -> Option<Expr> {
    let stmts = match php::parse(text) {
        Ok(s) => s,
        Err(e) => {
            errors.push(DetectError::new(
                path,
                format!("line {}: PHP syntax error: {}", e.line, e.message),
            ));
            return None;
        }
    };
    for s in &stmts {
        let include = match &s.kind {
            StmtKind::Include { kind, path } => Some((kind.as_str(), path)),
            StmtKind::Assign { value, .. } | StmtKind::Expr(value) => match value {
                Expr::Call { name, args } if INCLUDES.contains(&name.as_str()) => {
                    args.first().map(|a| (name.as_str(), a))
                }
                _ => None,
            },
            _ => None,
        };
        if let Some((kind, inc)) = include {
            errors.push(DetectError::new(
                path,
                format!(
                    "line {}: env.php pulls in another file ({kind} {}); rcfg reads env.php as a plain returned array and does not follow includes",
                    s.line,
                    inc.describe()
                ),
            ));
        }
    }
    let Some(ret) = stmts
        .iter()
        .find(|s| !s.conditional && matches!(s.kind, StmtKind::Return { .. }))
    else {
        errors.push(DetectError::new(
            path,
            "no top-level `return [ … ];`: env.php must return its configuration array",
        ));
        return None;
    };
    let StmtKind::Return { value, .. } = &ret.kind else {
        unreachable!("filtered on Return above")
    };
    if value.as_array().is_none() {
        errors.push(DetectError::new(
            path,
            format!(
                "line {}: env.php returns {}, not an array literal; rcfg reads it only as data",
                ret.line,
                value.describe()
            ),
        ));
        return None;
    }
    let mut computed = Vec::new();
    find_computed(value, &mut Vec::new(), &mut computed);
    if let Some((key, line, what)) = computed.first() {
        let more = match computed.len() {
            1 => String::new(),
            n => format!(" (and {} more computed values)", n - 1),
        };
        errors.push(DetectError::new(
            path,
            format!(
                "line {line}: '{key}' is computed ({what}), not a literal; rcfg reads env.php as data and skips computed values{more}"
            ),
        ));
    }
    Some(value.clone())
}

/// Every array entry whose value is neither a literal nor an array: (key path, line, source).
fn find_computed(expr: &Expr, trail: &mut Vec<String>, out: &mut Vec<(String, usize, String)>) {
    let Some(items) = expr.as_array() else { return };
    for (i, item) in items.iter().enumerate() {
        let key = item
            .key
            .as_ref()
            .map_or_else(|| i.to_string(), |k| k.key_string().unwrap_or(k.describe()));
        trail.push(key);
        if item.value.as_array().is_some() {
            find_computed(&item.value, trail, out);
        } else if item.value.literal().is_none() && class_name(&item.value).is_none() {
            out.push((trail.join("/"), item.line, item.value.describe()));
        }
        trail.pop();
    }
}

fn setting(key: &str, item: &ArrayItem, at: &impl Fn(&ArrayItem) -> Location) -> Option<Setting> {
    Some(Setting {
        key: key.to_string(),
        value: item.value.literal()?,
        at: at(item),
    })
}

/// A string or number value as text (`'6379'`, `6379`, `'/var/run/redis.sock'`).
fn text_of(item: &ArrayItem) -> Option<String> {
    match item.value.literal()? {
        Value::String(s) => Some(s),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Cm/Credis: an absolute path or `unix://` is a socket (port ignored), `tls://` is TLS,
/// anything else a TCP host.
pub fn server_transport(server: &str, port: Option<i64>) -> Transport {
    let port = port
        .and_then(|p| u16::try_from(p).ok())
        .filter(|p| *p != 0)
        .unwrap_or(6379);
    if server.starts_with('/') {
        return Transport::Unix {
            path: server.to_string(),
        };
    }
    if let Some(rest) = server.strip_prefix("unix://") {
        return Transport::Unix {
            path: rest.to_string(),
        };
    }
    if let Some(host) = server.strip_prefix("tls://") {
        return Transport::Tls {
            host: host.to_string(),
            port,
        };
    }
    let host = server.strip_prefix("tcp://").unwrap_or(server);
    Transport::Tcp {
        host: host.to_string(),
        port,
    }
}

/// The connection of one cache frontend, when its backend is Redis.
fn cache_connection(frontend: &Expr, at: &impl Fn(&ArrayItem) -> Location) -> Option<Connection> {
    let backend = frontend.get("backend")?;
    let name = backend_name(&backend.value)?;
    if !is_redis_backend(name) {
        return None;
    }
    let mut conn = Connection::default();
    conn.options.push(Setting {
        key: "backend".into(),
        value: Value::String(name.to_string()),
        at: at(backend),
    });
    if let Some(p) = frontend.get("id_prefix")
        && let Some(v) = text_of(p)
    {
        conn.prefix = Some(Sourced::new(v, at(p)));
    }
    let Some(opts) = frontend.get("backend_options") else {
        return Some(conn);
    };
    let o = &opts.value;
    if let Some(server) = o.get("server")
        && let Some(s) = text_of(server)
    {
        let port = o.get("port").and_then(|p| p.value.as_int());
        conn.transport = Some(Sourced::new(server_transport(&s, port), at(server)));
    }
    if let Some(db) = o.get("database")
        && let Some(n) = db.value.as_int()
    {
        conn.database = Some(Sourced::new(n, at(db)));
    }
    conn.password_set = o
        .get("password")
        .and_then(text_of)
        .is_some_and(|p| !p.is_empty());
    for key in [
        "auto_expire_lifetime",
        "auto_expire_pattern",
        "lifetimelimit",
    ] {
        if let Some(item) = o.get(key) {
            conn.ttl.extend(setting(key, item, at));
        }
    }
    for key in ["use_lua", "compress_data"] {
        if let Some(item) = o.get(key) {
            conn.options.extend(setting(key, item, at));
        }
    }
    Some(conn)
}

/// Lints on one Redis cache frontend's `backend_options`.
fn lint_frontend(
    name: &str,
    frontend: &Expr,
    at: &impl Fn(&ArrayItem) -> Location,
    site: &mut Site,
) {
    let backend_line = frontend.get("backend").map(at);
    let opts = frontend.get("backend_options").map(|o| &o.value);
    for key in IGNORED_BACKEND_OPTIONS {
        if let Some(item) = opts.and_then(|o| o.get(key)) {
            let (why, fix) = if *key == "id_prefix" {
                (
                    "id_prefix belongs at the frontend level",
                    "move id_prefix up to the frontend level, next to backend and backend_options",
                )
            } else {
                (
                    "Cm_Cache_Backend_Redis never reads it",
                    "remove it; to bound entries saved without a lifetime, set backend_options auto_expire_lifetime and auto_expire_pattern (rcfg apply does)",
                )
            };
            site.lints.push(
                lint(
                    "magento-backend-option-ignored",
                    format!("cache frontend '{name}': backend_options.{key} has no effect ({why})"),
                    at(item),
                )
                .hint(fix),
            );
        }
    }
    if let Some(item) = opts.and_then(|o| o.get("lifetimelimit")) {
        site.lints.push(lint(
            "magento-lifetimelimit-no-effect",
            format!(
                "cache frontend '{name}': lifetimelimit is parsed but never applied, so entries saved without a lifetime still never expire"
            ),
            at(item),
        ));
    }
    let lifetime = opts
        .and_then(|o| o.get("auto_expire_lifetime"))
        .filter(|i| i.value.as_int().is_some_and(|n| n > 0));
    let pattern = opts
        .and_then(|o| o.get("auto_expire_pattern"))
        .filter(|i| i.value.as_str().is_some_and(|s| !s.is_empty()));
    match (lifetime, pattern) {
        (Some(_), Some(_)) => {}
        (Some(l), None) => site.lints.push(lint(
            "magento-auto-expire-without-pattern",
            format!(
                "cache frontend '{name}': auto_expire_lifetime without auto_expire_pattern only matches the default '/REQEST/', which no Magento 2 id contains"
            ),
            at(l),
        )),
        (None, _) => {
            if let Some(loc) = backend_line {
                site.lints.push(lint(
                    "magento-no-lifetime-bound",
                    format!(
                        "cache frontend '{name}': no auto_expire_lifetime + auto_expire_pattern, so entries saved with a null lifetime never expire"
                    ),
                    loc,
                ));
            }
        }
    }
}

/// The session connection when `session.save` is Redis; adds the session lints.
fn session_connection(
    config: &Expr,
    at: &impl Fn(&ArrayItem) -> Location,
    site: &mut Site,
) -> Option<Connection> {
    let session = &config.get("session")?.value;
    let save = session.get("save")?;
    let kind = save.value.as_str()?;
    if !matches!(kind, "redis" | "valkey") {
        return None;
    }
    let mut conn = Connection::default();
    conn.options.push(Setting {
        key: "save".into(),
        value: Value::String(kind.to_string()),
        at: at(save),
    });
    let Some(r) = session.get(kind).or_else(|| session.get("redis")) else {
        return Some(conn);
    };
    let r = &r.value;
    if let Some(host) = r.get("host")
        && let Some(h) = text_of(host)
    {
        let port = r.get("port").and_then(|p| p.value.as_int());
        conn.transport = Some(Sourced::new(server_transport(&h, port), at(host)));
    }
    if let Some(db) = r.get("database")
        && let Some(n) = db.value.as_int()
    {
        conn.database = Some(Sourced::new(n, at(db)));
    }
    conn.password_set = r
        .get("password")
        .and_then(text_of)
        .is_some_and(|p| !p.is_empty());
    for key in [
        "min_lifetime",
        "max_lifetime",
        "first_lifetime",
        "bot_lifetime",
    ] {
        if let Some(item) = r.get(key) {
            conn.ttl.extend(setting(key, item, at));
        }
    }
    if let Some(item) = r.get("max_lifetime") {
        site.lints.push(lint(
            "magento-session-max-lifetime-ignored",
            format!(
                "session redis max_lifetime {} is not read: Magento caps sessions at 31536000 seconds",
                item.value.describe()
            ),
            at(item),
        ));
    }
    Some(conn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cms;

    fn read_str(src: &str) -> (Site, Vec<DetectError>) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("env.php");
        std::fs::write(&p, src).unwrap();
        let mut site = Site::new(dir.path(), Cms::Magento2, "composer");
        let mut errors = Vec::new();
        read(&p, &mut site, &mut errors);
        (site, errors)
    }

    #[test]
    fn backend_names_with_and_without_leading_backslash() {
        assert!(is_redis_backend("Cm_Cache_Backend_Redis"));
        assert!(is_redis_backend(
            "\\Magento\\Framework\\Cache\\Backend\\Redis"
        ));
        assert!(is_redis_backend(
            "Magento\\Framework\\Cache\\Backend\\Valkey"
        ));
        assert!(is_redis_backend("redis"));
        assert!(is_redis_backend("valkey"));
        assert!(!is_redis_backend("Cm_Cache_Backend_File"));
        assert!(!is_redis_backend("database"));
    }

    #[test]
    fn server_forms() {
        assert_eq!(
            server_transport("/var/run/redis/redis.sock", Some(0)),
            Transport::Unix {
                path: "/var/run/redis/redis.sock".into()
            }
        );
        assert_eq!(
            server_transport("unix:///run/r.sock", Some(6379)),
            Transport::Unix {
                path: "/run/r.sock".into()
            }
        );
        assert_eq!(
            server_transport("tls://cache.example", Some(6380)),
            Transport::Tls {
                host: "cache.example".into(),
                port: 6380
            }
        );
        assert_eq!(
            server_transport("127.0.0.1", None),
            Transport::Tcp {
                host: "127.0.0.1".into(),
                port: 6379
            }
        );
    }

    #[test]
    fn lifetime_lints_pick_the_right_case() {
        let base = |opts: &str| {
            format!(
                "<?php\nreturn ['cache' => ['frontend' => ['default' => [\n'backend' => 'redis',\n'backend_options' => [{opts}]]]]];\n"
            )
        };
        let codes = |src: String| -> Vec<String> {
            let (site, errors) = read_str(&src);
            assert!(errors.is_empty(), "{errors:?}");
            site.lints.into_iter().map(|l| l.code).collect()
        };
        assert_eq!(
            codes(base("'server' => '/r.sock'")),
            ["magento-no-lifetime-bound"]
        );
        assert_eq!(
            codes(base("'auto_expire_lifetime' => 86400")),
            ["magento-auto-expire-without-pattern"]
        );
        assert!(
            codes(base(
                "'auto_expire_lifetime' => 86400, 'auto_expire_pattern' => '/^/'"
            ))
            .is_empty()
        );
        assert_eq!(
            codes(base(
                "'auto_expire_lifetime' => 0, 'auto_expire_pattern' => '/^/'"
            )),
            ["magento-no-lifetime-bound"]
        );
        assert_eq!(
            codes(base(
                "'auto_expire_lifetime' => 60, 'auto_expire_pattern' => '/^/', 'lifetimelimit' => 10, 'max_lifetime' => 5"
            )),
            [
                "magento-backend-option-ignored",
                "magento-lifetimelimit-no-effect"
            ]
        );
    }

    #[test]
    fn ignored_backend_options_get_a_fix_that_fits_the_key() {
        let (site, _) = read_str(
            "<?php\nreturn ['cache' => ['frontend' => ['default' => [\n'backend' => 'Cm_Cache_Backend_Redis',\n'backend_options' => ['server' => '/run/redis.sock', 'default_lifetime' => 60, 'id_prefix' => 'x_']]]]];\n",
        );
        let hint = |needle: &str| {
            site.lints
                .iter()
                .find(|l| l.message.contains(needle))
                .and_then(|l| l.hint.clone())
                .unwrap()
        };
        let lifetime = hint("backend_options.default_lifetime");
        assert!(!lifetime.contains("id_prefix"), "{lifetime}");
        assert!(lifetime.contains("auto_expire_lifetime"), "{lifetime}");
        assert!(hint("backend_options.id_prefix").contains("move id_prefix up"));
    }

    #[test]
    fn class_constant_backend_is_read_as_its_name() {
        let (site, errors) = read_str(
            "<?php\nreturn ['cache' => ['frontend' => ['default' => [\n'backend' => \\Magento\\Framework\\Cache\\Backend\\Redis::class,\n'backend_options' => ['server' => '/run/redis.sock']]]]];\n",
        );
        assert!(errors.is_empty(), "{errors:?}");
        let cache = site.redis.cache.unwrap();
        assert_eq!(
            cache.options[0].value,
            "\\Magento\\Framework\\Cache\\Backend\\Redis"
        );
        assert_eq!(cache.options[0].at.line, 3);
    }

    #[test]
    fn file_backend_is_not_redis() {
        let (site, errors) = read_str(
            "<?php\nreturn array('cache' => array('frontend' => array('default' => array('backend' => 'Cm_Cache_Backend_File'))));\n",
        );
        assert!(errors.is_empty());
        assert!(!site.redis.configured);
        assert!(site.lints.is_empty());
    }

    #[test]
    fn computed_values_and_includes_are_errors_with_lines() {
        let (site, errors) = read_str(
            "<?php\nrequire __DIR__ . '/env.local.php';\nreturn [\n  'session' => ['save' => 'redis', 'redis' => [\n    'host' => getenv('REDIS_HOST'),\n    'database' => '2']]];\n",
        );
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0].message.starts_with("line 2:"),
            "{}",
            errors[0].message
        );
        assert!(
            errors[1].message.starts_with("line 5:"),
            "{}",
            errors[1].message
        );
        assert!(errors[1].message.contains("session/redis/host"));
        let s = site.redis.sessions.unwrap();
        assert!(s.transport.is_none());
        assert_eq!(s.database.unwrap().value, 2);
    }

    #[test]
    fn no_return_is_an_error() {
        let (_, errors) = read_str("<?php\n$config = ['x' => 1];\n");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("return"));
    }
}
