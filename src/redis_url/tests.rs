//! The URL forms table, secret hiding, and a deterministic mutation test (seeded, bounded,
//! no nightly) with its corpus of regression cases in `tests/corpus/url/`.

use super::*;
use crate::testing::Rng;

fn tcp(h: &str, port: u16) -> Transport {
    Transport::Tcp {
        host: h.into(),
        port,
    }
}
fn tls(h: &str, port: u16) -> Transport {
    Transport::Tls {
        host: h.into(),
        port,
    }
}
fn unix(p: &str) -> Transport {
    Transport::Unix { path: p.into() }
}

type Row = (
    &'static str,
    Transport,
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
);

fn table() -> Vec<Row> {
    vec![
        // redis-cli / generic
        (
            "redis://127.0.0.1:6390/3",
            tcp("127.0.0.1", 6390),
            None,
            None,
            Some(3),
        ),
        (
            "redis://localhost",
            tcp("localhost", 6379),
            None,
            None,
            None,
        ),
        ("redis://h:6379/", tcp("h", 6379), None, None, None),
        ("REDIS://H:1", tcp("H", 1), None, None, None),
        (
            "redis://alice:s%40cret@h:6390/3",
            tcp("h", 6390),
            Some("alice"),
            Some("s@cret"),
            Some(3),
        ),
        (
            "redis://:p%40ss@h",
            tcp("h", 6379),
            None,
            Some("p@ss"),
            None,
        ),
        (
            "redis://secret@h",
            tcp("h", 6379),
            None,
            Some("secret"),
            None,
        ),
        ("redis://user:@h", tcp("h", 6379), Some("user"), None, None),
        (
            "redis://u:p@ss@h/1",
            tcp("h", 6379),
            Some("u"),
            Some("p@ss"),
            Some(1),
        ),
        (
            "redis://[::1]:6380/2",
            tcp("::1", 6380),
            None,
            None,
            Some(2),
        ),
        ("redis://h?db=4", tcp("h", 6379), None, None, Some(4)),
        (
            "redis://h?database=4&protocol=2",
            tcp("h", 6379),
            None,
            None,
            Some(4),
        ),
        (
            "redis://h?password=p%26w&username=bob",
            tcp("h", 6379),
            Some("bob"),
            Some("p&w"),
            None,
        ),
        ("localhost:6390", tcp("localhost", 6390), None, None, None),
        (
            "cache.internal",
            tcp("cache.internal", 6379),
            None,
            None,
            None,
        ),
        ("valkey://h:7000", tcp("h", 7000), None, None, None),
        (
            "tcp://10.0.0.5:6380",
            tcp("10.0.0.5", 6380),
            None,
            None,
            None,
        ),
        // TLS
        (
            "rediss://:pw@cache.example:6380/0",
            tls("cache.example", 6380),
            None,
            Some("pw"),
            Some(0),
        ),
        ("valkeys://h", tls("h", 6379), None, None, None),
        ("tls://h:6390", tls("h", 6390), None, None, None),
        // sockets: redis-cli, redis-py/Django/Celery, Symfony, bare path
        (
            "unix:///run/redis/redis.sock",
            unix("/run/redis/redis.sock"),
            None,
            None,
            None,
        ),
        (
            "unix:///run/redis.sock?db=2",
            unix("/run/redis.sock"),
            None,
            None,
            Some(2),
        ),
        (
            "unix://user@/run/redis.sock?db=3",
            unix("/run/redis.sock"),
            None,
            Some("user"),
            Some(3),
        ),
        (
            "unix://bob:p%2Fw@/run/redis.sock?db=3",
            unix("/run/redis.sock"),
            Some("bob"),
            Some("p/w"),
            Some(3),
        ),
        (
            "unix:///run/redis.sock?db=1&password=s%3Dx",
            unix("/run/redis.sock"),
            None,
            Some("s=x"),
            Some(1),
        ),
        (
            "redis+unix:///run/r.sock?db=5",
            unix("/run/r.sock"),
            None,
            None,
            Some(5),
        ),
        (
            "valkey+unix:///run/v.sock",
            unix("/run/v.sock"),
            None,
            None,
            None,
        ),
        (
            "redis-socket:///var/run/redis.sock",
            unix("/var/run/redis.sock"),
            None,
            None,
            None,
        ),
        (
            "redis:///var/run/redis/redis.sock",
            unix("/var/run/redis/redis.sock"),
            None,
            None,
            None,
        ),
        (
            "unix:///run/with%20space.sock",
            unix("/run/with space.sock"),
            None,
            None,
            None,
        ),
        (
            "/var/run/redis/redis.sock?db=3",
            unix("/var/run/redis/redis.sock"),
            None,
            None,
            Some(3),
        ),
        ("/tmp/r.sock", unix("/tmp/r.sock"), None, None, None),
        ("rediss://h:6380#insecure", tls("h", 6380), None, None, None),
        ("redis:///3", tcp("127.0.0.1", 6379), None, None, Some(3)),
    ]
}

