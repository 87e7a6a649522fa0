//! Reading files the careful way, for every file rcfg reads: one bounded reader that refuses
//! anything but a regular file *before* opening it (a FIFO would block, `/dev/zero` would
//! never end), opens without blocking, re-checks the open descriptor (closing the race with a
//! file swapped in between), and caps the bytes it actually reads. Errors name the file and
//! the reason. Nothing here writes (writing lives in `patch::write`).

use std::fmt;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use anyhow::Result;

/// Config files larger than this are refused (no real CMS config comes close).
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// Why a file could not be read.
#[derive(Debug)]
pub enum ReadErrorKind {
    /// Nothing at the path.
    NotFound,
    /// A symlink whose target does not exist.
    Dangling(PathBuf),
    /// A directory, FIFO, socket or device (the text says which).
    NotRegular(&'static str),
    /// Larger than the cap (`len` is what the file reported or what was read).
    TooLarge { len: u64, max: u64 },
    /// Bytes are not UTF-8 (from [`read_text`]).
    NotUtf8 { offset: usize },
    /// Anything else the system said (permission denied, I/O error …).
    Io(std::io::Error),
}

/// A read failure, naming the file.
#[derive(Debug)]
pub struct ReadError {
    pub path: PathBuf,
    pub kind: ReadErrorKind,
}

impl ReadError {
    fn new(path: &Path, kind: ReadErrorKind) -> ReadError {
        ReadError {
            path: path.to_path_buf(),
            kind,
        }
    }

    /// True when nothing is at the path (not even a dangling link).
    pub fn is_not_found(&self) -> bool {
        matches!(self.kind, ReadErrorKind::NotFound)
    }

    /// The reason alone, without the path.
    pub fn reason(&self) -> String {
        match &self.kind {
            ReadErrorKind::NotFound => "no such file or directory".to_string(),
            ReadErrorKind::Dangling(to) => {
                format!(
                    "dangling symlink (its target {} does not exist)",
                    to.display()
                )
            }
            ReadErrorKind::NotRegular(what) => format!("not a regular file ({what})"),
            ReadErrorKind::TooLarge { len, max } => {
                format!("file is {len} bytes, over the {max} byte limit")
            }
            ReadErrorKind::NotUtf8 { offset } => {
                format!("not valid UTF-8 (first bad byte at offset {offset})")
            }
            ReadErrorKind::Io(e) => crate::cms::describe_io(e),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason())
    }
}

impl std::error::Error for ReadError {}

/// How a file that is not a regular file is named in messages.
pub fn kind_name(t: std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "not a file"
    }
}

/// How [`read_bounded`] treats a symlink at the path itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Follow it (config files are often links into a shared deploy dir).
    Follow,
    /// Refuse it (`O_NOFOLLOW`) and skip the `stat` before opening: for a walk that has
    /// just seen a regular file at the path in its directory listing (that listing is the
    /// check before opening); the open descriptor is still checked.
    RefuseListedFile,
}

/// Read at most `max` bytes of the regular file at `path` (`max == u64::MAX`: no cap).
/// Refuses, with the reason: nothing there, a dangling link, a directory/FIFO/socket/device
/// (checked before opening, then again on the open descriptor), a file over `max` bytes
/// (checked on the size and on the bytes actually read), and any I/O error.
pub fn read_bounded(path: &Path, max: u64, links: Links) -> Result<Vec<u8>, ReadError> {
    let mut buf = Vec::new();
    read_bounded_into(path, max, links, &mut buf)?;
    Ok(buf)
}

/// [`read_bounded`] into a caller's buffer (cleared first), so a walk can reuse one buffer.
/// Returns the (device, inode) of the file actually read, to tell files reached by several
/// links apart.
pub fn read_bounded_into(
    path: &Path,
    max: u64,
    links: Links,
    buf: &mut Vec<u8>,
) -> Result<(u64, u64), ReadError> {
    let err = |kind| ReadError::new(path, kind);
    buf.clear();
    if links != Links::RefuseListedFile {
        pre_check(path, max)?;
    }
    let mut flags = libc::O_NONBLOCK | libc::O_NOCTTY;
    if links != Links::Follow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) && links != Links::Follow {
                err(ReadErrorKind::NotRegular("a symlink"))
            } else {
                err(ReadErrorKind::Io(e))
            }
        })?;
    // The path may have been swapped between the check and the open: check what was opened.
    let meta = file.metadata().map_err(|e| err(ReadErrorKind::Io(e)))?;
    if !meta.is_file() {
        return Err(err(ReadErrorKind::NotRegular(kind_name(meta.file_type()))));
    }
    if meta.len() > max {
        return Err(err(ReadErrorKind::TooLarge {
            len: meta.len(),
            max,
        }));
    }
    // Reserve for the reported size only when it is modest; the cap below is what binds.
    buf.reserve(meta.len().min(MAX_CONFIG_BYTES) as usize);
    file.take(max.saturating_add(1))
        .read_to_end(buf)
        .map_err(|e| err(ReadErrorKind::Io(e)))?;
    if buf.len() as u64 > max {
        return Err(err(ReadErrorKind::TooLarge {
            len: buf.len() as u64,
            max,
        }));
    }
    Ok((meta.dev(), meta.ino()))
}

