//! The stand-in's dashboard pages: the Connector Profiles list, the
//! "+ Connector Profile" form with exactly the real form's fields (API Key,
//! Client Secret, Scopes, Actions — no Name: StackOne names the profile
//! itself; docs/vendors.md §4), and a page per profile with "Copy connector
//! ID" and an edit form. Plain HTML forms (one line of script copies the id);
//! every page says it is the ccsetup sandbox. No page ever shows a client
//! secret, not even when re-displaying a refused form.
//!
//! Stable element ids (browser tests rely on them): `new-profile`,
//! `profile-form`, `connector_key`, `authentication_config_key`, `client_id`,
//! `client_secret`, `scopes`, `action-<key>`, `create-profile`;
//! on a profile page `profile-name`, `connector-id`, `copy-connector-id`,
//! `edit-form`, `save-profile`; list rows link `profile-<id>`; the list links
//! `api-keys`, whose page shows each key as `api-key-<n>`.

use super::state::{self, CONNECTORS, ProfileInput, WriteRefusal};
use super::{CONSTANT_CONTACT, Request, Response, StackOneService};

const LIST_PATH: &str = "/dashboard/connector-profiles";
const NEW_PATH: &str = "/dashboard/connector-profiles/new";
const API_KEYS_PATH: &str = "/dashboard/api-keys";

use crate::sandbox::html::escape as esc;

pub(super) fn page(status: u16, title: &str, body: &str) -> Response {
    Response::html(status, crate::sandbox::html::page("StackOne", title, body))
}

fn see_other(location: &str) -> Response {
    Response::new(303).with_header("location", location)
}

/// The form's error text for a refused create (also used by the direct
/// accessor).
pub(super) fn refusal_text(refusal: &WriteRefusal) -> String {
    match refusal {
        WriteRefusal::Invalid(errors) => errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        WriteRefusal::Duplicate(msg) => msg.clone(),
        WriteRefusal::NotFound => "not found".into(),
    }
}

pub(super) fn handle_dashboard(svc: &StackOneService, req: &Request) -> Response {
    let path = req.path.trim_end_matches('/');
    match (req.method.as_str(), path) {
        ("GET", "/dashboard") => see_other(LIST_PATH),
        ("GET", API_KEYS_PATH) => api_keys_page(svc),
        ("GET", LIST_PATH) => list_page(svc, req),
        ("GET", NEW_PATH) => {
            let preselect = req
                .query_param("connector_key")
                .unwrap_or_else(|| CONSTANT_CONTACT.to_string());
            form_page(200, &FormValues::new(&preselect), &[])
        }
        ("POST", LIST_PATH) => create_from_form(svc, req),
        ("GET", p) if profile_id(p).is_some() => {
            let id = profile_id(p).unwrap_or_default();
            profile_page(svc, &id, req.query_param("saved").is_some(), 200, &[])
        }
        ("POST", p) if profile_id(p).is_some() => {
            edit_from_form(svc, &profile_id(p).unwrap_or_default(), req)
        }
        ("POST", p) if p.starts_with(LIST_PATH) && p.ends_with("/delete") => {
            let id = p[LIST_PATH.len()..]
                .trim_start_matches('/')
                .trim_end_matches("/delete");
            if svc.state().delete_profile(id) {
                see_other(&format!("{LIST_PATH}?deleted={id}"))
            } else {
                page(404, "Not found", "<p>No such connector profile.</p>")
            }
        }
        _ => page(404, "Not found", "<p>This sandbox page does not exist.</p>"),
    }
}

/// `{id}` of `/dashboard/connector-profiles/{id}` (not `new`, one segment).
fn profile_id(path: &str) -> Option<String> {
    let rest = path.strip_prefix(LIST_PATH)?.strip_prefix('/')?;
    (!rest.is_empty() && rest != "new" && !rest.contains('/')).then(|| rest.to_string())
}

