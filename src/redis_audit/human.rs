//! The human summary of a live audit: a header with totals and the `INFO keyspace` estimate,
//! then one table row per namespace. Writes to any `impl Write`; colour only through
//! [`Paint`].

use std::io::{self, Write};

use super::LiveReport;
use super::namespace::Class;
use crate::report::color::Paint;
use crate::term;

/// Rows shown before the table is cut (the JSON always has every namespace).
const MAX_ROWS: usize = 50;

pub fn write_human(out: &mut impl Write, live: &LiveReport, paint: Paint) -> io::Result<()> {
    let t = &live.totals;
    let mode = if live.server.mode == "cluster" {
        format!("cluster of {} primaries", live.server.nodes.len())
    } else {
        "standalone".to_string()
    };
    writeln!(
        out,
        "{} {} ({mode}){}",
        paint.bold("Redis audit:"),
        term::escape(&live.server.endpoint),
        live.server
            .sample
            .map(|n| format!(", sample of {} keys per database", group(n)))
            .unwrap_or_default()
    )?;
    if !live.server.databases.is_empty() {
        let list = |dbs: &[i64]| {
            dbs.iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut line = format!(
            "  {} read: {}",
            if live.server.databases.len() == 1 {
                "database"
            } else {
                "databases"
            },
            list(&live.server.databases)
        );
        if !live.server.databases_not_read.is_empty() {
            line.push_str(&format!(
                " (not read, also holding keys: {}; drop --db to read every database)",
                list(&live.server.databases_not_read)
            ));
        }
        writeln!(out, "{line}")?;
    }
    writeln!(
        out,
        "  INFO keyspace estimate: {} keys, {} without expiry",
        group(t.estimated_keys),
        group(t.estimated_without_expiry)
    )?;
    writeln!(
        out,
        "  scanned {} keys in {:.2}s ({} commands): {} without expiry ({:.1}%), {} allowed or persistent by design, {} vanished mid-scan",
        group(t.keys_scanned),
        t.elapsed_ms as f64 / 1000.0,
        group(t.commands),
        group(t.without_expiry),
        t.without_expiry_pct,
        group(t.without_expiry_allowed),
        group(t.vanished),
    )?;
    if let (Some(b), Some(bw)) = (t.bytes, t.bytes_without_expiry) {
        writeln!(
            out,
            "  memory: {} total, {} without expiry",
            bytes(b),
            bytes(bw)
        )?;
    }
    if let Some(u) = t.unattributed_keys {
        writeln!(out, "  keys belonging to no known site: {}", group(u))?;
    }
    writeln!(out)?;
    if live.namespaces.is_empty() {
        writeln!(out, "  (no keys)")?;
        return Ok(());
    }
    let with_sites = live.sites.is_some();
    let with_db = {
        let mut dbs: Vec<i64> = live.namespaces.iter().map(|n| n.db).collect();
        dbs.sort_unstable();
        dbs.dedup();
        dbs.len() > 1
    };
    let memory = live.server.memory;
    let rows: Vec<&super::NamespaceReport> = live.namespaces.iter().take(MAX_ROWS).collect();
    let ns_w = rows
        .iter()
        .map(|n| term::escape(&n.namespace).chars().count())
        .max()
        .unwrap_or(9)
        .clamp(9, 48);
    let site_w = rows
        .iter()
        .map(|n| {
            n.site
                .as_deref()
                .map_or(1, |s| term::escape(s).chars().count())
        })
        .max()
        .unwrap_or(4)
        .clamp(4, 32);
    let mut header = format!("{:<ns_w$}", "NAMESPACE");
    if with_db {
        header.push_str(&format!(" {:>3}", "DB"));
    }
    if with_sites {
        header.push_str(&format!(" {:<site_w$}", "SITE"));
    }
    header.push_str(&format!(
        " {:<20} {:>9} {:>9} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "CLASS", "KEYS", "NO TTL", "%", "<1m", "1m-1h", "1h-1d", "1d-7d", ">7d"
    ));
    if memory {
        header.push_str(&format!(" {:>9}", "NO-TTL B"));
    }
    header.push_str("  EXAMPLE");
    writeln!(out, "{}", paint.bold(&header))?;
    for n in &rows {
        let mut line = format!("{:<ns_w$}", cut(&term::escape(&n.namespace), ns_w));
        if with_db {
            line.push_str(&format!(" {:>3}", n.db));
        }
        if with_sites {
            line.push_str(&format!(
                " {:<site_w$}",
                cut(&term::escape(n.site.as_deref().unwrap_or("-")), site_w)
            ));
        }
        let b = &n.ttl_buckets;
        line.push_str(&format!(
            " {:<20} {:>9} {:>9} {:>5.1}% {:>7} {:>7} {:>7} {:>7} {:>7}",
            if n.allowed && n.class != Class::PersistentByDesign {
                format!("{} (allowed)", n.class.as_str())
            } else {
                n.class.as_str().to_string()
            },
            group(n.keys),
            group(n.without_expiry),
            n.without_expiry_pct,
            group(b.under_1m),
            group(b.m1_h1),
            group(b.h1_d1),
            group(b.d1_d7),
            group(b.over_7d),
        ));
        if memory {
            line.push_str(&format!(
                " {:>9}",
                bytes(n.bytes_without_expiry.unwrap_or(0))
            ));
        }
        line.push_str("  ");
        line.push_str(&term::escape(
            n.examples.first().map(String::as_str).unwrap_or(""),
        ));
        let line = if n.violation {
            paint.red(&line)
        } else if n.class == Class::PersistentByDesign || n.allowed {
            paint.dim(&line)
        } else if n.without_expiry > 0 {
            paint.yellow(&line)
        } else {
            line
        };
        writeln!(out, "{line}")?;
    }
    if live.namespaces.len() > MAX_ROWS {
        writeln!(
            out,
            "… and {} more namespaces (see --format json)",
            live.namespaces.len() - MAX_ROWS
        )?;
    }
    Ok(())
}

fn cut(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        s.to_string()
    } else {
        let mut c: String = s.chars().take(w.saturating_sub(1)).collect();
        c.push('…');
        c
    }
}

pub use crate::report::group;

fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n}B")
    } else {
        format!("{v:.1}{}", UNITS[u])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis_audit::{NamespaceReport, namespace::Layout};

    #[test]
    fn table_renders_rows_and_totals() {
        let mut live = LiveReport::default();
        live.server.endpoint = "redis://127.0.0.1:6390".into();
        live.server.mode = "standalone".into();
        live.totals.keys_scanned = 1234;
        live.totals.without_expiry = 12;
        live.namespaces.push(NamespaceReport {
            namespace: "shop1:wp:options".into(),
            site: None,
            class: Class::Cache,
            layout: Layout::WordPress,
            endpoint: "redis://127.0.0.1:6390".into(),
            db: 0,
            keys: 12,
            without_expiry: 12,
            without_expiry_pct: 100.0,
            vanished: 0,
            bytes: None,
            bytes_without_expiry: None,
            ttl_buckets: Default::default(),
            types: None,
            examples: vec!["shop1:wp:options:alloptions".into()],
            allowed: false,
            violation: true,
            endpoint_db: String::new(),
        });
        let mut buf = Vec::new();
        write_human(&mut buf, &live, Paint(false)).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.contains("scanned 1,234 keys"), "{text}");
        assert!(text.contains("shop1:wp:options"), "{text}");
        assert!(text.contains("100.0%"), "{text}");
        assert!(text.contains("alloptions"), "{text}");
        assert_eq!(group(1_000_000), "1,000,000");
        assert_eq!(bytes(2048), "2.0KiB");
    }
}