/// The check before opening: something is there, it is a regular file (a FIFO would block
/// the open, a device may act on it), and not over `max` bytes.
fn pre_check(path: &Path, max: u64) -> Result<(), ReadError> {
    let err = |kind| ReadError::new(path, kind);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(match std::fs::read_link(path) {
                Ok(to) => err(ReadErrorKind::Dangling(to)),
                Err(_) => err(ReadErrorKind::NotFound),
            });
        }
        Err(e) => return Err(err(ReadErrorKind::Io(e))),
    };
    if !meta.is_file() {
        return Err(err(ReadErrorKind::NotRegular(kind_name(meta.file_type()))));
    }
    if meta.len() > max {
        return Err(err(ReadErrorKind::TooLarge {
            len: meta.len(),
            max,
        }));
    }
    Ok(())
}

/// [`read_bounded`] as UTF-8 text.
pub fn read_text(path: &Path, max: u64) -> Result<String, ReadError> {
    let bytes = read_bounded(path, max, Links::Follow)?;
    String::from_utf8(bytes).map_err(|e| {
        ReadError::new(
            path,
            ReadErrorKind::NotUtf8 {
                offset: e.utf8_error().valid_up_to(),
            },
        )
    })
}

/// Read a config file as UTF-8 text (at most [`MAX_CONFIG_BYTES`]), refusing anything else
/// with a message that names the file.
pub fn read_config(path: &Path) -> Result<String> {
    Ok(read_text(path, MAX_CONFIG_BYTES)?)
}

/// Read a config file if there is one; `Ok(None)` only when nothing is at the path. A
/// dangling link, a FIFO, an unreadable file … are errors, never "absent".
pub fn read_config_opt(path: &Path) -> Result<Option<String>> {
    match read_text(path, MAX_CONFIG_BYTES) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whether there is something at `path` that the caller should read (and report on if it
/// cannot): true for a file, but also for a dangling link, a FIFO, a directory, or a path
/// that cannot be examined (permission denied). False only when nothing is there. Use this
/// instead of `Path::is_file()` to decide whether a config file exists: `is_file()` says
/// false for all of those, which silently turns "unreadable" into "not configured".
pub fn exists(path: &Path) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(_) => true,
        Err(e) => {
            e.kind() != std::io::ErrorKind::NotFound && e.raw_os_error() != Some(libc::ENOTDIR)
        }
    }
}

/// 1-based line number of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_utf8_is_refused_with_the_file_name() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("env.php");
        std::fs::write(&p, b"<?php \xff\xfe return [];").unwrap();
        let err = read_config(&p).unwrap_err().to_string();
        assert!(err.contains("env.php"), "{err}");
        assert!(err.contains("not valid UTF-8"), "{err}");
    }

    #[test]
    fn missing_file_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_config_opt(&dir.path().join("nope")).unwrap().is_none());
        assert!(!exists(&dir.path().join("nope")));
        assert!(!exists(&dir.path().join("nope/deeper")));
    }

    #[test]
    fn dangling_link_is_an_error_not_absent() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("wp-config.php");
        std::os::unix::fs::symlink(dir.path().join("gone.php"), &p).unwrap();
        assert!(exists(&p));
        let err = read_config_opt(&p).unwrap_err().to_string();
        assert!(err.contains("wp-config.php: dangling symlink"), "{err}");
        assert!(err.contains("gone.php"), "{err}");
    }

    #[test]
    fn fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".env");
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let err = read_config_opt(&p).unwrap_err().to_string();
        assert!(err.ends_with(".env: not a regular file (a FIFO)"), "{err}");
    }

    #[test]
    fn devices_behind_links_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (name, dev) in [("env.php", "/dev/zero"), ("package.json", "/dev/urandom")] {
            let p = dir.path().join(name);
            std::os::unix::fs::symlink(dev, &p).unwrap();
            let err = read_config(&p).unwrap_err().to_string();
            assert!(
                err.ends_with(&format!("{name}: not a regular file (a character device)")),
                "{err}"
            );
        }
        let err = read_config(dir.path()).unwrap_err().to_string();
        assert!(err.ends_with("not a regular file (a directory)"), "{err}");
    }

    #[test]
    fn the_cap_applies_to_bytes_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("composer.lock");
        std::fs::write(&p, vec![b'x'; 100]).unwrap();
        let err = read_bounded(&p, 99, Links::Follow).unwrap_err();
        assert!(matches!(
            err.kind,
            ReadErrorKind::TooLarge { len: 100, max: 99 }
        ));
        assert_eq!(read_bounded(&p, 100, Links::Follow).unwrap().len(), 100);
    }

    #[test]
    fn refusing_links_refuses_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.php");
        std::fs::write(&target, "<?php\n").unwrap();
        let link = dir.path().join("link.php");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(read_bounded(&link, 100, Links::Follow).is_ok());
        let err = read_bounded(&link, 100, Links::RefuseListedFile)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with("link.php: not a regular file (a symlink)"),
            "{err}"
        );
    }

    #[test]
    fn a_listed_file_swapped_for_a_fifo_is_caught_on_the_open_descriptor() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.php");
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let mut buf = Vec::new();
        let err = read_bounded_into(&p, 100, Links::RefuseListedFile, &mut buf).unwrap_err();
        assert_eq!(err.reason(), "not a regular file (a FIFO)");
    }

    #[test]
    fn line_numbers_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
