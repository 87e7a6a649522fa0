//! Issue 15: `apply` never reports success for a config that does not take effect. Every
//! `define()` form WordPress configs use is read by detect (or reported as computed) and
//! edited in place; real `php` then yields exactly the intended constants with no "already
//! defined" warning, and a second apply changes nothing. A definition that wins over rcfg's
//! (an earlier include, an earlier define) makes apply, `--dry-run` and `--check` refuse
//! with the file:line that wins, writing nothing.

mod common;

use std::path::Path;
use std::process::Command;

use common::{php_lint, rcfg, text, tree};
use serde_json::{Value, json};

const TAIL: &str = "define('ABSPATH', __DIR__ . '/');\n/* That's all, stop editing! Happy publishing. */\nrequire_once ABSPATH . 'wp-settings.php';\n";

/// A classic install whose `wp-settings.php` prints the user constants as JSON (so running
/// `php wp-config.php` evaluates the config as WordPress would load it).
fn wp_site(config: &str, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    std::fs::write(d.join("wp-config.php"), config).unwrap();
    std::fs::write(
        d.join("wp-settings.php"),
        "<?php\n$c = get_defined_constants(true)['user'];\nunset($c['ABSPATH']);\necho json_encode($c);\n",
    )
    .unwrap();
    for (name, body) in extra {
        std::fs::write(d.join(name), body).unwrap();
    }
    tmp
}

/// The constants PHP ends up with; fails on any warning or notice.
fn eval_php(site: &Path) -> Value {
    let out = Command::new("php")
        .args(["-d", "error_reporting=E_ALL", "-d", "display_errors=stderr"])
        .arg(site.join("wp-config.php"))
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        out.status.success() && stderr.trim().is_empty(),
        "php: {stderr}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn detect_cache(site: &Path) -> Value {
    let out = rcfg()
        .args(["detect", "--format", "json"])
        .arg(site)
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    j["sites"][0]["redis"]["cache"].clone()
}

const ARGS: &[&str] = &[
    "--socket",
    "/run/new.sock",
    "--db",
    "7",
    "--prefix",
    "new:",
    "--ttl",
    "600",
];

fn apply(site: &Path, extra: &[&str]) -> std::process::Output {
    rcfg()
        .arg("apply")
        .arg(site)
        .args(ARGS)
        .args(extra)
        .env_remove("RCFG_REDIS_PASSWORD")
        .output()
        .unwrap()
}

fn intended() -> Value {
    json!({
        "WP_REDIS_SCHEME": "unix",
        "WP_REDIS_PATH": "/run/new.sock",
        "WP_REDIS_DATABASE": 7,
        "WP_REDIS_PREFIX": "new:",
        "WP_REDIS_MAXTTL": 600,
    })
}

