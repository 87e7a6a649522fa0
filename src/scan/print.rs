//! Printers for the `audit-ttl` report: human, JSON (the serde form of [`AuditReport`]),
//! SARIF 2.1.0 for GitHub code scanning, and GitHub Actions workflow annotations. All write
//! to any `impl Write`. Findings from the live Redis audit (a `target`, no `location`) are
//! printed too: SARIF gives them a logical location, GitHub an annotation without file.

use std::io::Write;
use std::path::Path;

use anyhow::Result;
use serde_json::{Value, json};

use super::cmd::{AuditArgs, AuditReport};
use super::rules::RuleSet;
use crate::report::color::{Paint, stdout_wants_color};
use crate::report::{AuditFormat, Finding, Severity};

pub fn write(out: &mut impl Write, args: &AuditArgs, report: &AuditReport) -> Result<()> {
    let root = args.path.as_deref().unwrap_or(Path::new("."));
    match args.format {
        // Serialised first, so a closed pipe surfaces as a plain io::Error (which `main`
        // treats as success) rather than inside a serde error.
        AuditFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(report)?)?,
        AuditFormat::Sarif => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&sarif(report, root))?
        )?,
        AuditFormat::Github => github(out, report)?,
        AuditFormat::Human => human(out, report, Paint(stdout_wants_color(args.color)))?,
    }
    Ok(())
}

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    crate::term::escape(s)
}

fn sev_label(p: Paint, s: Severity) -> String {
    match s {
        Severity::Error => p.red(&p.bold("error")),
        Severity::Warning => p.yellow(&p.bold("warning")),
        Severity::Info => p.green("info"),
    }
}

