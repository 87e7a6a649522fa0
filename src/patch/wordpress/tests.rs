//! Planner tests on small temp sites built here (independent of the detector): plans are
//! applied to a copy, checked with `php -l`, evaluated with a stubbed `wp-settings.php`, and
//! re-planned for idempotence.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::model::{Cms, Component};
use crate::patch::Secret;

const CLASSIC: &str = r#"<?php
/**
 * The base configuration for WordPress
 *
 * @package WordPress
 */

// ** Database settings - You can get this info from your web host ** //
define( 'DB_NAME', 'blog' );
define( 'DB_USER', 'blog' );
define( 'DB_PASSWORD', 'pw' );
define( 'DB_HOST', 'localhost' );

$table_prefix = 'wp_';

define( 'WP_DEBUG', false );

/* Add any custom values between this line and the "stop editing" line. */



/* That's all, stop editing! Happy publishing. */

/** Absolute path to the WordPress directory. */
if ( ! defined( 'ABSPATH' ) ) {
	define( 'ABSPATH', __DIR__ . '/' );
}

/** Sets up WordPress vars and included files. */
require_once ABSPATH . 'wp-settings.php';
"#;

fn endpoint(transport: Transport) -> Endpoint {
    Endpoint {
        transport,
        password: None,
        username: None,
    }
}

fn unix(path: &str) -> Transport {
    Transport::Unix { path: path.into() }
}

pub(crate) fn target(transport: Transport) -> Target {
    Target {
        cache: endpoint(transport),
        db: 3,
        page_cache_db: 4,
        prefix: "blog:".into(),
        ttl: 3600,
        session: endpoint(unix("/var/run/redis-persistent/redis.sock")),
        session_db: 1,
        session_ttl: 86400,
        ttl_explicit: true,
    }
}

fn classic_site(dir: &Path, components: &[&str]) -> Site {
    let mut site = Site::new(dir, Cms::WordPress, "classic");
    site.config_file(&dir.join("wp-config.php"), "wp-config");
    for c in components {
        site.redis.components.push(Component {
            name: (*c).into(),
            version: Some("2.6.3".into()),
            path: dir.join("wp-content/object-cache.php"),
        });
    }
    site
}

fn plan_of(site: &Site, t: &Target) -> Result<Plan> {
    WordPressPlanner.plan(site, t, &Templates::load().unwrap())
}

/// Write every changed file of `plan`.
fn write_all(plan: &Plan) {
    for p in plan.changed() {
        std::fs::write(&p.path, &p.after).unwrap();
    }
}

fn php_lint(path: &Path) {
    let out = Command::new("php").arg("-l").arg(path).output().unwrap();
    assert!(
        out.status.success(),
        "php -l {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Load `wp-config.php` from `dir` under `php` with `wp-settings.php` replaced by a stub that
/// prints the constants and `$redis_server` as JSON.
pub(crate) fn eval_wp_config(config: &Path, names: &[&str]) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(config, tmp.path().join("wp-config.php")).unwrap();
    let list = names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        tmp.path().join("wp-settings.php"),
        format!(
            "<?php\n$out = [];\nforeach ([{list}] as $c) {{ $out[$c] = defined($c) ? constant($c) : '(undefined)'; }}\n\
             echo json_encode(['constants' => $out, 'redis_server' => $redis_server ?? null]);\n"
        ),
    )
    .unwrap();
    let out = Command::new("php")
        .arg("-d")
        .arg("error_reporting=E_ALL")
        .arg("-d")
        .arg("display_errors=stderr")
        .arg(tmp.path().join("wp-config.php"))
        .output()
        .unwrap();
    // The only warning tolerated: a duplicate define() the test planted on purpose.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success()
            && stderr
                .lines()
                .all(|l| l.trim().is_empty() || l.contains("WP_REDIS_DATABASE already defined")),
        "php failed: {stderr}"
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const RC_NAMES: &[&str] = &[
    "WP_REDIS_SCHEME",
    "WP_REDIS_PATH",
    "WP_REDIS_HOST",
    "WP_REDIS_PORT",
    "WP_REDIS_DATABASE",
    "WP_REDIS_PREFIX",
    "WP_REDIS_MAXTTL",
    "WP_REDIS_PASSWORD",
    "DB_NAME",
];

fn site_with(config: &str, components: &[&str]) -> (tempfile::TempDir, Site) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("wp-config.php"), config).unwrap();
    let site = classic_site(tmp.path(), components);
    (tmp, site)
}

