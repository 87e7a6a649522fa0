//! Streaming reader for Redis/Valkey RDB snapshots (RDB versions 1 to 12): turns a dump into a
//! stream of [`Event`]s — one per key (db, name, type, absolute expiry, serialized size, hash
//! field TTLs), plus aux fields, `RESIZEDB` hints, skipped module aux/functions and a final
//! [`Event::End`] after the CRC64 trailer was verified. Values are skipped, never
//! materialised; memory stays constant whatever the dump's size (one key name at a time).
//!
//! Written here rather than taken from crates.io: the one maintained Rust parser (`rdb` 0.4)
//! decodes every value into memory, does not verify the CRC64, reports no byte offsets and no
//! serialized sizes (see the commit introducing this module).
//!
//! The audit does not call this yet (`--rdb` is wired in a later change), hence the
//! `allow(dead_code)` on the module in `main.rs`.

mod lzf;
mod reader;
mod skip;

use std::fs::File;
use std::io::Read;
use std::path::Path;

pub use reader::Error;
use reader::{Result, Source};

/// The newest RDB version this reader understands (Redis 7.4 / 8.x).
pub const MAX_VERSION: u32 = 12;

/// A key's type, as Redis' `TYPE` command names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyType {
    String,
    List,
    Set,
    ZSet,
    Hash,
    Stream,
    /// A module type, by its 9-character module type name (e.g. `ReJSON-RL`).
    Module(String),
}

impl KeyType {
    /// The name `TYPE` answers for such a key.
    pub fn as_str(&self) -> &str {
        match self {
            KeyType::String => "string",
            KeyType::List => "list",
            KeyType::Set => "set",
            KeyType::ZSet => "zset",
            KeyType::Hash => "hash",
            KeyType::Stream => "stream",
            KeyType::Module(name) => name,
        }
    }
}

/// What a hash with per-field TTLs (Redis 7.4+ `HEXPIRE`) says about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTtls {
    /// The earliest field expiry (unix ms), when the file records one.
    pub min_expire_ms: Option<i64>,
    /// How many fields carry a TTL (known for the dict encoding only, not for listpacks).
    pub fields_with_ttl: Option<u64>,
}

/// How the CRC64 trailer was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Checksum {
    /// Computed and equal to the trailer.
    Verified(u64),
    /// The writer had `rdbchecksum no` (trailer of zeros).
    Disabled,
    /// RDB versions before 5 have no trailer.
    Absent,
}

/// One item of the dump, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An aux field (`redis-ver`, `ctime`, `used-mem`, …).
    Aux { name: Vec<u8>, value: Vec<u8> },
    /// The writer's size hint for the database that follows.
    ResizeDb { db: u64, keys: u64, expires: u64 },
    /// One key.
    Key {
        db: u64,
        key: Vec<u8>,
        kind: KeyType,
        /// The raw RDB type byte (the encoding: 16 = listpack hash, 18 = quicklist 2, …).
        encoding: u8,
        /// Absolute expiry in unix milliseconds.
        expires_at_ms: Option<i64>,
        /// Bytes of the key's record in the file (type byte, name and value; not the
        /// expiry/LRU/LFU prefixes).
        serialized_bytes: u64,
        field_ttls: Option<FieldTtls>,
    },
    /// A module's aux data, skipped.
    ModuleAux { module: String },
    /// A function library (Redis 7+), skipped.
    Function { bytes: u64 },
    /// The end of the dump, after the checksum was checked.
    End {
        checksum: Checksum,
        /// Module-typed keys whose values were skipped.
        module_values: u64,
        /// Module aux records skipped.
        module_aux: u64,
    },
}

/// Streams [`Event`]s out of an RDB dump read from any `Read`.
pub struct Reader<R: Read> {
    src: Source<R>,
    version: u32,
    db: u64,
    done: bool,
    module_values: u64,
    module_aux: u64,
}

/// Opens a dump file for reading, refusing anything but a regular file (directories, FIFOs,
/// devices) before reading a byte.
pub fn open(path: &Path) -> anyhow::Result<Reader<File>> {
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    // O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)
        .map_err(|e| anyhow::anyhow!("{shown}: cannot open: {e}"))?;
    let meta = file
        .metadata()
        .map_err(|e| anyhow::anyhow!("{shown}: cannot stat: {e}"))?;
    if !meta.file_type().is_file() {
        anyhow::bail!("{shown}: not a regular file (refusing to read an RDB dump from it)");
    }
    Reader::new(file).map_err(|e| anyhow::anyhow!("{shown}: {e}"))
}

