//! Planner tests on temp trees: patched configs are re-parsed with our JS reader (and
//! `node --check` for `.js`), `.env` is read back with the dotenv reader.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use super::*;
use crate::patch::write::{WriteOptions, write_plan};
use crate::patch::{Endpoint, Secret};
use crate::syntax::dotenv;

pub(crate) const V2_PLAIN: &str = "import { loadEnv, defineConfig } from '@medusajs/framework/utils'\n\nloadEnv(process.env.NODE_ENV || 'development', process.cwd())\n\nmodule.exports = defineConfig({\n  projectConfig: {\n    databaseUrl: process.env.DATABASE_URL,\n    http: {\n      storeCors: process.env.STORE_CORS!,\n      jwtSecret: process.env.JWT_SECRET || \"supersecret\",\n    }\n  }\n})\n";

const V2_REDIS: &str = "import { loadEnv, defineConfig, Modules } from '@medusajs/framework/utils'\n\nloadEnv(process.env.NODE_ENV || 'development', process.cwd())\n\nconst REDIS_URL = process.env.REDIS_URL\n\nmodule.exports = defineConfig({\n  projectConfig: {\n    databaseUrl: process.env.DATABASE_URL,\n    redisUrl: REDIS_URL,\n    redisPrefix: \"shop2:\",\n  },\n  modules: [\n    {\n      resolve: \"@medusajs/medusa/cache-redis\",\n      options: {\n        redisUrl: process.env.CACHE_REDIS_URL ?? \"redis://localhost:6379\",\n        ttl: 60 * 5,\n        namespace: \"shop2\",\n      },\n    },\n    {\n      resolve: \"@medusajs/medusa/event-bus-redis\",\n      options: {\n        redisUrl: process.env.EVENTS_REDIS_URL || REDIS_URL,\n      },\n    },\n  ],\n})\n";

const V2_CACHING: &str = "import { loadEnv, defineConfig } from \"@medusajs/framework/utils\"\n\nloadEnv(process.env.NODE_ENV || \"development\", process.cwd())\n\nexport default defineConfig({\n  projectConfig: {\n    databaseUrl: process.env.DATABASE_URL,\n    redisUrl: process.env.REDIS_URL,\n  },\n  modules: {\n    caching: {\n      resolve: \"@medusajs/medusa/caching\",\n      options: {\n        providers: [\n          {\n            resolve: \"@medusajs/caching-redis\",\n            id: \"caching-redis\",\n            is_default: true,\n            options: {\n              redisUrl: process.env.CACHE_REDIS_URL,\n              ttl: 0,\n            },\n          },\n        ],\n      },\n    },\n  },\n})\n";

pub(crate) const V1: &str = "const dotenv = require(\"dotenv\");\n\nconst REDIS_URL = process.env.REDIS_URL || \"redis://localhost:6379\";\n\nconst modules = {\n  /*cacheService: {\n    resolve: \"@medusajs/cache-redis\",\n  },*/\n};\n\n/** @type {import('@medusajs/medusa').ConfigModule[\"projectConfig\"]} */\nconst projectConfig = {\n  jwt_secret: process.env.JWT_SECRET || \"supersecret\",\n  database_url: process.env.DATABASE_URL,\n  // Uncomment the following lines to enable REDIS\n  // redis_url: REDIS_URL\n};\n\nmodule.exports = {\n  projectConfig,\n  plugins: [],\n  modules,\n};\n";

fn site(
    config_name: &str,
    config: &str,
    env: Option<&str>,
    version: &str,
) -> (tempfile::TempDir, Site) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("shop1");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join(config_name), config).unwrap();
    if let Some(e) = env {
        std::fs::write(root.join(".env"), e).unwrap();
    }
    let layout = if version.starts_with('1') { "v1" } else { "v2" };
    let mut s = Site::new(&root, Cms::Medusa, layout);
    s.version = Some(version.to_string());
    s.config_file(&root.join(config_name), "medusa-config");
    (tmp, s)
}

fn target() -> Target {
    Target {
        cache: Endpoint {
            transport: Transport::Unix {
                path: "/var/run/redis/redis.sock".into(),
            },
            password: None,
            username: None,
        },
        db: 4,
        page_cache_db: 5,
        prefix: "shop1:".into(),
        ttl: 86400,
        session: Endpoint {
            transport: Transport::Unix {
                path: "/var/run/redis-persistent/redis.sock".into(),
            },
            password: None,
            username: None,
        },
        session_db: 2,
        session_ttl: 86400,
        ttl_explicit: true,
    }
}

