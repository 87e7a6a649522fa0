//! The live audit's connection: a small RESP2 reader/writer over a plain unix or TCP socket,
//! used for every command of the audit (handshake, `INFO`, cluster topology, `SCAN`, the
//! `PTTL` pipelines), over the stream of [`super::socket`] (unix, TCP or TLS). Replies are
//! parsed in place (no `Value` tree, no per-reply allocation for integers), which halves
//! rcfg's own CPU per key.
//!
//! Hostile servers: every reply group (a handshake reply, an `INFO`, one SCAN page, one PTTL
//! pipeline batch) has a *total* deadline (`--read-timeout`, measured from when rcfg starts
//! waiting, however slowly the bytes drip in), and [`RespReader`] caps line length, bulk
//! length, array length and the bytes of one reply group ([`LIMITS`]). A first reply that is
//! not RESP (`HTTP/1.1 400 …`, an SSH banner) is reported as "does not speak the Redis
//! protocol" at once, without waiting for the end of the line.
//!
//! The handshake is the same as the crate's: `AUTH` when a password is set, `SELECT` for a
//! non-zero db, nothing else.

use std::io::{self, BufRead, BufReader, Write};

use redis::Value;

use super::connect::{Addr, Endpoint};
use super::socket::Conn;

/// One reply, borrowed from the wire's buffers.
#[derive(Debug, PartialEq)]
pub enum Reply<'a> {
    Int(i64),
    Nil,
    Status(&'a str),
    Bulk(&'a [u8]),
    /// An array header: that many elements follow.
    Array(usize),
    Error(&'a str),
}

/// Size limits on what a server may send (a real Redis never comes near them).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A `+`, `-`, `:`, `$` or `*` line, CRLF included.
    pub line: usize,
    /// One bulk string.
    pub bulk: usize,
    /// Elements announced by one array header.
    pub array: usize,
    /// Bytes of one reply group (between two [`RespReader::begin`] calls).
    pub group: usize,
}

pub const LIMITS: Limits = Limits {
    line: 64 * 1024,
    bulk: 32 * 1024 * 1024,
    array: 1 << 20,
    group: 256 * 1024 * 1024,
};

/// Why a reply could not be read.
#[derive(Debug)]
pub enum RespError {
    /// The socket failed or the reply deadline passed (`TimedOut`).
    Io(io::Error),
    /// End of stream before a reply started.
    Closed,
    /// The first bytes of the connection are not RESP; `got` is a short, escaped preview.
    NotRedis { got: String },
    /// A well-typed reply broke a rule of the protocol.
    Malformed(String),
    /// A limit of [`LIMITS`] was exceeded.
    TooLarge(String),
}

impl From<io::Error> for RespError {
    fn from(e: io::Error) -> RespError {
        RespError::Io(e)
    }
}

/// A RESP2 reply reader over any buffered byte source, with [`Limits`]. Generic so the
/// mutation test can drive it with plain byte slices.
pub struct RespReader<R> {
    inner: R,
    limits: Limits,
    line: Vec<u8>,
    bulk: Vec<u8>,
    /// No reply has been read yet on this connection.
    first: bool,
    /// Bytes read since the last `begin`.
    group: usize,
}

impl<R: BufRead> RespReader<R> {
    pub fn new(inner: R, limits: Limits) -> RespReader<R> {
        RespReader {
            inner,
            limits,
            line: Vec::with_capacity(64),
            bulk: Vec::with_capacity(256),
            first: true,
            group: 0,
        }
    }

    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Start a new reply group (resets the per-group byte budget).
    pub fn begin(&mut self) {
        self.group = 0;
    }

    fn charge(&mut self, n: usize) -> Result<(), RespError> {
        self.group = self.group.saturating_add(n);
        if self.group > self.limits.group {
            return Err(RespError::TooLarge(format!(
                "a reply larger than {} MiB",
                self.limits.group >> 20
            )));
        }
        Ok(())
    }

    /// Read one CRLF-terminated line into `self.line`, never more than `limits.line` bytes.
    fn read_line(&mut self) -> Result<(), RespError> {
        self.line.clear();
        loop {
            let buf = match self.inner.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            if buf.is_empty() {
                return Err(if self.line.is_empty() {
                    RespError::Closed
                } else {
                    RespError::Malformed("the server closed the connection mid-reply".into())
                });
            }
            if self.first && self.line.is_empty() && !b"+-:$*".contains(&buf[0]) {
                return Err(RespError::NotRedis { got: preview(buf) });
            }
            let (take, done) = match buf.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if self.line.len() + take > self.limits.line {
                return Err(RespError::TooLarge(format!(
                    "a reply line longer than {} KiB",
                    self.limits.line >> 10
                )));
            }
            self.line.extend_from_slice(&buf[..take]);
            self.inner.consume(take);
            if done {
                let n = self.line.len();
                self.charge(n)?;
                return Ok(());
            }
        }
    }

    /// The next reply (array elements come as separate replies after their header).
    pub fn read(&mut self) -> Result<Reply<'_>, RespError> {
        self.read_line()?;
        self.first = false;
        if self.line.len() < 3 || !self.line.ends_with(b"\r\n") {
            return Err(RespError::Malformed("a reply line without CRLF".into()));
        }
        let kind = self.line[0];
        if kind == b'$' {
            return self.read_bulk();
        }
        let body = &self.line[1..self.line.len() - 2];
        match kind {
            b':' => Ok(Reply::Int(parse_int(body)?)),
            b'+' => Ok(Reply::Status(std::str::from_utf8(body).unwrap_or("?"))),
            b'-' => Ok(Reply::Error(std::str::from_utf8(body).unwrap_or("ERR ?"))),
            b'*' => {
                let n = parse_int(body)?;
                if n < 0 {
                    return Ok(Reply::Nil);
                }
                if n as u64 > self.limits.array as u64 {
                    return Err(RespError::TooLarge(format!("an array of {n} elements")));
                }
                Ok(Reply::Array(n as usize))
            }
            other => Err(RespError::Malformed(format!(
                "unexpected reply type byte {other:#x}"
            ))),
        }
    }

    fn read_bulk(&mut self) -> Result<Reply<'_>, RespError> {
        let len = parse_int(&self.line[1..self.line.len() - 2])?;
        if len < 0 {
            return Ok(Reply::Nil);
        }
        if len as u64 > self.limits.bulk as u64 {
            return Err(RespError::TooLarge(format!("a string of {len} bytes")));
        }
        let len = len as usize;
        self.charge(len + 2)?;
        self.bulk.clear();
        self.bulk.resize(len + 2, 0);
        self.inner.read_exact(&mut self.bulk).map_err(|e| {
            if e.kind() == io::ErrorKind::UnexpectedEof {
                RespError::Malformed("the server closed the connection mid-reply".into())
            } else {
                RespError::Io(e)
            }
        })?;
        if !self.bulk.ends_with(b"\r\n") {
            return Err(RespError::Malformed("a string without CRLF".into()));
        }
        self.bulk.truncate(len);
        Ok(Reply::Bulk(&self.bulk))
    }
}

