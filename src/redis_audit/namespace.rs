//! Key → namespace attribution for the live audit: the known CMS layouts first (WordPress,
//! Drupal, Magento/Cm, Medusa, BullMQ, sessions), then a generic delimiter prefix tree. ID-like
//! segments (numbers, hashes, UUIDs, timestamps, microtime) fold into one family (`object_*`),
//! so one plugin never becomes hundreds of namespaces. Also owns key escaping (binary keys are
//! printed with `\xNN`) and the site matcher used with `--sites`.
//!
//! Everything here is pure: bytes in, a namespace name and a class out. It allocates nothing
//! per key except into the caller's reusable buffer.

use serde::Serialize;

use crate::model::Cms;

/// What kind of data a namespace holds, which decides whether keys without expiry are a
/// problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A cache written by a known CMS layout: keys without expiry pile up.
    Cache,
    /// Sessions: every session key should carry a TTL.
    Session,
    /// Kept without expiry on purpose (Drupal cache-tag counters, Magento tag sets, queues,
    /// locks): counted and shown, never a violation.
    PersistentByDesign,
    /// Not a known layout (generic prefix tree).
    Other,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Cache => "cache",
            Class::Session => "session",
            Class::PersistentByDesign => "persistent-by-design",
            Class::Other => "other",
        }
    }
}

/// Which layout rule recognised the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    WordPress,
    Drupal,
    Magento,
    Medusa,
    BullMq,
    Session,
    Generic,
}

/// The attribution of one key (the namespace name itself goes to the caller's buffer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribution {
    pub class: Class,
    pub layout: Layout,
}

/// WordPress core (and common plugin) object-cache groups: `{prefix}{blog}:{group}:{key}`.
const WP_GROUPS: &[&str] = &[
    "options",
    "site-options",
    "transient",
    "site-transient",
    "posts",
    "post_meta",
    "post-queries",
    "terms",
    "term_meta",
    "term-queries",
    "users",
    "user_meta",
    "userlogins",
    "useremail",
    "userslugs",
    "user-queries",
    "comment",
    "comment-queries",
    "comment_meta",
    "counts",
    "plugins",
    "themes",
    "theme_json",
    "theme_files",
    "networks",
    "network-queries",
    "sites",
    "site-queries",
    "site-details",
    "site-lookup",
    "blog-details",
    "blog-lookup",
    "blog-id-cache",
    "blog_meta",
    "bookmark",
    "calendar",
    "timeinfo",
    "rss",
    "global-posts",
    "category",
    "post_tag",
    "post_format",
    "nav_menu",
    "default",
    "image_editor",
    "redis-cache",
    "wc_session_id",
    "woocommerce",
    "product",
    "orders",
];

/// Drupal cache bins (D8+ names, no `cache_` prefix): `<prefix>:<bin>:<cid>`.
const DRUPAL_BINS: &[&str] = &[
    "bootstrap",
    "config",
    "data",
    "default",
    "discovery",
    "discovery_migration",
    "dynamic_page_cache",
    "entity",
    "menu",
    "migrate",
    "page",
    "render",
    "rest",
    "static",
    "toolbar",
    "library",
    "jsonapi_normalizations",
    "jsonapi_resource_types",
    "jsonapi_memory",
    "ultimate_cron_logger",
];

/// Splits keys into namespaces. Built once per run from `--delimiter`/`--depth`.
#[derive(Debug, Clone)]
pub struct Classifier {
    pub delimiter: u8,
    pub depth: usize,
}

impl Default for Classifier {
    fn default() -> Self {
        Classifier {
            delimiter: b':',
            depth: 2,
        }
    }
}

impl Classifier {
    /// Attribute `key`; the namespace name is written (escaped) into `ns`, which is cleared
    /// first.
    pub fn classify(&self, key: &[u8], ns: &mut String) -> Attribution {
        ns.clear();
        let d = self.delimiter;
        let segs = Segments::new(key, d);

        if let Some(a) = self.magento(key, ns) {
            return a;
        }
        if let Some(a) = sessions(key, &segs, d, ns) {
            return a;
        }
        if let Some(a) = medusa_and_bull(&segs, d, ns) {
            return a;
        }
        if let Some(a) = drupal(&segs, d, ns) {
            return a;
        }
        if let Some(a) = wordpress(&segs, d, ns) {
            return a;
        }
        self.generic(&segs, ns);
        Attribution {
            class: Class::Other,
            layout: Layout::Generic,
        }
    }

