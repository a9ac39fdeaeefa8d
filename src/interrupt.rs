//! Ctrl-C: exit 130 with the terminal restored and nothing half-written.
//! Every other catchable signal that would end the process (SIGTERM from
//! `kill` or a service manager, SIGHUP from a closed terminal or a dropped
//! SSH session, SIGQUIT from Ctrl-\\, SIGUSR1, SIGALRM, …: [`HANDLED`]) is
//! handled the same way and exits 128 + the signal (143 for SIGTERM).
//!
//! A background task waits for those signals. Two kinds of work hold it off:
//! - writes that must not be torn (config, secret files, recovery files)
//!   hold the [`critical`] guard, which the handler takes before exiting;
//! - a refresh-token redemption holds a [`defer`] guard from sending the
//!   request until the rotated token is stored: the server rotates on
//!   receipt, so abandoning its answer would lose access. Each guard says
//!   how long its work can take at most ([`defer_for`]: the caller computes
//!   it from its retry policy and store timeout); the handler waits for the
//!   guards until the latest of those deadlines, and the last guard to go
//!   exits at once, so nothing after the store (printing the token) runs.
//!
//! dialoguer restores the terminal mode itself before re-raising SIGINT, but
//! not after a hidden prompt (echo off, line mode: the tty raises SIGINT and
//! we exit mid-read); so the handler puts back the terminal settings found at
//! start, shows the cursor again and removes registered temporary paths.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

static CRITICAL: Mutex<()> = Mutex::new(());
static DEFERRED: AtomicUsize = AtomicUsize::new(0);
static CLEANUP: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static FOREGROUND_CHILDREN: AtomicUsize = AtomicUsize::new(0);
static STOP_NOTE: Mutex<Option<String>> = Mutex::new(None);
static RERUN_NOTE: Mutex<Option<String>> = Mutex::new(None);
/// The number of a signal that arrived and waits for the deferred work
/// (0: none).
static PENDING: AtomicI32 = AtomicI32::new(0);
static FINISHING: AtomicBool = AtomicBool::new(false);

/// The latest deadline of the [`defer_for`] guards, in milliseconds since
/// [`epoch`].
static DEFER_UNTIL_MS: AtomicU64 = AtomicU64::new(0);