fn assert_idempotent(site: &Site, t: &Target) {
    let again = plan_of(site, t).unwrap();
    assert!(again.is_noop(), "second plan changes something: {again:?}");
}

#[test]
fn classic_socket_block_goes_before_stop_editing_and_evaluates() {
    let (_tmp, site) = site_with(CLASSIC, &["redis-cache", "redis-cache-dropin"]);
    let t = target(unix("/var/run/redis/redis.sock"));
    let plan = plan_of(&site, &t).unwrap();
    assert_eq!(plan.patches.len(), 1);
    let after = &plan.patches[0].after;
    let block = "/** Redis Object Cache (written by rcfg apply). */\n\
                 define( 'WP_REDIS_SCHEME', 'unix' );\n\
                 define( 'WP_REDIS_PATH', '/var/run/redis/redis.sock' );\n\
                 define( 'WP_REDIS_DATABASE', 3 );\n\
                 define( 'WP_REDIS_PREFIX', 'blog:' );\n\
                 define( 'WP_REDIS_MAXTTL', 3600 );\n\n\
                 /* That's all, stop editing!";
    assert!(after.contains(block), "{after}");
    // Everything else is byte-identical.
    let inserted = &block[..block.len() - "/* That's all, stop editing!".len()];
    assert_eq!(after.replacen(inserted, "", 1), CLASSIC);
    write_all(&plan);
    php_lint(&site.path.join("wp-config.php"));
    let v = eval_wp_config(&site.path.join("wp-config.php"), RC_NAMES);
    assert_eq!(
        v["constants"],
        json!({
            "WP_REDIS_SCHEME": "unix",
            "WP_REDIS_PATH": "/var/run/redis/redis.sock",
            "WP_REDIS_HOST": "(undefined)",
            "WP_REDIS_PORT": "(undefined)",
            "WP_REDIS_DATABASE": 3,
            "WP_REDIS_PREFIX": "blog:",
            "WP_REDIS_MAXTTL": 3600,
            "WP_REDIS_PASSWORD": "(undefined)",
            "DB_NAME": "blog",
        })
    );
    assert_idempotent(&site, &t);
    assert!(plan.notes.is_empty(), "{:?}", plan.notes);
}

#[test]
fn existing_defines_are_edited_in_place_and_duplicates_removed() {
    let config = CLASSIC.replace(
        "/* That's all",
        "define( 'WP_REDIS_HOST', '10.0.0.5' );\n\
         define( 'WP_REDIS_DATABASE', '2' );\n\
         define('WP_REDIS_MAXTTL', 0); // never expire (wrong)\n\
         define( 'WP_REDIS_DATABASE', 7 );\n\n/* That's all",
    );
    let (_tmp, site) = site_with(&config, &["redis-cache"]);
    let mut t = target(unix("/var/run/redis/redis.sock"));
    t.db = 2;
    t.cache.password = Some(Secret::new("s3cr'et"));
    let plan = plan_of(&site, &t).unwrap();
    let after = &plan.patches[0].after;
    // DATABASE '2' already means 2: untouched. MAXTTL edited in place, comment kept.
    assert!(
        after.contains("define( 'WP_REDIS_DATABASE', '2' );"),
        "{after}"
    );
    assert!(after.contains("define('WP_REDIS_MAXTTL', 3600); // never expire (wrong)\n"));
    assert_eq!(after.matches("WP_REDIS_MAXTTL").count(), 1);
    assert_eq!(
        after.matches("'WP_REDIS_DATABASE'").count(),
        1,
        "the ignored duplicate is removed, no new define added"
    );
    assert!(
        !after.contains("define( 'WP_REDIS_DATABASE', 7 );"),
        "{after}"
    );
    assert!(after.contains("define( 'WP_REDIS_PASSWORD', 's3cr\\'et' );"));
    let notes = plan.notes.join("\n");
    assert!(
        notes.contains(
            ":25: removed a second define('WP_REDIS_DATABASE'): PHP ignores it (the first one, at line 23"
        ),
        "{notes}"
    );
    assert!(notes.contains(":22: WP_REDIS_HOST is left in place; Redis Object Cache ignores it with WP_REDIS_SCHEME 'unix'."), "{notes}");
    let masked = plan.mask(after);
    assert!(
        masked.contains("define( 'WP_REDIS_PASSWORD', '********' );"),
        "{masked}"
    );
    write_all(&plan);
    php_lint(&site.path.join("wp-config.php"));
    let v = eval_wp_config(&site.path.join("wp-config.php"), RC_NAMES);
    assert_eq!(v["constants"]["WP_REDIS_DATABASE"], json!("2"));
    assert_eq!(v["constants"]["WP_REDIS_MAXTTL"], json!(3600));
    assert_eq!(v["constants"]["WP_REDIS_PASSWORD"], json!("s3cr'et"));
    assert_eq!(v["constants"]["WP_REDIS_SCHEME"], json!("unix"));
    assert_idempotent(&site, &t);
}

