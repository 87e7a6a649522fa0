//! Planner tests on small temp Drupal trees: the plan is applied, both files pass `php -l`,
//! and settings.php is evaluated under `php` (installer stub, guard forced true) to compare
//! `$settings` with the intended structure.

use std::path::Path;
use std::process::Command;

use super::*;
use crate::model::{Cms, Component};
use crate::patch::{Endpoint, Plan, Secret};

const SETTINGS: &str = r#"<?php

// phpcs:ignoreFile

/**
 * @file
 * Drupal site-specific configuration file.
 */

$databases['default']['default'] = [
  'database' => 'shop',
  'username' => 'shop',
  'password' => 'pw',
  'host' => 'localhost',
  'driver' => 'mysql',
];

$settings['hash_salt'] = 'abc123';
$settings['update_free_access'] = FALSE;
$settings['container_yamls'][] = $app_root . '/' . $site_path . '/services.yml';
$settings['config_sync_directory'] = '../config/sync';
"#;

fn target(transport: Transport) -> Target {
    let ep = |transport| Endpoint {
        transport,
        password: None,
        username: None,
    };
    Target {
        cache: ep(transport),
        db: 3,
        page_cache_db: 4,
        prefix: "blog:".into(),
        ttl: 3600,
        session: ep(Transport::Unix {
            path: "/var/run/redis-persistent/redis.sock".into(),
        }),
        session_db: 1,
        session_ttl: 86400,
        ttl_explicit: true,
    }
}

fn drupal_site(root: &Path, webroot: Option<&str>, version: Option<&str>) -> Site {
    let web = webroot.map_or(root.to_path_buf(), |w| root.join(w));
    std::fs::create_dir_all(web.join("sites/default")).unwrap();
    std::fs::create_dir_all(web.join("modules/contrib/redis")).unwrap();
    for f in [
        "example.services.yml",
        "redis.services.yml",
        "redis.info.yml",
    ] {
        std::fs::write(web.join("modules/contrib/redis").join(f), "services: {}\n").unwrap();
    }
    std::fs::write(web.join("sites/default/settings.php"), SETTINGS).unwrap();
    let mut site = Site::new(
        root,
        Cms::Drupal,
        if webroot.is_some() {
            "composer"
        } else {
            "classic"
        },
    );
    if webroot.is_some() {
        site.docroot = Some(web.clone());
    }
    site.config_file(&web.join("sites/default/settings.php"), "settings");
    if let Some(v) = version {
        site.redis.components.push(Component {
            name: "drupal/redis".into(),
            version: Some(v.into()),
            path: web.join("modules/contrib/redis"),
        });
    }
    site
}

fn plan_of(site: &Site, t: &Target) -> Result<Plan> {
    DrupalPlanner.plan(site, t, &Templates::load().unwrap())
}

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

/// Evaluate `<webroot>/sites/default/settings.php` under php with `$app_root`/`$site_path`
/// set, an `InstallerKernel` stub and `extension_loaded('redis')` forced true; `$settings`.
pub(crate) fn eval_settings(webroot: &Path) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("sites/default");
    std::fs::create_dir_all(&dest).unwrap();
    for e in std::fs::read_dir(webroot.join("sites/default")).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            let text = std::fs::read_to_string(e.path()).unwrap();
            std::fs::write(
                dest.join(e.file_name()),
                text.replace("extension_loaded('redis')", "true"),
            )
            .unwrap();
        }
    }
    let prelude = tmp.path().join("prelude.php");
    std::fs::write(
        &prelude,
        "<?php\nnamespace Drupal\\Core\\Installer { class InstallerKernel { public static function installationAttempted() { return false; } } }\n\
         namespace { $app_root = $argv[1]; $site_path = 'sites/default'; $settings = []; $databases = [];\n\
         require $app_root . '/' . $site_path . '/settings.php';\necho json_encode($settings); }\n",
    )
    .unwrap();
    let out = Command::new("php")
        .arg(&prelude)
        .arg(tmp.path())
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

fn perm_ttls_v1(ttl: u64) -> Value {
    let mut m = serde_json::Map::new();
    for b in PERM_TTL_BINS {
        m.insert(format!("perm_ttl_{b}"), json!(ttl));
    }
    Value::Object(m)
}

