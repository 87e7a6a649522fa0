//! `rcfg audit-ttl --redis` against servers that misbehave: fake servers written here (a
//! std `TcpListener` thread that drips one byte at a time, floods an endless line, answers
//! HTTP, or announces a gigantic reply) and a real `redis-server` with `requirepass` given a
//! wrong password or a database that does not exist. Each case must end within its time
//! bound with exit 2 and one clear error, and never print an empty report before it.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::redis_server::{RedisServer, ServerOpts, c, exec};
use common::{json_of, rcfg};

/// A fake server on a free loopback port; `serve` runs once per accepted connection (in its
/// own thread) after the client's first bytes have been read.
fn fake_server(serve: fn(&mut TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 512];
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = stream.read(&mut buf);
                serve(&mut stream);
            });
        }
    });
    port
}

/// Run the audit with `--format FORMAT`; (exit code, stdout, stderr, elapsed).
fn run(url: &str, format: &str, extra: &[&str]) -> (i32, String, String, Duration) {
    let t = Instant::now();
    let out = rcfg()
        .args(["audit-ttl", "--format", format, "--redis", url])
        .args(extra)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        t.elapsed(),
    )
}

fn json_error(url: &str, extra: &[&str]) -> (i32, serde_json::Value, Duration) {
    let t = Instant::now();
    let out = rcfg()
        .args(["audit-ttl", "--format", "json", "--redis", url])
        .args(extra)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), json_of(&out), t.elapsed())
}

/// Human output that is exactly one error line about `needle` (no table, no summary).
fn assert_error_only(stdout: &str, needle: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "expected one line, got:\n{stdout}");
    assert!(lines[0].starts_with("error: "), "{stdout}");
    assert!(lines[0].contains(needle), "{stdout}");
    for empty_report in ["Redis audit:", "(no keys)", "scanned 0 keys", "0 findings"] {
        assert!(!stdout.contains(empty_report), "{stdout}");
    }
}

#[test]
fn an_http_port_is_named_in_one_line() {
    let port = fake_server(|s| {
        let _ = s.write_all(
            b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nBad request\n",
        );
    });
    let url = format!("redis://127.0.0.1:{port}");
    let (code, out, err, elapsed) = run(&url, "human", &[]);
    assert_eq!(code, 2, "{out}{err}");
    let expected = format!("127.0.0.1:{port} does not speak the Redis protocol (got `HTTP/1.1`)");
    assert_error_only(&out, &expected);
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");

    let (code, r, _) = json_error(&url, &[]);
    assert_eq!(code, 2);
    assert_eq!(r["errors"][0]["message"], expected);
    assert_eq!(r["errors"].as_array().unwrap().len(), 1, "{r:#}");
}

