//! The stand-in's JSON API: authentication, listing, the profile write API
//! (switchable, see [`ProfileWriteApi`]) and connect sessions.

use std::collections::HashSet;

use rand::Rng;
use serde_json::{Map, Value, json};

use super::state::{self, FieldError, ProfileInput, WriteRefusal};
use super::{Listing, ProfileWriteApi, Request, Response, StackOneOptions, StackOneService};

/// StackOne's error body: `{statusCode, message, timestamp, errorCode?}`,
/// `message` a string as the SDK's error schemas type it (docs/vendors.md §4 [48]).
pub(super) fn error(status: u16, message: impl Into<String>, error_code: Option<&str>) -> Response {
    let mut body = json!({
        "statusCode": status,
        "message": message.into(),
        "timestamp": state::now(),
    });
    if let Some(code) = error_code {
        body["errorCode"] = json!(code);
    }
    Response::json(status, &body)
}

/// What NestJS answers for a route that does not exist.
fn no_route(req: &Request) -> Response {
    error(
        404,
        format!("Cannot {} {}", req.method, req.path),
        Some("NOT_FOUND"),
    )
}

/// 422 with every `field: problem` in one string (`message` is a string in
/// StackOne's published schema, never a list).
fn validation_failed(errors: &[FieldError]) -> Response {
    let list: Vec<String> = errors.iter().map(ToString::to_string).collect();
    error(422, list.join("; "), Some("VALIDATION_ERROR"))
}

pub(super) fn refusal_response(refusal: WriteRefusal) -> Response {
    match refusal {
        WriteRefusal::Invalid(errors) => validation_failed(&errors),
        WriteRefusal::Duplicate(msg) => error(409, msg, Some("CONFLICT")),
        WriteRefusal::NotFound => error(404, "Connector profile not found", Some("NOT_FOUND")),
    }
}

/// Basic auth, API key as username, empty password. `None` means allowed.
fn authenticate(options: &StackOneOptions, req: &Request) -> Option<Response> {
    match req.basic_auth() {
        Some((user, pass)) if pass.is_empty() && options.api_keys.contains(&user) => None,
        Some((user, pass)) if pass.is_empty() && options.forbidden_api_keys.contains(&user) => {
            Some(error(403, "Forbidden resource", Some("FORBIDDEN")))
        }
        _ => Some(
            error(401, "Unauthorized", None)
                .with_header("www-authenticate", "Basic realm=\"StackOne\""),
        ),
    }
}

pub(super) fn handle(svc: &StackOneService, req: &Request) -> Response {
    let options = svc.options();
    if let Some(refused) = authenticate(&options, req) {
        return refused;
    }
    let segments: Vec<&str> = req.path.trim_start_matches('/').split('/').collect();
    let method = req.method.as_str();
    match segments.as_slice() {
        ["connector_profiles", ..] if options.listing == Listing::AuthConfigsOnly => no_route(req),
        ["connector_profiles"] => match method {
            "GET" => list_profiles(svc, &options, req),
            "POST" => write_gate(options.profile_write_api, req, true)
                .unwrap_or_else(|| create_profile(svc, req)),
            _ => no_route(req),
        },
        ["connector_profiles", id] if !id.is_empty() => {
            if !matches!(method, "GET" | "PATCH" | "DELETE") {
                return no_route(req);
            }
            if let Some(refused) = write_gate(options.profile_write_api, req, false) {
                return refused;
            }
            match method {
                "GET" => get_profile(svc, id),
                "PATCH" => update_profile(svc, id, req),
                _ => delete_profile(svc, id),
            }
        }
        ["auth_configs"] if method == "GET" => list_profiles(svc, &options, req),
        ["connect_sessions"] if method == "POST" => create_session(svc, &options, req),
        ["connect_sessions", _] if method == "GET" && options.session_get_refused.is_some() => {
            match options.session_get_refused {
                Some(405) => error(405, "Method Not Allowed", None).with_header("allow", "POST"),
                Some(501) => error(501, "Not Implemented", None),
                _ => no_route(req),
            }
        }
        ["connect_sessions", id] if method == "GET" => get_session(svc, id),
        ["accounts"] if method == "GET" => list_accounts(svc, &options, req),
        _ => no_route(req),
    }
}

