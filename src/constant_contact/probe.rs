//! Checks of the app's settings that spend nothing, before anyone is sent
//! to a browser (docs/contract.md `init` step 3, `status`, `doctor`).
//!
//! Constant Contact's authorization server is an Okta custom authorization
//! server (docs/vendors.md §3): `GET /authorize` without a session redirects to
//! the sign-in page when the client id and the redirect URI are registered,
//! and answers 400 when either is not; its token endpoint authenticates the
//! client before it looks at the grant, so a deliberately invalid code tells
//! a wrong Client Secret (`invalid_client`) from a right one
//! (`invalid_grant`). Each probe is one request, standalone, and never
//! blocks: anything else is "could not check".

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::oauth::AuthorizationRequest;
use crate::oauth::callback::sanitize_provider_text;

/// One probe's time budget: a check must not hold the wizard up.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the authorization server said about one redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectProbe {
    /// 3xx: the client id and this redirect URI are registered.
    Registered,
    /// 400: the client id is unknown or this redirect URI is not registered.
    Refused,
    /// No answer at all (no route, refused connection, DNS, timeout): the
    /// host, named without the request's `state` and PKCE challenge.
    Unreachable(String),
    /// Anything else (5xx, 200, …): why, for a warning.
    Unknown(String),
}

impl RedirectProbe {
    /// the contract's `--json` word: `registered`, `missing` or `unknown`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RedirectProbe::Registered => "registered",
            RedirectProbe::Refused => "missing",
            RedirectProbe::Unreachable(_) | RedirectProbe::Unknown(_) => "unknown",
        }
    }
}

/// `GET`s the authorization URL for `redirect_uri` with a throwaway `state`
/// and PKCE challenge; no cookies, redirects not followed (`http` must be
/// [`crate::http::client`]).
pub async fn probe_redirect_uri(
    http: &reqwest::Client,
    authorize_url: &Url,
    client_id: &str,
    redirect_uri: &str,
    scopes: &[String],
) -> RedirectProbe {
    let request = match AuthorizationRequest::new(authorize_url, client_id, redirect_uri, scopes) {
        Ok(r) => r,
        Err(e) => return RedirectProbe::Unknown(e.message().to_string()),
    };
    let sent = http
        .get(request.url().clone())
        .timeout(PROBE_TIMEOUT)
        .send()
        .await;
    match sent {
        // Never the error's own text: it repeats the whole URL, with the
        // request's `state` and `code_challenge`.
        Err(e) if e.is_connect() || e.is_timeout() => {
            RedirectProbe::Unreachable(host_of(authorize_url))
        }
        Err(e) => RedirectProbe::Unknown(format!(
            "could not reach {}: {}",
            host_of(authorize_url),
            e.without_url()
        )),
        Ok(r) if r.status().is_redirection() => RedirectProbe::Registered,
        Ok(r) if r.status().as_u16() == 400 => RedirectProbe::Refused,
        Ok(r) => RedirectProbe::Unknown(format!(
            "the authorization endpoint answered HTTP {}",
            r.status().as_u16()
        )),
    }
}

/// `host[:port]` of `url`, for messages that must not repeat its query.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => url.scheme().to_string(),
    }
}

/// Both redirect URIs the app needs, probed at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationReport {
    pub local_redirect_uri: String,
    pub local: RedirectProbe,
    pub stackone: RedirectProbe,
}

/// What the two answers mean together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrationVerdict {
    AllRegistered,
    /// Both refused: the API Key is unknown, or neither URI is registered.
    ClientUnknownOrNoUris,
    LocalMissing,
    StackOneMissing,
    /// The authorization server did not answer at all: its host.
    Unreachable(String),
    /// At least one answer was neither: why.
    Inconclusive(String),
}

impl RegistrationReport {
    pub fn verdict(&self) -> RegistrationVerdict {
        use RedirectProbe::*;
        match (&self.local, &self.stackone) {
            (Registered, Registered) => RegistrationVerdict::AllRegistered,
            (Refused, Refused) => RegistrationVerdict::ClientUnknownOrNoUris,
            (Refused, Registered) => RegistrationVerdict::LocalMissing,
            (Registered, Refused) => RegistrationVerdict::StackOneMissing,
            (Unreachable(host), _) | (_, Unreachable(host)) => {
                RegistrationVerdict::Unreachable(host.clone())
            }
            (Unknown(why), _) | (_, Unknown(why)) => RegistrationVerdict::Inconclusive(why.clone()),
        }
    }

    /// `"registration"` of `init --json`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "local_redirect_uri": self.local.as_str(),
            "stackone_redirect_uri": self.stackone.as_str(),
        })
    }
}

