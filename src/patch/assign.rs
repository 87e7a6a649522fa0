//! Database numbers and prefixes for a set of sites (a hosting root, or one site among its
//! siblings): existing distinct assignments are kept, the rest get the lowest free database
//! of the right instance, and every site gets a distinct prefix. Database 0 is left alone:
//! it is where unconfigured clients land.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail};

use crate::model::{Cms, Site};

/// What one site should use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub db: i64,
    /// Only meaningful for Magento (its full-page cache).
    pub page_cache_db: i64,
    /// Only meaningful for CMSs that keep sessions in Redis (Magento, Medusa).
    pub session_db: i64,
    pub prefix: String,
}

/// How many cache databases a site needs on the cache instance.
fn cache_dbs_needed(site: &Site) -> usize {
    if site.cms == Cms::Magento2 { 2 } else { 1 }
}

fn needs_sessions(site: &Site) -> bool {
    matches!(site.cms, Cms::Magento2 | Cms::Medusa)
}

/// Prefixes a CMS uses when none is configured: they identify no site.
const DEFAULT_PREFIXES: &[&str] = &["medusa:", "mc:", "sess:"];

/// The prefix a site already chose for itself: its cache prefix, else its session prefix
/// without the `sess:` the session store adds; CMS defaults do not count.
fn own_prefix(site: &Site) -> Option<String> {
    let cache = site.redis.cache.as_ref().and_then(|c| c.prefix.as_ref());
    let sessions = site.redis.sessions.as_ref().and_then(|c| c.prefix.as_ref());
    [cache, sessions]
        .into_iter()
        .flatten()
        .map(|p| {
            let v = p.value.as_str();
            v.strip_suffix("sess:")
                .filter(|s| !s.is_empty())
                .unwrap_or(v)
                .to_string()
        })
        .find(|p| !DEFAULT_PREFIXES.contains(&p.as_str()) && super::validate_prefix(p).is_ok())
}

/// A pool of database numbers `1..databases`.
struct Pool {
    free: BTreeSet<i64>,
    total: i64,
    what: &'static str,
}

impl Pool {
    fn new(databases: i64, what: &'static str) -> Pool {
        Pool {
            free: (1..databases).collect(),
            total: databases,
            what,
        }
    }
    /// Claim `db` if it is free (and not 0).
    fn claim(&mut self, db: i64) -> bool {
        self.free.remove(&db)
    }
    fn take(&mut self, needed_total: usize) -> Result<i64> {
        match self.free.pop_first() {
            Some(db) => Ok(db),
            None => bail!(
                "not enough Redis databases on the {} instance: the sites need {needed_total}, but only databases 1-{} are available (database 0 is left to unconfigured clients); raise `databases` in redis.conf and pass --databases N, or use distinct prefixes on a shared database",
                self.what,
                self.total - 1
            ),
        }
    }
}

/// Assign every site its database(s) and prefix.
pub fn assign(sites: &[Site], databases: i64, session_databases: i64) -> Result<Vec<Assignment>> {
    assign_some(sites, databases, session_databases, None)
}

/// Assign `sites[0]` alone, keeping clear of what its neighbours `sites[1..]` already use
/// (their existing databases and prefixes are claimed, but they get nothing new).
pub fn assign_first(sites: &[Site], databases: i64, session_databases: i64) -> Result<Assignment> {
    let mut all = assign_some(sites, databases, session_databases, Some(0))?;
    Ok(all.swap_remove(0))
}

