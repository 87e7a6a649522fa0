//! `rcfg detect --root`: the hosting-root inventory, collisions, errors and exit codes, on
//! `fixtures/hosting-root` (two WordPress sites sharing a database without prefixes, a
//! Magento store and a Drupal intranet sharing one with distinct prefixes, a Medusa API,
//! a Laravel app and a static site that are not CMS sites).

mod common;

use common::{copy_fixture, json_of, rcfg};
use serde_json::Value;

fn site<'a>(inv: &'a Value, dir: &str) -> &'a Value {
    inv["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["path"].as_str().unwrap().ends_with(dir))
        .unwrap_or_else(|| panic!("no site {dir} in {inv:#}"))
}

#[test]
fn lists_every_site_once_with_cms_version_and_layout() {
    let out = rcfg()
        .args([
            "detect",
            "--root",
            "fixtures/hosting-root",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let inv = json_of(&out);
    let paths: Vec<&str> = inv["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "fixtures/hosting-root/api.example.com",
            "fixtures/hosting-root/blog.example.com",
            "fixtures/hosting-root/intranet.example.com",
            "fixtures/hosting-root/shop.example.com",
            "fixtures/hosting-root/store.example.com",
        ],
        "Laravel and the static site are not CMS sites; nothing below a site is listed again"
    );
    let expect = [
        ("api.example.com", "medusa", "2.5.1", "v2"),
        ("blog.example.com", "wordpress", "6.4.3", "classic"),
        ("intranet.example.com", "drupal", "10.2.6", "composer"),
        ("shop.example.com", "wordpress", "6.5.2", "classic"),
        ("store.example.com", "magento2", "2.4.7-p3", "composer"),
    ];
    for (dir, cms, version, layout) in expect {
        let s = site(&inv, dir);
        assert_eq!(s["cms"], cms, "{dir}");
        assert_eq!(s["version"], version, "{dir}");
        assert_eq!(s["layout"], layout, "{dir}");
        assert_eq!(s["redis"]["configured"], true, "{dir}");
    }
    assert_eq!(
        inv["errors"].as_array().unwrap().len(),
        0,
        "{:#}",
        inv["errors"]
    );
}

#[test]
fn reports_both_kinds_of_collision_and_exits_1() {
    let out = rcfg()
        .args([
            "detect",
            "--root",
            "fixtures/hosting-root",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "an error-level collision fails the run"
    );
    let inv = json_of(&out);
    let collisions = inv["collisions"].as_array().unwrap();
    assert_eq!(collisions.len(), 2, "{collisions:#?}");

    let shared = collisions
        .iter()
        .find(|c| c["code"] == "shared-db-no-prefix")
        .expect("WordPress sites share db 2 without prefixes");
    assert_eq!(shared["severity"], "error");
    assert_eq!(shared["endpoint"], "unix:/var/run/redis/redis.sock");
    assert_eq!(shared["database"], 2);
    let members: Vec<&str> = shared["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        members,
        [
            "fixtures/hosting-root/blog.example.com",
            "fixtures/hosting-root/shop.example.com"
        ]
    );

    let flush = collisions
        .iter()
        .find(|c| c["code"] == "shared-db-flush-wipes")
        .expect("Magento and Drupal share db 3 with distinct prefixes");
    assert_eq!(flush["severity"], "warning");
    assert_eq!(flush["database"], 3);
    assert!(
        flush["message"]
            .as_str()
            .unwrap()
            .contains("store.example.com"),
        "names the site whose flush wipes the database: {flush:#}"
    );
    // Sessions on the persistent instance (databases 1 and 2) do not collide.
    assert!(
        collisions
            .iter()
            .all(|c| c["endpoint"] != "unix:/var/run/redis-persistent/redis.sock")
    );
}

#[test]
fn fail_on_decides_what_fails() {
    // Warnings only: raising the threshold above every finding gives 0 only when no error exists.
    let out = rcfg()
        .args([
            "detect",
            "--root",
            "fixtures/hosting-root/api.example.com",
            "--depth",
            "0",
            "--fail-on",
            "error",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = rcfg()
        .args([
            "detect",
            "--root",
            "fixtures/hosting-root",
            "--fail-on",
            "warning",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn table_lists_sites_collisions_and_has_no_colour_off_a_terminal() {
    let out = rcfg()
        .args(["detect", "--root", "fixtures/hosting-root"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("PATH"), "{text}");
    for needle in [
        "fixtures/hosting-root/store.example.com",
        "magento2",
        "2.4.7-p3",
        "unix:/var/run/redis/redis.sock db 2 no prefix",
        "collisions",
        "[shared-db-no-prefix]",
        "[shared-db-flush-wipes]",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(
        !text.contains('\x1b'),
        "no ANSI escapes when stdout is not a terminal"
    );

    let forced = rcfg()
        .args([
            "detect",
            "--root",
            "fixtures/hosting-root",
            "--color",
            "always",
        ])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(forced.stdout)
            .unwrap()
            .contains("\x1b[1m")
    );
}

#[test]
fn a_symlink_loop_is_reported_and_the_other_sites_still_listed() {
    let (_tmp, root) = copy_fixture("hosting-root");
    std::os::unix::fs::symlink("..", root.join("static-site/loop")).unwrap();
    let out = rcfg()
        .arg("detect")
        .arg("--root")
        .arg(&root)
        .args(["--format", "json", "--depth", "6"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "an error makes the exit code 2");
    let inv = json_of(&out);
    assert_eq!(inv["sites"].as_array().unwrap().len(), 5);
    let errors = inv["errors"].as_array().unwrap();
    assert!(
        errors.iter().any(
            |e| e["path"].as_str().unwrap().ends_with("static-site/loop")
                && e["message"].as_str().unwrap().contains("symlink loop")
        ),
        "{errors:#?}"
    );
}

#[test]
fn an_unreadable_directory_is_reported_by_name() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, root) = copy_fixture("hosting-root");
    let locked = root.join("static-site");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(&locked).is_ok() {
        // Running as root: permissions do not stop us, so there is nothing to observe.
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("skipped: directory permissions are not enforced for this user");
        return;
    }
    let out = rcfg()
        .arg("detect")
        .arg("--root")
        .arg(&root)
        .args(["--format", "json"])
        .output()
        .unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(out.status.code(), Some(2));
    let inv = json_of(&out);
    assert_eq!(inv["sites"].as_array().unwrap().len(), 5);
    assert!(
        inv["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("permission denied")
    );
}

#[test]
fn a_missing_path_is_an_error_naming_it() {
    let out = rcfg()
        .args(["detect", "/nonexistent/rcfg-site", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let inv = json_of(&out);
    assert_eq!(inv["errors"][0]["path"], "/nonexistent/rcfg-site");
    assert_eq!(inv["errors"][0]["message"], "no such file or directory");
}

#[test]
fn a_tree_without_a_cms_says_so() {
    let out = rcfg()
        .args(["detect", "fixtures/hosting-root/static-site"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("no CMS recognised"), "{text}");
    let out = rcfg()
        .args([
            "detect",
            "fixtures/hosting-root/laravel-app",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let inv = json_of(&out);
    assert_eq!(inv["sites"][0]["cms"], "unknown");
    assert_eq!(inv["sites"][0]["version"], Value::Null);
    assert_eq!(inv["sites"][0]["redis"]["configured"], false);
}

#[test]
fn depth_limits_the_walk() {
    let out = rcfg()
        .args([
            "detect", "--root", "fixtures", "--depth", "0", "--format", "json",
        ])
        .output()
        .unwrap();
    assert_eq!(json_of(&out)["sites"].as_array().unwrap().len(), 0);
    let out = rcfg()
        .args([
            "detect", "--root", "fixtures", "--depth", "2", "--format", "json",
        ])
        .output()
        .unwrap();
    let inv = json_of(&out);
    assert!(
        inv["sites"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["path"] == "fixtures/hosting-root/store.example.com"),
        "depth 2 reaches fixtures/hosting-root/<site>"
    );
}

#[test]
fn detect_never_writes() {
    let (_tmp, root) = copy_fixture("hosting-root");
    let before = common::tree(&root);
    rcfg()
        .arg("detect")
        .arg("--root")
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(before, common::tree(&root));
}
