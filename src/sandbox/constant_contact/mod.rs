//! Strict stand-in of Constant Contact: the OAuth authorization server
//! (`/oauth2/default/v1/…`), the V3 API (`/v3/…`) and the developer portal
//! (`/portal/`), on one loopback port.
//!
//! Strict on purpose: it refuses what the real service refuses (and, where
//! docs/vendors.md §5 leaves a rule open, takes the safest reading), so a
//! client bug shows up here rather than against a real account.
//!
//! - [`state`]: apps, the account, codes and tokens, the test clock;
//! - [`apps`]: registration and the portal's rules;
//! - [`authorize`], [`token`]: the two OAuth endpoints;
//! - [`api`]: `GET /v3/account/summary`;
//! - [`portal`], [`html`]: the portal pages and shared page layout.

pub mod api;
pub mod apps;
pub mod authorize;
pub mod html;
mod params;
pub mod portal;
pub mod state;
pub mod token;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use super::server::{Fault, FaultAction, HttpServer, Request, RequestLog, Response, Service};

pub use apps::{AppRegistration, RegisteredApp};
pub use state::{
    Account, App, ErrorShape, IssuedRefreshToken, OAuthFlow, OktaRotation, RefreshKind,
    RefreshRedemption, STACKONE_REDIRECT_URI,
};

const AUTHORIZE_PATH: &str = "/oauth2/default/v1/authorize";
const TOKEN_PATH: &str = "/oauth2/default/v1/token";
const REVOKE_PATH: &str = "/oauth2/default/v1/revoke";

/// How to start the stand-in.
#[derive(Debug, Clone, Default)]
pub struct CcOptions {
    /// The account that "signs in"; default: Sandbox Bakery.
    pub account: Option<Account>,
}

pub use crate::sandbox::server::RecordedResponse;

/// The request handler: routes to the modules, records every response.
struct CcService {
    state: Arc<Mutex<state::State>>,
    responses: Arc<Mutex<Vec<RecordedResponse>>>,
    /// `http://127.0.0.1:<port>/oauth2/default`, known once bound.
    issuer: OnceLock<String>,
    /// Redirect targets served by another stand-in (see
    /// [`CcStandIn::forward_redirects`]).
    forwards: Arc<Mutex<Vec<(String, String)>>>,
}

impl CcService {
    fn route(&self, req: &Request) -> Response {
        let mut state = lock(&self.state);
        let issuer = self.issuer.get().map_or("", String::as_str);
        let path = req.path.as_str();
        if path == AUTHORIZE_PATH {
            authorize::authorize(&mut state, req)
        } else if path == authorize::SIGN_IN_PATH {
            authorize::sign_in(&mut state, req)
        } else if path == authorize::DECISION_PATH {
            authorize::decide(&mut state, req)
        } else if path == TOKEN_PATH {
            token::token(&mut state, req, issuer)
        } else if path == REVOKE_PATH {
            token::revoke(&mut state, req)
        } else if let Some(rest) = path.strip_prefix("/v3") {
            api::handle(&state, req, rest)
        } else if path == "/portal" {
            Response::new(301).with_header("location", "/portal/")
        } else if let Some(rest) = path.strip_prefix("/portal/") {
            portal::handle(&mut state, req, rest)
        } else if path == "/" {
            Response::new(302).with_header("location", "/portal/")
        } else {
            Response::text(404, "not found")
        }
    }
}

impl Service for CcService {
    fn handle(&self, req: &Request) -> Response {
        let mut response = self.route(req);
        if (300..400).contains(&response.status) {
            forward(&lock(&self.forwards), &mut response);
        }
        lock(&self.responses).push(RecordedResponse {
            method: req.method.clone(),
            path: req.path.clone(),
            status: response.status,
            headers: response.headers.clone(),
            body: response.body.clone(),
        });
        response
    }
}

