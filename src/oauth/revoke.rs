//! RFC 7009 token revocation, so a forgotten refresh token is also a dead
//! one (`reset`). Constant Contact documents no revocation endpoint; the
//! Okta path `…/oauth2/default/v1/revoke` is the safest reading
//! (docs/vendors.md §5), and a failure here is only ever a warning.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use super::client_auth::ClientCredentials;
use crate::error::{Error, Result};

/// Revokes `refresh_token` with HTTP Basic client authentication
/// ([`ClientCredentials`]) and
/// `token_type_hint=refresh_token`. 200 is success (RFC 7009 §2.2: also for
/// a token the server no longer knows).
pub async fn revoke_refresh_token(
    http: &reqwest::Client,
    revoke_url: &Url,
    client_id: &str,
    client_secret: &SecretString,
    refresh_token: &SecretString,
) -> Result<()> {
    let credentials = ClientCredentials::new(client_id, client_secret);
    let response = crate::http::send(
        credentials
            .authenticate(http.post(revoke_url.clone()))
            .form(&[
                ("token", refresh_token.expose_secret()),
                ("token_type_hint", "refresh_token"),
            ])
            .timeout(Duration::from_secs(15)),
    )
    .await
    .map_err(|e| {
        Error::remote(format!(
            "could not reach {revoke_url} to revoke the refresh token"
        ))
        .with_source(e)
    })?;
    let status = response.status().as_u16();
    if status == 200 {
        return Ok(());
    }
    // Only the error's name is shown; an unreadable or oversized body says
    // nothing more than the status.
    let body = crate::http::read_body(response, crate::http::MAX_TOKEN_BODY_BYTES)
        .await
        .unwrap_or_default();
    let detail = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
        .map(|e| format!(", {}", super::callback::sanitize_provider_text(&e, 64)))
        .unwrap_or_default();
    Err(Error::remote(format!(
        "Constant Contact did not revoke the refresh token (HTTP {status}{detail})"
    )))
}
