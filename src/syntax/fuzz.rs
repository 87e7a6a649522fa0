//! Deterministic mutation fuzzing of the readers (nightly `cargo fuzz` is not available in
//! CI): real fixture files are mutated by a seeded PRNG (byte flips, token splices, cut and
//! duplicated ranges, runs of brackets that build deep nesting) and fed to the PHP reader,
//! the JS/TS reader, the `.env` reader and `env.php` reading. A reader may refuse an input,
//! never panic or overflow. `RCFG_FUZZ_CASES` raises the case count per reader (default
//! 120, seconds in CI); `RCFG_FUZZ_SEED` picks another seed. Every crasher found is kept in
//! `tests/corpus/<reader>/` and replayed first.

use std::path::{Path, PathBuf};

use crate::testing::Rng;

const SPLICES: &[&str] = &[
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    ",",
    ",,",
    "=>",
    "'",
    "\"",
    "`",
    "${",
    "$",
    "<?php",
    "?>",
    "/*",
    "*/",
    "//",
    "#",
    "\\",
    "\n",
    "<<<EOT\n",
    "\nEOT;\n",
    "array(",
    "=",
    ";",
    "?",
    ":",
    "->",
    "::",
    "...",
    "export ",
    "default ",
    "process.env.",
    "\u{202e}",
    "\u{feff}",
    "é",
    "\0",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..1 + rng.below(6) {
        let at = rng.below(b.len() + 1);
        match rng.below(7) {
            0 if !b.is_empty() => {
                let i = at.min(b.len() - 1);
                b[i] ^= 1 << rng.below(8);
            }
            1 => {
                let s = SPLICES[rng.below(SPLICES.len())].as_bytes();
                b.splice(at..at, s.iter().copied());
            }
            2 => {
                let end = (at + rng.below(64)).min(b.len());
                b.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(64)).min(b.len());
                let chunk = b[at..end].to_vec();
                b.splice(at..at, chunk);
            }
            4 => {
                // Deep nesting: a run of openers (and sometimes the closers).
                let (o, c) = [
                    ("[", "]"),
                    ("(", ")"),
                    ("array(", ")"),
                    ("{", "}"),
                    ("`${", "}`"),
                ][rng.below(5)];
                let n = 1 + rng.below(3000);
                let mut ins = o.repeat(n);
                if rng.below(2) == 0 {
                    ins.push('1');
                    ins.push_str(&c.repeat(n));
                }
                b.splice(at..at, ins.bytes());
            }
            5 => {
                // A long operator chain.
                let n = 1 + rng.below(5000);
                let ins = vec!["1"; n].join(["+", ".", "??", "||"][rng.below(4)]);
                b.splice(at..at, ins.bytes());
            }
            _ => b.truncate(at),
        }
    }
    b
}

fn corpus_dir(reader: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(reader)
}

fn seeds(files: &[&str]) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    files
        .iter()
        .map(|f| std::fs::read(root.join(f)).unwrap_or_else(|e| panic!("{f}: {e}")))
        .collect()
}

/// Replay the corpus, then `cases` mutations of `seeds`; panics (naming the saved crasher)
/// when `run` panics on an input. Returns the number of inputs run.
fn fuzz(reader: &str, seed_files: &[&str], run: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    let dir = corpus_dir(reader);
    let mut corpus: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    corpus.sort();
    for p in &corpus {
        let input = std::fs::read(p).unwrap();
        if std::panic::catch_unwind(|| run(&input)).is_err() {
            panic!("{reader}: corpus case {} panics again", p.display());
        }
    }
    let cases: usize = std::env::var("RCFG_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let seed: u64 = std::env::var("RCFG_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    let mut rng = Rng(seed ^ reader.len() as u64 ^ 0xabcdef);
    let seeds = seeds(seed_files);
    // A stack overflow or segfault kills the process before a crasher can be saved: in
    // long runs (RCFG_FUZZ_CASES set), each input is first written to target/fuzz-last-*.
    let last = std::env::var_os("RCFG_FUZZ_CASES")
        .map(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("target/fuzz-last-{reader}")));
    for case in 0..cases {
        let pick = rng.below(seeds.len());
        let input = mutate(&mut rng, &seeds[pick]);
        if let Some(last) = &last {
            std::fs::write(last, &input).unwrap();
        }
        if std::panic::catch_unwind(|| run(&input)).is_err() {
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join(format!("crash-{seed:x}-{case}"));
            std::fs::write(&path, &input).unwrap();
            panic!(
                "{reader}: case {case} panics; input saved as {}",
                path.display()
            );
        }
    }
    eprintln!(
        "{reader}: {} corpus + {cases} mutated inputs, no crash",
        corpus.len()
    );
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn fuzz_php_reader() {
    fuzz(
        "php",
        &[
            "fixtures/magento2-composer-redis/app/etc/env.php",
            "fixtures/wordpress-classic-redis/wp-config.php",
            "fixtures/drupal-classic-redis/sites/default/settings.php",
            "fixtures/wordpress-bedrock-redis/config/application.php",
        ],
        |b| {
            let t = text(b);
            if let Ok(stmts) = super::php::parse(&t) {
                for s in &stmts {
                    if let super::php::StmtKind::Return { value, .. } = &s.kind {
                        let _ = value.literal();
                        let _ = value.describe();
                    }
                }
            }
            if let Ok(toks) = super::php::lex(&t) {
                let toks: Vec<_> = toks
                    .into_iter()
                    .filter(|t| !matches!(t.kind, super::php::Tok::Comment(_)))
                    .collect();
                for i in (0..toks.len()).step_by(31) {
                    let _ = super::php::parse_expr_at(&toks, i);
                }
            }
        },
    );
}

#[test]
fn fuzz_js_reader() {
    fuzz(
        "js",
        &[
            "fixtures/medusa-v2-redis/medusa-config.ts",
            "fixtures/medusa-v1-redis/medusa-config.js",
            "fixtures/medusa-v2-caching/medusa-config.ts",
        ],
        |b| {
            let t = text(b);
            let _ = super::js::parse_module(&t);
            let _ = super::js::parse_expr(&t);
        },
    );
}

#[test]
fn fuzz_dotenv_reader() {
    fuzz(
        "dotenv",
        &[
            "fixtures/wordpress-bedrock-redis/.env",
            "fixtures/medusa-v2-redis/.env",
        ],
        |b| {
            let vars = super::dotenv::parse(&text(b));
            for (k, v) in &vars {
                assert!(!k.is_empty() && v.line >= 1);
            }
        },
    );
}

#[test]
fn fuzz_env_php_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("env.php");
    fuzz(
        "env_php",
        &["fixtures/magento2-composer-redis/app/etc/env.php"],
        |b| {
            std::fs::write(&path, b).unwrap();
            let mut site =
                crate::model::Site::new(dir.path(), crate::model::Cms::Magento2, "composer");
            let mut errors = Vec::new();
            crate::cms::magento::env_php::read(&path, &mut site, &mut errors);
            for e in &errors {
                // Every refusal names a reason, never an empty message.
                assert!(!e.message.is_empty());
            }
        },
    );
}

