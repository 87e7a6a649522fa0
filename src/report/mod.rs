//! Findings as data, shared by `detect` lints, the `audit-ttl` code scanner and the live
//! Redis audit, plus the output format switch. Printers live in sub-modules and write to any
//! `impl Write`.

pub mod color;

use serde::{Deserialize, Serialize};

use crate::model::Location;

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing rcfg has to say about a file, a site or a Redis key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable kebab-case code (`wp-redis-path-without-unix-scheme`, `wp-cache-set-no-expire`, …).
    pub code: String,
    pub severity: Severity,
    pub message: String,
    /// One-line fix hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// What the finding is about when it is not a place in a file: a Redis namespace or key,
    /// written `redis://host:port/db namespace`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// How a value was resolved, one hop per entry (`self::CACHE_LIFETIME` → `0` at …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<String>,
    /// The source line the finding points at, trimmed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// Stable identity for baselines and SARIF (survives line shifts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl Finding {
    pub fn new(code: &str, severity: Severity, message: impl Into<String>) -> Finding {
        Finding {
            code: code.to_string(),
            severity,
            message: message.into(),
            hint: None,
            location: None,
            target: None,
            trace: Vec::new(),
            snippet: None,
            fingerprint: None,
        }
    }

    pub fn at(mut self, location: Location) -> Finding {
        self.location = Some(location);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }
}

/// `--format` for `detect` (human table or JSON).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DetectFormat {
    #[default]
    Table,
    Json,
}

/// `--format` for `audit-ttl`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuditFormat {
    /// `path:line:col rule message`, trace and code line; a namespace table for --redis.
    #[default]
    Human,
    /// The documented JSON report.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
    /// GitHub Actions workflow annotations.
    Github,
}

/// `1234567` → `1,234,567`: every count a person reads is written this one way.
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
