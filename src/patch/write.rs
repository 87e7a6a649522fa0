//! Writing a site's changes all or nothing, journaled, keeping every file's metadata.
//!
//! 1. **Verify** (nothing touched yet): each target is a regular file (a symlink is resolved
//!    and its target edited), still holds exactly the bytes planned from, and its owner,
//!    group, mode and xattrs can be reproduced by this process.
//! 2. **Journal**: a run directory in the state dir gets the pre-apply bytes of every file
//!    (0600) and a manifest in state `prepared` (intent, sha256 before/after, temp names),
//!    all fsynced, before the first rename.
//! 3. **Stage**: each new content goes to a temp file created 0600 next to its target,
//!    fsynced, then given the target's owner, group, mode and xattrs.
//! 4. **Swap**: per file, re-verify, then `renameat2(RENAME_EXCHANGE)` the temp with the
//!    target and check that what was swapped out is the very inode and bytes verified
//!    (else swap back: the other edit stays, the site is rolled back, the error names the
//!    file). Where exchange is unsupported: hard link the original aside, rename, re-check.
//!    The original stays reachable under a temp name until commit, so rollback is a rename.
//! 5. **Commit**: fsync the directories, remove the temp names, mark the run `committed`.
//!
//! A crash anywhere leaves the run `prepared`; [`super::journal::recover`] rolls it back.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::faults;
use super::meta::Meta;
use super::state::{FileEntry, Run, RunKind, RunState, SiteState, sha256, sync_dir, write_private};
use super::{Patch, Plan};
use crate::fsutil::MAX_CONFIG_BYTES;

#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Keep the pre-apply bytes in the state dir after success (`--no-backup`: only until
    /// the run is committed, for crash recovery).
    pub backup: bool,
}

/// One file change in bytes: `before` `None` = the file must not exist yet; `after`
/// `None` = remove the file (only an undo of a created file does that).
#[derive(Debug, Clone)]
pub struct Change {
    /// The path as the user sees it (may be a symlink inside the site).
    pub shown: PathBuf,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
}

impl From<&Patch> for Change {
    fn from(p: &Patch) -> Change {
        Change {
            shown: p.path.clone(),
            before: p.before.as_ref().map(|b| b.as_bytes().to_vec()),
            after: Some(p.after.as_bytes().to_vec()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Wrote,
    Created,
    Removed,
}

#[derive(Debug, Clone)]
pub struct WrittenFile {
    pub shown: PathBuf,
    /// The real file (differs from `shown` when `shown` is a symlink).
    pub target: PathBuf,
    pub action: Action,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Written {
    pub files: Vec<WrittenFile>,
    /// Backup copies kept in the state dir.
    pub backups: Vec<PathBuf>,
    /// The run directory (manifest and backups).
    pub run: Option<PathBuf>,
}

/// Where rcfg before 0.2 put backups (`<file>.rcfg.bak`, next to the file). It writes none
/// there any more; tests assert that none appears.
#[cfg(test)]
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".rcfg.bak");
    path.with_file_name(name)
}

/// Read at most the config size cap from an open file, from its start.
pub fn read_bounded(file: &fs::File, shown: &Path) -> Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(0))?;
    let mut buf = Vec::new();
    f.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut buf)
        .with_context(|| format!("{}: cannot read", shown.display()))?;
    if buf.len() as u64 > MAX_CONFIG_BYTES {
        bail!(
            "{}: over the {MAX_CONFIG_BYTES} byte limit for config files",
            shown.display()
        );
    }
    Ok(buf)
}

/// Open an existing regular file for reading without following a final symlink and without
/// blocking on a FIFO; anything but a regular file is refused.
pub fn open_regular(path: &Path, shown: &Path) -> Result<fs::File> {
    let lmeta =
        fs::symlink_metadata(path).with_context(|| format!("{}: cannot read", shown.display()))?;
    if !lmeta.file_type().is_file() {
        bail!(
            "{}: not a regular file ({}); rcfg only edits regular files, nothing was written",
            shown.display(),
            kind_of(&lmeta)
        );
    }
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc_flags())
        .open(path)
        .with_context(|| format!("{}: cannot open", shown.display()))?;
    let m = f.metadata()?;
    if !m.file_type().is_file() || m.ino() != lmeta.ino() || m.dev() != lmeta.dev() {
        bail!(
            "{}: replaced while rcfg opened it; nothing was written",
            shown.display()
        );
    }
    Ok(f)
}

