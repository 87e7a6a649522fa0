//! `rcfg`: configure and audit Redis for CMS sites (WordPress, Drupal, Magento 2, MedusaJS).
//!
//! `main` only parses the command line, hands the resolved options to the subcommand and turns
//! the outcome into a process exit code. It is the one place that prints top-level errors.

mod cli;
mod cms;
mod config;
mod exit;
mod fsutil;
mod lints;
mod model;
mod patch;
mod redis_audit;
mod redis_url;
mod report;
mod scan;
mod syntax;
mod term;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let outcome = match cli.command {
        cli::Command::Detect(args) => cms::cmd::run(args),
        cli::Command::Apply(args) => patch::cmd::run(*args),
        cli::Command::AuditTtl(args) => scan::cmd::run(args),
    };
    match outcome {
        Ok(exit) => exit.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return exit::Exit::Clean.into();
            }
            eprintln!("rcfg: error: {err:#}");
            exit::Exit::Error.into()
        }
    }
}

/// A closed pipe (`rcfg detect … | head`) is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
