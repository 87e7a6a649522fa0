//! Readers for the config languages rcfg meets, as data: PHP (`php`) and JS/TS object
//! literals (`js`), plus `.env` files (`dotenv`). Nothing is ever executed.

pub mod dotenv;
pub mod js;
pub mod php;

/// Check that brackets pair up, given each punctuation token and its line. Both readers run
/// this first, so an unbalanced file fails with the line of the real culprit.
pub fn check_balance<'a>(
    puncts: impl IntoIterator<Item = (&'a str, usize)>,
) -> Result<(), php::SyntaxError> {
    let mut stack: Vec<(&str, usize)> = Vec::new();
    for (p, line) in puncts {
        let want = match p {
            "(" | "[" | "{" => {
                stack.push((p, line));
                continue;
            }
            ")" => "(",
            "]" => "[",
            "}" => "{",
            _ => continue,
        };
        match stack.pop() {
            Some((open, _)) if open == want => {}
            Some((open, opened)) => {
                return Err(php::SyntaxError {
                    line,
                    message: format!("`{p}` closes `{open}` opened on line {opened}"),
                });
            }
            None => {
                return Err(php::SyntaxError {
                    line,
                    message: format!("unmatched `{p}`"),
                });
            }
        }
    }
    match stack.pop() {
        Some((open, line)) => Err(php::SyntaxError {
            line,
            message: format!("`{open}` is never closed"),
        }),
        None => Ok(()),
    }
}

/// The first entry of `table` (longest first) that `rest` starts with. Comparing the first
/// byte before the rest keeps the lexers' hottest lookup cheap.
pub fn longest_punct(table: &[&'static str], rest: &str) -> Option<&'static str> {
    let first = *rest.as_bytes().first()?;
    table
        .iter()
        .find(|p| p.as_bytes()[0] == first && rest.starts_with(**p))
        .copied()
}

/// Index just past the bracket group that opens at `start` (`(`, `[` or `{`), given each
/// token's punctuation; the end of `tokens` when the group is never closed. Both parsers skip
/// the bodies they do not read (closures, declarations, conditions) this way.
pub fn group_end<T>(tokens: &[T], start: usize, punct: impl Fn(&T) -> Option<&str>) -> usize {
    let mut depth = 0usize;
    for (i, t) in tokens.iter().enumerate().skip(start) {
        match punct(t) {
            Some("(" | "[" | "{") => depth += 1,
            Some(")" | "]" | "}") => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    tokens.len()
}
