//! `rcfg audit-ttl --redis`: the live keyspace audit against real `redis-server` processes
//! that each test starts itself (temp dir, unix socket or a free loopback port).

mod common;

use common::redis_server::{RedisServer, c, exec};
use common::{json_of, rcfg};
use serde_json::Value;

/// The namespace entry called `name` (in `db`, when given).
fn ns<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["namespaces"]
        .as_array()
        .expect("namespaces array")
        .iter()
        .find(|n| n["namespace"] == name)
        .unwrap_or_else(|| panic!("no namespace {name} in {:#}", report["namespaces"]))
}

fn ns_in<'a>(report: &'a Value, name: &str, db: i64) -> &'a Value {
    report["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["namespace"] == name && n["db"] == db)
        .unwrap_or_else(|| panic!("no namespace {name} in db {db}: {:#}", report["namespaces"]))
}

const DAY: &str = "86400";

/// A keyspace with known layouts and long TTLs (nothing expires during the test).
fn seed_mixed(s: &RedisServer, db: i64) {
    let mut con = s.con(db);
    let mut cmds = Vec::new();
    // WordPress: 5 options without TTL, 20 transients with 1h, 10 posts with 2 days.
    for i in 0..5 {
        cmds.push(c(&["SET", &format!("shop1:wp:options:opt{i}x"), "v"]));
    }
    for i in 0..20 {
        cmds.push(c(&[
            "SET",
            &format!("shop1:wp:transient:t_{i}"),
            "v",
            "EX",
            "3600",
        ]));
    }
    for i in 0..10 {
        cmds.push(c(&[
            "SET",
            &format!("shop1:wp:posts:{i}"),
            "v",
            "EX",
            "172800",
        ]));
    }
    // Drupal: 4 tag counters (persistent by design), 6 render entries with 1 year.
    for i in 0..4 {
        cmds.push(c(&["INCR", &format!("d10:cachetags:node_list_{i}")]));
    }
    for i in 0..6 {
        cmds.push(c(&[
            "HSET",
            &format!("d10:render:entity_view:node:{i}:full"),
            "data",
            "x",
        ]));
        cmds.push(c(&[
            "EXPIRE",
            &format!("d10:render:entity_view:node:{i}:full"),
            "31536000",
        ]));
    }
    // Magento: 3 entries without TTL, tag sets.
    for i in 0..3 {
        cmds.push(c(&["HSET", &format!("zc:k:69d_CONFIG_{i}"), "d", "x"]));
    }
    cmds.push(c(&["SADD", "zc:tags", "CONFIG"]));
    cmds.push(c(&["SADD", "zc:ti:69d_CONFIG", "69d_CONFIG_0"]));
    // A plugin writing object_<id> keys without TTL: one family, not 30 namespaces.
    for i in 0..30 {
        cmds.push(c(&["SET", &format!("object_{}", 1000 + i), "v"]));
    }
    // 7 sessions with TTL, 2 locks, a queue.
    for i in 0..7 {
        cmds.push(c(&["SET", &format!("sess_{i:0>20}abc"), "v", "EX", DAY]));
    }
    cmds.push(c(&["SET", "medusa_lock:cart_1", "owner"]));
    cmds.push(c(&["SET", "medusa_lock:cart_2", "owner"]));
    cmds.push(c(&["LPUSH", "bull:events-queue:wait", "job1"]));
    exec(&mut con, &cmds);
}

#[test]
fn exact_counts_per_namespace_on_a_seeded_keyspace() {
    let s = RedisServer::start();
    seed_mixed(&s, 0);
    let out = rcfg()
        .args(["audit-ttl", "--format", "json", "--redis", &s.unix_url()])
        .output()
        .unwrap();
    let r = json_of(&out);
    assert_eq!(r["totals"]["keys_scanned"], 90, "{r:#}");
    assert_eq!(r["totals"]["vanished"], 0);
    assert_eq!(r["totals"]["estimated_keys"], 90);
    assert_eq!(r["totals"]["estimated_without_expiry"], 47);

    let opts = ns(&r, "shop1:wp:options");
    assert_eq!(opts["keys"], 5);
    assert_eq!(opts["without_expiry"], 5);
    assert_eq!(opts["class"], "cache");
    assert_eq!(opts["layout"], "wordpress");
    assert_eq!(opts["ttl_buckets"]["none"], 5);
    assert_eq!(opts["without_expiry_pct"], 100.0);
    assert!(opts["examples"].as_array().unwrap().len() <= 3);
    assert_eq!(opts["site"], Value::Null);

    let tr = ns(&r, "shop1:wp:transient");
    assert_eq!(
        (tr["keys"].as_u64(), tr["without_expiry"].as_u64()),
        (Some(20), Some(0))
    );
    assert_eq!(tr["ttl_buckets"]["1m-1h"], 20);
    assert_eq!(ns(&r, "shop1:wp:posts")["ttl_buckets"]["1d-7d"], 10);

    let tags = ns(&r, "d10:cachetags");
    assert_eq!(tags["class"], "persistent-by-design");
    assert_eq!(tags["without_expiry"], 4);
    assert_eq!(ns(&r, "d10:render")["ttl_buckets"][">7d"], 6);

    assert_eq!(ns(&r, "zc:k:69d_")["without_expiry"], 3);
    assert_eq!(ns(&r, "zc:tags")["class"], "persistent-by-design");
    assert_eq!(ns(&r, "zc:ti:69d_")["class"], "persistent-by-design");

    let obj = ns(&r, "object_*");
    assert_eq!(obj["keys"], 30);
    assert_eq!(obj["without_expiry"], 30);
    assert_eq!(obj["class"], "other");

    let sess = ns(&r, "sess_*");
    assert_eq!(
        (sess["keys"].as_u64(), sess["class"].as_str()),
        (Some(7), Some("session"))
    );
    assert_eq!(ns(&r, "medusa_lock")["class"], "persistent-by-design");
    assert_eq!(ns(&r, "bull:events-queue")["class"], "persistent-by-design");

    // 5 + 3 + 30 violate; tag counters, tag sets, locks and the queue do not.
    assert_eq!(
        r["totals"]["without_expiry"],
        5 + 4 + 3 + 1 + 1 + 30 + 2 + 1
    );
    assert_eq!(r["totals"]["without_expiry_allowed"], 4 + 1 + 1 + 2 + 1);
    let codes: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["target"].as_str().unwrap())
        .collect();
    assert_eq!(codes.len(), 3, "{codes:?}");
    assert!(codes.iter().any(|t| t.ends_with(" object_*")), "{codes:?}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn refused_connection_exits_2_with_a_clear_message() {
    let port = common::redis_server::free_port();
    let out = rcfg()
        .args([
            "audit-ttl",
            "--format",
            "json",
            "--redis",
            &format!("redis://127.0.0.1:{port}"),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let r = json_of(&out);
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("connection refused"), "{msg}");
    assert_eq!(
        r["errors"][0]["target"],
        format!("redis://127.0.0.1:{port}/0")
    );
}
