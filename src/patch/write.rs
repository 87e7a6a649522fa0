//! Writing a [`Plan`] safely: every target is checked first (unchanged since it was read,
//! directory writable), every new content is written to a temp file in the target's own
//! directory, and only then are the temp files renamed over the originals, keeping their
//! permissions. A backup of each original is kept as `<file>.rcfg.bak` unless disabled. If
//! anything fails before the renames, nothing has changed; if a rename fails, the files
//! already replaced are restored.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::{Patch, Plan};

/// Suffix of backup files (`wp-config.php` → `wp-config.php.rcfg.bak`).
pub const BACKUP_SUFFIX: &str = ".rcfg.bak";

#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    pub backup: bool,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<PathBuf>,
    pub backups: Vec<PathBuf>,
}

pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(BACKUP_SUFFIX);
    path.with_file_name(name)
}

/// Check that `patch.path` still holds exactly `patch.before` (or still does not exist).
fn verify_unchanged(patch: &Patch) -> Result<()> {
    let now = crate::fsutil::read_bounded(
        &patch.path,
        crate::fsutil::MAX_CONFIG_BYTES,
        crate::fsutil::Links::Follow,
    );
    match (&patch.before, now) {
        (Some(before), Ok(now)) if now == before.as_bytes() => Ok(()),
        (Some(_), Ok(_)) => bail!(
            "{}: changed on disk after rcfg read it; nothing was written — run rcfg apply again",
            patch.path.display()
        ),
        (Some(_), Err(e)) => {
            Err(e).with_context(|| format!("{}: cannot re-read", patch.path.display()))
        }
        (None, Ok(_)) => bail!(
            "{}: appeared on disk after rcfg planned to create it; nothing was written",
            patch.path.display()
        ),
        (None, Err(e)) if e.is_not_found() => Ok(()),
        (None, Err(e)) => Err(e).with_context(|| format!("{}: cannot check", patch.path.display())),
    }
}

struct Staged<'a> {
    patch: &'a Patch,
    temp: tempfile::NamedTempFile,
    /// The real file behind a symlink, which is what gets replaced.
    target: PathBuf,
}

/// Apply every changing patch of `plan`, all or nothing.
pub fn write_plan(plan: &Plan, opts: WriteOptions) -> Result<Written> {
    let patches: Vec<&Patch> = plan.changed().collect();
    // 1. Verify and stage everything; no original is touched yet.
    let mut staged = Vec::new();
    for patch in &patches {
        verify_unchanged(patch)?;
        let target = if patch.before.is_some() {
            fs::canonicalize(&patch.path)
                .with_context(|| format!("{}: cannot resolve", patch.path.display()))?
        } else {
            patch.path.clone()
        };
        let dir = target
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(".rcfg-")
            .tempfile_in(dir)
            .with_context(|| {
                format!(
                    "{}: cannot write in {} (nothing was written)",
                    patch.path.display(),
                    dir.display()
                )
            })?;
        temp.write_all(patch.after.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .with_context(|| format!("{}: cannot write temp file", patch.path.display()))?;
        let perms = match fs::metadata(&target) {
            Ok(m) => m.permissions(),
            Err(_) => {
                use std::os::unix::fs::PermissionsExt;
                fs::Permissions::from_mode(0o644)
            }
        };
        fs::set_permissions(temp.path(), perms)
            .with_context(|| format!("{}: cannot set permissions", patch.path.display()))?;
        if patch.before.is_some() && fs::metadata(&target).is_ok_and(|m| m.permissions().readonly())
        {
            bail!(
                "{}: file is read-only; nothing was written",
                patch.path.display()
            );
        }
        staged.push(Staged {
            patch,
            temp,
            target,
        });
    }
    // 2. Backups (copies, so the originals stay in place until the rename).
    let mut written = Written::default();
    if opts.backup {
        for s in &staged {
            if s.patch.before.is_some() {
                let b = backup_path(&s.target);
                fs::copy(&s.target, &b).with_context(|| {
                    format!(
                        "{}: cannot write backup {}",
                        s.patch.path.display(),
                        b.display()
                    )
                })?;
                written.backups.push(b);
            }
        }
    }
    // 3. Renames. On failure, restore what was already replaced.
    let mut done: Vec<(PathBuf, Option<String>)> = Vec::new();
    for s in staged {
        let target = s.target.clone();
        if let Err(e) = s.temp.persist(&target) {
            for (path, before) in done.iter().rev() {
                match before {
                    Some(text) => {
                        let _ = fs::write(path, text);
                    }
                    None => {
                        let _ = fs::remove_file(path);
                    }
                }
            }
            return Err(e.error).with_context(|| {
                format!(
                    "{}: cannot replace; files of this site were restored",
                    s.patch.path.display()
                )
            });
        }
        done.push((target, s.patch.before.clone()));
        written.files.push(s.patch.path.clone());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_keep_permissions_and_backups() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("wp-config.php");
        fs::write(&f, "old\n").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
        let mut plan = Plan::new(dir.path());
        plan.patches.push(Patch::edit(
            dir.path(),
            "wp-config.php",
            "old\n".into(),
            "new\n".into(),
        ));
        plan.patches
            .push(Patch::create(dir.path(), "new.php", "<?php\n".into()));
        let w = write_plan(&plan, WriteOptions { backup: true }).unwrap();
        assert_eq!(fs::read_to_string(&f).unwrap(), "new\n");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(fs::read_to_string(backup_path(&f)).unwrap(), "old\n");
        assert_eq!(w.files.len(), 2);
        assert!(dir.path().join("new.php").exists());
    }

    #[test]
    fn a_file_changed_on_disk_stops_everything() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.php");
        let b = dir.path().join("b.php");
        fs::write(&a, "a\n").unwrap();
        fs::write(&b, "b changed\n").unwrap();
        let mut plan = Plan::new(dir.path());
        plan.patches
            .push(Patch::edit(dir.path(), "a.php", "a\n".into(), "A\n".into()));
        plan.patches
            .push(Patch::edit(dir.path(), "b.php", "b\n".into(), "B\n".into()));
        let err = write_plan(&plan, WriteOptions { backup: false })
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("b.php") && err.contains("changed on disk"),
            "{err}"
        );
        assert_eq!(fs::read_to_string(&a).unwrap(), "a\n");
        assert_eq!(fs::read_to_string(&b).unwrap(), "b changed\n");
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with(".rcfg-"))
            .collect();
        assert!(leftovers.is_empty(), "temp files are cleaned up");
    }
}
