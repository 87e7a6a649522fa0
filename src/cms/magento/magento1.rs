//! Magento 1 / OpenMage: recognised by `app/Mage.php` plus `app/etc/local.xml` (or OpenMage's
//! `local.xml.template`), versioned from `Mage::getVersionInfo()`, never patched.

use std::path::Path;

use crate::cms::DetectError;
use crate::model::{Cms, Site};

pub const UNSUPPORTED: &str = "Magento 1 / OpenMage is recognised but not supported by apply";

pub fn detect(dir: &Path, errors: &mut Vec<DetectError>) -> Option<Site> {
    let mage = dir.join("app/Mage.php");
    if !mage.is_file() {
        return None;
    }
    let local = ["app/etc/local.xml", "app/etc/local.xml.template"]
        .iter()
        .map(|p| dir.join(p))
        .find(|p| p.is_file())?;
    let mut site = Site::new(dir, Cms::Magento1, "magento1").unsupported(UNSUPPORTED);
    site.evidence(&mage, "Magento 1 application class");
    site.config_file(&local, "local.xml");
    match crate::fsutil::read_config(&mage) {
        Ok(text) => {
            site.version = version_info(&text, "getVersionInfo");
            if let Some(om) = version_info(&text, "getOpenMageVersionInfo") {
                site.evidence(&mage, format!("OpenMage {om}"));
            }
        }
        Err(e) => errors.push(DetectError::from_err(&mage, &e)),
    }
    if site.version.is_none() {
        let composer = super::read_json(&dir.join("composer.json"), errors);
        site.version = composer
            .as_ref()
            .and_then(|c| c.get("version")?.as_str().map(str::to_string));
    }
    site.docroot = Some(dir.to_path_buf());
    Some(site)
}

/// `major.minor.revision.patch` from the array a `public static function NAME()` returns.
pub fn version_info(src: &str, function: &str) -> Option<String> {
    let start = src.find(&format!("function {function}("))?;
    let body = &src[start..];
    let body = &body[..body.find('}').unwrap_or(body.len())];
    let part = |key: &str| -> Option<String> {
        let k = body.find(&format!("'{key}'"))?;
        let rest = &body[k + key.len() + 2..];
        let rest = rest.trim_start().strip_prefix("=>")?.trim_start();
        let q = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        let rest = &rest[1..];
        Some(rest[..rest.find(q)?].to_string())
    };
    let mut parts = vec![part("major")?, part("minor")?];
    parts.extend(part("revision"));
    parts.extend(part("patch").filter(|p| !p.is_empty()));
    Some(parts.join("."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_get_version_info() {
        let src = "<?php final class Mage {\n public static function getVersionInfo()\n {\n  return array(\n   'major'     => '1',\n   'minor'     => '9',\n   'revision'  => '4',\n   'patch'     => '5',\n   'stability' => '',\n   'number'    => '',\n  );\n }\n public static function getOpenMageVersionInfo(): array\n {\n  return [\n   'major' => '20',\n   'minor' => '10',\n   'patch' => '2',\n  ];\n }\n}";
        assert_eq!(
            version_info(src, "getVersionInfo").as_deref(),
            Some("1.9.4.5")
        );
        assert_eq!(
            version_info(src, "getOpenMageVersionInfo").as_deref(),
            Some("20.10.2")
        );
        assert_eq!(version_info(src, "nope"), None);
    }
}
