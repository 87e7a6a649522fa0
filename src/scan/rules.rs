//! The rule set as data: `rules.toml` (embedded) is deserialized into [`RuleSpec`]s and
//! compiled into [`Rule`]s with their regexes. Which calls a rule looks at lives in the data;
//! what a call's arguments mean (the verdict) lives in `verdict.rs`, named by the data.

use std::collections::HashMap;

use anyhow::{Context, Result, bail};
use regex::Regex;
use serde::Deserialize;

use crate::report::Severity;

pub const RULES_TOML: &str = include_str!("rules.toml");

/// Id of the info-level rule for writes whose expiry cannot be resolved.
pub const UNRESOLVED: &str = "expiry-unresolved";
/// Id of the rule for `rcfg-ignore` comments that matched nothing.
pub const UNUSED_SUPPRESSION: &str = "unused-suppression";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Php,
    Js,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    Function,
    Method,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Seconds,
    DrupalPermanent,
    DrupalRelative,
    DrupalMultiple,
    MagentoLifetime,
    RedisSet,
    NeedsExpire,
    MedusaCaching,
    /// Not a write: `wp_cache_add_non_persistent_groups()` declares request-local groups.
    NonPersistentGroups,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFile {
    rule: Vec<RuleSpec>,
}

/// One rule as written in `rules.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleSpec {
    pub id: String,
    pub severity: Severity,
    /// Read by the rule-example tests; declared so the data file is validated.
    #[cfg_attr(not(test), allow(dead_code))]
    pub languages: Vec<Lang>,
    pub message: String,
    pub hint: String,
    pub help: String,
    #[serde(default, rename = "match")]
    pub matches: Vec<MatchSpec>,
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))]
    pub valid: Vec<String>,
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))]
    pub invalid: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MatchSpec {
    pub lang: Lang,
    pub style: Style,
    pub calls: Vec<String>,
    #[serde(default)]
    pub expiry_arg: Option<usize>,
    #[serde(default)]
    pub min_args: usize,
    #[serde(default)]
    pub receiver: Option<String>,
    #[serde(default)]
    pub receiver_not: Option<String>,
    #[serde(default)]
    pub api: Option<String>,
    #[serde(default)]
    pub client_receiver: Option<String>,
    #[serde(default)]
    pub client_context: Option<String>,
    #[serde(default)]
    pub requires: Option<String>,
    #[serde(default)]
    pub site_cms: Option<String>,
    #[serde(default)]
    pub drupal_major: Option<u32>,
    pub verdict: Verdict,
    #[serde(default)]
    pub expire_in_scope_ok: bool,
}

/// A compiled call matcher of one rule.
#[derive(Debug)]
pub struct Matcher {
    pub rule: usize,
    pub lang: Lang,
    pub style: Style,
    pub expiry_arg: Option<usize>,
    pub min_args: usize,
    pub receiver: Option<Regex>,
    pub receiver_not: Option<Regex>,
    /// The API the receiver must be when its type is known (see `receiver.rs`).
    pub api: Option<String>,
    pub client_receiver: Option<Regex>,
    pub client_context: Option<Regex>,
    pub requires: Option<Regex>,
    pub site_cms: Option<String>,
    pub drupal_major: Option<u32>,
    pub verdict: Verdict,
    pub expire_in_scope_ok: bool,
}

/// A rule ready to run.
#[derive(Debug)]
pub struct Rule {
    pub spec: RuleSpec,
}

/// All built-in rules plus a lookup from (language, style, lowercase call name) to matchers.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub matchers: Vec<Matcher>,
    by_call: HashMap<(Lang, StyleKey, String), Vec<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum StyleKey {
    Function,
    Method,
}

fn regex(src: &Option<String>, what: &str, id: &str) -> Result<Option<Regex>> {
    src.as_deref()
        .map(|s| Regex::new(s).with_context(|| format!("rule {id}: invalid {what} regex")))
        .transpose()
}

impl RuleSet {
    /// The built-in rules.
    pub fn builtin() -> RuleSet {
        RuleSet::parse(RULES_TOML).expect("built-in rules.toml is valid")
    }

