//! The authorization URL and the pasted-redirect parser.

use base64::Engine;
use ccsetup::oauth::{AuthorizationRequest, PasteRejection, parse_pasted_redirect};
use sha2::{Digest, Sha256};
use url::Url;

const REDIRECT: &str = "http://localhost:8917/callback";

fn scopes() -> Vec<String> {
    ["account_read", "contact_data", "offline_access"]
        .map(String::from)
        .to_vec()
}

fn request() -> AuthorizationRequest {
    let authorize =
        Url::parse("https://authz.constantcontact.com/oauth2/default/v1/authorize").unwrap();
    AuthorizationRequest::new(&authorize, "my-client-id", REDIRECT, &scopes()).unwrap()
}

fn param(url: &Url, name: &str) -> Vec<String> {
    url.query_pairs()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

#[test]
fn the_url_carries_every_required_parameter_once() {
    let req = request();
    let url = req.url();
    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("authz.constantcontact.com"));
    assert_eq!(url.path(), "/oauth2/default/v1/authorize");
    assert_eq!(param(url, "client_id"), ["my-client-id"]);
    assert_eq!(param(url, "redirect_uri"), [REDIRECT]);
    assert_eq!(param(url, "response_type"), ["code"]);
    assert_eq!(
        param(url, "scope"),
        ["account_read contact_data offline_access"]
    );
    assert_eq!(param(url, "state"), [req.state().secret().as_str()]);
    assert_eq!(param(url, "code_challenge_method"), ["S256"]);
    assert_eq!(param(url, "code_challenge").len(), 1);
    assert_eq!(req.redirect_uri(), REDIRECT);
    // The verifier itself never travels in the URL.
    assert!(!url.as_str().contains(req.pkce_verifier().secret().as_str()));
}

#[test]
fn the_challenge_is_the_s256_of_the_verifier() {
    let req = request();
    let verifier = req.pkce_verifier().secret();
    // RFC 7636: 43..128 characters of the unreserved set.
    assert!((43..=128).contains(&verifier.len()), "{}", verifier.len());
    assert!(
        verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    );
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    assert_eq!(param(req.url(), "code_challenge"), [expected]);
}

#[test]
fn state_has_at_least_128_random_bits_and_is_fresh() {
    let a = request();
    let b = request();
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(a.state().secret())
        .unwrap();
    assert!(decoded.len() >= 16, "{} bytes", decoded.len());
    assert_ne!(a.state().secret(), b.state().secret());
    assert_ne!(a.pkce_verifier().secret(), b.pkce_verifier().secret());
}

#[test]
fn debug_output_holds_no_verifier() {
    let req = request();
    assert!(!format!("{req:?}").contains(req.pkce_verifier().secret().as_str()));
}

#[test]
fn pasted_redirects() {
    let good = "http://localhost:8917/callback?code=C0de&state=ST";
    assert_eq!(
        parse_pasted_redirect(good, REDIRECT, "ST")
            .unwrap()
            .secret(),
        "C0de"
    );
    assert_eq!(
        parse_pasted_redirect(&format!("  \"{good}\"\n"), REDIRECT, "ST")
            .unwrap()
            .secret(),
        "C0de"
    );
    assert_eq!(
        parse_pasted_redirect(good, REDIRECT, "OTHER").unwrap_err(),
        PasteRejection::WrongState
    );
    for wrong in [
        "http://localhost:9999/callback?code=C0de&state=ST",
        "http://evil.example:8917/callback?code=C0de&state=ST",
        "http://localhost:8917/elsewhere?code=C0de&state=ST",
    ] {
        let e = parse_pasted_redirect(wrong, REDIRECT, "ST").unwrap_err();
        assert!(matches!(e, PasteRejection::WrongAddress { .. }), "{wrong}");
        assert!(e.to_string().contains(REDIRECT));
    }
    let denied = parse_pasted_redirect(
        "http://localhost:8917/callback?error=access_denied&state=ST",
        REDIRECT,
        "ST",
    )
    .unwrap_err();
    assert!(
        matches!(denied, PasteRejection::ProviderError { ref error, .. } if error == "access_denied")
    );
    for garbage in ["", "hello", "C0de", "ST", "localhost:8917", "\u{1b}[A"] {
        assert!(
            parse_pasted_redirect(garbage, REDIRECT, "ST").is_err(),
            "{garbage:?}"
        );
    }
}
