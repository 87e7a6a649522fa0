//! What a rewritten file must keep: owner, group, mode, and every extended attribute (POSIX
//! ACLs are `system.posix_acl_*` xattrs, the SELinux label is `security.selinux`). Captured
//! from the original, checked for whether this process can reproduce it, and put on the new
//! file (a temp file created 0600) before it is renamed into place.

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, Result, bail};
use xattr::FileExt;

/// Owner, group, mode and extended attributes of a file.
#[derive(Debug, Clone)]
pub struct Meta {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits incl. setuid/setgid/sticky.
    pub mode: u32,
    pub xattrs: Vec<(OsString, Vec<u8>)>,
}

impl Meta {
    /// Read from an open file (`shown` names it in errors).
    pub fn of(file: &fs::File, shown: &Path) -> Result<Meta> {
        let path = shown;
        let m = file
            .metadata()
            .with_context(|| format!("{}: cannot read metadata", path.display()))?;
        let mut xattrs = Vec::new();
        // A file system without xattr support simply has none to keep.
        if let Ok(names) = file.list_xattr() {
            for name in names {
                match file.get_xattr(&name) {
                    Ok(Some(v)) => xattrs.push((name, v)),
                    Ok(None) => {}
                    Err(e) => {
                        return Err(e).with_context(|| {
                            format!(
                                "{}: cannot read extended attribute {}",
                                path.display(),
                                name.to_string_lossy()
                            )
                        });
                    }
                }
            }
        }
        Ok(Meta {
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode() & 0o7777,
            xattrs,
        })
    }

    /// The metadata a new file gets when there is no file to copy it from: the directory's
    /// owner and group, mode 0640 (new files may hold a password).
    pub fn for_new_in(dir: &Path) -> Result<Meta> {
        let m = fs::metadata(dir).with_context(|| format!("{}: cannot read", dir.display()))?;
        Ok(Meta {
            uid: m.uid(),
            gid: m.gid(),
            mode: 0o640,
            xattrs: Vec::new(),
        })
    }

    /// Refuse (before anything is written) when this process could not give a new file this
    /// owner and group.
    pub fn check_keepable(&self, shown: &Path) -> Result<()> {
        let euid = rustix::process::geteuid();
        if euid.is_root() {
            return Ok(());
        }
        if self.uid != euid.as_raw() {
            bail!(
                "{}: owned by uid {}, and rcfg runs as uid {}: it could not keep the owner, so nothing was written (run as root or as the owner)",
                shown.display(),
                self.uid,
                euid.as_raw()
            );
        }
        let egid = rustix::process::getegid().as_raw();
        let member = self.gid == egid
            || rustix::process::getgroups()
                .map(|g| g.iter().any(|g| g.as_raw() == self.gid))
                .unwrap_or(false);
        if !member {
            bail!(
                "{}: group {} is not one of rcfg's groups: it could not keep the group, so nothing was written (run as root or as a member)",
                shown.display(),
                self.gid
            );
        }
        if let Some((name, _)) = self
            .xattrs
            .iter()
            .find(|(n, _)| n.to_string_lossy().starts_with("trusted."))
        {
            bail!(
                "{}: has extended attribute {} which only root can set; nothing was written",
                shown.display(),
                name.to_string_lossy()
            );
        }
        Ok(())
    }

    /// Put owner, group, mode and xattrs on `file` (open, at `path`). Owner first: chown
    /// clears setuid/setgid, which the mode then restores.
    pub fn apply(&self, file: &fs::File, shown: &Path) -> Result<()> {
        let euid = rustix::process::geteuid().as_raw();
        let m = file.metadata()?;
        if m.uid() != self.uid || m.gid() != self.gid {
            let uid = (euid == 0).then_some(self.uid);
            std::os::unix::fs::fchown(file, uid, Some(self.gid)).with_context(|| {
                format!(
                    "{}: cannot give the new file owner {}:{}",
                    shown.display(),
                    self.uid,
                    self.gid
                )
            })?;
        }
        file.set_permissions(fs::Permissions::from_mode(self.mode))
            .with_context(|| format!("{}: cannot set mode {:o}", shown.display(), self.mode))?;
        // A default ACL of the directory gives the new file an ACL the original lacked.
        if let Ok(names) = file.list_xattr() {
            for name in names {
                if !self.xattrs.iter().any(|(n, _)| *n == name) {
                    file.remove_xattr(&name).with_context(|| {
                        format!(
                            "{}: cannot drop extended attribute {} the original does not have",
                            shown.display(),
                            name.to_string_lossy()
                        )
                    })?;
                }
            }
        }
        for (name, value) in &self.xattrs {
            // Already there (a default SELinux label, say): nothing to set, no privilege needed.
            if file.get_xattr(name).ok().flatten().as_ref() == Some(value) {
                continue;
            }
            file.set_xattr(name, value).with_context(|| {
                format!(
                    "{}: cannot copy extended attribute {}",
                    shown.display(),
                    name.to_string_lossy()
                )
            })?;
        }
        Ok(())
    }
}
