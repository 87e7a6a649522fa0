//! Which `rcfg.toml` a command uses: found from PATH upwards, `--config`, `--no-config`, and
//! a planted file that others can write is refused (rcfg runs as root over tenants' trees).

mod common;

use std::os::unix::fs::PermissionsExt;

use common::rcfg;
use serde_json::Value;

fn tree() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("www/example.com/public_html");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(
        site.join("cache.php"),
        "<?php\nwp_cache_set( 'a', 1 );\nset_transient( 'b', 2 );\n",
    )
    .unwrap();
    (tmp, site)
}

fn write_cfg(path: &std::path::Path, mode: u32) {
    std::fs::write(path, "[audit]\ndisable = [\"wp-transient-no-expire\"]\n").unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// Rule ids reported by `audit-ttl SITE` with extra flags; and stderr.
fn rules(site: &std::path::Path, extra: &[&str]) -> (Vec<String>, String) {
    let out = rcfg()
        .env("XDG_CONFIG_HOME", site.join("no-such-config-home"))
        .arg("audit-ttl")
        .arg(site)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut ids: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    (ids, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_config_in_a_parent_of_path_is_found_and_named() {
    let (tmp, site) = tree();
    let (ids, _) = rules(&site, &[]);
    assert_eq!(ids, ["wp-cache-no-expire", "wp-transient-no-expire"]);

    let cfg = tmp.path().join("www/rcfg.toml");
    write_cfg(&cfg, 0o644);
    let (ids, err) = rules(&site, &[]);
    assert_eq!(ids, ["wp-cache-no-expire"]);
    assert!(
        err.contains(&format!("rcfg: using config {}", cfg.display())),
        "{err}"
    );

    let (ids, _) = rules(&site, &["--no-config"]);
    assert_eq!(ids.len(), 2);
}

#[test]
fn a_config_others_can_write_is_ignored_with_a_warning() {
    let (tmp, site) = tree();
    let planted = tmp.path().join("www/example.com/.rcfg.toml");
    write_cfg(&planted, 0o666);
    let (ids, err) = rules(&site, &[]);
    assert_eq!(ids.len(), 2, "the planted file must not switch rules off");
    assert!(
        err.contains("ignored, it is writable by group or others"),
        "{err}"
    );
    assert!(err.contains(&planted.display().to_string()), "{err}");

    // Given explicitly, the user has vouched for it.
    let (ids, _) = rules(&site, &["--config", planted.to_str().unwrap()]);
    assert_eq!(ids, ["wp-cache-no-expire"]);
}

#[test]
fn the_user_config_directory_is_the_last_resort() {
    let (tmp, site) = tree();
    let home = tmp.path().join("xdg");
    std::fs::create_dir_all(home.join("rcfg")).unwrap();
    write_cfg(&home.join("rcfg/config.toml"), 0o600);
    let out = rcfg()
        .env("XDG_CONFIG_HOME", &home)
        .arg("audit-ttl")
        .arg(&site)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 1);
}

#[test]
fn quiet_keeps_stderr_for_errors_and_verbose_says_more() {
    let (tmp, site) = tree();
    write_cfg(&tmp.path().join("www/example.com/.rcfg.toml"), 0o666);
    let (_, normal) = rules(&site, &[]);
    assert!(normal.contains("warning:"), "{normal}");
    let (ids, quiet) = rules(&site, &["-q"]);
    assert_eq!(ids.len(), 2, "-q changes no result");
    assert!(quiet.is_empty(), "-q printed: {quiet}");
    let (_, verbose) = rules(&site, &["-v"]);
    assert!(verbose.contains("rcfg: no config file found"), "{verbose}");
    assert!(verbose.contains("rcfg: finished in "), "{verbose}");
}
