//! `rcfg audit-ttl --redis URL`: the read-only live keyspace audit.
//!
//! Flow: resolve flags and `[redis]`/`[policy]` ([`RedisArgs`], [`RedisConfig`]), connect
//! ([`connect`]), read `INFO keyspace` for an instant estimate, find the targets (every db
//! `INFO keyspace` lists, or the one `--db`/the URL names; every primary of a cluster), walk
//! each with [`scan`] over a
//! [`wire`], group keys with [`namespace`], attribute them to sites (`--sites`), then turn the
//! result into a [`LiveReport`] and policy findings ([`policy`]); [`human`] prints the table.
//! Problems reaching Redis become `report.errors` (exit 2); policy violations become findings
//! (exit 1).
//!
//! Only SCAN, PTTL, TYPE (`--types`), MEMORY USAGE (`--memory`), INFO, SELECT and CLUSTER
//! SHARDS/NODES are ever sent, plus AUTH when a password is set. (The documented ACL also
//! grants DBSIZE and PING; rcfg does not need them today.)

mod args;
pub mod connect;
pub mod human;
pub mod namespace;
pub mod policy;
pub mod scan;
mod socket;
mod tls;
pub mod wire;
#[cfg(test)]
mod wire_fuzz;

use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use serde::Serialize;

pub use args::{LiveArgs, RedisArgs, RedisConfig};
pub use human::write_human;

use crate::config::FileConfig;
use crate::model::{Site, Transport};
use crate::report::{Finding, Severity};
use crate::scan::cmd::{AuditArgs, AuditError, AuditReport};
use connect::{Addr, Endpoint, TlsFiles};
use namespace::{Class, Classifier, Layout, SiteClaim, SiteMatcher};
use policy::{Policy, PolicyConfig};
use scan::{Limiter, NsAcc, ScanOptions};

