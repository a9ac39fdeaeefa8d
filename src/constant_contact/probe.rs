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

use secrecy::SecretString;
use url::Url;

use crate::oauth::callback::sanitize_provider_text;
use crate::oauth::token::TokenErrorBody;
use crate::oauth::{AuthorizationRequest, ClientCredentials};

/// One probe's time budget: a check must not hold the wizard up.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the authorization server said about one redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectProbe {
    /// 3xx elsewhere (the sign-in page): the client id and this redirect
    /// URI are registered.
    Registered,
    /// 400: the client id is unknown or this redirect URI is not registered.
    Refused,
    /// 3xx back to this redirect URI with `error=`: the client and the URI
    /// are registered (Okta validated them first), but the app may not make
    /// this request (docs/vendors.md §5, source [51]).
    AppRefused(AuthorizeRefusal),
    /// No answer at all (no route, refused connection, DNS, timeout): the
    /// host, named without the request's `state` and PKCE challenge.
    Unreachable(String),
    /// Anything else (5xx, 200, …): why, for a warning.
    Unknown(String),
}

/// An `error=` the authorization server sent back to the redirect URI
/// before anyone signed in: `invalid_scope`, `unauthorized_client`,
/// `access_denied`, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizeRefusal {
    /// The `error` code, sanitised.
    pub error: String,
    /// The `error_description`, sanitised, if any.
    pub description: Option<String>,
    /// For `invalid_scope`: the requested scopes the answer names (its
    /// `scope` parameter, else those its description quotes); empty when
    /// it names none.
    pub scopes: Vec<String>,
    /// The scopes the probe asked for.
    pub requested: Vec<String>,
}

impl AuthorizeRefusal {
    /// `error: description` as the server said it.
    pub fn said(&self) -> String {
        match &self.description {
            Some(d) => format!("{}: {d}", self.error),
            None => self.error.clone(),
        }
    }

    /// `"registration"."error"` of `--json`.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({ "error": self.error });
        if let Some(d) = &self.description {
            v["error_description"] = d.as_str().into();
        }
        if self.error == "invalid_scope" {
            v["scopes"] = self.scopes.clone().into();
        }
        v
    }
}

impl RedirectProbe {
    /// the contract's `--json` word: `registered`, `missing` or `unknown`
    /// (an app refusal is on a registered URI; its error is reported apart).
    pub fn as_str(&self) -> &'static str {
        match self {
            RedirectProbe::Registered | RedirectProbe::AppRefused(_) => "registered",
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
    let sent = crate::http::send(http.get(request.url().clone()).timeout(PROBE_TIMEOUT)).await;
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
        Ok(r) => {
            let location = r
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok());
            classify_authorize_answer(
                r.status().as_u16(),
                location,
                request.url(),
                redirect_uri,
                scopes,
            )
        }
    }
}

