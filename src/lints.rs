//! The catalogue of config lints: settings that look right but silently do not work. Each
//! has a stable kebab-case code, a default severity and a one-line fix hint. `detect` reports
//! them per site; `audit-ttl` reuses the TTL-related ones as its config-level rules, so the
//! knowledge lives here once.

use crate::model::Location;
use crate::report::{Finding, Severity};

/// One lint's fixed description.
#[derive(Debug)]
pub struct LintSpec {
    pub code: &'static str,
    pub severity: Severity,
    /// True when the lint is about cache entries that never expire (used by `audit-ttl`).
    pub ttl_related: bool,
    pub hint: &'static str,
}

macro_rules! lints {
    ($( $code:literal, $sev:ident, $ttl:literal, $hint:literal; )*) => {
        pub const LINTS: &[LintSpec] = &[
            $( LintSpec { code: $code, severity: Severity::$sev, ttl_related: $ttl, hint: $hint }, )*
        ];
    };
}

lints! {
    // WordPress
    "wp-redis-path-without-unix-scheme", Error, false,
        "add define('WP_REDIS_SCHEME', 'unix'); WP_REDIS_PATH is ignored without it";
    "wp-redis-maxttl-zero", Error, true,
        "set WP_REDIS_MAXTTL to a positive number of seconds (e.g. 86400); 0 makes every key permanent";
    "wp-redis-maxttl-missing", Warning, true,
        "define('WP_REDIS_MAXTTL', 86400) so entries saved without expiry still expire";
    "php-constant-defined-twice", Error, false,
        "remove the later define(): PHP keeps the first value and ignores the rest";
    "wp-redis-env-not-mapped", Warning, false,
        "map the value with Config::define('WP_REDIS_…', env('WP_REDIS_…')) in config/application.php";
    "wp-redis-default-expire-zero", Warning, true,
        "set WP_REDIS_DEFAULT_EXPIRE_SECONDS to a positive value (WP Redis stores 0 without expiry)";
    "wp-redis-default-expire-wrong-plugin", Warning, true,
        "WP_REDIS_DEFAULT_EXPIRE_SECONDS only works with Pantheon WP Redis; use WP_REDIS_MAXTTL";
    "wp-redis-constant-after-wp-settings", Error, false,
        "move the define() above require_once ABSPATH . 'wp-settings.php': the object cache connects while it loads";
    // Drupal
    "drupal-perm-ttl-d7-key", Error, true,
        "use $settings['redis.settings']['perm_ttl_<bin>'] (1.x) or $settings['redis_perm_ttl_<bin>'] (2.x)";
    "drupal-perm-ttl-wrong-module-version", Warning, true,
        "use the perm-TTL key form that the installed redis module version reads";
    "drupal-perm-ttl-days-string", Warning, true,
        "give the TTL as an integer number of seconds: redis 8.x-1.x reads day-only strings as 0";
    "drupal-redis-cache-socket", Error, false,
        "set $settings['redis.connection']['host'] to the socket path and 'port' to 0";
    "drupal-socket-port-not-zero", Warning, false,
        "set $settings['redis.connection']['port'] = 0 for a unix socket";
    "drupal-redis-not-default-backend", Info, false,
        "set $settings['cache']['default'] = 'cache.backend.redis' to use Redis for caches";
    // Magento 2
    "magento-backend-option-ignored", Error, true,
        "move id_prefix up to the frontend level; lifetimes inside backend_options are never read";
    "magento-lifetimelimit-no-effect", Warning, true,
        "lifetimelimit is dead code in Cm_Cache_Backend_Redis; use auto_expire_lifetime + auto_expire_pattern";
    "magento-no-lifetime-bound", Warning, true,
        "set backend_options auto_expire_lifetime and auto_expire_pattern to bound entries saved without lifetime";
    "magento-auto-expire-without-pattern", Warning, true,
        "set auto_expire_pattern (the default '/REQEST/' never matches Magento 2 ids)";
    "magento-session-max-lifetime-ignored", Info, false,
        "session redis max_lifetime is not read by Magento; the hard limit is 31536000";
    // MedusaJS
    "medusa-caching-ttl-zero", Error, true,
        "set a positive ttl: the v2.11+ caching-redis provider stores ttl 0 entries forever";
    "medusa-cache-redis-ttl-zero", Warning, false,
        "ttl 0 disables the cache-redis module's caching; set a positive ttl in seconds";
    "medusa-caching-flag-missing", Warning, false,
        "set MEDUSA_FF_CACHING=true: the caching module is off without the feature flag";
    // Any CMS
    "redis-url-percent-encoded-socket", Error, false,
        "ioredis does not decode %2F: use the plain socket path (/var/run/redis/redis.sock?db=N)";
    "redis-tcp-localhost-socket-available", Warning, false,
        "a local Redis socket exists: connect through it instead of TCP to localhost";
    // Hosting root
    "shared-db-no-prefix", Error, false,
        "give each site its own Redis database number (rcfg apply --root assigns them)";
    "shared-db-flush-wipes", Warning, false,
        "give each site its own database: this CMS's cache flush empties the whole database";
}

