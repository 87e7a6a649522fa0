//! `rcfg.toml`: which file is used, and splitting it into sections. Each section is owned
//! and validated by the subcommand that reads it (`[apply]` by `patch`, `[audit]` by `scan`,
//! `[redis]`/`[policy]` by `redis_audit`).
//!
//! Discovery, like the tools users know (git, ruff, typos): `--config FILE` if given (it must
//! exist); nothing with `--no-config`; else the first `rcfg.toml` or `.rcfg.toml` found from
//! the command's PATH up to the filesystem root; else `$XDG_CONFIG_HOME/rcfg/config.toml`
//! (`~/.config/rcfg/config.toml`). rcfg often runs as root over trees that tenants write to,
//! so a discovered file is only trusted when it belongs to the user running rcfg (or root) and
//! is not writable by group or others; any other is skipped with a warning, as git does with
//! a repository owned by someone else.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::de::DeserializeOwned;

pub const FILE_NAME: &str = "rcfg.toml";
/// The names looked for in each directory from PATH upwards, in this order.
pub const FILE_NAMES: &[&str] = &["rcfg.toml", ".rcfg.toml"];

/// `--config FILE` / `--no-config`, shared by every subcommand that reads `rcfg.toml`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConfigArgs {
    /// Config file [default: rcfg.toml or .rcfg.toml from PATH upwards, then
    /// $XDG_CONFIG_HOME/rcfg/config.toml].
    #[arg(long = "config", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Read no config file at all.
    #[arg(long, conflicts_with = "file")]
    pub no_config: bool,
}

impl ConfigArgs {
    /// The file these flags select for a command working on `start`.
    pub fn load(&self, start: &Path) -> Result<FileConfig> {
        FileConfig::discover(self.file.as_deref(), self.no_config, start)
    }
}

/// The parsed file, kept as a TOML table until a section is asked for.
#[derive(Debug, Default, Clone)]
pub struct FileConfig {
    pub path: Option<PathBuf>,
    table: toml::Table,
}

const SECTIONS: &[&str] = &["apply", "audit", "redis", "policy"];

impl FileConfig {
    /// The discovery described in the module header, starting at `start` (a file or a
    /// directory; relative paths are taken from the current directory).
    pub fn discover(explicit: Option<&Path>, no_config: bool, start: &Path) -> Result<FileConfig> {
        if let Some(p) = explicit {
            crate::ui::detail(format_args!("using config {}", p.display()));
            let text = crate::fsutil::read_config(p)?;
            return FileConfig::parse(&text, Some(p.to_path_buf()));
        }
        if no_config {
            crate::ui::detail(format_args!("no config file (--no-config)"));
            return Ok(FileConfig::default());
        }
        for candidate in candidates(start) {
            match std::fs::symlink_metadata(&candidate) {
                Ok(meta) if meta.is_file() => {
                    if let Some(why) = untrusted(&meta) {
                        crate::ui::note(format_args!(
                            "warning: {}: ignored, {why} (pass it with --config to use it)",
                            candidate.display()
                        ));
                        continue;
                    }
                    let text = crate::fsutil::read_config(&candidate)?;
                    // A file found by discovery changes what rcfg does: always say which.
                    crate::ui::note(format_args!("using config {}", candidate.display()));
                    return FileConfig::parse(&text, Some(candidate));
                }
                _ => continue,
            }
        }
        crate::ui::detail(format_args!("no config file found"));
        Ok(FileConfig::default())
    }

    pub fn parse(text: &str, path: Option<PathBuf>) -> Result<FileConfig> {
        let shown = path
            .as_deref()
            .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string());
        let table: toml::Table =
            toml::from_str(text).with_context(|| format!("{shown}: invalid TOML"))?;
        for key in table.keys() {
            if !SECTIONS.contains(&key.as_str()) {
                bail!(
                    "{shown}: unknown section [{key}] (known: {})",
                    SECTIONS.join(", ")
                );
            }
        }
        Ok(FileConfig { path, table })
    }

    /// Deserialize one section (`T::default()` when absent).
    pub fn section<T: DeserializeOwned + Default>(&self, name: &str) -> Result<T> {
        match self.table.get(name) {
            None => Ok(T::default()),
            Some(value) => value.clone().try_into().with_context(|| {
                let shown = self
                    .path
                    .as_deref()
                    .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string());
                format!("{shown}: invalid [{name}] section")
            }),
        }
    }
}