#[test]
fn every_form_parses() {
    for (url, transport, user, pw, db) in table() {
        let u = parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(u.transport, transport, "{url}");
        assert_eq!(u.username.as_deref(), user, "{url}");
        assert_eq!(u.password.as_deref(), pw, "{url}");
        assert_eq!(u.db, db, "{url}");
        // The mask keeps the meaning and drops the password.
        let m = mask(url);
        if let Some(p) = pw {
            assert!(!m.contains(p), "{url} → {m}");
        }
        let again = parse(&m).unwrap_or_else(|e| panic!("{url} → {m}: {e}"));
        assert_eq!(again.transport, transport, "{url} → {m}");
        assert_eq!(again.db, db, "{url} → {m}");
    }
    assert!(parse("rediss://h#insecure").unwrap().insecure);
}

#[test]
fn bad_urls_fail_without_quoting_the_url() {
    let cases = [
        // unencoded delimiters in the password
        ("redis://:pa/ss-Zq9@h:6379/0", "percent-encode"),
        ("redis://:pa?ss-Zq9@h", "percent-encode"),
        ("redis://:pa#ss-Zq9@h", ""),
        ("redis://u:Zq9secret@h:99999", "port"),
        ("redis://u:Zq9secret@h:6379/x", "database"),
        ("redis://h/0?Zq9secret", "unknown URL parameter"),
        (
            "redis://h?password=Zq9secret&bogus=1",
            "unknown URL parameter",
        ),
        ("http://u:Zq9secret@h", "unsupported scheme `http://`"),
        ("Zq9secret@h:6379", "not a Redis URL"),
        ("u:Zq9secret@h", "not a Redis URL"),
        ("unix://Zq9secret", "absolute path"),
        ("redis://%2Frun%2FZq9.sock", "percent-encoded host"),
        ("redis://h:6379/-1", "database"),
        ("redis://:Zq9%ff@h", "not UTF-8"),
        ("", "empty"),
        ("redis://[::1", "IPv6"),
        ("redis://h#Zq9frag", "fragment"),
        ("redis://:Zq9x@", "no host"),
    ];
    for (url, needle) in cases {
        let e = parse(url).expect_err(url).to_string();
        assert!(e.contains(needle), "{url}: {e}");
        assert!(!e.contains("Zq9"), "{url} leaked into: {e}");
        assert_eq!(mask(url), PLACEHOLDER, "{url}");
    }
}

#[test]
fn masking_a_parsed_url_keeps_its_shape() {
    assert_eq!(mask("redis://u:pw@h:1/0"), "redis://u:********@h:1/0");
    assert_eq!(mask("redis://:pw@h"), "redis://:********@h");
    assert_eq!(mask("redis://secret@h"), "redis://********@h");
    assert_eq!(
        mask("unix:///s?db=1&password=pw"),
        "unix:///s?db=1&password=********"
    );
    assert_eq!(
        mask("unix://u:pw@/run/r.sock?db=3"),
        "unix://u:********@/run/r.sock?db=3"
    );
    assert_eq!(mask("/tmp/r.sock"), "/tmp/r.sock");
}

#[test]
fn ioredis_reads_its_own_way() {
    let u = parse_ioredis("redis://default:s3cret@cache.internal:6380/4").unwrap();
    assert_eq!(u.transport, tcp("cache.internal", 6380));
    assert_eq!((u.db, u.password.as_deref()), (Some(4), Some("s3cret")));
    // A user-info without `:` is a user name for ioredis.
    let u = parse_ioredis("redis://user@h:1/").unwrap();
    assert_eq!((u.username.as_deref(), u.password), (Some("user"), None));
    // The same decoding as everywhere: p%40ss is p@ss.
    let u = parse_ioredis("redis://:p%40ss@h").unwrap();
    assert_eq!(u.password.as_deref(), Some("p@ss"));
    assert_eq!(parse("redis://:p%40ss@h").unwrap().password, u.password);
    let u = parse_ioredis("redis://%2Fvar%2Frun%2Fredis.sock/2").unwrap();
    assert!(u.percent_encoded_socket);
    assert_eq!(parse_ioredis("localhost:6379"), None);
    assert_eq!(parse_ioredis("redis://h:x"), None);
    assert_eq!(
        parse_ioredis("/run/r.sock?db=3").unwrap().transport,
        unix("/run/r.sock")
    );
}

