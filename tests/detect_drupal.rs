//! `rcfg detect` on the Drupal fixtures: layout, web root, version, every settings file
//! followed through includes, normalised Redis values with file and line, the redis module
//! line, lints, exit codes; Drupal 7; bad input.

mod common;

use common::site_json::{at, lints, only_site, setting};

use serde_json::Value;

fn detect(path: &str) -> (Value, i32) {
    let out = common::rcfg()
        .args(["detect", path, "--format", "json"])
        .output()
        .unwrap();
    (common::json_of(&out), out.status.code().unwrap())
}

/// (path, role) of every config file.
fn config_files(site: &Value) -> Vec<(&str, &str)> {
    site["config_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["path"].as_str().unwrap(), c["role"].as_str().unwrap()))
        .collect()
}

fn keys(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect()
}

#[test]
fn classic_without_redis() {
    let (json, code) = detect("fixtures/drupal-classic");
    let site = only_site(&json);
    assert_eq!(site["cms"], "drupal");
    assert_eq!(
        site["version"], "10.2.5",
        "const VERSION in core/lib/Drupal.php"
    );
    assert_eq!(site["layout"], "classic");
    assert_eq!(site["docroot"], Value::Null);
    assert_eq!(site["supported"], true);
    assert_eq!(
        config_files(site),
        [(
            "fixtures/drupal-classic/sites/default/settings.php",
            "settings"
        )]
    );
    assert_eq!(site["redis"]["configured"], false);
    assert_eq!(site["redis"]["cache"], Value::Null);
    assert_eq!(site["redis"]["sessions"], Value::Null);
    assert_eq!(site["redis"]["components"].as_array().unwrap().len(), 0);
    assert!(lints(site).is_empty());
    assert_eq!(code, 0);
}

#[test]
fn classic_redis_1x_through_settings_redis_include() {
    let (json, code) = detect("fixtures/drupal-classic-redis");
    let site = only_site(&json);
    let inc = "fixtures/drupal-classic-redis/sites/default/settings.redis.php";
    assert_eq!(site["version"], "10.2.7");
    assert_eq!(site["layout"], "classic", "legacy-project: web-root ./");
    assert_eq!(site["docroot"], Value::Null);
    assert_eq!(
        config_files(site),
        [
            (
                "fixtures/drupal-classic-redis/sites/default/settings.php",
                "settings"
            ),
            (inc, "settings-include"),
        ]
    );
    assert_eq!(site["redis"]["configured"], true);
    let comp = &site["redis"]["components"][0];
    assert_eq!(comp["name"], "drupal/redis");
    assert_eq!(comp["version"], "8.x-1.7", "from redis.info.yml");
    assert_eq!(
        comp["path"],
        "fixtures/drupal-classic-redis/modules/contrib/redis"
    );
    let cache = &site["redis"]["cache"];
    assert_eq!(cache["transport"]["value"]["kind"], "unix");
    assert_eq!(
        cache["transport"]["value"]["path"],
        "/var/run/redis/redis.sock"
    );
    assert_eq!(at(&cache["transport"]), (inc, 13));
    assert_eq!(cache["database"]["value"], 1);
    assert_eq!(at(&cache["database"]), (inc, 15));
    assert_eq!(cache["prefix"]["value"], "classic_");
    assert_eq!(at(&cache["prefix"]), (inc, 18));
    assert_eq!(cache["password_set"], false);
    assert_eq!(
        keys(&cache["ttl"]),
        [
            "redis.settings.perm_ttl_render",
            "redis.settings.perm_ttl_page"
        ]
    );
    let render = setting(&cache["ttl"], "redis.settings.perm_ttl_render");
    assert_eq!(
        (render["value"].as_i64(), at(render)),
        (Some(86400), (inc, 20))
    );
    let page = setting(&cache["ttl"], "redis.settings.perm_ttl_page");
    assert_eq!(
        (page["value"].as_str(), at(page)),
        (Some("2 hours"), (inc, 21))
    );
    let backend = setting(&cache["options"], "cache.default");
    assert_eq!(
        (backend["value"].as_str(), at(backend)),
        (Some("cache.backend.redis"), (inc, 17))
    );
    let yml = setting(&cache["options"], "container_yamls");
    assert_eq!(yml["value"], "modules/contrib/redis/example.services.yml");
    assert_eq!(
        setting(&cache["options"], "redis.connection.interface")["value"],
        "PhpRedis"
    );
    assert!(lints(site).is_empty(), "{:?}", lints(site));
    assert_eq!(code, 0);
}

#[test]
fn composer_web_root_redis_2x_through_settings_local() {
    let out = common::rcfg()
        .args(["detect", "fixtures/drupal-composer", "--format", "json"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("c0mp0ser-redis"),
        "the password never appears"
    );
    let json = common::json_of(&out);
    let site = only_site(&json);
    let local = "fixtures/drupal-composer/web/sites/default/settings.local.php";
    assert_eq!(site["layout"], "composer");
    assert_eq!(site["path"], "fixtures/drupal-composer");
    assert_eq!(site["docroot"], "fixtures/drupal-composer/web");
    assert_eq!(site["version"], "10.3.1");
    assert_eq!(
        config_files(site),
        [
            (
                "fixtures/drupal-composer/web/sites/default/settings.php",
                "settings"
            ),
            (local, "settings-include"),
        ]
    );
    let comp = &site["redis"]["components"][0];
    assert_eq!(
        (comp["name"].as_str(), comp["version"].as_str()),
        (Some("drupal/redis"), Some("2.0.0"))
    );
    assert_eq!(site["redis"]["configured"], true);
    let cache = &site["redis"]["cache"];
    assert_eq!(cache["transport"]["value"]["kind"], "tcp");
    assert_eq!(cache["transport"]["value"]["host"], "127.0.0.1");
    assert_eq!(cache["transport"]["value"]["port"], 6379);
    assert_eq!(at(&cache["transport"]), (local, 12));
    assert_eq!(cache["database"]["value"], 3);
    assert_eq!(at(&cache["database"]), (local, 14));
    assert_eq!(cache["password_set"], true);
    // settings.local.php is included after `cache_prefix = 'old_'` and overrides it.
    assert_eq!(cache["prefix"]["value"], "composer_");
    assert_eq!(at(&cache["prefix"]), (local, 18));
    let ttl = setting(&cache["ttl"], "redis_perm_ttl_render");
    assert_eq!(
        (ttl["value"].as_i64(), at(ttl)),
        (Some(172800), (local, 19))
    );
    let off = setting(&cache["ttl"], "redis_ttl_offset");
    assert_eq!((off["value"].as_i64(), at(off)), (Some(3600), (local, 20)));
    assert!(lints(site).is_empty(), "{:?}", lints(site));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn docroot_layout_and_every_drupal_lint() {
    let (json, code) = detect("fixtures/drupal-docroot-lints");
    let site = only_site(&json);
    let inc = "fixtures/drupal-docroot-lints/docroot/sites/default/settings.redis.php";
    assert_eq!(site["layout"], "composer");
    assert_eq!(site["docroot"], "fixtures/drupal-docroot-lints/docroot");
    assert_eq!(site["version"], "9.5.11");
    assert_eq!(site["redis"]["components"][0]["version"], "1.7.0");
    assert_eq!(
        config_files(site)[1],
        (inc, "settings-include"),
        "DRUPAL_ROOT . '/' . $site_path include resolved"
    );
    let mut got = lints(site);
    got.sort_by_key(|l| l.3);
    assert_eq!(
        got,
        [
            ("drupal-redis-cache-socket", "error", inc, 8),
            ("drupal-redis-not-default-backend", "info", inc, 9),
            ("drupal-socket-port-not-zero", "warning", inc, 11),
            ("drupal-perm-ttl-d7-key", "error", inc, 17),
            ("drupal-perm-ttl-d7-key", "error", inc, 18),
            ("drupal-perm-ttl-d7-key", "error", inc, 19),
            ("drupal-perm-ttl-wrong-module-version", "warning", inc, 20),
            ("drupal-perm-ttl-days-string", "warning", inc, 21),
        ]
    );
    // A bin mapped to Redis counts as configured.
    assert_eq!(site["redis"]["configured"], true);
    let cache = &site["redis"]["cache"];
    assert_eq!(at(&cache["transport"]), (inc, 10));
    // The 2.x key is not in effect with the 1.x module; the D7 keys never are.
    assert_eq!(keys(&cache["ttl"]), ["redis.settings.perm_ttl_data"]);
    assert_eq!(code, 1);
}

#[test]
fn perm_ttl_days_string_is_fine_on_2x() {
    let (_tmp, root) = common::copy_fixture("drupal-composer");
    let local = root.join("web/sites/default/settings.local.php");
    let mut text = std::fs::read_to_string(&local).unwrap();
    text.push_str("$settings['redis.settings']['perm_ttl_data'] = '3 days';\n");
    std::fs::write(&local, text).unwrap();
    let (json, code) = detect(root.to_str().unwrap());
    let site = only_site(&json);
    assert!(
        lints(site).is_empty(),
        "2.x reads the old key and counts days: {:?}",
        lints(site)
    );
    let ttl = setting(
        &site["redis"]["cache"]["ttl"],
        "redis.settings.perm_ttl_data",
    );
    assert_eq!(at(ttl).1, 22);
    assert_eq!(code, 0);
}

#[test]
fn version_falls_back_to_drupal_php_and_info_yml() {
    let (_tmp, root) = common::copy_fixture("drupal-composer");
    std::fs::remove_file(root.join("composer.lock")).unwrap();
    let dp = root.join("web/core/lib/Drupal.php");
    let text = std::fs::read_to_string(&dp).unwrap();
    std::fs::write(&dp, text.replace("'10.3.1'", "'10.3.2'")).unwrap();
    let (json, _) = detect(root.to_str().unwrap());
    let site = only_site(&json);
    assert_eq!(site["version"], "10.3.2");
    assert_eq!(site["redis"]["components"][0]["version"], "2.0.0");
}

#[test]
fn drupal7_is_recognised_but_unsupported() {
    let (json, code) = detect("fixtures/drupal7");
    let site = only_site(&json);
    let cfg = "fixtures/drupal7/sites/default/settings.php";
    assert_eq!(site["cms"], "drupal");
    assert_eq!(site["layout"], "drupal7");
    assert_eq!(site["version"], "7.98");
    assert_eq!(site["supported"], false);
    assert_eq!(
        site["unsupported_reason"],
        "Drupal 7 is recognised but not supported by apply"
    );
    assert_eq!(site["redis"]["configured"], true);
    assert_eq!(site["redis"]["components"][0]["version"], "7.x-3.19");
    let cache = &site["redis"]["cache"];
    assert_eq!(
        cache["transport"]["value"]["path"],
        "/var/run/redis/redis.sock"
    );
    assert_eq!(at(&cache["transport"]), (cfg, 31));
    assert_eq!(cache["database"]["value"], 6);
    assert_eq!(at(&cache["database"]), (cfg, 32));
    assert_eq!(cache["prefix"]["value"], "legacy_");
    // On Drupal 7 redis_perm_ttl is the real key: no lint.
    assert_eq!(setting(&cache["ttl"], "redis_perm_ttl")["value"], 0);
    assert!(lints(site).is_empty());
    assert_eq!(code, 0);
}

#[test]
fn composer_root_is_the_site_not_its_web_root() {
    for (fixture, docroot) in [
        ("drupal-composer", "web"),
        ("drupal-docroot-lints", "docroot"),
    ] {
        let out = common::rcfg()
            .args([
                "detect",
                "--root",
                &format!("fixtures/{fixture}"),
                "--depth",
                "3",
                "--format",
                "json",
            ])
            .output()
            .unwrap();
        let json = common::json_of(&out);
        let site = only_site(&json);
        assert_eq!(site["path"], format!("fixtures/{fixture}"));
        assert_eq!(site["docroot"], format!("fixtures/{fixture}/{docroot}"));
    }
}

#[test]
fn broken_settings_php_is_an_error_naming_file_and_line() {
    let (_tmp, root) = common::copy_fixture("drupal-classic-redis");
    let settings = root.join("sites/default/settings.php");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    text.push_str("$settings['cache']['default'] = ['cache.backend.redis';\n");
    let bad_line = text.lines().count();
    std::fs::write(&settings, text).unwrap();
    let (json, code) = detect(root.to_str().unwrap());
    assert_eq!(code, 2);
    let err = &json["errors"][0];
    assert_eq!(err["path"], settings.to_str().unwrap());
    let msg = err["message"].as_str().unwrap();
    assert!(msg.starts_with(&format!("line {bad_line}:")), "{msg}");
    assert!(msg.contains("never closed"), "{msg}");
    // Still a Drupal site with its version and module.
    let site = only_site(&json);
    assert_eq!(site["cms"], "drupal");
    assert_eq!(site["version"], "10.2.7");
    assert_eq!(site["redis"]["components"][0]["name"], "drupal/redis");
}

#[test]
fn non_utf8_included_settings_file_is_named() {
    let (_tmp, root) = common::copy_fixture("drupal-composer");
    let local = root.join("web/sites/default/settings.local.php");
    std::fs::write(&local, b"<?php\n$settings['cache_prefix'] = 'caf\xe9';\n").unwrap();
    let (json, code) = detect(root.to_str().unwrap());
    assert_eq!(code, 2);
    let err = &json["errors"][0];
    assert_eq!(err["path"], local.to_str().unwrap());
    assert!(err["message"].as_str().unwrap().contains("not valid UTF-8"));
    // The site is still reported; the unreadable include is listed but contributes nothing.
    let site = only_site(&json);
    assert_eq!(site["cms"], "drupal");
    assert_eq!(
        config_files(site)[1],
        (local.to_str().unwrap(), "settings-include")
    );
    assert_eq!(site["redis"]["configured"], false);
}

#[test]
fn composer_projects_that_are_not_drupal_are_not_drupal() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("laravel");
    std::fs::create_dir_all(app.join("public")).unwrap();
    std::fs::write(
        app.join("composer.json"),
        r#"{"name": "laravel/laravel", "require": {"laravel/framework": "^11.0", "predis/predis": "^2.2"}}"#,
    )
    .unwrap();
    std::fs::write(
        app.join("public/index.php"),
        "<?php\nrequire __DIR__.'/../vendor/autoload.php';\n",
    )
    .unwrap();
    let (json, code) = detect(app.to_str().unwrap());
    assert_eq!(only_site(&json)["cms"], "unknown");
    assert_eq!(code, 0);
}

#[test]
fn broken_composer_json_still_finds_the_web_root() {
    let (_tmp, root) = common::copy_fixture("drupal-composer");
    std::fs::write(
        root.join("composer.json"),
        "{ \"name\": \"drupal/recommended-project\",\n",
    )
    .unwrap();
    let (json, _) = detect(root.to_str().unwrap());
    let site = only_site(&json);
    assert_eq!(site["cms"], "drupal");
    assert_eq!(site["layout"], "composer");
    assert_eq!(site["docroot"], root.join("web").to_str().unwrap());
    assert_eq!(site["redis"]["configured"], true);
}

#[test]
fn host_from_getenv_leaves_the_endpoint_unknown() {
    let (_tmp, root) = common::copy_fixture("drupal-composer");
    let local = root.join("web/sites/default/settings.local.php");
    let text = std::fs::read_to_string(&local).unwrap();
    std::fs::write(
        &local,
        text.replace("'host' => '127.0.0.1',", "'host' => getenv('REDIS_HOST'),"),
    )
    .unwrap();
    let (json, code) = detect(root.to_str().unwrap());
    let cache = &only_site(&json)["redis"]["cache"];
    assert_eq!(cache["transport"], Value::Null, "not the 127.0.0.1 default");
    assert_eq!(cache["database"]["value"], 3);
    assert_eq!(code, 0);
}
