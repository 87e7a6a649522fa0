//! The parallel walk and the prefilter. Every PHP/JS file under PATH is read once and
//! searched with ONE combined byte regex (call names, `define(`, `rcfg-ignore:`); only files
//! with a candidate call are analysed later. Contents are not kept: what leaves a worker is
//! paths, `define()` sites and errors. VCS dirs, binary files, oversize files and
//! `node_modules` packages that do not talk to Redis are skipped (and counted). The walk
//! stays inside PATH: a symlink is followed only when it resolves inside PATH, unless
//! `--follow`; a file reached by several links (or hard links) is read once, by the
//! (device, inode) of the opened file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use globset::GlobSet;
use regex::bytes::Regex;

use super::cmd::AuditError;
use super::php::DefineSite;
use super::rules::{Lang, RuleSet};
use crate::fsutil;
use crate::model::Cms;

pub const VCS_DIRS: &[&str] = &[".git", ".svn", ".hg", ".bzr", "_darcs", "CVS"];

/// Redis clients whose dependents are scanned inside `node_modules`.
pub const REDIS_CLIENTS: &[&str] = &["ioredis", "redis", "@redis/client", "bullmq", "iovalkey"];

pub fn lang_of(path: &Path) -> Option<Lang> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "php" | "inc" | "module" | "install" | "theme" | "profile" | "engine" | "phtml" => {
            Some(Lang::Php)
        }
        "js" | "mjs" | "cjs" | "jsx" | "ts" | "mts" | "cts" | "tsx" => Some(Lang::Js),
        _ => None,
    }
}

/// The one prefilter regex over every rule's call names (as the rules spell them and in
/// lowercase), `define(` and `rcfg-ignore:`. It is literal-led, so the regex engine's SIMD
/// literal search does most of the work; a method name only makes a file a candidate when
/// `->` or `.` precedes it.
pub struct Prefilter {
    pub re: Regex,
    functions: HashSet<Vec<u8>>,
    /// Per method matcher: its language, `requires` regex and `site-cms`.
    method_requires: Vec<(Lang, Option<Regex>, Option<String>)>,
}

pub fn prefilter(rules: &RuleSet) -> Prefilter {
    let mut names = rules.spellings(true);
    let funcs = rules.spellings(false);
    names.extend(funcs.iter().cloned());
    names.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    names.dedup();
    let alts: Vec<String> = names.iter().map(|s| regex::escape(s)).collect();
    let re = Regex::new(&format!(
        r"(?-u)\b(?:{})\s*\(|\bdefine\s*\(|rcfg-ignore:",
        alts.join("|")
    ))
    .expect("valid prefilter");
    Prefilter {
        re,
        functions: funcs
            .iter()
            .map(|f| f.to_ascii_lowercase().into_bytes())
            .collect(),
        method_requires: rules
            .matchers
            .iter()
            .filter(|m| m.style == super::rules::Style::Method)
            .map(|m| {
                let req = m.requires.as_ref().map(|r| {
                    Regex::new(r.as_str()).expect("a valid str regex is a valid bytes regex")
                });
                (m.lang, req, m.site_cms.clone())
            })
            .collect(),
    }
}

#[derive(Debug, PartialEq)]
enum Hit {
    Call,
    Method,
    Define,
    Suppress,
    Nothing,
}

impl Prefilter {
    fn classify(&self, hay: &[u8], start: usize, m: &[u8]) -> Hit {
        if m.starts_with(b"rcfg-ignore:") {
            return Hit::Suppress;
        }
        let name_len = m
            .iter()
            .position(|c| c.is_ascii_whitespace() || *c == b'(')
            .unwrap_or(m.len());
        let name = &m[..name_len];
        if name == b"define" {
            return Hit::Define;
        }
        if self.functions.contains(&name.to_ascii_lowercase()) {
            return Hit::Call;
        }
        // A method name: only after `->`/`?->` (PHP) or `.`/`?.` (JS).
        let mut i = start;
        while i > 0 && hay[i - 1].is_ascii_whitespace() {
            i -= 1;
        }
        match i.checked_sub(1).map(|j| hay[j]) {
            Some(b'.') => Hit::Method,
            Some(b'>') if i >= 2 && hay[i - 2] == b'-' => Hit::Method,
            _ => Hit::Nothing,
        }
    }

