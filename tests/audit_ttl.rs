//! `rcfg audit-ttl PATH`: the code scanner end to end (rules, resolution with traces, output
//! formats, suppression, baseline, exit codes, where it looks, bad input).

mod common;

use std::path::{Path, PathBuf};

use common::{json_of, rcfg};
use serde_json::Value;

/// A temp tree from (relative path, contents) pairs.
fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(tmp.path(), rel, text.as_bytes());
    }
    tmp
}

fn write(root: &Path, rel: &str, bytes: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

fn audit(root: &Path, extra: &[&str]) -> (Value, i32) {
    let out = rcfg()
        .arg("audit-ttl")
        .arg(root)
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    (json_of(&out), out.status.code().unwrap())
}

/// (code, file name, line) of every finding.
fn hits(report: &Value) -> Vec<(String, String, u64)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let path = PathBuf::from(f["location"]["path"].as_str().unwrap_or(""));
            (
                f["code"].as_str().unwrap().to_string(),
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                f["location"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn f_msg(r: &Value, i: usize) -> String {
    format!(
        "{} {}",
        r["findings"][i]["message"], r["findings"][i]["trace"]
    )
}

fn h(code: &str, file: &str, line: u64) -> (String, String, u64) {
    (code.to_string(), file.to_string(), line)
}

const THREE_HOP: &str = r#"<?php
/**
 * Search service (shape of itthinx WooCommerce Product Search).
 */
class WooCommerce_Product_Search_Service {

	const CACHE_LIFETIME = 0;

	public static function get_cache_lifetime() {
		return intval( apply_filters( 'woocommerce_product_search_cache_lifetime', self::CACHE_LIFETIME ) );
	}

	public static function request_results( $cache_key, $ids ) {
		wp_cache_set( $cache_key, $ids, 'woocommerce_product_search', self::get_cache_lifetime() );
	}
}
"#;

#[test]
fn three_hop_constant_is_resolved_with_its_trace() {
    let t = tree(&[(
        "wp-content/plugins/woocommerce-product-search/lib/class-woocommerce-product-search-service.php",
        THREE_HOP,
    )]);
    let (r, code) = audit(t.path(), &[]);
    assert_eq!(code, 1);
    let f = &r["findings"][0];
    assert_eq!(f["code"], "wp-cache-no-expire");
    assert_eq!(f["location"]["line"], 14);
    assert_eq!(f["location"]["column"], 3);
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("`self::get_cache_lifetime()` resolves to 0"),
        "{f}"
    );
    let trace: Vec<&str> = f["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(trace.len(), 3, "{trace:#?}");
    assert!(trace[0].starts_with("`self::get_cache_lifetime()` → returns `intval(apply_filters("));
    assert!(trace[0].ends_with("class-woocommerce-product-search-service.php:10"));
    assert!(trace[1].contains("default `self::CACHE_LIFETIME`"));
    assert!(trace[2].starts_with("`self::CACHE_LIFETIME` → `const CACHE_LIFETIME = 0` at "));
    assert!(trace[2].ends_with(":7"));
    assert_eq!(
        f["snippet"],
        "wp_cache_set( $cache_key, $ids, 'woocommerce_product_search', self::get_cache_lifetime() );"
    );
    assert_eq!(f["fingerprint"].as_str().unwrap().len(), 32);
    assert_eq!(r["stats"]["files_analyzed"], 1);

    // The same service with the value the real plugin ships (300) is clean.
    let t = tree(&[(
        "lib/class-woocommerce-product-search-service.php",
        &THREE_HOP.replace("CACHE_LIFETIME = 0", "CACHE_LIFETIME = 300"),
    )]);
    let (r, code) = audit(t.path(), &[]);
    assert_eq!(hits(&r), vec![]);
    assert_eq!(code, 0);
}

#[test]
fn resolution_follows_constants_variables_and_functions_across_the_tree() {
    let t = tree(&[
        (
            "wp-config.php",
            "<?php\ndefine( 'SHOP_CACHE_TTL', 0 );\ndefine( 'SHOP_LONG_TTL', 2 * DAY_IN_SECONDS );\n",
        ),
        (
            "src/Config/CacheTtl.php",
            "<?php\nnamespace Shop\\Config;\n\nclass CacheTtl {\n    public const NONE = 0;\n    public const HOUR = 60 * 60;\n}\n",
        ),
        (
            "src/helpers.php",
            "<?php\nfunction shop_default_ttl() {\n    return defined( 'SHOP_TTL' ) ? SHOP_TTL : 0;\n}\nfunction shop_zero() {\n    return 0;\n}\n",
        ),
        (
            "src/Base.php",
            "<?php\nnamespace Shop;\nabstract class Base {\n    const TTL = 0;\n}\n",
        ),
        (
            "src/cache.php",
            r#"<?php
namespace Shop;
use Shop\Config\CacheTtl;

class Cache extends Base {
    const LONG = 3600;
    function all( $k, $v ) {
        wp_cache_set( $k, $v, 'shop', 3600 );
        wp_cache_set( $k, $v, 'shop', 30 * MINUTE_IN_SECONDS );
        wp_cache_set( $k, $v, 'shop', SHOP_LONG_TTL );
        wp_cache_set( $k, $v, 'shop', SHOP_CACHE_TTL );
        wp_cache_set( $k, $v, 'shop', CacheTtl::HOUR );
        wp_cache_set( $k, $v, 'shop', CacheTtl::NONE );
        wp_cache_set( $k, $v, 'shop', static::LONG );
        wp_cache_set( $k, $v, 'shop', self::TTL );
        $ttl = 12 - 12;
        wp_cache_set( $k, $v, 'shop', $ttl );
        wp_cache_set( $k, $v, 'shop', absint( $this->lifetime() ) );
        wp_cache_set( $k, $v, 'shop', (int) apply_filters( 'shop_ttl', 0 ) );
        wp_cache_set( $k, $v, 'shop', $this->options['ttl'] );
        wp_cache_set( $k, $v, 'shop', shop_ttl() );
        wp_cache_set( $k, $v, 'shop', shop_default_ttl() );
        wp_cache_set( $k, $v, 'shop', shop_zero() );
    }
    function lifetime() {
        return self::LONG - 3600;
    }
}
function shop_ttl() {
    return HOUR_IN_SECONDS;
}
"#,
        ),
    ]);
    let (r, code) = audit(t.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        hits(&r),
        vec![
            h("wp-cache-no-expire", "cache.php", 11),
            h("wp-cache-no-expire", "cache.php", 13),
            h("wp-cache-no-expire", "cache.php", 15),
            h("wp-cache-no-expire", "cache.php", 17),
            h("wp-cache-no-expire", "cache.php", 18),
            h("wp-cache-no-expire", "cache.php", 19),
            h("expiry-unresolved", "cache.php", 20),
            h("expiry-unresolved", "cache.php", 22),
            h("wp-cache-no-expire", "cache.php", 23),
        ]
    );
    assert!(
        f_msg(&r, 7).contains("helpers.php:3") && f_msg(&r, 7).contains("depends on a condition"),
        "a function in another file of the tree is followed: {}",
        r["findings"][7]
    );
    assert!(
        f_msg(&r, 8).contains("`shop_zero()` → returns `0` at "),
        "{}",
        f_msg(&r, 8)
    );
    let f = &r["findings"];
    let trace = |i: usize| f[i]["trace"].to_string();
    assert!(
        trace(0).contains("define('SHOP_CACHE_TTL', 0)"),
        "{}",
        trace(0)
    );
    assert!(trace(0).contains("wp-config.php:2"));
    assert!(trace(1).contains("CacheTtl.php:5"), "{}", trace(1));
    assert!(
        trace(2).contains("Base.php:4"),
        "inherited const: {}",
        trace(2)
    );
    assert!(trace(3).contains("`$ttl = 12 - 12`"), "{}", trace(3));
    assert!(
        trace(4).contains("returns `self::LONG - 3600`"),
        "{}",
        trace(4)
    );
    assert!(trace(5).contains("'shop_ttl' filter"), "{}", trace(5));
    assert_eq!(f[6]["severity"], "info");
    assert!(
        f[6]["message"]
            .as_str()
            .unwrap()
            .contains("rule wp-cache-no-expire"),
        "{}",
        f[6]
    );
}

#[test]
fn each_cms_rule_fires_on_its_api_and_not_on_look_alikes() {
    let t = tree(&[
        (
            "wp-content/plugins/feeds/feeds.php",
            "<?php\n/*\nPlugin Name: Feeds\n*/\nset_transient( 'feeds_body', $body );\nset_site_transient( 'feeds_meta', $meta, DAY_IN_SECONDS );\nwp_cache_set_multiple( $rows, 'feeds' );\nwp_cache_add_multiple( $rows, 'feeds', 600 );\n",
        ),
        (
            "web/modules/custom/stock/src/StockCache.php",
            "<?php\nnamespace Drupal\\stock;\n\nuse Drupal\\Core\\Cache\\Cache;\n\nclass StockCache {\n  public function warm($cid, $data) {\n    \\Drupal::cache('data')->set($cid, $data);\n    \\Drupal::cache('data')->set($cid, $data, 3600);\n    \\Drupal::cache('data')->set($cid, $data, \\Drupal::time()->getRequestTime() + 3600);\n    $this->cacheBackend->set($cid, $data, Cache::PERMANENT, ['stock']);\n    \\Drupal::configFactory()->getEditable('stock.settings')->set('warm', TRUE)->save();\n    $this->cacheBackend->setMultiple([\n      'a' => ['data' => 1, 'expire' => time() + 60],\n      'b' => ['data' => 2],\n    ]);\n  }\n}\n",
        ),
        (
            "app/code/Vendor/Stock/Model/Config/Data.php",
            "<?php\nnamespace Vendor\\Stock\\Model\\Config;\n\nuse Magento\\Framework\\App\\CacheInterface;\n\nclass Data {\n    public function initData($data) {\n        $this->cache->save($this->serializer->serialize($data), $this->cacheId, $this->cacheTags);\n        $this->cache->save($data, 'id', [], false);\n        $this->productRepository->save($product);\n        $this->stockRepository->save($item, 'x');\n        $this->cacheFrontendPool->get('default')->save($data, 'id', [], 86400);\n        $this->_cache->save($data, 'id', [], null);\n    }\n}\n",
        ),
        (
            "lib/Counter.php",
            "<?php\nclass Counter {\n    public function hit($redis, $key) {\n        $redis->incr($key);\n        $redis->hSet('stats', 'last', time());\n        $redis->expire('stats', 600);\n        $redis->set('last_hit', time());\n        $redis->set('last_hit_ex', time(), ['nx', 'ex' => 60]);\n    }\n}\n",
        ),
        (
            "src/cache.ts",
            "import Redis from 'ioredis';\nconst redis = new Redis();\nexport async function put(key: string, v: string) {\n  await redis.set(key, v);\n  await redis.set(key, v, 'EX', 60);\n  const headers = new Headers();\n  headers.set('x', 'y');\n}\nexport async function tally(key: string): Promise<void> {\n  await redis.zadd(`rank:${key}`, 1, 'a');\n  await redis.hset(key, 'n', 1);\n  await redis.expire(key, 600);\n}\n",
        ),
        (
            "src/medusa/sync.js",
            "const { Modules } = require('@medusajs/framework/utils');\nasync function sync(container, data) {\n  const cachingModuleService = container.resolve(Modules.CACHING);\n  await cachingModuleService.set({ key: 'products', data, ttl: 0 });\n  await cachingModuleService.set({ key: 'products', data });\n  const cacheService = container.resolve('cacheService');\n  await cacheService.set('products', data, 0);\n}\n",
        ),
    ]);
    let (r, code) = audit(t.path(), &[]);
    assert_eq!(code, 1);
    let mut got = hits(&r);
    got.sort();
    let mut want = vec![
        h("wp-transient-no-expire", "feeds.php", 5),
        h("wp-cache-multiple-no-expire", "feeds.php", 7),
        h("drupal-cache-set-permanent", "StockCache.php", 8),
        h("drupal-cache-expire-relative", "StockCache.php", 9),
        h("drupal-cache-set-permanent", "StockCache.php", 11),
        h("drupal-cache-set-multiple-permanent", "StockCache.php", 15),
        h("magento-cache-save-no-lifetime", "Data.php", 8),
        h("magento-cache-save-no-lifetime", "Data.php", 13),
        h("php-redis-write-no-expire", "Counter.php", 4),
        h("php-redis-set-no-ttl", "Counter.php", 7),
        h("js-redis-set-no-ttl", "cache.ts", 4),
        h("js-redis-write-no-expire", "cache.ts", 10),
        h("medusa-cache-set-ttl-zero", "sync.js", 4),
    ];
    want.sort();
    assert_eq!(got, want, "{:#}", r["findings"]);
    let magento = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["location"]["line"] == 13 && f["code"] == "magento-cache-save-no-lifetime")
        .unwrap();
    assert!(
        magento["message"]
            .as_str()
            .unwrap()
            .contains("$this->_cache->save()")
    );
}

#[test]
fn sarif_output_validates_against_the_sarif_2_1_0_schema() {
    let t = tree(&[
        (
            "a b/wp.php",
            "<?php\nwp_cache_set( 'k', $v );\nwp_cache_set( 'k', $v, '', $x );\n",
        ),
        (
            "cache.js",
            "const redis = require('redis');\nredis.set('k', 'v');\n",
        ),
    ]);
    let out = rcfg()
        .arg("audit-ttl")
        .arg(t.path())
        .args(["--format", "sarif"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let sarif = json_of(&out);
    // The official schema's `run.language` pattern has a stray `]`
    // (`^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`), which ECMAScript accepts and Rust regex
    // engines refuse while compiling the schema. Use the intended pattern; rcfg does not
    // emit `language`, so nothing it writes is judged by it.
    let text =
        std::fs::read_to_string(common::repo_root().join("tests/data/sarif-schema-2.1.0.json"))
            .unwrap()
            .replace(
                "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
                "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$",
            );
    let schema: Value = serde_json::from_str(&text).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    // The validator does reject a malformed log.
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("warn");
    assert!(!validator.is_valid(&broken));
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    for r in rules {
        assert!(r["id"].is_string() && r["shortDescription"]["text"].is_string());
        assert!(r["help"]["text"].is_string());
        assert!(r["defaultConfiguration"]["level"].is_string());
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    let first = &results[0];
    assert_eq!(first["ruleId"], "wp-cache-no-expire");
    assert_eq!(first["level"], "warning");
    let loc = &first["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "a%20b/wp.php");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 1);
    assert!(first["partialFingerprints"]["rcfgFingerprint/v1"].is_string());
    assert_eq!(results[1]["level"], "note");
    assert_eq!(
        rules[first["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "wp-cache-no-expire"
    );
}

#[test]
fn human_and_github_formats() {
    let t = tree(&[(
        "wp.php",
        "<?php\n\nwp_cache_add( 'alloptions', $alloptions, 'options' );\n",
    )]);
    let out = rcfg().arg("audit-ttl").arg(t.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let shown = t.path().join("wp.php").display().to_string();
    assert!(
        text.starts_with(&format!(
            "{shown}:3:1: warning[wp-cache-no-expire] wp_cache_add() has no expiry argument"
        )),
        "{text}"
    );
    assert!(text.contains("  3 | wp_cache_add( 'alloptions', $alloptions, 'options' );"));
    assert!(text.contains("= help: pass a positive number of seconds"));
    assert!(
        text.contains("1 finding (0 error, 1 warning, 0 info)"),
        "{text}"
    );

    let out = rcfg()
        .current_dir(t.path())
        .args(["audit-ttl", ".", "--format", "github"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with(
            "::warning file=wp.php,line=3,col=1,title=wp-cache-no-expire::wp_cache_add() has no expiry argument"
        ),
        "{text}"
    );
    assert!(
        text.contains("%0A  help%3A") || text.contains("%0A  help: "),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1);
}

#[test]
fn exit_codes_follow_fail_on_and_errors() {
    let clean = tree(&[(
        "ok.php",
        "<?php\nwp_cache_set( 'k', $v, 'g', HOUR_IN_SECONDS );\n",
    )]);
    let (r, code) = audit(clean.path(), &[]);
    assert_eq!((code, hits(&r).len()), (0, 0));

    let warn = tree(&[("w.php", "<?php\nwp_cache_set( 'k', $v );\n")]);
    assert_eq!(audit(warn.path(), &[]).1, 1);
    assert_eq!(audit(warn.path(), &["--fail-on", "error"]).1, 0);
    let info = tree(&[(
        "i.php",
        "<?php\nfunction f($t) { wp_cache_set( 'k', 1, 'g', $t ); }\n",
    )]);
    assert_eq!(
        audit(info.path(), &[]).1,
        0,
        "info is below the default threshold"
    );
    assert_eq!(audit(info.path(), &["--fail-on", "info"]).1, 1);

    let (r, code) = audit(&clean.path().join("missing"), &[]);
    assert_eq!(code, 2);
    assert_eq!(r["errors"][0]["message"], "no such file or directory");
}

#[test]
fn inline_suppressions_and_unused_ones() {
    let t = tree(&[(
        "wp.php",
        "<?php\n// rcfg-ignore: wp-cache-no-expire alloptions is capped by WP_REDIS_MAXTTL\nwp_cache_add( 'alloptions', $a, 'options' );\nwp_cache_set( 'x', 1 ); // rcfg-ignore: wp-cache-no-expire same line\n/* rcfg-ignore: php-redis-set-no-ttl nothing here */\nwp_cache_set( 'y', 1 );\n",
    )]);
    let (r, code) = audit(t.path(), &[]);
    assert_eq!(
        hits(&r),
        vec![
            h("unused-suppression", "wp.php", 5),
            h("wp-cache-no-expire", "wp.php", 6),
        ]
    );
    assert_eq!(code, 1);
    assert_eq!(r["stats"]["suppressed"], 2);
}

#[test]
fn baseline_survives_line_shifts_and_fails_only_on_new_findings() {
    let t = tree(&[(
        "plugin.php",
        "<?php\nwp_cache_set( 'a', 1 );\nwp_cache_set( 'a', 1 );\nset_transient( 'b', 2 );\n",
    )]);
    let bl = t.path().join("rcfg-baseline.json");
    let (r, code) = audit(t.path(), &["--write-baseline", bl.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(r["stats"]["baselined"], 3);
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&bl).unwrap()).unwrap();
    assert_eq!(saved["findings"].as_array().unwrap().len(), 3);

    // Shift every line down; nothing new.
    write(
        t.path(),
        "plugin.php",
        b"<?php\n// a header comment\n\n/* more */\nwp_cache_set( 'a', 1 );\nwp_cache_set( 'a', 1 );\n\nset_transient( 'b', 2 );\n",
    );
    let (r, code) = audit(t.path(), &["--baseline", bl.to_str().unwrap()]);
    assert_eq!((code, hits(&r)), (0, vec![]));
    assert_eq!(r["stats"]["baselined"], 3);

    // A third identical call is new: only it fails.
    write(
        t.path(),
        "plugin.php",
        b"<?php\nwp_cache_set( 'a', 1 );\nwp_cache_set( 'a', 1 );\nwp_cache_set( 'a', 1 );\nset_transient( 'b', 2 );\nwp_cache_add( 'c', 3 );\n",
    );
    let (r, code) = audit(t.path(), &["--baseline", bl.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(
        hits(&r),
        vec![
            h("wp-cache-no-expire", "plugin.php", 4),
            h("wp-cache-no-expire", "plugin.php", 6),
        ]
    );
}

#[test]
fn config_file_turns_rules_off_changes_severity_and_excludes_paths() {
    let t = tree(&[
        (
            "a.php",
            "<?php\nwp_cache_set( 'a', 1 );\nset_transient( 'b', 2 );\n",
        ),
        ("legacy/old.php", "<?php\nwp_cache_set( 'old', 1 );\n"),
        (
            "rcfg.toml",
            "[audit]\ndisable = [\"wp-transient-no-expire\"]\nexclude = [\"legacy\"]\n\n[audit.severity]\nwp-cache-no-expire = \"error\"\n",
        ),
    ]);
    let cfg = t.path().join("rcfg.toml");
    let (r, code) = audit(t.path(), &["--config", cfg.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(hits(&r), vec![h("wp-cache-no-expire", "a.php", 2)]);
    assert_eq!(r["findings"][0]["severity"], "error");
    assert_eq!(
        audit(
            t.path(),
            &["--config", cfg.to_str().unwrap(), "--fail-on", "error"]
        )
        .1,
        1
    );

    std::fs::write(&cfg, "[audit]\ndisable = [\"no-such-rule\"]\n").unwrap();
    let out = rcfg()
        .arg("audit-ttl")
        .arg(t.path())
        .args(["--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown rule `no-such-rule`"));
    std::fs::write(&cfg, "[audit]\nbogus = 1\n").unwrap();
    let out = rcfg()
        .arg("audit-ttl")
        .arg(t.path())
        .args(["--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));

    // rcfg.toml inside PATH is found without --config: the broken one must go first.
    std::fs::remove_file(&cfg).unwrap();
    let (r, _) = audit(t.path(), &["--exclude", "*.php"]);
    assert_eq!(hits(&r), vec![]);
}

#[test]
fn node_modules_only_packages_that_talk_to_redis() {
    let set = "module.exports = async (redis, k) => { await redis.set(k, 'v'); };\n";
    let t = tree(&[
        (
            "node_modules/lodash/package.json",
            "{\"name\":\"lodash\",\"version\":\"4.17.21\"}",
        ),
        ("node_modules/lodash/redis-ish.js", set),
        (
            "node_modules/cache-manager-ioredis/package.json",
            "{\"name\":\"cache-manager-ioredis\",\"dependencies\":{\"ioredis\":\"^5.3.2\"}}",
        ),
        ("node_modules/cache-manager-ioredis/index.js", set),
        (
            "node_modules/@medusajs/cache-redis/package.json",
            "{\"name\":\"@medusajs/cache-redis\",\"version\":\"2.0.0\"}",
        ),
        (
            "node_modules/@medusajs/cache-redis/dist/services/redis-cache.js",
            set,
        ),
        (
            "node_modules/@medusajs/utils/package.json",
            "{\"name\":\"@medusajs/utils\",\"version\":\"2.0.0\"}",
        ),
        ("node_modules/@medusajs/utils/dist/x.js", set),
    ]);
    let (r, _) = audit(t.path(), &[]);
    let mut got: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"]["path"].as_str().unwrap().to_string())
        .collect();
    got.sort();
    assert_eq!(got.len(), 2, "{got:#?}");
    assert!(got[0].ends_with("node_modules/@medusajs/cache-redis/dist/services/redis-cache.js"));
    assert!(got[1].ends_with("node_modules/cache-manager-ioredis/index.js"));
    assert_eq!(r["stats"]["node_modules_skipped"], 2);
    let (r, _) = audit(t.path(), &["--include-node-modules"]);
    assert_eq!(r["findings"].as_array().unwrap().len(), 4);
}

#[test]
fn vendor_and_vcs_dirs() {
    let t = tree(&[
        (
            "vendor/acme/cache/src/Store.php",
            "<?php\nwp_cache_set( 'v', 1 );\n",
        ),
        (".git/hooks/x.php", "<?php\nwp_cache_set( 'g', 1 );\n"),
    ]);
    let (r, _) = audit(t.path(), &[]);
    assert_eq!(hits(&r), vec![h("wp-cache-no-expire", "Store.php", 2)]);
}

#[test]
fn bad_input_is_survived_and_reported() {
    let mut minified = b"(function(){".to_vec();
    for i in 0..45_000 {
        minified.extend_from_slice(format!("var a{i}=function(b){{return b+{i}}};").as_bytes());
    }
    minified.extend_from_slice(b"redis.set(\"k\",\"v\")})();");
    assert!(minified.len() > 1_500_000);
    let t = tree(&[
        (
            "big/huge.php",
            &format!(
                "<?php\n{}\nwp_cache_set('k', 1);\n",
                "// pad\n".repeat(400_000)
            ),
        ),
        (
            "syntax/broken.php",
            "<?php\nwp_cache_set( 'k', $v, 'g', 0 );\n$s = 'never closed;\n",
        ),
    ]);
    write(
        t.path(),
        "latin1.php",
        b"<?php\n// caf\xe9 \xff\xfe\nwp_cache_set( 'caf\xe9', $v );\n",
    );
    write(t.path(), "dist/app.min.js", &minified);
    write(
        t.path(),
        "img/logo.php",
        b"\x89PNG\r\n\x1a\n\0\0\0wp_cache_set(",
    );
    std::os::unix::fs::symlink("..", t.path().join("big/loop")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/getid3.php", t.path().join("big/getid3.php")).unwrap();

    let (r, code) = audit(t.path(), &[]);
    assert_eq!(code, 2, "the symlink loop is an error: {r:#}");
    let errors = r["errors"].as_array().unwrap();
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap().contains("symlink loop")),
        "{errors:#?}"
    );
    let mut got = hits(&r);
    got.sort();
    assert_eq!(
        got,
        vec![
            h("js-redis-set-no-ttl", "app.min.js", 1),
            h("wp-cache-no-expire", "broken.php", 2),
            h("wp-cache-no-expire", "latin1.php", 3),
        ]
    );
    let broken = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "wp-cache-no-expire" && f["location"]["line"] == 2)
        .unwrap();
    assert!(
        broken["message"]
            .as_str()
            .unwrap()
            .starts_with("[regex-level]")
    );
    assert!(broken["trace"].to_string().contains("does not parse"));
    let min = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "js-redis-set-no-ttl")
        .unwrap();
    assert!(min["snippet"].as_str().unwrap().chars().count() < 210);
    let stats = &r["stats"];
    assert_eq!(stats["files_too_large"], 1, "{stats}");
    assert_eq!(stats["files_binary"], 1);
    assert_eq!(stats["files_regex_level"], 1);
    assert_eq!(
        stats["dangling_symlinks"], 1,
        "a dangling link is skipped, not an error"
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");

    // Raising the limit scans the big file.
    let (r, _) = audit(t.path(), &["--max-filesize", "8M"]);
    assert!(hits(&r).contains(&h("wp-cache-no-expire", "huge.php", 400_003)));
}

#[test]
fn unreadable_directory_is_an_error_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let t = tree(&[
        ("private/secret.php", "<?php\nwp_cache_set( 's', 1 );\n"),
        ("public.php", "<?php\nwp_cache_set( 'p', 1 );\n"),
    ]);
    let private = t.path().join("private");
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read_dir(&private).is_ok() {
        // Running as root: permissions do not apply, nothing to test here.
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("skipped: directory permissions are not enforced for this user");
        return;
    }
    let (r, code) = audit(t.path(), &[]);
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(code, 2);
    assert_eq!(hits(&r), vec![h("wp-cache-no-expire", "public.php", 2)]);
    assert!(
        r["errors"].to_string().contains("permission denied"),
        "{r:#}"
    );
}

#[test]
fn drupal_7_tree_uses_drupal_7_constants() {
    let t = tree(&[
        (
            "includes/bootstrap.inc",
            "<?php\ndefine('VERSION', '7.98');\ndefine('CACHE_PERMANENT', 0);\ndefine('CACHE_TEMPORARY', -1);\n",
        ),
        (
            "index.php",
            "<?php\ndefine('DRUPAL_ROOT', getcwd());\nrequire_once DRUPAL_ROOT . '/includes/bootstrap.inc';\n",
        ),
        (
            "sites/all/modules/stock/stock.module",
            "<?php\nfunction stock_warm($data) {\n  cache_set('stock', $data);\n  cache_set('stock', $data, 'cache', CACHE_PERMANENT);\n  cache_set('stock', $data, 'cache', CACHE_TEMPORARY);\n  cache_set('stock', $data, 'cache', REQUEST_TIME + 3600);\n  cache_set('stock', $data, 'cache', 3600);\n}\n",
        ),
    ]);
    let (r, code) = audit(t.path(), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        hits(&r),
        vec![
            h("drupal-cache-set-permanent", "stock.module", 3),
            h("drupal-cache-set-permanent", "stock.module", 4),
            h("drupal-cache-expire-relative", "stock.module", 7),
        ]
    );
    assert_eq!(r["stats"]["sites"][0]["cms"], "drupal");
}

#[test]
fn site_config_lints_are_config_level_findings() {
    let t = tree(&[
        ("wp-settings.php", "<?php\n// WordPress settings\n"),
        ("wp-includes/version.php", "<?php\n$wp_version = '6.6.2';\n"),
        (
            "wp-config.php",
            "<?php\ndefine( 'DB_NAME', 'shop' );\ndefine( 'WP_REDIS_MAXTTL', 0 );\n$table_prefix = 'wp_';\nrequire_once ABSPATH . 'wp-settings.php';\n",
        ),
        (
            "wp-content/object-cache.php",
            "<?php\n/*\nPlugin Name: Redis Object Cache Drop-In\nVersion: 2.6.3\n*/\n",
        ),
    ]);
    let (r, code) = audit(t.path(), &[]);
    assert_eq!(code, 1);
    assert!(
        hits(&r).contains(&h("wp-redis-maxttl-zero", "wp-config.php", 3)),
        "{r:#}"
    );
    // Medusa and Drupal lints from the detect fixtures, and only TTL-related ones.
    let (r, code) = audit(&common::fixture("medusa-v2-lints"), &[]);
    assert_eq!(code, 1);
    assert_eq!(
        hits(&r),
        vec![h("medusa-caching-ttl-zero", "medusa-config.ts", 31)]
    );
    let (r, _) = audit(&common::fixture("drupal-docroot-lints"), &[]);
    let codes: Vec<String> = hits(&r).into_iter().map(|(c, _, _)| c).collect();
    assert!(
        codes.contains(&"drupal-perm-ttl-days-string".to_string()),
        "{codes:?}"
    );
    for c in &codes {
        assert!(
            c.starts_with("drupal-perm-ttl"),
            "{c} is not a TTL-related lint"
        );
    }
}

#[test]
fn magento_rule_covers_every_file_of_a_detected_magento_site() {
    let (_tmp, site) = common::copy_fixture("magento2-composer-redis");
    // No `Magento` in the file itself: the site makes it Magento code.
    write(
        &site,
        "app/code/Acme/Stock/Model/StockCache.php",
        b"<?php\nnamespace Acme\\Stock\\Model;\n\nclass StockCache\n{\n    public function put(string $id, string $data): void\n    {\n        $this->cache->save($data, $id, ['acme_stock']);\n    }\n}\n",
    );
    let (r, code) = audit(&site, &[]);
    assert_eq!(code, 1);
    let got = hits(&r);
    assert!(
        got.contains(&h("magento-cache-save-no-lifetime", "StockCache.php", 8)),
        "{got:#?}"
    );
    assert!(
        got.contains(&h("magento-no-lifetime-bound", "env.php", 28)),
        "{got:#?}"
    );
    assert_eq!(r["stats"]["sites"][0]["cms"], "magento2");
    // The same file outside a Magento tree is not Magento's API.
    let t = tree(&[(
        "StockCache.php",
        "<?php\nclass StockCache {\n    function put($id, $data) { $this->cache->save($data, $id, []); }\n}\n",
    )]);
    assert_eq!(hits(&audit(t.path(), &[]).0), vec![]);
}

#[test]
fn config_level_findings_can_be_suppressed_and_disabled() {
    let (_tmp, site) = common::copy_fixture("wordpress-lints");
    let config = site.join("wp-config.php");
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "define( 'WP_REDIS_MAXTTL', 0 );",
        "define( 'WP_REDIS_MAXTTL', 0 ); // rcfg-ignore: wp-redis-maxttl-zero staging only",
    );
    std::fs::write(&config, text).unwrap();
    let (r, code) = audit(&site, &[]);
    assert_eq!(
        hits(&r),
        vec![h(
            "wp-redis-default-expire-wrong-plugin",
            "wp-config.php",
            42
        )]
    );
    assert_eq!(code, 1);
    assert_eq!(r["stats"]["suppressed"], 1);
    let cfg = site.join("rcfg.toml");
    std::fs::write(
        &cfg,
        "[audit]\ndisable = [\"wp-redis-default-expire-wrong-plugin\", \"wp-redis-maxttl-zero\"]\n",
    )
    .unwrap();
    // Both off: nothing left, and the suppression of a disabled rule is not "unused".
    let (r, code) = audit(&site, &["--config", cfg.to_str().unwrap()]);
    assert_eq!((hits(&r), code), (vec![], 0));
}

/// Issue 16: the receiver's type decides the API; request-local groups, test code and
/// wrappers are not site risk or are reported once.
#[test]
fn receiver_types_groups_tests_and_wrappers_on_a_tree() {
    let t = tree(&[
        (
            "web/modules/custom/stock/src/StockInfo.php",
            "<?php\nnamespace Drupal\\stock;\n\nuse Drupal\\Component\\FileCache\\FileCacheFactory;\nuse Drupal\\Core\\Cache\\CacheBackendInterface;\n\nclass StockInfo {\n  /**\n   * @var \\Drupal\\Component\\FileCache\\FileCacheInterface\n   */\n  protected $fileCache;\n\n  public function __construct(protected CacheBackendInterface $backend, $cache) {\n    $this->fileCache = FileCacheFactory::get('stock_info');\n    $this->cache = $cache;\n  }\n\n  public function parse($file, $data) {\n    $this->fileCache->set($file, $data);\n    $this->backend->set('stock:' . $file, $data);\n    $this->cache->set('untyped', $data);\n  }\n}\n",
        ),
        (
            "web/modules/custom/stock/tests/src/Unit/StockInfoTest.php",
            "<?php\nnamespace Drupal\\Tests\\stock\\Unit;\n\nuse Drupal\\Tests\\UnitTestCase;\n\nclass StockInfoTest extends UnitTestCase {\n  public function testParse() {\n    $this->cache->set('a', 1)->shouldBeCalled();\n    \\Drupal::cache()->set('b', 2);\n  }\n}\n",
        ),
        (
            "wp-content/plugins/acme/acme.php",
            "<?php\n/*\nPlugin Name: Acme\n*/\nwp_cache_add_non_persistent_groups( array( 'acme_runtime', 'acme_seen' ) );\n",
        ),
        (
            // A test bootstrap's declaration says nothing about the site.
            "wp-content/plugins/acme/tests/bootstrap.php",
            "<?php\nwp_cache_add_non_persistent_groups( 'acme_persistent' );\n",
        ),
        (
            "wp-content/plugins/acme/inc/store.php",
            "<?php\nfunction acme_store( $k, $v ) {\n\twp_cache_set( $k, $v, 'acme_runtime' );\n\twp_cache_set( $k, $v, 'counts' );\n\twp_cache_set( $k, $v, 'acme_persistent' );\n}\n",
        ),
        (
            "app/code/Acme/Stock/Model/StockCache.php",
            "<?php\nnamespace Acme\\Stock\\Model;\n\nuse Magento\\Framework\\App\\CacheInterface;\n\nclass StockCache\n{\n    public function __construct(private CacheInterface $cache)\n    {\n    }\n\n    public function save(string $data, string $id): bool\n    {\n        return $this->cache->save($data, $id, ['acme_stock']);\n    }\n}\n",
        ),
        (
            "app/code/Acme/Stock/Model/TtlCache.php",
            "<?php\nnamespace Acme\\Stock\\Model;\n\nuse Magento\\Framework\\App\\CacheInterface;\n\nclass TtlCache\n{\n    public function __construct(private CacheInterface $cache)\n    {\n    }\n\n    public function save($data, $id, $tags = [], $lifeTime = null)\n    {\n        return $this->cache->save($data, $id, $tags, $lifeTime);\n    }\n}\n",
        ),
        (
            "app/code/Acme/Stock/Model/Warm.php",
            "<?php\nnamespace Acme\\Stock\\Model;\nuse Magento\\Framework\\DataObject;\nclass Warm\n{\n    public function __construct(private StockCache $stockCache, private TtlCache $ttlCache)\n    {\n    }\n\n    public function run($d)\n    {\n        $this->stockCache->save($d, 'a');\n        $this->stockCache->save($d, 'b');\n        $this->ttlCache->save($d, 'c');\n    }\n}\n",
        ),
        (
            "src/__tests__/cache.test.js",
            "import Redis from 'ioredis';\nconst redis = new Redis();\ntest('set', async () => { await redis.set('k', 'v'); });\n",
        ),
        (
            "src/store.js",
            "import Redis from 'ioredis';\nimport RedisMock from 'ioredis-mock';\nconst redis = new Redis();\nconst fake = new RedisMock();\nexport async function put(k) {\n  await redis.set(k, 'v');\n  await fake.set(k, 'v');\n}\n",
        ),
    ]);
    let (r, code) = audit(t.path(), &[]);
    assert_eq!(code, 1);
    let sev = |file: &str, line: u64| -> Vec<String> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["location"]["path"].as_str().unwrap().ends_with(file)
                    && f["location"]["line"] == line
            })
            .map(|f| {
                format!(
                    "{} {}",
                    f["severity"].as_str().unwrap(),
                    f["code"].as_str().unwrap()
                )
            })
            .collect()
    };
    // Drupal: the file cache is another API; the typed backend is one; the untyped
    // `$this->cache` is matched by name at a lower severity, saying so.
    assert_eq!(sev("StockInfo.php", 19), Vec::<String>::new(), "{r:#}");
    assert_eq!(
        sev("StockInfo.php", 20),
        vec!["warning drupal-cache-set-permanent"]
    );
    assert_eq!(
        sev("StockInfo.php", 21),
        vec!["info drupal-cache-set-permanent"]
    );
    let all = r["findings"].to_string();
    assert!(
        all.contains("`$this->backend` is declared `CacheBackendInterface`"),
        "{all}"
    );
    assert!(
        all.contains("receiver `$this->cache` not resolved to a type"),
        "{all}"
    );
    // Tests: a Prophecy expectation is no write; a real call in a test is info.
    assert_eq!(sev("StockInfoTest.php", 8), Vec::<String>::new());
    assert_eq!(
        sev("StockInfoTest.php", 9),
        vec!["info drupal-cache-set-permanent"]
    );
    assert!(all.contains("not counted as site risk"));
    // WordPress: the plugin's and core's non-persistent groups are request-local.
    assert_eq!(sev("store.php", 3), Vec::<String>::new());
    assert_eq!(sev("store.php", 4), Vec::<String>::new());
    assert_eq!(sev("store.php", 5), vec!["warning wp-cache-no-expire"]);
    assert_eq!(r["stats"]["request_local"], 2);
    // Magento: one write, one finding, at the wrapper without a lifetime parameter, its
    // callers in the trace; a wrapper that passes the lifetime on is judged at its caller.
    assert_eq!(sev("Warm.php", 12), Vec::<String>::new());
    assert_eq!(sev("Warm.php", 13), Vec::<String>::new());
    assert_eq!(
        sev("Warm.php", 14),
        vec!["warning magento-cache-save-no-lifetime"]
    );
    assert_eq!(
        sev("StockCache.php", 14),
        vec!["warning magento-cache-save-no-lifetime"]
    );
    let wrapper = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["location"]["path"]
                .as_str()
                .unwrap()
                .ends_with("StockCache.php")
        })
        .unwrap()["trace"]
        .to_string();
    assert!(
        wrapper.contains("StockCache::save() has no expiry parameter")
            && wrapper.contains("Warm.php:12")
            && wrapper.contains("Warm.php:13"),
        "{wrapper}"
    );
    // JS: test files are info; a mock client is no Redis.
    assert_eq!(sev("cache.test.js", 3), vec!["info js-redis-set-no-ttl"]);
    assert_eq!(sev("store.js", 6), vec!["warning js-redis-set-no-ttl"]);
    assert_eq!(sev("store.js", 7), Vec::<String>::new());
}
