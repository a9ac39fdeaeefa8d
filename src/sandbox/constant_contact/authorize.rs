//! `GET /oauth2/default/v1/authorize` and the consent decision.
//!
//! Order of checks, as OAuth requires (RFC 6749 §4.1.2.1): until the client
//! and its redirect URI are verified, errors are shown as a page — never a
//! redirect to an unverified URI. After that, errors go back to the client
//! as `error=…&error_description=…&state=…` on the redirect URI — as Okta
//! does for `unauthorized_client` (an app type without the code flow) and
//! `invalid_scope` (a scope the app may not ask for), before any sign-in
//! (docs/vendors.md §5 [51]).
//!
//! The consent form carries only a one-time consent id: the parameters stay
//! on the server, so the browser cannot tamper with them between the page
//! and the decision.

use super::super::server::{Request, Response};
use super::apps::redirect_uri_registered;
use super::html::{error_page, escape, no_store, page};
use super::params::{Params, Repeated, is_form};
use super::state::{
    AuthCode, CODE_LIFETIME, CONSENT_LIFETIME, KNOWN_SCOPES, OAuthFlow, PendingConsent, State,
    random_token,
};

/// Where the consent form posts.
pub const DECISION_PATH: &str = "/oauth2/default/v1/authorize/decision";
/// The sign-in and consent page `GET /authorize` redirects to, as Okta sends
/// a browser without a session to its sign-in page (docs/vendors.md §3).
pub const SIGN_IN_PATH: &str = "/oauth2/default/v1/authorize/signin";

const ACCESS_DENIED_DESCRIPTION: &str =
    "The resource owner or authorization server denied the request.";

