//! `medusa-config.{ts,js}` read as data: locate the config object (`module.exports = {…}`,
//! `defineConfig({…})`, through a `const`), resolve `process.env.X` through the site's `.env`
//! with `||`/`??` defaults, and normalise the Redis use: project `redis_url`/`redisUrl`
//! (express sessions), the cache module (v1/v2.0 `cache-redis`, v2.11+ caching module with
//! `caching-redis`), and the other Redis modules (event bus, workflow engine, locking). Also
//! the Medusa lints.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

use super::url;
use crate::cms::DetectError;
use crate::lints::lint;
use crate::model::{Connection, Location, Setting, Site, Sourced};
use crate::syntax::dotenv::{self, EnvVar};
use crate::syntax::js::{self, Expr, Item, Node, TemplateChunk};

/// Resolve names of the cache modules (v1 package, v2 subpath).
const CACHE_REDIS: &[&str] = &["@medusajs/cache-redis", "@medusajs/medusa/cache-redis"];
const CACHING: &[&str] = &["@medusajs/medusa/caching", "@medusajs/caching"];
const CACHING_REDIS: &[&str] = &["@medusajs/caching-redis", "@medusajs/medusa/caching-redis"];

/// A resolved value and where it was written (the config line, or the `.env` line).
#[derive(Debug, Clone)]
pub struct Val {
    pub value: Value,
    pub at: Location,
}

impl Val {
    fn text(&self) -> Option<String> {
        match &self.value {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    fn num(&self) -> Option<f64> {
        match &self.value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }
}

/// Evaluation context: the config file, its `const`s and the `.env` values.
pub struct Ctx<'a> {
    config: &'a Path,
    env_path: &'a Path,
    env: BTreeMap<String, EnvVar>,
    vars: HashMap<String, Node>,
}

impl Ctx<'_> {
    fn here(&self, node: &Node) -> Location {
        Location::new(self.config, node.line)
    }

    /// The value of an expression when it is data: literals, `process.env.X` from `.env`,
    /// `||`/`??` defaults, `const` names, templates of those, `parseInt`/`Number`/`String`.
    pub fn eval(&self, node: &Node) -> Option<Val> {
        self.eval_depth(node, 0)
    }

