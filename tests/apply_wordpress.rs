//! `rcfg apply` on every WordPress fixture: the dry-run diff (snapshot), `git apply --check`
//! of that diff, a real apply whose PHP passes `php -l` and whose constants, evaluated by
//! `php` with a stubbed `wp-settings.php` (Bedrock: stubbed `Config`/`env()`), have the
//! intended values while every other constant keeps its value; idempotence; failure
//! atomicity; bad input.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_fixture, git_apply_check, php_lint, rcfg, text, tree};
use serde_json::{Value, json};

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

/// Tolerated PHP warnings: duplicate `define()`s some fixtures carry on purpose.
fn check_php(out: &std::process::Output) -> Value {
    let stderr = text(&out.stderr);
    assert!(
        out.status.success()
            && stderr
                .lines()
                .all(|l| l.trim().is_empty() || l.contains("already defined")),
        "php failed: {stderr}\n{}",
        text(&out.stdout)
    );
    let stdout = text(&out.stdout);
    let json_start = stdout.find('{').expect("JSON output");
    serde_json::from_str(&stdout[json_start..]).unwrap()
}

/// Every constant the site's `wp-config.php` defines (and `$redis_server`), evaluated by php
/// with `ABSPATH/wp-settings.php` replaced by a stub that prints them. Works on a copy.
fn eval_wp_config(site: &Path, abspath: &Path) -> Value {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("site");
    common::copy_tree(site, &copy);
    let abs = copy.join(abspath.strip_prefix(site).unwrap());
    std::fs::write(
        abs.join("wp-settings.php"),
        "<?php\n$c = get_defined_constants(true)['user'];\nunset($c['ABSPATH']);\n\
         echo json_encode(['constants' => $c, 'redis_server' => $redis_server ?? null]);\n",
    )
    .unwrap();
    let config = if copy.join("wp-config.php").is_file() {
        copy.join("wp-config.php")
    } else {
        abs.join("wp-config.php")
    };
    let out = Command::new("php")
        .args(["-d", "display_errors=stderr"])
        .arg(&config)
        .output()
        .unwrap();
    check_php(&out)
}

/// Bedrock: evaluate `config/application.php` with stubs for `Config`, `env()`, phpdotenv and
/// `Env::$options`, reading `.env` the way `oscarotero/env` converts values; returns what
/// `Config::apply()` would define.
fn eval_bedrock(site: &Path) -> Value {
    let prelude = r#"<?php
namespace Roots\WPConfig { class Config { public static $m = []; public static function define($k, $v) { self::$m[$k] = $v; } public static function get($k) { return self::$m[$k] ?? null; } public static function apply() { echo json_encode(self::$m); } } }
namespace Dotenv { class Dotenv { public static function createImmutable(...$a) { return new self(); } public function load() { return []; } public function required($v) { return $this; } } }
namespace Env { class Env { public static $options = 0; } function env($k) { return $GLOBALS['__env'][$k] ?? null; } }
namespace {
  $__env = [];
  foreach (file($argv[1], FILE_IGNORE_NEW_LINES) as $l) {
    if (preg_match('/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/', $l, $m)) {
      $v = trim($m[2]);
      if ($v !== '' && ($v[0] === '"' || $v[0] === "'")) { $v = substr($v, 1, strpos($v, $v[0], 1) - 1); }
      else { $v = preg_replace('/\s+#.*$/', '', $v); }
      if ($v === 'true') { $v = true; } elseif ($v === 'false') { $v = false; } elseif (ctype_digit($v)) { $v = (int) $v; }
      if (!array_key_exists($m[1], $__env)) { $__env[$m[1]] = $v; }
    }
  }
  require $argv[2];
}
"#;
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("prelude.php");
    std::fs::write(&p, prelude).unwrap();
    let out = Command::new("php")
        .args(["-d", "display_errors=stderr"])
        .arg(&p)
        .arg(site.join(".env"))
        .arg(site.join("config/application.php"))
        .output()
        .unwrap();
    check_php(&out)
}