/// The instant deadlines are counted from.
fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn millis_since_epoch() -> u64 {
    u64::try_from(epoch().elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Hold this across a write that must complete once started.
pub fn critical() -> MutexGuard<'static, ()> {
    CRITICAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// Holds off every handled signal while alive (can be held across `.await`).
/// When the last guard goes and a signal is waiting, the process exits
/// right there (128 + signal): the caller has stored what mattered, and
/// must not go on to print or do anything else.
#[derive(Debug)]
pub struct DeferGuard(());

impl Drop for DeferGuard {
    fn drop(&mut self) {
        if DEFERRED.fetch_sub(1, Ordering::SeqCst) == 1 {
            let pending = PENDING.load(Ordering::SeqCst);
            if pending != 0 {
                finish(Signal::from_number(pending));
            }
        }
    }
}

/// Holds off every handled signal for the work that follows, which takes at
/// most `longest` (a signal arriving later than that after this call ends
/// the process even while the guard is alive: a hung call must not make
/// ccsetup unkillable by Ctrl-C).
pub fn defer_for(longest: Duration) -> DeferGuard {
    let until =
        millis_since_epoch().saturating_add(u64::try_from(longest.as_millis()).unwrap_or(u64::MAX));
    DEFER_UNTIL_MS.fetch_max(until, Ordering::SeqCst);
    DEFERRED.fetch_add(1, Ordering::SeqCst);
    DeferGuard(())
}

/// While a [`defer_for`] guard is alive: the work starting now takes at
/// most `more`, so signals stay held off until then at least (each bounded
/// step under a guard, a store call or a lock wait, says its own bound).
/// Without a guard, nothing happens.
pub fn extend_deferral(more: Duration) {
    if DEFERRED.load(Ordering::SeqCst) > 0 {
        let until = millis_since_epoch()
            .saturating_add(u64::try_from(more.as_millis()).unwrap_or(u64::MAX));
        DEFER_UNTIL_MS.fetch_max(until, Ordering::SeqCst);
    }
}

/// Whether a signal has arrived and nothing but the caller's own (just
/// taken) guard holds it off: the caller's work has not started and should
/// not. Under another guard (a grant not stored yet), the work is part of
/// finishing that, and goes on.
pub fn stop_before_starting() -> bool {
    PENDING.load(Ordering::SeqCst) != 0 && DEFERRED.load(Ordering::SeqCst) <= 1
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

/// What running the command again will and will not redo, said when a
/// signal stops it; a command updates it as its steps store things.
pub fn set_rerun_note(note: impl Into<String>) {
    *RERUN_NOTE.lock().unwrap_or_else(|p| p.into_inner()) = Some(note.into());
}

/// What is true after an interrupt now: what a re-run will and will not redo.
pub fn rerun_note() -> String {
    let demo = !CLEANUP.lock().unwrap_or_else(|p| p.into_inner()).is_empty();
    rerun_note_for(demo)
}

/// The words after "interrupted". A temporary dir to remove means a demo,
/// whose stand-ins end with it.
fn rerun_note_for(removed_temporary_dirs: bool) -> String {
    if removed_temporary_dirs {
        return "the demo's stand-ins and its temporary folder are gone with it; \
                `ccsetup demo` starts a new one from the beginning"
            .into();
    }
    RERUN_NOTE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .unwrap_or_else(|| {
            "nothing half-written was left; running the command again starts it from its \
             beginning (what it stored before stays)"
                .into()
        })
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
    let mut signals = listen(rt);
    rt.spawn(async move {
        let signal = loop {
            let Some(signal) = signals.recv().await else {
                return;
            };
            // Ctrl-C reaches a foreground child (the demo's shell) too: it is
            // the child's to handle.
            if signal == Signal::INTERRUPT && FOREGROUND_CHILDREN.load(Ordering::SeqCst) > 0 {
                continue;
            }
            break signal;
        };
        PENDING.store(signal.number(), Ordering::SeqCst);
        let mut told = false;
        while DEFERRED.load(Ordering::SeqCst) > 0
            && millis_since_epoch() < DEFER_UNTIL_MS.load(Ordering::SeqCst)
        {
            if !told {
                eprintln!(
                    "\nfinishing the token exchange in progress so no refresh token is lost…"
                );
                told = true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        finish(signal);
    });
}

/// Restores the terminal, removes temporary paths and exits with the
/// signal's code. Runs once: a second caller (the handler and a dropped
/// [`DeferGuard`] racing) waits for the first to exit instead of returning
/// to its work.
fn finish(signal: Signal) -> ! {
    if FINISHING.swap(true, Ordering::SeqCst) {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    let _guard = critical();
    crate::ui::restore_terminal();
    let mut removed_temporary_dirs = false;
    for path in CLEANUP.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let _ = std::fs::remove_dir_all(path);
        removed_temporary_dirs = true;
    }
    if let Some(note) = STOP_NOTE
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .as_deref()
    {
        // A background server (`demo --serve … &`) says nothing on the
        // terminal; a closed one makes the write fail, which is no reason
        // to stop cleaning up.
        if crate::ui::terminal_is_ours(2) {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "\n{note}");
        }
        std::process::exit(0);
    }
    eprintln!(
        "\n{}: {}",
        signal.describe(),
        rerun_note_for(removed_temporary_dirs)
    );
    std::process::exit(signal.exit_code());
}

/// A signal that stops ccsetup cleanly: its number (Unix numbering; Ctrl-C
/// and Ctrl-Break are SIGINT everywhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal(i32);

impl Signal {
    /// Ctrl-C (SIGINT, Ctrl-Break): exit 130.
    pub const INTERRUPT: Signal = Signal(2);
    /// SIGTERM: exit 143.
    pub const TERMINATE: Signal = Signal(15);

    fn from_number(n: i32) -> Signal {
        Signal(n)
    }

    pub fn number(self) -> i32 {
        self.0
    }

    /// 128 + the signal, the shell's convention.
    pub fn exit_code(self) -> i32 {
        128 + self.0
    }

    fn describe(self) -> String {
        match HANDLED.iter().find(|(n, _, _)| *n == self.0) {
            Some((_, _, what)) => (*what).to_string(),
            None => format!("stopped by signal {}", self.0),
        }
    }
}

/// Every catchable signal whose default action ends the process, with its
/// name and what the user is told. SIGPIPE is not here: Rust ignores it
/// (writes to a closed pipe fail with EPIPE instead), and catching it would
/// turn that error into an exit. SIGKILL and SIGSTOP cannot be caught.
#[cfg(unix)]
const HANDLED: &[(i32, &str, &str)] = &[
    (libc::SIGINT, "SIGINT", "interrupted"),
    (libc::SIGTERM, "SIGTERM", "terminated"),
    (libc::SIGHUP, "SIGHUP", "hung up (the terminal closed)"),
    (libc::SIGQUIT, "SIGQUIT", "quit"),
    (libc::SIGUSR1, "SIGUSR1", "stopped by SIGUSR1"),
    (libc::SIGUSR2, "SIGUSR2", "stopped by SIGUSR2"),
    (libc::SIGALRM, "SIGALRM", "stopped by SIGALRM"),
    (libc::SIGVTALRM, "SIGVTALRM", "stopped by SIGVTALRM"),
    (libc::SIGPROF, "SIGPROF", "stopped by SIGPROF"),
    (
        libc::SIGXCPU,
        "SIGXCPU",
        "stopped by SIGXCPU (CPU time limit)",
    ),
    (
        libc::SIGXFSZ,
        "SIGXFSZ",
        "stopped by SIGXFSZ (file size limit)",
    ),
];
#[cfg(not(unix))]
const HANDLED: &[(i32, &str, &str)] = &[(2, "SIGINT", "interrupted")];

/// Starts one listener per handled signal; the receiver yields the first
/// that arrives. A signal whose handler cannot be set up keeps its default.
fn listen(rt: &tokio::runtime::Runtime) -> tokio::sync::mpsc::UnboundedReceiver<Signal> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let _enter = rt.enter();
        for &(number, name, _) in HANDLED {
            match signal(SignalKind::from_raw(number)) {
                Ok(mut stream) => {
                    let tx = tx.clone();
                    rt.spawn(async move {
                        while stream.recv().await.is_some() {
                            let _ = tx.send(Signal(number));
                        }
                    });
                }
                Err(e) => tracing::debug!("cannot handle {name}: {e}"),
            }
        }
    }
    #[cfg(not(unix))]
    {
        let tx = tx.clone();
        rt.spawn(async move {
            while tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send(Signal::INTERRUPT);
            }
        });
    }
    rx
}
