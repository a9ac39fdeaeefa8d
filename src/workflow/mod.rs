//! The workflows between the commands and the domain: what `init`,
//! `rotate`, `token`, `status`, `link` and `reset` do, each in one place.
//!
//! Commands turn arguments into inputs, call these, and render the result.
//! Workflows take what they use — a [`ProfileSession`], a [`Terminal`], a
//! [`Remote`] — never the whole command context, and never import
//! `crate::cli` or `crate::commands`.
//!
//! - [`session`]: one profile's secret store, lock and `config.toml` entry;
//! - [`secrets`]: where a secret input comes from (one rule for every command);
//! - [`tokens`]: the rotation-safe token lifecycle (refresh under the lock,
//!   persist before print, recovery);
//! - [`authorize`]: the authorization flow plus the account check;
//! - [`health`]: the checks `status` reports, one function each;
//! - [`preflight`]: `init`'s checks before the browser (StackOne key,
//!   registration, Client Secret);
//! - [`stackone`]: the Connector Profile and connect-session workflows;
//! - [`rotation`]: client-secret rotation and re-authorization, shared by
//!   `rotate` and `init`'s re-run menu;
//! - [`setup`]: `init`'s storage and StackOne steps (lock, secrets, settings);
//! - [`portal_guide`]: the terminal side of the Constant Contact portal walk;
//! - [`dashboard_guide`]: the terminal side of StackOne's dashboard path;
//! - [`setup_notes`]: what an interrupted `init` leaves for the next run.

pub mod authorize;
pub mod dashboard_guide;
pub mod dir_identity;
pub mod health;
pub mod portal_guide;
pub mod preflight;
pub mod rotation;
pub mod secrets;
pub mod session;
pub mod setup;
pub mod setup_notes;
pub mod stackone;
pub mod tokens;

pub use session::ProfileSession;

use crate::browser::Browser;
use crate::endpoints::Endpoints;
use crate::ui::{IoStreams, Prompter};

/// The person at the terminal: output, questions, and their browser.
pub struct Terminal<'a> {
    pub io: &'a mut IoStreams,
    pub prompter: &'a mut dyn Prompter,
    pub browser: &'a dyn Browser,
}

impl Terminal<'_> {
    /// A shorter-lived copy, for handing to a callee while keeping `self`.
    pub fn reborrow(&mut self) -> Terminal<'_> {
        Terminal {
            io: self.io,
            prompter: self.prompter,
            browser: self.browser,
        }
    }

    /// Opens `url`, or says why not (callers print the URL beforehand): no
    /// browser here is a note, a launch that failed is a warning.
    pub fn open_in_browser(&mut self, url: &str) {
        if let Err(why) = self.browser.can_launch() {
            self.io
                .info(format!("(Not opening a browser: {why}. Open it yourself.)"));
            return;
        }
        match self.browser.open(url) {
            Ok(()) => self.io.info("(Opened it in your browser.)"),
            Err(why) => self.io.warn(format!(
                "could not open a browser ({why}); open the URL above yourself"
            )),
        }
    }
}

/// The remote services: one HTTP client (one connection pool) per run and
/// where each service lives.
#[derive(Clone, Copy)]
pub struct Remote<'a> {
    pub http: &'a reqwest::Client,
    pub endpoints: &'a Endpoints,
}
