//! The stand-in's browser pages: the dashboard's Connector Profiles list and
//! "+ Connector Profile" form (following the seed guide's steps), and the
//! hub page behind a connect session's `auth_link_url`. Plain HTML forms, no
//! script; every page says it is the ccsetup sandbox. No page ever shows a
//! client secret, not even when re-displaying a refused form.

use super::state::{self, CONNECTORS, ProfileInput, WriteRefusal};
use super::{CONSTANT_CONTACT, Request, Response, StackOneService};

const LIST_PATH: &str = "/dashboard/connector-profiles";
const NEW_PATH: &str = "/dashboard/connector-profiles/new";

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
        ("GET", LIST_PATH) => list_page(svc, req),
        ("GET", NEW_PATH) => {
            let preselect = req
                .query_param("connector_key")
                .unwrap_or_else(|| CONSTANT_CONTACT.to_string());
            form_page(200, &FormValues::new(&preselect), &[])
        }
        ("POST", LIST_PATH) => create_from_form(svc, req),
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

fn list_page(svc: &StackOneService, req: &Request) -> Response {
    let state = svc.state();
    let mut body = String::new();
    if let Some(id) = req.query_param("created") {
        body.push_str(&format!(
            "<p class=\"notice\" role=\"status\">Connector profile created (id <code>{}</code>).</p>\n",
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
        "<p><a id=\"new-profile\" href=\"{NEW_PATH}\">+ Connector Profile</a></p>\n"
    ));
    body.push_str(
        "<table>\n<tr><th>Name</th><th>Connector</th><th>Type</th><th>ID</th><th>Created</th><th></th></tr>\n",
    );
    for p in &state.profiles {
        let item = p.list_item();
        body.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td>\
             <td><form method=\"post\" action=\"{LIST_PATH}/{}/delete\">\
             <button type=\"submit\">Delete</button></form></td></tr>\n",
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
    name: String,
    client_id: String,
    scopes: String,
    actions: Vec<String>,
}

impl FormValues {
    fn new(connector_key: &str) -> Self {
        FormValues {
            connector_key: connector_key.to_string(),
            authentication_config_key: "oauth2".into(),
            name: String::new(),
            client_id: String::new(),
            scopes: String::new(),
            actions: Vec::new(),
        }
    }
}

fn selected(yes: bool) -> &'static str {
    if yes { " selected" } else { "" }
}

/// The "+ Connector Profile" form, in the seed guide's order.
fn form_page(status: u16, values: &FormValues, errors: &[String]) -> Response {
    let mut body = String::new();
    if !errors.is_empty() {
        body.push_str("<ul class=\"error\" role=\"alert\">\n");
        for e in errors {
            body.push_str(&format!("<li>{}</li>\n", esc(e)));
        }
        body.push_str("</ul>\n");
    }
    body.push_str(&format!("<form method=\"post\" action=\"{LIST_PATH}\">\n"));
    body.push_str("<p><label>Connector <select name=\"connector_key\">\n");
    for c in CONNECTORS {
        body.push_str(&format!(
            "<option value=\"{}\"{}>{}</option>\n",
            c.key,
            selected(c.key == values.connector_key),
            esc(c.label)
        ));
    }
    body.push_str("</select></label></p>\n");
    body.push_str("<p><label>Type <select name=\"authentication_config_key\">\n");
    for (key, label) in [("oauth2", "OAuth 2.0"), ("api_key", "API Key")] {
        body.push_str(&format!(
            "<option value=\"{key}\"{}>{label}</option>\n",
            selected(key == values.authentication_config_key)
        ));
    }
    body.push_str("</select></label></p>\n");
    body.push_str(&format!(
        "<p><label>Name (optional; defaults to the connector's name) \
         <input name=\"name\" value=\"{}\"></label></p>\n",
        esc(&values.name)
    ));
    body.push_str(&format!(
        "<p><label>API Key (Client ID) <input name=\"client_id\" value=\"{}\"></label></p>\n",
        esc(&values.client_id)
    ));
    body.push_str(
        "<p><label>Client Secret <input type=\"password\" name=\"client_secret\" \
         autocomplete=\"off\"></label></p>\n",
    );
    body.push_str(&format!(
        "<p><label>Scopes (optional) <input name=\"scopes\" value=\"{}\" \
         placeholder=\"space-separated\"></label></p>\n",
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
            "<label><input type=\"checkbox\" name=\"actions\" value=\"{a}\"{checked}> {a}</label><br>\n"
        ));
    }
    body.push_str("</fieldset>\n<p><button type=\"submit\">Create profile</button></p>\n</form>");
    page(status, "New Connector Profile", &body)
}

/// Scopes as typed: separated by spaces and/or commas.
fn split_scopes(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn create_from_form(svc: &StackOneService, req: &Request) -> Response {
    let is_form = req.header("content-type").is_some_and(|ct| {
        ct.trim()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    });
    if !is_form {
        return page(
            415,
            "Unsupported form",
            "<p>Submit the form from this page.</p>",
        );
    }
    let form = req.form();
    let get = |k: &str| {
        form.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let connector_key = get("connector_key");
    let mut name = get("name");
    if name.is_empty()
        && let Some(c) = state::connector(&connector_key)
    {
        // The dashboard names a profile after its connector unless told otherwise.
        name = c.label.to_string();
    }
    let credentials: Vec<(String, String)> = ["client_id", "client_secret", "api_key"]
        .iter()
        .map(|k| (k.to_string(), get(k)))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let actions: Vec<String> = form
        .iter()
        .filter(|(k, v)| k == "actions" && !v.trim().is_empty())
        .map(|(_, v)| v.trim().to_string())
        .collect();
    let values = FormValues {
        connector_key: connector_key.clone(),
        authentication_config_key: get("authentication_config_key"),
        name: get("name"),
        client_id: get("client_id"),
        scopes: get("scopes"),
        actions: actions.clone(),
    };
    let input = ProfileInput {
        connector_key: Some(connector_key),
        name: Some(name),
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