/// Probes the local redirect URI and StackOne's callback concurrently.
pub async fn probe_registration(
    http: &reqwest::Client,
    authorize_url: &Url,
    client_id: &str,
    local_redirect_uri: &str,
    scopes: &[String],
) -> RegistrationReport {
    let (local, stackone) = tokio::join!(
        probe_redirect_uri(http, authorize_url, client_id, local_redirect_uri, scopes),
        probe_redirect_uri(
            http,
            authorize_url,
            client_id,
            super::STACKONE_REDIRECT_URI,
            scopes
        ),
    );
    RegistrationReport {
        local_redirect_uri: local_redirect_uri.to_string(),
        local,
        stackone,
    }
}

/// What the token endpoint said about the API Key + Client Secret pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretProbe {
    /// `invalid_grant` for the invalid code: the client authenticated.
    Accepted,
    /// `invalid_client` (or a bare 401): wrong secret for this API Key.
    Refused,
    /// Anything else: why, for a warning.
    Unknown(String),
}

/// An authorization-code grant with a code that cannot exist: spends no
/// token and no code, and tells a wrong secret from a right one.
pub async fn probe_client_secret(
    http: &reqwest::Client,
    token_url: &Url,
    client_id: &str,
    client_secret: &SecretString,
    redirect_uri: &str,
) -> SecretProbe {
    let code = format!(
        "ccsetup-secret-check-{}",
        oauth2::CsrfToken::new_random().secret()
    );
    let (_, verifier) = oauth2::PkceCodeChallenge::new_random_sha256();
    let sent = http
        .post(token_url.clone())
        .basic_auth(client_id, Some(client_secret.expose_secret()))
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.secret().as_str()),
        ])
        .timeout(PROBE_TIMEOUT)
        .send()
        .await;
    let response = match sent {
        Ok(r) => r,
        Err(e) => {
            return SecretProbe::Unknown(format!(
                "could not reach {}: {}",
                host_of(token_url),
                e.without_url()
            ));
        }
    };
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    classify_secret_probe(status, &body)
}

/// The verdict on the invalid-code answer. Pure.
pub fn classify_secret_probe(status: u16, body: &[u8]) -> SecretProbe {
    #[derive(serde::Deserialize)]
    struct OAuthError {
        error: String,
        #[serde(default)]
        error_description: Option<String>,
    }
    let parsed: Option<OAuthError> = serde_json::from_slice(body).ok();
    match parsed.as_ref().map(|p| p.error.as_str()) {
        Some("invalid_grant") => SecretProbe::Accepted,
        Some("invalid_client") => SecretProbe::Refused,
        None if status == 401 => SecretProbe::Refused,
        Some(other) => SecretProbe::Unknown(format!(
            "the token endpoint answered HTTP {status}, {}{}",
            sanitize_provider_text(other, 64),
            parsed
                .as_ref()
                .and_then(|p| p.error_description.as_deref())
                .map(|d| format!(": {}", sanitize_provider_text(d, 200)))
                .unwrap_or_default()
        )),
        None => SecretProbe::Unknown(format!("the token endpoint answered HTTP {status}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_probe_answers() {
        assert_eq!(
            classify_secret_probe(400, br#"{"error":"invalid_grant"}"#),
            SecretProbe::Accepted
        );
        assert_eq!(
            classify_secret_probe(401, br#"{"error":"invalid_client"}"#),
            SecretProbe::Refused
        );
        assert_eq!(classify_secret_probe(401, b""), SecretProbe::Refused);
        assert!(matches!(
            classify_secret_probe(429, br#"[{"error_key":"throttled"}]"#),
            SecretProbe::Unknown(_)
        ));
        assert!(matches!(
            classify_secret_probe(400, br#"{"error":"invalid_request"}"#),
            SecretProbe::Unknown(_)
        ));
    }

    #[test]
    fn registration_verdicts() {
        use RedirectProbe::*;
        let r = |local, stackone| RegistrationReport {
            local_redirect_uri: "http://localhost:1/callback".into(),
            local,
            stackone,
        };
        assert_eq!(
            r(Registered, Registered).verdict(),
            RegistrationVerdict::AllRegistered
        );
        assert_eq!(
            r(Refused, Refused).verdict(),
            RegistrationVerdict::ClientUnknownOrNoUris
        );
        assert_eq!(
            r(Refused, Registered).verdict(),
            RegistrationVerdict::LocalMissing
        );
        assert_eq!(
            r(Registered, Refused).verdict(),
            RegistrationVerdict::StackOneMissing
        );
        assert!(matches!(
            r(Refused, Unknown("x".into())).verdict(),
            RegistrationVerdict::Inconclusive(_)
        ));
        assert_eq!(
            r(Unreachable("h:1".into()), Unknown("x".into())).verdict(),
            RegistrationVerdict::Unreachable("h:1".into())
        );
        assert_eq!(
            r(Refused, Registered).to_json(),
            serde_json::json!({"local_redirect_uri":"missing","stackone_redirect_uri":"registered"})
        );
    }
}
