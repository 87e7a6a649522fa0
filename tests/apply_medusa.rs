//! `rcfg apply` on the MedusaJS fixtures: the dry-run diff (snapshot) applies with `git
//! apply`; after a real apply `.js` configs pass `node --check`, every config is read back by
//! `rcfg detect` (our own JS reader, so `.ts` is checked too) with the intended endpoints,
//! databases, prefix and TTL, `.env` holds exactly the intended values and keeps every other
//! line; a second apply changes nothing; failures and bad inputs change nothing.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::{copy_fixture, git_apply_check, json_of, rcfg, text, tree};
use serde_json::{Value, json};

const PREFIX: &str = "shop1:";

fn apply(root: &Path, args: &[&str]) -> std::process::Output {
    apply_env(root, args, None)
}

/// `rcfg apply`, with a session password in the environment when given.
fn apply_env(root: &Path, args: &[&str], session_pw: Option<&str>) -> std::process::Output {
    let mut cmd = rcfg();
    cmd.arg("apply")
        .arg(root)
        .args(args)
        .env_remove("RCFG_REDIS_PASSWORD")
        .env_remove("RCFG_SESSION_REDIS_PASSWORD");
    if let Some(pw) = session_pw {
        cmd.env("RCFG_SESSION_REDIS_PASSWORD", pw);
    }
    cmd.output().unwrap()
}

/// `KEY=value` lines of a `.env` (last one wins), without quotes.
fn dotenv(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().trim_matches('"').to_string()))
        .collect()
}

fn detect(root: &Path) -> Value {
    let out = rcfg()
        .args(["detect", "--format", "json"])
        .arg(root)
        .output()
        .unwrap();
    let v = json_of(&out);
    v["sites"][0].clone()
}

struct Want<'a> {
    config: &'a str,
    cache_env: &'a str,
    cache_db: i64,
    session_db: i64,
    /// The cache module as detect names it.
    module: &'a str,
    caching_flag: bool,
    /// The cache TTL after apply: the site's own positive one is kept (no --ttl given).
    ttl: i64,
    /// A new session password, for a site whose session URL had one on another server.
    session_password: Option<&'a str>,
}

