//! MedusaJS recognition (v1 and v2): `medusa-config.{ts,js}` plus a `package.json` that
//! depends on `@medusajs/medusa`; the exact version from `node_modules`, a lockfile or, as a
//! last resort, the `package.json` range; the Redis modules installed. The config itself is
//! read as data by [`config`]; Redis URLs are parsed by [`url`]. Nothing here runs JS.

pub mod config;
pub mod url;

use std::cell::{OnceCell, RefCell};
use std::path::{Path, PathBuf};

use super::{DetectError, Detector};
use crate::cms::magento::read_json;
use crate::model::{Cms, Component, Site};

pub struct Medusa;

pub const CONFIG_FILES: &[&str] = &["medusa-config.ts", "medusa-config.js"];
const MEDUSA: &str = "@medusajs/medusa";

impl Detector for Medusa {
    fn detect(&self, dir: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
        let config = CONFIG_FILES
            .iter()
            .map(|f| dir.join(f))
            .find(|p| crate::fsutil::exists(p))?;
        let pkg_path = dir.join("package.json");
        let pkg = read_json(&pkg_path, errors)?;
        let range = dep_range(&pkg, MEDUSA)?;
        let pkgs = Packages::new(dir, &pkg);
        let version = pkgs.version(MEDUSA);
        let major = version
            .as_deref()
            .unwrap_or(&range)
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        let layout = match major {
            Some(1) => "v1",
            Some(2) => "v2",
            // Unknown from versions: decide by what the config looks like.
            _ => "",
        };
        let mut site = Site::new(dir, Cms::Medusa, layout);
        site.version = version.or(Some(range));
        site.evidence(&pkg_path, format!("depends on {MEDUSA}"));
        site.evidence(&config, "Medusa project config");
        site.config_file(&config, "medusa-config");
        let env = dir.join(".env");
        if crate::fsutil::exists(&env) {
            site.config_file(&env, ".env");
        }
        let modules = config::read(&config, &env, &mut site, errors);
        site.redis.components = pkgs.redis_components(&modules);
        errors.extend(pkgs.take_errors());
        Some(site)
    }
}

/// The version range of `name` in `dependencies` or `devDependencies`.
fn dep_range(pkg: &serde_json::Value, name: &str) -> Option<String> {
    ["dependencies", "devDependencies"]
        .iter()
        .find_map(|k| pkg.get(*k)?.get(name)?.as_str())
        .map(str::to_string)
}

/// Lockfiles can be far larger than any config file; they are read only when
/// `node_modules` does not answer, and refused above this size.
const MAX_LOCKFILE_BYTES: u64 = 64 * 1024 * 1024;

/// Where installed package versions come from: `node_modules`, then a lockfile, then the
/// `package.json` range. Lockfiles are read lazily, at most once each.
pub struct Packages<'a> {
    dir: &'a Path,
    pkg: &'a serde_json::Value,
    npm_lock: OnceCell<Option<serde_json::Value>>,
    yarn_lock: OnceCell<Option<String>>,
    pnpm_lock: OnceCell<Option<String>>,
    errors: RefCell<Vec<DetectError>>,
}

impl<'a> Packages<'a> {
    fn new(dir: &'a Path, pkg: &'a serde_json::Value) -> Self {
        Packages {
            dir,
            pkg,
            npm_lock: OnceCell::new(),
            yarn_lock: OnceCell::new(),
            pnpm_lock: OnceCell::new(),
            errors: RefCell::new(Vec::new()),
        }
    }

    /// Problems met reading lockfiles.
    fn take_errors(&self) -> Vec<DetectError> {
        self.errors.take()
    }

    fn lockfile(&self, name: &str) -> Option<String> {
        let path = self.dir.join(name);
        match crate::fsutil::read_text(&path, MAX_LOCKFILE_BYTES) {
            Ok(text) => Some(text),
            Err(e) if e.is_not_found() => None,
            Err(e) => {
                self.errors
                    .borrow_mut()
                    .push(DetectError::new(&path, e.reason()));
                None
            }
        }
    }

    fn npm_lock(&self) -> Option<&serde_json::Value> {
        self.npm_lock
            .get_or_init(|| {
                let text = self.lockfile("package-lock.json")?;
                match serde_json::from_str(&text) {
                    Ok(v) => Some(v),
                    Err(e) => {
                        self.errors.borrow_mut().push(DetectError::new(
                            &self.dir.join("package-lock.json"),
                            format!("line {}: not valid JSON: {e}", e.line()),
                        ));
                        None
                    }
                }
            })
            .as_ref()
    }

    fn installed_manifest(&self, name: &str) -> PathBuf {
        self.dir
            .join("node_modules")
            .join(name)
            .join("package.json")
    }