#[test]
fn tcp_and_tls_use_host_and_port() {
    let (_tmp, site) = site_with(CLASSIC, &[]);
    let t = target(Transport::Tls {
        host: "redis.internal".into(),
        port: 6380,
    });
    let plan = plan_of(&site, &t).unwrap();
    assert!(plan.notes[0].contains("Redis Object Cache is not installed"));
    write_all(&plan);
    let v = eval_wp_config(&site.path.join("wp-config.php"), RC_NAMES);
    assert_eq!(v["constants"]["WP_REDIS_SCHEME"], json!("tls"));
    assert_eq!(v["constants"]["WP_REDIS_HOST"], json!("redis.internal"));
    assert_eq!(v["constants"]["WP_REDIS_PORT"], json!(6380));
    assert_eq!(v["constants"]["WP_REDIS_PATH"], json!("(undefined)"));
    assert_idempotent(&site, &t);
}

#[test]
fn falls_back_to_the_settings_require_and_refuses_without_anchor() {
    let no_comment = CLASSIC.replace("/* That's all, stop editing! Happy publishing. */\n", "");
    let (_tmp, site) = site_with(&no_comment, &[]);
    let t = target(unix("/var/run/redis/redis.sock"));
    let plan = plan_of(&site, &t).unwrap();
    let after = &plan.patches[0].after;
    assert!(
        after.contains(
            "define( 'WP_REDIS_MAXTTL', 3600 );\n\nrequire_once ABSPATH . 'wp-settings.php';"
        ),
        "{after}"
    );
    write_all(&plan);
    php_lint(&site.path.join("wp-config.php"));

    let none = no_comment.replace("require_once ABSPATH . 'wp-settings.php';\n", "");
    let (_tmp2, site2) = site_with(&none, &[]);
    let err = format!("{:#}", plan_of(&site2, &t).unwrap_err());
    assert!(
        err.contains(
            "wp-config.php: no usable anchor in wp-config.php: add the stop-editing comment"
        ),
        "{err}"
    );
    // Nothing to insert (every constant already defined): no anchor needed.
    let complete = none.replace(
        "define( 'WP_DEBUG', false );",
        "define( 'WP_DEBUG', false );\ndefine( 'WP_REDIS_SCHEME', 'unix' );\ndefine( 'WP_REDIS_PATH', '/var/run/redis/redis.sock' );\ndefine( 'WP_REDIS_DATABASE', 1 );\ndefine( 'WP_REDIS_PREFIX', 'blog:' );\ndefine( 'WP_REDIS_MAXTTL', 60 );",
    );
    let (_tmp3, site3) = site_with(&complete, &[]);
    let plan = plan_of(&site3, &t).unwrap();
    assert!(
        plan.patches[0]
            .after
            .contains("define( 'WP_REDIS_DATABASE', 3 );")
    );
    assert!(
        plan.patches[0]
            .after
            .contains("define( 'WP_REDIS_MAXTTL', 3600 );")
    );
}

#[test]
fn older_happy_blogging_anchor_is_recognised() {
    let old = CLASSIC.replace("Happy publishing.", "Happy blogging.");
    let (_tmp, site) = site_with(&old, &[]);
    let plan = plan_of(&site, &target(unix("/run/redis.sock"))).unwrap();
    assert!(
        plan.patches[0]
            .after
            .contains("3600 );\n\n/* That's all, stop editing! Happy blogging. */")
    );
}

#[test]
fn unparsable_wp_config_is_refused_with_its_line() {
    let broken = CLASSIC.replace(
        "define( 'WP_DEBUG', false );",
        "define( 'WP_DEBUG', 'oops );",
    );
    let (_tmp, site) = site_with(&broken, &[]);
    let err = format!(
        "{:#}",
        plan_of(&site, &target(unix("/run/redis.sock"))).unwrap_err()
    );
    assert!(err.contains("wp-config.php:16: cannot parse"), "{err}");
    assert!(err.contains("nothing written"), "{err}");
}

