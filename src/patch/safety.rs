//! The safety steps `rcfg apply` runs around planning and writing one site, and their
//! output: open (and lock) the site's state, roll back an interrupted run, check that
//! every config file resolves to a regular file inside the site, write through the
//! journal, and `--undo`.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use super::paths::{self, Redirect};
use super::state::{SiteState, site_roots_below};
use super::write::{Action, Written};
use super::{journal, undo};
use crate::exit::Exit;
use crate::model::Site;

/// Lock the site's state and roll back an interrupted run, printing what recovery did.
pub fn open_and_recover(
    out: &mut impl Write,
    state_dir: &Path,
    site_root: &Path,
) -> Result<SiteState> {
    let st = SiteState::open(state_dir, site_root)?;
    for m in journal::recover(&st)?.messages {
        writeln!(out, "{m}")?;
    }
    Ok(st)
}

/// Before planning: every config file detect found must be a regular file inside the site.
pub fn check_site_files(site: &Site, allow_outside: bool) -> Result<()> {
    paths::check_all(
        &site.path,
        site.config_files.iter().map(|c| c.path.as_path()),
        allow_outside,
    )
    .map(|_| ())
}

/// After planning, before any output: the same for every file the plan changes. Returns
/// the files reached through a symlink.
pub fn check_plan_files(
    site_root: &Path,
    plan: &super::Plan,
    allow_outside: bool,
) -> Result<Vec<Redirect>> {
    let redirects = paths::check_all(
        site_root,
        plan.changed().map(|p| p.path.as_path()),
        allow_outside,
    )?;
    for r in &redirects {
        eprintln!(
            "rcfg: note: {} is a symlink: rcfg edits its target {}",
            r.shown.display(),
            r.target.display()
        );
    }
    Ok(redirects)
}

/// `wrote …`, `backup …` lines.
pub fn print_written(out: &mut impl Write, w: &Written, redirects: &[Redirect]) -> Result<()> {
    for f in &w.files {
        let via = redirects
            .iter()
            .find(|r| r.shown == f.shown && r.target == f.target)
            .map(|r| format!(" (a symlink: edited its target {})", r.target.display()))
            .unwrap_or_default();
        match f.action {
            Action::Wrote | Action::Created => writeln!(out, "wrote {}{via}", f.shown.display())?,
            Action::Removed => writeln!(out, "removed {}", f.shown.display())?,
        }
    }
    for b in &w.backups {
        writeln!(out, "backup {}", b.display())?;
    }
    Ok(())
}

/// A written file that holds one of the plan's passwords and is readable by everyone: its
/// mode was kept (the web server may need it), so say so rather than change it silently.
pub fn warn_world_readable(plan: &super::Plan, w: &Written) {
    use std::os::unix::fs::MetadataExt;
    for f in &w.files {
        let Some(patch) = plan.patches.iter().find(|p| p.path == f.shown) else {
            continue;
        };
        let holds_secret = plan
            .secrets
            .iter()
            .any(|s| !s.expose().is_empty() && patch.after.contains(s.expose()));
        if let Ok(m) = std::fs::metadata(&f.target)
            && holds_secret
            && m.mode() & 0o004 != 0
        {
            crate::ui::note(format_args!(
                "warning: {} holds a password and is readable by every user (mode {:o}, kept as it was); consider chmod o-r",
                crate::ui::shown(&f.shown),
                m.mode() & 0o7777
            ));
        }
    }
}

/// `rcfg apply --undo [PATH | --root DIR]`.
pub fn run_undo(
    out: &mut impl Write,
    state_dir: &Path,
    path: Option<&Path>,
    root: Option<&Path>,
) -> Result<Exit> {
    let sites: Vec<PathBuf> = match root {
        Some(root) => {
            let s = site_roots_below(state_dir, root)?;
            if s.is_empty() {
                bail!(
                    "{}: no rcfg apply recorded below this directory (state in {})",
                    root.display(),
                    state_dir.display()
                );
            }
            s
        }
        None => {
            let p = path.unwrap_or(Path::new("."));
            // The site root as apply saw it (a WordPress path may be ABSPATH below it).
            let mut errors = Vec::new();
            let site = crate::cms::locate::site_at(p, &mut errors).remove(0);
            let root = if site.cms == crate::model::Cms::Unknown {
                p.to_path_buf()
            } else {
                site.path
            };
            vec![root]
        }
    };
    let mut exit = Exit::Clean;
    for site in sites {
        let res = open_and_recover(out, state_dir, &site).and_then(|st| undo::undo(&st));
        match res {
            Ok(u) => {
                for f in &u.written.files {
                    match f.action {
                        Action::Removed => writeln!(
                            out,
                            "removed {} (created by the apply of {})",
                            crate::ui::shown(&f.shown),
                            u.run
                        )?,
                        _ => writeln!(
                            out,
                            "restored {} (as before the apply of {})",
                            crate::ui::shown(&f.shown),
                            u.run
                        )?,
                    }
                }
                for b in &u.written.backups {
                    writeln!(out, "backup {}", b.display())?;
                }
            }
            Err(e) => {
                out.flush()?;
                eprintln!("rcfg: error: {e:#}");
                exit = Exit::Error;
            }
        }
    }
    out.flush()?;
    Ok(exit)
}