/// "API Keys": the keys this stand-in accepts (sandbox-only keys, so
/// showing them is the point: the demo's user needs one for `ccsetup`).
fn api_keys_page(svc: &StackOneService) -> Response {
    let mut body = String::from(
        "<p>The API keys of this sandbox project. ccsetup asks for one (STACKONE_API_KEY); \
         <code>ccsetup demo --serve</code> exports it for you.</p>\n<ul>\n",
    );
    for (i, key) in svc.options().api_keys.iter().enumerate() {
        body.push_str(&format!(
            "<li><code id=\"api-key-{i}\">{}</code></li>\n",
            esc(key)
        ));
    }
    body.push_str(&format!(
        "</ul>\n<p><a href=\"{LIST_PATH}\">Connector Profiles</a></p>"
    ));
    page(200, "API Keys", &body)
}

fn list_page(svc: &StackOneService, req: &Request) -> Response {
    let state = svc.state();
    let mut body = String::new();
    if let Some(id) = req.query_param("created") {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\">Connector profile created (id <code>{}</code>). \
             <a id=\"created-profile\" href=\"{LIST_PATH}/{}\">Open it</a> to copy its connector ID.</p>\n",
            esc(&id),
            esc(&id)
        ));
    }
    if let Some(id) = req.query_param("deleted") {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\">Connector profile <code>{}</code> deleted.</p>\n",
            esc(&id)
        ));
    }
    body.push_str(&format!(
        "<p><a id=\"new-profile\" href=\"{NEW_PATH}\">+ Connector Profile</a> · \
         <a id=\"api-keys\" href=\"{API_KEYS_PATH}\">API Keys</a></p>\n"
    ));
    body.push_str(
        "<table>\n<tr><th>Name</th><th>Connector</th><th>Type</th><th>ID</th><th>Created</th><th></th></tr>\n",
    );
    for p in &state.profiles {
        let item = p.list_item();
        body.push_str(&format!(
            "<tr><td><a id=\"profile-{}\" href=\"{LIST_PATH}/{}\">{}</a></td><td>{}</td><td>{}</td>\
             <td><code>{}</code></td><td>{}</td>\
             <td><form method=\"post\" action=\"{LIST_PATH}/{}/delete\">\
             <button type=\"submit\">Delete</button></form></td></tr>\n",
            esc(&p.id),
            esc(&p.id),
            esc(&p.name),
            esc(item["connector_label"].as_str().unwrap_or(&p.connector_key)),
            esc(item["authentication_config_label"].as_str().unwrap_or("")),
            esc(&p.id),
            esc(&p.created_at),
            esc(&p.id),
        ));
    }
    body.push_str("</table>");
    page(200, "Connector Profiles", &body)
}

/// What the form shows; never holds the secret.
struct FormValues {
    connector_key: String,
    authentication_config_key: String,
    client_id: String,
    scopes: String,
    actions: Vec<String>,
}

impl FormValues {
    fn new(connector_key: &str) -> Self {
        FormValues {
            connector_key: connector_key.to_string(),
            authentication_config_key: "oauth2".into(),
            client_id: String::new(),
            scopes: String::new(),
            actions: Vec::new(),
        }
    }
}

fn selected(yes: bool) -> &'static str {
    if yes { " selected" } else { "" }
}

fn error_list(errors: &[String]) -> String {
    if errors.is_empty() {
        return String::new();
    }
    let mut out = String::from("<ul class=\"error\" role=\"alert\">\n");
    for e in errors {
        out.push_str(&format!("<li>{}</li>\n", esc(e)));
    }
    out.push_str("</ul>\n");
    out
}

/// The credential, scope and action fields shared by the create and edit
/// forms: the real form's fields, in its order (docs/vendors.md §4).
/// `secret_hint` is what the Client Secret's label adds.
fn credential_fields(values: &FormValues, secret_hint: &str) -> String {
    let mut body = format!(
        "<p><label for=\"client_id\">API Key (Client ID)</label>\
         <input id=\"client_id\" name=\"client_id\" value=\"{}\"></p>\n",
        esc(&values.client_id)
    );
    body.push_str(&format!(
        "<p><label for=\"client_secret\">Client Secret{secret_hint}</label>\
         <input type=\"password\" id=\"client_secret\" name=\"client_secret\" autocomplete=\"off\"></p>\n"
    ));
    body.push_str(&format!(
        "<p><label for=\"scopes\">Scopes (optional)</label><input id=\"scopes\" name=\"scopes\" value=\"{}\" \
         placeholder=\"space-separated\"></p>\n",
        esc(&values.scopes)
    ));
    body.push_str("<fieldset><legend>Actions (optional)</legend>\n");
    let actions = CONNECTORS
        .iter()
        .find(|c| c.key == values.connector_key)
        .map(|c| c.actions)
        .unwrap_or(&[]);
    for a in actions {
        let checked = if values.actions.iter().any(|v| v == a) {
            " checked"
        } else {
            ""
        };
        body.push_str(&format!(
            "<label><input type=\"checkbox\" id=\"action-{a}\" name=\"actions\" value=\"{a}\"{checked}> {a}</label><br>\n"
        ));
    }
    body.push_str("</fieldset>\n");
    body
}