    /// Magento 2 / Cm_Cache_Backend_Redis: `zc:k:<id_prefix><id>`, `zc:ti:<id_prefix><tag>`,
    /// `zc:tags`, `zc:ids`. These use `:` whatever `--delimiter` says.
    fn magento(&self, key: &[u8], ns: &mut String) -> Option<Attribution> {
        let persistent = Attribution {
            class: Class::PersistentByDesign,
            layout: Layout::Magento,
        };
        if key == b"zc:tags" || key == b"zc:ids" {
            escape_into(key, ns);
            return Some(persistent);
        }
        for (head, class) in [
            (&b"zc:k:"[..], Class::Cache),
            (&b"zc:ti:"[..], Class::PersistentByDesign),
        ] {
            if let Some(rest) = key.strip_prefix(head) {
                escape_into(head, ns);
                match magento_id_prefix(rest) {
                    Some(p) => escape_into(p, ns),
                    None => ns.push('*'),
                }
                return Some(Attribution {
                    class,
                    layout: Layout::Magento,
                });
            }
        }
        None
    }

    /// The generic prefix tree: the first `depth` segments (never the last one, which is the
    /// key's own name), each folded.
    fn generic(&self, segs: &Segments<'_>, ns: &mut String) {
        let n = segs.len();
        let take = if n <= 1 { 1 } else { (n - 1).min(self.depth) };
        for (i, seg) in segs.iter().take(take).enumerate() {
            if i > 0 {
                ns.push(self.delimiter as char);
            }
            fold_into(seg, ns);
        }
    }
}

/// Magento's generated `id_prefix` is three hex digits and `_` (`69d_`); a configured one
/// ends in `_` too by convention. Returns it when recognisable.
fn magento_id_prefix(rest: &[u8]) -> Option<&[u8]> {
    let pos = rest.iter().position(|&b| b == b'_')?;
    let head = &rest[..pos];
    // An all-capitals head is a cache id word (`CONFIG_SCOPES`), not a prefix.
    let is_word = head.iter().all(|b| b.is_ascii_uppercase());
    (!head.is_empty()
        && !is_word
        && head.len() <= 16
        && head.iter().all(|b| b.is_ascii_alphanumeric()))
    .then(|| &rest[..=pos])
}

/// Sessions: Magento/Cm `sess_<id>`, PHP redis `PHPREDIS_SESSION:<id>`, connect-redis (Medusa)
/// `<prefix>sess:<id>`.
fn sessions(key: &[u8], segs: &Segments<'_>, d: u8, ns: &mut String) -> Option<Attribution> {
    let session = Attribution {
        class: Class::Session,
        layout: Layout::Session,
    };
    if key.starts_with(b"sess_") && segs.len() == 1 {
        ns.push_str("sess_*");
        return Some(session);
    }
    if segs.len() == 2 {
        let first = segs.get(0);
        if first == b"PHPREDIS_SESSION" || first.ends_with(b"sess") {
            escape_into(first, ns);
            ns.push(d as char);
            ns.push('*');
            return Some(session);
        }
    }
    None
}

/// Medusa `medusa:` (cache-redis), `mc:` (caching module), `medusa_lock:` (locks), and BullMQ
/// `bull:<queue>:…` (Medusa's event bus and workflow engine).
fn medusa_and_bull(segs: &Segments<'_>, d: u8, ns: &mut String) -> Option<Attribution> {
    if segs.len() < 2 {
        return None;
    }
    let first = segs.get(0);
    let (class, layout, take) = match first {
        b"medusa" => (Class::Cache, Layout::Medusa, 1),
        b"mc" => {
            let sub = segs.get(1);
            let take = if segs.len() > 2 && (sub == b"tag" || sub == b"tags") {
                2
            } else {
                1
            };
            (Class::Cache, Layout::Medusa, take)
        }
        b"medusa_lock" => (Class::PersistentByDesign, Layout::Medusa, 1),
        b"bull" => (
            Class::PersistentByDesign,
            Layout::BullMq,
            if segs.len() > 2 { 2 } else { 1 },
        ),
        _ => return None,
    };
    for (i, seg) in segs.iter().take(take).enumerate() {
        if i > 0 {
            ns.push(d as char);
        }
        fold_into(seg, ns);
    }
    Some(Attribution { class, layout })
}