#[test]
fn classic_socket_creates_settings_redis_and_one_include() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, Some("8.x-1.7"));
    let t = target(Transport::Unix {
        path: "/var/run/redis/redis.sock".into(),
    });
    let plan = plan_of(&site, &t).unwrap();
    assert_eq!(plan.patches.len(), 2);
    assert_eq!(plan.patches[0].rel, Path::new("sites/default/settings.php"));
    assert_eq!(
        plan.patches[0].after,
        format!(
            "{SETTINGS}\n/**\n * Redis cache settings (written by rcfg apply).\n */\n\
             if (file_exists($app_root . '/' . $site_path . '/settings.redis.php')) {{\n  \
             include $app_root . '/' . $site_path . '/settings.redis.php';\n}}\n"
        )
    );
    assert!(plan.patches[1].before.is_none());
    let redis = &plan.patches[1].after;
    assert!(redis.contains("  // For socket connections the port must be 0.\n  $settings['redis.connection']['host'] = '/var/run/redis/redis.sock';\n  $settings['redis.connection']['port'] = 0;\n"), "{redis}");
    assert!(redis.contains("$settings['redis.settings']['perm_ttl_render'] = 3600;"));
    assert!(!redis.contains("password"));
    assert!(plan.notes.is_empty(), "{:?}", plan.notes);
    write_all(&plan);
    php_lint(&site.path.join("sites/default/settings.php"));
    php_lint(&site.path.join("sites/default/settings.redis.php"));
    let s = eval_settings(&site.path);
    assert_eq!(
        s["redis.connection"],
        json!({"interface": "PhpRedis", "host": "/var/run/redis/redis.sock", "port": 0, "base": 3})
    );
    assert_eq!(s["cache_prefix"], json!("blog"));
    assert_eq!(s["cache"], json!({"default": "cache.backend.redis"}));
    assert_eq!(
        s["container_yamls"],
        json!([
            format!("{}/sites/default/services.yml", s_root(&s)),
            "modules/contrib/redis/example.services.yml",
            "modules/contrib/redis/redis.services.yml"
        ])
    );
    assert_eq!(s["redis.settings"], perm_ttls_v1(3600));
    // Untouched keys survive.
    assert_eq!(s["hash_salt"], json!("abc123"));
    assert_eq!(s["update_free_access"], json!(false));
    assert_eq!(s["config_sync_directory"], json!("../config/sync"));
    // Idempotent.
    assert!(plan_of(&site, &t).unwrap().is_noop());
}

/// The `$app_root` the eval used, read back from the services.yml entry.
fn s_root(s: &Value) -> String {
    s["container_yamls"][0]
        .as_str()
        .unwrap()
        .trim_end_matches("/sites/default/services.yml")
        .to_string()
}

#[test]
fn module_2x_uses_redis_perm_ttl_keys_and_tcp_password() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), Some("web"), Some("2.0.0"));
    let mut t = target(Transport::Tcp {
        host: "10.0.0.7".into(),
        port: 6380,
    });
    t.cache.password = Some(Secret::new("p'w"));
    t.ttl = 7200;
    let plan = plan_of(&site, &t).unwrap();
    assert_eq!(
        plan.patches[1].rel,
        Path::new("web/sites/default/settings.redis.php")
    );
    let masked = plan.mask(&plan.patches[1].after);
    assert!(masked.contains("['password'] = '********';"), "{masked}");
    write_all(&plan);
    let web = site.path.join("web");
    php_lint(&web.join("sites/default/settings.redis.php"));
    let s = eval_settings(&web);
    assert_eq!(
        s["redis.connection"],
        json!({"interface": "PhpRedis", "host": "10.0.0.7", "port": 6380, "base": 3, "password": "p'w"})
    );
    for b in PERM_TTL_BINS {
        assert_eq!(s[format!("redis_perm_ttl_{b}")], json!(7200), "{b}");
    }
    assert!(s.get("redis.settings").is_none());
    assert!(plan_of(&site, &t).unwrap().is_noop());
}

