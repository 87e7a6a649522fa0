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
    fn wrap(self, code: &str, text: &str) -> String {
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
}
