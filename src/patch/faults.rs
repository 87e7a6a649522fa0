//! Test-only fault injection for the write path, compiled into debug builds only: release
//! builds ignore these variables entirely.
//!
//! * `RCFG_TEST_STALL_AT=<step>` prints `rcfg: test stall at <step>` on stderr and sleeps
//!   `RCFG_TEST_STALL_SECS` (default 60) seconds: the crash tests SIGKILL the process
//!   there, the race tests edit the file meanwhile.
//! * `RCFG_TEST_FAIL_AT=<step>[,<step>…]` makes that step fail with an I/O error.
//!
//! Steps: `prepared`, `stage:<i>`, `rename:<i>` (before the re-check), `swap:<i>` (after
//! the re-check, before the exchange), `renamed:<i>`, `commit`, `rollback:<i>`,
//! `recover:<i>` (`<i>` is the file's index in the run, from 0).

use std::io;

/// Called at each named step of a write.
pub fn at(step: &str) -> io::Result<()> {
    #[cfg(debug_assertions)]
    {
        if std::env::var("RCFG_TEST_STALL_AT").is_ok_and(|s| s == step) {
            eprintln!("rcfg: test stall at {step}");
            let secs = std::env::var("RCFG_TEST_STALL_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(60);
            std::thread::sleep(std::time::Duration::from_secs(secs));
        }
        if std::env::var("RCFG_TEST_FAIL_AT").is_ok_and(|s| s.split(',').any(|s| s == step)) {
            return Err(io::Error::other(format!("injected failure at {step}")));
        }
    }
    let _ = step;
    Ok(())
}