    fn eval_depth(&self, node: &Node, depth: usize) -> Option<Val> {
        if depth > 16 {
            return None;
        }
        let lit = |v: Value| {
            Some(Val {
                value: v,
                at: self.here(node),
            })
        };
        if let Some(name) = node.env_var() {
            let var = self.env.get(&name)?;
            return Some(Val {
                value: Value::String(var.value.clone()),
                at: Location::new(self.env_path, var.line),
            });
        }
        match &node.expr {
            Expr::Str(s) => lit(Value::String(s.clone())),
            Expr::Num(n) => lit(num_value(*n)),
            Expr::Bool(b) => lit(Value::Bool(*b)),
            Expr::Null | Expr::Undefined => None,
            Expr::Unary { op: "-", .. } => node.as_num().and_then(|n| lit(num_value(n))),
            Expr::Ident(name) => self.eval_depth(self.vars.get(name)?, depth + 1),
            Expr::Binary { op, left, right } if matches!(*op, "||" | "??") => {
                match self.eval_depth(left, depth + 1) {
                    Some(v) if *op == "??" || truthy(&v.value) => Some(v),
                    _ => self.eval_depth(right, depth + 1),
                }
            }
            Expr::Binary { .. } => node.as_num().and_then(|n| lit(num_value(n))),
            Expr::Template(chunks) => {
                let mut s = String::new();
                let mut at = self.here(node);
                for c in chunks {
                    match c {
                        TemplateChunk::Lit(l) => s.push_str(l),
                        TemplateChunk::Expr(e) => {
                            let v = self.eval_depth(e, depth + 1)?;
                            if v.at.path != self.config {
                                at = v.at.clone();
                            }
                            s.push_str(&v.text()?);
                        }
                    }
                }
                Some(Val {
                    value: Value::String(s),
                    at,
                })
            }
            Expr::Call { callee, args } => {
                let f = callee.dotted()?;
                let arg = self.eval_depth(args.first()?, depth + 1)?;
                match f.as_str() {
                    "parseInt" | "Number" | "parseFloat" => Some(Val {
                        value: num_value(arg.num()?),
                        at: arg.at,
                    }),
                    "String" => Some(Val {
                        value: Value::String(arg.text()?),
                        at: arg.at,
                    }),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// An object-valued expression, following `const` names.
    fn object<'n>(&'n self, node: &'n Node) -> Option<&'n Node> {
        let mut n = node;
        for _ in 0..8 {
            match &n.expr {
                Expr::Object(_) => return Some(n),
                Expr::Ident(name) => n = self.vars.get(name)?,
                _ => return None,
            }
        }
        None
    }
}

fn num_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::Bool(b) => *b,
        _ => false,
    }
}

/// The config object: `module.exports = X` / `export default X`, where X is an object, a
/// `defineConfig(…)` call, or a `const` holding one of those.
fn locate<'a>(items: &'a [Item], vars: &'a HashMap<String, Node>) -> Result<&'a Node, String> {
    let exported = items.iter().find_map(|item| match item {
        Item::Assign { target, value, .. }
            if target.dotted().as_deref() == Some("module.exports") =>
        {
            Some(value)
        }
        Item::ExportDefault { value, .. } => Some(value),
        _ => None,
    });
    let Some(mut node) = exported else {
        return Err(
            "no `module.exports = …` or `export default …`: the config object cannot be located"
                .into(),
        );
    };
    for _ in 0..8 {
        match &node.expr {
            Expr::Object(_) => return Ok(node),
            Expr::Call { callee, args } if callee.dotted().as_deref() == Some("defineConfig") => {
                node = args.first().ok_or_else(|| {
                    format!("line {}: defineConfig() without an argument", node.line)
                })?;
            }
            Expr::Ident(name) => {
                node = vars.get(name).ok_or_else(|| {
                    format!(
                        "line {}: the export `{name}` is not a top-level const",
                        node.line
                    )
                })?;
            }
            _ => break,
        }
    }
    Err(format!(
        "line {}: the exported config is not an object literal or defineConfig({{…}}) call; rcfg reads it only as data",
        node.line
    ))
}

/// Read the config into `site`: layout (when versions did not say), connections, lints.
/// Returns the npm packages of the Redis modules the config registers.
pub fn read(
    config: &Path,
    env_path: &Path,
    site: &mut Site,
    errors: &mut Vec<DetectError>,
) -> Vec<String> {
    let env = match crate::fsutil::read_config_opt(env_path) {
        Ok(t) => t.map(|t| dotenv::parse(&t)).unwrap_or_default(),
        Err(e) => {
            errors.push(DetectError::from_err(env_path, &e));
            BTreeMap::new()
        }
    };
    let text = match crate::fsutil::read_config(config) {
        Ok(t) => t,
        Err(e) => {
            errors.push(DetectError::from_err(config, &e));
            fallback_layout(site, None);
            return Vec::new();
        }
    };
    read_text(config, &text, env_path, env, site, errors)
}

/// [`read`] on given texts: the config's and the parsed `.env` (the post-condition of
/// `apply` reads a plan's planned content with it).
pub fn read_text(
    config: &Path,
    text: &str,
    env_path: &Path,
    env: BTreeMap<String, EnvVar>,
    site: &mut Site,
    errors: &mut Vec<DetectError>,
) -> Vec<String> {
    let items = match js::parse_module(text) {
        Ok(items) => items,
        Err(e) => {
            errors.push(DetectError::new(
                config,
                format!("line {}: cannot parse: {}", e.line, e.message),
            ));
            fallback_layout(site, Some(text));
            return Vec::new();
        }
    };
    let vars: HashMap<String, Node> = items
        .iter()
        .filter_map(|i| match i {
            Item::Var { name, init, .. } => Some((name.clone(), init.clone())),
            _ => None,
        })
        .collect();
    let cx = Ctx {
        config,
        env_path,
        env,
        vars,
    };
    let cfg = match locate(&items, &cx.vars) {
        Ok(c) => c,
        Err(msg) => {
            errors.push(DetectError::new(config, msg));
            fallback_layout(site, Some(text));
            return Vec::new();
        }
    };
    fallback_layout(site, Some(text));
    normalise(&cx, cfg, site)
}

/// When no version said v1 or v2: `defineConfig` means v2, otherwise v1.
fn fallback_layout(site: &mut Site, text: Option<&str>) {
    if site.layout.is_empty() {
        site.layout = match text {
            Some(t) if t.contains("defineConfig") => "v2",
            Some(_) => "v1",
            None => "unknown",
        }
        .to_string();
    }
}

/// A module registration: its `resolve` and `options`, with the line of `resolve`.
struct Module<'a> {
    resolve: String,
    options: Option<&'a Node>,
    at: Location,
}

fn modules<'a>(cx: &'a Ctx<'_>, list: Option<&'a Node>) -> Vec<Module<'a>> {
    let Some(list) = list else { return Vec::new() };
    let entries: Vec<&Node> = match &list.expr {
        Expr::Array(items) => items.iter().collect(),
        Expr::Object(props) => props.iter().map(|p| &p.value).collect(),
        Expr::Ident(_) => return modules(cx, cx.object(list).or_else(|| array_var(cx, list))),
        _ => Vec::new(),
    };
    entries
        .into_iter()
        .filter_map(|e| {
            let e = cx.object(e)?;
            let resolve = e.get("resolve")?;
            let name = cx.eval(&resolve.value)?.text()?;
            Some(Module {
                resolve: name,
                options: e.get("options").and_then(|o| cx.object(&o.value)),
                at: Location::new(cx.config, resolve.line),
            })
        })
        .collect()
}

