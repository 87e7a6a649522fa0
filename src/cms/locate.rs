//! Which site(s) a PATH means, wherever the engineer stands: the site root itself, the
//! site's own directory above its docroot (`public_html`, `httpdocs`, … or a deploy tool's
//! `current`), or a directory inside the site (walked up as core walks up, a bounded number
//! of levels). `detect PATH`, `apply PATH` and `audit-ttl PATH` all resolve PATH here, so
//! they agree. The hosting-root walk asks [`walk_skips`], [`leaf_docroots`] and
//! [`nested_site_parent`] about panel and deploy layouts. Nothing here writes.

use std::path::{Component, Path, PathBuf};

use super::{DetectError, detect_dir, walk_root};
use crate::model::{Cms, Site};

/// Directory names hosting panels, web servers and deploy tools give a site's docroot,
/// looked for in a site's own directory: cPanel/DirectAdmin `public_html`, Plesk
/// `httpdocs`, Apache `htdocs`/`html`, `www`, ISPConfig/Bedrock `web`, Acquia `docroot`,
/// Deployer/Capistrano `current`.
pub const DOCROOTS: &[&str] = &[
    "public_html",
    "httpdocs",
    "htdocs",
    "html",
    "www",
    "web",
    "docroot",
    "current",
];

/// How many directories above PATH are tried when PATH is inside a site (a Magento module's
/// `etc/` is 5 levels below the store root).
pub const MAX_UP: usize = 8;

/// The site(s) PATH means, for `detect PATH` and `apply PATH`:
/// 1. PATH is a site root (or WordPress ABSPATH, or a docroot whose project is its parent);
/// 2. else the sites in PATH's docroot directories ([`DOCROOTS`]; links leaving PATH are
///    not followed);
/// 3. else the site PATH is inside, up to [`MAX_UP`] levels up.
///
/// When nothing is found, one `unknown` site for PATH. A site found anywhere but at PATH
/// carries `found_from`.
pub fn site_at(path: &Path, errors: &mut Vec<DetectError>) -> Vec<Site> {
    let site = detect_dir(path, errors);
    if site.cms != Cms::Unknown {
        return vec![mark(project_of(site, errors), path)];
    }
    let below = in_docroots(path, errors);
    if !below.is_empty() {
        return below.into_iter().map(|s| mark(s, path)).collect();
    }
    match above(path, errors) {
        Some(found) => vec![mark(found, path)],
        None => vec![site],
    }
}

/// The sites below PATH, for `audit-ttl PATH`: the hosting-root walk to `max_depth`; when
/// it finds no CMS site, the site PATH is inside (as [`site_at`] step 3). A site at (or
/// above) PATH that is the docroot of a project is replaced by the project. `found_from`
/// is set on the sites PATH stands for (PATH's docroot, the site PATH is in), not on every
/// site of a hosting root.
pub fn sites_below(path: &Path, max_depth: usize, errors: &mut Vec<DetectError>) -> Vec<Site> {
    let sites = walk_root(path, &super::RootWalk { max_depth }, errors);
    if !sites.iter().any(|s| s.cms != Cms::Unknown) {
        if let Some(found) = above(path, errors) {
            return vec![mark(found, path)];
        }
        return sites;
    }
    sites
        .into_iter()
        .map(|s| {
            if path.starts_with(&s.path) {
                mark(project_of(s, errors), path)
            } else if is_docroot_of(&s.path, path) {
                mark(s, path)
            } else {
                // A site of a tree below PATH (a hosting root): PATH does not stand for it.
                s
            }
        })
        .collect()
}

/// `site_root` is `dir`'s docroot directory (`dir/public_html`, `dir/current`, …).
fn is_docroot_of(site_root: &Path, dir: &Path) -> bool {
    site_root.parent() == Some(dir)
        && site_root
            .file_name()
            .is_some_and(|n| DOCROOTS.iter().any(|d| n == *d))
}

/// Set `found_from` when the site root is not PATH itself.
fn mark(mut site: Site, path: &Path) -> Site {
    if site.path != path && !same_dir(&site.path, path) {
        site.found_from = Some(path.to_path_buf());
    }
    site
}