    /// Whether some method rule of `lang` can apply to a file: its `requires` regex matches
    /// the text, or the file belongs to a site of the rule's `site-cms`.
    fn method_rule_applies(&self, lang: Lang, hay: &[u8], site: Option<Cms>) -> bool {
        self.method_requires
            .iter()
            .filter(|(l, _, _)| *l == lang)
            .any(|(_, req, cms)| {
                cms.as_deref()
                    .is_some_and(|c| site.is_some_and(|s| s.as_str() == c))
                    || req.as_ref().is_none_or(|r| r.is_match(hay))
            })
    }
}

pub struct WalkOpts {
    pub root: PathBuf,
    pub exclude: GlobSet,
    pub include_node_modules: bool,
    pub max_filesize: u64,
    /// Follow symlinks out of `root` too.
    pub follow: bool,
    pub threads: usize,
    pub prefilter: Prefilter,
    /// Detected sites (root, CMS), longest root first.
    pub sites: Vec<(PathBuf, Cms)>,
}

#[derive(Default)]
pub struct WalkOut {
    pub candidates: Vec<(PathBuf, Lang)>,
    pub defines: Vec<(String, DefineSite)>,
    pub php_files: Vec<PathBuf>,
    pub suppress_files: Vec<PathBuf>,
    pub errors: Vec<AuditError>,
    pub files_scanned: u64,
    pub files_too_large: u64,
    pub files_binary: u64,
    pub node_modules_skipped: u64,
    pub dangling_symlinks: u64,
}

enum Msg {
    Candidate(PathBuf, Lang),
    Php(PathBuf),
    Define(String, DefineSite),
    Suppress(PathBuf),
    Error(AuditError),
}

/// A worker's messages, sent to the collector in batches (one channel send per thousands of
/// files rather than per file).
struct Batch {
    tx: mpsc::Sender<Vec<Msg>>,
    buf: Vec<Msg>,
}

impl Batch {
    fn send(&mut self, m: Msg) {
        self.buf.push(m);
        if self.buf.len() >= 4096 {
            let _ = self.tx.send(std::mem::take(&mut self.buf));
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            let _ = self.tx.send(std::mem::take(&mut self.buf));
        }
    }
}

#[derive(Default)]
struct Counters {
    scanned: AtomicU64,
    too_large: AtomicU64,
    binary: AtomicU64,
    nm_skipped: AtomicU64,
    dangling: AtomicU64,
}

/// True when a `node_modules` package directory should be scanned.
pub fn package_talks_to_redis(dir: &Path, full_name: &str) -> bool {
    if full_name.starts_with("@medusajs/") && full_name.contains("redis") {
        return true;
    }
    let Ok(text) = fsutil::read_text(&dir.join("package.json"), fsutil::MAX_CONFIG_BYTES) else {
        return false;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    ["dependencies", "peerDependencies", "optionalDependencies"]
        .iter()
        .filter_map(|k| json.get(k).and_then(|d| d.as_object()))
        .any(|deps| REDIS_CLIENTS.iter().any(|c| deps.contains_key(*c)))
}

/// A symlink whose target does not exist (common in packaged trees): skipped, not an error.
fn is_dangling_link(err: &ignore::Error) -> bool {
    fn parts(err: &ignore::Error) -> (Option<&Path>, Option<std::io::ErrorKind>) {
        match err {
            ignore::Error::WithPath { path, err } => (Some(path.as_path()), parts(err).1),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                parts(err)
            }
            ignore::Error::Io(e) => (None, Some(e.kind())),
            _ => (None, None),
        }
    }
    match parts(err) {
        (Some(path), Some(std::io::ErrorKind::NotFound)) => {
            std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
        }
        _ => false,
    }
}

fn io_error_target(err: &ignore::Error, root: &Path) -> (String, String) {
    match err {
        ignore::Error::WithPath { path, err } => {
            let (_, msg) = io_error_target(err, root);
            (path.display().to_string(), msg)
        }
        ignore::Error::WithDepth { err, .. } => io_error_target(err, root),
        ignore::Error::Loop { ancestor, child } => (
            child.display().to_string(),
            format!("symlink loop: leads back to {}", ancestor.display()),
        ),
        ignore::Error::Io(e) => (root.display().to_string(), crate::cms::describe_io(e)),
        other => (root.display().to_string(), other.to_string()),
    }
}

