//! Where the browser is sent after consent (`--redirect-uri`, docs/contract.md
//! `init`): a loopback `http` URI is served by the listener on its port and
//! path; any other URI (Constant Contact's own examples use
//! `https://localhost:8888`) runs no listener, and the user pastes the
//! address the browser was sent to.

use url::Url;

use crate::error::{Error, Result};

/// How the authorization code comes back for one redirect URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedirectTarget {
    /// `http://localhost|127.0.0.1|[::1]:PORT/PATH`: the listener answers it.
    Loopback {
        uri: String,
        port: u16,
        path: String,
    },
    /// Anything else: the browser's redirect will not load; paste it.
    PasteOnly { uri: String },
}

impl RedirectTarget {
    /// The default: `http://localhost:<port>/callback`.
    pub fn local(port: u16) -> Self {
        RedirectTarget::Loopback {
            uri: super::local_redirect_uri(port),
            port,
            path: super::callback::CALLBACK_PATH.to_string(),
        }
    }

    /// Reads a `--redirect-uri`: an absolute http(s) URL without a fragment.
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let bad = |why: &str| {
            Error::usage(format!(
                "invalid redirect URI \"{}\": {why}",
                crate::text::sanitize_local(text)
            ))
            .with_hint(
                "pass --redirect-uri (CCSETUP_REDIRECT_URI) exactly as registered in the app, e.g. http://localhost:8917/callback",
            )
        };
        // URL parsing silently drops some control characters; the URI is
        // kept as given and shown on the terminal, so none may be in it.
        if !crate::text::is_terminal_safe(text) || text.contains(' ') {
            return Err(bad("it contains spaces, control or invisible characters"));
        }
        let url = Url::parse(text).map_err(|e| bad(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(bad("it must be an http or https URL"));
        }
        if url.fragment().is_some() {
            return Err(bad("redirect URIs cannot contain a fragment (#)"));
        }
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => return Err(bad("it has no host")),
        };
        if url.scheme() == "http" && loopback {
            let port = url
                .port_or_known_default()
                .ok_or_else(|| bad("it has no port"))?;
            return Ok(RedirectTarget::Loopback {
                uri: text.to_string(),
                port,
                path: url.path().to_string(),
            });
        }
        Ok(RedirectTarget::PasteOnly {
            uri: text.to_string(),
        })
    }

    /// The URI, exactly as given (and as it must be registered).
    pub fn uri(&self) -> &str {
        match self {
            RedirectTarget::Loopback { uri, .. } | RedirectTarget::PasteOnly { uri } => uri,
        }
    }

    /// The listener's port, if one runs.
    pub fn port(&self) -> Option<u16> {
        match self {
            RedirectTarget::Loopback { port, .. } => Some(*port),
            RedirectTarget::PasteOnly { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_http_runs_the_listener_anything_else_pastes() {
        for (uri, port, path) in [
            ("http://localhost:8917/callback", 8917, "/callback"),
            ("http://127.0.0.1:4000/cb", 4000, "/cb"),
            ("http://[::1]:4001/a/b", 4001, "/a/b"),
            ("http://localhost/x", 80, "/x"),
        ] {
            assert_eq!(
                RedirectTarget::parse(uri).unwrap(),
                RedirectTarget::Loopback {
                    uri: uri.into(),
                    port,
                    path: path.into()
                }
            );
        }
        for uri in [
            "https://localhost:8888/",
            "https://localhost",
            "https://example.com/cb",
        ] {
            assert_eq!(
                RedirectTarget::parse(uri).unwrap(),
                RedirectTarget::PasteOnly { uri: uri.into() }
            );
        }
        for bad in [
            "localhost:8917",
            "ftp://localhost/x",
            "http://localhost:1/cb#x",
            "",
        ] {
            assert_eq!(
                RedirectTarget::parse(bad).unwrap_err().exit_code(),
                2,
                "{bad}"
            );
        }
        assert_eq!(
            RedirectTarget::local(9).uri(),
            "http://localhost:9/callback"
        );
    }
}
