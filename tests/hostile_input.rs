//! Hostile and broken files (issue 9, items 1, 2, 3, 7): deep nesting, endless expressions,
//! FIFOs, devices behind links, dangling links, unreadable directories, configs PHP would
//! reject, symlinks out of the scanned tree. Each case asserts the exit code, the message
//! naming the file, and (for JSON) that the output is valid and still lists the other sites.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{copy_fixture, copy_tree, fixture, json_of, rcfg};
use serde_json::Value;

const MAGENTO: &str = "magento2-composer-redis";

fn mkfifo(path: &Path) {
    let st = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(st.success());
}

/// `detect PATH --format json`, returning (exit code, JSON).
fn detect_json(path: &Path) -> (i32, Value) {
    let out = rcfg()
        .args(["detect", "--format", "json"])
        .arg(path)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().expect("exited, not killed"),
        json_of(&out),
    )
}

/// The `errors[]` entries as (path, message).
fn errors(v: &Value) -> Vec<(String, String)> {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn one_error_for(v: &Value, file: &Path) -> String {
    let errs = errors(v);
    let mine: Vec<_> = errs.iter().filter(|(p, _)| Path::new(p) == file).collect();
    assert_eq!(mine.len(), 1, "one error for {}: {errs:?}", file.display());
    mine[0].1.clone()
}

/// A Magento site whose env.php holds `value` as `'x' => value`.
fn magento_with(value: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, site) = copy_fixture(MAGENTO);
    std::fs::write(
        site.join("app/etc/env.php"),
        format!("<?php\nreturn ['x' => {value}];\n"),
    )
    .unwrap();
    (tmp, site)
}

// -- item 1: no stack overflow ---------------------------------------------------------

#[test]
fn five_thousand_nested_brackets_are_an_error_for_that_file() {
    let n = 5000;
    for value in [
        format!("{}1{}", "[".repeat(n), "]".repeat(n)),
        format!("{}1{}", "array(".repeat(n), ")".repeat(n)),
        format!("{}1{}", "(".repeat(2 * n), ")".repeat(2 * n)),
    ] {
        let (_tmp, site) = magento_with(&value);
        let (code, v) = detect_json(&site);
        assert_eq!(code, 2, "{v:#}");
        let msg = one_error_for(&v, &site.join("app/etc/env.php"));
        assert!(msg.contains("too deeply nested at 2:"), "{msg}");
        assert!(msg.contains("(more than 512 levels)"), "{msg}");
        assert_eq!(v["sites"][0]["cms"], "magento2");
    }
}

#[test]
fn two_million_terms_are_an_error_not_a_crash() {
    let (_tmp, site) = magento_with(&vec!["1"; 2_000_000].join("+"));
    let (code, v) = detect_json(&site);
    assert_eq!(code, 2);
    let msg = one_error_for(&v, &site.join("app/etc/env.php"));
    assert!(msg.contains("too deeply nested at 2:"), "{msg}");
}

#[test]
fn deep_medusa_config_is_an_error_not_a_crash() {
    let (_tmp, site) = copy_fixture("medusa-v2-redis");
    let cfg = site.join("medusa-config.ts");
    let n = 5000;
    std::fs::write(
        &cfg,
        format!(
            "module.exports = defineConfig({{ projectConfig: {{ x: {}1{} }} }})\n",
            "[".repeat(n),
            "]".repeat(n)
        ),
    )
    .unwrap();
    let (code, v) = detect_json(&site);
    assert_eq!(code, 2);
    let msg = one_error_for(&v, &cfg);
    assert!(msg.contains("too deeply nested at 1:"), "{msg}");
}

