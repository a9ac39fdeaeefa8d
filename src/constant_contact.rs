//! Facts about Constant Contact that the wizard checks locally: the app name
//! rule, the scopes, the redirect URIs (docs/vendors.md §1, §3).

pub mod portal;
pub mod probe;

use crate::error::{Error, Result};
use crate::oauth::retry::RetryPolicy;

/// The redirect URI StackOne's hosted flow uses; must be registered exactly.
pub const STACKONE_REDIRECT_URI: &str =
    "https://api.stackone.com/connect/oauth2/constantcontact/callback";

/// Every scope Constant Contact V3 grants.
pub const KNOWN_SCOPES: [&str; 5] = [
    "account_read",
    "account_update",
    "contact_data",
    "campaign_data",
    "offline_access",
];

/// The portal refuses names containing "Constant Contact" in any case or
/// spacing; check it before the user finds out there.
pub fn validate_app_name(name: &str) -> std::result::Result<(), String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("the application name cannot be empty".into());
    }
    let squashed: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if squashed.contains("constantcontact") {
        return Err(
            "the name may not contain \"Constant Contact\" (in any case or spacing): the portal refuses it"
                .into(),
        );
    }
    if name.chars().count() > 100 {
        return Err("the application name is too long (100 characters at most)".into());
    }
    Ok(())
}

/// Parses and checks a scope list: known names only, no duplicates kept,
/// order preserved. The error names the offending scope and the valid ones.
pub fn parse_scopes<S: AsRef<str>>(scopes: &[S]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for raw in scopes {
        let s = raw.as_ref().trim();
        if s.is_empty() {
            continue;
        }
        if !KNOWN_SCOPES.contains(&s) {
            return Err(Error::usage(format!(
                "unknown scope \"{s}\"; valid scopes are {}",
                KNOWN_SCOPES.join(", ")
            ))
            .with_hint("pass --scopes or set CCSETUP_SCOPES to a comma-separated list of those"));
        }
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    if out.is_empty() {
        return Err(Error::usage("no scopes given").with_hint(format!(
            "pass --scopes with some of {}",
            KNOWN_SCOPES.join(", ")
        )));
    }
    Ok(out)
}

/// Whether the scopes allow a refresh token (`offline_access`).
pub fn grants_refresh_token(scopes: &[String]) -> bool {
    scopes.iter().any(|s| s == "offline_access")
}

/// Whether the scopes allow `GET /account/summary`.
pub fn grants_account_read(scopes: &[String]) -> bool {
    scopes
        .iter()
        .any(|s| s == "account_read" || s == "account_update")
}

/// Client ids are opaque (UUIDs in practice): reject only what cannot be one.
pub fn validate_client_id(id: &str) -> std::result::Result<(), String> {
    let id = id.trim();
    if id.is_empty() {
        return Err("the API Key cannot be empty".into());
    }
    if id.len() > 200 || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "the API Key has spaces or control characters; copy it again from the app's page"
                .into(),
        );
    }
    Ok(())
}

/// Secrets are opaque too; catch pastes of the wrong thing.
pub fn validate_client_secret(secret: &str) -> std::result::Result<(), String> {
    if secret.trim().is_empty() {
        return Err("the Client Secret cannot be empty".into());
    }
    crate::ui::tidy_secret(secret)?;
    if secret != secret.trim() {
        return Err(
            "the Client Secret has spaces or a line break around it; paste only the secret".into(),
        );
    }
    if secret.len() > 512 || secret.chars().any(|c| c.is_control()) {
        return Err(
            "the Client Secret has control characters or is too long; copy it again".into(),
        );
    }
    Ok(())
}

/// Who the authorized account is: `GET /account/summary` (docs/vendors.md §2).
/// Every field is optional: the check must not fail on a sparse profile.
/// Every field is remote text, sanitized as it is read ([`crate::text`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct AccountSummary {
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub organization_name: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub contact_email: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub last_name: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub encoded_account_id: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub country_code: Option<String>,
    #[serde(default, deserialize_with = "crate::text::de_sanitized_opt")]
    pub time_zone_id: Option<String>,
}

