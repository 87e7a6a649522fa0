//! A deterministic mutation test of the RESP reader ([`super::wire::RespReader`]): seeded,
//! a bounded number of cases per run (`RCFG_MUTATION_CASES`, default 20,000), no nightly.
//! Every input must be read to an end (a reply stream, `Closed` or an error) without a
//! panic, within the limits, in a number of steps bounded by its length. Regression inputs
//! live in `tests/corpus/resp/` and are replayed first.

use super::wire::{LIMITS, Limits, Reply, RespError, RespReader};

use crate::testing::Rng;

const SMALL: Limits = Limits {
    line: 64,
    bulk: 48,
    array: 16,
    group: 256,
};

/// Read `input` to its end with `limits`; panics on a broken property.
fn drain(input: &[u8], limits: Limits) {
    let mut r = RespReader::new(input, limits);
    // Every successful read consumes at least 3 bytes (`:0\r\n` is the shortest reply).
    for _ in 0..=input.len() / 3 + 1 {
        match r.read() {
            Ok(Reply::Bulk(b)) => assert!(b.len() <= limits.bulk),
            Ok(Reply::Array(n)) => assert!(n <= limits.array),
            Ok(Reply::Status(s)) | Ok(Reply::Error(s)) => assert!(s.len() <= limits.line),
            Ok(Reply::Int(_)) | Ok(Reply::Nil) => {}
            Err(RespError::NotRedis { got }) => {
                assert!(got.chars().count() <= 25, "{got}");
                assert!(!got.chars().any(|c| c.is_control()), "{got:?}");
                return;
            }
            Err(_) => return,
        }
    }
    panic!("more replies than the input can hold");
}

fn seeds() -> Vec<Vec<u8>> {
    let mut scan = b"*2\r\n$4\r\n1234\r\n*3\r\n".to_vec();
    for k in [&b"shop1:wp:options:a"[..], b"bin:\xff\xfe:1", b""] {
        scan.extend_from_slice(format!("${}\r\n", k.len()).as_bytes());
        scan.extend_from_slice(k);
        scan.extend_from_slice(b"\r\n");
    }
    vec![
        scan,
        b":-1\r\n:3600000\r\n:-2\r\n$-1\r\n+string\r\n".to_vec(),
        b"$45\r\n# Keyspace\r\ndb0:keys=10,expires=2,avg_ttl=5\r\n\r\n".to_vec(),
        b"-NOAUTH Authentication required.\r\n".to_vec(),
        b"-WRONGPASS invalid username-password pair\r\n+OK\r\n".to_vec(),
        b"*1\r\n*4\r\n$5\r\nslots\r\n*0\r\n$5\r\nnodes\r\n*1\r\n*2\r\n$4\r\nport\r\n:7001\r\n"
            .to_vec(),
        b"*-1\r\n*0\r\n".to_vec(),
    ]
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    const BYTES: &[u8] = b"*$:+-\r\n0123456789-\xff ";
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 => v.insert(at, BYTES[rng.below(BYTES.len())]),
            1 if at < v.len() => {
                v.remove(at);
            }
            2 if at < v.len() => v[at] = rng.next() as u8,
            3 => {
                let end = (at + rng.below(16)).min(v.len());
                let chunk = v[at..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, chunk);
            }
            4 => v.truncate(at),
            _ => {
                // A length or count that lies.
                let n = ["99999999999", "-5", "64", "1048577", "9223372036854775808"][rng.below(5)];
                v.splice(at..at, n.bytes());
            }
        }
    }
    v
}

#[test]
fn corpus_of_hostile_replies_is_read_safely() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/resp");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let bytes = std::fs::read(e.unwrap().path()).unwrap();
        drain(&bytes, LIMITS);
        drain(&bytes, SMALL);
        n += 1;
    }
    assert!(n > 0, "no corpus in {}", dir.display());
}

#[test]
fn mutated_reply_streams_keep_the_properties() {
    let n: usize = std::env::var("RCFG_MUTATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let seeds = seeds();
    let mut rng = Rng(0x5eed_0000_0000_7e59);
    for i in 0..n {
        let input = mutate(&mut rng, &seeds[i % seeds.len()]);
        for limits in [LIMITS, SMALL] {
            let r = std::panic::catch_unwind(|| drain(&input, limits));
            assert!(
                r.is_ok(),
                "case {i}: {input:?} breaks a property; add it to tests/corpus/resp/"
            );
        }
    }
}
