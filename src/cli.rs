//! The command line: clap definitions only. Each subcommand's flags live next to the code
//! that runs it (`cms::cmd`, `patch::cmd`, `scan::cmd`); this file only names them, and
//! holds the per-subcommand EXAMPLES shown by `--help` (and in the man pages).

use clap::{Parser, Subcommand};

/// Configure Redis for CMS sites and audit what they cache without expiry.
#[derive(Debug, Parser)]
#[command(
    name = "rcfg",
    version,
    about,
    propagate_version = true,
    after_help = EXAMPLES_TOP
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Print nothing on stderr but errors (no notes, warnings or progress). Reports on
    /// stdout are unchanged.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Say more on stderr: the config file used (or that there is none) and the run time.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

const EXAMPLES_TOP: &str = "\
Examples:
  rcfg detect /var/www/example              what the site is and how its Redis is set up
  rcfg detect --root /var/www               every site below a hosting root, with collisions
  rcfg apply /var/www/example --dry-run     the config patch as a diff, nothing written
  rcfg audit-ttl /var/www/example           code and config that cache without expiry
  rcfg audit-ttl --redis unix:///var/run/redis/redis.sock   live keys without TTL

Run `rcfg help <command>` for each command's flags and examples.";

const EXAMPLES_DETECT: &str = "\
Examples:
  rcfg detect /var/www/example/public_html
  rcfg detect --root /var/www --depth 4
  rcfg detect --root /home --format json | jq '.sites[] | {root, cms}'
  rcfg detect --root /var/www --fail-on warning     exit 1 on any lint or collision";

const EXAMPLES_APPLY: &str = "\
Examples:
  rcfg apply /var/www/shop --dry-run                 show the patch, write nothing
  rcfg apply /var/www/shop --socket /var/run/redis/redis.sock --db 3 --prefix shop:
  rcfg apply /var/www/shop --check                   exit 1 when the site is not configured yet
  rcfg apply --root /var/www --dry-run > all.diff    one diff for every site (git apply-able)";

const EXAMPLES_AUDIT: &str = "\
Examples:
  rcfg audit-ttl /var/www/example/public_html            scan code and config
  rcfg audit-ttl . --format sarif > rcfg.sarif           for code scanning in CI
  rcfg audit-ttl --redis redis://127.0.0.1:6379 --db 2   live keys without TTL in db 2
  rcfg audit-ttl --redis unix:///var/run/redis/redis.sock --sites /var/www
                                                         live keys attributed to each site";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Recognise CMS sites, read their Redis settings, lint them and report collisions.
    #[command(after_help = EXAMPLES_DETECT)]
    Detect(crate::cms::cmd::DetectArgs),
    /// Render Redis config patches for a site (or a hosting root) and show or write them.
    #[command(after_help = EXAMPLES_APPLY)]
    Apply(Box<crate::patch::cmd::ApplyArgs>),
    /// Find cache writes without expiry in code and config, or keys without TTL in a live Redis.
    #[command(name = "audit-ttl", after_help = EXAMPLES_AUDIT)]
    AuditTtl(crate::scan::cmd::AuditArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish or powershell) to stdout.
    #[command(after_help = "\
Examples:
  rcfg completions bash > /etc/bash_completion.d/rcfg
  rcfg completions zsh > /usr/local/share/zsh/site-functions/_rcfg
  rcfg completions fish > ~/.config/fish/completions/rcfg.fish")]
    Completions(crate::manual::CompletionsArgs),
    /// Print the man page to stdout, or write one page per command into a directory.
    #[command(after_help = "\
Examples:
  rcfg man | man -l -
  rcfg man --out-dir /usr/local/share/man/man1")]
    Man(crate::manual::ManArgs),
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