fn same_dir(a: &Path, b: &Path) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// A site detected at its docroot (Bedrock's `web/`, a composer Drupal's `web/`) whose
/// parent is the project that serves it: the project is the site.
fn project_of(site: Site, errors: &mut Vec<DetectError>) -> Site {
    let Some(parent) = ancestors(&site.path).into_iter().next() else {
        return site;
    };
    let mut scratch = Vec::new();
    let project = detect_dir(&parent, &mut scratch);
    let serves = project.cms == site.cms
        && project
            .docroot
            .as_deref()
            .is_some_and(|d| same_dir(d, &site.path));
    if serves {
        errors.extend(scratch);
        project
    } else {
        site
    }
}

/// Sites in PATH's docroot directories. A docroot that is a symlink leaving PATH is not
/// followed.
fn in_docroots(path: &Path, errors: &mut Vec<DetectError>) -> Vec<Site> {
    let Ok(real) = std::fs::canonicalize(path) else {
        return Vec::new();
    };
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut out = Vec::new();
    for name in DOCROOTS {
        let dir = path.join(name);
        let Ok(target) = std::fs::canonicalize(&dir) else {
            continue;
        };
        if !target.is_dir() || !target.starts_with(&real) || seen.contains(&target) {
            continue;
        }
        seen.push(target);
        let site = detect_dir(&dir, errors);
        if site.cms != Cms::Unknown {
            out.push(site);
        }
    }
    out
}

/// The site PATH is inside: the first ancestor (up to [`MAX_UP`]) that is a site root.
fn above(path: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
    for dir in ancestors(path) {
        let site = detect_dir(&dir, errors);
        if site.cms != Cms::Unknown {
            return Some(project_of(site, errors));
        }
    }
    None
}

/// PATH's ancestors, nearest first, at most [`MAX_UP`]. A relative PATH keeps its relative
/// spelling as long as it can (so reported site paths look like the PATH typed), then
/// continues from the current directory; `..` and `.` are folded lexically.
fn ancestors(path: &Path) -> Vec<PathBuf> {
    let has_dots = path
        .components()
        .any(|c| matches!(c, Component::ParentDir | Component::CurDir));
    let mut cur = if has_dots {
        match std::env::current_dir() {
            Ok(cwd) => fold(&cwd.join(path)),
            Err(_) => return Vec::new(),
        }
    } else {
        path.to_path_buf()
    };
    let mut out = Vec::new();
    while out.len() < MAX_UP {
        cur = match cur.parent() {
            Some(p) if p.as_os_str().is_empty() => match std::env::current_dir() {
                Ok(cwd) => cwd,
                Err(_) => break,
            },
            Some(p) => p.to_path_buf(),
            None => break,
        };
        out.push(cur.clone());
    }
    out
}

/// `a/b/../c/.` → `a/c`, without touching the file system.
fn fold(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The name that tells a site apart from its neighbours: the last directory name of
/// `site_root`, passing over docroot names ([`DOCROOTS`]) and a deploy tool's
/// `releases/N`, so `/home/alice/public_html` is `alice`,
/// `/var/www/vhosts/shop.example.com/httpdocs` is `shop.example.com` and
/// `/var/www/app/releases/3` is `app`. `None` when there is no name at all.
pub fn site_name(site_root: &Path) -> Option<String> {
    let names: Vec<String> = site_root
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let mut i = names.len();
    while i > 0 {
        let name = &names[i - 1];
        if i >= 2 && names[i - 2] == "releases" {
            i -= 2;
        } else if DOCROOTS.contains(&name.as_str()) && i >= 2 {
            i -= 1;
        } else {
            return Some(name.clone());
        }
    }
    names.last().cloned()
}

/// Where a site's neighbours live and how deep below it their roots are: the directory
/// above the site's own directory, passing over docroot names and `releases/N` as
/// [`site_name`] does (`/home/alice/public_html` → `/home`, 2 levels).
pub fn neighbourhood(site_root: &Path) -> Option<(PathBuf, usize)> {
    let mut dir = std::fs::canonicalize(site_root).ok()?;
    let mut depth = 1;
    for _ in 0..4 {
        let parent_is_releases = dir
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "releases");
        let is_docroot = dir
            .file_name()
            .is_some_and(|n| DOCROOTS.iter().any(|d| n == *d));
        if parent_is_releases {
            dir = dir.parent()?.parent()?.to_path_buf();
        } else if is_docroot {
            dir = dir.parent()?.to_path_buf();
        } else {
            break;
        }
        depth += 1;
    }
    Some((dir.parent()?.to_path_buf(), depth))
}

