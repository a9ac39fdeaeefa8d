//! Registering applications, and the portal's rules for them: the name
//! rule and the redirect URI rules (docs/vendors.md §3). The portal pages and
//! the test API ([`super::CcStandIn::register_app`]) both go through here,
//! so a test can never set up an app the real portal would refuse.

use super::state::{
    App, ErrorShape, KNOWN_SCOPES, OAuthFlow, OktaRotation, RefreshKind, STACKONE_REDIRECT_URI,
    State, all_scopes, random_client_id, random_token,
};

/// What to register; the defaults follow StackOne's guide.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppRegistration {
    pub name: String,
    pub flow: OAuthFlow,
    pub refresh_kind: RefreshKind,
    pub redirect_uris: Vec<String>,
    /// The scopes the app may ask for (default: all).
    pub allowed_scopes: Vec<String>,
    pub error_shape: ErrorShape,
    pub okta_rotation: Option<OktaRotation>,
}

impl Default for AppRegistration {
    /// "StackOne Integration", Authorization Code + Implicit, Rotating
    /// refresh tokens, the StackOne callback as the only redirect URI.
    fn default() -> Self {
        AppRegistration {
            name: "StackOne Integration".into(),
            flow: OAuthFlow::AuthorizationCodeAndImplicit,
            refresh_kind: RefreshKind::Rotating,
            redirect_uris: vec![STACKONE_REDIRECT_URI.into()],
            allowed_scopes: all_scopes(),
            error_shape: ErrorShape::default(),
            okta_rotation: None,
        }
    }
}

impl AppRegistration {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }
    pub fn flow(mut self, flow: OAuthFlow) -> Self {
        self.flow = flow;
        self
    }
    pub fn refresh_kind(mut self, kind: RefreshKind) -> Self {
        self.refresh_kind = kind;
        self
    }
    /// Restricts the scopes the app may ask for (the portal can).
    pub fn allowed_scopes<S: AsRef<str>>(mut self, scopes: &[S]) -> Self {
        self.allowed_scopes = scopes.iter().map(|s| s.as_ref().to_string()).collect();
        self
    }
    /// `invalid_client` in Okta's `{errorCode, errorSummary}` shape.
    pub fn okta_error_shape(mut self) -> Self {
        self.error_shape = ErrorShape::Okta;
        self
    }
    /// Okta's grace period and reuse detection for rotating refresh tokens.
    pub fn okta_rotation(mut self, grace_period: std::time::Duration) -> Self {
        self.okta_rotation = Some(OktaRotation { grace_period });
        self
    }
    /// Adds a redirect URI (after the StackOne one).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }
}

/// What registering gives back: the API Key and, for apps that have one,
/// a freshly generated Client Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredApp {
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl RegisteredApp {
    /// The secret, for apps registered with the Authorization Code flow.
    ///
    /// # Panics
    /// If the app has no secret (PKCE or Device flow).
    pub fn secret(&self) -> &str {
        self.client_secret
            .as_deref()
            .expect("only Authorization Code apps have a client secret")
    }
}

/// Registers an app (with a secret, when its flow has one), checking the
/// same rules as the portal.
pub(super) fn register(
    state: &mut State,
    registration: AppRegistration,
    with_secret: bool,
) -> Result<RegisteredApp, String> {
    validate_app_name(&registration.name)?;
    let redirect_uris = validate_redirect_uris(&registration.redirect_uris)?;
    let allowed_scopes = validate_allowed_scopes(&registration.allowed_scopes)?;
    let client_secret =
        (with_secret && registration.flow.has_client_secret()).then(|| random_token(16));
    let app = App {
        client_id: random_client_id(),
        name: registration.name.trim().to_string(),
        flow: registration.flow,
        refresh_kind: registration.refresh_kind,
        redirect_uris,
        client_secret: client_secret.clone(),
        allowed_scopes,
        error_shape: registration.error_shape,
        okta_rotation: registration.okta_rotation,
    };
    let registered = RegisteredApp {
        client_id: app.client_id.clone(),
        client_secret,
    };
    state.apps.push(app);
    Ok(registered)
}

/// The portal refuses empty names and names containing "Constant Contact"
/// in any case or spacing ("constant-contact", "ConstantContact", …).
pub fn validate_app_name(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("Enter an application name.".into());
    }
    let squashed: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    if squashed.contains("constantcontact") {
        return Err("Application names cannot contain \"Constant Contact\".".into());
    }
    Ok(())
}

/// The scopes an app may ask for: known ones, each once, in the
/// authorization server's order.
pub fn validate_allowed_scopes<S: AsRef<str>>(scopes: &[S]) -> Result<Vec<String>, String> {
    if let Some(unknown) = scopes
        .iter()
        .map(AsRef::as_ref)
        .find(|s| !KNOWN_SCOPES.contains(s))
    {
        return Err(format!("Unknown scope: {unknown}"));
    }
    Ok(KNOWN_SCOPES
        .iter()
        .filter(|k| scopes.iter().any(|s| s.as_ref() == **k))
        .map(|k| k.to_string())
        .collect())
}