#[test]
fn cluster_setups_are_refused() {
    let c = CLASSIC.replace(
        "/* That's all",
        "define( 'WP_REDIS_SERVERS', [ 'tcp://a:6379', 'tcp://b:6379' ] );\n/* That's all",
    );
    let (_tmp, site) = site_with(&c, &["redis-cache"]);
    let err = plan_of(&site, &target(unix("/run/redis.sock")))
        .unwrap_err()
        .to_string();
    assert!(err.contains(":22: WP_REDIS_SERVERS is defined"), "{err}");
}

const PANTHEON_NAMES: &[&str] = &[
    "WP_CACHE_KEY_SALT",
    "WP_REDIS_DEFAULT_EXPIRE_SECONDS",
    "WP_REDIS_USE_CACHE_GROUPS",
];

#[test]
fn wp_redis_array_is_edited_in_place() {
    let c = CLASSIC.replace(
        "/* That's all",
        "$redis_server = array(\n\t'host'     => '127.0.0.1',\n\t'port'     => 6379,\n\t'auth'     => 'old',\n);\n\
         define( 'WP_CACHE_KEY_SALT', 'old:' );\n\
         define( 'WP_REDIS_USE_CACHE_GROUPS', false );\n\n/* That's all",
    );
    let (_tmp, site) = site_with(&c, &["wp-redis", "wp-redis-dropin"]);
    let t = target(unix("/var/run/redis/redis.sock"));
    let plan = plan_of(&site, &t).unwrap();
    let after = &plan.patches[0].after;
    assert!(
        after.contains(
            "\t'host'     => '/var/run/redis/redis.sock',\n\t'port'     => null,\n\t'auth'     => 'old',\n\t'database' => 3,\n);"
        ) || after.contains("\t'auth'     => 'old',\n\t'database' => 3,\n);"),
        "{after}"
    );
    assert!(after.contains("define( 'WP_CACHE_KEY_SALT', 'blog:' );"));
    assert!(after.contains("define( 'WP_REDIS_DEFAULT_EXPIRE_SECONDS', 3600 );"));
    let notes = plan.notes.join("\n");
    assert!(
        notes.contains("$redis_server['auth'] is left unchanged"),
        "{notes}"
    );
    assert!(notes.contains("only changes the default of the $expire argument"));
    write_all(&plan);
    php_lint(&site.path.join("wp-config.php"));
    let v = eval_wp_config(&site.path.join("wp-config.php"), PANTHEON_NAMES);
    assert_eq!(
        v["redis_server"],
        json!({"host": "/var/run/redis/redis.sock", "port": null, "auth": "old", "database": 3})
    );
    assert_eq!(
        v["constants"],
        json!({"WP_CACHE_KEY_SALT": "blog:", "WP_REDIS_DEFAULT_EXPIRE_SECONDS": 3600, "WP_REDIS_USE_CACHE_GROUPS": false})
    );
    assert_idempotent(&site, &t);
}

#[test]
fn wp_redis_fresh_block_has_the_array() {
    let (_tmp, site) = site_with(CLASSIC, &["wp-redis"]);
    let mut t = target(Transport::Tcp {
        host: "127.0.0.1".into(),
        port: 6379,
    });
    t.cache.password = Some(Secret::new("pw1"));
    let plan = plan_of(&site, &t).unwrap();
    let after = &plan.patches[0].after;
    assert!(
        after.contains(
            "/** WP Redis (Pantheon) (written by rcfg apply). */\n$redis_server = array(\n\t'host' => '127.0.0.1',\n\t'port' => 6379,\n\t'database' => 3,\n\t'auth' => 'pw1',\n);\ndefine( 'WP_CACHE_KEY_SALT', 'blog:' );\n"
        ),
        "{after}"
    );
    write_all(&plan);
    php_lint(&site.path.join("wp-config.php"));
    let v = eval_wp_config(&site.path.join("wp-config.php"), PANTHEON_NAMES);
    assert_eq!(
        v["redis_server"],
        json!({"host": "127.0.0.1", "port": 6379, "database": 3, "auth": "pw1"})
    );
    assert_idempotent(&site, &t);
}