/// Not a test: `RCFG_PARSE_TREE=/usr/share/wordpress cargo test --bin rcfg parse_tree --
/// --ignored --nocapture` parses every PHP and JS file below a tree and counts refusals
/// (the figures in docs/parsers.md).
#[test]
#[ignore]
fn parse_tree() {
    let Ok(root) = std::env::var("RCFG_PARSE_TREE") else {
        return;
    };
    let (mut ok, mut refused, mut too_deep, mut bytes) = (0usize, Vec::new(), 0usize, 0usize);
    let t0 = std::time::Instant::now();
    for e in walkdir::WalkDir::new(&root).into_iter().flatten() {
        let p = e.path();
        let ext = p.extension().and_then(|x| x.to_str()).unwrap_or("");
        if !e.file_type().is_file() || !matches!(ext, "php" | "js" | "ts") {
            continue;
        }
        let Ok(t) = std::fs::read_to_string(p) else {
            continue;
        };
        bytes += t.len();
        let r = if ext == "php" {
            super::php::parse(&t).map(|_| ())
        } else {
            super::js::parse_module(&t).map(|_| ())
        };
        match r {
            Ok(()) => ok += 1,
            Err(e) => {
                too_deep += usize::from(e.message.contains("too deeply nested"));
                refused.push(format!("{}: {e}", p.display()));
            }
        }
    }
    eprintln!(
        "{ok} parsed, {} refused ({too_deep} too deep), {:.1} MB in {:.2?}",
        refused.len(),
        bytes as f64 / 1e6,
        t0.elapsed()
    );
    for r in refused.iter().take(15) {
        eprintln!("  {r}");
    }
}

/// Right-associative and recursive-without-brackets chains, each 100,000 links long: every
/// one is refused as too deep (none overflows the stack of a 2 MiB test thread).
#[test]
fn long_right_associative_chains_are_refused_not_overflowed() {
    let n = 100_000;
    let php = [
        format!("<?php $a = {}1;", "$a = ".repeat(n)),
        format!("<?php $a = {}1;", "1 ? 1 : ".repeat(n)),
        format!("<?php $a = 1{};", " ?? 1".repeat(n)),
        format!("<?php $a = {}1;", "!".repeat(n)),
        format!("<?php $a = {}1;", "(int) ".repeat(n)),
        format!("<?php $a = $x{};", "->a()".repeat(n)),
        format!("<?php {}", "if (1) ".repeat(n)),
        format!("<?php {}{}", "{".repeat(n), "}".repeat(n)),
    ];
    for src in &php {
        let err = super::php::parse(src).unwrap_err();
        assert!(err.message.contains("too deeply nested"), "{err}");
        // The scanner parses expressions in place: from any offset, refused or read.
        let toks = super::php::lex(src).unwrap();
        for at in 0..6 {
            let _ = super::php::parse_expr_at(&toks, at);
        }
    }
    let js = [
        format!("a = {}1", "a = ".repeat(n)),
        format!("a = {}1", "1 ? 1 : ".repeat(n)),
        format!("a = 1{}", " ** 1".repeat(n)),
        format!("a = {}1", "x => ".repeat(n)),
        format!("a = {}1", "-".repeat(n)),
        format!("a = x{}", ".a()".repeat(n)),
        format!("{}default 1", "export ".repeat(n)),
    ];
    for src in &js {
        let err = super::js::parse_module(src).unwrap_err();
        assert!(
            err.message.contains("too deeply nested"),
            "{src:.40}: {err}"
        );
    }
}