/// Live-keyspace results, flattened into the audit JSON (`server`, `totals`, `targets`,
/// `namespaces`, `sites`). The field names are a contract.
#[derive(Debug, Default, Clone, Serialize)]
pub struct LiveReport {
    pub server: ServerReport,
    pub totals: Totals,
    /// Each node/database walked.
    pub targets: Vec<TargetReport>,
    /// Sorted by keys without expiry (most first), then keys, then name.
    pub namespaces: Vec<NamespaceReport>,
    /// With `--sites`: each site claim on an audited endpoint/db and what it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sites: Option<Vec<SiteReport>>,
    /// The audit stopped before any key was read (bad URL, unreachable, auth, not Redis):
    /// human output then shows the error alone, never an empty table.
    #[serde(skip)]
    pub aborted: bool,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ServerReport {
    /// The URL as given, password removed, without db.
    pub endpoint: String,
    /// `standalone` or `cluster`.
    pub mode: String,
    /// Audited primaries (cluster mode).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// `--sample N` when sampling.
    pub sample: Option<u64>,
    /// True when MEMORY USAGE was measured.
    pub memory: bool,
    pub delimiter: String,
    pub depth: usize,
    /// The databases read, in order (every database `INFO keyspace` lists with keys, unless
    /// `--db` or the URL names one; `[0]` for a cluster).
    pub databases: Vec<i64>,
    /// Databases `INFO keyspace` lists with keys that this run did not read (narrowed by
    /// `--db` or the URL).
    pub databases_not_read: Vec<i64>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Totals {
    /// Keys SCAN returned (including ones that vanished before PTTL).
    pub keys_scanned: u64,
    /// Keys that still existed when their TTL was read.
    pub keys: u64,
    pub without_expiry: u64,
    /// `without_expiry / keys` in percent.
    pub without_expiry_pct: f64,
    /// Keys without expiry in persistent-by-design or allowed namespaces.
    pub without_expiry_allowed: u64,
    /// Keys that expired or were deleted between SCAN and PTTL (`-2`).
    pub vanished: u64,
    /// With --memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_without_expiry: Option<u64>,
    /// From `INFO keyspace` before the walk: keys and keys without expiry (keys − expires).
    pub estimated_keys: u64,
    pub estimated_without_expiry: u64,
    /// Commands sent for the walk (SCAN + per-key).
    pub commands: u64,
    pub elapsed_ms: u64,
    pub namespaces: usize,
    /// With --sites: keys in namespaces no known site claims.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unattributed_keys: Option<u64>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct TargetReport {
    /// `redis://host:port/db` (password removed).
    pub endpoint: String,
    pub db: i64,
    /// `standalone` or `primary` (cluster).
    pub role: String,
    pub estimated_keys: u64,
    pub estimated_without_expiry: u64,
    pub keys_scanned: u64,
    pub vanished: u64,
    /// Why the walk of this target stopped early.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NamespaceReport {
    pub namespace: String,
    /// The site path that writes this namespace, or null.
    pub site: Option<String>,
    pub class: Class,
    /// Which layout rule matched (`wordpress`, `drupal`, `magento`, `medusa`, `bullmq`,
    /// `session`, `generic`).
    pub layout: Layout,
    /// Server endpoint without db (the seed URL for a cluster).
    pub endpoint: String,
    pub db: i64,
    pub keys: u64,
    pub without_expiry: u64,
    pub without_expiry_pct: f64,
    pub vanished: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bytes_without_expiry: Option<u64>,
    pub ttl_buckets: TtlBuckets,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub types: Option<BTreeMap<String, u64>>,
    pub examples: Vec<String>,
    /// Persistent-by-design or matched by an allow glob: never a violation.
    pub allowed: bool,
    /// The policy flagged this namespace.
    pub violation: bool,
    #[serde(skip)]
    pub endpoint_db: String,
}

/// Keys per remaining-TTL range, in this order; `none` is keys without expiry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TtlBuckets {
    #[serde(rename = "<1m")]
    pub under_1m: u64,
    #[serde(rename = "1m-1h")]
    pub m1_h1: u64,
    #[serde(rename = "1h-1d")]
    pub h1_d1: u64,
    #[serde(rename = "1d-7d")]
    pub d1_d7: u64,
    #[serde(rename = ">7d")]
    pub over_7d: u64,
    pub none: u64,
}

impl TtlBuckets {
    fn from_counts(c: [u64; 6]) -> TtlBuckets {
        TtlBuckets {
            under_1m: c[0],
            m1_h1: c[1],
            h1_d1: c[2],
            d1_d7: c[3],
            over_7d: c[4],
            none: c[5],
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteReport {
    pub path: String,
    pub cms: crate::model::Cms,
    pub endpoint: String,
    pub db: i64,
    pub prefix: Option<String>,
    pub keys: u64,
    pub without_expiry: u64,
}

/// Everything resolved from flags, rcfg.toml and defaults.
struct Resolved {
    endpoint: Endpoint,
    db: Option<i64>,
    all_dbs: bool,
    scan: ScanOptions,
    max_rate: Option<u32>,
    classifier: Classifier,
    sites: Option<PathBuf>,
    policy: Policy,
    progress: bool,
}

fn resolve(args: &LiveArgs, url: &str, config: &FileConfig) -> Result<Resolved> {
    let rc: RedisConfig = config.section("redis")?;
    let mut pc: PolicyConfig = config.section("policy")?;
    let parsed = connect::parse_url(url)?;
    let password_file = args.password_file.clone().or(rc.password_file);
    let password = match &password_file {
        Some(p) => {
            let text = crate::fsutil::read_config(p).context("cannot read the password file")?;
            Some(text.lines().next().unwrap_or_default().to_string())
        }
        None => parsed.password.clone().or_else(|| {
            std::env::var("REDISCLI_AUTH")
                .ok()
                .filter(|p| !p.is_empty())
        }),
    };
    let connect_timeout = match args
        .connect_timeout
        .as_deref()
        .or(rc.connect_timeout.as_deref())
    {
        Some(t) => connect::parse_duration(t).context("--connect-timeout")?,
        None => Duration::from_secs(5),
    };
    let read_timeout = match args.read_timeout.as_deref().or(rc.read_timeout.as_deref()) {
        Some(t) => connect::parse_duration(t).context("--read-timeout")?,
        None => Duration::from_secs(10),
    };
    let endpoint = Endpoint {
        addr: parsed.addr,
        user: args.user.clone().or(rc.user).or(parsed.user),
        password,
        url_db: parsed.db,
        tls: TlsFiles {
            ca: args.tls_ca.clone().or(rc.tls_ca),
            cert: args.tls_cert.clone().or(rc.tls_cert),
            key: args.tls_key.clone().or(rc.tls_key),
            insecure: args.tls_insecure || parsed.insecure,
        },
        connect_timeout,
        read_timeout,
    };
    let delimiter = args
        .delimiter
        .clone()
        .or(rc.delimiter)
        .unwrap_or_else(|| ":".to_string());
    if delimiter.len() != 1 {
        bail!("--delimiter must be a single ASCII character, got `{delimiter}`");
    }
    let depth = args.depth.or(rc.depth).unwrap_or(2).max(1);
    pc.allow_persistent
        .extend(args.policy.allow_persistent.iter().cloned());
    if args.policy.max_without_expiry.is_some() {
        pc.max_without_expiry = args.policy.max_without_expiry;
    }
    if args.policy.max_without_expiry_pct.is_some() {
        pc.max_without_expiry_pct = args.policy.max_without_expiry_pct;
    }
    if let Some(b) = &args.policy.max_memory_without_expiry {
        pc.max_memory_without_expiry = Some(policy::ByteSize(
            policy::parse_bytes(b).context("--max-memory-without-expiry")?,
        ));
    }
    if args.policy.max_total_without_expiry.is_some() {
        pc.max_total_without_expiry = args.policy.max_total_without_expiry;
    }
    if args.policy.max_total_without_expiry_pct.is_some() {
        pc.max_total_without_expiry_pct = args.policy.max_total_without_expiry_pct;
    }
    let memory =
        args.memory || rc.memory.unwrap_or(false) || pc.max_memory_without_expiry.is_some();
    Ok(Resolved {
        endpoint,
        db: args.db,
        all_dbs: args.all_dbs,
        scan: ScanOptions {
            count: args.scan_count.or(rc.scan_count).unwrap_or(1000),
            sample: args.sample.or(rc.sample),
            memory,
            types: args.types || rc.types.unwrap_or(false),
            examples: args.examples.or(rc.examples).unwrap_or(3),
            max_namespaces: 5000,
        },
        max_rate: args.max_rate.or(rc.max_rate).filter(|&r| r > 0),
        classifier: Classifier {
            delimiter: delimiter.as_bytes()[0],
            depth,
        },
        sites: args.sites.clone().or(rc.sites),
        policy: Policy::new(pc)?,
        progress: !args.no_progress,
    })
}

/// One node/database to walk.
struct Target {
    endpoint: Endpoint,
    db: i64,
    role: &'static str,
    estimated_keys: u64,
    estimated_without_expiry: u64,
}

/// Run the live audit and add its results to `report`.
pub fn audit(args: &AuditArgs, config: &FileConfig, report: &mut AuditReport) -> Result<()> {
    let Some(url) = args.redis.redis.as_deref() else {
        return Ok(());
    };
    let shown = connect::mask_url(url);
    let r = match resolve(&args.redis.opts, url, config) {
        Ok(r) => r,
        Err(e) => {
            report.errors.push(AuditError {
                target: shown.clone(),
                message: format!("{e:#}"),
            });
            // Still a live report, so `--format human` shows the error under its header.
            let mut live = LiveReport::default();
            live.server.endpoint = shown;
            live.server.mode = "standalone".to_string();
            live.aborted = true;
            report.live = Some(live);
            return Ok(());
        }
    };
    let started = Instant::now();
    let mut live = LiveReport {
        server: ServerReport {
            endpoint: r.endpoint.server_label(),
            mode: "standalone".to_string(),
            nodes: Vec::new(),
            sample: r.scan.sample,
            memory: r.scan.memory,
            delimiter: (r.classifier.delimiter as char).to_string(),
            depth: r.classifier.depth,
            databases: Vec::new(),
            databases_not_read: Vec::new(),
        },
        ..LiveReport::default()
    };

    let targets = match find_targets(&r, &mut live) {
        Ok(t) => t,
        Err((db, message)) => {
            report.errors.push(AuditError {
                target: r.endpoint.label(db),
                message,
            });
            live.totals.elapsed_ms = started.elapsed().as_millis() as u64;
            live.aborted = true;
            report.live = Some(live);
            return Ok(());
        }
    };

    let mut site_errors = Vec::new();
    let sites = r
        .sites
        .as_ref()
        .map(|dir| load_sites(dir, &mut site_errors));
    for e in site_errors {
        report.errors.push(e);
    }

    let estimate: u64 = targets
        .iter()
        .map(|t| match r.scan.sample {
            Some(n) => n.min(t.estimated_keys),
            None => t.estimated_keys,
        })
        .sum();
    let progress = progress_bar(r.progress, estimate);
    let limiter = Limiter::new(r.max_rate);
    let cluster = live.server.mode == "cluster";
    // (endpoint, db, namespace) → accumulated stats, merged across cluster primaries.
    let mut merged: HashMap<(String, i64, String), (NsAcc, Option<String>)> = HashMap::new();
    let mut site_reports: Vec<SiteReport> = Vec::new();
    for t in &targets {
        let claims = sites
            .as_ref()
            .map(|s| claims_for(s, &t.endpoint.transport(), t.db))
            .unwrap_or_default();
        let matcher = SiteMatcher::new(claims.clone());
        let result = scan::scan_target(
            &t.endpoint,
            t.db,
            t.estimated_keys,
            &r.scan,
            &r.classifier,
            &matcher,
            &limiter,
            &progress,
        );
        live.totals.keys_scanned += result.keys_scanned;
        live.totals.vanished += result.vanished;
        live.totals.commands += result.commands;
        live.totals.estimated_keys += t.estimated_keys;
        live.totals.estimated_without_expiry += t.estimated_without_expiry;
        let label = t.endpoint.label(t.db);
        if let Some(e) = &result.error {
            report.errors.push(AuditError {
                target: label.clone(),
                message: e.clone(),
            });
        }
        live.targets.push(TargetReport {
            endpoint: label,
            db: t.db,
            role: t.role.to_string(),
            estimated_keys: t.estimated_keys,
            estimated_without_expiry: t.estimated_without_expiry,
            keys_scanned: result.keys_scanned,
            vanished: result.vanished,
            error: result.error.clone(),
        });
        let ns_endpoint = if cluster {
            r.endpoint.server_label()
        } else {
            t.endpoint.server_label()
        };
        if sites.is_some() {
            for c in &matcher.claims {
                site_reports.push(SiteReport {
                    path: c.path.clone(),
                    cms: c.cms,
                    endpoint: t.endpoint.server_label(),
                    db: t.db,
                    prefix: c.prefix.as_deref().map(|p| namespace::escape(p, 200)),
                    keys: 0,
                    without_expiry: 0,
                });
            }
        }
        for (name, acc) in result.namespaces {
            let site = acc.site.map(|i| matcher.claims[i].path.clone());
            if let Some(sr) = site_reports.iter_mut().rev().find(|s| {
                Some(&s.path) == site.as_ref()
                    && s.db == t.db
                    && s.endpoint == t.endpoint.server_label()
            }) {
                sr.keys += acc.keys;
                sr.without_expiry += acc.without_expiry;
            }
            match merged.entry((ns_endpoint.clone(), t.db, name)) {
                std::collections::hash_map::Entry::Occupied(mut o) => {
                    o.get_mut().0.merge(&acc, r.scan.examples);
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert((acc, site));
                }
            }
        }
    }
    progress.finish_and_clear();
    live.aborted = !live.targets.is_empty()
        && live
            .targets
            .iter()
            .all(|t| t.error.is_some() && t.keys_scanned == 0);

    for ((endpoint, db, name), (acc, site)) in merged {
        live.namespaces.push(namespace_report(
            endpoint,
            db,
            name,
            acc,
            site,
            r.scan.memory,
        ));
    }
    live.namespaces.sort_by(|a, b| {
        b.without_expiry
            .cmp(&a.without_expiry)
            .then(b.keys.cmp(&a.keys))
            .then(a.namespace.cmp(&b.namespace))
            .then(a.db.cmp(&b.db))
    });
    if sites.is_some() {
        site_reports.sort_by(|a, b| a.path.cmp(&b.path).then(a.db.cmp(&b.db)));
        live.sites = Some(site_reports);
    }

    let findings = r.policy.evaluate(&mut live);
    finish_totals(&mut live, &r, started);
    report.findings.extend(findings);
    if let Some(unattributed) = live.totals.unattributed_keys.filter(|&n| n > 0) {
        let mut f = Finding::new(
            "redis-keys-without-site",
            Severity::Info,
            format!("{unattributed} keys belong to no site found under --sites"),
        )
        .hint("a site missing from the hosting root, a stale prefix, or another application on this Redis");
        f.target = Some(live.server.endpoint.clone());
        report.findings.push(f);
    }
    report.live = Some(live);
    Ok(())
}

fn finish_totals(live: &mut LiveReport, r: &Resolved, started: Instant) {
    let t = &mut live.totals;
    t.keys = live.namespaces.iter().map(|n| n.keys).sum();
    t.without_expiry = live.namespaces.iter().map(|n| n.without_expiry).sum();
    t.without_expiry_allowed = live
        .namespaces
        .iter()
        .filter(|n| n.allowed)
        .map(|n| n.without_expiry)
        .sum();
    t.without_expiry_pct = pct(t.without_expiry, t.keys);
    if r.scan.memory {
        t.bytes = Some(live.namespaces.iter().filter_map(|n| n.bytes).sum());
        t.bytes_without_expiry = Some(
            live.namespaces
                .iter()
                .filter_map(|n| n.bytes_without_expiry)
                .sum(),
        );
    }
    t.namespaces = live.namespaces.len();
    if live.sites.is_some() {
        t.unattributed_keys = Some(
            live.namespaces
                .iter()
                .filter(|n| n.site.is_none())
                .map(|n| n.keys)
                .sum(),
        );
    }
    t.elapsed_ms = started.elapsed().as_millis() as u64;
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (1000.0 * part as f64 / whole as f64).round() / 10.0
    }
}

fn namespace_report(
    endpoint: String,
    db: i64,
    name: String,
    acc: NsAcc,
    site: Option<String>,
    memory: bool,
) -> NamespaceReport {
    let ttl_buckets = TtlBuckets::from_counts(acc.buckets);
    let endpoint_db = format!("{endpoint}/{db}");
    let endpoint_db = if endpoint.starts_with("unix:") {
        format!("{endpoint}?db={db}")
    } else {
        endpoint_db
    };
    NamespaceReport {
        namespace: name,
        site,
        class: acc.class,
        layout: acc.layout,
        endpoint,
        db,
        keys: acc.keys,
        without_expiry: acc.without_expiry,
        without_expiry_pct: pct(acc.without_expiry, acc.keys),
        vanished: acc.vanished,
        bytes: memory.then_some(acc.bytes),
        bytes_without_expiry: memory.then_some(acc.bytes_without_expiry),
        ttl_buckets,
        types: (!acc.types.is_empty()).then_some(acc.types),
        examples: acc.examples.into_iter().map(|(k, _)| k).collect(),
        allowed: false,
        violation: false,
        endpoint_db,
    }
}

/// Connect to the seed, read the topology and `INFO keyspace`, and list what to walk: the
/// one database asked for (`--db`, the URL's), else every database `INFO keyspace` lists.
/// The error carries the db it concerns and a precise message.
fn find_targets(r: &Resolved, live: &mut LiveReport) -> Result<Vec<Target>, (i64, String)> {
    let ep = &r.endpoint;
    let narrowed = if r.all_dbs { None } else { r.db.or(ep.url_db) };
    let db = narrowed.unwrap_or(0);
    let mut con = wire::Wire::connect(ep, db).map_err(|e| (db, e))?;
    let cluster_info = scan::info(&mut con, ep, "cluster").map_err(|e| (db, e))?;
    let is_cluster = cluster_info
        .lines()
        .any(|l| l.trim() == "cluster_enabled:1");
    if is_cluster {
        live.server.mode = "cluster".to_string();
        live.server.databases = vec![0];
        let tls = matches!(ep.addr, Addr::Tls { .. });
        let primaries = scan::cluster_primaries(&mut con, ep, tls).map_err(|e| (0, e))?;
        let mut targets = Vec::new();
        for (host, port) in primaries {
            let node = ep.at(&host, port);
            live.server.nodes.push(node.server_label());
            let mut ncon = wire::Wire::connect(&node, 0)
                .map_err(|e| (0, format!("{}: {e}", node.server_label())))?;
            let ks = scan::info(&mut ncon, &node, "keyspace")
                .map_err(|e| (0, format!("{}: {e}", node.server_label())))?;
            let (keys, expires) = scan::parse_keyspace(&ks).get(&0).copied().unwrap_or((0, 0));
            targets.push(Target {
                endpoint: node,
                db: 0,
                role: "primary",
                estimated_keys: keys,
                estimated_without_expiry: keys.saturating_sub(expires),
            });
        }
        return Ok(targets);
    }
    let ks = scan::info(&mut con, ep, "keyspace").map_err(|e| (db, e))?;
    let keyspace = scan::parse_keyspace(&ks);
    let listed: Vec<i64> = keyspace
        .iter()
        .filter(|(_, (keys, _))| *keys > 0)
        .map(|(d, _)| *d)
        .collect();
    let dbs: Vec<i64> = match narrowed {
        Some(d) => vec![d],
        None if listed.is_empty() => vec![0],
        None => listed.clone(),
    };
    live.server.databases = dbs.clone();
    live.server.databases_not_read = listed.into_iter().filter(|d| !dbs.contains(d)).collect();
    Ok(dbs
        .into_iter()
        .map(|d| {
            let (keys, expires) = keyspace.get(&d).copied().unwrap_or((0, 0));
            Target {
                endpoint: ep.clone(),
                db: d,
                role: "standalone",
                estimated_keys: keys,
                estimated_without_expiry: keys.saturating_sub(expires),
            }
        })
        .collect())
}

fn load_sites(dir: &Path, errors: &mut Vec<AuditError>) -> Vec<Site> {
    let mut detect_errors = Vec::new();
    let mut sites = crate::cms::locate::sites_below(dir, 3, &mut detect_errors);
    if sites.is_empty() && detect_errors.is_empty() {
        let site = crate::cms::detect_dir(dir, &mut detect_errors);
        if site.cms != crate::model::Cms::Unknown {
            sites.push(site);
        }
    }
    for e in detect_errors {
        errors.push(AuditError {
            target: e.path.display().to_string(),
            message: e.message,
        });
    }
    sites
}

/// The site connections that point at `transport`/`db` (a connection without a transport
/// means the CMS default, 127.0.0.1:6379).
pub fn claims_for(sites: &[Site], transport: &Transport, db: i64) -> Vec<SiteClaim> {
    let want = transport.endpoint_key();
    let mut claims: Vec<SiteClaim> = Vec::new();
    for site in sites {
        for (_role, conn) in site.redis.connections() {
            let key = conn.transport.as_ref().map_or_else(
                || {
                    Transport::Tcp {
                        host: "127.0.0.1".to_string(),
                        port: 6379,
                    }
                    .endpoint_key()
                },
                |t| t.value.endpoint_key(),
            );
            if key != want || conn.effective_database() != db {
                continue;
            }
            let claim = SiteClaim {
                path: site.path.display().to_string(),
                cms: site.cms,
                prefix: conn
                    .prefix
                    .as_ref()
                    .map(|p| p.value.as_bytes().to_vec())
                    .filter(|p| !p.is_empty()),
            };
            if !claims.contains(&claim) {
                claims.push(claim);
            }
        }
    }
    claims
}

fn progress_bar(enabled: bool, len: u64) -> indicatif::ProgressBar {
    if !enabled || !crate::ui::chatty() || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} [{bar:24}] {human_pos}/{human_len} keys  {rate}  ETA {eta}",
    ) {
        let style = style
            .with_key(
                "rate",
                |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                    let _ = write!(w, "{:.0} keys/s", state.per_sec());
                },
            )
            .progress_chars("=> ");
        pb.set_style(style);
    }
    pb
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Cms, Connection, Location, Sourced};

    fn site(path: &str, cms: Cms, transport: Transport, db: i64, prefix: Option<&str>) -> Site {
        let at = Location::new("/x", 1);
        let mut s = Site::new(Path::new(path), cms, "classic");
        s.redis.cache = Some(Connection {
            transport: Some(Sourced::new(transport, at.clone())),
            database: Some(Sourced::new(db, at.clone())),
            prefix: prefix.map(|p| Sourced::new(p.to_string(), at.clone())),
            ..Connection::default()
        });
        s
    }

    #[test]
    fn claims_follow_endpoint_and_database() {
        let sock = Transport::Unix {
            path: "/run/redis.sock".into(),
        };
        let sites = vec![
            site(
                "/srv/shop1",
                Cms::WordPress,
                sock.clone(),
                3,
                Some("shop1:"),
            ),
            site(
                "/srv/shop2",
                Cms::WordPress,
                sock.clone(),
                4,
                Some("shop2:"),
            ),
            site(
                "/srv/d",
                Cms::Drupal,
                Transport::Tcp {
                    host: "localhost".into(),
                    port: 6379,
                },
                3,
                None,
            ),
        ];
        let c = claims_for(&sites, &sock, 3);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].path, "/srv/shop1");
        assert_eq!(c[0].prefix.as_deref(), Some(&b"shop1:"[..]));
        let tcp = Transport::Tcp {
            host: "127.0.0.1".into(),
            port: 6379,
        };
        let c = claims_for(&sites, &tcp, 3);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].path, "/srv/d");
        assert!(claims_for(&sites, &tcp, 0).is_empty());
    }
}