/// The verdict on one answer of `GET /authorize`. Pure.
///
/// A 3xx is "registered" unless its `Location` goes back to `redirect_uri`
/// (same scheme, host, port and path) with `error=`: Okta reports an
/// already-validated client's errors that way (docs/vendors.md §5 [51]).
pub fn classify_authorize_answer(
    status: u16,
    location: Option<&str>,
    request_url: &Url,
    redirect_uri: &str,
    requested_scopes: &[String],
) -> RedirectProbe {
    match status {
        300..=399 => {}
        400 => return RedirectProbe::Refused,
        other => {
            return RedirectProbe::Unknown(format!(
                "the authorization endpoint answered HTTP {other}"
            ));
        }
    }
    let back_to_client = location
        .and_then(|l| request_url.join(l).ok())
        .zip(Url::parse(redirect_uri).ok())
        .filter(|(to, uri)| {
            to.scheme() == uri.scheme()
                && to.host_str() == uri.host_str()
                && to.port_or_known_default() == uri.port_or_known_default()
                && to.path() == uri.path()
        })
        .map(|(to, _)| to);
    let Some(to) = back_to_client else {
        return RedirectProbe::Registered;
    };
    let param = |name: &str| {
        to.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let Some(error) = param("error").filter(|e| !e.is_empty()) else {
        return RedirectProbe::Registered;
    };
    let description = param("error_description")
        .map(|d| sanitize_provider_text(&d, 300))
        .filter(|d| !d.is_empty());
    let named_in_scope_param: Vec<String> = param("scope")
        .map(|s| {
            s.split_whitespace()
                .map(|x| sanitize_provider_text(x, 64))
                .collect()
        })
        .unwrap_or_default();
    let scopes = if !named_in_scope_param.is_empty() {
        named_in_scope_param
    } else {
        let text = description.as_deref().unwrap_or("");
        requested_scopes
            .iter()
            .filter(|s| mentions_word(text, s))
            .cloned()
            .collect()
    };
    RedirectProbe::AppRefused(AuthorizeRefusal {
        error: sanitize_provider_text(&error, 64),
        description,
        scopes,
        requested: requested_scopes.to_vec(),
    })
}

/// Whether `text` has `word` not inside a longer scope-like name.
fn mentions_word(text: &str, word: &str) -> bool {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(is_name) && !after.is_some_and(is_name)
    })
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
    /// The app may not make the request (`invalid_scope`,
    /// `unauthorized_client`, …): about the app, whichever URI said it, so
    /// it comes before any other verdict.
    AppRefused(AuthorizeRefusal),
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
        if let Some(refusal) = self.app_refusal() {
            return RegistrationVerdict::AppRefused(refusal.clone());
        }
        match (&self.local, &self.stackone) {
            (Unreachable(host), _) | (_, Unreachable(host)) => {
                RegistrationVerdict::Unreachable(host.clone())
            }
            (Unknown(why), _) | (_, Unknown(why)) => RegistrationVerdict::Inconclusive(why.clone()),
            (Refused, Refused) => RegistrationVerdict::ClientUnknownOrNoUris,
            (Refused, _) => RegistrationVerdict::LocalMissing,
            (_, Refused) => RegistrationVerdict::StackOneMissing,
            // Both registered (an app refusal, handled above, is on a
            // registered URI too).
            _ => RegistrationVerdict::AllRegistered,
        }
    }

    /// The first app refusal of the two answers, if any.
    pub fn app_refusal(&self) -> Option<&AuthorizeRefusal> {
        [&self.local, &self.stackone]
            .into_iter()
            .find_map(|p| match p {
                RedirectProbe::AppRefused(r) => Some(r),
                _ => None,
            })
    }

    /// `"registration"` of `init --json`; `"error"` when the authorization
    /// server refused the app's request.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "local_redirect_uri": self.local.as_str(),
            "stackone_redirect_uri": self.stackone.as_str(),
        });
        if let Some(refusal) = self.app_refusal() {
            v["error"] = refusal.to_json();
        }
        v
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
    // The same client authentication as the real exchange, or a secret
    // with a reserved character would be judged by another rule here.
    let credentials = ClientCredentials::new(client_id, client_secret);
    let sent = crate::http::send(
        credentials
            .authenticate(http.post(token_url.clone()))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code.as_str()),
                ("redirect_uri", redirect_uri),
                ("code_verifier", verifier.secret().as_str()),
            ])
            .timeout(PROBE_TIMEOUT),
    )
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
    let body = match crate::http::read_body(response, crate::http::MAX_TOKEN_BODY_BYTES).await {
        Ok(body) => body,
        Err(e) => return SecretProbe::Unknown(format!("{token_url}: {e}")),
    };
    classify_secret_probe(status, &body)
}