fn array_var<'a>(cx: &'a Ctx<'_>, node: &'a Node) -> Option<&'a Node> {
    match &node.expr {
        Expr::Ident(name) => cx.vars.get(name).filter(|n| n.as_array().is_some()),
        _ => None,
    }
}

fn opt(cx: &Ctx<'_>, options: Option<&Node>, key: &str) -> Option<Val> {
    cx.eval(&prop(cx, options?, key)?.value)
}

/// Property `key` of an object as JavaScript builds it: the last of a key written twice, and
/// a later spread (`{ redisUrl: a, ...overrides }`) of a known object (a literal or a
/// variable of the config) wins over an earlier key. A spread rcfg cannot see into (an
/// import, a call) leaves the earlier key standing.
fn prop<'a>(cx: &'a Ctx<'_>, obj: &'a Node, key: &str) -> Option<&'a js::Prop> {
    prop_in(cx, cx.object(obj)?.as_object()?, key, 0)
}

fn prop_in<'a>(
    cx: &'a Ctx<'_>,
    props: &'a [js::Prop],
    key: &str,
    depth: usize,
) -> Option<&'a js::Prop> {
    props
        .iter()
        .rev()
        .find_map(|p| match (&p.key, &p.value.expr) {
            (Some(k), _) if k == key => Some(p),
            (None, Expr::Spread(inner)) if depth < 8 => {
                prop_in(cx, cx.object(inner)?.as_object()?, key, depth + 1)
            }
            _ => None,
        })
}

/// Fill a connection's transport/database/password from a Redis URL value.
fn connect(
    conn: &mut Connection,
    url: &Val,
    role: &str,
    site_lints: &mut Vec<crate::report::Finding>,
) {
    let Some(text) = url.text() else { return };
    let Some(parsed) = url::parse(&text) else {
        return;
    };
    if parsed.percent_encoded_socket {
        site_lints.push(lint(
            "redis-url-percent-encoded-socket",
            format!(
                "{role}: a percent-encoded socket path in a redis:// URL is not decoded by ioredis; it connects over TCP to the host '{}'",
                match &parsed.transport {
                    crate::model::Transport::Tcp { host, .. } => host.as_str(),
                    _ => "",
                }
            ),
            url.at.clone(),
        ));
    }
    conn.transport = Some(Sourced::new(parsed.transport, url.at.clone()));
    conn.database = parsed.database.map(|d| Sourced::new(d, url.at.clone()));
    conn.password_set = parsed.password_set;
}