/// The catalogue entry for `code`. Panics on an unknown code: codes are compile-time data and
/// a typo is a bug the tests catch.
pub fn spec(code: &str) -> &'static LintSpec {
    LINTS
        .iter()
        .find(|l| l.code == code)
        .unwrap_or_else(|| panic!("unknown lint code {code}"))
}

/// Build a finding for a catalogued lint at a location.
pub fn lint(code: &str, message: impl Into<String>, at: Location) -> Finding {
    let spec = spec(code);
    Finding::new(spec.code, spec.severity, message)
        .hint(spec.hint)
        .at(at)
}

/// Socket paths where a local Redis usually listens. `RCFG_LOCAL_SOCKETS` (colon-separated)
/// replaces the list, which is how tests point it at a socket of their own.
fn local_socket_candidates() -> Vec<std::path::PathBuf> {
    match std::env::var_os("RCFG_LOCAL_SOCKETS") {
        Some(list) => std::env::split_paths(&list).collect(),
        None => [
            "/var/run/redis/redis.sock",
            "/run/redis/redis.sock",
            "/var/run/redis/redis-server.sock",
            "/run/redis/redis-server.sock",
        ]
        .iter()
        .map(std::path::PathBuf::from)
        .collect(),
    }
}

/// Lints that need only the normalised site model, whatever the CMS.
pub fn lint_common(site: &mut crate::model::Site) {
    use crate::model::Transport;
    use std::os::unix::fs::FileTypeExt;
    let socket = local_socket_candidates()
        .into_iter()
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket()));
    let Some(socket) = socket else { return };
    let mut found = Vec::new();
    for (role, conn) in site.redis.connections() {
        if let Some(t) = &conn.transport
            && let Transport::Tcp { host, .. } = &t.value
            && matches!(host.as_str(), "127.0.0.1" | "localhost" | "::1" | "[::1]")
        {
            found.push(lint(
                "redis-tcp-localhost-socket-available",
                format!(
                    "{role} connects over TCP to {} while a local socket exists at {}",
                    t.value,
                    socket.display()
                ),
                t.at.clone(),
            ));
        }
    }
    site.lints.extend(found);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_with_hints() {
        let mut seen = std::collections::HashSet::new();
        for l in LINTS {
            assert!(seen.insert(l.code), "duplicate code {}", l.code);
            assert!(
                l.code
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{} is not kebab-case",
                l.code
            );
            assert!(!l.hint.is_empty());
        }
    }

    #[test]
    fn readme_documents_every_lint_code() {
        let readme = include_str!("../README.md");
        for l in LINTS {
            assert!(
                readme.contains(&format!("| `{}`", l.code)),
                "README.md lint table lacks {}",
                l.code
            );
        }
    }

    #[test]
    fn lint_carries_catalogue_severity_and_hint() {
        let f = lint(
            "wp-redis-maxttl-zero",
            "x",
            Location::new("wp-config.php", 3),
        );
        assert_eq!(f.severity, Severity::Error);
        assert!(f.hint.unwrap().contains("positive"));
        assert_eq!(f.location.unwrap().line, 3);
    }
}
