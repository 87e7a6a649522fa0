//! `rcfg apply` on every Drupal fixture: the dry-run diff (snapshot), `git apply --check`,
//! a real apply whose PHP passes `php -l` and whose `$settings`, evaluated by `php` (installer
//! stub, `extension_loaded('redis')` forced true), hold the intended Redis structure while
//! every other setting keeps its value; idempotence; failure atomicity; Drupal 7 and a
//! missing module refused.

mod common;

use std::path::Path;
use std::process::Command;

use common::{copy_fixture, git_apply_check, php_lint, rcfg, text, tree};
use serde_json::{Value, json};

const BINS: &[&str] = &[
    "default",
    "bootstrap",
    "config",
    "data",
    "discovery",
    "dynamic_page_cache",
    "entity",
    "menu",
    "page",
    "render",
];

fn run(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = rcfg();
    cmd.arg("apply")
        .args(args)
        .env_remove("RCFG_REDIS_PASSWORD");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `$settings` after loading `<webroot>/sites/default/settings.php` under php, with
/// `$app_root`/`$site_path` set, a stub `InstallerKernel` and the `redis` extension check
/// forced true (php-cli has no redis extension). Works on a copy of `sites/default`; the
/// copy's path shows as `[ROOT]`.
fn eval_settings(webroot: &Path) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let dest = tmp.path().join("sites/default");
    std::fs::create_dir_all(&dest).unwrap();
    for e in std::fs::read_dir(webroot.join("sites/default")).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            let t = std::fs::read_to_string(e.path()).unwrap();
            std::fs::write(
                dest.join(e.file_name()),
                t.replace("extension_loaded('redis')", "true"),
            )
            .unwrap();
        }
    }
    let prelude = tmp.path().join("prelude.php");
    std::fs::write(
        &prelude,
        "<?php\nnamespace Drupal\\Core\\Installer { class InstallerKernel { public static function installationAttempted() { return false; } } }\n\
         namespace { $app_root = $argv[1]; define('DRUPAL_ROOT', $app_root); $site_path = 'sites/default'; $settings = []; $databases = []; $config = [];\n\
         require $app_root . '/' . $site_path . '/settings.php';\necho json_encode($settings, JSON_UNESCAPED_SLASHES); }\n",
    )
    .unwrap();
    let out = Command::new("php")
        .args(["-d", "display_errors=stderr"])
        .arg(&prelude)
        .arg(tmp.path())
        .output()
        .unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "php failed: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    // $app_root differs per copy: name it.
    let json = text(&out.stdout).replace(tmp.path().to_str().unwrap(), "[ROOT]");
    serde_json::from_str(&json).unwrap()
}

/// The intended Redis settings for one fixture.
struct Want {
    host: &'static str,
    port: i64,
    base: i64,
    prefix: &'static str,
    v2: bool,
    ttl: i64,
    yamls: &'static [&'static str],
    /// Bins whose TTL is the site's own, kept because --ttl was not given.
    kept: &'static [(&'static str, i64)],
}

/// Top-level `$settings` keys rcfg manages.
fn managed(key: &str) -> bool {
    matches!(
        key,
        "redis.connection" | "cache_prefix" | "cache" | "container_yamls" | "redis.settings"
    ) || key.starts_with("redis_perm_ttl")
}

fn assert_settings(fixture: &str, before: &Value, after: &Value, want: &Want) {
    let conn = &after["redis.connection"];
    assert_eq!(conn["interface"], json!("PhpRedis"), "{fixture}");
    assert_eq!(conn["host"], json!(want.host), "{fixture}");
    assert_eq!(conn["port"], json!(want.port), "{fixture}");
    assert_eq!(conn["base"], json!(want.base), "{fixture}");
    // Connection keys rcfg does not manage (a password set elsewhere) survive.
    if let Some(old) = before["redis.connection"].as_object() {
        for (k, v) in old {
            if !["interface", "host", "port", "base"].contains(&k.as_str()) {
                assert_eq!(&conn[k], v, "{fixture}: redis.connection.{k}");
            }
        }
    }
    assert_eq!(after["cache_prefix"], json!(want.prefix), "{fixture}");
    assert_eq!(after["cache"]["default"], json!("cache.backend.redis"));
    if let Some(old) = before["cache"].as_object() {
        for (k, v) in old.iter().filter(|(k, _)| *k != "default") {
            assert_eq!(&after["cache"][k], v, "{fixture}: cache.{k}");
        }
    }
    let yamls = after["container_yamls"].as_array().unwrap();
    for y in want.yamls {
        assert!(yamls.contains(&json!(y)), "{fixture}: {y} in {yamls:?}");
    }
    for y in before["container_yamls"].as_array().into_iter().flatten() {
        assert!(yamls.contains(y), "{fixture}: {y} kept");
    }
    for bin in BINS {
        let v = if want.v2 {
            &after[format!("redis_perm_ttl_{bin}")]
        } else {
            &after["redis.settings"][format!("perm_ttl_{bin}")]
        };
        let ttl = want
            .kept
            .iter()
            .find(|(b, _)| b == bin)
            .map_or(want.ttl, |k| k.1);
        assert_eq!(v, &json!(ttl), "{fixture}: perm ttl {bin}");
    }
    // Everything else is untouched.
    let mut keys: Vec<&String> = before.as_object().unwrap().keys().collect();
    keys.extend(after.as_object().unwrap().keys());
    for k in keys {
        if !managed(k) {
            assert_eq!(before[k], after[k], "{fixture}: $settings['{k}'] changed");
        }
    }
}

