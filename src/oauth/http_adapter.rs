//! oauth2's [`AsyncHttpClient`] over our own `reqwest::Client`
//! ([`crate::http::client`]: rustls, timeouts, redirects off), so the tree has
//! one reqwest and one TLS stack (oauth2's own `reqwest` feature would pull a
//! second reqwest).
//!
//! Beyond moving bytes, the adapter sorts failures the way retries and
//! refresh-token safety need them: whether the request can have reached the
//! server, and the status, `Retry-After` and body of a non-200 answer.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};

use super::client_auth::ClientCredentials;
use super::retry::retry_after_of;

/// Why an exchange with the token endpoint did not produce a 200 answer.
#[derive(thiserror::Error)]
pub enum TransportError {
    /// The request could not be turned into a reqwest request (a bug).
    #[error("could not prepare the HTTP request")]
    Build(#[source] reqwest::Error),
    /// The connection failed before the request was sent: the server never
    /// saw it.
    #[error("could not connect to the token endpoint")]
    NotSent(#[source] reqwest::Error),
    /// The request may have been sent, but no complete answer came back
    /// (timeout, reset): the server may have acted on it.
    #[error("the connection to the token endpoint failed after the request was sent")]
    AnswerLost(#[source] reqwest::Error),
    /// A 200 answer larger than [`crate::http::MAX_TOKEN_BODY_BYTES`]: the
    /// server acted, and what it sent is not read.
    #[error("the token endpoint's answer was larger than {limit} bytes")]
    AnswerTooLarge { limit: usize },
    /// The server answered with a status other than 200.
    #[error("the token endpoint answered HTTP {status}")]
    Status {
        status: u16,
        retry_after: Option<Duration>,
        /// The error body (`{error, error_description}` normally).
        body: Vec<u8>,
    },
}

// Hand-written: never dump a body into a log line.
impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Build(e) => f.debug_tuple("Build").field(e).finish(),
            TransportError::NotSent(e) => f.debug_tuple("NotSent").field(e).finish(),
            TransportError::AnswerLost(e) => f.debug_tuple("AnswerLost").field(e).finish(),
            TransportError::AnswerTooLarge { limit } => f
                .debug_struct("AnswerTooLarge")
                .field("limit", limit)
                .finish(),
            TransportError::Status {
                status,
                retry_after,
                body,
            } => f
                .debug_struct("Status")
                .field("status", status)
                .field("retry_after", retry_after)
                .field("body_len", &body.len())
                .finish(),
        }
    }
}

/// Sends oauth2's requests with our client.
pub struct ReqwestAdapter<'a> {
    client: &'a reqwest::Client,
    client_auth: Option<&'a ClientCredentials>,
}

impl<'a> ReqwestAdapter<'a> {
    pub fn new(client: &'a reqwest::Client) -> Self {
        ReqwestAdapter {
            client,
            client_auth: None,
        }
    }

    /// Every request carries `credentials`' `Authorization` header, the one
    /// rule for client authentication ([`super::client_auth`]), in place of
    /// the header oauth2 built.
    pub fn with_client_auth(mut self, credentials: &'a ClientCredentials) -> Self {
        self.client_auth = Some(credentials);
        self
    }
}

impl<'c> AsyncHttpClient<'c> for ReqwestAdapter<'_> {
    type Error = TransportError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let mut request = reqwest::Request::try_from(request).map_err(TransportError::Build)?;
            if let Some(credentials) = self.client_auth {
                request
                    .headers_mut()
                    .insert(reqwest::header::AUTHORIZATION, credentials.authorization());
            }
            // Whatever secret this request carries, an echo of it in an
            // answer is redacted (crate::text).
            crate::http::remember_request_secrets(&request);
            // -vv: method, URL and status only. The URL of a token request
            // carries no secret (they travel in the Basic header and the
            // form body, neither of which is ever logged).
            let (method, url) = (request.method().clone(), request.url().clone());
            let started = std::time::Instant::now();
            tracing::trace!(%method, %url, "token endpoint request");
            let response = self
                .client
                .execute(request)
                .await
                .map_err(classify_send_error)?;
            let status = response.status();
            tracing::trace!(%method, %url, status = status.as_u16(), ms = started.elapsed().as_millis() as u64, "token endpoint answer");
            let retry_after = retry_after_of(response.headers());
            let mut builder = http_response_builder(status.as_u16());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            // The status arrived, so the server did act: a body lost now is
            // an answer lost. Capped: a huge answer must not exhaust memory
            // while a redeemed refresh token waits to be stored.
            let body = match crate::http::read_body(response, crate::http::MAX_TOKEN_BODY_BYTES)
                .await
            {
                Ok(body) => body,
                Err(crate::http::BodyError::Cut(e)) => return Err(TransportError::AnswerLost(e)),
                // An error status is still an error: its text is not needed.
                Err(crate::http::BodyError::TooLarge { .. }) if status.as_u16() != 200 => {
                    Vec::new()
                }
                Err(crate::http::BodyError::TooLarge { limit }) => {
                    return Err(TransportError::AnswerTooLarge { limit });
                }
            };
            if status.as_u16() == 200 {
                crate::http::remember_token_answer_secrets(&body);
            }
            if status.as_u16() != 200 {
                return Err(TransportError::Status {
                    status: status.as_u16(),
                    retry_after,
                    body,
                });
            }
            builder.body(body).map_err(|_| TransportError::Status {
                status: 200,
                retry_after: None,
                body: Vec::new(),
            })
        })
    }
}

fn http_response_builder(status: u16) -> oauth2::http::response::Builder {
    oauth2::http::Response::builder().status(status)
}

/// `is_connect` errors happen before any byte of the request is written;
/// anything else (timeouts, resets, protocol errors) may come after.
fn classify_send_error(e: reqwest::Error) -> TransportError {
    if e.is_builder() {
        TransportError::Build(e)
    } else if e.is_connect() {
        TransportError::NotSent(e)
    } else {
        TransportError::AnswerLost(e)
    }
}
