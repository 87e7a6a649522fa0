//! The read-only keyspace walk of one node/database: `SCAN` on one connection (in its own
//! thread, a few pages ahead) and pipelined `PTTL` (plus `MEMORY USAGE` with `--memory`,
//! `TYPE` with `--types`) on a second one, so the two round trips overlap. Keys are grouped
//! into namespaces as they arrive; nothing per key is kept, so memory does not grow with the
//! keyspace. Also: the `--max-rate` pacer, `--sample` and the `INFO`/cluster topology reads.
//!
//! Commands sent here: SCAN, PTTL, MEMORY USAGE, TYPE, INFO, CLUSTER SHARDS, CLUSTER
//! NODES. Nothing else.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::mpsc::sync_channel;
use std::time::{Duration, Instant};

use redis::Value;

use super::connect::Endpoint;
use super::namespace::{Attribution, Class, Classifier, Layout, SiteMatcher};
use super::wire::{Reply, Wire, pack};
use crate::model::Cms;

/// How to walk one target.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub count: u32,
    /// Audit about this many keys, starting at a random cursor.
    pub sample: Option<u64>,
    pub memory: bool,
    pub types: bool,
    pub examples: usize,
    /// Beyond this many namespaces per target, new ones are counted under `(other)`.
    pub max_namespaces: usize,
}

/// Caps commands per second across every connection (`--max-rate`).
#[derive(Debug)]
pub struct Limiter {
    rate: Option<f64>,
    state: Mutex<(Instant, u64)>,
}

impl Limiter {
    pub fn new(rate: Option<u32>) -> Limiter {
        Limiter {
            rate: rate.map(f64::from),
            state: Mutex::new((Instant::now(), 0)),
        }
    }

    /// How many per-key commands to put in one pipeline: a tenth of a second's worth when
    /// rate-limited, so the server sees a steady trickle rather than bursts.
    pub fn batch(&self, default: usize) -> usize {
        match self.rate {
            Some(r) => ((r / 10.0) as usize).clamp(1, default),
            None => default,
        }
    }

    /// Account for `n` commands, sleeping until they are due.
    pub fn acquire(&self, n: u64) {
        let Some(rate) = self.rate else { return };
        let due = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let due = st.0 + Duration::from_secs_f64(st.1 as f64 / rate);
            st.1 += n;
            due
        };
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
    }
}

fn bucket(pttl_ms: i64) -> usize {
    match pttl_ms {
        ..0 => 5,
        0..60_000 => 0,
        60_000..3_600_000 => 1,
        3_600_000..86_400_000 => 2,
        86_400_000..604_800_000 => 3,
        _ => 4,
    }
}

/// What one namespace collected.
#[derive(Debug, Clone)]
pub struct NsAcc {
    pub class: Class,
    pub layout: Layout,
    /// Index into the target's site claims.
    pub site: Option<usize>,
    pub keys: u64,
    pub without_expiry: u64,
    pub vanished: u64,
    pub bytes: u64,
    pub bytes_without_expiry: u64,
    pub buckets: [u64; 6],
    /// Escaped example keys, and whether each has a TTL (keys without one are preferred).
    pub examples: Vec<(String, bool)>,
    pub types: BTreeMap<String, u64>,
}

impl NsAcc {
    fn new(a: Attribution, site: Option<usize>) -> NsAcc {
        NsAcc {
            class: a.class,
            layout: a.layout,
            site,
            keys: 0,
            without_expiry: 0,
            vanished: 0,
            bytes: 0,
            bytes_without_expiry: 0,
            buckets: [0; 6],
            examples: Vec::new(),
            types: BTreeMap::new(),
        }
    }

    /// Fold `other` (the same namespace from another node) into `self`.
    pub fn merge(&mut self, other: &NsAcc, max_examples: usize) {
        self.keys += other.keys;
        self.without_expiry += other.without_expiry;
        self.vanished += other.vanished;
        self.bytes += other.bytes;
        self.bytes_without_expiry += other.bytes_without_expiry;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a += b;
        }
        for (t, n) in &other.types {
            *self.types.entry(t.clone()).or_default() += n;
        }
        for ex in &other.examples {
            if self.examples.len() < max_examples {
                self.examples.push(ex.clone());
            }
        }
    }
}

/// The result of walking one node/database.
#[derive(Debug, Default)]
pub struct TargetScan {
    pub keys_scanned: u64,
    pub vanished: u64,
    pub commands: u64,
    pub namespaces: HashMap<String, NsAcc>,
    /// Set when the walk stopped early; what was collected until then is kept.
    pub error: Option<String>,
}