/// The first word of what a non-Redis server sent, escaped for a terminal, at most 24 chars.
fn preview(buf: &[u8]) -> String {
    let head = &buf[..buf.len().min(64)];
    let word_end = head
        .iter()
        .position(|b| b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let word = if word_end == 0 {
        head
    } else {
        &head[..word_end]
    };
    let mut s = crate::term::escape_bytes(word);
    if s.chars().count() > 24 {
        s = s.chars().take(24).collect::<String>() + "…";
    }
    s
}

/// A live-audit connection (unix, TCP or TLS; see [`super::socket`]).
pub struct Wire {
    reader: RespReader<BufReader<Conn>>,
}

/// Why a wire operation failed: a precise, password-free sentence.
pub type WireResult<T> = Result<T, String>;

/// Deepest nesting accepted in a reply read as a [`Value`] (cluster topology is 4 deep).
const MAX_VALUE_DEPTH: usize = 8;

/// Most elements in a reply read as a [`Value`] (a 1,000-node cluster needs about 40,000).
const MAX_VALUE_ELEMENTS: usize = 200_000;

impl Wire {
    /// Open a connection to `db` on `ep` and run the handshake (`AUTH`, `SELECT`).
    pub fn connect(ep: &Endpoint, db: i64) -> WireResult<Wire> {
        let conn = super::socket::open(ep)?;
        let mut wire = Wire {
            reader: RespReader::new(BufReader::with_capacity(256 * 1024, conn), LIMITS),
        };
        let mut hello = Vec::new();
        let mut expected = 0;
        if let Some(pw) = &ep.password {
            match &ep.user {
                Some(u) => pack(&mut hello, &[b"AUTH", u.as_bytes(), pw.as_bytes()]),
                None => pack(&mut hello, &[b"AUTH", pw.as_bytes()]),
            }
            expected += 1;
        }
        if db != 0 {
            pack(&mut hello, &[b"SELECT", db.to_string().as_bytes()]);
            expected += 1;
        }
        if expected > 0 {
            wire.send(ep, &hello)?;
            wire.begin(ep)?;
            for _ in 0..expected {
                match wire.read(ep)? {
                    Reply::Status(_) => {}
                    Reply::Error(e) => return Err(ep.describe_server(e, db)),
                    other => return Err(format!("unexpected handshake reply {other:?}")),
                }
            }
        }
        Ok(wire)
    }

    /// Send packed commands (within the exchange deadline).
    pub fn send(&mut self, ep: &Endpoint, buf: &[u8]) -> WireResult<()> {
        let conn = self.reader.get_mut().get_mut();
        conn.timed()
            .start()
            .and_then(|()| conn.write_all(buf))
            .map_err(|e| ep.describe_io(&e, false))
    }

    /// Start waiting for a reply group: its deadline is `--read-timeout` from now.
    pub fn begin(&mut self, ep: &Endpoint) -> WireResult<()> {
        self.reader.begin();
        self.reader
            .get_mut()
            .get_mut()
            .timed()
            .start()
            .map_err(|e| ep.describe_io(&e, false))
    }

    /// The next reply (array elements come as separate replies after their header).
    pub fn read(&mut self, ep: &Endpoint) -> WireResult<Reply<'_>> {
        self.reader.read().map_err(|e| describe_resp(ep, e))
    }

    /// Send one command and read its whole reply as text (`INFO`).
    pub fn query_text(&mut self, ep: &Endpoint, parts: &[&[u8]]) -> WireResult<String> {
        let mut buf = Vec::new();
        pack(&mut buf, parts);
        self.send(ep, &buf)?;
        self.begin(ep)?;
        match self.read(ep)? {
            Reply::Bulk(b) => Ok(String::from_utf8_lossy(b).into_owned()),
            Reply::Status(s) => Ok(s.to_string()),
            Reply::Error(e) => {
                let d = ep.describe_server(e, 0);
                Err(if d == e {
                    format!("{} failed: {e}", String::from_utf8_lossy(parts[0]))
                } else {
                    d
                })
            }
            other => Err(format!(
                "unexpected reply to {}: {other:?}",
                String::from_utf8_lossy(parts[0])
            )),
        }
    }

    /// Send one command and read its whole reply as a [`Value`] tree (cluster topology),
    /// nested at most [`MAX_VALUE_DEPTH`] deep. A top-level error reply is `Ok(Err(text))`,
    /// so callers can fall back to another command; a broken reply is `Err` (the connection
    /// is then out of step and must not be used again).
    pub fn query_value(
        &mut self,
        ep: &Endpoint,
        parts: &[&[u8]],
    ) -> WireResult<Result<Value, String>> {
        let mut buf = Vec::new();
        pack(&mut buf, parts);
        self.send(ep, &buf)?;
        self.begin(ep)?;
        // Open arrays: (elements still expected, elements so far).
        let mut stack: Vec<(usize, Vec<Value>)> = Vec::new();
        let mut elements = 0usize;
        loop {
            elements += 1;
            if elements > MAX_VALUE_ELEMENTS {
                return Err(format!(
                    "{} sent a reply of more than {MAX_VALUE_ELEMENTS} elements",
                    ep.addr_display()
                ));
            }
            let v = match self.read(ep)? {
                Reply::Int(i) => Value::Int(i),
                Reply::Nil => Value::Nil,
                Reply::Status(s) => Value::SimpleString(s.to_string()),
                Reply::Bulk(b) => Value::BulkString(b.to_vec()),
                Reply::Error(e) if stack.is_empty() => return Ok(Err(e.to_string())),
                Reply::Error(e) => Value::SimpleString(e.to_string()),
                Reply::Array(0) => Value::Array(Vec::new()),
                Reply::Array(n) => {
                    if stack.len() >= MAX_VALUE_DEPTH {
                        return Err(format!(
                            "{} sent a reply nested deeper than {MAX_VALUE_DEPTH} levels",
                            ep.addr_display()
                        ));
                    }
                    stack.push((n, Vec::with_capacity(n.min(1024))));
                    continue;
                }
            };
            let mut v = v;
            loop {
                match stack.last_mut() {
                    None => return Ok(Ok(v)),
                    Some((want, items)) => {
                        items.push(v);
                        if items.len() < *want {
                            break;
                        }
                    }
                }
                let (_, items) = stack.pop().unwrap_or_default();
                v = Value::Array(items);
            }
        }
    }
}