fn plan_of(site: &Site, target: &Target) -> Result<Plan> {
    MedusaPlanner.plan(site, target, &Templates::load().unwrap())
}

fn config_after(plan: &Plan) -> &str {
    &plan.patches[0].after
}

fn env_after(plan: &Plan) -> std::collections::BTreeMap<String, dotenv::EnvVar> {
    dotenv::parse(&plan.patches[1].after)
}

/// Re-parse a config with our reader and return the config object's evaluated pieces.
fn reparse(src: &str) -> (Vec<Item>, usize) {
    let items = js::parse_module(src).expect("patched config parses");
    let ctx = Ctx {
        src,
        items: &items,
        style: JsStyle {
            unit: "  ".into(),
            single_quotes: false,
            trailing_comma: false,
        },
    };
    let n = config_object(&ctx)
        .expect("config object still locatable")
        .start;
    (items, n)
}

fn node_check(path: &std::path::Path) {
    if Command::new("node").arg("--version").output().is_err() {
        return;
    }
    let out = Command::new("node")
        .arg("--check")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "node --check {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn socket_urls_use_the_form_ioredis_parses() {
    let mut ep = target().cache;
    assert_eq!(ioredis_url(&ep, 3), "/var/run/redis/redis.sock?db=3");
    ep.password = Some(Secret::new("p@ss w/rd"));
    assert_eq!(
        ioredis_url(&ep, 3),
        "/var/run/redis/redis.sock?db=3&password=p%40ss%20w%2Frd"
    );
    ep.transport = Transport::Tcp {
        host: "10.0.0.5".into(),
        port: 6380,
    };
    assert_eq!(
        ioredis_url(&ep, 1),
        "redis://:p%40ss%20w%2Frd@10.0.0.5:6380/1"
    );
    ep.password = None;
    assert_eq!(ioredis_url(&ep, 0), "redis://10.0.0.5:6380/0");
}

#[test]
fn generations_follow_the_version() {
    assert_eq!(generation(Some("1.20.10"), "v1", "").0, Generation::V1);
    assert_eq!(generation(Some("2.4.1"), "v2", "").0, Generation::V2Cache);
    assert_eq!(
        generation(Some("^2.11.0"), "v2", "").0,
        Generation::V2Caching
    );
    assert_eq!(
        generation(Some("2.12.3"), "v2", "").0,
        Generation::V2Caching
    );
    assert_eq!(
        generation(None, "v2", "resolve: \"@medusajs/medusa/caching\""),
        (Generation::V2Caching, false)
    );
    assert_eq!(generation(None, "v2", ""), (Generation::V2Cache, false));
}

#[test]
fn v2_without_redis_gets_the_cache_module_and_session_url() {
    let (_tmp, site) = site(
        "medusa-config.ts",
        V2_PLAIN,
        Some("DATABASE_URL=postgres://localhost/m\n"),
        "2.4.1",
    );
    let plan = plan_of(&site, &target()).unwrap();
    assert_eq!(
        config_after(&plan),
        "import { loadEnv, defineConfig } from '@medusajs/framework/utils'\n\nloadEnv(process.env.NODE_ENV || 'development', process.cwd())\n\nmodule.exports = defineConfig({\n  projectConfig: {\n    databaseUrl: process.env.DATABASE_URL,\n    http: {\n      storeCors: process.env.STORE_CORS!,\n      jwtSecret: process.env.JWT_SECRET || \"supersecret\",\n    },\n    redisUrl: process.env.REDIS_URL,\n    redisPrefix: 'shop1:'\n  },\n  modules: [\n    {\n      resolve: '@medusajs/medusa/cache-redis',\n      options: {\n        redisUrl: process.env.CACHE_REDIS_URL,\n        ttl: 86400,\n        namespace: 'shop1'\n      }\n    }\n  ]\n})\n"
    );
    assert_eq!(
        plan.patches[1].after,
        "DATABASE_URL=postgres://localhost/m\nCACHE_REDIS_URL=/var/run/redis/redis.sock?db=4\nREDIS_URL=/var/run/redis-persistent/redis.sock?db=2\n"
    );
    let (items, _) = reparse(config_after(&plan));
    assert!(!items.is_empty());
    // Idempotent once written.
    write_plan(&plan, WriteOptions { backup: false }).unwrap();
    assert!(plan_of(&site, &target()).unwrap().is_noop());
}

