//! Process exit codes, one type for every subcommand (documented in README.md).
//!
//! 0: clean. 1: findings at or above the failure threshold (or, for `apply --check`, pending
//! changes). 2: an error: bad input, unreadable files, unreachable Redis. clap's own usage
//! errors also exit 2.

use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    Clean = 0,
    Findings = 1,
    Error = 2,
}

impl Exit {
    /// The worse of two outcomes: an error beats findings, findings beat clean.
    pub fn merge(self, other: Exit) -> Exit {
        self.max(other)
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::Exit;

    #[test]
    fn merge_keeps_the_worst_outcome() {
        assert_eq!(Exit::Clean.merge(Exit::Findings), Exit::Findings);
        assert_eq!(Exit::Error.merge(Exit::Findings), Exit::Error);
        assert_eq!(Exit::Clean.merge(Exit::Clean), Exit::Clean);
        assert_eq!(Exit::Findings as u8, 1);
        assert_eq!(Exit::Error as u8, 2);
    }
}
