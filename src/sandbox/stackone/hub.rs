//! The hub behind a connect session's `auth_link_url`, linking for real:
//! "Connect" runs the authorization-code flow (PKCE S256) against the
//! stand-in Constant Contact with the connector profile's stored client id
//! and secret and StackOne's callback URI, and records the connection
//! attempt in the session's `latest_connection_attempt` (docs/vendors.md §4):
//! `authenticated` with the new linked account's id, or `error` with
//! Constant Contact's `oauth_error_code` (e.g. `invalid_client` for a wrong
//! secret). Constant Contact is reached over HTTP only, through the
//! endpoints in the options.
//!
//! After consent, Constant Contact sends the browser to StackOne's real
//! callback (`https://api.stackone.com/…/callback`), which a sandbox cannot
//! serve: the page asks for that address to be pasted back, as ccsetup's own
//! paste path does. The test browser does the same.

use base64::Engine as _;
use rand::RngCore as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::dashboard::page;
use super::state::PendingOAuth;
use super::{
    CONSTANT_CONTACT, CcEndpoints, Request, Response, STACKONE_CALLBACK_URI, StackOneService,
};
use crate::sandbox::html::escape as esc;

/// Scopes asked for when the profile names none (the connector's defaults).
const DEFAULT_SCOPES: &str = "account_read contact_data offline_access";

pub(super) fn handle_hub(svc: &StackOneService, req: &Request) -> Response {
    let token = match (req.method.as_str(), req.path.as_str()) {
        ("GET", "/hub") => req.query_param("token"),
        ("POST", "/hub/connect" | "/hub/callback" | "/hub/cancel") => req.form_param("token"),
        _ => return page(404, "Not found", "<p>This sandbox page does not exist.</p>"),
    }
    .unwrap_or_default();
    let (session_id, owner) = {
        let state = svc.state();
        let Some(session) = state
            .sessions
            .iter()
            .find(|s| !token.is_empty() && s.token == token)
        else {
            return page(
                404,
                "Link expired or unknown",
                "<p>This link is not valid.</p>",
            );
        };
        if time::OffsetDateTime::now_utc() >= session.expires_at {
            return page(410, "Link expired", "<p>Ask for a new link.</p>");
        }
        let owner = session.body["origin_owner_name"]
            .as_str()
            .unwrap_or("")
            .to_string();
        (session.id, owner)
    };
    match req.path.as_str() {
        "/hub/connect" => connect(svc, session_id, &token),
        "/hub/callback" => callback(svc, session_id, &owner, req),
        "/hub/cancel" => {
            record(svc, session_id, attempt("cancelled", None, None, None));
            page(
                200,
                "Cancelled",
                "<p>Linking was cancelled. You can close this window.</p>",
            )
        }
        _ => match returning(svc, session_id) {
            Some(resp) => resp,
            None => page(
                200,
                "Link your Constant Contact account",
                &format!(
                    "<p>For {}.</p>\n<form method=\"post\" action=\"/hub/connect\">\
                 <input type=\"hidden\" name=\"token\" value=\"{t}\">\
                 <button type=\"submit\" id=\"connect\">Connect</button></form>\n\
                 <form method=\"post\" action=\"/hub/cancel\">\
                 <input type=\"hidden\" name=\"token\" value=\"{t}\">\
                 <button type=\"submit\">Cancel</button></form>",
                    esc(&owner),
                    t = esc(&token)
                ),
            ),
        },
    }
}

/// What a returning user sees instead of a fresh attempt (which would start
/// a new `state` and make the consent in the other tab a "State mismatch"):
/// the linked account, or the attempt still under way.
fn returning(svc: &StackOneService, session_id: u64) -> Option<Response> {
    let state = svc.state();
    let session = state.sessions.iter().find(|s| s.id == session_id)?;
    let attempt = session.attempt.as_ref()?;
    match attempt["status"].as_str() {
        Some("authenticated") => Some(linked_page(attempt)),
        Some("pending") => {
            let oauth = session.oauth.clone()?;
            let profile = state.profile(&oauth.profile_id).cloned()?;
            let cc = svc.options().constant_contact?;
            Some(continue_page(&cc, &profile, &oauth, &session.token))
        }
        _ => None,
    }
}

