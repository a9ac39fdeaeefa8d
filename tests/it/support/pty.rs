//! The PTY harness of the wizard tests: the real binary in a pseudo-terminal,
//! driven with expectrl like a person at a keyboard (wait for each prompt
//! before typing; match stable text, never ANSI redraws; every wait bounded).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ccsetup::sandbox::test_browser::{self, Decision};
use expectrl::process::unix::WaitStatus;

use crate::support::e2e::TestEnv;
use expectrl::session::OsSession;
use expectrl::{Eof, Expect, Needle, Regex};

/// Longest wait for any one piece of output.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running wizard in a PTY, with everything it printed so far.
pub struct Wizard {
    pub session: OsSession,
    pub transcript: String,
}

impl Wizard {
    /// Runs `ccsetup <args>` from `env` in a fresh PTY. The terminal starts
    /// with echo on, like a real one (the PTY library turns it off).
    pub fn spawn(env: &TestEnv, args: &[&str], extra_env: &[(&str, String)]) -> Wizard {
        Self::spawn_with(env, args, |cmd| {
            for (key, value) in extra_env {
                cmd.env(key, value);
            }
        })
    }

    /// The interactive `ccsetup demo` as a user starts it: its own temporary
    /// config and store (none of the env's), `/bin/sh` as the shell it ends
    /// in, and no ccsetup on `PATH`, so the demo shell must bring its own.
    pub fn spawn_demo(env: &TestEnv) -> Wizard {
        Wizard::spawn_with(env, &["demo"], |cmd| {
            cmd.env_remove("CCSETUP_CONFIG_DIR")
                .env_remove("CCSETUP_STORE")
                .env("SHELL", "/bin/sh")
                .env("PATH", "/usr/bin:/bin");
        })
    }

