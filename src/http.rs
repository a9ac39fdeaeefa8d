//! The one HTTP client configuration: rustls with the ring provider, the
//! platform's roots, timeouts, no redirects (a redirect on an OAuth or API
//! call is an error worth seeing, and must not carry credentials elsewhere),
//! proxies for https only; and the one way to read an answer's body, with a
//! size cap.
//!
//! The platform's roots are loaded by the first TLS handshake, not when the
//! client is built: reading and parsing them (about 150 files here, most of
//! the instructions of a whole `token --force-refresh`; docs/performance.md)
//! is wasted on a run that makes no HTTPS call, such as a cached `token`.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::error::{Error, Result};

pub const USER_AGENT: &str = concat!("ccsetup/", env!("CARGO_PKG_VERSION"));
/// The longest one request may take, connecting included (the refresh's
/// signal deferral is computed from it: `workflow::tokens`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The most ccsetup reads of any answer: the largest legitimate one (a page
/// of 100 StackOne accounts or connector profiles) is a few tens of KiB.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The most ccsetup reads of a token endpoint's answer (a token response or
/// an OAuth error is well under 8 KiB): read while a redeemed refresh token
/// is not yet stored, so it must never be what exhausts memory.
pub const MAX_TOKEN_BODY_BYTES: usize = 64 << 10;

/// Builds a client. Cheap: no certificate is read until the first HTTPS
/// handshake. Not needed by `--help`, `--version` or `completions`.
pub fn client() -> Result<reqwest::Client> {
    // Installing twice is harmless: the second call reports the first won.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut tls = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::failure("could not set up HTTPS").with_source(e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PlatformVerifierOnFirstUse::new(provider)))
        .with_no_client_auth();
    // What reqwest sets for its own configuration (HTTP/1.1 only here).
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let builder = reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none());
    with_proxy(builder, &ProxySettings::from_env())?
        .build()
        .map_err(|e| Error::failure("could not set up HTTPS").with_source(e))
}

/// The proxy rule (SECURITY.md "Proxies"): ccsetup speaks plain http only to
/// loopback endpoints (docs/contract.md "Endpoints"), and a proxy would carry
/// that cleartext (a Basic client secret, a refresh token) off the machine.
/// So a proxy is used for https requests only — `HTTPS_PROXY`, else
/// `ALL_PROXY` (lower-case names too), minus `NO_PROXY` — where it sees a
/// TLS tunnel and nothing else; `HTTP_PROXY` is never used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxySettings {
    /// The proxy for https requests, and the variable that named it.
    pub https: Option<(&'static str, String)>,
    /// `NO_PROXY` / `no_proxy`, as given.
    pub no_proxy: Option<String>,
    /// An `HTTP_PROXY` / `http_proxy` that is set and ignored.
    pub ignored_http: Option<&'static str>,
}

impl ProxySettings {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the proxy variables through `lookup`; empty means unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let first = |names: &[&'static str]| {
            names.iter().find_map(|&n| {
                lookup(n)
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
                    .map(|v| (n, v))
            })
        };
        ProxySettings {
            https: first(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]),
            no_proxy: first(&["NO_PROXY", "no_proxy"]).map(|(_, v)| v),
            ignored_http: first(&["HTTP_PROXY", "http_proxy"]).map(|(n, _)| n),
        }
    }

    /// One line for `doctor`: which proxy https requests take (credentials
    /// in the proxy URL hidden), and what is ignored.
    pub fn describe(&self) -> String {
        let mut out = match &self.https {
            Some((name, url)) => format!(
                "https requests go through {} ({name}){}",
                without_credentials(url),
                self.no_proxy
                    .as_deref()
                    .map(|n| format!(
                        ", except NO_PROXY hosts ({})",
                        crate::text::sanitize_local(n)
                    ))
                    .unwrap_or_default()
            ),
            None => "no proxy (HTTPS_PROXY and ALL_PROXY unset)".to_string(),
        };
        if let Some(name) = self.ignored_http {
            out.push_str(&format!(
                "; {name} is ignored: plain http goes only to loopback and never through a proxy"
            ));
        }
        out
    }
}

/// `builder` with `settings` applied: the system proxy lookup off (it would
/// send http requests to `HTTP_PROXY`), the https proxy on.
pub fn with_proxy(
    builder: reqwest::ClientBuilder,
    settings: &ProxySettings,
) -> Result<reqwest::ClientBuilder> {
    let builder = builder.no_proxy();
    let Some((name, url)) = &settings.https else {
        return Ok(builder);
    };
    let proxy = reqwest::Proxy::https(url.as_str())
        .map_err(|e| {
            Error::usage(format!(
                "{name} is not a usable proxy URL ({})",
                without_credentials(url)
            ))
            .with_source(e)
            .with_hint(format!("correct or unset {name}"))
        })?
        .no_proxy(
            settings
                .no_proxy
                .as_deref()
                .and_then(reqwest::NoProxy::from_string),
        );
    Ok(builder.proxy(proxy))
}

