//! Shared helpers for the integration tests: run the built `rcfg` binary, find fixtures,
//! copy a fixture tree into a temp dir.

#![allow(dead_code)]

pub mod apply_safety;
pub mod redis_server;
pub mod site_json;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `rcfg` binary under test, run from the repository root, with colour and local-socket
/// discovery neutralised so output does not depend on the machine.
pub fn rcfg() -> Command {
    let mut cmd = Command::cargo_bin("rcfg").expect("rcfg binary");
    cmd.current_dir(repo_root())
        .env("NO_COLOR", "1")
        .env("RCFG_LOCAL_SOCKETS", "/nonexistent/rcfg-test.sock")
        .env("RCFG_STATE_DIR", state_dir())
        .env_remove("REDISCLI_AUTH");
    cmd
}

/// The state directory (backups, journal) every test run of `rcfg` uses, below the target
/// directory: never the real `/var/lib/rcfg` or `~/.local/state/rcfg`. Sites are keyed by
/// their (unique, temporary) path, so tests do not see each other's runs.
pub fn state_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rcfg-state")
}

/// The bytes `apply` backed up for `rel` (a path relative to the site root), from the
/// `backup <path>` lines of its stdout.
pub fn backup_of(stdout: &[u8], rel: &Path) -> Option<Vec<u8>> {
    let want = Path::new("before").join(rel);
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("backup "))
        .map(PathBuf::from)
        .find(|p| p.ends_with(&want))
        .map(|p| std::fs::read(p).unwrap())
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `fixtures/<name>` (panics if it does not exist, so a typo fails loudly).
pub fn fixture(name: &str) -> PathBuf {
    let p = repo_root().join("fixtures").join(name);
    assert!(p.exists(), "fixture {} is missing", p.display());
    p
}

/// Copy `fixtures/<name>` into a fresh temp dir; returns the dir and the copied site root.
pub fn copy_fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dest = tmp.path().join(name);
    copy_tree(&fixture(name), &dest);
    (tmp, dest)
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let ft = entry.file_type().unwrap();
        if ft.is_symlink() {
            let link = std::fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(link, &target).unwrap();
        } else if ft.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Parse stdout as JSON.
pub fn json_of(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Every file below `root` (relative path) with its bytes: compare before/after to prove
/// that nothing, or exactly what was intended, changed.
pub fn tree(root: &Path) -> std::collections::BTreeMap<PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    for e in walkdir::WalkDir::new(root).sort_by_file_name() {
        let e = e.unwrap();
        if e.file_type().is_file() {
            out.insert(
                e.path().strip_prefix(root).unwrap().to_path_buf(),
                std::fs::read(e.path()).unwrap(),
            );
        }
    }
    out
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `php -l` must accept `path`.
pub fn php_lint(path: &Path) {
    let out = std::process::Command::new("php")
        .arg("-l")
        .arg(path)
        .output()
        .expect("php is installed (scripts/test.sh installs php-cli)");
    assert!(
        out.status.success(),
        "php -l {}: {}",
        path.display(),
        text(&out.stdout)
    );
}

/// `git apply --check` must accept `diff` from `root` (the untouched site). The patch file
/// is written next to `root`, not inside it, so it is not part of the tree.
pub fn git_apply_check(root: &Path, diff: &str) {
    let patch = root.parent().unwrap().join("rcfg-test.patch");
    std::fs::write(&patch, diff).unwrap();
    let out = std::process::Command::new("git")
        .args(["apply", "--check", "-v"])
        .arg(&patch)
        .current_dir(root)
        .output()
        .unwrap();
    std::fs::remove_file(&patch).unwrap();
    assert!(
        out.status.success(),
        "git apply --check: {}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
}