impl AccountSummary {
    /// "Organization (e-mail)", or whatever part is known, for messages.
    pub fn display_name(&self) -> String {
        let person = match (&self.first_name, &self.last_name) {
            (Some(f), Some(l)) => Some(format!("{f} {l}")),
            (Some(n), None) | (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        };
        let name = self.organization_name.clone().or(person);
        match (name, &self.contact_email) {
            (Some(n), Some(e)) => format!("{n} ({e})"),
            (Some(n), None) => n,
            (None, Some(e)) => e.clone(),
            (None, None) => self
                .encoded_account_id
                .clone()
                .unwrap_or_else(|| "an unnamed account".to_string()),
        }
    }
}

/// Fetches the account summary with the access token, retrying 429 and 5xx
/// a bounded number of times (the default [`RetryPolicy`]).
///
/// Errors: 401 (token rejected) and 403 (no `account_read` scope, or the app
/// deactivated) are `Authorization` (exit 3); 429/5xx after retries, other
/// statuses and unreachable hosts are `Remote` (exit 4).
pub async fn fetch_account_summary(
    http: &reqwest::Client,
    api_base: &url::Url,
    access_token: &secrecy::SecretString,
) -> Result<AccountSummary> {
    fetch_account_summary_with(http, api_base, access_token, &RetryPolicy::default()).await
}

/// [`fetch_account_summary`] with an explicit retry policy (tests).
pub async fn fetch_account_summary_with(
    http: &reqwest::Client,
    api_base: &url::Url,
    access_token: &secrecy::SecretString,
    retry: &RetryPolicy,
) -> Result<AccountSummary> {
    use secrecy::ExposeSecret;

    let url = crate::endpoints::join(api_base, "account/summary");
    let mut attempt = 1;
    loop {
        tracing::trace!(%url, attempt, "GET account summary");
        let sent = crate::http::send(
            http.get(url.clone())
                .bearer_auth(access_token.expose_secret())
                .header(reqwest::header::ACCEPT, "application/json"),
        )
        .await;
        let (error, retry_after) = match sent {
            Err(e) => (
                Error::remote("could not reach the Constant Contact API for the account check")
                    .with_hint("check the network connection (and HTTPS_PROXY, if one is needed) and try again")
                    .with_source(e),
                None,
            ),
            Ok(response) => {
                let status = response.status().as_u16();
                tracing::trace!(%url, status, "account summary answer");
                let retry_after = crate::oauth::retry::retry_after_of(response.headers());
                let body = crate::http::read_body(response, crate::http::MAX_BODY_BYTES)
                    .await
                    .map_err(|e| {
                        Error::remote(format!("the account check's answer could not be read: {e}"))
                            .with_source(e)
                    })?;
                if status == 200 {
                    return serde_json::from_slice(&body).map_err(|e| {
                        Error::remote("the Constant Contact API sent an account summary that could not be read")
                            .with_source(e)
                    });
                }
                if crate::oauth::retry::is_quota_exceeded(status, &body) {
                    return Err(crate::oauth::retry::quota_exceeded_error(
                        "during the account check",
                    ));
                }
                let error = account_error_from_response(status, &body);
                if !(status == 429 || (500..600).contains(&status)) {
                    return Err(error);
                }
                (error, retry_after)
            }
        };
        let delay = (attempt < retry.max_attempts)
            .then(|| retry.delay_before(attempt + 1, retry_after))
            .flatten();
        match delay {
            Some(delay) => {
                tokio::time::sleep(delay).await;
                attempt += 1;
            }
            None => return Err(error),
        }
    }
}

/// Maps an error answer of the Constant Contact API (`[{error_key,
/// error_message}]`) for the account check. Pure.
pub fn account_error_from_response(status: u16, body: &[u8]) -> Error {
    #[derive(serde::Deserialize)]
    struct ApiError {
        #[serde(default)]
        error_key: Option<String>,
        #[serde(default)]
        error_message: Option<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum ApiErrors {
        Many(Vec<ApiError>),
        One(ApiError),
    }
    let first = match serde_json::from_slice::<ApiErrors>(body) {
        Ok(ApiErrors::Many(mut v)) if !v.is_empty() => Some(v.remove(0)),
        Ok(ApiErrors::One(e)) => Some(e),
        _ => None,
    };
    let detail = first
        .map(|e| {
            let key = e.error_key.unwrap_or_default();
            let msg = e.error_message.unwrap_or_default();
            let text = match (key.is_empty(), msg.is_empty()) {
                (false, false) => format!("{key}: {msg}"),
                (false, true) => key,
                (true, _) => msg,
            };
            crate::oauth::callback::sanitize_provider_text(&text, 300)
        })
        .filter(|d| !d.is_empty());
    let said = match &detail {
        Some(d) => format!("HTTP {status}, {d}"),
        None => format!("HTTP {status}"),
    };
    match status {
        401 => Error::authorization(format!(
            "Constant Contact rejected the access token ({said})"
        ))
        .with_hint("authorize again (`ccsetup rotate --reauthorize`); if this persists, check that the API Key and the app are still active in the portal"),
        403 => Error::authorization(format!(
            "the access token may not read the account: the account_read scope is missing, or the app is deactivated ({said})"
        ))
        .with_hint("include account_read in --scopes and authorize again; check the app is active in the Constant Contact portal"),
        429 => Error::remote(format!(
            "the Constant Contact API is rate-limiting this API Key ({said})"
        ))
        .with_hint("wait a minute (limits: 4 requests/s, 10,000/day, reset at 00:00 UTC) and run `ccsetup status`"),
        s if (500..600).contains(&s) => Error::remote(format!(
            "the Constant Contact API failed during the account check ({said})"
        ))
        .with_hint("try again in a few minutes; `ccsetup status` repeats the check"),
        _ => Error::remote(format!(
            "the Constant Contact API answered the account check unexpectedly ({said})"
        ))
        .with_hint("check CCSETUP_CC_API_URL (if set) and try again"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_name_rule_catches_every_spelling() {
        for bad in [
            "Constant Contact sync",
            "my constantcontact",
            "CONSTANT  CONTACT",
            "Constant-Contact",
            "",
            "   ",
        ] {
            assert!(validate_app_name(bad).is_err(), "{bad:?}");
        }
        for good in ["StackOne Integration", "Contact Constant", "CC bridge"] {
            assert!(validate_app_name(good).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn scopes_are_checked_and_deduplicated() {
        let s = parse_scopes(&["account_read", "offline_access", "account_read"]).unwrap();
        assert_eq!(s, vec!["account_read", "offline_access"]);
        let e = parse_scopes(&["contacts"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(e.message().contains("contacts"));
        assert!(parse_scopes::<&str>(&[]).is_err());
        assert!(grants_refresh_token(&s) && grants_account_read(&s));
    }

    #[test]
    fn redirect_uri_shape() {
        assert_eq!(
            crate::oauth::local_redirect_uri(8917),
            "http://localhost:8917/callback"
        );
    }

    #[test]
    fn account_errors_map_to_kinds() {
        use crate::error::ErrorKind;
        let e = account_error_from_response(
            401,
            br#"[{"error_key":"unauthorized","error_message":"Unauthorized"}]"#,
        );
        assert_eq!(e.kind(), ErrorKind::Authorization);
        assert!(e.message().contains("rejected the access token"));
        assert!(e.message().contains("unauthorized: Unauthorized"));
        let e = account_error_from_response(403, b"[]");
        assert_eq!(e.kind(), ErrorKind::Authorization);
        assert!(e.message().contains("account_read"));
        let e = account_error_from_response(
            429,
            br#"[{"error_key":"throttled","error_message":"Too many"}]"#,
        );
        assert_eq!(e.kind(), ErrorKind::Remote);
        assert!(e.message().contains("throttled"));
        let e = account_error_from_response(503, b"<html>");
        assert_eq!(e.kind(), ErrorKind::Remote);
        let e = account_error_from_response(404, br#"{"error_key":"not_found"}"#);
        assert_eq!(e.kind(), ErrorKind::Remote);
        assert!(e.message().contains("not_found"));
    }

    #[test]
    fn account_display_name() {
        let mut a = AccountSummary {
            organization_name: Some("Acme".into()),
            contact_email: Some("a@acme.test".into()),
            ..Default::default()
        };
        assert_eq!(a.display_name(), "Acme (a@acme.test)");
        a.organization_name = None;
        a.first_name = Some("Ada".into());
        assert_eq!(a.display_name(), "Ada (a@acme.test)");
        let parsed: AccountSummary = serde_json::from_str(
            r#"{"organization_name":"O","contact_phone":"1","physical_address":{}}"#,
        )
        .unwrap();
        assert_eq!(parsed.organization_name.as_deref(), Some("O"));
        assert_eq!(
            AccountSummary::default().display_name(),
            "an unnamed account"
        );
    }
}