/// Where a config file may be, nearest first.
fn candidates(start: &Path) -> Vec<PathBuf> {
    let abs = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    let dir = if abs.is_dir() {
        abs
    } else {
        abs.parent().map(Path::to_path_buf).unwrap_or(abs)
    };
    let mut out: Vec<PathBuf> = dir
        .ancestors()
        .flat_map(|d| FILE_NAMES.iter().map(move |n| d.join(n)))
        .collect();
    let user_dir = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(d) = user_dir {
        out.push(d.join("rcfg").join("config.toml"));
    }
    out
}

/// Why a discovered file must not be trusted, or `None` when it may be read.
fn untrusted(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let me = current_euid();
    if meta.uid() != me && meta.uid() != 0 {
        return Some(format!(
            "it belongs to uid {} and rcfg runs as uid {me}",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        return Some(format!(
            "it is writable by group or others (mode {:o})",
            meta.mode() & 0o777
        ));
    }
    None
}

fn current_euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Demo {
        db: Option<i64>,
    }

    #[test]
    fn sections_deserialize_and_unknown_ones_are_refused() {
        let cfg = FileConfig::parse("[apply]\ndb = 3\n", None).unwrap();
        assert_eq!(cfg.section::<Demo>("apply").unwrap(), Demo { db: Some(3) });
        assert_eq!(cfg.section::<Demo>("audit").unwrap(), Demo::default());
        let err = FileConfig::parse("[nope]\n", None).unwrap_err().to_string();
        assert!(err.contains("unknown section [nope]"), "{err}");
        let err = cfg.section::<Demo>("apply").map(|_| ()).and(
            FileConfig::parse("[apply]\nbogus = 1\n", None)
                .unwrap()
                .section::<Demo>("apply")
                .map(|_| ()),
        );
        assert!(err.is_err());
    }

    #[test]
    fn discovery_walks_up_from_the_path_and_prefers_the_nearest() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path().join("www/example/public_html/wp-content");
        std::fs::create_dir_all(&site).unwrap();
        let top = tmp.path().join("www/rcfg.toml");
        std::fs::write(&top, "[apply]\ndb = 1\n").unwrap();
        std::fs::set_permissions(&top, std::fs::Permissions::from_mode(0o644)).unwrap();
        let cfg = FileConfig::discover(None, false, &site).unwrap();
        assert_eq!(cfg.path.as_deref(), Some(top.as_path()));
        assert_eq!(cfg.section::<Demo>("apply").unwrap(), Demo { db: Some(1) });

        let near = tmp.path().join("www/example/.rcfg.toml");
        std::fs::write(&near, "[apply]\ndb = 2\n").unwrap();
        std::fs::set_permissions(&near, std::fs::Permissions::from_mode(0o600)).unwrap();
        let cfg = FileConfig::discover(None, false, &site).unwrap();
        assert_eq!(cfg.section::<Demo>("apply").unwrap(), Demo { db: Some(2) });

        // --no-config ignores both; --config wins over discovery.
        let cfg = FileConfig::discover(None, true, &site).unwrap();
        assert!(cfg.path.is_none());
        let cfg = FileConfig::discover(Some(&top), false, &site).unwrap();
        assert_eq!(cfg.section::<Demo>("apply").unwrap(), Demo { db: Some(1) });
    }

    #[test]
    fn a_discovered_file_others_can_write_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("site");
        std::fs::create_dir_all(&dir).unwrap();
        let planted = dir.join("rcfg.toml");
        std::fs::write(&planted, "[apply]\ndb = 9\n").unwrap();
        std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o666)).unwrap();
        let meta = std::fs::metadata(&planted).unwrap();
        let why = untrusted(&meta).expect("a world-writable file is untrusted");
        assert!(why.contains("writable by group or others"), "{why}");
        let cfg = FileConfig::discover(None, false, &dir).unwrap();
        assert_ne!(cfg.path.as_deref(), Some(planted.as_path()));
    }
}