/// How the absence of the profile write API shows.
fn write_gate(mode: ProfileWriteApi, req: &Request, collection: bool) -> Option<Response> {
    match mode {
        ProfileWriteApi::Hypothetical => None,
        ProfileWriteApi::NotFound => Some(no_route(req)),
        ProfileWriteApi::MethodNotAllowed => {
            let resp = error(405, "Method Not Allowed", None);
            Some(if collection {
                resp.with_header("allow", "GET")
            } else {
                resp
            })
        }
        ProfileWriteApi::NotImplemented => Some(error(501, "Not Implemented", None)),
        ProfileWriteApi::Rejected(422) => Some(error(
            422,
            "property credentials should not exist",
            Some("VALIDATION_ERROR"),
        )),
        ProfileWriteApi::Rejected(status) => {
            Some(error(status, "Bad Request", Some("BAD_REQUEST")))
        }
    }
}

fn bad_request(message: impl Into<String>) -> Response {
    error(400, message.into(), Some("BAD_REQUEST"))
}

/// `GET /connector_profiles` and `GET /auth_configs`.
fn list_profiles(svc: &StackOneService, options: &StackOneOptions, req: &Request) -> Response {
    let mut page = 1usize;
    let mut page_size = options.default_page_size;
    let mut enabled: Option<bool> = None;
    let mut connector_key: Option<String> = None;
    let mut seen = HashSet::new();
    for (key, value) in req.query_pairs() {
        if !seen.insert(key.clone()) {
            return bad_request(format!("query parameter {key} is given more than once"));
        }
        match key.as_str() {
            "page" | "page_size" => {
                if let Err(refused) = set_paging(
                    key.as_str(),
                    &value,
                    options.max_page_size,
                    &mut page,
                    &mut page_size,
                ) {
                    return refused;
                }
            }
            "enabled" => match value.as_str() {
                "true" => enabled = Some(true),
                "false" => enabled = Some(false),
                _ => return bad_request("enabled must be true or false"),
            },
            "connector_key" if !value.is_empty() => connector_key = Some(value),
            "connector_key" => return bad_request("connector_key must not be empty"),
            other => return bad_request(format!("unknown query parameter {other}")),
        }
    }
    let state = svc.state();
    let matching: Vec<Value> = state
        .profiles
        .iter()
        .filter(|p| {
            connector_key
                .as_deref()
                .is_none_or(|k| p.connector_key == k)
        })
        .filter(|p| enabled.is_none_or(|e| p.active == e))
        .map(|p| p.list_item())
        .collect();
    let total = matching.len();
    let data = one_page(matching, page, page_size, options.page_size_cap);
    Response::json(
        200,
        &json!({ "page": page, "page_size": page_size, "total": total, "data": data }),
    )
}

/// The JSON object body of a write, or the refusal.
fn json_object(req: &Request) -> Result<Map<String, Value>, Response> {
    let is_json = req.header("content-type").is_some_and(|ct| {
        ct.trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
    });
    if !is_json {
        return Err(error(
            415,
            "Content-Type must be application/json",
            Some("UNSUPPORTED_MEDIA_TYPE"),
        ));
    }
    match serde_json::from_slice::<Value>(&req.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(bad_request("the request body must be a JSON object")),
        Err(_) => Err(bad_request("the request body is not valid JSON")),
    }
}

fn unknown_fields(body: &Map<String, Value>, allowed: &[&str], errors: &mut Vec<FieldError>) {
    for key in body.keys() {
        if !allowed.contains(&key.as_str()) {
            errors.push(FieldError::new(key, "property should not exist"));
        }
    }
}

/// An optional string field; a present non-string is an error.
fn string_field(
    body: &Map<String, Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match body.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errors.push(FieldError::new(field, "must be a string"));
            None
        }
    }
}

/// An optional array of strings.
fn string_list(
    body: &Map<String, Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<Vec<String>> {
    match body.get(field) {
        None => None,
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) => out.push(s.clone()),
                    _ => errors.push(FieldError::new(format!("{field}[{i}]"), "must be a string")),
                }
            }
            Some(out)
        }
        Some(_) => {
            errors.push(FieldError::new(field, "must be an array of strings"));
            None
        }
    }
}

/// `credentials`: an object of strings. Messages name keys, never values.
fn credentials_field(
    body: &Map<String, Value>,
    errors: &mut Vec<FieldError>,
) -> Vec<(String, String)> {
    match body.get("credentials") {
        None => Vec::new(),
        Some(Value::Object(map)) => map
            .iter()
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                _ => {
                    errors.push(FieldError::new(
                        format!("credentials.{k}"),
                        "must be a string",
                    ));
                    None
                }
            })
            .collect(),
        Some(_) => {
            errors.push(FieldError::new("credentials", "must be an object"));
            Vec::new()
        }
    }
}

