//! The live audit's flags (`RedisArgs`, flattened into `audit-ttl`, with the CI policy
//! flags) and the `[redis]` section of rcfg.toml that gives them defaults.

use std::path::PathBuf;

use clap::Args;
use serde::Deserialize;

/// Live-audit flags (flattened into `audit-ttl`).
#[derive(Debug, Default, Args)]
pub struct RedisArgs {
    /// Audit a live Redis: redis://[user:pass@]host:port/db, rediss://…, unix:///path?db=N.
    ///
    /// Read-only: only SCAN, PTTL, TYPE, MEMORY USAGE, INFO, SELECT and cluster
    /// topology commands are sent. The password may also come from REDISCLI_AUTH or
    /// --password-file.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,

    #[command(flatten)]
    pub opts: Box<LiveArgs>,
}

/// The rest of the live-audit flags (boxed to keep the subcommand enum small).
#[derive(Debug, Default, Args)]
pub struct LiveArgs {
    /// Audit only this database (overrides the URL's) [default: every database INFO
    /// keyspace lists, unless the URL names one].
    #[arg(long, value_name = "N", conflicts_with = "all_dbs")]
    pub db: Option<i64>,

    /// Audit every database that INFO keyspace lists, even when the URL names one.
    #[arg(long)]
    pub all_dbs: bool,

    /// ACL user name (overrides the URL's).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Read the password from this file (first line). Beats the URL and REDISCLI_AUTH.
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// CA certificate (PEM) to verify a rediss:// server with.
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,

    /// Client certificate (PEM) for servers that require one.
    #[arg(long, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// Client private key (PEM: PKCS#8, PKCS#1 or SEC1) for --tls-cert.
    #[arg(long, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Do not verify the server certificate (testing only).
    #[arg(long)]
    pub tls_insecure: bool,

    /// Connect timeout (5, 2.5s, 500ms) [default: 5s].
    #[arg(long, value_name = "DURATION")]
    pub connect_timeout: Option<String>,

    /// Deadline for each reply (a whole SCAN page or PTTL batch, however slowly it
    /// arrives) [default: 10s].
    #[arg(long, value_name = "DURATION")]
    pub read_timeout: Option<String>,

    /// SCAN COUNT hint [default: 1000].
    #[arg(long, value_name = "N")]
    pub scan_count: Option<u32>,

    /// Cap on commands per second sent to the server (all connections together).
    #[arg(long, value_name = "PER_SEC")]
    pub max_rate: Option<u32>,

    /// Audit a random sample of about N keys per database instead of the whole keyspace.
    ///
    /// SCAN starts at a random cursor and stops after N keys; counts are of the sample.
    #[arg(long, value_name = "N")]
    pub sample: Option<u64>,

    /// Also measure memory per namespace (MEMORY USAGE per key).
    #[arg(long)]
    pub memory: bool,

    /// Also count value types per namespace (TYPE per key).
    #[arg(long)]
    pub types: bool,

    /// Delimiter of the generic prefix tree [default: ":"].
    #[arg(long, value_name = "CHAR")]
    pub delimiter: Option<String>,

    /// Key segments that make a namespace in the generic prefix tree [default: 2].
    /// (`--depth` is the older name, kept as an alias; `detect --depth` means site levels.)
    #[arg(long = "namespace-depth", alias = "depth", value_name = "N")]
    pub depth: Option<usize>,

    /// Example keys per namespace [default: 3].
    #[arg(long, value_name = "N")]
    pub examples: Option<usize>,

    /// Attribute namespaces to the sites found here (a site or a hosting root).
    #[arg(long, value_name = "DIR")]
    pub sites: Option<PathBuf>,

    #[command(flatten)]
    pub policy: PolicyArgs,

    /// Never draw a progress bar (it is drawn only when stderr is a terminal anyway).
    #[arg(long)]
    pub no_progress: bool,
}

/// CI policy flags (override `[policy]`).
#[derive(Debug, Default, Args)]
pub struct PolicyArgs {
    /// Namespace glob whose keys may persist (repeatable; adds to [policy]).
    #[arg(long, value_name = "GLOB")]
    pub allow_persistent: Vec<String>,

    /// Per namespace: at most N keys without expiry.
    #[arg(long, value_name = "N")]
    pub max_without_expiry: Option<u64>,

    /// Per namespace: at most PCT percent of keys without expiry.
    #[arg(long, value_name = "PCT")]
    pub max_without_expiry_pct: Option<f64>,

    /// Per namespace: at most BYTES (512k, 10MB) in keys without expiry (implies --memory).
    #[arg(long, value_name = "BYTES")]
    pub max_memory_without_expiry: Option<String>,

    /// Whole keyspace: at most N keys without expiry outside allowed namespaces.
    #[arg(long, value_name = "N")]
    pub max_total_without_expiry: Option<u64>,

    /// Whole keyspace: at most PCT percent without expiry outside allowed namespaces.
    #[arg(long, value_name = "PCT")]
    pub max_total_without_expiry_pct: Option<f64>,
}

/// `[redis]` in rcfg.toml: defaults for the flags of the same name.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RedisConfig {
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub tls_ca: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub connect_timeout: Option<String>,
    pub read_timeout: Option<String>,
    pub scan_count: Option<u32>,
    pub max_rate: Option<u32>,
    pub sample: Option<u64>,
    pub memory: Option<bool>,
    pub types: Option<bool>,
    pub delimiter: Option<String>,
    pub depth: Option<usize>,
    pub examples: Option<usize>,
    pub sites: Option<PathBuf>,
}
