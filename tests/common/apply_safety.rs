//! Shared by `tests/apply_safety.rs` and `tests/apply_crash.rs`: running `rcfg apply` with a
//! known password, the checks every safety test makes (no secret in output, no temp or
//! backup left in the site, no world-readable file holding the password), and a two-file
//! Bedrock site with the bytes a clean apply gives it.

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{copy_fixture, rcfg, text, tree};

pub const SECRET: &str = "Sup3r-s3cret!pw";
pub const NEIGHBOUR_SECRET: &str = "neighbour-db-password-4711";

pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

pub fn apply(site: &Path, extra: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = rcfg();
    cmd.arg("apply").arg(site);
    if !extra.contains(&"--undo") {
        cmd.args(["--db", "1", "--prefix", "t:"]);
    }
    cmd.args(extra)
        .env("RCFG_REDIS_PASSWORD", SECRET)
        .env_remove("RCFG_SESSION_REDIS_PASSWORD")
        .env_remove("RCFG_TEST_STALL_AT")
        .env_remove("RCFG_TEST_FAIL_AT")
        .timeout(Duration::from_secs(60));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// Output must never hold a password.
pub fn no_secret(out: &std::process::Output) {
    for s in [SECRET, NEIGHBOUR_SECRET] {
        assert!(
            !text(&out.stdout).contains(s) && !text(&out.stderr).contains(s),
            "secret in output:\n{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
}

/// No file in `root` readable by others holds a secret, and no rcfg temp or backup is left.
pub fn site_is_clean(root: &Path) {
    for (rel, bytes) in tree(root) {
        let name = rel.to_string_lossy();
        assert!(!name.contains(".rcfg"), "left behind: {name}");
        let mode = std::fs::metadata(root.join(&rel)).unwrap().mode();
        if String::from_utf8_lossy(&bytes).contains(SECRET) {
            assert_eq!(
                mode & 0o004,
                0,
                "{name} holds the secret and is world-readable"
            );
        }
    }
}

/// A Bedrock site (two files change: `config/application.php` and `.env`), private modes,
/// plus the bytes a clean apply produces, from a twin copy with the same directory name.
pub fn bedrock() -> (tempfile::TempDir, PathBuf, BTreeMap<PathBuf, Vec<u8>>) {
    let prepare = |root: &Path| {
        for f in [".env", "config/application.php"] {
            std::fs::set_permissions(root.join(f), std::fs::Permissions::from_mode(0o640)).unwrap();
        }
    };
    let (twin_tmp, twin) = copy_fixture("wordpress-bedrock");
    prepare(&twin);
    let out = apply(&twin, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let intended = tree(&twin);
    drop(twin_tmp);
    let (tmp, root) = copy_fixture("wordpress-bedrock");
    prepare(&root);
    (tmp, root, intended)
}

/// Every file is byte-identical to before or to the intended result.
pub fn each_file_old_or_new(
    root: &Path,
    before: &BTreeMap<PathBuf, Vec<u8>>,
    intended: &BTreeMap<PathBuf, Vec<u8>>,
) {
    for (rel, bytes) in tree(root) {
        if rel.to_string_lossy().contains(".rcfg") {
            continue; // temp names, cleaned up by the recovery checked afterwards
        }
        assert!(
            before.get(&rel) == Some(&bytes) || intended.get(&rel) == Some(&bytes),
            "{} is neither the old nor the new content",
            rel.display()
        );
    }
}
