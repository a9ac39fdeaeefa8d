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
//! create/update endpoint (REFERENCE.md §4), so the dashboard path is a
//! first-class way to finish, not an error case.

pub mod client;
pub mod dashboard;
pub mod model;
pub mod profile;

pub use client::{RetryPolicy, StackOneClient, StackOneError};
pub use dashboard::{DashboardGuide, DashboardSteps, DashboardTask, PrintedDashboardGuide};
pub use model::{
    ConnectSession, ConnectSessionRequest, ConnectorProfile, NewConnectorProfile, ProfileDetails,
    ProfileField, ProfilePatch,
};
pub use profile::{
    CONNECTOR_KEY, CONNECTOR_LABEL, DesiredProfile, EnsureOptions, ProfileAction, ProfileOutcome,
    RemoveOutcome, delete_steps, ensure_connector_profile, remove_connector_profile,
};