pub(super) fn authorize(state: &mut State, req: &Request) -> Response {
    if req.method != "GET" {
        return error_page(
            405,
            "invalid_request",
            "Use GET for the authorization request.",
        );
    }
    let params = Params::new(req.query_pairs());

    // 1. The client and its redirect URI: errors here are pages.
    let client_id = match params.non_empty("client_id") {
        Err(Repeated) => {
            return error_page(400, "invalid_request", "client_id is given more than once.");
        }
        Ok(None) => return error_page(400, "invalid_request", "client_id is missing."),
        Ok(Some(id)) => id,
    };
    let Some(app) = state.app(client_id) else {
        return error_page(
            400,
            "invalid_client",
            "No application has this client_id (API Key). Check the API Key on the application's page in My Applications.",
        );
    };
    let redirect_uri = match params.non_empty("redirect_uri") {
        Err(Repeated) => {
            return error_page(
                400,
                "invalid_request",
                "redirect_uri is given more than once.",
            );
        }
        Ok(None) => return error_page(400, "invalid_request", "redirect_uri is missing."),
        Ok(Some(uri)) => uri,
    };
    if !redirect_uri_registered(app, redirect_uri) {
        return error_page(
            400,
            "invalid_request",
            &format!(
                "The 'redirect_uri' parameter must be one of the application's redirect URIs, exactly: {redirect_uri} is not (registered: {}).",
                if app.redirect_uris.is_empty() {
                    "none".to_string()
                } else {
                    app.redirect_uris.join(", ")
                }
            ),
        );
    }
    let flow = app.flow;
    let allowed_scopes = app.allowed_scopes.clone();
    let client_id = client_id.to_string();

    // 2. Everything else: errors go back to the client.
    let state_param = params.non_empty("state").ok().flatten().map(str::to_string);
    let fail = |error: &str, description: &str| {
        let mut pairs = vec![("error", error), ("error_description", description)];
        if let Some(s) = &state_param {
            pairs.push(("state", s));
        }
        redirect_with(redirect_uri, &pairs)
    };
    // Okta: an app whose type does not allow the code flow is told so on
    // its (validated) redirect URI (docs/vendors.md §5 [51]).
    if flow == OAuthFlow::Device {
        return fail(
            "unauthorized_client",
            "The client is not authorized to use the provided grant type. Configured grant types: [urn:ietf:params:oauth:grant-type:device_code].",
        );
    }
    if let Some(name) = params.first_repeated() {
        return fail(
            "invalid_request",
            &format!("The '{name}' parameter is given more than once."),
        );
    }
    match params.non_empty("response_type") {
        Ok(Some("code")) => {}
        Ok(Some(_)) => {
            return fail(
                "unsupported_response_type",
                "The response type is not supported by the authorization server. Use response_type=code.",
            );
        }
        _ => {
            return fail(
                "invalid_request",
                "The 'response_type' parameter is missing.",
            );
        }
    }
    let scopes = match parse_scopes(params.non_empty("scope").ok().flatten()) {
        Ok(scopes) => scopes,
        Err(description) => return fail("invalid_scope", &description),
    };
    // A known scope the app may not ask for (the portal restricted it):
    // `invalid_scope` on the redirect URI, naming it (docs/vendors.md §5).
    let refused: Vec<&str> = scopes
        .iter()
        .filter(|s| !allowed_scopes.contains(s))
        .map(String::as_str)
        .collect();
    if !refused.is_empty() {
        let quoted: Vec<String> = refused.iter().map(|s| format!("'{s}'")).collect();
        return fail(
            "invalid_scope",
            &format!(
                "The following scopes are not allowed for this client: {}.",
                quoted.join(", ")
            ),
        );
    }
    if state_param.is_none() {
        return fail("invalid_request", "The 'state' parameter is required.");
    }
    match params.non_empty("code_challenge_method") {
        Ok(Some("S256")) => {}
        Ok(Some(_)) => {
            return fail(
                "invalid_request",
                "The 'code_challenge_method' must be S256; plain is not accepted.",
            );
        }
        _ => {
            return fail(
                "invalid_request",
                "PKCE is required: the 'code_challenge_method' parameter (S256) is missing.",
            );
        }
    }
    let code_challenge = match params.non_empty("code_challenge") {
        Ok(Some(c)) if is_s256_challenge(c) => c.to_string(),
        Ok(Some(_)) => {
            return fail(
                "invalid_request",
                "The 'code_challenge' must be the base64url SHA-256 of the code verifier (43 characters).",
            );
        }
        _ => {
            return fail(
                "invalid_request",
                "PKCE is required: the 'code_challenge' parameter is missing.",
            );
        }
    };

    let consent_id = random_token(24);
    let shown_at = state.now();
    state.consents.insert(
        consent_id.clone(),
        PendingConsent {
            client_id,
            redirect_uri: redirect_uri.to_string(),
            scopes: scopes.clone(),
            state: state_param.unwrap_or_default(),
            code_challenge,
            shown_at,
        },
    );
    // No session here: like Okta, a 302 to the sign-in page, which is
    // where a registered client and redirect URI can be told apart from
    // the 400 above without anyone signing in.
    let mut sign_in = String::from(SIGN_IN_PATH);
    sign_in.push_str("?consent_id=");
    sign_in.push_str(&consent_id);
    no_store(Response::redirect(&sign_in))
}

/// `GET` of the sign-in page: the account is signed in already (a sandbox),
/// so it shows the consent form of a pending request.
pub(super) fn sign_in(state: &mut State, req: &Request) -> Response {
    if req.method != "GET" {
        return error_page(405, "invalid_request", "Use GET for the sign-in page.");
    }
    let now = state.now();
    let pending = req
        .query_param("consent_id")
        .and_then(|id| state.consents.get(&id).map(|c| (id, c.clone())))
        .filter(|(_, c)| now < c.shown_at + CONSENT_LIFETIME);
    let Some((consent_id, consent)) = pending else {
        return error_page(
            400,
            "invalid_request",
            "This sign-in request is unknown, expired or already answered. Start the sign-in again from the application.",
        );
    };
    let app_name = state
        .app(&consent.client_id)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    consent_page(
        &state.account.organization_name,
        &state.account.contact_email,
        &app_name,
        &consent.scopes,
        &consent_id,
    )
}

