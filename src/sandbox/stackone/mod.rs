//! Strict stand-in of the StackOne API and of the dashboard's Connector
//! Profiles page, for tests and `ccsetup demo`.
//!
//! What it models (docs/vendors.md §4, docs/contract.md "StackOne API"):
//! - HTTP Basic with the API key as username and an EMPTY password; anything
//!   else is 401 (a known but under-privileged key is 403);
//! - errors shaped `{statusCode, message, timestamp, errorCode?, provider_errors?}`;
//!   422 validation errors carry `message` as a list of `field: problem`
//!   strings (the NestJS convention the shape comes from);
//! - `GET /connector_profiles` and the older `GET /auth_configs`, paged, with
//!   the documented item fields and never any credential;
//! - by default NO profile-write endpoint, as StackOne today (docs/vendors.md
//!   §4): `POST /connector_profiles` and `/connector_profiles/{id}` answer 404
//!   like any unknown path. A create/read/update/delete API that the real
//!   service does NOT have exists only behind the explicit, hypothetical
//!   opt-in [`ProfileWriteApi::Hypothetical`] (`demo --stackone-write-api`);
//!   405/501/400/422 model other ways its absence could show, and
//!   [`Listing::AuthConfigsOnly`] models the old API where
//!   `/connector_profiles` does not exist;
//! - connect sessions (`POST`, and `GET /connect_sessions/{id}` with
//!   `latest_connection_attempt`), and a hub behind `auth_link_url` that links
//!   for real: it runs the authorization-code flow against the stand-in
//!   Constant Contact (over HTTP, through [`CcEndpoints`]) with the profile's
//!   stored credentials, so a wrong secret ends in `invalid_client`;
//! - linked accounts, `GET /accounts` (`providers` filter, paging, a bare
//!   array or `{data}`: [`AccountsShape`]), and the profiles' `active` flag;
//! - a plain-HTML dashboard whose "+ Connector Profile" form has exactly the
//!   real form's fields (API Key, Client Secret, Scopes, Actions; no Name: the
//!   stand-in names the profile itself, as StackOne does), and a page per
//!   profile with "Copy connector ID" and an edit form (docs/vendors.md §4).
//!
//! No response ever contains a client secret; every response the service
//! produced is recorded ([`StackOneStandIn::responses`]) so tests can prove it.

mod api;
mod dashboard;
mod hub;
mod state;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use super::server::{Fault, FaultAction, HttpServer, Request, RequestLog, Response, Service};

pub use state::{CONNECTORS, Connector, FieldError, LinkedAccount, StoredProfile};

/// The API key the stand-in accepts by default (tests and `demo` use it).
pub const DEFAULT_API_KEY: &str = "v1.sandbox.ccsetup-stand-in-key-3f9c2a";

/// The connector key of Constant Contact.
pub const CONSTANT_CONTACT: &str = "constantcontact";

/// Whether the (undocumented) profile write API exists, and how its absence
/// shows. Applies to `POST /connector_profiles` and to every
/// `/connector_profiles/{id}` method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfileWriteApi {
    /// HYPOTHETICAL: create, read, update and delete by id work. StackOne
    /// publishes no such endpoint (docs/vendors.md §4); this models the day
    /// it does, and only what opts in by name gets it.
    Hypothetical,
    /// The routes do not exist (404 like any unknown path), as in the real
    /// public API today: the default.
    #[default]
    NotFound,
    /// 405 Method Not Allowed (`Allow: GET` on the collection).
    MethodNotAllowed,
    /// 501 Not Implemented.
    NotImplemented,
    /// The body is refused as if the endpoint existed but knew none of its
    /// fields: 400 or 422 (both documented StackOne error codes, docs/vendors.md
    /// §4), with a NestJS-style message.
    Rejected(u16),
}

/// Which listing endpoints exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Listing {
    /// `/connector_profiles` (new) and `/auth_configs` (deprecated) both work.
    #[default]
    ConnectorProfiles,
    /// The old API: only `/auth_configs`; every `/connector_profiles` path is 404.
    AuthConfigsOnly,
}

/// How `GET /accounts` answers: the SDK says a bare array, a guide shows
/// `{data:[…]}` (docs/vendors.md §5); ccsetup must read both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountsShape {
    #[default]
    BareArray,
    Data,
}

/// Where the stand-in Constant Contact is: the hub reaches it over HTTP
/// only, as StackOne reaches the real one.
#[derive(Debug, Clone)]
pub struct CcEndpoints {
    pub authorize: url::Url,
    pub token: url::Url,
    pub api: url::Url,
}

