//! The command line: clap definitions only. Each subcommand's flags live next to the code
//! that runs it (`cms::cmd`, `patch::cmd`, `scan::cmd`); this file only names them.

use clap::{Parser, Subcommand};

/// Configure Redis for CMS sites and audit what they cache without expiry.
#[derive(Debug, Parser)]
#[command(name = "rcfg", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Recognise CMS sites, read their Redis settings, lint them and report collisions.
    Detect(crate::cms::cmd::DetectArgs),
    /// Render Redis config patches for a site (or a hosting root) and show or write them.
    Apply(Box<crate::patch::cmd::ApplyArgs>),
    /// Find cache writes without expiry in code and config, or keys without TTL in a live Redis.
    #[command(name = "audit-ttl")]
    AuditTtl(crate::scan::cmd::AuditArgs),
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
