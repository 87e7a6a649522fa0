//! `rcfg detect` on the MedusaJS fixtures: v1/v2 recognition, version sources, the project
//! Redis URL (sessions), the cache module (cache-redis and the v2.11+ caching module), Redis
//! components, `.env` resolution with the `.env` line as location, the Medusa lints, and a
//! config that does not parse.

mod common;

use common::{copy_fixture, json_of, rcfg};
use serde_json::{Value, json};

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

fn at(v: &Value) -> (String, u64) {
    (
        v["at"]["path"].as_str().unwrap().to_string(),
        v["at"]["line"].as_u64().unwrap(),
    )
}

fn loc(path: &str, line: u64) -> (String, u64) {
    (path.to_string(), line)
}

fn setting<'a>(list: &'a Value, key: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no setting {key} in {list:#}"))
}

fn lints(site: &Value) -> Vec<(String, String, u64)> {
    site["lints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap().to_string(),
                l["location"]["path"].as_str().unwrap().to_string(),
                l["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn components(site: &Value) -> Vec<(String, Value, String)> {
    site["redis"]["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["version"].clone(),
                c["path"].as_str().unwrap().to_string(),
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
fn medusa_v1_without_redis_version_from_yarn_lock() {
    let (code, v) = detect("fixtures/medusa-v1");
    let s = site(&v);
    assert_eq!(code, 0, "{v:#}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v:#}");
    assert_eq!(s["cms"], "medusa");
    assert_eq!(s["version"], "1.20.10");
    assert_eq!(s["layout"], "v1");
    assert_eq!(s["docroot"], Value::Null);
    assert_eq!(s["supported"], true);
    assert_eq!(
        config_paths(s),
        [
            "fixtures/medusa-v1/medusa-config.js",
            "fixtures/medusa-v1/.env"
        ]
    );
    assert_eq!(s["redis"]["configured"], false);
    assert_eq!(s["redis"]["cache"], Value::Null);
    assert_eq!(s["redis"]["sessions"], Value::Null);
    assert_eq!(s["redis"]["components"], json!([]));
    assert!(s["lints"].as_array().unwrap().is_empty());
}

#[test]
fn medusa_v1_with_redis_url_and_cache_redis() {
    let (code, v) = detect("fixtures/medusa-v1-redis");
    let s = site(&v);
    let cfg = "fixtures/medusa-v1-redis/medusa-config.js";
    let env = "fixtures/medusa-v1-redis/.env";
    assert_eq!(code, 0, "{v:#}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v:#}");
    assert_eq!(s["version"], "1.20.10", "from node_modules");
    assert_eq!(s["layout"], "v1");
    let r = &s["redis"];
    assert_eq!(r["configured"], true);

    let sess = &r["sessions"];
    assert_eq!(
        sess["transport"]["value"],
        json!({"kind": "tcp", "host": "127.0.0.1", "port": 6378})
    );
    assert_eq!(at(&sess["transport"]), loc(env, 6));
    assert_eq!(sess["database"]["value"], 1);
    assert_eq!(at(&sess["database"]), loc(env, 6));
    assert_eq!(sess["password_set"], true);
    assert!(!v.to_string().contains("persistent-secret"));
    assert_eq!(sess["prefix"]["value"], "shop1:sess:");
    assert_eq!(at(&sess["prefix"]), loc(cfg, 80));

    let cache = &r["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "tcp", "host": "127.0.0.1", "port": 6379})
    );
    assert_eq!(at(&cache["transport"]), loc(env, 7));
    assert_eq!(cache["database"]["value"], 5);
    assert_eq!(cache["password_set"], false);
    assert_eq!(cache["prefix"]["value"], "medusa:", "default namespace");
    assert_eq!(at(&cache["prefix"]), loc(cfg, 65));
    let ttl = setting(&cache["ttl"], "ttl");
    assert_eq!(ttl["value"], 30, "cache-redis default ttl");
    assert_eq!(at(ttl), loc(cfg, 65));
    assert_eq!(
        setting(&cache["options"], "module")["value"],
        "@medusajs/cache-redis"
    );

    assert_eq!(
        components(s),
        [
            (
                "@medusajs/cache-redis".to_string(),
                json!("1.9.1"),
                "fixtures/medusa-v1-redis/node_modules/@medusajs/cache-redis/package.json"
                    .to_string()
            ),
            (
                "@medusajs/event-bus-redis".to_string(),
                json!("1.8.13"),
                "fixtures/medusa-v1-redis/node_modules/@medusajs/event-bus-redis/package.json"
                    .to_string()
            ),
        ]
    );
    assert!(lints(s).is_empty());
}

#[test]
fn medusa_v2_without_redis_version_from_package_lock() {
    let (code, v) = detect("fixtures/medusa-v2");
    let s = site(&v);
    assert_eq!(code, 0);
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v:#}");
    assert_eq!(s["cms"], "medusa");
    assert_eq!(s["version"], "2.4.1");
    assert_eq!(s["layout"], "v2");
    assert_eq!(
        config_paths(s),
        [
            "fixtures/medusa-v2/medusa-config.ts",
            "fixtures/medusa-v2/.env"
        ]
    );
    assert_eq!(s["redis"]["configured"], false);
    assert_eq!(s["redis"]["components"], json!([]));
    assert!(s["lints"].as_array().unwrap().is_empty());
}

#[test]
fn medusa_v2_with_redis_modules_through_env() {
    let (code, v) = detect("fixtures/medusa-v2-redis");
    let s = site(&v);
    let cfg = "fixtures/medusa-v2-redis/medusa-config.ts";
    let env = "fixtures/medusa-v2-redis/.env";
    assert_eq!(code, 0, "{v:#}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v:#}");
    assert_eq!(s["version"], "2.5.1", "from pnpm-lock.yaml");
    assert_eq!(s["layout"], "v2");
    let r = &s["redis"];
    assert_eq!(r["configured"], true);

    let sess = &r["sessions"];
    assert_eq!(
        sess["transport"]["value"],
        json!({"kind": "tcp", "host": "127.0.0.1", "port": 6378})
    );
    assert_eq!(
        at(&sess["transport"]),
        loc(env, 7),
        "through const REDIS_URL"
    );
    assert_eq!(sess["database"]["value"], 0);
    assert_eq!(sess["prefix"]["value"], "shop2:sess:");
    assert_eq!(at(&sess["prefix"]), loc(cfg, 11));
    let sttl = setting(&sess["ttl"], "sessionOptions.ttl");
    assert_eq!(sttl["value"], 28_800_000);
    assert_eq!(at(sttl), loc(cfg, 13));

    let cache = &r["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "tcp", "host": "127.0.0.1", "port": 6379})
    );
    assert_eq!(at(&cache["transport"]), loc(env, 8));
    assert_eq!(cache["database"]["value"], 2);
    assert_eq!(cache["prefix"]["value"], "shop2:");
    assert_eq!(at(&cache["prefix"]), loc(cfg, 30));
    let ttl = setting(&cache["ttl"], "ttl");
    assert_eq!(ttl["value"], 300);
    assert_eq!(at(ttl), loc(cfg, 29));
    let module = setting(&cache["options"], "module");
    assert_eq!(module["value"], "@medusajs/medusa/cache-redis");
    assert_eq!(at(module), loc(cfg, 26));

    let pkg = "fixtures/medusa-v2-redis/package.json".to_string();
    assert_eq!(
        components(s),
        [
            ("@medusajs/cache-redis".into(), json!("2.5.1"), pkg.clone()),
            (
                "@medusajs/event-bus-redis".into(),
                json!("2.5.1"),
                pkg.clone()
            ),
            (
                "@medusajs/workflow-engine-redis".into(),
                json!("2.5.1"),
                pkg
            ),
        ]
    );
    assert!(lints(s).is_empty());
}

#[test]
fn medusa_v2_caching_module_over_sockets() {
    let (code, v) = detect("fixtures/medusa-v2-caching");
    let s = site(&v);
    let cfg = "fixtures/medusa-v2-caching/medusa-config.ts";
    let env = "fixtures/medusa-v2-caching/.env";
    assert_eq!(code, 0, "{v:#}");
    assert!(v["errors"].as_array().unwrap().is_empty(), "{v:#}");
    assert_eq!(s["version"], "2.11.3");
    assert_eq!(s["layout"], "v2");
    let r = &s["redis"];
    assert_eq!(r["configured"], true);

    let sess = &r["sessions"];
    assert_eq!(
        sess["transport"]["value"],
        json!({"kind": "unix", "path": "/var/run/redis-persistent/redis.sock"})
    );
    assert_eq!(at(&sess["transport"]), loc(env, 7));
    assert_eq!(sess["database"]["value"], 1);
    assert_eq!(sess["prefix"]["value"], "sess:");

    let cache = &r["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "unix", "path": "/var/run/redis/redis.sock"})
    );
    assert_eq!(at(&cache["transport"]), loc(env, 8));
    assert_eq!(cache["database"]["value"], 4);
    assert_eq!(at(&cache["database"]), loc(env, 8));
    assert_eq!(
        cache["prefix"]["value"], "mc:",
        "caching-redis default prefix"
    );
    assert_eq!(at(&cache["prefix"]), loc(cfg, 23));
    let ttl = setting(&cache["ttl"], "ttl");
    assert_eq!(ttl["value"], 1800);
    assert_eq!(at(ttl), loc(cfg, 28));
    assert_eq!(
        setting(&cache["options"], "module")["value"],
        "@medusajs/medusa/caching"
    );
    assert_eq!(
        setting(&cache["options"], "provider")["value"],
        "@medusajs/caching-redis"
    );

    assert_eq!(
        components(s),
        [
            (
                "@medusajs/caching-redis".into(),
                json!("2.11.3"),
                "fixtures/medusa-v2-caching/node_modules/@medusajs/caching-redis/package.json"
                    .into()
            ),
            (
                "@medusajs/locking-redis".into(),
                json!("2.11.3"),
                "fixtures/medusa-v2-caching/package.json".into()
            ),
        ]
    );
    assert!(lints(s).is_empty(), "MEDUSA_FF_CACHING=true is set");
}

#[test]
fn medusa_v2_lints_ttl_zero_flag_missing_percent_encoded_socket() {
    let (code, v) = detect("fixtures/medusa-v2-lints");
    let s = site(&v);
    let cfg = "fixtures/medusa-v2-lints/medusa-config.ts";
    let env = "fixtures/medusa-v2-lints/.env";
    assert_eq!(code, 1, "error-level lints");
    assert_eq!(
        s["version"], "^2.11.0",
        "only the package.json range is known"
    );
    assert_eq!(s["layout"], "v2");
    let cache = &s["redis"]["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "tcp", "host": "%2Fvar%2Frun%2Fredis%2Fredis.sock", "port": 6379})
    );
    assert_eq!(at(&cache["transport"]), loc(env, 8));
    assert_eq!(cache["prefix"]["value"], "shop3:");
    assert_eq!(at(&cache["prefix"]), loc(cfg, 32));
    assert_eq!(setting(&cache["ttl"], "ttl")["value"], 0);
    assert_eq!(
        lints(s),
        [
            ("redis-url-percent-encoded-socket".into(), env.into(), 8),
            ("medusa-caching-flag-missing".into(), cfg.into(), 22),
            ("medusa-caching-ttl-zero".into(), cfg.into(), 31),
        ]
    );
    let sev: Vec<&str> = s["lints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["severity"].as_str().unwrap())
        .collect();
    assert_eq!(sev, ["error", "warning", "error"]);
}

#[test]
fn cache_redis_ttl_zero_is_flagged_and_env_defaults_apply() {
    let (_tmp, root) = copy_fixture("medusa-v2-redis");
    let cfg = root.join("medusa-config.ts");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("ttl: 60 * 5,", "ttl: 0,");
    std::fs::write(&cfg, text).unwrap();
    // Without CACHE_REDIS_URL in .env the `??` default applies, located in the config.
    let env = root.join(".env");
    let text = std::fs::read_to_string(&env)
        .unwrap()
        .replace("CACHE_REDIS_URL=redis://127.0.0.1:6379/2\n", "");
    std::fs::write(&env, text).unwrap();
    let (code, v) = detect(root.to_str().unwrap());
    let s = site(&v);
    assert_eq!(code, 0, "cache-redis ttl 0 is a warning");
    let cache = &s["redis"]["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "tcp", "host": "localhost", "port": 6379})
    );
    assert_eq!(at(&cache["transport"]), loc(cfg.to_str().unwrap(), 28));
    let l = lints(s);
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!(l[0].0, "medusa-cache-redis-ttl-zero");
    assert_eq!(l[0].2, 29);
}

#[test]
fn unparsable_medusa_config_is_an_error_and_the_site_is_still_reported() {
    let (_tmp, root) = copy_fixture("medusa-v2-redis");
    let cfg = root.join("medusa-config.ts");
    let text = std::fs::read_to_string(&cfg).unwrap();
    // Drop the closing of the `projectConfig.http` object.
    let broken = text.replacen(
        "      cookieSecret: process.env.COOKIE_SECRET || \"supersecret\",\n    }\n",
        "      cookieSecret: process.env.COOKIE_SECRET || \"supersecret\",\n",
        1,
    );
    assert_ne!(broken, text);
    std::fs::write(&cfg, broken).unwrap();
    let (code, v) = detect(root.to_str().unwrap());
    assert_eq!(code, 2);
    let s = site(&v);
    assert_eq!(s["cms"], "medusa");
    assert_eq!(s["version"], "2.5.1");
    assert_eq!(s["layout"], "v2");
    assert_eq!(s["redis"]["cache"], Value::Null);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v:#}");
    assert_eq!(errors[0]["path"], cfg.to_str().unwrap());
    let msg = errors[0]["message"].as_str().unwrap();
    assert!(msg.starts_with("line "), "{msg}");
    assert!(msg.contains("cannot parse"), "{msg}");
}

#[test]
fn config_object_that_cannot_be_located_is_an_error() {
    let (_tmp, root) = copy_fixture("medusa-v2");
    let cfg = root.join("medusa-config.ts");
    std::fs::write(
        &cfg,
        "import { defineConfig } from '@medusajs/framework/utils'\nimport { build } from './config/build'\n\nexport default build(process.env)\n",
    )
    .unwrap();
    let (code, v) = detect(root.to_str().unwrap());
    assert_eq!(code, 2);
    assert_eq!(site(&v)["cms"], "medusa");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v:#}");
    assert_eq!(errors[0]["path"], cfg.to_str().unwrap());
    let msg = errors[0]["message"].as_str().unwrap();
    assert!(msg.starts_with("line 4:"), "{msg}");
    assert!(msg.contains("not an object literal"), "{msg}");
}

#[test]
fn non_utf8_env_is_reported() {
    let (_tmp, root) = copy_fixture("medusa-v2-redis");
    let env = root.join(".env");
    std::fs::write(&env, b"REDIS_URL=redis://caf\xe9:6379\n").unwrap();
    let (code, v) = detect(root.to_str().unwrap());
    assert_eq!(code, 2);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{v:#}");
    assert_eq!(errors[0]["path"], env.to_str().unwrap());
    assert!(
        errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("not valid UTF-8")
    );
    // The config is still read; values that needed .env fall back to their defaults.
    let cache = &site(&v)["redis"]["cache"];
    assert_eq!(
        cache["transport"]["value"],
        json!({"kind": "tcp", "host": "localhost", "port": 6379})
    );
}

#[test]
fn package_json_without_medusa_is_not_medusa() {
    let (_tmp, root) = copy_fixture("medusa-v2");
    std::fs::write(
        root.join("package.json"),
        r#"{"name": "x", "dependencies": {"@medusajs/js-sdk": "^2.4.0", "next": "15.0.0"}}"#,
    )
    .unwrap();
    let (code, v) = detect(root.to_str().unwrap());
    assert_eq!(code, 0);
    assert_eq!(site(&v)["cms"], "unknown");
}

#[test]
fn layout_from_the_config_when_no_version_says_it() {
    let (_tmp, root) = copy_fixture("medusa-v2");
    std::fs::remove_file(root.join("package-lock.json")).unwrap();
    let pkg = root.join("package.json");
    let text = std::fs::read_to_string(&pkg).unwrap().replace(
        "\"@medusajs/medusa\": \"^2.4.0\"",
        "\"@medusajs/medusa\": \"latest\"",
    );
    std::fs::write(&pkg, text).unwrap();
    let (code, v) = detect(root.to_str().unwrap());
    assert_eq!(code, 0, "{v:#}");
    let s = site(&v);
    assert_eq!(
        s["version"], "latest",
        "the range as given, as a last resort"
    );
    assert_eq!(s["layout"], "v2", "defineConfig means v2");

    let (_tmp, root) = copy_fixture("medusa-v1");
    std::fs::remove_file(root.join("yarn.lock")).unwrap();
    let pkg = root.join("package.json");
    let text = std::fs::read_to_string(&pkg).unwrap().replace(
        "\"@medusajs/medusa\": \"^1.20.6\"",
        "\"@medusajs/medusa\": \"latest\"",
    );
    std::fs::write(&pkg, text).unwrap();
    let (_, v) = detect(root.to_str().unwrap());
    assert_eq!(
        site(&v)["layout"],
        "v1",
        "module.exports = {{ projectConfig }} means v1"
    );
}