/// StackOne's OAuth callback for Constant Contact (docs/vendors.md §3/§4): the
/// redirect URI the hub sends, which the app must have registered.
pub const STACKONE_CALLBACK_URI: &str =
    "https://api.stackone.com/connect/oauth2/constantcontact/callback";

/// Where the stand-in serves StackOne's callback (the real one's path).
pub const CALLBACK_PATH: &str = "/connect/oauth2/constantcontact/callback";

/// How to start the StackOne stand-in.
#[derive(Clone)]
pub struct StackOneOptions {
    /// Keys accepted as Basic usernames.
    pub api_keys: Vec<String>,
    /// Keys that authenticate but may not use the API (403).
    pub forbidden_api_keys: Vec<String>,
    pub profile_write_api: ProfileWriteApi,
    pub listing: Listing,
    /// `page_size` when the query gives none (StackOne: 25).
    pub default_page_size: usize,
    /// Largest `page_size` accepted; larger is 400.
    pub max_page_size: usize,
    /// A server that silently serves at most this many items a page, whatever
    /// `page_size` asked (and reports the size asked): the paging rule of
    /// docs/contract.md "Paging" must still read every item.
    pub page_size_cap: Option<usize>,
    /// `GET /connect_sessions/{id}` does not exist (only StackOne's newest
    /// SDK has it, docs/vendors.md §4): it answers this status (404, 405 or 501).
    pub session_get_refused: Option<u16>,
    /// Start with a few profiles of other connectors.
    pub seed_unrelated_profiles: bool,
    pub accounts_shape: AccountsShape,
    /// The older API: `POST /connect_sessions` knows `integration_id` but
    /// not `connector_profile_id` (docs/vendors.md §5: only the newest SDK has it).
    pub legacy_connect_sessions: bool,
    /// The Constant Contact the hub links against (set by [`crate::sandbox::Sandbox`]);
    /// without it the hub's Connect fails with a clear page.
    pub constant_contact: Option<CcEndpoints>,
}

impl Default for StackOneOptions {
    fn default() -> Self {
        StackOneOptions {
            api_keys: vec![DEFAULT_API_KEY.to_string()],
            forbidden_api_keys: Vec::new(),
            profile_write_api: ProfileWriteApi::NotFound,
            listing: Listing::ConnectorProfiles,
            default_page_size: 25,
            max_page_size: 100,
            page_size_cap: None,
            session_get_refused: None,
            seed_unrelated_profiles: true,
            accounts_shape: AccountsShape::BareArray,
            legacy_connect_sessions: false,
            constant_contact: None,
        }
    }
}

impl StackOneOptions {
    /// The defaults plus the HYPOTHETICAL profile-write API
    /// ([`ProfileWriteApi::Hypothetical`]), for what names it.
    pub fn with_hypothetical_write_api() -> Self {
        StackOneOptions {
            profile_write_api: ProfileWriteApi::Hypothetical,
            ..Default::default()
        }
    }
}

impl fmt::Debug for StackOneOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Keys are sandbox-only, but Debug output shows no key anywhere.
        f.debug_struct("StackOneOptions")
            .field("api_keys", &format!("[{} redacted]", self.api_keys.len()))
            .field("profile_write_api", &self.profile_write_api)
            .field("listing", &self.listing)
            .field("default_page_size", &self.default_page_size)
            .field("max_page_size", &self.max_page_size)
            .finish_non_exhaustive()
    }
}

pub use crate::sandbox::server::RecordedResponse;

/// The stand-in's shared state; the HTTP handlers live in `api` and `dashboard`.
pub(crate) struct StackOneService {
    state: Mutex<state::State>,
    options: Mutex<StackOneOptions>,
    /// `http://127.0.0.1:<port>`, known once the server is bound.
    base: OnceLock<url::Url>,
    responses: Mutex<Vec<RecordedResponse>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl StackOneService {
    fn state(&self) -> MutexGuard<'_, state::State> {
        lock(&self.state)
    }
    fn options(&self) -> StackOneOptions {
        lock(&self.options).clone()
    }
    /// An absolute URL of this stand-in.
    fn url(&self, path_and_query: &str) -> String {
        let base = self
            .base
            .get()
            .map(|b| b.as_str().trim_end_matches('/').to_string())
            .unwrap_or_default();
        format!("{base}{path_and_query}")
    }
}