    /// [`Wizard::spawn`], with `configure` applied to the command last.
    pub fn spawn_with(
        env: &TestEnv,
        args: &[&str],
        configure: impl FnOnce(&mut Command),
    ) -> Wizard {
        let base = env.cmd();
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("stty echo icanon $WIZARD_TEST_STTY; exec \"$0\" \"$@\"")
            .arg(base.get_program())
            .args(args);
        for (key, value) in base.get_envs() {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        // No clipboard unless a test brings one: its offers are prompts.
        cmd.env("TERM", "xterm-256color")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("WSL_DISTRO_NAME");
        configure(&mut cmd);
        // The PTY is stdin: keep it (the harness sets /dev/null).
        cmd.stdin(Stdio::inherit());
        let session = OsSession::spawn(cmd).expect("spawn ccsetup in a PTY");
        Wizard {
            session,
            transcript: String::new(),
        }
    }

    /// Waits (bounded, polling) until `needle` shows up; returns the text
    /// read up to and including it.
    #[track_caller]
    pub fn wait_for<N: Needle>(&mut self, needle: N, what: &str) -> expectrl::Captures {
        let started = Instant::now();
        loop {
            match self.session.check(&needle) {
                Ok(found) if !found.is_empty() => {
                    self.transcript
                        .push_str(&String::from_utf8_lossy(found.as_bytes()));
                    return found;
                }
                Ok(_) => {}
                Err(expectrl::Error::Eof) => {
                    panic!(
                        "ccsetup ended before {what}:\n{}",
                        self.transcript_with_rest()
                    )
                }
                Err(e) => panic!("reading the PTY: {e}"),
            }
            if started.elapsed() > STEP_TIMEOUT {
                panic!(
                    "no {what} within {STEP_TIMEOUT:?}:\n{}",
                    self.transcript_with_rest()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    #[track_caller]
    pub fn expect(&mut self, text: &str) {
        self.wait_for(wrapped_text(text), &format!("{text:?}"));
    }

    /// Waits for `pattern` and returns its first group.
    #[track_caller]
    pub fn expect_capture(&mut self, pattern: &str) -> String {
        let found = self.wait_for(Regex(pattern), pattern);
        String::from_utf8_lossy(found.get(1).expect("a group")).into_owned()
    }

    /// Steps 2's portal walk, answered: names the application `app_name`
    /// ("" takes the default), then says each portal screen is done.
    #[track_caller]
    pub fn walk_the_portal(&mut self, app_name: &str) {
        self.expect("Application name");
        self.line(app_name);
        self.confirm_the_portal_screens();
    }

    /// Says "yes" to both of the portal walk's "is it done?" questions.
    #[track_caller]
    pub fn confirm_the_portal_screens(&mut self) {
        self.expect("Is the application created?");
        self.line("y");
        self.expect("Are both redirect URIs saved?");
        self.line("y");
    }

    /// Types a line and Enter.
    pub fn line(&mut self, text: &str) {
        self.session.send_line(text).expect("write to the PTY");
    }

    /// Presses one key (arrows and Enter in a menu).
    pub fn key(&mut self, key: &str) {
        self.session.send(key).expect("write to the PTY");
    }

    /// Types into a hidden prompt, once it reads: it turns echo off and
    /// flushes pending input in one step (TCSAFLUSH), so text typed before
    /// that would be lost. Call after its prompt text was seen.
    pub fn secret(&mut self, text: &str) {
        self.wait_until_hidden_prompt_reads();
        self.line(text);
    }

    /// Waits (bounded) until the terminal's echo is off: the terminal starts
    /// with echo on, so after a hidden prompt's text this means it reads.
    #[track_caller]
    pub fn wait_until_hidden_prompt_reads(&mut self) {
        let started = Instant::now();
        while self.terminal_echoes() {
            if started.elapsed() > STEP_TIMEOUT {
                panic!(
                    "the hidden prompt never turned echo off:\n{}",
                    self.transcript
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn ctrl_c(&mut self) {
        self.session
            .send(expectrl::ControlCode::EndOfText)
            .expect("write ^C to the PTY");
    }

    /// Reads to the end and returns the exit code (bounded).
    #[track_caller]
    pub fn finish(&mut self) -> i32 {
        self.wait_for(Eof, "the end of the run");
        if std::env::var_os("WIZARD_PTY_SHOW").is_some() {
            // `WIZARD_PTY_SHOW=1 cargo test --test wizard_pty -- --nocapture`
            // shows each screen as the person saw it.
            eprintln!("---- transcript ----\n{}", self.transcript);
        }
        let started = Instant::now();
        loop {
            match self.session.get_process().status() {
                Ok(WaitStatus::Exited(_, code)) => return code,
                Ok(WaitStatus::Signaled(_, signal, _)) => {
                    panic!("killed by {signal:?}:\n{}", self.transcript)
                }
                _ if started.elapsed() > STEP_TIMEOUT => {
                    panic!("ccsetup did not exit:\n{}", self.transcript)
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }

    pub fn transcript_with_rest(&mut self) -> String {
        let mut rest = vec![0u8; 64 * 1024];
        let n = self.session.try_read(&mut rest).unwrap_or(0);
        format!("{}{}", self.transcript, String::from_utf8_lossy(&rest[..n]))
    }

    /// Whether the terminal echoes typed text (what a hidden prompt turns off).
    pub fn terminal_echoes(&self) -> bool {
        self.session.get_process().get_echo().expect("read termios")
    }
}

/// Plays the browser: consent, then the redirect to the wizard's listener.
pub fn approve_in_background(authorize_url: String) -> std::thread::JoinHandle<(u16, String)> {
    std::thread::spawn(move || {
        test_browser::consent_blocking(&authorize_url, Decision::Approve)
            .and_then(|location| test_browser::deliver_blocking(&location))
            .expect("the test browser approves")
    })
}

/// The authorization URL line the wizard prints in step 4.
pub const AUTHORIZE_URL: &str = r"(http://\S+/oauth2/default/v1/authorize\?\S+)\r?\n";

/// Whether `text` holds an SGR (colour/style) escape sequence.
pub fn has_colour_codes(text: &str) -> bool {
    text.split("\x1b[").skip(1).any(|rest| {
        rest.chars()
            .find(|c| !(c.is_ascii_digit() || *c == ';'))
            .is_some_and(|c| c == 'm')
    })
}

/// A needle for text the wizard may have wrapped to the terminal's width:
/// each space also matches a line break. Anchored so that only the first
/// occurrence counts (expectrl consumes up to its needle's last match in
/// the buffer, which would swallow text a later expectation waits for).
pub fn wrapped_text(text: &str) -> Regex<String> {
    Regex(format!(r"(?s)\A.*?(?:{})", crate::support::wrapped(text)))
}
