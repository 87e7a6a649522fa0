//! Readers for the config languages rcfg meets, as data: PHP (`php`) and JS/TS object
//! literals (`js`), plus `.env` files (`dotenv`). Nothing is ever executed.

pub mod dotenv;
#[cfg(test)]
mod fuzz;
pub mod js;
pub mod php;

/// How deep the readers follow nesting (brackets, blocks, chained operators and calls)
/// before refusing a file as "too deeply nested". Real configs and code stay far below
/// (see docs/parsers.md); the limit also bounds every recursive walk over a parsed tree.
pub const MAX_NESTING: usize = 512;

/// Run one recursive parser step with enough stack: when less than 128 KiB of the current
/// thread's stack is left, `stacker` continues on a fresh 2 MiB segment. One nesting level
/// takes ~13 KiB in a debug build (~1 KiB in release), so [`MAX_NESTING`] levels fit on
/// any thread (walker threads get 2 MiB) without depending on its stack size.
pub fn grow_stack<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(128 * 1024, 2 * 1024 * 1024, f)
}

/// The message of the "too deeply nested" error, at `line:col`.
pub fn too_deep(line: usize, col: usize) -> String {
    format!("too deeply nested at {line}:{col} (more than {MAX_NESTING} levels)")
}

/// One parser level deeper: `depth + 1`, or the "too deeply nested" error at `at` (the
/// current token's line and column) once past [`MAX_NESTING`]. Both parsers count every
/// recursive step and every link of an operator chain through here.
pub fn deeper(depth: usize, at: Option<(usize, usize)>) -> Result<usize, php::SyntaxError> {
    if depth >= MAX_NESTING {
        let (line, col) = at.unwrap_or((1, 1));
        return Err(php::SyntaxError {
            line,
            message: too_deep(line, col),
        });
    }
    Ok(depth + 1)
}

/// Fill in each token's 1-based byte column from its start offset, in one pass over `src`
/// (tokens in source order).
pub fn set_columns<'a>(src: &str, toks: impl Iterator<Item = (usize, &'a mut usize)>) {
    let b = src.as_bytes();
    let (mut line_start, mut scanned) = (0usize, 0usize);
    for (start, col) in toks {
        let start = start.min(b.len());
        if start > scanned {
            if let Some(nl) = b[scanned..start].iter().rposition(|&c| c == b'\n') {
                line_start = scanned + nl + 1;
            }
            scanned = start;
        }
        *col = start.saturating_sub(line_start) + 1;
    }
}

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