/// A reader error as one sentence naming the server.
fn describe_resp(ep: &Endpoint, e: RespError) -> String {
    let who = ep.addr_display();
    match e {
        RespError::Io(e) => ep.describe_io(&e, false),
        RespError::Closed if matches!(ep.addr, Addr::Tcp { .. }) => {
            "the server closed the connection (if this is a TLS port, use rediss://)".to_string()
        }
        RespError::Closed => "the server closed the connection".to_string(),
        RespError::NotRedis { got } => {
            format!("{who} does not speak the Redis protocol (got `{got}`)")
        }
        RespError::Malformed(m) => format!("{who} sent a malformed reply: {m}"),
        RespError::TooLarge(what) => format!(
            "{who} sent {what}, more than rcfg accepts (not a Redis server, or a broken one)"
        ),
    }
}

fn parse_int(b: &[u8]) -> Result<i64, RespError> {
    let bad = || RespError::Malformed("a malformed integer".into());
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return Err(bad());
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err(bad());
        }
        v = v
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(d - b'0')))
            .ok_or_else(bad)?;
    }
    Ok(if neg { -v } else { v })
}

/// Append one RESP command to `buf` (no allocation, no formatting machinery).
pub fn pack(buf: &mut Vec<u8>, parts: &[&[u8]]) {
    buf.push(b'*');
    push_usize(buf, parts.len());
    buf.extend_from_slice(b"\r\n");
    for p in parts {
        buf.push(b'$');
        push_usize(buf, p.len());
        buf.extend_from_slice(b"\r\n");
        buf.extend_from_slice(p);
        buf.extend_from_slice(b"\r\n");
    }
}

