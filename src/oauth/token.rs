//! The token endpoint: exchanging an authorization code and redeeming a
//! refresh token, with HTTP Basic client authentication and a form body
//! (docs/vendors.md §1, §5), bounded retries, and errors in the user's terms.
//!
//! Requests are built and successful answers parsed by the oauth2 crate
//! (with a lenient token-response type, [`CcTokenResponse`], because
//! Constant Contact's `expires_in` is not reliably "seconds"); transport and
//! error answers are sorted by [`ReqwestAdapter`] and
//! [`classify_token_error_response`].

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use base64::Engine;
use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AccessToken, AuthType, AuthorizationCode, ClientId, ClientSecret, EndpointNotSet, EndpointSet,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize};
use url::Url;

use super::callback::sanitize_provider_text;
use super::client_auth::ClientCredentials;
use super::http_adapter::{ReqwestAdapter, TransportError};
use super::retry::RetryPolicy;
use crate::error::{Error, ErrorKind};

/// The access token's lifetime when neither `expires_in` nor the JWT says
/// (Constant Contact documents a fixed 24 h).
pub const DEFAULT_ACCESS_TOKEN_LIFETIME_SECS: i64 = 24 * 60 * 60;

/// An `expires_in` larger than this is not a duration but a timestamp.
const TEN_YEARS_SECS: f64 = 10.0 * 365.25 * 24.0 * 3600.0;

/// What the token endpoint granted. `Debug` shows no token.
#[derive(Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    /// `None` when the server sent none (no `offline_access` scope).
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, in Unix seconds.
    pub expires_at: i64,
    /// The scopes granted (the ones requested when the server does not say;
    /// empty for a refresh whose answer does not say).
    pub scope: Vec<String>,
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

/// Which grant a token request used; error messages differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    AuthorizationCode,
    RefreshToken,
}

/// After a failed refresh: can the stored refresh token still be used?
/// Constant Contact rotates refresh tokens (single use), so a request that
/// reached the server but whose answer was lost may have spent it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshTokenState {
    /// No request carrying it was acted on as far as we can tell (never sent,
    /// or refused before use: 429, 5xx, invalid client): keep it.
    Unused,
    /// A request carrying it may have been processed and its answer lost:
    /// it may be spent and its successor lost. Keep it (it may still work)
    /// but expect to need `ccsetup rotate --reauthorize`.
    MaybeSpent,
    /// The server said it is invalid, used or expired (`invalid_grant`).
    Rejected,
}

/// A failed refresh: the error to report and what it means for the stored
/// refresh token (for rotation safety).
#[derive(Debug)]
pub struct RefreshError {
    pub error: Error,
    pub refresh_token: RefreshTokenState,
}

impl From<RefreshError> for Error {
    fn from(e: RefreshError) -> Error {
        e.error
    }
}

impl fmt::Display for RefreshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

/// The verdict on one non-200 answer of the token endpoint.
#[derive(Debug)]
pub struct TokenErrorVerdict {
    /// The error to report if this is the last word.
    pub error: Error,
    /// Worth another try (429, 5xx, `temporarily_unavailable`).
    pub retryable: bool,
    /// The grant itself was refused (`invalid_grant`).
    pub grant_rejected: bool,
}

/// An error body of the token endpoint: RFC 6749's `{error,
/// error_description}`, or Okta's `{errorCode, errorSummary, …}`
/// (docs/vendors.md §5).
#[derive(Debug, Deserialize)]
pub struct TokenErrorBody {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
    #[serde(default, rename = "errorCode")]
    okta_error_code: Option<String>,
    #[serde(default, rename = "errorSummary")]
    okta_error_summary: Option<String>,
}

impl TokenErrorBody {
    /// `None` when the body is not a JSON object.
    pub fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice(body).ok()
    }

    /// The error code: `error`, else Okta's `errorCode`.
    pub fn code(&self) -> Option<&str> {
        self.error
            .as_deref()
            .or(self.okta_error_code.as_deref())
            .filter(|c| !c.is_empty())
    }

    pub fn description(&self) -> Option<&str> {
        self.error_description
            .as_deref()
            .or(self.okta_error_summary.as_deref())
    }
}