fn setting(key: &str, v: &Val) -> Setting {
    Setting {
        key: key.to_string(),
        value: v.value.clone(),
        at: v.at.clone(),
    }
}

fn normalise(cx: &Ctx<'_>, cfg: &Node, site: &mut Site) -> Vec<String> {
    let v2 = site.layout == "v2";
    let project = cfg.get("projectConfig").and_then(|p| cx.object(&p.value));
    let (url_key, prefix_key) = if v2 {
        ("redisUrl", "redisPrefix")
    } else {
        ("redis_url", "redis_prefix")
    };
    let mut lints = Vec::new();

    // Sessions: the project Redis URL backs the express-session store.
    if let Some(url) = project
        .and_then(|p| prop(cx, p, url_key))
        .and_then(|p| cx.eval(&p.value))
        && url.text().is_some_and(|t| !t.is_empty())
    {
        let mut conn = Connection::default();
        connect(
            &mut conn,
            &url,
            &format!("projectConfig.{url_key}"),
            &mut lints,
        );
        let prefix = project
            .and_then(|p| p.get(prefix_key))
            .and_then(|p| cx.eval(&p.value));
        conn.prefix = Some(match &prefix {
            Some(p) => Sourced::new(
                format!("{}sess:", p.text().unwrap_or_default()),
                p.at.clone(),
            ),
            None => Sourced::new("sess:".to_string(), url.at.clone()),
        });
        // v2: the session cookie's maxAge (and the store's TTL) in milliseconds.
        if let Some(ttl) = project
            .and_then(|p| p.get("sessionOptions"))
            .and_then(|s| cx.object(&s.value))
            .and_then(|s| s.get("ttl"))
            .and_then(|t| cx.eval(&t.value))
        {
            conn.ttl.push(setting("sessionOptions.ttl", &ttl));
        }
        site.redis.sessions = Some(conn);
    }

    let mods = modules(cx, cfg.get("modules").map(|m| &m.value));
    let feature_flag = feature_flag_on(cx, cfg);

    for m in &mods {
        if CACHE_REDIS.contains(&m.resolve.as_str()) && site.redis.cache.is_none() {
            let mut conn = module_connection(cx, m, m.options, &mut lints);
            let ttl = opt(cx, m.options, "ttl").unwrap_or(Val {
                value: Value::from(30),
                at: m.at.clone(),
            });
            if ttl.num() == Some(0.0) {
                lints.push(lint(
                    "medusa-cache-redis-ttl-zero",
                    format!("{}: ttl 0 means nothing is cached", m.resolve),
                    ttl.at.clone(),
                ));
            }
            conn.ttl.push(setting("ttl", &ttl));
            let ns = opt(cx, m.options, "namespace")
                .and_then(|n| Some((n.text()?, n.at)))
                .unwrap_or(("medusa".into(), m.at.clone()));
            conn.prefix = Some(Sourced::new(format!("{}:", ns.0), ns.1));
            site.redis.cache = Some(conn);
        }
        if CACHING.contains(&m.resolve.as_str()) {
            if !feature_flag {
                lints.push(lint(
                    "medusa-caching-flag-missing",
                    format!(
                        "{} is registered but MEDUSA_FF_CACHING=true is not set in .env, so the caching module stays off",
                        m.resolve
                    ),
                    m.at.clone(),
                ));
            }
            let providers = m.options.and_then(|o| o.get("providers")).map(|p| &p.value);
            for p in modules(cx, providers) {
                if !CACHING_REDIS.contains(&p.resolve.as_str()) {
                    continue;
                }
                let mut conn = module_connection(cx, &p, p.options, &mut lints);
                conn.options[0].key = "provider".into();
                conn.options.insert(
                    0,
                    Setting {
                        key: "module".into(),
                        value: Value::String(m.resolve.clone()),
                        at: m.at.clone(),
                    },
                );
                let ttl = opt(cx, p.options, "ttl").unwrap_or(Val {
                    value: Value::from(3600),
                    at: p.at.clone(),
                });
                if ttl.num() == Some(0.0) {
                    lints.push(lint(
                        "medusa-caching-ttl-zero",
                        format!(
                            "{}: ttl 0 stores cache entries without any expiry",
                            p.resolve
                        ),
                        ttl.at.clone(),
                    ));
                }
                conn.ttl.push(setting("ttl", &ttl));
                let prefix = opt(cx, p.options, "prefix")
                    .and_then(|n| Some((n.text()?, n.at)))
                    .unwrap_or(("mc:".into(), p.at.clone()));
                conn.prefix = Some(Sourced::new(prefix.0, prefix.1));
                // The caching module replaces the older cache module.
                site.redis.cache = Some(conn);
            }
        }
    }
    // Every Redis module or provider (event bus, workflow engine, locking, caches): its URLs
    // are checked, and its package is a component.
    let mut redis_modules = Vec::new();
    let mut all: Vec<Module<'_>> = Vec::new();
    for m in mods {
        let providers = m.options.and_then(|o| o.get("providers")).map(|p| &p.value);
        all.extend(modules(cx, providers));
        all.push(m);
    }
    for m in &all {
        if !m.resolve.contains("redis") {
            continue;
        }
        let name = package_name(&m.resolve);
        if !redis_modules.contains(&name) {
            redis_modules.push(name);
        }
        if CACHE_REDIS.contains(&m.resolve.as_str()) || CACHING_REDIS.contains(&m.resolve.as_str())
        {
            continue; // checked above as the cache connection
        }
        let nested = m
            .options
            .and_then(|o| o.get("redis"))
            .and_then(|r| cx.object(&r.value));
        let urls = [
            opt(cx, m.options, "redisUrl"),
            opt(cx, nested, "redisUrl").or_else(|| opt(cx, nested, "url")),
        ];
        for u in urls.iter().flatten() {
            let mut scratch = Connection::default();
            connect(&mut scratch, u, &m.resolve, &mut lints);
        }
    }
    site.lints.extend(lints);
    site.lints
        .sort_by_key(|l| l.location.as_ref().map(|loc| (loc.path.clone(), loc.line)));
    let any = site.redis.connections().next().is_some() || !redis_modules.is_empty();
    site.redis.configured = any;
    redis_modules
}

