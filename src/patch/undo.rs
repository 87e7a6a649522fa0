//! `rcfg apply --undo`: put back the pre-apply bytes of the last apply of a site that has
//! not been undone yet, as one journaled write (so an undo is itself all or nothing, and a
//! file changed since rcfg wrote it stops the undo before anything is restored).

use std::fs;

use anyhow::{Context, Result, bail};

use super::state::{RunKind, RunState, SiteState, sha256};
use super::write::{Change, WriteOptions, Written, open_regular, read_bounded, write_changes};

/// What an undo did.
#[derive(Debug)]
pub struct Undone {
    /// The run undone (its directory name: the time it started).
    pub run: String,
    pub written: Written,
}

/// Undo the last apply of the site whose state is `state`.
pub fn undo(state: &SiteState) -> Result<Undone> {
    let runs = state.runs()?;
    let undone: Vec<String> = runs
        .iter()
        .filter(|r| r.manifest.kind == RunKind::Undo && r.manifest.state == RunState::Committed)
        .filter_map(|r| r.manifest.undoes.clone())
        .collect();
    let Some(last) = runs.iter().rev().find(|r| {
        r.manifest.kind == RunKind::Apply
            && r.manifest.state == RunState::Committed
            && !undone.contains(&r.id())
    }) else {
        bail!(
            "{}: no apply of this site to undo (state in {})",
            state.root.display(),
            state.dir.display()
        );
    };
    let mut changes = Vec::new();
    let mut conflicts = Vec::new();
    for f in &last.manifest.files {
        let shown = f.path.clone();
        let now = match fs::symlink_metadata(&f.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            _ => Some(read_bounded(&open_regular(&f.path, &shown)?, &shown)?),
        };
        if now.as_deref().map(sha256) != f.after_sha256 {
            conflicts.push(shown.display().to_string());
            continue;
        }
        let after = match (&f.before_sha256, &f.backup) {
            (None, _) => None,
            (Some(want), Some(b)) => {
                let bytes = fs::read(last.dir.join(b)).with_context(|| {
                    format!(
                        "{}: cannot read its backup in {}",
                        shown.display(),
                        last.dir.display()
                    )
                })?;
                if &sha256(&bytes) != want {
                    bail!(
                        "{}: backup in {} does not match the manifest; nothing was restored",
                        shown.display(),
                        last.dir.display()
                    );
                }
                Some(bytes)
            }
            (Some(_), None) => bail!(
                "{}: the apply of {} kept no backup (--no-backup); nothing was restored",
                shown.display(),
                last.manifest.started
            ),
        };
        changes.push(Change {
            shown,
            before: now,
            after,
        });
    }
    if !conflicts.is_empty() {
        bail!(
            "{}: changed since rcfg wrote it on {}; nothing was restored (the backups are in {})",
            conflicts.join(", "),
            last.manifest.started,
            last.dir.display()
        );
    }
    let written = write_changes(
        changes,
        state,
        WriteOptions { backup: true },
        RunKind::Undo,
        Some(last.id()),
    )?;
    Ok(Undone {
        run: last.manifest.started.clone(),
        written,
    })
}