#[test]
fn existing_cache_redis_entry_is_updated_in_place_and_env_lines_edited() {
    let env = "REDIS_URL=redis://127.0.0.1:6378/0\nCACHE_REDIS_URL=redis://127.0.0.1:6379/2\nMEDUSA_WORKER_MODE=shared\n";
    let (_tmp, site) = site("medusa-config.ts", V2_REDIS, Some(env), "2.5.0");
    let plan = plan_of(&site, &target()).unwrap();
    let after = config_after(&plan);
    // The env-driven URL expressions and the REDIS_URL const are kept; ttl/namespace set.
    assert!(after.contains("        redisUrl: process.env.CACHE_REDIS_URL ?? \"redis://localhost:6379\",\n        ttl: 86400,\n        namespace: \"shop1\",\n"), "{after}");
    assert!(
        after.contains("    redisUrl: REDIS_URL,\n    redisPrefix: \"shop1:\",\n"),
        "{after}"
    );
    assert_eq!(after.matches("cache-redis").count(), 1, "{after}");
    // Only `60 * 5` -> `86400` and the two prefixes changed: one byte shorter.
    assert_eq!(after.len() as i64 - V2_REDIS.len() as i64, -1, "{after}");
    assert_eq!(
        plan.patches[1].after,
        "REDIS_URL=/var/run/redis-persistent/redis.sock?db=2\nCACHE_REDIS_URL=/var/run/redis/redis.sock?db=4\nMEDUSA_WORKER_MODE=shared\n"
    );
    reparse(after);
}

#[test]
fn caching_module_provider_gets_a_positive_ttl_and_the_flag() {
    let env = "REDIS_URL=unix:///var/run/redis-persistent/redis.sock?db=1\nCACHE_REDIS_URL=redis://%2Fvar%2Frun%2Fredis%2Fredis.sock\n";
    let (_tmp, site) = site("medusa-config.ts", V2_CACHING, Some(env), "2.11.1");
    let plan = plan_of(&site, &target()).unwrap();
    let after = config_after(&plan);
    assert!(after.contains("              redisUrl: process.env.CACHE_REDIS_URL,\n              ttl: 86400,\n              prefix: \"shop1:\",\n            },\n"), "{after}");
    assert!(
        after
            .contains("    redisUrl: process.env.REDIS_URL,\n    redisPrefix: \"shop1:\",\n  },\n"),
        "{after}"
    );
    let vars = env_after(&plan);
    assert_eq!(
        vars["REDIS_URL"].value,
        "/var/run/redis-persistent/redis.sock?db=2"
    );
    assert_eq!(
        vars["CACHE_REDIS_URL"].value,
        "/var/run/redis/redis.sock?db=4"
    );
    assert_eq!(vars["MEDUSA_FF_CACHING"].value, "true");
    reparse(after);
}

#[test]
fn caching_module_is_added_when_missing() {
    let (_tmp, site) = site("medusa-config.ts", V2_PLAIN, None, "2.11.0");
    let plan = plan_of(&site, &target()).unwrap();
    let after = config_after(&plan);
    assert!(after.contains("  modules: [\n    {\n      resolve: '@medusajs/medusa/caching',\n      options: {\n        providers: [\n          {\n            resolve: '@medusajs/caching-redis',\n            id: 'caching-redis',\n            is_default: true,\n            options: {\n              redisUrl: process.env.CACHE_REDIS_URL,\n              ttl: 86400,\n              prefix: 'shop1:'\n            }\n          }\n        ]\n      }\n    }\n  ]\n"), "{after}");
    // No .env yet: it is created.
    assert!(plan.patches[1].before.is_none());
    assert_eq!(env_after(&plan)["MEDUSA_FF_CACHING"].value, "true");
}

#[test]
fn v1_config_with_const_references_is_edited_where_the_objects_are() {
    let (_tmp, site) = site("medusa-config.js", V1, Some("JWT_SECRET=x\n"), "1.20.10");
    let plan = plan_of(&site, &target()).unwrap();
    let after = config_after(&plan);
    assert_eq!(
        after,
        "const dotenv = require(\"dotenv\");\n\nconst REDIS_URL = process.env.REDIS_URL || \"redis://localhost:6379\";\n\nconst modules = {\n  cacheService: {\n    resolve: \"@medusajs/cache-redis\",\n    options: {\n      redisUrl: process.env.CACHE_REDIS_URL,\n      ttl: 86400,\n      namespace: \"shop1\",\n    },\n  },\n  /*cacheService: {\n    resolve: \"@medusajs/cache-redis\",\n  },*/\n};\n\n/** @type {import('@medusajs/medusa').ConfigModule[\"projectConfig\"]} */\nconst projectConfig = {\n  jwt_secret: process.env.JWT_SECRET || \"supersecret\",\n  database_url: process.env.DATABASE_URL,\n  redis_url: process.env.REDIS_URL,\n  redis_prefix: \"shop1:\",\n  // Uncomment the following lines to enable REDIS\n  // redis_url: REDIS_URL\n};\n\nmodule.exports = {\n  projectConfig,\n  plugins: [],\n  modules,\n};\n"
    );
    write_plan(&plan, WriteOptions { backup: false }).unwrap();
    node_check(&site.path.join("medusa-config.js"));
    assert!(plan_of(&site, &target()).unwrap().is_noop());
}

