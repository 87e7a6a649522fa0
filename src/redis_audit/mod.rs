//! `rcfg audit-ttl --redis URL`: the read-only live keyspace audit. (Placeholder until the
//! auditor lands.)

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use crate::config::FileConfig;
use crate::scan::cmd::{AuditArgs, AuditReport};

/// Live-audit flags (flattened into `audit-ttl`).
#[derive(Debug, Default, Args)]
pub struct RedisArgs {
    /// Audit a live Redis: redis://, rediss:// or unix:// URL.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
}

/// Live-keyspace results, flattened into the audit JSON.
#[derive(Debug, Default, Clone, Serialize)]
pub struct LiveReport {}

pub fn audit(_args: &AuditArgs, _config: &FileConfig, _report: &mut AuditReport) -> Result<()> {
    bail!("the live Redis audit is not implemented yet")
}
