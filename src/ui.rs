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
