//! Where `apply` may read and write: every config file of a site must resolve (symlinks and
//! `..` followed) to a regular file inside the site root, unless `--allow-outside-root`.
//! Checked from metadata only, before a file is opened and before any diff is printed, so a
//! `.env -> /etc/shadow` or a `wp-config.php` linked into a neighbour's site is refused
//! without a byte of it being read. A symlink inside the site is fine: its target is edited,
//! and the caller says so.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::write::kind_of;

/// A path that is reached through a symlink: what the user named and what gets edited.
#[derive(Debug, Clone, PartialEq)]
pub struct Redirect {
    pub shown: PathBuf,
    pub target: PathBuf,
}

/// Check one path of the site rooted at `root`. `Ok(Some(_))` when it is reached through a
/// symlink (inside the site, or outside with `allow_outside`).
pub fn check(root: &Path, path: &Path, allow_outside: bool) -> Result<Option<Redirect>> {
    let croot = fs::canonicalize(root)
        .with_context(|| format!("{}: cannot resolve site root", root.display()))?;
    // Where the path would be without symlinks below the site root.
    let lexical = match path.strip_prefix(root) {
        Ok(rel) => croot.join(rel),
        Err(_) => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    };
    let resolved = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // A file to create: its directory must be inside the site.
            let parent = path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            match fs::canonicalize(parent) {
                Ok(d) => d.join(path.file_name().unwrap_or_default()),
                Err(_) => return Ok(None),
            }
        }
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
        Ok(_) => {
            let resolved = fs::canonicalize(path).with_context(|| {
                format!(
                    "{}: a symlink to a missing file; refused, nothing written",
                    path.display()
                )
            })?;
            let meta = fs::metadata(&resolved)
                .with_context(|| format!("{}: cannot read", path.display()))?;
            if !meta.file_type().is_file() {
                bail!(
                    "{}: {}{}, not a regular file; refused without reading it, nothing written",
                    path.display(),
                    if resolved == lexical {
                        String::new()
                    } else {
                        format!("resolves to {}, ", resolved.display())
                    },
                    kind_of(&meta)
                );
            }
            resolved
        }
    };
    if !resolved.starts_with(&croot) && !allow_outside {
        bail!(
            "{}: resolves to {}, outside the site root {}; refused without reading it, nothing written (--allow-outside-root edits it anyway)",
            path.display(),
            resolved.display(),
            croot.display()
        );
    }
    Ok((resolved != lexical).then(|| Redirect {
        shown: path.to_path_buf(),
        target: resolved,
    }))
}

/// Check every path; the first refusal is the error.
pub fn check_all<'a>(
    root: &Path,
    paths: impl IntoIterator<Item = &'a Path>,
    allow_outside: bool,
) -> Result<Vec<Redirect>> {
    let mut out = Vec::new();
    for p in paths {
        if let Some(r) = check(root, p, allow_outside)?
            && !out.contains(&r)
        {
            out.push(r);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_inside_are_reported_outside_refused_fifos_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path().join("site");
        let other = tmp.path().join("other");
        fs::create_dir_all(site.join("shared")).unwrap();
        fs::create_dir_all(&other).unwrap();
        fs::write(site.join("shared/real.php"), "x").unwrap();
        fs::write(other.join("wp-config.php"), "x").unwrap();
        symlink("shared/real.php", site.join("wp-config.php")).unwrap();
        symlink(other.join("wp-config.php"), site.join(".env")).unwrap();
        let r = check(&site, &site.join("wp-config.php"), false)
            .unwrap()
            .unwrap();
        assert!(r.target.ends_with("shared/real.php"));
        let err = check(&site, &site.join(".env"), false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("outside the site root"), "{err}");
        assert!(check(&site, &site.join(".env"), true).unwrap().is_some());
        assert_eq!(check(&site, &site.join("new.php"), false).unwrap(), None);
        let fifo = site.join("fifo.php");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let err = check(&site, &fifo, false).unwrap_err().to_string();
        assert!(err.contains("a FIFO, not a regular file"), "{err}");
    }
}
