//! `POST /oauth2/default/v1/token`: client authentication (HTTP Basic
//! only), the authorization-code grant with PKCE, the refresh-token grant
//! (rotating or long-lived), and minting the token set.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::super::server::{Request, Response};
use super::html::no_store;
use super::params::{Params, Repeated, is_form};
use super::state::{
    ACCESS_TOKEN_LIFETIME, AccessToken, ErrorShape, Grant, IssuedRefreshToken,
    REFRESH_TOKEN_IDLE_LIFETIME, RefreshKind, RefreshRedemption, State, epoch_seconds,
    random_client_id, random_token,
};

/// The legacy service's wording, kept for every refused refresh token.
pub const INVALID_REFRESH_TOKEN: &str = "unknown, invalid, or expired refresh token";

pub(super) fn token(state: &mut State, req: &Request, issuer: &str) -> Response {
    if req.method != "POST" {
        return oauth_error(405, "invalid_request", "Use POST for token requests.");
    }
    if let Some(limited) = rate_limited(state) {
        return limited;
    }
    // A body must be a form; an empty body with the parameters in the query
    // string is what CC's support sample sends.
    if (!req.body.is_empty() || req.header("content-type").is_some()) && !is_form(req) {
        return oauth_error(
            400,
            "invalid_request",
            "The Content-Type must be application/x-www-form-urlencoded.",
        );
    }
    let mut pairs = req.form();
    pairs.extend(req.query_pairs());
    let params = Params::new(pairs);
    let client_id = match authenticated_client(state, req, &params) {
        Ok(id) => id,
        Err(response) => return response,
    };
    match params.non_empty("grant_type") {
        Ok(Some("authorization_code")) => authorization_code(state, &params, &client_id, issuer),
        Ok(Some("refresh_token")) => refresh_token(state, &params, &client_id, issuer),
        Ok(Some(_)) => oauth_error(
            400,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        ),
        Ok(None) | Err(Repeated) => oauth_error(
            400,
            "invalid_request",
            "The 'grant_type' parameter is missing.",
        ),
    }
}

/// Okta's order: a repeated parameter is refused first, then the client
/// is authenticated — before any grant or token is looked at.
fn authenticated_client(state: &State, req: &Request, params: &Params) -> Result<String, Response> {
    if let Some(name) = params.first_repeated() {
        return Err(oauth_error(
            400,
            "invalid_request",
            &format!("The '{name}' parameter is given more than once."),
        ));
    }
    authenticate_client(state, req, params)
}