#[test]
fn drop_in_decides_the_flavour() {
    let s = |c: &[&str]| classic_site(Path::new("/x"), c);
    assert_eq!(
        drop_in(&s(&["wp-redis", "redis-cache-dropin"])),
        DropIn::RedisObjectCache { installed: true }
    );
    assert_eq!(
        drop_in(&s(&["redis-cache", "wp-redis-dropin"])),
        DropIn::WpRedis
    );
    assert_eq!(drop_in(&s(&["wp-redis"])), DropIn::WpRedis);
    assert_eq!(
        drop_in(&s(&["wp-redis", "redis-cache"])),
        DropIn::RedisObjectCache { installed: true }
    );
    assert_eq!(
        drop_in(&s(&[])),
        DropIn::RedisObjectCache { installed: false }
    );
}

// ------------------------------------------------------------------------------------------
// Bedrock

const APPLICATION: &str = r#"<?php
/**
 * Your base production configuration goes in this file.
 */

use Roots\WPConfig\Config;
use function Env\env;

$root_dir = dirname(__DIR__);
$webroot_dir = $root_dir . '/web';

Config::define('WP_HOME', env('WP_HOME'));
Config::define('DB_NAME', env('DB_NAME'));

/**
 * Redis Object Cache
 */
Config::define('WP_REDIS_SCHEME', env('WP_REDIS_SCHEME'));
Config::define('WP_REDIS_MAXTTL', 43200);

$env_config = __DIR__ . '/environments/' . WP_ENV . '.php';

if (file_exists($env_config)) {
    require_once $env_config;
}

Config::apply();

if (!defined('ABSPATH')) {
    define('ABSPATH', $webroot_dir . '/wp/');
}
"#;

const DOTENV: &str = "DB_NAME='shop'\nWP_HOME='https://shop.example.com'\n\n# Redis\nWP_REDIS_SCHEME=tcp # was tcp\nexport WP_REDIS_PREFIX=\"old\"\n";

fn bedrock_site(dir: &Path) -> Site {
    std::fs::create_dir_all(dir.join("config/environments")).unwrap();
    std::fs::write(dir.join("config/application.php"), APPLICATION).unwrap();
    std::fs::write(dir.join(".env"), DOTENV).unwrap();
    std::fs::write(
        dir.join("config/environments/development.php"),
        "<?php\nuse Roots\\WPConfig\\Config;\nConfig::define('SAVEQUERIES', true);\nConfig::define('WP_REDIS_DATABASE', 9);\n",
    )
    .unwrap();
    let mut site = Site::new(dir, Cms::WordPress, "bedrock");
    site.config_file(&dir.join(".env"), "dotenv");
    site.config_file(&dir.join("config/application.php"), "application");
    site.config_file(
        &dir.join("config/environments/development.php"),
        "environment",
    );
    site
}

