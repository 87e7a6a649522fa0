//! CMS recognition. Each CMS is a [`Detector`] in [`DETECTORS`]; a detector looks at a few
//! marker files in one directory and, when the directory is its CMS, reads the site's Redis
//! settings into a [`Site`]. This module also owns the hosting-root walk. Nothing here
//! executes PHP or JS, and nothing writes.

pub mod cmd;
pub mod collisions;
pub mod drupal;
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
    fn cms(&self) -> Cms;
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
pub fn walk_root(root: &Path, opts: &RootWalk, errors: &mut Vec<DetectError>) -> Vec<Site> {
    let mut sites = Vec::new();
    let mut visited: HashSet<PathBuf> = HashSet::new();
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
    walk(root, 0, opts, &mut visited, &mut sites, errors);
    sites.sort_by(|a, b| a.path.cmp(&b.path));
    sites
}

fn walk(
    dir: &Path,
    depth: usize,
    opts: &RootWalk,
    visited: &mut HashSet<PathBuf>,
    sites: &mut Vec<Site>,
    errors: &mut Vec<DetectError>,
) {
    match std::fs::canonicalize(dir) {
        Ok(real) => {
            if !visited.insert(real.clone()) {
                // Reached again through a symlink: either a loop or an alias of a tree
                // already reported. Only a link back into its own ancestors is a loop.
                if dir.starts_with(&real) || is_symlink_loop(dir, &real) {
                    errors.push(DetectError::new(
                        dir,
                        format!("symlink loop: leads back to {}", real.display()),
                    ));
                }
                return;
            }
        }
        Err(e) => {
            errors.push(DetectError::new(dir, describe_io(&e)));
            return;
        }
    }
    for detector in DETECTORS {
        if let Some(mut site) = detector.detect(dir, errors) {
            crate::lints::lint_common(&mut site);
            sites.push(site);
            return;
        }
    }
    if depth >= opts.max_depth {
        return;
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            errors.push(DetectError::new(dir, describe_io(&e)));
            return;
        }
    };
    let mut children: Vec<PathBuf> = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || SKIP_DIRS.contains(&name.as_ref()) {
            continue;
        }
        let path = entry.path();
        let is_dir = match entry.file_type() {
            Ok(t) if t.is_dir() => true,
            Ok(t) if t.is_symlink() => match std::fs::metadata(&path) {
                Ok(m) => m.is_dir(),
                Err(e) if e.raw_os_error() == Some(40) => {
                    // ELOOP: the link chain itself loops.
                    errors.push(DetectError::new(&path, "symlink loop"));
                    false
                }
                Err(_) => false, // dangling link: nothing to detect
            },
            _ => false,
        };
        if is_dir {
            children.push(path);
        }
    }
    children.sort();
    for child in children {
        walk(&child, depth + 1, opts, visited, sites, errors);
    }
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
