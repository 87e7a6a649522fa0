//! What rcfg says on stderr besides errors, and how much: `-q/--quiet` keeps only errors,
//! `-v/--verbose` adds detail (which config file, how long the run took). The level is set
//! once by `main` from the global flags and read by every subcommand; stdout (reports, diffs,
//! JSON) never depends on it, since scripts read it.

use std::sync::atomic::{AtomicI8, Ordering};

static LEVEL: AtomicI8 = AtomicI8::new(0);

/// -1 quiet, 0 normal, 1+ verbose.
pub fn set_level(quiet: bool, verbose: u8) {
    let level = if quiet { -1 } else { verbose.min(3) as i8 };
    LEVEL.store(level, Ordering::Relaxed);
}

fn level() -> i8 {
    LEVEL.load(Ordering::Relaxed)
}

/// Whether progress bars and notes may be drawn.
pub fn chatty() -> bool {
    level() >= 0
}

/// Whether `-v` was given.
pub fn verbose() -> bool {
    level() >= 1
}

/// A note or warning on stderr (`rcfg: …`), unless `--quiet`.
pub fn note(message: std::fmt::Arguments<'_>) {
    if chatty() {
        eprintln!("rcfg: {message}");
    }
}

/// Detail only shown with `-v`.
pub fn detail(message: std::fmt::Arguments<'_>) {
    if verbose() {
        eprintln!("rcfg: {message}");
    }
}

/// A path as messages show it: relative to the current directory when it lies below it (as
/// the user most likely typed it), else unchanged. Keeps "wrote", "restored" and "backup"
/// lines in one style whether the path came from the command line or from a manifest.
pub fn shown(path: &std::path::Path) -> String {
    if path.is_absolute()
        && let Ok(cwd) = std::env::current_dir()
        && let Ok(rel) = path.strip_prefix(&cwd)
        && !rel.as_os_str().is_empty()
    {
        return rel.display().to_string();
    }
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_below_the_current_directory_are_shown_relative() {
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(
            super::shown(&cwd.join("a/wp-config.php")),
            "a/wp-config.php"
        );
        assert_eq!(
            super::shown(std::path::Path::new("/nonexistent/x")),
            "/nonexistent/x"
        );
        assert_eq!(super::shown(std::path::Path::new("rel/x")), "rel/x");
    }
}