/// `path:line:col: severity[rule] message`, the code line, the trace and the hint.
pub fn human(out: &mut impl Write, report: &AuditReport, paint: Paint) -> Result<()> {
    // A live audit that read nothing shows its error alone (no empty "0 keys" table).
    if let Some(live) = report.live.as_ref().filter(|l| !l.aborted) {
        crate::redis_audit::write_human(out, live, paint)?;
        if !report.findings.is_empty() {
            writeln!(out)?;
        }
    }
    for f in &report.findings {
        // Paths, snippets, key names and messages quoting them come from other people's
        // files and servers: escaped for the terminal (JSON keeps the exact text).
        let head = match (&f.location, &f.target) {
            (Some(l), _) => esc(&l.to_string()).into_owned(),
            (None, Some(t)) => esc(t).into_owned(),
            (None, None) => "-".into(),
        };
        writeln!(
            out,
            "{}: {}[{}] {}",
            paint.bold(&head),
            sev_label(paint, f.severity),
            f.code,
            esc(&f.message)
        )?;
        let gutter = f.location.as_ref().map_or(0, |l| l.line.to_string().len());
        if let (Some(l), Some(code)) = (&f.location, &f.snippet) {
            writeln!(out, "  {} | {}", paint.dim(&l.line.to_string()), esc(code))?;
        }
        let pad = " ".repeat(gutter);
        for hop in &f.trace {
            writeln!(out, "  {pad} = {} {}", paint.dim("trace:"), esc(hop))?;
        }
        if let Some(h) = &f.hint {
            writeln!(out, "  {pad} = {} {}", paint.dim("help:"), esc(h))?;
        }
    }
    for e in &report.errors {
        writeln!(
            out,
            "{}: {}: {}",
            paint.red(&paint.bold("error")),
            esc(&e.target),
            esc(&e.message)
        )?;
    }
    if report.live.as_ref().is_some_and(|l| l.aborted)
        && report.stats.is_none()
        && report.findings.is_empty()
    {
        return Ok(());
    }
    for site in report.stats.iter().flat_map(|st| &st.sites) {
        if let Some(from) = &site.found_from {
            let (root, from) = (
                esc(&site.path.display().to_string()).into_owned(),
                esc(&from.display().to_string()).into_owned(),
            );
            writeln!(
                out,
                "{}",
                paint.dim(&format!("site: {root} (found from {from})"))
            )?;
        }
    }
    let count = |s| report.findings.iter().filter(|f| f.severity == s).count();
    let mut summary = format!(
        "{} finding{} ({} error, {} warning, {} info)",
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" },
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info)
    );
    if let Some(st) = &report.stats {
        summary.push_str(&format!(
            "; {} file{} scanned, {} analysed",
            st.files_scanned,
            if st.files_scanned == 1 { "" } else { "s" },
            st.files_analyzed
        ));
        for (n, what) in [
            (st.files_too_large, "too large"),
            (st.files_binary, "binary"),
            (st.files_regex_level, "regex-level"),
            (st.suppressed, "suppressed"),
            (st.baselined, "baselined"),
        ] {
            if n > 0 {
                summary.push_str(&format!(", {n} {what}"));
            }
        }
    }
    if !report.errors.is_empty() {
        let n = report.errors.len();
        summary.push_str(&format!(
            "; {n} error{} while scanning",
            if n == 1 { "" } else { "s" }
        ));
    }
    writeln!(out, "{}", paint.dim(&summary))?;
    Ok(())
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// GitHub Actions workflow commands: `::warning file=…,line=…,col=…,title=…::message`.
pub fn github(out: &mut impl Write, report: &AuditReport) -> Result<()> {
    for f in &report.findings {
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut msg = f.message.clone();
        for hop in &f.trace {
            msg.push_str(&format!("\n  trace: {hop}"));
        }
        if let Some(h) = &f.hint {
            msg.push_str(&format!("\n  help: {h}"));
        }
        match &f.location {
            Some(l) => {
                let p = l.path.to_string_lossy();
                let p = p.strip_prefix("./").unwrap_or(&p);
                let mut props = format!("file={},line={}", gh_prop(p), l.line);
                if let Some(c) = l.column {
                    props.push_str(&format!(",col={c}"));
                }
                props.push_str(&format!(",title={}", gh_prop(&f.code)));
                writeln!(out, "::{cmd} {props}::{}", gh_data(&msg))?;
            }
            None => {
                let target = f.target.as_deref().unwrap_or("");
                writeln!(
                    out,
                    "::{cmd} title={}::{}",
                    gh_prop(&f.code),
                    gh_data(&format!("{target}: {msg}"))
                )?;
            }
        }
    }
    for e in &report.errors {
        writeln!(
            out,
            "::error title=rcfg audit-ttl error::{}",
            gh_data(&format!("{}: {}", e.target, e.message))
        )?;
    }
    Ok(())
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Percent-encode a relative path for a SARIF `uri` (RFC 3986 path characters kept).
fn uri(path: &str) -> String {
    let mut s = String::new();
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

/// The SARIF 2.1.0 log: one run, every built-in rule and TTL lint as `tool.driver.rules`.
pub fn sarif(report: &AuditReport, root: &Path) -> Value {
    let rules = RuleSet::builtin();
    let mut descriptors: Vec<Value> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    for r in &rules.rules {
        ids.push(r.spec.id.clone());
        descriptors.push(json!({
            "id": r.spec.id,
            "shortDescription": { "text": r.spec.message },
            "fullDescription": { "text": r.spec.help },
            "help": {
                "text": format!("{}\n\nFix: {}", r.spec.help, r.spec.hint),
                "markdown": format!("{}\n\n**Fix:** {}", r.spec.help, r.spec.hint),
            },
            "defaultConfiguration": { "level": level(r.spec.severity) },
            "properties": { "tags": ["redis", "ttl", "cache"] },
        }));
    }
    for l in crate::lints::LINTS.iter().filter(|l| l.ttl_related) {
        ids.push(l.code.to_string());
        descriptors.push(json!({
            "id": l.code,
            "shortDescription": { "text": format!("Config lint {}", l.code) },
            "help": { "text": format!("Fix: {}", l.hint) },
            "defaultConfiguration": { "level": level(l.severity) },
            "properties": { "tags": ["redis", "ttl", "config"] },
        }));
    }
    // Codes from elsewhere (the live audit) get a minimal descriptor.
    for f in &report.findings {
        if !ids.contains(&f.code) {
            ids.push(f.code.clone());
            descriptors.push(json!({
                "id": f.code,
                "shortDescription": { "text": f.code },
                "help": { "text": f.hint.clone().unwrap_or_else(|| f.code.clone()) },
                "defaultConfiguration": { "level": level(f.severity) },
            }));
        }
    }
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| sarif_result(f, &ids, root))
        .collect();
    let notifications: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "level": "error",
                "message": { "text": format!("{}: {}", e.target, e.message) },
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "rcfg",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": descriptors,
            }},
            "invocations": [{
                "executionSuccessful": report.errors.is_empty(),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
        }]
    })
}

fn sarif_result(f: &Finding, ids: &[String], root: &Path) -> Value {
    let mut text = f.message.clone();
    for hop in &f.trace {
        text.push_str(&format!("\n- {hop}"));
    }
    let mut r = json!({
        "ruleId": f.code,
        "ruleIndex": ids.iter().position(|i| *i == f.code).unwrap_or(0),
        "level": level(f.severity),
        "message": { "text": text },
    });
    if let Some(l) = &f.location {
        let rel = super::suppress::relative(&l.path, root);
        let mut region = json!({ "startLine": l.line.max(1) });
        if let Some(c) = l.column {
            region["startColumn"] = json!(c.max(1));
        }
        if let Some(s) = &f.snippet {
            region["snippet"] = json!({ "text": s });
        }
        r["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": { "uri": uri(&rel), "uriBaseId": "%SRCROOT%" },
                "region": region,
            }
        }]);
    } else if let Some(t) = &f.target {
        r["locations"] = json!([{
            "logicalLocations": [{ "fullyQualifiedName": t, "kind": "resource" }]
        }]);
    }
    if let Some(fp) = &f.fingerprint {
        r["partialFingerprints"] = json!({ "rcfgFingerprint/v1": fp });
    }
    r
}
