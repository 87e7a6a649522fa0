//! Planner tests on temp trees: the patched env.php is linted and evaluated by `php`, and the
//! evaluated array is compared in full with the array before plus the intended changes.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use super::*;
use crate::patch::write::{WriteOptions, write_plan};
use crate::patch::{Endpoint, Secret};

pub(crate) const ENV_24: &str = r#"<?php
return [
    'backend' => [
        'frontName' => 'admin_k3x9q'
    ],
    'cache' => [
        'graphql' => [
            'id_salt' => 'Xk2pLq8vNw4tRz7m'
        ],
        'frontend' => [
            'default' => [
                'id_prefix' => 'a3f_',
                'backend' => 'Magento\\Framework\\Cache\\Backend\\Redis',
                'backend_options' => [
                    'server' => '127.0.0.1',
                    'database' => '0',
                    'port' => '6379',
                    'password' => '',
                    'compress_data' => '1',
                    'compression_lib' => '',
                    'default_lifetime' => 86400
                ]
            ]
        ],
        'allow_parallel_generation' => false
    ],
    'db' => [
        'table_prefix' => '',
        'connection' => [
            'default' => [
                'host' => getenv('DB_HOST') ?: 'localhost',
                'dbname' => 'magento',
                'driver_options' => [
                    1014 => false
                ]
            ]
        ]
    ],
    'MAGE_MODE' => 'production',
    'session' => [
        'save' => 'files'
    ],
    'cache_types' => [
        'config' => 1,
        'full_page' => 1
    ]
];
"#;

pub(crate) const ENV_GIT_23: &str = "<?php\nreturn array (\n  'backend' => \n  array (\n    'frontName' => 'admin',\n  ),\n  'session' => \n  array (\n    'save' => 'files',\n  ),\n  'cache' => \n  array (\n    'frontend' => \n    array (\n      'default' => \n      array (\n        'id_prefix' => '40d_',\n        'backend' => 'Cm_Cache_Backend_File',\n      ),\n      'page_cache' => \n      array (\n        'id_prefix' => '40d_',\n      ),\n    ),\n  ),\n  'MAGE_MODE' => 'developer',\n);\n";

fn php_available() -> bool {
    Command::new("php")
        .arg("-v")
        .output()
        .is_ok_and(|o| o.status.success())
}

