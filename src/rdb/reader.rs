//! The bounded byte source under the RDB parser: buffered reads from any `Read`, the byte
//! offset of everything consumed (for error messages) and the running CRC64 (Redis' Jones
//! polynomial) of every byte consumed. Nothing here allocates more than the bytes actually
//! present in the input: a length prefix that lies ends in a "truncated" error, not a huge
//! allocation.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use crc::{CRC_64_REDIS, Crc, Digest, Table};

static CRC64: Crc<u64, Table<16>> = Crc::<u64, Table<16>>::new(&CRC_64_REDIS);

/// A parse error: what went wrong and the byte offset in the input where it was noticed.
#[derive(Debug)]
pub struct Error {
    pub offset: u64,
    pub msg: String,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte offset {}: {}", self.offset, self.msg)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// Buffered, offset-counting, CRC-computing byte source.
pub struct Source<R: Read> {
    inner: BufReader<R>,
    offset: u64,
    digest: Digest<'static, u64, Table<16>>,
}

impl<R: Read> Source<R> {
    pub fn new(r: R) -> Source<R> {
        Source {
            inner: BufReader::with_capacity(256 * 1024, r),
            offset: 0,
            digest: CRC64.digest(),
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The CRC64 of every byte consumed so far.
    pub fn crc(&self) -> u64 {
        self.digest.clone().finalize()
    }

    pub fn err<T>(&self, msg: impl Into<String>) -> Result<T> {
        Err(Error {
            offset: self.offset,
            msg: msg.into(),
        })
    }

    fn io_err(&self, e: io::Error) -> Error {
        Error {
            offset: self.offset,
            msg: format!("read error: {e}"),
        }
    }

    /// The next buffered chunk, or a "truncated" error at end of input.
    fn chunk(&mut self, what: &str) -> Result<&[u8]> {
        loop {
            match self.inner.fill_buf() {
                Ok([]) => {
                    return Err(Error {
                        offset: self.offset,
                        msg: format!("file truncated: end of input while reading {what}"),
                    });
                }
                Ok(_) => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_err(e)),
            }
        }
        Ok(self.inner.buffer())
    }

    fn consume(&mut self, n: usize) {
        let buf = self.inner.buffer();
        self.digest.update(&buf[..n]);
        self.inner.consume(n);
        self.offset += n as u64;
    }

    /// True when no byte is left.
    pub fn at_eof(&mut self) -> Result<bool> {
        loop {
            match self.inner.fill_buf() {
                Ok(b) => return Ok(b.is_empty()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.io_err(e)),
            }
        }
    }

    pub fn u8(&mut self, what: &str) -> Result<u8> {
        let b = self.chunk(what)?[0];
        self.consume(1);
        Ok(b)
    }

    /// Fills `out` exactly.
    pub fn exact(&mut self, out: &mut [u8], what: &str) -> Result<()> {
        let mut done = 0;
        while done < out.len() {
            let c = self.chunk(what)?;
            let n = c.len().min(out.len() - done);
            out[done..done + n].copy_from_slice(&c[..n]);
            self.consume(n);
            done += n;
        }
        Ok(())
    }

    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        self.exact(&mut a, what)?;
        Ok(a)
    }

    /// Skips `n` bytes without keeping them.
    pub fn skip(&mut self, mut n: u64, what: &str) -> Result<()> {
        while n > 0 {
            let c = self.chunk(what)?;
            let k = (c.len() as u64).min(n) as usize;
            self.consume(k);
            n -= k as u64;
        }
        Ok(())
    }

    /// Reads `n` bytes into a vector that grows with the data actually read (a lying `n` costs
    /// no more memory than the input holds). `n` above `cap` is refused up front.
    pub fn bytes(&mut self, n: u64, cap: u64, what: &str) -> Result<Vec<u8>> {
        if n > cap {
            return self.err(format!(
                "{what}: length {n} exceeds the limit of {cap} bytes"
            ));
        }
        let mut v = Vec::with_capacity((n as usize).min(64 * 1024));
        let mut left = n as usize;
        while left > 0 {
            let c = self.chunk(what)?;
            let k = c.len().min(left);
            v.extend_from_slice(&c[..k]);
            self.consume(k);
            left -= k;
        }
        Ok(v)
    }

    /// Reads the 8-byte trailer without adding it to the CRC.
    pub fn trailer(&mut self) -> Result<[u8; 8]> {
        let mut a = [0u8; 8];
        let mut done = 0;
        while done < 8 {
            let c = self.chunk("the CRC64 trailer")?;
            let n = c.len().min(8 - done);
            a[done..done + n].copy_from_slice(&c[..n]);
            self.inner.consume(n);
            self.offset += n as u64;
            done += n;
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_matches_redis_check_value() {
        // The check value Redis' own crc64 self-test uses for "123456789".
        assert_eq!(CRC64.checksum(b"123456789"), 0xe9c6d914c4b8d9ca);
        let mut s = Source::new(&b"123456789"[..]);
        s.skip(9, "x").unwrap();
        assert_eq!(s.crc(), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn lying_lengths_are_errors_with_offsets() {
        let mut s = Source::new(&b"abc"[..]);
        s.u8("x").unwrap();
        let e = s.bytes(1 << 40, 1 << 41, "a key").unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(e.msg.contains("truncated"), "{e}");
        let mut s = Source::new(&b"abc"[..]);
        let e = s.bytes(1 << 40, 10, "a key").unwrap_err();
        assert!(e.msg.contains("exceeds the limit"), "{e}");
    }
}