/// What a fixture is and what rcfg should make of it with the default inputs.
struct Case {
    fixture: &'static str,
    /// Site directory below the fixture copy given to `rcfg apply`.
    arg: &'static str,
    /// The ABSPATH below the site root.
    abspath: &'static str,
    kind: Kind,
    /// Constants rcfg sets and their intended values.
    managed: Value,
}

#[derive(PartialEq)]
enum Kind {
    Classic,
    Pantheon,
    Bedrock,
}

fn rc_socket(db: i64, prefix: &str) -> Value {
    json!({
        "WP_REDIS_SCHEME": "unix",
        "WP_REDIS_PATH": "/var/run/redis/redis.sock",
        "WP_REDIS_DATABASE": db,
        "WP_REDIS_PREFIX": prefix,
        "WP_REDIS_MAXTTL": 86400,
    })
}

/// The whole proof for one fixture.
fn prove(case: Case) {
    let (tmp, root) = copy_fixture(case.fixture);
    let site = root.join(case.arg);
    let site_arg = site.to_str().unwrap().to_string();
    let abspath = root.join(case.abspath);
    // The site root is the fixture root (for wordpress-parent-config, the directory holding
    // wp-config.php above ABSPATH).
    let site_root = root.clone();
    let (before_tmp, pristine) = copy_fixture(case.fixture);
    let before_tree = tree(&site_root);
    let before_eval = match case.kind {
        Kind::Bedrock => eval_bedrock(&site_root),
        _ => eval_wp_config(&site_root, &abspath),
    };

    // Dry run: snapshot, nothing written, git apply --check.
    let dry = run(&[&site_arg, "--dry-run"], &[]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let diff = text(&dry.stdout);
    let shown = diff.replace(tmp.path().to_str().unwrap(), "[TMP]");
    insta::assert_snapshot!(case.fixture, shown);
    assert_eq!(tree(&site_root), before_tree, "dry run wrote something");
    git_apply_check(&pristine, &diff);
    drop(before_tmp);

    // Real apply.
    let out = run(&[&site_arg], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after_tree = tree(&site_root);
    for (path, bytes) in &after_tree {
        assert!(
            !path.to_string_lossy().contains(".rcfg"),
            "no backup or temp file in the site: {}",
            path.display()
        );
        if before_tree.get(path) != Some(bytes) {
            if path.extension().is_some_and(|e| e == "php") {
                php_lint(&site_root.join(path));
            }
            // The backup (in the state directory) holds the original.
            if let Some(orig) = before_tree.get(path) {
                assert_eq!(
                    common::backup_of(&out.stdout, path).as_ref(),
                    Some(orig),
                    "backup of {}: {}",
                    path.display(),
                    text(&out.stdout)
                );
            }
        }
    }
    let after_eval = match case.kind {
        Kind::Bedrock => eval_bedrock(&site_root),
        _ => eval_wp_config(&site_root, &abspath),
    };
    let (before_c, after_c) = if case.kind == Kind::Bedrock {
        (&before_eval, &after_eval)
    } else {
        (&before_eval["constants"], &after_eval["constants"])
    };
    let managed = case.managed.as_object().unwrap();
    for (k, v) in managed {
        if k != "$redis_server" {
            assert_eq!(&after_c[k], v, "{}: {k}", case.fixture);
        }
    }
    // Every other constant keeps its value.
    let mut names: Vec<&String> = before_c.as_object().unwrap().keys().collect();
    names.extend(after_c.as_object().unwrap().keys());
    for k in names {
        if !managed.contains_key(k) {
            assert_eq!(before_c[k], after_c[k], "{}: {k} changed", case.fixture);
        }
    }
    if case.kind == Kind::Pantheon {
        assert_eq!(after_eval["redis_server"], managed["$redis_server"]);
    }

    // Idempotence.
    let again = run(&[&site_arg], &[]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stdout).contains("already up to date, nothing written"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(tree(&site_root), after_tree);
    let check = run(&[&site_arg, "--check"], &[]);
    assert_eq!(check.status.code(), Some(0));
}

#[test]
fn wordpress_classic() {
    prove(Case {
        fixture: "wordpress-classic",
        arg: "",
        abspath: "",
        kind: Kind::Classic,
        managed: rc_socket(1, "wordpress_classic:"),
    });
}

#[test]
fn wordpress_classic_redis_is_already_up_to_date() {
    // The fixture already has the socket, its own database (2) and prefix, and MAXTTL 86400.
    let (_tmp, root) = copy_fixture("wordpress-classic-redis");
    let before = tree(&root);
    let dry = run(&[root.to_str().unwrap(), "--dry-run"], &[]);
    assert_eq!(dry.status.code(), Some(0));
    assert_eq!(text(&dry.stdout), "");
    assert!(text(&dry.stderr).contains("already up to date"));
    let check = run(&[root.to_str().unwrap(), "--check"], &[]);
    assert_eq!(check.status.code(), Some(0));
    // A different TTL is an in-place edit of the existing define.
    let dry = run(&[root.to_str().unwrap(), "--dry-run", "--ttl", "3600"], &[]);
    let diff = text(&dry.stdout);
    assert!(
        diff.contains(
            "-define( 'WP_REDIS_MAXTTL', 86400 );\n+define( 'WP_REDIS_MAXTTL', 3600 );\n"
        ),
        "{diff}"
    );
    assert_eq!(diff.matches("\n+").count(), 2, "one line changed: {diff}");
    let check = run(&[root.to_str().unwrap(), "--check", "--ttl", "3600"], &[]);
    assert_eq!(check.status.code(), Some(1));
    assert_eq!(tree(&root), before);
}

#[test]
fn wordpress_lints() {
    // MAXTTL 0 edited to a positive value, the ignored duplicate DATABASE define removed
    // (the first one, 3, is the effective one and kept), Pantheon's TTL constant removed,
    // scheme and prefix added.
    let mut managed = rc_socket(3, "lints:");
    managed["WP_REDIS_DEFAULT_EXPIRE_SECONDS"] = Value::Null;
    prove(Case {
        fixture: "wordpress-lints",
        arg: "",
        abspath: "",
        kind: Kind::Classic,
        managed,
    });
}

#[test]
fn wordpress_parent_config() {
    prove(Case {
        fixture: "wordpress-parent-config",
        arg: "public_html",
        abspath: "public_html",
        kind: Kind::Classic,
        managed: rc_socket(1, "wordpress_parent_config:"),
    });
}

#[test]
fn wordpress_pantheon() {
    prove(Case {
        fixture: "wordpress-pantheon",
        arg: "",
        abspath: "",
        kind: Kind::Pantheon,
        managed: json!({
            "WP_CACHE_KEY_SALT": "pantheon1:",
            "WP_REDIS_DEFAULT_EXPIRE_SECONDS": 86400,
            "$redis_server": {
                "host": "/var/run/redis/redis.sock",
                "port": null,
                "auth": "Zr8qW2s9",
                "database": 5
            }
        }),
    });
}

#[test]
fn wordpress_bedrock() {
    prove(Case {
        fixture: "wordpress-bedrock",
        arg: "",
        abspath: "web/wp",
        kind: Kind::Bedrock,
        managed: rc_socket(1, "wordpress_bedrock:"),
    });
}

#[test]
fn wordpress_bedrock_redis() {
    prove(Case {
        fixture: "wordpress-bedrock-redis",
        arg: "",
        abspath: "web/wp",
        kind: Kind::Bedrock,
        // The site's own WP_REDIS_MAXTTL (43200) is kept: no --ttl given.
        managed: {
            let mut m = rc_socket(4, "shopbedrock:");
            m["WP_REDIS_MAXTTL"] = json!(43200);
            m
        },
    });
}

#[test]
fn tcp_with_password_is_masked_and_evaluates() {
    let (tmp, root) = copy_fixture("wordpress-classic");
    let site = root.to_str().unwrap();
    let pw = "Hx7-secret'9";
    let args = [
        site, "--host", "10.1.2.3", "--port", "6380", "--db", "6", "--prefix", "blog1:", "--ttl",
        "600",
    ];
    let mut dry_args = args.to_vec();
    dry_args.push("--dry-run");
    let dry = run(&dry_args, &[("RCFG_REDIS_PASSWORD", pw)]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let diff = text(&dry.stdout);
    assert!(!diff.contains("Hx7-secret"), "{diff}");
    insta::assert_snapshot!(
        "wordpress-classic-tcp-password",
        diff.replace(tmp.path().to_str().unwrap(), "[TMP]")
    );
    let out = run(&args, &[("RCFG_REDIS_PASSWORD", pw)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("Hx7-secret"));
    php_lint(&root.join("wp-config.php"));
    let v = eval_wp_config(&root, &root);
    assert_eq!(v["constants"]["WP_REDIS_SCHEME"], json!("tcp"));
    assert_eq!(v["constants"]["WP_REDIS_HOST"], json!("10.1.2.3"));
    assert_eq!(v["constants"]["WP_REDIS_PORT"], json!(6380));
    assert_eq!(v["constants"]["WP_REDIS_DATABASE"], json!(6));
    assert_eq!(v["constants"]["WP_REDIS_PREFIX"], json!("blog1:"));
    assert_eq!(v["constants"]["WP_REDIS_MAXTTL"], json!(600));
    assert_eq!(v["constants"]["WP_REDIS_PASSWORD"], json!(pw));
    let again = run(&args, &[("RCFG_REDIS_PASSWORD", pw)]);
    assert!(text(&again.stdout).contains("already up to date"));
}

#[test]
fn wp_config_without_anchor_is_refused() {
    let (_tmp, root) = copy_fixture("wordpress-classic");
    let config = root.join("wp-config.php");
    let original = std::fs::read_to_string(&config).unwrap();
    let stripped: String = original
        .lines()
        .filter(|l| !l.contains("stop editing") && !l.contains("wp-settings.php"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&config, &stripped).unwrap();
    let before = tree(&root);
    let out = run(&[root.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "wp-config.php: no usable anchor in wp-config.php: add the stop-editing comment"
        ),
        "{err}"
    );
    assert!(err.contains("nothing written"), "{err}");
    assert_eq!(tree(&root), before);
}

#[test]
fn unparsable_wp_config_is_refused_naming_file_and_line() {
    let (_tmp, root) = copy_fixture("wordpress-classic");
    let config = root.join("wp-config.php");
    let original = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        original.replace("define( 'WP_DEBUG', false );", "define( 'WP_DEBUG', false;"),
    )
    .unwrap();
    let line = original
        .lines()
        .position(|l| l.contains("'WP_DEBUG'"))
        .unwrap()
        + 1;
    let before = tree(&root);
    let out = run(&[root.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("wp-config.php: line "), "{err}");
    assert!(
        err.contains(&format!("line {line}: cannot parse PHP")),
        "{err}"
    );
    assert_eq!(
        err.matches("wp-config.php").count(),
        1,
        "the file is named once: {err}"
    );
    assert_eq!(tree(&root), before);
}

#[test]
fn prefix_with_a_quote_is_refused() {
    let (_tmp, root) = copy_fixture("wordpress-classic");
    let before = tree(&root);
    let out = run(&[root.to_str().unwrap(), "--prefix", "x'y"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("would break the generated config"));
    assert_eq!(tree(&root), before);
}

#[test]
fn bedrock_read_only_env_changes_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let (_tmp, root) = copy_fixture("wordpress-bedrock");
    let env = root.join(".env");
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = tree(&root);
    let out = run(&[root.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains(".env: file is read-only"),
        "{}",
        text(&out.stderr)
    );
    // config/application.php would change too, and did not.
    assert_eq!(tree(&root), before);
}

/// wordpress-classic with `extra` defines before the "stop editing" line.
fn classic_with(extra: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = copy_fixture("wordpress-classic");
    let config = root.join("wp-config.php");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        text.replace("/* That's all", &format!("{extra}/* That's all")),
    )
    .unwrap();
    (tmp, root)
}

#[test]
fn an_acl_password_array_is_kept_and_never_shown() {
    let (_tmp, root) = classic_with(
        "define( 'WP_REDIS_HOST', '127.0.0.1' );\n\
         define( 'WP_REDIS_PASSWORD', [ 'app', 'arr-secret-77' ] );\n\
         define( 'WP_REDIS_DATABASE', 0 );\n",
    );
    let site = root.to_str().unwrap();
    // The same server over TCP: the password stays.
    let args = [site, "--host", "127.0.0.1", "--port", "6379", "--db", "3"];
    let mut dry_args = args.to_vec();
    dry_args.push("--dry-run");
    let dry = run(&dry_args, &[]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let shown = text(&dry.stdout) + &text(&dry.stderr);
    assert!(!shown.contains("arr-secret-77"), "{shown}");
    // The password line is next to a change, but left out of the context (the hunk
    // starts after it), so the diff still applies as is.
    assert!(!shown.contains("WP_REDIS_PASSWORD', ["), "{shown}");
    assert!(!shown.contains("secrets are shown as"), "{shown}");
    git_apply_check(&root, &text(&dry.stdout));
    assert!(
        shown.contains("define( 'WP_REDIS_DATABASE', 0 );: 0 → 3"),
        "{shown}"
    );
    let out = run(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("arr-secret-77"));
    let v = eval_wp_config(&root, &root);
    assert_eq!(
        v["constants"]["WP_REDIS_PASSWORD"],
        json!(["app", "arr-secret-77"])
    );
    assert_eq!(v["constants"]["WP_REDIS_DATABASE"], json!(3));
}

#[test]
fn a_password_for_another_server_is_refused_and_not_shown() {
    let (_tmp, root) = classic_with(
        "define( 'WP_REDIS_HOST', '10.0.0.7' );\n\
         define( 'WP_REDIS_PASSWORD', 'other-server-pw' );\n",
    );
    let before = tree(&root);
    let out = run(&[root.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("wp-config.php:")
            && err.contains("has a Redis password for tcp://10.0.0.7:6379")
            && err.contains("cannot tell whether that password applies there")
            && err.contains("RCFG_REDIS_PASSWORD"),
        "{err}"
    );
    assert!(!err.contains("other-server-pw"), "{err}");
    assert_eq!(tree(&root), before);
    // With the new server's password it goes ahead, and that password is what is written.
    let out = run(
        &[root.to_str().unwrap()],
        &[("RCFG_REDIS_PASSWORD", "new-server-pw")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = eval_wp_config(&root, &root);
    assert_eq!(v["constants"]["WP_REDIS_PASSWORD"], json!("new-server-pw"));
}

#[test]
fn a_sites_own_maxttl_is_kept_unless_ttl_is_given() {
    let (_tmp, root) = classic_with("define( 'WP_REDIS_MAXTTL', 3600 );\n");
    let site = root.to_str().unwrap();
    let dry = run(&[site, "--dry-run"], &[]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let diff = text(&dry.stdout);
    assert!(!diff.contains("WP_REDIS_MAXTTL', 86400"), "{diff}");
    let given = run(&[site, "--dry-run", "--ttl", "600"], &[]);
    let diff = text(&given.stdout);
    assert!(
        diff.contains("-define( 'WP_REDIS_MAXTTL', 3600 );\n+define( 'WP_REDIS_MAXTTL', 600 );\n"),
        "{diff}"
    );
    assert!(
        diff.contains("define( 'WP_REDIS_MAXTTL', 3600 );: 3600 → 600"),
        "{diff}"
    );
    let out = run(&[site], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v = eval_wp_config(&root, &root);
    assert_eq!(v["constants"]["WP_REDIS_MAXTTL"], json!(3600));
}

/// `patch --dry-run -p1` must accept `diff` from `root`.
fn patch_check(root: &Path, diff: &str) {
    let file = root.parent().unwrap().join("rcfg-test-patch.diff");
    std::fs::write(&file, diff).unwrap();
    let out = Command::new("patch")
        .args(["--dry-run", "-p1", "-i"])
        .arg(&file)
        .current_dir(root)
        .output()
        .expect("patch is installed");
    std::fs::remove_file(&file).unwrap();
    assert!(
        out.status.success(),
        "patch --dry-run: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}

#[test]
fn dry_run_diffs_apply_with_git_and_patch_whatever_the_line_endings() {
    let original =
        std::fs::read_to_string(common::fixture("wordpress-classic/wp-config.php")).unwrap();
    let cases: [(&str, Vec<u8>); 4] = [
        ("crlf", original.replace('\n', "\r\n").into_bytes()),
        (
            "lone-cr",
            original
                .replace(
                    "$table_prefix = 'wp_';",
                    "$table_prefix = 'wp_'; /* a\rb */",
                )
                .replace("/* That's all", "/* c\rd */\n/* That's all")
                .into_bytes(),
        ),
        (
            "no-final-newline",
            original.trim_end_matches('\n').as_bytes().to_vec(),
        ),
        (
            // The anchor is the last line, without a newline.
            "anchor-last-no-newline",
            format!(
                "{}/* That's all, stop editing! */",
                &original[..original.find("/* That's all").unwrap()]
            )
            .into_bytes(),
        ),
    ];
    for (name, bytes) in cases {
        let (_tmp, root) = copy_fixture("wordpress-classic");
        std::fs::write(root.join("wp-config.php"), &bytes).unwrap();
        let dry = run(&[root.to_str().unwrap(), "--dry-run"], &[]);
        assert_eq!(dry.status.code(), Some(0), "{name}: {}", text(&dry.stderr));
        let diff = String::from_utf8(dry.stdout.clone()).unwrap();
        git_apply_check(&root, &diff);
        patch_check(&root, &diff);
        // Applying the diff gives exactly the bytes rcfg writes.
        let (_tmp2, copy) = copy_fixture("wordpress-classic");
        std::fs::write(copy.join("wp-config.php"), &bytes).unwrap();
        let file = copy.parent().unwrap().join("d.diff");
        std::fs::write(&file, &diff).unwrap();
        let applied = Command::new("git")
            .args(["apply"])
            .arg(&file)
            .current_dir(&copy)
            .output()
            .unwrap();
        assert!(
            applied.status.success(),
            "{name}: {}",
            text(&applied.stderr)
        );
        let out = run(&[root.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        assert_eq!(
            std::fs::read(copy.join("wp-config.php")).unwrap(),
            std::fs::read(root.join("wp-config.php")).unwrap(),
            "{name}: git apply and rcfg apply agree byte for byte"
        );
        php_lint(&root.join("wp-config.php"));
    }
}

#[test]
fn a_non_utf8_config_is_refused_naming_the_file() {
    let (_tmp, root) = copy_fixture("wordpress-classic");
    let config = root.join("wp-config.php");
    let mut bytes = std::fs::read(&config).unwrap();
    let at = bytes.windows(2).position(|w| w == b"/*").unwrap();
    bytes.splice(at..at, b"// caf\xe9\n".iter().copied());
    std::fs::write(&config, &bytes).unwrap();
    let before = tree(&root);
    let out = run(&[root.to_str().unwrap(), "--dry-run"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("wp-config.php") && err.contains("not valid UTF-8"),
        "{err}"
    );
    assert_eq!(text(&out.stdout), "");
    assert_eq!(tree(&root), before);
}
