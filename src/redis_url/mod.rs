//! The one Redis URL parser of the crate: what `apply --url`, `audit-ttl --redis` and the
//! Medusa reader (`detect`) accept, with one percent-decoding and one way of hiding secrets.
//!
//! Forms ([`parse`], as redis-cli, redis-py, Django, Celery, Predis read them):
//! `redis://[user[:pass]@]host[:port][/db][?db=N&password=…]`, `rediss://…` (TLS),
//! `valkey://`, `valkeys://`, `tcp://`/`tls://` (Predis, phpredis), `unix://[user[:pass]@]/path
//! [?db=N&password=…]` (redis-py), `redis+unix://`, `valkey+unix://`, `redis-socket://`, a bare
//! socket path `/path[?db=N]`, `redis:///path` (Symfony), and a scheme-less `host[:port]`
//! (redis-cli `-h`). A user-info without `:` is a password, as redis-cli reads it.
//! [`parse_ioredis`] reads the same text the way ioredis 5 does (user-info without `:` is a
//! user name, a percent-encoded host stays undecoded, a bad db is ignored).
//!
//! Secrets: [`UrlError`] never quotes the URL (only the scheme and a parameter name, each
//! checked to be harmless); [`mask`] shows a URL that parsed with its password replaced by
//! `********`, and a URL that did not parse as the fixed [`PLACEHOLDER`].

use std::fmt;

use crate::model::Transport;

/// How a URL that did not parse is shown, in every output format: its user-info and query
/// may hold a password, and where they start cannot be trusted.
pub const PLACEHOLDER: &str = "<unparsable Redis URL>";

/// Stars shown instead of a password.
pub const STARS: &str = "********";

/// What a Redis URL says.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub transport: Transport,
    /// ACL user name (percent-decoded).
    pub username: Option<String>,
    /// Password (percent-decoded). Never printed; see [`mask`].
    pub password: Option<String>,
    /// `/N` or `?db=N`.
    pub db: Option<i64>,
    /// `#insecure`: skip TLS verification (tests only).
    pub insecure: bool,
    /// ioredis only: the host holds a percent-encoded `/`, which ioredis never decodes.
    pub percent_encoded_socket: bool,
}

impl fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisUrl")
            .field("transport", &self.transport)
            .field("username", &self.username)
            .field("password_set", &self.password.is_some())
            .field("db", &self.db)
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// Why a URL did not parse. The text never contains any part of the URL but a scheme or a
/// parameter name made of harmless characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UrlError {}

fn err(reason: impl Into<String>) -> UrlError {
    UrlError(reason.into())
}

/// The raw pieces of a URL, before any decoding.
#[derive(Debug, Default)]
struct Parts<'a> {
    /// Lower-cased; `None` for a scheme-less `host[:port]` or a bare path.
    scheme: Option<String>,
    userinfo: Option<&'a str>,
    /// `host[:port]`, or the socket path for socket schemes.
    host: &'a str,
    /// After the authority, without the leading `/`.
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
    socket: bool,
}

const SOCKET_SCHEMES: [&str; 5] = [
    "unix",
    "redis+unix",
    "valkey+unix",
    "redis-socket",
    "redis+socket",
];
const TCP_SCHEMES: [&str; 3] = ["redis", "valkey", "tcp"];
const TLS_SCHEMES: [&str; 3] = ["rediss", "valkeys", "tls"];

/// A scheme is shown in errors only when it is short and made of scheme characters.
fn safe_scheme(s: &str) -> Option<&str> {
    (!s.is_empty()
        && s.len() <= 16
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)))
    .then_some(s)
}

fn split<'a>(url: &'a str) -> Result<Parts<'a>, UrlError> {
    let mut p = Parts::default();
    let (rest, fragment) = match url.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (url, None),
    };
    p.fragment = fragment;
    if rest.starts_with('/') {
        // A bare socket path.
        let (path, query) = split_query(rest);
        p.socket = true;
        p.host = path;
        p.query = query;
        return Ok(p);
    }
    let Some((scheme, rest)) = rest.split_once("://") else {
        // `host[:port]` as redis-cli's -h/-p: only host characters, so nothing secret.
        let ok = !rest.is_empty()
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
        if !ok {
            return Err(err(
                "not a Redis URL (use redis://, rediss://, unix:// or a socket path)",
            ));
        }
        p.host = rest;
        return Ok(p);
    };
    let scheme = scheme.to_ascii_lowercase();
    let Some(shown) = safe_scheme(&scheme) else {
        return Err(err(
            "not a Redis URL (use redis://, rediss://, unix:// or a socket path)",
        ));
    };
    if !SOCKET_SCHEMES.contains(&shown)
        && !TCP_SCHEMES.contains(&shown)
        && !TLS_SCHEMES.contains(&shown)
    {
        return Err(err(format!(
            "unsupported scheme `{shown}://` (use redis://, rediss:// or unix://)"
        )));
    }
    let (rest, query) = split_query(rest);
    p.query = query;
    if SOCKET_SCHEMES.contains(&shown) {
        p.socket = true;
        if rest.starts_with('/') {
            p.host = rest;
        } else if let Some(i) = rest.find("@/") {
            // redis-py: unix://[user[:pass]@]/path
            p.userinfo = Some(&rest[..i]);
            p.host = &rest[i + 1..];
        } else {
            return Err(err(
                "a socket URL needs an absolute path (unix:///run/redis/redis.sock)",
            ));
        }
    } else {
        let end = rest.find('/').unwrap_or(rest.len());
        let authority = &rest[..end];
        p.path = rest.get(end + 1..).unwrap_or("");
        match authority.rsplit_once('@') {
            Some((u, h)) => {
                p.userinfo = Some(u);
                p.host = h;
            }
            None => p.host = authority,
        }
        // Symfony: redis:///var/run/redis.sock (empty host, a path that is not a db).
        if p.host.is_empty() && !p.path.is_empty() && p.path.parse::<u64>().is_err() {
            p.socket = true;
            p.host = &rest[end..];
            p.path = "";
        }
    }
    p.scheme = Some(scheme);
    Ok(p)
}