/// The "+ Connector Profile" form, in the seed guide's order. It has no
/// Name field: StackOne names the profile after its connector.
fn form_page(status: u16, values: &FormValues, errors: &[String]) -> Response {
    let mut body = error_list(errors);
    body.push_str(&format!(
        "<form id=\"profile-form\" method=\"post\" action=\"{LIST_PATH}\">\n"
    ));
    body.push_str("<p><label for=\"connector_key\">Connector</label><select id=\"connector_key\" name=\"connector_key\">\n");
    for c in CONNECTORS {
        body.push_str(&format!(
            "<option value=\"{}\"{}>{}</option>\n",
            c.key,
            selected(c.key == values.connector_key),
            esc(c.label)
        ));
    }
    body.push_str("</select></p>\n");
    body.push_str("<p><label for=\"authentication_config_key\">Type</label><select id=\"authentication_config_key\" name=\"authentication_config_key\">\n");
    for (key, label) in [("oauth2", "OAuth 2.0"), ("api_key", "API Key")] {
        body.push_str(&format!(
            "<option value=\"{key}\"{}>{label}</option>\n",
            selected(key == values.authentication_config_key)
        ));
    }
    body.push_str("</select></p>\n");
    body.push_str(&credential_fields(values, ""));
    body.push_str(
        "<p><button type=\"submit\" id=\"create-profile\">Create profile</button></p>\n</form>",
    );
    page(status, "New Connector Profile", &body)
}

/// A profile's page: its name and connector ID (with "Copy connector ID",
/// as the real dashboard has), and the edit form.
fn profile_page(
    svc: &StackOneService,
    id: &str,
    saved: bool,
    status: u16,
    errors: &[String],
) -> Response {
    let state = svc.state();
    let Some(p) = state.profile(id) else {
        return page(404, "Not found", "<p>No such connector profile.</p>");
    };
    let mut body = String::new();
    if saved {
        body.push_str("<p class=\"notice\" role=\"status\">Connector profile saved.</p>\n");
    }
    body.push_str(&error_list(errors));
    let label = state::connector(&p.connector_key)
        .map(|c| c.label)
        .unwrap_or(p.connector_key.as_str());
    body.push_str(&format!(
        "<p>Name: <strong id=\"profile-name\">{}</strong> · Connector: {}</p>\n\
         <p><label for=\"connector-id\">Connector ID</label>\
         <input id=\"connector-id\" value=\"{}\" readonly>\
         <button type=\"button\" id=\"copy-connector-id\" \
         onclick=\"navigator.clipboard.writeText(document.getElementById('connector-id').value)\">\
         Copy connector ID</button></p>\n",
        esc(&p.name),
        esc(label),
        esc(&p.id),
    ));
    let values = FormValues {
        connector_key: p.connector_key.clone(),
        authentication_config_key: p.authentication_config_key.clone(),
        client_id: p.client_id().unwrap_or_default().to_string(),
        scopes: p.scopes.join(" "),
        actions: p.actions.clone(),
    };
    body.push_str(&format!(
        "<h2>Edit</h2>\n<form id=\"edit-form\" method=\"post\" action=\"{LIST_PATH}/{}\">\n",
        esc(&p.id)
    ));
    body.push_str(&credential_fields(
        &values,
        " (leave empty to keep the current one)",
    ));
    body.push_str("<p><button type=\"submit\" id=\"save-profile\">Save</button></p>\n</form>\n");
    body.push_str(&format!(
        "<p><a href=\"{LIST_PATH}\">All connector profiles</a></p>"
    ));
    page(status, &format!("Connector profile {}", p.name), &body)
}

