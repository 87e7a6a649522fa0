//! `rcfg detect`: resolve the flags, detect the sites, find collisions and print the
//! inventory as a table or as JSON (the JSON schema is documented in README.md).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::collisions::{self, Collision};
use super::{DetectError, RootWalk};
use crate::exit::Exit;
use crate::model::Site;
use crate::report::color::{ColorChoice, Paint, stdout_wants_color};
use crate::report::{DetectFormat, Severity};

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// Site directories to inspect (default: the current directory).
    pub paths: Vec<PathBuf>,

    /// Treat DIR as a hosting root: find every site below it and report collisions.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,

    /// With --root: how many levels below DIR a site root may be.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub depth: usize,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DetectFormat::Table)]
    pub format: DetectFormat,

    /// Exit 1 when a lint or collision is at or above this severity.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t = Severity::Error)]
    pub fail_on: Severity,

    /// When to colour the table.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// The whole `detect` result; its serialisation is the JSON contract.
#[derive(Debug, Serialize)]
pub struct Inventory {
    pub sites: Vec<Site>,
    pub collisions: Vec<Collision>,
    pub errors: Vec<DetectError>,
}

impl Inventory {
    /// Build the inventory for the given flags.
    pub fn gather(args: &DetectArgs) -> Inventory {
        let mut errors = Vec::new();
        let mut sites = Vec::new();
        if let Some(root) = &args.root {
            sites.extend(super::walk_root(
                root,
                &RootWalk {
                    max_depth: args.depth,
                },
                &mut errors,
            ));
        }
        let paths: Vec<PathBuf> = if args.paths.is_empty() && args.root.is_none() {
            vec![PathBuf::from(".")]
        } else {
            args.paths.clone()
        };
        for path in paths {
            match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => sites.extend(super::locate::site_at(&path, &mut errors)),
                Ok(_) => errors.push(DetectError::new(&path, "not a directory")),
                Err(e) => errors.push(DetectError::new(&path, super::describe_io(&e))),
            }
        }
        if let Some(root) = &args.root
            && sites.is_empty()
            && errors.is_empty()
        {
            errors.push(DetectError::new(
                root,
                format!(
                    "no CMS site found below this directory (searched {} levels deep; --depth searches deeper)",
                    args.depth
                ),
            ));
        }
        // Lints in file and line order, whatever order the checks ran in.
        for site in &mut sites {
            site.lints.sort_by(|a, b| {
                let key = |l: &crate::report::Finding| {
                    l.location
                        .as_ref()
                        .map(|loc| (0, loc.path.clone(), loc.line, loc.column))
                        .unwrap_or((1, PathBuf::new(), 0, None))
                };
                key(a).cmp(&key(b))
            });
        }
        let collisions = collisions::find(&sites);
        Inventory {
            sites,
            collisions,
            errors,
        }
    }

    /// 2 on any error, 1 on a lint or collision at or above `fail_on`, else 0.
    pub fn exit(&self, fail_on: Severity) -> Exit {
        if !self.errors.is_empty() {
            return Exit::Error;
        }
        let lint_hit = self
            .sites
            .iter()
            .flat_map(|s| &s.lints)
            .any(|l| l.severity >= fail_on);
        let collision_hit = self.collisions.iter().any(|c| c.severity >= fail_on);
        if lint_hit || collision_hit {
            Exit::Findings
        } else {
            Exit::Clean
        }
    }
}

pub fn run(args: DetectArgs) -> Result<Exit> {
    let inventory = Inventory::gather(&args);
    let stdout = std::io::stdout();
    // Block-buffered: a line-buffered stdout costs one write(2) per line of JSON.
    let mut out = std::io::BufWriter::new(stdout.lock());
    match args.format {
        DetectFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &inventory)?;
            writeln!(out)?;
        }
        DetectFormat::Table => {
            write_table(&mut out, &inventory, Paint(stdout_wants_color(args.color)))?;
        }
    }
    out.flush()?;
    Ok(inventory.exit(args.fail_on))
}