/// `POST /connector_profiles`.
fn create_profile(svc: &StackOneService, req: &Request) -> Response {
    let body = match json_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut errors = Vec::new();
    unknown_fields(
        &body,
        &[
            "connector_key",
            "name",
            "authentication_config_key",
            "credentials",
            "scopes",
            "actions",
        ],
        &mut errors,
    );
    let input = ProfileInput {
        connector_key: string_field(&body, "connector_key", &mut errors),
        name: string_field(&body, "name", &mut errors),
        authentication_config_key: string_field(&body, "authentication_config_key", &mut errors),
        credentials: credentials_field(&body, &mut errors),
        scopes: string_list(&body, "scopes", &mut errors).unwrap_or_default(),
        actions: string_list(&body, "actions", &mut errors).unwrap_or_default(),
    };
    if !errors.is_empty() {
        return validation_failed(&errors);
    }
    let mut state = svc.state();
    match state.create_profile(input, "api") {
        Ok(id) => Response::json(201, &state.profile(&id).expect("just created").detail()),
        Err(refusal) => refusal_response(refusal),
    }
}

fn get_profile(svc: &StackOneService, id: &str) -> Response {
    match svc.state().profile(id) {
        Some(p) => Response::json(200, &p.detail()),
        None => refusal_response(WriteRefusal::NotFound),
    }
}

/// `PATCH /connector_profiles/{id}`: only the fields given change.
fn update_profile(svc: &StackOneService, id: &str, req: &Request) -> Response {
    let body = match json_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    if svc.state().profile(id).is_none() {
        return refusal_response(WriteRefusal::NotFound);
    }
    let mut errors = Vec::new();
    if body.is_empty() {
        errors.push(FieldError::new("body", "no fields to update"));
    }
    unknown_fields(
        &body,
        &["name", "credentials", "scopes", "actions"],
        &mut errors,
    );
    let name = string_field(&body, "name", &mut errors);
    let credentials = credentials_field(&body, &mut errors);
    if body.contains_key("credentials") && credentials.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("credentials", "must not be empty"));
    }
    let scopes = string_list(&body, "scopes", &mut errors);
    let actions = string_list(&body, "actions", &mut errors);
    if !errors.is_empty() {
        return validation_failed(&errors);
    }
    let mut state = svc.state();
    match state.update_profile(id, name, credentials, scopes, actions) {
        Ok(()) => Response::json(200, &state.profile(id).expect("exists").detail()),
        Err(refusal) => refusal_response(refusal),
    }
}

fn delete_profile(svc: &StackOneService, id: &str) -> Response {
    if svc.state().delete_profile(id) {
        Response::new(204)
    } else {
        refusal_response(WriteRefusal::NotFound)
    }
}

