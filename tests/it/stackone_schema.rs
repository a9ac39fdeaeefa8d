//! The stand-in StackOne speaks StackOne's published schema: every answer it
//! gives on a path ccsetup uses is validated against
//! `docs/stackone-openapi-subset.json` (written from StackOne's published
//! SDK and OpenAPI document; its `info` names the sources). A property the
//! subset does not list, a missing required one, or a wrong type fails.

use ccsetup::sandbox::stackone::{AccountsShape, StackOneOptions};
use serde_json::{Value, json};

use crate::stackone_as_it_is::StandIn;

fn subset() -> Value {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/stackone-openapi-subset.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A validator for the subset's small dialect: `$ref`, `type` (object,
/// array, string, number, boolean), `nullable`, `required`, `properties`
/// (closed: an unlisted property is drift), `items`, `enum`, and
/// `format: date-time` (RFC 3339). Returns every problem, with its path.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.trim_start_matches("#/components/schemas/");
        let target = &doc["components"]["schemas"][name];
        assert!(!target.is_null(), "unknown $ref {r}");
        return validate(doc, target, value, at, problems);
    }
    if value.is_null() {
        if schema["nullable"] != true {
            problems.push(format!("{at}: null, but not nullable"));
        }
        return;
    }
    let ty = schema["type"]
        .as_str()
        .unwrap_or_else(|| panic!("no type at {at}: {schema}"));
    let ok = match ty {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "boolean" => value.is_boolean(),
        other => panic!("the subset uses an unknown type {other}"),
    };
    if !ok {
        problems.push(format!("{at}: expected {ty}, got {value}"));
        return;
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if schema["format"] == "date-time" {
        let text = value.as_str().unwrap_or_default();
        if time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
            .is_err()
        {
            problems.push(format!("{at}: {text:?} is not an RFC 3339 date-time"));
        }
    }
    match ty {
        "object" => {
            let map = value.as_object().unwrap();
            let props = schema.get("properties").and_then(Value::as_object);
            for req in schema["required"].as_array().into_iter().flatten() {
                let req = req.as_str().unwrap();
                if !map.contains_key(req) {
                    problems.push(format!("{at}: required property {req} missing"));
                }
            }
            if let Some(props) = props {
                for (k, v) in map {
                    match props.get(k) {
                        Some(s) => validate(doc, s, v, &format!("{at}.{k}"), problems),
                        None => problems.push(format!("{at}: property {k} is not in the schema")),
                    }
                }
            }
        }
        "array" => {
            if let Some(items) = schema.get("items") {
                for (i, v) in value.as_array().unwrap().iter().enumerate() {
                    validate(doc, items, v, &format!("{at}[{i}]"), problems);
                }
            }
        }
        _ => {}
    }
}

/// The subset's schema for an answer: the path template that matches, the
/// status's own response or `default`. `None`: not a documented path.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> Option<&'a Value> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (_, ops) = doc["paths"].as_object()?.iter().find(|(template, _)| {
        let t: Vec<&str> = template.trim_start_matches('/').split('/').collect();
        t.len() == segments.len()
            && t.iter()
                .zip(&segments)
                .all(|(a, b)| a.starts_with('{') || a == b)
    })?;
    let responses = &ops[method.to_ascii_lowercase()]["responses"];
    let response = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"))?;
    response["content"]["application/json"].get("schema")
}

fn problems_of(doc: &Value, method: &str, path: &str, status: u16, body: &Value) -> Vec<String> {
    let schema = response_schema(doc, method, path, status)
        .unwrap_or_else(|| panic!("no schema for {method} {path} {status}"));
    let mut problems = Vec::new();
    validate(
        doc,
        schema,
        body,
        &format!("{method} {path} {status}"),
        &mut problems,
    );
    problems
}

