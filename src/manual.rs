//! Documentation generated from the clap definitions: shell completions (`clap_complete`)
//! and man pages (`clap_mangen`), so neither can drift from the real flags. Both crates
//! are the clap project's own generators; writing roff or completion scripts by hand would
//! duplicate every flag.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::exit::Exit;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `rcfg.1` and one `rcfg-<command>.1` per subcommand into DIR instead of printing
    /// the main page.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

pub fn completions(args: &CompletionsArgs, out: &mut impl Write) -> Result<Exit> {
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "rcfg", out);
    Ok(Exit::Clean)
}

pub fn man(args: &ManArgs, out: &mut impl Write) -> Result<Exit> {
    let cmd = crate::cli::Cli::command();
    match &args.out_dir {
        None => {
            clap_mangen::Man::new(cmd).render(out)?;
        }
        Some(dir) => {
            let written = write_pages(cmd, dir)?;
            for path in written {
                writeln!(out, "wrote {}", path.display())?;
            }
        }
    }
    Ok(Exit::Clean)
}

/// `rcfg.1` plus `rcfg-detect.1`, `rcfg-apply.1`, … (the names `man rcfg-apply` finds).
fn write_pages(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
    let mut cmd = cmd;
    cmd.build();
    let mut written = Vec::new();
    let mut page = |name: String, command: clap::Command| -> Result<()> {
        let path = dir.join(format!("{name}.1"));
        let mut buf = Vec::new();
        clap_mangen::Man::new(command)
            .title(name.to_uppercase())
            .render(&mut buf)?;
        std::fs::write(&path, buf).with_context(|| format!("{}: cannot write", path.display()))?;
        written.push(path);
        Ok(())
    };
    page("rcfg".into(), cmd.clone())?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("rcfg-{}", sub.get_name());
        page(name.clone(), sub.clone().name(name))?;
    }
    Ok(written)
}
