//! `rcfg apply`: flags, `rcfg.toml` `[apply]`, resolution into per-site [`Target`]s, and the
//! two sinks (diff for `--dry-run`/`--check`, atomic write otherwise).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Deserialize;

use super::assign::{Assignment, assign, assign_first};
use super::paths::Redirect;
use super::render::Templates;
use super::safety;
use super::state::resolve_dir;
use super::write::{WriteOptions, write_plan_in};
use super::{Endpoint, Plan, Secret, Target, planner_for, validate_path, validate_prefix};
use crate::cms::{DetectError, RootWalk};
use crate::exit::Exit;
use crate::model::{Site, Transport};
use crate::report::color::{Paint, paint_diff, stdout_wants_color};

/// The common two-instance layout.
pub const DEFAULT_CACHE_SOCKET: &str = "/var/run/redis/redis.sock";
pub const DEFAULT_SESSION_SOCKET: &str = "/var/run/redis-persistent/redis.sock";
pub const DEFAULT_TTL: u64 = 86_400;
pub const DEFAULT_SESSION_TTL: u64 = 86_400;
pub const DEFAULT_DATABASES: i64 = 16;
pub const DEFAULT_PASSWORD_ENV: &str = "RCFG_REDIS_PASSWORD";
pub const DEFAULT_SESSION_PASSWORD_ENV: &str = "RCFG_SESSION_REDIS_PASSWORD";

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Site directory (default: the current directory).
    pub path: Option<PathBuf>,

    /// Plan every site below DIR at once, giving each its own database and prefix.
    #[arg(long, value_name = "DIR", conflicts_with = "path")]
    pub root: Option<PathBuf>,

    /// With --root: how many levels below DIR a site root may be.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub depth: usize,

    /// Print the patches as unified diffs; write nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Write nothing; exit 1 when changes are pending, 0 when the site already matches.
    #[arg(long)]
    pub check: bool,

    /// Cache instance as a URL: redis://host:port, rediss://host:port, unix:///path.
    #[arg(long, value_name = "URL", conflicts_with_all = ["socket", "host"])]
    pub url: Option<String>,

    /// Cache instance unix socket [default: /var/run/redis/redis.sock].
    #[arg(long, value_name = "PATH", conflicts_with = "host")]
    pub socket: Option<String>,

    /// Cache instance host (TCP).
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,

    /// Cache instance port (TCP) [default: 6379].
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,

    /// Cache database number (default: keep the site's own, else the lowest free one).
    #[arg(long, value_name = "N")]
    pub db: Option<i64>,

    /// Magento full-page cache database number.
    #[arg(long, value_name = "N")]
    pub page_cache_db: Option<i64>,

    /// Key prefix (default: the site's directory name, ending in ':').
    #[arg(long, value_name = "PREFIX")]
    pub prefix: Option<String>,

    /// TTL in seconds for cached data [default: 86400].
    #[arg(long, value_name = "SECONDS")]
    pub ttl: Option<u64>,

    /// Persistent instance for sessions as a URL.
    #[arg(long, value_name = "URL", conflicts_with = "session_socket")]
    pub session_url: Option<String>,

    /// Persistent instance unix socket [default: /var/run/redis-persistent/redis.sock].
    #[arg(long, value_name = "PATH")]
    pub session_socket: Option<String>,

    /// Session database number on the persistent instance.
    #[arg(long, value_name = "N")]
    pub session_db: Option<i64>,

    /// Session lifetime in seconds [default: 86400]. Magento keeps it in store config, so
    /// it goes into the printed `bin/magento config:set web/cookie/cookie_lifetime` command.
    #[arg(long, value_name = "SECONDS")]
    pub session_ttl: Option<u64>,

    /// Environment variable holding the cache instance password [default: RCFG_REDIS_PASSWORD].
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,

    /// File holding the cache instance password (first line).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Environment variable holding the persistent instance password
    /// [default: RCFG_SESSION_REDIS_PASSWORD].
    #[arg(long, value_name = "VAR")]
    pub session_password_env: Option<String>,

    /// File holding the persistent instance password (first line).
    #[arg(long, value_name = "FILE")]
    pub session_password_file: Option<PathBuf>,

    /// Databases the cache instance has (redis.conf `databases`) [default: 16].
    #[arg(long, value_name = "N")]
    pub databases: Option<i64>,

    /// Do not keep backups of changed files in the state directory once the write has
    /// succeeded (they are still taken for crash recovery). Disables --undo for this run.
    #[arg(long)]
    pub no_backup: bool,

    /// Where backups and the crash journal live [default: /var/lib/rcfg as root, else
    /// $XDG_STATE_HOME/rcfg or ~/.local/state/rcfg].
    #[arg(long, value_name = "DIR", env = "RCFG_STATE_DIR")]
    pub state_dir: Option<PathBuf>,

    /// Restore the files of the last apply of this site (or of every site below --root)
    /// from the state directory, refusing a file changed since rcfg wrote it.
    #[arg(long, conflicts_with_all = [
        "dry_run", "check", "url", "socket", "host", "port", "db", "page_cache_db", "prefix",
        "ttl", "session_url", "session_socket", "session_db", "session_ttl", "password_env",
        "password_file", "session_password_env", "session_password_file", "databases",
        "no_backup", "allow_outside_root", "depth",
    ])]
    pub undo: bool,

    /// Edit a config file even when it (or its directory) resolves outside the site root.
    #[arg(long)]
    pub allow_outside_root: bool,

    /// When to colour the diff (never through a pipe unless CLICOLOR_FORCE is set).
    #[arg(long, value_enum, default_value_t = crate::report::color::ColorChoice::Auto)]
    pub color: crate::report::color::ColorChoice,

    #[command(flatten)]
    pub config: crate::config::ConfigArgs,
}

