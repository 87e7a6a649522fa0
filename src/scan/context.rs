//! Where a write happens, and whether it can be a site risk at all: test, mock and example
//! code (by path and by the test APIs a file uses), test-double expectations such as
//! Prophecy's `->set(…)->shouldBeCalled()`, WordPress object-cache groups that never reach
//! Redis (core's non-persistent groups per version plus every
//! `wp_cache_add_non_persistent_groups()` call in the tree), and the wrapper forwards that
//! make one write one finding. The per-file facts are gathered by `analyze`; `apply` runs
//! once over all findings after the parallel analysis.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::report::{Finding, Severity};

/// Directory names that hold tests, mocks and fixtures.
const TEST_DIRS: &[&str] = &[
    "test",
    "tests",
    "__tests__",
    "__mocks__",
    "__fixtures__",
    "spec",
    "specs",
    "testing",
    "test-utils",
    "testutils",
];

/// Why the file at `rel` (relative to PATH) is test, mock or example code, if it is.
pub fn test_path(rel: &Path) -> Option<String> {
    let comps: Vec<String> = rel
        .iter()
        .map(|c| c.to_string_lossy().into_owned())
        .collect();
    let (file, dirs) = comps.split_last()?;
    if let Some(d) = dirs
        .iter()
        .find(|d| TEST_DIRS.iter().any(|t| d.eq_ignore_ascii_case(t)))
    {
        return Some(format!("in a test directory (`{d}/`)"));
    }
    let lower = file.to_ascii_lowercase();
    let stem = lower.split('.').next().unwrap_or(&lower);
    if file.ends_with("Test.php")
        || file.ends_with("TestCase.php")
        || lower.contains(".test.")
        || lower.contains(".spec.")
        || stem.ends_with("_test")
        || stem.ends_with("-test")
        || stem.starts_with("test_")
    {
        return Some(format!("a test file (`{file}`)"));
    }
    // Inside a dependency: mock packages, and its examples, demos and benchmarks.
    if let Some(i) = dirs
        .iter()
        .position(|d| d == "node_modules" || d == "vendor")
    {
        let pkg: Vec<&String> = dirs[i + 1..].iter().take(2).collect();
        let name = match pkg.first() {
            Some(s) if s.starts_with('@') => {
                pkg.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("/")
            }
            Some(s) => s.to_string(),
            None => String::new(),
        };
        if name.contains("mock") || name.contains("fake") {
            return Some(format!("in the mock package `{name}`"));
        }
        let inner = dirs[i + 1..].iter().chain(std::iter::once(file));
        for c in inner {
            let l = c.to_ascii_lowercase();
            if ["example", "demo", "benchmark", "bench"]
                .iter()
                .any(|p| l.starts_with(p))
            {
                return Some(format!("an example/demo of a dependency (`{c}`)"));
            }
        }
    }
    None
}

/// Whether the text of a file shows it is test code (PHPUnit/Prophecy/Jest/Vitest/Mocha).
pub fn test_text(src: &str) -> Option<&'static str> {
    const MARKERS: &[(&str, &str)] = &[
        ("extends TestCase", "a PHPUnit test case"),
        ("extends UnitTestCase", "a Drupal unit test"),
        ("extends KernelTestBase", "a Drupal kernel test"),
        ("extends BrowserTestBase", "a Drupal browser test"),
        ("extends WP_UnitTestCase", "a WordPress unit test"),
        (
            "extends \\PHPUnit\\Framework\\TestCase",
            "a PHPUnit test case",
        ),
        ("jest.fn(", "a Jest test"),
        ("jest.mock(", "a Jest test"),
        ("vi.fn(", "a Vitest test"),
        ("describe(", "a test suite (`describe(`)"),
    ];
    static CASE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let case = CASE.get_or_init(|| {
        regex::Regex::new(r#"(?m)(^|[^\w.$])(it|test)\s*\(\s*['"`]"#).expect("valid regex")
    });
    MARKERS
        .iter()
        .find(|(m, _)| src.contains(m) && (!m.starts_with("describe") || case.is_match(src)))
        .map(|(_, why)| *why)
}

/// Method names chained after a call that make it a test-double expectation.
pub fn is_expectation(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "shouldbecalled"
            | "shouldbecalledonce"
            | "shouldbecalledtimes"
            | "shouldnotbecalled"
            | "shouldhavebeencalled"
            | "shouldnothavebeencalled"
            | "willreturn"
            | "will"
            | "willreturnargument"
            | "willthrow"
            | "mockresolvedvalue"
            | "mockreturnvalue"
            | "mockimplementation"
            | "tohavebeencalledwith"
    )
}

/// WordPress core's non-persistent object-cache groups for a version
/// (`wp_start_object_cache()` in wp-includes/load.php: `counts` and `plugins` since 3.0,
/// `theme_json` since 6.1.2; WP_Theme makes `themes` non-persistent unless the
/// `wp_cache_themes_persistently` filter says otherwise). Unknown version: the newest list.
pub fn wp_core_groups(version: Option<&str>) -> Vec<&'static str> {
    let v: Vec<u32> = version
        .unwrap_or("")
        .split(['.', '-'])
        .map_while(|p| p.parse().ok())
        .collect();
    let at_least = |want: &[u32]| v.is_empty() || v.as_slice() >= want;
    let mut g = vec!["counts", "plugins", "themes"];
    if at_least(&[6, 1, 2]) {
        g.push("theme_json");
    }
    g
}