/// HTTP Basic with `client_id:client_secret`, each form-urlencoded first
/// (RFC 6749 §2.3.1), and nothing else: a secret in the body is refused, as
/// is a second set of credentials. A `+` is a space and `%XX` a byte, so a
/// client that skips the encoding fails here with a secret that has a
/// reserved character, as it would at a server that follows the RFC.
fn authenticate_client(state: &State, req: &Request, params: &Params) -> Result<String, Response> {
    let body_secret = params.contains("client_secret");
    let credentials = req
        .basic_auth()
        .map(|(id, secret)| (form_urldecode(&id).unwrap_or(id), form_urldecode(&secret)));
    let Some((client_id, secret)) = credentials else {
        let description = if body_secret {
            "Client authentication failed: send the client credentials with HTTP Basic, not in the request body."
        } else {
            "Client authentication failed: HTTP Basic client credentials (API Key and Client Secret) are required."
        };
        let named = params.get("client_id").ok().flatten();
        return Err(invalid_client(state, named, description));
    };
    if body_secret {
        return Err(oauth_error(
            400,
            "invalid_request",
            "Cannot supply multiple client credentials. Use HTTP Basic only.",
        ));
    }
    if let Ok(Some(body_id)) = params.get("client_id")
        && body_id != client_id
    {
        return Err(invalid_client(
            state,
            Some(&client_id),
            "The client_id in the body does not match the authenticated client.",
        ));
    }
    let authenticated = state
        .app(&client_id)
        .and_then(|app| app.client_secret.as_deref())
        .is_some_and(|expected| secret.as_deref() == Some(expected));
    if !authenticated {
        return Err(invalid_client(
            state,
            Some(&client_id),
            "Client authentication failed: unknown client, or the client secret is wrong or no longer valid.",
        ));
    }
    Ok(client_id)
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a
/// space, `%XX` a byte; a malformed escape or non-UTF-8 result is `None`.
fn form_urldecode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// `invalid_client` (401) in the shape the app's settings choose: RFC
/// 6749's, or Okta's `{errorCode, errorSummary, errorLink, errorId,
/// errorCauses}` with no `error` key (docs/vendors.md §5). An unknown
/// client gets the RFC shape.
fn invalid_client(state: &State, client_id: Option<&str>, description: &str) -> Response {
    let shape = client_id
        .and_then(|id| state.app(id))
        .map_or(ErrorShape::Rfc6749, |app| app.error_shape);
    match shape {
        ErrorShape::Rfc6749 => oauth_error(401, "invalid_client", description),
        ErrorShape::Okta => no_store(Response::json(
            401,
            &serde_json::json!({
                "errorCode": "invalid_client",
                "errorSummary": description,
                "errorLink": "invalid_client",
                "errorId": format!("oae{}", random_token(16)),
                "errorCauses": [],
            }),
        ))
        .with_header("www-authenticate", "Basic realm=\"ccsetup sandbox\""),
    }
}

/// Okta's rate limit on the token endpoint (docs/vendors.md §5): while it
/// lasts, 429 with Okta's error body and `X-Rate-Limit-*` headers, the
/// reset as epoch seconds. Real time, not the test clock: clients wait for
/// it in real time.
fn rate_limited(state: &State) -> Option<Response> {
    let until = state.token_rate_limited_until?;
    if std::time::SystemTime::now() >= until {
        return None;
    }
    let reset = epoch_seconds(until).to_string();
    Some(
        no_store(Response::json(
            429,
            &serde_json::json!({
                "errorCode": "E0000047",
                "errorSummary": "API call exceeded rate limit due to too many requests.",
                "errorLink": "E0000047",
                "errorId": format!("oae{}", random_token(16)),
                "errorCauses": [],
            }),
        ))
        .with_header("x-rate-limit-limit", "600")
        .with_header("x-rate-limit-remaining", "0")
        .with_header("x-rate-limit-reset", &reset),
    )
}

/// `POST /oauth2/default/v1/revoke` (RFC 7009): the client authenticates as
/// at the token endpoint; an unknown, dead or foreign token is still 200
/// (§2.2: nothing to tell an attacker). Revoking a refresh token ends its
/// whole grant: the family of rotated tokens dies with it.
pub(super) fn revoke(state: &mut State, req: &Request) -> Response {
    if req.method != "POST" {
        return oauth_error(405, "invalid_request", "Use POST for revocation requests.");
    }
    if !is_form(req) {
        return oauth_error(
            400,
            "invalid_request",
            "The Content-Type must be application/x-www-form-urlencoded.",
        );
    }
    let params = Params::new(req.form());
    let client_id = match authenticated_client(state, req, &params) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let Ok(Some(token)) = params.non_empty("token") else {
        return oauth_error(400, "invalid_request", "The 'token' parameter is missing.");
    };
    match params.non_empty("token_type_hint") {
        Ok(None | Some("refresh_token" | "access_token")) => {}
        _ => {
            return oauth_error(
                400,
                "unsupported_token_type",
                "token_type_hint must be refresh_token or access_token.",
            );
        }
    }
    let grant = state
        .refresh_tokens
        .iter()
        .find(|t| t.token == token && t.client_id == client_id)
        .map(|t| t.grant_id);
    if let Some(grant_id) = grant {
        for t in state
            .refresh_tokens
            .iter_mut()
            .filter(|t| t.grant_id == grant_id)
        {
            t.alive = false;
        }
    } else if let Some(access) = state.access_tokens.get_mut(token) {
        access.revoked = true;
    }
    no_store(Response::new(200))
}

fn authorization_code(
    state: &mut State,
    params: &Params,
    client_id: &str,
    issuer: &str,
) -> Response {
    let Ok(Some(code)) = params.non_empty("code") else {
        return oauth_error(400, "invalid_request", "The 'code' parameter is missing.");
    };
    let Ok(Some(redirect_uri)) = params.non_empty("redirect_uri") else {
        return oauth_error(
            400,
            "invalid_request",
            "The 'redirect_uri' parameter is missing.",
        );
    };
    let now = state.now();
    let Some(record) = state.codes.get_mut(code) else {
        return invalid_grant("The authorization code is invalid or has expired.");
    };
    // Another client's code is refused without using it up (or anyone
    // holding a stolen code could burn it).
    if record.client_id != client_id {
        return invalid_grant("The authorization code was issued to another client.");
    }
    if record.used {
        return invalid_grant("The authorization code has already been used.");
    }
    // Single use: any redemption attempt by its client uses it up.
    record.used = true;
    if now >= record.expires_at {
        return invalid_grant("The authorization code is invalid or has expired.");
    }
    if record.redirect_uri != redirect_uri {
        return invalid_grant(
            "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
        );
    }
    let Ok(Some(verifier)) = params.non_empty("code_verifier") else {
        return invalid_grant(
            "PKCE verification failed: the 'code_verifier' parameter is missing.",
        );
    };
    if !is_valid_verifier(verifier) {
        return invalid_grant(
            "PKCE verification failed: the 'code_verifier' must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~",
        );
    }
    if s256(verifier) != record.code_challenge {
        return invalid_grant("PKCE verification failed.");
    }
    let scopes = record.scopes.clone();
    state.grants.push(Grant {
        scopes: scopes.clone(),
    });
    let grant_id = state.grants.len() - 1;
    let access_token = mint_access_token(state, client_id, &scopes, issuer);
    let refresh_token =
        has_offline_access(&scopes).then(|| mint_refresh_token(state, client_id, grant_id));
    token_response(&access_token, &scopes, refresh_token.as_deref())
}

fn refresh_token(state: &mut State, params: &Params, client_id: &str, issuer: &str) -> Response {
    let Ok(Some(presented)) = params.non_empty("refresh_token") else {
        return oauth_error(
            400,
            "invalid_request",
            "The 'refresh_token' parameter is missing.",
        );
    };
    let now = state.now();
    let okta_rotation = state.app(client_id).and_then(|app| app.okta_rotation);
    let found = state.refresh_tokens.iter().position(|t| {
        t.token == presented
            && t.client_id == client_id
            && t.alive
            && now < t.last_used + REFRESH_TOKEN_IDLE_LIFETIME
    });
    state.refresh_redemptions.push(RefreshRedemption {
        token: presented.to_string(),
        client_id: client_id.to_string(),
        accepted: false,
    });
    let Some(index) = found else {
        return invalid_grant(INVALID_REFRESH_TOKEN);
    };
    // Okta: a spent token works during the grace period; after it, its
    // reuse revokes the newest token of the grant too (docs/vendors.md §5).
    if let (Some(rotation), Some(spent_at)) = (okta_rotation, state.refresh_tokens[index].spent_at)
        && now >= spent_at + rotation.grace_period
    {
        let grant_id = state.refresh_tokens[index].grant_id;
        for t in state
            .refresh_tokens
            .iter_mut()
            .filter(|t| t.grant_id == grant_id)
        {
            t.alive = false;
        }
        state.refresh_reuses.push(presented.to_string());
        return invalid_grant(INVALID_REFRESH_TOKEN);
    }
    let grant_id = state.refresh_tokens[index].grant_id;
    let granted = state.grants[grant_id].scopes.clone();
    // An optional narrower scope applies to the new access token only.
    let scopes = match params.non_empty("scope") {
        Ok(Some(requested)) => {
            let requested: Vec<String> = requested
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
            if let Some(extra) = requested.iter().find(|s| !granted.contains(s)) {
                return oauth_error(
                    400,
                    "invalid_scope",
                    &format!("The scope '{extra}' was not granted to this refresh token."),
                );
            }
            requested
        }
        _ => granted,
    };
    if let Some(last) = state.refresh_redemptions.last_mut() {
        last.accepted = true;
    }
    let kind = state
        .app(client_id)
        .map_or(RefreshKind::Rotating, |app| app.refresh_kind);
    let refresh_token = match kind {
        RefreshKind::Rotating => {
            // A new token set invalidates every earlier refresh token of
            // the grant — the used one included. With Okta's rotation
            // options they are only spent: usable for the grace period,
            // then a reuse is detected.
            for token in state
                .refresh_tokens
                .iter_mut()
                .filter(|t| t.grant_id == grant_id)
            {
                if okta_rotation.is_some() {
                    token.spent_at.get_or_insert(now);
                } else {
                    token.alive = false;
                }
            }
            mint_refresh_token(state, client_id, grant_id)
        }
        RefreshKind::LongLived => {
            state.refresh_tokens[index].last_used = now;
            presented.to_string()
        }
    };
    let access_token = mint_access_token(state, client_id, &scopes, issuer);
    token_response(&access_token, &scopes, Some(&refresh_token))
}

fn has_offline_access(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "offline_access")
}