/// `[apply]` in rcfg.toml: a hosting profile. Flags override it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub struct ApplyConfig {
    pub url: Option<String>,
    pub socket: Option<String>,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub ttl: Option<u64>,
    pub session_url: Option<String>,
    pub session_socket: Option<String>,
    pub session_ttl: Option<u64>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    pub session_password_env: Option<String>,
    pub session_password_file: Option<PathBuf>,
    pub databases: Option<i64>,
    pub session_databases: Option<i64>,
    pub backup: Option<bool>,
    pub state_dir: Option<PathBuf>,
}

/// A parsed Redis URL.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedUrl {
    pub transport: Transport,
    pub db: Option<i64>,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

/// Parse a Redis URL with the crate's one parser ([`crate::redis_url::parse`]):
/// `redis://[user:pass@]host[:port][/db]`, `rediss://…`, `unix://[user[:pass]@]/path[?db=N]`
/// and the other forms it lists; credentials percent-decoded as everywhere in rcfg. Errors
/// show the URL masked (a fixed placeholder when it does not parse).
pub fn parse_url(url: &str) -> Result<ParsedUrl> {
    let u = crate::redis_url::parse(url)
        .map_err(|e| anyhow::anyhow!("{}: {e}", crate::redis_url::PLACEHOLDER))?;
    Ok(ParsedUrl {
        transport: u.transport,
        db: u.db,
        username: u.username,
        password: u.password.map(Secret::new),
    })
}

/// A URL with any password replaced by `********` (a fixed placeholder when it does not
/// parse).
#[allow(dead_code)] // part of this module's interface; the parser no longer needs it
pub fn mask_url(url: &str) -> String {
    crate::redis_url::mask(url)
}

fn read_password(env: &str, file: Option<&Path>) -> Result<Option<Secret>> {
    if let Some(f) = file {
        let text = std::fs::read_to_string(f)
            .with_context(|| format!("{}: cannot read password file", f.display()))?;
        let first = text.lines().next().unwrap_or("").trim_end_matches('\r');
        if first.is_empty() {
            bail!("{}: password file is empty", f.display());
        }
        return Ok(Some(Secret::new(first)));
    }
    Ok(std::env::var(env)
        .ok()
        .filter(|v| !v.is_empty())
        .map(Secret::new))
}

/// The resolved, validated inputs shared by every site of one run.
#[derive(Debug)]
struct Resolved {
    cache: Endpoint,
    cache_db: Option<i64>,
    session: Endpoint,
    session_db: Option<i64>,
    ttl: u64,
    ttl_explicit: bool,
    session_ttl: u64,
    databases: i64,
    session_databases: i64,
    backup: bool,
}

