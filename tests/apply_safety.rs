//! `rcfg apply` on a production server, part 1: ownership, ACLs and xattrs kept, backups in
//! the state directory and `--undo`, symlinks and special files refused, a private state
//! directory, a warning for world-readable files given a password. Part 2 (crashes, faults,
//! races, a full disk) is `tests/apply_crash.rs`.
//!
//! Runs as root (chown to www-data; skipped with a note otherwise).

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::apply_safety::*;
use common::{copy_fixture, rcfg, text, tree};

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
        err.contains("wp-config.php holds a password and is readable by every user"),
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

#[test]
fn no_backup_keeps_no_copy_after_success_and_undo_says_why_it_cannot() {
    let (_tmp, root, intended) = bedrock();
    let pristine = tree(&root);
    let out = apply(&root, &["--no-backup"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        !text(&out.stdout).contains("backup "),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(tree(&root), intended);
    let undo = apply(&root, &["--undo"], &[]);
    assert_eq!(undo.status.code(), Some(2));
    assert!(
        text(&undo.stderr).contains("kept no backup (--no-backup); nothing was restored"),
        "{}",
        text(&undo.stderr)
    );
    assert_eq!(tree(&root), intended);
    assert_ne!(tree(&root), pristine);
    site_is_clean(&root);
}