/// The npm package behind a module `resolve` (`@medusajs/medusa/event-bus-redis` is the
/// `@medusajs/event-bus-redis` package re-exported by `@medusajs/medusa`).
pub fn package_name(resolve: &str) -> String {
    match resolve.strip_prefix("@medusajs/medusa/") {
        Some(sub) => format!("@medusajs/{sub}"),
        None => resolve.to_string(),
    }
}

/// The connection of a Redis cache module or provider: its `redisUrl` and module name.
fn module_connection(
    cx: &Ctx<'_>,
    m: &Module<'_>,
    options: Option<&Node>,
    lints: &mut Vec<crate::report::Finding>,
) -> Connection {
    let mut conn = Connection::default();
    conn.options.push(Setting {
        key: "module".into(),
        value: Value::String(m.resolve.clone()),
        at: m.at.clone(),
    });
    if let Some(url) = opt(cx, options, "redisUrl") {
        connect(&mut conn, &url, &m.resolve, lints);
    }
    conn
}

/// `MEDUSA_FF_CACHING=true` in `.env`, or `featureFlags: { caching: true }` in the config.
fn feature_flag_on(cx: &Ctx<'_>, cfg: &Node) -> bool {
    let env_on = cx
        .env
        .get("MEDUSA_FF_CACHING")
        .is_some_and(|v| v.value.eq_ignore_ascii_case("true"));
    let cfg_on = cfg
        .get("featureFlags")
        .and_then(|f| cx.object(&f.value))
        .and_then(|f| f.get("caching"))
        .and_then(|c| cx.eval(&c.value))
        .is_some_and(|v| v.value == Value::Bool(true) || v.value == Value::String("true".into()));
    env_on || cfg_on
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Cms;

    fn ctx<'a>(
        config: &'a Path,
        env: &'a Path,
        src: &str,
        dotenv_text: &str,
    ) -> (Ctx<'a>, Vec<Item>) {
        let items = js::parse_module(src).unwrap();
        let vars = items
            .iter()
            .filter_map(|i| match i {
                Item::Var { name, init, .. } => Some((name.clone(), init.clone())),
                _ => None,
            })
            .collect();
        (
            Ctx {
                config,
                env_path: env,
                env: dotenv::parse(dotenv_text),
                vars,
            },
            items,
        )
    }

    #[test]
    fn env_values_and_defaults_resolve_with_their_lines() {
        let (c, e) = (Path::new("medusa-config.ts"), Path::new(".env"));
        let src = "const A = process.env.A || 'redis://a'\nconst B = process.env.B ?? 'redis://b'\nconst C = process.env.EMPTY || `redis://${process.env.HOST}:6379`\nconst D = parseInt(process.env.TTL)\nconst E = process.env.MISSING\n";
        let (cx, _) = ctx(c, e, src, "A=redis://from-env\nEMPTY=\nHOST=h1\nTTL=600\n");
        let get = |n: &str| {
            cx.eval(&Node {
                expr: Expr::Ident(n.into()),
                start: 0,
                end: 0,
                line: 0,
            })
        };
        let a = get("A").unwrap();
        assert_eq!(a.value, Value::from("redis://from-env"));
        assert_eq!(a.at, Location::new(".env", 1));
        let b = get("B").unwrap();
        assert_eq!(b.value, Value::from("redis://b"));
        assert_eq!(b.at, Location::new("medusa-config.ts", 2));
        let cv = get("C").unwrap();
        assert_eq!(
            cv.value,
            Value::from("redis://h1:6379"),
            "empty string is falsy for ||"
        );
        assert_eq!(cv.at, Location::new(".env", 3));
        let d = get("D").unwrap();
        assert_eq!(d.value, Value::from(600));
        assert_eq!(d.at, Location::new(".env", 4));
        assert!(get("E").is_none());
    }

    #[test]
    fn v1_switch_blocks_do_not_hide_the_config() {
        let src = "let F = ''\nswitch (process.env.NODE_ENV) {\n  case 'production':\n    F = '.env.production'\n    break\n  default:\n    F = '.env'\n}\nmodule.exports = { projectConfig: { redis_url: 'redis://x' } }\n";
        let items = js::parse_module(src).unwrap();
        let (c, e) = (Path::new("c.js"), Path::new(".env"));
        let cx = Ctx {
            config: c,
            env_path: e,
            env: BTreeMap::new(),
            vars: HashMap::new(),
        };
        let cfg = locate(&items, &cx.vars).unwrap();
        assert_eq!(cfg.line, 9);
        let mut site = Site::new(Path::new("."), Cms::Medusa, "v1");
        normalise(&cx, cfg, &mut site);
        assert_eq!(
            site.redis.sessions.unwrap().transport.unwrap().at,
            Location::new("c.js", 9)
        );
    }

    #[test]
    fn v1_ignores_camel_case_and_v2_ignores_snake_case() {
        let (c, e) = (Path::new("c.js"), Path::new(".env"));
        let src = "module.exports = { projectConfig: { redisUrl: 'redis://camel', redis_url: 'redis://snake' } }\n";
        let (cx, items) = ctx(c, e, src, "");
        let cfg = locate(&items, &cx.vars).unwrap();
        for (layout, host) in [("v1", "snake"), ("v2", "camel")] {
            let mut site = Site::new(Path::new("."), Cms::Medusa, layout);
            normalise(&cx, cfg, &mut site);
            let t = site.redis.sessions.unwrap().transport.unwrap().value;
            assert_eq!(t.to_string(), format!("tcp://{host}:6379"));
        }
    }
}