#[test]
fn audit_ttl_survives_deeply_nested_code() {
    let tmp = tempfile::tempdir().unwrap();
    let n = 1000;
    let deep = |o: &str, c: &str| format!("{}1{}", o.repeat(n), c.repeat(n));
    std::fs::write(
        tmp.path().join("a.php"),
        format!(
            "<?php\n$x = {};\nwp_cache_set('k', $x, 'g', {});\nwp_cache_set('k2', 1);\n",
            deep("[", "]"),
            deep("(", ")")
        ),
    )
    .unwrap();
    std::fs::write(
        tmp.path().join("b.ts"),
        format!(
            "const x = {};\nawait cache.set('k', {});\n",
            deep("[", "]"),
            vec!["1"; 200_000].join("+")
        ),
    )
    .unwrap();
    let out = rcfg()
        .args(["audit-ttl", "--format", "json"])
        .arg(tmp.path())
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    // Exit 1: the plain `wp_cache_set('k2', 1)` is still found.
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out.stderr));
    let v = json_of(&out);
    assert_eq!(v["stats"]["files_scanned"], 2);
    let found: Vec<_> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["line"].as_u64().unwrap())
        .collect();
    assert!(found.contains(&4), "{v:#}");
}

// -- item 1 and 3: special files are refused, and named ----------------------------------

#[test]
fn fifo_and_devices_named_like_configs_are_errors() {
    // (fixture, config file, what to put there)
    let cases: &[(&str, &str, &str)] = &[
        (MAGENTO, "app/etc/env.php", "fifo"),
        (MAGENTO, "app/etc/env.php", "/dev/zero"),
        (MAGENTO, "composer.lock", "/dev/urandom"),
        ("wordpress-classic", "wp-config.php", "fifo"),
        ("wordpress-classic", "wp-includes/version.php", "/dev/zero"),
        ("wordpress-bedrock", ".env", "/dev/zero"),
        ("medusa-v2-redis", "package.json", "/dev/zero"),
        ("medusa-v2-redis", ".env", "fifo"),
    ];
    for (name, file, what) in cases {
        let (_tmp, site) = copy_fixture(name);
        let path = site.join(file);
        let _ = std::fs::remove_file(&path);
        if *what == "fifo" {
            mkfifo(&path);
        } else {
            std::os::unix::fs::symlink(what, &path).unwrap();
        }
        let (code, v) = detect_json(&site);
        assert_eq!(code, 2, "{name} {file} {what}: {v:#}");
        let msg = one_error_for(&v, &path);
        let want = if *what == "fifo" {
            "not a regular file (a FIFO)"
        } else {
            "not a regular file (a character device)"
        };
        assert_eq!(msg, want, "{name} {file}");
    }
}

#[test]
fn dangling_wp_config_is_an_error_not_unconfigured() {
    let (_tmp, site) = copy_fixture("wordpress-classic-redis");
    let cfg = site.join("wp-config.php");
    std::fs::remove_file(&cfg).unwrap();
    std::os::unix::fs::symlink("/nonexistent/shared/wp-config.php", &cfg).unwrap();
    let (code, v) = detect_json(&site);
    assert_eq!(code, 2);
    let msg = one_error_for(&v, &cfg);
    assert_eq!(
        msg,
        "dangling symlink (its target /nonexistent/shared/wp-config.php does not exist)"
    );
}

/// Run `rcfg` as `nobody` (uid/gid 65534): permission checks apply.
fn rcfg_as_nobody(args: &[&str], cwd: &Path) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("rcfg");
    std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
        ])
        .arg(bin)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env("RCFG_LOCAL_SOCKETS", "/nonexistent/rcfg-test.sock")
        .output()
        .unwrap()
}

