//! `rcfg apply` on the Magento fixtures: the dry-run diff (snapshot) applies with `git apply`,
//! a real apply leaves an env.php that passes `php -l` and evaluates, in full, to the array
//! before plus exactly the intended changes; a second apply changes nothing; failures and
//! bad inputs change nothing.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{copy_fixture, git_apply_check, php_lint, rcfg, text, tree};
use serde_json::{Value, json};

const SOCKET: &str = "/var/run/redis/redis.sock";
const SESSION_SOCKET: &str = "/var/run/redis-persistent/redis.sock";
const DEAD: &[&str] = &[
    "default_lifetime",
    "min_lifetime",
    "max_lifetime",
    "id_prefix",
    "lifetimelimit",
];

/// `rcfg apply <root> <args…>` with no password in the environment.
fn apply(root: &Path, args: &[&str]) -> std::process::Output {
    apply_with(root, args, (None, None))
}

/// `rcfg apply <root> <args…>`, with a session password when given.
fn apply_with(
    root: &Path,
    args: &[&str],
    (session_pw, cache_pw): (Option<&str>, Option<&str>),
) -> std::process::Output {
    let mut cmd = rcfg();
    cmd.arg("apply")
        .arg(root)
        .args(args)
        .env_remove("RCFG_REDIS_PASSWORD")
        .env_remove("RCFG_SESSION_REDIS_PASSWORD");
    if let Some(pw) = session_pw {
        cmd.env("RCFG_SESSION_REDIS_PASSWORD", pw);
    }
    if let Some(pw) = cache_pw {
        cmd.env("RCFG_REDIS_PASSWORD", pw);
    }
    cmd.output().unwrap()
}

