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
mod manual;
mod model;
mod patch;
#[allow(dead_code)] // the RDB source is not called by the binary yet (`audit-ttl --rdb` comes next)
mod rdb;
mod redis_audit;
mod redis_url;
mod report;
mod scan;
mod syntax;
mod term;
#[cfg(test)]
mod testing;
mod ui;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(err),
    };
    ui::set_level(cli.quiet, cli.verbose);
    let started = std::time::Instant::now();
    let outcome = match cli.command {
        cli::Command::Detect(args) => cms::cmd::run(args),
        cli::Command::Apply(args) => patch::cmd::run(*args),
        cli::Command::AuditTtl(args) => scan::cmd::run(args),
        cli::Command::Completions(args) => manual::completions(&args, &mut std::io::stdout()),
        cli::Command::Man(args) => manual::man(&args, &mut std::io::stdout()),
    };
    ui::detail(format_args!(
        "finished in {:.2}s",
        started.elapsed().as_secs_f64()
    ));
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

/// `--help`/`--version` print as clap does; a usage error gets the same `rcfg: error:` prefix
/// as every other error, and exit code 2.
fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        err.exit();
    }
    let text = err.render().to_string();
    eprint!("rcfg: {}", text.trim_start());
    exit::Exit::Error.into()
}

/// A closed pipe (`rcfg detect … | head`) is not a failure.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
