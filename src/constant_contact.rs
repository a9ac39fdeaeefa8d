//! Facts about Constant Contact that the wizard checks locally: the app name
//! rule, the scopes, the redirect URIs (REFERENCE.md §1, §3).

use crate::error::{Error, Result};

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

/// The local redirect URI for a loopback port, exactly as it must be
/// registered in the app.
pub fn local_redirect_uri(port: u16) -> String {
    format!("http://localhost:{port}/callback")
}

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
    if secret.len() > 512 || secret.chars().any(|c| c.is_control()) {
        return Err(
            "the Client Secret has control characters or is too long; copy it again".into(),
        );
    }
    Ok(())
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
        assert_eq!(local_redirect_uri(8917), "http://localhost:8917/callback");
    }
}