fn php_eval(path: &Path) -> Value {
    let out = Command::new("php")
        .args(["-r", "echo json_encode(include $argv[1]);"])
        .arg(path)
        .output()
        .expect("php-cli is needed (scripts/test.sh installs it)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The intended change set, applied to the evaluated array (an independent model of the
/// planner's rules, so the full-array comparison proves untouched keys survive).
struct Want<'a> {
    db: &'a str,
    page_db: &'a str,
    session_db: &'a str,
    prefix: &'a str,
    backend: &'a str,
    page_backend: &'a str,
    /// The new session password given in RCFG_SESSION_REDIS_PASSWORD, for a site whose
    /// session store had one on another server.
    session_password: Option<&'a str>,
    /// Likewise for the cache (RCFG_REDIS_PASSWORD).
    cache_password: Option<&'a str>,
}

fn expected(before: &Value, w: &Want) -> Value {
    let mut v = before.clone();
    for (name, db, backend, compress) in [
        ("default", w.db, w.backend, "1"),
        ("page_cache", w.page_db, w.page_backend, "0"),
    ] {
        let fe = &mut v["cache"]["frontend"][name];
        if fe.is_null() {
            *fe = json!({});
        }
        fe["id_prefix"] = json!(w.prefix);
        fe["backend"] = json!(backend);
        let bo = &mut fe["backend_options"];
        if bo.is_null() {
            *bo = json!({});
        }
        for d in DEAD {
            bo.as_object_mut().unwrap().remove(*d);
        }
        // A positive auto_expire_lifetime of the site's own is kept (no --ttl given).
        let ttl = match &bo["auto_expire_lifetime"] {
            Value::Number(n) if n.as_i64().is_some_and(|t| t > 0) => {
                bo["auto_expire_lifetime"].clone()
            }
            _ => json!(86400),
        };
        for (k, val) in [
            ("server", json!(SOCKET)),
            ("port", json!("0")),
            ("database", json!(db)),
            ("auto_expire_lifetime", ttl),
            ("auto_expire_pattern", json!("/^/")),
        ] {
            bo[k] = val;
        }
        // An existing password stays (no new one given); setup's empty one where none is.
        match w.cache_password {
            Some(pw) => bo["password"] = json!(pw),
            None if bo.get("password").is_none() => bo["password"] = json!(""),
            None => {}
        }
        if bo.get("compress_data").is_none() {
            bo["compress_data"] = json!(compress);
        }
    }
    v["session"]["save"] = json!("redis");
    let r = &mut v["session"]["redis"];
    if r.is_null() {
        *r = json!({});
    }
    r["host"] = json!(SESSION_SOCKET);
    r["port"] = json!("0");
    match w.session_password {
        Some(pw) => r["password"] = json!(pw),
        None if r.get("password").is_none() => r["password"] = json!(""),
        None => {}
    }
    r["database"] = json!(w.session_db);
    for (k, d) in [
        ("timeout", "2.5"),
        ("persistent_identifier", ""),
        ("compression_threshold", "2048"),
        ("compression_library", "gzip"),
        ("log_level", "1"),
        ("max_concurrency", "6"),
        ("break_after_frontend", "5"),
        ("break_after_adminhtml", "30"),
        ("first_lifetime", "600"),
        ("bot_first_lifetime", "60"),
        ("bot_lifetime", "7200"),
        ("disable_locking", "0"),
        ("min_lifetime", "60"),
    ] {
        if r.get(k).is_none() {
            r[k] = json!(d);
        }
    }
    v
}

/// The whole proof for one fixture: snapshot, git apply, php -l, evaluated array, idempotence.
fn prove(name: &str, want: Want) {
    let (tmp, root) = copy_fixture(name);
    let env = root.join("app/etc/env.php");
    let before = php_eval(&env);

    // --check reports pending changes.
    assert_eq!(
        apply_with(
            &root,
            &["--check"],
            (want.session_password, want.cache_password)
        )
        .status
        .code(),
        Some(1)
    );

    let dry = apply_with(
        &root,
        &["--dry-run"],
        (want.session_password, want.cache_password),
    );
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let out = text(&dry.stdout);
    let shown = out
        .replace(&root.display().to_string(), "<site>")
        .replace(&tmp.path().display().to_string(), "<tmp>");
    insta::assert_snapshot!(format!("dry_run_{}", name.replace('-', "_")), shown);
    // A diff with a masked secret says so and is for review; any other applies as is.
    if out.contains("'********'") {
        assert!(out.contains("# secrets are shown as ********"), "{out}");
    } else {
        git_apply_check(&root, &out);
    }

    let before_tree = tree(&root);
    let wrote = apply_with(&root, &[], (want.session_password, want.cache_password));
    assert_eq!(wrote.status.code(), Some(0), "{}", text(&wrote.stderr));
    let wrote_out = text(&wrote.stdout);
    assert!(wrote_out.contains("wrote "), "{wrote_out}");
    assert!(!root.join("app/etc/env.php.rcfg.bak").exists());
    assert_eq!(
        common::backup_of(&wrote.stdout, Path::new("app/etc/env.php")).as_ref(),
        Some(&before_tree[Path::new("app/etc/env.php")])
    );
    php_lint(&env);
    assert_eq!(php_eval(&env), expected(&before, &want));

    // Idempotent: the second run says so and changes no byte.
    let after_tree = tree(&root);
    let again = apply_with(&root, &[], (want.session_password, want.cache_password));
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stdout).contains("already up to date"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(tree(&root), after_tree);
    assert_eq!(
        apply_with(
            &root,
            &["--check"],
            (want.session_password, want.cache_password)
        )
        .status
        .code(),
        Some(0)
    );
}

#[test]
fn magento2_git_var_export_env_php() {
    prove(
        "magento2-git",
        Want {
            db: "1",
            page_db: "2",
            session_db: "1",
            prefix: "magento2_git_",
            backend: "Magento\\Framework\\Cache\\Backend\\Redis",
            page_backend: "Magento\\Framework\\Cache\\Backend\\Redis",
            session_password: None,
            cache_password: None,
        },
    );
}

#[test]
fn magento2_composer_redis_existing_setup_is_updated_in_place() {
    prove(
        "magento2-composer-redis",
        Want {
            db: "2",
            page_db: "1",
            session_db: "2",
            prefix: "a3f_",
            backend: "Magento\\Framework\\Cache\\Backend\\Redis",
            page_backend: "Magento\\Framework\\Cache\\Backend\\Redis",
            session_password: Some("new-sess-pw"),
            cache_password: None,
        },
    );
}

#[test]
fn magento2_lints_dead_options_are_removed() {
    prove(
        "magento2-lints",
        Want {
            db: "2",
            page_db: "1",
            session_db: "1",
            prefix: "magento2_lints_",
            backend: "Magento\\Framework\\Cache\\Backend\\Redis",
            page_backend: "\\Magento\\Framework\\Cache\\Backend\\Redis",
            session_password: None,
            cache_password: None,
        },
    );
}

#[test]
fn magento2_mageos_valkey_backend_is_kept() {
    prove(
        "magento2-mageos",
        Want {
            db: "3",
            page_db: "1",
            session_db: "1",
            prefix: "9c1_",
            backend: "valkey",
            page_backend: "valkey",
            session_password: Some("new-sess-pw"),
            cache_password: Some("new-cache-pw"),
        },
    );
}

#[test]
fn passwords_are_masked_and_the_command_reads_them_from_the_environment() {
    let (_tmp, root) = copy_fixture("magento2-composer-redis");
    let out = rcfg()
        .arg("apply")
        .arg(&root)
        .arg("--dry-run")
        .env("RCFG_REDIS_PASSWORD", "cache-pw-9x")
        .env("RCFG_SESSION_REDIS_PASSWORD", "sess-pw-7y")
        .output()
        .unwrap();
    let all = text(&out.stdout) + &text(&out.stderr);
    assert!(
        !all.contains("cache-pw-9x") && !all.contains("sess-pw-7y"),
        "{all}"
    );
    assert!(all.contains("'password' => '********',"), "{all}");
    assert!(
        all.contains("--cache-backend-redis-password=\"$RCFG_REDIS_PASSWORD\""),
        "{all}"
    );
    assert!(
        all.contains("--session-save-redis-password=\"$RCFG_SESSION_REDIS_PASSWORD\""),
        "{all}"
    );
}

#[test]
fn a_read_only_env_php_is_refused_and_nothing_changes() {
    let (_tmp, root) = copy_fixture("magento2-lints");
    let env = root.join("app/etc/env.php");
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = tree(&root);
    let out = apply(&root, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("env.php") && err.contains("read-only"),
        "{err}"
    );
    assert_eq!(tree(&root), before);
}

/// A Magento tree (from the git fixture) with `env` as its env.php.
fn with_env(env: &str) -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = copy_fixture("magento2-git");
    std::fs::write(root.join("app/etc/env.php"), env).unwrap();
    (tmp, root)
}