    pub fn parse(text: &str) -> Result<RuleSet> {
        let file: RulesFile = toml::from_str(text).context("rules.toml")?;
        let mut rules = Vec::new();
        let mut matchers = Vec::new();
        let mut by_call: HashMap<(Lang, StyleKey, String), Vec<usize>> = HashMap::new();
        for spec in file.rule {
            if rules.iter().any(|r: &Rule| r.spec.id == spec.id) {
                bail!("rule {} is defined twice", spec.id);
            }
            let idx = rules.len();
            for m in &spec.matches {
                let compiled = Matcher {
                    rule: idx,
                    lang: m.lang,
                    style: m.style,
                    expiry_arg: m.expiry_arg,
                    min_args: m.min_args,
                    receiver: regex(&m.receiver, "receiver", &spec.id)?,
                    receiver_not: regex(&m.receiver_not, "receiver-not", &spec.id)?,
                    api: m.api.clone(),
                    client_receiver: regex(&m.client_receiver, "client-receiver", &spec.id)?,
                    client_context: regex(&m.client_context, "client-context", &spec.id)?,
                    requires: regex(&m.requires, "requires", &spec.id)?,
                    site_cms: m.site_cms.clone(),
                    drupal_major: m.drupal_major,
                    verdict: m.verdict,
                    expire_in_scope_ok: m.expire_in_scope_ok,
                };
                let key = match m.style {
                    Style::Function => StyleKey::Function,
                    Style::Method => StyleKey::Method,
                };
                for call in &m.calls {
                    by_call
                        .entry((m.lang, key, call.to_ascii_lowercase()))
                        .or_default()
                        .push(matchers.len());
                }
                matchers.push(compiled);
            }
            rules.push(Rule { spec });
        }
        Ok(RuleSet {
            rules,
            matchers,
            by_call,
        })
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.spec.id == id)
    }

    /// Matchers for a call `name` in `lang` (function or method style).
    pub fn for_call(&self, lang: Lang, method: bool, name: &str) -> &[usize] {
        let key = if method {
            StyleKey::Method
        } else {
            StyleKey::Function
        };
        self.by_call
            .get(&(lang, key, name.to_ascii_lowercase()))
            .map_or(&[], Vec::as_slice)
    }

    /// Every call name of `lang` and style, for the prefilter regex.
    pub fn call_names(&self, lang: Lang, method: bool) -> Vec<String> {
        let key = if method {
            StyleKey::Method
        } else {
            StyleKey::Function
        };
        let mut names: Vec<String> = self
            .by_call
            .keys()
            .filter(|(l, s, _)| *l == lang && *s == key)
            .map(|(_, _, n)| n.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

impl RuleSet {
    /// Every call name as the rules spell it, plus its lowercase form, for the
    /// case-sensitive prefilter (`hSet`, `hset`, `wp_cache_set`).
    pub fn spellings(&self, method: bool) -> Vec<String> {
        let style = if method {
            Style::Method
        } else {
            Style::Function
        };
        let mut out: Vec<String> = self
            .rules
            .iter()
            .flat_map(|r| r.spec.matches.iter())
            .filter(|m| m.style == style)
            .flat_map(|m| m.calls.iter())
            .flat_map(|c| [c.clone(), c.to_ascii_lowercase()])
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

impl Matcher {
    /// Whether a call on `receiver` in a file whose text is `file_text` is this API.
    pub fn receiver_ok(&self, receiver: &str, file_text: &str) -> bool {
        if self.style == Style::Function {
            return true;
        }
        if self
            .receiver_not
            .as_ref()
            .is_some_and(|r| r.is_match(receiver))
        {
            return false;
        }
        if self.receiver.as_ref().is_none_or(|r| r.is_match(receiver)) {
            return true;
        }
        match (&self.client_receiver, &self.client_context) {
            (Some(r), Some(c)) => r.is_match(receiver) && c.is_match(file_text),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_parse_with_unique_kebab_ids_and_text() {
        let set = RuleSet::builtin();
        assert!(set.rules.len() >= 12);
        for r in &set.rules {
            let id = &r.spec.id;
            assert!(
                id.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{id}"
            );
            assert!(!r.spec.hint.is_empty() && !r.spec.help.is_empty(), "{id}");
            assert!(
                crate::lints::LINTS.iter().all(|l| l.code != id),
                "{id} collides with a lint code"
            );
            if !r.spec.matches.is_empty() {
                assert!(!r.spec.invalid.is_empty(), "{id} has no invalid example");
                assert!(!r.spec.valid.is_empty(), "{id} has no valid example");
            }
        }
        assert!(set.rule(UNRESOLVED).is_some());
        assert!(set.rule(UNUSED_SUPPRESSION).is_some());
        assert!(!set.for_call(Lang::Php, false, "WP_CACHE_SET").is_empty());
        assert!(set.for_call(Lang::Php, true, "wp_cache_set").is_empty());
    }

    #[test]
    fn receiver_filters_restrict_method_rules() {
        let set = RuleSet::builtin();
        let m = &set.matchers[set.for_call(Lang::Php, true, "save")[0]];
        assert!(m.receiver_ok("$this->cache", ""));
        assert!(m.receiver_ok("$this->_cache", ""));
        assert!(m.receiver_ok("$this->getCache()", ""));
        assert!(!m.receiver_ok("$this->productRepository", ""));
        assert!(!m.receiver_ok("$this->cacheRepository", ""));
        let js = &set.matchers[set.for_call(Lang::Js, true, "set")[0]];
        assert!(js.receiver_ok("this.client", "import Redis from 'ioredis'"));
        assert!(!js.receiver_ok("this.client", "import axios from 'axios'"));
    }
}
