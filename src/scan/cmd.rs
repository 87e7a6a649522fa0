//! `rcfg audit-ttl` flags and entry point: the code scan (PATH) and the live Redis audit
//! (`--redis URL`) fill one [`AuditReport`], printed in one format with one exit code.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use crate::exit::Exit;
use crate::report::color::ColorChoice;
use crate::report::{AuditFormat, Finding, Severity};

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Tree to scan (default: the current directory, unless only --redis is given).
    pub path: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Human)]
    pub format: AuditFormat,

    /// Exit 1 when a finding is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = Severity::Warning)]
    pub fail_on: Severity,

    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(flatten)]
    pub config: crate::config::ConfigArgs,

    #[command(flatten)]
    pub scan: crate::scan::ScanArgs,

    #[command(flatten)]
    pub redis: crate::redis_audit::RedisArgs,
}

/// A problem that kept part of the audit from running (unreadable path, Redis unreachable).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditError {
    /// The file, directory or Redis endpoint concerned (passwords masked).
    pub target: String,
    pub message: String,
}

/// Everything one `audit-ttl` run found; its serialisation is the JSON contract.
#[derive(Debug, Default, Serialize)]
pub struct AuditReport {
    pub findings: Vec<Finding>,
    pub errors: Vec<AuditError>,
    /// Code-scan statistics (present when a tree was scanned).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<crate::scan::ScanStats>,
    /// Live-keyspace results (`totals`, `namespaces`, …), present with --redis.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub live: Option<crate::redis_audit::LiveReport>,
}

impl AuditReport {
    /// 2 on any error, 1 on a finding at or above `fail_on`, else 0.
    pub fn exit(&self, fail_on: Severity) -> Exit {
        if !self.errors.is_empty() {
            Exit::Error
        } else if self.findings.iter().any(|f| f.severity >= fail_on) {
            Exit::Findings
        } else {
            Exit::Clean
        }
    }
}

pub fn run(args: AuditArgs) -> Result<Exit> {
    let start = args.path.as_deref().unwrap_or(std::path::Path::new("."));
    let file_config = args.config.load(start)?;
    let mut report = AuditReport::default();
    let code_path = args
        .path
        .clone()
        .or_else(|| args.redis.redis.is_none().then(|| PathBuf::from(".")));
    if let Some(path) = &code_path {
        crate::scan::scan(path, &args, &file_config, &mut report)?;
    }
    if args.redis.redis.is_some() {
        crate::redis_audit::audit(&args, &file_config, &mut report)?;
    }
    let stdout = std::io::stdout();
    // Block-buffered: a line-buffered stdout costs one write(2) per line of JSON.
    let mut out = std::io::BufWriter::new(stdout.lock());
    crate::scan::print::write(&mut out, &args, &report)?;
    Ok(report.exit(args.fail_on))
}