pub fn walk(opts: WalkOpts) -> WalkOut {
    let counters = Arc::new(Counters::default());
    let (tx, rx) = mpsc::channel::<Vec<Msg>>();
    let root = opts.root.clone();
    let exclude = Arc::new(opts.exclude);
    let include_nm = opts.include_node_modules;
    let follow = opts.follow;
    // Where PATH really is, to tell links that stay inside from links that leave.
    let real_root = std::fs::canonicalize(&root).unwrap_or_else(|_| root.clone());
    let seen: Arc<Mutex<HashSet<(u64, u64)>>> = Arc::default();

    let mut builder = ignore::WalkBuilder::new(&root);
    builder
        .standard_filters(false)
        .hidden(false)
        .follow_links(true)
        .threads(opts.threads);
    {
        let root = root.clone();
        let exclude = exclude.clone();
        let counters = counters.clone();
        builder.filter_entry(move |e| {
            if e.depth() == 0 {
                return true;
            }
            if !follow
                && e.path_is_symlink()
                && !std::fs::canonicalize(e.path()).is_ok_and(|t| t.starts_with(&real_root))
            {
                // Leads out of PATH (or nowhere: a dangling link is counted by the walk).
                return std::fs::metadata(e.path()).is_err();
            }
            let name = e.file_name().to_string_lossy();
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if is_dir && VCS_DIRS.contains(&name.as_ref()) {
                return false;
            }
            if let Ok(rel) = e.path().strip_prefix(&root)
                && !exclude.is_empty()
                && exclude.is_match(rel)
            {
                return false;
            }
            if is_dir && !include_nm {
                let parent = e.path().parent();
                let pname = parent
                    .and_then(Path::file_name)
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let full = if pname == "node_modules" {
                    if name.starts_with('@') || name == ".bin" {
                        return name != ".bin";
                    }
                    Some(name.to_string())
                } else if pname.starts_with('@')
                    && parent
                        .and_then(Path::parent)
                        .and_then(Path::file_name)
                        .is_some_and(|g| g == "node_modules")
                {
                    Some(format!("{pname}/{name}"))
                } else {
                    None
                };
                if let Some(full) = full
                    && !package_talks_to_redis(e.path(), &full)
                {
                    counters.nm_skipped.fetch_add(1, Ordering::Relaxed);
                    return false;
                }
            }
            true
        });
    }
    let walker = builder.build_parallel();
    let prefilter = &opts.prefilter;
    let sites = &opts.sites;
    let max = opts.max_filesize;
    std::thread::scope(|s| {
        let collector = s.spawn(move || {
            let mut out = WalkOut::default();
            for msg in rx.into_iter().flatten() {
                match msg {
                    Msg::Candidate(p, l) => out.candidates.push((p, l)),
                    Msg::Php(p) => out.php_files.push(p),
                    Msg::Define(n, d) => out.defines.push((n, d)),
                    Msg::Suppress(p) => out.suppress_files.push(p),
                    Msg::Error(e) => out.errors.push(e),
                }
            }
            out
        });
        walker.run(|| {
            let mut tx = Batch {
                tx: tx.clone(),
                buf: Vec::new(),
            };
            let counters = counters.clone();
            let root = root.clone();
            let seen = seen.clone();
            let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
            Box::new(move |res| {
                let entry = match res {
                    Ok(e) => e,
                    Err(err) => {
                        if is_dangling_link(&err) {
                            counters.dangling.fetch_add(1, Ordering::Relaxed);
                            return ignore::WalkState::Continue;
                        }
                        let (target, message) = io_error_target(&err, &root);
                        tx.send(Msg::Error(AuditError { target, message }));
                        return ignore::WalkState::Continue;
                    }
                };
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    return ignore::WalkState::Continue;
                }
                let path = entry.path();
                let Some(lang) = lang_of(path) else {
                    return ignore::WalkState::Continue;
                };
                // Listed as a regular file (that is the check before opening): refuse a
                // link swapped in since; through a link, check the target before opening.
                let links = if entry.path_is_symlink() {
                    fsutil::Links::Follow
                } else {
                    fsutil::Links::RefuseListedFile
                };
                let max = if max == 0 { u64::MAX } else { max };
                match fsutil::read_bounded_into(path, max, links, &mut buf) {
                    Ok(id) => {
                        if !seen.lock().expect("seen-set lock").insert(id) {
                            // Already read through another link.
                            return ignore::WalkState::Continue;
                        }
                    }
                    Err(fsutil::ReadError {
                        kind: fsutil::ReadErrorKind::TooLarge { .. },
                        ..
                    }) => {
                        counters.too_large.fetch_add(1, Ordering::Relaxed);
                        return ignore::WalkState::Continue;
                    }
                    Err(e) => {
                        tx.send(Msg::Error(AuditError {
                            target: path.display().to_string(),
                            message: e.reason(),
                        }));
                        return ignore::WalkState::Continue;
                    }
                }
                if buf.capacity() > 4 * 1024 * 1024 && buf.len() < 1024 * 1024 {
                    // Do not keep a huge buffer around after one big file.
                    buf.shrink_to(64 * 1024);
                }
                counters.scanned.fetch_add(1, Ordering::Relaxed);
                if lang == Lang::Php {
                    tx.send(Msg::Php(path.to_path_buf()));
                }
                let head = &buf[..buf.len().min(8192)];
                if memchr(0, head) {
                    counters.binary.fetch_add(1, Ordering::Relaxed);
                    return ignore::WalkState::Continue;
                }
                let (mut call, mut method, mut define, mut suppress) = (false, false, false, false);
                for m in prefilter.re.find_iter(&buf) {
                    match prefilter.classify(&buf, m.start(), m.as_bytes()) {
                        Hit::Call => call = true,
                        Hit::Method => method = true,
                        Hit::Define => define = true,
                        Hit::Suppress => suppress = true,
                        Hit::Nothing => {}
                    }
                    if call && suppress && (define || lang == Lang::Js) {
                        break;
                    }
                }
                if !call && method {
                    let site = sites
                        .iter()
                        .find(|(root, _)| path.starts_with(root))
                        .map(|(_, c)| *c);
                    call = prefilter.method_rule_applies(lang, &buf, site);
                }
                if call {
                    tx.send(Msg::Candidate(path.to_path_buf(), lang));
                }
                if suppress {
                    tx.send(Msg::Suppress(path.to_path_buf()));
                }
                if define && lang == Lang::Php {
                    let text = String::from_utf8_lossy(&buf);
                    for (name, site) in extract_defines(&text, &path.display().to_string()) {
                        tx.send(Msg::Define(name, site));
                    }
                }
                ignore::WalkState::Continue
            })
        });
        drop(tx);
        let mut out = collector.join().expect("collector thread");
        out.files_scanned = counters.scanned.load(Ordering::Relaxed);
        out.files_too_large = counters.too_large.load(Ordering::Relaxed);
        out.files_binary = counters.binary.load(Ordering::Relaxed);
        out.node_modules_skipped = counters.nm_skipped.load(Ordering::Relaxed);
        out.dangling_symlinks = counters.dangling.load(Ordering::Relaxed);
        out
    })
}