pub(super) fn random_token(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The stand-in's organization: a number, as StackOne's schema has it.
const SANDBOX_ORGANIZATION_ID: u64 = 4242;

/// Longest `expires_in` accepted (a week).
const MAX_SESSION_SECONDS: i64 = 7 * 24 * 3600;

/// `POST /connect_sessions`.
fn create_session(svc: &StackOneService, options: &StackOneOptions, req: &Request) -> Response {
    let body = match json_object(req) {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let mut errors = Vec::new();
    unknown_fields(
        &body,
        &[
            "origin_owner_id",
            "origin_owner_name",
            "origin_username",
            "provider",
            "categories",
            "expires_in",
            "account_id",
            "label",
            "metadata",
            "multiple",
            "type",
            "integration_id",
            "connector_profile_id",
            "provider_version",
        ],
        &mut errors,
    );
    if options.legacy_connect_sessions && body.contains_key("connector_profile_id") {
        errors.push(FieldError::new(
            "connector_profile_id",
            "property should not exist",
        ));
    }
    for required in ["origin_owner_id", "origin_owner_name"] {
        match body.get(required) {
            None | Some(Value::Null) => errors.push(FieldError::new(required, "is required")),
            Some(Value::String(s)) if !s.trim().is_empty() => {}
            Some(Value::String(_)) => errors.push(FieldError::new(required, "must not be empty")),
            Some(_) => errors.push(FieldError::new(required, "must be a string")),
        }
    }
    for optional in ["origin_username", "label", "account_id", "provider_version"] {
        let _ = string_field(&body, optional, &mut errors);
    }
    let categories = string_list(&body, "categories", &mut errors);
    let expires_in = match body.get("expires_in") {
        None | Some(Value::Null) => 1800,
        Some(v) => match v.as_i64() {
            Some(n) if (1..=MAX_SESSION_SECONDS).contains(&n) => n,
            _ => {
                errors.push(FieldError::new(
                    "expires_in",
                    format!("must be an integer number of seconds from 1 to {MAX_SESSION_SECONDS}"),
                ));
                1800
            }
        },
    };
    if body
        .get("metadata")
        .is_some_and(|m| !m.is_object() && !m.is_null())
    {
        errors.push(FieldError::new("metadata", "must be an object"));
    }
    if body.get("multiple").is_some_and(|m| !m.is_boolean()) {
        errors.push(FieldError::new("multiple", "must be a boolean"));
    }
    // `production`/`test`, lower case, default `production` (the SDK's
    // ConnectSessionCreateType, docs/vendors.md §4 [48]).
    let session_type = match string_field(&body, "type", &mut errors).as_deref() {
        None => "production".to_string(),
        Some(t @ ("production" | "test")) => t.to_string(),
        Some(_) => {
            errors.push(FieldError::new("type", "must be production or test"));
            String::new()
        }
    };
    let mut provider = string_field(&body, "provider", &mut errors);
    if let Some(p) = &provider
        && state::connector(p).is_none()
    {
        errors.push(FieldError::new(
            "provider",
            format!("unknown provider \"{p}\""),
        ));
    }
    let profile_id = string_field(&body, "connector_profile_id", &mut errors);
    let integration_id = string_field(&body, "integration_id", &mut errors);
    if let (Some(a), Some(b)) = (&profile_id, &integration_id)
        && a != b
    {
        errors.push(FieldError::new(
            "integration_id",
            "differs from connector_profile_id (integration_id is its deprecated name)",
        ));
    }
    let profile_id = profile_id.or(integration_id);
    let state_guard = svc.state();
    if let Some(id) = &profile_id {
        match state_guard.profile(id) {
            None => errors.push(FieldError::new(
                "connector_profile_id",
                format!("no connector profile \"{id}\""),
            )),
            Some(p) => match &provider {
                Some(prov) if *prov != p.connector_key => errors.push(FieldError::new(
                    "provider",
                    format!(
                        "does not match the connector profile's connector \"{}\"",
                        p.connector_key
                    ),
                )),
                Some(_) => {}
                None => provider = Some(p.connector_key.clone()),
            },
        }
    }
    drop(state_guard);
    if let Some(account) = body.get("account_id").and_then(Value::as_str) {
        // The stand-in has no linked accounts: any account id is unknown.
        if errors.is_empty() {
            return error(
                404,
                format!("Account {account} not found"),
                Some("NOT_FOUND"),
            );
        }
    }
    if !errors.is_empty() {
        return validation_failed(&errors);
    }

    let now = time::OffsetDateTime::now_utc();
    let token = random_token(48);
    let get = |k: &str| body.get(k).cloned().unwrap_or(Value::Null);
    let session = json!({
        // Typed as the SDK's schema types them: a number and a string.
        "organization_id": SANDBOX_ORGANIZATION_ID,
        "project_id": "sandbox-project",
        "origin_owner_id": get("origin_owner_id"),
        "origin_owner_name": get("origin_owner_name"),
        "origin_username": get("origin_username"),
        "created_at": state::timestamp(now),
        "token": token,
        "auth_link_url": svc.url(&format!("/hub?token={token}")),
        "provider": provider,
        "categories": categories,
        "account_id": null,
        "label": get("label"),
        "metadata": get("metadata"),
        "external_trigger_token": random_token(32),
        "type": session_type,
        "multiple": body.get("multiple").cloned().unwrap_or(json!(false)),
        "integration_id": profile_id,
        "connector_profile_id": profile_id,
    });
    let mut state = svc.state();
    let id = state.add_session(token, session, now + time::Duration::seconds(expires_in));
    let stored = state
        .sessions
        .iter()
        .find(|s| s.id == id)
        .expect("just added");
    Response::json(201, &stored.body)
}

/// `GET /connect_sessions/{id}`.
fn get_session(svc: &StackOneService, id: &str) -> Response {
    let state = svc.state();
    let Some(session) = id
        .parse::<u64>()
        .ok()
        .and_then(|n| state.sessions.iter().find(|s| s.id == n))
    else {
        return error(404, "Connect session not found", Some("NOT_FOUND"));
    };
    let mut body = session.body.clone();
    body["latest_connection_attempt"] = session.attempt.clone().unwrap_or(Value::Null);
    Response::json(200, &body)
}

/// The account statuses StackOne documents (docs/vendors.md §4).
const ACCOUNT_STATUSES: &[&str] = &[
    "active",
    "inactive",
    "suspended",
    "archived",
    "expired",
    "error",
];

/// `GET /accounts`: filters `providers[]` (also `providers`, and the
/// deprecated `provider`), `origin_owner_id`, `status[]`, `account_ids[]`;
/// paged with `page` (from 1) and `page_size`. The answer is a bare array
/// (the SDK's shape) or `{data}` (a guide's), as [`super::AccountsShape`] says.
fn list_accounts(svc: &StackOneService, options: &StackOneOptions, req: &Request) -> Response {
    let mut page = 1usize;
    let mut page_size = options.default_page_size;
    let mut providers: Vec<String> = Vec::new();
    let mut statuses: Vec<String> = Vec::new();
    let mut ids: Vec<String> = Vec::new();
    let mut owners: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    for (key, value) in req.query_pairs() {
        let name = key.trim_end_matches("[]");
        let repeatable = key.ends_with("[]")
            || matches!(
                name,
                "providers" | "status" | "account_ids" | "origin_owner_ids"
            );
        if !repeatable && !seen.insert(key.clone()) {
            return bad_request(format!("query parameter {key} is given more than once"));
        }
        match name {
            "page" | "page_size" => {
                if let Err(refused) = set_paging(
                    name,
                    &value,
                    options.max_page_size,
                    &mut page,
                    &mut page_size,
                ) {
                    return refused;
                }
            }
            "providers" | "provider" => providers.extend(list(&value)),
            "status" => {
                for s in list(&value) {
                    if !ACCOUNT_STATUSES.contains(&s.as_str()) {
                        return bad_request(format!(
                            "status must be one of {}",
                            ACCOUNT_STATUSES.join(", ")
                        ));
                    }
                    statuses.push(s);
                }
            }
            "account_ids" => ids.extend(list(&value)),
            "origin_owner_id" | "origin_owner_ids" => owners.extend(list(&value)),
            _ => return bad_request(format!("unknown query parameter {key}")),
        }
    }
    let state = svc.state();
    let matching: Vec<Value> = state
        .accounts
        .iter()
        .filter(|a| providers.is_empty() || providers.contains(&a.provider))
        .filter(|a| statuses.is_empty() || statuses.contains(&a.status))
        .filter(|a| ids.is_empty() || ids.contains(&a.id))
        .filter(|a| owners.is_empty() || owners.contains(&a.origin_owner_id))
        .map(|a| a.to_json())
        .collect();
    let total = matching.len();
    let data = one_page(matching, page, page_size, options.page_size_cap);
    match options.accounts_shape {
        super::AccountsShape::BareArray => Response::json(200, &Value::Array(data)),
        super::AccountsShape::Data => Response::json(
            200,
            &json!({ "page": page, "page_size": page_size, "total": total, "data": data }),
        ),
    }
}

/// `page` (from 1) or `page_size` (1 to `max_page_size`) of a list call,
/// as StackOne validates them (docs/vendors.md §4); `Err` is the 400.
fn set_paging(
    name: &str,
    value: &str,
    max_page_size: usize,
    page: &mut usize,
    page_size: &mut usize,
) -> Result<(), Response> {
    let n = value.parse::<usize>().ok();
    match (name, n) {
        ("page", Some(n)) if n >= 1 => *page = n,
        ("page", _) => return Err(bad_request("page must be a positive integer")),
        (_, Some(n)) if (1..=max_page_size).contains(&n) => *page_size = n,
        _ => {
            return Err(bad_request(format!(
                "page_size must be an integer from 1 to {max_page_size}"
            )));
        }
    }
    Ok(())
}

/// Page `page` (from 1) of `matching`, `page_size` items asked for. A capped
/// server (`page_size_cap`) serves fewer than asked and does not say so.
fn one_page(matching: Vec<Value>, page: usize, page_size: usize, cap: Option<usize>) -> Vec<Value> {
    let served = cap.map_or(page_size, |cap| page_size.min(cap));
    matching
        .into_iter()
        .skip((page - 1).saturating_mul(served))
        .take(served)
        .collect()
}