/// A proxy URL fit to show: no user name or password.
fn without_credentials(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if !parsed.username().is_empty() || parsed.password().is_some() {
                let _ = parsed.set_username("");
                let _ = parsed.set_password(None);
            }
            crate::text::sanitize_local(parsed.as_str())
        }
        // Unparsable: say nothing of what is after a possible `user:pass@`.
        Err(_) => match url.rsplit_once('@') {
            Some((_, host)) => crate::text::sanitize_local(host),
            None => crate::text::sanitize_local(url),
        },
    }
}

/// Why an answer's body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// More than the cap: the rest was never read.
    #[error("the answer was larger than {} KiB, more than any real answer", .limit / 1024)]
    TooLarge { limit: usize },
    /// The connection failed while reading.
    #[error("the answer was cut off")]
    Cut(#[source] reqwest::Error),
}

/// The body of `response`, at most `limit` bytes: a larger answer (however
/// it is framed, chunked or not) is refused as soon as it passes `limit`,
/// so no remote answer can exhaust memory. Every answer ccsetup reads goes
/// through here.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Cut)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Sends `request` after remembering the secrets it carries
/// ([`remember_request_secrets`]): every request ccsetup sends goes
/// through here or through the token endpoint's adapter, which does the same.
pub async fn send(request: reqwest::RequestBuilder) -> reqwest::Result<reqwest::Response> {
    let (client, request) = request.build_split();
    let request = request?;
    remember_request_secrets(&request);
    client.execute(request).await
}

/// Remembers every secret `request` carries (crate::text redacts their
/// echoes): Basic credentials and a Bearer token in `Authorization`, and the
/// secret fields of a form body (client secret, refresh token, code, PKCE
/// verifier, a token to revoke).
pub fn remember_request_secrets(request: &reqwest::Request) {
    use base64::Engine as _;
    if let Some(auth) = request
        .headers()
        .get(reqwest::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        if let Some(b64) = auth.strip_prefix("Basic ") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|d| String::from_utf8(d).ok());
            if let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                crate::text::remember_basic_credentials(user, password);
                // The pair is form-urlencoded first (oauth::client_auth): an
                // echo may carry the secret as sent or as typed.
                let typed: String = url::form_urlencoded::parse(format!("s={password}").as_bytes())
                    .map(|(_, v)| v.into_owned())
                    .collect();
                crate::text::remember_secret(&typed);
            }
        } else if let Some(token) = auth.strip_prefix("Bearer ") {
            crate::text::remember_secret(token);
        }
    }
    const SECRET_FIELDS: [&str; 6] = [
        "client_secret",
        "refresh_token",
        "code",
        "code_verifier",
        "token",
        "access_token",
    ];
    if let Some(body) = request.body().and_then(|b| b.as_bytes()) {
        for (name, value) in url::form_urlencoded::parse(body) {
            if SECRET_FIELDS.contains(&name.as_ref()) {
                crate::text::remember_secret(&value);
            }
        }
    }
}

/// Remembers the tokens of a token endpoint's 200 answer.
pub fn remember_token_answer_secrets(body: &[u8]) {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice(body) else {
        return;
    };
    for field in ["access_token", "refresh_token", "id_token"] {
        if let Some(value) = map.get(field).and_then(|v| v.as_str()) {
            crate::text::remember_secret(value);
        }
    }
}

/// The platform verifier (`rustls-platform-verifier`, as reqwest uses by
/// default), created by the first certificate it must check. A platform
/// without usable roots then fails that handshake, with the platform's
/// reason, instead of every command at start-up.
#[derive(Debug)]
struct PlatformVerifierOnFirstUse {
    provider: Arc<CryptoProvider>,
    verifier: OnceLock<std::result::Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl PlatformVerifierOnFirstUse {
    fn new(provider: Arc<CryptoProvider>) -> Self {
        PlatformVerifierOnFirstUse {
            provider,
            verifier: OnceLock::new(),
        }
    }

    fn verifier(&self) -> std::result::Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        self.verifier
            .get_or_init(|| rustls_platform_verifier::Verifier::new(self.provider.clone()))
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl ServerCertVerifier for PlatformVerifierOnFirstUse {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        self.verifier()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.verifier()?.verify_tls13_signature(message, cert, dss)
    }

    /// Asked when the ClientHello is written, before any certificate: the
    /// provider's schemes, which are the platform verifier's too.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxies_are_read_for_https_only() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            ProxySettings::from_lookup(move |n| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert_eq!(env(&[]), ProxySettings::default());
        let s = env(&[
            ("HTTP_PROXY", "http://127.0.0.1:1"),
            ("ALL_PROXY", "http://all:3128"),
            ("no_proxy", "internal.example"),
        ]);
        assert_eq!(s.https, Some(("ALL_PROXY", "http://all:3128".to_string())));
        assert_eq!(s.ignored_http, Some("HTTP_PROXY"));
        assert_eq!(s.no_proxy.as_deref(), Some("internal.example"));
        let s = env(&[
            ("https_proxy", "http://user:pw@proxy:3128"),
            ("ALL_PROXY", "http://all:3128"),
        ]);
        assert_eq!(s.https.as_ref().unwrap().0, "https_proxy");
        let text = s.describe();
        assert!(text.contains("http://proxy:3128/"), "{text}");
        assert!(!text.contains("pw"), "{text}");
    }
}