fn libc_flags() -> i32 {
    (rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32
}

/// "a FIFO", "a socket", "a directory", … for messages (the same words as every reader).
pub fn kind_of(m: &fs::Metadata) -> &'static str {
    let t = m.file_type();
    if t.is_symlink() {
        "a symlink"
    } else if t.is_file() {
        "a regular file"
    } else {
        crate::fsutil::kind_name(t)
    }
}

/// Temp names next to `target`: `.name.rcfg-<tag>.ext` (the extension is kept, so a
/// leftover `.php` is still run, not served, by a web server), new first, then old.
fn temp_names(target: &Path, tag: &str) -> Vec<PathBuf> {
    let name = target.file_name().unwrap_or_default().to_string_lossy();
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (&name[..], ""),
    };
    ["new", "old"]
        .iter()
        .map(|k| target.with_file_name(format!(".{stem}.rcfg-{tag}-{k}{ext}")))
        .collect()
}

/// An existing file as verified: its open handle and identity.
struct Orig {
    file: fs::File,
    dev: u64,
    ino: u64,
}

struct Item {
    change: Change,
    target: PathBuf,
    orig: Option<Orig>,
    meta: Meta,
    new_tmp: PathBuf,
    old_tmp: PathBuf,
}

impl Item {
    fn dir(&self) -> &Path {
        self.target.parent().unwrap_or(Path::new("/"))
    }
}

/// Step 1 for one change.
fn verify(change: Change, template: Option<&Meta>) -> Result<(Item, Option<Meta>)> {
    let shown = change.shown.clone();
    match &change.before {
        Some(before) => {
            let target = fs::canonicalize(&shown)
                .with_context(|| format!("{}: cannot resolve", shown.display()))?;
            let file = open_regular(&target, &shown)?;
            let now = read_bounded(&file, &shown)?;
            if &now != before {
                bail!(
                    "{}: changed on disk after rcfg read it; nothing was written — run rcfg apply again",
                    shown.display()
                );
            }
            let m = file.metadata()?;
            if change.after.is_some() && m.mode() & 0o222 == 0 {
                bail!(
                    "{}: file is read-only; nothing was written",
                    shown.display()
                );
            }
            let meta = Meta::of(&file, &shown)?;
            meta.check_keepable(&shown)?;
            let orig = Orig {
                dev: m.dev(),
                ino: m.ino(),
                file,
            };
            Ok((
                Item {
                    change,
                    target,
                    orig: Some(orig),
                    meta: meta.clone(),
                    new_tmp: PathBuf::new(),
                    old_tmp: PathBuf::new(),
                },
                Some(meta),
            ))
        }
        None => {
            match fs::symlink_metadata(&shown) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Ok(_) => bail!(
                    "{}: appeared on disk after rcfg planned to create it; nothing was written",
                    shown.display()
                ),
                Err(e) => {
                    return Err(e).with_context(|| format!("{}: cannot check", shown.display()));
                }
            }
            let parent = shown
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let dir = fs::canonicalize(parent)
                .with_context(|| format!("{}: cannot resolve", parent.display()))?;
            let target = dir.join(shown.file_name().unwrap_or_default());
            let meta = match template {
                Some(t) => Meta {
                    xattrs: Vec::new(),
                    ..t.clone()
                },
                None => Meta::for_new_in(&dir)?,
            };
            meta.check_keepable(&shown)?;
            Ok((
                Item {
                    change,
                    target,
                    orig: None,
                    meta,
                    new_tmp: PathBuf::new(),
                    old_tmp: PathBuf::new(),
                },
                None,
            ))
        }
    }
}

/// Apply every changing patch of `plan`, all or nothing, journaled in a state directory
/// under the system temp dir. For the planners' unit tests.
#[cfg(test)]
pub fn write_plan(plan: &Plan, opts: WriteOptions) -> Result<Written> {
    let changes: Vec<Change> = plan.changed().map(Change::from).collect();
    let items = verify_all(changes)?;
    let dir = std::env::temp_dir().join("rcfg-unit-test-state");
    let state = SiteState::open(&dir, &plan.root)?;
    commit_items(items, &state, opts, RunKind::Apply, None)
}

/// Apply `plan` journaled in `state` (already locked, recovered).
pub fn write_plan_in(plan: &Plan, state: &SiteState, opts: WriteOptions) -> Result<Written> {
    let changes: Vec<Change> = plan.changed().map(Change::from).collect();
    write_changes(changes, state, opts, RunKind::Apply, None)
}

