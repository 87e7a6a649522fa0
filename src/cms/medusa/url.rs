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

/// Parse a Redis URL; `None` when it is not one ioredis would accept. The splitting and
/// percent-decoding are the crate's one parser's ([`crate::redis_url::parse_ioredis`]).
pub fn parse(url: &str) -> Option<RedisUrl> {
    let u = crate::redis_url::parse_ioredis(url)?;
    Some(RedisUrl {
        transport: u.transport,
        database: u.db,
        password_set: u.password.is_some(),
        percent_encoded_socket: u.percent_encoded_socket,
    })
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