/// Drives the stand-in over every documented path (successes and refusals).
fn exercise(h: &StandIn) {
    let id =
        h.so.fill_dashboard_form("schema-client", "schema-secret", &["account_read"], &[])
            .unwrap();
    h.so.add_linked_account("constantcontact", "active", "owner-1", "Owner One");
    h.so.add_linked_account("constantcontact", "error", "owner-2", "Owner Two");
    for path in [
        "/connector_profiles?connector_key=constantcontact",
        "/connector_profiles?page=1&page_size=2",
        "/auth_configs?connector_key=constantcontact",
        "/connector_profiles?page_size=0",
        "/accounts?providers=constantcontact",
        "/accounts?origin_owner_id=owner-1&providers=constantcontact",
        "/accounts?status=bogus",
        "/connect_sessions/999",
    ] {
        h.send("GET", path, None, None);
    }
    let created = h.send(
        "POST",
        "/connect_sessions",
        Some(json!({"origin_owner_id": "o", "origin_owner_name": "O", "connector_profile_id": id})),
        None,
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let session = created.json()["id"].as_u64().unwrap();
    h.send("GET", &format!("/connect_sessions/{session}"), None, None);
    for bad in [
        json!({"origin_owner_name": "O"}),
        json!({"origin_owner_id": "o", "origin_owner_name": "O", "type": "PRODUCTION"}),
    ] {
        assert_eq!(
            h.send("POST", "/connect_sessions", Some(bad), None).status,
            422
        );
    }
    let typed = h.send(
        "POST",
        "/connect_sessions",
        Some(json!({"origin_owner_id": "o", "origin_owner_name": "O", "type": "test"})),
        None,
    );
    assert_eq!(
        typed.status, 201,
        "the SDK's lower-case type is accepted: {}",
        typed.text
    );
    assert_eq!(typed.json()["type"], "test");
}

#[test]
fn every_stand_in_answer_on_a_documented_path_matches_stackones_published_schema() {
    let doc = subset();
    let h = StandIn::start(StackOneOptions {
        accounts_shape: AccountsShape::BareArray,
        ..Default::default()
    });
    exercise(&h);
    let mut checked = std::collections::BTreeSet::new();
    let mut problems = Vec::new();
    for r in h.so.responses() {
        let bare = r.path.split('?').next().unwrap().to_string();
        if response_schema(&doc, &r.method, &bare, r.status).is_none() {
            continue;
        }
        let body: Value = serde_json::from_slice(&r.body)
            .unwrap_or_else(|e| panic!("{} {}: not JSON ({e})", r.method, r.path));
        problems.extend(problems_of(&doc, &r.method, &bare, r.status, &body));
        checked.insert(format!(
            "{} {} {}",
            r.method,
            bare.split('/').nth(1).unwrap(),
            r.status
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    for must in [
        "GET connector_profiles 200",
        "GET connector_profiles 400",
        "GET auth_configs 200",
        "GET accounts 200",
        "GET accounts 400",
        "POST connect_sessions 201",
        "POST connect_sessions 422",
        "GET connect_sessions 200",
        "GET connect_sessions 404",
    ] {
        assert!(checked.contains(must), "{must} not exercised: {checked:?}");
    }
}

#[test]
fn the_schema_check_fails_when_a_field_of_a_stand_in_answer_drifts() {
    let doc = subset();
    let h = StandIn::start(StackOneOptions::default());
    let created = h.send(
        "POST",
        "/connect_sessions",
        Some(json!({"origin_owner_id": "o", "origin_owner_name": "O"})),
        None,
    );
    let good = created.json();
    assert!(problems_of(&doc, "POST", "/connect_sessions", 201, &good).is_empty());

    let mut renamed = good.clone();
    let link = renamed
        .as_object_mut()
        .unwrap()
        .remove("auth_link_url")
        .unwrap();
    renamed["auth_url"] = link;
    let found = problems_of(&doc, "POST", "/connect_sessions", 201, &renamed).join("\n");
    assert!(
        found.contains("required property auth_link_url missing"),
        "{found}"
    );
    assert!(
        found.contains("property auth_url is not in the schema"),
        "{found}"
    );

    let mut retyped = good.clone();
    retyped["organization_id"] = json!("4242");
    assert!(!problems_of(&doc, "POST", "/connect_sessions", 201, &retyped).is_empty());
    let mut shouted = good;
    shouted["type"] = json!("PRODUCTION");
    assert!(!problems_of(&doc, "POST", "/connect_sessions", 201, &shouted).is_empty());

    let error = h.send("GET", "/connect_sessions/1", None, None).json();
    assert!(problems_of(&doc, "GET", "/connect_sessions/1", 404, &error).is_empty());
    let mut listed = error.clone();
    listed["message"] = json!(["a list"]);
    assert!(!problems_of(&doc, "GET", "/connect_sessions/1", 404, &listed).is_empty());
    let mut renamed_error = error;
    let code = renamed_error
        .as_object_mut()
        .unwrap()
        .remove("statusCode")
        .unwrap();
    renamed_error["status_code"] = code;
    assert!(!problems_of(&doc, "GET", "/connect_sessions/1", 404, &renamed_error).is_empty());
}
