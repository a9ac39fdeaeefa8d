//! The V3 API under `/v3`: only `GET /account/summary`, the wizard's
//! identity check. Errors use the API's own shape, an array of
//! `{error_key, error_message}` (docs/vendors.md §2) — not OAuth's.

use super::super::server::{Request, Response};
use super::state::State;

pub(super) fn handle(state: &State, req: &Request, path: &str) -> Response {
    match (req.method.as_str(), path) {
        ("GET", "/account/summary") => account_summary(state, req),
        (_, "/account/summary") => api_error(405, "method_not_allowed", "Use GET."),
        _ => api_error(404, "not_found", "The requested resource was not found."),
    }
}

/// Extra objects `extra_fields` may ask for.
const EXTRA_FIELDS: [&str; 2] = ["physical_address", "company_logo"];

fn account_summary(state: &State, req: &Request) -> Response {
    let Some(bearer) = req.bearer() else {
        return unauthorized();
    };
    let now = state.now();
    let Some(token) = state
        .access_tokens
        .get(bearer)
        .filter(|t| !t.revoked && now < t.expires_at)
    else {
        return unauthorized();
    };
    if !token
        .scopes
        .iter()
        .any(|s| s == "account_read" || s == "account_update")
    {
        return api_error(
            403,
            "forbidden",
            "This access token does not have the account_read or account_update scope.",
        );
    }
    let extra: Vec<String> = req
        .query_param("extra_fields")
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
        .unwrap_or_default();
    if let Some(bad) = extra.iter().find(|f| !EXTRA_FIELDS.contains(&f.as_str())) {
        return api_error(
            400,
            "query.extra_fields.invalid",
            &format!(
                "extra_fields may only contain {}; got '{bad}'.",
                EXTRA_FIELDS.join(", ")
            ),
        );
    }
    let a = &state.account;
    let mut body = serde_json::json!({
        "organization_name": a.organization_name,
        "contact_email": a.contact_email,
        "contact_phone": a.contact_phone,
        "first_name": a.first_name,
        "last_name": a.last_name,
        "encoded_account_id": a.encoded_account_id,
        "country_code": a.country_code,
        "state_code": a.state_code,
        "time_zone_id": a.time_zone_id,
        "website": a.website,
        "organization_phone": a.organization_phone,
    });
    if extra.iter().any(|f| f == "physical_address") {
        body["physical_address"] = serde_json::json!({
            "address_line1": "1 Flour Street",
            "city": "Boston",
            "state_code": a.state_code,
            "postal_code": "02101",
            "country_code": a.country_code,
        });
    }
    if extra.iter().any(|f| f == "company_logo") {
        body["company_logo"] = serde_json::json!({
            "url": "https://sandbox-bakery.example/logo.png",
            "external_url": "https://sandbox-bakery.example/logo.png",
            "internal_id": "sandbox-logo",
        });
    }
    Response::json(200, &body)
}

fn unauthorized() -> Response {
    api_error(401, "unauthorized", "Unauthorized")
}

/// The API's error shape: `[{"error_key": …, "error_message": …}]`.
pub fn api_error(status: u16, key: &str, message: &str) -> Response {
    Response::json(
        status,
        &serde_json::json!([{ "error_key": key, "error_message": message }]),
    )
}
