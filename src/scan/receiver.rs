//! Receiver types: which API a method call belongs to, decided from what its receiver is,
//! not from its name. PHP: the declared type of a property (typed, promoted constructor
//! parameter, `@var`), of a parameter or a method's return, the value assigned to it
//! (`new X`, `FileCacheFactory::get()`, `\Drupal::cache()`, a typed constructor parameter,
//! a mock factory), and the class hierarchy in the tree (a class of the tree that is not a
//! cache API is a wrapper). JS: how the receiver was made (`new Redis()`, `createClient()`,
//! `new Map()`), its TypeScript annotation, and the client or mock packages the file imports.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use regex::Regex;

use crate::syntax::php::Tok;

use super::js::{JsDecl, JsFile};
use super::php::{FnId, PhpFile, TreeIndex};

const MAX_HOPS: u32 = 4;

/// What a receiver is.
#[derive(Debug, Clone)]
pub enum Kind {
    /// This API (`drupal-cache`, `magento-cache`, `redis`).
    Api(&'static str),
    /// Another API (a file cache, a memory cache, config, a mock): not a cache write.
    Other,
    /// A class of the tree that is no cache API itself: a wrapper (file, class index).
    Wrapper(Arc<PhpFile>, usize),
}

/// A resolved receiver: what it is, its type as written, and how that was found.
#[derive(Debug, Clone)]
pub struct Typed {
    pub kind: Kind,
    pub how: String,
}

fn typed(kind: Kind, how: String) -> Option<Typed> {
    Some(Typed { kind, how })
}

/// Known type names (lowercase, fully qualified when the file says so).
fn table(full: &str, file_src: &str) -> Option<Kind> {
    let lower = full.trim_start_matches('\\').to_ascii_lowercase();
    let short = lower.rsplit('\\').next().unwrap_or(&lower);
    let qualified = lower.contains('\\');
    if lower.contains("\\redis\\cache\\") {
        return Some(Kind::Api("drupal-cache"));
    }
    if lower.contains("mock") || lower.starts_with("prophecy\\") {
        return Some(Kind::Other);
    }
    // Magento cache types and frontend decorators (`…\App\Cache\Type\Config`), before the
    // short names below (`Config` is Drupal's config object).
    if lower.starts_with("magento\\")
        && (lower.contains("\\cache\\type\\")
            || lower.contains("\\cache\\frontend\\decorator\\")
            || lower == "magento\\framework\\app\\cache"
            || (lower.contains("\\cache\\") && short == "type"))
    {
        return Some(Kind::Api("magento-cache"));
    }
    let k = match short {
        "cachebackendinterface"
        | "databasebackend"
        | "chainedfastbackend"
        | "backendchain"
        | "cachetagsinvalidatorinterface" => Kind::Api("drupal-cache"),
        "filecacheinterface"
        | "filecache"
        | "nullfilecache"
        | "filecachebackendinterface"
        | "apcufilecachebackend"
        | "staticfilecachebackend"
        | "memorycacheinterface"
        | "memorycache"
        | "lrumemorycache"
        | "memorybackend"
        | "apcubackend"
        | "phpbackend"
        | "nullbackend"
        | "keyvaluestoreinterface"
        | "keyvaluestoreexpirableinterface"
        | "stateinterface"
        | "config"
        | "immutableconfig"
        | "configfactoryinterface"
        | "storageinterface"
        | "privatetempstore"
        | "sharedtempstore"
        | "sessioninterface"
        | "parameterbag"
        | "headerbag"
        | "arrayobject"
        | "splobjectstorage"
        | "weakmap"
        | "array"
        | "string"
        | "int"
        | "bool" => Kind::Other,
        "redis" | "rediscluster" | "relay" | "credis_client" | "credis_cluster" => {
            Kind::Api("redis")
        }
        "client" | "clientinterface" if lower.contains("predis") => Kind::Api("redis"),
        "cacheinterface" | "frontendinterface"
            if lower.contains("magento") || (!qualified && file_src.contains("Magento")) =>
        {
            Kind::Api("magento-cache")
        }
        "cacheinterface" if qualified => Kind::Other,
        "zend_cache_core" | "cm_cache_backend_redis" | "zend_cache_backend_interface" => {
            Kind::Api("magento-cache")
        }
        _ => return None,
    };
    Some(k)
}

/// The file's namespace and `use` aliases (lowercase alias → name), read once per file.
fn names(f: &PhpFile) -> &(Option<String>, HashMap<String, String>) {
    static USE: OnceLock<Regex> = OnceLock::new();
    static NS: OnceLock<Regex> = OnceLock::new();
    f.names.get_or_init(|| {
        let use_re = USE.get_or_init(|| {
            Regex::new(r"(?mi)^\s*use\s+\\?([\w\\]+)(?:\s+as\s+(\w+))?\s*;").expect("valid regex")
        });
        let ns_re = NS.get_or_init(|| {
            Regex::new(r"(?m)^\s*namespace\s+([\w\\]+)\s*[;{]").expect("valid regex")
        });
        let mut aliases = HashMap::new();
        for c in use_re.captures_iter(&f.src) {
            let full = c[1].to_string();
            let alias = c.get(2).map_or_else(
                || full.rsplit('\\').next().unwrap_or(&full).to_string(),
                |a| a.as_str().to_string(),
            );
            aliases.entry(alias.to_ascii_lowercase()).or_insert(full);
        }
        let ns = ns_re.captures(&f.src).map(|c| c[1].to_string());
        (ns, aliases)
    })
}

/// The fully qualified name of `name` as file `f` means it (its `use` lines, its namespace).
fn qualify(f: &PhpFile, name: &str) -> String {
    let name = name.trim();
    if name.starts_with('\\') {
        return name.to_string();
    }
    let first = name.split('\\').next().unwrap_or(name);
    let (ns, aliases) = names(f);
    if let Some(base) = aliases.get(&first.to_ascii_lowercase()) {
        return format!("\\{base}{}", &name[first.len()..]);
    }
    match ns {
        Some(ns) => format!("\\{ns}\\{name}"),
        None => name.to_string(),
    }
}

/// Classify a type as written in `f` (`?CacheBackendInterface`, `\Redis|null`).
fn classify(f: &PhpFile, tree: &TreeIndex, ty: &str, hops: u32) -> Option<Kind> {
    let ty = ty
        .split('|')
        .map(|t| t.trim().trim_start_matches('?'))
        .find(|t| {
            !t.is_empty() && !t.eq_ignore_ascii_case("null") && !t.eq_ignore_ascii_case("false")
        })?;
    if matches!(
        ty.to_ascii_lowercase().as_str(),
        "mixed" | "object" | "self" | "static" | "callable" | "iterable"
    ) {
        return None;
    }
    let full = qualify(f, ty);
    if let Some(k) = table(&full, &f.src) {
        return Some(k);
    }
    let short = full.rsplit('\\').next().unwrap_or(&full).to_string();
    if hops < MAX_HOPS
        && let Some((file, ci)) = tree.find_class(&short)
    {
        for parent in &file.classes[ci].parents {
            if let Some(k @ Kind::Api(_)) = classify(&file, tree, parent, hops + 1) {
                return Some(k);
            }
        }
        return Some(Kind::Wrapper(file, ci));
    }
    let lower = short.to_ascii_lowercase();
    if lower.contains("cache") || lower.contains("redis") || lower.contains("valkey") {
        None
    } else {
        Some(Kind::Other)
    }
}

fn is_modifier(w: &str) -> bool {
    matches!(
        w.to_ascii_lowercase().as_str(),
        "public" | "protected" | "private" | "var" | "readonly" | "static" | "final"
    )
}

/// The type written before the variable token `v` (a parameter or property declaration),
/// and whether a property modifier precedes it.
fn type_before(f: &PhpFile, v: usize) -> (String, bool) {
    let mut parts: Vec<&str> = Vec::new();
    let mut k = v;
    while k > 0 {
        k -= 1;
        match &f.toks[k].kind {
            Tok::Ident(w) if is_modifier(w) => return (parts.concat(), true),
            Tok::Ident(w) => parts.insert(0, w),
            Tok::Punct("|") => parts.insert(0, "|"),
            Tok::Punct("\\") => parts.insert(0, "\\"),
            Tok::Punct("?" | "&" | "...") => {}
            _ => break,
        }
    }
    (parts.concat(), false)
}

/// `@var Type` in the doc comment right before token `at`.
fn doc_type(f: &PhpFile, at: usize, tag: &str) -> Option<String> {
    let end = f.toks.get(at)?.start;
    let start = at.checked_sub(1).map_or(0, |p| f.toks[p].end);
    let text = f.src.get(start..end)?;
    let i = text.find(tag)?;
    let ty = text[i + tag.len()..].split_whitespace().next()?;
    let ty = ty.trim_end_matches("[]");
    (!ty.is_empty() && !ty.starts_with('$')).then(|| ty.to_string())
}

/// Parameter `name`'s declared type in function `id`.
fn param_type(f: &PhpFile, id: FnId, name: &str) -> Option<(String, usize)> {
    let d = f.fn_decl_of(id);
    let close = *f.partner.get(d.popen)?;
    (d.popen..close).find_map(|k| match &f.toks[k].kind {
        Tok::Var(v) if v == name => {
            let (ty, _) = type_before(f, k);
            (!ty.is_empty()).then(|| (ty, f.toks[k].line))
        }
        _ => None,
    })
}

fn fn_at(f: &PhpFile, k: usize) -> Option<FnId> {
    f.scope_at(k).func
}

/// What the expression starting at token `k` (an assignment's right side) is.
fn assigned(f: &Arc<PhpFile>, tree: &TreeIndex, k: usize, hops: u32) -> Option<Typed> {
    let line = f.toks.get(k)?.line;
    match &f.toks.get(k)?.kind {
        Tok::Var(p) if f.is_punct(k + 1, ";") => {
            let id = fn_at(f, k)?;
            let (ty, pl) = param_type(f, id, p)?;
            let kind = classify(f, tree, &ty, hops)?;
            typed(
                kind,
                format!("assigned from parameter `{ty} ${p}` ({})", f.loc(pl)),
            )
        }
        Tok::Ident(w) if w.eq_ignore_ascii_case("new") => {
            let ty = f.ident(k + 1)?;
            let kind = classify(f, tree, ty, hops)?;
            typed(kind, format!("assigned `new {ty}` ({})", f.loc(line)))
        }
        Tok::Ident(cls) if f.is_punct(k + 1, "::") => {
            let m = f.ident(k + 2)?;
            static_call(f, tree, cls, m, k + 3, hops)
        }
        _ => {
            // A chain such as `$this->createMock(...)`, `$factory->get('cache.x')`,
            // `$cache_factory->get('render')` (Drupal's CacheFactoryInterface).
            let mut j = k;
            while j < f.toks.len() && !f.is_punct(j, ";") && j < k + 64 {
                if let Some(w) = f.ident(j)
                    && f.is_punct(j + 1, "(")
                {
                    if let Some(t) = by_call_name(f, w, j + 1) {
                        return Some(t);
                    }
                    let factory = j >= 2
                        && f.is_punct(j - 1, "->")
                        && match &f.toks[j - 2].kind {
                            Tok::Var(v) | Tok::Ident(v) => {
                                let v = v.to_ascii_lowercase().replace('_', "");
                                v == "cachefactory"
                            }
                            _ => false,
                        };
                    if factory && w.eq_ignore_ascii_case("get") {
                        return typed(
                            Kind::Api("drupal-cache"),
                            format!("assigned a bin of the cache factory ({})", f.loc(line)),
                        );
                    }
                }
                if f.is_punct(j, "(") {
                    j = f.partner[j];
                }
                j += 1;
            }
            None
        }
    }
}

/// A value made by a call named `w` whose `(` is token `open`: mocks and Drupal's cache
/// factory / container lookups.
fn by_call_name(f: &PhpFile, w: &str, open: usize) -> Option<Typed> {
    let lw = w.to_ascii_lowercase();
    let line = f.toks[open].line;
    if matches!(
        lw.as_str(),
        "createmock"
            | "getmock"
            | "getmockbuilder"
            | "createstub"
            | "createpartialmock"
            | "prophesize"
            | "getmockforabstractclass"
            | "mock"
            | "spy"
    ) {
        return typed(
            Kind::Other,
            format!("a test double (`{w}()`, {})", f.loc(line)),
        );
    }
    if matches!(lw.as_str(), "get" | "service")
        && let Some(Tok::Str { value, .. }) = f.toks.get(open + 1).map(|t| &t.kind)
    {
        let v = value.to_ascii_lowercase();
        if v == "cache.static" || v.starts_with("cache.backend.memory") || v == "cache.memory" {
            return typed(
                Kind::Other,
                format!("service `{value}` is a memory cache ({})", f.loc(line)),
            );
        }
        if v.starts_with("cache.") && !v.starts_with("cache.backend") {
            return typed(
                Kind::Api("drupal-cache"),
                format!("service `{value}` is a cache bin ({})", f.loc(line)),
            );
        }
    }
    None
}

/// `Cls::m(…)` whose `(` is token `open`.
fn static_call(
    f: &Arc<PhpFile>,
    tree: &TreeIndex,
    cls: &str,
    m: &str,
    open: usize,
    hops: u32,
) -> Option<Typed> {
    let c = cls.trim_start_matches('\\').to_ascii_lowercase();
    let c = c.rsplit('\\').next().unwrap_or(&c).to_string();
    let lm = m.to_ascii_lowercase();
    match (c.as_str(), lm.as_str()) {
        ("drupal", "cache") => typed(Kind::Api("drupal-cache"), "`\\Drupal::cache()`".into()),
        ("drupal", "service") => by_call_name(f, m, open),
        ("drupal", _) => typed(Kind::Other, format!("`\\Drupal::{m}()` is no cache bin")),
        ("filecachefactory", "get") => typed(
            Kind::Other,
            "`FileCacheFactory::get()` returns a FileCacheInterface (memory/APCu, keyed by mtime)"
                .into(),
        ),
        ("mockery", _) => typed(Kind::Other, "a Mockery test double".into()),
        _ if hops < MAX_HOPS => {
            let (file, ci) = tree.find_class(&c)?;
            method_return(&file, tree, ci, m, hops + 1)
        }
        _ => None,
    }
}

/// The declared return type of method `m` of class `ci` (or its parents in the tree).
fn method_return(
    f: &Arc<PhpFile>,
    tree: &TreeIndex,
    ci: usize,
    m: &str,
    hops: u32,
) -> Option<Typed> {
    let class = &f.classes[ci];
    if let Some(mi) = class
        .methods
        .iter()
        .position(|d| d.name.eq_ignore_ascii_case(m))
    {
        let d = &class.methods[mi];
        let pclose = *f.partner.get(d.popen)?;
        let mut ty = None;
        if f.is_punct(pclose + 1, ":") {
            let t: String = (pclose + 2..d.open)
                .filter_map(|k| match &f.toks[k].kind {
                    Tok::Ident(w) => Some(w.as_str()),
                    Tok::Punct("|") => Some("|"),
                    Tok::Punct("\\") => Some("\\"),
                    _ => None,
                })
                .collect();
            ty = Some(t);
        }
        let fn_tok = d.popen.saturating_sub(1);
        let ty =
            ty.or_else(|| doc_type(f, fn_tok.saturating_sub(count_mods(f, fn_tok)), "@return"));
        let ty = ty?;
        let kind = classify(f, tree, &ty, hops)?;
        return typed(
            kind,
            format!("`{m}()` returns `{ty}` ({})", f.loc(f.toks[d.popen].line)),
        );
    }
    if hops < MAX_HOPS {
        let parent = class.extends.as_deref()?;
        let (pf, pci) = tree.find_class(parent.rsplit('\\').next().unwrap_or(parent))?;
        return method_return(&pf, tree, pci, m, hops + 1);
    }
    None
}

/// Tokens `function` and its modifiers before the name token at `name_tok`.
fn count_mods(f: &PhpFile, name_tok: usize) -> usize {
    let mut n = 0;
    let mut k = name_tok;
    while k > 0 {
        k -= 1;
        match f.ident(k) {
            Some(w)
                if w.eq_ignore_ascii_case("function")
                    || is_modifier(w)
                    || w.eq_ignore_ascii_case("abstract") =>
            {
                n += 1
            }
            _ => break,
        }
    }
    n
}

/// The type of property `p` of class `ci`: declared, documented, or assigned in the class;
/// then the parent class in the tree.
fn prop_type(f: &Arc<PhpFile>, tree: &TreeIndex, ci: usize, p: &str, hops: u32) -> Option<Typed> {
    let class = &f.classes[ci];
    for k in class.open..class.close {
        if !matches!(&f.toks[k].kind, Tok::Var(v) if v == p) {
            continue;
        }
        let (ty, is_prop) = type_before(f, k);
        if !is_prop {
            continue;
        }
        let line = f.toks[k].line;
        let mut first = k;
        while first > 0
            && !f.is_punct(first - 1, ";")
            && !f.is_punct(first - 1, "{")
            && !f.is_punct(first - 1, "}")
            && !f.is_punct(first - 1, ",")
            && !f.is_punct(first - 1, "(")
        {
            first -= 1;
        }
        let ty = if ty.is_empty() {
            doc_type(f, first, "@var").unwrap_or_default()
        } else {
            ty
        };
        if !ty.is_empty() {
            let kind = classify(f, tree, &ty, hops)?;
            return typed(
                kind,
                format!("`$this->{p}` is declared `{ty}` ({})", f.loc(line)),
            );
        }
        break;
    }
    for k in class.open..class.close.saturating_sub(4) {
        if matches!(&f.toks[k].kind, Tok::Var(v) if v == "this")
            && f.is_punct(k + 1, "->")
            && f.ident(k + 2) == Some(p)
            && f.is_punct(k + 3, "=")
            && let Some(t) = assigned(f, tree, k + 4, hops)
        {
            return typed(t.kind, format!("`$this->{p}` {}", t.how));
        }
    }
    if hops < MAX_HOPS {
        let parent = class.extends.as_deref()?;
        let (pf, pci) = tree.find_class(parent.rsplit('\\').next().unwrap_or(parent))?;
        return prop_type(&pf, tree, pci, p, hops + 1);
    }
    None
}

/// The type of local variable `v` at token `at`: its parameter type, or its last
/// assignment before `at` in the same function.
fn local_type(f: &Arc<PhpFile>, tree: &TreeIndex, v: &str, at: usize) -> Option<Typed> {
    let sc = f.scope_at(at);
    if let Some(id) = sc.func
        && let Some((ty, line)) = param_type(f, id, v)
    {
        let kind = classify(f, tree, &ty, 0)?;
        return typed(
            kind,
            format!("`${v}` is a `{ty}` parameter ({})", f.loc(line)),
        );
    }
    let (lo, _) = f.scope_range(sc);
    let mut k = at;
    while k > lo {
        k -= 1;
        if matches!(&f.toks[k].kind, Tok::Var(x) if x == v) && f.is_punct(k + 1, "=") {
            return assigned(f, tree, k + 2, 0).map(|t| Typed {
                kind: t.kind,
                how: format!("`${v}` {}", t.how),
            });
        }
    }
    None
}

/// What the receiver of the PHP method call named at token `name_idx` is, when it can be
/// told from the code.
pub fn php(f: &Arc<PhpFile>, tree: &TreeIndex, name_idx: usize) -> Option<Typed> {
    let arrow = name_idx.checked_sub(1)?;
    let j = f.receiver_start(name_idx);
    if j >= arrow {
        return None;
    }
    let sc = f.scope_at(name_idx);
    let toks = &f.toks[j..arrow];
    match toks.first().map(|t| &t.kind) {
        Some(Tok::Var(this)) if this == "this" => {
            let ci = sc.class?;
            let name = f.ident(j + 2)?;
            if !f.is_punct(j + 1, "->") {
                return None;
            }
            if toks.len() == 3 {
                return prop_type(f, tree, ci, name, 0);
            }
            if f.is_punct(j + 3, "(") && f.partner[j + 3] == arrow - 1 {
                if let Some(t) = by_call_name(f, name, j + 3) {
                    return Some(t);
                }
                return method_return(f, tree, ci, name, 0);
            }
            tail_call(f, j, arrow)
        }
        Some(Tok::Var(v)) if toks.len() == 1 => local_type(f, tree, v, name_idx),
        Some(Tok::Ident(cls)) if f.is_punct(j + 1, "::") && f.is_punct(j + 3, "(") => {
            let m = f.ident(j + 2)?;
            if f.partner[j + 3] == arrow - 1 {
                static_call(f, tree, cls, m, j + 3, 0)
            } else {
                tail_call(f, j, arrow)
            }
        }
        _ => tail_call(f, j, arrow),
    }
}

/// A receiver that ends with a call: `…->get('cache.render')`, `$x->createMock(…)`.
fn tail_call(f: &PhpFile, j: usize, arrow: usize) -> Option<Typed> {
    if !f.is_punct(arrow - 1, ")") {
        return None;
    }
    let open = f.partner[arrow - 1];
    if open <= j {
        return None;
    }
    let name = f.ident(open - 1)?;
    by_call_name(f, name, open)
}

// ---------------------------------------------------------------------------------------
// JavaScript / TypeScript

/// Packages that stand in for Redis in tests.
pub const JS_MOCK_PACKAGES: &[&str] = &["ioredis-mock", "redis-mock", "fakeredis", "redis-js"];

fn js_class(name: &str) -> Option<Kind> {
    let short = name.rsplit('.').next().unwrap_or(name);
    let lower = short.to_ascii_lowercase();
    if lower.contains("mock") || lower.contains("fake") {
        return Some(Kind::Other);
    }
    match short {
        "Redis" | "IORedis" | "Cluster" | "Valkey" | "RedisClient" | "RedisClientType"
        | "RedisClusterType" | "RedisCluster" => Some(Kind::Api("redis")),
        "Map" | "WeakMap" | "Set" | "WeakSet" | "Headers" | "URLSearchParams" | "FormData"
        | "LRUCache" | "LRU" | "NodeCache" | "Keyv" | "Cookies" => Some(Kind::Other),
        _ => None,
    }
}

/// How each name of a JS file is made or typed: its first `name = new C(…)` or
/// `name = createClient(…)`, then its first `name: C` (read once per file).
fn js_decls(f: &JsFile) -> &HashMap<String, Vec<JsDecl>> {
    static MADE: OnceLock<Regex> = OnceLock::new();
    static TYPED: OnceLock<Regex> = OnceLock::new();
    f.decls.get_or_init(|| {
        let made = MADE.get_or_init(|| {
            Regex::new(r"([\w$]+)\s*(?::\s*[\w.<>, ]+)?=\s*(?:await\s+)?(?:new\s+([\w.]+)|(?:[\w.]+\.)?(createClient|createCluster|fn|mock)\s*\()")
                .expect("valid regex")
        });
        let annotated =
            TYPED.get_or_init(|| Regex::new(r"([\w$]+)\??\s*:\s*([\w.]+)").expect("valid regex"));
        let mut m: HashMap<String, Vec<JsDecl>> = HashMap::new();
        for c in made.captures_iter(&f.src) {
            let d = match (c.get(2), c.get(3)) {
                (Some(cls), _) => JsDecl::New(cls.as_str().to_string()),
                (_, Some(func)) => JsDecl::Call(func.as_str().to_string()),
                _ => continue,
            };
            let v = m.entry(c[1].to_string()).or_default();
            if v.is_empty() {
                v.push(d);
            }
        }
        let mut typed_seen = std::collections::HashSet::new();
        for c in annotated.captures_iter(&f.src) {
            if js_class(&c[2]).is_some() && typed_seen.insert(c[1].to_string()) {
                m.entry(c[1].to_string())
                    .or_default()
                    .push(JsDecl::Typed(c[2].to_string()));
            }
        }
        m
    })
}

/// What the receiver of a JS method call is, from the file's text.
pub fn js(f: &JsFile, receiver: &str) -> Option<Typed> {
    let base = receiver
        .trim_end_matches("()")
        .trim_end_matches(".multi")
        .trim_end_matches(".pipeline")
        .trim_end_matches(".duplicate");
    let name = base
        .rsplit(['.', '!', '?'])
        .find(|s| !s.is_empty())
        .unwrap_or(base);
    let mock_import = JS_MOCK_PACKAGES
        .iter()
        .find(|p| f.src.contains(&format!("'{p}'")) || f.src.contains(&format!("\"{p}\"")));
    for d in js_decls(f).get(name).map_or(&[][..], Vec::as_slice) {
        match d {
            JsDecl::New(cls) => {
                if let Some(k) = js_class(cls) {
                    return typed(k, format!("`{name}` is `new {cls}`"));
                }
            }
            JsDecl::Call(func) => {
                let k = match func.as_str() {
                    "fn" | "mock" => Kind::Other,
                    _ => Kind::Api("redis"),
                };
                return typed(k, format!("`{name}` is made by `{func}()`"));
            }
            JsDecl::Typed(ty) => {
                if let Some(k) = js_class(ty) {
                    return typed(k, format!("`{name}` is typed `{ty}`"));
                }
            }
        }
    }
    if let Some(p) = mock_import {
        return typed(
            Kind::Other,
            format!("the file imports the mock package `{p}`"),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the receiver of the first `->NAME(` call in `src` is.
    fn php_kind(src: &str, name: &str) -> Option<String> {
        let f = Arc::new(PhpFile::parse("t.php".into(), format!("<?php\n{src}\n")).unwrap());
        let tree = TreeIndex::default();
        let at = (1..f.toks.len())
            .find(|&i| f.ident(i) == Some(name) && f.is_punct(i - 1, "->"))
            .expect("call");
        php(&f, &tree, at).map(|t| match t.kind {
            Kind::Api(a) => a.to_string(),
            Kind::Other => "other".into(),
            Kind::Wrapper(..) => "wrapper".into(),
        })
    }

    #[test]
    fn php_receivers_from_declarations_assignments_and_factories() {
        let k = |src: &str, name: &str| php_kind(src, name);
        // Declared property types, promoted parameters, @var and typed constructor params.
        assert_eq!(
            k("use Drupal\\Core\\Cache\\CacheBackendInterface; class C { protected CacheBackendInterface $c; function f() { $this->c->set(1, 2); } }", "set").as_deref(),
            Some("drupal-cache")
        );
        assert_eq!(
            k("class C { /** @var \\Drupal\\Component\\FileCache\\FileCacheInterface */ protected $fc; function f() { $this->fc->set(1, 2); } }", "set").as_deref(),
            Some("other")
        );
        assert_eq!(
            k("use Predis\\ClientInterface; class C { private $r; function __construct(ClientInterface $redis) { $this->r = $redis; } function f() { $this->r->set(1, 2); } }", "set").as_deref(),
            Some("redis")
        );
        // Magento cache types are caches even though their short name is `Config`.
        assert_eq!(
            k("namespace Acme;\nuse Magento\\Framework\\App\\Cache\\Type\\Config;\nclass C { function __construct(private Config $configCache) {} function f() { $this->configCache->save(1, 'id'); } }", "save").as_deref(),
            Some("magento-cache")
        );
        // PSR-16 is another API.
        assert_eq!(
            k("use Psr\\SimpleCache\\CacheInterface; class C { function __construct(private CacheInterface $cache) {} function f() { $this->cache->save(1, 'id'); } }", "save").as_deref(),
            Some("other")
        );
        // Factories and containers.
        assert_eq!(
            k("class C { function __construct($cache_factory) { $this->cache = $cache_factory->get('render'); } function f() { $this->cache->set(1, 2); } }", "set").as_deref(),
            Some("drupal-cache")
        );
        assert_eq!(
            k("\\Drupal::cache('data')->set(1, 2);", "set").as_deref(),
            Some("drupal-cache")
        );
        assert_eq!(
            k("\\Drupal::state()->set('k', 2);", "set").as_deref(),
            Some("other")
        );
        assert_eq!(
            k("function f() { $fc = \\Drupal\\Component\\FileCache\\FileCacheFactory::get('x'); $fc->set(1, 2); }", "set").as_deref(),
            Some("other")
        );
        // Local variables: `new`, typed parameters, mocks; return types of methods.
        assert_eq!(
            k("function f() { $r = new \\Redis(); $r->set(1, 2); }", "set").as_deref(),
            Some("redis")
        );
        assert_eq!(
            k("function f(\\Redis $r) { $r->set(1, 2); }", "set").as_deref(),
            Some("redis")
        );
        assert_eq!(
            k(
                "class T { function t() { $c = $this->prophesize(X::class); $c->set(1, 2); } }",
                "set"
            )
            .as_deref(),
            Some("other")
        );
        assert_eq!(
            k("use Drupal\\Core\\Cache\\CacheBackendInterface; class C { function getCache(): CacheBackendInterface {} function f() { $this->getCache()->set(1, 2); } }", "set").as_deref(),
            Some("drupal-cache")
        );
        // Nothing to go on: unresolved (the caller matches by name, one severity lower).
        assert_eq!(
            k(
                "class C { function f() { $this->cache->set(1, 2); } }",
                "set"
            ),
            None
        );
        assert_eq!(k("function f($redis) { $redis->set(1, 2); }", "set"), None);
    }

    #[test]
    fn js_receivers_from_construction_annotations_and_mocks() {
        let k = |src: &str, recv: &str| {
            let f = JsFile::parse("t.js".into(), src.into()).unwrap();
            js(&f, recv).map(|t| match t.kind {
                Kind::Api(a) => a.to_string(),
                _ => "other".into(),
            })
        };
        assert_eq!(
            k("const redis = new Redis(); redis.set(k, v);", "redis").as_deref(),
            Some("redis")
        );
        assert_eq!(
            k("const c = createClient(); c.set(k, v);", "c").as_deref(),
            Some("redis")
        );
        assert_eq!(
            k("const c = await redis.createClient(); c.set(k, v);", "c").as_deref(),
            Some("redis")
        );
        assert_eq!(
            k(
                "class S { constructor(private conn: Redis) {} f() { this.conn.set(k, v); } }",
                "this.conn"
            )
            .as_deref(),
            Some("redis")
        );
        assert_eq!(
            k(
                "const redisMap = new Map(); redisMap.set(k, v);",
                "redisMap"
            )
            .as_deref(),
            Some("other")
        );
        assert_eq!(
            k("const redis = new RedisMock(); redis.set(k, v);", "redis").as_deref(),
            Some("other")
        );
        assert_eq!(
            k("const Redis = require('ioredis-mock'); module.exports = (redis) => redis.set(k, v);", "redis").as_deref(),
            Some("other")
        );
        assert_eq!(
            k("module.exports = (redis) => redis.set(k, v);", "redis"),
            None
        );
    }
}
