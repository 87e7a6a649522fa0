//! Sites found from wherever the engineer stands (issue 12): `detect PATH`, `apply PATH`
//! and `audit-ttl PATH` agree on the site from the site's own directory, its docroot and a
//! subdirectory of the docroot, on the hosting-panel and deploy layouts of
//! `fixtures/layouts/` and on Bedrock / composer Drupal projects; `detect --root` knows the
//! panel layouts and never lists a deploy tool's old releases.

mod common;

use common::{copy_tree, json_of, rcfg};
use serde_json::Value;

const L: &str = "fixtures/layouts";

/// (site root, CMS, starting directories relative to the repository root).
fn cases() -> Vec<(String, &'static str, Vec<String>)> {
    let at = |base: &str, subs: &[&str]| -> Vec<String> {
        subs.iter()
            .map(|s| {
                if s.is_empty() {
                    base.to_string()
                } else {
                    format!("{base}/{s}")
                }
            })
            .collect()
    };
    let cpanel = format!("{L}/cpanel/home/alice");
    let plesk = format!("{L}/plesk/var/www/vhosts/shop.example.com");
    let da = format!("{L}/directadmin/home/bob/domains/bob.example.org");
    let isp = format!("{L}/ispconfig/var/www/clients/client1/web1");
    let dep = format!("{L}/deployer/var/www/app");
    vec![
        (
            format!("{cpanel}/public_html"),
            "wordpress",
            at(
                &cpanel,
                &[
                    "",
                    "public_html",
                    "public_html/wp-content/plugins/redis-cache",
                ],
            ),
        ),
        (
            format!("{plesk}/httpdocs"),
            "magento2",
            at(
                &plesk,
                &["", "httpdocs", "httpdocs/pub", "httpdocs/app/etc"],
            ),
        ),
        (
            format!("{da}/public_html"),
            "drupal",
            at(&da, &["", "public_html", "public_html/sites/default"]),
        ),
        (
            format!("{isp}/web"),
            "wordpress",
            at(&isp, &["", "web", "web/wp-content"]),
        ),
        (
            format!("{dep}/current"),
            "wordpress",
            at(&dep, &["", "current", "current/wp-content/plugins"]),
        ),
        (
            "fixtures/wordpress-bedrock".to_string(),
            "wordpress",
            at(
                "fixtures/wordpress-bedrock",
                &["", "web", "web/wp", "web/app/plugins"],
            ),
        ),
        (
            "fixtures/drupal-composer".to_string(),
            "drupal",
            at(
                "fixtures/drupal-composer",
                &["", "web", "web/sites/default"],
            ),
        ),
    ]
}

fn paths(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list:#}"))
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn detect_finds_the_same_site_from_every_starting_directory() {
    for (root, cms, starts) in cases() {
        for start in starts {
            let out = rcfg()
                .args(["detect", "--format", "json", &start])
                .output()
                .unwrap();
            let inv = json_of(&out);
            assert_eq!(paths(&inv["sites"]), vec![root.clone()], "from {start}");
            let site = &inv["sites"][0];
            assert_eq!(site["cms"], cms, "from {start}");
            if start == root {
                assert!(site.get("found_from").is_none(), "from {start}: {site:#}");
            } else {
                assert_eq!(site["found_from"], start.as_str(), "from {start}");
            }
        }
    }
}

#[test]
fn detect_table_says_which_site_root_was_found() {
    let start = format!("{L}/cpanel/home/alice");
    let out = rcfg().args(["detect", &start]).output().unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains(&format!("site: {start}/public_html (found from {start})")),
        "{stdout}"
    );
    assert!(!stdout.contains("no CMS recognised"), "{stdout}");
}

#[test]
fn audit_ttl_agrees_with_detect_from_every_starting_directory() {
    for (root, _cms, starts) in cases() {
        for start in starts {
            let out = rcfg()
                .args(["audit-ttl", "--format", "json", &start])
                .output()
                .unwrap();
            let report = json_of(&out);
            let sites = paths(&report["stats"]["sites"]);
            // From the cPanel home the addon domain inside public_html is scanned too.
            let addon = format!("{L}/cpanel/home/alice/public_html/addon.example.net");
            let sites: Vec<String> = sites.into_iter().filter(|s| *s != addon).collect();
            assert_eq!(sites, vec![root.clone()], "from {start}: {report:#}");
        }
    }
}

