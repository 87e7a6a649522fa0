//! The hot path's connection: a small RESP2 reader/writer over a plain unix or TCP socket,
//! used for the SCAN and PTTL connections of a walk. It exists for speed: replies are parsed
//! in place (no `Value` tree, no per-reply allocation for integers), which halves rcfg's own
//! CPU per key. TLS connections go through the `redis` crate instead ([`Wire::Crate`]).
//!
//! The handshake is the same as the crate's: `AUTH` when a password is set, `SELECT` for a
//! non-zero db, nothing else.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;

use redis::Value;

use super::connect::{Addr, Endpoint};

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

enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

pub struct Raw {
    reader: BufReader<Stream>,
    writer: Stream,
    line: Vec<u8>,
    bulk: Vec<u8>,
}

/// A walk connection: raw for unix/TCP, the crate's for TLS.
pub enum Wire {
    Raw(Box<Raw>),
    Crate(Box<CrateWire>),
}

/// The crate connection plus a queue of flattened replies, so both wires read alike.
pub struct CrateWire {
    con: redis::Connection,
    queue: std::collections::VecDeque<Flat>,
    current: Option<Flat>,
}

enum Flat {
    Int(i64),
    Nil,
    Status(String),
    Bulk(Vec<u8>),
    Array(usize),
    Error(String),
}

/// Why a wire operation failed: an I/O problem (already described) or a protocol surprise.
pub type WireResult<T> = Result<T, String>;

impl Wire {
    /// Open a walk connection to `db` on `ep`.
    pub fn connect(ep: &Endpoint, db: i64) -> WireResult<Wire> {
        let stream = match &ep.addr {
            Addr::Tls { .. } => {
                let con = ep.connect(db)?;
                return Ok(Wire::Crate(Box::new(CrateWire {
                    con,
                    queue: Default::default(),
                    current: None,
                })));
            }
            Addr::Unix { path } => {
                let s = UnixStream::connect(path).map_err(|e| ep.describe_io(&e, true))?;
                s.set_read_timeout(Some(ep.read_timeout))
                    .and_then(|()| s.set_write_timeout(Some(ep.read_timeout)))
                    .map_err(|e| ep.describe_io(&e, false))?;
                Stream::Unix(s)
            }
            Addr::Tcp { host, port } => {
                let addrs: Vec<_> = (host.as_str(), *port)
                    .to_socket_addrs()
                    .map_err(|e| format!("cannot resolve {host}: {e}"))?
                    .collect();
                let mut last = None;
                let mut found = None;
                for a in addrs {
                    match TcpStream::connect_timeout(&a, ep.connect_timeout) {
                        Ok(s) => {
                            found = Some(s);
                            break;
                        }
                        Err(e) => last = Some(e),
                    }
                }
                let s = match (found, last) {
                    (Some(s), _) => s,
                    (None, Some(e)) => return Err(ep.describe_io(&e, true)),
                    (None, None) => return Err(format!("{host} resolves to no address")),
                };
                s.set_nodelay(true)
                    .and_then(|()| s.set_read_timeout(Some(ep.read_timeout)))
                    .and_then(|()| s.set_write_timeout(Some(ep.read_timeout)))
                    .map_err(|e| ep.describe_io(&e, false))?;
                Stream::Tcp(s)
            }
        };
        let writer = match &stream {
            Stream::Unix(s) => Stream::Unix(s.try_clone().map_err(|e| ep.describe_io(&e, true))?),
            Stream::Tcp(s) => Stream::Tcp(s.try_clone().map_err(|e| ep.describe_io(&e, true))?),
        };
        let mut raw = Raw {
            reader: BufReader::with_capacity(256 * 1024, stream),
            writer,
            line: Vec::with_capacity(64),
            bulk: Vec::with_capacity(256),
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
            raw.writer
                .write_all(&hello)
                .map_err(|e| ep.describe_io(&e, true))?;
            for _ in 0..expected {
                match raw.read(ep)? {
                    Reply::Status(_) => {}
                    Reply::Error(e) => return Err(ep.describe_server(e, db)),
                    other => return Err(format!("unexpected handshake reply {other:?}")),
                }
            }
        }
        Ok(Wire::Raw(Box::new(raw)))
    }

