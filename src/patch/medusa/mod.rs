//! MedusaJS patches: `medusa-config.(ts|js)` edited in place through the JS reader's spans
//! ([`jsedit`]) and `.env` values edited line by line. What is written comes from
//! `templates/medusa/`: the cache module entry for the installed generation (v2.11+ Caching
//! Module with the Redis provider, v2 `cache-redis` before 2.11, v1 `cacheService`), the
//! `projectConfig` session keys, and the `.env` lines.
//!
//! URLs live only in `.env` (the config reads `process.env.…`), so passwords never appear in
//! the config. Socket URLs use the form ioredis parses: the bare path with `?db=N` (reference
//! 4B, Surprise 19). Existing entries are updated in place, never duplicated; values that
//! already read the right environment variable (`process.env.X || "…"`, or a `const` that
//! does) are kept as written.

pub mod jsedit;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use self::jsedit::{Ctx, JsStyle, JsWant, Keep};
use super::magento::edit::apply;
use super::render::Templates;
use super::{Endpoint, Patch, Plan, Planner, Secret, Target};
use crate::model::{Cms, Site, Transport};
use crate::syntax::js::{self, Expr, Item, Node};

pub struct MedusaPlanner;

/// Which cache module the installed Medusa uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// v1: `modules.cacheService` with `@medusajs/cache-redis`, snake_case project config.
    V1,
    /// v2 before 2.11: `@medusajs/medusa/cache-redis`.
    V2Cache,
    /// v2.11+: the Caching Module with `@medusajs/caching-redis` and `MEDUSA_FF_CACHING`.
    V2Caching,
}

const CACHING_MODULE: &str = "@medusajs/medusa/caching";

