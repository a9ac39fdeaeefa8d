//! Ctrl-C: exit 130 with the terminal restored and no half-written file.
//!
//! A background task waits for SIGINT (or Ctrl-Break); writes that must not
//! be torn (config, secret files, recovery files) hold a [`critical`] guard,
//! and the handler waits for it before exiting. dialoguer restores the
//! terminal mode itself before re-raising SIGINT; we show the cursor again.

use std::sync::{Mutex, MutexGuard};

static CRITICAL: Mutex<()> = Mutex::new(());

/// Hold this across a write that must complete once started.
pub fn critical() -> MutexGuard<'static, ()> {
    CRITICAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Installs the handler on the given runtime.
pub fn install(rt: &tokio::runtime::Runtime) {
    rt.spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _guard = critical();
            let term = console::Term::stderr();
            let _ = term.show_cursor();
            eprintln!(
                "\ninterrupted: nothing half-written was left; re-run the command to continue"
            );
            std::process::exit(130);
        }
    });
}