    pub fn send(&mut self, ep: &Endpoint, buf: &[u8]) -> WireResult<()> {
        match self {
            Wire::Raw(r) => r
                .writer
                .write_all(buf)
                .map_err(|e| ep.describe_io(&e, false)),
            Wire::Crate(c) => c
                .con
                .send_packed_command(buf)
                .map_err(|e| ep.describe(&e, 0, false)),
        }
    }

    /// The next reply (array elements come as separate replies after their header).
    pub fn read(&mut self, ep: &Endpoint) -> WireResult<Reply<'_>> {
        match self {
            Wire::Raw(r) => r.read(ep),
            Wire::Crate(c) => c.read(ep),
        }
    }
}

impl CrateWire {
    fn read(&mut self, ep: &Endpoint) -> WireResult<Reply<'_>> {
        if self.queue.is_empty() {
            let v = self
                .con
                .recv_response()
                .map_err(|e| ep.describe(&e, 0, false))?;
            flatten(v, &mut self.queue);
        }
        self.current = self.queue.pop_front();
        Ok(match self.current.as_ref() {
            Some(Flat::Int(i)) => Reply::Int(*i),
            Some(Flat::Nil) | None => Reply::Nil,
            Some(Flat::Status(s)) => Reply::Status(s),
            Some(Flat::Bulk(b)) => Reply::Bulk(b),
            Some(Flat::Array(n)) => Reply::Array(*n),
            Some(Flat::Error(e)) => Reply::Error(e),
        })
    }
}

fn flatten(v: Value, q: &mut std::collections::VecDeque<Flat>) {
    match v {
        Value::Int(i) => q.push_back(Flat::Int(i)),
        Value::Nil => q.push_back(Flat::Nil),
        Value::Okay => q.push_back(Flat::Status("OK".to_string())),
        Value::SimpleString(s) => q.push_back(Flat::Status(s)),
        Value::BulkString(b) => q.push_back(Flat::Bulk(b)),
        Value::Array(items) | Value::Set(items) => {
            q.push_back(Flat::Array(items.len()));
            for i in items {
                flatten(i, q);
            }
        }
        Value::ServerError(e) => q.push_back(Flat::Error(format!(
            "{} {}",
            e.code(),
            e.details().unwrap_or_default()
        ))),
        other => q.push_back(Flat::Error(format!("unexpected reply {other:?}"))),
    }
}

impl Raw {
    fn read(&mut self, ep: &Endpoint) -> WireResult<Reply<'_>> {
        self.line.clear();
        let n = self
            .reader
            .read_until(b'\n', &mut self.line)
            .map_err(|e| ep.describe_io(&e, false))?;
        if n == 0 {
            return Err("the server closed the connection".to_string());
        }
        if self.line.len() < 3 || !self.line.ends_with(b"\r\n") {
            return Err("malformed reply from the server".to_string());
        }
        let body = &self.line[1..self.line.len() - 2];
        match self.line[0] {
            b':' => Ok(Reply::Int(parse_int(body)?)),
            b'+' => Ok(Reply::Status(std::str::from_utf8(body).unwrap_or("?"))),
            b'-' => Ok(Reply::Error(std::str::from_utf8(body).unwrap_or("ERR ?"))),
            b'*' => {
                let n = parse_int(body)?;
                Ok(if n < 0 {
                    Reply::Nil
                } else {
                    Reply::Array(n as usize)
                })
            }
            b'$' => {
                let len = parse_int(body)?;
                if len < 0 {
                    return Ok(Reply::Nil);
                }
                let len = len as usize;
                self.bulk.resize(len + 2, 0);
                self.reader
                    .read_exact(&mut self.bulk)
                    .map_err(|e| ep.describe_io(&e, false))?;
                self.bulk.truncate(len);
                Ok(Reply::Bulk(&self.bulk))
            }
            other => Err(format!("unexpected reply type byte {other:#x}")),
        }
    }
}

fn parse_int(b: &[u8]) -> WireResult<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() {
        return Err("malformed integer in reply".to_string());
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return Err("malformed integer in reply".to_string());
        }
        v = v.wrapping_mul(10).wrapping_add(i64::from(d - b'0'));
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
    }
}
