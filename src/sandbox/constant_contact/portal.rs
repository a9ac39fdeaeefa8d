//! The developer portal under `/portal/`: a small but real "My
//! Applications" site, so a newcomer running `ccsetup demo` walks the seed
//! guide's steps in a browser — New Application, Create, Edit, redirect
//! URIs, Save, the API Key, Generate Client Secret (shown once).
//! Plain HTML forms, no script; no CSRF tokens (a loopback sandbox). The
//! buttons carry ids the browser tests click (tests/it/support/pages.rs).

use super::super::server::{Request, Response};
use super::apps::{AppRegistration, register, validate_allowed_scopes, validate_redirect_uris};
use super::html::{error_page, escape, no_store, page};
use super::params::{Params, is_form};
use super::state::{App, KNOWN_SCOPES, OAuthFlow, RefreshKind, STACKONE_REDIRECT_URI, State};

/// What an app page shows above its details.
enum Notice {
    Saved,
    /// The one time a new secret is shown.
    NewSecret(String),
    Error(String),
}

/// `path` is what follows `/portal`.
pub(super) fn handle(state: &mut State, req: &Request, path: &str) -> Response {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", []) => my_applications(state),
        ("GET", ["apps", "new"]) => new_application_form(None, "", None, None),
        ("POST", ["apps"]) => create(state, req),
        ("GET", ["apps", id]) => match state.app(id) {
            Some(app) => {
                let notice =
                    (req.query_param("saved").as_deref() == Some("1")).then_some(Notice::Saved);
                app_page(app, notice, None)
            }
            None => not_found(),
        },
        ("POST", ["apps", id, "redirect-uris"]) => save_redirect_uris(state, req, id),
        ("POST", ["apps", id, "client-secret"]) => generate_secret(state, id),
        ("POST", ["apps", id, "scopes"]) => save_scopes(state, req, id),
        _ => not_found(),
    }
}

fn not_found() -> Response {
    error_page(
        404,
        "Not found",
        "No such page in the sandbox portal. Start at /portal/.",
    )
}

fn my_applications(state: &State) -> Response {
    let rows: String = state
        .apps
        .iter()
        .map(|app| {
            format!(
                "<tr><td>{name}</td><td><code>{id}</code></td><td>{flow}</td><td>{kind}</td>\
<td><a href=\"/portal/apps/{id}\">Edit</a></td></tr>",
                name = escape(&app.name),
                id = escape(&app.client_id),
                flow = app.flow.label(),
                kind = app.refresh_kind.label(),
            )
        })
        .collect();
    let table = if state.apps.is_empty() {
        "<p>You have no applications yet.</p>".to_string()
    } else {
        format!(
            "<table><tr><th>Name</th><th>API Key</th><th>OAuth2 flow</th><th>Refresh tokens</th><th></th></tr>{rows}</table>"
        )
    };
    let body = format!(
        "<p>Signed in as {email}.</p>\
<p><a href=\"/portal/apps/new\"><button type=\"button\" id=\"new-application\">New Application</button></a></p>{table}",
        email = escape(&state.account.contact_email)
    );
    no_store(Response::html(200, page("My Applications", &body)))
}

fn new_application_form(
    error: Option<&str>,
    name: &str,
    flow: Option<OAuthFlow>,
    kind: Option<RefreshKind>,
) -> Response {
    let radios = |group: &str, options: Vec<(&str, &str, bool)>| -> String {
        options
            .into_iter()
            .map(|(value, label, checked)| {
                format!(
                    "<label><input type=\"radio\" name=\"{group}\" value=\"{value}\"{}> {label}</label>",
                    if checked { " checked" } else { "" }
                )
            })
            .collect()
    };
    let flows = radios(
        "flow",
        OAuthFlow::ALL
            .into_iter()
            .map(|f| (f.form_value(), f.label(), Some(f) == flow))
            .collect(),
    );
    let kinds = radios(
        "refresh_kind",
        RefreshKind::ALL
            .into_iter()
            .map(|k| (k.form_value(), k.label(), Some(k) == kind))
            .collect(),
    );
    let error_html = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "{error_html}<form method=\"post\" action=\"/portal/apps\">\
<label>Application name <input type=\"text\" name=\"name\" value=\"{name}\"></label>\
<p><small>The name cannot contain \"Constant Contact\".</small></p>\
<fieldset><legend>OAuth2 flow</legend>{flows}</fieldset>\
<fieldset><legend>Refresh token type</legend>{kinds}</fieldset>\
<button type=\"submit\" id=\"create-application\">Create</button> <a href=\"/portal/\">Cancel</a></form>",
        name = escape(name),
    );
    let status = if error.is_some() { 400 } else { 200 };
    no_store(Response::html(status, page("New Application", &body)))
}

