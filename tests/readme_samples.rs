//! Every sample output in README.md that is marked `<!-- sample: ARGS -->` (the line before
//! its code block) is produced by running `rcfg ARGS` from the repository root, so the README
//! cannot drift from the binary. `RCFG_BLESS=1 cargo test --test readme_samples` (or
//! `scripts/readme-samples.sh`) rewrites the blocks from the current binary.
//!
//! Marker options, after the arguments and a `|`: `head=N` keeps the first N lines and ends
//! the block with `…`.

mod common;

use common::{rcfg, repo_root};

struct Sample {
    args: Vec<String>,
    head: Option<usize>,
    /// Byte range of the code block's body in the README.
    body: std::ops::Range<usize>,
}

fn samples(readme: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    let mut at = 0;
    // A marker stands alone at the start of a line (prose may mention the syntax).
    while let Some(found) = readme[at..].find("\n<!-- sample: ") {
        let start = at + found + "\n<!-- sample: ".len();
        let end = start
            + readme[start..]
                .find(" -->")
                .expect("unclosed sample marker");
        let spec = &readme[start..end];
        let (args, opts) = spec.split_once(" | ").unwrap_or((spec, ""));
        let head = opts
            .strip_prefix("head=")
            .map(|n| n.parse().expect("head=N"));
        let fence = end
            + readme[end..]
                .find("```")
                .expect("no code block after marker");
        let body_start = fence + readme[fence..].find('\n').unwrap() + 1;
        let body_end = body_start + readme[body_start..].find("```").expect("unclosed block");
        out.push(Sample {
            args: args.split_whitespace().map(String::from).collect(),
            head,
            body: body_start..body_end,
        });
        at = body_end;
    }
    out
}

fn render(sample: &Sample) -> String {
    let out = rcfg().args(&sample.args).output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code <= 1,
        "rcfg {:?} failed ({code}): {}",
        sample.args,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    match sample.head {
        Some(n) if text.lines().count() > n => {
            let mut kept: String = text.lines().take(n).map(|l| format!("{l}\n")).collect();
            kept.push_str("…\n");
            kept
        }
        _ => text,
    }
}

#[test]
fn readme_samples_match_the_binary() {
    let path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let found = samples(&readme);
    assert!(found.len() >= 3, "expected sample markers in README.md");
    let bless = std::env::var_os("RCFG_BLESS").is_some();
    let mut updated = readme.clone();
    // Replace from the end so earlier ranges stay valid.
    for sample in found.iter().rev() {
        let now = render(sample);
        if bless {
            updated.replace_range(sample.body.clone(), &now);
        } else {
            assert_eq!(
                readme[sample.body.clone()],
                now,
                "README sample for `rcfg {}` is out of date: run scripts/readme-samples.sh",
                sample.args.join(" ")
            );
        }
    }
    if bless && updated != readme {
        std::fs::write(&path, updated).unwrap();
    }
}
