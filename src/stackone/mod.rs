//! StackOne: the API client and the Constant Contact connector profile.
//!
//! - [`client`]: [`StackOneClient`] — Basic auth with the API key, bounded
//!   retries honouring `Retry-After`, errors mapped to exit codes;
//! - [`model`]: what is sent and received (secrets only ever in request
//!   bodies, never in anything parsed, printed or logged);
//! - [`profile`]: [`ensure_connector_profile`] — find, then create, update
//!   or leave alone, through the API or the dashboard, without duplicates;
//! - [`dashboard`]: the dashboard path's steps and the [`DashboardGuide`]
//!   seam the wizard implements.
//!
//! StackOne documents listing profiles and connect sessions but no public
//! create/update endpoint (docs/vendors.md §4), so the dashboard path is a
//! first-class way to finish, not an error case.

pub mod client;
pub mod dashboard;
pub mod model;
pub mod profile;

pub use client::{RetryPolicy, StackOneClient, StackOneError};
pub use dashboard::{
    DashboardGuide, DashboardSteps, DashboardTask, LineSource, PrintedDashboardGuide, UserWait,
};
pub use model::{
    ConnectSession, ConnectSessionRequest, ConnectSessionState, ConnectionAttempt,
    ConnectorProfile, LinkedAccount, NewConnectorProfile, ProfileDetails, ProfileField,
    ProfilePatch,
};
pub use profile::{
    CONNECTOR_KEY, CONNECTOR_LABEL, DesiredProfile, ENTER_OR_PASTE, EnsureOptions, Entered,
    ProfileAction, ProfileOutcome, RecordedValues, RemoveOutcome, delete_steps,
    ensure_connector_profile, entered, profile_id_in, remove_connector_profile,
};

/// The name `init` gives the Connector Profile unless told otherwise.
pub const DEFAULT_STACKONE_PROFILE_NAME: &str = "Constant Contact";

/// How the StackOne Connector Profile is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum StackOneMode {
    /// Use the API; switch to the dashboard when create/update is not offered
    #[default]
    Auto,
    /// Only the API; never the dashboard
    Api,
    /// Guide through the dashboard form, then verify through the API
    Dashboard,
}

/// A StackOne API key is opaque; catch the wrong thing pasted.
pub fn validate_api_key(key: &str) -> std::result::Result<(), String> {
    let key = key.trim();
    if key.is_empty() {
        return Err("the StackOne API key cannot be empty".into());
    }
    crate::ui::tidy_secret(key)?;
    if key.len() > 512 || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "the StackOne API key has spaces or control characters; copy it again from the dashboard"
                .into(),
        );
    }
    Ok(())
}