#[test]
fn unknown_version_writes_1x_keys_with_a_note() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, None);
    let plan = plan_of(
        &site,
        &target(Transport::Unix {
            path: "/r.sock".into(),
        }),
    )
    .unwrap();
    assert!(plan.notes[0].contains("drupal/redis version unknown: writing the 8.x-1.x"));
    assert!(
        plan.patches[1]
            .after
            .contains("['redis.settings']['perm_ttl_default'] = 3600;")
    );
}

#[test]
fn existing_include_is_kept_and_rcfg_block_is_rewritten() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, Some("8.x-1.7"));
    let settings = site.path.join("sites/default/settings.php");
    std::fs::write(
        &settings,
        format!("{SETTINGS}\nif (file_exists(__DIR__ . '/settings.redis.php')) {{\n  include __DIR__ . '/settings.redis.php';\n}}\n$settings['cache_prefix'] = 'late_';\n"),
    )
    .unwrap();
    let t = target(Transport::Unix {
        path: "/r.sock".into(),
    });
    let plan = plan_of(&site, &t).unwrap();
    assert!(!plan.patches[0].changes(), "include already there");
    assert!(
        plan.notes.iter().any(|n| n.contains(
            ":26: $settings['cache_prefix'] is set after settings.redis.php is included"
        )),
        "{:?}",
        plan.notes
    );
    write_all(&plan);
    // A new TTL rewrites only the block.
    let mut t2 = t.clone();
    t2.ttl = 60;
    let plan2 = plan_of(&site, &t2).unwrap();
    let p = &plan2.patches[1];
    assert!(p.before.is_some());
    assert_eq!(
        p.after,
        p.before.as_deref().unwrap().replace("= 3600;", "= 60;")
    );
}

#[test]
fn hand_written_settings_redis_is_kept_and_block_appended() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, Some("8.x-1.7"));
    let own = "<?php\n\n/**\n * @file\n * Hand-made.\n */\n\n$conf['redis_cache_socket'] = '/var/run/redis/redis.sock';\n$settings['redis.connection']['port'] = 6379;\n$settings['redis.settings']['perm_ttl_cache_menu'] = 86400;\n$settings['queue_default'] = 'queue.redis';\n";
    std::fs::write(site.path.join("sites/default/settings.redis.php"), own).unwrap();
    let t = target(Transport::Unix {
        path: "/r.sock".into(),
    });
    let plan = plan_of(&site, &t).unwrap();
    let after = &plan.patches[1].after;
    let kept = own
        .replace(
            "$conf['redis_cache_socket'] = '/var/run/redis/redis.sock';\n",
            "",
        )
        .replace(
            "$settings['redis.settings']['perm_ttl_cache_menu'] = 86400;\n",
            "",
        );
    assert!(
        after.starts_with(&kept),
        "hand-written part kept byte for byte, dead settings removed: {after}"
    );
    assert!(after[kept.len()..].starts_with("\n// BEGIN rcfg apply"));
    let notes = plan.notes.join("\n");
    assert!(
        notes.contains(":8: removed $conf['redis_cache_socket']: Drupal 8+ never reads $conf"),
        "{notes}"
    );
    assert!(
        notes.contains(
            ":10: removed $settings['redis.settings']['perm_ttl_cache_menu']: a Drupal 7-style perm TTL name"
        ),
        "{notes}"
    );
    write_all(&plan);
    let s = eval_settings(&site.path);
    assert_eq!(s["redis.connection"]["port"], json!(0));
    assert_eq!(s["queue_default"], json!("queue.redis"));
    assert!(plan_of(&site, &t).unwrap().is_noop());
}

#[test]
fn missing_module_and_closing_tag_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, None);
    std::fs::remove_dir_all(site.path.join("modules/contrib/redis")).unwrap();
    let t = target(Transport::Unix {
        path: "/r.sock".into(),
    });
    let err = plan_of(&site, &t).unwrap_err().to_string();
    assert!(
        err.contains("the drupal/redis module is not installed"),
        "{err}"
    );
    std::fs::create_dir_all(site.path.join("modules/redis")).unwrap();
    std::fs::write(
        site.path.join("sites/default/settings.php"),
        format!("{SETTINGS}?>\n"),
    )
    .unwrap();
    let err = plan_of(&site, &t).unwrap_err().to_string();
    assert!(
        err.contains("settings.php: ends with a closing ?> tag"),
        "{err}"
    );
}