/// `(major, minor)` from a version or a package.json range (`^2.11.0`).
fn major_minor(v: &str) -> Option<(u32, u32)> {
    let v = v.trim_start_matches(|c: char| !c.is_ascii_digit());
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// The generation from the detected version, else the layout and what the config uses.
pub fn generation(version: Option<&str>, layout: &str, config: &str) -> (Generation, bool) {
    match version.and_then(major_minor) {
        Some((1, _)) => (Generation::V1, true),
        Some((2, minor)) if minor < 11 => (Generation::V2Cache, true),
        Some((m, _)) if m >= 2 => (Generation::V2Caching, true),
        _ if layout == "v1" => (Generation::V1, false),
        _ if config.contains(CACHING_MODULE) => (Generation::V2Caching, false),
        _ if layout == "v2" || config.contains("defineConfig") => (Generation::V2Cache, false),
        _ => (Generation::V1, false),
    }
}

/// Percent-encode everything but RFC 3986 unreserved characters.
fn pct(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A Redis URL as ioredis parses it: `/path.sock?db=N` for a socket, `redis://host:port/N`
/// for TCP, `rediss://` for TLS; credentials percent-encoded.
pub fn ioredis_url(ep: &Endpoint, db: i64) -> String {
    match &ep.transport {
        Transport::Unix { path } => {
            let mut u = format!("{path}?db={db}");
            if let Some(user) = &ep.username {
                u.push_str(&format!("&username={}", pct(user)));
            }
            if let Some(pw) = &ep.password {
                u.push_str(&format!("&password={}", pct(pw.expose())));
            }
            u
        }
        Transport::Tcp { host, port } | Transport::Tls { host, port } => {
            let scheme = if matches!(ep.transport, Transport::Tls { .. }) {
                "rediss"
            } else {
                "redis"
            };
            let auth = match (&ep.username, &ep.password) {
                (None, None) => String::new(),
                (u, p) => format!(
                    "{}:{}@",
                    u.as_deref().map(pct).unwrap_or_default(),
                    p.as_ref().map(|p| pct(p.expose())).unwrap_or_default()
                ),
            };
            format!("{scheme}://{auth}{host}:{port}/{db}")
        }
    }
}

#[derive(Serialize)]
struct Data {
    cache_env: String,
    session_env: String,
    cache_url: String,
    session_url: String,
    ttl: u64,
    prefix: String,
    namespace: String,
    url_key: &'static str,
    prefix_key: &'static str,
    caching: bool,
    #[serde(skip)]
    ttl_explicit: bool,
}

impl Data {
    fn new(target: &Target, generation: Generation, cache_env: &str, session_env: &str) -> Data {
        let v1 = generation == Generation::V1;
        Data {
            cache_env: cache_env.to_string(),
            session_env: session_env.to_string(),
            cache_url: ioredis_url(&target.cache, target.db),
            session_url: ioredis_url(&target.session, target.session_db),
            ttl: target.ttl,
            prefix: target.prefix.clone(),
            // cache-redis keys are `<namespace>:<key>`.
            namespace: target.prefix.trim_end_matches(':').to_string(),
            url_key: if v1 { "redis_url" } else { "redisUrl" },
            prefix_key: if v1 { "redis_prefix" } else { "redisPrefix" },
            caching: generation == Generation::V2Caching,
            ttl_explicit: target.ttl_explicit,
        }
    }
}

/// The config file relative to the site root.
fn config_rel(site: &Site) -> Option<PathBuf> {
    if let Some(c) = site.config_files.iter().find(|c| c.role == "medusa-config")
        && let Ok(rel) = c.path.strip_prefix(&site.path)
    {
        return Some(rel.to_path_buf());
    }
    [
        "medusa-config.ts",
        "medusa-config.js",
        "medusa-config.mjs",
        "medusa-config.cjs",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| site.path.join(p).is_file())
}

fn env_rel(site: &Site) -> PathBuf {
    site.config_files
        .iter()
        .find(|c| c.role == ".env")
        .and_then(|c| c.path.strip_prefix(&site.path).ok().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from(".env"))
}

/// The config object: `defineConfig({…})`, `module.exports = {…}` or `export default {…}`
/// (through `const` references).
pub fn config_object<'a>(ctx: &'a Ctx<'a>) -> Option<&'a Node> {
    let candidate = ctx.items.iter().rev().find_map(|i| match i {
        Item::ExportDefault { value, .. } => Some(value),
        Item::Assign { target, value, .. }
            if target.dotted().as_deref() == Some("module.exports") =>
        {
            Some(value)
        }
        _ => None,
    })?;
    let mut node = ctx.resolve(candidate);
    if let Expr::Call { callee, args } = &node.expr {
        if callee.dotted().as_deref() != Some("defineConfig") {
            return None;
        }
        node = ctx.resolve(args.first()?);
    }
    node.as_object().is_some().then_some(node)
}

fn file_style(src: &str, config: &Node) -> JsStyle {
    let tokens = js::lex(src).unwrap_or_default();
    let (mut single, mut double) = (0, 0);
    for t in &tokens {
        if let js::Tok::Str(_) = t.kind {
            match src.as_bytes()[t.start] {
                b'\'' => single += 1,
                b'"' => double += 1,
                _ => {}
            }
        }
    }
    let props = config.as_object().unwrap_or_default();
    JsStyle {
        unit: props
            .first()
            .and_then(|p| super::magento::edit::indent_before(src, p.start))
            .filter(|i| !i.is_empty())
            .unwrap_or("  ")
            .to_string(),
        single_quotes: single > double,
        trailing_comma: props
            .last()
            .is_some_and(|p| jsedit::comma_after(src, p.end).is_some()),
    }
}

/// Locate the existing cache entry's `options` object, to reuse the variable it reads.
fn existing_cache_options<'a>(
    ctx: &'a Ctx<'a>,
    config: &'a Node,
    generation: Generation,
) -> Option<&'a Node> {
    let modules = ctx.resolve(&config.get("modules")?.value);
    let entries: Vec<(Option<&str>, &Node)> = match &modules.expr {
        Expr::Array(items) => items.iter().map(|i| (None, ctx.resolve(i))).collect(),
        Expr::Object(props) => props
            .iter()
            .map(|p| (p.key.as_deref(), ctx.resolve(&p.value)))
            .collect(),
        _ => return None,
    };
    let resolve_of = |n: &Node| {
        n.get("resolve")
            .and_then(|p| p.value.as_str().map(str::to_string))
    };
    let entry = entries.into_iter().find(|(key, n)| match generation {
        Generation::V1 => *key == Some("cacheService"),
        Generation::V2Cache => resolve_of(n)
            .is_some_and(|r| r == "@medusajs/medusa/cache-redis" || r == "@medusajs/cache-redis"),
        Generation::V2Caching => resolve_of(n).as_deref() == Some(CACHING_MODULE),
    })?;
    let opts = ctx.resolve(&entry.1.get("options")?.value);
    if generation != Generation::V2Caching {
        return Some(opts);
    }
    let providers = ctx.resolve(&opts.get("providers")?.value);
    providers
        .as_array()?
        .iter()
        .map(|p| ctx.resolve(p))
        .find_map(|p| {
            let r = resolve_of(p);
            let id = p.get("id").and_then(|i| i.value.as_str());
            (r.as_deref().is_some_and(|r| r.ends_with("caching-redis"))
                || id == Some("caching-redis"))
            .then(|| p.get("options").map(|o| ctx.resolve(&o.value)))
            .flatten()
        })
}

