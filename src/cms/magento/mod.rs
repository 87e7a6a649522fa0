//! Magento recognition. Magento 2 (git-clone and composer layouts, Mage-OS included): marker
//! files, version from composer metadata, docroot `pub/`, and the Redis settings of
//! `app/etc/env.php` (read as data by [`env_php`]). Magento 1 / OpenMage ([`magento1`]) is
//! recognised and reported as unsupported. Nothing here runs PHP or writes.

pub mod env_php;
pub mod magento1;

use std::path::Path;

use super::{DetectError, Detector};
use crate::model::{Cms, Site};

pub struct Magento;

impl Detector for Magento {
    fn detect(&self, dir: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
        if dir.join("bin/magento").is_file() && dir.join("app/etc").is_dir() {
            return Some(detect_magento2(dir, errors));
        }
        magento1::detect(dir, errors)
    }
}

/// Composer packages that name a Magento 2 release, best first.
const PRODUCT_PACKAGES: &[&str] = &[
    "magento/product-community-edition",
    "magento/product-enterprise-edition",
    "mage-os/product-community-edition",
];

/// Packages whose version is the Magento version when no product package is present.
const FALLBACK_PACKAGES: &[&str] = &["magento/magento2-base", "magento/framework"];

fn detect_magento2(dir: &Path, errors: &mut Vec<DetectError>) -> Site {
    let composer_json = read_json(&dir.join("composer.json"), errors);
    let requires_product = composer_json.as_ref().is_some_and(|c| {
        PRODUCT_PACKAGES.iter().any(|p| {
            c.pointer(&format!("/require/{}", p.replace('/', "~1")))
                .is_some()
        })
    });
    let layout = if dir.join("vendor/magento/framework").is_dir()
        || dir.join("vendor/mage-os/framework").is_dir()
        || requires_product
    {
        "composer"
    } else if dir.join("lib/internal/Magento/Framework").is_dir() {
        "git"
    } else {
        "unknown"
    };
    let mut site = Site::new(dir, Cms::Magento2, layout);
    site.evidence(&dir.join("bin/magento"), "Magento CLI entry point");
    match layout {
        "composer" if requires_product => site.evidence(
            &dir.join("composer.json"),
            "requires a Magento product package",
        ),
        "composer" => site.evidence(
            &dir.join("vendor/magento/framework"),
            "framework installed by composer",
        ),
        "git" => site.evidence(
            &dir.join("lib/internal/Magento/Framework"),
            "framework in the source tree (git clone)",
        ),
        _ => {}
    }
    site.docroot = Some(dir.join("pub"));
    site.version = version(dir, layout, composer_json.as_ref(), errors);

    let env = dir.join("app/etc/env.php");
    let config = dir.join("app/etc/config.php");
    if crate::fsutil::exists(&env) {
        site.config_file(&env, "env.php");
    }
    if crate::fsutil::exists(&config) {
        site.config_file(&config, "config.php");
    }
    if crate::fsutil::exists(&env) {
        env_php::read(&env, &mut site, errors);
    }
    site
}

/// The Magento version from composer metadata, best source first.
fn version(
    dir: &Path,
    layout: &str,
    composer_json: Option<&serde_json::Value>,
    errors: &mut Vec<DetectError>,
) -> Option<String> {
    let lock = read_json(&dir.join("composer.lock"), errors);
    let installed = read_json(&dir.join("vendor/composer/installed.json"), errors);
    let sources = [lock.as_ref(), installed.as_ref()];
    for names in [PRODUCT_PACKAGES, FALLBACK_PACKAGES] {
        for source in sources.iter().flatten() {
            if let Some(v) = names.iter().find_map(|n| package_version(source, n)) {
                return Some(v);
            }
        }
    }
    if layout == "git" {
        return composer_json
            .and_then(|c| c.get("version"))
            .and_then(|v| v.as_str())
            .map(clean_version);
    }
    None
}

/// The version of package `name` in a `composer.lock` (`packages`), a composer v2
/// `installed.json` (`{"packages": […]}`) or a composer v1 `installed.json` (a bare array).
pub fn package_version(doc: &serde_json::Value, name: &str) -> Option<String> {
    let lists: Vec<&Vec<serde_json::Value>> = match doc {
        serde_json::Value::Array(a) => vec![a],
        serde_json::Value::Object(o) => ["packages", "packages-dev"]
            .iter()
            .filter_map(|k| o.get(*k)?.as_array())
            .collect(),
        _ => Vec::new(),
    };
    lists
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(name))
        .and_then(|p| p.get("version")?.as_str())
        .map(clean_version)
}

fn clean_version(v: &str) -> String {
    v.strip_prefix('v').unwrap_or(v).to_string()
}

/// Read a JSON file when it exists; unreadable or malformed files are reported.
pub fn read_json(path: &Path, errors: &mut Vec<DetectError>) -> Option<serde_json::Value> {
    let text = match crate::fsutil::read_config_opt(path) {
        Ok(t) => t?,
        Err(e) => {
            errors.push(DetectError::from_err(path, &e));
            return None;
        }
    };
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(DetectError::new(
                path,
                format!("line {}: not valid JSON: {e}", e.line()),
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn package_version_reads_lock_and_both_installed_json_forms() {
        let lock = json!({"packages": [{"name": "magento/framework", "version": "103.0.7-p3"},
            {"name": "magento/product-community-edition", "version": "2.4.7-p3"}]});
        assert_eq!(
            package_version(&lock, "magento/product-community-edition").as_deref(),
            Some("2.4.7-p3")
        );
        let v1 = json!([{"name": "magento/magento2-base", "version": "v2.3.5"}]);
        assert_eq!(
            package_version(&v1, "magento/magento2-base").as_deref(),
            Some("2.3.5")
        );
        let v2 = json!({"packages": [{"name": "magento/magento2-base", "version": "2.4.6"}]});
        assert_eq!(
            package_version(&v2, "magento/magento2-base").as_deref(),
            Some("2.4.6")
        );
        assert_eq!(package_version(&v2, "magento/framework"), None);
    }
}
