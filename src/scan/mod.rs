//! `rcfg audit-ttl PATH`: the code and config scanner for cache writes without expiry.
//!
//! Flow: read the `[audit]` config; detect CMS sites under PATH (their TTL-related lints are
//! the config-level findings, and a Drupal 7 site switches constants); walk the tree in
//! parallel with one prefilter regex (`walk`); analyse only candidate files, in parallel
//! (`analyze` with the `php`/`js` front-ends and `verdict`); then apply config, inline
//! suppressions and the baseline (`suppress`). Printing is `print`'s job.

pub mod analyze;
pub mod callsite;
pub mod cmd;
pub mod context;
pub mod js;
pub mod php;
pub mod print;
pub mod receiver;
pub mod rules;
pub mod suppress;
pub mod verdict;
pub mod walk;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::{Deserialize, Serialize};

use crate::config::FileConfig;
use crate::model::Cms;
use crate::report::{Finding, Severity};

use self::cmd::AuditError;
use self::rules::RuleSet;

/// Scanner flags (flattened into `audit-ttl`).
#[derive(Debug, Default, Args)]
pub struct ScanArgs {
    /// Skip paths matching GLOB (relative to PATH; repeatable). `vendor/legacy` also skips
    /// everything below it.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// Scan every package in node_modules, not only those that talk to Redis.
    #[arg(long)]
    pub include_node_modules: bool,

    /// Skip (and count) files larger than SIZE (bytes, or with a K/M/G suffix).
    #[arg(long, value_name = "SIZE", default_value = "2M", value_parser = parse_size)]
    pub max_filesize: u64,

    /// Report only findings whose fingerprint is not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write the current findings' fingerprints to FILE and accept them (exit 0 unless an
    /// error occurred).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,

    /// Worker threads (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,

    /// Follow symlinks that lead out of PATH (by default only links that stay inside PATH
    /// are followed). A file is analysed once however many links lead to it.
    #[arg(long)]
    pub follow: bool,
}

/// `--max-filesize`: a byte count with an optional K/M/G (binary) suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mul) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1024),
        Some('M') => (&t[..t.len() - 1], 1024 * 1024),
        Some('G') => (&t[..t.len() - 1], 1024 * 1024 * 1024),
        _ => (t, 1),
    };
    num.trim()
        .parse::<u64>()
        .map(|n| n * mul)
        .map_err(|_| format!("`{s}` is not a size (e.g. 2097152, 512K, 2M)"))
}

/// A site the scan found under PATH.
#[derive(Debug, Clone, Serialize)]
pub struct ScannedSite {
    pub path: PathBuf,
    pub cms: Cms,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// PATH, when the site root is not PATH itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found_from: Option<PathBuf>,
}

/// What the code scan covered.
#[derive(Debug, Default, Clone, Serialize)]
pub struct ScanStats {
    /// PHP/JS files read and prefiltered.
    pub files_scanned: u64,
    /// Files with a candidate call, parsed and analysed.
    pub files_analyzed: u64,
    /// Files that did not parse; their findings are text-level (`[regex-level]`).
    pub files_regex_level: u64,
    /// Files skipped for being larger than --max-filesize.
    pub files_too_large: u64,
    /// Files skipped as binary (a NUL byte in the first 8 KiB).
    pub files_binary: u64,
    /// node_modules packages skipped (they do not depend on a Redis client).
    pub node_modules_skipped: u64,
    /// Symlinks whose target does not exist (skipped).
    pub dangling_symlinks: u64,
    /// Findings silenced by `rcfg-ignore` comments.
    pub suppressed: u64,
    /// Findings accepted by the baseline.
    pub baselined: u64,
    /// Object-cache writes not reported because their group is non-persistent
    /// (request-local: WordPress core's list or a `wp_cache_add_non_persistent_groups()`).
    pub request_local: u64,
    /// CMS sites detected under PATH (their TTL lints are included).
    pub sites: Vec<ScannedSite>,
}

/// The `[audit]` section of `rcfg.toml`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AuditConfig {
    /// Rule ids (or lint codes) to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Severity per rule id: `info`, `warning` or `error`.
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
    /// Globs (relative to PATH) to skip, like --exclude.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Like --include-node-modules.
    #[serde(default)]
    pub include_node_modules: bool,
    /// Like --baseline (relative to the current directory).
    #[serde(default)]
    pub baseline: Option<PathBuf>,
}

/// Every id a config may name: built-in rules and TTL-related lint codes.
pub fn known_ids(rules: &RuleSet) -> Vec<String> {
    rules
        .rules
        .iter()
        .map(|r| r.spec.id.clone())
        .chain(
            crate::lints::LINTS
                .iter()
                .filter(|l| l.ttl_related)
                .map(|l| l.code.to_string()),
        )
        .collect()
}

