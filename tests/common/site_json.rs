//! Reading `rcfg detect --format json` output in tests: one site, a sourced value's
//! location, the lints, a named setting.

use serde_json::Value;

pub fn only_site(json: &Value) -> &Value {
    let sites = json["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1, "{json:#}");
    &sites[0]
}

/// (path, line) of a sourced value.
pub fn at(v: &Value) -> (&str, u64) {
    (
        v["at"]["path"]
            .as_str()
            .unwrap_or_else(|| panic!("no at: {v}")),
        v["at"]["line"].as_u64().unwrap(),
    )
}

/// (code, severity, path, line) of every lint.
pub fn lints(site: &Value) -> Vec<(&str, &str, &str, u64)> {
    site["lints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["code"].as_str().unwrap(),
                l["severity"].as_str().unwrap(),
                l["location"]["path"].as_str().unwrap(),
                l["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect()
}

pub fn setting<'a>(list: &'a Value, key: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no setting {key} in {list}"))
}
