//! `rcfg apply` on a production server, part 2: crash consistency. Injected rename,
//! rollback and commit failures; SIGKILL at every step of a two-file apply, each followed by
//! the apply or undo that recovers; a file edited after the crash; edits racing the write,
//! in place and by rename; a full tmpfs. Fault injection uses the debug-only
//! `RCFG_TEST_STALL_AT` / `RCFG_TEST_FAIL_AT` hooks (`src/patch/faults.rs`); every wait is
//! bounded.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::apply_safety::*;
use common::{text, tree};

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
fn sigkill_at_random_moments_many_times_never_leaves_a_partial_site() {
    // Random delays (seed printed) cover the moments between the named steps too. They are
    // spread around the time one uninterrupted apply takes on this machine.
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("seed {seed}");
    let started = Instant::now();
    let (_tmp, root, intended) = bedrock();
    let pristine = tree(&root);
    let spawn = |root: &Path| {
        Command::new(env!("CARGO_BIN_EXE_rcfg"))
            .args(["apply", "--db", "1", "--prefix", "t:"])
            .arg(root)
            .env("RCFG_STATE_DIR", common::state_dir())
            .env("RCFG_REDIS_PASSWORD", SECRET)
            .env("RCFG_LOCAL_SOCKETS", "/nonexistent/rcfg-test.sock")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    let t0 = Instant::now();
    assert!(spawn(&root).wait().unwrap().success());
    let full = t0.elapsed();
    assert_eq!(apply(&root, &["--undo"], &[]).status.code(), Some(0));
    assert_eq!(tree(&root), pristine);
    let (mut recovered, mut completed) = (0, 0);
    for round in 0..40 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let frac = 30 + (seed >> 33) % 80; // 30%..110% of a full run
        let delay = full * frac as u32 / 100;
        let mut child = spawn(&root);
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        each_file_old_or_new(&root, &pristine, &intended);
        // The undo recovers an interrupted run (and says so) or undoes a finished one.
        let out = apply(&root, &["--undo"], &[]);
        let stdout = text(&out.stdout);
        if stdout.contains("recovered an interrupted rcfg apply") {
            recovered += 1;
        } else if stdout.contains("restored ") {
            completed += 1;
        }
        no_secret(&out);
        assert_eq!(
            tree(&root),
            pristine,
            "round {round}: {stdout}{}",
            text(&out.stderr)
        );
    }
    eprintln!(
        "full apply {full:?}; interrupted and recovered: {recovered}; completed: {completed}"
    );
    // A last apply lands on the intended bytes.
    let out = apply(&root, &[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(tree(&root), intended);
    site_is_clean(&root);
    assert!(
        started.elapsed() < Duration::from_secs(150),
        "bounded for CI"
    );
}

#[test]
fn a_second_rcfg_on_the_same_site_is_refused_while_the_first_writes() {
    let (_tmp, root, intended) = bedrock();
    let mut first = Command::new(env!("CARGO_BIN_EXE_rcfg"))
        .args(["apply", "--db", "1", "--prefix", "t:"])
        .arg(&root)
        .env("RCFG_STATE_DIR", common::state_dir())
        .env("RCFG_REDIS_PASSWORD", SECRET)
        .env("RCFG_LOCAL_SOCKETS", "/nonexistent/rcfg-test.sock")
        .env("RCFG_TEST_STALL_AT", "prepared")
        .env("RCFG_TEST_STALL_SECS", "3")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(first.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("test stall at prepared"), "{line}");
    let second = apply(&root, &["--ttl", "60"], &[]);
    assert_eq!(second.status.code(), Some(2));
    assert!(
        text(&second.stderr).contains("another rcfg is writing this site right now"),
        "{}",
        text(&second.stderr)
    );
    assert!(first.wait().unwrap().success());
    assert_eq!(tree(&root), intended, "the first one finished undisturbed");
}