#[test]
fn a_url_variable_shared_by_cache_and_sessions_is_split() {
    let cfg = "module.exports = defineConfig({\n  projectConfig: {\n    redisUrl: process.env.REDIS_URL,\n  },\n  modules: [\n    {\n      resolve: \"@medusajs/medusa/cache-redis\",\n      options: { redisUrl: process.env.REDIS_URL, ttl: 30 },\n    },\n  ],\n})\n";
    let (_tmp, site) = site("medusa-config.js", cfg, Some(""), "2.3.0");
    let plan = plan_of(&site, &target()).unwrap();
    let after = config_after(&plan);
    assert!(
        after.contains(
            "options: { redisUrl: process.env.CACHE_REDIS_URL, ttl: 86400, namespace: \"shop1\" },"
        ),
        "{after}"
    );
    let vars = env_after(&plan);
    assert_eq!(
        vars["REDIS_URL"].value,
        "/var/run/redis-persistent/redis.sock?db=2"
    );
    assert_eq!(
        vars["CACHE_REDIS_URL"].value,
        "/var/run/redis/redis.sock?db=4"
    );
}

#[test]
fn passwords_go_to_env_only_and_are_masked() {
    let mut t = target();
    t.cache.password = Some(Secret::new("c@che-pw"));
    t.session.password = Some(Secret::new("sess10n"));
    let (_tmp, site) = site("medusa-config.ts", V2_PLAIN, Some(""), "2.4.1");
    let plan = plan_of(&site, &t).unwrap();
    assert!(!config_after(&plan).contains("sess10n"));
    let vars = env_after(&plan);
    assert_eq!(
        vars["CACHE_REDIS_URL"].value,
        "/var/run/redis/redis.sock?db=4&password=c%40che-pw"
    );
    let mut diff = Vec::new();
    crate::patch::diff::write_plan(&mut diff, &plan).unwrap();
    let diff = String::from_utf8(diff).unwrap();
    assert!(
        !diff.contains("sess10n") && !diff.contains("c%40che-pw"),
        "{diff}"
    );
    assert!(diff.contains("password=********"), "{diff}");
}

#[test]
fn unlocatable_or_computed_configs_are_refused() {
    let (_tmp, site1) = site(
        "medusa-config.js",
        "const { buildConfig } = require('./config')\nmodule.exports = buildConfig(process.env)\n",
        None,
        "1.20.10",
    );
    let err = format!("{:#}", plan_of(&site1, &target()).unwrap_err());
    assert!(
        err.contains("medusa-config.js: cannot locate the config object")
            && err.contains("nothing written"),
        "{err}"
    );
    let (_tmp2, site2) = site(
        "medusa-config.ts",
        "import { defineConfig } from '@medusajs/framework/utils'\nimport { modules } from './modules'\nexport default defineConfig({\n  projectConfig: {},\n  modules: modules(),\n})\n",
        None,
        "2.4.1",
    );
    let err = format!("{:#}", plan_of(&site2, &target()).unwrap_err());
    assert!(
        err.contains("medusa-config.ts:5: `modules` is `modules()`"),
        "{err}"
    );
    let (_tmp3, site3) = site(
        "medusa-config.ts",
        "export default defineConfig({\n  projectConfig: {\n",
        None,
        "2.4.1",
    );
    let err = format!("{:#}", plan_of(&site3, &target()).unwrap_err());
    assert!(err.contains("cannot read the config as JS/TS"), "{err}");
}

#[test]
fn a_read_only_env_stops_the_config_change_too() {
    let (_tmp, site) = site("medusa-config.ts", V2_PLAIN, Some("A=1\n"), "2.4.1");
    let plan = plan_of(&site, &target()).unwrap();
    let env = site.path.join(".env");
    std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o444)).unwrap();
    let err = format!(
        "{:#}",
        write_plan(&plan, WriteOptions { backup: true }).unwrap_err()
    );
    assert!(err.contains(".env") && err.contains("read-only"), "{err}");
    assert_eq!(
        std::fs::read_to_string(site.path.join("medusa-config.ts")).unwrap(),
        V2_PLAIN
    );
    assert_eq!(std::fs::read_to_string(&env).unwrap(), "A=1\n");
}