fn parse_template(
    templates: &Templates,
    name: &str,
    data: &Data,
    style: &JsStyle,
) -> Result<JsWant> {
    let text = templates.render(name, data)?;
    let node = js::parse_expr(text.trim())
        .map_err(|e| anyhow::anyhow!("templates/{name}.hbs renders invalid JS: {e}"))?;
    jsedit::want_from(&node, style).with_context(|| format!("templates/{name}.hbs"))
}

/// Let every `ttl` leaf keep a positive value the site already has.
fn keep_positive_ttl(w: &mut JsWant) {
    match w {
        JsWant::Leaf { .. } => {}
        JsWant::Object(children) | JsWant::Entries(children) => {
            for (k, c) in children {
                match c {
                    JsWant::Leaf { keep, .. } if k == "ttl" => *keep = Keep::Positive,
                    other => keep_positive_ttl(other),
                }
            }
        }
    }
}

/// What rcfg wants in the config object.
fn wants(
    templates: &Templates,
    data: &Data,
    generation: Generation,
    style: &JsStyle,
) -> Result<Vec<(String, JsWant)>> {
    let project = parse_template(templates, "medusa/project-config.ts", data, style)?;
    let modules = match generation {
        Generation::V1 => JsWant::Object(vec![(
            "cacheService".into(),
            parse_template(templates, "medusa/cache-service-v1.js", data, style)?,
        )]),
        Generation::V2Cache => JsWant::Entries(vec![(
            "cache".into(),
            parse_template(templates, "medusa/cache-redis-module.ts", data, style)?,
        )]),
        Generation::V2Caching => JsWant::Entries(vec![(
            "caching".into(),
            parse_template(templates, "medusa/caching-module.ts", data, style)?,
        )]),
    };
    let mut modules = modules;
    if !data.ttl_explicit {
        keep_positive_ttl(&mut modules);
    }
    Ok(vec![
        ("projectConfig".into(), project),
        ("modules".into(), modules),
    ])
}

