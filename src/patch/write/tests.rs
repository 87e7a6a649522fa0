use super::*;
use std::os::unix::fs::PermissionsExt;

fn state() -> (tempfile::TempDir, PathBuf) {
    let s = tempfile::tempdir().unwrap();
    let p = s.path().to_path_buf();
    (s, p)
}

#[test]
fn writes_keep_permissions_and_back_up_into_the_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, sdir) = state();
    let f = dir.path().join("wp-config.php");
    fs::write(&f, "old\n").unwrap();
    fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
    let mut plan = Plan::new(dir.path());
    plan.patches.push(Patch::edit(
        dir.path(),
        "wp-config.php",
        "old\n".into(),
        "new\n".into(),
    ));
    plan.patches
        .push(Patch::create(dir.path(), "new.php", "<?php\n".into()));
    let st = SiteState::open(&sdir, dir.path()).unwrap();
    let w = write_plan_in(&plan, &st, WriteOptions { backup: true }).unwrap();
    assert_eq!(fs::read_to_string(&f).unwrap(), "new\n");
    assert_eq!(
        fs::metadata(&f).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert_eq!(w.backups.len(), 1);
    assert!(w.backups[0].starts_with(&sdir));
    assert_eq!(fs::read_to_string(&w.backups[0]).unwrap(), "old\n");
    assert_eq!(
        fs::metadata(&w.backups[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(w.files.len(), 2);
    // The created file takes the metadata of its neighbour.
    let created = dir.path().join("new.php");
    assert_eq!(
        fs::metadata(&created).unwrap().permissions().mode() & 0o777,
        0o640
    );
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "no temp or backup next to the files: {names:?}"
    );
}

#[test]
fn a_file_changed_on_disk_stops_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (_s, sdir) = state();
    let a = dir.path().join("a.php");
    let b = dir.path().join("b.php");
    fs::write(&a, "a\n").unwrap();
    fs::write(&b, "b changed\n").unwrap();
    let mut plan = Plan::new(dir.path());
    plan.patches
        .push(Patch::edit(dir.path(), "a.php", "a\n".into(), "A\n".into()));
    plan.patches
        .push(Patch::edit(dir.path(), "b.php", "b\n".into(), "B\n".into()));
    let st = SiteState::open(&sdir, dir.path()).unwrap();
    let err = write_plan_in(&plan, &st, WriteOptions { backup: false })
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("b.php") && err.contains("changed on disk"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&a).unwrap(), "a\n");
    assert_eq!(fs::read_to_string(&b).unwrap(), "b changed\n");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".rcfg-"))
        .collect();
    assert!(leftovers.is_empty(), "temp files are cleaned up");
}

#[test]
fn temp_names_keep_the_extension() {
    let t = temp_names(Path::new("/s/wp-config.php"), "7");
    assert_eq!(t[0], Path::new("/s/.wp-config.rcfg-7-new.php"));
    assert_eq!(t[1], Path::new("/s/.wp-config.rcfg-7-old.php"));
    let t = temp_names(Path::new("/s/.env"), "7");
    assert_eq!(t[0], Path::new("/s/..env.rcfg-7-new"));
}
