//! The RDB value encodings: length prefixes, strings (int, LZF), and skipping every value
//! type Redis 2.x–8.x and Valkey 7.2–8.x write, without materialising the value. Loops are
//! bounded by the input (each step consumes at least one byte), so a huge count in a corrupt
//! file ends in a "truncated" error.

use std::io::Read;

use super::lzf;
use super::reader::{Result, Source};
use super::{FieldTtls, KeyType};

/// The largest string (key, aux value) held in memory: Redis' own `proto-max-bulk-len` ceiling.
pub const MAX_STRING: u64 = 512 * 1024 * 1024;

/// A length prefix, or the special string encoding it announces.
pub enum Len {
    Plain(u64),
    Encoded(u8),
}

pub fn len_or_enc<R: Read>(s: &mut Source<R>, what: &str) -> Result<Len> {
    let b = s.u8(what)?;
    Ok(match b >> 6 {
        0 => Len::Plain((b & 0x3f) as u64),
        1 => {
            let b2 = s.u8(what)?;
            Len::Plain((((b & 0x3f) as u64) << 8) | b2 as u64)
        }
        2 => match b {
            0x80 => Len::Plain(u32::from_be_bytes(s.array(what)?) as u64),
            0x81 => Len::Plain(u64::from_be_bytes(s.array(what)?)),
            _ => return s.err(format!("invalid length prefix 0x{b:02x} in {what}")),
        },
        _ => Len::Encoded(b & 0x3f),
    })
}

/// A plain length (an encoded-string marker here is corruption).
pub fn len<R: Read>(s: &mut Source<R>, what: &str) -> Result<u64> {
    match len_or_enc(s, what)? {
        Len::Plain(n) => Ok(n),
        Len::Encoded(e) => s.err(format!(
            "expected a length in {what}, found string encoding {e}"
        )),
    }
}

/// Reads a string (up to `cap` bytes), decoding integer and LZF encodings.
pub fn string<R: Read>(s: &mut Source<R>, cap: u64, what: &str) -> Result<Vec<u8>> {
    match len_or_enc(s, what)? {
        Len::Plain(n) => s.bytes(n, cap, what),
        Len::Encoded(0) => Ok((s.u8(what)? as i8).to_string().into_bytes()),
        Len::Encoded(1) => Ok(i16::from_le_bytes(s.array(what)?).to_string().into_bytes()),
        Len::Encoded(2) => Ok(i32::from_le_bytes(s.array(what)?).to_string().into_bytes()),
        Len::Encoded(3) => {
            let clen = len(s, what)?;
            let ulen = len(s, what)?;
            if ulen > cap {
                return s.err(format!(
                    "{what}: LZF length {ulen} exceeds the limit of {cap} bytes"
                ));
            }
            let packed = s.bytes(clen, cap, what)?;
            lzf::decompress(&packed, ulen as usize).or_else(|e| s.err(format!("{what}: {e}")))
        }
        Len::Encoded(e) => s.err(format!("unknown string encoding {e} in {what}")),
    }
}

/// Skips a string; returns nothing, keeps nothing.
pub fn skip_string<R: Read>(s: &mut Source<R>, what: &str) -> Result<()> {
    match len_or_enc(s, what)? {
        Len::Plain(n) => s.skip(n, what),
        Len::Encoded(0) => s.skip(1, what),
        Len::Encoded(1) => s.skip(2, what),
        Len::Encoded(2) => s.skip(4, what),
        Len::Encoded(3) => {
            let clen = len(s, what)?;
            let _ulen = len(s, what)?;
            s.skip(clen, what)
        }
        Len::Encoded(e) => s.err(format!("unknown string encoding {e} in {what}")),
    }
}

fn skip_strings<R: Read>(s: &mut Source<R>, per_item: u64, what: &str) -> Result<()> {
    let n = len(s, what)?;
    for _ in 0..n {
        for _ in 0..per_item {
            skip_string(s, what)?;
        }
    }
    Ok(())
}

/// Module ids carry a 9-character name in a 64-symbol alphabet and a 10-bit encoding version.
pub fn module_name(id: u64) -> String {
    const SET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..9)
        .map(|i| SET[((id >> (64 - 6 * (i + 1))) & 63) as usize] as char)
        .collect()
}

/// Skips a module's self-describing opcode stream (written by `RM_Save*` since RDB 8).
pub fn skip_module_opcodes<R: Read>(s: &mut Source<R>, what: &str) -> Result<()> {
    loop {
        match len(s, what)? {
            0 => return Ok(()),
            1 | 2 => {
                len(s, what)?;
            }
            3 => s.skip(4, what)?,
            4 => s.skip(8, what)?,
            5 => skip_string(s, what)?,
            op => return s.err(format!("unknown module opcode {op} in {what}")),
        }
    }
}

