//! Shared helpers for the integration tests: run the built `rcfg` binary, find fixtures,
//! copy a fixture tree into a temp dir.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `rcfg` binary under test, run from the repository root, with colour and local-socket
/// discovery neutralised so output does not depend on the machine.
pub fn rcfg() -> Command {
    let mut cmd = Command::cargo_bin("rcfg").expect("rcfg binary");
    cmd.current_dir(repo_root())
        .env("NO_COLOR", "1")
        .env("RCFG_LOCAL_SOCKETS", "/nonexistent/rcfg-test.sock")
        .env_remove("REDISCLI_AUTH");
    cmd
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
pub mod redis_server;