pub(crate) fn php_lint(path: &Path) {
    let out = Command::new("php")
        .arg("-l")
        .arg(path)
        .output()
        .expect("php");
    assert!(
        out.status.success(),
        "php -l {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// `env.php` evaluated by PHP, as JSON.
pub(crate) fn php_eval(path: &Path) -> Value {
    let out = Command::new("php")
        .args(["-r", "echo json_encode(include $argv[1]);"])
        .arg(path)
        .output()
        .expect("php");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn site(env: &str, version: Option<&str>) -> (tempfile::TempDir, Site) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("shop1");
    std::fs::create_dir_all(root.join("app/etc")).unwrap();
    std::fs::write(root.join(ENV_PHP), env).unwrap();
    let mut s = Site::new(&root, Cms::Magento2, "composer");
    s.version = version.map(str::to_string);
    s.config_file(&root.join(ENV_PHP), "env.php");
    (tmp, s)
}

fn target() -> Target {
    Target {
        cache: Endpoint {
            transport: Transport::Unix {
                path: "/var/run/redis/redis.sock".into(),
            },
            password: None,
            username: None,
        },
        db: 1,
        page_cache_db: 2,
        prefix: "shop1:".into(),
        ttl: 86400,
        session: Endpoint {
            transport: Transport::Unix {
                path: "/var/run/redis-persistent/redis.sock".into(),
            },
            password: None,
            username: None,
        },
        session_db: 3,
        session_ttl: 7200,
        ttl_explicit: true,
    }
}

fn plan_of(site: &Site, target: &Target) -> Result<Plan> {
    MagentoPlanner.plan(site, target, &Templates::load().unwrap())
}

fn session_defaults() -> Value {
    json!({
        "timeout": "2.5", "persistent_identifier": "", "compression_threshold": "2048",
        "compression_library": "gzip", "log_level": "1", "max_concurrency": "6",
        "break_after_frontend": "5", "break_after_adminhtml": "30", "first_lifetime": "600",
        "bot_first_lifetime": "60", "bot_lifetime": "7200", "disable_locking": "0",
        "min_lifetime": "60"
    })
}

fn merge_json(base: &mut Value, extra: &Value) {
    for (k, v) in extra.as_object().unwrap() {
        base[k] = v.clone();
    }
}

#[test]
fn magento_24_env_php_is_merged_in_place_and_evaluates_to_the_intended_array() {
    if !php_available() {
        eprintln!("php not installed: skipped");
        return;
    }
    let (_tmp, site) = site(ENV_24, Some("2.4.7-p3"));
    let path = site.path.join(ENV_PHP);
    let before_json = php_eval(&path);
    let plan = plan_of(&site, &target()).unwrap();
    assert_eq!(plan.patches.len(), 1);
    let after = &plan.patches[0].after;
    // Untouched parts are byte-identical, including the computed DB host.
    assert!(after.starts_with("<?php\nreturn [\n    'backend' => [\n        'frontName' => 'admin_k3x9q'\n    ],\n    'cache' => [\n        'graphql' => ["));
    assert!(after.contains("'host' => getenv('DB_HOST') ?: 'localhost',"));
    assert!(after.contains("                'id_prefix' => 'shop1_',\n"));
    assert!(!after.contains("default_lifetime"));

    write_plan(&plan, WriteOptions { backup: false }).unwrap();
    php_lint(&path);
    let got = php_eval(&path);

    let mut want = before_json.clone();
    let opts = &mut want["cache"]["frontend"]["default"];
    opts["id_prefix"] = json!("shop1_");
    let bo = &mut opts["backend_options"];
    bo.as_object_mut().unwrap().remove("default_lifetime");
    merge_json(
        bo,
        &json!({"server": "/var/run/redis/redis.sock", "port": "0", "database": "1",
                "auto_expire_lifetime": 86400, "auto_expire_pattern": "/^/"}),
    );
    want["cache"]["frontend"]["page_cache"] = json!({
        "id_prefix": "shop1_",
        "backend": "Magento\\Framework\\Cache\\Backend\\Redis",
        "backend_options": {"server": "/var/run/redis/redis.sock", "port": "0", "database": "2",
            "password": "", "auto_expire_lifetime": 86400, "auto_expire_pattern": "/^/",
            "compress_data": "0"}
    });
    let mut redis = json!({"host": "/var/run/redis-persistent/redis.sock", "port": "0",
        "password": "", "database": "3"});
    merge_json(&mut redis, &session_defaults());
    want["session"] = json!({"save": "redis", "redis": redis});
    assert_eq!(got, want);

    // Idempotent: planning again changes nothing.
    let again = plan_of(&site, &target()).unwrap();
    assert!(again.is_noop(), "{:?}", again.patches[0].after);
}

#[test]
fn var_export_env_php_of_a_23_git_install_keeps_its_style() {
    let (_tmp, site) = site(ENV_GIT_23, Some("2.3.7"));
    let plan = plan_of(&site, &target()).unwrap();
    let after = &plan.patches[0].after;
    assert!(
        after.contains("      'default' => \n      array (\n        'id_prefix' => 'shop1_',\n        'backend' => 'Cm_Cache_Backend_Redis',\n        'backend_options' => \n        array (\n          'server' => '/var/run/redis/redis.sock',\n"),
        "{after}"
    );
    assert!(after.contains("  'session' => \n  array (\n    'save' => 'redis',\n    'redis' => \n    array (\n      'host' => '/var/run/redis-persistent/redis.sock',\n"), "{after}");
    assert!(after.ends_with("  'MAGE_MODE' => 'developer',\n);\n"));
    if php_available() {
        let path = site.path.join(ENV_PHP);
        let before_json = php_eval(&path);
        write_plan(&plan, WriteOptions { backup: true }).unwrap();
        php_lint(&path);
        let got = php_eval(&path);
        let mut want = before_json;
        for (name, db, compress) in [("default", "1", "1"), ("page_cache", "2", "0")] {
            want["cache"]["frontend"][name] = json!({
                "id_prefix": "shop1_", "backend": "Cm_Cache_Backend_Redis",
                "backend_options": {"server": "/var/run/redis/redis.sock", "port": "0",
                    "database": db, "password": "", "auto_expire_lifetime": 86400,
                    "auto_expire_pattern": "/^/", "compress_data": compress}
            });
        }
        let mut redis = json!({"host": "/var/run/redis-persistent/redis.sock", "port": "0",
            "password": "", "database": "3"});
        merge_json(&mut redis, &session_defaults());
        want["session"] = json!({"save": "redis", "redis": redis});
        assert_eq!(got, want);
        assert!(plan_of(&site, &target()).unwrap().is_noop());
    }
}

#[test]
fn backend_names_follow_the_release_line() {
    assert_eq!(release_line(Some("2.3.7-p4"), false), Some((2, 3)));
    assert_eq!(release_line(Some("103.0.7"), false), Some((2, 4)));
    assert_eq!(release_line(Some("102.0.1"), false), Some((2, 3)));
    assert_eq!(release_line(Some("1.0.4"), true), Some((2, 4)));
    assert_eq!(release_line(Some("dev-main"), false), None);
    assert_eq!(backend_for(None, Some((2, 3))), CM_BACKEND);
    assert_eq!(backend_for(Some(CM_BACKEND), Some((2, 4))), M24_BACKEND);
    assert_eq!(
        backend_for(
            Some("\\Magento\\Framework\\Cache\\Backend\\Redis"),
            Some((2, 4))
        ),
        "\\Magento\\Framework\\Cache\\Backend\\Redis"
    );
    assert_eq!(backend_for(Some("valkey"), Some((2, 4))), "valkey");
    assert_eq!(backend_for(Some("redis"), None), "redis");
    assert_eq!(backend_for(Some("Cm_Cache_Backend_File"), None), CM_BACKEND);
    assert_eq!(id_prefix("shop-one.example:"), "shop_one_example_");
    assert_eq!(id_prefix("a3f_"), "a3f_");
}

#[test]
fn dead_backend_options_are_removed_and_reported() {
    let env = "<?php\nreturn [\n    'cache' => [\n        'frontend' => [\n            'default' => [\n                'backend' => 'Cm_Cache_Backend_Redis',\n                'backend_options' => [\n                    'server' => 'localhost',\n                    'port' => '6379',\n                    'database' => '0',\n                    'id_prefix' => 'shop1_',\n                    'default_lifetime' => 86400,\n                    'lifetimelimit' => 604800,\n                    'compress_data' => '1'\n                ]\n            ]\n        ]\n    ]\n];\n";
    let (_tmp, site) = site(env, Some("2.4.6-p8"));
    let plan = plan_of(&site, &target()).unwrap();
    let after = &plan.patches[0].after;
    assert!(after.contains("                    'database' => '1',\n                    'compress_data' => '1',\n                    'auto_expire_lifetime' => 86400,\n                    'auto_expire_pattern' => '/^/',\n                    'password' => ''\n                ],\n                'id_prefix' => 'shop1_'\n            ]"), "{after}");
    assert!(!after.contains("default_lifetime"));
    assert!(!after.contains("lifetimelimit"), "{after}");
    assert!(
        plan.notes.iter().any(|n| n.contains(
            "removed cache/frontend/default/backend_options/lifetimelimit: Cm_Cache_Backend_Redis parses it but never applies it"
        )),
        "{:?}",
        plan.notes
    );
    assert_eq!(
        after.matches("'id_prefix' => 'shop1_'").count(),
        2,
        "{after}"
    );
    let notes = plan.notes.join("\n");
    assert!(
        notes.contains("removed cache/frontend/default/backend_options/default_lifetime"),
        "{notes}"
    );
    assert!(notes.contains("removed cache/frontend/default/backend_options/id_prefix"));
    if php_available() {
        write_plan(&plan, WriteOptions { backup: false }).unwrap();
        php_lint(&site.path.join(ENV_PHP));
    }
}

#[test]
fn passwords_are_written_masked_and_never_in_the_command() {
    let mut t = target();
    t.cache.password = Some(Secret::new("c'qz\\pw"));
    t.session.password = Some(Secret::new("s3ss10n"));
    let (_tmp, site) = site(ENV_24, Some("2.4.7"));
    let plan = plan_of(&site, &t).unwrap();
    let after = &plan.patches[0].after;
    assert!(after.contains(r"'password' => 'c\'qz\\pw',"), "{after}");
    assert!(after.contains("'password' => 's3ss10n',"));
    let mut diff = Vec::new();
    crate::patch::diff::write_plan(&mut diff, &plan).unwrap();
    let diff = String::from_utf8(diff).unwrap();
    assert!(!diff.contains("s3ss10n") && !diff.contains("qz"), "{diff}");
    let notes = plan.notes.join("\n");
    assert!(notes.contains("--cache-backend-redis-password=\"$RCFG_REDIS_PASSWORD\""));
    assert!(notes.contains("--session-save-redis-password=\"$RCFG_SESSION_REDIS_PASSWORD\""));
    assert!(!notes.contains("s3ss10n"));
    if php_available() {
        write_plan(&plan, WriteOptions { backup: false }).unwrap();
        let got = php_eval(&site.path.join(ENV_PHP));
        assert_eq!(
            got["cache"]["frontend"]["default"]["backend_options"]["password"],
            "c'qz\\pw"
        );
    }
}

#[test]
fn setup_config_set_command_is_in_the_notes() {
    let (_tmp, site) = site(ENV_24, Some("2.4.7"));
    let plan = plan_of(&site, &target()).unwrap();
    let cmd = plan
        .notes
        .iter()
        .find(|n| n.contains("bin/magento setup:config:set"))
        .expect("command note");
    for flag in [
        "--cache-backend=redis",
        "--cache-backend-redis-server=/var/run/redis/redis.sock",
        "--cache-backend-redis-port=0",
        "--cache-backend-redis-db=1",
        "--cache-id-prefix=shop1_",
        "--page-cache=redis",
        "--page-cache-redis-db=2",
        "--session-save=redis",
        "--session-save-redis-host=/var/run/redis-persistent/redis.sock",
        "--session-save-redis-db=3",
    ] {
        assert!(cmd.contains(flag), "{flag} missing in {cmd}");
    }
    assert!(!cmd.contains("password"), "{cmd}");
}

#[test]
fn tcp_endpoints_write_host_and_port() {
    let mut t = target();
    t.cache.transport = Transport::Tcp {
        host: "10.0.0.5".into(),
        port: 6380,
    };
    let (_tmp, site) = site(ENV_24, Some("2.4.7"));
    let after = plan_of(&site, &t).unwrap().patches[0].after.clone();
    assert!(after.contains("'server' => '10.0.0.5',"));
    assert!(after.contains("'port' => '6380',"));
}

fn refusal(env: &str) -> String {
    let (_tmp, site) = site(env, Some("2.4.7"));
    format!("{:#}", plan_of(&site, &target()).unwrap_err())
}

#[test]
fn env_php_that_is_not_a_plain_array_is_refused() {
    let err = refusal("<?php\n$cfg = include __DIR__ . '/env.base.php';\nreturn $cfg;\n");
    assert!(
        err.contains("env.php:2") && err.contains("includes another file"),
        "{err}"
    );
    assert!(err.contains("nothing written"), "{err}");
    let err = refusal("<?php\n$c = ['a' => 1];\nreturn $c;\n");
    assert!(
        err.contains("env.php:3") && err.contains("returns $c, not a literal array"),
        "{err}"
    );
    let err = refusal("<?php\n// nothing here\n");
    assert!(err.contains("no `return [ … ];`"), "{err}");
    let err = refusal("<?php\nif (getenv('X')) {\n    return ['a' => 1];\n}\nreturn [];\n");
    assert!(err.contains("conditionally"), "{err}");
    let err = refusal(
        "<?php\nreturn [\n    'cache' => [\n        'frontend' => [\n            'default' => [\n                'backend_options' => [\n                    'server' => getenv('REDIS_HOST')\n                ]\n            ]\n        ]\n    ]\n];\n",
    );
    assert!(
        err.contains("env.php:7")
            && err.contains(
                "'cache/frontend/default/backend_options/server' is computed (getenv('REDIS_HOST'))"
            ),
        "{err}"
    );
    let err = refusal("<?php\nreturn [\n    'session' => SESSION_CONFIG\n];\n");
    assert!(
        err.contains("'session' is computed (SESSION_CONFIG)"),
        "{err}"
    );
    let err = refusal("<?php\nreturn [\n    'a' => 1,\n");
    assert!(err.contains("cannot read env.php as PHP"), "{err}");
}

#[test]
fn magento_1_and_missing_env_php_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let m1 = Site::new(tmp.path(), Cms::Magento1, "magento1").unsupported(
        "Magento 1 / OpenMage keeps its config in app/etc/local.xml; rcfg does not patch it",
    );
    let err = format!("{:#}", plan_of(&m1, &target()).unwrap_err());
    assert!(
        err.contains("local.xml") && err.contains("nothing written"),
        "{err}"
    );
    let m2 = Site::new(tmp.path(), Cms::Magento2, "git");
    let err = format!("{:#}", plan_of(&m2, &target()).unwrap_err());
    assert!(err.contains("app/etc/env.php: not found"), "{err}");
}

#[test]
fn env_php_changed_after_planning_is_not_overwritten() {
    let (_tmp, site) = site(ENV_24, Some("2.4.7"));
    let plan = plan_of(&site, &target()).unwrap();
    let path = site.path.join(ENV_PHP);
    let edited = ENV_24.replace("'MAGE_MODE' => 'production'", "'MAGE_MODE' => 'developer'");
    std::fs::write(&path, &edited).unwrap();
    let err = format!(
        "{:#}",
        write_plan(&plan, WriteOptions { backup: true }).unwrap_err()
    );
    assert!(err.contains("changed on disk"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited);
    assert!(!crate::patch::write::backup_path(&path).exists());
}

#[test]
fn the_diff_applies_with_git_from_the_site_root() {
    let (_tmp, site) = site(ENV_GIT_23, Some("2.3.7"));
    let plan = plan_of(&site, &target()).unwrap();
    let mut diff = Vec::new();
    crate::patch::diff::write_plan(&mut diff, &plan).unwrap();
    let patch = site.path.join("rcfg.patch");
    std::fs::write(&patch, &diff).unwrap();
    let out = Command::new("git")
        .args(["apply", "--check", "rcfg.patch"])
        .current_dir(&site.path)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_minimal_one_line_env_php_gets_every_section() {
    let (_tmp, site) = site(
        "<?php\nreturn ['MAGE_MODE' => 'production'];\n",
        Some("2.4.7"),
    );
    let plan = plan_of(&site, &target()).unwrap();
    if php_available() {
        let path = site.path.join(ENV_PHP);
        write_plan(&plan, WriteOptions { backup: false }).unwrap();
        php_lint(&path);
        let got = php_eval(&path);
        assert_eq!(got["MAGE_MODE"], "production");
        assert_eq!(
            got["cache"]["frontend"]["default"]["backend_options"]["database"],
            "1"
        );
        assert_eq!(
            got["cache"]["frontend"]["page_cache"]["backend_options"]["database"],
            "2"
        );
        assert_eq!(got["session"]["redis"]["database"], "3");
        assert!(plan_of(&site, &target()).unwrap().is_noop());
    }
}
