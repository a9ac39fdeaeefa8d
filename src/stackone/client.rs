//! The StackOne HTTP client: Basic auth, bounded retries, error mapping.
//!
//! Retry rules (why: a retried write must never make a second profile):
//! - 429 and 503 are retried for every method, honouring `Retry-After`
//!   (both mean the request was not processed);
//! - other 5xx, 408 and connection failures are retried only for idempotent
//!   calls (GET, DELETE, and PATCH — whose bodies set absolute values); a
//!   failed `POST` is returned to the caller, which looks before it retries
//!   (see `profile::ensure_connector_profile`);
//! - other 4xx are final.
//!
//! Messages name the operation, the HTTP status and StackOne's own message,
//! with the API key and any secret sent in the body redacted from it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rand::Rng;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use url::Url;
use zeroize::Zeroizing;

use super::model::{
    ConnectSession, ConnectSessionRequest, ConnectSessionResponse, ConnectSessionState,
    ConnectorProfile, DEFAULT_SESSION_SECONDS, LinkedAccount, NewConnectorProfile, ProfileDetails,
    ProfilePatch,
};
use crate::error::Error;

/// How hard to retry.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// First backoff; doubles per attempt (plus up to 20 % jitter).
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the call fails.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.max_delay);
        let jitter = rand::thread_rng().gen_range(0.0..0.2);
        capped.mul_f64(1.0 + jitter)
    }
}

/// A failed StackOne call: the user-facing [`Error`], plus what callers
/// need to decide what to do next (the HTTP status, `Retry-After`).
#[derive(Debug)]
pub struct StackOneError {
    status: Option<u16>,
    retry_after: Option<Duration>,
    error: Error,
}

impl StackOneError {
    /// The HTTP status; `None` when no answer arrived.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// 404, 405 or 501 on a write: this StackOne does not offer the
    /// operation through its API (the dashboard path's trigger).
    pub fn is_not_offered(&self) -> bool {
        matches!(self.status, Some(404 | 405 | 501))
    }

    /// A create or update answered 400, 404, 405, 409, 422 or 501: StackOne
    /// documents no write endpoint for profiles (docs/vendors.md §4), so any
    /// refusal other than 401/403/429/5xx means "not this way" (docs/contract.md:
    /// `auto` then switches to the dashboard).
    pub fn is_write_refused(&self) -> bool {
        matches!(self.status, Some(400 | 404 | 405 | 409 | 422 | 501))
    }

    /// Whether the request may have been applied although it failed: no
    /// answer, a timeout, or a server error.
    pub fn is_uncertain(&self) -> bool {
        match self.status {
            None => true,
            Some(s) => s == 408 || (s >= 500 && s != 501),
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    pub fn error(&self) -> &Error {
        &self.error
    }

    pub fn into_error(self) -> Error {
        self.error
    }
}

impl std::fmt::Display for StackOneError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.error.message())
    }
}

impl From<StackOneError> for Error {
    fn from(e: StackOneError) -> Self {
        e.error
    }
}

type CallResult<T> = std::result::Result<T, StackOneError>;

/// One API call, described.
struct Call<'a> {
    method: Method,
    path: String,
    query: Vec<(&'static str, String)>,
    /// JSON body; zeroized on drop (it may hold the client secret).
    body: Option<Zeroizing<Vec<u8>>>,
    /// "list connector profiles", for messages.
    what: &'a str,
    /// Secrets in the body, redacted from any message built from the answer.
    redact: Vec<&'a SecretString>,
}

impl<'a> Call<'a> {
    fn new(method: Method, path: impl Into<String>, what: &'a str) -> Self {
        Call {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            what,
            redact: Vec::new(),
        }
    }

    fn json(mut self, body: &Value) -> Self {
        self.body = Some(Zeroizing::new(body.to_string().into_bytes()));
        self
    }

    fn idempotent(&self) -> bool {
        self.method != Method::POST
    }
}

/// Pages of a listing are fetched until this many, then the listing fails:
/// a server that never stops paging must not hang ccsetup.
const MAX_PAGES: usize = 1000;

