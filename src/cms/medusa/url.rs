//! Redis URLs as ioredis 5 (`parseURL()`) reads them: `redis://[user:pass@]host:port/db`,
//! `rediss://` (TLS), a bare socket path with `?db=N`, and `unix:///path?db=N`. The password
//! is only noted as present, never kept.

use crate::model::Transport;

/// What a Redis URL says about the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub transport: Transport,
    pub database: Option<i64>,
    pub password_set: bool,
    /// The host carries a percent-encoded `/` (`redis://%2Fvar%2Frun…`): ioredis never decodes
    /// it, so this is a TCP connection to a nonsense host name, not a socket.
    pub percent_encoded_socket: bool,
}

fn query_db(query: Option<&str>) -> Option<i64> {
    query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("db="))
        .and_then(|v| v.parse().ok())
}

/// Parse a Redis URL; `None` when it is not one ioredis would accept.
pub fn parse(url: &str) -> Option<RedisUrl> {
    let url = url.trim();
    if url.starts_with('/') {
        let (path, query) = split_query(url);
        return Some(RedisUrl {
            transport: Transport::Unix {
                path: path.to_string(),
            },
            database: query_db(query),
            password_set: false,
            percent_encoded_socket: false,
        });
    }
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme == "unix" {
        let (path, query) = split_query(rest);
        if !path.starts_with('/') {
            return None;
        }
        return Some(RedisUrl {
            transport: Transport::Unix {
                path: path.to_string(),
            },
            database: query_db(query),
            password_set: false,
            percent_encoded_socket: false,
        });
    }
    let tls = match scheme.as_str() {
        "redis" | "valkey" => false,
        "rediss" | "valkeys" => true,
        _ => return None,
    };
    let (rest, query) = split_query(rest);
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (userinfo, hostport) = match authority.rfind('@') {
        Some(i) => (Some(&authority[..i]), &authority[i + 1..]),
        None => (None, authority),
    };
    let password_set = userinfo
        .and_then(|u| u.split_once(':'))
        .is_some_and(|(_, p)| !p.is_empty());
    let (host, port) = split_host_port(hostport)?;
    let host = if host.is_empty() { "localhost" } else { host };
    let database = path
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .or_else(|| query_db(query));
    let percent_encoded_socket = host.to_ascii_lowercase().contains("%2f");
    let (host, port) = (host.to_string(), port.unwrap_or(6379));
    Some(RedisUrl {
        transport: if tls {
            Transport::Tls { host, port }
        } else {
            Transport::Tcp { host, port }
        },
        database,
        password_set,
        percent_encoded_socket,
    })
}

fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (s, None),
    }
}

fn split_host_port(hp: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = hp.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        return Some((host, port));
    }
    match hp.rsplit_once(':') {
        Some((h, p)) if !p.is_empty() => Some((h, Some(p.parse().ok()?))),
        Some((h, _)) => Some((h, None)),
        None => Some((hp, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(host: &str, port: u16) -> Transport {
        Transport::Tcp {
            host: host.into(),
            port,
        }
    }

    #[test]
    fn tcp_with_password_and_db() {
        let u = parse("redis://default:s3cret@cache.internal:6380/4").unwrap();
        assert_eq!(u.transport, tcp("cache.internal", 6380));
        assert_eq!(u.database, Some(4));
        assert!(u.password_set);
        assert!(!u.percent_encoded_socket);
        let u = parse("redis://localhost").unwrap();
        assert_eq!(u.transport, tcp("localhost", 6379));
        assert_eq!(u.database, None);
        assert!(!u.password_set);
        let u = parse("redis://user@h:1/").unwrap();
        assert!(!u.password_set, "a user name alone is not a password");
    }

    #[test]
    fn tls_scheme() {
        let u = parse("rediss://:pw@redis.example.com:6390").unwrap();
        assert_eq!(
            u.transport,
            Transport::Tls {
                host: "redis.example.com".into(),
                port: 6390
            }
        );
        assert!(u.password_set);
    }

    #[test]
    fn socket_forms() {
        let u = parse("/var/run/redis/redis.sock?db=3").unwrap();
        assert_eq!(
            u.transport,
            Transport::Unix {
                path: "/var/run/redis/redis.sock".into()
            }
        );
        assert_eq!(u.database, Some(3));
        let u = parse("unix:///var/run/redis-persistent/redis.sock?db=1").unwrap();
        assert_eq!(
            u.transport,
            Transport::Unix {
                path: "/var/run/redis-persistent/redis.sock".into()
            }
        );
        assert_eq!(u.database, Some(1));
    }

    #[test]
    fn percent_encoded_socket_is_tcp_to_a_strange_host() {
        let u = parse("redis://%2Fvar%2Frun%2Fredis%2Fredis.sock/2").unwrap();
        assert!(u.percent_encoded_socket);
        assert_eq!(u.transport, tcp("%2Fvar%2Frun%2Fredis%2Fredis.sock", 6379));
        assert_eq!(u.database, Some(2));
    }

    #[test]
    fn ipv6_and_garbage() {
        let u = parse("redis://[::1]:6379/0").unwrap();
        assert_eq!(u.transport, tcp("::1", 6379));
        assert_eq!(u.database, Some(0));
        assert_eq!(parse("http://example.com"), None);
        assert_eq!(parse("redis://host:notaport"), None);
        assert_eq!(parse("localhost:6379"), None);
    }
}