/// Maps a non-200 answer (status and error body, either shape) to a
/// user-facing error. Pure, so every mapping is unit-tested.
pub fn classify_token_error_response(grant: Grant, status: u16, body: &[u8]) -> TokenErrorVerdict {
    if super::retry::is_quota_exceeded(status, body) {
        return TokenErrorVerdict {
            error: super::retry::quota_exceeded_error("at the token endpoint"),
            retryable: false,
            grant_rejected: false,
        };
    }
    let parsed = TokenErrorBody::parse(body);
    let code = parsed
        .as_ref()
        .and_then(|p| p.code())
        .map(|c| sanitize_provider_text(c, 64));
    let description = parsed
        .as_ref()
        .and_then(|p| p.description())
        .map(|d| sanitize_provider_text(d, 300))
        .filter(|d| !d.is_empty());
    let said = |code: &str| match &description {
        Some(d) => format!("{code}: {d}"),
        None => code.to_string(),
    };
    let verdict = |error: Error| TokenErrorVerdict {
        error,
        retryable: false,
        grant_rejected: false,
    };
    let code_str = code.as_deref().unwrap_or("");

    // Any 401 is the client's credentials, whatever its body says (Okta's
    // may have no `error` key: docs/vendors.md §5); so is `invalid_client`
    // with another status.
    if status == 401 || code_str == "invalid_client" {
        let what = match code.as_deref() {
            Some("invalid_client") => said("invalid_client"),
            Some(other) => format!("HTTP {status}, {}", said(other)),
            None => format!("HTTP {status}"),
        };
        return verdict(
            Error::authorization(format!(
                "Constant Contact refused the client credentials ({what}): this Client Secret does not belong to this API Key, or the API Key is wrong"
            ))
            // Where a setup exists (refreshes); the command it shows in may
            // put its own (`workflow::authorize::fit_invalid_client_hint`).
            .with_hint(crate::hints::hint(
                crate::hints::Problem::InvalidClient,
                crate::hints::Command::Token,
                crate::hints::State::SetUp,
            ))
            .with_source(super::AuthorizeFailure::WrongClient),
        );
    }
    match code_str {
        "invalid_grant" => {
            let error = match grant {
                Grant::AuthorizationCode => Error::authorization(format!(
                    "Constant Contact refused the authorization code ({})",
                    said("invalid_grant")
                ))
                .with_hint(
                    "codes expire after 5 minutes and work once: run the command again; the redirect URI registered in the app must be exactly the local one (http://localhost:<port>/callback)",
                ),
                Grant::RefreshToken => Error::authorization(format!(
                    "the refresh token was already used or expired ({})",
                    said("invalid_grant")
                ))
                .with_hint("run `ccsetup rotate --reauthorize` to authorize again"),
            };
            return TokenErrorVerdict {
                error,
                retryable: false,
                grant_rejected: true,
            };
        }
        "unauthorized_client" => {
            return verdict(
                Error::authorization(format!(
                    "this application may not use this grant ({})",
                    said("unauthorized_client")
                ))
                .with_hint(
                    "in the Constant Contact portal, set the app's OAuth2 flow to \"Authorization Code Flow and Implicit Flow\" and its refresh tokens to Rotating",
                ),
            );
        }
        "invalid_scope" => {
            return verdict(
                Error::authorization(format!(
                    "Constant Contact refused the requested scopes ({})",
                    said("invalid_scope")
                ))
                .with_hint(
                    "pass --scopes with some of account_read, account_update, contact_data, campaign_data, offline_access",
                ),
            );
        }
        "invalid_request" | "unsupported_grant_type" => {
            return verdict(
                Error::authorization(format!(
                    "the token endpoint refused the request ({})",
                    said(code_str)
                ))
                .with_hint(
                    "check that the redirect URI registered in the app matches exactly and that CCSETUP_CC_TOKEN_URL (if set) points at Constant Contact's token endpoint",
                ),
            );
        }
        _ => {}
    }
    let retryable = status == 429
        || (500..600).contains(&status)
        || matches!(code_str, "temporarily_unavailable" | "server_error");
    let what = match &code {
        Some(c) => format!("HTTP {status}, {}", said(c)),
        None => format!("HTTP {status}"),
    };
    if retryable {
        return TokenErrorVerdict {
            error: Error::remote(format!(
                "Constant Contact's token endpoint is not answering properly ({what})"
            ))
            .with_hint("try again in a few minutes"),
            retryable: true,
            grant_rejected: false,
        };
    }
    let hint = if (300..400).contains(&status) {
        "the token endpoint redirected; check CCSETUP_CC_TOKEN_URL (if set)"
    } else {
        "check CCSETUP_CC_TOKEN_URL (if set) and try again"
    };
    verdict(
        Error::remote(format!(
            "Constant Contact's token endpoint answered unexpectedly ({what})"
        ))
        .with_hint(hint),
    )
}