/// One SCAN reply's keys, packed into one buffer (no allocation per key).
#[derive(Debug, Default)]
pub struct Page {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Page {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    fn key(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.data[start..self.ends[i]]
    }

    fn push(&mut self, key: &[u8]) {
        self.data.extend_from_slice(key);
        self.ends.push(self.data.len());
    }

    fn truncate(&mut self, n: usize) {
        if n < self.len() {
            let end = if n == 0 { 0 } else { self.ends[n - 1] };
            self.data.truncate(end);
            self.ends.truncate(n);
        }
    }

    /// Keys `n..` as a new page; `self` keeps `..n`.
    fn split_off(&mut self, n: usize) -> Page {
        let mut rest = Page::default();
        for i in n..self.len() {
            rest.push(self.key(i));
        }
        self.truncate(n);
        rest
    }

    fn keys(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len()).map(|i| self.key(i))
    }
}

/// Walk `db` on `ep`. `estimate` (keys in the db) is used for sampling and progress.
#[allow(clippy::too_many_arguments)]
pub fn scan_target(
    ep: &Endpoint,
    db: i64,
    estimate: u64,
    opts: &ScanOptions,
    classifier: &Classifier,
    sites: &SiteMatcher,
    limiter: &Limiter,
    progress: &indicatif::ProgressBar,
) -> TargetScan {
    let mut out = TargetScan::default();
    let mut con = match Wire::connect(ep, db) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let mut scan_con = match Wire::connect(ep, db) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let sample = opts.sample.filter(|&n| n < estimate);
    let count = opts.count.max(1).to_string();
    let (tx, rx) = sync_channel::<Result<Page, String>>(4);
    let scan_commands = std::thread::scope(|s| {
        let scanner = s.spawn(move || {
            let mut cursor: u64 = match sample {
                Some(_) => random_cursor(estimate),
                None => 0,
            };
            let started_at_zero = cursor == 0;
            let mut wrapped = false;
            let mut taken: u64 = 0;
            let mut commands: u64 = 0;
            let mut buf = Vec::with_capacity(64);
            loop {
                limiter.acquire(1);
                commands += 1;
                buf.clear();
                pack(
                    &mut buf,
                    &[
                        b"SCAN",
                        cursor.to_string().as_bytes(),
                        b"COUNT",
                        count.as_bytes(),
                    ],
                );
                let (next, mut page) = match scan_page(&mut scan_con, ep, &buf) {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Err(format!("SCAN failed: {e}")));
                        return commands;
                    }
                };
                let mut done = false;
                if let Some(n) = sample {
                    let room = n.saturating_sub(taken) as usize;
                    if page.len() >= room {
                        page.truncate(room);
                        done = true;
                    }
                    taken += page.len() as u64;
                }
                if !page.is_empty() && tx.send(Ok(page)).is_err() {
                    return commands; // the consumer stopped
                }
                if done {
                    return commands;
                }
                cursor = next;
                if cursor == 0 {
                    // A sample that started mid-table continues from the start once.
                    if sample.is_some() && !started_at_zero && !wrapped {
                        wrapped = true;
                        continue;
                    }
                    return commands;
                }
            }
        });
        consume(
            &rx, &mut con, ep, opts, classifier, sites, limiter, progress, &mut out,
        );
        drop(rx);
        scanner.join().unwrap_or(0)
    });
    out.commands += scan_commands;
    out
}

/// Send one packed SCAN and read `[cursor, [keys…]]`.
fn scan_page(con: &mut Wire, ep: &Endpoint, cmd: &[u8]) -> Result<(u64, Page), String> {
    con.send(ep, cmd)?;
    con.begin(ep)?;
    match con.read(ep)? {
        Reply::Array(2) => {}
        Reply::Error(e) => return Err(server_error(e, "SCAN")),
        other => return Err(format!("unexpected SCAN reply {other:?}")),
    }
    let cursor = match con.read(ep)? {
        Reply::Bulk(b) => std::str::from_utf8(b)
            .ok()
            .and_then(|c| c.parse().ok())
            .ok_or("bad SCAN cursor")?,
        other => return Err(format!("unexpected SCAN cursor {other:?}")),
    };
    let n = match con.read(ep)? {
        Reply::Array(n) => n,
        other => return Err(format!("unexpected SCAN keys {other:?}")),
    };
    let mut page = Page {
        data: Vec::with_capacity(n.min(4096) * 32),
        ends: Vec::with_capacity(n.min(4096)),
    };
    for _ in 0..n {
        match con.read(ep)? {
            Reply::Bulk(k) => page.push(k),
            Reply::Status(k) => page.push(k.as_bytes()),
            other => return Err(format!("unexpected SCAN key {other:?}")),
        }
    }
    Ok((cursor, page))
}

