//! `rcfg.toml`: found in the current directory or given with `--config`. Each section is
//! owned and validated by the subcommand that reads it (`[apply]` by `patch`, `[audit]` by
//! `scan`, `[redis]`/`[policy]` by `redis_audit`); this module only finds and splits the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::de::DeserializeOwned;

pub const FILE_NAME: &str = "rcfg.toml";

/// The parsed file, kept as a TOML table until a section is asked for.
#[derive(Debug, Default, Clone)]
pub struct FileConfig {
    pub path: Option<PathBuf>,
    table: toml::Table,
}

const SECTIONS: &[&str] = &["apply", "audit", "redis", "policy"];

impl FileConfig {
    /// Load `explicit` if given (it must exist), else `./rcfg.toml` if present, else empty.
    pub fn load(explicit: Option<&Path>) -> Result<FileConfig> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => {
                let p = PathBuf::from(FILE_NAME);
                if !p.is_file() {
                    return Ok(FileConfig::default());
                }
                p
            }
        };
        let text = crate::fsutil::read_config(&path)?;
        FileConfig::parse(&text, Some(path))
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
}