/// A call through a wrapper that has no expiry parameter: the write is reported once, at
/// the wrapper's own cache write, with this caller in its trace.
#[derive(Debug, Clone)]
pub struct Forward {
    /// Display path of the wrapper's file.
    pub file: String,
    /// Lines of the wrapper method (first, last).
    pub lines: (usize, usize),
    /// `Class::method()`.
    pub wrapper: String,
    /// `file:line` of the call.
    pub caller: String,
}

/// What analysing one file found besides findings.
#[derive(Debug, Default)]
pub struct FileFacts {
    /// Groups declared non-persistent: (group, `file:line`).
    pub np_groups: Vec<(String, String)>,
    /// For findings of this file (by index): the object-cache group they write to.
    pub group_of: Vec<(usize, String)>,
    pub forwards: Vec<Forward>,
    /// Version of the WordPress site the file belongs to.
    pub wp_version: Option<String>,
}

/// Findings of writes to request-local groups are dropped (the count is returned); callers
/// of wrappers go into the wrapper's finding. `facts` holds (index of the file's first
/// finding in `findings`, facts) per file.
pub fn apply(findings: &mut Vec<Finding>, facts: Vec<(usize, FileFacts)>) -> u64 {
    let mut declared: HashMap<String, String> = HashMap::new();
    let mut forwards: Vec<Forward> = Vec::new();
    let mut group_of: BTreeMap<usize, (String, Option<String>)> = BTreeMap::new();
    for (base, ff) in facts {
        for (g, at) in ff.np_groups {
            declared.entry(g).or_insert(at);
        }
        forwards.extend(ff.forwards);
        for (i, g) in ff.group_of {
            group_of.insert(base + i, (g, ff.wp_version.clone()));
        }
    }
    let mut drop = vec![false; findings.len()];
    for (i, (g, version)) in &group_of {
        if *i < drop.len()
            && (declared.contains_key(g)
                || wp_core_groups(version.as_deref()).contains(&g.as_str()))
        {
            drop[*i] = true;
        }
    }
    let mut k = 0;
    findings.retain(|_| {
        k += 1;
        !drop[k - 1]
    });
    let dropped = drop.iter().filter(|d| **d).count() as u64;
    for f in findings.iter_mut() {
        let Some(loc) = &f.location else { continue };
        let path = loc.path.display().to_string();
        let callers: Vec<&Forward> = forwards
            .iter()
            .filter(|w| w.file == path && w.lines.0 <= loc.line && loc.line <= w.lines.1)
            .collect();
        if callers.is_empty() {
            continue;
        }
        let mut shown: Vec<&str> = callers.iter().map(|w| w.caller.as_str()).collect();
        shown.sort();
        shown.dedup();
        let n = shown.len();
        shown.truncate(10);
        f.trace.push(format!(
            "{} has no expiry parameter; called at {}{}",
            callers[0].wrapper,
            shown.join(", "),
            if n > 10 {
                format!(" and {} more", n - 10)
            } else {
                String::new()
            }
        ));
    }
    dropped
}

/// Lower a finding to info as test code (never site risk), saying why.
pub fn mark_test(f: &mut Finding, why: &str) {
    f.severity = Severity::Info;
    f.trace.push(format!(
        "test/example code ({why}): not counted as site risk"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_mock_and_example_paths() {
        let t = |p: &str| test_path(Path::new(p));
        assert!(t("web/modules/contrib/redis/tests/src/Kernel/RedisCacheTest.php").is_some());
        assert!(t("dev/tests/integration/testsuite/Cache.php").is_some());
        assert!(t("src/__tests__/cache.js").is_some());
        assert!(t("src/cache.spec.ts").is_some());
        assert!(t("app/code/Acme/Stock/Test/Unit/StockCacheTest.php").is_some());
        assert!(t("node_modules/ioredis-mock/lib/index.js").is_some());
        assert!(t("node_modules/@acme/redis-mock/index.js").is_some());
        assert!(t("node_modules/bull/examples/cache.js").is_some());
        assert!(t("vendor/predis/predis/examples/pipelining.php").is_some());
        // Site code, and `example`/`demo` names outside dependencies, are not.
        assert!(t("wp-content/plugins/shop/inc/cache.php").is_none());
        assert!(t("wp-content/plugins/demo-importer/cache.php").is_none());
        assert!(t("node_modules/ioredis/built/Redis.js").is_none());
        assert!(t("web/core/lib/Drupal/Core/Cache/DatabaseBackend.php").is_none());
        assert!(test_text("class T extends UnitTestCase {}").is_some());
        assert!(test_text("describe('x', () => { it('y', () => {}) })").is_some());
        assert!(test_text("function describe(x) {}").is_none());
        assert!(test_text("describe(cmd); process.exit(1); submit('x');").is_none());
        assert!(is_expectation("shouldBeCalled") && !is_expectation("save"));
    }

    #[test]
    fn core_non_persistent_groups_follow_the_version() {
        assert_eq!(
            wp_core_groups(Some("6.0.3")),
            ["counts", "plugins", "themes"]
        );
        assert_eq!(
            wp_core_groups(Some("6.1.1")),
            ["counts", "plugins", "themes"]
        );
        assert!(wp_core_groups(Some("6.1.2")).contains(&"theme_json"));
        assert!(wp_core_groups(Some("6.6-RC1")).contains(&"theme_json"));
        assert!(wp_core_groups(None).contains(&"theme_json"));
    }
}