fn prove(fixture: &str, root: &Path, tmp: &Path, webroot: &str, want: Want, extra: &[&str]) {
    let site_arg = root.to_str().unwrap().to_string();
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let mut all = args.to_vec();
        all.extend_from_slice(extra);
        run(&all, envs)
    };
    let web = root.join(webroot);
    let pristine_tmp = tempfile::tempdir().unwrap();
    let pristine = pristine_tmp.path().join("site");
    common::copy_tree(root, &pristine);
    let before_tree = tree(root);
    let before = eval_settings(&web);

    let dry = run(&[&site_arg, "--dry-run"], &[]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let diff = text(&dry.stdout);
    insta::assert_snapshot!(fixture, diff.replace(tmp.to_str().unwrap(), "[TMP]"));
    assert_eq!(tree(root), before_tree, "dry run wrote something");
    git_apply_check(&pristine, &diff);

    let out = run(&[&site_arg], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after_tree = tree(root);
    for (path, bytes) in &after_tree {
        if before_tree.get(path) != Some(bytes) && path.extension().is_some_and(|e| e == "php") {
            php_lint(&root.join(path));
        }
    }
    assert!(after_tree.contains_key(&Path::new(webroot).join("sites/default/settings.redis.php")));
    let after = eval_settings(&web);
    assert_settings(fixture, &before, &after, &want);

    let again = run(&[&site_arg], &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stdout).contains("already up to date, nothing written"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(tree(root), after_tree);
    assert_eq!(run(&[&site_arg, "--check"], &[]).status.code(), Some(0));
}

const SOCKET: &str = "/var/run/redis/redis.sock";

#[test]
fn drupal_classic_redis() {
    let (tmp, root) = copy_fixture("drupal-classic-redis");
    prove(
        "drupal-classic-redis",
        &root,
        tmp.path(),
        "",
        Want {
            host: SOCKET,
            port: 0,
            base: 1,
            prefix: "classic_",
            v2: false,
            ttl: 86400,
            yamls: &["modules/contrib/redis/example.services.yml"],
            kept: &[],
        },
        &[],
    );
}

#[test]
fn drupal_composer() {
    let (tmp, root) = copy_fixture("drupal-composer");
    prove(
        "drupal-composer",
        &root,
        tmp.path(),
        "web",
        // The same server the site uses, so its password (settings.local.php) stays.
        Want {
            host: "127.0.0.1",
            port: 6379,
            base: 3,
            prefix: "composer_",
            v2: true,
            ttl: 86400,
            yamls: &["modules/contrib/redis/example.services.yml"],
            kept: &[("render", 172800)],
        },
        &["--host", "127.0.0.1", "--port", "6379"],
    );
}

#[test]
fn drupal_docroot_lints() {
    let (tmp, root) = copy_fixture("drupal-docroot-lints");
    prove(
        "drupal-docroot-lints",
        &root,
        tmp.path(),
        "docroot",
        Want {
            host: SOCKET,
            port: 0,
            base: 1,
            prefix: "drupal_docroot_lints",
            v2: false,
            ttl: 86400,
            yamls: &["modules/contrib/redis/example.services.yml"],
            // From the 2.x-only $settings['redis_perm_ttl_render'], removed.
            kept: &[("render", 3600)],
        },
        &[],
    );
}

#[test]
fn drupal_classic_with_the_module_installed() {
    // The fixture has no redis module; install one the way a tarball does.
    let (tmp, root) = copy_fixture("drupal-classic");
    let module = root.join("modules/contrib/redis");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(
        module.join("redis.info.yml"),
        "name: Redis\ntype: module\ncore_version_requirement: ^9.3 || ^10 || ^11\n\n# Information added by Drupal.org packaging script on 2024-01-10\nversion: '2.0.0'\nproject: 'redis'\n",
    )
    .unwrap();
    std::fs::write(module.join("example.services.yml"), "services: {}\n").unwrap();
    std::fs::write(module.join("redis.services.yml"), "services: {}\n").unwrap();
    prove(
        "drupal-classic-module-installed",
        &root,
        tmp.path(),
        "",
        Want {
            host: SOCKET,
            port: 0,
            base: 1,
            prefix: "drupal_classic",
            v2: true,
            ttl: 86400,
            yamls: &[
                "modules/contrib/redis/example.services.yml",
                "modules/contrib/redis/redis.services.yml",
            ],
            kept: &[],
        },
        &[],
    );
}

#[test]
fn tcp_password_and_ttl_on_composer() {
    let (tmp, root) = copy_fixture("drupal-composer");
    let site = root.to_str().unwrap();
    let pw = "n3w-p'ss";
    let args = [
        site,
        "--url",
        "redis://10.0.0.9:6380/5",
        "--ttl",
        "3600",
        "--prefix",
        "shop9",
    ];
    let mut dry_args = args.to_vec();
    dry_args.push("--dry-run");
    let dry = run(&dry_args, &[("RCFG_REDIS_PASSWORD", pw)]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let diff = text(&dry.stdout);
    assert!(!diff.contains("n3w-p"), "{diff}");
    insta::assert_snapshot!(
        "drupal-composer-tcp-password",
        diff.replace(tmp.path().to_str().unwrap(), "[TMP]")
    );
    let before = eval_settings(&root.join("web"));
    let out = run(&args, &[("RCFG_REDIS_PASSWORD", pw)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    php_lint(&root.join("web/sites/default/settings.redis.php"));
    let after = eval_settings(&root.join("web"));
    assert_eq!(after["redis.connection"]["password"], json!(pw));
    let mut before_wo_pw = before.clone();
    before_wo_pw["redis.connection"]
        .as_object_mut()
        .unwrap()
        .remove("password");
    assert_settings(
        "drupal-composer",
        &before_wo_pw,
        &after,
        &Want {
            host: "10.0.0.9",
            port: 6380,
            base: 5,
            prefix: "shop9",
            v2: true,
            ttl: 3600,
            yamls: &["modules/contrib/redis/example.services.yml"],
            kept: &[],
        },
    );
    let again = run(&args, &[("RCFG_REDIS_PASSWORD", pw)]);
    assert!(text(&again.stdout).contains("already up to date"));
}

#[test]
fn drupal_classic_without_the_module_is_refused() {
    let (_tmp, root) = copy_fixture("drupal-classic");
    let before = tree(&root);
    let out = run(&[root.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("the drupal/redis module is not installed"),
        "{err}"
    );
    assert!(err.contains("nothing written"), "{err}");
    assert_eq!(tree(&root), before);
}

#[test]
fn drupal7_is_refused() {
    let (_tmp, root) = copy_fixture("drupal7");
    let before = tree(&root);
    let out = run(&[root.to_str().unwrap(), "--dry-run"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(root.to_str().unwrap()), "{err}");
    assert!(
        err.contains("Drupal 7") && err.contains("not supported"),
        "{err}"
    );
    assert_eq!(text(&out.stdout), "");
    let out = run(&[root.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(tree(&root), before);
}

#[test]
fn read_only_settings_php_creates_no_settings_redis_php() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, root) = copy_fixture("drupal-composer");
    let settings = root.join("web/sites/default/settings.php");
    std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = tree(&root);
    let out = run(
        &[
            root.to_str().unwrap(),
            "--host",
            "127.0.0.1",
            "--port",
            "6379",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("settings.php: file is read-only"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(tree(&root), before, "neither file changed");
    assert!(!root.join("web/sites/default/settings.redis.php").exists());
}

#[test]
fn prefix_with_a_quote_is_refused() {
    let (_tmp, root) = copy_fixture("drupal-classic-redis");
    let before = tree(&root);
    let out = run(&[root.to_str().unwrap(), "--prefix", "x'y"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(tree(&root), before);
}

#[test]
fn the_password_in_rcfgs_block_is_kept_when_no_new_one_is_given() {
    let (_tmp, root) = copy_fixture("drupal-classic-redis");
    let site = root.to_str().unwrap();
    let pw = "blk-pw-long-1";
    let first = run(
        &[site, "--url", "redis://10.0.0.9:6380"],
        &[("RCFG_REDIS_PASSWORD", pw)],
    );
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let written = tree(&root);
    // Same server, no password given: nothing to change, the password stays.
    let again = run(&[site, "--url", "redis://10.0.0.9:6380"], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).contains("already up to date"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(tree(&root), written);
    assert_eq!(
        eval_settings(&root)["redis.connection"]["password"],
        json!(pw)
    );
    // A TTL change rewrites the block and still keeps the password, masked in the diff.
    let dry = run(
        &[
            site,
            "--url",
            "redis://10.0.0.9:6380",
            "--ttl",
            "600",
            "--dry-run",
        ],
        &[],
    );
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let shown = text(&dry.stdout) + &text(&dry.stderr);
    assert!(!shown.contains(pw), "{shown}");
    // Another server: rcfg cannot tell whether the password applies there.
    let other = run(&[site, "--url", "redis://10.0.0.8:6380"], &[]);
    assert_eq!(other.status.code(), Some(2));
    let err = text(&other.stderr);
    assert!(
        err.contains("settings.redis.php:") && err.contains("cannot tell"),
        "{err}"
    );
    assert!(!err.contains(pw));
    assert_eq!(tree(&root), written);
}