impl Service for StackOneService {
    fn handle(&self, req: &Request) -> Response {
        let resp = if req.path == "/dashboard" || req.path.starts_with("/dashboard/") {
            dashboard::handle_dashboard(self, req)
        } else if req.path == "/hub" || req.path.starts_with("/hub/") {
            hub::handle_hub(self, req)
        } else if req.path == CALLBACK_PATH && req.method == "GET" {
            hub::oauth_callback(self, req)
        } else {
            api::handle(self, req)
        };
        lock(&self.responses).push(RecordedResponse {
            method: req.method.clone(),
            path: req.path.clone(),
            status: resp.status,
            headers: resp.headers.clone(),
            body: resp.body.clone(),
        });
        resp
    }
}

/// The running stand-in. Dropping it stops the server.
pub struct StackOneStandIn {
    server: HttpServer,
    service: Arc<StackOneService>,
}

impl StackOneStandIn {
    pub fn start(rt: &tokio::runtime::Handle, options: StackOneOptions) -> std::io::Result<Self> {
        let state = if options.seed_unrelated_profiles {
            state::State::seeded()
        } else {
            state::State::default()
        };
        let service = Arc::new(StackOneService {
            state: Mutex::new(state),
            options: Mutex::new(options),
            base: OnceLock::new(),
            responses: Mutex::default(),
        });
        let server = HttpServer::start(rt, "stackone", service.clone())?;
        let _ = service.base.set(server.url("/"));
        Ok(StackOneStandIn { server, service })
    }

    /// The HTTP server behind the stand-in (latency, connection count).
    pub fn server(&self) -> &crate::sandbox::server::HttpServer {
        &self.server
    }

    /// The API base URL (`CCSETUP_STACKONE_API_URL`).
    pub fn api_url(&self) -> url::Url {
        self.server.url("/")
    }

    /// The dashboard's Connector Profiles page (`CCSETUP_STACKONE_DASHBOARD_URL`).
    pub fn dashboard_url(&self) -> url::Url {
        self.server.url("/dashboard/connector-profiles")
    }

    /// Any path on this stand-in.
    pub fn url(&self, path: &str) -> url::Url {
        self.server.url(path)
    }

    /// Every request received (including ones answered by faults).
    pub fn log(&self) -> &Arc<RequestLog> {
        self.server.log()
    }

    /// Every response the stand-in's logic produced, in order.
    pub fn responses(&self) -> Vec<RecordedResponse> {
        lock(&self.service.responses).clone()
    }

    /// The first accepted API key.
    pub fn api_key(&self) -> String {
        lock(&self.service.options)
            .api_keys
            .first()
            .cloned()
            .unwrap_or_default()
    }

    /// All stored profiles, credentials included (so tests can check what
    /// was stored), oldest first.
    pub fn profiles(&self) -> Vec<StoredProfile> {
        self.service.state().profiles.clone()
    }

    /// One stored profile, credentials included.
    pub fn profile_by_id(&self, id: &str) -> Option<StoredProfile> {
        self.service.state().profile(id).cloned()
    }

    /// Stored Constant Contact profiles only.
    pub fn constant_contact_profiles(&self) -> Vec<StoredProfile> {
        self.profiles()
            .into_iter()
            .filter(|p| p.connector_key == CONSTANT_CONTACT)
            .collect()
    }

    /// Number of connect sessions created.
    pub fn session_count(&self) -> usize {
        self.service.state().sessions.len()
    }

    /// What a user filling the dashboard form for Constant Contact / OAuth 2.0
    /// does, without HTTP. Returns the new id, or the form's error text.
    pub fn create_profile_as_dashboard(
        &self,
        name: &str,
        client_id: &str,
        client_secret: &str,
        scopes: &[&str],
        actions: &[&str],
    ) -> Result<String, String> {
        let input = state::ProfileInput {
            connector_key: Some(CONSTANT_CONTACT.into()),
            name: Some(name.into()),
            authentication_config_key: Some("oauth2".into()),
            credentials: vec![
                ("client_id".into(), client_id.into()),
                ("client_secret".into(), client_secret.into()),
            ],
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            actions: actions.iter().map(|s| s.to_string()).collect(),
        };
        self.service
            .state()
            .create_profile(input, "dashboard")
            .map_err(|e| dashboard::refusal_text(&e))
    }

    /// What a user filling the real "+ Connector Profile" form does (no
    /// Name: the profile is named after its connector, as StackOne does),
    /// without HTTP. Returns the new id, or the form's error text.
    pub fn fill_dashboard_form(
        &self,
        client_id: &str,
        client_secret: &str,
        scopes: &[&str],
        actions: &[&str],
    ) -> Result<String, String> {
        self.create_profile_as_dashboard(
            state::connector(CONSTANT_CONTACT).map_or("Constant Contact", |c| c.label),
            client_id,
            client_secret,
            scopes,
            actions,
        )
    }