#[test]
fn unreadable_config_dirs_are_errors_for_a_non_root_user() {
    if !nix_is_root() {
        eprintln!("skipped: needs root to switch to nobody");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let mage = tmp.path().join("mage");
    copy_tree(&fixture(MAGENTO), &mage);
    let drupal = tmp.path().join("drupal");
    copy_tree(&fixture("drupal-classic-redis"), &drupal);
    chmod_tree(tmp.path(), 0o755, 0o644);
    std::fs::set_permissions(mage.join("app/etc"), std::fs::Permissions::from_mode(0o700)).unwrap();
    std::fs::set_permissions(
        drupal.join("sites/default"),
        std::fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    for (site, file) in [
        ("mage", "mage/app/etc/env.php"),
        ("drupal", "drupal/sites/default/settings.php"),
    ] {
        let out = rcfg_as_nobody(&["detect", site, "--format", "json"], tmp.path());
        assert_eq!(out.status.code(), Some(2), "{site}");
        let v = json_of(&out);
        let msg = one_error_for(&v, Path::new(file));
        assert_eq!(msg, "permission denied", "{site}");
    }
    std::fs::set_permissions(
        drupal.join("sites/default"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
}

fn nix_is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn chmod_tree(dir: &Path, dmode: u32, fmode: u32) {
    for e in walkdir::WalkDir::new(dir).follow_links(false) {
        let e = e.unwrap();
        if e.path_is_symlink() {
            continue;
        }
        let mode = if e.file_type().is_dir() { dmode } else { fmode };
        std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

// -- item 3: one bad site never hides the others -------------------------------------------

#[test]
fn detect_root_reports_every_site_around_a_deep_and_a_fifo_site() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for name in ["deep", "fifo", "good"] {
        copy_tree(&fixture(MAGENTO), &root.join(name));
    }
    let n = 5000;
    std::fs::write(
        root.join("deep/app/etc/env.php"),
        format!("<?php return ['x' => {}1{}];", "[".repeat(n), "]".repeat(n)),
    )
    .unwrap();
    std::fs::remove_file(root.join("fifo/app/etc/env.php")).unwrap();
    mkfifo(&root.join("fifo/app/etc/env.php"));
    copy_tree(&fixture("wordpress-classic-redis"), &root.join("wp"));

    let out = rcfg()
        .args(["detect", "--format", "json", "--root"])
        .arg(root)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    let mut paths: Vec<String> = v["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            Path::new(s["path"].as_str().unwrap())
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    paths.sort();
    assert_eq!(paths, ["deep", "fifo", "good", "wp"]);
    let good = v["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with("/good"))
        .unwrap();
    assert_eq!(good["redis"]["configured"], true, "{good:#}");
    let deep = one_error_for(&v, &root.join("deep/app/etc/env.php"));
    assert!(deep.contains("too deeply nested"), "{deep}");
    let fifo = one_error_for(&v, &root.join("fifo/app/etc/env.php"));
    assert_eq!(fifo, "not a regular file (a FIFO)");
    assert_eq!(errors(&v).len(), 2, "{:?}", errors(&v));
}

// -- item 2: as strict as PHP where rcfg trusts the result ---------------------------------

#[test]
fn empty_array_element_in_env_php_is_an_error_and_apply_refuses() {
    let (_tmp, site) = copy_fixture(MAGENTO);
    let env = site.join("app/etc/env.php");
    let text = std::fs::read_to_string(&env).unwrap();
    // `'page_cache' => [ … ]` becomes `], ,` after the default frontend: PHP refuses it.
    let broken = text.replacen(
        "                ]\n            ],\n            'page_cache'",
        "                ]\n            ],,\n            'page_cache'",
        1,
    );
    assert_ne!(broken, text);
    std::fs::write(&env, &broken).unwrap();
    let lint = std::process::Command::new("php")
        .arg("-l")
        .arg(&env)
        .output()
        .unwrap();
    assert!(!lint.status.success(), "php -l must refuse the fixture too");

    let (code, v) = detect_json(&site);
    assert_eq!(code, 2);
    let msg = one_error_for(&v, &env);
    assert!(
        msg.starts_with("line 25: ") && msg.contains("empty array element at 25:15"),
        "{msg}"
    );

    let out = rcfg()
        .args(["apply", "--dry-run"])
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", common::text(&out.stdout));
    let stderr = common::text(&out.stderr);
    assert!(stderr.contains("env.php"), "{stderr}");
    assert!(stderr.contains("empty array element"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&env).unwrap(), broken);
}

// -- item 7: walks stay inside PATH, files are read once -----------------------------------

#[test]
fn audit_ttl_stays_inside_path_and_reads_each_file_once() {
    let tmp = tempfile::tempdir().unwrap();
    let tree = tmp.path().join("tree");
    let outside = tmp.path().join("outside");
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        tree.join("src/a.php"),
        "<?php\nwp_cache_set('inside', 1);\n",
    )
    .unwrap();
    std::fs::write(
        outside.join("b.php"),
        "<?php\nwp_cache_set('outside', 1);\n",
    )
    .unwrap();
    // Two more ways to the same inside file, and one link out of the tree.
    std::os::unix::fs::symlink(tree.join("src"), tree.join("again")).unwrap();
    std::os::unix::fs::symlink(tree.join("src/a.php"), tree.join("a-link.php")).unwrap();
    std::fs::hard_link(tree.join("src/a.php"), tree.join("a-hard.php")).unwrap();
    std::os::unix::fs::symlink(&outside, tree.join("shared")).unwrap();

    let run = |follow: bool| {
        let mut cmd = rcfg();
        cmd.args(["audit-ttl", "--format", "json"]).arg(&tree);
        if follow {
            cmd.arg("--follow");
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        json_of(&out)
    };
    let v = run(false);
    assert_eq!(v["stats"]["files_scanned"], 1, "{v:#}");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v:#}");
    let v = run(true);
    assert_eq!(v["stats"]["files_scanned"], 2, "{v:#}");
    let files: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 2, "{v:#}");
    assert!(
        files.iter().any(|f| f.ends_with("shared/b.php")),
        "{files:?}"
    );
}

#[test]
fn apply_root_plans_the_good_site_and_refuses_the_deep_and_fifo_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    // magento2-git: a site apply plans without a password question (the composer-redis
    // fixture has session credentials for another endpoint, which apply refuses by design).
    for name in ["deep", "fifo", "good"] {
        copy_tree(&fixture("magento2-git"), &root.join(name));
    }
    let n = 5000;
    std::fs::write(
        root.join("deep/app/etc/env.php"),
        format!("<?php return ['x' => {}1{}];", "[".repeat(n), "]".repeat(n)),
    )
    .unwrap();
    std::fs::remove_file(root.join("fifo/app/etc/env.php")).unwrap();
    mkfifo(&root.join("fifo/app/etc/env.php"));
    let out = rcfg()
        .args(["apply", "--dry-run", "--root"])
        .arg(root)
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let diff = common::text(&out.stdout);
    let targets: Vec<&str> = diff.lines().filter(|l| l.starts_with("+++ ")).collect();
    assert_eq!(targets, ["+++ b/good/app/etc/env.php"], "{diff}");
    let stderr = common::text(&out.stderr);
    assert!(
        stderr.contains("deep/app/etc/env.php") && stderr.contains("too deeply nested at 1:"),
        "{stderr}"
    );
    assert!(
        stderr.contains("fifo/app/etc/env.php: not a regular file (a FIFO)"),
        "{stderr}"
    );
}

#[test]
fn empty_property_in_medusa_config_is_an_error_and_apply_refuses() {
    let (_tmp, site) = copy_fixture("medusa-v2-redis");
    let cfg = site.join("medusa-config.ts");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let broken = text.replacen(
        "    redisPrefix: \"shop2:\",\n",
        "    redisPrefix: \"shop2:\",,\n",
        1,
    );
    assert_ne!(broken, text);
    std::fs::write(&cfg, &broken).unwrap();
    let (code, v) = detect_json(&site);
    assert_eq!(code, 2);
    let msg = one_error_for(&v, &cfg);
    assert!(msg.contains("empty property at 11:27"), "{msg}");
    let out = rcfg()
        .args(["apply", "--dry-run"])
        .arg(&site)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", common::text(&out.stdout));
    let stderr = common::text(&out.stderr);
    assert!(stderr.contains("medusa-config.ts"), "{stderr}");
    assert!(stderr.contains("empty property"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), broken);
}
