//! `rcfg apply` and rcfg's own lints agree, on every fixture in `fixtures/`: after apply (into
//! a temp copy), `detect --format json` shows no lint at warning or above that apply could
//! have fixed, and `audit-ttl --format json` shows no config-level finding for the settings
//! apply manages. Fixtures apply refuses (no supported CMS, no redis module) are refused
//! with exit 2 and left byte-identical.

mod common;

use std::path::Path;

use common::{copy_fixture, json_of, rcfg, text, tree};
use serde_json::Value;

/// Lints apply cannot fix, because they are about things it deliberately leaves alone: code
/// outside the config (none yet), or a setting on a conditional branch. Every other lint at
/// warning or above must be gone after apply.
const NOT_APPLYS_TO_FIX: &[&str] = &[];

/// Fixtures apply refuses, with the reason it gives.
const REFUSED: &[(&str, &str)] = &[
    ("drupal-classic", "the drupal/redis module is not installed"),
    ("drupal7", "Drupal 7 is recognised but not supported"),
    ("laravel", "no CMS recognised"),
    (
        "magento1",
        "Magento 1 / OpenMage is recognised but not supported",
    ),
    ("nextjs-app", "no CMS recognised"),
    ("node-express-ioredis", "no CMS recognised"),
    ("plain-php", "no CMS recognised"),
    ("symfony", "no CMS recognised"),
];

/// How to apply each fixture: the site argument (relative to the copy), `--root`, and the
/// passwords for the endpoints whose current server has one (the new default sockets are
/// another server, so rcfg needs the new password rather than guess).
fn how(name: &str) -> (&'static str, bool, &'static [(&'static str, &'static str)]) {
    const BOTH: &[(&str, &str)] = &[
        ("RCFG_REDIS_PASSWORD", "fixture-cache-pw"),
        ("RCFG_SESSION_REDIS_PASSWORD", "fixture-session-pw"),
    ];
    match name {
        "hosting-root" => ("", true, BOTH),
        "wordpress-parent-config" => ("public_html", false, BOTH),
        _ => ("", false, BOTH),
    }
}

fn run(args: &[&str], root: &Path, envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = rcfg();
    cmd.args(args).arg(root);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Lints at warning or above left in `detect`'s JSON, as `site: code at path:line`.
fn lints_left(detect: &Value) -> Vec<String> {
    let mut left = Vec::new();
    for site in detect["sites"].as_array().into_iter().flatten() {
        for l in site["lints"].as_array().into_iter().flatten() {
            let code = l["code"].as_str().unwrap_or_default();
            let sev = l["severity"].as_str().unwrap_or_default();
            if matches!(sev, "warning" | "error") && !NOT_APPLYS_TO_FIX.contains(&code) {
                left.push(format!(
                    "{}: {code} at {}:{} ({})",
                    site["path"], l["location"]["path"], l["location"]["line"], l["message"]
                ));
            }
        }
    }
    left
}

/// audit-ttl findings about config files (not code): the settings apply manages.
fn config_findings(audit: &Value) -> Vec<String> {
    audit["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| {
            let p = f["location"]["path"].as_str().unwrap_or_default();
            let name = Path::new(p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name == ".env"
                || name == "wp-config.php"
                || name == "env.php"
                || name.starts_with("settings")
                || name.starts_with("medusa-config")
                || name == "application.php"
        })
        .map(|f| {
            format!(
                "{}: {} at {}",
                f["code"], f["message"], f["location"]["path"]
            )
        })
        .collect()
}

#[test]
fn after_apply_no_fixable_lint_or_config_finding_is_left_on_any_fixture() {
    let mut names: Vec<String> = std::fs::read_dir(common::repo_root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // Hosting-panel trees of several sites each, covered by tests/locate.rs.
        .filter(|n| n != "layouts")
        .collect();
    names.sort();
    assert!(names.len() >= 25, "fixtures found: {names:?}");
    let mut problems = Vec::new();
    // The checks see what they look for: before apply, the lint fixtures have both.
    let (mut lints_before, mut findings_before) = (0, 0);
    for name in &names {
        let (_tmp, root) = copy_fixture(name);
        let (arg, is_root, envs) = how(name);
        let site = root.join(arg);
        let before = tree(&root);
        let detect_before = if is_root {
            run(&["detect", "--format", "json", "--root"], &site, &[])
        } else {
            run(&["detect", "--format", "json"], &site, &[])
        };
        if detect_before.status.code() != Some(2) {
            lints_before += lints_left(&json_of(&detect_before)).len();
        }
        findings_before += config_findings(&json_of(&run(
            &["audit-ttl", "--format", "json"],
            &root,
            &[],
        )))
        .len();
        let out = if is_root {
            run(&["apply", "--root"], &site, envs)
        } else {
            run(&["apply"], &site, envs)
        };
        if let Some((_, why)) = REFUSED.iter().find(|(n, _)| n == name) {
            assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out.stderr));
            assert!(
                text(&out.stderr).contains(why),
                "{name}: {}",
                text(&out.stderr)
            );
            assert_eq!(tree(&root), before, "{name}: a refused apply wrote");
            continue;
        }
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let all = text(&out.stdout) + &text(&out.stderr);
        for (_, pw) in envs {
            assert!(
                !all.contains(pw),
                "{name}: a password in the output:\n{all}"
            );
        }
        let detect = if is_root {
            run(&["detect", "--format", "json", "--root"], &site, &[])
        } else {
            run(&["detect", "--format", "json"], &site, &[])
        };
        problems.extend(
            lints_left(&json_of(&detect))
                .into_iter()
                .map(|l| format!("{name}: detect: {l}")),
        );
        let audit = run(&["audit-ttl", "--format", "json"], &root, &[]);
        problems.extend(
            config_findings(&json_of(&audit))
                .into_iter()
                .map(|f| format!("{name}: audit-ttl: {f}")),
        );
        // A second apply has nothing left to do.
        let again = if is_root {
            run(&["apply", "--check", "--root"], &site, envs)
        } else {
            run(&["apply", "--check"], &site, envs)
        };
        assert_eq!(
            again.status.code(),
            Some(0),
            "{name}: {}",
            text(&again.stderr)
        );
    }
    assert!(lints_before >= 10, "{lints_before} lints before apply");
    assert!(
        findings_before >= 5,
        "{findings_before} findings before apply"
    );
    assert!(
        problems.is_empty(),
        "left after apply:\n{}",
        problems.join("\n")
    );
}