/// Apply `changes`, all or nothing.
pub fn write_changes(
    changes: Vec<Change>,
    state: &SiteState,
    opts: WriteOptions,
    kind: RunKind,
    undoes: Option<String>,
) -> Result<Written> {
    let items = verify_all(changes)?;
    commit_items(items, state, opts, kind, undoes)
}

fn verify_all(changes: Vec<Change>) -> Result<Vec<Item>> {
    // Existing files first, so a created file can take its metadata from one of them.
    let mut templates: Vec<(PathBuf, Meta)> = Vec::new();
    let mut items = Vec::new();
    let (existing, created): (Vec<Change>, Vec<Change>) =
        changes.into_iter().partition(|c| c.before.is_some());
    for c in existing {
        let (item, meta) = verify(c, None)?;
        if let Some(m) = meta {
            templates.push((item.dir().to_path_buf(), m));
        }
        items.push(item);
    }
    for c in created {
        let dir = c.shown.parent().and_then(|p| fs::canonicalize(p).ok());
        let template = templates
            .iter()
            .find(|(d, _)| Some(d) == dir.as_ref())
            .or(templates.first())
            .map(|(_, m)| m);
        items.push(verify(c, template)?.0);
    }
    Ok(items)
}

fn rel_in(root: &Path, target: &Path) -> PathBuf {
    match target.strip_prefix(root) {
        Ok(r) => r.to_path_buf(),
        Err(_) => Path::new("outside").join(target.strip_prefix("/").unwrap_or(target)),
    }
}

/// Steps 2-5.
fn commit_items(
    mut items: Vec<Item>,
    state: &SiteState,
    opts: WriteOptions,
    kind: RunKind,
    undoes: Option<String>,
) -> Result<Written> {
    let mut written = Written::default();
    if items.is_empty() {
        return Ok(written);
    }
    // 2. Journal: backups and intent, durable before anything in the site changes.
    let mut run = state.new_run(kind, undoes)?;
    let tag = format!("{:x}", std::process::id());
    for item in &mut items {
        let names = temp_names(&item.target, &tag);
        item.new_tmp = names[0].clone();
        item.old_tmp = names[1].clone();
        let backup = match &item.change.before {
            Some(before) => {
                let rel = Path::new("before").join(rel_in(&state.root, &item.target));
                write_private(&run.dir.join(&rel), before)
                    .with_context(|| {
                        format!("{}: cannot write backup", item.change.shown.display())
                    })
                    .inspect_err(|_| {
                        let _ = fs::remove_dir_all(&run.dir);
                    })?;
                Some(rel)
            }
            None => None,
        };
        run.manifest.files.push(FileEntry {
            path: item.target.clone(),
            shown: item.change.shown.clone(),
            before_sha256: item.change.before.as_deref().map(sha256),
            after_sha256: item.change.after.as_deref().map(sha256),
            backup,
            temps: names,
        });
    }
    if let Err(e) = run.save().and_then(|()| Ok(faults::at("prepared")?)) {
        let _ = fs::remove_dir_all(&run.dir);
        return Err(
            e.context("cannot record the apply in the state directory; nothing was written")
        );
    }

    // 3. Stage every new content; on failure remove the temps and the run: nothing changed.
    for (i, item) in items.iter().enumerate() {
        if let Err(e) = stage(item).and_then(|()| Ok(faults::at(&format!("stage:{i}"))?)) {
            for it in &items {
                let _ = fs::remove_file(&it.new_tmp);
            }
            let _ = fs::remove_dir_all(&run.dir);
            return Err(e.context(format!(
                "{}: cannot write the new content next to it; nothing was written",
                item.change.shown.display()
            )));
        }
    }

    // 4. Swap, one file at a time; on failure put back what was swapped.
    for i in 0..items.len() {
        if let Err(e) = swap(&items[i], i) {
            return Err(rollback(&items[..i], &items, &mut run, e));
        }
        if let Err(e) = faults::at(&format!("renamed:{i}")) {
            return Err(rollback(&items[..=i], &items, &mut run, e.into()));
        }
    }

    // 5. Commit.
    let commit = (|| -> Result<()> {
        let mut dirs: Vec<&Path> = items.iter().map(Item::dir).collect();
        dirs.dedup();
        for d in &dirs {
            sync_dir(d)?;
        }
        for it in &items {
            remove_if_present(&it.old_tmp)?;
        }
        for d in &dirs {
            sync_dir(d)?;
        }
        faults::at("commit")?;
        Ok(())
    })();
    if let Err(e) = commit {
        return Err(rollback(&items, &items, &mut run, e));
    }
    if !opts.backup {
        for f in &mut run.manifest.files {
            if let Some(b) = f.backup.take() {
                let _ = fs::remove_file(run.dir.join(b));
            }
        }
    }
    run.finish(RunState::Committed)?;
    for (item, entry) in items.iter().zip(&run.manifest.files) {
        written.files.push(WrittenFile {
            shown: item.change.shown.clone(),
            target: item.target.clone(),
            action: match (&item.change.before, &item.change.after) {
                (None, _) => Action::Created,
                (_, None) => Action::Removed,
                _ => Action::Wrote,
            },
        });
        if let Some(b) = &entry.backup {
            written.backups.push(run.dir.join(b));
        }
    }
    written.run = Some(run.dir.clone());
    Ok(written)
}