/// When the access token expires (Unix seconds), read defensively
/// (docs/vendors.md §5): `expires_in` as seconds; a value over ten years is an
/// epoch timestamp (seconds, or milliseconds if huge); absent or unreadable,
/// the JWT's `exp` claim (decoded, not verified); else 24 h.
pub fn expires_at_from(
    expires_in: Option<&serde_json::Value>,
    access_token: &str,
    now: i64,
) -> i64 {
    let number = expires_in.and_then(|v| match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    });
    match number {
        Some(n) if n.is_finite() && n > 0.0 => {
            if n > 1e11 {
                (n / 1000.0) as i64
            } else if n > TEN_YEARS_SECS {
                n as i64
            } else {
                now + n as i64
            }
        }
        _ => jwt_expiry(access_token).unwrap_or(now + DEFAULT_ACCESS_TOKEN_LIFETIME_SECS),
    }
}

/// The `exp` claim of a JWT, without verifying anything.
pub fn jwt_expiry(token: &str) -> Option<i64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let exp = claims.get("exp")?;
    exp.as_i64().or_else(|| exp.as_f64().map(|f| f as i64))
}

/// Constant Contact's token response, parsed leniently: `expires_in` may be
/// a number, a string or an epoch; `token_type` in any case; `scope` a
/// space-separated string or a list. `Debug` redacts the tokens (oauth2's
/// secret types do).
#[derive(Debug, Deserialize, Serialize)]
pub struct CcTokenResponse {
    #[serde(deserialize_with = "non_blank_token")]
    access_token: AccessToken,
    #[serde(default = "bearer", deserialize_with = "token_type_any_case")]
    token_type: BasicTokenType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_in: Option<serde_json::Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "non_blank_refresh_token"
    )]
    refresh_token: Option<RefreshToken>,
    #[serde(
        default,
        rename = "scope",
        deserialize_with = "scopes_lenient",
        skip_serializing
    )]
    scopes: Option<Vec<Scope>>,
}

/// An empty or blank token is not a token: storing it would replace a
/// working refresh token with nothing. Such an answer is "not a token
/// response" (exit 4).
fn non_blank_token<'de, D: Deserializer<'de>>(d: D) -> Result<AccessToken, D::Error> {
    let token = String::deserialize(d)?;
    if token.trim().is_empty() {
        return Err(serde::de::Error::custom("empty access_token"));
    }
    Ok(AccessToken::new(token))
}

fn non_blank_refresh_token<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<RefreshToken>, D::Error> {
    match Option::<String>::deserialize(d)? {
        Some(t) if t.trim().is_empty() => Err(serde::de::Error::custom("empty refresh_token")),
        other => Ok(other.map(RefreshToken::new)),
    }
}

/// A 200 answer's body as [`TokenEndpoint`] reads it; `None` when it is not
/// a token response. For fuzzing and tests: the endpoint parses through
/// oauth2, with the same type.
pub fn parse_token_response(body: &[u8], now: i64, scope_fallback: &[String]) -> Option<TokenSet> {
    serde_json::from_slice::<CcTokenResponse>(body)
        .ok()
        .map(|r| r.into_token_set(now, scope_fallback))
}

fn bearer() -> BasicTokenType {
    BasicTokenType::Bearer
}

fn token_type_any_case<'de, D: Deserializer<'de>>(d: D) -> Result<BasicTokenType, D::Error> {
    let s = String::deserialize(d)?;
    Ok(match s.to_ascii_lowercase().as_str() {
        "bearer" => BasicTokenType::Bearer,
        "mac" => BasicTokenType::Mac,
        other => BasicTokenType::Extension(other.to_string()),
    })
}