#[test]
fn apply_dry_run_patches_the_same_site_from_every_starting_directory() {
    for (root, _cms, starts) in cases() {
        for start in starts {
            let out = rcfg()
                .args(["apply", "--dry-run", &start])
                // The composer Drupal fixture keeps a password for its old endpoint.
                .env("RCFG_REDIS_PASSWORD", "fixture-cache-pw")
                .env("RCFG_SESSION_REDIS_PASSWORD", "fixture-session-pw")
                .output()
                .unwrap();
            let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
            assert_eq!(out.status.code(), Some(0), "from {start}: {stderr}");
            let note = format!("rcfg: site: {root} (found from {start})");
            assert_eq!(
                stderr.contains(&note),
                start != root,
                "from {start}: {stderr}"
            );
            // A diff, Magento's setup:config:set equivalent, or a site already configured;
            // always about the site root, never about the starting directory.
            assert!(
                stdout.contains("+++ b/")
                    || stdout.contains(&format!("run from {root})"))
                    || stderr.contains(&format!("{root}: already up to date")),
                "from {start}: {stdout}{stderr}"
            );
        }
    }
}

#[test]
fn apply_from_a_deploy_directory_writes_the_live_release_only() {
    let tmp = tempfile::tempdir().unwrap();
    let app = tmp.path().join("app");
    copy_tree(
        &common::repo_root().join(L).join("deployer/var/www/app"),
        &app,
    );
    let old = std::fs::read(app.join("releases/2/wp-config.php")).unwrap();
    let live = std::fs::read(app.join("releases/3/wp-config.php")).unwrap();
    let out = rcfg().arg("apply").arg(&app).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!(
            "site: {} (found from {})",
            app.join("current").display(),
            app.display()
        )),
        "{}",
        text(&out.stderr)
    );
    assert_ne!(
        std::fs::read(app.join("releases/3/wp-config.php")).unwrap(),
        live,
        "the live release is patched through current"
    );
    assert_eq!(
        std::fs::read(app.join("releases/2/wp-config.php")).unwrap(),
        old,
        "an old release is never touched"
    );
}

#[test]
fn root_walk_knows_panel_layouts_and_skips_old_releases() {
    let expect: &[(&str, &[&str])] = &[
        (
            "cpanel/home",
            &[
                "cpanel/home/alice/public_html",
                "cpanel/home/alice/public_html/addon.example.net",
            ],
        ),
        (
            "plesk/var/www",
            &["plesk/var/www/vhosts/shop.example.com/httpdocs"],
        ),
        (
            "directadmin/home",
            &["directadmin/home/bob/domains/bob.example.org/public_html"],
        ),
        // ISPConfig links each domain to its clientN/webN: one site, under the first path.
        ("ispconfig/var/www", &["ispconfig/var/www/example.org/web"]),
        ("deployer/var/www", &["deployer/var/www/app/current"]),
    ];
    for (root, sites) in expect {
        let root = format!("{L}/{root}");
        let out = rcfg()
            .args(["detect", "--format", "json", "--root", &root])
            .output()
            .unwrap();
        let inv = json_of(&out);
        let want: Vec<String> = sites.iter().map(|s| format!("{L}/{s}")).collect();
        assert_eq!(paths(&inv["sites"]), want, "--root {root}");
        assert_eq!(inv["collisions"], serde_json::json!([]), "--root {root}");
        assert_eq!(inv["errors"], serde_json::json!([]), "--root {root}");
    }
}

#[test]
fn old_releases_are_neither_listed_nor_collisions() {
    // releases/2 and the live release share database 2 without a prefix: were the old
    // release listed, it would be reported as colliding with the live one.
    let root = format!("{L}/deployer");
    let www = format!("{L}/deployer/var/www");
    for args in [
        vec![
            "detect", "--format", "json", "--root", &root, "--depth", "6",
        ],
        vec!["audit-ttl", "--format", "json", &www],
    ] {
        let out = rcfg().args(&args).output().unwrap();
        let stdout = text(&out.stdout);
        assert!(!stdout.contains("releases/2"), "{args:?}: {stdout}");
        assert!(stdout.contains("app/current"), "{args:?}: {stdout}");
    }
}

#[test]
fn a_docroot_link_leaving_path_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    copy_tree(&common::fixture("wordpress-classic"), &elsewhere);
    let site_dir = tmp.path().join("example");
    std::fs::create_dir(&site_dir).unwrap();
    std::os::unix::fs::symlink(&elsewhere, site_dir.join("public_html")).unwrap();
    let out = rcfg()
        .args(["detect", "--format", "json"])
        .arg(&site_dir)
        .output()
        .unwrap();
    let inv = json_of(&out);
    assert_eq!(inv["sites"][0]["cms"], "unknown", "{inv:#}");
    // A link inside the tree is followed (a deploy tool's `current`).
    std::fs::rename(&elsewhere, site_dir.join("releases")).unwrap();
    std::fs::remove_file(site_dir.join("public_html")).unwrap();
    std::os::unix::fs::symlink("releases", site_dir.join("current")).unwrap();
    let out = rcfg()
        .args(["detect", "--format", "json"])
        .arg(&site_dir)
        .output()
        .unwrap();
    let inv = json_of(&out);
    assert_eq!(inv["sites"][0]["cms"], "wordpress", "{inv:#}");
    assert_eq!(
        inv["sites"][0]["path"],
        site_dir.join("current").display().to_string()
    );
}