/// The StackOne API, authenticated with one API key.
pub struct StackOneClient {
    http: reqwest::Client,
    base: Url,
    api_key: SecretString,
    retry: RetryPolicy,
    /// Set once `/connector_profiles` answered 404: use `/auth_configs`.
    legacy_listing: AtomicBool,
}

impl std::fmt::Debug for StackOneClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackOneClient")
            .field("base", &self.base.as_str())
            .field("api_key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl StackOneClient {
    /// `http` must come from [`crate::http::client`].
    pub fn new(http: reqwest::Client, base: Url, api_key: SecretString) -> Self {
        StackOneClient {
            http,
            base,
            api_key,
            retry: RetryPolicy::default(),
            legacy_listing: AtomicBool::new(false),
        }
    }

    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Every profile of `connector_key`, across all pages. Uses
    /// `/connector_profiles`, falling back to `/auth_configs` when that
    /// path does not exist (a 404 here never means "use the dashboard").
    pub async fn list_profiles(&self, connector_key: &str) -> CallResult<Vec<ConnectorProfile>> {
        if !self.legacy_listing.load(Ordering::Relaxed) {
            match self.list_all("/connector_profiles", connector_key).await {
                Err(e) if e.status == Some(404) => {
                    tracing::info!("/connector_profiles is not found; using /auth_configs");
                    self.legacy_listing.store(true, Ordering::Relaxed);
                }
                other => return other,
            }
        }
        self.list_all("/auth_configs", connector_key).await
    }

    /// Follows pages: the first request names no page (the server's first,
    /// whether it counts from 0 or 1). When its answer gives the total and
    /// the page size and is a full page, the remaining pages are asked for at
    /// once (each is a round trip, and none depends on another); otherwise one
    /// after another, `page + 1`. Complete only when a page is empty, brings
    /// no new id, or the total is reached — never because a page was short: a
    /// server may cap the page size silently (docs/contract.md "Paging").
    async fn list_all(&self, path: &str, connector_key: &str) -> CallResult<Vec<ConnectorProfile>> {
        let mut out: Vec<ConnectorProfile> = Vec::new();
        let mut next_page: Option<u64> = None;
        for _ in 0..MAX_PAGES {
            let page = self.profiles_page(path, connector_key, next_page).await?;
            let count = page.items.len();
            let first = next_page.is_none();
            let added = merge_profiles(&mut out, page.items);
            let current = page.page.unwrap_or(next_page.unwrap_or(1));
            let done =
                count == 0 || added == 0 || page.total.is_some_and(|t| out.len() as u64 >= t);
            if done {
                return Ok(out);
            }
            if first
                && let (Some(total), Some(size)) = (page.total, page.page_size)
                && size > 0
                && count as u64 == size
            {
                let last = current + total.div_ceil(size) - 1;
                if last - current >= MAX_PAGES as u64 {
                    break;
                }
                let rest = futures_util::future::try_join_all(
                    (current + 1..=last).map(|n| self.profiles_page(path, connector_key, Some(n))),
                )
                .await?;
                for page in rest {
                    merge_profiles(&mut out, page.items);
                }
                if out.len() as u64 >= total {
                    return Ok(out);
                }
                // Fewer than the total said: go on one page at a time.
                next_page = Some(last + 1);
                continue;
            }
            next_page = Some(current + 1);
        }
        Err(self.bad_answer(
            "list connector profiles",
            &format!("more than {MAX_PAGES} pages"),
        ))
    }

    /// One page of `path` (`None`: the server's first).
    async fn profiles_page(
        &self,
        path: &str,
        connector_key: &str,
        page: Option<u64>,
    ) -> CallResult<ProfilesPage> {
        let what = "list connector profiles";
        let mut call = Call::new(Method::GET, path, what);
        call.query
            .push(("connector_key", connector_key.to_string()));
        if let Some(page) = page {
            call.query.push(("page", page.to_string()));
        }
        let value = self.call_json(call).await?;
        let data = value
            .get("data")
            .cloned()
            .ok_or_else(|| self.bad_answer(what, "no `data` list"))?;
        let items: Vec<ConnectorProfile> = serde_json::from_value(data)
            .map_err(|e| self.bad_answer(what, &format!("unreadable items ({e})")))?;
        let number = |k: &str| {
            value.get(k).and_then(|v| {
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
        };
        Ok(ProfilesPage {
            items,
            total: number("total"),
            page_size: number("page_size"),
            page: number("page"),
        })
    }

    /// `POST /connector_profiles`. Not retried on server errors: the
    /// caller must look before it tries again.
    pub async fn create_profile(&self, new: &NewConnectorProfile) -> CallResult<ProfileDetails> {
        let what = "create the connector profile";
        let mut call = Call::new(Method::POST, "/connector_profiles", what).json(&new.to_json());
        call.redact.push(&new.client_secret);
        self.call_parsed(call).await
    }

    /// `GET /connector_profiles/{id}`.
    pub async fn get_profile(&self, id: &str) -> CallResult<ProfileDetails> {
        let call = Call::new(
            Method::GET,
            format!("/connector_profiles/{}", path_segment(id)),
            "read the connector profile",
        );
        self.call_parsed(call).await
    }

    /// `PATCH /connector_profiles/{id}` with only the fields in `patch`.
    pub async fn update_profile(
        &self,
        id: &str,
        patch: &ProfilePatch,
    ) -> CallResult<ProfileDetails> {
        let mut call = Call::new(
            Method::PATCH,
            format!("/connector_profiles/{}", path_segment(id)),
            "update the connector profile",
        )
        .json(&patch.to_json());
        if let Some(secret) = &patch.client_secret {
            call.redact.push(secret);
        }
        self.call_parsed(call).await
    }

    /// `DELETE /connector_profiles/{id}`.
    pub async fn delete_profile(&self, id: &str) -> CallResult<()> {
        let call = Call::new(
            Method::DELETE,
            format!("/connector_profiles/{}", path_segment(id)),
            "delete the connector profile",
        );
        self.send(call).await.map(|_| ())
    }

    /// `GET /connect_sessions/{id}`: the latest connection attempt.
    pub async fn get_connect_session(&self, id: &str) -> CallResult<ConnectSessionState> {
        let call = Call::new(
            Method::GET,
            format!("/connect_sessions/{}", path_segment(id)),
            "read the connect session",
        );
        self.call_parsed(call).await
    }

    /// `GET /accounts?providers=…`, every page. StackOne's SDK says the
    /// answer is a bare array, a guide shows `{data:[…]}` (docs/vendors.md §5):
    /// both are read.
    pub async fn list_accounts(&self, provider: &str) -> CallResult<Vec<LinkedAccount>> {
        self.list_accounts_of(provider, None).await
    }

    /// [`StackOneClient::list_accounts`], only `owner`'s when given
    /// (`origin_owner_id`). Pages are asked for with an explicit `page_size`
    /// until one is empty, brings no new id, or the `{data}` answer's total
    /// is reached — never because a page was short: a server may cap
    /// `page_size` silently (docs/contract.md "Paging").
    pub async fn list_accounts_of(
        &self,
        provider: &str,
        owner: Option<&str>,
    ) -> CallResult<Vec<LinkedAccount>> {
        const PAGE_SIZE: usize = 100;
        let what = "list linked accounts";
        let mut out: Vec<LinkedAccount> = Vec::new();
        for page in 1..=MAX_PAGES {
            let mut call = Call::new(Method::GET, "/accounts", what);
            if let Some(owner) = owner {
                call.query.push(("origin_owner_id", owner.to_string()));
            }
            call.query.push(("providers", provider.to_string()));
            call.query.push(("page", page.to_string()));
            call.query.push(("page_size", PAGE_SIZE.to_string()));
            let value = self.call_json(call).await?;
            let mut total = None;
            let items = match value {
                Value::Array(items) => items,
                Value::Object(mut map) => {
                    total = map.get("total").and_then(Value::as_u64);
                    match map.remove("data") {
                        Some(Value::Array(items)) => items,
                        _ => return Err(self.bad_answer(what, "no `data` list")),
                    }
                }
                _ => return Err(self.bad_answer(what, "neither a list nor an object")),
            };
            let count = items.len();
            let accounts: Vec<LinkedAccount> = serde_json::from_value(Value::Array(items))
                .map_err(|e| self.bad_answer(what, &format!("unreadable items ({e})")))?;
            let mut added = 0;
            for account in accounts {
                if !out.iter().any(|a| a.id == account.id) {
                    out.push(account);
                    added += 1;
                }
            }
            // An empty page ends it; so does a page of nothing new (a server
            // that ignores `page` would otherwise repeat itself forever), and
            // the total when the answer gives one.
            if count == 0 || added == 0 || total.is_some_and(|t| out.len() as u64 >= t) {
                return Ok(out);
            }
        }
        Err(self.bad_answer(what, &format!("more than {MAX_PAGES} pages")))
    }

    /// `POST /connect_sessions`. `expires_at` is StackOne's when given,
    /// else `created_at` (else now) + the requested or default lifetime.
    /// Where StackOne refuses `connector_profile_id` (400/422), the request
    /// is sent once more with `integration_id`, its older name.
    pub async fn create_connect_session(
        &self,
        request: &ConnectSessionRequest,
    ) -> CallResult<ConnectSession> {
        let what = "create a connect session";
        let call = Call::new(Method::POST, "/connect_sessions", what).json(&request.to_json());
        let resp: ConnectSessionResponse = match self.call_parsed(call).await {
            Err(e)
                if matches!(e.status(), Some(400 | 422))
                    && request.connector_profile_id.is_some()
                    && !request.legacy_profile_field =>
            {
                tracing::info!(
                    "StackOne refused connector_profile_id ({e}); retrying with integration_id"
                );
                let legacy = ConnectSessionRequest {
                    legacy_profile_field: true,
                    ..request.clone()
                };
                let call =
                    Call::new(Method::POST, "/connect_sessions", what).json(&legacy.to_json());
                self.call_parsed(call).await?
            }
            other => other?,
        };
        let auth_link_url = resp
            .auth_link_url
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| self.bad_answer(what, "no auth_link_url"))?;
        let lifetime = request.expires_in.unwrap_or(DEFAULT_SESSION_SECONDS);
        let expires_at = resp
            .expires_at
            .as_deref()
            .and_then(parse_rfc3339)
            .or_else(|| {
                let created = resp.created_at.as_deref().and_then(parse_rfc3339)?;
                Some(created + time::Duration::seconds(lifetime as i64))
            })
            .unwrap_or_else(|| {
                time::OffsetDateTime::now_utc() + time::Duration::seconds(lifetime as i64)
            });
        Ok(ConnectSession {
            id: resp.id,
            auth_link_url,
            expires_at: format_rfc3339(expires_at),
            created_at: resp.created_at,
            provider: resp.provider,
            connector_profile_id: resp.connector_profile_id.or(resp.integration_id),
            token: SecretString::from(resp.token.unwrap_or_default()),
        })
    }

    // ------------------------------------------------------------ plumbing

    async fn call_parsed<T: serde::de::DeserializeOwned>(&self, call: Call<'_>) -> CallResult<T> {
        let what = call.what;
        let bytes = self.send(call).await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| self.bad_answer(what, &format!("unreadable answer ({e})")))
    }

    async fn call_json(&self, call: Call<'_>) -> CallResult<Value> {
        self.call_parsed(call).await
    }

    fn bad_answer(&self, what: &str, detail: &str) -> StackOneError {
        StackOneError {
            status: None,
            retry_after: None,
            error: Error::remote(format!(
                "StackOne gave an unexpected answer when asked to {what}: {detail}"
            ))
            .with_hint("check CCSETUP_STACKONE_API_URL points at the StackOne API"),
        }
    }

    /// Sends `call` with retries; the body of a 2xx answer, or the error.
    async fn send(&self, call: Call<'_>) -> CallResult<Vec<u8>> {
        let mut url = crate::endpoints::join(&self.base, &call.path);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter());
        }
        // Echoes of the key or of a secret in the body are redacted from
        // every message built from an answer (crate::text), before clipping.
        crate::text::remember_secret(self.api_key.expose_secret());
        for secret in &call.redact {
            crate::text::remember_secret(secret.expose_secret());
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut rb = self
                .http
                .request(call.method.clone(), url.clone())
                .basic_auth(self.api_key.expose_secret(), Some(""))
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(body) = &call.body {
                rb = rb
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_vec());
            }
            tracing::debug!(method = %call.method, path = %call.path, attempt, "StackOne request");
            let last = attempt >= self.retry.max_attempts;
            let resp = match crate::http::send(rb).await {
                Ok(resp) => resp,
                Err(e) => {
                    tracing::debug!(path = %call.path, "StackOne request failed: {}", describe_transport(&e));
                    if call.idempotent() && !last {
                        tokio::time::sleep(self.retry.backoff(attempt)).await;
                        continue;
                    }
                    return Err(self.transport_error(&call, e, attempt));
                }
            };
            let status = resp.status().as_u16();
            tracing::debug!(path = %call.path, status, "StackOne answer");
            if resp.status().is_success() {
                return match crate::http::read_body(resp, crate::http::MAX_BODY_BYTES).await {
                    Ok(body) => Ok(body),
                    Err(crate::http::BodyError::Cut(e)) => {
                        Err(self.transport_error(&call, e, attempt))
                    }
                    Err(too_large) => Err(self.bad_answer(call.what, &too_large.to_string())),
                };
            }
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let retryable = matches!(status, 429 | 503)
                || (call.idempotent() && (status == 408 || (status >= 500 && status != 501)));
            if retryable && !last {
                let wait = retry_after.unwrap_or_else(|| self.retry.backoff(attempt));
                if wait <= self.retry.max_retry_after {
                    tracing::info!(
                        status,
                        "StackOne asked to retry in {:.1} s",
                        wait.as_secs_f64()
                    );
                    drop(resp);
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            // An unreadable or oversized error body: the status alone.
            let body = crate::http::read_body(resp, crate::http::MAX_BODY_BYTES)
                .await
                .unwrap_or_default();
            let text = String::from_utf8_lossy(&body);
            return Err(self.status_error(&call, status, &text, retry_after, attempt));
        }
    }

    fn transport_error(&self, call: &Call<'_>, e: reqwest::Error, attempts: u32) -> StackOneError {
        let host = self.base.host_str().unwrap_or("StackOne").to_string();
        let how = describe_transport(&e);
        let tries = if attempts > 1 {
            format!(" after {attempts} attempts")
        } else {
            String::new()
        };
        StackOneError {
            status: None,
            retry_after: None,
            error: Error::remote(format!(
                "could not {} at StackOne ({host}): {how}{tries}",
                call.what
            ))
            .with_hint("check your network connection, or CCSETUP_STACKONE_API_URL if you set it")
            .with_source(e.without_url()),
        }
    }

    fn status_error(
        &self,
        call: &Call<'_>,
        status: u16,
        body: &str,
        retry_after: Option<Duration>,
        attempts: u32,
    ) -> StackOneError {
        // The key and the body's secrets were remembered in `send`:
        // server_messages' sanitizing redacts them before it clips.
        let messages: Vec<String> = server_messages(body);
        let detail = match messages.as_slice() {
            [] => String::new(),
            [one] => format!(": {one}"),
            many => format!(":\n  - {}", many.join("\n  - ")),
        };
        let what = call.what;
        let tries = if attempts > 1 {
            format!(" after {attempts} attempts")
        } else {
            String::new()
        };
        let error = match status {
            401 | 403 => Error::usage(format!(
                "StackOne refused the API key (HTTP {status}) when asked to {what}: \
                 the key is wrong, revoked, or not allowed to manage connector profiles"
            ))
            .with_hint(
                "check the key under API Keys in the StackOne dashboard, then pass it with \
                 --stackone-api-key-stdin or STACKONE_API_KEY",
            ),
            400 | 422 => Error::usage(format!(
                "StackOne rejected the request to {what} (HTTP {status}){detail}"
            ))
            .with_hint("correct the values named above and run the command again"),
            409 => Error::usage(format!(
                "StackOne reports a conflict when asked to {what} (HTTP 409){detail}"
            ))
            .with_hint(
                "a connector profile with this name may already exist: choose another \
                 --stackone-profile-name, or remove the old profile in the StackOne dashboard",
            ),
            404 => Error::remote(format!(
                "StackOne answered 404 Not Found when asked to {what}{detail}"
            )),
            405 | 501 => Error::remote(format!(
                "StackOne does not offer a way to {what} through its API (HTTP {status})"
            ))
            .with_hint("use the StackOne dashboard (--stackone-mode dashboard or auto)"),
            429 => Error::remote(format!(
                "StackOne is rate-limiting this API key (HTTP 429){tries} when asked to {what}"
            ))
            .with_hint(match retry_after {
                Some(d) => format!("wait {} s and run the command again", d.as_secs().max(1)),
                None => "wait a minute and run the command again".to_string(),
            }),
            s if s >= 500 => Error::remote(format!(
                "StackOne failed to {what} (HTTP {status}){tries}{detail}"
            ))
            .with_hint("StackOne may be having problems: try again in a few minutes"),
            _ => Error::remote(format!(
                "StackOne answered HTTP {status} when asked to {what}{detail}"
            )),
        };
        StackOneError {
            status: Some(status),
            retry_after,
            error,
        }
    }
}

