//! Reaching Redis like redis-cli does: URLs read by [`crate::redis_url`], ACL user and
//! password (URL, `REDISCLI_AUTH` or a file), TLS files, connect/read timeouts, and
//! precise messages for what goes wrong (refused, auth, wrong db, TLS, timeout).
//!
//! The connection handshake sends only `AUTH` (when a password is set) and `SELECT` (for a
//! non-zero db): no `HELLO`, no `CLIENT SETINFO`. Labels shown to users never carry a
//! password.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::model::Transport;

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addr {
    Tcp { host: String, port: u16 },
    Tls { host: String, port: u16 },
    Unix { path: String },
}

/// TLS material given with `--tls-*`.
#[derive(Debug, Clone, Default)]
pub struct TlsFiles {
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub insecure: bool,
}

/// A resolved endpoint: address, credentials, db, TLS and timeouts.
#[derive(Clone)]
pub struct Endpoint {
    pub addr: Addr,
    pub user: Option<String>,
    pub password: Option<String>,
    /// The db named in the URL (`/3` or `?db=3`).
    pub url_db: Option<i64>,
    pub tls: TlsFiles,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never show the password, not even in debug output.
        f.debug_struct("Endpoint")
            .field("addr", &self.addr)
            .field("user", &self.user)
            .field("password_set", &self.password.is_some())
            .field("url_db", &self.url_db)
            .finish()
    }
}

/// What `parse_url` reads from the text of a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedUrl {
    pub addr: Addr,
    pub user: Option<String>,
    pub password: Option<String>,
    pub db: Option<i64>,
    pub insecure: bool,
}

/// Parse a Redis URL with the crate's one parser ([`crate::redis_url::parse`]): every form
/// redis-cli, redis-py/Django/Celery and the CMS configs use. Errors never quote the URL.
pub fn parse_url(url: &str) -> Result<ParsedUrl> {
    let u = crate::redis_url::parse(url)?;
    let addr = match u.transport {
        Transport::Tcp { host, port } => Addr::Tcp { host, port },
        Transport::Tls { host, port } => Addr::Tls { host, port },
        Transport::Unix { path } => Addr::Unix { path },
    };
    Ok(ParsedUrl {
        addr,
        user: u.username,
        password: u.password,
        db: u.db,
        insecure: u.insecure,
    })
}

/// The URL with any password replaced by `********`; a URL that does not parse is shown as a
/// fixed placeholder (for errors about the URL itself).
pub fn mask_url(url: &str) -> String {
    crate::redis_url::mask(url)
}

