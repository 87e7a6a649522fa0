//! Printers for the `audit-ttl` report (human, JSON, SARIF, GitHub annotations).
//! (JSON only until the scanner lands; `--format human` shows the live-audit table.)

use std::io::Write;

use anyhow::Result;

use super::cmd::{AuditArgs, AuditReport};
use crate::report::AuditFormat;
use crate::report::color::{Paint, stdout_wants_color};

pub fn write(out: &mut impl Write, args: &AuditArgs, report: &AuditReport) -> Result<()> {
    if args.format == AuditFormat::Human
        && let Some(live) = &report.live
    {
        let paint = Paint(stdout_wants_color(args.color));
        crate::redis_audit::write_human(out, live, paint)?;
        crate::redis_audit::human::write_findings(out, &report.findings, &report.errors, paint)?;
        return Ok(());
    }
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)?;
    Ok(())
}
