//! `rcfg apply` flags and entry point.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Site directory (default: the current directory).
    pub path: Option<PathBuf>,

    /// Print the patches as unified diffs; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(_args: ApplyArgs) -> Result<Exit> {
    bail!("apply is not implemented yet")
}
