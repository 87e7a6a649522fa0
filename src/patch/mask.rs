//! Secret masking for every `apply` output: one mechanism for all CMSs. A plan collects its
//! secrets from two sources — the passwords rcfg is about to write (its endpoints) and the
//! secrets already present in the files it reads ([`scan`]) — and [`mask`] replaces every form
//! a secret takes in text (raw, escaped for PHP or JS/JSON, percent-encoded or -decoded) with
//! `********` in diffs, notes and errors.
//!
//! [`scan`] is language-aware but CMS-agnostic: a value is secret when its key's name says so
//! (`password`, `auth`, `secret`, `salt`, `token`, `…key`: `WP_REDIS_PASSWORD`,
//! `'password' =>`, `$settings['redis.connection']['password']`, `DB_PASSWORD=`, `crypt/key`),
//! and so is the password part of any URL (`redis://user:pw@host`, `?password=pw`).
//!
//! Masking works two ways, both applied to every output: by value (every form of a given
//! password, and of found secrets of at least [`MIN_VALUE_MASK`] characters, wherever it
//! occurs) and by position ([`mask_positions`]: whatever stands where a secret stands in a
//! line, whatever its length).

use std::sync::LazyLock;

use regex::Regex;

use super::{Secret, render};
use crate::syntax::{dotenv, js, php};

/// What replaces a secret.
pub const MASK: &str = "********";

/// Names that look like secrets but are not: rcfg's own (non-secret) settings.
const NOT_SECRET: &[&str] = &["wp_cache_key_salt", "id_prefix", "cache_prefix"];

/// True when a setting called `name` holds a secret.
pub fn is_secret_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    if NOT_SECRET.contains(&n.as_str()) {
        return false;
    }
    ["pass", "secret", "salt", "token", "auth", "credential"]
        .iter()
        .any(|w| n.contains(w))
        || n.ends_with("key")
}

static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)[a-z][a-z0-9+.-]*://[^:/@\s'"`]*:([^@\s'"`/]+)@"#).expect("valid regex")
});
static QUERY_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)[?&](?:password|pass|auth)=([^&\s'"`#]+)"#).expect("valid regex")
});

/// The passwords inside URLs anywhere in `text` (as written: percent-encoded).
pub fn url_passwords(text: &str) -> Vec<String> {
    URL_PASSWORD
        .captures_iter(text)
        .chain(QUERY_PASSWORD.captures_iter(text))
        .filter_map(|c| c.get(1).map(|m| m.as_str().to_string()))
        .collect()
}