fn split_query(s: &str) -> (&str, Option<&str>) {
    match s.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (s, None),
    }
}

/// `%XX` sequences decoded; a `%` not followed by two hex digits stays as it is. The same
/// rule for user names, passwords, socket paths and query values, everywhere in rcfg.
pub fn percent_decode(s: &str) -> Result<String, UrlError> {
    if !s.contains('%') {
        return Ok(s.to_string());
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| err("a percent-encoded part is not UTF-8"))
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn split_host_port(hp: &str) -> Result<(&str, Option<&str>), UrlError> {
    if let Some(rest) = hp.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| err("an IPv6 host without its closing `]`"))?;
        return match after {
            "" => Ok((host, None)),
            a => match a.strip_prefix(':') {
                Some(p) => Ok((host, Some(p))),
                None => Err(err("text after the IPv6 host")),
            },
        };
    }
    Ok(match hp.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (hp, None),
    })
}

fn parse_port(p: Option<&str>) -> Result<u16, UrlError> {
    match p {
        None | Some("") => Ok(6379),
        Some(p) => match p.parse::<u16>() {
            Ok(0) => Err(err("port 0")),
            Ok(n) if p.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
            _ => Err(err("the port is not a number from 1 to 65535")),
        },
    }
}

fn parse_db(text: &str) -> Result<i64, UrlError> {
    match text.parse::<i64>() {
        Ok(n) if n >= 0 && text.bytes().all(|b| b.is_ascii_digit()) => Ok(n),
        _ => Err(err("the database is not a number (0, 1, 2, …)")),
    }
}

/// A hint when the text suggests a password with an unencoded delimiter.
fn with_hint(e: UrlError, url: &str) -> UrlError {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let first_delim = after_scheme.find(['/', '?', '#']);
    let has_late_at = first_delim.is_some_and(|i| after_scheme[i..].contains('@'));
    if has_late_at {
        UrlError(format!(
            "{e} (if the password contains `/`, `?`, `#` or `@`, percent-encode it: %2F, %3F, %23, %40)"
        ))
    } else {
        e
    }
}

/// Parse a Redis URL as redis-cli and the PHP/Python clients do (see the module docs).
pub fn parse(url: &str) -> Result<RedisUrl, UrlError> {
    parse_strict(url.trim()).map_err(|e| with_hint(e, url))
}

fn parse_strict(url: &str) -> Result<RedisUrl, UrlError> {
    if url.is_empty() {
        return Err(err("empty URL"));
    }
    let p = split(url)?;
    let mut username = None;
    let mut password = None;
    if let Some(ui) = p.userinfo {
        match ui.split_once(':') {
            Some((u, pw)) => {
                username = Some(percent_decode(u)?).filter(|u| !u.is_empty());
                password = Some(percent_decode(pw)?).filter(|p| !p.is_empty());
            }
            // redis-cli: `redis://secret@host` is a password.
            None => password = Some(percent_decode(ui)?).filter(|p| !p.is_empty()),
        }
    }
    let mut db = None;
    for pair in p.query.unwrap_or("").split('&').filter(|s| !s.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "db" | "database" => db = Some(parse_db(&percent_decode(v)?)?),
            "user" | "username" => username = Some(percent_decode(v)?).filter(|u| !u.is_empty()),
            "pass" | "password" => password = Some(percent_decode(v)?).filter(|p| !p.is_empty()),
            // Client options of redis-py, Celery, Django and redis-cli: no bearing on where
            // the keys are.
            "protocol"
            | "timeout"
            | "socket_timeout"
            | "socket_connect_timeout"
            | "socket_keepalive"
            | "health_check_interval"
            | "retry_on_timeout"
            | "ssl_cert_reqs"
            | "ssl_check_hostname"
            | "client_name"
            | "decode_responses"
            | "encoding"
            | "max_connections"
            | "persistent"
            | "read_timeout"
            | "prefix" => {}
            // The name is not quoted: it may be a misplaced password.
            _ => {
                return Err(err(
                    "an unknown URL parameter (known: db, user, password, protocol, timeouts)",
                ));
            }
        }
    }
    let insecure = match p.fragment {
        None | Some("") => false,
        Some("insecure") => true,
        Some(_) => return Err(err("an unknown `#` fragment (only #insecure is known)")),
    };
    let scheme = p.scheme.as_deref().unwrap_or("redis");
    let transport = if p.socket {
        let path = percent_decode(p.host)?;
        if !path.starts_with('/') || path.len() < 2 {
            return Err(err(
                "a socket URL needs an absolute path (unix:///run/redis/redis.sock)",
            ));
        }
        Transport::Unix { path }
    } else {
        let (host, port) = split_host_port(p.host)?;
        if host.contains('%') {
            return Err(err(
                "a percent-encoded host (for a socket path use unix:///path/to/redis.sock)",
            ));
        }
        if host.is_empty() && p.userinfo.is_some() {
            return Err(err("no host after the user-info"));
        }
        if !host.is_empty()
            && !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b))
        {
            return Err(err("the host has characters a host name cannot have"));
        }
        let host = if host.is_empty() {
            "127.0.0.1".to_string()
        } else {
            host.to_string()
        };
        let port = parse_port(port)?;
        if !p.path.is_empty() {
            db = Some(parse_db(p.path.trim_end_matches('/'))?);
        }
        if TLS_SCHEMES.contains(&scheme) {
            Transport::Tls { host, port }
        } else {
            Transport::Tcp { host, port }
        }
    };
    Ok(RedisUrl {
        transport,
        username,
        password,
        db,
        insecure,
        percent_encoded_socket: false,
    })
}