impl Endpoint {
    /// `redis://host:port/db`, `rediss://…`, `unix:///path?db=N`, with the user but never
    /// the password.
    pub fn label(&self, db: i64) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        match &self.addr {
            Addr::Tcp { host, port } => format!("redis://{user}{}:{port}/{db}", bracket(host)),
            Addr::Tls { host, port } => format!("rediss://{user}{}:{port}/{db}", bracket(host)),
            Addr::Unix { path } => format!("unix://{path}?db={db}"),
        }
    }

    /// `host:port` or the socket path, for sentences about the server itself.
    pub fn addr_display(&self) -> String {
        match &self.addr {
            Addr::Tcp { host, port } | Addr::Tls { host, port } => {
                format!("{}:{port}", bracket(host))
            }
            Addr::Unix { path } => path.clone(),
        }
    }

    /// The endpoint without a db (for cluster nodes and headers).
    pub fn server_label(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        match &self.addr {
            Addr::Tcp { host, port } => format!("redis://{user}{}:{port}", bracket(host)),
            Addr::Tls { host, port } => format!("rediss://{user}{}:{port}", bracket(host)),
            Addr::Unix { path } => format!("unix://{path}"),
        }
    }

    /// The same transport as `detect` reports for sites (for `--sites` attribution).
    pub fn transport(&self) -> Transport {
        match &self.addr {
            Addr::Tcp { host, port } => Transport::Tcp {
                host: host.clone(),
                port: *port,
            },
            Addr::Tls { host, port } => Transport::Tls {
                host: host.clone(),
                port: *port,
            },
            Addr::Unix { path } => Transport::Unix { path: path.clone() },
        }
    }

    /// The same credentials, TLS and timeouts at another host/port (a cluster node).
    pub fn at(&self, host: &str, port: u16) -> Endpoint {
        let mut ep = self.clone();
        ep.addr = match &self.addr {
            Addr::Tls { .. } => Addr::Tls {
                host: host.to_string(),
                port,
            },
            _ => Addr::Tcp {
                host: host.to_string(),
                port,
            },
        };
        ep
    }

    /// The same for an I/O error on a raw connection.
    pub fn describe_io(&self, err: &std::io::Error, connecting: bool) -> String {
        let text = err.to_string();
        let dropped = matches!(
            err.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::UnexpectedEof
        );
        self.describe_parts(
            Some(err.kind()),
            "",
            "",
            &text,
            0,
            connecting,
            dropped && connecting,
        )
    }

    /// The same for an error reply (`-WRONGPASS …`, `-ERR DB index is out of range`).
    pub fn describe_server(&self, reply: &str, db: i64) -> String {
        let (code, detail) = reply.split_once(' ').unwrap_or((reply, ""));
        self.describe_parts(None, code, detail, reply, db, true, false)
    }

    #[allow(clippy::too_many_arguments)]
    fn describe_parts(
        &self,
        io_kind: Option<std::io::ErrorKind>,
        code: &str,
        detail: &str,
        text: &str,
        db: i64,
        connecting: bool,
        dropped: bool,
    ) -> String {
        use std::io::ErrorKind as K;
        let tls = matches!(self.addr, Addr::Tls { .. });
        let unix = matches!(self.addr, Addr::Unix { .. });
        if unix && (io_kind == Some(K::NotFound) || text.contains("No such file")) {
            return "no such socket file (is redis-server running with this unixsocket?)"
                .to_string();
        }
        if io_kind == Some(K::ConnectionRefused) || text.contains("Connection refused") {
            return "connection refused (is redis-server running and listening there?)".to_string();
        }
        if io_kind == Some(K::PermissionDenied) || text.contains("Permission denied") {
            return "permission denied opening the socket".to_string();
        }
        if matches!(io_kind, Some(K::TimedOut | K::WouldBlock))
            || text.contains("timed out")
            || text.contains("Resource temporarily unavailable")
        {
            let d = if connecting {
                self.connect_timeout
            } else {
                self.read_timeout
            };
            return format!(
                "timed out after {} ({})",
                fmt_duration(d),
                if connecting { "connect" } else { "read" }
            );
        }
        if code == "WRONGPASS" {
            let d = if detail.is_empty() {
                "invalid username-password pair or user is disabled"
            } else {
                detail
            };
            return format!("authentication failed: {d}");
        }
        if code == "NOAUTH" {
            return "authentication required: give a password in the URL, REDISCLI_AUTH or --password-file".to_string();
        }
        if code == "NOPERM" {
            let d = if detail.is_empty() {
                "a command rcfg needs is not allowed"
            } else {
                detail
            };
            return format!("permission denied by ACL: {d}");
        }
        if text.contains("DB index is out of range") {
            return format!(
                "database {db} does not exist on this server (DB index is out of range)"
            );
        }
        let lower = text.to_ascii_lowercase();
        if tls
            && connecting
            && (lower.contains("ssl")
                || lower.contains("tls")
                || lower.contains("certificate")
                || lower.contains("handshake"))
        {
            return format!("TLS handshake failed: {text}");
        }
        if dropped {
            if tls {
                return format!("TLS connection failed: {text}");
            }
            return format!(
                "the server closed the connection ({text}); if this is a TLS port, use rediss://"
            );
        }
        text.to_string()
    }
}

fn bracket(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

pub fn fmt_duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `5`, `2.5`, `5s`, `500ms`.
pub fn parse_duration(text: &str) -> Result<Duration> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .with_context(|| format!("`{text}` is not a duration (5, 2.5s, 500ms)"))?;
    if !(v.is_finite() && v > 0.0) {
        bail!("`{text}`: a timeout must be positive");
    }
    Ok(Duration::from_secs_f64(v * scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_like_redis_cli() {
        let u = parse_url("redis://alice:s%40cret@127.0.0.1:6390/3").unwrap();
        assert_eq!(
            u.addr,
            Addr::Tcp {
                host: "127.0.0.1".into(),
                port: 6390
            }
        );
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("s@cret"));
        assert_eq!(u.db, Some(3));
        let u = parse_url("rediss://:pw@cache.example:6380#insecure").unwrap();
        assert!(matches!(u.addr, Addr::Tls { port: 6380, .. }));
        assert!(u.insecure);
        let u = parse_url("unix://auditor@/run/redis/redis.sock?db=2").unwrap();
        assert_eq!(
            u.addr,
            Addr::Unix {
                path: "/run/redis/redis.sock".into()
            }
        );
        assert_eq!(u.db, Some(2));
        let err = format!(
            "{:#}",
            parse_url("redis://u:topsecret@h:99999").unwrap_err()
        );
        assert!(!err.contains("topsecret"), "{err}");
        assert_eq!(mask_url("redis://u:pw@h:1/0"), "redis://u:********@h:1/0");
        assert_eq!(
            mask_url("redis://u:p/w@h:1/0"),
            crate::redis_url::PLACEHOLDER
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2.5").unwrap(), Duration::from_millis(2500));
        assert_eq!(parse_duration("3s").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("x").is_err());
    }
}
