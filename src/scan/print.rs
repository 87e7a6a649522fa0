//! Printers for the `audit-ttl` report (human, JSON, SARIF, GitHub annotations).
//! (JSON only until the scanner lands.)

use std::io::Write;

use anyhow::Result;

use super::cmd::{AuditArgs, AuditReport};

pub fn write(out: &mut impl Write, _args: &AuditArgs, report: &AuditReport) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)?;
    Ok(())
}