/// Merge `wants` into the config text; the edits, or a refusal naming the file.
fn patch_config(
    path: &Path,
    src: &str,
    wants_of: impl Fn(&Ctx<'_>, &Node) -> Result<Vec<(String, JsWant)>>,
) -> Result<(String, Vec<String>)> {
    let items = js::parse_module(src).map_err(|e| {
        anyhow::anyhow!(
            "{}:{}: cannot read the config as JS/TS: {}; fix the syntax first; nothing written",
            path.display(),
            e.line,
            e.message
        )
    })?;
    let probe = Ctx {
        src,
        items: &items,
        style: JsStyle {
            unit: "  ".into(),
            single_quotes: false,
            trailing_comma: false,
        },
    };
    let Some(config) = config_object(&probe) else {
        bail!(
            "{}: cannot locate the config object (no `defineConfig({{ … }})`, `module.exports = {{ … }}` or `export default {{ … }}` with an object literal); write the config in one of those forms so rcfg can edit it; nothing written",
            path.display()
        );
    };
    let ctx = Ctx {
        src,
        items: &items,
        style: file_style(src, config),
    };
    let wants = wants_of(&ctx, config)?;
    let mut edits = Vec::new();
    ctx.merge_object(config, &wants, "", &mut edits).map_err(|b| {
        anyhow::anyhow!(
            "{}:{}: `{}` is `{}`, which rcfg cannot edit safely (not an object/array literal or a const holding one); write it as a literal so rcfg can merge into it; nothing written",
            path.display(),
            b.line,
            b.path,
            b.what
        )
    })?;
    let notes = super::edit::replacement_notes(&path.display().to_string(), src, &edits);
    Ok((apply(src, edits)?, notes))
}

/// The user name and password in a Redis URL as ioredis reads it (`redis://u:p@h`, or
/// `?username=u&password=p` after a socket path), percent-decoded.
pub fn url_credentials(url: &str) -> (Option<String>, Option<String>) {
    let decode = |s: &str| {
        super::mask::percent_decode(s)
            .unwrap_or_else(|| s.to_string())
            .to_string()
    };
    let mut user = None;
    let mut pass = None;
    if let Some((_, rest)) = url.split_once("://")
        && let Some((auth, _)) = rest.split('/').next().unwrap_or("").rsplit_once('@')
    {
        match auth.split_once(':') {
            Some((u, p)) => {
                user = (!u.is_empty()).then(|| decode(u));
                pass = (!p.is_empty()).then(|| decode(p));
            }
            None => pass = (!auth.is_empty()).then(|| decode(auth)),
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("password", v)) if !v.is_empty() => pass = Some(decode(v)),
                Some(("username", v)) if !v.is_empty() => user = Some(decode(v)),
                _ => {}
            }
        }
    }
    (user, pass)
}

/// The server a Redis URL points at, as ioredis reads it (`redis[s]://[auth@]host[:port]`,
/// a bare socket path, `unix:///path`).
fn url_transport(url: &str) -> Option<Transport> {
    let url = url.split(['?', '#']).next().unwrap_or(url);
    if let Some(path) = url.strip_prefix("unix://") {
        return Some(Transport::Unix { path: path.into() });
    }
    if url.starts_with('/') {
        return Some(Transport::Unix { path: url.into() });
    }
    let (scheme, rest) = url.split_once("://")?;
    let hostport = rest.split('/').next()?;
    let hostport = hostport.rsplit_once('@').map_or(hostport, |(_, h)| h);
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().ok()?),
        _ => (hostport, 6379),
    };
    let host = host.to_string();
    Some(match scheme {
        "rediss" => Transport::Tls { host, port },
        "redis" => Transport::Tcp { host, port },
        _ => return None,
    })
}

/// Redis URLs written literally in the config (not read from the environment).
#[derive(Debug, Default, Clone)]
struct Literals {
    cache: Option<String>,
    session: Option<String>,
}

/// `target` with the credentials of the URLs the site uses today (`cache_env`, else the
/// variable sessions read, which a cache entry shared before the split), for each endpoint
/// given no password (plan_site has checked that it is the same server).
fn carry_credentials(
    target: &Target,
    env: &std::collections::BTreeMap<String, crate::syntax::dotenv::EnvVar>,
    (cache_env, session_env): (&str, &str),
    literals: &Literals,
) -> Result<Target> {
    let mut t = target.clone();
    for (ep, vars, literal, pw_env) in [
        (
            &mut t.session,
            [session_env, session_env],
            &literals.session,
            super::cmd::DEFAULT_SESSION_PASSWORD_ENV,
        ),
        (
            &mut t.cache,
            [cache_env, session_env],
            &literals.cache,
            super::cmd::DEFAULT_PASSWORD_ENV,
        ),
    ] {
        if ep.password.is_some() {
            continue;
        }
        // A URL written literally in the config is the one in effect (rcfg replaces it by a
        // process.env reference); else the one in .env.
        let Some(url) = literal.as_deref().or_else(|| {
            vars.iter()
                .find_map(|v| env.get(*v))
                .map(|v| v.value.as_str())
        }) else {
            continue;
        };
        if let (user, Some(pw)) = url_credentials(url) {
            // Only onto the same server; otherwise rcfg cannot tell whether it applies.
            let same = url_transport(url)
                .is_some_and(|u| super::server_key(&u) == super::server_key(&ep.transport));
            if !same {
                bail!(
                    "a Redis URL of this site has a password; the new endpoint {} may be another server, and rcfg cannot tell whether that password applies there. Give the new server's password ({pw_env} or --password-file), or remove the password by hand if the new server needs none — nothing written",
                    ep.transport,
                );
            }
            ep.password = Some(Secret::new(pw));
            if ep.username.is_none() {
                ep.username = user;
            }
        }
    }
    Ok(t)
}