fn remove_if_present(p: &Path) -> Result<()> {
    match fs::remove_file(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("{}: cannot remove temp file", p.display()))
        }
        _ => Ok(()),
    }
}

/// Step 3 for one item: temp file 0600, content, fsync, then the target's metadata.
fn stage(item: &Item) -> Result<()> {
    let Some(after) = &item.change.after else {
        return Ok(());
    };
    let _ = fs::remove_file(&item.new_tmp);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(&item.new_tmp)
        .with_context(|| format!("{}: cannot create", item.new_tmp.display()))?;
    let res = f
        .write_all(after)
        .and_then(|()| f.sync_all())
        .map_err(anyhow::Error::from)
        .and_then(|()| item.meta.apply(&f, &item.change.shown))
        .and_then(|()| Ok(f.sync_all()?));
    if res.is_err() {
        let _ = fs::remove_file(&item.new_tmp);
    }
    res
}

fn same_inode(path: &Path, o: &Orig) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.ino() == o.ino && m.dev() == o.dev)
}

/// The original (through the handle kept since verification) still holds `before`.
fn orig_intact(item: &Item) -> bool {
    match (&item.orig, &item.change.before) {
        (Some(o), Some(before)) => {
            read_bounded(&o.file, &item.change.shown).is_ok_and(|now| &now == before)
        }
        _ => true,
    }
}

fn raced(item: &Item) -> anyhow::Error {
    anyhow!(
        "{}: changed on disk while rcfg was writing it; that edit was kept and nothing of this site was changed — check the file and run rcfg apply again",
        item.change.shown.display()
    )
}

fn is_unsupported(e: &rustix::io::Errno) -> bool {
    use rustix::io::Errno;
    [Errno::INVAL, Errno::NOSYS, Errno::NOTSUP, Errno::OPNOTSUPP].contains(e)
}

/// Step 4 for one item. On error, this item is as before (the caller rolls back the others).
fn swap(item: &Item, i: usize) -> Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    faults::at(&format!("rename:{i}"))?;
    let shown = &item.change.shown;
    match (&item.orig, &item.change.after) {
        (Some(o), Some(_)) => {
            if !same_inode(&item.target, o) || !orig_intact(item) {
                return Err(raced(item));
            }
            faults::at(&format!("swap:{i}"))?;
            match renameat_with(CWD, &item.new_tmp, CWD, &item.target, RenameFlags::EXCHANGE) {
                Ok(()) => {
                    // What was swapped out must be the verified inode, still unchanged.
                    if !same_inode(&item.new_tmp, o) || !orig_intact(item) {
                        let back = renameat_with(
                            CWD,
                            &item.new_tmp,
                            CWD,
                            &item.target,
                            RenameFlags::EXCHANGE,
                        );
                        back.with_context(|| {
                            format!(
                                "{}: changed while rcfg was writing it, and cannot swap back: that edit is in {}",
                                shown.display(),
                                item.new_tmp.display()
                            )
                        })?;
                        let _ = fs::remove_file(&item.new_tmp);
                        return Err(raced(item));
                    }
                    if let Err(e) = fs::rename(&item.new_tmp, &item.old_tmp) {
                        if renameat_with(
                            CWD,
                            &item.new_tmp,
                            CWD,
                            &item.target,
                            RenameFlags::EXCHANGE,
                        )
                        .is_ok()
                        {
                            let _ = fs::remove_file(&item.new_tmp);
                        }
                        return Err(e).with_context(|| {
                            format!("{}: cannot move the original aside", shown.display())
                        });
                    }
                }
                Err(e) if is_unsupported(&e) => {
                    // No exchange on this file system: link the original aside, rename.
                    fs::hard_link(&item.target, &item.old_tmp).with_context(|| {
                        format!("{}: cannot keep the original aside", shown.display())
                    })?;
                    if !same_inode(&item.old_tmp, o) || !orig_intact(item) {
                        let _ = fs::remove_file(&item.old_tmp);
                        return Err(raced(item));
                    }
                    fs::rename(&item.new_tmp, &item.target)
                        .with_context(|| format!("{}: cannot replace", shown.display()))?;
                    if !orig_intact(item) {
                        fs::rename(&item.old_tmp, &item.target)?;
                        return Err(raced(item));
                    }
                }
                Err(e) => {
                    return Err(std::io::Error::from(e))
                        .with_context(|| format!("{}: cannot replace", shown.display()));
                }
            }
        }
        (None, Some(_)) => {
            match renameat_with(
                CWD,
                &item.new_tmp,
                CWD,
                &item.target,
                RenameFlags::NOREPLACE,
            ) {
                Ok(()) => {}
                Err(e) if is_unsupported(&e) => {
                    fs::hard_link(&item.new_tmp, &item.target)
                        .with_context(|| format!("{}: cannot create", shown.display()))?;
                    fs::remove_file(&item.new_tmp)?;
                }
                Err(e) => {
                    return Err(std::io::Error::from(e))
                        .with_context(|| format!("{}: cannot create", shown.display()));
                }
            }
        }
        (Some(o), None) => {
            if !same_inode(&item.target, o) || !orig_intact(item) {
                return Err(raced(item));
            }
            fs::rename(&item.target, &item.old_tmp)
                .with_context(|| format!("{}: cannot remove", shown.display()))?;
            if !orig_intact(item) {
                fs::rename(&item.old_tmp, &item.target)?;
                return Err(raced(item));
            }
        }
        (None, None) => {}
    }
    Ok(())
}