fn memchr(needle: u8, hay: &[u8]) -> bool {
    hay.contains(&needle)
}

/// `define('NAME', value)` sites in a PHP file's text (value kept as source text).
pub fn extract_defines(text: &str, display: &str) -> Vec<(String, DefineSite)> {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        regex::Regex::new(r#"(?i)\bdefine\s*\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]\s*,"#)
            .expect("valid")
    });
    let mut out = Vec::new();
    for caps in re.captures_iter(text) {
        let whole = caps.get(0).expect("match");
        let Some(args) = super::analyze::split_args(&text[whole.end()..]) else {
            continue;
        };
        let Some(value) = args.first() else { continue };
        let line = text[..whole.start()].matches('\n').count() + 1;
        out.push((
            caps[1].to_string(),
            DefineSite {
                value: value.clone(),
                display: display.to_string(),
                line,
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(src: &str) -> Vec<Hit> {
        let p = prefilter(&RuleSet::builtin());
        let b = src.as_bytes();
        p.re.find_iter(b)
            .map(|m| p.classify(b, m.start(), m.as_bytes()))
            .collect()
    }

    #[test]
    fn prefilter_wants_method_names_after_an_arrow_or_a_dot() {
        assert_eq!(hits("$this->cache->save($d, 'id');"), vec![Hit::Method]);
        assert_eq!(hits("redis\n  .hset(k, 'f', 1)"), vec![Hit::Method]);
        assert_eq!(hits("$obj?->set($a, $b)"), vec![Hit::Method]);
        assert_eq!(
            hits("function set($a) {} save($x);"),
            vec![Hit::Nothing, Hit::Nothing]
        );
        assert_eq!(hits("wp_cache_set( 'k', $v );"), vec![Hit::Call]);
        assert_eq!(
            hits("Wp_Cache_Set('k', 1); reset(); isset($x); $offset(1);"),
            vec![]
        );
        assert_eq!(
            hits("define( 'X', 1 ); // rcfg-ignore: a b"),
            vec![Hit::Define, Hit::Suppress]
        );
        assert_eq!(
            hits("$redis->hSet('h', 'f', 1); $r->HSET('h')"),
            vec![Hit::Method]
        );
    }
}
