//! The one HTTP client configuration: rustls with the ring provider, the
//! platform's roots, timeouts, no redirects (a redirect on an OAuth or API
//! call is an error worth seeing, and must not carry credentials elsewhere).
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
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::failure("could not set up HTTPS").with_source(e))
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