/// `POST` of the consent form: approve → a code, deny → `access_denied`.
pub(super) fn decide(state: &mut State, req: &Request) -> Response {
    if req.method != "POST" {
        return error_page(
            405,
            "invalid_request",
            "The consent decision must be POSTed.",
        );
    }
    if !is_form(req) {
        return error_page(
            400,
            "invalid_request",
            "The consent decision must be a form (application/x-www-form-urlencoded).",
        );
    }
    let params = Params::new(req.form());
    let approve = match params.get("decision") {
        Ok(Some("approve")) => true,
        Ok(Some("deny")) => false,
        _ => return error_page(400, "invalid_request", "Choose Approve or Deny."),
    };
    let Ok(Some(consent_id)) = params.get("consent_id") else {
        return error_page(400, "invalid_request", "The consent id is missing.");
    };
    // Removed before anything else: a consent id answers exactly once.
    let consent = state.consents.remove(consent_id);
    let now = state.now();
    let Some(consent) = consent.filter(|c| now < c.shown_at + CONSENT_LIFETIME) else {
        return error_page(
            400,
            "invalid_request",
            "This consent request is unknown, expired or already answered. Start the sign-in again from the application.",
        );
    };
    if !approve {
        return redirect_with(
            &consent.redirect_uri,
            &[
                ("error", "access_denied"),
                ("error_description", ACCESS_DENIED_DESCRIPTION),
                ("state", &consent.state),
            ],
        );
    }
    let code = random_token(32);
    state.codes.insert(
        code.clone(),
        AuthCode {
            client_id: consent.client_id,
            redirect_uri: consent.redirect_uri.clone(),
            scopes: consent.scopes,
            code_challenge: consent.code_challenge,
            expires_at: now + CODE_LIFETIME,
            used: false,
        },
    );
    redirect_with(
        &consent.redirect_uri,
        &[("code", &code), ("state", &consent.state)],
    )
}

/// Space-separated, each one known; duplicates folded, order kept.
fn parse_scopes(raw: Option<&str>) -> Result<Vec<String>, String> {
    let Some(raw) = raw else {
        return Err("The 'scope' parameter is missing; request at least one scope.".into());
    };
    let mut scopes: Vec<String> = Vec::new();
    for scope in raw.split(' ').filter(|s| !s.is_empty()) {
        if !KNOWN_SCOPES.contains(&scope) {
            return Err(format!(
                "One or more scopes are not configured for the authorization server resource: '{scope}'. Scopes are space-separated, from: {}.",
                KNOWN_SCOPES.join(" ")
            ));
        }
        if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_string());
        }
    }
    if scopes.is_empty() {
        return Err("The 'scope' parameter is empty.".into());
    }
    Ok(scopes)
}

/// base64url(SHA-256(verifier)) is always 43 characters of the URL-safe
/// alphabet, without padding.
fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A 302 to `redirect_uri` with `pairs` appended to its query.
fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(500, "server_error", "The redirect URI cannot be parsed.");
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    no_store(Response::redirect(url.as_str()))
}

fn scope_description(scope: &str) -> &'static str {
    match scope {
        "account_read" => "Read your account details",
        "account_update" => "Change your account details",
        "contact_data" => "Read and manage your contacts",
        "campaign_data" => "Read and manage your email campaigns",
        "offline_access" => "Keep this access when you are not signed in",
        _ => "",
    }
}

fn consent_page(
    organization: &str,
    email: &str,
    app_name: &str,
    scopes: &[String],
    consent_id: &str,
) -> Response {
    let items: String = scopes
        .iter()
        .map(|s| {
            format!(
                "<li><code>{}</code> — {}</li>",
                escape(s),
                scope_description(s)
            )
        })
        .collect();
    let body = format!(
        "<p>Signed in to the Constant Contact account <strong>{org}</strong> ({email}).</p>\
<p>The application <strong>{app}</strong> asks for access to this account:</p>\
<ul>{items}</ul>\
<form method=\"post\" action=\"{DECISION_PATH}\">\
<input type=\"hidden\" name=\"consent_id\" value=\"{id}\">\
<button type=\"submit\" name=\"decision\" value=\"approve\">Approve</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\
</form>",
        org = escape(organization),
        email = escape(email),
        app = escape(app_name),
        id = escape(consent_id),
    );
    no_store(Response::html(200, page("Allow access?", &body)))
}