/// Drupal redis module: `<prefix>:<bin>:<cid>`, tag counters `<prefix>:cachetags:<tag>`, the
/// per-bin `_redis_last_delete_all` and ChainedFast `last_write_timestamp_*` keys, queues.
fn drupal(segs: &Segments<'_>, d: u8, ns: &mut String) -> Option<Attribution> {
    let n = segs.len();
    if n < 3 {
        return None;
    }
    for b in 1..=2.min(n - 2) {
        let seg = segs.get(b);
        let class = if seg == b"cachetags" || seg == b"queue" {
            Class::PersistentByDesign
        } else if DRUPAL_BINS.iter().any(|bin| bin.as_bytes() == seg) {
            Class::Cache
        } else {
            continue;
        };
        push_segments(segs, b + 1, d, ns);
        let last = segs.get(n - 1);
        let mut class = class;
        if class == Class::Cache
            && (last == b"_redis_last_delete_all" || last.starts_with(b"last_write_timestamp"))
        {
            ns.push(d as char);
            if last.starts_with(b"last_write_timestamp") {
                ns.push_str("last_write_timestamp*");
            } else {
                ns.push_str("_redis_last_delete_all");
            }
            class = Class::PersistentByDesign;
        }
        return Some(Attribution {
            class,
            layout: Layout::Drupal,
        });
    }
    None
}

/// WordPress object cache: `{prefix}{blog}:{group}:{key}`, with the group at segment 1..=3.
fn wordpress(segs: &Segments<'_>, d: u8, ns: &mut String) -> Option<Attribution> {
    let n = segs.len();
    if n < 3 {
        return None;
    }
    for g in 1..=3.min(n - 2) {
        let seg = segs.get(g);
        if WP_GROUPS.iter().any(|group| group.as_bytes() == seg) || seg.ends_with(b"_relationships")
        {
            push_segments(segs, g + 1, d, ns);
            return Some(Attribution {
                class: Class::Cache,
                layout: Layout::WordPress,
            });
        }
    }
    None
}

/// Treat `rest` (a key with a known WordPress site prefix removed) as `{blog}:{group}:…`.
pub fn wordpress_after_prefix(
    prefix: &[u8],
    rest: &[u8],
    d: u8,
    ns: &mut String,
) -> Option<Attribution> {
    let segs = Segments::new(rest, d);
    if segs.len() < 3 {
        return None;
    }
    ns.clear();
    escape_into(prefix, ns);
    push_segments(&segs, 2, d, ns);
    Some(Attribution {
        class: Class::Cache,
        layout: Layout::WordPress,
    })
}

/// The first `count` segments, folded, joined by the delimiter.
fn push_segments(segs: &Segments<'_>, count: usize, d: u8, ns: &mut String) {
    for (i, seg) in segs.iter().take(count).enumerate() {
        if i > 0 {
            ns.push(d as char);
        }
        fold_into(seg, ns);
    }
}

/// A key split on the delimiter, without allocating beyond a small inline index.
struct Segments<'a> {
    key: &'a [u8],
    bounds: smallvec::Bounds,
}

mod smallvec {
    /// Up to 8 segment boundaries inline; later delimiters are kept in the last segment
    /// (layouts never look further than that).
    #[derive(Default)]
    pub struct Bounds {
        pub ends: [usize; 8],
        pub len: usize,
    }
}

impl<'a> Segments<'a> {
    fn new(key: &'a [u8], d: u8) -> Segments<'a> {
        let mut bounds = smallvec::Bounds::default();
        for (i, &b) in key.iter().enumerate() {
            if b == d {
                if bounds.len == bounds.ends.len() - 1 {
                    break;
                }
                bounds.ends[bounds.len] = i;
                bounds.len += 1;
            }
        }
        bounds.ends[bounds.len] = key.len();
        bounds.len += 1;
        Segments { key, bounds }
    }

    fn len(&self) -> usize {
        self.bounds.len
    }

    fn get(&self, i: usize) -> &'a [u8] {
        let start = if i == 0 {
            0
        } else {
            self.bounds.ends[i - 1] + 1
        };
        &self.key[start..self.bounds.ends[i]]
    }

    fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

fn is_token_separator(b: u8) -> bool {
    matches!(b, b'_' | b'-' | b'.' | b' ' | b',' | b'|' | b'=' | b'/')
}

/// True for tokens that are IDs rather than names: numbers, hex hashes, UUID parts,
/// timestamps, random tokens.
fn is_id(token: &[u8]) -> bool {
    if token.is_empty() {
        return false;
    }
    let digits = token.iter().filter(|b| b.is_ascii_digit()).count();
    if digits == token.len() {
        return true;
    }
    let all_hex = token.iter().all(|b| b.is_ascii_hexdigit());
    if all_hex && ((digits > 0 && token.len() >= 4) || token.len() >= 12) {
        return true;
    }
    let alnum = token
        .iter()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'%'));
    alnum && token.len() >= 16 && digits > 0 && digits < token.len()
}

/// Write `seg` into `out` with ID-like tokens folded to `*` (runs of IDs become one `*`):
/// `object_123` → `object_*`, `wc_cache_0.12345600_1700000000` → `wc_cache_*`, a UUID → `*`.
/// A name that ends in three or more digits keeps its stem: `post123` → `post*`.
pub fn fold_into(seg: &[u8], out: &mut String) {
    let mut i = 0;
    let mut last_star = false;
    let mut pending_sep: Option<u8> = None;
    while i <= seg.len() {
        let j = seg[i..]
            .iter()
            .position(|&b| is_token_separator(b))
            .map_or(seg.len(), |p| i + p);
        let token = &seg[i..j];
        if is_id(token) {
            if !last_star {
                if let Some(s) = pending_sep {
                    out.push(s as char);
                }
                out.push('*');
                last_star = true;
            }
        } else {
            if let Some(s) = pending_sep {
                out.push(s as char);
            }
            let trailing_digits = token
                .iter()
                .rev()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if trailing_digits >= 3 && trailing_digits < token.len() {
                escape_into(&token[..token.len() - trailing_digits], out);
                out.push('*');
                last_star = true;
            } else {
                escape_into(token, out);
                last_star = false;
            }
        }
        if j >= seg.len() {
            break;
        }
        pending_sep = Some(seg[j]);
        i = j + 1;
        if i == seg.len() {
            out.push(seg[j] as char);
            break;
        }
    }
}

/// Append `bytes` as text: valid UTF-8 stays, other bytes and control characters become
/// `\xNN`, a backslash becomes `\\`.
pub fn escape_into(bytes: &[u8], out: &mut String) {
    if bytes
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'\\')
    {
        // Fast path: printable ASCII.
        out.push_str(std::str::from_utf8(bytes).unwrap_or_default());
        return;
    }
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                c if c.is_control() => {
                    let mut buf = [0u8; 4];
                    for b in c.encode_utf8(&mut buf).bytes() {
                        out.push_str(&format!("\\x{b:02x}"));
                    }
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
}

/// `escape_into` into a new string, cut to `max` characters (with `…`).
pub fn escape(bytes: &[u8], max: usize) -> String {
    let mut s = String::new();
    escape_into(bytes, &mut s);
    if s.chars().count() > max {
        let cut: String = s.chars().take(max).collect();
        return format!("{cut}…");
    }
    s
}

/// One site's claim on keys of the audited endpoint/database.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteClaim {
    /// The site's path as shown in the report.
    pub path: String,
    pub cms: Cms,
    /// Key prefix; `None`: the site writes unprefixed keys.
    pub prefix: Option<Vec<u8>>,
}

/// Attributes keys to sites on one endpoint/database: the longest matching prefix wins
/// (Magento prefixes are matched after `zc:k:`/`zc:ti:`); keys with no matching prefix go to
/// the one site there that uses no prefix, if there is exactly one.
#[derive(Debug, Clone, Default)]
pub struct SiteMatcher {
    pub claims: Vec<SiteClaim>,
    /// Indexes into `claims` with a prefix, longest prefix first.
    prefixed: Vec<usize>,
    unprefixed: Option<usize>,
}