/// Checks redirect URIs as the portal does and returns them trimmed, empty
/// lines dropped, duplicates removed. Rules: absolute URLs, no fragment,
/// at most one wildcard and only as the lowest subdomain (`*.example.com`),
/// none in the path or query.
pub fn validate_redirect_uris<S: AsRef<str>>(uris: &[S]) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for raw in uris {
        let uri = raw.as_ref().trim();
        if uri.is_empty() {
            continue;
        }
        validate_redirect_uri(uri)?;
        if !out.iter().any(|u| u == uri) {
            out.push(uri.to_string());
        }
    }
    Ok(out)
}

fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.contains('#') {
        return Err(format!(
            "Redirect URIs cannot contain a fragment (#): {uri}"
        ));
    }
    let parsed =
        url::Url::parse(uri).map_err(|e| format!("Not a valid absolute URL ({e}): {uri}"))?;
    if matches!(parsed.scheme(), "http" | "https") && parsed.host_str().is_none_or(str::is_empty) {
        return Err(format!("Redirect URI has no host: {uri}"));
    }
    let stars = uri.matches('*').count();
    if stars > 1 {
        return Err(format!("Only one wildcard (*) is allowed: {uri}"));
    }
    if stars == 1 && !parsed.host_str().is_some_and(|h| h.starts_with("*.")) {
        return Err(format!(
            "A wildcard (*) is allowed only as the lowest subdomain (https://*.example.com/…): {uri}"
        ));
    }
    Ok(())
}

/// Whether `requested` is one of the app's redirect URIs: byte for byte,
/// or through a `*.` wildcard standing for exactly one lowest subdomain
/// label (everything else still byte for byte).
pub fn redirect_uri_registered(app: &App, requested: &str) -> bool {
    app.redirect_uris
        .iter()
        .any(|registered| registered == requested || wildcard_matches(registered, requested))
}

fn wildcard_matches(registered: &str, requested: &str) -> bool {
    let Some((before, after)) = registered.split_once("*.") else {
        return false;
    };
    let Some(rest) = requested.strip_prefix(before) else {
        return false;
    };
    let Some((label, tail)) = rest.split_once('.') else {
        return false;
    };
    !label.is_empty()
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && tail == after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_constant_contact_in_any_spelling_are_refused() {
        for bad in [
            "",
            "   ",
            "Constant Contact sync",
            "my constantcontact app",
            "CONSTANT-CONTACT",
            "Constant_Contact",
        ] {
            assert!(validate_app_name(bad).is_err(), "{bad:?} must be refused");
        }
        for good in ["StackOne Integration", "Contact Constant", "Bakery CC"] {
            assert!(validate_app_name(good).is_ok(), "{good:?} must be accepted");
        }
    }

    #[test]
    fn redirect_uri_rules() {
        assert_eq!(
            validate_redirect_uris(&[
                "  http://localhost:8917/callback ",
                "",
                "http://localhost:8917/callback"
            ])
            .unwrap(),
            vec!["http://localhost:8917/callback".to_string()],
            "trimmed, blanks dropped, duplicates removed"
        );
        for bad in [
            "http://localhost:8917/callback#x",
            "https://example.com/cb#",
            "/callback",
            "https://a.*.example.com/cb",
            "https://*.*.example.com/cb",
            "https://*.example.com/cb?x=*",
            "https://example.com/*",
        ] {
            assert!(
                validate_redirect_uris(&[bad]).is_err(),
                "{bad:?} must be refused"
            );
        }
        assert!(validate_redirect_uris(&["https://*.example.com/cb"]).is_ok());
    }

    #[test]
    fn redirect_uris_match_exactly_or_through_one_wildcard_label() {
        let app = App {
            client_id: "id".into(),
            name: "n".into(),
            flow: OAuthFlow::AuthorizationCodeAndImplicit,
            refresh_kind: RefreshKind::Rotating,
            redirect_uris: vec![
                "http://localhost:8917/callback".into(),
                "https://*.example.com/cb".into(),
            ],
            client_secret: None,
            allowed_scopes: all_scopes(),
            error_shape: ErrorShape::Rfc6749,
            okta_rotation: None,
        };
        assert!(redirect_uri_registered(
            &app,
            "http://localhost:8917/callback"
        ));
        for bad in [
            "http://localhost:8917/callback/",
            "http://127.0.0.1:8917/callback",
            "http://LOCALHOST:8917/callback",
            "http://localhost:8917/callback?x=1",
            "http://localhost:8918/callback",
        ] {
            assert!(!redirect_uri_registered(&app, bad), "{bad}");
        }
        assert!(redirect_uri_registered(&app, "https://shop.example.com/cb"));
        assert!(!redirect_uri_registered(&app, "https://a.b.example.com/cb"));
        assert!(!redirect_uri_registered(&app, "https://example.com/cb"));
        assert!(!redirect_uri_registered(
            &app,
            "https://shop.example.com/cb2"
        ));
    }
}
