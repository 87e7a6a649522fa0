//! Crash recovery: a run still `prepared` in a site's state directory means an apply (or
//! undo) was interrupted: killed, crashed, or its rollback failed. Before anything else
//! touches the site, [`recover`] rolls every such run back, by renames: a file that holds
//! the run's new bytes gets its original back (the original inode kept aside under a temp
//! name, else a copy of the backup renamed into place); a file that holds neither the old
//! nor the new bytes was changed by someone else since, and is left alone and named.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::faults;
use super::meta::Meta;
use super::state::{FileEntry, Run, RunState, SiteState, sha256};
use super::write::{open_regular, place, read_bounded};

/// What recovery did, for the user.
#[derive(Debug, Default)]
pub struct Recovery {
    /// One line per interrupted run.
    pub messages: Vec<String>,
}

/// sha256 of the file at `path`, `None` when it does not exist.
fn hash_of(path: &Path) -> Result<Option<String>> {
    match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("{}: cannot read", path.display())),
        Ok(_) => {
            let f = open_regular(path, path)?;
            Ok(Some(sha256(&read_bounded(&f, path)?)))
        }
    }
}

/// Roll one file of an interrupted run back. `Ok(false)`: left alone (changed by someone).
fn restore(run: &Run, f: &FileEntry, i: usize) -> Result<bool> {
    faults::at(&format!("recover:{i}"))?;
    let now = hash_of(&f.path)?;
    if now == f.before_sha256 {
        return Ok(true);
    }
    if now != f.after_sha256 {
        return Ok(false);
    }
    let Some(before) = &f.before_sha256 else {
        // The run created this file: remove it.
        fs::remove_file(&f.path).with_context(|| format!("{}: cannot remove", f.path.display()))?;
        return Ok(true);
    };
    // The original inode, if a temp name still holds it.
    for t in &f.temps {
        if hash_of(t).ok().flatten().as_ref() == Some(before) {
            fs::rename(t, &f.path)
                .with_context(|| format!("{}: cannot restore", f.path.display()))?;
            return Ok(true);
        }
    }
    let Some(backup) = &f.backup else {
        bail!(
            "{}: cannot restore: its backup is gone from {}",
            f.path.display(),
            run.dir.display()
        );
    };
    let bytes = fs::read(run.dir.join(backup))
        .with_context(|| format!("{}: cannot read backup", f.path.display()))?;
    if &sha256(&bytes) != before {
        bail!(
            "{}: backup in {} does not match the manifest",
            f.path.display(),
            run.dir.display()
        );
    }
    let meta = match fs::File::open(&f.path) {
        Ok(cur) => Meta::of(&cur, &f.path)?,
        Err(_) => Meta::for_new_in(f.path.parent().unwrap_or(Path::new("/")))?,
    };
    let tmp = f
        .temps
        .first()
        .cloned()
        .unwrap_or_else(|| f.path.with_extension("rcfg-tmp"));
    let _ = fs::remove_file(&tmp);
    place(&f.path, &tmp, &bytes, &meta)?;
    Ok(true)
}

/// Roll back every interrupted run of this site. An error means the site could not be
/// brought back to a known state; the caller must not write to it.
pub fn recover(state: &SiteState) -> Result<Recovery> {
    let mut out = Recovery::default();
    for mut run in state.runs()? {
        if run.manifest.state != RunState::Prepared {
            continue;
        }
        let mut restored = Vec::new();
        let mut conflicts = Vec::new();
        for (i, f) in run.manifest.files.iter().enumerate().rev() {
            match restore(&run, f, i) {
                Ok(true) => restored.push(f.shown.display().to_string()),
                Ok(false) => conflicts.push(f.shown.display().to_string()),
                Err(e) => {
                    return Err(e.context(format!(
                        "{}: cannot finish rolling back the interrupted rcfg run {}; nothing else was written",
                        state.root.display(),
                        run.dir.display()
                    )));
                }
            }
        }
        for f in &run.manifest.files {
            for t in &f.temps {
                let _ = fs::remove_file(t);
            }
        }
        restored.reverse();
        let what = format!("{:?}", run.manifest.kind).to_lowercase();
        if conflicts.is_empty() {
            run.finish(RunState::RolledBack)?;
            out.messages.push(format!(
                "{}: recovered an interrupted rcfg {what} of {}: rolled back, {} as before",
                state.root.display(),
                run.manifest.started,
                restored.join(", ")
            ));
        } else {
            run.finish(RunState::RolledBackWithConflicts)?;
            bail!(
                "{}: an interrupted rcfg {what} of {} was rolled back except {}, changed by someone else since; left as is (backups in {}); nothing was written",
                state.root.display(),
                run.manifest.started,
                conflicts.join(", "),
                run.dir.display()
            );
        }
    }
    Ok(out)
}