fn create(state: &mut State, req: &Request) -> Response {
    if !is_form(req) {
        return error_page(400, "Bad request", "Submit the New Application form.");
    }
    let params = Params::new(req.form());
    let name = params.get("name").ok().flatten().unwrap_or("").to_string();
    let flow = params
        .get("flow")
        .ok()
        .flatten()
        .and_then(OAuthFlow::from_form_value);
    let kind = params
        .get("refresh_kind")
        .ok()
        .flatten()
        .and_then(RefreshKind::from_form_value);
    // Every missing field at once, not one per submission.
    let mut missing = Vec::new();
    if name.trim().is_empty() {
        missing.push("an application name");
    }
    if flow.is_none() {
        missing.push("an OAuth2 flow");
    }
    if kind.is_none() {
        missing.push("a refresh token type");
    }
    let (Some(flow), Some(kind), true) = (flow, kind, missing.is_empty()) else {
        let message = format!("Missing: {}.", missing.join(", "));
        return new_application_form(Some(&message), &name, flow, kind);
    };
    let registration = AppRegistration {
        name: name.clone(),
        flow,
        refresh_kind: kind,
        // Redirect URIs are added afterwards, under Edit (as in the guide).
        redirect_uris: Vec::new(),
        ..AppRegistration::default()
    };
    match register(state, registration, false) {
        Ok(app) => {
            Response::new(303).with_header("location", &format!("/portal/apps/{}", app.client_id))
        }
        Err(message) => new_application_form(Some(&message), &name, Some(flow), Some(kind)),
    }
}

fn save_redirect_uris(state: &mut State, req: &Request, id: &str) -> Response {
    let Some(app) = state.app(id) else {
        return not_found();
    };
    if !is_form(req) {
        return error_page(400, "Bad request", "Submit the redirect URI form.");
    }
    let text = Params::new(req.form())
        .get("redirect_uris")
        .ok()
        .flatten()
        .unwrap_or("")
        .to_string();
    let lines: Vec<&str> = text.lines().collect();
    match validate_redirect_uris(&lines) {
        Ok(uris) => {
            if let Some(app) = state.app_mut(id) {
                app.redirect_uris = uris;
            }
            Response::new(303).with_header("location", &format!("/portal/apps/{id}?saved=1"))
        }
        Err(message) => app_page(app, Some(Notice::Error(message)), Some(&text)),
    }
}

/// The scopes the app may ask for: one checkbox each (an unticked scope is
/// then `invalid_scope` at `/authorize`).
fn save_scopes(state: &mut State, req: &Request, id: &str) -> Response {
    if state.app(id).is_none() {
        return not_found();
    }
    if !is_form(req) {
        return error_page(400, "Bad request", "Submit the scopes form.");
    }
    let ticked: Vec<String> = req
        .form()
        .into_iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v)
        .collect();
    match validate_allowed_scopes(&ticked) {
        Ok(scopes) => {
            if let Some(app) = state.app_mut(id) {
                app.allowed_scopes = scopes;
            }
            Response::new(303).with_header("location", &format!("/portal/apps/{id}?saved=1"))
        }
        Err(message) => match state.app(id) {
            Some(app) => app_page(app, Some(Notice::Error(message)), None),
            None => not_found(),
        },
    }
}

