//! `rcfg detect` on the WordPress fixtures: layout, version, config files, every normalised
//! Redis value with its file and line, components, lints and exit codes; bad input.

mod common;

use common::site_json::{at, lints, only_site, setting};

use serde_json::Value;

/// Run `rcfg detect <path> --format json` plus `extra` flags; JSON and exit code.
fn detect_with(path: &str, extra: &[&str]) -> (Value, i32) {
    let out = common::rcfg()
        .args(["detect", path, "--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    (common::json_of(&out), out.status.code().unwrap())
}

fn detect(path: &str) -> (Value, i32) {
    detect_with(path, &[])
}

/// `rcfg detect --root <root> --depth <depth> --format json`.
fn detect_root(root: &str, depth: &str) -> Value {
    let out = common::rcfg()
        .args([
            "detect", "--root", root, "--depth", depth, "--format", "json",
        ])
        .output()
        .unwrap();
    common::json_of(&out)
}

fn config_files(site: &Value) -> Vec<&str> {
    site["config_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["path"].as_str().unwrap())
        .collect()
}

fn components(site: &Value) -> Vec<(&str, Option<&str>, &str)> {
    site["redis"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["version"].as_str(),
                c["path"].as_str().unwrap(),
            )
        })
        .collect()
}

#[test]
fn classic_without_redis() {
    let (json, code) = detect("fixtures/wordpress-classic");
    let site = only_site(&json);
    assert_eq!(site["cms"], "wordpress");
    assert_eq!(site["version"], "6.4.3");
    assert_eq!(site["layout"], "classic");
    assert_eq!(site["docroot"], Value::Null);
    assert_eq!(site["supported"], true);
    assert_eq!(
        config_files(site),
        ["fixtures/wordpress-classic/wp-config.php"]
    );
    assert_eq!(site["redis"]["configured"], false);
    assert_eq!(site["redis"]["cache"], Value::Null);
    assert_eq!(site["redis"]["sessions"], Value::Null);
    assert!(components(site).is_empty());
    assert!(lints(site).is_empty());
    assert_eq!(json["errors"].as_array().unwrap().len(), 0);
    assert_eq!(code, 0);
}

#[test]
fn classic_with_redis_object_cache_socket() {
    let (json, code) = detect("fixtures/wordpress-classic-redis");
    let site = only_site(&json);
    let cfg = "fixtures/wordpress-classic-redis/wp-config.php";
    assert_eq!(site["version"], "6.5.5");
    assert_eq!(site["redis"]["configured"], true);
    let cache = &site["redis"]["cache"];
    assert_eq!(cache["transport"]["value"]["kind"], "unix");
    assert_eq!(
        cache["transport"]["value"]["path"],
        "/var/run/redis/redis.sock"
    );
    assert_eq!(at(&cache["transport"]), (cfg, 41), "WP_REDIS_PATH line");
    assert_eq!(
        cache["database"]["value"], 2,
        "digit string '2' cast to int"
    );
    assert_eq!(at(&cache["database"]), (cfg, 42));
    assert_eq!(cache["prefix"]["value"], "shop:");
    assert_eq!(at(&cache["prefix"]), (cfg, 43));
    assert_eq!(cache["password_set"], false);
    let ttl = setting(&cache["ttl"], "WP_REDIS_MAXTTL");
    assert_eq!(ttl["value"], 86400);
    assert_eq!(at(ttl), (cfg, 44));
    let scheme = setting(&cache["options"], "WP_REDIS_SCHEME");
    assert_eq!(
        (scheme["value"].as_str(), at(scheme)),
        (Some("unix"), (cfg, 40))
    );
    let flush = setting(&cache["options"], "WP_REDIS_SELECTIVE_FLUSH");
    assert_eq!(
        (flush["value"].as_bool(), at(flush)),
        (Some(true), (cfg, 45))
    );
    let client = setting(&cache["options"], "WP_REDIS_CLIENT");
    assert_eq!(client["value"], "phpredis");
    assert_eq!(site["redis"]["sessions"], Value::Null);
    assert_eq!(
        components(site),
        [
            (
                "redis-cache-dropin",
                Some("2.6.3"),
                "fixtures/wordpress-classic-redis/wp-content/object-cache.php"
            ),
            (
                "redis-cache",
                Some("2.6.3"),
                "fixtures/wordpress-classic-redis/wp-content/plugins/redis-cache/redis-cache.php"
            ),
        ]
    );
    assert!(lints(site).is_empty(), "{:?}", lints(site));
    assert_eq!(code, 0);
}

#[test]
fn lints_path_without_scheme_maxttl_zero_constant_twice() {
    let (json, code) = detect("fixtures/wordpress-lints");
    let site = only_site(&json);
    let cfg = "fixtures/wordpress-lints/wp-config.php";
    assert_eq!(
        lints(site),
        // In file and line order, whatever order the checks ran in.
        [
            ("wp-redis-path-without-unix-scheme", "error", cfg, 39),
            ("wp-redis-maxttl-zero", "error", cfg, 41),
            ("wp-redis-default-expire-wrong-plugin", "warning", cfg, 42),
            ("php-constant-defined-twice", "error", cfg, 50),
        ]
    );
    let twice = &site["lints"][3];
    assert!(
        twice["message"]
            .as_str()
            .unwrap()
            .contains("WP_REDIS_DATABASE")
            && twice["message"].as_str().unwrap().contains("line 40"),
        "{twice}"
    );
    assert!(twice["hint"].as_str().unwrap().contains("first value"));
    let cache = &site["redis"]["cache"];
    // The first define wins: database 3 from line 40, not 7 from line 50.
    assert_eq!(cache["database"]["value"], 3);
    assert_eq!(at(&cache["database"]), (cfg, 40));
    // `if (!defined(…)) define(…)` runs first and is not reported as a duplicate.
    assert_eq!(cache["prefix"]["value"], "lints:");
    assert_eq!(at(&cache["prefix"]), (cfg, 44));
    // WP_REDIS_PATH without the unix scheme: TCP to the default, no transport constant.
    assert_eq!(cache["transport"], Value::Null);
    assert_eq!(setting(&cache["ttl"], "WP_REDIS_MAXTTL")["value"], 0);
    assert_eq!(code, 1, "error-severity lints exit 1");
}

#[test]
fn wp_config_in_the_parent_of_abspath() {
    let (json, code) = detect("fixtures/wordpress-parent-config/public_html");
    let site = only_site(&json);
    let cfg = "fixtures/wordpress-parent-config/wp-config.php";
    assert_eq!(site["path"], "fixtures/wordpress-parent-config");
    assert_eq!(
        site["docroot"],
        "fixtures/wordpress-parent-config/public_html"
    );
    assert_eq!(site["version"], "6.3.2");
    assert_eq!(site["layout"], "classic");
    assert_eq!(config_files(site), [cfg]);
    // Connection constants without a drop-in: configured (intent), TCP from HOST/PORT.
    assert_eq!(site["redis"]["configured"], true);
    let t = &site["redis"]["cache"]["transport"];
    assert_eq!(t["value"]["kind"], "tcp");
    assert_eq!(t["value"]["host"], "127.0.0.1");
    assert_eq!(t["value"]["port"], 6380);
    assert_eq!(at(t), (cfg, 39));
    assert!(
        lints(site).is_empty(),
        "no plugin: MAXTTL-missing does not apply"
    );
    assert_eq!(code, 0);

    // In root mode the same site is found once, through its ABSPATH.
    let json = detect_root("fixtures/wordpress-parent-config", "3");
    let paths: Vec<&str> = json["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["fixtures/wordpress-parent-config"]);
}

#[test]
fn parent_config_belonging_to_another_install_is_not_used() {
    let (_tmp, root) = common::copy_fixture("wordpress-parent-config");
    std::fs::write(root.join("wp-settings.php"), "<?php\n").unwrap();
    let abspath = root.join("public_html");
    let (json, code) = detect(abspath.to_str().unwrap());
    let site = only_site(&json);
    assert_eq!(site["cms"], "wordpress");
    assert_eq!(site["path"], abspath.to_str().unwrap());
    assert!(config_files(site).is_empty());
    assert_eq!(site["redis"]["configured"], false);
    assert_eq!(code, 0);
}

#[test]
fn bedrock_without_redis() {
    let (json, code) = detect("fixtures/wordpress-bedrock");
    let site = only_site(&json);
    let root = "fixtures/wordpress-bedrock";
    assert_eq!(site["cms"], "wordpress");
    assert_eq!(site["layout"], "bedrock");
    assert_eq!(site["version"], "6.5.3");
    assert_eq!(site["docroot"], format!("{root}/web"));
    assert_eq!(
        config_files(site),
        [
            format!("{root}/.env"),
            format!("{root}/config/application.php"),
            format!("{root}/config/environments/development.php"),
            format!("{root}/config/environments/staging.php"),
            format!("{root}/web/wp-config.php"),
        ]
    );
    assert_eq!(site["redis"]["configured"], false);
    assert_eq!(site["redis"]["cache"], Value::Null);
    assert!(lints(site).is_empty());
    assert_eq!(code, 0);
}

#[test]
fn bedrock_redis_values_come_from_env_lines() {
    let (json, code) = detect("fixtures/wordpress-bedrock-redis");
    let site = only_site(&json);
    let env = "fixtures/wordpress-bedrock-redis/.env";
    let app = "fixtures/wordpress-bedrock-redis/config/application.php";
    assert_eq!(
        site["version"], "6.6.2",
        "roots/wordpress-no-content in composer.lock"
    );
    assert_eq!(site["redis"]["configured"], true);
    let cache = &site["redis"]["cache"];
    assert_eq!(cache["transport"]["value"]["kind"], "unix");
    assert_eq!(
        cache["transport"]["value"]["path"],
        "/var/run/redis/redis.sock"
    );
    assert_eq!(at(&cache["transport"]), (env, 11));
    assert_eq!(cache["database"]["value"], 4);
    assert_eq!(at(&cache["database"]), (env, 12));
    // WP_REDIS_PREFIX is read from the environment directly, without Config::define.
    assert_eq!(cache["prefix"]["value"], "shopbedrock:");
    assert_eq!(at(&cache["prefix"]), (env, 13));
    let ttl = setting(&cache["ttl"], "WP_REDIS_MAXTTL");
    assert_eq!((ttl["value"].as_i64(), at(ttl)), (Some(43200), (app, 96)));
    let flush = setting(&cache["options"], "WP_REDIS_SELECTIVE_FLUSH");
    assert_eq!(
        (flush["value"].as_bool(), at(flush)),
        (Some(true), (env, 15))
    );
    assert_eq!(
        components(site),
        [
            (
                "redis-cache-dropin",
                Some("2.6.3"),
                "fixtures/wordpress-bedrock-redis/web/app/object-cache.php"
            ),
            (
                "redis-cache",
                Some("2.6.3"),
                "fixtures/wordpress-bedrock-redis/web/app/plugins/redis-cache/redis-cache.php"
            ),
        ]
    );
    // WP_REDIS_HOST is in .env but never mapped with Config::define.
    assert_eq!(
        lints(site),
        [("wp-redis-env-not-mapped", "warning", env, 14)]
    );
    assert!(
        site["lints"][0]["message"]
            .as_str()
            .unwrap()
            .contains("WP_REDIS_HOST")
    );
    assert_eq!(code, 0, "a warning does not fail by default");
    let (_, code) = detect_with(
        "fixtures/wordpress-bedrock-redis",
        &["--fail-on", "warning"],
    );
    assert_eq!(code, 1);
}

#[test]
fn bedrock_active_environment_overrides_and_version_sources() {
    let (_tmp, root) = common::copy_fixture("wordpress-bedrock-redis");
    let env = std::fs::read_to_string(root.join(".env")).unwrap();
    std::fs::write(
        root.join(".env"),
        env.replace("WP_ENV='production'", "WP_ENV='staging'"),
    )
    .unwrap();
    let (json, _) = detect(root.to_str().unwrap());
    let db = &only_site(&json)["redis"]["cache"]["database"];
    assert_eq!(db["value"], 9, "config/environments/staging.php wins");
    assert_eq!(
        at(db),
        (
            root.join("config/environments/staging.php")
                .to_str()
                .unwrap(),
            10
        )
    );

    // Without composer.lock the version comes from web/wp/wp-includes/version.php.
    std::fs::remove_file(root.join("composer.lock")).unwrap();
    let vp = root.join("web/wp/wp-includes/version.php");
    let text = std::fs::read_to_string(&vp).unwrap();
    std::fs::write(&vp, text.replace("'6.6.2'", "'6.6.1'")).unwrap();
    let (json, _) = detect(root.to_str().unwrap());
    assert_eq!(only_site(&json)["version"], "6.6.1");
}

#[test]
fn bedrock_core_under_web_wp_is_not_a_second_site() {
    let json = detect_root("fixtures/wordpress-bedrock-redis", "4");
    let sites = json["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1, "{json:#}");
    assert_eq!(sites[0]["layout"], "bedrock");
}

#[test]
fn pantheon_wp_redis_server_array() {
    let out = common::rcfg()
        .args(["detect", "fixtures/wordpress-pantheon", "--format", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("Zr8qW2s9"), "the password never appears");
    let json = common::json_of(&out);
    let site = only_site(&json);
    let cfg = "fixtures/wordpress-pantheon/wp-config.php";
    assert_eq!(site["redis"]["configured"], true);
    let cache = &site["redis"]["cache"];
    assert_eq!(cache["transport"]["value"]["kind"], "unix");
    assert_eq!(
        cache["transport"]["value"]["path"],
        "/var/run/redis/redis.sock"
    );
    assert_eq!(at(&cache["transport"]), (cfg, 41));
    assert_eq!(cache["database"]["value"], 5);
    assert_eq!(at(&cache["database"]), (cfg, 44));
    assert_eq!(cache["password_set"], true);
    assert_eq!(cache["prefix"]["value"], "pantheon1:");
    assert_eq!(at(&cache["prefix"]), (cfg, 46));
    let ttl = setting(&cache["ttl"], "WP_REDIS_DEFAULT_EXPIRE_SECONDS");
    assert_eq!((ttl["value"].as_i64(), at(ttl)), (Some(0), (cfg, 47)));
    assert_eq!(
        components(site),
        [
            (
                "wp-redis-dropin",
                Some("1.4.7"),
                "fixtures/wordpress-pantheon/wp-content/object-cache.php"
            ),
            (
                "wp-redis",
                Some("1.4.7"),
                "fixtures/wordpress-pantheon/wp-content/plugins/wp-redis/wp-redis.php"
            ),
        ]
    );
    assert_eq!(
        lints(site),
        [("wp-redis-default-expire-zero", "warning", cfg, 47)]
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn plugin_without_dropin_or_constants_is_not_configured() {
    let (_tmp, root) = common::copy_fixture("wordpress-classic");
    common::copy_tree(
        &common::fixture("wordpress-classic-redis/wp-content/plugins/redis-cache"),
        &root.join("wp-content/plugins/redis-cache"),
    );
    let (json, code) = detect(root.to_str().unwrap());
    let site = only_site(&json);
    assert_eq!(site["redis"]["configured"], false);
    assert_eq!(components(site)[0].0, "redis-cache");
    assert!(lints(site).is_empty());
    assert_eq!(code, 0);
}

#[test]
fn maxttl_missing_with_redis_object_cache() {
    let (_tmp, root) = common::copy_fixture("wordpress-classic-redis");
    let cfg = root.join("wp-config.php");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replace("define( 'WP_REDIS_MAXTTL', 86400 );\n", ""),
    )
    .unwrap();
    let (json, code) = detect(root.to_str().unwrap());
    let site = only_site(&json);
    assert_eq!(
        lints(site),
        [(
            "wp-redis-maxttl-missing",
            "warning",
            cfg.to_str().unwrap(),
            40
        )]
    );
    assert_eq!(code, 0);
}

#[test]
fn non_utf8_wp_config_is_an_error_naming_the_file() {
    let (_tmp, root) = common::copy_fixture("wordpress-classic-redis");
    let cfg = root.join("wp-config.php");
    let mut bytes = std::fs::read(&cfg).unwrap();
    bytes.extend_from_slice(b"\n// caf\xe9\n");
    std::fs::write(&cfg, bytes).unwrap();
    let (json, code) = detect(root.to_str().unwrap());
    assert_eq!(code, 2);
    let errors = json["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["path"], cfg.to_str().unwrap());
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("not valid UTF-8")
    );
    // The site is still reported with what could be read.
    let site = only_site(&json);
    assert_eq!(site["cms"], "wordpress");
    assert_eq!(site["version"], "6.5.5");
    assert_eq!(components(site).len(), 2);
}

#[test]
fn broken_wp_config_names_file_and_line() {
    let (_tmp, root) = common::copy_fixture("wordpress-classic");
    let cfg = root.join("wp-config.php");
    std::fs::write(
        &cfg,
        "<?php\ndefine( 'DB_NAME', 'x' );\ndefine( 'WP_REDIS_HOST', '127.0.0.1 );\n",
    )
    .unwrap();
    let (json, code) = detect(root.to_str().unwrap());
    assert_eq!(code, 2);
    let err = &json["errors"][0];
    assert_eq!(err["path"], cfg.to_str().unwrap());
    let msg = err["message"].as_str().unwrap();
    assert!(msg.starts_with("line 3:"), "{msg}");
    assert!(msg.contains("unterminated string"), "{msg}");
    assert_eq!(only_site(&json)["cms"], "wordpress");
}

#[test]
fn bedrock_mappings_to_unset_env_vars() {
    // Config::define('WP_REDIS_HOST', env('WP_REDIS_HOST')) with nothing in .env defines null:
    // not a Redis configuration.
    let (_tmp, root) = common::copy_fixture("wordpress-bedrock");
    let app = root.join("config/application.php");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(
        &app,
        text.replace(
            "Config::apply();",
            "Config::define('WP_REDIS_HOST', env('WP_REDIS_HOST'));\nConfig::apply();",
        ),
    )
    .unwrap();
    let (json, code) = detect(root.to_str().unwrap());
    let site = only_site(&json);
    assert_eq!(site["redis"]["configured"], false);
    assert!(lints(site).is_empty());
    assert_eq!(code, 0);

    // WP_REDIS_MAXTTL mapped to an unset variable is null, and (int) null is 0.
    let (_tmp, root) = common::copy_fixture("wordpress-bedrock-redis");
    let app = root.join("config/application.php");
    let text = std::fs::read_to_string(&app).unwrap();
    std::fs::write(
        &app,
        text.replace(
            "Config::define('WP_REDIS_MAXTTL', 43200);",
            "Config::define('WP_REDIS_MAXTTL', env('WP_REDIS_MAXTTL'));",
        ),
    )
    .unwrap();
    let (json, code) = detect(root.to_str().unwrap());
    let site = only_site(&json);
    assert!(
        lints(site).contains(&("wp-redis-maxttl-zero", "error", app.to_str().unwrap(), 96)),
        "{:?}",
        lints(site)
    );
    assert_eq!(code, 1);
}

#[test]
fn redis_constant_after_wp_settings_comes_too_late() {
    let (_tmp, root) = common::copy_fixture("wordpress-classic-redis");
    let cfg = root.join("wp-config.php");
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    let require_line = text
        .lines()
        .position(|l| l.starts_with("require_once ABSPATH . 'wp-settings.php';"))
        .unwrap()
        + 1;
    text.push_str("define( 'WP_REDIS_TIMEOUT', 2 );\n");
    std::fs::write(&cfg, &text).unwrap();
    let last_line = text.lines().count() as u64;
    let (json, code) = detect(root.to_str().unwrap());
    let site = only_site(&json);
    assert_eq!(
        lints(site),
        [(
            "wp-redis-constant-after-wp-settings",
            "error",
            cfg.to_str().unwrap(),
            last_line
        )]
    );
    let msg = site["lints"][0]["message"].as_str().unwrap();
    assert!(msg.contains(&format!("line {require_line}")), "{msg}");
    assert_eq!(code, 1);
}
