//! The authorization request: the URL the user opens, with PKCE (S256) and
//! a fresh `state`, built with the oauth2 crate's types.

use std::fmt;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use url::Url;

use crate::error::{Error, Result};

/// One authorization attempt: the URL to open and the two values that must
/// stay on this machine until the callback arrives (the state to compare,
/// the PKCE verifier to send with the code).
pub struct AuthorizationRequest {
    url: Url,
    redirect_uri: String,
    state: CsrfToken,
    pkce_verifier: PkceCodeVerifier,
}

impl AuthorizationRequest {
    /// Builds the URL with `client_id`, `redirect_uri`, `response_type=code`,
    /// `scope` (space-separated), `state` (128 random bits) and
    /// `code_challenge` + `code_challenge_method=S256`.
    pub fn new(
        authorize_url: &Url,
        client_id: &str,
        redirect_uri: &str,
        scopes: &[String],
    ) -> Result<Self> {
        let redirect = RedirectUrl::new(redirect_uri.to_string()).map_err(|e| {
            Error::usage(format!(
                "the redirect URI {redirect_uri} is not a valid URL"
            ))
            .with_source(e)
        })?;
        let client = BasicClient::new(ClientId::new(client_id.to_string()))
            .set_auth_uri(AuthUrl::from_url(authorize_url.clone()))
            .set_redirect_uri(redirect);
        let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().map(|s| Scope::new(s.clone())))
            .set_pkce_challenge(challenge)
            .url();
        Ok(AuthorizationRequest {
            url,
            redirect_uri: redirect_uri.to_string(),
            state,
            pkce_verifier,
        })
    }

    /// The URL to open in the browser (not secret: it carries only the
    /// challenge, never the verifier).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The exact redirect URI sent; the token request must repeat it.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// The `state` a callback must echo.
    pub fn state(&self) -> &CsrfToken {
        &self.state
    }

    /// The PKCE verifier, for the code exchange.
    pub fn pkce_verifier(&self) -> &PkceCodeVerifier {
        &self.pkce_verifier
    }

    /// Splits off what the code exchange needs.
    pub fn into_parts(self) -> (Url, CsrfToken, PkceCodeVerifier) {
        (self.url, self.state, self.pkce_verifier)
    }
}

impl fmt::Debug for AuthorizationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationRequest")
            .field("url", &self.url.as_str())
            .field("redirect_uri", &self.redirect_uri)
            .field("state", &"[redacted]")
            .field("pkce_verifier", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_verifier() {
        let req = AuthorizationRequest::new(
            &Url::parse("https://auth.example/authorize").unwrap(),
            "id",
            "http://localhost:8917/callback",
            &["account_read".to_string()],
        )
        .unwrap();
        let dbg = format!("{req:?}");
        assert!(!dbg.contains(req.pkce_verifier().secret()));
    }
}
