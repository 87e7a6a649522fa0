//! Living with findings: inline `rcfg-ignore: <rule-id> <reason>` comments (with unused
//! ones reported), fingerprints that survive line shifts, and the baseline file.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::model::Location;
use crate::report::Finding;

/// One `rcfg-ignore:` comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    pub line: usize,
    pub column: usize,
    pub rules: Vec<String>,
    pub reason: String,
    pub used: bool,
}

/// The `rcfg-ignore:` comments of a file. Only text inside a comment counts: the marker must
/// follow `//`, `#`, `/*` or a `*` continuation on its line.
pub fn parse_suppressions(text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    if !text.contains("rcfg-ignore:") {
        return out;
    }
    for (i, line) in text.split('\n').enumerate() {
        let Some(pos) = line.find("rcfg-ignore:") else {
            continue;
        };
        let before = &line[..pos];
        let in_comment = before.contains("//")
            || before.contains('#')
            || before.contains("/*")
            || before.trim_start().starts_with('*');
        if !in_comment {
            continue;
        }
        let rest = line[pos + "rcfg-ignore:".len()..]
            .trim()
            .trim_end_matches("*/")
            .trim();
        let mut words = rest.splitn(2, char::is_whitespace);
        let ids = words.next().unwrap_or("");
        let reason = words.next().unwrap_or("").trim().to_string();
        let rules: Vec<String> = ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if rules.is_empty() {
            continue;
        }
        out.push(Suppression {
            line: i + 1,
            column: before.chars().count() + 1,
            rules,
            reason,
            used: false,
        });
    }
    out
}

/// Drop findings covered by a suppression on their line or the line above; mark those
/// suppressions used. Returns the number of findings dropped.
pub fn apply(findings: &mut Vec<Finding>, path: &Path, supps: &mut [Suppression]) -> u64 {
    let mut dropped = 0;
    findings.retain(|f| {
        let Some(loc) = &f.location else { return true };
        if loc.path != path {
            return true;
        }
        for s in supps.iter_mut() {
            if (s.line == loc.line || s.line + 1 == loc.line)
                && s.rules.iter().any(|r| r == &f.code)
            {
                s.used = true;
                dropped += 1;
                return false;
            }
        }
        true
    });
    dropped
}

/// Findings for suppressions that matched nothing.
pub fn unused(path: &Path, supps: &[Suppression], text: &str) -> Vec<Finding> {
    supps
        .iter()
        .filter(|s| !s.used)
        .map(|s| {
            let mut f = Finding::new(
                super::rules::UNUSED_SUPPRESSION,
                crate::report::Severity::Info,
                format!(
                    "`rcfg-ignore: {}` suppresses nothing on this line or the next",
                    s.rules.join(",")
                ),
            )
            .hint("remove the comment, or fix the rule id in it")
            .at(Location::new(path, s.line).with_column(s.column));
            f.snippet = Some(
                text.split('\n')
                    .nth(s.line - 1)
                    .unwrap_or("")
                    .trim()
                    .to_string(),
            );
            f
        })
        .collect()
}

/// FNV-1a, 64-bit, with a seed (stable across platforms and releases).
fn fnv(seed: u64, data: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn hash128(data: &str) -> String {
    format!(
        "{:016x}{:016x}",
        fnv(0, data.as_bytes()),
        fnv(0x9e37_79b9_7f4a_7c15, data.as_bytes())
    )
}

/// Give every finding a fingerprint: rule id + path relative to `root` + the code line with
/// whitespace removed + the occurrence index among identical triples (in line order). Line
/// numbers are not part of it, so inserting lines above a finding keeps its fingerprint.
pub fn fingerprint_all(findings: &mut [Finding], root: &Path) {
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| {
        let f = &findings[i];
        (
            f.location
                .as_ref()
                .map(|l| (l.path.clone(), l.line, l.column)),
            f.code.clone(),
        )
    });
    let mut seen: HashMap<String, usize> = HashMap::new();
    for i in order {
        let f = &findings[i];
        let base = match &f.location {
            Some(loc) => {
                let rel = relative(&loc.path, root);
                let snippet: String = f
                    .snippet
                    .as_deref()
                    .unwrap_or("")
                    .chars()
                    .filter(|c| !c.is_whitespace())
                    .collect();
                format!("{}\0{}\0{}", f.code, rel, snippet)
            }
            None => format!(
                "{}\0{}\0{}",
                f.code,
                f.target.as_deref().unwrap_or(""),
                f.message
            ),
        };
        let n = seen.entry(base.clone()).or_insert(0);
        let fp = hash128(&format!("{base}\0{n}"));
        *n += 1;
        findings[i].fingerprint = Some(fp);
    }
}

/// `path` relative to `root`, with `/` separators (as given when not under root).
pub fn relative(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let s = rel.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    } else {
        s
    }
}

/// The baseline file: fingerprints of accepted findings.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub tool: String,
    pub findings: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineEntry {
    pub fingerprint: String,
    pub code: String,
    /// Where it was when the baseline was written (informative only).
    pub path: String,
}

impl Baseline {
    pub fn of(findings: &[Finding], root: &Path) -> Baseline {
        Baseline {
            version: 1,
            tool: "rcfg audit-ttl".into(),
            findings: findings
                .iter()
                .filter_map(|f| {
                    Some(BaselineEntry {
                        fingerprint: f.fingerprint.clone()?,
                        code: f.code.clone(),
                        path: f
                            .location
                            .as_ref()
                            .map(|l| relative(&l.path, root))
                            .or_else(|| f.target.clone())
                            .unwrap_or_default(),
                    })
                })
                .collect(),
        }
    }

    pub fn load(path: &Path) -> Result<Baseline> {
        let text = crate::fsutil::read_config(path)?;
        serde_json::from_str(&text)
            .with_context(|| format!("{}: not an rcfg baseline file", path.display()))
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(path, text).with_context(|| format!("{}: cannot write", path.display()))
    }

    pub fn fingerprints(&self) -> HashSet<&str> {
        self.findings
            .iter()
            .map(|e| e.fingerprint.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressions_need_a_comment_and_a_rule_id() {
        let s = parse_suppressions(
            "<?php\n// rcfg-ignore: wp-cache-no-expire alloptions is bounded by MAXTTL\n$x = 'rcfg-ignore: nope';\n  # rcfg-ignore: a,b\n/* rcfg-ignore: c why */\n",
        );
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].line, 2);
        assert_eq!(s[0].rules, vec!["wp-cache-no-expire"]);
        assert_eq!(s[0].reason, "alloptions is bounded by MAXTTL");
        assert_eq!(s[1].rules, vec!["a", "b"]);
        assert_eq!(s[2].rules, vec!["c"]);
        assert_eq!(s[2].reason, "why");
    }

    #[test]
    fn fingerprints_ignore_line_numbers_but_count_repeats() {
        let mk = |line| {
            let mut f = Finding::new("r", crate::report::Severity::Warning, "m")
                .at(Location::new("/t/a.php", line));
            f.snippet = Some("wp_cache_set( 'k', $v );".into());
            f
        };
        let mut a = vec![mk(3), mk(9)];
        let mut b = vec![mk(13), mk(19)];
        fingerprint_all(&mut a, Path::new("/t"));
        fingerprint_all(&mut b, Path::new("/t"));
        assert_eq!(a[0].fingerprint, b[0].fingerprint);
        assert_eq!(a[1].fingerprint, b[1].fingerprint);
        assert_ne!(a[0].fingerprint, a[1].fingerprint);
        assert_eq!(a[0].fingerprint.as_ref().unwrap().len(), 32);
    }
}
