//! Ctrl-C: exit 130 with the terminal restored and nothing half-written.
//! SIGTERM (Unix: `kill`, a service manager, a closing container) is handled
//! the same way and exits 143 (128 + 15, the shell's convention).
//!
//! A background task waits for SIGINT (or Ctrl-Break) and SIGTERM. Two kinds of work
//! hold it off:
//! - writes that must not be torn (config, secret files, recovery files)
//!   hold the [`critical`] guard, which the handler takes before exiting;
//! - a refresh-token redemption holds a [`defer`] guard from sending the
//!   request until the rotated token is stored: the server rotates on
//!   receipt, so abandoning its answer would lose access. The handler waits
//!   for those (bounded by [`MAX_DEFER`]).
//!
//! dialoguer restores the terminal mode itself before re-raising SIGINT, but
//! not after a hidden prompt (echo off, line mode: the tty raises SIGINT and
//! we exit mid-read); so the handler puts back the terminal settings found at
//! start, shows the cursor again and removes registered temporary paths.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static CRITICAL: Mutex<()> = Mutex::new(());
static DEFERRED: AtomicUsize = AtomicUsize::new(0);
static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static FOREGROUND_CHILDREN: AtomicUsize = AtomicUsize::new(0);
static STOP_NOTE: Mutex<Option<String>> = Mutex::new(None);

/// Longest a deferred operation may hold off Ctrl-C (a token request's
/// timeout plus a retry).
pub const MAX_DEFER: Duration = Duration::from_secs(75);

/// Hold this across a write that must complete once started.
pub fn critical() -> MutexGuard<'static, ()> {
    CRITICAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Holds off Ctrl-C while alive (can be held across `.await`).
pub struct DeferGuard(());

impl Drop for DeferGuard {
    fn drop(&mut self) {
        DEFERRED.fetch_sub(1, Ordering::SeqCst);
    }
}

pub fn defer() -> DeferGuard {
    DEFERRED.fetch_add(1, Ordering::SeqCst);
    DeferGuard(())
}

/// Removes `path` (a temporary dir) if the user interrupts.
pub fn remove_on_interrupt(path: PathBuf) {
    CLEANUP.lock().unwrap_or_else(|p| p.into_inner()).push(path);
}

/// From now on a signal is the expected way to stop (a server): the
/// handler cleans up as usual, says `note` and exits 0.
pub fn stop_on_signal(note: impl Into<String>) {
    *STOP_NOTE.lock().unwrap_or_else(|p| p.into_inner()) = Some(note.into());
}

/// While alive, Ctrl-C belongs to a child in the foreground (a shell the
/// user types into): the terminal sends it to both, and only the child acts.
pub struct ForegroundChild(());

impl Drop for ForegroundChild {
    fn drop(&mut self) {
        FOREGROUND_CHILDREN.fetch_sub(1, Ordering::SeqCst);
    }
}

pub fn foreground_child() -> ForegroundChild {
    FOREGROUND_CHILDREN.fetch_add(1, Ordering::SeqCst);
    ForegroundChild(())
}

/// Installs the handler on the given runtime.
pub fn install(rt: &tokio::runtime::Runtime) {
    crate::ui::remember_terminal_state();
    rt.spawn(async {
        let signal = loop {
            let Some(signal) = wait_for_signal().await else {
                return;
            };
            if signal == Signal::Interrupt && FOREGROUND_CHILDREN.load(Ordering::SeqCst) > 0 {
                continue;
            }
            break signal;
        };
        let started = Instant::now();
        let mut told = false;
        while DEFERRED.load(Ordering::SeqCst) > 0 && started.elapsed() < MAX_DEFER {
            if !told {
                eprintln!(
                    "\nfinishing the token exchange in progress so no refresh token is lost…"
                );
                told = true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _guard = critical();
        crate::ui::restore_terminal();
        for path in CLEANUP.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = std::fs::remove_dir_all(path);
        }
        if let Some(note) = STOP_NOTE
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_deref()
        {
            eprintln!("\n{note}");
            std::process::exit(0);
        }
        let what = match signal {
            Signal::Interrupt => "interrupted",
            Signal::Terminate => "terminated",
        };
        eprintln!("\n{what}: nothing half-written was left; re-run the command to continue");
        std::process::exit(signal.exit_code());
    });
}

/// The signals that stop ccsetup cleanly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C (SIGINT, Ctrl-Break): exit 130.
    Interrupt,
    /// SIGTERM (Unix): exit 143.
    Terminate,
}

impl Signal {
    pub fn exit_code(self) -> i32 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }
}

/// Waits for Ctrl-C or (Unix) SIGTERM; `None` if no handler could be set up.
async fn wait_for_signal() -> Option<Signal> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c()
                .await
                .ok()
                .map(|()| Signal::Interrupt);
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.ok().map(|()| Signal::Interrupt),
            _ = term.recv() => Some(Signal::Terminate),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| Signal::Interrupt)
    }
}