impl<R: Read> Reader<R> {
    /// Reads and checks the header (`REDIS` + 4-digit version).
    pub fn new(r: R) -> Result<Reader<R>> {
        let mut src = Source::new(r);
        if src.at_eof()? {
            return src.err("empty file: not an RDB dump");
        }
        let mut head = [0u8; 9];
        src.exact(&mut head, "the RDB header")?;
        if head.starts_with(b"VALKEY") {
            return Err(Error {
                offset: 0,
                msg: format!(
                    "Valkey 9+ RDB format (magic \"VALKEY\") is not supported \
                     (this rcfg reads \"REDIS\" dumps of versions 1 to {MAX_VERSION})"
                ),
            });
        }
        if &head[..5] != b"REDIS" {
            return Err(Error {
                offset: 0,
                msg: "not an RDB dump (the file does not start with \"REDIS\")".into(),
            });
        }
        let digits = &head[5..];
        let version = std::str::from_utf8(digits)
            .ok()
            .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u32>().ok());
        let Some(version) = version else {
            return Err(Error {
                offset: 5,
                msg: format!(
                    "invalid RDB version field {:?}",
                    String::from_utf8_lossy(digits)
                ),
            });
        };
        if version == 0 || version > MAX_VERSION {
            return Err(Error {
                offset: 5,
                msg: format!(
                    "unsupported RDB version {version} (this rcfg reads versions 1 to {MAX_VERSION})"
                ),
            });
        }
        Ok(Reader {
            src,
            version,
            db: 0,
            done: false,
            module_values: 0,
            module_aux: 0,
        })
    }

    /// The RDB version from the header.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Bytes consumed so far (after an error: where it happened).
    pub fn offset(&self) -> u64 {
        self.src.offset()
    }

    fn step(&mut self) -> Result<Event> {
        let s = &mut self.src;
        let mut expires_at_ms = None;
        loop {
            let op = s.u8("the next record")?;
            match op {
                0xFF => return self.end(),
                0xFE => self.db = skip::len(s, "SELECTDB")?,
                0xFD => {
                    let secs = u32::from_le_bytes(s.array("an expiry")?);
                    expires_at_ms = Some(secs as i64 * 1000);
                }
                0xFC => expires_at_ms = Some(i64::from_le_bytes(s.array("an expiry")?)),
                0xFB => {
                    let keys = skip::len(s, "RESIZEDB")?;
                    let expires = skip::len(s, "RESIZEDB")?;
                    return Ok(Event::ResizeDb {
                        db: self.db,
                        keys,
                        expires,
                    });
                }
                0xFA => {
                    let name = skip::string(s, skip::MAX_STRING, "an aux field name")?;
                    let value = skip::string(s, skip::MAX_STRING, "an aux field value")?;
                    return Ok(Event::Aux { name, value });
                }
                0xF9 => {
                    s.u8("an LFU frequency")?;
                }
                0xF8 => {
                    skip::len(s, "an LRU idle time")?;
                }
                0xF7 => {
                    let id = skip::len(s, "a module aux record")?;
                    let when_op = skip::len(s, "a module aux record")?;
                    if when_op != 2 {
                        return s.err(format!(
                            "module aux record: unexpected 'when' opcode {when_op}"
                        ));
                    }
                    skip::len(s, "a module aux record")?;
                    skip::skip_module_opcodes(s, "a module aux record")?;
                    self.module_aux += 1;
                    return Ok(Event::ModuleAux {
                        module: skip::module_name(id),
                    });
                }
                0xF6 => {
                    return s.err(
                        "function record in the Redis 7.0 release-candidate format \
                         (opcode 246) is not supported",
                    );
                }
                0xF5 => {
                    let start = s.offset();
                    skip::skip_string(s, "a function library")?;
                    return Ok(Event::Function {
                        bytes: s.offset() - start,
                    });
                }
                0xF4 => {
                    for _ in 0..3 {
                        skip::len(s, "a slot info record")?;
                    }
                }
                t if skip::is_value_type(t) => {
                    let start = s.offset() - 1;
                    let key = skip::string(s, skip::MAX_STRING, "a key name")?;
                    let (kind, field_ttls) = skip::skip_value(s, t)?;
                    if matches!(kind, KeyType::Module(_)) {
                        self.module_values += 1;
                    }
                    return Ok(Event::Key {
                        db: self.db,
                        key,
                        kind,
                        encoding: t,
                        expires_at_ms,
                        serialized_bytes: s.offset() - start,
                        field_ttls,
                    });
                }
                other => {
                    return Err(Error {
                        offset: s.offset() - 1,
                        msg: format!("unknown record type 0x{other:02x}"),
                    });
                }
            }
        }
    }

    fn end(&mut self) -> Result<Event> {
        self.done = true;
        let checksum = if self.version >= 5 {
            let computed = self.src.crc();
            let stored = u64::from_le_bytes(self.src.trailer()?);
            if stored == 0 {
                Checksum::Disabled
            } else if stored != computed {
                return self.src.err(format!(
                    "CRC64 mismatch: the file says {stored:016x}, its content hashes to {computed:016x}"
                ));
            } else {
                Checksum::Verified(computed)
            }
        } else {
            Checksum::Absent
        };
        if !self.src.at_eof()? {
            return self.src.err("unexpected data after the end of the dump");
        }
        Ok(Event::End {
            checksum,
            module_values: self.module_values,
            module_aux: self.module_aux,
        })
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Result<Event>;

    /// The next event; after an error or [`Event::End`], `None`.
    fn next(&mut self) -> Option<Result<Event>> {
        if self.done {
            return None;
        }
        let r = self.step();
        if r.is_err() {
            self.done = true;
        }
        Some(r)
    }
}
