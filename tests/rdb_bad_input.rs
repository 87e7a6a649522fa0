//! The streaming RDB reader (`src/rdb/`) on bad input: truncation, wrong magic, future
//! versions, CRC mismatches, lying LZF and length prefixes, module types, empty files,
//! directories, FIFOs, and a seeded mutation run over a real dump whose crashers are kept in
//! `tests/corpus/rdb/` (replayed on every run).

#[path = "../src/rdb/mod.rs"]
#[allow(dead_code)]
mod rdb;
mod rdb_util;

use std::path::{Path, PathBuf};
use std::process::Command;

use rdb::{Checksum, Event, KeyType};
use rdb_util::{Rng, Trickle, events, parse, raw_value, real_dump};

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