fn refused(root: &Path, args: &[&str]) -> String {
    let before = tree(root);
    let out = apply(root, args);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    assert_eq!(tree(root), before, "a refused apply must not write");
    text(&out.stderr)
}

#[test]
fn env_php_with_an_include_is_refused() {
    let (_tmp, root) = with_env(
        "<?php\n$base = include __DIR__ . '/env.base.php';\nreturn array_merge($base, [\n    'MAGE_MODE' => 'production'\n]);\n",
    );
    let err = refused(&root, &[]);
    // The detector reads env.php first and refuses it (the planner refuses the same input
    // on its own; see its unit tests).
    assert!(
        err.contains("app/etc/env.php: line 2: env.php pulls in another file"),
        "{err}"
    );
    assert!(err.contains("nothing written"), "{err}");
}

#[test]
fn env_php_with_computed_redis_values_is_refused() {
    let (_tmp, root) = with_env(
        "<?php\nreturn [\n    'cache' => [\n        'frontend' => [\n            'default' => [\n                'backend' => 'Cm_Cache_Backend_Redis',\n                'backend_options' => [\n                    'server' => getenv('REDIS_HOST'),\n                    'database' => '0'\n                ]\n            ]\n        ]\n    ]\n];\n",
    );
    let err = refused(&root, &["--dry-run"]);
    assert!(
        err.contains("app/etc/env.php: line 8: 'cache/frontend/default/backend_options/server' is computed (getenv('REDIS_HOST'))"),
        "{err}"
    );
}

#[test]
fn env_php_without_a_returned_array_is_refused() {
    let (_tmp, root) =
        with_env("<?php\n$config = ['MAGE_MODE' => 'production'];\nreturn $config;\n");
    let err = refused(&root, &[]);
    assert!(
        err.contains("app/etc/env.php: line 3: env.php returns $config, not an array literal"),
        "{err}"
    );
    assert!(err.contains("nothing written"), "{err}");
}