    /// The exact installed version of `name`, when anything says it.
    pub fn version(&self, name: &str) -> Option<String> {
        let manifest = self.installed_manifest(name);
        if let Ok(text) = crate::fsutil::read_text(&manifest, crate::fsutil::MAX_CONFIG_BYTES)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(ver) = v.get("version").and_then(|v| v.as_str())
        {
            return Some(ver.to_string());
        }
        if let Some(lock) = self.npm_lock() {
            let v2 = lock
                .get("packages")
                .and_then(|p| p.get(format!("node_modules/{name}")))
                .and_then(|p| p.get("version"));
            let v1 = || lock.get("dependencies")?.get(name)?.get("version");
            if let Some(v) = v2.or_else(v1).and_then(|v| v.as_str()) {
                return Some(v.to_string());
            }
        }
        if let Some(y) = self.yarn_lock.get_or_init(|| self.lockfile("yarn.lock"))
            && let Some(v) = yarn_version(y, name)
        {
            return Some(v);
        }
        self.pnpm_lock
            .get_or_init(|| self.lockfile("pnpm-lock.yaml"))
            .as_deref()
            .and_then(|p| pnpm_version(p, name))
    }

    /// `@medusajs/*redis*` packages: those in `package.json` plus those the config resolves.
    fn redis_components(&self, configured: &[String]) -> Vec<Component> {
        let medusa_v2 = self.version(MEDUSA).filter(|v| v.starts_with("2."));
        let mut names: Vec<String> = ["dependencies", "devDependencies"]
            .iter()
            .filter_map(|k| self.pkg.get(*k)?.as_object())
            .flat_map(|deps| deps.keys())
            .filter(|n| n.starts_with("@medusajs/") && n.contains("redis"))
            .cloned()
            .collect();
        for module in configured {
            if !names.contains(module) {
                names.push(module.clone());
            }
        }
        names
            .into_iter()
            .map(|name| {
                let manifest = self.installed_manifest(&name);
                // v2 re-exports its modules (`@medusajs/medusa/locking-redis`) and
                // publishes them in lockstep with `@medusajs/medusa`.
                let version = self
                    .version(&name)
                    .or_else(|| dep_range(self.pkg, &name))
                    .or_else(|| medusa_v2.clone());
                let path = if manifest.is_file() {
                    manifest
                } else {
                    self.dir.join("package.json")
                };
                Component {
                    name,
                    version,
                    path,
                }
            })
            .collect()
    }
}

/// The version of `name` in a `yarn.lock` (classic `version "x"` or berry `version: x`).
fn yarn_version(lock: &str, name: &str) -> Option<String> {
    let mut in_block = false;
    for line in lock.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_block = line.split(',').any(|spec| {
                let spec = spec.trim().trim_matches('"');
                spec.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with('@'))
            });
            continue;
        }
        if in_block {
            let t = line.trim();
            if let Some(v) = t.strip_prefix("version") {
                let v = v.trim_start_matches(':').trim().trim_matches('"');
                return Some(v.to_string());
            }
        }
    }
    None
}

/// The version of `name` in a `pnpm-lock.yaml` package key (`/name@1.2.3(…):`,
/// `'name@1.2.3':` or the v5 form `/name/1.2.3:`).
fn pnpm_version(lock: &str, name: &str) -> Option<String> {
    for line in lock.lines() {
        let t = line.trim().trim_start_matches(['\'', '"', '/']);
        let Some(rest) = t.strip_prefix(name) else {
            continue;
        };
        let Some(rest) = rest.strip_prefix('@').or_else(|| rest.strip_prefix('/')) else {
            continue;
        };
        if !rest.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let end = rest.find(['(', ':', '\'', '"', '_']).unwrap_or(rest.len());
        return Some(rest[..end].to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yarn_classic_and_berry() {
        let classic = "# yarn lockfile v1\n\n\"@medusajs/medusa-cli@^1.3.0\":\n  version \"1.3.22\"\n\n\"@medusajs/medusa@^1.20.0\", \"@medusajs/medusa@^1.20.6\":\n  version \"1.20.10\"\n  resolved \"https://registry.yarnpkg.com/x\"\n";
        assert_eq!(
            yarn_version(classic, "@medusajs/medusa").as_deref(),
            Some("1.20.10")
        );
        let berry = "__metadata:\n  version: 8\n\n\"@medusajs/medusa@npm:2.4.0\":\n  version: 2.4.0\n  resolution: \"@medusajs/medusa@npm:2.4.0\"\n";
        assert_eq!(
            yarn_version(berry, "@medusajs/medusa").as_deref(),
            Some("2.4.0")
        );
    }

    #[test]
    fn pnpm_keys() {
        let v9 = "lockfileVersion: '9.0'\n\npackages:\n\n  '@medusajs/medusa-oas-cli@0.1.0':\n    resolution: {}\n  '@medusajs/medusa@2.5.1(@types/node@20.0.0)':\n    resolution: {}\n";
        assert_eq!(
            pnpm_version(v9, "@medusajs/medusa").as_deref(),
            Some("2.5.1")
        );
        let v6 = "packages:\n  /@medusajs/medusa@2.3.0(react@18.2.0):\n    resolution: {}\n";
        assert_eq!(
            pnpm_version(v6, "@medusajs/medusa").as_deref(),
            Some("2.3.0")
        );
        let v5 = "packages:\n  /@medusajs/medusa/1.20.10_pg@8.11.0:\n    resolution: {}\n";
        assert_eq!(
            pnpm_version(v5, "@medusajs/medusa").as_deref(),
            Some("1.20.10")
        );
    }
}