/// Ids go into paths percent-encoded (they come from a server or a config).
fn path_segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn describe_transport(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "the request timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the answer was cut off"
    } else {
        "the connection failed"
    }
}

/// StackOne's `message`: a string, or a list of strings (validation
/// errors). Non-JSON bodies (an HTML error page) give nothing.
fn server_messages(body: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        return Vec::new();
    };
    let clip = |s: &str| crate::text::sanitize_remote_clipped(s, 300);
    match value.get("message") {
        Some(Value::String(s)) if !s.trim().is_empty() => vec![clip(s)],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(clip)
            .take(20)
            .collect(),
        _ => Vec::new(),
    }
}

/// `Retry-After`: delta-seconds, or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let fmt = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, &fmt)
        .ok()?
        .assume_utc();
    let delta = at - time::OffsetDateTime::now_utc();
    Some(Duration::from_secs(delta.whole_seconds().max(0) as u64))
}

fn parse_rfc3339(text: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

fn format_rfc3339(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .replace_nanosecond(0)
        .unwrap_or(t)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// One page of a profile listing and what it says about the others.
struct ProfilesPage {
    items: Vec<ConnectorProfile>,
    total: Option<u64>,
    page_size: Option<u64>,
    page: Option<u64>,
}

/// Adds `items` not already in `out` (a page may repeat an item when the
/// list changes while it is read); returns how many were new.
fn merge_profiles(out: &mut Vec<ConnectorProfile>, items: Vec<ConnectorProfile>) -> usize {
    let mut added = 0;
    for item in items {
        if !out.iter().any(|p| p.id == item.id) {
            out.push(item);
            added += 1;
        }
    }
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 30 "), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(Duration::ZERO),
            "a past date means now"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn server_messages_are_read_clipped_and_redacted() {
        assert_eq!(
            server_messages(r#"{"statusCode":422,"message":["name: x","scopes[0]: y"]}"#),
            ["name: x", "scopes[0]: y"]
        );
        assert!(server_messages("<html>oops</html>").is_empty());
        let long = format!(r#"{{"message":"{}"}}"#, "a".repeat(500));
        assert!(server_messages(&long)[0].chars().count() <= 301);
        crate::text::remember_secret("v1.eu.abc-unit-key");
        assert_eq!(
            server_messages(r#"{"message":"bad key V1.EU.ABC-UNIT-KEY"}"#),
            ["bad key [redacted]"]
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(250),
            ..RetryPolicy::default()
        };
        assert!(p.backoff(1) >= Duration::from_millis(100));
        assert!(p.backoff(1) < Duration::from_millis(121));
        assert!(p.backoff(5) <= Duration::from_millis(300));
    }

    #[test]
    fn ids_are_path_safe() {
        assert_eq!(path_segment("a/b c"), "a%2Fb%20c");
        assert_eq!(path_segment("4613220"), "4613220");
    }
}