/// Parse a URL as ioredis 5 (`parseURL()`) reads it; `None` when ioredis would not connect
/// with it. Same splitting and percent-decoding as [`parse`]; the differences are ioredis's.
pub fn parse_ioredis(url: &str) -> Option<RedisUrl> {
    let url = url.trim();
    let p = split(url).ok()?;
    if p.scheme.is_none() && !p.socket {
        return None;
    }
    let scheme = p.scheme.as_deref().unwrap_or("unix");
    if !p.socket && !matches!(scheme, "redis" | "rediss" | "valkey" | "valkeys") {
        return None;
    }
    let query_db = || {
        p.query?
            .split('&')
            .find_map(|kv| kv.strip_prefix("db="))
            .and_then(|v| v.parse().ok())
    };
    if p.socket {
        if !p.host.starts_with('/') || !matches!(scheme, "unix" | "redis" | "rediss") {
            return None;
        }
        return Some(RedisUrl {
            transport: Transport::Unix {
                path: p.host.to_string(),
            },
            username: None,
            password: None,
            db: query_db(),
            insecure: false,
            percent_encoded_socket: false,
        });
    }
    let (username, password) = match p.userinfo {
        None => (None, None),
        Some(ui) => match ui.split_once(':') {
            Some((u, pw)) => (
                percent_decode(u).ok().filter(|u| !u.is_empty()),
                percent_decode(pw).ok().filter(|p| !p.is_empty()),
            ),
            None => (percent_decode(ui).ok().filter(|u| !u.is_empty()), None),
        },
    };
    let (host, port) = split_host_port(p.host).ok()?;
    let port = match port {
        None | Some("") => 6379,
        Some(p) => p.parse().ok()?,
    };
    let host = if host.is_empty() { "localhost" } else { host };
    let db = p
        .path
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse().ok())
        .or_else(query_db);
    let host = host.to_string();
    Some(RedisUrl {
        percent_encoded_socket: host.to_ascii_lowercase().contains("%2f"),
        transport: if matches!(scheme, "rediss" | "valkeys") {
            Transport::Tls { host, port }
        } else {
            Transport::Tcp { host, port }
        },
        username,
        password,
        db,
        insecure: false,
    })
}

/// `url` for messages: a URL that parses keeps its shape with the password (in the
/// user-info or a `password=`/`pass=` parameter) replaced by `********`; a URL that does not
/// parse is the fixed [`PLACEHOLDER`].
pub fn mask(url: &str) -> String {
    let url = url.trim();
    if parse(url).is_err() {
        return PLACEHOLDER.to_string();
    }
    let Ok(p) = split(url) else {
        return PLACEHOLDER.to_string();
    };
    let mut out = String::new();
    if let Some(s) = &p.scheme {
        out.push_str(s);
        out.push_str("://");
    }
    if let Some(ui) = p.userinfo {
        match ui.split_once(':') {
            Some((u, "")) => {
                out.push_str(u);
                out.push_str(":@");
            }
            Some((u, _)) => {
                out.push_str(u);
                out.push(':');
                out.push_str(STARS);
                out.push('@');
            }
            None if ui.is_empty() => out.push('@'),
            None => {
                out.push_str(STARS);
                out.push('@');
            }
        }
    }
    out.push_str(p.host);
    if !p.socket && !p.path.is_empty() {
        out.push('/');
        out.push_str(p.path);
    }
    if let Some(q) = p.query {
        out.push('?');
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k @ ("pass" | "password"), v)) if !v.is_empty() => format!("{k}={STARS}"),
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if let Some(f) = p.fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

#[cfg(test)]
mod tests;