// ---------------------------------------------------------------------------------------
// Hosting-root walk: panel and deploy layouts

/// Children of a directory the root walk must not descend into, given the names it holds:
/// next to a deploy tool's `current`, the `releases/` (old releases are not sites, the
/// live one is reached through `current`) and `shared/` (files linked into releases);
/// next to DirectAdmin's `public_html`, its `private_html` (the HTTPS docroot, usually a
/// link to `public_html`).
pub fn walk_skips(names: &[String]) -> Vec<&'static str> {
    let has = |n: &str| names.iter().any(|x| x == n);
    let mut skips = Vec::new();
    if has("current") && has("releases") {
        skips.extend(["releases", "shared"]);
    }
    if has("public_html") && has("private_html") {
        skips.push("private_html");
    }
    skips
}

/// At the depth limit, a directory that is no site is tried once more through its docroot
/// directories: a panel's per-domain directory (DirectAdmin `domains/DOMAIN`, ISPConfig
/// `clientN/webN`) is one level deeper than a plain vhost. Only existing directories are
/// returned; links leaving `dir` are not.
pub fn leaf_docroots(dir: &Path) -> Vec<PathBuf> {
    let Ok(real) = std::fs::canonicalize(dir) else {
        return Vec::new();
    };
    DOCROOTS
        .iter()
        .map(|n| dir.join(n))
        .filter(|d| {
            std::fs::canonicalize(d).is_ok_and(|t| t.is_dir() && t.starts_with(&real) && t != real)
        })
        .collect()
}

/// cPanel puts addon and subdomain docroots inside the main domain's `public_html`: a site
/// found at a `public_html` has its direct subdirectories tried as sites too.
pub fn nested_site_parent(site_root: &Path) -> bool {
    site_root.file_name().is_some_and(|n| n == "public_html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fold_removes_dots_lexically() {
        assert_eq!(fold(Path::new("/a/b/../c/./d")), PathBuf::from("/a/c/d"));
    }

    #[test]
    fn ancestors_keep_relative_spelling_then_use_cwd() {
        let a = ancestors(Path::new("x/y/z"));
        assert_eq!(a[0], PathBuf::from("x/y"));
        assert_eq!(a[1], PathBuf::from("x"));
        assert_eq!(a[2], std::env::current_dir().unwrap());
        assert!(a.len() <= MAX_UP);
    }

    #[test]
    fn site_names_pass_over_docroots_and_releases() {
        for (root, name) in [
            ("/home/alice/public_html", "alice"),
            (
                "/var/www/vhosts/shop.example.com/httpdocs",
                "shop.example.com",
            ),
            (
                "/home/bob/domains/bob.example.org/public_html",
                "bob.example.org",
            ),
            ("/var/www/clients/client1/web1/web", "web1"),
            ("/var/www/app/releases/3", "app"),
            ("/var/www/app/current", "app"),
            ("/srv/blog.example.com", "blog.example.com"),
            ("web", "web"),
        ] {
            assert_eq!(site_name(Path::new(root)).as_deref(), Some(name), "{root}");
        }
        assert_eq!(site_name(Path::new("/")), None);
    }

    #[test]
    fn neighbours_of_a_docroot_or_release_are_next_to_its_own_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(tmp.path()).unwrap();
        let docroot = base.join("home/alice/public_html");
        let release = base.join("www/app/releases/3");
        let plain = base.join("www/blog.example.com");
        for d in [&docroot, &release, &plain] {
            std::fs::create_dir_all(d).unwrap();
        }
        assert_eq!(neighbourhood(&docroot), Some((base.join("home"), 2)));
        assert_eq!(neighbourhood(&release), Some((base.join("www"), 2)));
        assert_eq!(neighbourhood(&plain), Some((base.join("www"), 1)));
    }

    #[test]
    fn releases_skipped_only_next_to_current() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            walk_skips(&names(&["current", "releases", "shared"])),
            ["releases", "shared"]
        );
        assert_eq!(
            walk_skips(&names(&["public_html", "private_html"])),
            ["private_html"]
        );
        assert!(walk_skips(&names(&["releases", "shared"])).is_empty());
    }
}
