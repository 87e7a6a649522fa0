//! The bounded byte source under the RDB parser: buffered reads from any `Read`, the byte
//! offset of everything consumed (for error messages) and the running CRC64 (Redis' Jones
//! polynomial) of every byte consumed. Nothing here allocates more than the bytes actually
//! present in the input: a length prefix that lies ends in a "truncated" error, not a huge
//! allocation.

use std::fmt;
use std::io::{self, Read};

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

/// Buffered, offset-counting, CRC-computing byte source. The CRC is brought up to date
/// lazily, over whole stretches of the buffer (before a refill, or when asked), not per read.
pub struct Source<R: Read> {
    inner: R,
    buf: Box<[u8]>,
    /// Next unread byte in `buf`.
    pos: usize,
    /// End of the valid data in `buf`.
    len: usize,
    /// Start of the consumed bytes not yet added to the CRC.
    crc_from: usize,
    /// Offset in the input of `buf[0]`.
    base: u64,
    digest: Digest<'static, u64, Table<16>>,
}

impl<R: Read> Source<R> {
    pub fn new(r: R) -> Source<R> {
        Source {
            inner: r,
            buf: vec![0u8; 256 * 1024].into_boxed_slice(),
            pos: 0,
            len: 0,
            crc_from: 0,
            base: 0,
            digest: CRC64.digest(),
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    fn sync_crc(&mut self) {
        self.digest.update(&self.buf[self.crc_from..self.pos]);
        self.crc_from = self.pos;
    }

    /// The CRC64 of every byte consumed so far.
    pub fn crc(&mut self) -> u64 {
        self.sync_crc();
        self.digest.clone().finalize()
    }

    pub fn err<T>(&self, msg: impl Into<String>) -> Result<T> {
        Err(Error {
            offset: self.offset(),
            msg: msg.into(),
        })
    }

    /// Refills an exhausted buffer; false at end of input.
    fn refill(&mut self) -> Result<bool> {
        debug_assert_eq!(self.pos, self.len);
        self.sync_crc();
        self.base += self.len as u64;
        self.pos = 0;
        self.len = 0;
        self.crc_from = 0;
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => {
                    self.len = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(Error {
                        offset: self.base,
                        msg: format!("read error: {e}"),
                    });
                }
            }
        }
    }

    /// Makes at least one byte available, or fails with "truncated".
    fn need(&mut self, what: &str) -> Result<()> {
        if self.pos == self.len && !self.refill()? {
            return self.err(format!("file truncated: end of input while reading {what}"));
        }
        Ok(())
    }

    /// True when no byte is left.
    pub fn at_eof(&mut self) -> Result<bool> {
        Ok(self.pos == self.len && !self.refill()?)
    }

    #[inline]
    pub fn u8(&mut self, what: &str) -> Result<u8> {
        if self.pos == self.len {
            self.need(what)?;
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    /// Fills `out` exactly.
    pub fn exact(&mut self, out: &mut [u8], what: &str) -> Result<()> {
        let mut done = 0;
        while done < out.len() {
            self.need(what)?;
            let n = (self.len - self.pos).min(out.len() - done);
            out[done..done + n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
            self.pos += n;
            done += n;
        }
        Ok(())
    }

    pub fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        if self.len - self.pos >= N {
            a.copy_from_slice(&self.buf[self.pos..self.pos + N]);
            self.pos += N;
        } else {
            self.exact(&mut a, what)?;
        }
        Ok(a)
    }

    /// Skips `n` bytes without keeping them.
    pub fn skip(&mut self, mut n: u64, what: &str) -> Result<()> {
        while n > 0 {
            self.need(what)?;
            let k = ((self.len - self.pos) as u64).min(n) as usize;
            self.pos += k;
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
            self.need(what)?;
            let k = (self.len - self.pos).min(left);
            v.extend_from_slice(&self.buf[self.pos..self.pos + k]);
            self.pos += k;
            left -= k;
        }
        Ok(v)
    }

    /// Reads the 8-byte trailer without adding it to the CRC.
    pub fn trailer(&mut self) -> Result<[u8; 8]> {
        self.sync_crc();
        let mut a = [0u8; 8];
        for b in a.iter_mut() {
            *b = self.u8("the CRC64 trailer")?;
            // A refill inside `u8` syncs nothing new (all was synced); keep trailer bytes out.
            self.crc_from = self.pos;
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

    /// Hands out at most 3 bytes per `read`, so every refill path runs.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(out.len()).min(3);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn crc_and_trailer_across_refills() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 256) as u8).collect();
        for split in [0, 1, 2, 500, 990] {
            let mut s = Source::new(Trickle(&data));
            s.skip(split as u64, "x").unwrap();
            let _ = s.u8("x").unwrap();
            let rest = 992 - split - 1;
            let v = s.bytes(rest as u64, 1 << 20, "x").unwrap();
            assert_eq!(v, &data[split + 1..992]);
            assert_eq!(s.crc(), CRC64.checksum(&data[..992]), "split {split}");
            assert_eq!(&s.trailer().unwrap()[..], &data[992..]);
            assert_eq!(s.crc(), CRC64.checksum(&data[..992]), "trailer not hashed");
            assert_eq!(s.offset(), 1000);
            assert!(s.at_eof().unwrap());
        }
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
