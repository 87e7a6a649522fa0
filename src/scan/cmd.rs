//! `rcfg audit-ttl` flags and entry point: the code scan (PATH) and the live Redis audit
//! (`--redis URL`) share one report.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Tree to scan (default: the current directory unless --redis is given).
    pub path: Option<PathBuf>,

    #[command(flatten)]
    pub redis: crate::redis_audit::RedisArgs,
}

pub fn run(_args: AuditArgs) -> Result<Exit> {
    bail!("audit-ttl is not implemented yet")
}