fn scopes_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Scope>>, D::Error> {
    let v = Option::<serde_json::Value>::deserialize(d)?;
    Ok(match v {
        // Remote text, shown and stored: the one sanitizer (crate::text).
        Some(serde_json::Value::String(s)) => Some(
            s.split_whitespace()
                .map(crate::text::sanitize_remote)
                .filter(|x| !x.is_empty())
                .map(Scope::new)
                .collect(),
        ),
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .filter_map(|i| i.as_str())
                .map(crate::text::sanitize_remote)
                .filter(|x| !x.is_empty())
                .map(Scope::new)
                .collect(),
        ),
        _ => None,
    })
}

impl TokenResponse for CcTokenResponse {
    type TokenType = BasicTokenType;
    fn access_token(&self) -> &AccessToken {
        &self.access_token
    }
    fn token_type(&self) -> &BasicTokenType {
        &self.token_type
    }
    fn expires_in(&self) -> Option<Duration> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let at = expires_at_from(self.expires_in.as_ref(), self.access_token.secret(), now);
        Some(Duration::from_secs(at.saturating_sub(now).max(0) as u64))
    }
    fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }
    fn scopes(&self) -> Option<&Vec<Scope>> {
        self.scopes.as_ref()
    }
}

impl CcTokenResponse {
    fn into_token_set(self, now: i64, scope_fallback: &[String]) -> TokenSet {
        let expires_at = expires_at_from(self.expires_in.as_ref(), self.access_token.secret(), now);
        let scope = match self.scopes {
            Some(s) => s.into_iter().map(|s| s.to_string()).collect(),
            None => scope_fallback.to_vec(),
        };
        TokenSet {
            access_token: SecretString::from(self.access_token.into_secret()),
            refresh_token: self
                .refresh_token
                .map(|t| SecretString::from(t.into_secret())),
            expires_at,
            scope,
        }
    }
}

/// oauth2's client with the Basic types, except the lenient token response.
type CcOAuthClient = oauth2::Client<
    BasicErrorResponse,
    CcTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Constant Contact's token endpoint for one client (API Key + secret).
pub struct TokenEndpoint {
    http: reqwest::Client,
    client: CcOAuthClient,
    credentials: ClientCredentials,
    retry: RetryPolicy,
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("token_url", &self.client.token_uri().as_str())
            .field("client_id", &self.client.client_id().as_str())
            .finish_non_exhaustive()
    }
}

/// One grant request, rebuilt for each try.
enum GrantRequest<'a> {
    Code {
        code: &'a AuthorizationCode,
        verifier: &'a PkceCodeVerifier,
        redirect_uri: &'a RedirectUrl,
    },
    Refresh {
        token: &'a RefreshToken,
    },
}

impl GrantRequest<'_> {
    fn grant(&self) -> Grant {
        match self {
            GrantRequest::Code { .. } => Grant::AuthorizationCode,
            GrantRequest::Refresh { .. } => Grant::RefreshToken,
        }
    }
}

impl TokenEndpoint {
    /// `http` should be [`crate::http::client`] (redirects off). The secret is
    /// sent only in the `Authorization: Basic` header, built by
    /// [`ClientCredentials`] (oauth2 gets the secret too, only so that it
    /// leaves `client_id` out of the body, as with Basic auth).
    pub fn new(
        http: reqwest::Client,
        token_url: &Url,
        client_id: &str,
        client_secret: &SecretString,
    ) -> Self {
        let client = oauth2::Client::new(ClientId::new(client_id.to_string()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_string()))
            .set_auth_type(AuthType::BasicAuth)
            .set_token_uri(TokenUrl::from_url(token_url.clone()));
        TokenEndpoint {
            http,
            client,
            credentials: ClientCredentials::new(client_id, client_secret),
            retry: RetryPolicy::default(),
        }
    }

