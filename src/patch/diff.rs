//! Unified diffs of a [`Plan`]: `a/` and `b/` paths relative to the site root, so `git
//! apply` and `patch -p1` accept the output from that root. Secrets are masked.

use std::io::Write;

use similar::TextDiff;

use super::Plan;

/// Write one unified diff per changed file of `plan`.
pub fn write_plan(out: &mut impl Write, plan: &Plan) -> std::io::Result<()> {
    for patch in plan.changed() {
        let rel = patch.rel.to_string_lossy().replace('\\', "/");
        let before = patch.before.as_deref().unwrap_or("");
        let old_header = if patch.before.is_some() {
            format!("a/{rel}")
        } else {
            "/dev/null".to_string()
        };
        let diff = TextDiff::from_lines(before, patch.after.as_str());
        let text = diff
            .unified_diff()
            .context_radius(3)
            .header(&old_header, &format!("b/{rel}"))
            .missing_newline_hint(true)
            .to_string();
        out.write_all(plan.mask(&text).as_bytes())?;
    }
    Ok(())
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
        let mut out = Vec::new();
        write_plan(&mut out, &plan).unwrap();
        let text = String::from_utf8(out).unwrap();
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
    }
}