/// RFC 7636 §4.1: 43–128 unreserved characters.
fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// base64url(SHA-256(verifier)), no padding: the S256 challenge.
pub fn s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// A JWT-shaped access token. Not really signed (the signature is random
/// bytes): clients must not verify it locally but call the API, as the
/// wizard does; the stand-in looks tokens up by their full text.
fn mint_access_token(
    state: &mut State,
    client_id: &str,
    scopes: &[String],
    issuer: &str,
) -> String {
    let now = state.now();
    let expires_at = now + ACCESS_TOKEN_LIFETIME;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    let header = b64(serde_json::json!({ "kid": "ccsetup-sandbox", "alg": "RS256" }));
    let payload = b64(serde_json::json!({
        "ver": 1,
        "jti": format!("AT.{}", random_token(24)),
        "iss": issuer,
        "aud": "https://api.cc.email/v3",
        "iat": epoch_seconds(now),
        "exp": epoch_seconds(expires_at),
        "cid": client_id,
        "uid": state.account.encoded_account_id,
        "scp": scopes,
        "auth_time": epoch_seconds(now),
        "sub": state.account.contact_email,
        "platform_user_id": random_client_id(),
    }));
    let token = format!("{header}.{payload}.{}", random_token(64));
    state.access_tokens.insert(
        token.clone(),
        AccessToken {
            scopes: scopes.to_vec(),
            expires_at,
            revoked: false,
        },
    );
    token
}