#[test]
fn a_server_that_drips_one_byte_at_a_time_hits_the_total_deadline() {
    // A status line that starts like Redis and never ends, one byte every 200ms: each read
    // succeeds well within --read-timeout, so only a total deadline stops it.
    let port = fake_server(|s| {
        let _ = s.write_all(b"+");
        for _ in 0..600 {
            std::thread::sleep(Duration::from_millis(200));
            if s.write_all(b"O").is_err() {
                return;
            }
        }
    });
    let url = format!("redis://127.0.0.1:{port}");
    let (code, out, err, elapsed) = run(&url, "human", &["--read-timeout", "1s"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_error_only(&out, "timed out after 1s (read)");
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
}

#[test]
fn an_endless_line_is_cut_at_the_line_limit() {
    let port = fake_server(|s| {
        let _ = s.write_all(b"+");
        let chunk = vec![b'a'; 64 * 1024];
        // At most 1 GiB: rcfg must give up long before (it reads at most 64 KiB of a line).
        for _ in 0..16 * 1024 {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    let url = format!("redis://127.0.0.1:{port}");
    let (code, r, elapsed) = json_error(&url, &["--read-timeout", "20s"]);
    assert_eq!(code, 2, "{r:#}");
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!(
            "127.0.0.1:{port} sent a reply line longer than 64 KiB"
        )),
        "{msg}"
    );
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
}

#[test]
fn a_gigantic_announced_reply_is_refused_without_allocating_it() {
    let port = fake_server(|s| {
        let _ = s.write_all(b"$2147483000\r\nabc");
        std::thread::sleep(Duration::from_secs(3));
    });
    let url = format!("redis://127.0.0.1:{port}");
    let (code, r, elapsed) = json_error(&url, &[]);
    assert_eq!(code, 2, "{r:#}");
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("a string of 2147483000 bytes"), "{msg}");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn a_server_that_closes_at_once_is_an_error_not_an_empty_report() {
    let port = fake_server(|_| {});
    let url = format!("redis://127.0.0.1:{port}");
    let (code, out, err, _) = run(&url, "human", &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert_error_only(&out, "closed the connection");
}

#[test]
fn wrong_password_and_missing_database_print_the_error_alone() {
    let s = RedisServer::start_with(ServerOpts {
        tcp: true,
        password: Some("right-Pa55".into()),
        ..ServerOpts::default()
    });
    exec(&mut s.con(0), &[c(&["SET", "app:k:1", "v"])]);
    let port = s.port.unwrap();

    let url = format!("redis://:wrong-Pa55@127.0.0.1:{port}");
    let (code, out, err, elapsed) = run(&url, "human", &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert_error_only(&out, "authentication failed");
    assert!(!out.contains("wrong-Pa55") && !err.contains("wrong-Pa55"));
    assert!(elapsed < Duration::from_secs(10));

    // No password at all: the first command is refused with NOAUTH.
    let (code, out, _, _) = run(&format!("redis://127.0.0.1:{port}"), "human", &[]);
    assert_eq!(code, 2);
    assert_error_only(&out, "authentication required");

    let url = format!("redis://:right-Pa55@127.0.0.1:{port}?db=99");
    let (code, out, err, _) = run(&url, "human", &[]);
    assert_eq!(code, 2, "{out}{err}");
    assert_error_only(&out, "database 99 does not exist");

    // The right password reads the key (so the errors above are about the inputs).
    let url = format!("redis://:right-Pa55@127.0.0.1:{port}");
    let (code, r, _) = json_error(&url, &[]);
    assert_eq!(code, 1, "{r:#}");
    assert_eq!(r["totals"]["keys"], 1);
}

#[test]
fn key_names_with_bidi_and_escape_sequences_are_shown_escaped() {
    let s = RedisServer::start();
    let mut con = s.con(0);
    for key in [
        "evil:\u{202e}gpj.php:1",
        "ansi:\x1b[2J\x1b]0;owned\x07:1",
        "iso:\u{2066}x\u{2069}:1",
    ] {
        redis::cmd("SET").arg(key).arg("v").exec(&mut con).unwrap();
    }
    let (code, out, err, _) = run(&s.unix_url(), "human", &[]);
    assert_eq!(code, 1, "{out}{err}");
    for raw in ['\u{202e}', '\x1b', '\x07', '\u{2066}', '\u{2069}'] {
        assert!(
            !out.contains(raw),
            "raw {raw:?} in the terminal output:\n{out}"
        );
    }
    assert!(out.contains("evil:\\u{202e}gpj.php"), "{out}");
    assert!(out.contains("iso:\\u{2066}x\\u{2069}"), "{out}");
    assert!(out.contains("ansi:\\x1b[2J\\x1b]0;owned\\x07"), "{out}");

    // JSON keeps the text exactly: Unicode as is, control bytes as documented `\xNN`.
    let (_, r, _) = json_error(&s.unix_url(), &[]);
    let names: Vec<&str> = r["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["namespace"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"evil:\u{202e}gpj.php"), "{names:?}");
    assert!(
        names.contains(&"ansi:\\x1b[2J\\x1b]0;owned\\x07"),
        "{names:?}"
    );
}

#[test]
fn detect_escapes_site_paths_in_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let site = tmp.path().join("shop\u{202e}php.evil\x1b[31m");
    common::copy_tree(&common::fixture("wordpress-classic-redis"), &site);
    let out = rcfg()
        .args(["detect", site.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("shop\\u{202e}php.evil\\x1b[31m"), "{text}");
    assert!(
        !text.contains('\u{202e}') && !text.contains('\x1b'),
        "{text}"
    );
    // JSON has the exact path.
    let out = rcfg()
        .args(["detect", "--format", "json", site.to_str().unwrap()])
        .output()
        .unwrap();
    let r = json_of(&out);
    assert!(
        r.to_string().contains("shop\u{202e}php.evil\\u001b[31m"),
        "{r}"
    );
}

/// URLs a user may type with a password that breaks them, each holding the marker `Zq9`.
const BROKEN_URLS: [&str; 6] = [
    "redis://:pa/ss-Zq9@127.0.0.1:6379/0",
    "redis://:pa?ss-Zq9@127.0.0.1:6379",
    "redis://:pa#ss-Zq9@127.0.0.1:6379",
    "default:Zq9-secret@127.0.0.1:6379",
    "redis://127.0.0.1:6379/0?password=Zq9-secret&bogus=1",
    "unix://Zq9-secret",
];

#[test]
fn a_url_that_does_not_parse_never_shows_its_password_in_any_format() {
    for url in BROKEN_URLS {
        for format in ["json", "human", "sarif", "github"] {
            let (code, out, err, _) = run(url, format, &[]);
            assert_eq!(code, 2, "{url} {format}: {out}{err}");
            assert!(
                !out.contains("Zq9") && !err.contains("Zq9"),
                "{url} leaked in {format}:\n{out}{err}"
            );
            assert!(
                out.contains("<unparsable Redis URL>"),
                "{url} {format}: {out}"
            );
        }
        let (_, r, _) = json_error(url, &[]);
        assert_eq!(r["errors"][0]["target"], "<unparsable Redis URL>", "{r:#}");
        assert_eq!(r["server"]["endpoint"], "<unparsable Redis URL>", "{r:#}");
    }
    // The hint names the likely cause without quoting it.
    let (_, r, _) = json_error(BROKEN_URLS[0], &[]);
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert!(msg.contains("percent-encode it"), "{msg}");
}

#[test]
fn apply_refuses_a_broken_url_without_showing_it_and_decodes_like_the_audit() {
    let (_tmp, site) = common::copy_fixture("wordpress-classic");
    for url in BROKEN_URLS {
        let out = rcfg()
            .args(["apply", "--dry-run", site.to_str().unwrap(), "--url", url])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_ne!(out.status.code(), Some(0), "{url}: {all}");
        assert!(!all.contains("Zq9"), "{url} leaked: {all}");
    }
    // `p%40ss` is the password `p@ss`, in apply as in the audit.
    let out = rcfg()
        .args([
            "apply",
            site.to_str().unwrap(),
            "--url",
            "redis://:p%40ss@10.0.0.5:6380/2",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = std::fs::read_to_string(site.join("wp-config.php")).unwrap();
    assert!(config.contains("'p@ss'"), "{config}");
    assert!(!config.contains("p%40ss"), "{config}");
}

#[test]
fn a_tls_handshake_that_drips_hits_the_connect_deadline() {
    // A TLS record header, then one byte every 200ms: a per-read timeout would wait forever.
    let port = fake_server(|s| {
        let _ = s.write_all(b"\x16\x03\x03\x40\x00");
        for _ in 0..600 {
            std::thread::sleep(Duration::from_millis(200));
            if s.write_all(b"\x02").is_err() {
                return;
            }
        }
    });
    let url = format!("rediss://127.0.0.1:{port}");
    let (code, out, err, elapsed) = run(&url, "human", &["--connect-timeout", "1s"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_error_only(&out, "TLS handshake failed");
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
}

/// Answer each command read from `s` with the next of `replies`, then hold the line.
fn scripted(s: &mut TcpStream, replies: &[&[u8]]) {
    // The first command was read by `fake_server` already.
    for (i, r) in replies.iter().enumerate() {
        if i > 0 {
            let mut buf = [0u8; 512];
            if matches!(s.read(&mut buf), Ok(0) | Err(_)) {
                return;
            }
        }
        if s.write_all(r).is_err() {
            return;
        }
    }
    std::thread::sleep(Duration::from_secs(3));
}

#[test]
fn a_fake_cluster_with_a_deeply_nested_topology_is_refused() {
    let port = fake_server(|s| {
        let nested = b"*1\r\n".repeat(100_000);
        scripted(s, &[b"$17\r\ncluster_enabled:1\r\n", &nested]);
    });
    let url = format!("redis://127.0.0.1:{port}");
    let (code, r, elapsed) = json_error(&url, &[]);
    assert_eq!(code, 2, "{r:#}");
    let msg = r["errors"][0]["message"].as_str().unwrap();
    assert_eq!(
        msg,
        format!("127.0.0.1:{port} sent a reply nested deeper than 8 levels")
    );
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}

#[test]
fn a_server_that_drips_its_scan_reply_stops_the_walk_at_the_deadline() {
    // INFO answers at once (a db with keys), then SCAN replies drip: the deadline of one
    // SCAN page ends the walk of that database, reported as its error, exit 2.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 512];
                loop {
                    let n = match s.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    if String::from_utf8_lossy(&buf[..n]).contains("INFO") {
                        let info = b"db0:keys=5,expires=0\r\n";
                        let mut reply = format!("${}\r\n", info.len()).into_bytes();
                        reply.extend_from_slice(info);
                        reply.extend_from_slice(b"\r\n");
                        let _ = s.write_all(&reply);
                        continue;
                    }
                    for b in b"*2\r\n$1\r\n0\r\n*1\r\n$5\r\nk:a:1\r\n" {
                        std::thread::sleep(Duration::from_millis(300));
                        if s.write_all(&[*b]).is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    let url = format!("redis://127.0.0.1:{port}");
    let (code, out, err, elapsed) = run(&url, "human", &["--read-timeout", "1s"]);
    assert_eq!(code, 2, "{out}{err}");
    assert_error_only(&out, "SCAN failed: timed out after 1s (read)");
    assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
}
