//! The README's walk-through, step by step, on a copy of the sample hosting root: detect finds
//! the collisions, apply fixes them, detect agrees, audit-ttl is clean, undo restores every
//! byte.

mod common;

use common::{copy_fixture, rcfg};

fn code(args: &[&str]) -> i32 {
    let out = rcfg().args(args).output().unwrap();
    out.status.code().unwrap()
}

fn snapshot(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut files: Vec<_> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().to_path_buf(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn detect_apply_detect_audit_undo() {
    let (_tmp, root) = copy_fixture("hosting-root");
    let r = root.to_str().unwrap();
    let before = snapshot(&root);

    assert_eq!(code(&["detect", "--root", r]), 1, "collisions before apply");
    let dry = rcfg()
        .args(["apply", "--root", r, "--dry-run"])
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&dry.stdout).contains("+++ b/"));
    assert_eq!(snapshot(&root), before, "--dry-run wrote something");

    assert_eq!(code(&["apply", "--root", r]), 0);
    assert_ne!(snapshot(&root), before);
    assert_eq!(
        code(&["detect", "--root", r]),
        0,
        "collisions left after apply"
    );
    assert_eq!(code(&["audit-ttl", r]), 0);

    assert_eq!(code(&["apply", "--undo", "--root", r]), 0);
    assert_eq!(snapshot(&root), before, "undo did not restore every byte");
}