fn endpoint(
    what: &str,
    url: Option<&str>,
    socket: Option<&str>,
    host: Option<&str>,
    port: Option<u16>,
    default_socket: &str,
    password: Option<Secret>,
) -> Result<(Endpoint, Option<i64>)> {
    let (transport, db, username, url_password) = if let Some(u) = url {
        let p = parse_url(u)?;
        (p.transport, p.db, p.username, p.password)
    } else if let Some(h) = host {
        (
            Transport::Tcp {
                host: h.to_string(),
                port: port.unwrap_or(6379),
            },
            None,
            None,
            None,
        )
    } else {
        (
            Transport::Unix {
                path: socket.unwrap_or(default_socket).to_string(),
            },
            None,
            None,
            None,
        )
    };
    match &transport {
        Transport::Unix { path } => {
            validate_path(&format!("{what} socket"), path)?;
            if !path.starts_with('/') {
                bail!("{what} socket {path:?} must be an absolute path");
            }
        }
        Transport::Tcp { host, .. } | Transport::Tls { host, .. } => {
            validate_path(&format!("{what} host"), host)?
        }
    }
    let password = password.or(url_password);
    if let Some(p) = &password
        && p.expose().chars().any(|c| c.is_control())
    {
        bail!("{what} password contains control characters");
    }
    Ok((
        Endpoint {
            transport,
            password,
            username,
        },
        db,
    ))
}

fn resolve(args: &ApplyArgs, cfg: &ApplyConfig) -> Result<Resolved> {
    let pw_env = args
        .password_env
        .as_deref()
        .or(cfg.password_env.as_deref())
        .unwrap_or(DEFAULT_PASSWORD_ENV);
    let pw_file = args
        .password_file
        .as_deref()
        .or(cfg.password_file.as_deref());
    let spw_env = args
        .session_password_env
        .as_deref()
        .or(cfg.session_password_env.as_deref())
        .unwrap_or(DEFAULT_SESSION_PASSWORD_ENV);
    let spw_file = args
        .session_password_file
        .as_deref()
        .or(cfg.session_password_file.as_deref());
    // Flags override the file as a group: a flag endpoint replaces the file's endpoint.
    let flag_endpoint = args.url.is_some() || args.socket.is_some() || args.host.is_some();
    let (url, socket, host, port) = if flag_endpoint {
        (
            args.url.as_deref(),
            args.socket.as_deref(),
            args.host.as_deref(),
            args.port,
        )
    } else {
        (
            cfg.url.as_deref(),
            cfg.socket.as_deref(),
            cfg.host.as_deref(),
            args.port.or(cfg.port),
        )
    };
    let (cache, url_db) = endpoint(
        "cache",
        url,
        socket,
        host,
        port,
        DEFAULT_CACHE_SOCKET,
        read_password(pw_env, pw_file)?,
    )?;
    let flag_session = args.session_url.is_some() || args.session_socket.is_some();
    let (surl, ssock) = if flag_session {
        (args.session_url.as_deref(), args.session_socket.as_deref())
    } else {
        (cfg.session_url.as_deref(), cfg.session_socket.as_deref())
    };
    let (session, surl_db) = endpoint(
        "session",
        surl,
        ssock,
        None,
        None,
        DEFAULT_SESSION_SOCKET,
        read_password(spw_env, spw_file)?,
    )?;
    let ttl = args.ttl.or(cfg.ttl).unwrap_or(DEFAULT_TTL);
    let session_ttl = args
        .session_ttl
        .or(cfg.session_ttl)
        .unwrap_or(DEFAULT_SESSION_TTL);
    if ttl == 0 {
        bail!("--ttl must be a positive number of seconds: 0 means 'never expire' to most CMSs");
    }
    if session_ttl == 0 {
        bail!("--session-ttl must be a positive number of seconds");
    }
    let databases = args
        .databases
        .or(cfg.databases)
        .unwrap_or(DEFAULT_DATABASES);
    let session_databases = cfg.session_databases.unwrap_or(databases);
    for (flag, v) in [
        ("--db", args.db.or(url_db)),
        ("--page-cache-db", args.page_cache_db),
        ("--session-db", args.session_db.or(surl_db)),
    ] {
        if let Some(v) = v
            && !(0..databases.max(session_databases)).contains(&v)
        {
            bail!(
                "{flag} {v} is out of range: the instance has databases 0-{}",
                databases - 1
            );
        }
    }
    if let Some(p) = &args.prefix {
        validate_prefix(p)?;
    }
    Ok(Resolved {
        cache,
        cache_db: args.db.or(url_db),
        session,
        session_db: args.session_db.or(surl_db),
        ttl,
        ttl_explicit: args.ttl.or(cfg.ttl).is_some(),
        session_ttl,
        databases,
        session_databases,
        backup: !args.no_backup && cfg.backup.unwrap_or(true),
    })
}