/// Evaluate application.php with stubbed `Config` and `env()` (reading the .env file), and
/// return the constants `Config::apply()` would define.
pub(crate) fn eval_bedrock(dir: &Path) -> Value {
    let prelude = r#"<?php
namespace Roots\WPConfig { class Config { public static $m = []; public static function define($k, $v) { self::$m[$k] = $v; } public static function get($k) { return self::$m[$k] ?? null; } public static function apply() { echo json_encode(self::$m); } } }
namespace Env { function env($k) { return $GLOBALS['__env'][$k] ?? null; } }
namespace {
  define('WP_ENV', 'production');
  $__env = [];
  foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $l) {
    if (preg_match('/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/', $l, $m)) {
      $v = trim($m[2]);
      if ($v !== '' && ($v[0] === '"' || $v[0] === "'")) { $v = substr($v, 1, strpos($v, $v[0], 1) - 1); }
      else { $v = preg_replace('/\s+#.*$/', '', $v); }
      if (!array_key_exists($m[1], $__env)) { $__env[$m[1]] = ctype_digit($v) ? (int) $v : $v; }
    }
  }
  require $argv[2];
}
"#;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("prelude.php");
    std::fs::write(&p, prelude).unwrap();
    let out = Command::new("php")
        .arg(&p)
        .arg(dir.join(".env"))
        .arg(dir.join("config/application.php"))
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "php failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn bedrock_defines_map_env_values_and_edit_in_place() {
    let tmp = tempfile::tempdir().unwrap();
    let site = bedrock_site(tmp.path());
    let t = target(unix("/var/run/redis/redis.sock"));
    let plan = plan_of(&site, &t).unwrap();
    assert_eq!(plan.patches.len(), 2);
    let app = &plan.patches[0].after;
    assert!(
        app.contains("Config::define('WP_REDIS_MAXTTL', 3600);"),
        "{app}"
    );
    assert!(
        app.contains(
            "/**\n * Redis Object Cache (written by rcfg apply; values in .env)\n */\n\
         Config::define('WP_REDIS_PATH', env('WP_REDIS_PATH'));\n\
         Config::define('WP_REDIS_DATABASE', env('WP_REDIS_DATABASE'));\n\
         Config::define('WP_REDIS_PREFIX', env('WP_REDIS_PREFIX'));\n\nConfig::apply();"
        ),
        "{app}"
    );
    assert_eq!(
        app.matches("'WP_REDIS_SCHEME'").count(),
        2,
        "one define, edited nowhere"
    );
    let env = &plan.patches[1].after;
    assert_eq!(
        env,
        "DB_NAME='shop'\nWP_HOME='https://shop.example.com'\n\n# Redis\nWP_REDIS_SCHEME=unix # was tcp\nexport WP_REDIS_PREFIX=blog:\n\n\
         # Redis Object Cache (written by rcfg apply)\nWP_REDIS_PATH=/var/run/redis/redis.sock\nWP_REDIS_DATABASE=3\n"
    );
    let notes = plan.notes.join("\n");
    assert!(
        notes.contains("development.php:4: WP_REDIS_DATABASE is set here too"),
        "{notes}"
    );
    write_all(&plan);
    php_lint(&site.path.join("config/application.php"));
    let v = eval_bedrock(&site.path);
    assert_eq!(v["WP_REDIS_SCHEME"], json!("unix"));
    assert_eq!(v["WP_REDIS_PATH"], json!("/var/run/redis/redis.sock"));
    assert_eq!(v["WP_REDIS_DATABASE"], json!(3));
    assert_eq!(v["WP_REDIS_PREFIX"], json!("blog:"));
    assert_eq!(v["WP_REDIS_MAXTTL"], json!(3600));
    assert_eq!(v["DB_NAME"], json!("shop"));
    assert_idempotent(&site, &t);
}

#[test]
fn bedrock_without_dotenv_or_apply_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let site = bedrock_site(tmp.path());
    std::fs::remove_file(tmp.path().join(".env")).unwrap();
    let err = plan_of(&site, &target(unix("/r.sock")))
        .unwrap_err()
        .to_string();
    assert!(err.contains(".env: not found"), "{err}");
    std::fs::write(tmp.path().join(".env"), DOTENV).unwrap();
    std::fs::write(
        tmp.path().join("config/application.php"),
        APPLICATION.replace("Config::apply();", ""),
    )
    .unwrap();
    let err = plan_of(&site, &target(unix("/r.sock")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("application.php: no Config::apply()"), "{err}");
}

#[test]
fn crlf_files_get_crlf_lines() {
    let crlf = CLASSIC.replace('\n', "\r\n");
    let (_tmp, site) = site_with(&crlf, &["redis-cache"]);
    let t = target(unix("/var/run/redis/redis.sock"));
    let plan = plan_of(&site, &t).unwrap();
    let after = &plan.patches[0].after;
    assert!(after.contains("define( 'WP_REDIS_MAXTTL', 3600 );\r\n\r\n/* That's all"));
    assert_eq!(after.matches('\n').count(), after.matches("\r\n").count());
    write_all(&plan);
    let v = eval_wp_config(&site.path.join("wp-config.php"), RC_NAMES);
    assert_eq!(v["constants"]["WP_REDIS_SCHEME"], json!("unix"));
    assert_idempotent(&site, &t);

    let tmp = tempfile::tempdir().unwrap();
    let site = bedrock_site(tmp.path());
    std::fs::write(tmp.path().join(".env"), DOTENV.replace('\n', "\r\n")).unwrap();
    let plan = plan_of(&site, &t).unwrap();
    let env = &plan.patches[1].after;
    assert_eq!(
        env.matches('\n').count(),
        env.matches("\r\n").count(),
        "{env:?}"
    );
    assert!(env.contains("WP_REDIS_SCHEME=unix # was tcp\r\n"));
    write_all(&plan);
    assert_idempotent(&site, &t);
}