/// Put one swapped item back by renames only.
fn unswap(item: &Item, i: usize) -> Result<()> {
    faults::at(&format!("rollback:{i}"))?;
    let shown = &item.change.shown;
    match &item.change.before {
        // The original inode is aside under its temp name, unless the commit already
        // removed it: then a copy of the original bytes is renamed into place.
        Some(before) if fs::symlink_metadata(&item.old_tmp).is_err() => {
            place(&item.target, &item.new_tmp, before, &item.meta)
        }
        Some(_) => fs::rename(&item.old_tmp, &item.target)
            .with_context(|| format!("{}: cannot restore the original", shown.display())),
        None => fs::remove_file(&item.target)
            .with_context(|| format!("{}: cannot remove the created file", shown.display())),
    }
}

/// Undo the swaps of `done` (newest first), clean temps; the run is marked rolled back, or
/// left `prepared` for the next run's recovery when a file could not be put back.
fn rollback(done: &[Item], all: &[Item], run: &mut Run, cause: anyhow::Error) -> anyhow::Error {
    let mut failed = Vec::new();
    for (i, item) in done.iter().enumerate().rev() {
        if let Err(e) = unswap(item, i) {
            failed.push(format!("{}: {e:#}", item.change.shown.display()));
        }
    }
    if failed.is_empty() {
        for it in all {
            let _ = fs::remove_file(&it.new_tmp);
            let _ = fs::remove_file(&it.old_tmp);
        }
        let _ = run.finish(RunState::RolledBack);
        let restored: Vec<String> = done
            .iter()
            .map(|i| i.change.shown.display().to_string())
            .collect();
        if restored.is_empty() {
            cause.context("nothing of this site was changed")
        } else {
            cause.context(format!(
                "this site was rolled back, {} restored as before",
                restored.join(", ")
            ))
        }
    } else {
        for it in all {
            let _ = fs::remove_file(&it.new_tmp);
        }
        cause.context(format!(
            "ROLLBACK INCOMPLETE — {}; the journal {} is kept and the next `rcfg apply` or `rcfg apply --undo` on this site finishes the rollback",
            failed.join("; "),
            run.dir.display()
        ))
    }
}

/// Put `bytes` at `target` by a temp file (0600, then `meta`) and a rename: what recovery
/// uses when the original inode is no longer at hand.
pub(super) fn place(target: &Path, tmp: &Path, bytes: &[u8], meta: &Meta) -> Result<()> {
    let item = Item {
        change: Change {
            shown: target.to_path_buf(),
            before: None,
            after: Some(bytes.to_vec()),
        },
        target: target.to_path_buf(),
        orig: None,
        meta: meta.clone(),
        new_tmp: tmp.to_path_buf(),
        old_tmp: PathBuf::new(),
    };
    stage(&item)?;
    fs::rename(tmp, target).with_context(|| format!("{}: cannot restore", target.display()))
}

#[cfg(test)]
mod tests;
