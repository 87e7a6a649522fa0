//! Collisions between sites of a hosting root: two sites writing into the same Redis
//! database of the same server without distinct key prefixes, or sharing a database with a
//! CMS whose cache flush empties the whole database.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::model::{Cms, Connection, Site, Transport};
use crate::report::Severity;

/// Two or more sites that get in each other's way.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collision {
    pub code: &'static str,
    pub severity: Severity,
    /// `unix:/path` or `tcp:host:port`.
    pub endpoint: String,
    pub database: i64,
    pub sites: Vec<CollidingSite>,
    pub message: String,
    pub hint: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CollidingSite {
    pub path: PathBuf,
    pub cms: Cms,
    /// `cache`, `page_cache` or `sessions`.
    pub role: &'static str,
    pub prefix: Option<String>,
}

/// Where a connection goes when its config names no endpoint: every supported client
/// defaults to TCP 127.0.0.1:6379.
fn endpoint_of(conn: &Connection) -> String {
    conn.transport.as_ref().map_or_else(
        || {
            Transport::Tcp {
                host: "127.0.0.1".into(),
                port: 6379,
            }
            .endpoint_key()
        },
        |t| t.value.endpoint_key(),
    )
}

/// The prefix a site's keys really carry. Without `cache_prefix`, the Drupal redis module
/// derives one from the site's root (`Settings::getApcuPrefix('redis', DRUPAL_ROOT)`), so
/// two Drupal sites without a prefix still do not share keys. Empty means "no prefix".
fn effective_prefix(site: &Site, conn: &Connection) -> String {
    match (&conn.prefix, site.cms) {
        (Some(p), _) => p.value.clone(),
        (None, Cms::Drupal) => format!("(derived from {})", site.path.display()),
        (None, _) => String::new(),
    }
}

/// True when a flush by this site's CMS empties the whole database: WordPress (Redis Object
/// Cache `wp cache flush` is FLUSHDB unless a prefix *and* selective flush are set) and
/// Magento (`cache:flush` is FLUSHDB of the cache database).
fn flush_wipes_database(site: &Site, role: &str, conn: &Connection) -> bool {
    match site.cms {
        Cms::WordPress => {
            let selective = conn.options.iter().any(|s| {
                s.key == "WP_REDIS_SELECTIVE_FLUSH"
                    && !matches!(
                        s.value,
                        serde_json::Value::Bool(false) | serde_json::Value::Null
                    )
            });
            !(selective && conn.prefix.is_some())
        }
        Cms::Magento2 => role != "sessions",
        _ => false,
    }
}

/// A site's connection in a (endpoint, database) group: site, role, connection.
type Member<'a> = (&'a Site, &'static str, &'a Connection);