    /// Replaces the default retry policy (3 tries, 0.5 s → 2 s).
    pub fn with_retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Exchanges an authorization code (with its PKCE verifier and the exact
    /// redirect URI of the authorization request). `requested_scopes` stand
    /// in for the granted ones when the answer does not list them.
    pub async fn exchange_code(
        &self,
        code: &AuthorizationCode,
        pkce_verifier: &PkceCodeVerifier,
        redirect_uri: &str,
        requested_scopes: &[String],
    ) -> Result<TokenSet, Error> {
        let redirect_uri = RedirectUrl::new(redirect_uri.to_string()).map_err(|e| {
            Error::failure(format!("invalid redirect URI {redirect_uri}")).with_source(e)
        })?;
        let request = GrantRequest::Code {
            code,
            verifier: pkce_verifier,
            redirect_uri: &redirect_uri,
        };
        let response = self.run(request).await.map_err(|f| f.error)?;
        Ok(response.into_token_set(now_unix(), requested_scopes))
    }

    /// Redeems a refresh token. The new refresh token (Constant Contact
    /// rotates them) is in the result; when the answer carries none, the
    /// one given stays valid (RFC 6749 §6) and is returned as is.
    ///
    /// Transport failures before sending are retried (bounded); a request
    /// that may have reached the server is retried once with the same token,
    /// as the spec asks. The error says whether the token may be spent.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, RefreshError> {
        let token = RefreshToken::new(refresh_token.expose_secret().to_string());
        let response = self
            .run(GrantRequest::Refresh { token: &token })
            .await
            .map_err(|f| RefreshError {
                error: f.error,
                refresh_token: f.refresh_token,
            })?;
        let mut tokens = response.into_token_set(now_unix(), &[]);
        if tokens.refresh_token.is_none() {
            tokens.refresh_token = Some(refresh_token.clone());
        }
        Ok(tokens)
    }

    async fn send_once(
        &self,
        request: &GrantRequest<'_>,
    ) -> Result<CcTokenResponse, RequestTokenError<TransportError, BasicErrorResponse>> {
        let adapter = ReqwestAdapter::new(&self.http).with_client_auth(&self.credentials);
        match request {
            GrantRequest::Code {
                code,
                verifier,
                redirect_uri,
            } => {
                self.client
                    .exchange_code((*code).clone())
                    .set_pkce_verifier(PkceCodeVerifier::new(verifier.secret().clone()))
                    .set_redirect_uri(Cow::Borrowed(redirect_uri))
                    .request_async(&adapter)
                    .await
            }
            GrantRequest::Refresh { token } => {
                self.client
                    .exchange_refresh_token(token)
                    .request_async(&adapter)
                    .await
            }
        }
    }