#[test]
fn include_via_settings_local_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, Some("8.x-1.7"));
    let dir = site.path.join("sites/default");
    std::fs::write(
        dir.join("settings.php"),
        format!("{SETTINGS}\nif (file_exists($app_root . '/' . $site_path . '/settings.local.php')) {{\n  include $app_root . '/' . $site_path . '/settings.local.php';\n}}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("settings.local.php"),
        "<?php\ninclude __DIR__ . '/settings.redis.php';\n",
    )
    .unwrap();
    let plan = plan_of(
        &site,
        &target(Transport::Unix {
            path: "/r.sock".into(),
        }),
    )
    .unwrap();
    assert!(!plan.patches[0].changes());
    assert!(plan.patches[1].changes());
}

#[test]
fn crlf_settings_php_gets_a_crlf_include() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, Some("8.x-1.7"));
    let settings = site.path.join("sites/default/settings.php");
    std::fs::write(&settings, SETTINGS.replace('\n', "\r\n")).unwrap();
    let t = target(Transport::Unix {
        path: "/r.sock".into(),
    });
    let plan = plan_of(&site, &t).unwrap();
    let after = &plan.patches[0].after;
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "{after:?}"
    );
    assert!(after.ends_with("settings.redis.php';\r\n}\r\n"));
    write_all(&plan);
    php_lint(&settings);
    assert!(plan_of(&site, &t).unwrap().is_noop());
}

#[test]
fn a_block_without_its_end_line_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, Some("8.x-1.7"));
    std::fs::write(
        site.path.join("sites/default/settings.redis.php"),
        "<?php\n// BEGIN rcfg apply: Redis cache (drupal/redis 8.x-1.x).\n$settings['cache_prefix'] = 'x';\n",
    )
    .unwrap();
    let err = plan_of(
        &site,
        &target(Transport::Unix {
            path: "/r.sock".into(),
        }),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(
            "settings.redis.php: has the '// BEGIN rcfg apply' line but not '// END rcfg apply'"
        ),
        "{err}"
    );
}

#[test]
fn settings_local_included_after_the_redis_include_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, Some("8.x-1.7"));
    let dir = site.path.join("sites/default");
    std::fs::write(
        dir.join("settings.php"),
        format!("{SETTINGS}include __DIR__ . '/settings.redis.php';\ninclude __DIR__ . '/settings.local.php';\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("settings.local.php"),
        "<?php\n$settings['redis.connection'] = ['host' => '127.0.0.1'];\n$settings['skip_permissions_hardening'] = TRUE;\n",
    )
    .unwrap();
    let plan = plan_of(
        &site,
        &target(Transport::Unix {
            path: "/r.sock".into(),
        }),
    )
    .unwrap();
    assert!(!plan.patches[0].changes());
    let notes = plan.notes.join("\n");
    assert!(
        notes.contains(
            "settings.local.php:2: $settings['redis.connection'] is set in settings.local.php"
        ),
        "{notes}"
    );
    assert!(!notes.contains("skip_permissions_hardening"));
}

#[test]
fn settings_php_changed_after_planning_writes_nothing() {
    use crate::patch::write::{WriteOptions, write_plan};
    let tmp = tempfile::tempdir().unwrap();
    let site = drupal_site(tmp.path(), None, Some("8.x-1.7"));
    let plan = plan_of(
        &site,
        &target(Transport::Unix {
            path: "/r.sock".into(),
        }),
    )
    .unwrap();
    assert_eq!(plan.changed().count(), 2);
    let settings = site.path.join("sites/default/settings.php");
    let edited = format!("{SETTINGS}$settings['trusted_host_patterns'] = ['^example\\.com$'];\n");
    std::fs::write(&settings, &edited).unwrap();
    let err = format!(
        "{:#}",
        write_plan(&plan, WriteOptions { backup: true }).unwrap_err()
    );
    assert!(
        err.contains("settings.php: changed on disk after rcfg read it"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&settings).unwrap(), edited);
    assert!(!site.path.join("sites/default/settings.redis.php").exists());
    assert!(
        !site
            .path
            .join("sites/default/settings.php.rcfg.bak")
            .exists()
    );
}