/// The verdict on the invalid-code answer. Pure. Any 401 is a refused
/// client whatever its body (Okta's may carry no `error` key), as at the
/// real exchange ([`crate::oauth::token::classify_token_error_response`]).
pub fn classify_secret_probe(status: u16, body: &[u8]) -> SecretProbe {
    let parsed = TokenErrorBody::parse(body);
    let code = parsed.as_ref().and_then(|p| p.code());
    match code {
        _ if status == 401 => SecretProbe::Refused,
        Some("invalid_client") => SecretProbe::Refused,
        Some("invalid_grant") => SecretProbe::Accepted,
        Some(other) => SecretProbe::Unknown(format!(
            "the token endpoint answered HTTP {status}, {}{}",
            sanitize_provider_text(other, 64),
            parsed
                .as_ref()
                .and_then(|p| p.description())
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
        assert_eq!(
            classify_secret_probe(
                401,
                br#"{"errorCode":"invalid_client","errorSummary":"Invalid value for 'client_id' parameter."}"#
            ),
            SecretProbe::Refused
        );
        assert_eq!(
            classify_secret_probe(401, br#"{"error":"invalid_grant"}"#),
            SecretProbe::Refused,
            "any 401 is the client's credentials"
        );
        assert!(matches!(
            classify_secret_probe(429, br#"[{"error_key":"throttled"}]"#),
            SecretProbe::Unknown(_)
        ));
        assert!(matches!(
            classify_secret_probe(400, br#"{"error":"invalid_request"}"#),
            SecretProbe::Unknown(_)
        ));
    }

    fn scopes(list: &str) -> Vec<String> {
        list.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn an_error_redirect_to_the_redirect_uri_is_an_app_refusal() {
        let request = Url::parse("https://authz.example/oauth2/default/v1/authorize?x=1").unwrap();
        let local = "http://localhost:8917/callback";
        let requested = scopes("account_read campaign_data offline_access");
        let classify = |status, location: Option<&str>| {
            classify_authorize_answer(status, location, &request, local, &requested)
        };
        assert_eq!(
            classify(302, Some("/login/login.htm?fromURI=x")),
            RedirectProbe::Registered
        );
        assert_eq!(classify(400, None), RedirectProbe::Refused);
        assert!(matches!(classify(200, None), RedirectProbe::Unknown(_)));
        // The redirect URI without error=: not a refusal.
        assert_eq!(
            classify(302, Some("http://localhost:8917/callback?state=x")),
            RedirectProbe::Registered
        );
        // Another path with error=: not the client's redirect URI.
        assert_eq!(
            classify(302, Some("http://localhost:8917/other?error=invalid_scope")),
            RedirectProbe::Registered
        );
        // The scope parameter names the scope.
        let RedirectProbe::AppRefused(r) = classify(
            303,
            Some(
                "http://localhost:8917/callback?error=invalid_scope&error_description=nope&state=s&scope=campaign_data",
            ),
        ) else {
            panic!("an app refusal")
        };
        assert_eq!(r.error, "invalid_scope");
        assert_eq!(r.scopes, vec!["campaign_data"]);
        assert_eq!(r.description.as_deref(), Some("nope"));
        // Else the description's quoted names, whole words only.
        let RedirectProbe::AppRefused(r) = classify(
            302,
            Some(
                "http://localhost:8917/callback?error=invalid_scope&error_description=The+following+scopes+are+not+allowed%3A+%27campaign_data%27.&state=s",
            ),
        ) else {
            panic!("an app refusal")
        };
        assert_eq!(r.scopes, vec!["campaign_data"]);
        assert_eq!(
            r.to_json(),
            serde_json::json!({"error":"invalid_scope","error_description":"The following scopes are not allowed: 'campaign_data'.","scopes":["campaign_data"]})
        );
        let RedirectProbe::AppRefused(r) = classify(
            302,
            Some(
                "http://localhost:8917/callback?error=unauthorized_client&error_description=%1b[31mno",
            ),
        ) else {
            panic!("an app refusal")
        };
        assert_eq!(r.error, "unauthorized_client");
        assert!(!r.description.unwrap().contains('\u{1b}'), "sanitised");
        assert!(!mentions_word("not account_read_all", "account_read"));
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
        let refusal = AuthorizeRefusal {
            error: "unauthorized_client".into(),
            description: None,
            scopes: Vec::new(),
            requested: vec!["account_read".into()],
        };
        // About the app, whichever URI said it, before a missing URI.
        assert_eq!(
            r(Registered, AppRefused(refusal.clone())).verdict(),
            RegistrationVerdict::AppRefused(refusal.clone())
        );
        assert_eq!(
            r(AppRefused(refusal.clone()), Refused).verdict(),
            RegistrationVerdict::AppRefused(refusal.clone())
        );
        assert_eq!(
            r(AppRefused(refusal.clone()), Registered).to_json(),
            serde_json::json!({"local_redirect_uri":"registered","stackone_redirect_uri":"registered","error":{"error":"unauthorized_client"}})
        );
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
