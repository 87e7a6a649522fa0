//! `rcfg apply --root`: every site of a hosting root planned at once, each given its own
//! database and prefix; one diff that `git apply` accepts from the root; the collisions
//! `detect` reported are gone afterwards; a root with more sites than databases is refused.
//! Also the `[apply]` profile in `rcfg.toml` and its precedence under flags.

mod common;

use common::{copy_fixture, git_apply_check, json_of, rcfg, text, tree};
use serde_json::Value;

fn detect_root(root: &std::path::Path) -> Value {
    let out = rcfg()
        .arg("detect")
        .arg("--root")
        .arg(root)
        .args(["--format", "json"])
        .output()
        .unwrap();
    json_of(&out)
}

#[test]
fn a_hosting_root_gets_distinct_databases_and_prefixes_and_no_collisions() {
    let (_tmp, root) = copy_fixture("hosting-root");
    let before = detect_root(&root);
    assert_eq!(before["collisions"].as_array().unwrap().len(), 2);

    let dry = rcfg()
        .args(["apply", "--dry-run", "--root"])
        .arg(&root)
        .env_remove("RCFG_REDIS_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let diff = text(&dry.stdout);
    for header in [
        "+++ b/api.example.com/medusa-config.ts",
        "+++ b/blog.example.com/wp-config.php",
        "+++ b/shop.example.com/wp-config.php",
        "+++ b/store.example.com/app/etc/env.php",
        "+++ b/intranet.example.com/web/sites/default/settings.redis.php",
    ] {
        assert!(diff.contains(header), "missing {header} in:\n{diff}");
    }
    assert!(
        !diff.contains("laravel-app"),
        "non-CMS trees are not touched"
    );
    git_apply_check(&root, &diff);

    let untouched = tree(&root.join("laravel-app"));
    let out = rcfg()
        .args(["apply", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(tree(&root.join("laravel-app")), untouched);

    let after = detect_root(&root);
    assert_eq!(
        after["collisions"].as_array().unwrap().len(),
        0,
        "{:#}",
        after["collisions"]
    );
    // Every cache database (and Magento's page cache) on the cache instance is distinct.
    let mut dbs = Vec::new();
    let mut prefixes = Vec::new();
    for site in after["sites"].as_array().unwrap() {
        for role in ["cache", "page_cache"] {
            let conn = &site["redis"][role];
            if conn.is_object() {
                dbs.push(conn["database"]["value"].as_i64().unwrap());
                assert_eq!(
                    conn["transport"]["value"]["path"], "/var/run/redis/redis.sock",
                    "{}",
                    site["path"]
                );
            }
        }
        prefixes.push(
            site["redis"]["cache"]["prefix"]["value"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let n = dbs.len();
    dbs.sort_unstable();
    dbs.dedup();
    assert_eq!(dbs.len(), n, "databases are distinct: {dbs:?}");
    assert!(
        !dbs.contains(&0),
        "database 0 is left to unconfigured clients"
    );
    let p = prefixes.len();
    prefixes.sort();
    prefixes.dedup();
    assert_eq!(prefixes.len(), p, "prefixes are distinct: {prefixes:?}");
    // Existing distinct assignments are kept: the blog keeps database 2, the intranet 3,
    // the API 5; the shop and the store move off the databases they shared.
    let db_of = |dir: &str| {
        after["sites"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["path"].as_str().unwrap().ends_with(dir))
            .unwrap()["redis"]["cache"]["database"]["value"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(db_of("blog.example.com"), 2);
    assert_eq!(db_of("intranet.example.com"), 3);
    assert_eq!(db_of("api.example.com"), 5);
    assert_ne!(db_of("shop.example.com"), 2);
    assert_ne!(db_of("store.example.com"), 3);

    // Idempotent: nothing pending, nothing rewritten.
    let snapshot = tree(&root);
    let check = rcfg()
        .args(["apply", "--check", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
    let again = rcfg()
        .args(["apply", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert!(text(&again.stdout).contains("already up to date"));
    assert_eq!(tree(&root), snapshot);
}

#[test]
fn more_sites_than_databases_is_refused_and_nothing_is_written() {
    let (_tmp, root) = copy_fixture("hosting-root");
    let before = tree(&root);
    let out = rcfg()
        .args(["apply", "--databases", "4", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("not enough Redis databases"), "{err}");
    assert!(err.contains("--databases"), "says what to do: {err}");
    assert_eq!(tree(&root), before);
}

#[test]
fn the_apply_profile_in_rcfg_toml_is_used_and_flags_override_it() {
    let (tmp, root) = copy_fixture("wordpress-classic");
    let profile = tmp.path().join("rcfg.toml");
    std::fs::write(
        &profile,
        "[apply]\nsocket = \"/run/redis-cache/cache.sock\"\nttl = 3600\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = rcfg()
            .args(["apply", "--dry-run", "--db", "4", "--config"])
            .arg(&profile)
            .args(extra)
            .arg(&root)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let diff = run(&[]);
    assert!(diff.contains("'/run/redis-cache/cache.sock'"), "{diff}");
    assert!(
        diff.contains("define( 'WP_REDIS_MAXTTL', 3600 );"),
        "{diff}"
    );
    let diff = run(&["--ttl", "600", "--socket", "/run/other.sock"]);
    assert!(diff.contains("'/run/other.sock'"), "{diff}");
    assert!(diff.contains("define( 'WP_REDIS_MAXTTL', 600 );"), "{diff}");

    std::fs::write(&profile, "[apply]\nsockett = \"/x\"\n").unwrap();
    let out = rcfg()
        .args(["apply", "--dry-run", "--config"])
        .arg(&profile)
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("invalid [apply] section"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_zero_ttl_is_refused() {
    let (_tmp, root) = copy_fixture("wordpress-classic");
    let out = rcfg()
        .args(["apply", "--dry-run", "--ttl", "0"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--ttl must be a positive number"));
}

#[test]
fn flags_for_one_site_are_refused_with_root_and_nothing_is_written() {
    let (_tmp, root) = copy_fixture("hosting-root");
    let before = tree(&root);
    for (args, flag) in [
        (&["--db", "3"][..], "--db"),
        (&["--prefix", "x:"][..], "--prefix"),
        (&["--page-cache-db", "4"][..], "--page-cache-db"),
        (&["--session-db", "2"][..], "--session-db"),
        (
            &["--url", "redis://127.0.0.1:6379/4"][..],
            "a database in --url",
        ),
    ] {
        let out = rcfg()
            .args(["apply", "--root"])
            .arg(&root)
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.contains(flag) && err.contains("cannot apply to a whole root"),
            "{args:?}: {err}"
        );
        assert_eq!(text(&out.stdout), "", "{args:?}");
        assert_eq!(tree(&root), before, "{args:?}: nothing written");
    }
}

#[test]
fn every_skipped_site_is_listed_and_every_note_names_its_site() {
    let (tmp, root) = copy_fixture("hosting-root");
    common::copy_tree(&common::fixture("drupal7"), &root.join("old.example.com"));
    common::copy_tree(
        &common::fixture("magento1"),
        &root.join("legacy.example.com"),
    );
    let _keep = tmp;
    let out = rcfg()
        .args(["apply", "--dry-run", "--root"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    for (dir, why) in [
        (
            "old.example.com",
            "Drupal 7 is recognised but not supported",
        ),
        (
            "legacy.example.com",
            "Magento 1 / OpenMage is recognised but not supported",
        ),
    ] {
        let line = err
            .lines()
            .find(|l| l.starts_with("rcfg: skipped ") && l.contains(dir))
            .unwrap_or_else(|| panic!("{dir} not listed as skipped:\n{err}"));
        assert!(line.contains(why), "{line}");
    }
    let diff = text(&out.stdout);
    let sites = [
        "api.example.com",
        "blog.example.com",
        "intranet.example.com",
        "shop.example.com",
        "store.example.com",
    ];
    let notes: Vec<&str> = diff.lines().filter(|l| l.starts_with("# ")).collect();
    assert!(notes.len() >= 5, "{diff}");
    for n in &notes {
        assert!(
            sites.iter().any(|s| n.starts_with(&format!("# {s}: "))),
            "a note without its site: {n}"
        );
    }
    assert!(!diff.contains("old.example.com") && !diff.contains("legacy.example.com"));
}
