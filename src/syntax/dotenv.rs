//! `.env` files as phpdotenv, dotenv (Node) and Medusa's `loadEnv` read them: `KEY=value`
//! lines, optional `export `, single/double quotes, `#` comments.

use std::collections::BTreeMap;

/// One assignment and the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub value: String,
    pub line: usize,
}

/// Parse a `.env` file. Later assignments of the same key win (as in dotenv).
pub fn parse(text: &str) -> BTreeMap<String, EnvVar> {
    let mut vars = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        vars.insert(
            key.to_string(),
            EnvVar {
                value: unquote(value.trim()),
                line: i + 1,
            },
        );
    }
    vars
}

fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q)
            && let Some(end) = inner.find(q)
        {
            return inner[..end].to_string();
        }
    }
    // Unquoted: a ` #` starts a comment.
    match v.find(" #") {
        Some(i) => v[..i].trim_end().to_string(),
        None => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quotes_comments_and_export() {
        let env = parse("# c\nA=1\nexport B=\"x y\" # note\nC='z'\nD=plain # c\nbad line\nA=2\n");
        assert_eq!(env["A"].value, "2");
        assert_eq!(env["A"].line, 7);
        assert_eq!(env["B"].value, "x y");
        assert_eq!(env["C"].value, "z");
        assert_eq!(env["D"].value, "plain");
        assert_eq!(env.len(), 4);
    }
}