/// Pipelined per-key commands, two batches deep: batch N+1 is sent before the replies of
/// batch N are read, so the server always has work queued while rcfg classifies keys (the
/// server never blocks on unread replies; it buffers them).
#[allow(clippy::too_many_arguments)]
fn consume(
    rx: &std::sync::mpsc::Receiver<Result<Page, String>>,
    con: &mut Wire,
    ep: &Endpoint,
    opts: &ScanOptions,
    classifier: &Classifier,
    sites: &SiteMatcher,
    limiter: &Limiter,
    progress: &indicatif::ProgressBar,
    out: &mut TargetScan,
) {
    use std::sync::mpsc::TryRecvError;
    let per_key = 1 + usize::from(opts.memory) + usize::from(opts.types);
    let batch = limiter.batch(4096);
    let mut buf: Vec<u8> = Vec::with_capacity(256 * 1024);
    let mut ns = String::with_capacity(128);
    let mut pending: Option<Vec<Page>> = None;
    let mut carry: Option<Page> = None;
    let mut closed = false;
    loop {
        // Gather the next batch: block only when nothing is in flight.
        let mut pages: Vec<Page> = carry.take().into_iter().collect();
        let mut n_keys: usize = pages.iter().map(Page::len).sum();
        while !closed && out.error.is_none() && n_keys < batch {
            let page = if n_keys == 0 && pending.is_none() {
                match rx.recv() {
                    Ok(p) => p,
                    Err(_) => {
                        closed = true;
                        break;
                    }
                }
            } else {
                match rx.try_recv() {
                    Ok(p) => p,
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        closed = true;
                        break;
                    }
                }
            };
            match page {
                Ok(p) => {
                    n_keys += p.len();
                    pages.push(p);
                }
                Err(e) => out.error = Some(e),
            }
        }
        if n_keys > batch
            && let Some(last) = pages.last_mut()
        {
            let keep = last.len() - (n_keys - batch);
            carry = Some(last.split_off(keep));
            n_keys = batch;
        }
        if n_keys > 0 && out.error.is_none() {
            buf.clear();
            for key in pages.iter().flat_map(Page::keys) {
                pack(&mut buf, &[b"PTTL", key]);
                if opts.memory {
                    pack(&mut buf, &[b"MEMORY", b"USAGE", key]);
                }
                if opts.types {
                    pack(&mut buf, &[b"TYPE", key]);
                }
            }
            let n = n_keys * per_key;
            limiter.acquire(n as u64);
            out.commands += n as u64;
            if let Err(e) = con.send(ep, &buf) {
                out.error = Some(format!("PTTL pipeline failed: {e}"));
            }
        }
        if let Some(prev) = pending.take() {
            match receive(con, ep, &prev, opts, classifier, sites, &mut ns, out) {
                Ok(()) => progress.inc(prev.iter().map(Page::len).sum::<usize>() as u64),
                Err(e) => out.error = Some(e),
            }
        }
        if out.error.is_some() {
            return;
        }
        if n_keys > 0 {
            pending = Some(pages);
        }
        if closed && carry.is_none() && pending.is_none() {
            return;
        }
    }
}