    /// The retry loop shared by both grants.
    async fn run(&self, request: GrantRequest<'_>) -> Result<CcTokenResponse, GrantFailure> {
        let grant = request.grant();
        let mut attempt = 1;
        let mut answers_lost = 0;
        loop {
            let result = self.send_once(&request).await;
            let failure = match result {
                Ok(response) => return Ok(response),
                Err(e) => classify_request_error(grant, e),
            };
            if failure.answer_lost {
                answers_lost += 1;
            }
            let token_state = if failure.grant_rejected {
                RefreshTokenState::Rejected
            } else if answers_lost > 0 {
                RefreshTokenState::MaybeSpent
            } else {
                RefreshTokenState::Unused
            };
            // A refresh whose answer was lost is retried once only: each
            // retry risks redeeming a token the server already rotated.
            let budget_left = attempt < self.retry.max_attempts
                && !(grant == Grant::RefreshToken && failure.answer_lost && answers_lost > 1);
            let delay = if failure.retryable && budget_left {
                self.retry.delay_before(attempt + 1, failure.retry_after)
            } else {
                None
            };
            tracing::debug!(
                attempt,
                retryable = failure.retryable,
                answer_lost = failure.answer_lost,
                "token request failed"
            );
            match delay {
                Some(delay) => {
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                None => {
                    let error = if grant == Grant::RefreshToken
                        && failure.grant_rejected
                        && answers_lost > 0
                    {
                        // Our own earlier request spent the token: the server
                        // rotated it and the answer never arrived (docs/contract.md: a
                        // failure after sending ends with exit 4).
                        Error::remote(
                            "the answer to a refresh request was lost in the network, and Constant Contact has \
                             already rotated that single-use refresh token",
                        )
                        .with_hint("run `ccsetup rotate --reauthorize` to get a new refresh token")
                    } else if failure.retryable {
                        exhausted(grant, failure, attempt, token_state)
                    } else {
                        failure.error
                    };
                    return Err(GrantFailure {
                        error,
                        refresh_token: token_state,
                    });
                }
            }
        }
    }
}

struct GrantFailure {
    error: Error,
    refresh_token: RefreshTokenState,
}

/// One failed try, sorted.
struct AttemptFailure {
    error: Error,
    retryable: bool,
    answer_lost: bool,
    grant_rejected: bool,
    retry_after: Option<Duration>,
}

fn classify_request_error(
    grant: Grant,
    e: RequestTokenError<TransportError, BasicErrorResponse>,
) -> AttemptFailure {
    let plain = |error: Error| AttemptFailure {
        error,
        retryable: false,
        answer_lost: false,
        grant_rejected: false,
        retry_after: None,
    };
    match e {
        RequestTokenError::Request(TransportError::Status {
            status,
            retry_after,
            body,
        }) => {
            let v = classify_token_error_response(grant, status, &body);
            AttemptFailure {
                error: v.error,
                retryable: v.retryable,
                answer_lost: false,
                grant_rejected: v.grant_rejected,
                retry_after,
            }
        }
        RequestTokenError::Request(TransportError::NotSent(source)) => AttemptFailure {
            error: Error::remote("could not reach Constant Contact's token endpoint")
                .with_hint("check the network connection (and HTTPS_PROXY, if one is needed) and try again")
                .with_source(source),
            retryable: true,
            answer_lost: false,
            grant_rejected: false,
            retry_after: None,
        },
        RequestTokenError::Request(TransportError::AnswerLost(source)) => AttemptFailure {
            error: Error::remote(
                "the connection to Constant Contact's token endpoint failed after the request was sent",
            )
            .with_source(source),
            retryable: true,
            answer_lost: true,
            grant_rejected: false,
            retry_after: None,
        },
        RequestTokenError::Request(TransportError::AnswerTooLarge { limit }) => AttemptFailure {
            error: Error::remote(format!(
                "Constant Contact's token endpoint sent an answer larger than {} KiB, more than any token response",
                limit / 1024
            ))
            .with_hint("check CCSETUP_CC_TOKEN_URL (if set) and try again"),
            retryable: false,
            answer_lost: true,
            grant_rejected: false,
            retry_after: None,
        },
        RequestTokenError::Request(TransportError::Build(source)) => {
            plain(Error::failure("could not prepare the token request").with_source(source))
        }
        // A 200 whose body is not a token response. The body may hold tokens:
        // it is neither shown nor kept.
        RequestTokenError::Parse(_, _) => plain(
            Error::remote("Constant Contact's token endpoint sent an answer that is not a token response")
                .with_hint("check CCSETUP_CC_TOKEN_URL (if set) and try again"),
        ),
        RequestTokenError::ServerResponse(err) => {
            let body = serde_json::to_vec(&err).unwrap_or_default();
            let v = classify_token_error_response(grant, 400, &body);
            AttemptFailure {
                error: v.error,
                retryable: v.retryable,
                answer_lost: false,
                grant_rejected: v.grant_rejected,
                retry_after: None,
            }
        }
        RequestTokenError::Other(what) => plain(
            Error::remote("Constant Contact's token endpoint sent an unexpected answer")
                .with_hint("check CCSETUP_CC_TOKEN_URL (if set) and try again")
                .with_source(anyhow::anyhow!(what)),
        ),
    }
}

/// The error after the last retry.
fn exhausted(
    grant: Grant,
    failure: AttemptFailure,
    attempts: u32,
    token_state: RefreshTokenState,
) -> Error {
    let tries = if attempts == 1 {
        "1 try".to_string()
    } else {
        format!("{attempts} tries")
    };
    let mut error = Error::new(
        ErrorKind::Remote,
        format!("{} (gave up after {tries})", failure.error.message()),
    );
    let hint = match (grant, token_state) {
        (Grant::RefreshToken, RefreshTokenState::MaybeSpent) => Some(
            "a refresh request may have reached Constant Contact without its answer arriving, which can spend the stored refresh token; try again, and if it is refused run `ccsetup rotate --reauthorize`".to_string(),
        ),
        _ => match failure.retry_after {
            Some(wait) if wait.as_secs() > 0 => Some(format!(
                "Constant Contact asked to wait {} s; try again after that",
                wait.as_secs()
            )),
            _ => failure.error.hint().map(str::to_string),
        },
    };
    if let Some(hint) = hint {
        error = error.with_hint(hint);
    }
    if let Some(cause) = failure.error.cause() {
        error = error.with_source(anyhow::anyhow!(cause.to_string()));
    }
    error
}

fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn classify(grant: Grant, status: u16, body: &str) -> TokenErrorVerdict {
        classify_token_error_response(grant, status, body.as_bytes())
    }