/// `.env` with `wanted` values: existing assignments edited in place (the last one, which
/// dotenv uses), missing ones appended; every other byte kept.
pub fn patch_dotenv(text: &str, wanted: &[(String, String)]) -> String {
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let mut appended = Vec::new();
    for (key, value) in wanted {
        let found = lines.iter().rposition(|l| {
            let t = l.trim();
            let t = t.strip_prefix("export ").unwrap_or(t);
            t.split_once('=').is_some_and(|(k, _)| k.trim() == key)
        });
        match found {
            Some(i) => {
                let current = crate::syntax::dotenv::parse(&lines[i]);
                if current.get(key).map(|v| v.value.as_str()) == Some(value.as_str()) {
                    continue;
                }
                let l = &lines[i];
                let lead = &l[..l.len() - l.trim_start().len()];
                let export = if l.trim_start().starts_with("export ") {
                    "export "
                } else {
                    ""
                };
                let eol = if l.ends_with("\r\n") {
                    "\r\n"
                } else if l.ends_with('\n') {
                    "\n"
                } else {
                    ""
                };
                lines[i] = format!("{lead}{export}{key}={value}{eol}");
            }
            None => appended.push(format!("{key}={value}\n")),
        }
    }
    let mut out: String = lines.concat();
    if !appended.is_empty() && !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.extend(appended);
    out
}

