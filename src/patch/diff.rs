//! Unified diffs of a [`Plan`]: `a/` and `b/` paths relative to the site root, so `git
//! apply` and `patch -p1` accept the output from that root. Secrets are masked.
//!
//! Lines are split on `\n` only, as `git apply` and `patch` split them: a lone CR stays
//! inside its line, a CRLF line keeps its `\r`, and a last line without a newline gets the
//! `\ No newline at end of file` marker. Every byte of the file is thus in the diff as it is
//! on disk. A line holding a secret is shown masked, so such a hunk is for review only:
//! [`render`] says when that happened.

use similar::{Algorithm, DiffOp, capture_diff_slices};

use super::Plan;

/// Lines of `text`, each with its `\n` (the last one may have none).
fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

/// `start,len` of a hunk side as unified diffs write it (1-based; `len` 0 names the line
/// before).
fn range(start: usize, len: usize) -> String {
    if len == 0 {
        format!("{start},0")
    } else {
        format!("{},{len}", start + 1)
    }
}

fn push_line(out: &mut String, tag: char, line: &str) {
    out.push(tag);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

/// One run of changed lines: `old[o0..o1]` becomes `new[n0..n1]`.
#[derive(Debug, Clone, Copy)]
struct Block {
    o0: usize,
    o1: usize,
    n0: usize,
    n1: usize,
}

/// Up to this many lines of context on each side of a change.
const CONTEXT: usize = 3;

/// A unified diff of `before` → `after`, unmasked. Context lines for which `secret` is true
/// are left out where the format allows it (a hunk may start without leading context, and
/// two changes separated by a secret line become two hunks), so that masking them does not
/// break the diff; a hunk needs trailing context unless it ends the file, so a secret line
/// right after a change is kept (and masked) there.
pub fn unified(
    old_header: &str,
    new_header: &str,
    before: &str,
    after: &str,
    secret: &dyn Fn(&str) -> bool,
) -> String {
    let old = lines(before);
    let new = lines(after);
    let mut blocks: Vec<Block> = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &old, &new) {
        if matches!(op, DiffOp::Equal { .. }) {
            continue;
        }
        let (o, n) = (op.old_range(), op.new_range());
        match blocks.last_mut() {
            Some(b) if b.o1 == o.start && b.n1 == n.start => {
                b.o1 = o.end;
                b.n1 = n.end;
            }
            _ => blocks.push(Block {
                o0: o.start,
                o1: o.end,
                n0: n.start,
                n1: n.end,
            }),
        }
    }
    // Hunks: blocks joined when the lines between them are few and hold no secret.
    let mut hunks: Vec<Vec<Block>> = Vec::new();
    for b in blocks {
        match hunks.last_mut().and_then(|h| h.last().copied()) {
            // A secret line right after a change is context anyway (see below).
            Some(prev)
                if b.o0 - prev.o1 <= 2 * CONTEXT
                    && (!old[prev.o1..b.o0].iter().any(|l| secret(l)) || secret(old[prev.o1])) =>
            {
                hunks.last_mut().expect("non-empty").push(b);
            }
            _ => hunks.push(vec![b]),
        }
    }
    let mut out = format!("--- {old_header}\n+++ {new_header}\n");
    let mut floor = 0;
    for h in &hunks {
        let (first, last) = (h[0], h[h.len() - 1]);
        let lead = (1..=CONTEXT)
            .take_while(|k| first.o0 >= floor + k && !secret(old[first.o0 - k]))
            .count();
        let mut trail = (0..CONTEXT)
            .take_while(|k| last.o1 + k < old.len() && !secret(old[last.o1 + k]))
            .count();
        if trail == 0 && last.o1 < old.len() {
            trail = CONTEXT.min(old.len() - last.o1);
        }
        floor = last.o1 + trail;
        let (o0, n0) = (first.o0 - lead, first.n0 - lead);
        let (o1, n1) = (last.o1 + trail, last.n1 + trail);
        out.push_str(&format!(
            "@@ -{} +{} @@\n",
            range(o0, o1 - o0),
            range(n0, n1 - n0)
        ));
        let mut at = o0;
        for b in h {
            for l in &old[at..b.o0] {
                push_line(&mut out, ' ', l);
            }
            for l in &old[b.o0..b.o1] {
                push_line(&mut out, '-', l);
            }
            for l in &new[b.n0..b.n1] {
                push_line(&mut out, '+', l);
            }
            at = b.o1;
        }
        for l in &old[at..o1] {
            push_line(&mut out, ' ', l);
        }
    }
    out
}

