//! Negative controls: Laravel, Symfony, an Express app with ioredis, a Next.js app with
//! redis and a plain PHP site use Redis or look CMS-like, but are never reported as a CMS.

mod common;

use common::{copy_tree, fixture, json_of, rcfg};
use serde_json::Value;

const CONTROLS: &[&str] = &[
    "laravel",
    "symfony",
    "node-express-ioredis",
    "nextjs-app",
    "plain-php",
];

fn assert_unknown(name: &str) {
    let path = format!("fixtures/{name}");
    let out = rcfg()
        .args(["detect", &path, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{name}");
    let v = json_of(&out);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{name}: {v:#}");
    let sites = v["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1, "{name}");
    let s = &sites[0];
    assert_eq!(s["path"], path.as_str());
    assert_eq!(s["cms"], "unknown", "{name} must not be a CMS: {s:#}");
    assert_eq!(s["version"], Value::Null, "{name}");
    assert_eq!(s["supported"], false, "{name}");
    assert_eq!(s["unsupported_reason"], "no CMS recognised", "{name}");
    assert_eq!(s["redis"]["configured"], false, "{name}");
    assert!(s["config_files"].as_array().unwrap().is_empty(), "{name}");
    assert!(s["lints"].as_array().unwrap().is_empty(), "{name}");
}

#[test]
fn laravel_is_not_a_cms() {
    assert_unknown("laravel");
}

#[test]
fn symfony_is_not_a_cms() {
    assert_unknown("symfony");
}

#[test]
fn express_with_ioredis_is_not_a_cms() {
    assert_unknown("node-express-ioredis");
}

#[test]
fn nextjs_with_redis_is_not_a_cms() {
    assert_unknown("nextjs-app");
}

#[test]
fn plain_php_site_is_not_a_cms() {
    assert_unknown("plain-php");
}

#[test]
fn a_root_of_only_negative_controls_has_no_sites() {
    let tmp = tempfile::tempdir().unwrap();
    for name in CONTROLS {
        copy_tree(&fixture(name), &tmp.path().join(name));
    }
    let out = rcfg()
        .args([
            "detect",
            "--root",
            tmp.path().to_str().unwrap(),
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    // No site below a hosting root is an error, as for `apply --root`: most likely the
    // wrong directory or a too small --depth.
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    assert_eq!(v["sites"], serde_json::json!([]), "{v:#}");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v:#}");
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("no CMS site found below this directory"),
        "{v:#}"
    );
    assert_eq!(v["collisions"], serde_json::json!([]));
}