#[test]
fn apply_refuses_a_path_holding_two_sites_and_names_them() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("example");
    copy_tree(
        &common::fixture("wordpress-classic"),
        &dir.join("public_html"),
    );
    copy_tree(&common::fixture("wordpress-classic"), &dir.join("httpdocs"));
    let out = rcfg()
        .args(["apply", "--dry-run"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("holds 2 sites"), "{stderr}");
    assert!(
        stderr.contains("public_html") && stderr.contains("httpdocs"),
        "{stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing planned: {}",
        text(&out.stdout)
    );
}

#[test]
fn a_directory_outside_any_site_is_still_no_cms() {
    let tmp = tempfile::tempdir().unwrap();
    let out = rcfg().arg("detect").arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("no CMS recognised"));
    assert!(!text(&out.stdout).contains("found from"));
}

#[test]
fn apply_in_a_panel_home_avoids_the_neighbours_database_and_names_the_prefix_after_the_user() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    copy_tree(
        &common::fixture("wordpress-classic"),
        &home.join("alice/public_html"),
    );
    let carol = home.join("carol/public_html");
    copy_tree(&common::fixture("hosting-root/blog.example.com"), &carol);
    // carol's site takes database 1, the first one apply would otherwise give alice.
    let cfg = carol.join("wp-config.php");
    let text_cfg = std::fs::read_to_string(&cfg).unwrap();
    let moved = text_cfg.replace("'WP_REDIS_DATABASE', 2 ", "'WP_REDIS_DATABASE', 1 ");
    assert_ne!(moved, text_cfg);
    std::fs::write(&cfg, moved).unwrap();
    let out = rcfg()
        .args(["apply", "--dry-run"])
        .arg(home.join("alice"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        stdout.contains("+define( 'WP_REDIS_DATABASE', 2 );"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+define( 'WP_REDIS_PREFIX', 'alice:' );"),
        "{stdout}"
    );
}

#[test]
fn audit_ttl_says_which_site_root_it_found_but_not_for_each_site_of_a_hosting_root() {
    let start = format!("{L}/plesk/var/www/vhosts/shop.example.com");
    let out = rcfg().args(["audit-ttl", &start]).output().unwrap();
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("site: {start}/httpdocs (found from {start})")),
        "{stdout}"
    );
    let out = rcfg()
        .args(["audit-ttl", "--format", "json", &format!("{L}/cpanel/home")])
        .output()
        .unwrap();
    let report = json_of(&out);
    let sites = report["stats"]["sites"].as_array().unwrap();
    assert_eq!(
        paths(&report["stats"]["sites"]),
        [format!("{L}/cpanel/home/alice/public_html")],
        "{report:#}"
    );
    assert!(
        sites.iter().all(|s| s.get("found_from").is_none()),
        "{report:#}"
    );
}

#[test]
fn audit_ttl_from_a_docroot_reports_the_projects_findings() {
    let project = "fixtures/drupal-docroot-lints";
    let findings = |report: &Value| -> Vec<String> {
        let mut v: Vec<String> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["code"].as_str().unwrap(),
                    f["location"]["line"].as_u64().unwrap()
                )
            })
            .collect();
        v.sort();
        v
    };
    let run = |dir: &str, arg: &str| {
        let out = rcfg()
            .current_dir(common::repo_root().join(dir))
            .args(["audit-ttl", "--format", "json", arg])
            .output()
            .unwrap();
        json_of(&out)
    };
    let whole = run(".", project);
    assert!(!findings(&whole).is_empty(), "{whole:#}");
    // From the docroot by path, and standing in it (PATH `.`).
    for (dir, arg) in [
        (".", format!("{project}/docroot")),
        (&format!("{project}/docroot")[..], ".".to_string()),
    ] {
        let report = run(dir, &arg);
        assert_eq!(
            findings(&report),
            findings(&whole),
            "{dir} {arg}: {report:#}"
        );
        let site = &report["stats"]["sites"][0];
        assert!(
            site["path"].as_str().unwrap().ends_with(project),
            "{report:#}"
        );
        assert_eq!(site["found_from"], arg.as_str());
    }
}