fn skip_stream<R: Read>(s: &mut Source<R>, t: u8) -> Result<()> {
    let what = "a stream";
    skip_strings(s, 2, what)?; // (node key, listpack) pairs
    for _ in 0..3 {
        len(s, what)?; // length, last id ms, last id seq
    }
    if t >= 19 {
        for _ in 0..5 {
            len(s, what)?; // first id, max deleted id, entries added
        }
    }
    let groups = len(s, what)?;
    for _ in 0..groups {
        skip_string(s, "a stream consumer group name")?;
        len(s, what)?;
        len(s, what)?;
        if t >= 19 {
            len(s, what)?; // entries read
        }
        let pel = len(s, "a stream group PEL")?;
        for _ in 0..pel {
            s.skip(16 + 8, "a stream PEL entry")?; // raw id, delivery time
            len(s, "a stream PEL entry")?; // delivery count
        }
        let consumers = len(s, what)?;
        for _ in 0..consumers {
            skip_string(s, "a stream consumer name")?;
            s.skip(8, "a stream consumer")?; // seen time
            if t >= 21 {
                s.skip(8, "a stream consumer")?; // active time
            }
            let pel = len(s, "a stream consumer PEL")?;
            s.skip(pel.saturating_mul(16), "a stream consumer PEL")?;
        }
    }
    Ok(())
}

/// Hash with per-field TTLs stored as a dict (RDB types 22 pre-GA and 24, Redis 7.4+).
fn skip_hash_metadata<R: Read>(s: &mut Source<R>, t: u8) -> Result<FieldTtls> {
    let what = "a hash with field TTLs";
    let min_expire = if t == 24 {
        Some(i64::from_le_bytes(s.array(what)?))
    } else {
        None
    };
    let n = len(s, what)?;
    let mut with_ttl = 0u64;
    let mut min_abs: Option<i64> = None;
    for _ in 0..n {
        let ttl = len(s, what)?;
        if ttl != 0 {
            with_ttl += 1;
            // GA stores `expire - min + 1`; pre-GA the absolute time.
            let abs = match min_expire {
                Some(m) => m.saturating_add(ttl as i64).saturating_sub(1),
                None => ttl as i64,
            };
            min_abs = Some(min_abs.map_or(abs, |m: i64| m.min(abs)));
        }
        skip_string(s, what)?;
        skip_string(s, what)?;
    }
    Ok(FieldTtls {
        min_expire_ms: min_abs.or(min_expire.filter(|&m| m >= 0 && m != i64::MAX)),
        fields_with_ttl: Some(with_ttl),
    })
}

/// Skips the value of RDB type `t`; returns its Redis type (as `TYPE` names it) and, for
/// hashes with field TTLs, what the file says about them. `modules` counts skipped module
/// values.
pub fn skip_value<R: Read>(s: &mut Source<R>, t: u8) -> Result<(KeyType, Option<FieldTtls>)> {
    let kind = match t {
        0 => {
            skip_string(s, "a string value")?;
            KeyType::String
        }
        1 => {
            skip_strings(s, 1, "a list")?;
            KeyType::List
        }
        2 => {
            skip_strings(s, 1, "a set")?;
            KeyType::Set
        }
        3 => {
            let n = len(s, "a zset")?;
            for _ in 0..n {
                skip_string(s, "a zset member")?;
                let l = s.u8("a zset score")?;
                if l < 253 {
                    s.skip(l as u64, "a zset score")?;
                }
            }
            KeyType::ZSet
        }
        4 => {
            skip_strings(s, 2, "a hash")?;
            KeyType::Hash
        }
        5 => {
            let n = len(s, "a zset")?;
            for _ in 0..n {
                skip_string(s, "a zset member")?;
                s.skip(8, "a zset score")?;
            }
            KeyType::ZSet
        }
        6 => {
            return s
                .err("module value in the pre-GA format (RDB type 6) cannot be skipped safely");
        }
        7 => {
            let id = len(s, "a module value")?;
            skip_module_opcodes(s, "a module value")?;
            KeyType::Module(module_name(id))
        }
        9 | 13 | 16 => {
            skip_string(s, "a hash")?;
            KeyType::Hash
        }
        10 => {
            skip_string(s, "a list")?;
            KeyType::List
        }
        11 | 20 => {
            skip_string(s, "a set")?;
            KeyType::Set
        }
        12 | 17 => {
            skip_string(s, "a zset")?;
            KeyType::ZSet
        }
        14 => {
            skip_strings(s, 1, "a quicklist")?;
            KeyType::List
        }
        18 => {
            let n = len(s, "a quicklist")?;
            for _ in 0..n {
                len(s, "a quicklist node")?; // container kind
                skip_string(s, "a quicklist node")?;
            }
            KeyType::List
        }
        15 | 19 | 21 => {
            skip_stream(s, t)?;
            KeyType::Stream
        }
        22 | 24 => {
            let ttls = skip_hash_metadata(s, t)?;
            return Ok((KeyType::Hash, Some(ttls)));
        }
        23 | 25 => {
            let what = "a listpack hash with field TTLs";
            let min = if t == 25 {
                Some(i64::from_le_bytes(s.array(what)?))
            } else {
                None
            };
            skip_string(s, what)?;
            let ttls = FieldTtls {
                min_expire_ms: min.filter(|&m| m >= 0 && m != i64::MAX),
                fields_with_ttl: None,
            };
            return Ok((KeyType::Hash, Some(ttls)));
        }
        _ => unreachable!("caller only passes value types"),
    };
    Ok((kind, None))
}

/// True for the type bytes [`skip_value`] knows.
pub fn is_value_type(t: u8) -> bool {
    matches!(t, 0..=7 | 9..=25)
}
