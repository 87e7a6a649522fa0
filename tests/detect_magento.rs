//! `rcfg detect` on the Magento fixtures: recognition, version, layout, every normalised
//! Redis value with its env.php line, the Magento lints, and broken env.php files.

mod common;

use common::{copy_fixture, json_of, rcfg};
use serde_json::{Value, json};

/// Run `rcfg detect <path> --format json`; returns (exit code, whole JSON).
fn detect(path: &str) -> (i32, Value) {
    let out = rcfg()
        .args(["detect", path, "--format", "json"])
        .output()
        .unwrap();
    (out.status.code().unwrap(), json_of(&out))
}

fn site(v: &Value) -> &Value {
    let sites = v["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1, "{v:#}");
    &sites[0]
}

/// `{ "path": …, "line": … }` of a value.
fn at(v: &Value) -> (String, u64) {
    (
        v["at"]["path"].as_str().unwrap().to_string(),
        v["at"]["line"].as_u64().unwrap(),
    )
}

fn setting<'a>(list: &'a Value, key: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no setting {key} in {list:#}"))
}

/// (code, line) of every lint, in order.
fn lints(site: &Value) -> Vec<(String, u64)> {
    site["lints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_string(),
                l["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn config_paths(site: &Value) -> Vec<&str> {
    site["config_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect()
}

#[test]
fn magento2_git_clone_with_file_cache() {
    let (code, v) = detect("fixtures/magento2-git");
    let s = site(&v);
    assert_eq!(code, 0);
    assert_eq!(s["cms"], "magento2");
    assert_eq!(s["version"], "2.4.6");
    assert_eq!(s["layout"], "git");
    assert_eq!(s["docroot"], "fixtures/magento2-git/pub");
    assert_eq!(s["supported"], true);
    assert_eq!(
        config_paths(s),
        [
            "fixtures/magento2-git/app/etc/env.php",
            "fixtures/magento2-git/app/etc/config.php"
        ]
    );
    assert_eq!(s["redis"]["configured"], false);
    assert_eq!(s["redis"]["cache"], Value::Null);
    assert_eq!(s["redis"]["sessions"], Value::Null);
    assert!(s["lints"].as_array().unwrap().is_empty());
    assert!(v["errors"].as_array().unwrap().is_empty());
}

#[test]
fn magento2_composer_with_redis_cache_page_cache_and_sessions() {
    let (code, v) = detect("fixtures/magento2-composer-redis");
    let s = site(&v);
    let env = "fixtures/magento2-composer-redis/app/etc/env.php";
    assert_eq!(code, 0, "only a warning and an info lint: {v:#}");
    assert_eq!(s["cms"], "magento2");
    assert_eq!(s["version"], "2.4.7-p3");
    assert_eq!(s["layout"], "composer");
    assert_eq!(s["docroot"], "fixtures/magento2-composer-redis/pub");
    assert_eq!(s["supported"], true);
    assert_eq!(
        config_paths(s),
        [env, "fixtures/magento2-composer-redis/app/etc/config.php"]
    );
    let r = &s["redis"];
    assert_eq!(r["configured"], true);
    assert_eq!(r["components"], json!([]));

    let cache = &r["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "unix", "path": "/var/run/redis/redis.sock"})
    );
    assert_eq!(at(&cache["transport"]), (env.into(), 15));
    assert_eq!(cache["database"]["value"], 0);
    assert_eq!(at(&cache["database"]), (env.into(), 16));
    assert_eq!(cache["prefix"]["value"], "a3f_");
    assert_eq!(at(&cache["prefix"]), (env.into(), 12));
    assert_eq!(cache["password_set"], false);
    let ttl = &cache["ttl"];
    assert_eq!(setting(ttl, "auto_expire_lifetime")["value"], 86400);
    assert_eq!(at(setting(ttl, "auto_expire_lifetime")), (env.into(), 22));
    assert_eq!(setting(ttl, "auto_expire_pattern")["value"], "/^A3F_/");
    assert_eq!(at(setting(ttl, "auto_expire_pattern")), (env.into(), 23));
    let opts = &cache["options"];
    assert_eq!(
        setting(opts, "backend")["value"],
        "Magento\\Framework\\Cache\\Backend\\Redis"
    );
    assert_eq!(at(setting(opts, "backend")), (env.into(), 13));
    assert_eq!(setting(opts, "use_lua")["value"], "0");
    assert_eq!(at(setting(opts, "use_lua")), (env.into(), 21));
    assert_eq!(setting(opts, "compress_data")["value"], "1");
    assert_eq!(at(setting(opts, "compress_data")), (env.into(), 19));

    let page = &r["page_cache"];
    assert_eq!(
        page["transport"]["value"],
        json!({"kind": "tcp", "host": "127.0.0.1", "port": 6379})
    );
    assert_eq!(at(&page["transport"]), (env.into(), 30));
    assert_eq!(page["database"]["value"], 1);
    assert_eq!(at(&page["database"]), (env.into(), 31));
    assert_eq!(page["prefix"]["value"], "a3f_");
    assert_eq!(at(&page["prefix"]), (env.into(), 27));
    assert_eq!(page["ttl"], json!([]));

    let sess = &r["sessions"];
    assert_eq!(
        sess["transport"]["value"],
        json!({"kind": "tcp", "host": "127.0.0.1", "port": 6378})
    );
    assert_eq!(at(&sess["transport"]), (env.into(), 78));
    assert_eq!(sess["database"]["value"], 2);
    assert_eq!(at(&sess["database"]), (env.into(), 83));
    assert_eq!(sess["password_set"], true);
    assert!(
        !v.to_string().contains("sessions-secret"),
        "the password must never be output"
    );
    for (key, value, line) in [
        ("min_lifetime", "60", 94),
        ("max_lifetime", "2592000", 95),
        ("first_lifetime", "600", 90),
        ("bot_lifetime", "7200", 92),
    ] {
        let t = setting(&sess["ttl"], key);
        assert_eq!(t["value"], value, "{key}");
        assert_eq!(at(t), (env.into(), line), "{key}");
    }

    assert_eq!(
        lints(s),
        [
            ("magento-no-lifetime-bound".to_string(), 28),
            ("magento-session-max-lifetime-ignored".to_string(), 95),
        ]
    );
    let info = &s["lints"][1];
    assert_eq!(info["severity"], "info");
    assert_eq!(info["location"]["path"], env);
}

#[test]
fn magento2_lints_for_options_that_do_nothing() {
    let (code, v) = detect("fixtures/magento2-lints");
    let s = site(&v);
    let env = "fixtures/magento2-lints/app/etc/env.php";
    assert_eq!(code, 1, "error-level lints exit 1");
    assert_eq!(s["version"], "2.4.6-p8");
    assert_eq!(s["layout"], "composer");
    let cache = &s["redis"]["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "tcp", "host": "localhost", "port": 6379})
    );
    // id_prefix sits inside backend_options, where it does nothing: no prefix.
    assert_eq!(cache["prefix"], Value::Null);
    assert_eq!(setting(&cache["ttl"], "lifetimelimit")["value"], 604800);
    assert_eq!(
        at(setting(&cache["ttl"], "lifetimelimit")),
        (env.into(), 16)
    );
    assert_eq!(
        setting(&s["redis"]["page_cache"]["options"], "backend")["value"],
        "\\Magento\\Framework\\Cache\\Backend\\Redis"
    );
    assert_eq!(s["redis"]["sessions"], Value::Null);
    let l = |c: &str, n: u64| (c.to_string(), n);
    assert_eq!(
        lints(s),
        [
            l("magento-no-lifetime-bound", 9),
            l("magento-backend-option-ignored", 14),
            l("magento-backend-option-ignored", 15),
            l("magento-lifetimelimit-no-effect", 16),
            l("magento-backend-option-ignored", 27),
            l("magento-backend-option-ignored", 28),
            l("magento-auto-expire-without-pattern", 29),
        ]
    );
    let msgs: Vec<&str> = s["lints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["message"].as_str().unwrap())
        .collect();
    assert!(msgs[1].contains("id_prefix"), "{}", msgs[1]);
    assert!(msgs[2].contains("default_lifetime"), "{}", msgs[2]);
    assert!(msgs[4].contains("min_lifetime"), "{}", msgs[4]);
    assert!(msgs[5].contains("max_lifetime"), "{}", msgs[5]);
    assert_eq!(s["lints"][1]["severity"], "error");
    assert_eq!(s["lints"][1]["location"]["path"], env);
}

#[test]
fn magento2_mage_os_with_valkey_over_tls() {
    let (code, v) = detect("fixtures/magento2-mageos");
    let s = site(&v);
    let env = "fixtures/magento2-mageos/app/etc/env.php";
    assert_eq!(code, 0);
    assert_eq!(s["cms"], "magento2");
    assert_eq!(s["version"], "1.0.6");
    assert_eq!(s["layout"], "composer");
    let cache = &s["redis"]["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "tls", "host": "valkey.internal", "port": 6380})
    );
    assert_eq!(at(&cache["transport"]), (env.into(), 12));
    assert_eq!(cache["database"]["value"], 3);
    assert_eq!(cache["password_set"], true);
    assert_eq!(setting(&cache["options"], "backend")["value"], "valkey");
    assert_eq!(s["redis"]["sessions"], Value::Null, "session save is db");
    assert!(lints(s).is_empty());
}

#[test]
fn magento1_openmage_is_recognised_and_unsupported() {
    let (code, v) = detect("fixtures/magento1");
    let s = site(&v);
    assert_eq!(code, 0);
    assert_eq!(s["cms"], "magento1");
    assert_eq!(s["version"], "1.9.4.5");
    assert_eq!(s["layout"], "magento1");
    assert_eq!(s["supported"], false);
    assert_eq!(
        s["unsupported_reason"],
        "Magento 1 / OpenMage is recognised but not supported by apply"
    );
    assert_eq!(
        config_paths(s),
        ["fixtures/magento1/app/etc/local.xml.template"]
    );
    assert_eq!(s["redis"]["configured"], false);
    assert!(
        s["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["why"] == "OpenMage 20.10.2")
    );
}

/// Run detect on a temp copy whose env.php is replaced by `env`; returns (code, json).
fn detect_with_env(env: &[u8]) -> (i32, Value, String) {
    let (_tmp, root) = copy_fixture("magento2-composer-redis");
    let env_path = root.join("app/etc/env.php");
    std::fs::write(&env_path, env).unwrap();
    let (code, v) = detect(root.to_str().unwrap());
    (code, v, env_path.to_string_lossy().into_owned())
}

fn only_error(v: &Value) -> (&str, &str) {
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v:#}");
    (
        errors[0]["path"].as_str().unwrap(),
        errors[0]["message"].as_str().unwrap(),
    )
}

#[test]
fn broken_env_php_is_an_error_naming_file_and_line() {
    let (code, v, env) = detect_with_env(
        b"<?php\nreturn [\n    'cache' => [\n        'frontend' => [\n            'default' => ['backend' => 'Cm_Cache_Backend_Redis'\n    ],\n];\n",
    );
    assert_eq!(code, 2);
    let s = site(&v);
    assert_eq!(s["cms"], "magento2", "the site is still reported");
    assert_eq!(s["version"], "2.4.7-p3");
    assert_eq!(s["redis"]["configured"], false);
    let (path, msg) = only_error(&v);
    assert_eq!(path, env);
    assert!(msg.starts_with("line "), "{msg}");
    assert!(msg.contains("syntax error"), "{msg}");
}

#[test]
fn env_php_with_computed_values_is_reported_and_literals_still_read() {
    let (code, v, env) = detect_with_env(
        b"<?php\nreturn [\n    'session' => [\n        'save' => 'redis',\n        'redis' => [\n            'host' => getenv('REDIS_HOST') ?: '127.0.0.1',\n            'database' => '2',\n        ],\n    ],\n];\n",
    );
    assert_eq!(code, 2);
    let (path, msg) = only_error(&v);
    assert_eq!(path, env);
    assert!(msg.starts_with("line 6:"), "{msg}");
    assert!(msg.contains("session/redis/host"), "{msg}");
    assert!(msg.contains("computed"), "{msg}");
    let sess = &site(&v)["redis"]["sessions"];
    assert_eq!(sess["database"]["value"], 2);
    assert_eq!(sess["transport"], Value::Null);
}

#[test]
fn env_php_that_includes_or_returns_a_call_is_reported() {
    let (code, v, env) = detect_with_env(
        b"<?php\n$base = require __DIR__ . '/env.base.php';\nreturn array_replace_recursive($base, ['MAGE_MODE' => 'production']);\n",
    );
    assert_eq!(code, 2);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{v:#}");
    assert!(errors.iter().all(|e| e["path"] == env.as_str()));
    let msgs: Vec<&str> = errors
        .iter()
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(
        msgs[0].starts_with("line 2:") && msgs[0].contains("include"),
        "{msgs:?}"
    );
    assert!(
        msgs[1].starts_with("line 3:") && msgs[1].contains("not an array literal"),
        "{msgs:?}"
    );
}

#[test]
fn env_php_without_return_is_reported() {
    let (code, v, env) = detect_with_env(b"<?php\n$config = ['MAGE_MODE' => 'production'];\n");
    assert_eq!(code, 2);
    let (path, msg) = only_error(&v);
    assert_eq!(path, env);
    assert!(msg.contains("return"), "{msg}");
}

#[test]
fn non_utf8_env_php_is_reported() {
    let (code, v, env) = detect_with_env(b"<?php\nreturn ['MAGE_MODE' => 'produ\xe7tion'];\n");
    assert_eq!(code, 2);
    let (path, msg) = only_error(&v);
    assert_eq!(path, env);
    assert!(msg.contains("not valid UTF-8"), "{msg}");
    assert_eq!(site(&v)["cms"], "magento2");
}

#[test]
fn broken_env_php_does_not_hide_other_sites() {
    let (_tmp, root) = copy_fixture("magento2-composer-redis");
    std::fs::write(root.join("app/etc/env.php"), "<?php\nreturn [\n").unwrap();
    let out = rcfg()
        .args([
            "detect",
            root.to_str().unwrap(),
            "fixtures/magento2-git",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v = json_of(&out);
    let sites = v["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[1]["cms"], "magento2");
    assert_eq!(sites[1]["version"], "2.4.6");
    assert_eq!(v["errors"].as_array().unwrap().len(), 1);
}

#[test]
fn version_falls_back_to_installed_json() {
    let (_tmp, root) = copy_fixture("magento2-composer-redis");
    std::fs::remove_file(root.join("composer.lock")).unwrap();
    // composer v1 form: a bare array.
    std::fs::write(
        root.join("vendor/composer/installed.json"),
        r#"[{"name": "magento/magento2-base", "version": "2.4.5-p1"}]"#,
    )
    .unwrap();
    let (_, v) = detect(root.to_str().unwrap());
    assert_eq!(site(&v)["version"], "2.4.5-p1");
    // composer v2 form: {"packages": [...]}.
    std::fs::write(
        root.join("vendor/composer/installed.json"),
        r#"{"packages": [{"name": "magento/framework", "version": "103.0.5"}], "dev": false}"#,
    )
    .unwrap();
    let (_, v) = detect(root.to_str().unwrap());
    assert_eq!(site(&v)["version"], "103.0.5");
}