fn check_ids(cfg: &AuditConfig, rules: &RuleSet, shown: &str) -> Result<()> {
    let known = known_ids(rules);
    for id in cfg.disable.iter().chain(cfg.severity.keys()) {
        if !known.iter().any(|k| k == id) {
            bail!("{shown}: [audit] names unknown rule `{id}` (see the rules table in README.md)");
        }
    }
    Ok(())
}

fn build_globs(patterns: &[String]) -> Result<globset::GlobSet> {
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        let p = p.trim_end_matches('/');
        for pat in [p.to_string(), format!("{p}/**")] {
            b.add(
                globset::Glob::new(&pat).with_context(|| format!("--exclude {p}: invalid glob"))?,
            );
        }
    }
    Ok(b.build()?)
}

fn drupal_major(version: Option<&str>) -> Option<u32> {
    version?.split('.').next()?.trim().parse().ok()
}

pub fn scan(
    path: &Path,
    args: &cmd::AuditArgs,
    config: &FileConfig,
    report: &mut cmd::AuditReport,
) -> Result<()> {
    let cfg: AuditConfig = config.section("audit")?;
    let rules = RuleSet::builtin();
    let shown_cfg = config.path.as_deref().map_or_else(
        || crate::config::FILE_NAME.to_string(),
        |p| p.display().to_string(),
    );
    check_ids(&cfg, &rules, &shown_cfg)?;
    let sa = &args.scan;
    let mut stats = ScanStats::default();

    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            report.errors.push(AuditError {
                target: path.display().to_string(),
                message: crate::cms::describe_io(&e),
            });
            report.stats = Some(stats);
            return Ok(());
        }
    };

    // A single file that is neither PHP nor JS/TS: say so rather than "0 files scanned".
    if meta.is_file() && walk::lang_of(path).is_none() {
        report.errors.push(AuditError {
            target: path.display().to_string(),
            message: "not a PHP or JS/TS file (by its extension): nothing to scan".to_string(),
        });
        report.stats = Some(stats);
        return Ok(());
    }

    // Sites: config-level findings and the Drupal major version per subtree.
    let mut findings: Vec<Finding> = Vec::new();
    // (site root, CMS, Drupal major), longest root first.
    let mut site_roots: Vec<(PathBuf, Cms, Option<u32>, Option<String>)> = Vec::new();
    if meta.is_dir() {
        let mut derrs = Vec::new();
        let sites = crate::cms::locate::sites_below(path, 2, &mut derrs);
        for e in derrs {
            if !e.message.contains("symlink loop") {
                report.errors.push(AuditError {
                    target: e.path.display().to_string(),
                    message: e.message,
                });
            }
        }
        for site in sites {
            if site.cms == Cms::Unknown {
                continue;
            }
            let major = if site.cms == Cms::Drupal {
                drupal_major(site.version.as_deref())
            } else {
                None
            };
            // A site found above PATH owns every file under PATH (spelled like PATH).
            let owns = if site.path.starts_with(path) {
                site.path.clone()
            } else {
                path.to_path_buf()
            };
            site_roots.push((owns, site.cms, major, site.version.clone()));
            for lint in &site.lints {
                if crate::lints::LINTS
                    .iter()
                    .any(|l| l.code == lint.code && l.ttl_related)
                {
                    findings.push(lint.clone());
                }
            }
            stats.sites.push(ScannedSite {
                found_from: site.found_from.clone(),
                path: site.path.clone(),
                cms: site.cms,
                version: site.version.clone(),
            });
        }
    }
    site_roots.sort_by_key(|(p, _, _, _)| std::cmp::Reverse(p.as_os_str().len()));

    // Walk and prefilter.
    let mut excludes = sa.exclude.clone();
    excludes.extend(cfg.exclude.iter().cloned());
    let threads = sa
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()))
        .max(1);
    let walked = walk::walk(walk::WalkOpts {
        root: path.to_path_buf(),
        exclude: build_globs(&excludes)?,
        include_node_modules: sa.include_node_modules || cfg.include_node_modules,
        max_filesize: sa.max_filesize,
        follow: sa.follow,
        threads,
        prefilter: walk::prefilter(&rules),
        sites: site_roots
            .iter()
            .map(|(p, c, _, _)| (p.clone(), *c))
            .collect(),
    });
    stats.files_scanned = walked.files_scanned;
    stats.files_too_large = walked.files_too_large;
    stats.files_binary = walked.files_binary;
    stats.node_modules_skipped = walked.node_modules_skipped;
    stats.dangling_symlinks = walked.dangling_symlinks;
    report.errors.extend(walked.errors);

    let mut tree = php::TreeIndex {
        php_files: walked.php_files,
        max_filesize: sa.max_filesize,
        root: path.to_path_buf(),
        ..Default::default()
    };
    for (name, site) in walked.defines {
        tree.defines.entry(name).or_default().push(site);
    }
    for sites in tree.defines.values_mut() {
        sites.sort_by(|a, b| (&a.display, a.line).cmp(&(&b.display, b.line)));
    }

    // Analyse candidates in parallel.
    let mut candidates = walked.candidates;
    candidates.sort();
    stats.files_analyzed = candidates.len() as u64;
    let next = AtomicUsize::new(0);
    let regex_level = AtomicU64::new(0);
    let (code_findings, read_errors) = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.min(candidates.len().max(1)))
            .map(|_| {
                s.spawn(|| {
                    let mut found = Vec::new();
                    let mut errs = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((p, lang)) = candidates.get(i) else {
                            break;
                        };
                        let bytes = match php::read_limited(p, sa.max_filesize) {
                            Ok(b) => b,
                            Err(e) => {
                                errs.push(AuditError {
                                    target: p.display().to_string(),
                                    message: crate::cms::describe_io(&e),
                                });
                                continue;
                            }
                        };
                        let src = String::from_utf8_lossy(&bytes).into_owned();
                        drop(bytes);
                        let site = site_roots.iter().find(|(sp, _, _, _)| p.starts_with(sp));
                        let ctx = analyze::Ctx {
                            rules: &rules,
                            tree: &tree,
                            drupal_major: site.and_then(|s| s.2),
                            site_cms: site.map(|s| s.1),
                            site_version: site.and_then(|s| s.3.as_deref()),
                            test_path: context::test_path(p.strip_prefix(path).unwrap_or(p)),
                        };
                        let res = analyze::analyze(&ctx, *lang, &p.display().to_string(), src);
                        if res.regex_level {
                            regex_level.fetch_add(1, Ordering::Relaxed);
                        }
                        found.push((res.findings, res.facts));
                    }
                    (found, errs)
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut facts = Vec::new();
        let mut errs = Vec::new();
        for h in handles {
            let (per_file, e) = h.join().expect("analysis thread");
            for (f, ff) in per_file {
                facts.push((all.len(), ff));
                all.extend(f);
            }
            errs.extend(e);
        }
        stats.request_local = context::apply(&mut all, facts);
        (all, errs)
    });
    stats.files_regex_level = regex_level.load(Ordering::Relaxed);
    findings.extend(code_findings);
    report.errors.extend(read_errors);

    // Config: rules off, severity overrides.
    findings.retain(|f| !cfg.disable.contains(&f.code));

    // Inline suppressions (files with findings or with markers).
    let mut files: Vec<PathBuf> = findings
        .iter()
        .filter_map(|f| f.location.as_ref().map(|l| l.path.clone()))
        .chain(walked.suppress_files)
        .collect();
    files.sort();
    files.dedup();
    let mut unused = Vec::new();
    for file in files {
        let Ok(bytes) = php::read_limited(&file, sa.max_filesize) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut supps = suppress::parse_suppressions(&text);
        if supps.is_empty() {
            continue;
        }
        stats.suppressed += suppress::apply(&mut findings, &file, &mut supps);
        // A suppression for rules that are turned off is not stale.
        for s in &mut supps {
            if s.rules.iter().all(|r| cfg.disable.contains(r)) {
                s.used = true;
            }
        }
        unused.extend(suppress::unused(&file, &supps, &text));
    }
    if !cfg.disable.iter().any(|d| d == rules::UNUSED_SUPPRESSION) {
        findings.extend(unused);
    }
    for f in &mut findings {
        if let Some(sev) = cfg.severity.get(&f.code) {
            f.severity = *sev;
        }
    }

    // Order, fingerprints, baseline.
    findings.sort_by(|a, b| {
        let key = |f: &Finding| {
            f.location
                .as_ref()
                .map(|l| (l.path.clone(), l.line, l.column.unwrap_or(0)))
        };
        key(a).cmp(&key(b)).then_with(|| a.code.cmp(&b.code))
    });
    findings
        .dedup_by(|a, b| a.code == b.code && a.location == b.location && a.message == b.message);
    suppress::fingerprint_all(&mut findings, path);
    if let Some(out) = &sa.write_baseline {
        suppress::Baseline::of(&findings, path).write(out)?;
        crate::ui::note(format_args!(
            "wrote baseline {} ({} finding{})",
            crate::ui::shown(out),
            findings.len(),
            if findings.len() == 1 { "" } else { "s" }
        ));
        stats.baselined = findings.len() as u64;
        findings.clear();
    } else if let Some(bl) = sa.baseline.as_ref().or(cfg.baseline.as_ref()) {
        let baseline = suppress::Baseline::load(bl)?;
        let known: HashSet<&str> = baseline.fingerprints();
        let before = findings.len();
        findings.retain(|f| {
            !f.fingerprint
                .as_deref()
                .is_some_and(|fp| known.contains(fp))
        });
        stats.baselined = (before - findings.len()) as u64;
    }
    dedup_errors(&mut report.errors);
    report.findings.extend(findings);
    report.stats = Some(stats);
    Ok(())
}

fn dedup_errors(errors: &mut Vec<AuditError>) {
    let mut seen: HashMap<(String, String), ()> = HashMap::new();
    errors.retain(|e| {
        seen.insert((e.target.clone(), e.message.clone()), ())
            .is_none()
    });
}
