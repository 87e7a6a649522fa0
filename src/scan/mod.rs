//! `rcfg audit-ttl PATH`: the code and config scanner for cache writes without expiry.
//! (Placeholder until the scanner lands.)

pub mod cmd;
pub mod print;

use std::path::Path;

use anyhow::{Result, bail};
use clap::Args;
use serde::Serialize;

use crate::config::FileConfig;

/// Scanner flags (flattened into `audit-ttl`).
#[derive(Debug, Default, Args)]
pub struct ScanArgs {}

/// What the code scan covered.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ScanStats {
    pub files_scanned: u64,
}

pub fn scan(
    _path: &Path,
    _args: &cmd::AuditArgs,
    _config: &FileConfig,
    _report: &mut cmd::AuditReport,
) -> Result<()> {
    bail!("the code scan of audit-ttl is not implemented yet")
}