    /// What a user saving a profile page's edit form does: the values given
    /// replace the stored ones; `client_secret: None` (left empty) keeps it.
    pub fn edit_profile_as_dashboard(
        &self,
        id: &str,
        client_id: &str,
        client_secret: Option<&str>,
        scopes: &[&str],
        actions: &[&str],
    ) -> Result<(), String> {
        let mut credentials = vec![("client_id".to_string(), client_id.to_string())];
        if let Some(secret) = client_secret {
            credentials.push(("client_secret".into(), secret.into()));
        }
        self.service
            .state()
            .update_profile(
                id,
                None,
                credentials,
                Some(scopes.iter().map(|s| s.to_string()).collect()),
                Some(actions.iter().map(|s| s.to_string()).collect()),
            )
            .map_err(|e| dashboard::refusal_text(&e))
    }

    /// Deletes a profile as a dashboard user would; false if it was not there.
    pub fn delete_profile_as_dashboard(&self, id: &str) -> bool {
        self.service.state().delete_profile(id)
    }

    /// Every linked account, oldest first.
    pub fn linked_accounts(&self) -> Vec<LinkedAccount> {
        self.service.state().accounts.clone()
    }

    /// Adds a linked account as if a customer had linked it (e.g. one in
    /// `error` or `expired`); returns its id.
    pub fn add_linked_account(
        &self,
        provider: &str,
        status: &str,
        owner_id: &str,
        owner_name: &str,
    ) -> String {
        self.service
            .state()
            .add_account(provider, status, owner_id, owner_name, None)
    }

    /// Enables or disables a profile, as the dashboard's toggle does (a
    /// disabled profile is hidden from the Hub: docs/vendors.md §5).
    pub fn set_profile_active(&self, id: &str, active: bool) -> bool {
        let mut state = self.service.state();
        match state.profiles.iter_mut().find(|p| p.id == id) {
            Some(p) => {
                p.active = active;
                true
            }
            None => false,
        }
    }

    /// The `latest_connection_attempt` of session `id` (null before Connect).
    pub fn connection_attempt(&self, id: u64) -> Option<serde_json::Value> {
        self.service
            .state()
            .sessions
            .iter()
            .find(|s| s.id == id)
            .and_then(|s| s.attempt.clone())
    }

    /// Switches the profile write API while running.
    pub fn set_profile_write_api(&self, mode: ProfileWriteApi) {
        lock(&self.service.options).profile_write_api = mode;
    }

    /// Queues a fault (see [`faults`] for the usual ones).
    pub fn inject(&self, fault: Fault) {
        self.server.inject(fault);
    }

    pub fn clear_faults(&self) {
        self.server.clear_faults();
    }
}

/// Ready-made faults shaped like StackOne's answers.
pub mod faults {
    use super::*;

    /// 429 with `Retry-After: 1` and StackOne's error body, `times` times.
    pub fn rate_limited(method: Option<&str>, path_prefix: &str, times: usize) -> Fault {
        Fault::new(
            method,
            path_prefix,
            FaultAction::Respond(
                api::error(429, "Too Many Requests", Some("RATE_LIMIT_EXCEEDED"))
                    .with_header("retry-after", "1"),
            ),
            times,
        )
    }

    /// 500 without running the handler.
    pub fn server_error(method: Option<&str>, path_prefix: &str, times: usize) -> Fault {
        Fault::new(
            method,
            path_prefix,
            FaultAction::Respond(internal_error()),
            times,
        )
    }

    /// 500 AFTER the handler ran: the change happened, the caller was told
    /// it failed (the "500 after create" case).
    pub fn server_error_after_handling(
        method: Option<&str>,
        path_prefix: &str,
        times: usize,
    ) -> Fault {
        Fault::new(
            method,
            path_prefix,
            FaultAction::RespondAfterHandling(internal_error()),
            times,
        )
    }

    /// 503 with `Retry-After: 1`, handler not run.
    pub fn unavailable(method: Option<&str>, path_prefix: &str, times: usize) -> Fault {
        Fault::new(
            method,
            path_prefix,
            FaultAction::Respond(
                api::error(503, "Service Unavailable", None).with_header("retry-after", "1"),
            ),
            times,
        )
    }

    /// A slow answer: waits `delay`, then handles normally.
    pub fn slow(method: Option<&str>, path_prefix: &str, delay: Duration, times: usize) -> Fault {
        Fault::new(method, path_prefix, FaultAction::Delay(delay), times)
    }

    fn internal_error() -> Response {
        api::error(500, "Internal server error", None)
    }
}