/// One-line summary of a site's cache connection: `unix:/sock db 3 prefix site1:`.
fn redis_summary(site: &Site) -> String {
    if !site.redis.configured {
        return "not configured".to_string();
    }
    let Some(conn) = site.redis.cache.as_ref().or(site.redis.sessions.as_ref()) else {
        return "configured".to_string();
    };
    let endpoint = conn
        .transport
        .as_ref()
        .map_or_else(|| "default endpoint".to_string(), |t| t.value.to_string());
    let prefix = conn.prefix.as_ref().map_or_else(
        || "no prefix".to_string(),
        |p| format!("prefix {}", p.value),
    );
    format!("{endpoint} db {} {prefix}", conn.effective_database())
}

fn severity_label(p: Paint, s: Severity) -> String {
    match s {
        Severity::Error => p.red("error"),
        Severity::Warning => p.yellow("warning"),
        Severity::Info => p.dim("info"),
    }
}

fn esc(s: &str) -> String {
    crate::term::escape(s).into_owned()
}

fn esc_path(p: &std::path::Path) -> String {
    crate::term::path(p)
}

/// The human table: one row per site, then lints, collisions and errors.
pub fn write_table(out: &mut impl Write, inv: &Inventory, p: Paint) -> std::io::Result<()> {
    let header = ["PATH", "CMS", "VERSION", "LAYOUT", "REDIS", "LINTS"];
    let rows: Vec<[String; 6]> = inv
        .sites
        .iter()
        .map(|s| {
            let cms = if s.supported || s.cms == crate::model::Cms::Unknown {
                s.cms.to_string()
            } else {
                format!("{} (unsupported)", s.cms)
            };
            // Paths, versions and prefixes come from tenants' files: escaped for the terminal.
            [
                esc_path(&s.path),
                cms,
                esc(s.version.as_deref().unwrap_or("-")),
                esc(&s.layout),
                esc(&redis_summary(s)),
                s.lints.len().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| -> String {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        s.trim_end().to_string()
    };
    // No site at all (only errors): no bare header.
    if !rows.is_empty() {
        writeln!(out, "{}", p.bold(&line(header)))?;
    }
    for row in &rows {
        writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
    }
    for s in &inv.sites {
        if let Some(from) = &s.found_from {
            let (site, from) = (s.path.display(), from.display());
            writeln!(out, "site: {site} (found from {from})")?;
        }
    }
    if inv
        .sites
        .iter()
        .all(|s| s.cms == crate::model::Cms::Unknown)
        && !inv.sites.is_empty()
    {
        writeln!(out, "\nno CMS recognised")?;
    }
    for site in &inv.sites {
        if site.cms == crate::model::Cms::Unknown && inv.sites.len() > 1 {
            continue;
        }
        if let Some(reason) = &site.unsupported_reason
            && site.cms != crate::model::Cms::Unknown
        {
            writeln!(out, "\n{}: {}", esc_path(&site.path), esc(reason))?;
        }
        if site.lints.is_empty() {
            continue;
        }
        writeln!(
            out,
            "\n{}",
            p.bold(&format!("lints for {}", esc_path(&site.path)))
        )?;
        for l in &site.lints {
            let at = l
                .location
                .as_ref()
                .map_or_else(String::new, |loc| format!("{}: ", esc(&loc.to_string())));
            writeln!(
                out,
                "  {at}{} [{}] {}",
                severity_label(p, l.severity),
                l.code,
                esc(&l.message)
            )?;
            if let Some(h) = &l.hint {
                writeln!(out, "      fix: {}", esc(h))?;
            }
        }
    }
    if !inv.collisions.is_empty() {
        writeln!(out, "\n{}", p.bold("collisions"))?;
        for c in &inv.collisions {
            writeln!(
                out,
                "  {} [{}] {}",
                severity_label(p, c.severity),
                c.code,
                esc(&c.message)
            )?;
            for s in &c.sites {
                writeln!(
                    out,
                    "      {} ({}, {}, prefix {})",
                    esc_path(&s.path),
                    s.cms,
                    s.role,
                    esc(s.prefix.as_deref().unwrap_or("none"))
                )?;
            }
            writeln!(out, "      fix: {}", esc(c.hint))?;
        }
    }
    if !inv.errors.is_empty() {
        writeln!(out, "\n{}", p.bold("errors"))?;
        for e in &inv.errors {
            writeln!(out, "  {}: {}", esc_path(&e.path), esc(&e.message))?;
        }
    }
    Ok(())
}