/// The diffs of every changed file of `plan`, masked, and whether masking changed them
/// (then they show `********` where a secret is and do not apply with `git apply`).
pub fn render(plan: &Plan) -> (String, bool) {
    let mut text = String::new();
    for patch in plan.changed() {
        let rel = patch.rel.to_string_lossy().replace('\\', "/");
        let before = patch.before.as_deref().unwrap_or("");
        let old_header = if patch.before.is_some() {
            format!("a/{rel}")
        } else {
            "/dev/null".to_string()
        };
        text.push_str(&unified(
            &old_header,
            &format!("b/{rel}"),
            before,
            &patch.after,
            &|line| plan.mask(line) != line,
        ));
    }
    let masked = plan.mask(&text);
    let changed = masked != text;
    (masked, changed)
}

/// Write one unified diff per changed file of `plan` (tests' shorthand for [`render`]).
#[cfg(test)]
pub fn write_plan(out: &mut impl std::io::Write, plan: &Plan) -> std::io::Result<()> {
    out.write_all(render(plan).0.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::{Patch, Secret};
    use super::*;
    use std::path::Path;

    #[test]
    fn diff_headers_are_relative_and_secrets_masked() {
        let root = Path::new("/srv/site");
        let mut plan = Plan::new(root);
        plan.patches.push(Patch::edit(
            root,
            "wp-config.php",
            "<?php\n$a = 1;\n".into(),
            "<?php\n$a = 1;\ndefine('WP_REDIS_PASSWORD', 's3cret');\n".into(),
        ));
        plan.patches.push(Patch::create(
            root,
            "sites/default/settings.redis.php",
            "<?php\n".into(),
        ));
        plan.secrets.push(Secret::new("s3cret"));
        let text = render(&plan).0;
        assert!(
            text.contains("--- a/wp-config.php\n+++ b/wp-config.php\n"),
            "{text}"
        );
        assert!(
            text.contains("--- /dev/null\n+++ b/sites/default/settings.redis.php\n"),
            "{text}"
        );
        assert!(text.contains("'********'"));
        assert!(!text.contains("s3cret"));
        assert!(render(&plan).1, "masking is reported");
    }

    #[test]
    fn secret_context_lines_are_left_out_where_the_format_allows() {
        let secret = |l: &str| l.starts_with("PW=");
        let before = "a\nb\nPW=x\nc\nd\n";
        // An append after a secret line: no leading context needed.
        let d = unified("a/f", "b/f", "a\nPW=x\n", "a\nPW=x\nnew\n", &secret);
        assert_eq!(d, "--- a/f\n+++ b/f\n@@ -2,0 +3,1 @@\n+new\n");
        // Changes on both sides of a secret line: two hunks around it.
        let d = unified(
            "a/f",
            "b/f",
            "a\nb\nx\nPW=x\ny\nc\nd\n",
            "a\nB\nx\nPW=x\ny\nC\nd\n",
            &secret,
        );
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n x\n@@ -5,3 +5,3 @@\n y\n-c\n+C\n d\n"
        );
        // A secret line right after a change stays as trailing context.
        let d = unified("a/f", "b/f", before, "a\nB\nPW=x\nc\nd\n", &secret);
        assert!(d.contains("+B\n PW=x\n c\n d\n"), "{d}");
        let d = unified("a/f", "b/f", before, "a\nB\nPW=x\nC\nd\n", &secret);
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n a\n-b\n+B\n PW=x\n-c\n+C\n d\n"
        );
    }

    #[test]
    fn lines_split_on_newline_only() {
        let no = |_: &str| false;
        let d = unified("a/f", "b/f", "x\ry\nz", "x\ry\nz\nw\n", &no);
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n x\ry\n-z\n\\ No newline at end of file\n+z\n+w\n"
        );
        let d = unified("a/f", "b/f", "a\r\nb\r\n", "a\r\nc\r\n", &no);
        assert_eq!(d, "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\r\n-b\r\n+c\r\n");
        let d = unified("/dev/null", "b/f", "", "n\n", &no);
        assert_eq!(d, "--- /dev/null\n+++ b/f\n@@ -0,0 +1,1 @@\n+n\n");
    }
}