/// The passwords given for this run, for masking.
fn resolved_secrets(r: &Resolved) -> Vec<Secret> {
    [&r.cache, &r.session]
        .iter()
        .filter_map(|ep| ep.password.clone())
        .collect()
}

/// Flags that set one site's value cannot apply to every site of a root: refuse them
/// rather than ignore them.
fn refuse_per_site_flags(args: &ApplyArgs, r: &Resolved) -> Result<()> {
    let given = [
        ("--db (or a database in --url)", r.cache_db.is_some()),
        ("--page-cache-db", args.page_cache_db.is_some()),
        (
            "--session-db (or a database in --session-url)",
            r.session_db.is_some(),
        ),
        ("--prefix", args.prefix.is_some()),
    ];
    let bad: Vec<&str> = given.iter().filter(|(_, g)| *g).map(|(f, _)| *f).collect();
    if !bad.is_empty() {
        bail!(
            "{} cannot apply to a whole root: with --root every site gets its own database and prefix (existing distinct ones are kept); drop {}, or run rcfg apply on one site to set it there",
            bad.join(", "),
            if bad.len() == 1 { "it" } else { "them" }
        );
    }
    Ok(())
}

fn target_for(r: &Resolved, a: &Assignment, args: &ApplyArgs, single: bool) -> Target {
    Target {
        cache: r.cache.clone(),
        db: if single {
            r.cache_db.unwrap_or(a.db)
        } else {
            a.db
        },
        page_cache_db: if single {
            args.page_cache_db.unwrap_or(a.page_cache_db)
        } else {
            a.page_cache_db
        },
        prefix: if single {
            args.prefix.clone().unwrap_or_else(|| a.prefix.clone())
        } else {
            a.prefix.clone()
        },
        ttl: r.ttl,
        session: r.session.clone(),
        session_db: if single {
            r.session_db.unwrap_or(a.session_db)
        } else {
            a.session_db
        },
        session_ttl: r.session_ttl,
        ttl_explicit: r.ttl_explicit,
    }
}

/// Sites next to this one (in the same parent directory, or next to its own directory
/// when the site is a docroot or a deploy release), so a single site's default database
/// does not clash with its neighbours'.
fn siblings(site: &Site) -> Vec<Site> {
    let Some((parent, max_depth)) = crate::cms::locate::neighbourhood(&site.path) else {
        return Vec::new();
    };
    let me = std::fs::canonicalize(&site.path).ok();
    let mut errors: Vec<DetectError> = Vec::new();
    crate::cms::walk_root(&parent, &RootWalk { max_depth }, &mut errors)
        .into_iter()
        .filter(|s| {
            std::fs::canonicalize(&s.path).ok() != me && s.cms != crate::model::Cms::Unknown
        })
        .collect()
}

