//! rcfg's state directory: where `apply` keeps, per site, one directory per run holding the
//! pre-apply bytes of every file it touched and a manifest that doubles as the crash journal.
//!
//! Layout (directories 0700, files 0600, nothing ever overwritten):
//!
//! ```text
//! <state>/sites/<name>-<hash of the site root>/
//!     lock                     flock(2): one rcfg at a time per site
//!     runs/<RFC 3339 time>/    one per apply or undo, sorted by time
//!         manifest.json        site root, files, sha256 before/after, state, times
//!         before/<rel path>    the exact bytes each file had before (unless --no-backup)
//!         raced/<rel path>     bytes of an edit that landed while rcfg was writing
//! ```
//!
//! The default is `/var/lib/rcfg` for root and `$XDG_STATE_HOME/rcfg` (else
//! `~/.local/state/rcfg`) for anyone else: never inside a docroot.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Default state directory when rcfg runs as root.
pub const ROOT_STATE_DIR: &str = "/var/lib/rcfg";

/// Version of `manifest.json`.
pub const MANIFEST_FORMAT: u32 = 1;

/// Hex sha256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The state directory to use: the flag (or `RCFG_STATE_DIR`), else `rcfg.toml`, else the
/// per-user default.
pub fn resolve_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os("RCFG_STATE_DIR").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    if rustix::process::geteuid().is_root() {
        return Ok(PathBuf::from(ROOT_STATE_DIR));
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("rcfg"));
    }
    match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/state/rcfg")),
        None => bail!("no state directory: HOME is not set; give --state-dir DIR"),
    }
}

/// Create `dir` (and parents) with mode 0700; an existing directory is checked, not changed,
/// except that one rcfg created is kept private.
fn private_dir(dir: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("{}: cannot create state directory", dir.display()))?;
    let meta = fs::symlink_metadata(dir)
        .with_context(|| format!("{}: cannot read state directory", dir.display()))?;
    if !meta.is_dir() {
        bail!("{}: state directory is not a directory", dir.display());
    }
    Ok(())
}

/// Write `bytes` to a new file (never an existing one) with mode 0600 and fsync it.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        private_dir(parent)?;
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("{}: cannot create", path.display()))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// fsync a directory, so the renames and creations inside it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("{}: cannot sync directory", dir.display()))
}

/// Where a run stands. `Prepared` is the journal's "in flight": backups and intent are on
/// disk, renames may have started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    Prepared,
    Committed,
    RolledBack,
    /// Rolled back except for files someone else changed meanwhile (named in the output).
    RolledBackWithConflicts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunKind {
    Apply,
    Undo,
}

/// One file of a run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileEntry {
    /// The real file written (a symlink in the site is resolved to its target).
    pub path: PathBuf,
    /// The path as the user sees it (inside the site, maybe a symlink).
    pub shown: PathBuf,
    /// sha256 before; `None` when the run created the file.
    pub before_sha256: Option<String>,
    /// sha256 after; `None` when the run removed the file (undo of a created file).
    pub after_sha256: Option<String>,
    /// Pre-run bytes, relative to the run directory; `None` with --no-backup once committed.
    pub backup: Option<PathBuf>,
    /// The temp names rcfg uses next to `path` (cleaned up by recovery).
    pub temps: Vec<PathBuf>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub kind: RunKind,
    /// For an undo: the run it undoes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<String>,
    pub site_root: PathBuf,
    pub started: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    pub state: RunState,
    pub rcfg_version: String,
    pub files: Vec<FileEntry>,
}

/// The state of one site, locked for this process.
#[derive(Debug)]
pub struct SiteState {
    pub dir: PathBuf,
    /// Canonical site root.
    pub root: PathBuf,
    _lock: fs::File,
}

/// A run directory and its manifest.
#[derive(Debug, Clone)]
pub struct Run {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Run {
    pub fn id(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// Replace `manifest.json` atomically (temp file, fsync, rename, fsync dir).
    pub fn save(&self) -> Result<()> {
        let json = serde_json::to_vec_pretty(&self.manifest)?;
        let tmp = self.dir.join("manifest.json.new");
        let _ = fs::remove_file(&tmp);
        write_private(&tmp, &json)?;
        fs::rename(&tmp, self.dir.join("manifest.json"))
            .with_context(|| format!("{}: cannot write manifest", self.dir.display()))?;
        sync_dir(&self.dir)
    }

    /// Mark the run finished in `state`.
    pub fn finish(&mut self, state: RunState) -> Result<()> {
        self.manifest.state = state;
        self.manifest.finished = Some(now());
        self.save()
    }
}

pub fn now() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

/// A readable, unique directory name for a site root: its last component and a hash.
fn site_key(root: &Path) -> String {
    let name: String = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "root".into())
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(48)
        .collect();
    let hash = sha256(root.as_os_str().as_encoded_bytes());
    format!("{name}-{}", &hash[..16])
}

impl SiteState {
    /// Open (creating it if needed) the state of the site at `site_root` and take its lock.
    /// Fails if another rcfg holds it.
    pub fn open(state_dir: &Path, site_root: &Path) -> Result<SiteState> {
        let root = fs::canonicalize(site_root)
            .with_context(|| format!("{}: cannot resolve site root", site_root.display()))?;
        let dir = state_dir.join("sites").join(site_key(&root));
        private_dir(&dir.join("runs"))?;
        {
            use std::os::unix::fs::MetadataExt;
            let m = fs::symlink_metadata(&dir)?;
            if m.uid() != rustix::process::geteuid().as_raw() || m.mode() & 0o077 != 0 {
                bail!(
                    "{}: state directory is not private (must be owned by this user, mode 0700); nothing was written",
                    dir.display()
                );
            }
        }
        let lock_path = dir.join("lock");
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&lock_path)
            .with_context(|| format!("{}: cannot open lock", lock_path.display()))?;
        if rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_err() {
            bail!(
                "{}: another rcfg is writing this site right now (lock {}); nothing was written",
                root.display(),
                lock_path.display()
            );
        }
        Ok(SiteState {
            dir,
            root,
            _lock: lock,
        })
    }

