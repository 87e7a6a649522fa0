//! Shared by tests/rdb.rs and tests/rdb_bad_input.rs: a throwaway redis-server/valkey-server,
//! the keyspace written into it (every type and encoding), and small readers of dumps.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::rdb::{self, Event, KeyType};

/// A throwaway server (redis-server or valkey-server) on a unix socket in a temp dir.
pub struct Server {
    child: Child,
    dir: tempfile::TempDir,
    sock: PathBuf,
}

impl Server {
    pub fn start(bin: &Path) -> Server {
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

    pub fn con(&self) -> redis::Connection {
        self.try_con().unwrap()
    }

    /// `SAVE`, then the dump's bytes.
    pub fn save(&self, con: &mut redis::Connection) -> Vec<u8> {
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

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

pub fn q(con: &mut redis::Connection, args: &[&[u8]]) -> redis::Value {
    let mut c = redis::cmd(std::str::from_utf8(args[0]).unwrap());
    for a in &args[1..] {
        c.arg(*a);
    }
    c.query(con)
        .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(args[0])))
}

pub fn select(con: &mut redis::Connection, db: u64) {
    q(con, &[b"SELECT", db.to_string().as_bytes()]);
}

/// 300 pseudo-random bytes: a value LZF cannot compress, so it appears verbatim in the dump.
pub fn raw_value() -> Vec<u8> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..300).map(|_| (rng.next() >> 24) as u8).collect()
}

/// Writes keys of every type and encoding a server of this generation produces, in dbs 0, 3
/// and 15, some with expiries.
pub fn populate(con: &mut redis::Connection) {
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

/// (type, RDB type byte, expiry, serialized bytes) of one key in the dump.
pub type DumpKey = (KeyType, u8, Option<i64>, u64);

pub struct Parsed {
    pub keys: BTreeMap<(u64, Vec<u8>), DumpKey>,
    pub aux: BTreeMap<String, Vec<u8>>,
    pub resize: Vec<(u64, u64, u64)>,
    pub end: Option<Event>,
}

pub fn parse(bytes: &[u8]) -> Result<Parsed, rdb::Error> {
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

/// Every event, or the first error.
pub fn events(bytes: &[u8]) -> Result<Vec<Event>, rdb::Error> {
    rdb::Reader::new(bytes)?.collect()
}

/// A real dump from redis-server, made once per test that needs one.
pub fn real_dump() -> Vec<u8> {
    let server = Server::start(Path::new("redis-server"));
    let mut con = server.con();
    populate(&mut con);
    server.save(&mut con)
}

/// A `Read` handing out 1 to 13 bytes per call.
pub struct Trickle<'a>(pub &'a [u8], pub usize);
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
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