fn mint_refresh_token(state: &mut State, client_id: &str, grant_id: usize) -> String {
    let now = state.now();
    let token = random_token(32);
    state.refresh_tokens.push(IssuedRefreshToken {
        token: token.clone(),
        client_id: client_id.to_string(),
        grant_id,
        issued_at: now,
        last_used: now,
        alive: true,
        spent_at: None,
    });
    token
}

fn token_response(access_token: &str, scopes: &[String], refresh_token: Option<&str>) -> Response {
    let mut body = serde_json::json!({
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_LIFETIME.as_secs(),
        "access_token": access_token,
        "scope": scopes.join(" "),
    });
    if let Some(refresh) = refresh_token {
        body["refresh_token"] = refresh.into();
    }
    no_store(Response::json(200, &body))
}

fn invalid_grant(description: &str) -> Response {
    oauth_error(400, "invalid_grant", description)
}

/// `{error, error_description}`; 401s name the Basic scheme to use.
fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let response = no_store(Response::json(
        status,
        &serde_json::json!({ "error": error, "error_description": description }),
    ));
    if status == 401 {
        response.with_header("www-authenticate", "Basic realm=\"ccsetup sandbox\"")
    } else {
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s256_matches_the_rfc_7636_example() {
        assert_eq!(
            s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn basic_credentials_are_form_urldecoded() {
        assert_eq!(
            form_urldecode("a%3Ab%25c%2Bd%2Fe+f").as_deref(),
            Some("a:b%c+d/e f")
        );
        assert_eq!(form_urldecode("plain-_.~").as_deref(), Some("plain-_.~"));
        assert_eq!(form_urldecode("bad%2"), None);
        assert_eq!(form_urldecode("bad%zz"), None);
    }

    #[test]
    fn verifiers_must_be_43_to_128_unreserved_characters() {
        assert!(is_valid_verifier(&"a".repeat(43)));
        assert!(is_valid_verifier(&"a-._~".repeat(26)[..128]));
        assert!(!is_valid_verifier(&"a".repeat(42)));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(42))));
    }
}