/// A session whose account is linked: done, whatever is pressed again.
fn linked_page(attempt: &Value) -> Response {
    page(
        200,
        "Account linked",
        &format!(
            "<p id=\"linked\">This link is done: the account <code>{}</code> is linked. You can close this window.</p>",
            esc(attempt["account_secure_id"].as_str().unwrap_or(""))
        ),
    )
}

fn attempt(
    status: &str,
    account: Option<&str>,
    code: Option<&str>,
    description: Option<&str>,
) -> Value {
    json!({
        "status": status,
        "account_secure_id": account,
        "oauth_error_code": code,
        "oauth_error_description": description,
    })
}

fn record(svc: &StackOneService, session_id: u64, value: Value) {
    if let Some(s) = svc.state().sessions.iter_mut().find(|s| s.id == session_id) {
        s.attempt = Some(value);
    }
}

/// "Connect": the session's profile (by id, else the enabled Constant
/// Contact profile), then the authorization URL with its credentials.
fn connect(svc: &StackOneService, session_id: u64, token: &str) -> Response {
    let Some(cc) = svc.options().constant_contact else {
        return page(
            503,
            "Not connected",
            "<p>This stand-in knows no Constant Contact.</p>",
        );
    };
    let mut state = svc.state();
    // Connect again after the account is linked (a reload of the attempt's
    // page re-posts Connect): the link stays done, no new attempt over it.
    if let Some(linked) = state
        .sessions
        .iter()
        .find(|s| s.id == session_id)
        .and_then(|s| s.attempt.as_ref())
        .filter(|a| a["status"] == "authenticated")
    {
        return linked_page(linked);
    }
    let wanted = state
        .sessions
        .iter()
        .find(|s| s.id == session_id)
        .and_then(|s| s.body["connector_profile_id"].as_str().map(str::to_string));
    // A disabled profile is hidden from the Hub (docs/vendors.md §5).
    let profile = state
        .profiles
        .iter()
        .filter(|p| p.connector_key == CONSTANT_CONTACT && p.active)
        .find(|p| wanted.as_deref().is_none_or(|w| p.id == w))
        .cloned();
    let Some(profile) = profile else {
        let text = "No enabled Constant Contact connector profile is available to this link.";
        if let Some(s) = state.sessions.iter_mut().find(|s| s.id == session_id) {
            s.attempt = Some(attempt("error", None, None, Some(text)));
        }
        return page(409, "Not available", &format!("<p>{text}</p>"));
    };
    // Connect pressed again (the back button, a second tab): the attempt
    // under way goes on, so its consent still matches.
    if let Some(pending) = state
        .sessions
        .iter()
        .find(|s| s.id == session_id)
        .filter(|s| s.attempt.as_ref().is_some_and(|a| a["status"] == "pending"))
        .and_then(|s| s.oauth.clone())
        .filter(|o| o.profile_id == profile.id)
    {
        return continue_page(&cc, &profile, &pending, token);
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let pending = PendingOAuth {
        state: super::api::random_token(32),
        code_verifier: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
        profile_id: profile.id.clone(),
    };
    if let Some(s) = state.sessions.iter_mut().find(|s| s.id == session_id) {
        s.oauth = Some(pending.clone());
        s.attempt = Some(attempt("pending", None, None, None));
    }
    continue_page(&cc, &profile, &pending, token)
}

/// The attempt's page: the authorization link (it opens in a new tab, so
/// this page stays), and where to paste the callback's address.
fn continue_page(
    cc: &CcEndpoints,
    profile: &super::StoredProfile,
    oauth: &PendingOAuth,
    token: &str,
) -> Response {
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(oauth.code_verifier.as_bytes()));
    let scope = if profile.scopes.is_empty() {
        DEFAULT_SCOPES.to_string()
    } else {
        profile.scopes.join(" ")
    };
    let mut url = cc.authorize.clone();
    url.query_pairs_mut()
        .append_pair("client_id", profile.client_id().unwrap_or_default())
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", STACKONE_CALLBACK_URI)
        .append_pair("scope", &scope)
        .append_pair("state", &oauth.state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256");
    page(
        200,
        "Continue at Constant Contact",
        &format!(
            "<ol><li><a id=\"authorize\" href=\"{}\" target=\"_blank\" rel=\"noopener\">Sign in to Constant Contact \
             and allow access</a> (opens in a new tab; this page stays here).</li>\n\
             <li>Constant Contact then sends that tab to StackOne's callback, which this \
             sandbox serves itself: the tab says when the account is linked, and this page \
             (reloaded) says so too. If that tab shows an address starting with \
             <code>{STACKONE_CALLBACK_URI}</code> instead, paste it here.</li></ol>\n\
             <form id=\"callback-form\" method=\"post\" action=\"/hub/callback\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <p><label>Address <input id=\"redirected_url\" name=\"redirected_url\" size=\"80\"></label></p>\
             <button type=\"submit\" id=\"finish\">Finish</button></form>",
            esc(url.as_str()),
            esc(token)
        ),
    )
}

/// StackOne's callback as the browser reaches it (the sandbox forwards
/// Constant Contact's redirect here): the attempt is found by its `state`.
pub(super) fn oauth_callback(svc: &StackOneService, req: &Request) -> Response {
    let wanted = req.query_param("state").unwrap_or_default();
    let found = {
        let state = svc.state();
        state
            .sessions
            .iter()
            .find(|s| !wanted.is_empty() && s.oauth.as_ref().is_some_and(|o| o.state == wanted))
            .map(|s| {
                (
                    s.id,
                    s.body["origin_owner_name"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                )
            })
    };
    let Some((session_id, owner)) = found else {
        return page(
            400,
            "Unknown attempt",
            "<p>This answer belongs to no linking attempt under way. Open the link again.</p>",
        );
    };
    let Ok(callback) = url::Url::parse(&svc.url(&format!("{}?{}", req.path, req.query))) else {
        return page(400, "Not the callback", "<p>Unreadable address.</p>");
    };
    finish(svc, session_id, &owner, &callback)
}

/// The pasted callback: an error from Constant Contact, or a code that is
/// exchanged with the profile's credentials.
fn callback(svc: &StackOneService, session_id: u64, owner_name: &str, req: &Request) -> Response {
    let pasted = req.form_param("redirected_url").unwrap_or_default();
    let served_here = svc.url(super::CALLBACK_PATH);
    let parsed = url::Url::parse(pasted.trim()).ok().filter(|u| {
        let mut base = u.clone();
        base.set_query(None);
        base.set_fragment(None);
        base.as_str() == STACKONE_CALLBACK_URI || base.as_str() == served_here
    });
    let Some(callback) = parsed else {
        return page(
            400,
            "Not the callback",
            &format!(
                "<p>Paste the address that starts with <code>{STACKONE_CALLBACK_URI}</code>.</p>"
            ),
        );
    };
    finish(svc, session_id, owner_name, &callback)
}

/// The callback's answer for session `session_id`.
fn finish(
    svc: &StackOneService,
    session_id: u64,
    owner_name: &str,
    callback: &url::Url,
) -> Response {
    let param = |k: &str| {
        callback
            .query_pairs()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.into_owned())
    };
    let (oauth, profile, session_body) = {
        let state = svc.state();
        let Some(session) = state.sessions.iter().find(|s| s.id == session_id) else {
            return page(
                404,
                "Link expired or unknown",
                "<p>This link is not valid.</p>",
            );
        };
        let Some(oauth) = session.oauth.clone() else {
            return page(400, "Not started", "<p>Press Connect first.</p>");
        };
        let profile = state.profile(&oauth.profile_id).cloned();
        (oauth, profile, session.body.clone())
    };
    if param("state").as_deref() != Some(oauth.state.as_str()) {
        return page(
            400,
            "State mismatch",
            "<p>This answer belongs to another attempt. Press Connect again.</p>",
        );
    }
    if let Some(code) = param("error") {
        let description = param("error_description");
        record(
            svc,
            session_id,
            attempt("error", None, Some(&code), description.as_deref()),
        );
        return page(
            200,
            "Not linked",
            &format!("<p>Constant Contact answered {}.</p>", esc(&code)),
        );
    }
    let (Some(code), Some(profile), Some(cc)) =
        (param("code"), profile, svc.options().constant_contact)
    else {
        record(
            svc,
            session_id,
            attempt("error", None, None, Some("no authorization code")),
        );
        return page(
            400,
            "Not linked",
            "<p>No authorization code in that address.</p>",
        );
    };
    let exchanged = run_blocking(exchange(
        cc,
        profile.client_id().unwrap_or_default().to_string(),
        profile.client_secret().unwrap_or_default().to_string(),
        code,
        oauth.code_verifier,
    ));
    match exchanged {
        Ok(()) => {
            let account_id = svc.state().add_account(
                CONSTANT_CONTACT,
                "active",
                session_body["origin_owner_id"].as_str().unwrap_or(""),
                owner_name,
                session_body["label"].as_str().map(str::to_string),
            );
            record(
                svc,
                session_id,
                attempt("authenticated", Some(&account_id), None, None),
            );
            page(
                200,
                "Account linked",
                &format!(
                    "<p>Constant Contact is now linked for {} (account <code>{}</code>). You can close this window.</p>",
                    esc(owner_name),
                    esc(&account_id)
                ),
            )
        }
        Err((code, description)) => {
            record(
                svc,
                session_id,
                attempt("error", None, Some(&code), Some(&description)),
            );
            page(
                200,
                "Not linked",
                &format!(
                    "<p>Constant Contact refused the connector profile's credentials: {} ({}).</p>",
                    esc(&code),
                    esc(&description)
                ),
            )
        }
    }
}

/// The code for tokens with HTTP Basic client authentication, then the
/// account check; `Err((oauth_error_code, description))`.
async fn exchange(
    cc: CcEndpoints,
    client_id: String,
    client_secret: String,
    code: String,
    verifier: String,
) -> Result<(), (String, String)> {
    let http = crate::http::client().map_err(|e| ("server_error".to_string(), e.to_string()))?;
    let unreachable = |e: reqwest::Error| {
        (
            "server_error".to_string(),
            format!("Constant Contact did not answer: {e}"),
        )
    };
    let resp = http
        .post(cc.token.clone())
        .basic_auth(&client_id, Some(&client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", STACKONE_CALLBACK_URI),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .map_err(unreachable)?;
    let ok = resp.status().is_success();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !ok {
        return Err((
            body["error"].as_str().unwrap_or("server_error").to_string(),
            body["error_description"].as_str().unwrap_or("").to_string(),
        ));
    }
    let Some(access_token) = body["access_token"].as_str() else {
        return Err((
            "server_error".into(),
            "no access_token in the answer".into(),
        ));
    };
    let summary = http
        .get(crate::endpoints::join(&cc.api, "/account/summary"))
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(unreachable)?;
    if !summary.status().is_success() {
        return Err((
            "server_error".into(),
            format!(
                "the account check answered HTTP {}",
                summary.status().as_u16()
            ),
        ));
    }
    Ok(())
}

/// Runs `fut` from a synchronous handler on the stand-ins' multi-thread
/// runtime, letting the other stand-in (on the same runtime) answer meanwhile.
fn run_blocking<T>(fut: impl Future<Output = T>) -> T {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(fut))
}
