//! CMS recognition. Each CMS is a [`Detector`] in [`DETECTORS`]; a detector looks at a few
//! marker files in one directory and, when the directory is its CMS, reads the site's Redis
//! settings into a [`Site`]. This module also owns the hosting-root walk. Nothing here
//! executes PHP or JS, and nothing writes.

pub mod cmd;
pub mod collisions;
pub mod common;
pub mod drupal;
pub mod locate;
pub mod magento;
pub mod medusa;
pub mod wordpress;

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::model::{Cms, Site};

/// A problem reading one path. Detection goes on; the exit code reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectError {
    pub path: PathBuf,
    pub message: String,
}

impl DetectError {
    pub fn new(path: &Path, message: impl Into<String>) -> DetectError {
        DetectError {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }

    /// From an error whose message may already start with the file name (`fsutil` errors
    /// do): the name is kept once, in `path`.
    pub fn from_err(path: &Path, err: &anyhow::Error) -> DetectError {
        let text = format!("{err:#}");
        let prefix = format!("{}: ", path.display());
        let message = text.strip_prefix(&prefix).unwrap_or(&text).to_string();
        DetectError::new(path, message)
    }
}

/// Recognises one CMS.
pub trait Detector: Sync {
    /// `Some(site)` when `dir` is the root of a site of this CMS. Must be cheap when it is
    /// not: a few `stat`s, no directory walks. Problems reading the site's config files go
    /// to `errors`; the site is still returned with what could be read.
    fn detect(&self, dir: &Path, errors: &mut Vec<DetectError>) -> Option<Site>;
}

/// Order matters: more specific layouts first (a Magento tree may contain a `package.json`,
/// a Bedrock tree contains WordPress core under `web/wp`).
pub static DETECTORS: &[&dyn Detector] = &[
    &magento::Magento,
    &drupal::Drupal,
    &wordpress::WordPress,
    &medusa::Medusa,
];

/// Detect the site rooted at `dir`, or an `unknown` site.
pub fn detect_dir(dir: &Path, errors: &mut Vec<DetectError>) -> Site {
    for detector in DETECTORS {
        if let Some(mut site) = detector.detect(dir, errors) {
            crate::lints::lint_common(&mut site);
            return site;
        }
    }
    let mut site = Site::new(dir, Cms::Unknown, "none");
    site.supported = false;
    site.unsupported_reason = Some("no CMS recognised".to_string());
    site
}

/// Directories never descended into when looking for sites: bulk trees of code and data.
pub const SKIP_DIRS: &[&str] = &[
    "vendor",
    "node_modules",
    "wp-content",
    "wp-admin",
    "wp-includes",
    "core",
    "bower_components",
    "cache",
    "tmp",
    "logs",
    "log",
];

/// Options for the hosting-root walk.
#[derive(Debug, Clone)]
pub struct RootWalk {
    /// How many directory levels below the root may hold a site root (root itself is 0).
    pub max_depth: usize,
}

/// Find every site below `root`. Recognised site roots are not descended into. Hidden
/// directories and [`SKIP_DIRS`] are skipped. Symlinks to directories are followed (hosting
/// roots often link `current` to a release) with loop detection.
///
/// The walk goes level by level: the directories of one depth are examined in parallel
/// (detection reads and parses config files, which is the real cost), then merged in sorted
/// order, so the result does not depend on thread timing. A directory reached twice through
/// symlinks is examined once, under its first path in (depth, name) order.
pub fn walk_root(root: &Path, opts: &RootWalk, errors: &mut Vec<DetectError>) -> Vec<Site> {
    let mut sites = Vec::new();
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            errors.push(DetectError::new(root, "not a directory"));
            return sites;
        }
        Err(e) => {
            errors.push(DetectError::new(root, describe_io(&e)));
            return sites;
        }
    }
    let mut visited: HashSet<PathBuf> = HashSet::new();
    let mut level = vec![root.to_path_buf()];
    for depth in 0..=opts.max_depth {
        // Drop aliases and loops before any work is done on this level.
        let mut todo = Vec::with_capacity(level.len());
        for dir in level {
            match std::fs::canonicalize(&dir) {
                Ok(real) if visited.insert(real.clone()) => todo.push(dir),
                Ok(real) => {
                    // Reached again through a symlink: a loop when it leads back into its
                    // own ancestors, otherwise an alias of a tree already examined.
                    if dir.starts_with(&real) || is_symlink_loop(&dir, &real) {
                        errors.push(DetectError::new(
                            &dir,
                            format!("symlink loop: leads back to {}", real.display()),
                        ));
                    }
                }
                Err(e) => errors.push(DetectError::new(&dir, describe_io(&e))),
            }
        }
        let descend = depth < opts.max_depth;
        let mut next = Vec::new();
        for visit in parallel_map(&todo, |dir| examine(dir, descend)) {
            errors.extend(visit.errors);
            if visit.sites.is_empty() {
                next.extend(visit.children);
            } else {
                sites.extend(visit.sites);
            }
        }
        if next.is_empty() {
            break;
        }
        next.sort();
        level = next;
    }
    // Panel layouts can reach one site twice (ISPConfig links each domain to its webN).
    let mut roots: HashSet<PathBuf> = HashSet::new();
    sites.retain(|s| roots.insert(std::fs::canonicalize(&s.path).unwrap_or(s.path.clone())));
    sites.sort_by(|a, b| a.path.cmp(&b.path));
    sites
}