pub fn run(args: ApplyArgs) -> Result<Exit> {
    let start = args.root.as_deref().or(args.path.as_deref());
    let file = args
        .config
        .load(start.unwrap_or(std::path::Path::new(".")))?;
    let cfg: ApplyConfig = file.section("apply")?;
    let stdout = std::io::stdout();
    // Block-buffered: a line-buffered stdout costs one write(2) per line of JSON.
    let mut out = std::io::BufWriter::new(stdout.lock());
    let writing = !(args.dry_run || args.check);
    let state_dir = resolve_dir(args.state_dir.as_deref().or(cfg.state_dir.as_deref()))?;
    if args.undo {
        return safety::run_undo(
            &mut out,
            &state_dir,
            args.path.as_deref(),
            args.root.as_deref(),
        );
    }
    let resolved = resolve(&args, &cfg)?;
    let templates = Templates::load()?;
    let mut exit = Exit::Clean;

    // Which sites, with which assignments.
    let mut errors: Vec<DetectError> = Vec::new();
    let (sites, assignments, single) = if let Some(root) = &args.root {
        refuse_per_site_flags(&args, &resolved)?;
        let (sites, skipped): (Vec<Site>, Vec<Site>) = crate::cms::walk_root(
            root,
            &RootWalk {
                max_depth: args.depth,
            },
            &mut errors,
        )
        .into_iter()
        .partition(|s| planner_for(s).is_ok());
        // Every site rcfg will not patch is named, with the reason.
        for s in &skipped {
            let why = s
                .unsupported_reason
                .clone()
                .unwrap_or_else(|| format!("{} is not supported by apply", s.cms));
            eprintln!("rcfg: skipped {}: {why}", s.path.display());
        }
        if sites.is_empty() && errors.is_empty() {
            bail!(
                "{}: no supported site found below this directory",
                root.display()
            );
        }
        let a = assign(&sites, resolved.databases, resolved.session_databases)?;
        (sites, a, false)
    } else {
        let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
        let meta =
            std::fs::metadata(&path).with_context(|| format!("{}: cannot read", path.display()))?;
        if !meta.is_dir() {
            bail!("{}: not a directory", path.display());
        }
        let mut found = crate::cms::locate::site_at(&path, &mut errors);
        if found.len() > 1 {
            let names: Vec<String> = found.iter().map(|s| s.path.display().to_string()).collect();
            bail!(
                "{}: holds {} sites ({}); name one, or use --root",
                path.display(),
                found.len(),
                names.join(", ")
            );
        }
        let site = found.remove(0);
        if let Some(from) = &site.found_from {
            eprintln!(
                "rcfg: site: {} (found from {})",
                site.path.display(),
                from.display()
            );
        }
        if let Some(e) = errors.first() {
            let msg =
                super::mask::mask_file_error(&e.path, &e.message, &resolved_secrets(&resolved));
            bail!("{}: {msg} — nothing written", e.path.display());
        }
        planner_for(&site)?;
        let mut group = vec![site];
        group.extend(siblings(&group[0]));
        let a = assign_first(&group, resolved.databases, resolved.session_databases)?;
        group.truncate(1);
        (group, vec![a], true)
    };
    for e in &errors {
        let msg = super::mask::mask_file_error(&e.path, &e.message, &resolved_secrets(&resolved));
        eprintln!("rcfg: error: {}: {msg}", e.path.display());
        exit = Exit::Error;
    }

    // Plan every site; a failing site is reported and skipped, the others go on.
    // Writing: lock the site's state and roll back an interrupted run first. Always: every
    // config file must resolve to a regular file inside the site, checked before reading.
    let mut plans: Vec<(Plan, Option<PathBuf>, Vec<Redirect>)> = Vec::new();
    for (site, a) in sites.iter().zip(&assignments) {
        // The lock is released until the write (a hosting root may hold more sites than
        // this process may keep files open); the write takes it again.
        let state = if writing {
            match safety::open_and_recover(&mut out, &state_dir, &site.path) {
                Ok(_) => Some(site.path.clone()),
                Err(e) => {
                    out.flush()?;
                    eprintln!("rcfg: error: {e:#}");
                    exit = Exit::Error;
                    continue;
                }
            }
        } else {
            if super::state::has_interrupted(&state_dir, &site.path) {
                eprintln!(
                    "rcfg: warning: {}: an interrupted rcfg apply is pending; the next `rcfg apply` or `rcfg apply --undo` rolls it back first, so this output may not match what it writes",
                    site.path.display()
                );
            }
            None
        };
        let target = target_for(&resolved, a, &args, single);
        let planned = safety::check_site_files(site, args.allow_outside_root)
            .and_then(|()| super::plan_site(site, &target, &templates))
            .and_then(|plan| {
                let r = safety::check_plan_files(&site.path, &plan, args.allow_outside_root)?;
                Ok((plan, r))
            });
        match planned {
            Ok((mut plan, redirects)) => {
                if let Some(root) = &args.root {
                    // Diff paths relative to the hosting root, so one `git apply` works there.
                    let site_rel = site
                        .path
                        .strip_prefix(root)
                        .unwrap_or(&site.path)
                        .to_path_buf();
                    for p in &mut plan.patches {
                        p.rel = site_rel.join(&p.rel);
                    }
                }
                plans.push((plan, state, redirects));
            }
            Err(e) => {
                eprintln!("rcfg: error: {e:#}");
                exit = Exit::Error;
            }
        }
    }

    // In --root mode every note starts with the site it is about.
    let site_of = |plan: &Plan| match &args.root {
        Some(root) => format!(
            "{}: ",
            plan.root.strip_prefix(root).unwrap_or(&plan.root).display()
        ),
        None => String::new(),
    };
    if args.dry_run || args.check {
        let mut pending = false;
        for (plan, _, _) in &plans {
            let (diff, masked) = super::diff::render(plan);
            if args.dry_run {
                for note in &plan.notes {
                    for line in plan.mask(note).lines() {
                        writeln!(out, "# {}{line}", site_of(plan))?;
                    }
                }
                if masked && !plan.is_noop() {
                    writeln!(
                        out,
                        "# {}secrets are shown as ********: this diff is for review (git apply or patch would fail on a masked line, or write ******** for a new value); `rcfg apply` writes the real values",
                        site_of(plan)
                    )?;
                }
            }
            if plan.is_noop() {
                eprintln!("{}: already up to date", plan.root.display());
                continue;
            }
            pending = true;
            if args.dry_run {
                let paint = Paint(stdout_wants_color(args.color));
                out.write_all(paint_diff(&diff, paint).as_bytes())?;
            } else {
                for p in plan.changed() {
                    eprintln!("{}: would change", p.path.display());
                }
            }
        }
        out.flush()?;
        if args.check && pending {
            exit = exit.merge(Exit::Findings);
        }
        return Ok(exit);
    }

    for (plan, state, redirects) in &plans {
        if plan.is_noop() {
            writeln!(
                out,
                "{}: already up to date, nothing written",
                plan.root.display()
            )?;
            continue;
        }
        let Some(site_root) = state else { continue };
        let state = match safety::open_and_recover(&mut out, &state_dir, site_root) {
            Ok(st) => st,
            Err(e) => {
                out.flush()?;
                eprintln!("rcfg: error: {e:#}");
                exit = Exit::Error;
                continue;
            }
        };
        match write_plan_in(
            plan,
            &state,
            WriteOptions {
                backup: resolved.backup,
            },
        ) {
            Ok(w) => {
                safety::print_written(&mut out, &w, redirects)?;
                safety::warn_world_readable(plan, &w);
                for note in &plan.notes {
                    for line in plan.mask(note).lines() {
                        writeln!(out, "# {}{line}", site_of(plan))?;
                    }
                }
            }
            Err(e) => {
                out.flush()?;
                eprintln!("rcfg: error: {}", plan.mask(&format!("{e:#}")));
                exit = Exit::Error;
            }
        }
    }
    out.flush()?;
    Ok(exit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_like_redis_cli() {
        let u = parse_url("redis://app:pw@10.0.0.5:6380/4").unwrap();
        assert_eq!(
            u.transport,
            Transport::Tcp {
                host: "10.0.0.5".into(),
                port: 6380
            }
        );
        assert_eq!(u.db, Some(4));
        assert_eq!(u.username.as_deref(), Some("app"));
        assert_eq!(u.password.unwrap().expose(), "pw");
        let u = parse_url("unix:///var/run/redis/redis.sock?db=3").unwrap();
        assert_eq!(
            u.transport,
            Transport::Unix {
                path: "/var/run/redis/redis.sock".into()
            }
        );
        assert_eq!(u.db, Some(3));
        assert!(matches!(
            parse_url("rediss://h").unwrap().transport,
            Transport::Tls { port: 6379, .. }
        ));
        let err = parse_url("http://x").unwrap_err().to_string();
        assert!(err.contains("unsupported scheme"), "{err}");
        // Percent-decoding is the audit's: p%40ss is p@ss.
        let u = parse_url("redis://:p%40ss@h").unwrap();
        assert_eq!(u.password.unwrap().expose(), "p@ss");
        let err = parse_url("redis://:pa/ss@h:6379").unwrap_err().to_string();
        assert!(!err.contains("pa/ss") && !err.contains("ss@h"), "{err}");
        assert_eq!(
            mask_url("redis://u:secret@h:1/0"),
            "redis://u:********@h:1/0"
        );
        assert_eq!(mask_url("redis://secret@h"), "redis://********@h");
    }
}