impl Planner for MedusaPlanner {
    fn plan(&self, site: &Site, target: &Target, templates: &Templates) -> Result<Plan> {
        if site.cms != Cms::Medusa || !site.supported {
            bail!(
                "{}: {} — nothing written",
                site.path.display(),
                site.unsupported_reason
                    .as_deref()
                    .unwrap_or("not a MedusaJS site")
            );
        }
        let Some(cfg_rel) = config_rel(site) else {
            bail!(
                "{}: no medusa-config.ts or medusa-config.js found; rcfg edits the project's config file, so create it (medusa new writes one) first; nothing written",
                site.path.display()
            );
        };
        let cfg_path = site.path.join(&cfg_rel);
        let before = crate::fsutil::read_config(&cfg_path)?;
        let (generation, known) = generation(site.version.as_deref(), &site.layout, &before);
        let mut plan = Plan::new(&site.path);
        if !known {
            plan.notes.push(format!(
                "Medusa version unknown{}: treated as {}",
                site.version
                    .as_deref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default(),
                match generation {
                    Generation::V1 => "v1 (cacheService)",
                    Generation::V2Cache => "v2 before 2.11 (cache-redis module)",
                    Generation::V2Caching => "v2.11+ (Caching Module)",
                }
            ));
        }
        let url_key = if generation == Generation::V1 {
            "redis_url"
        } else {
            "redisUrl"
        };
        let vars = std::cell::RefCell::new((String::new(), String::new(), Literals::default()));

        // The current .env, whose URLs carry the credentials of the endpoints in use.
        let env_rel = env_rel(site);
        let env_path = site.path.join(&env_rel);
        let env_before = crate::fsutil::read_config_opt(&env_path)?;
        let current = env_before
            .as_deref()
            .map(crate::syntax::dotenv::parse)
            .unwrap_or_default();
        let (after, config_notes) = patch_config(&cfg_path, &before, |ctx, config| {
            // Reuse the variables the config already reads; a shared one is split.
            let session_url = config
                .get("projectConfig")
                .map(|p| ctx.resolve(&p.value))
                .and_then(|p| p.get(url_key));
            let cache_url =
                existing_cache_options(ctx, config, generation).and_then(|o| o.get("redisUrl"));
            let literal = |p: Option<&js::Prop>| {
                p.and_then(|p| ctx.resolve(&p.value).as_str().map(str::to_string))
            };
            let literals = Literals {
                cache: literal(cache_url),
                session: literal(session_url),
            };
            let session_env = session_url
                .and_then(|p| ctx.env_driven(&p.value))
                .unwrap_or_else(|| "REDIS_URL".into());
            let mut cache_env = cache_url
                .and_then(|p| ctx.env_driven(&p.value))
                .unwrap_or_else(|| "CACHE_REDIS_URL".into());
            if cache_env == session_env {
                cache_env = if session_env == "CACHE_REDIS_URL" {
                    "MEDUSA_CACHE_REDIS_URL".into()
                } else {
                    "CACHE_REDIS_URL".into()
                };
            }
            let carried =
                carry_credentials(target, &current, (&cache_env, &session_env), &literals)
                    .with_context(|| cfg_path.display().to_string())?;
            let data = Data::new(&carried, generation, &cache_env, &session_env);
            *vars.borrow_mut() = (cache_env, session_env, literals);
            wants(templates, &data, generation, &ctx.style)
        })?;
        let (cache_env, session_env, literals) = vars.into_inner();
        let target = &carry_credentials(target, &current, (&cache_env, &session_env), &literals)?;
        let data = Data::new(target, generation, &cache_env, &session_env);

        // The result must parse, locate, and already match (idempotence, checked here).
        let (again, _) = patch_config(&cfg_path, &after, |ctx, _| {
            wants(templates, &data, generation, &ctx.style)
        })
        .with_context(|| {
            format!(
                "{}: internal error re-reading the patched config",
                cfg_path.display()
            )
        })?;
        if again != after {
            bail!(
                "{}: internal error: the patched config does not settle (a second merge would change it again); nothing written",
                cfg_path.display()
            );
        }
        plan.notes.extend(config_notes);
        plan.patches.push(Patch::edit(
            &site.path,
            cfg_rel.clone(),
            before.clone(),
            after,
        ));

        // .env
        let lines = templates.render("medusa/dotenv", &data)?;
        let wanted: Vec<(String, String)> = lines
            .lines()
            .filter_map(|l| l.trim().split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match env_before {
            Some(text) => {
                for (key, value) in &wanted {
                    if let Some(old) = current.get(key)
                        && old.value != *value
                    {
                        plan.notes.push(format!(
                            "{}:{}: {key}: {} → {value}",
                            env_path.display(),
                            old.line,
                            old.value
                        ));
                    }
                }
                let after = patch_dotenv(&text, &wanted);
                plan.patches
                    .push(Patch::edit(&site.path, env_rel, text, after));
            }
            None => {
                let after = patch_dotenv("", &wanted);
                plan.patches.push(Patch::create(&site.path, env_rel, after));
            }
        }
        for ep in [&target.cache, &target.session] {
            if let Some(pw) = &ep.password {
                plan.secrets.push(pw.clone());
                let enc = pct(pw.expose());
                if enc != pw.expose() {
                    plan.secrets.push(Secret::new(enc));
                }
            }
        }
        plan.intent
            .push(super::effective::Intent::MedusaConnections {
                root: site.path.clone(),
                layout: site.layout.clone(),
                config: cfg_path.clone(),
                env: env_path.clone(),
                cache: (target.cache.transport.clone(), target.db),
                session: (target.session.transport.clone(), target.session_db),
            });
        plan.notes.push(format!(
            "{cache_env} (cache) and {session_env} (sessions, persistent instance) are set in .env; medusa-config reads them through process.env"
        ));
        if generation == Generation::V2Caching && before.contains("cache-redis") {
            plan.notes.push(
                "the deprecated cache-redis module is still registered; remove it once nothing uses it (the Caching Module replaces it from v2.11)".into(),
            );
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests;