/// Scopes as typed: separated by spaces and/or commas.
fn split_scopes(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The posted form, or the page that refuses a non-form body.
fn posted_form(req: &Request) -> Result<Vec<(String, String)>, Response> {
    let is_form = req.header("content-type").is_some_and(|ct| {
        ct.trim()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    if !is_form {
        return Err(page(
            415,
            "Unsupported form",
            "<p>Submit the form from this page.</p>",
        ));
    }
    Ok(req.form())
}

fn field(form: &[(String, String)], k: &str) -> String {
    form.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

fn checked_actions(form: &[(String, String)]) -> Vec<String> {
    form.iter()
        .filter(|(k, v)| k == "actions" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect()
}

/// A field the real form does not have is refused, so nothing (ccsetup's
/// steps, a test) can rely on it.
fn unknown_form_fields(form: &[(String, String)], allowed: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = form
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !allowed.contains(k))
        .map(|k| format!("{k}: the form has no such field"))
        .collect();
    out.dedup();
    out
}

fn create_from_form(svc: &StackOneService, req: &Request) -> Response {
    let form = match posted_form(req) {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    let get = |k: &str| field(&form, k);
    let connector_key = get("connector_key");
    let actions = checked_actions(&form);
    let values = FormValues {
        connector_key: connector_key.clone(),
        authentication_config_key: get("authentication_config_key"),
        client_id: get("client_id"),
        scopes: get("scopes"),
        actions: actions.clone(),
    };
    let unknown = unknown_form_fields(
        &form,
        &[
            "connector_key",
            "authentication_config_key",
            "client_id",
            "client_secret",
            "api_key",
            "scopes",
            "actions",
        ],
    );
    if !unknown.is_empty() {
        return form_page(422, &values, &unknown);
    }
    // StackOne names a new profile after its connector (the form has no Name).
    let name = state::connector(&connector_key).map(|c| c.label.to_string());
    let credentials: Vec<(String, String)> = ["client_id", "client_secret", "api_key"]
        .iter()
        .map(|k| (k.to_string(), get(k)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let input = ProfileInput {
        connector_key: Some(connector_key),
        name,
        authentication_config_key: Some(get("authentication_config_key")),
        credentials,
        scopes: split_scopes(&get("scopes")),
        actions,
    };
    let result = svc.state().create_profile(input, "dashboard");
    match result {
        Ok(id) => see_other(&format!("{LIST_PATH}?created={id}")),
        Err(refusal @ WriteRefusal::Duplicate(_)) => {
            form_page(409, &values, &[refusal_text(&refusal)])
        }
        Err(refusal) => form_page(422, &values, &[refusal_text(&refusal)]),
    }
}

/// The profile page's edit form: every field as shown is saved; an empty
/// Client Secret keeps the stored one.
fn edit_from_form(svc: &StackOneService, id: &str, req: &Request) -> Response {
    let form = match posted_form(req) {
        Ok(f) => f,
        Err(resp) => return resp,
    };
    if svc.state().profile(id).is_none() {
        return page(404, "Not found", "<p>No such connector profile.</p>");
    }
    let unknown = unknown_form_fields(
        &form,
        &["client_id", "client_secret", "api_key", "scopes", "actions"],
    );
    if !unknown.is_empty() {
        return profile_page(svc, id, false, 422, &unknown);
    }
    let credentials: Vec<(String, String)> = ["client_id", "client_secret", "api_key"]
        .iter()
        .map(|k| (k.to_string(), field(&form, k)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let result = svc.state().update_profile(
        id,
        None,
        credentials,
        Some(split_scopes(&field(&form, "scopes"))),
        Some(checked_actions(&form)),
    );
    match result {
        Ok(()) => see_other(&format!("{LIST_PATH}/{id}?saved=1")),
        Err(refusal) => profile_page(svc, id, false, 422, &[refusal_text(&refusal)]),
    }
}