fn push_usize(buf: &mut Vec<u8>, mut n: usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packing_is_resp() {
        let mut b = Vec::new();
        pack(&mut b, &[b"PTTL", b"k\xff"]);
        assert_eq!(b, b"*2\r\n$4\r\nPTTL\r\n$2\r\nk\xff\r\n");
        b.clear();
        pack(&mut b, &[&[b'x'; 1234][..]]);
        assert!(b.starts_with(b"*1\r\n$1234\r\n"));
    }

    #[test]
    fn integers_parse() {
        assert_eq!(parse_int(b"-2").unwrap(), -2);
        assert_eq!(parse_int(b"1234567").unwrap(), 1_234_567);
        assert!(parse_int(b"").is_err());
        assert!(parse_int(b"1x").is_err());
        assert!(parse_int(b"99999999999999999999").is_err());
        assert!(parse_int(b"-").is_err());
    }

    fn reader(bytes: &[u8], limits: Limits) -> RespReader<&[u8]> {
        RespReader::new(bytes, limits)
    }

    #[test]
    fn replies_parse_in_order() {
        let mut r = reader(
            b"*2\r\n$1\r\n0\r\n*1\r\n$3\r\nk\xff\n\r\n:-1\r\n+OK\r\n-ERR x\r\n$-1\r\n",
            LIMITS,
        );
        assert_eq!(r.read().unwrap(), Reply::Array(2));
        assert_eq!(r.read().unwrap(), Reply::Bulk(b"0"));
        assert_eq!(r.read().unwrap(), Reply::Array(1));
        assert_eq!(r.read().unwrap(), Reply::Bulk(b"k\xff\n"));
        assert_eq!(r.read().unwrap(), Reply::Int(-1));
        assert_eq!(r.read().unwrap(), Reply::Status("OK"));
        assert_eq!(r.read().unwrap(), Reply::Error("ERR x"));
        assert_eq!(r.read().unwrap(), Reply::Nil);
        assert!(matches!(r.read(), Err(RespError::Closed)));
    }

    #[test]
    fn non_resp_first_reply_is_named_at_once() {
        let mut r = reader(b"HTTP/1.1 400 Bad Request\r\n\r\n", LIMITS);
        match r.read() {
            Err(RespError::NotRedis { got }) => assert_eq!(got, "HTTP/1.1"),
            other => panic!("{other:?}"),
        }
        // An SSH banner, and a control character in the preview.
        let mut r = reader(b"\x1b[31mSSH-2.0\r\n", LIMITS);
        match r.read() {
            Err(RespError::NotRedis { got }) => assert_eq!(got, "\\x1b[31mSSH-2.0"),
            other => panic!("{other:?}"),
        }
        // Later replies with a bad type byte are malformed, not "not Redis".
        let mut r = reader(b"+OK\r\n?x\r\n", LIMITS);
        r.read().unwrap();
        assert!(matches!(r.read(), Err(RespError::Malformed(_))));
    }

    #[test]
    fn limits_are_enforced() {
        let small = Limits {
            line: 16,
            bulk: 8,
            array: 4,
            group: 32,
        };
        let long_line = [b"+".as_slice(), &[b'a'; 100]].concat();
        assert!(matches!(
            reader(&long_line, small).read(),
            Err(RespError::TooLarge(_))
        ));
        assert!(matches!(
            reader(b"$9\r\n123456789\r\n", small).read(),
            Err(RespError::TooLarge(_))
        ));
        assert!(matches!(
            reader(b"*5\r\n", small).read(),
            Err(RespError::TooLarge(_))
        ));
        assert!(matches!(
            reader(b"$536870912\r\n", LIMITS).read(),
            Err(RespError::TooLarge(_))
        ));
        // The group budget: 6 replies of 6 bytes exceed 32; `begin` resets it.
        let many = b":1234\r\n".repeat(6);
        let mut r = reader(&many, small);
        for _ in 0..4 {
            r.read().unwrap();
        }
        assert!(matches!(r.read(), Err(RespError::TooLarge(_))));
        let mut r = reader(&many, small);
        for _ in 0..6 {
            r.begin();
            r.read().unwrap();
        }
        // Truncated and CRLF-less replies are errors, never panics.
        assert!(matches!(
            reader(b"$5\r\nab", LIMITS).read(),
            Err(RespError::Malformed(_))
        ));
        assert!(matches!(
            reader(b"$2\r\nabcd", LIMITS).read(),
            Err(RespError::Malformed(_))
        ));
        assert!(matches!(
            reader(b":1\n", LIMITS).read(),
            Err(RespError::Malformed(_))
        ));
    }
}