fn assign_some(
    sites: &[Site],
    databases: i64,
    session_databases: i64,
    only: Option<usize>,
) -> Result<Vec<Assignment>> {
    let wanted = |i: usize| only.is_none_or(|o| o == i);
    let mut cache_pool = Pool::new(databases, "cache");
    let mut session_pool = Pool::new(session_databases, "persistent");
    let cache_needed: usize = sites
        .iter()
        .enumerate()
        .filter(|(i, _)| wanted(*i))
        .map(|(_, s)| cache_dbs_needed(s))
        .sum();
    let session_needed = sites
        .iter()
        .enumerate()
        .filter(|(i, s)| wanted(*i) && needs_sessions(s))
        .count();

    let mut cache_db: Vec<Option<i64>> = vec![None; sites.len()];
    let mut page_db: Vec<Option<i64>> = vec![None; sites.len()];
    let mut session_db: Vec<Option<i64>> = vec![None; sites.len()];
    // Keep existing, distinct assignments (first site by path wins a shared one).
    for (i, site) in sites.iter().enumerate() {
        if !site.redis.configured {
            continue;
        }
        if let Some(c) = &site.redis.cache
            && let Some(d) = &c.database
            && cache_pool.claim(d.value)
        {
            cache_db[i] = Some(d.value);
        }
        if let Some(c) = &site.redis.page_cache
            && let Some(d) = &c.database
            && cache_pool.claim(d.value)
        {
            page_db[i] = Some(d.value);
        }
        if let Some(c) = &site.redis.sessions
            && let Some(d) = &c.database
            && session_pool.claim(d.value)
        {
            session_db[i] = Some(d.value);
        }
    }
    // Prefixes: keep existing distinct ones, else derive from the directory name.
    let mut used: BTreeMap<String, usize> = BTreeMap::new();
    let mut prefixes = Vec::with_capacity(sites.len());
    for site in sites {
        let existing = own_prefix(site).filter(|p| !used.contains_key(p));
        let mut prefix = existing.unwrap_or_else(|| super::default_prefix(&site.path));
        if used.contains_key(&prefix) {
            let base = prefix.trim_end_matches(':').to_string();
            let mut n = 2;
            while used.contains_key(&format!("{base}_{n}:")) {
                n += 1;
            }
            prefix = format!("{base}_{n}:");
        }
        used.insert(prefix.clone(), 1);
        prefixes.push(prefix);
    }
    let mut out = Vec::with_capacity(sites.len());
    for (i, site) in sites.iter().enumerate() {
        if !wanted(i) {
            continue;
        }
        let db = match cache_db[i] {
            Some(d) => d,
            None => cache_pool.take(cache_needed)?,
        };
        let page_cache_db = if site.cms == Cms::Magento2 {
            match page_db[i] {
                Some(d) => d,
                None => cache_pool.take(cache_needed)?,
            }
        } else {
            db
        };
        let sdb = if needs_sessions(site) {
            match session_db[i] {
                Some(d) => d,
                None => session_pool.take(session_needed)?,
            }
        } else {
            0
        };
        out.push(Assignment {
            db,
            page_cache_db,
            session_db: sdb,
            prefix: prefixes[i].clone(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Connection, Location, Sourced};
    use std::path::Path;

    fn site(path: &str, cms: Cms, db: Option<i64>) -> Site {
        let mut s = Site::new(Path::new(path), cms, "classic");
        if let Some(db) = db {
            s.redis.configured = true;
            s.redis.cache = Some(Connection {
                database: Some(Sourced::new(db, Location::new("x", 1))),
                ..Connection::default()
            });
        }
        s
    }

    #[test]
    fn keeps_distinct_existing_and_fills_the_rest() {
        let sites = [
            site("/www/a", Cms::WordPress, Some(5)),
            site("/www/b", Cms::WordPress, Some(5)),
            site("/www/c", Cms::Magento2, None),
            site("/www/d", Cms::Drupal, None),
        ];
        let a = assign(&sites, 16, 16).unwrap();
        assert_eq!(a[0].db, 5, "existing kept");
        assert_eq!(a[1].db, 1, "duplicate reassigned to the lowest free");
        assert_eq!((a[2].db, a[2].page_cache_db, a[2].session_db), (2, 3, 1));
        assert_eq!(a[3].db, 4);
        assert_eq!(a[0].prefix, "a:");
        let dbs: BTreeSet<i64> = a.iter().flat_map(|x| [x.db, x.page_cache_db]).collect();
        assert_eq!(dbs.len(), 5, "Magento's two databases are its own");
    }

    #[test]
    fn refuses_when_databases_run_out() {
        let sites: Vec<Site> = (0..4)
            .map(|i| site(&format!("/www/s{i}"), Cms::WordPress, None))
            .collect();
        let err = assign(&sites, 4, 16).unwrap_err().to_string();
        assert!(err.contains("not enough Redis databases"), "{err}");
        assert!(err.contains("need 4"), "{err}");
    }

    #[test]
    fn a_single_site_keeps_clear_of_its_neighbours_without_assigning_them() {
        let mut sites = vec![
            site("/www/new", Cms::WordPress, None),
            site("/www/old", Cms::WordPress, Some(1)),
        ];
        // Many unconfigured neighbours would exhaust the pool if they were assigned too.
        sites.extend((0..20).map(|i| site(&format!("/www/n{i}"), Cms::WordPress, None)));
        let a = assign_first(&sites, 16, 16).unwrap();
        assert_eq!(a.db, 2, "database 1 belongs to a neighbour");
        assert_eq!(a.prefix, "new:");
    }

    #[test]
    fn cms_default_prefixes_are_not_a_sites_own() {
        let mut s = site("/www/api", Cms::Medusa, Some(3));
        let at = Location::new("x", 1);
        s.redis.cache.as_mut().unwrap().prefix = Some(Sourced::new("medusa:".into(), at.clone()));
        s.redis.sessions = Some(Connection {
            prefix: Some(Sourced::new("shop1:sess:".into(), at)),
            ..Connection::default()
        });
        assert_eq!(assign(&[s], 16, 16).unwrap()[0].prefix, "shop1:");
        let mut bare = site("/www/api2", Cms::Medusa, Some(4));
        bare.redis.cache.as_mut().unwrap().prefix =
            Some(Sourced::new("mc:".into(), Location::new("x", 1)));
        assert_eq!(assign(&[bare], 16, 16).unwrap()[0].prefix, "api2:");
    }

    #[test]
    fn prefixes_are_distinct_even_for_same_names() {
        let sites = [
            site("/a/shop", Cms::WordPress, None),
            site("/b/shop", Cms::WordPress, None),
        ];
        let a = assign(&sites, 16, 16).unwrap();
        assert_eq!(a[0].prefix, "shop:");
        assert_eq!(a[1].prefix, "shop_2:");
    }
}