/// Read the replies for `pages` (sent earlier) and record each key. After a bad reply the
/// rest are still read (the connection stays in step) and the first problem is returned.
#[allow(clippy::too_many_arguments)]
fn receive(
    con: &mut Wire,
    ep: &Endpoint,
    pages: &[Page],
    opts: &ScanOptions,
    classifier: &Classifier,
    sites: &SiteMatcher,
    ns: &mut String,
    out: &mut TargetScan,
) -> Result<(), String> {
    let mut first_err: Option<String> = None;
    let mut ty = String::new();
    con.begin(ep)?;
    for key in pages.iter().flat_map(Page::keys) {
        let pttl = match con.read(ep)? {
            Reply::Int(v) => Ok(v),
            Reply::Error(e) => Err(server_error(e, "PTTL")),
            other => Err(format!("unexpected PTTL reply {other:?}")),
        };
        let bytes = if opts.memory {
            match con.read(ep)? {
                Reply::Int(v) => Ok(v.max(0) as u64),
                Reply::Nil => Ok(0),
                Reply::Error(e) => Err(server_error(e, "MEMORY USAGE")),
                other => Err(format!("unexpected MEMORY USAGE reply {other:?}")),
            }
        } else {
            Ok(0)
        };
        let typed = if opts.types {
            ty.clear();
            match con.read(ep)? {
                Reply::Status(t) => {
                    ty.push_str(t);
                    Ok(true)
                }
                Reply::Error(e) => Err(server_error(e, "TYPE")),
                other => Err(format!("unexpected TYPE reply {other:?}")),
            }
        } else {
            Ok(false)
        };
        if first_err.is_some() {
            continue;
        }
        match (pttl, bytes, typed) {
            (Ok(p), Ok(b), Ok(t)) => {
                record(
                    key,
                    p,
                    b,
                    t.then_some(ty.as_str()),
                    opts,
                    classifier,
                    sites,
                    ns,
                    out,
                );
            }
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => first_err = Some(e),
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[allow(clippy::too_many_arguments)]
fn record(
    key: &[u8],
    pttl: i64,
    bytes: u64,
    ty: Option<&str>,
    opts: &ScanOptions,
    classifier: &Classifier,
    sites: &SiteMatcher,
    ns: &mut String,
    out: &mut TargetScan,
) {
    out.keys_scanned += 1;
    let mut attribution = classifier.classify(key, ns);
    let mut site = None;
    if !sites.is_empty()
        && let Some((i, plen)) = sites.site_for(key)
    {
        site = Some(i);
        if plen > 0
            && sites.claims[i].cms == Cms::WordPress
            && attribution.layout != Layout::WordPress
            && let Some(a) = super::namespace::wordpress_after_prefix(
                &key[..plen],
                &key[plen..],
                classifier.delimiter,
                ns,
            )
        {
            attribution = a;
        }
    }
    let acc = match out.namespaces.get_mut(ns.as_str()) {
        Some(acc) => acc,
        None => {
            let name = if out.namespaces.len() >= opts.max_namespaces {
                "(other)".to_string()
            } else {
                ns.clone()
            };
            out.namespaces
                .entry(name)
                .or_insert_with(|| NsAcc::new(attribution, site))
        }
    };
    if pttl == -2 {
        acc.vanished += 1;
        out.vanished += 1;
        return;
    }
    acc.keys += 1;
    acc.buckets[bucket(pttl)] += 1;
    acc.bytes += bytes;
    if pttl == -1 {
        acc.without_expiry += 1;
        acc.bytes_without_expiry += bytes;
    }
    if let Some(t) = ty {
        match acc.types.get_mut(t) {
            Some(n) => *n += 1,
            None => {
                acc.types.insert(t.to_string(), 1);
            }
        }
    }
    let has_ttl = pttl >= 0;
    if acc.examples.len() < opts.examples {
        acc.examples
            .push((super::namespace::escape(key, 120), has_ttl));
    } else if !has_ttl && let Some(slot) = acc.examples.iter_mut().find(|(_, t)| *t) {
        *slot = (super::namespace::escape(key, 120), false);
    }
}

fn server_error(reply: &str, what: &str) -> String {
    let (code, detail) = reply.split_once(' ').unwrap_or((reply, ""));
    if code == "NOPERM" {
        format!("permission denied by ACL for {what}: {detail}")
    } else {
        format!("{what} failed: {reply}")
    }
}

/// A random cursor inside the hash table (a power of two at least as large as the keyspace).
/// SCAN visits buckets in reverse-binary order of the cursor, and bucket order follows the
/// key's hash, so the keys from any cursor onwards are an unbiased sample.
fn random_cursor(estimate: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(estimate);
    let size = estimate.max(1).next_power_of_two();
    h.finish() & (size - 1)
}

/// Per-database `keys`/`expires` from `INFO keyspace`.
pub fn parse_keyspace(info: &str) -> BTreeMap<i64, (u64, u64)> {
    let mut out = BTreeMap::new();
    for line in info.lines() {
        let Some((name, fields)) = line.trim().split_once(':') else {
            continue;
        };
        let Some(db) = name.strip_prefix("db").and_then(|d| d.parse::<i64>().ok()) else {
            continue;
        };
        let mut keys = 0;
        let mut expires = 0;
        for f in fields.split(',') {
            match f.split_once('=') {
                Some(("keys", v)) => keys = v.parse().unwrap_or(0),
                Some(("expires", v)) => expires = v.parse().unwrap_or(0),
                _ => {}
            }
        }
        out.insert(db, (keys, expires));
    }
    out
}

/// `INFO <section>` as text.
pub fn info(con: &mut Wire, ep: &Endpoint, section: &str) -> Result<String, String> {
    con.query_text(ep, &[b"INFO", section.as_bytes()])
}

/// The primaries of a cluster, as (host, port): `CLUSTER SHARDS` (Redis 7), else `CLUSTER
/// NODES`. Replicas and failed nodes are left out, so nothing is counted twice.
pub fn cluster_primaries(
    con: &mut Wire,
    ep: &Endpoint,
    tls: bool,
) -> Result<Vec<(String, u16)>, String> {
    // An older server (or an ACL without cluster|shards) falls through to NODES.
    if let Ok(v) = con.query_value(ep, &[b"CLUSTER", b"SHARDS"])? {
        let primaries = parse_shards(&v, tls);
        if !primaries.is_empty() {
            return Ok(primaries);
        }
    }
    let text = con
        .query_text(ep, &[b"CLUSTER", b"NODES"])
        .map_err(|e| format!("CLUSTER SHARDS and CLUSTER NODES both failed: {e}"))?;
    let primaries = parse_nodes(&text);
    if primaries.is_empty() {
        return Err("the cluster reports no reachable primary".to_string());
    }
    Ok(primaries)
}

/// Flat `[k, v, k, v…]` arrays (RESP2) or maps (RESP3) as pairs.
fn pairs(v: &Value) -> Vec<(String, &Value)> {
    let text = |k: &Value| match k {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        _ => String::new(),
    };
    match v {
        Value::Array(items) => items
            .chunks(2)
            .filter(|c| c.len() == 2)
            .map(|c| (text(&c[0]), &c[1]))
            .collect(),
        Value::Map(items) => items.iter().map(|(k, v)| (text(k), v)).collect(),
        _ => Vec::new(),
    }
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::BulkString(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(i) => Some(i.to_string()),
        _ => None,
    }
}

fn parse_shards(v: &Value, tls: bool) -> Vec<(String, u16)> {
    let Value::Array(shards) = v else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for shard in shards {
        for (k, nodes) in pairs(shard) {
            if k != "nodes" {
                continue;
            }
            let Value::Array(nodes) = nodes else { continue };
            for node in nodes {
                let f: HashMap<String, String> = pairs(node)
                    .into_iter()
                    .filter_map(|(k, v)| value_text(v).map(|t| (k, t)))
                    .collect();
                if f.get("role").map(String::as_str) != Some("master")
                    || f.get("health").is_some_and(|h| h != "online")
                {
                    continue;
                }
                let host = f
                    .get("endpoint")
                    .filter(|e| !e.is_empty() && e.as_str() != "?")
                    .or_else(|| f.get("ip"))
                    .cloned();
                let port = if tls {
                    f.get("tls-port")
                } else {
                    f.get("port")
                }
                .and_then(|p| p.parse::<u16>().ok());
                if let (Some(h), Some(p)) = (host, port) {
                    out.push((h, p));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn parse_nodes(text: &str) -> Vec<(String, u16)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() < 3 {
            continue;
        }
        let flags = fields[2];
        if !flags.split(',').any(|f| f == "master")
            || flags
                .split(',')
                .any(|f| f == "fail" || f == "noaddr" || f == "handshake")
        {
            continue;
        }
        let addr = fields[1].split('@').next().unwrap_or_default();
        let addr = addr.split(',').next().unwrap_or_default();
        if let Some((h, p)) = addr.rsplit_once(':')
            && let Ok(port) = p.parse()
        {
            out.push((h.to_string(), port));
        }
    }
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_buckets_cover_every_value() {
        assert_eq!(bucket(-1), 5);
        assert_eq!(bucket(0), 0);
        assert_eq!(bucket(59_999), 0);
        assert_eq!(bucket(60_000), 1);
        assert_eq!(bucket(3_600_000), 2);
        assert_eq!(bucket(86_400_000), 3);
        assert_eq!(bucket(604_800_000), 4);
    }

    #[test]
    fn keyspace_and_cluster_nodes_parse() {
        let ks = parse_keyspace(
            "# Keyspace\r\ndb0:keys=10,expires=2,avg_ttl=5\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n",
        );
        assert_eq!(ks.get(&0), Some(&(10, 2)));
        assert_eq!(ks.get(&3), Some(&(1, 0)));
        let nodes = "a 127.0.0.1:7001@17001 myself,master - 0 0 1 connected 0-5460\n\
                     b 127.0.0.1:7002@17002 master - 0 0 2 connected 5461-10922\n\
                     c 127.0.0.1:7004@17004 slave a 0 0 1 connected\n\
                     d 127.0.0.1:7003@17003 master,fail - 0 0 3 connected\n";
        assert_eq!(
            parse_nodes(nodes),
            vec![
                ("127.0.0.1".to_string(), 7001),
                ("127.0.0.1".to_string(), 7002)
            ]
        );
    }

    fn opts() -> ScanOptions {
        ScanOptions {
            count: 1000,
            sample: None,
            memory: false,
            types: false,
            examples: 2,
            max_namespaces: 4,
        }
    }

    #[test]
    fn keys_are_attributed_to_sites_by_prefix() {
        use super::super::namespace::SiteClaim;
        let sites = SiteMatcher::new(vec![
            SiteClaim {
                path: "/srv/shop1".into(),
                cms: Cms::WordPress,
                prefix: Some(b"shop1:".to_vec()),
            },
            SiteClaim {
                path: "/srv/m2".into(),
                cms: Cms::Magento2,
                prefix: Some(b"a1b_".to_vec()),
            },
        ]);
        let c = Classifier::default();
        let mut out = TargetScan::default();
        let mut ns = String::new();
        let o = opts();
        record(
            b"shop1:wp:options:alloptions",
            -1,
            0,
            None,
            &o,
            &c,
            &sites,
            &mut ns,
            &mut out,
        );
        record(
            b"shop1:wp:my_plugin:42",
            5000,
            0,
            None,
            &o,
            &c,
            &sites,
            &mut ns,
            &mut out,
        );
        record(
            b"zc:k:a1b_CONFIG",
            -1,
            0,
            None,
            &o,
            &c,
            &sites,
            &mut ns,
            &mut out,
        );
        record(
            b"stranger:x:1",
            -1,
            0,
            None,
            &o,
            &c,
            &sites,
            &mut ns,
            &mut out,
        );
        let site = |n: &str| out.namespaces[n].site.map(|i| sites.claims[i].path.clone());
        assert_eq!(site("shop1:wp:options").as_deref(), Some("/srv/shop1"));
        // A plugin group unknown to the layout rules still groups by blog and group.
        assert_eq!(site("shop1:wp:my_plugin").as_deref(), Some("/srv/shop1"));
        assert_eq!(
            out.namespaces["shop1:wp:my_plugin"].layout,
            Layout::WordPress
        );
        assert_eq!(site("zc:k:a1b_").as_deref(), Some("/srv/m2"));
        assert_eq!(site("stranger:x"), None);
        // Past max_namespaces, new namespaces share `(other)`.
        record(b"late:y:1", -1, 0, None, &o, &c, &sites, &mut ns, &mut out);
        record(b"later:z:1", -2, 0, None, &o, &c, &sites, &mut ns, &mut out);
        assert_eq!(out.namespaces["(other)"].keys, 1);
        assert_eq!(out.namespaces["(other)"].vanished, 1);
        assert_eq!(out.keys_scanned, 6);
    }

    #[test]
    fn pages_split_and_truncate() {
        let mut p = Page::default();
        for k in [&b"a"[..], b"bb", b"", b"\xffc"] {
            p.push(k);
        }
        assert_eq!(p.len(), 4);
        let rest = p.split_off(1);
        assert_eq!(p.keys().collect::<Vec<_>>(), vec![&b"a"[..]]);
        assert_eq!(
            rest.keys().collect::<Vec<_>>(),
            vec![&b"bb"[..], b"", b"\xffc"]
        );
        let mut r = rest;
        r.truncate(1);
        assert_eq!(r.keys().collect::<Vec<_>>(), vec![&b"bb"[..]]);
        r.truncate(0);
        assert!(r.is_empty());
    }

    #[test]
    fn limiter_paces_commands() {
        let l = Limiter::new(Some(1000));
        assert_eq!(l.batch(4096), 100);
        let t = Instant::now();
        l.acquire(100);
        l.acquire(100);
        l.acquire(1);
        assert!(
            t.elapsed() >= Duration::from_millis(190),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(Limiter::new(None).batch(4096), 4096);
    }
}