    /// Every run of this site that has a manifest, oldest first. Run directories without one
    /// (a crash before the intent was recorded, so before any rename) are removed.
    pub fn runs(&self) -> Result<Vec<Run>> {
        let runs_dir = self.dir.join("runs");
        let mut out = Vec::new();
        let mut entries: Vec<_> = fs::read_dir(&runs_dir)
            .with_context(|| format!("{}: cannot list", runs_dir.display()))?
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for dir in entries {
            let mf = dir.join("manifest.json");
            match fs::read(&mf) {
                Ok(bytes) => {
                    let manifest: Manifest = serde_json::from_slice(&bytes)
                        .with_context(|| format!("{}: unreadable manifest", mf.display()))?;
                    out.push(Run { dir, manifest });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let _ = fs::remove_dir_all(&dir);
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("{}: cannot read", mf.display()));
                }
            }
        }
        Ok(out)
    }

    /// A fresh run directory (never reusing an existing one).
    pub fn new_run(&self, kind: RunKind, undoes: Option<String>) -> Result<Run> {
        let runs_dir = self.dir.join("runs");
        for attempt in 0..100 {
            let started = now();
            let name = if attempt == 0 {
                started.clone()
            } else {
                format!("{started}-{attempt}")
            };
            let dir = runs_dir.join(&name);
            match fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => {
                    return Ok(Run {
                        dir,
                        manifest: Manifest {
                            format: MANIFEST_FORMAT,
                            kind,
                            undoes,
                            site_root: self.root.clone(),
                            started,
                            finished: None,
                            state: RunState::Prepared,
                            rcfg_version: env!("CARGO_PKG_VERSION").to_string(),
                            files: Vec::new(),
                        },
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("{}: cannot create", dir.display()));
                }
            }
        }
        bail!("{}: cannot create a new run directory", runs_dir.display())
    }
}

/// Whether the site has an interrupted run waiting for recovery. Read-only (no lock, no
/// directory created): for `--dry-run`/`--check`, which write nothing.
pub fn has_interrupted(state_dir: &Path, site_root: &Path) -> bool {
    let Ok(root) = fs::canonicalize(site_root) else {
        return false;
    };
    let runs = state_dir.join("sites").join(site_key(&root)).join("runs");
    let Ok(list) = fs::read_dir(runs) else {
        return false;
    };
    list.flatten().any(|e| {
        fs::read(e.path().join("manifest.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
            .is_some_and(|m| m.state == RunState::Prepared)
    })
}

/// Every site state below `state_dir` whose site root lies below `root` (for `--undo --root`).
pub fn site_roots_below(state_dir: &Path, root: &Path) -> Result<Vec<PathBuf>> {
    let root =
        fs::canonicalize(root).with_context(|| format!("{}: cannot resolve", root.display()))?;
    let sites = state_dir.join("sites");
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(&sites) else {
        return Ok(out);
    };
    for e in entries.flatten() {
        let runs = e.path().join("runs");
        let Ok(list) = fs::read_dir(&runs) else {
            continue;
        };
        let mut names: Vec<_> = list.flatten().map(|r| r.path()).collect();
        names.sort();
        if let Some(last) = names.iter().rev().find_map(|d| {
            fs::read(d.join("manifest.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<Manifest>(&b).ok())
        }) && last.site_root.starts_with(&root)
            && !out.contains(&last.site_root)
        {
            out.push(last.site_root);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn runs_are_private_unique_and_listed_in_order() {
        let state = tempfile::tempdir().unwrap();
        let site = tempfile::tempdir().unwrap();
        let s = SiteState::open(state.path(), site.path()).unwrap();
        assert!(
            SiteState::open(state.path(), site.path()).is_err(),
            "locked"
        );
        let mut a = s.new_run(RunKind::Apply, None).unwrap();
        a.save().unwrap();
        let b = s.new_run(RunKind::Apply, None).unwrap();
        b.save().unwrap();
        let orphan = s.new_run(RunKind::Apply, None).unwrap();
        assert_ne!(a.dir, b.dir);
        a.finish(RunState::Committed).unwrap();
        let runs = s.runs().unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].manifest.state, RunState::Committed);
        assert!(!orphan.dir.exists(), "a run without manifest is dropped");
        for d in [&s.dir, &a.dir] {
            assert_eq!(fs::metadata(d).unwrap().permissions().mode() & 0o777, 0o700);
        }
        let mf = fs::metadata(a.dir.join("manifest.json")).unwrap();
        assert_eq!(mf.permissions().mode() & 0o777, 0o600);
        drop(s);
        let roots = site_roots_below(state.path(), site.path().parent().unwrap()).unwrap();
        assert_eq!(roots, vec![fs::canonicalize(site.path()).unwrap()]);
    }
}