impl SiteMatcher {
    pub fn new(claims: Vec<SiteClaim>) -> SiteMatcher {
        let mut prefixed: Vec<usize> = (0..claims.len())
            .filter(|&i| claims[i].prefix.as_ref().is_some_and(|p| !p.is_empty()))
            .collect();
        prefixed.sort_by_key(|&i| std::cmp::Reverse(claims[i].prefix.as_ref().map_or(0, Vec::len)));
        let bare: Vec<usize> = (0..claims.len())
            .filter(|&i| claims[i].prefix.as_ref().is_none_or(|p| p.is_empty()))
            .collect();
        let mut distinct_bare: Vec<&str> = bare.iter().map(|&i| claims[i].path.as_str()).collect();
        distinct_bare.sort_unstable();
        distinct_bare.dedup();
        let unprefixed = (distinct_bare.len() == 1).then(|| bare[0]);
        SiteMatcher {
            claims,
            prefixed,
            unprefixed,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.claims.is_empty()
    }

    /// The claim (index) a key belongs to, and the length of the matched prefix.
    pub fn site_for(&self, key: &[u8]) -> Option<(usize, usize)> {
        for &i in &self.prefixed {
            let claim = &self.claims[i];
            let prefix = claim.prefix.as_deref().unwrap_or_default();
            if key.starts_with(prefix) {
                return Some((i, prefix.len()));
            }
            if claim.cms == Cms::Magento2 {
                for head in [&b"zc:k:"[..], &b"zc:ti:"[..]] {
                    if key
                        .strip_prefix(head)
                        .is_some_and(|r| r.starts_with(prefix))
                    {
                        return Some((i, 0));
                    }
                }
            }
        }
        self.unprefixed.map(|i| (i, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(key: &str) -> (String, Class, Layout) {
        let mut s = String::new();
        let a = Classifier::default().classify(key.as_bytes(), &mut s);
        (s, a.class, a.layout)
    }

    fn folded(seg: &str) -> String {
        let mut s = String::new();
        fold_into(seg.as_bytes(), &mut s);
        s
    }

    #[test]
    fn ids_fold_into_families() {
        assert_eq!(folded("object_123"), "object_*");
        assert_eq!(folded("wc_cache_0.12345600_1700000000"), "wc_cache_*");
        assert_eq!(
            folded("wc_cache_0.12345600 1700000000_5f4dcc3b5aa765d61d8327deb882cf99"),
            "wc_cache_*"
        );
        assert_eq!(folded("550e8400-e29b-41d4-a716-446655440000"), "*");
        assert_eq!(folded("1700000000"), "*");
        assert_eq!(folded("5f4dcc3b5aa765d61d8327deb882cf99"), "*");
        assert_eq!(folded("alloptions"), "alloptions");
        assert_eq!(folded("post123"), "post*");
        assert_eq!(folded("v2"), "v2");
        assert_eq!(folded("user_sess_k3j4h5g6f7d8s9a0q1w2"), "user_sess_*");
        assert_eq!(folded("trailing_"), "trailing_");
        assert_eq!(folded(""), "");
    }

    #[test]
    fn wordpress_keys_group_by_prefix_blog_and_group() {
        assert_eq!(
            ns("shop1:wp:options:alloptions"),
            ("shop1:wp:options".into(), Class::Cache, Layout::WordPress)
        );
        assert_eq!(ns("site1wp:options:notoptions").0, "site1wp:options");
        assert_eq!(ns("wp:transient:wc_count_comments").0, "wp:transient");
        assert_eq!(ns("wp:posts:123").0, "wp:posts");
        assert_eq!(ns("3:post_meta:99").0, "*:post_meta");
        assert_eq!(
            ns("shop1:wp:category_relationships:7").0,
            "shop1:wp:category_relationships"
        );
    }

    #[test]
    fn drupal_bins_and_persistent_tag_counters() {
        assert_eq!(
            ns("d10site:render:entity_view:node:1:full"),
            ("d10site:render".into(), Class::Cache, Layout::Drupal)
        );
        assert_eq!(
            ns("d10site:cachetags:node_list"),
            (
                "d10site:cachetags".into(),
                Class::PersistentByDesign,
                Layout::Drupal
            )
        );
        assert_eq!(
            ns("d10site:config:_redis_last_delete_all"),
            (
                "d10site:config:_redis_last_delete_all".into(),
                Class::PersistentByDesign,
                Layout::Drupal
            )
        );
        assert_eq!(
            ns("drupal.redis.10.1.0..a1b2c3d4e5f6:data:some_cid").0,
            "drupal.redis.*..*:data"
        );
    }

    #[test]
    fn magento_medusa_bull_and_sessions() {
        assert_eq!(
            ns("zc:k:69d_CONFIG_SCOPES"),
            ("zc:k:69d_".into(), Class::Cache, Layout::Magento)
        );
        assert_eq!(
            ns("zc:ti:69d_CONFIG"),
            (
                "zc:ti:69d_".into(),
                Class::PersistentByDesign,
                Layout::Magento
            )
        );
        assert_eq!(ns("zc:tags").1, Class::PersistentByDesign);
        assert_eq!(ns("zc:ids").1, Class::PersistentByDesign);
        assert_eq!(
            ns("sess_k3j4h5g6f7d8s9a0q1w2"),
            ("sess_*".into(), Class::Session, Layout::Session)
        );
        assert_eq!(
            ns("sess:abc"),
            ("sess:*".into(), Class::Session, Layout::Session)
        );
        assert_eq!(
            ns("medusa:product:123"),
            ("medusa".into(), Class::Cache, Layout::Medusa)
        );
        assert_eq!(
            ns("mc:tag:5f4dcc3b5aa7"),
            ("mc:tag".into(), Class::Cache, Layout::Medusa)
        );
        assert_eq!(
            ns("medusa_lock:cart_1"),
            (
                "medusa_lock".into(),
                Class::PersistentByDesign,
                Layout::Medusa
            )
        );
        assert_eq!(
            ns("bull:events-queue:42"),
            (
                "bull:events-queue".into(),
                Class::PersistentByDesign,
                Layout::BullMq
            )
        );
    }

    #[test]
    fn generic_prefix_tree_folds_ids_and_respects_depth() {
        assert_eq!(
            ns("user:1000:profile"),
            ("user:*".into(), Class::Other, Layout::Generic)
        );
        assert_eq!(
            ns("user:1000"),
            ("user".into(), Class::Other, Layout::Generic)
        );
        assert_eq!(
            ns("counter"),
            ("counter".into(), Class::Other, Layout::Generic)
        );
        assert_eq!(
            ns("object_123"),
            ("object_*".into(), Class::Other, Layout::Generic)
        );
        let mut s = String::new();
        let c = Classifier {
            delimiter: b'/',
            depth: 1,
        };
        c.classify(b"a/b/c", &mut s);
        assert_eq!(s, "a");
    }

    #[test]
    fn binary_keys_are_escaped() {
        let mut s = String::new();
        escape_into(b"bin:\xff\x00key\\", &mut s);
        assert_eq!(s, "bin:\\xff\\x00key\\\\");
        assert_eq!(escape("héllo".as_bytes(), 80), "héllo");
        let mut s = String::new();
        Classifier::default().classify(b"\xfe\xff:x:y", &mut s);
        assert_eq!(s, "\\xfe\\xff:x");
    }

    #[test]
    fn site_matcher_prefers_longest_prefix_and_a_unique_unprefixed_site() {
        let m = SiteMatcher::new(vec![
            SiteClaim {
                path: "/srv/a".into(),
                cms: Cms::WordPress,
                prefix: Some(b"shop:".to_vec()),
            },
            SiteClaim {
                path: "/srv/b".into(),
                cms: Cms::WordPress,
                prefix: Some(b"shop:b:".to_vec()),
            },
            SiteClaim {
                path: "/srv/m".into(),
                cms: Cms::Magento2,
                prefix: Some(b"69d_".to_vec()),
            },
            SiteClaim {
                path: "/srv/c".into(),
                cms: Cms::Drupal,
                prefix: None,
            },
        ]);
        assert_eq!(m.site_for(b"shop:b:wp:options:x"), Some((1, 7)));
        assert_eq!(m.site_for(b"shop:wp:options:x"), Some((0, 5)));
        assert_eq!(m.site_for(b"zc:k:69d_CONFIG"), Some((2, 0)));
        assert_eq!(m.site_for(b"other:render:x"), Some((3, 0)));
        let two_bare = SiteMatcher::new(vec![
            SiteClaim {
                path: "/a".into(),
                cms: Cms::Drupal,
                prefix: None,
            },
            SiteClaim {
                path: "/b".into(),
                cms: Cms::Drupal,
                prefix: None,
            },
        ]);
        assert_eq!(two_bare.site_for(b"x"), None);
    }
}