/// A redirect to a forwarded target goes to its stand-in instead, query kept.
fn forward(forwards: &[(String, String)], response: &mut Response) {
    for (name, value) in response.headers.iter_mut() {
        if !name.eq_ignore_ascii_case("location") {
            continue;
        }
        for (from, to) in forwards {
            if let Some(rest) = value.strip_prefix(from.as_str())
                && (rest.is_empty() || rest.starts_with('?'))
            {
                *value = format!("{to}{rest}");
                break;
            }
        }
    }
}

/// The running stand-in, and the handles tests and `demo` use to set it up
/// and look inside.
pub struct CcStandIn {
    server: HttpServer,
    state: Arc<Mutex<state::State>>,
    responses: Arc<Mutex<Vec<RecordedResponse>>>,
    forwards: Arc<Mutex<Vec<(String, String)>>>,
}

impl CcStandIn {
    pub fn start(rt: &tokio::runtime::Handle, options: CcOptions) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(state::State {
            account: options.account.unwrap_or_default(),
            ..Default::default()
        }));
        let responses: Arc<Mutex<Vec<RecordedResponse>>> = Arc::default();
        let forwards: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let service = Arc::new(CcService {
            state: state.clone(),
            responses: responses.clone(),
            issuer: OnceLock::new(),
            forwards: forwards.clone(),
        });
        let server = HttpServer::start(rt, "constant_contact", service.clone())?;
        let _ = service
            .issuer
            .set(server.url("/oauth2/default").as_str().to_string());
        Ok(CcStandIn {
            server,
            state,
            responses,
            forwards,
        })
    }

    /// Sends the browser's redirects to `from` (a registered redirect URI,
    /// e.g. StackOne's callback) to `to` instead, query kept: the sandbox's
    /// StackOne stand-in serves that callback, so a browser never leaves the
    /// machine for the real host with a stand-in code.
    pub fn forward_redirects(&self, from: &str, to: url::Url) {
        lock(&self.forwards).push((from.to_string(), to.as_str().to_string()));
    }

    /// The HTTP server behind the stand-in (latency, connection count).
    pub fn server(&self) -> &crate::sandbox::server::HttpServer {
        &self.server
    }

    pub fn authorize_url(&self) -> url::Url {
        self.server.url(AUTHORIZE_PATH)
    }
    pub fn token_url(&self) -> url::Url {
        self.server.url(TOKEN_PATH)
    }
    pub fn revoke_url(&self) -> url::Url {
        self.server.url(REVOKE_PATH)
    }
    pub fn api_url(&self) -> url::Url {
        self.server.url("/v3")
    }
    pub fn portal_url(&self) -> url::Url {
        self.server.url("/portal/")
    }
    /// Every request received.
    pub fn log(&self) -> &Arc<RequestLog> {
        self.server.log()
    }
    /// Every response the handler produced, in order.
    pub fn responses(&self) -> Vec<RecordedResponse> {
        lock(&self.responses).clone()
    }

    pub fn inject(&self, fault: Fault) {
        self.server.inject(fault);
    }
    pub fn clear_faults(&self) {
        self.server.clear_faults();
    }

    /// Registers an app as the portal would (same name and redirect URI
    /// rules), with a client secret when its flow has one.
    pub fn try_register_app(&self, registration: AppRegistration) -> Result<RegisteredApp, String> {
        apps::register(&mut self.state(), registration, true)
    }

    /// [`CcStandIn::try_register_app`] for set-ups known to be valid.
    ///
    /// # Panics
    /// If the portal would refuse the registration.
    pub fn register_app(&self, registration: AppRegistration) -> RegisteredApp {
        self.try_register_app(registration)
            .unwrap_or_else(|e| panic!("the sandbox portal refuses this app: {e}"))
    }

    pub fn apps(&self) -> Vec<App> {
        self.state().apps.clone()
    }

    pub fn app(&self, client_id: &str) -> Option<App> {
        self.state().app(client_id).cloned()
    }

    /// "Generate Client Secret": returns the new secret; the old one stops
    /// working at once (tokens already issued stay valid).
    ///
    /// # Panics
    /// If no app has this client id, or its flow has no secret.
    pub fn generate_client_secret(&self, client_id: &str) -> String {
        let mut state = self.state();
        let flow = state
            .app(client_id)
            .unwrap_or_else(|| panic!("no sandbox app {client_id}"))
            .flow;
        assert!(
            flow.has_client_secret(),
            "{} apps have no client secret",
            flow.label()
        );
        state
            .generate_client_secret(client_id)
            .expect("the app exists")
    }

    /// Replaces the app's redirect URIs (portal rules apply).
    pub fn set_redirect_uris<S: AsRef<str>>(
        &self,
        client_id: &str,
        uris: &[S],
    ) -> Result<(), String> {
        let uris = apps::validate_redirect_uris(uris)?;
        let mut state = self.state();
        let app = state
            .app_mut(client_id)
            .ok_or_else(|| format!("no sandbox app {client_id}"))?;
        app.redirect_uris = uris;
        Ok(())
    }

    /// Restricts (or widens) the scopes the app may ask for, as the portal
    /// can; a request for any other is `invalid_scope` by redirect.
    pub fn set_allowed_scopes<S: AsRef<str>>(
        &self,
        client_id: &str,
        scopes: &[S],
    ) -> Result<(), String> {
        let scopes = apps::validate_allowed_scopes(scopes)?;
        let mut state = self.state();
        let app = state
            .app_mut(client_id)
            .ok_or_else(|| format!("no sandbox app {client_id}"))?;
        app.allowed_scopes = scopes;
        Ok(())
    }

    /// Sets the app's Client Secret to `secret` (tests of how clients
    /// encode one with reserved characters; the old one stops working).
    ///
    /// # Panics
    /// If no app has this client id, or its flow has no secret.
    pub fn set_client_secret(&self, client_id: &str, secret: &str) {
        let mut state = self.state();
        let app = state
            .app_mut(client_id)
            .unwrap_or_else(|| panic!("no sandbox app {client_id}"));
        assert!(
            app.flow.has_client_secret(),
            "this app has no client secret"
        );
        app.client_secret = Some(secret.to_string());
    }

    /// Answers every token request with Okta's 429 (and
    /// `X-Rate-Limit-Reset`) for `period` of real time, rounded up to whole
    /// seconds as the header is.
    pub fn rate_limit_token_endpoint(&self, period: Duration) {
        let until = SystemTime::now() + period;
        let secs = state::epoch_seconds(until) + 1;
        self.state().token_rate_limited_until =
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
    }

    /// Spent refresh tokens presented after their grace period (apps with
    /// Okta's rotation options), once per presentation.
    pub fn refresh_token_reuses(&self) -> Vec<String> {
        self.state().refresh_reuses.clone()
    }

    /// Turns Okta's rotation options (grace period, reuse detection) on or
    /// off for the app's rotating refresh tokens.
    pub fn set_okta_rotation(
        &self,
        client_id: &str,
        rotation: Option<OktaRotation>,
    ) -> Result<(), String> {
        let mut state = self.state();
        let app = state
            .app_mut(client_id)
            .ok_or_else(|| format!("no sandbox app {client_id}"))?;
        app.okta_rotation = rotation;
        Ok(())
    }

    /// Chooses the shape of the app's `invalid_client` answers.
    pub fn set_error_shape(&self, client_id: &str, shape: ErrorShape) -> Result<(), String> {
        let mut state = self.state();
        let app = state
            .app_mut(client_id)
            .ok_or_else(|| format!("no sandbox app {client_id}"))?;
        app.error_shape = shape;
        Ok(())
    }

    /// Changes the refresh token type (the real portal fixes it at
    /// creation; tests may want to switch).
    pub fn set_refresh_kind(&self, client_id: &str, kind: RefreshKind) -> Result<(), String> {
        let mut state = self.state();
        let app = state
            .app_mut(client_id)
            .ok_or_else(|| format!("no sandbox app {client_id}"))?;
        app.refresh_kind = kind;
        Ok(())
    }

    /// Moves the stand-in's clock forward: codes, consents and tokens
    /// expire by it.
    pub fn advance_clock(&self, by: Duration) {
        self.state().clock_offset += by;
    }

    /// The stand-in's current time.
    pub fn now(&self) -> SystemTime {
        self.state().now()
    }

    pub fn account(&self) -> Account {
        self.state().account.clone()
    }

    /// Every refresh token issued, oldest first.
    pub fn issued_refresh_tokens(&self) -> Vec<IssuedRefreshToken> {
        self.state().refresh_tokens.clone()
    }

    /// Every refresh-token grant request from an authenticated client, in
    /// order, accepted or not.
    pub fn refresh_redemptions(&self) -> Vec<RefreshRedemption> {
        self.state().refresh_redemptions.clone()
    }

    /// Refresh tokens presented more than once (each listed once): for a
    /// rotating app, a client that did this lost a race or forgot to save
    /// the new token.
    pub fn refresh_tokens_redeemed_more_than_once(&self) -> Vec<String> {
        let redemptions = self.refresh_redemptions();
        let mut repeated: Vec<String> = Vec::new();
        for (i, r) in redemptions.iter().enumerate() {
            let seen_before = redemptions[..i].iter().any(|e| e.token == r.token);
            if seen_before && !repeated.contains(&r.token) {
                repeated.push(r.token.clone());
            }
        }
        repeated
    }

    /// Kills every access and refresh token (as when the user disconnects
    /// the app or the account is locked).
    pub fn revoke_all_tokens(&self) {
        self.state().revoke_all_tokens();
    }

    /// A fault answering the next `times` API calls with CC's per-second
    /// throttle: 429 `[{"error_key":"throttled",…}]`, no `Retry-After`.
    pub fn throttle_fault(times: usize) -> Fault {
        Self::too_many_requests(
            times,
            "throttled",
            "Too many requests: the limit is 4 per second per API key. Wait and try again.",
        )
    }

    /// A fault answering the next `times` API calls with the daily quota
    /// error: 429 `[{"error_key":"quota_exceeded",…}]`.
    pub fn quota_exceeded_fault(times: usize) -> Fault {
        Self::too_many_requests(
            times,
            "quota_exceeded",
            "The daily quota of 10,000 requests for this API key is used up; it resets at 00:00 UTC.",
        )
    }

    fn too_many_requests(times: usize, key: &str, message: &str) -> Fault {
        Self::too_many_requests_on("/v3/", times, key, message)
    }

    /// [`CcStandIn::throttle_fault`] on the token endpoint: CC's limits are
    /// per API key, so its authorization server answers 429 with the same
    /// `error_key` body (docs/vendors.md §2, §5).
    pub fn token_throttle_fault(times: usize) -> Fault {
        Self::too_many_requests_on(
            TOKEN_PATH,
            times,
            "throttled",
            "Too many requests: the limit is 4 per second per API key. Wait and try again.",
        )
    }

    /// [`CcStandIn::quota_exceeded_fault`] on the token endpoint.
    pub fn token_quota_exceeded_fault(times: usize) -> Fault {
        Self::too_many_requests_on(
            TOKEN_PATH,
            times,
            "quota_exceeded",
            "The daily quota of 10,000 requests for this API key is used up; it resets at 00:00 UTC.",
        )
    }

    fn too_many_requests_on(path: &str, times: usize, key: &str, message: &str) -> Fault {
        Fault::new(
            None,
            path,
            FaultAction::Respond(api::api_error(429, key, message)),
            times,
        )
    }

    fn state(&self) -> MutexGuard<'_, state::State> {
        lock(&self.state)
    }
}

/// A panicking handler must not wedge the stand-in for every later test.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
