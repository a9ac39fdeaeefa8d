//! The one HTTP client configuration: rustls with the ring provider, the
//! platform's roots, timeouts, no redirects (a redirect on an OAuth or API
//! call is an error worth seeing, and must not carry credentials elsewhere).

use std::time::Duration;

use crate::error::{Error, Result};

pub const USER_AGENT: &str = concat!("ccsetup/", env!("CARGO_PKG_VERSION"));
/// The longest one request may take, connecting included (the refresh's
/// signal deferral is computed from it: `workflow::tokens`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Builds a client. Cheap enough to call per command; not needed by
/// `--help`, `--version` or `completions`.
pub fn client() -> Result<reqwest::Client> {
    // Installing twice is harmless: the second call reports the first won.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::failure("could not set up HTTPS").with_source(e))
}