/// Every secret in a config file's text, found by file kind (`rel` is its name or path):
/// PHP by its tokens, JS/TS by its tokens, anything else as `.env` lines; URL passwords in
/// every kind.
pub fn scan(rel: &str, text: &str) -> Vec<String> {
    let mut out = url_passwords(text);
    let lower = rel.to_ascii_lowercase();
    if lower.ends_with(".php") || lower.ends_with(".inc") {
        if let Ok(tokens) = php::lex(text) {
            out.extend(scan_php(&tokens));
        }
    } else if [".js", ".ts", ".mjs", ".cjs", ".mts", ".cts"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        if let Ok(tokens) = js::lex(text) {
            out.extend(scan_js(&tokens));
        }
    } else {
        for (key, var) in dotenv::parse(text) {
            if is_secret_name(&key) {
                out.push(var.value.clone());
            }
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// A token as the scanner sees it, whatever the language.
#[derive(Debug, Clone, PartialEq)]
enum T {
    Str(String),
    Ident(String),
    Punct(&'static str),
    Other,
}

/// Strings of a value that starts at `code[i]` and ends at the first `,` `;` `)` `]` `}` at
/// depth 0. In a list of two or more strings the first is an ACL user name, not a secret.
fn value_strings(code: &[T], mut i: usize) -> Vec<String> {
    let listy = matches!(code.get(i), Some(T::Punct("[" | "(")))
        || matches!(
            (code.get(i), code.get(i + 1)),
            (Some(T::Ident(_)), Some(T::Punct("(")))
        );
    let mut depth = 0usize;
    let mut found = Vec::new();
    while let Some(t) = code.get(i) {
        match t {
            T::Punct("(" | "[" | "{") => depth += 1,
            T::Punct(")" | "]" | "}") if depth == 0 => break,
            T::Punct(")" | "]" | "}") => depth -= 1,
            T::Punct("," | ";") if depth == 0 => break,
            T::Str(s) => found.push(s.clone()),
            _ => {}
        }
        i += 1;
        if found.len() > 16 {
            break;
        }
    }
    if listy && found.len() >= 2 {
        found.remove(0);
    }
    found
}

/// Secrets after secret-named keys: `'password' => v`, `define('X_PASSWORD', v)`,
/// `['password'] = v` (PHP), `password: v`, `secret = v` (JS).
fn scan_tokens(code: &[T]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, t) in code.iter().enumerate() {
        let name = match t {
            T::Str(n) | T::Ident(n) => n,
            _ => continue,
        };
        if !is_secret_name(name) {
            continue;
        }
        // Only a name in key position: not a value (`=> 'x-secret'`), and `,` only after
        // `define(`.
        let prev = i.checked_sub(1).and_then(|p| code.get(p));
        if matches!(prev, Some(T::Punct("=>" | "=" | ":"))) {
            continue;
        }
        let start = match (code.get(i + 1), code.get(i + 2)) {
            (Some(T::Punct(",")), _) if matches!(prev, Some(T::Punct("("))) => i + 2,
            (Some(T::Punct("=>" | ":" | "=")), _) => i + 2,
            (Some(T::Punct("]")), Some(T::Punct("="))) => i + 3,
            _ => continue,
        };
        out.extend(value_strings(code, start));
    }
    out
}

fn scan_php(tokens: &[php::Token]) -> Vec<String> {
    let code: Vec<T> = tokens
        .iter()
        .filter_map(|t| match &t.kind {
            php::Tok::Comment(_) => None,
            php::Tok::Str { value, .. } => Some(T::Str(value.clone())),
            php::Tok::Ident(n) => Some(T::Ident(n.clone())),
            php::Tok::Punct(p) => Some(T::Punct(p)),
            _ => Some(T::Other),
        })
        .collect();
    scan_tokens(&code)
}

fn scan_js(tokens: &[js::Token]) -> Vec<String> {
    let code: Vec<T> = tokens
        .iter()
        .filter_map(|t| match &t.kind {
            js::Tok::Comment(_) => None,
            js::Tok::Str(s) => Some(T::Str(s.clone())),
            js::Tok::Ident(n) => Some(T::Ident(n.clone())),
            js::Tok::Punct(p) => Some(T::Punct(p)),
            _ => Some(T::Other),
        })
        .collect();
    scan_tokens(&code)
}

/// A detector's message about the config file `path`, masked with `given` and the secrets
/// found in that file (read only when it is a small regular file).
pub fn mask_file_error(path: &std::path::Path, message: &str, given: &[Secret]) -> String {
    let mut secrets = given.to_vec();
    if std::fs::symlink_metadata(path)
        .is_ok_and(|m| m.is_file() && m.len() <= crate::fsutil::MAX_CONFIG_BYTES)
        && let Ok(text) = crate::fsutil::read_config(path)
    {
        secrets.extend(
            scan(&path.to_string_lossy(), &text)
                .into_iter()
                .filter(|s| s.chars().count() >= MIN_VALUE_MASK)
                .map(Secret::new),
        );
    }
    mask(message, &secrets)
}

/// `%XX` decoding (invalid escapes are kept as written; the result must be UTF-8).
pub fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            let v = h * 16 + l;
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Every form `raw` can take in text rcfg prints, longest first.
fn forms(raw: &str) -> Vec<String> {
    let mut bases = vec![raw.to_string()];
    if let Some(d) = percent_decode(raw) {
        bases.push(d);
    }
    let mut out = Vec::new();
    for b in bases {
        let js = render::js_quote(&b);
        let php = render::php_quote(&b);
        out.push(b.clone());
        out.push(php[1..php.len() - 1].to_string());
        out.push(js[1..js.len() - 1].to_string());
        out.push(super::percent_encode(&b));
    }
    out.retain(|f| !f.is_empty());
    out.sort_by_key(|f| std::cmp::Reverse(f.len()));
    out.dedup();
    out
}

/// Found secrets shorter than this are masked where they stand (see [`mask_positions`]) but
/// not wherever their value occurs: a database password `medusa` must not turn
/// `medusa-config.ts` into `********-config.ts`.
pub const MIN_VALUE_MASK: usize = 8;

static KEYED_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(['"]?)([A-Za-z0-9_.-]+)(['"]?\]?\s*(?:=>|=|:|,)\s*)(['"])((?:[^'"\\]|\\.)+)(['"])"#,
    )
    .expect("valid regex")
});
static ENV_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^([ +-]?\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(=)([^'"\s#][^\s#]*)"#)
        .expect("valid regex")
});
static URL_USERINFO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)([a-z][a-z0-9+.-]*://[^:/@\s'"`]*:)([^@\s'"`/]+)(@)"#).expect("valid regex")
});
static QUERY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)([?&](?:password|pass|auth)=)([^&\s'"`#]+)"#).expect("valid regex")
});

/// `text` with secrets masked where they stand, whatever their value: the password of a
/// URL, a `?password=` parameter, and a quoted or `.env` value of a secret-named key
/// (`'password' => '…'`, `['password'] = '…'`, `DB_PASSWORD=…`, `jwtSecret: "…"`).
pub fn mask_positions(text: &str) -> String {
    let out = URL_USERINFO.replace_all(text, format!("${{1}}{MASK}${{3}}").as_str());
    let out = QUERY_VALUE.replace_all(&out, format!("${{1}}{MASK}").as_str());
    let out = KEYED_VALUE.replace_all(&out, |c: &regex::Captures| {
        // `"$RCFG_REDIS_PASSWORD"` names a variable; it is no secret.
        if is_secret_name(&c[2]) && c[1] == c[3][..c[1].len()] && !c[5].starts_with('$') {
            format!("{}{}{}{}{MASK}{}", &c[1], &c[2], &c[3], &c[4], &c[6])
        } else {
            c[0].to_string()
        }
    });
    let out = ENV_VALUE.replace_all(&out, |c: &regex::Captures| {
        if is_secret_name(&c[2]) && &c[4] != MASK && !c[4].starts_with('$') {
            format!("{}{}={MASK}", &c[1], &c[2])
        } else {
            c[0].to_string()
        }
    });
    out.into_owned()
}

/// `text` with every form of every secret replaced by [`MASK`], then secrets masked by
/// position ([`mask_positions`]).
pub fn mask(text: &str, secrets: &[Secret]) -> String {
    mask_positions(&mask_values(text, secrets))
}

fn mask_values(text: &str, secrets: &[Secret]) -> String {
    let mut all: Vec<String> = secrets.iter().flat_map(|s| forms(s.expose())).collect();
    all.sort_by_key(|f| std::cmp::Reverse(f.len()));
    all.dedup();
    let mut out = text.to_string();
    for f in all {
        if out.contains(&f) {
            out = out.replace(&f, MASK);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_hold_secrets() {
        for n in [
            "WP_REDIS_PASSWORD",
            "password",
            "auth",
            "DB_PASSWORD",
            "AUTH_KEY",
            "NONCE_KEY",
            "hash_salt",
            "key",
            "JWT_SECRET",
        ] {
            assert!(is_secret_name(n), "{n}");
        }
        for n in ["WP_CACHE_KEY_SALT", "WP_REDIS_PREFIX", "host", "database"] {
            assert!(!is_secret_name(n), "{n}");
        }
    }

    #[test]
    fn php_secrets_in_every_form_are_found() {
        let src = r#"<?php
define( 'WP_REDIS_PASSWORD', [ 'default', 'acl-pw' ] );
define('DB_PASSWORD', 'db\'pw');
return ['cache' => ['backend_options' => ['password' => "mag-pw", 'server' => 'h']],
  'crypt' => ['key' => 'k3y']];
$settings['redis.connection']['password'] = 'dr-pw';
$redis_server = array('host' => 'h', 'auth' => 'pan-pw');
$x = 'redis://u:url%40pw@h:1/0';
"#;
        let found = scan("wp-config.php", src);
        for s in [
            "acl-pw", "db'pw", "mag-pw", "k3y", "dr-pw", "pan-pw", "url%40pw",
        ] {
            assert!(found.iter().any(|f| f == s), "{s} not in {found:?}");
        }
        assert!(
            !found.iter().any(|f| f == "default" || f == "h"),
            "{found:?}"
        );
    }

    #[test]
    fn js_and_dotenv_secrets_are_found() {
        let js = r#"module.exports = { projectConfig: { jwtSecret: process.env.JWT || "jwt-pw", redisUrl: "redis://:js%2Fpw@h:6379" } };"#;
        let found = scan("medusa-config.js", js);
        assert!(found.contains(&"jwt-pw".to_string()), "{found:?}");
        assert!(found.contains(&"js%2Fpw".to_string()), "{found:?}");
        let env = "REDIS_URL=/run/r.sock?db=2&password=sock-pw\nDB_PASSWORD='env pw'\nHOST=x\n";
        let found = scan(".env", env);
        assert!(found.contains(&"sock-pw".to_string()), "{found:?}");
        assert!(found.contains(&"env pw".to_string()), "{found:?}");
        assert_eq!(found.len(), 2, "{found:?}");
    }

    #[test]
    fn secrets_are_masked_where_they_stand() {
        for (input, want) in [
            (
                "DATABASE_URL=postgres://medusa:medusa@localhost/medusa_v1",
                "DATABASE_URL=postgres://medusa:********@localhost/medusa_v1",
            ),
            (
                " REDIS_URL=/run/r.sock?db=2&password=pw",
                " REDIS_URL=/run/r.sock?db=2&password=********",
            ),
            ("-DB_PASSWORD=abc", "-DB_PASSWORD=********"),
            ("+AUTH_KEY='generateme'", "+AUTH_KEY='********'"),
            (
                "    'password' => 'x', 'host' => 'h'",
                "    'password' => '********', 'host' => 'h'",
            ),
            ("'password' => ''", "'password' => ''"),
            (
                "$settings['redis.connection']['password'] = 'p';",
                "$settings['redis.connection']['password'] = '********';",
            ),
            (
                "define( 'WP_REDIS_PASSWORD', 'p' );",
                "define( 'WP_REDIS_PASSWORD', '********' );",
            ),
            (
                "define('WP_CACHE_KEY_SALT', 'shop:');",
                "define('WP_CACHE_KEY_SALT', 'shop:');",
            ),
            ("jwtSecret: \"s\",", "jwtSecret: \"********\","),
            ("medusa-config.ts", "medusa-config.ts"),
            (
                "--cache-backend-redis-password=\"$RCFG_REDIS_PASSWORD\"",
                "--cache-backend-redis-password=\"$RCFG_REDIS_PASSWORD\"",
            ),
        ] {
            assert_eq!(mask(input, &[]), want, "{input}");
        }
    }

    #[test]
    fn every_form_is_masked_decoded_or_not() {
        let s = [Secret::new("p%40ss")];
        assert_eq!(
            mask("a p%40ss b p@ss c p%40ss", &s),
            "a ******** b ******** c ********"
        );
        let s = [Secret::new(r#"it's"x\"#)];
        assert_eq!(mask(r#"'it\'s"x\\'"#, &s), "'********'");
        assert_eq!(mask(r#""it's\"x\\""#, &s), r#""********""#);
        assert_eq!(mask("it%27s%22x%5C", &s), "********");
    }
}
