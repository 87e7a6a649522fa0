//! When to colour output, as git and ripgrep decide it: `--color always|never` wins; with
//! `auto`, `NO_COLOR` (any non-empty value) turns colour off, `CLICOLOR_FORCE` (non-empty,
//! not `0`) turns it on even through a pipe, `TERM=dumb` and `CLICOLOR=0` turn it off, and
//! otherwise stdout must be a terminal.

use std::ffi::OsString;
use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    #[default]
    Auto,
    Always,
    Never,
}

/// Whether stdout output should carry ANSI colours.
pub fn stdout_wants_color(choice: ColorChoice) -> bool {
    decide(
        choice,
        |name| std::env::var_os(name),
        std::io::stdout().is_terminal(),
    )
}

/// The policy itself, over an environment lookup and the terminal test (so it can be tested).
fn decide(choice: ColorChoice, env: impl Fn(&str) -> Option<OsString>, tty: bool) -> bool {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if set("NO_COLOR").is_some() {
                false
            } else if set("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else if set("TERM").is_some_and(|v| v == "dumb")
                || set("CLICOLOR").is_some_and(|v| v == "0")
            {
                false
            } else {
                tty
            }
        }
    }
}

/// A tiny painter: wraps text in an SGR code when enabled.
#[derive(Debug, Clone, Copy)]
pub struct Paint(pub bool);

impl Paint {
    pub(crate) fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
    pub fn red(self, text: &str) -> String {
        self.wrap("31", text)
    }
    pub fn yellow(self, text: &str) -> String {
        self.wrap("33", text)
    }
    pub fn green(self, text: &str) -> String {
        self.wrap("32", text)
    }
    pub fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }
}

/// Colour a unified diff as git does: headers bold, hunk lines cyan, removals red, additions
/// green, `#` notes dim. The bytes between the escapes are the diff's own, unchanged.
pub fn paint_diff(diff: &str, paint: Paint) -> String {
    if !paint.0 {
        return diff.to_string();
    }
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.split_inclusive('\n') {
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        let painted = if body.starts_with("+++ ") || body.starts_with("--- ") {
            paint.bold(body)
        } else if body.starts_with("@@") {
            paint.wrap("36", body)
        } else if body.starts_with('+') {
            paint.green(body)
        } else if body.starts_with('-') {
            paint.red(body)
        } else if body.starts_with('#') {
            paint.dim(body)
        } else {
            body.to_string()
        };
        out.push_str(&painted);
        out.push_str(nl);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(vars: &[(&str, &str)], choice: ColorChoice, tty: bool) -> bool {
        decide(
            choice,
            |name| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            },
            tty,
        )
    }

    #[test]
    fn auto_follows_the_terminal_and_the_usual_variables() {
        use ColorChoice::*;
        assert!(with(&[], Auto, true));
        assert!(!with(&[], Auto, false));
        assert!(!with(&[("NO_COLOR", "1")], Auto, true));
        assert!(
            with(&[("NO_COLOR", "")], Auto, true),
            "empty NO_COLOR is unset"
        );
        assert!(with(&[("CLICOLOR_FORCE", "1")], Auto, false));
        assert!(!with(&[("CLICOLOR_FORCE", "0")], Auto, false));
        assert!(!with(
            &[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")],
            Auto,
            true
        ));
        assert!(!with(&[("TERM", "dumb")], Auto, true));
        assert!(with(
            &[("TERM", "dumb"), ("CLICOLOR_FORCE", "1")],
            Auto,
            false
        ));
        assert!(!with(&[("CLICOLOR", "0")], Auto, true));
        assert!(with(&[("TERM", "dumb"), ("NO_COLOR", "1")], Always, false));
        assert!(!with(&[("CLICOLOR_FORCE", "1")], Never, true));
    }

    #[test]
    fn diffs_are_painted_per_line_and_plain_when_off() {
        let diff = "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-old\n+new\n same";
        assert_eq!(paint_diff(diff, Paint(false)), diff);
        let painted = paint_diff(diff, Paint(true));
        assert!(painted.contains("\x1b[31m-old\x1b[0m\n"), "{painted:?}");
        assert!(painted.contains("\x1b[32m+new\x1b[0m\n"), "{painted:?}");
        assert!(
            painted.contains("\x1b[36m@@ -1 +1 @@\x1b[0m"),
            "{painted:?}"
        );
        assert!(painted.ends_with("\n same"), "{painted:?}");
    }
}
