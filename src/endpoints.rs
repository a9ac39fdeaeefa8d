//! The remote endpoints, overridable through the environment (docs/contract.md
//! "Endpoints") for tests, staging, proxies and `demo`.

use url::Url;

use crate::error::{Error, Result};

pub const DEFAULT_CC_AUTHORIZE_URL: &str =
    "https://authz.constantcontact.com/oauth2/default/v1/authorize";
pub const DEFAULT_CC_TOKEN_URL: &str = "https://authz.constantcontact.com/oauth2/default/v1/token";
pub const DEFAULT_CC_REVOKE_URL: &str =
    "https://authz.constantcontact.com/oauth2/default/v1/revoke";
pub const DEFAULT_CC_API_URL: &str = "https://api.cc.email/v3";
pub const DEFAULT_CC_PORTAL_URL: &str = "https://app.constantcontact.com/pages/dma/portal/";
pub const DEFAULT_STACKONE_API_URL: &str = "https://api.stackone.com";
pub const DEFAULT_STACKONE_DASHBOARD_URL: &str = "https://app.stackone.com/connector-profiles";

/// Every URL ccsetup talks to or sends the user to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub cc_authorize: Url,
    pub cc_token: Url,
    /// RFC 7009 revocation (`reset`).
    pub cc_revoke: Url,
    pub cc_api: Url,
    pub cc_portal: Url,
    pub stackone_api: Url,
    pub stackone_dashboard: Url,
}

impl Endpoints {
    /// The real services.
    pub fn production() -> Self {
        Self::from_lookup(|_| None).expect("built-in endpoints are valid")
    }

    /// Reads the `CCSETUP_*_URL` variables from the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds endpoints from a variable lookup; unset or empty means default.
    /// A URL that is not http(s), or plain http to a non-loopback host, is
    /// refused: secrets must not travel unencrypted because of a typo.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let get = |name: &str, default: &str| -> Result<Url> {
            let raw = lookup(name).filter(|v| !v.trim().is_empty());
            let text = raw.as_deref().unwrap_or(default).trim();
            parse_endpoint(name, text)
        };
        Ok(Endpoints {
            cc_authorize: get("CCSETUP_CC_AUTHORIZE_URL", DEFAULT_CC_AUTHORIZE_URL)?,
            cc_token: get("CCSETUP_CC_TOKEN_URL", DEFAULT_CC_TOKEN_URL)?,
            cc_revoke: get("CCSETUP_CC_REVOKE_URL", DEFAULT_CC_REVOKE_URL)?,
            cc_api: get("CCSETUP_CC_API_URL", DEFAULT_CC_API_URL)?,
            cc_portal: get("CCSETUP_CC_PORTAL_URL", DEFAULT_CC_PORTAL_URL)?,
            stackone_api: get("CCSETUP_STACKONE_API_URL", DEFAULT_STACKONE_API_URL)?,
            stackone_dashboard: get(
                "CCSETUP_STACKONE_DASHBOARD_URL",
                DEFAULT_STACKONE_DASHBOARD_URL,
            )?,
        })
    }

    /// The environment variables that point ccsetup at these endpoints.
    pub fn to_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("CCSETUP_CC_AUTHORIZE_URL", self.cc_authorize.to_string()),
            ("CCSETUP_CC_TOKEN_URL", self.cc_token.to_string()),
            ("CCSETUP_CC_REVOKE_URL", self.cc_revoke.to_string()),
            ("CCSETUP_CC_API_URL", self.cc_api.to_string()),
            ("CCSETUP_CC_PORTAL_URL", self.cc_portal.to_string()),
            ("CCSETUP_STACKONE_API_URL", self.stackone_api.to_string()),
            (
                "CCSETUP_STACKONE_DASHBOARD_URL",
                self.stackone_dashboard.to_string(),
            ),
        ]
    }
}

impl Endpoints {
    /// The variables whose URL differs from the real service's, with it.
    pub fn overridden(&self) -> Vec<(&'static str, String)> {
        let production = Self::production().to_env();
        self.to_env()
            .into_iter()
            .zip(production)
            .filter(|(ours, real)| ours.1 != real.1)
            .map(|(ours, _)| ours)
            .collect()
    }

    /// The one line every command prints on stderr when an endpoint is
    /// overridden (docs/contract.md "Endpoints"): secrets then go to other
    /// servers than Constant Contact's and StackOne's, which nobody should
    /// learn only from reading the environment. `None` for the real ones.
    pub fn override_notice(&self) -> Option<String> {
        let names: Vec<&str> = self.overridden().into_iter().map(|(n, _)| n).collect();
        (!names.is_empty()).then(|| {
            format!(
                "note: endpoints overridden by {}: requests and secrets go there, not to the real services",
                names.join(", ")
            )
        })
    }
}

/// Joins a path onto a base URL that may itself have a path (`…/v3`).
pub fn join(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    let joined = format!(
        "{}/{}",
        base.path().trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    url.set_path(&joined);
    url
}

fn parse_endpoint(name: &str, text: &str) -> Result<Url> {
    let url =
        Url::parse(text).map_err(|e| Error::usage(format!("{name} is not a valid URL: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(&url) => Ok(url),
        "http" => Err(Error::usage(format!(
            "{name} uses plain http to a non-loopback host ({})",
            url.host_str().unwrap_or("")
        ))
        .with_hint("use https, or http only for 127.0.0.1 / localhost / [::1]")),
        other => Err(Error::usage(format!(
            "{name} must be an http(s) URL, not {other}:"
        ))),
    }
}

fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_urls() {
        let e = Endpoints::production();
        assert_eq!(e.cc_token.as_str(), DEFAULT_CC_TOKEN_URL);
        assert_eq!(e.stackone_api.as_str(), "https://api.stackone.com/");
    }

    #[test]
    fn overrides_accept_loopback_http_only() {
        let ok = Endpoints::from_lookup(|n| {
            (n == "CCSETUP_CC_API_URL").then(|| "http://127.0.0.1:9/v3".into())
        });
        assert_eq!(ok.unwrap().cc_api.as_str(), "http://127.0.0.1:9/v3");
        let bad = Endpoints::from_lookup(|n| {
            (n == "CCSETUP_CC_API_URL").then(|| "http://example.com/v3".into())
        });
        let err = bad.unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.message().contains("CCSETUP_CC_API_URL"));
        assert!(Endpoints::from_lookup(|_| Some("ftp://x".into())).is_err());
        assert!(Endpoints::from_lookup(|_| Some("not a url".into())).is_err());
    }

    #[test]
    fn overrides_are_named_once() {
        assert_eq!(Endpoints::production().override_notice(), None);
        let e = Endpoints::from_lookup(|n| {
            (n == "CCSETUP_CC_TOKEN_URL").then(|| "http://127.0.0.1:9/token".into())
        })
        .unwrap();
        let notice = e.override_notice().unwrap();
        assert!(notice.contains("CCSETUP_CC_TOKEN_URL"), "{notice}");
        assert!(!notice.contains("CCSETUP_CC_API_URL"), "{notice}");
        assert!(!notice.contains('\n'));
    }

    #[test]
    fn join_keeps_the_base_path() {
        let base = Url::parse("https://api.cc.email/v3").unwrap();
        assert_eq!(
            join(&base, "/account/summary").as_str(),
            "https://api.cc.email/v3/account/summary"
        );
        let root = Url::parse("https://api.stackone.com/").unwrap();
        assert_eq!(
            join(&root, "connector_profiles").as_str(),
            "https://api.stackone.com/connector_profiles"
        );
    }
}