/// Apply, lint, evaluate: exactly the intended constants (plus `keep`), no warning; a second
/// apply and `--check` change nothing.
fn assert_applies(site: &Path, keep: Value) {
    let out = apply(site, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    php_lint(&site.join("wp-config.php"));
    let mut want = intended();
    for (k, v) in keep.as_object().unwrap() {
        want[k] = v.clone();
    }
    assert_eq!(eval_php(site), want);
    let before = tree(site);
    let again = apply(site, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(tree(site), before, "second apply changed something");
    let check = apply(site, &["--check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

#[test]
fn guarded_spaced_commented_and_uppercase_defines_are_read_and_edited_in_place() {
    let config = format!(
        "<?php\n\
         // define('WP_REDIS_DATABASE', 9); an old comment\n\
         /* define( 'WP_REDIS_PREFIX', 'older:' ); */\n\
         defined( 'WP_REDIS_DATABASE' ) || define( 'WP_REDIS_DATABASE', 2 );\n\
         defined('WP_REDIS_PREFIX') or define('WP_REDIS_PREFIX', 'old:');\n\
         if ( ! defined( 'WP_REDIS_PATH' ) ) {{\n    define( 'WP_REDIS_PATH', '/run/old.sock' );\n}}\n\
         DEFINE(\n    'WP_REDIS_SCHEME', // the scheme\n    'unix',\n);\n\
         define('WP_REDIS_MAXTTL', 3600, false);\n{TAIL}"
    );
    let tmp = wp_site(&config, &[]);
    let site = tmp.path();
    let cache = detect_cache(site);
    assert_eq!(cache["database"]["value"], json!(2), "{cache}");
    assert_eq!(cache["database"]["at"]["line"], json!(4));
    assert_eq!(cache["prefix"]["value"], json!("old:"));
    assert_eq!(cache["transport"]["value"]["path"], json!("/run/old.sock"));
    assert_eq!(cache["ttl"][0]["value"], json!(3600));
    assert_applies(site, json!({}));
    let after = std::fs::read_to_string(site.join("wp-config.php")).unwrap();
    // Edited where they stand: no second define appended, comments untouched.
    assert!(after.contains("defined( 'WP_REDIS_DATABASE' ) || define( 'WP_REDIS_DATABASE', 7 );"));
    assert!(after.contains("defined('WP_REDIS_PREFIX') or define('WP_REDIS_PREFIX', 'new:');"));
    assert!(after.contains("define('WP_REDIS_MAXTTL', 600, false);"));
    assert!(after.contains("// define('WP_REDIS_DATABASE', 9); an old comment"));
    assert_eq!(after.matches("'WP_REDIS_DATABASE'").count(), 3, "{after}");
}

#[test]
fn computed_values_are_reported_with_their_default_and_replaced() {
    let config = format!(
        "<?php\n\
         define('MY_SOCK', '/run/mine.sock');\n\
         define( 'WP_REDIS_DATABASE', getenv( 'REDIS_DB' ) ?: 3 );\n\
         define( 'WP_REDIS_PREFIX', $_ENV['REDIS_PREFIX'] ?? 'envdef:' );\n\
         define( 'WP_REDIS_SCHEME', 'unix' );\n\
         define( 'WP_REDIS_PATH', MY_SOCK );\n{TAIL}"
    );
    let tmp = wp_site(&config, &[]);
    let site = tmp.path();
    let cache = detect_cache(site);
    // A constant of a constant is followed to its value and its definition.
    assert_eq!(cache["transport"]["value"]["path"], json!("/run/mine.sock"));
    assert_eq!(cache["transport"]["at"]["line"], json!(2));
    let opt = |k: &str| {
        cache["options"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"] == k)
            .unwrap_or_else(|| panic!("{k} not reported: {cache}"))["value"]
            .clone()
    };
    assert_eq!(opt("WP_REDIS_DATABASE")["default"], json!(3));
    assert!(
        opt("WP_REDIS_DATABASE")["computed"]
            .as_str()
            .unwrap()
            .contains("getenv('REDIS_DB')")
    );
    assert_eq!(
        opt("WP_REDIS_PREFIX"),
        json!({"computed": "$_ENV['REDIS_PREFIX'] ?? 'envdef:'", "default": "envdef:"})
    );
    assert_applies(site, json!({"MY_SOCK": "/run/mine.sock"}));
}

#[test]
fn an_include_defining_the_constant_first_makes_apply_refuse() {
    let config =
        format!("<?php\nrequire __DIR__ . '/redis.php';\ndefine('WP_REDIS_DATABASE', 2);\n{TAIL}");
    let tmp = wp_site(
        &config,
        &[("redis.php", "<?php\n\ndefine('WP_REDIS_DATABASE', 5);\n")],
    );
    let site = tmp.path();
    let before = tree(site);
    for extra in [&[][..], &["--dry-run"], &["--check"]] {
        let out = apply(site, extra);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains("redis.php:3: WP_REDIS_DATABASE = 5 is defined here first and wins")
                && err.contains("nothing written"),
            "{err}"
        );
        assert!(text(&out.stdout).is_empty(), "nothing shown: {extra:?}");
    }
    assert_eq!(tree(site), before, "nothing written");
}

#[test]
fn an_earlier_guarded_define_of_another_file_wins_and_is_named() {
    // The include's guarded define runs first, so rcfg's plain define would be ignored
    // (with an "already defined" warning on every request).
    let config =
        format!("<?php\ninclude 'hosting.php';\ndefine( 'WP_REDIS_PREFIX', 'old:' );\n{TAIL}");
    let tmp = wp_site(
        &config,
        &[(
            "hosting.php",
            "<?php\ndefined('WP_REDIS_PREFIX') or define('WP_REDIS_PREFIX', 'panel:');\n",
        )],
    );
    let out = apply(tmp.path(), &[]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("hosting.php:2: WP_REDIS_PREFIX = 'panel:' is defined here first and wins"),
        "{err}"
    );
}

/// Drupal: an include after rcfg's that overrides `redis.connection` makes apply refuse,
/// naming the overriding line; nothing is written.
#[test]
fn drupal_include_overriding_the_connection_after_rcfg_is_refused() {
    let (_tmp, root) = common::copy_fixture("drupal-composer");
    let dir = root.join("web/sites/default");
    let settings = dir.join("settings.php");
    let mut config = std::fs::read_to_string(&settings).unwrap();
    config.push_str(
        "include $app_root . '/' . $site_path . '/settings.redis.php';\n\
         include __DIR__ . '/settings.override.php';\n",
    );
    std::fs::write(&settings, config).unwrap();
    std::fs::write(
        dir.join("settings.override.php"),
        "<?php\n// The panel's own Redis.\n$settings['redis.connection']['host'] = '10.1.1.1';\n",
    )
    .unwrap();
    let before = tree(&root);
    for extra in [&[][..], &["--dry-run"], &["--check"]] {
        let out = rcfg()
            .arg("apply")
            .arg(&root)
            .args(["--url", "redis://10.0.0.9:6380/5", "--prefix", "shop9"])
            .args(extra)
            .env("RCFG_REDIS_PASSWORD", "pw")
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains("settings.override.php:3: redis.connection = tcp://10.1.1.1:6380 is the value Drupal keeps")
                && err.contains("nothing written"),
            "{err}"
        );
    }
    assert_eq!(tree(&root), before, "nothing written");
}

/// Magento: a key set twice in env.php is edited where PHP reads it (the last one); the
/// evaluated array has the intended values and a second apply changes nothing.
#[test]
fn magento_key_set_twice_is_edited_where_it_takes_effect() {
    let (_tmp, root) = common::copy_fixture("magento2-composer-redis");
    let env = root.join("app/etc/env.php");
    let config = std::fs::read_to_string(&env).unwrap().replacen(
        "'database' => '0',",
        "'database' => '0',\n                    'database' => '4',",
        1,
    );
    std::fs::write(&env, config).unwrap();
    let args = [
        "--db",
        "7",
        "--session-url",
        "redis://127.0.0.1:6378",
        "--prefix",
        "shop7",
    ];
    let run = || {
        rcfg()
            .arg("apply")
            .arg(&root)
            .args(args)
            .env_remove("RCFG_REDIS_PASSWORD")
            .env_remove("RCFG_SESSION_REDIS_PASSWORD")
            .output()
            .unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    php_lint(&env);
    let php = Command::new("php")
        .args([
            "-d",
            "error_reporting=E_ALL",
            "-d",
            "display_errors=stderr",
            "-r",
        ])
        .arg("echo json_encode((require $argv[1])['cache']['frontend']['default']);")
        .arg(&env)
        .output()
        .unwrap();
    assert!(
        php.status.success() && php.stderr.is_empty(),
        "{}",
        text(&php.stderr)
    );
    let default: Value = serde_json::from_slice(&php.stdout).unwrap();
    assert_eq!(
        default["backend_options"]["database"],
        json!("7"),
        "{default}"
    );
    let after = tree(&root);
    let again = run();
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(tree(&root), after, "second apply changed something");
}

/// Medusa: an options object spread after rcfg's `redisUrl` wins in JavaScript; detect
/// reads it and apply refuses, naming the line of the spread value.
#[test]
fn medusa_option_spread_after_rcfgs_is_read_and_refused() {
    let (_tmp, root) = common::copy_fixture("medusa-v2-redis");
    let cfg = root.join("medusa-config.ts");
    let config = std::fs::read_to_string(&cfg)
        .unwrap()
        .replacen(
            "const REDIS_URL = process.env.REDIS_URL\n",
            "const REDIS_URL = process.env.REDIS_URL\nconst hostingCache = { redisUrl: \"redis://10.9.9.9:6379/4\" }\n",
            1,
        )
        .replacen(
            "        namespace: \"shop2\",\n",
            "        namespace: \"shop2\",\n        ...hostingCache,\n",
            1,
        );
    assert!(config.contains("...hostingCache"));
    std::fs::write(&cfg, config).unwrap();
    let cache = detect_cache(&root);
    assert_eq!(
        cache["transport"]["value"]["host"],
        json!("10.9.9.9"),
        "{cache}"
    );
    assert_eq!(cache["transport"]["at"]["line"], json!(6));
    let before = tree(&root);
    for extra in [&[][..], &["--dry-run"], &["--check"]] {
        let out = rcfg()
            .arg("apply")
            .arg(&root)
            .args(["--session-url", "redis://127.0.0.1:6390"])
            .args(extra)
            .env_remove("RCFG_REDIS_PASSWORD")
            .env_remove("RCFG_SESSION_REDIS_PASSWORD")
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains(
                "medusa-config.ts:6: the cache connection goes to tcp://10.9.9.9:6379 instead"
            ) && err.contains("nothing written"),
            "{err}"
        );
    }
    assert_eq!(tree(&root), before, "nothing written");
}