#[test]
fn magento_1_is_refused() {
    let (_tmp, root) = copy_fixture("magento1");
    let err = refused(&root, &["--dry-run"]);
    assert!(
        err.contains("Magento 1") && err.contains("nothing written"),
        "{err}"
    );
}

#[test]
fn an_unsafe_prefix_is_refused() {
    let (_tmp, root) = copy_fixture("magento2-git");
    let err = refused(&root, &["--prefix", "x');system('id"]);
    assert!(err.contains("would break the generated config"), "{err}");
}

/// magento2-composer-redis with a cache password too (the session store has one already).
fn with_passwords() -> (tempfile::TempDir, PathBuf) {
    let (tmp, root) = copy_fixture("magento2-composer-redis");
    let env = root.join("app/etc/env.php");
    let text = std::fs::read_to_string(&env).unwrap().replacen(
        "'password' => '',",
        "'password' => 'cache-old-pw-1',",
        1,
    );
    std::fs::write(&env, text).unwrap();
    (tmp, root)
}

#[test]
fn existing_cache_and_session_passwords_are_kept_on_the_same_servers_and_never_shown() {
    let (_tmp, root) = with_passwords();
    let env = root.join("app/etc/env.php");
    let args = ["--session-url", "redis://127.0.0.1:6378"];
    let mut dry_args = args.to_vec();
    dry_args.push("--dry-run");
    let dry = apply(&root, &dry_args);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let shown = text(&dry.stdout) + &text(&dry.stderr);
    for secret in ["cache-old-pw-1", "sessions-secret"] {
        assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
    }
    assert!(
        shown.contains("session/redis/password is kept: no new password was given"),
        "{shown}"
    );
    let out = apply(&root, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("sessions-secret"));
    php_lint(&env);
    let v = php_eval(&env);
    let opts = &v["cache"]["frontend"]["default"]["backend_options"];
    assert_eq!(opts["password"], json!("cache-old-pw-1"));
    assert_eq!(opts["server"], json!(SOCKET));
    let r = &v["session"]["redis"];
    assert_eq!(r["password"], json!("sessions-secret"));
    assert_eq!(
        (&r["host"], &r["port"]),
        (&json!("127.0.0.1"), &json!("6378"))
    );
    assert!(
        v["session"]["redis"].get("max_lifetime").is_some(),
        "the site's own one stays"
    );
}

#[test]
fn a_session_password_for_another_server_is_refused_without_showing_it() {
    let (_tmp, root) = with_passwords();
    let err = refused(&root, &["--dry-run"]);
    assert!(
        err.contains("app/etc/env.php:")
            && err
                .contains("the sessions connection has a Redis password for tcp://127.0.0.1:6378")
            && err.contains("unix:/var/run/redis-persistent/redis.sock")
            && err.contains("RCFG_SESSION_REDIS_PASSWORD")
            && err.contains("nothing written"),
        "{err}"
    );
    assert!(
        !err.contains("sessions-secret") && !err.contains("cache-old-pw-1"),
        "{err}"
    );
    let err = refused(&root, &[]);
    assert!(err.contains("cannot tell"), "{err}");
}

#[test]
fn a_secret_in_a_refused_value_is_masked_in_the_error() {
    let (_tmp, root) = with_env(
        "<?php\nreturn [\n    'cache' => [\n        'frontend' => [\n            'default' => [\n                'backend' => 'Cm_Cache_Backend_Redis',\n                'backend_options' => [\n                    'server' => '/var/run/redis/redis.sock',\n                    'password' => getenv('RP') . 'fallback-secret-99',\n                    'database' => '0'\n                ]\n            ]\n        ]\n    ]\n];\n",
    );
    let before = tree(&root);
    let out = rcfg()
        .arg("apply")
        .arg(&root)
        .env("RCFG_REDIS_PASSWORD", "new-pw-123456")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "app/etc/env.php: line 9: 'cache/frontend/default/backend_options/password' is computed"
        ),
        "{err}"
    );
    assert!(
        !err.contains("fallback-secret-99") && !err.contains("new-pw-123456"),
        "{err}"
    );
    assert_eq!(tree(&root), before);
}