/// What examining one directory found.
struct Visit {
    sites: Vec<Site>,
    children: Vec<PathBuf>,
    errors: Vec<DetectError>,
}

/// Detect a site in `dir`; when there is none (and `descend`), list the subdirectories to
/// look at next. Panel and deploy layouts are asked of [`locate`].
fn examine(dir: &Path, descend: bool) -> Visit {
    let mut visit = Visit {
        sites: Vec::new(),
        children: Vec::new(),
        errors: Vec::new(),
    };
    if let Some(site) = detect_only(dir, &mut visit.errors) {
        if locate::nested_site_parent(&site.path) && descend {
            // cPanel addon domains live inside the main domain's public_html.
            let mut nested = Visit {
                sites: Vec::new(),
                children: Vec::new(),
                errors: Vec::new(),
            };
            list_children(&site.path, &mut nested);
            visit.errors.extend(nested.errors);
            for child in nested.children {
                visit.sites.extend(detect_only(&child, &mut visit.errors));
            }
        }
        visit.sites.insert(0, site);
        return visit;
    }
    if !descend {
        // A panel's per-domain directory at the depth limit: try its docroot once.
        for docroot in locate::leaf_docroots(dir) {
            visit.sites.extend(detect_only(&docroot, &mut visit.errors));
        }
        return visit;
    }
    list_children(dir, &mut visit);
    visit
}

/// The subdirectories of `dir` the walk looks at next, into `visit.children`.
fn list_children(dir: &Path, visit: &mut Visit) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            visit.errors.push(DetectError::new(dir, describe_io(&e)));
            return;
        }
    };
    let entries: Vec<_> = entries.flatten().collect();
    let names: Vec<String> = entries
        .iter()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let skips = locate::walk_skips(&names);
    for (entry, name) in entries.iter().zip(&names) {
        if name.starts_with('.')
            || SKIP_DIRS.contains(&name.as_str())
            || skips.contains(&name.as_str())
        {
            continue;
        }
        let path = entry.path();
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_dir() => true,
            Ok(t) if t.is_symlink() => match std::fs::metadata(&path) {
                Ok(m) => m.is_dir(),
                Err(e) if e.raw_os_error() == Some(40) => {
                    // ELOOP: the link chain itself loops.
                    visit.errors.push(DetectError::new(&path, "symlink loop"));
                    false
                }
                Err(_) => false, // dangling link: nothing to detect
            },
            _ => false,
        };
        if is_dir {
            visit.children.push(path);
        }
    }
}

/// The site rooted at `dir`, if any detector recognises it.
fn detect_only(dir: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
    for detector in DETECTORS {
        if let Some(mut site) = detector.detect(dir, errors) {
            crate::lints::lint_common(&mut site);
            return Some(site);
        }
    }
    None
}

/// `f` over `items` on up to `available_parallelism` threads; results in input order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("detector thread panicked"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// True when `dir` is reached through a symlink whose target is one of `dir`'s own ancestors.
fn is_symlink_loop(dir: &Path, real: &Path) -> bool {
    std::fs::canonicalize(dir.parent().unwrap_or(dir)).is_ok_and(|parent| parent.starts_with(real))
}

/// A short, precise description of an I/O error.
pub fn describe_io(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ if e.raw_os_error() == Some(40) => "symlink loop (too many levels of links)".to_string(),
        _ => e.to_string(),
    }
}