#[test]
fn dotenv_edits_keep_other_bytes() {
    let text = "# comment\nexport REDIS_URL=\"redis://old\" # old\r\nA=1\nREDIS_URL=x\nB=2";
    let got = patch_dotenv(
        text,
        &[
            ("REDIS_URL".into(), "/s.sock?db=1".into()),
            ("NEW".into(), "v".into()),
            ("A".into(), "1".into()),
        ],
    );
    assert_eq!(
        got,
        "# comment\nexport REDIS_URL=\"redis://old\" # old\r\nA=1\nREDIS_URL=/s.sock?db=1\nB=2\nNEW=v\n"
    );
    assert_eq!(
        patch_dotenv(&got, &[("REDIS_URL".into(), "/s.sock?db=1".into())]),
        got
    );
}

#[test]
fn shorthand_and_literal_urls_are_replaced_by_env_reads() {
    let cfg = "const redisUrl = \"redis://localhost:6379\"\nconst projectConfig = { redisUrl }\nexport default defineConfig({\n  projectConfig,\n  modules: [\n    { resolve: \"@medusajs/medusa/cache-redis\", options: { redisUrl: \"redis://localhost:6379/3\", ttl: 30 } },\n  ],\n})\n";
    let (_tmp, site) = site("medusa-config.ts", cfg, Some(""), "2.4.0");
    let plan = plan_of(&site, &target()).unwrap();
    let after = config_after(&plan);
    assert!(
        after.contains(
            "const projectConfig = { redisUrl: process.env.REDIS_URL, redisPrefix: \"shop1:\" }"
        ),
        "{after}"
    );
    assert!(
        after.contains("options: { redisUrl: process.env.CACHE_REDIS_URL, ttl: 86400, namespace: \"shop1\" } },"),
        "{after}"
    );
    reparse(after);
}

#[test]
fn a_deprecated_cache_redis_module_on_2_11_is_noted_not_duplicated() {
    let (_tmp, site) = site("medusa-config.ts", V2_REDIS, Some(""), "2.11.2");
    let plan = plan_of(&site, &target()).unwrap();
    let after = config_after(&plan);
    assert_eq!(
        after.matches("@medusajs/medusa/caching\"").count(),
        1,
        "{after}"
    );
    assert_eq!(after.matches("cache-redis").count(), 1, "{after}");
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("deprecated cache-redis module")),
        "{:?}",
        plan.notes
    );
    assert_eq!(env_after(&plan)["MEDUSA_FF_CACHING"].value, "true");
}

#[test]
fn env_changed_after_planning_leaves_both_files_unchanged() {
    let (_tmp, site) = site("medusa-config.ts", V2_PLAIN, Some("A=1\n"), "2.4.1");
    let plan = plan_of(&site, &target()).unwrap();
    assert_eq!(plan.changed().count(), 2);
    let env = site.path.join(".env");
    std::fs::write(&env, "A=2\n").unwrap();
    let err = format!(
        "{:#}",
        write_plan(&plan, WriteOptions { backup: true }).unwrap_err()
    );
    assert!(
        err.contains(".env") && err.contains("changed on disk"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(site.path.join("medusa-config.ts")).unwrap(),
        V2_PLAIN
    );
    assert_eq!(std::fs::read_to_string(&env).unwrap(), "A=2\n");
}

#[test]
fn url_credentials_and_servers_are_read_as_ioredis_reads_them() {
    assert_eq!(
        url_credentials("redis://app:p%40ss@10.0.0.1:6380/2"),
        (Some("app".into()), Some("p@ss".into()))
    );
    assert_eq!(url_credentials("redis://:pw@h"), (None, Some("pw".into())));
    assert_eq!(
        url_credentials("/run/r.sock?db=2&username=u&password=a%2Fb"),
        (Some("u".into()), Some("a/b".into()))
    );
    assert_eq!(url_credentials("redis://h:1/0"), (None, None));
    assert_eq!(
        url_transport("redis://:pw@localhost:6378/1"),
        Some(Transport::Tcp {
            host: "localhost".into(),
            port: 6378
        })
    );
    assert_eq!(
        url_transport("rediss://h"),
        Some(Transport::Tls {
            host: "h".into(),
            port: 6379
        })
    );
    assert_eq!(
        url_transport("/run/r.sock?db=1"),
        Some(Transport::Unix {
            path: "/run/r.sock".into()
        })
    );
}
