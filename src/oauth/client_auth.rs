//! Client authentication at Constant Contact's token and revocation
//! endpoints, in one place: HTTP Basic over the *form-urlencoded* API Key
//! and Client Secret (RFC 6749 §2.3.1; docs/vendors.md §1 "Client auth").
//!
//! Every request that authenticates the client goes through
//! [`ClientCredentials::authorization`]: the code exchange and the refresh
//! (through [`super::http_adapter::ReqwestAdapter`]), the Client Secret probe
//! and the revocation. A secret with a reserved character (`:`, `%`, `+`,
//! `/`, a space) is then judged by the same rule wherever it is sent.

use std::fmt;

use base64::Engine as _;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// The API Key and Client Secret of one app. `Debug` hides the secret.
#[derive(Clone)]
pub struct ClientCredentials {
    client_id: String,
    client_secret: SecretString,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

impl ClientCredentials {
    pub fn new(client_id: &str, client_secret: &SecretString) -> Self {
        ClientCredentials {
            client_id: client_id.to_string(),
            client_secret: client_secret.clone(),
        }
    }

    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    pub fn client_secret(&self) -> &SecretString {
        &self.client_secret
    }

    /// `Basic base64(urlencode(id) ":" urlencode(secret))`, marked sensitive
    /// so no HTTP log shows it.
    pub fn authorization(&self) -> HeaderValue {
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!(
            "{}:{}",
            encode(&self.client_id),
            encode(self.client_secret.expose_secret())
        );
        let value = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        );
        // Base64 and "Basic " are visible ASCII: always a valid header value.
        let mut header = HeaderValue::from_str(&value).expect("base64 is a valid header value");
        header.set_sensitive(true);
        header
    }

    /// `builder` with the `Authorization` header set.
    pub fn authenticate(&self, builder: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        builder.header(reqwest::header::AUTHORIZATION, self.authorization())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decoded(c: &ClientCredentials) -> String {
        let value = c.authorization();
        let value = value.to_str().unwrap();
        let b64 = value.strip_prefix("Basic ").unwrap();
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn reserved_characters_are_form_urlencoded_before_basic() {
        let c = ClientCredentials::new("id:1", &SecretString::from("a:b%c+d/e f"));
        assert_eq!(decoded(&c), "id%3A1:a%3Ab%25c%2Bd%2Fe+f");
        assert!(c.authorization().is_sensitive());
        assert!(!format!("{c:?}").contains("a:b"));
    }

    #[test]
    fn plain_credentials_are_unchanged() {
        let c = ClientCredentials::new("0f9a-uuid", &SecretString::from("AbC_dEf-123456789012345"));
        assert_eq!(decoded(&c), "0f9a-uuid:AbC_dEf-123456789012345");
    }

    /// The header is what the oauth2 crate builds for `AuthType::BasicAuth`
    /// (RFC 6749 §2.3.1), so overriding its header changes nothing it sends
    /// but makes this module the one rule.
    #[test]
    fn matches_the_oauth2_crates_basic_auth() {
        use oauth2::basic::BasicClient;
        use oauth2::{AuthType, ClientId, ClientSecret, RefreshToken, TokenUrl};
        let secret = "a:b%c+d/e f";
        let client = BasicClient::new(ClientId::new("id:1".into()))
            .set_client_secret(ClientSecret::new(secret.into()))
            .set_auth_type(AuthType::BasicAuth)
            .set_token_uri(TokenUrl::new("https://auth.example/token".into()).unwrap());
        let captured = std::sync::Mutex::new(None);
        let token = RefreshToken::new("rt".into());
        let _ =
            client
                .exchange_refresh_token(&token)
                .request(
                    &|req: oauth2::HttpRequest| -> Result<oauth2::HttpResponse, std::io::Error> {
                        *captured.lock().unwrap() = req
                            .headers()
                            .get(oauth2::http::header::AUTHORIZATION)
                            .map(|v| v.as_bytes().to_vec());
                        Err(std::io::Error::other("not sent"))
                    },
                );
        let ours = ClientCredentials::new("id:1", &SecretString::from(secret));
        assert_eq!(
            captured.into_inner().unwrap().as_deref(),
            Some(ours.authorization().as_bytes())
        );
    }
}