fn prove(name: &str, w: Want) {
    let apply = |root: &Path, args: &[&str]| apply_env(root, args, w.session_password);
    let (tmp, root) = copy_fixture(name);
    let env_before = dotenv(&root.join(".env"));
    assert_eq!(
        apply(&root, &["--prefix", PREFIX, "--check"]).status.code(),
        Some(1)
    );

    let dry = apply(&root, &["--prefix", PREFIX, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let out = text(&dry.stdout);
    let shown = out
        .replace(&root.display().to_string(), "<site>")
        .replace(&tmp.path().display().to_string(), "<tmp>");
    insta::assert_snapshot!(format!("dry_run_{}", name.replace('-', "_")), shown);
    // A diff that had to mask a changed secret says so and is for review; others apply.
    if w.session_password.is_some() {
        assert!(out.contains("# secrets are shown as ********"), "{out}");
        assert!(!out.contains("persistent-secret"), "{out}");
    } else {
        assert!(!out.contains("# secrets are shown as"), "{out}");
        git_apply_check(&root, &out);
    }

    let wrote = apply(&root, &["--prefix", PREFIX]);
    assert_eq!(wrote.status.code(), Some(0), "{}", text(&wrote.stderr));
    assert!(!root.join(format!("{}.rcfg.bak", w.config)).exists());
    assert!(
        common::backup_of(&wrote.stdout, Path::new(w.config)).is_some(),
        "{}",
        text(&wrote.stdout)
    );
    if w.config.ends_with(".js") {
        let out = Command::new("node")
            .arg("--check")
            .arg(root.join(w.config))
            .output()
            .expect("node is needed (scripts/test.sh installs it)");
        assert!(out.status.success(), "node --check: {}", text(&out.stderr));
    }

    // .env: exactly the managed values changed, every other variable kept.
    let env_after = dotenv(&root.join(".env"));
    let mut want_env = env_before.clone();
    want_env.insert(
        w.cache_env.into(),
        format!("/var/run/redis/redis.sock?db={}", w.cache_db),
    );
    want_env.insert(
        "REDIS_URL".into(),
        format!(
            "/var/run/redis-persistent/redis.sock?db={}{}",
            w.session_db,
            w.session_password
                .map(|p| format!("&password={p}"))
                .unwrap_or_default()
        ),
    );
    if w.caching_flag {
        want_env.insert("MEDUSA_FF_CACHING".into(), "true".into());
    }
    assert_eq!(env_after, want_env);

    // The patched config, read back by rcfg's own JS reader through `detect`.
    let site = detect(&root);
    let cache = &site["redis"]["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "unix", "path": "/var/run/redis/redis.sock"}),
        "{site:#}"
    );
    assert_eq!(cache["database"]["value"], w.cache_db);
    assert_eq!(cache["prefix"]["value"], PREFIX, "{site:#}");
    let ttl = cache["ttl"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "ttl")
        .unwrap_or_else(|| panic!("no ttl in {cache:#}"));
    assert_eq!(ttl["value"], w.ttl);
    let module = cache["options"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "module")
        .unwrap();
    assert_eq!(module["value"], w.module);
    let sessions = &site["redis"]["sessions"];
    assert_eq!(
        sessions["transport"]["value"],
        json!({"kind": "unix", "path": "/var/run/redis-persistent/redis.sock"})
    );
    assert_eq!(sessions["database"]["value"], w.session_db);
    assert_eq!(sessions["prefix"]["value"], format!("{PREFIX}sess:"));
    assert_eq!(site["lints"], json!([]), "no lint left after apply");

    // Idempotent.
    let after = tree(&root);
    let again = apply(&root, &["--prefix", PREFIX]);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        text(&again.stdout).contains("already up to date"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!(tree(&root), after);
    assert_eq!(
        apply(&root, &["--prefix", PREFIX, "--check"]).status.code(),
        Some(0)
    );
}

#[test]
fn medusa_v1_gets_cache_service_and_session_url() {
    prove(
        "medusa-v1",
        Want {
            config: "medusa-config.js",
            cache_env: "CACHE_REDIS_URL",
            cache_db: 1,
            session_db: 1,
            module: "@medusajs/cache-redis",
            caching_flag: false,
            ttl: 86400,
            session_password: None,
        },
    );
}

#[test]
fn medusa_v1_redis_is_updated_in_place() {
    prove(
        "medusa-v1-redis",
        Want {
            config: "medusa-config.js",
            cache_env: "CACHE_REDIS_URL",
            cache_db: 5,
            session_db: 1,
            module: "@medusajs/cache-redis",
            caching_flag: false,
            // The module default (30) is no setting of the site's own.
            ttl: 86400,
            session_password: Some("new-sess-pw"),
        },
    );
}

#[test]
fn medusa_v2_gets_the_cache_redis_module() {
    prove(
        "medusa-v2",
        Want {
            config: "medusa-config.ts",
            cache_env: "CACHE_REDIS_URL",
            cache_db: 1,
            session_db: 1,
            module: "@medusajs/medusa/cache-redis",
            caching_flag: false,
            ttl: 86400,
            session_password: None,
        },
    );
}

#[test]
fn medusa_v2_redis_module_options_are_updated() {
    prove(
        "medusa-v2-redis",
        Want {
            config: "medusa-config.ts",
            cache_env: "CACHE_REDIS_URL",
            cache_db: 2,
            session_db: 1,
            module: "@medusajs/medusa/cache-redis",
            caching_flag: false,
            ttl: 300,
            session_password: None,
        },
    );
}

#[test]
fn medusa_v2_caching_provider_is_updated() {
    prove(
        "medusa-v2-caching",
        Want {
            config: "medusa-config.ts",
            cache_env: "CACHE_REDIS_URL",
            cache_db: 4,
            session_db: 1,
            module: "@medusajs/medusa/caching",
            caching_flag: true,
            ttl: 1800,
            session_password: None,
        },
    );
}

#[test]
fn medusa_v2_lints_ttl_zero_and_percent_encoded_socket_are_fixed() {
    prove(
        "medusa-v2-lints",
        Want {
            config: "medusa-config.ts",
            cache_env: "CACHE_REDIS_URL",
            cache_db: 1,
            session_db: 3,
            module: "@medusajs/medusa/caching",
            caching_flag: true,
            ttl: 86400,
            session_password: None,
        },
    );
}

#[test]
fn a_read_only_env_stops_the_config_change_too() {
    let (_tmp, root) = copy_fixture("medusa-v2");
    std::fs::set_permissions(root.join(".env"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = tree(&root);
    let out = apply(&root, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(".env") && err.contains("read-only"), "{err}");
    assert_eq!(
        tree(&root),
        before,
        "neither medusa-config.ts nor .env changed"
    );
}

#[test]
fn passwords_live_in_env_only_and_are_masked() {
    let (_tmp, root) = copy_fixture("medusa-v2");
    let out = rcfg()
        .arg("apply")
        .arg(&root)
        .env("RCFG_REDIS_PASSWORD", "c@che-pw-9x")
        .env("RCFG_SESSION_REDIS_PASSWORD", "sess-pw-7y")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout) + &text(&out.stderr);
    assert!(
        !shown.contains("sess-pw-7y") && !shown.contains("c%40che-pw-9x"),
        "{shown}"
    );
    let config = std::fs::read_to_string(root.join("medusa-config.ts")).unwrap();
    assert!(!config.contains("pw-"), "{config}");
    let env = dotenv(&root.join(".env"));
    assert_eq!(
        env["CACHE_REDIS_URL"],
        "/var/run/redis/redis.sock?db=1&password=c%40che-pw-9x"
    );
    assert_eq!(
        env["REDIS_URL"],
        "/var/run/redis-persistent/redis.sock?db=1&password=sess-pw-7y"
    );
}

#[test]
fn a_config_without_a_locatable_object_is_refused() {
    let (_tmp, root) = copy_fixture("medusa-v2");
    std::fs::write(
        root.join("medusa-config.ts"),
        "import { buildConfig } from './config/build'\n\nexport default buildConfig(process.env)\n",
    )
    .unwrap();
    let before = tree(&root);
    let out = apply(&root, &["--dry-run"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("medusa-config.ts") && err.contains("nothing written"),
        "{err}"
    );
    assert_eq!(tree(&root), before);
}

#[test]
fn an_unsafe_prefix_is_refused() {
    let (_tmp, root) = copy_fixture("medusa-v1");
    let before = tree(&root);
    let out = apply(&root, &["--prefix", "a\"+require('child_process')+\""]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("would break the generated config"));
    assert_eq!(tree(&root), before);
}

/// medusa-v1-redis whose session URL carries a percent-encoded password.
fn with_encoded_password() -> (tempfile::TempDir, std::path::PathBuf) {
    let (tmp, root) = copy_fixture("medusa-v1-redis");
    let env = root.join(".env");
    let text = std::fs::read_to_string(&env)
        .unwrap()
        .replace("redis://:persistent-secret@", "redis://:p%40ss%2Fw0rd-9@");
    std::fs::write(&env, text).unwrap();
    (tmp, root)
}

#[test]
fn a_url_password_is_kept_on_the_same_server_and_masked_in_every_form() {
    let (_tmp, root) = with_encoded_password();
    let args = [
        "--prefix",
        PREFIX,
        "--session-url",
        "redis://127.0.0.1:6378",
    ];
    let mut dry_args = args.to_vec();
    dry_args.push("--dry-run");
    let dry = apply(&root, &dry_args);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let shown = text(&dry.stdout) + &text(&dry.stderr);
    for form in ["p%40ss%2Fw0rd-9", "p@ss/w0rd-9", "w0rd-9"] {
        assert!(!shown.contains(form), "{form} shown:\n{shown}");
    }
    let out = apply(&root, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("w0rd-9"));
    assert_eq!(
        dotenv(&root.join(".env"))["REDIS_URL"],
        "redis://:p%40ss%2Fw0rd-9@127.0.0.1:6378/1"
    );
}

#[test]
fn a_given_url_password_is_masked_encoded_and_decoded() {
    let (_tmp, root) = with_encoded_password();
    let out = apply(
        &root,
        &[
            "--dry-run",
            "--session-url",
            "redis://:given%40pw-long@127.0.0.1:6378",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout) + &text(&out.stderr);
    for form in ["given%40pw-long", "given@pw-long", "pw-long", "w0rd-9"] {
        assert!(!shown.contains(form), "{form} shown:\n{shown}");
    }
    assert!(shown.contains("# secrets are shown as ********"), "{shown}");
}

#[test]
fn a_password_in_a_literal_config_url_is_carried_into_env_and_never_shown() {
    let (_tmp, root) = copy_fixture("medusa-v2-redis");
    let config = root.join("medusa-config.ts");
    let source = std::fs::read_to_string(&config).unwrap().replace(
        "const REDIS_URL = process.env.REDIS_URL",
        "const REDIS_URL = \"redis://:lit-pass-word@127.0.0.1:6378/0\"",
    );
    std::fs::write(&config, &source).unwrap();
    let args = [
        "--prefix",
        PREFIX,
        "--session-url",
        "redis://127.0.0.1:6378",
    ];
    let mut dry_args = args.to_vec();
    dry_args.push("--dry-run");
    let dry = apply(&root, &dry_args);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let shown = text(&dry.stdout) + &text(&dry.stderr);
    assert!(!shown.contains("lit-pass-word"), "{shown}");
    let out = apply(&root, &args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        dotenv(&root.join(".env"))["REDIS_URL"]
            .starts_with("redis://:lit-pass-word@127.0.0.1:6378/"),
        "{:?}",
        dotenv(&root.join(".env"))
    );
    // Without the same server, rcfg refuses rather than drop or misapply it.
    let (_tmp2, other) = copy_fixture("medusa-v2-redis");
    std::fs::write(other.join("medusa-config.ts"), &source).unwrap();
    let before = tree(&other);
    let out = apply(&other, &["--prefix", PREFIX]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot tell"),
        "{}",
        text(&out.stderr)
    );
    assert!(!text(&out.stderr).contains("lit-pass-word"));
    assert_eq!(tree(&other), before);
}