#[test]
fn bedrock_env_local_duplicates_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let site = bedrock_site(tmp.path());
    std::fs::write(
        tmp.path().join(".env.local"),
        "WP_DEBUG=1\nWP_REDIS_PATH=/tmp/old.sock\n",
    )
    .unwrap();
    let plan = plan_of(&site, &target(unix("/var/run/redis/redis.sock"))).unwrap();
    let notes = plan.notes.join("\n");
    assert!(
        notes.contains(".env.local:2: WP_REDIS_PATH is set here too"),
        "{notes}"
    );
    assert!(plan.patches.iter().all(|p| !p.path.ends_with(".env.local")));
}

#[test]
fn acl_user_and_password_become_an_array() {
    let (_tmp, site) = site_with(CLASSIC, &["redis-cache"]);
    let mut t = target(unix("/var/run/redis/redis.sock"));
    t.cache.username = Some("blog".into());
    t.cache.password = Some(Secret::new("pw\\1"));
    let plan = plan_of(&site, &t).unwrap();
    assert!(
        plan.patches[0]
            .after
            .contains("define( 'WP_REDIS_PASSWORD', [ 'blog', 'pw\\\\1' ] );")
    );
    assert!(!plan.mask(&plan.patches[0].after).contains("pw\\"));
    write_all(&plan);
    let v = eval_wp_config(&site.path.join("wp-config.php"), RC_NAMES);
    assert_eq!(
        v["constants"]["WP_REDIS_PASSWORD"],
        json!(["blog", "pw\\1"])
    );
    assert_idempotent(&site, &t);
}

#[test]
fn bedrock_env_changed_after_planning_writes_nothing() {
    use crate::patch::write::{WriteOptions, write_plan};
    let tmp = tempfile::tempdir().unwrap();
    let site = bedrock_site(tmp.path());
    let plan = plan_of(&site, &target(unix("/var/run/redis/redis.sock"))).unwrap();
    assert_eq!(plan.changed().count(), 2);
    std::fs::write(tmp.path().join(".env"), format!("{DOTENV}WP_DEBUG=1\n")).unwrap();
    let err = format!(
        "{:#}",
        write_plan(&plan, WriteOptions { backup: true }).unwrap_err()
    );
    assert!(err.contains(".env: changed on disk"), "{err}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("config/application.php")).unwrap(),
        APPLICATION
    );
}

#[test]
fn wp_redis_constants_defined_first_by_an_include_are_refused_by_the_post_condition() {
    let config = "<?php\nrequire_once __DIR__ . '/panel.php';\ndefined('WP_CACHE_KEY_SALT') || define('WP_CACHE_KEY_SALT', 'old:');\n/* That's all, stop editing! Happy publishing. */\nrequire_once ABSPATH . 'wp-settings.php';\n";
    let (_tmp, site) = site_with(config, &["wp-redis"]);
    std::fs::write(
        site.path.join("panel.php"),
        "<?php\ndefine( 'WP_CACHE_KEY_SALT', 'panel:' );\n",
    )
    .unwrap();
    let t = target(unix("/var/run/redis/redis.sock"));
    // The planner alone edits the guarded define in place …
    let plan = plan_of(&site, &t).unwrap();
    assert!(
        plan.patches[0]
            .after
            .contains("defined('WP_CACHE_KEY_SALT') || define('WP_CACHE_KEY_SALT', 'blog:');"),
        "{}",
        plan.patches[0].after
    );
    // … but the include's define wins, so the plan is refused.
    let err = crate::patch::plan_site(&site, &t, &Templates::load().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("panel.php:2: WP_CACHE_KEY_SALT = 'panel:' is defined here first and wins"),
        "{err}"
    );
}

#[test]
fn bedrock_environment_file_overriding_a_constant_is_refused_by_the_post_condition() {
    let tmp = tempfile::tempdir().unwrap();
    let site = bedrock_site(tmp.path());
    std::fs::write(
        tmp.path().join(".env"),
        format!("{DOTENV}WP_ENV='development'\n"),
    )
    .unwrap();
    let t = target(unix("/var/run/redis/redis.sock"));
    // Bedrock's Config keeps the last Config::define(): the active environment file's 9.
    let err = crate::patch::plan_site(&site, &t, &Templates::load().unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(
            "environments/development.php:4: WP_REDIS_DATABASE = 9 is defined here first and wins"
        ),
        "{err}"
    );
    // Production (no environment override): the same plan passes its post-condition.
    std::fs::write(tmp.path().join(".env"), DOTENV).unwrap();
    crate::patch::plan_site(&site, &t, &Templates::load().unwrap()).unwrap();
}