/// `patch --dry-run -p1` must accept `diff` from `root`.
fn patch_check(root: &Path, diff: &str) -> Result<(), String> {
    let file = root.parent().unwrap().join("rcfg-fixture.diff");
    std::fs::write(&file, diff).unwrap();
    let out = std::process::Command::new("patch")
        .args(["--dry-run", "-p1", "-i"])
        .arg(&file)
        .current_dir(root)
        .output()
        .expect("patch is installed");
    std::fs::remove_file(&file).unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(text(&out.stdout) + &text(&out.stderr))
    }
}

#[test]
fn every_fixtures_dry_run_applies_with_git_apply_and_patch() {
    let mut names: Vec<String> = std::fs::read_dir(common::repo_root().join("fixtures"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // Hosting-panel trees of several sites each, covered by tests/locate.rs.
        .filter(|n| n != "layouts")
        .collect();
    names.sort();
    let mut checked = 0;
    for name in names
        .iter()
        .filter(|n| !REFUSED.iter().any(|(r, _)| r == n))
    {
        let (_tmp, root) = copy_fixture(name);
        let (arg, is_root, _) = how(name);
        let mut cmd = rcfg();
        cmd.args(["apply", "--dry-run"]);
        if is_root {
            cmd.arg("--root");
        }
        let out = cmd
            .arg(root.join(arg))
            .env_remove("RCFG_REDIS_PASSWORD")
            .env_remove("RCFG_SESSION_REDIS_PASSWORD")
            .output()
            .unwrap();
        let err = text(&out.stderr);
        if out.status.code() == Some(2) {
            // Only a password rcfg cannot place may stop a supported fixture.
            assert!(err.contains("cannot tell"), "{name}: {err}");
            continue;
        }
        assert_eq!(out.status.code(), Some(0), "{name}: {err}");
        let diff = String::from_utf8(out.stdout).unwrap();
        if diff.contains("# secrets are shown as ********") || !diff.contains("\n+++ ") {
            continue;
        }
        common::git_apply_check(&root, &diff);
        patch_check(&root, &diff).unwrap_or_else(|e| panic!("{name}: patch: {e}"));
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} fixtures' diffs were checked");
}