fn generate_secret(state: &mut State, id: &str) -> Response {
    let Some(app) = state.app(id) else {
        return not_found();
    };
    if !app.flow.has_client_secret() {
        let message = format!("{} applications have no client secret.", app.flow.label());
        return app_page(app, Some(Notice::Error(message)), None);
    }
    let Some(secret) = state.generate_client_secret(id) else {
        return not_found();
    };
    match state.app(id) {
        Some(app) => app_page(app, Some(Notice::NewSecret(secret)), None),
        None => not_found(),
    }
}

/// The application's page (what the guide calls "Edit"). `draft` keeps the
/// user's redirect URI text when it was refused.
fn app_page(app: &App, notice: Option<Notice>, draft: Option<&str>) -> Response {
    let mut status = 200;
    let notice_html = match &notice {
        None => String::new(),
        Some(Notice::Saved) => "<p class=\"notice\">Saved.</p>".to_string(),
        Some(Notice::NewSecret(secret)) => format!(
            "<div class=\"notice\"><p>Your new Client Secret:</p>\
<p><code class=\"secret\" id=\"client-secret\">{}</code></p>\
<p><strong>Copy it now: it is shown only once.</strong> Any previous secret no longer works.</p></div>",
            escape(secret)
        ),
        Some(Notice::Error(message)) => {
            status = 400;
            format!("<p class=\"error\" role=\"alert\">{}</p>", escape(message))
        }
    };
    let uris_text = draft.map_or_else(|| app.redirect_uris.join("\n"), str::to_string);
    let secret_section = if !app.flow.has_client_secret() {
        format!(
            "<p>{} applications have no client secret.</p>",
            app.flow.label()
        )
    } else {
        let state_line = match (&notice, &app.client_secret) {
            (Some(Notice::NewSecret(_)), _) => "",
            (_, Some(_)) => {
                "<p>A client secret exists; it is never shown again. Generating a new one invalidates it.</p>"
            }
            (_, None) => "<p>No client secret yet.</p>",
        };
        format!(
            "{state_line}<form method=\"post\" action=\"/portal/apps/{id}/client-secret\">\
<button type=\"submit\" id=\"generate-client-secret\">Generate Client Secret</button></form>",
            id = escape(&app.client_id)
        )
    };
    let scope_boxes: String = KNOWN_SCOPES
        .iter()
        .map(|scope| {
            format!(
                "<label><input type=\"checkbox\" name=\"scope\" value=\"{scope}\"{}> <code>{scope}</code></label> ",
                if app.allowed_scopes.iter().any(|s| s == scope) {
                    " checked"
                } else {
                    ""
                }
            )
        })
        .collect();
    let body = format!(
        "{notice_html}<p><a href=\"/portal/\">← My Applications</a></p>\
<table><tr><th>Name</th><td>{name}</td></tr>\
<tr><th>API Key</th><td><code id=\"api-key\">{id}</code></td></tr>\
<tr><th>OAuth2 flow</th><td>{flow}</td></tr>\
<tr><th>Refresh tokens</th><td>{kind}</td></tr></table>\
<h2>Redirect URIs</h2>\
<form method=\"post\" action=\"/portal/apps/{id}/redirect-uris\">\
<label>One per line, exactly as the application sends them. For StackOne: <code>{stackone}</code>\
<textarea name=\"redirect_uris\" rows=\"4\">{uris}</textarea></label>\
<button type=\"submit\" id=\"save-redirect-uris\">Save</button></form>\
<h2>Scopes</h2>\
<form method=\"post\" action=\"/portal/apps/{id}/scopes\">\
<p>The scopes this application may ask for:</p>{scope_boxes}\
<button type=\"submit\" id=\"save-scopes\">Save</button></form>\
<h2>Client Secret</h2>{secret_section}",
        name = escape(&app.name),
        id = escape(&app.client_id),
        flow = app.flow.label(),
        kind = app.refresh_kind.label(),
        stackone = STACKONE_REDIRECT_URI,
        uris = escape(&uris_text),
    );
    no_store(Response::html(status, page(&app.name, &body)))
}