    #[test]
    fn invalid_client_is_an_authorization_error_naming_the_pair() {
        for (status, body) in [
            (
                401,
                r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
            ),
            (400, r#"{"error":"invalid_client"}"#),
            (401, ""),
            (401, "<html>nope</html>"),
            // Okta's shape, no `error` key.
            (
                401,
                r#"{"errorCode":"invalid_client","errorSummary":"Invalid value for 'client_id' parameter.","errorLink":"invalid_client","errorId":"oae1","errorCauses":[]}"#,
            ),
            (
                400,
                r#"{"errorCode":"invalid_client","errorSummary":"Client authentication failed."}"#,
            ),
            // Any 401, whatever the body names.
            (401, r#"{"error":"invalid_grant"}"#),
            (401, r#"{"error":"invalid_request"}"#),
        ] {
            let v = classify(Grant::AuthorizationCode, status, body);
            assert_eq!(v.error.kind(), ErrorKind::Authorization, "{body}");
            assert!(
                v.error
                    .message()
                    .contains("does not belong to this API Key")
            );
            assert!(v.error.hint().is_some());
            assert!(!v.retryable && !v.grant_rejected);
        }
    }

    #[test]
    fn invalid_grant_differs_by_grant() {
        let body = r#"{"error":"invalid_grant","error_description":"The refresh token is invalid or expired."}"#;
        let refresh = classify(Grant::RefreshToken, 400, body);
        assert_eq!(refresh.error.kind(), ErrorKind::Authorization);
        assert!(refresh.grant_rejected);
        assert!(refresh.error.message().contains("already used or expired"));
        assert!(refresh.error.message().contains("invalid or expired"));
        assert!(
            refresh
                .error
                .hint()
                .unwrap()
                .contains("ccsetup rotate --reauthorize")
        );
        let code = classify(
            Grant::AuthorizationCode,
            400,
            r#"{"error":"invalid_grant"}"#,
        );
        assert_eq!(code.error.kind(), ErrorKind::Authorization);
        assert!(code.error.message().contains("authorization code"));
        assert!(code.error.hint().unwrap().contains("redirect URI"));
    }

    #[test]
    fn server_trouble_is_retryable_then_remote() {
        for (status, body) in [
            (500, ""),
            (502, "<html>Bad gateway</html>"),
            (503, r#"{"error":"temporarily_unavailable"}"#),
            (429, r#"{"error":"rate_limited"}"#),
            (400, r#"{"error":"server_error"}"#),
        ] {
            let v = classify(Grant::RefreshToken, status, body);
            assert!(v.retryable, "{status} {body}");
            assert_eq!(v.error.kind(), ErrorKind::Remote);
            assert!(!v.grant_rejected);
        }
    }

    #[test]
    fn other_oauth_errors() {
        let v = classify(
            Grant::AuthorizationCode,
            400,
            r#"{"error":"invalid_scope"}"#,
        );
        assert_eq!(v.error.kind(), ErrorKind::Authorization);
        assert!(v.error.hint().unwrap().contains("--scopes"));
        let v = classify(
            Grant::AuthorizationCode,
            400,
            r#"{"error":"unauthorized_client"}"#,
        );
        assert_eq!(v.error.kind(), ErrorKind::Authorization);
        let v = classify(
            Grant::AuthorizationCode,
            400,
            r#"{"error":"invalid_request","error_description":"redirect_uri mismatch"}"#,
        );
        assert_eq!(v.error.kind(), ErrorKind::Authorization);
        assert!(v.error.message().contains("redirect_uri mismatch"));
        let v = classify(Grant::AuthorizationCode, 404, "Not found");
        assert_eq!(v.error.kind(), ErrorKind::Remote);
        assert!(!v.retryable);
        let v = classify(Grant::AuthorizationCode, 302, "");
        assert!(v.error.hint().unwrap().contains("redirected"));
    }

    #[test]
    fn provider_text_is_sanitized() {
        let v = classify(
            Grant::RefreshToken,
            400,
            "{\"error\":\"invalid_grant\",\"error_description\":\"bad\\u001b[31m\"}",
        );
        assert!(!v.error.message().contains('\u{1b}'));
    }

    fn jwt(exp: serde_json::Value) -> String {
        let enc = |v: serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.sig",
            enc(json!({"alg":"RS256"})),
            enc(json!({ "exp": exp, "sub": "x" }))
        )
    }

    #[test]
    fn expires_in_cases() {
        let now = 1_700_000_000;
        let t = jwt(json!(1_700_050_000));
        assert_eq!(expires_at_from(Some(&json!(86400)), &t, now), now + 86400);
        assert_eq!(expires_at_from(Some(&json!("3600")), &t, now), now + 3600);
        assert_eq!(expires_at_from(Some(&json!(3600.0)), &t, now), now + 3600);
        // An epoch timestamp, as the official SDK describes it.
        assert_eq!(
            expires_at_from(Some(&json!(1_700_086_400u64)), &t, now),
            1_700_086_400
        );
        // Epoch milliseconds.
        assert_eq!(
            expires_at_from(Some(&json!(1_700_086_400_000u64)), &t, now),
            1_700_086_400
        );
        // Missing, zero, negative or junk: the JWT's exp.
        for v in [
            None,
            Some(json!(0)),
            Some(json!(-5)),
            Some(json!("soon")),
            Some(json!(null)),
        ] {
            assert_eq!(expires_at_from(v.as_ref(), &t, now), 1_700_050_000, "{v:?}");
        }
        // No usable JWT either: 24 h.
        assert_eq!(expires_at_from(None, "opaque-token", now), now + 86400);
        assert_eq!(expires_at_from(None, "a.!!!.c", now), now + 86400);
        assert_eq!(expires_at_from(None, &jwt(json!("x")), now), now + 86400);
    }

    #[test]
    fn blank_tokens_are_not_a_token_response() {
        for body in [
            r#"{"access_token":"","token_type":"Bearer"}"#,
            r#"{"access_token":"  ","token_type":"Bearer"}"#,
            r#"{"access_token":"a.b.c","refresh_token":"","token_type":"Bearer"}"#,
        ] {
            assert!(
                parse_token_response(body.as_bytes(), 0, &[]).is_none(),
                "{body}"
            );
        }
        let ok = parse_token_response(br#"{"access_token":"a.b.c","refresh_token":null}"#, 0, &[]);
        assert!(ok.is_some_and(|t| t.refresh_token.is_none()));
    }

    #[test]
    fn token_response_is_parsed_leniently_and_debug_redacts() {
        let body = json!({
            "access_token": "AT-secret",
            "token_type": "Bearer",
            "expires_in": 86400,
            "refresh_token": "RT-secret",
            "scope": "account_read offline_access",
            "id_token": "ignored"
        });
        let r: CcTokenResponse = serde_json::from_value(body).unwrap();
        assert_eq!(r.token_type, BasicTokenType::Bearer);
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("AT-secret") && !dbg.contains("RT-secret"));
        let set = r.into_token_set(1000, &[]);
        assert_eq!(set.expires_at, 1000 + 86400);
        assert_eq!(set.scope, vec!["account_read", "offline_access"]);
        let dbg = format!("{set:?}");
        assert!(!dbg.contains("AT-secret") && !dbg.contains("RT-secret"));

        let minimal: CcTokenResponse =
            serde_json::from_value(json!({"access_token": "a"})).unwrap();
        let set = minimal.into_token_set(0, &["contact_data".to_string()]);
        assert!(set.refresh_token.is_none());
        assert_eq!(set.scope, vec!["contact_data"]);
    }
}
