//! Reading files the careful way: clear errors that name the file, a size cap, UTF-8
//! checking. Nothing here writes (writing lives in `patch::write`).

use std::path::Path;

use anyhow::{Context, Result, bail};

/// Config files larger than this are refused (no real CMS config comes close).
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

/// Read a config file as UTF-8 text, refusing huge or non-UTF-8 files with a message that
/// names the file.
pub fn read_config(path: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("{}: cannot read", path.display()))?;
    if meta.len() > MAX_CONFIG_BYTES {
        bail!(
            "{}: file is {} bytes, over the {} byte limit for config files",
            path.display(),
            meta.len(),
            MAX_CONFIG_BYTES
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        anyhow::anyhow!(
            "{}: not valid UTF-8 (first bad byte at offset {at})",
            path.display()
        )
    })
}

/// Read a file if it exists; `Ok(None)` when it does not.
pub fn read_config_opt(path: &Path) -> Result<Option<String>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        _ => read_config(path).map(Some),
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
    }

    #[test]
    fn line_numbers_are_one_based() {
        assert_eq!(line_of("a\nb\nc", 0), 1);
        assert_eq!(line_of("a\nb\nc", 2), 2);
        assert_eq!(line_of("a\nb\nc", 4), 3);
    }
}
