//! `rcfg apply` on a production server: ownership and xattrs kept, backups in the state
//! directory with `--undo`, symlinks and special files refused, crash consistency under
//! SIGKILL and injected failures, a full file system, and edits racing the write.
//!
//! Runs as root (chown to www-data, tmpfs mount); fault injection uses the debug-only
//! `RCFG_TEST_STALL_AT` / `RCFG_TEST_FAIL_AT` hooks (`src/patch/faults.rs`).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{copy_fixture, rcfg, text, tree};

const SECRET: &str = "Sup3r-s3cret!pw";
const NEIGHBOUR_SECRET: &str = "neighbour-db-password-4711";

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

fn apply(site: &Path, extra: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
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
fn no_secret(out: &std::process::Output) {
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
fn site_is_clean(root: &Path) {
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
fn bedrock() -> (tempfile::TempDir, PathBuf, BTreeMap<PathBuf, Vec<u8>>) {
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
fn each_file_old_or_new(
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

#[test]
fn a_www_data_0640_file_keeps_owner_group_mode_acl_and_xattrs() {
    if !is_root() {
        eprintln!("skipped: needs root to chown to www-data");
        return;
    }
    let (_tmp, root) = copy_fixture("wordpress-classic");
    let cfg = root.join("wp-config.php");
    std::os::unix::fs::chown(&cfg, Some(33), Some(33)).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o640)).unwrap();
    xattr::set(&cfg, "user.rcfg-test", b"kept").unwrap();
    // POSIX ACL (user 1000 may read), the xattr form setfacl writes.
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 6u16, u32::MAX),
        (0x02, 4, 1000),
        (0x04, 4, u32::MAX),
        (0x10, 4, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    let acl_ok = xattr::set(&cfg, "system.posix_acl_access", &acl).is_ok();
    let before = std::fs::metadata(&cfg).unwrap();
    let acl_before = xattr::get(&cfg, "system.posix_acl_access").unwrap();

    let out = apply(&root, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    no_secret(&out);
    assert!(
        text(&out.stdout).contains("wrote "),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !text(&out.stderr).contains("readable by every user"),
        "0640 is not world-readable"
    );
    let after = std::fs::metadata(&cfg).unwrap();
    assert!(std::fs::read_to_string(&cfg).unwrap().contains(SECRET));
    assert_ne!(after.ino(), before.ino(), "replaced by rename");
    assert_eq!((after.uid(), after.gid()), (33, 33), "owner and group kept");
    assert_eq!(after.mode() & 0o7777, before.mode() & 0o7777, "mode kept");
    assert_eq!(
        xattr::get(&cfg, "user.rcfg-test").unwrap().as_deref(),
        Some(&b"kept"[..])
    );
    if acl_ok {
        assert_eq!(
            xattr::get(&cfg, "system.posix_acl_access").unwrap(),
            acl_before
        );
    } else {
        eprintln!("note: this file system takes no POSIX ACL; ACL copy not exercised");
    }
    // The backup: in the state dir, 0600, the exact original bytes, directory 0700.
    let backup = text(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("backup ").map(PathBuf::from))
        .expect("a backup line");
    assert!(
        backup.starts_with(common::state_dir()),
        "{}",
        backup.display()
    );
    assert_eq!(std::fs::metadata(&backup).unwrap().mode() & 0o777, 0o600);
    assert_eq!(
        std::fs::metadata(backup.parent().unwrap()).unwrap().mode() & 0o777,
        0o700
    );
    site_is_clean(&root);
}

#[test]
fn not_root_and_not_the_owner_is_refused_before_anything_is_written() {
    if !is_root() {
        eprintln!("skipped: needs root to set up another user's file");
        return;
    }
    let (tmp, root) = copy_fixture("wordpress-classic");
    let state = tempfile::tempdir().unwrap();
    for d in [tmp.path(), &root, state.path()] {
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    let cfg = root.join("wp-config.php");
    std::os::unix::fs::chown(&cfg, Some(33), Some(33)).unwrap();
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
    let before = tree(&root);
    // As nobody (65534): may read the file and write the directory, but not chown.
    let out = {
        use std::os::unix::process::CommandExt;
        Command::new(env!("CARGO_BIN_EXE_rcfg"))
            .args(["apply", "--db", "1", "--prefix", "t:"])
            .arg(&root)
            .env("RCFG_STATE_DIR", state.path())
            .env("RCFG_REDIS_PASSWORD", SECRET)
            .env("NO_COLOR", "1")
            .uid(65534)
            .gid(65534)
            .output()
            .unwrap()
    };
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("wp-config.php: owned by uid 33") && err.contains("nothing was written"),
        "{err}"
    );
    no_secret(&out);
    assert_eq!(tree(&root), before, "nothing written");
}

#[test]
fn a_symlink_out_of_the_site_is_refused_before_anything_is_printed() {
    let (tmp, root) = copy_fixture("wordpress-bedrock");
    // A neighbour's .env, and this site's .env pointing at it.
    let neighbour = tmp.path().join("neighbour");
    std::fs::create_dir(&neighbour).unwrap();
    let theirs = neighbour.join(".env");
    let theirs_text = format!("DB_PASSWORD='{NEIGHBOUR_SECRET}'\nWP_ENV=production\n");
    std::fs::write(&theirs, &theirs_text).unwrap();
    std::fs::remove_file(root.join(".env")).unwrap();
    std::os::unix::fs::symlink("../neighbour/.env", root.join(".env")).unwrap();
    let before = tree(&root);
    for mode in [&["--dry-run"][..], &[]] {
        let out = apply(&root, mode, &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{mode:?}: {}",
            text(&out.stdout)
        );
        let err = text(&out.stderr);
        assert!(
            err.contains(".env: resolves to") && err.contains("outside the site root"),
            "{err}"
        );
        assert!(
            !text(&out.stdout).contains("+++") && !text(&out.stdout).contains("DB_PASSWORD"),
            "nothing printed: {}",
            text(&out.stdout)
        );
        no_secret(&out);
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), theirs_text);
        assert_eq!(tree(&root), before);
    }
    // Allowed explicitly: written at the target, said so.
    let out = apply(&root, &["--allow-outside-root"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains(".env (a symlink: edited its target"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        std::fs::symlink_metadata(root.join(".env"))
            .unwrap()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&theirs)
            .unwrap()
            .contains("WP_REDIS")
    );
}

#[test]
fn a_symlink_inside_the_site_is_edited_at_its_target_and_reported() {
    let (_tmp, root) = copy_fixture("wordpress-classic");
    std::fs::create_dir(root.join("shared")).unwrap();
    std::fs::rename(
        root.join("wp-config.php"),
        root.join("shared/wp-config.php"),
    )
    .unwrap();
    std::os::unix::fs::symlink("shared/wp-config.php", root.join("wp-config.php")).unwrap();
    let dry = apply(&root, &["--dry-run"], &[]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stderr).contains("wp-config.php is a symlink: rcfg edits its target"),
        "{}",
        text(&dry.stderr)
    );
    let out = apply(&root, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("wp-config.php (a symlink: edited its target")
            && stdout.contains("shared/wp-config.php"),
        "{stdout}"
    );
    assert!(
        std::fs::symlink_metadata(root.join("wp-config.php"))
            .unwrap()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(root.join("shared/wp-config.php"))
            .unwrap()
            .contains("WP_REDIS")
    );
    no_secret(&out);
}

#[test]
fn a_fifo_or_dev_zero_as_config_file_is_refused_quickly() {
    for kind in ["fifo", "dev-zero"] {
        let (_tmp, root) = copy_fixture("wordpress-classic");
        let cfg = root.join("wp-config.php");
        std::fs::remove_file(&cfg).unwrap();
        if kind == "fifo" {
            rustix::fs::mknodat(
                rustix::fs::CWD,
                &cfg,
                rustix::fs::FileType::Fifo,
                rustix::fs::Mode::from_raw_mode(0o644),
                0,
            )
            .unwrap();
        } else {
            std::os::unix::fs::symlink("/dev/zero", &cfg).unwrap();
        }
        let started = Instant::now();
        let out = apply(&root, &["--dry-run"], &[]);
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{kind}: too slow"
        );
        assert_eq!(out.status.code(), Some(2), "{kind}");
        assert!(
            text(&out.stderr).contains("wp-config.php"),
            "{kind}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stdout).is_empty(),
            "{kind}: {}",
            text(&out.stdout)
        );
        no_secret(&out);
        site_is_clean(&root);
    }
}

#[test]
fn backups_are_never_overwritten_and_undo_restores_the_last_apply() {
    let (_tmp, root, intended) = bedrock();
    let pristine = tree(&root);
    let first = apply(&root, &[], &[]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(tree(&root), intended);
    let second = apply(&root, &["--ttl", "3600"], &[]);
    assert_eq!(second.status.code(), Some(0), "{}", text(&second.stderr));
    let after_second = tree(&root);
    // Both runs keep their own backup of .env: the true original survives the second apply.
    let env = Path::new(".env");
    assert_eq!(
        common::backup_of(&first.stdout, env).as_ref(),
        pristine.get(env)
    );
    assert_eq!(
        common::backup_of(&second.stdout, env).as_ref(),
        intended.get(env)
    );

    // A file changed since rcfg wrote it stops the undo, naming it; nothing restored.
    let env_path = root.join(".env");
    let mut edited = after_second[env].clone();
    edited.extend_from_slice(b"EXTRA=1\n");
    std::fs::write(&env_path, &edited).unwrap();
    let refused = apply(&root, &["--undo"], &[]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains(".env")
            && text(&refused.stderr).contains("changed since rcfg wrote it"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(
        std::fs::read(root.join("config/application.php")).unwrap(),
        after_second[Path::new("config/application.php")]
    );
    std::fs::write(&env_path, &after_second[env]).unwrap();

    // Undo twice: back to after the first apply, then to the original.
    for want in [&intended, &pristine] {
        let out = apply(&root, &["--undo"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("restored "),
            "{}",
            text(&out.stdout)
        );
        assert!(text(&out.stdout).contains(".env"), "{}", text(&out.stdout));
        no_secret(&out);
        assert_eq!(&tree(&root), want);
    }
    // Planning flags mean nothing to an undo: refused, not ignored.
    let mixed = rcfg()
        .args(["apply", "--undo", "--ttl", "60"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(mixed.status.code(), Some(2));
    assert!(text(&mixed.stderr).contains("'--undo' cannot be used with"));
    let none = apply(&root, &["--undo"], &[]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        text(&none.stderr).contains("no apply of this site to undo"),
        "{}",
        text(&none.stderr)
    );
    site_is_clean(&root);
}

#[test]
fn a_failed_rename_is_rolled_back_and_a_failed_rollback_is_finished_by_the_next_run() {
    let (_tmp, root, intended) = bedrock();
    let before = tree(&root);
    // The second rename fails: the first file is put back by rename.
    let out = apply(&root, &[], &[("RCFG_TEST_FAIL_AT", "rename:1")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("injected failure at rename:1") && err.contains("rolled back"),
        "{err}"
    );
    assert_eq!(tree(&root), before);
    no_secret(&out);

    // …and now the rollback fails too: the error says so and names the file.
    let out = apply(&root, &[], &[("RCFG_TEST_FAIL_AT", "rename:1,rollback:0")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("ROLLBACK INCOMPLETE") && err.contains("rcfg apply --undo"),
        "{err}"
    );
    assert!(!err.contains("restored as before"), "{err}");
    each_file_old_or_new(&root, &before, &intended);
    no_secret(&out);

    // The next apply first finishes the rollback, says so, then applies.
    let out = apply(&root, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("recovered an interrupted rcfg apply"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(tree(&root), intended);
    site_is_clean(&root);
}

/// Run apply stalled at `step`, SIGKILL it there. False if it never reached the step.
fn kill_at(root: &Path, step: &str) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rcfg"))
        .args(["apply", "--db", "1", "--prefix", "t:"])
        .arg(root)
        .env("RCFG_STATE_DIR", common::state_dir())
        .env("RCFG_REDIS_PASSWORD", SECRET)
        .env("RCFG_LOCAL_SOCKETS", "/nonexistent/rcfg-test.sock")
        .env("RCFG_TEST_STALL_AT", step)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("test stall at") {
                let _ = tx.send(());
            }
        }
    });
    let reached = rx.recv_timeout(Duration::from_secs(30)).is_ok();
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();
    reached
}

#[test]
fn sigkill_at_every_step_of_a_two_file_apply_leaves_no_partial_file_and_is_recovered() {
    let steps = [
        "prepared",
        "stage:0",
        "stage:1",
        "rename:0",
        "swap:0",
        "renamed:0",
        "rename:1",
        "swap:1",
        "renamed:1",
        "commit",
    ];
    let started = Instant::now();
    for (n, step) in steps.iter().enumerate() {
        let (_tmp, root, intended) = bedrock();
        let before = tree(&root);
        assert!(kill_at(&root, step), "never reached {step}");
        each_file_old_or_new(&root, &before, &intended);
        // Alternate: the next apply, or the next undo, recovers first and says so.
        let next = if n % 2 == 0 {
            apply(&root, &[], &[])
        } else {
            apply(&root, &["--undo"], &[])
        };
        assert!(
            text(&next.stdout).contains("recovered an interrupted rcfg apply"),
            "{step}: {}\n{}",
            text(&next.stdout),
            text(&next.stderr)
        );
        no_secret(&next);
        if n % 2 == 0 {
            assert_eq!(
                next.status.code(),
                Some(0),
                "{step}: {}",
                text(&next.stderr)
            );
            assert_eq!(tree(&root), intended, "{step}");
        } else {
            // Rolled back; nothing committed to undo.
            assert_eq!(next.status.code(), Some(2), "{step}");
            assert!(text(&next.stderr).contains("no apply of this site to undo"));
            assert_eq!(tree(&root), before, "{step}");
        }
        site_is_clean(&root);
    }
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "bounded for CI"
    );
}

#[test]
fn an_edit_racing_the_write_is_kept_and_reported() {
    // In place (same inode) and by rename (a new inode), in the last window before the swap.
    for how in ["in-place", "rename"] {
        let (_tmp, root, _intended) = bedrock();
        let before = tree(&root);
        let mut child = Command::new(env!("CARGO_BIN_EXE_rcfg"))
            .args(["apply", "--db", "1", "--prefix", "t:"])
            .arg(&root)
            .env("RCFG_STATE_DIR", common::state_dir())
            .env("RCFG_REDIS_PASSWORD", SECRET)
            .env("RCFG_LOCAL_SOCKETS", "/nonexistent/rcfg-test.sock")
            .env("RCFG_TEST_STALL_AT", "swap:0")
            .env("RCFG_TEST_STALL_SECS", "2")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        assert!(line.contains("test stall at swap:0"), "{line}");
        // The first file of the run: application.php (existing files in plan order).
        let victim = root.join("config/application.php");
        let mut theirs = before[Path::new("config/application.php")].clone();
        theirs.extend_from_slice(b"// edited by someone else\n");
        if how == "in-place" {
            std::fs::write(&victim, &theirs).unwrap();
        } else {
            let t = root.join("config/.their-tmp");
            std::fs::write(&t, &theirs).unwrap();
            std::fs::rename(&t, &victim).unwrap();
        }
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(2), "{how}: {rest}");
        assert!(
            rest.contains("application.php: changed on disk while rcfg was writing it"),
            "{how}: {rest}"
        );
        assert_eq!(
            std::fs::read(&victim).unwrap(),
            theirs,
            "{how}: their edit kept"
        );
        assert_eq!(
            std::fs::read(root.join(".env")).unwrap(),
            before[Path::new(".env")]
        );
        site_is_clean(&root);
    }
}

/// A tmpfs mounted for the test, unmounted on drop.
struct Mount(PathBuf);
impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_file_system_changes_nothing_and_leaves_no_temp_file() {
    let tmp = tempfile::tempdir().unwrap();
    let mnt = tmp.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: cannot mount a tmpfs here (needs root)");
        return;
    }
    let _m = Mount(mnt.clone());
    let root = mnt.join("wordpress-classic");
    common::copy_tree(&common::fixture("wordpress-classic"), &root);
    // Fill the file system.
    let filler = vec![0u8; 4096];
    let mut f = std::fs::File::create(mnt.join("filler")).unwrap();
    while std::io::Write::write_all(&mut f, &filler).is_ok() {}
    drop(f);
    let before = tree(&root);
    let out = apply(&root, &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("wp-config.php") && err.contains("nothing was written"),
        "{err}"
    );
    no_secret(&out);
    assert_eq!(tree(&root), before);
    site_is_clean(&root);
    // Room again: the next apply works.
    std::fs::remove_file(mnt.join("filler")).unwrap();
    let out = apply(&root, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_world_readable_file_given_a_password_is_named_and_root_undo_restores_every_site() {
    let (_tmp, root) = copy_fixture("hosting-root");
    let pristine = tree(&root);
    let out = rcfg()
        .args(["apply", "--root"])
        .arg(&root)
        .env("RCFG_REDIS_PASSWORD", SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    no_secret(&out);
    let err = text(&out.stderr);
    // The fixture's files are 0644: kept, but named.
    assert!(
        err.contains("wp-config.php holds the Redis password and is readable by every user"),
        "{err}"
    );
    assert_ne!(tree(&root), pristine);
    let undo = rcfg()
        .args(["apply", "--undo", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(undo.status.code(), Some(0), "{}", text(&undo.stderr));
    assert!(
        text(&undo.stdout).contains("restored "),
        "{}",
        text(&undo.stdout)
    );
    no_secret(&undo);
    assert_eq!(tree(&root), pristine);
}

#[test]
fn a_state_directory_that_is_not_private_is_refused() {
    let (_tmp, root) = copy_fixture("wordpress-classic");
    let state = tempfile::tempdir().unwrap();
    let env = [("RCFG_STATE_DIR", state.path().to_str().unwrap())];
    let first = apply(&root, &[], &env);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let site_dir = std::fs::read_dir(state.path().join("sites"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    std::fs::set_permissions(&site_dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let before = tree(&root);
    let out = apply(&root, &["--ttl", "600"], &env);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("state directory is not private"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(tree(&root), before);
}

#[test]
fn recovery_leaves_a_file_changed_after_the_crash_alone_and_names_it() {
    let (_tmp, root, intended) = bedrock();
    let before = tree(&root);
    assert!(kill_at(&root, "renamed:0"), "never reached renamed:0");
    // Exactly one file was swapped; someone edits it before rcfg runs again.
    let swapped: Vec<PathBuf> = before
        .keys()
        .filter(|rel| {
            std::fs::read(root.join(rel)).ok().as_ref() != before.get(*rel)
                && !rel.to_string_lossy().contains(".rcfg")
        })
        .cloned()
        .collect();
    assert_eq!(swapped.len(), 1, "{swapped:?}");
    let edited_path = root.join(&swapped[0]);
    let mut edited = intended[&swapped[0]].clone();
    edited.extend_from_slice(b"\n# hand edit\n");
    std::fs::write(&edited_path, &edited).unwrap();
    let out = apply(&root, &[], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(
        err.contains("changed by someone else since")
            && err.contains(&*swapped[0].to_string_lossy()),
        "{err}"
    );
    assert_eq!(std::fs::read(&edited_path).unwrap(), edited, "left alone");
    for (rel, bytes) in &before {
        if rel != &swapped[0] {
            assert_eq!(
                &std::fs::read(root.join(rel)).unwrap(),
                bytes,
                "{}",
                rel.display()
            );
        }
    }
    site_is_clean(&root);
}

#[test]
fn a_failure_at_commit_is_rolled_back_to_the_exact_original() {
    let (_tmp, root, _intended) = bedrock();
    let before = tree(&root);
    let out = apply(&root, &[], &[("RCFG_TEST_FAIL_AT", "commit")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(
        err.contains("injected failure at commit") && err.contains("rolled back"),
        "{err}"
    );
    assert_eq!(tree(&root), before);
    site_is_clean(&root);
}

#[test]
fn a_default_acl_of_the_directory_does_not_end_up_on_the_rewritten_file() {
    let (_tmp, root) = copy_fixture("wordpress-classic");
    let cfg = root.join("wp-config.php");
    std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o640)).unwrap();
    // Default ACL on the directory: new files there would get user 1000 rw.
    let mut acl = 2u32.to_le_bytes().to_vec();
    for (tag, perm, id) in [
        (0x01u16, 6u16, u32::MAX),
        (0x02, 6, 1000),
        (0x04, 4, u32::MAX),
        (0x10, 6, u32::MAX),
        (0x20, 0, u32::MAX),
    ] {
        acl.extend(tag.to_le_bytes());
        acl.extend(perm.to_le_bytes());
        acl.extend(id.to_le_bytes());
    }
    if xattr::set(&root, "system.posix_acl_default", &acl).is_err() {
        eprintln!("skipped: this file system takes no POSIX ACL");
        return;
    }
    assert_eq!(xattr::get(&cfg, "system.posix_acl_access").unwrap(), None);
    let out = apply(&root, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&cfg).unwrap().contains(SECRET));
    assert_eq!(
        xattr::get(&cfg, "system.posix_acl_access").unwrap(),
        None,
        "no ACL the original did not have"
    );
    assert_eq!(std::fs::metadata(&cfg).unwrap().mode() & 0o7777, 0o640);
    no_secret(&out);
}
