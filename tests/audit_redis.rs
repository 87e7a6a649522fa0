//! `rcfg audit-ttl --redis`: the live keyspace audit against real `redis-server` processes
//! that each test starts itself (temp dir, unix socket or a free loopback port).

mod common;

use common::redis_server::{Cluster, RedisServer, ServerOpts, c, exec, make_certs};
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
    // No progress bar (or anything else) on stderr when it is not a terminal.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
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

/// Run `rcfg audit-ttl --format json ARGS…` and return (exit code, report, stdout+stderr).
fn audit(args: &[&str]) -> (i32, Value, String) {
    audit_env(args, &[])
}

fn audit_env(args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
    let mut cmd = rcfg();
    cmd.args(["audit-ttl", "--format", "json"]).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), json_of(&out), all)
}

#[test]
fn keys_expiring_mid_scan_count_as_vanished_not_errors() {
    let s = RedisServer::start();
    let mut con = s.con(0);
    let mut cmds = Vec::new();
    for i in 0..1000 {
        cmds.push(c(&["SET", &format!("flash:{i}"), "v", "PX", "600"]));
    }
    for i in 0..50 {
        cmds.push(c(&["SET", &format!("stable:{i}"), "v", "EX", DAY]));
    }
    exec(&mut con, &cmds);
    // 500 commands/s in batches of 50: the PTTL batches after ~0.6 s find the keys gone,
    // while SCAN (which skips expired keys) already listed them.
    let (code, r, _) = audit(&["--redis", &s.unix_url(), "--max-rate", "500"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["errors"], serde_json::json!([]));
    let vanished = r["totals"]["vanished"].as_u64().unwrap();
    let keys = r["totals"]["keys"].as_u64().unwrap();
    assert!(
        vanished >= 100,
        "expected expiries mid-scan, got {vanished}: {:#}",
        r["totals"]
    );
    assert_eq!(
        keys + vanished,
        r["totals"]["keys_scanned"].as_u64().unwrap()
    );
    assert_eq!(ns(&r, "stable")["keys"], 50);
    assert_eq!(ns(&r, "stable")["vanished"], 0);
}

#[test]
fn several_databases_and_all_dbs() {
    let s = RedisServer::start();
    exec(
        &mut s.con(0),
        &[
            c(&["SET", "app:a:1", "v"]),
            c(&["SET", "app:a:2", "v", "EX", DAY]),
        ],
    );
    exec(
        &mut s.con(3),
        &[
            c(&["SET", "other:b:1", "v"]),
            c(&["SET", "other:b:2", "v"]),
            c(&["SET", "other:b:3", "v"]),
        ],
    );
    let (code, r, _) = audit(&["--redis", &s.unix_url(), "--all-dbs"]);
    assert_eq!(code, 1);
    assert_eq!(r["targets"].as_array().unwrap().len(), 2);
    assert_eq!(r["totals"]["keys_scanned"], 5);
    assert_eq!(ns_in(&r, "app:a", 0)["without_expiry"], 1);
    assert_eq!(ns_in(&r, "app:a", 0)["keys"], 2);
    assert_eq!(ns_in(&r, "other:b", 3)["without_expiry"], 3);

    assert_eq!(r["server"]["databases"], serde_json::json!([0, 3]));

    // Without --db, every database INFO keyspace lists is read (one database per site
    // must not hide every site but one), and the report says which.
    let (code, r, _) = audit(&["--redis", &s.unix_url()]);
    assert_eq!(code, 1);
    assert_eq!(r["server"]["databases"], serde_json::json!([0, 3]), "{r:#}");
    assert_eq!(r["server"]["databases_not_read"], serde_json::json!([]));
    assert_eq!(r["totals"]["keys_scanned"], 5);
    assert_eq!(ns_in(&r, "other:b", 3)["keys"], 3);
    let out = rcfg()
        .args(["audit-ttl", "--redis", &s.unix_url()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("  databases read: 0, 3\n"), "{text}");

    // --db and the URL's db select one database; the others holding keys are named.
    let (_, r, _) = audit(&["--redis", &s.unix_url(), "--db", "3"]);
    assert_eq!(r["totals"]["keys_scanned"], 3);
    assert_eq!(r["targets"][0]["db"], 3);
    assert_eq!(r["server"]["databases"], serde_json::json!([3]));
    assert_eq!(r["server"]["databases_not_read"], serde_json::json!([0]));
    let out = rcfg()
        .args(["audit-ttl", "--redis", &s.unix_url(), "--db", "3"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  database read: 3 (not read, also holding keys: 0;"),
        "{text}"
    );
    let (_, r, _) = audit(&["--redis", &format!("{}?db=3", s.unix_url())]);
    assert_eq!(r["totals"]["keys_scanned"], 3);
    assert_eq!(r["namespaces"][0]["db"], 3);

    // A database that does not exist is an error (exit 2), named precisely.
    let (code, r, _) = audit(&["--redis", &s.unix_url(), "--db", "99"]);
    assert_eq!(code, 2);
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("database 99 does not exist"), "{msg}");
}

#[test]
fn acl_user_limited_to_read_only_commands_completes_the_audit() {
    let s = RedisServer::start_tcp();
    seed_mixed(&s, 0);
    exec(&mut s.con(2), &[c(&["SET", "x:y:z", "v"])]);
    // Read-only key access (%R~*) and only the commands the audit uses.
    let acl = s.cli(&[
        "ACL",
        "SETUSER",
        "auditor",
        "on",
        ">audit-pw-123",
        "%R~*",
        "-@all",
        "+scan",
        "+ttl",
        "+pttl",
        "+type",
        "+memory|usage",
        "+info",
        "+dbsize",
        "+select",
        "+ping",
    ]);
    assert!(String::from_utf8_lossy(&acl.stdout).contains("OK"));
    let url = format!("redis://auditor:audit-pw-123@127.0.0.1:{}", s.port.unwrap());
    let (code, r, all) = audit(&["--redis", &url, "--memory", "--types", "--all-dbs"]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    assert_eq!(code, 1);
    assert_eq!(r["totals"]["keys_scanned"], 91);
    assert!(r["totals"]["bytes"].as_u64().unwrap() > 0);
    assert_eq!(ns(&r, "object_*")["types"]["string"], 30);
    assert!(!all.contains("audit-pw-123"), "password leaked: {all}");
    assert!(
        all.contains("redis://auditor@127.0.0.1"),
        "user shown without password"
    );
    // Without memory|usage the ACL refuses, and the audit says so (exit 2).
    s.cli(&["ACL", "SETUSER", "auditor", "-memory|usage"]);
    let (code, r, _) = audit(&["--redis", &url, "--memory"]);
    assert_eq!(code, 2);
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("permission denied by ACL"), "{msg}");
}

#[test]
fn password_from_rediscli_auth_or_a_file_is_never_printed() {
    let pw = "s3cret-Pa55word";
    let s = RedisServer::start_with(ServerOpts {
        tcp: true,
        password: Some(pw.to_string()),
        ..ServerOpts::default()
    });
    exec(&mut s.con(0), &[c(&["SET", "app:k:1", "v"])]);
    let url = s.tcp_url();

    let (code, r, all) = audit_env(&["--redis", &url], &[("REDISCLI_AUTH", pw)]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["totals"]["keys_scanned"], 1);
    assert!(!all.contains(pw), "{all}");

    let file = s.dir.path().join("pw.txt");
    std::fs::write(&file, format!("{pw}\n")).unwrap();
    let out = rcfg()
        .args([
            "audit-ttl",
            "--format",
            "human",
            "--redis",
            &url,
            "--password-file",
        ])
        .arg(&file)
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{human}");
    assert!(human.contains("app:k"), "{human}");
    assert!(!human.contains(pw) && !String::from_utf8_lossy(&out.stderr).contains(pw));

    // In the URL: used, but masked in every output.
    let with_pw = format!("redis://:{pw}@127.0.0.1:{}", s.port.unwrap());
    let (code, _, all) = audit(&["--redis", &with_pw]);
    assert_eq!(code, 1);
    assert!(!all.contains(pw), "{all}");

    // No password, wrong password: exit 2 with the reason.
    let (code, r, _) = audit(&["--redis", &url]);
    assert_eq!(code, 2);
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("authentication required"), "{msg}");
    let (code, r, all) = audit(&[
        "--redis",
        &format!("redis://:wrong-{pw}@127.0.0.1:{}", s.port.unwrap()),
    ]);
    assert_eq!(code, 2);
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("authentication failed"), "{msg}");
    assert!(!all.contains(pw), "{all}");
}

#[test]
fn tls_server_with_generated_certificates() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key, client_cert, client_key) = make_certs(certs.path());
    let s = RedisServer::start_with(ServerOpts {
        tls: Some((cert.clone(), key.clone(), ca.clone(), "optional")),
        ..ServerOpts::default()
    });
    exec(&mut s.con(0), &[c(&["SET", "tls:k:1", "v", "EX", DAY])]);
    let url = format!("rediss://127.0.0.1:{}", s.port.unwrap());
    let ca_s = ca.to_str().unwrap();

    let (code, r, _) = audit(&["--redis", &url, "--tls-ca", ca_s]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(ns(&r, "tls:k")["keys"], 1);

    // Without the CA the server certificate cannot be verified: a TLS error, exit 2.
    let (code, r, _) = audit(&["--redis", &url]);
    assert_eq!(code, 2);
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("TLS"), "{msg}");
    let (code, _, _) = audit(&["--redis", &url, "--tls-insecure"]);
    assert_eq!(code, 0);

    // Plain redis:// against the TLS port is refused with a hint.
    let (code, r, _) = audit(&[
        "--redis",
        &url.replace("rediss", "redis"),
        "--read-timeout",
        "2s",
    ]);
    assert_eq!(code, 2);
    assert!(!r["errors"][0]["message"].as_str().unwrap().is_empty());

    // A server that requires client certificates.
    let strict = RedisServer::start_with(ServerOpts {
        tls: Some((cert, key, ca.clone(), "yes")),
        ..ServerOpts::default()
    });
    let surl = format!("rediss://127.0.0.1:{}", strict.port.unwrap());
    let (code, r, _) = audit(&[
        "--redis",
        &surl,
        "--tls-ca",
        ca_s,
        "--tls-cert",
        client_cert.to_str().unwrap(),
        "--tls-key",
        client_key.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{r:#}");
    let (code, _, _) = audit(&["--redis", &surl, "--tls-ca", ca_s]);
    assert_eq!(code, 2);
}

#[test]
fn three_node_cluster_is_audited_on_every_primary_once() {
    let cluster = Cluster::start();
    let mut con = cluster.con();
    for i in 0..100 {
        redis::cmd("SET")
            .arg(format!("user:{i}:profile"))
            .arg("v")
            .exec(&mut con)
            .unwrap();
    }
    for i in 0..200 {
        redis::cmd("SET")
            .arg(format!("cache:page:{i}"))
            .arg("v")
            .arg("EX")
            .arg(3600)
            .exec(&mut con)
            .unwrap();
    }
    let (code, r, _) = audit(&["--redis", &cluster.seed_url()]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    assert_eq!(code, 1);
    assert_eq!(r["server"]["mode"], "cluster");
    assert_eq!(r["server"]["nodes"].as_array().unwrap().len(), 3);
    assert_eq!(r["targets"].as_array().unwrap().len(), 3);
    assert!(
        r["targets"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["keys_scanned"].as_u64().unwrap() > 0)
    );
    assert_eq!(r["totals"]["keys_scanned"], 300);
    assert_eq!(ns(&r, "user:*")["keys"], 100);
    assert_eq!(ns(&r, "user:*")["without_expiry"], 100);
    assert_eq!(ns(&r, "cache:page")["keys"], 200);
    assert_eq!(ns(&r, "cache:page")["without_expiry"], 0);

    // A read-only ACL user without `cluster|shards`: the primaries come from CLUSTER NODES.
    for n in &cluster.nodes {
        let out = n.cli(&[
            "ACL",
            "SETUSER",
            "auditor",
            "on",
            ">pw-cluster",
            "%R~*",
            "-@all",
            "+scan",
            "+pttl",
            "+info",
            "+select",
            "+cluster|nodes",
        ]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("OK"));
    }
    let url = format!(
        "redis://auditor:pw-cluster@127.0.0.1:{}",
        cluster.nodes[0].port.unwrap()
    );
    let (code, r, _) = audit(&["--redis", &url]);
    assert_eq!(r["errors"], serde_json::json!([]), "{r:#}");
    assert_eq!(code, 1);
    assert_eq!(r["targets"].as_array().unwrap().len(), 3);
    assert_eq!(r["totals"]["keys_scanned"], 300);
}

#[test]
fn binary_keys_are_grouped_and_printed_escaped() {
    let s = RedisServer::start();
    let mut con = s.con(0);
    redis::cmd("SET")
        .arg(&b"bin:\xff\xfe:1"[..])
        .arg("v")
        .exec(&mut con)
        .unwrap();
    redis::cmd("SET")
        .arg(&b"bin:\xff\xfe:2"[..])
        .arg("v")
        .exec(&mut con)
        .unwrap();
    redis::cmd("SET")
        .arg(&b"\x00ctl\nkey"[..])
        .arg("v")
        .exec(&mut con)
        .unwrap();
    let (code, r, _) = audit(&["--redis", &s.unix_url()]);
    assert_eq!(code, 1);
    let b = ns(&r, "bin:\\xff\\xfe");
    assert_eq!(b["keys"], 2);
    let ex: Vec<&str> = b["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(ex.contains(&"bin:\\xff\\xfe:1"), "{ex:?}");
    assert_eq!(ns(&r, "\\x00ctl\\x0akey")["keys"], 1);

    let out = rcfg()
        .args(["audit-ttl", "--format", "human", "--redis", &s.unix_url()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).expect("human output is UTF-8");
    assert!(text.contains("bin:\\xff\\xfe"), "{text}");
}

#[test]
fn ci_policy_exit_codes() {
    let s = RedisServer::start();
    let mut cmds = Vec::new();
    for i in 0..10 {
        cmds.push(c(&["SET", &format!("object_{i}00"), "v"]));
    }
    for i in 0..30 {
        cmds.push(c(&["SET", &format!("app:cache:{i}"), "v", "EX", DAY]));
    }
    for i in 0..3 {
        cmds.push(c(&["SET", &format!("app:cache:p{i}"), "v"]));
    }
    exec(&mut s.con(0), &cmds);
    let url = s.unix_url();

    // Strict default: any key without expiry outside persistent-by-design namespaces.
    let (code, r, _) = audit(&["--redis", &url]);
    assert_eq!(code, 1);
    assert_eq!(r["findings"].as_array().unwrap().len(), 2);
    assert_eq!(r["findings"][0]["code"], "redis-keys-without-expiry");
    assert!(
        r["findings"][0]["target"]
            .as_str()
            .unwrap()
            .starts_with("unix://")
    );

    // Allowed namespaces and limits.
    let (code, r, _) = audit(&[
        "--redis",
        &url,
        "--allow-persistent",
        "object_*",
        "--max-without-expiry",
        "3",
    ]);
    assert_eq!(code, 0, "{:#}", r["findings"]);
    assert_eq!(ns(&r, "object_*")["allowed"], true);
    let (code, _, _) = audit(&[
        "--redis",
        &url,
        "--allow-persistent",
        "object_*",
        "--max-without-expiry",
        "2",
    ]);
    assert_eq!(code, 1);
    let (code, _, _) = audit(&[
        "--redis",
        &url,
        "--max-without-expiry-pct",
        "10",
        "--allow-persistent",
        "obj*",
    ]);
    assert_eq!(code, 0, "3 of 33 is 9.1%");
    let (code, r, _) = audit(&[
        "--redis",
        &url,
        "--allow-persistent",
        "*",
        "--max-total-without-expiry",
        "5",
    ]);
    assert_eq!(code, 0, "{:#}", r["findings"]);
    let (code, r, _) = audit(&[
        "--redis",
        &url,
        "--max-without-expiry",
        "100",
        "--max-total-without-expiry",
        "5",
    ]);
    assert_eq!(code, 1);
    assert_eq!(r["findings"][0]["code"], "redis-total-without-expiry");
    let (code, r, _) = audit(&[
        "--redis",
        &url,
        "--max-without-expiry",
        "100",
        "--max-memory-without-expiry",
        "1",
    ]);
    assert_eq!(code, 1);
    assert_eq!(r["findings"][0]["code"], "redis-memory-without-expiry");
    assert!(r["totals"]["bytes_without_expiry"].as_u64().unwrap() > 0);

    // The same policy from rcfg.toml, and --fail-on error with a warning policy.
    let cfg = s.dir.path().join("rcfg.toml");
    std::fs::write(
        &cfg,
        "[policy]\nallow-persistent = ['object_*']\nmax-without-expiry = 3\n",
    )
    .unwrap();
    let cfg_s = cfg.to_str().unwrap();
    let (code, _, _) = audit(&["--config", cfg_s, "--redis", &url]);
    assert_eq!(code, 0);
    std::fs::write(
        &cfg,
        "[policy]\nmax-without-expiry = 3\nseverity = 'error'\n",
    )
    .unwrap();
    let (code, r, _) = audit(&["--config", cfg_s, "--redis", &url, "--fail-on", "error"]);
    assert_eq!(code, 1);
    assert_eq!(r["findings"][0]["severity"], "error");
    let (code, _, _) = audit(&["--redis", &url, "--fail-on", "error"]);
    assert_eq!(code, 0, "warnings do not fail --fail-on error");

    // Errors beat findings: exit 2.
    std::fs::write(&cfg, "[policy]\nmax-without-expiry = 'lots'\n").unwrap();
    let out = rcfg()
        .args([
            "audit-ttl",
            "--format",
            "json",
            "--config",
            cfg_s,
            "--redis",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sample_audits_a_bounded_number_of_keys() {
    let s = RedisServer::start();
    let cmds: Vec<_> = (0..3000)
        .map(|i| c(&["SET", &format!("k:{i}"), "v"]))
        .collect();
    exec(&mut s.con(0), &cmds);
    let (_, r, _) = audit(&[
        "--redis",
        &s.unix_url(),
        "--sample",
        "500",
        "--scan-count",
        "100",
    ]);
    assert_eq!(r["server"]["sample"], 500);
    assert_eq!(r["totals"]["keys_scanned"], 500, "{:#}", r["totals"]);
    assert_eq!(r["totals"]["estimated_keys"], 3000);
    assert_eq!(ns(&r, "k")["keys"], 500);
    // A sample larger than the keyspace is the whole keyspace.
    let (_, r, _) = audit(&["--redis", &s.unix_url(), "--sample", "10000"]);
    assert_eq!(r["totals"]["keys_scanned"], 3000);
}

#[test]
fn human_table_shows_namespaces_and_totals() {
    let s = RedisServer::start();
    seed_mixed(&s, 0);
    let out = rcfg()
        .args(["audit-ttl", "--redis", &s.unix_url(), "--memory"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(text.contains("Redis audit: unix://"), "{text}");
    assert!(
        text.contains("INFO keyspace estimate: 90 keys, 47 without expiry"),
        "{text}"
    );
    assert!(text.contains("NAMESPACE"), "{text}");
    assert!(text.contains("NO-TTL B"), "{text}");
    assert!(text.contains("d10:cachetags"), "{text}");
    assert!(text.contains("persistent-by-design"), "{text}");
    assert!(
        text.contains("warning[redis-keys-without-expiry]"),
        "{text}"
    );
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
}

#[test]
fn sites_attribute_namespaces_to_site_paths() {
    let s = RedisServer::start();
    let root = tempfile::tempdir().unwrap();
    let wp = root.path().join("shop1");
    std::fs::create_dir_all(wp.join("wp-includes")).unwrap();
    std::fs::create_dir_all(wp.join("wp-content")).unwrap();
    std::fs::write(wp.join("wp-settings.php"), "<?php\n").unwrap();
    std::fs::write(
        wp.join("wp-includes/version.php"),
        "<?php\n$wp_version = '6.5.2';\n",
    )
    .unwrap();
    std::fs::write(
        wp.join("wp-config.php"),
        format!(
            "<?php\ndefine('WP_REDIS_SCHEME','unix');\ndefine('WP_REDIS_PATH', '{}');\ndefine('WP_REDIS_DATABASE', 3);\ndefine('WP_REDIS_PREFIX','shop1:');\n$table_prefix = 'wp_';\nrequire_once ABSPATH . 'wp-settings.php';\n",
            s.sock.display()
        ),
    )
    .unwrap();
    exec(
        &mut s.con(3),
        &[
            c(&["SET", "shop1:wp:options:alloptions", "v"]),
            c(&["SET", "shop1:wp:my_plugin:42", "v", "EX", DAY]),
            c(&["SET", "stranger:x:1", "v"]),
        ],
    );
    let (_, r, _) = audit(&[
        "--redis",
        &format!("{}?db=3", s.unix_url()),
        "--sites",
        root.path().to_str().unwrap(),
    ]);
    let site = wp.display().to_string();
    assert_eq!(ns(&r, "shop1:wp:options")["site"], site.as_str(), "{r:#}");
    assert_eq!(ns(&r, "shop1:wp:my_plugin")["site"], site.as_str());
    assert_eq!(ns(&r, "stranger:x")["site"], Value::Null);
    assert_eq!(r["totals"]["unattributed_keys"], 1);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["code"] == "redis-keys-without-site")
    );
}

#[test]
fn redis_section_sets_defaults_and_flags_override_it() {
    let s = RedisServer::start();
    exec(
        &mut s.con(0),
        &[c(&["SET", "a:b:c:d", "v"]), c(&["SET", "p/q/r", "v"])],
    );
    let cfg = s.dir.path().join("rcfg.toml");
    std::fs::write(&cfg, "[redis]\ndepth = 1\nexamples = 1\nscan-count = 10\n").unwrap();
    let cfg_s = cfg.to_str().unwrap();
    let (_, r, _) = audit(&["--config", cfg_s, "--redis", &s.unix_url()]);
    assert_eq!(ns(&r, "a")["keys"], 1);
    assert_eq!(r["server"]["depth"], 1);
    let (_, r, _) = audit(&["--config", cfg_s, "--redis", &s.unix_url(), "--depth", "3"]);
    assert_eq!(ns(&r, "a:b:c")["keys"], 1);
    let (_, r, _) = audit(&["--redis", &s.unix_url(), "--delimiter", "/"]);
    assert_eq!(ns(&r, "p/q")["keys"], 1);
    std::fs::write(&cfg, "[redis]\nbogus = 1\n").unwrap();
    let (code, r, _) = audit(&["--config", cfg_s, "--redis", &s.unix_url()]);
    assert_eq!(code, 2);
    assert!(
        r["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid [redis] section")
    );
}

#[test]
fn a_server_that_never_answers_times_out_with_exit_2() {
    // A loopback listener that accepts connections but never replies.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (code, r, _) = audit(&[
        "--redis",
        &format!("redis://127.0.0.1:{port}"),
        "--read-timeout",
        "300ms",
    ]);
    drop(listener);
    assert_eq!(code, 2);
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("timed out after 300ms"), "{msg}");
}