/// Bytes that matter to URL parsing, plus some that should never matter.
const ALPHABET: &[u8] = b":/@?#%&=[]+.-_0123456789abcdefAFxyz \t\r\n\xc3\xa9\xff";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 => v.insert(at, ALPHABET[rng.below(ALPHABET.len())]),
            1 if at < v.len() => {
                v.remove(at);
            }
            2 if at < v.len() => v[at] = ALPHABET[rng.below(ALPHABET.len())],
            3 => {
                let end = (at + rng.below(8)).min(v.len());
                let chunk = v[at..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, chunk);
            }
            4 => v.truncate(at),
            _ => {
                let pct = format!("%{:02X}", rng.below(256));
                v.splice(at..at, pct.bytes());
            }
        }
    }
    v
}

/// The properties every input must keep: no panic; an error never quotes the canary
/// password; a mask never shows the decoded password; a masked URL means the same.
fn check(url: &str) {
    let _ = parse_ioredis(url);
    match parse(url) {
        Err(e) => {
            let e = e.to_string();
            assert!(!e.contains("Zq9"), "{url:?} → {e}");
            assert_eq!(mask(url), PLACEHOLDER, "{url:?}");
        }
        Ok(u) => {
            let m = mask(url);
            // (A password that is also part of the host, socket path or user name is
            // shown there, as it should be.)
            let shown_elsewhere = |p: &str| {
                let place = match &u.transport {
                    Transport::Unix { path } => path,
                    Transport::Tcp { host, .. } | Transport::Tls { host, .. } => host,
                };
                place.contains(p) || u.username.as_deref().is_some_and(|n| n.contains(p))
            };
            if let Some(p) = u.password.as_deref().filter(|p| p.len() >= 8) {
                let after_scheme = m.split_once("://").map_or(m.as_str(), |(_, r)| r);
                assert!(
                    shown_elsewhere(p) || !after_scheme.contains(p),
                    "{url:?} → {m}"
                );
            }
            let again = parse(&m).unwrap_or_else(|e| panic!("{url:?} → {m:?}: {e}"));
            assert_eq!(again.transport, u.transport, "{url:?} → {m:?}");
            assert_eq!(again.db, u.db, "{url:?} → {m:?}");
            assert_eq!(again.username, u.username, "{url:?} → {m:?}");
            // Structurally: the password the masked URL carries is the stars.
            let stars = u.password.as_ref().map(|_| STARS.to_string());
            assert_eq!(again.password, stars, "{url:?} → {m:?}");
        }
    }
}

fn corpus(dir: &str) -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let p = e.unwrap().path();
            (p.display().to_string(), std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// Cases per run: `RCFG_MUTATION_CASES` (default 20,000, about a second in a debug build).
pub(crate) fn cases() -> usize {
    std::env::var("RCFG_MUTATION_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

#[test]
fn corpus_of_past_crashers_still_holds() {
    let files = corpus("tests/corpus/url");
    assert!(!files.is_empty());
    for (name, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        let url = text.strip_suffix('\n').unwrap_or(&text);
        let r = std::panic::catch_unwind(|| check(url));
        assert!(r.is_ok(), "corpus case {name} fails");
    }
}

#[test]
fn mutated_urls_keep_the_properties() {
    let mut seeds: Vec<Vec<u8>> = table().iter().map(|r| r.0.as_bytes().to_vec()).collect();
    seeds.extend(
        [
            "redis://app:Zq9canary@10.0.0.5:6380/4",
            "unix://u:Zq9canary@/run/redis.sock?db=3&password=Zq9canary",
            "rediss://:Zq9canary@h:6380?db=2#insecure",
        ]
        .map(|s| s.as_bytes().to_vec()),
    );
    let mut rng = Rng(0x5eed_0000_0000_0009);
    let n = cases();
    for i in 0..n {
        let seed = &seeds[i % seeds.len()];
        let input = mutate(&mut rng, seed);
        let url = String::from_utf8_lossy(&input).into_owned();
        let r = std::panic::catch_unwind(|| check(&url));
        assert!(
            r.is_ok(),
            "case {i}: {url:?} breaks a property; add it to tests/corpus/url/"
        );
    }
}