/// All collisions among `sites` (only sites whose Redis is configured take part).
pub fn find(sites: &[Site]) -> Vec<Collision> {
    let mut groups: BTreeMap<(String, i64), Vec<Member<'_>>> = BTreeMap::new();
    for site in sites.iter().filter(|s| s.redis.configured) {
        for (role, conn) in site.redis.connections() {
            groups
                .entry((endpoint_of(conn), conn.effective_database()))
                .or_default()
                .push((site, role, conn));
        }
    }
    let mut out = Vec::new();
    for ((endpoint, database), members) in groups {
        let distinct_sites: std::collections::BTreeSet<&PathBuf> =
            members.iter().map(|(s, _, _)| &s.path).collect();
        if distinct_sites.len() < 2 {
            continue;
        }
        let listed: Vec<CollidingSite> = members
            .iter()
            .map(|(site, role, conn)| CollidingSite {
                path: site.path.clone(),
                cms: site.cms,
                role,
                prefix: conn.prefix.as_ref().map(|p| p.value.clone()),
            })
            .collect();
        let implicit: Vec<String> = members
            .iter()
            .map(|(site, _, conn)| effective_prefix(site, conn))
            .collect();
        let mut prefixes: Vec<&str> = implicit.iter().map(String::as_str).collect();
        prefixes.sort_unstable();
        let before = prefixes.len();
        prefixes.dedup();
        let prefixes_clash = prefixes.len() < before || prefixes.contains(&"");
        if prefixes_clash {
            out.push(Collision {
                code: "shared-db-no-prefix",
                severity: Severity::Error,
                message: format!(
                    "{} sites share {endpoint} database {database} without distinct key prefixes: their keys overwrite each other",
                    distinct_sites.len()
                ),
                hint: crate::lints::spec("shared-db-no-prefix").hint,
                endpoint,
                database,
                sites: listed,
            });
            continue;
        }
        let wipers: Vec<String> = members
            .iter()
            .filter(|(s, role, c)| flush_wipes_database(s, role, c))
            .map(|(s, _, _)| s.path.display().to_string())
            .collect();
        if !wipers.is_empty() {
            out.push(Collision {
                code: "shared-db-flush-wipes",
                severity: Severity::Warning,
                message: format!(
                    "{} sites share {endpoint} database {database}; a cache flush of {} empties it for all of them",
                    distinct_sites.len(),
                    wipers.join(", ")
                ),
                hint: crate::lints::spec("shared-db-flush-wipes").hint,
                endpoint,
                database,
                sites: listed,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Location, Sourced};
    use std::path::Path;

    fn site(path: &str, cms: Cms, db: i64, prefix: Option<&str>) -> Site {
        let mut s = Site::new(Path::new(path), cms, "classic");
        s.redis.configured = true;
        let at = Location::new(format!("{path}/cfg"), 1);
        s.redis.cache = Some(Connection {
            transport: Some(Sourced::new(
                Transport::Unix {
                    path: "/var/run/redis/redis.sock".into(),
                },
                at.clone(),
            )),
            database: Some(Sourced::new(db, at.clone())),
            prefix: prefix.map(|p| Sourced::new(p.to_string(), at.clone())),
            ..Connection::default()
        });
        s
    }

    #[test]
    fn same_db_without_prefixes_collides() {
        let c = find(&[
            site("/www/a", Cms::WordPress, 1, None),
            site("/www/b", Cms::Medusa, 1, Some("b:")),
        ]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].code, "shared-db-no-prefix");
        assert_eq!(c[0].database, 1);
    }

    #[test]
    fn distinct_prefixes_only_warn_when_a_flush_wipes_the_db() {
        let ok = find(&[
            site("/www/a", Cms::Drupal, 1, Some("a:")),
            site("/www/b", Cms::Medusa, 1, Some("b:")),
        ]);
        assert!(ok.is_empty(), "{ok:?}");
        let wp = find(&[
            site("/www/a", Cms::WordPress, 1, Some("a:")),
            site("/www/b", Cms::Drupal, 1, Some("b:")),
        ]);
        assert_eq!(wp.len(), 1);
        assert_eq!(wp[0].code, "shared-db-flush-wipes");
        assert!(wp[0].message.contains("/www/a"));
    }

    #[test]
    fn drupal_without_a_prefix_gets_a_derived_one() {
        let two_drupals = find(&[
            site("/www/a", Cms::Drupal, 1, None),
            site("/www/b", Cms::Drupal, 1, None),
        ]);
        assert!(two_drupals.is_empty(), "{two_drupals:?}");
        let with_wp = find(&[
            site("/www/a", Cms::Drupal, 1, None),
            site("/www/b", Cms::WordPress, 1, None),
        ]);
        assert_eq!(with_wp.len(), 1);
        assert_eq!(
            with_wp[0].code, "shared-db-no-prefix",
            "WordPress keys carry no prefix"
        );
    }

    #[test]
    fn different_databases_never_collide() {
        assert!(
            find(&[
                site("/www/a", Cms::WordPress, 1, None),
                site("/www/b", Cms::WordPress, 2, None),
            ])
            .is_empty()
        );
    }
}
