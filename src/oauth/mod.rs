//! Authorizing ccsetup with Constant Contact: the OAuth2 authorization-code
//! flow with PKCE (S256) and `state`, a loopback redirect listener, an
//! optional paste of the redirected URL, and the token grants.
//!
//! - [`request`]: the authorization URL and its secrets;
//! - [`listener`] (IO) and [`callback`] (pure parsing): the redirect;
//! - [`paste`]: the pasted-URL alternative and its terminal source;
//! - [`token`] and [`http_adapter`]: code exchange and refresh;
//! - [`retry`]: bounded retries shared with the account check.
//!
//! [`authorize`] runs the whole flow; the account check
//! ([`crate::constant_contact::fetch_account_summary`]) is the caller's next,
//! separate step.

pub mod callback;
pub mod client_auth;
pub mod http_adapter;
pub mod listener;
pub mod paste;
pub mod redirect;
pub mod request;
pub mod retry;
pub mod revoke;
pub mod token;

use std::time::Duration;

use secrecy::SecretString;
use tokio::time::Instant;
use url::Url;

pub use client_auth::ClientCredentials;
pub use listener::LoopbackListener;
pub use paste::{PasteRejection, PasteSource, parse_pasted_redirect};
pub use redirect::RedirectTarget;
pub use request::AuthorizationRequest;
pub use retry::RetryPolicy;
pub use token::{Grant, RefreshError, RefreshTokenState, TokenEndpoint, TokenSet};

use crate::browser::Browser;
use crate::error::{Error, Result};
use crate::ui::IoStreams;

/// The local redirect URI for a loopback port, exactly as it must be
/// registered in the app.
pub fn local_redirect_uri(port: u16) -> String {
    format!("http://localhost:{port}/callback")
}

/// Everything [`authorize`] needs besides the listener and the terminal.
pub struct AuthorizeParams {
    pub authorize_url: Url,
    pub token_url: Url,
    /// The API Key.
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    /// The port of the registered redirect URI; the listener must be bound
    /// to it (0: whatever the listener has, for tests).
    pub redirect_port: u16,
    /// How long to wait for the consent (`--auth-timeout`).
    pub timeout: Duration,
    /// The HTTP client for the token request ([`crate::http::client`]).
    pub http: reqwest::Client,
    pub retry: RetryPolicy,
}

impl std::fmt::Debug for AuthorizeParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizeParams")
            .field("authorize_url", &self.authorize_url.as_str())
            .field("token_url", &self.token_url.as_str())
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("scopes", &self.scopes)
            .field("redirect_port", &self.redirect_port)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Why an authorization failed, where the person can fix it and try again
/// (attached as the error's source, so interactive callers can offer that).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthorizeFailure {
    /// The token endpoint refused the client (`invalid_client`): most often
    /// a wrong Client Secret.
    WrongClient,
    /// The person chose Deny on the consent page (`access_denied`).
    Denied,
    /// No answer arrived within `--auth-timeout`.
    TimedOut,
}

impl AuthorizeFailure {
    /// The retryable failure behind `error`, if it is one.
    pub fn of(error: &Error) -> Option<AuthorizeFailure> {
        error.cause()?.downcast_ref::<AuthorizeFailure>().copied()
    }
}

impl std::fmt::Display for AuthorizeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AuthorizeFailure::WrongClient => "the client credentials were refused",
            AuthorizeFailure::Denied => "the consent was denied",
            AuthorizeFailure::TimedOut => "no answer within the timeout",
        })
    }
}

impl std::error::Error for AuthorizeFailure {}

/// How the authorization code reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSource {
    /// The browser was redirected to the loopback listener.
    Listener,
    /// The user pasted the redirected URL.
    Paste,
}

/// The result of a successful [`authorize`].
#[derive(Debug)]
pub struct Authorization {
    pub tokens: TokenSet,
    /// The redirect URI used (must be registered in the app).
    pub redirect_uri: String,
    pub code_source: CodeSource,
    /// The answer carried no refresh token (typically: `offline_access` was
    /// not among the scopes). Not an error, but `token` will not be able to
    /// refresh: worth a warning, which [`authorize`] already printed.
    pub refresh_token_missing: bool,
    /// Holds off signals from sending the code until the caller has stored
    /// the tokens (a new grant may expire the older tokens, docs/vendors.md
    /// §5, so an answer abandoned now would be lost access): the caller
    /// drops it once they are stored. `None` in tests built by hand.
    pub deferral: Option<crate::interrupt::DeferGuard>,
}

impl Authorization {
    /// The warning for a missing refresh token, if there is one.
    pub fn refresh_token_warning(&self) -> Option<String> {
        self.refresh_token_missing.then(|| {
            if self.tokens.scope.iter().any(|s| s == "offline_access") {
                "Constant Contact sent no refresh token although offline_access was granted: the access \
                 token works for 24 h, after which you must authorize again; check the app's refresh \
                 token type (Rotating Refresh Tokens) in the portal"
                    .to_string()
            } else {
                "no refresh token was granted (offline_access was not among the scopes): the access \
                 token works for 24 h, after which you must authorize again"
                    .to_string()
            }
        })
    }
}

/// How long the browser's callback page may wait for the token exchange.
const BROWSER_ANSWER_WAIT: Duration = Duration::from_secs(5);

/// Runs the authorization-code flow.
///
/// Prints the authorization URL (always) and tries to open it; when the
/// browser cannot be launched (or `--no-browser`) and a `paste` source is
/// given, races the listener against a pasted redirect URL (first valid
/// answer wins; an invalid paste is explained and the user may paste again).
/// A spinner shows while waiting, except in paste mode, where it would
/// overwrite what the user types. Exactly one matching callback is
/// accepted; the browser gets a short page; the code is exchanged with HTTP
/// Basic client authentication. The listener is closed when this returns.
///
/// Errors: provider refusal, timeout, state/grant/client problems are
/// `Authorization` (exit 3); the token endpoint unreachable or failing after
/// retries is `Remote` (exit 4).
pub async fn authorize(
    params: AuthorizeParams,
    listener: LoopbackListener,
    browser: &dyn Browser,
    io: &mut IoStreams,
    paste: Option<PasteSource>,
) -> Result<Authorization> {
    authorize_via(params, Redirect::Listener(listener), browser, io, paste).await
}

/// Where the code comes back: the listener (bound already), or only a paste
/// for a redirect URI no listener can serve (`https://localhost:8888/…`).
#[derive(Debug)]
pub enum Redirect {
    Listener(LoopbackListener),
    PasteOnly(String),
}

impl From<LoopbackListener> for Redirect {
    fn from(listener: LoopbackListener) -> Self {
        Redirect::Listener(listener)
    }
}

/// [`authorize`] for any [`Redirect`]. A paste-only redirect needs a `paste`
/// source (else it fails at once, exit 2) and keeps it even when a browser
/// opens: that browser's redirect will not load anything.
pub async fn authorize_via(
    params: AuthorizeParams,
    redirect: Redirect,
    browser: &dyn Browser,
    io: &mut IoStreams,
    paste: Option<PasteSource>,
) -> Result<Authorization> {
    if let Redirect::Listener(listener) = &redirect
        && params.redirect_port != 0
        && params.redirect_port != listener.port()
    {
        return Err(Error::failure(format!(
            "the redirect listener is on port {} but the redirect URI names port {}",
            listener.port(),
            params.redirect_port
        )));
    }
    let (listener, redirect_uri, paste_only) = match redirect {
        Redirect::Listener(l) => {
            let uri = l.redirect_uri();
            (Some(l), uri, false)
        }
        Redirect::PasteOnly(uri) => {
            if paste.is_none() {
                return Err(Error::usage(format!(
                    "the redirect URI {uri} is not served by ccsetup, so the redirected address must be pasted, and nobody can paste here"
                ))
                .with_hint("run in a terminal, or use a loopback redirect URI such as http://localhost:8917/callback (--redirect-uri)"));
            }
            (None, uri, true)
        }
    };
    let port = listener.as_ref().map_or(0, LoopbackListener::port);
    let request = AuthorizationRequest::new(
        &params.authorize_url,
        &params.client_id,
        &redirect_uri,
        &params.scopes,
    )?;
    let url = request.url().to_string();
    let (_, state, verifier) = request.into_parts();

    // The URL is always shown, even with -q: without it nobody can go on.
    io.always(format!(
        "Open this URL in a browser to authorize ccsetup with Constant Contact:\n\n  {url}\n"
    ));
    // No browser here (`--no-browser`, SSH, no display) is expected and only
    // noted; a launch that was worth trying and failed is a warning.
    let mut paste = match browser.can_launch() {
        Err(why) => {
            io.info(format!("Not opening a browser here ({why})."));
            paste
        }
        Ok(()) => match browser.open(&url) {
            Ok(()) => {
                io.info("Opened it in your browser.");
                if paste_only { paste } else { None }
            }
            Err(why) => {
                io.warn(format!(
                    "could not open a browser ({why}); open the URL above yourself"
                ));
                paste
            }
        },
    };

    let deadline = Instant::now() + params.timeout;
    let spinner = if paste_only {
        io.always(format!(
            "After you approve, the browser is sent to {redirect_uri}, which ccsetup does not serve: \
             the page will not load. Copy the full address from the address bar, paste it here and \
             press Enter."
        ));
        None
    } else if paste.is_some() {
        // Shown even with -q: the user must know a paste is expected.
        io.always(format!(
            "After you approve, the browser is sent to {redirect_uri}. If that page does not load \
             (the browser runs on another machine), copy the full address from its address bar, \
             paste it here and press Enter."
        ));
        None
    } else {
        Some(io.spinner(format!(
            "Waiting for you to approve access in the browser (up to {} s)",
            params.timeout.as_secs()
        )))
    };

    // Boxed, not stack-pinned, so that dropping it below (when a paste won)
    // really closes the listener before the token exchange.
    let dropped_connections = listener.as_ref().map(|l| l.dropped_connections());
    let expected_state = state.secret().clone();
    let mut server = Box::pin(async move {
        match listener {
            Some(listener) => listener.serve(&expected_state, deadline).await,
            None => {
                tokio::time::sleep_until(deadline).await;
                Ok(None)
            }
        }
    });
    let waited = loop {
        tokio::select! {
            served = server.as_mut() => {
                break served.map(|found| found.map(|(c, browser)| (c, Some(browser))));
            }
            line = next_paste_line(&mut paste) => match line {
                None => {
                    // Input closed: only the listener remains.
                    paste = None;
                }
                Some(text) => match parse_pasted_redirect(&text, &redirect_uri, state.secret()) {
                    Ok(code) => break Ok(Some((code, None))),
                    Err(PasteRejection::ProviderError { error, description }) => {
                        break Err(listener::provider_error(&error, description.as_deref()));
                    }
                    Err(PasteRejection::Empty) => {}
                    Err(why) => io.warn(format!(
                        "{why}. Paste the redirected URL again, or keep waiting for the browser."
                    )),
                },
            },
        }
    };
    drop(spinner);
    // Paste won or lost: the listener future is dropped here, closing it.
    drop(server);
    if let Some(source) = paste.take() {
        release_paste_source(source, io).await;
    }
    let (code, browser_waiting) = match waited? {
        Some(found) => found,
        None if paste_only => {
            return Err(Error::authorization(format!(
                "no redirected address was pasted within {} s",
                params.timeout.as_secs()
            ))
            .with_hint(format!(
                "run the command again, approve in the browser, and paste the whole address it was sent to \
                 ({redirect_uri}?code=…) within --auth-timeout; the next try makes a new \
                 authorization URL (the one shown cannot be used again)"
            )));
        }
        None => {
            return Err(listener::callback_timeout_error(
                params.timeout,
                port,
                Some(&url),
                dropped_connections.map_or(0, |d| d.load(std::sync::atomic::Ordering::Relaxed)),
            ));
        }
    };
    io.success("Authorization received");
    let code_source = if browser_waiting.is_some() {
        CodeSource::Listener
    } else {
        CodeSource::Paste
    };
    // The browser's page waits for the exchange (a few seconds at most),
    // so it can tell the truth about how it went.
    let (verdict_tx, verdict_rx) = tokio::sync::oneshot::channel();
    let answering = browser_waiting.map(|browser| {
        tokio::spawn(async move {
            let answer = tokio::time::timeout(BROWSER_ANSWER_WAIT, verdict_rx)
                .await
                .ok()
                .and_then(|v| v.ok())
                .unwrap_or(listener::CallbackAnswer::Received);
            browser.answer(answer).await;
        })
    });

    let endpoint = TokenEndpoint::new(
        params.http,
        &params.token_url,
        &params.client_id,
        &params.client_secret,
    )
    .with_retry_policy(params.retry.clone());
    let exchange_budget = params.retry.worst_case(crate::http::REQUEST_TIMEOUT);
    // Deferred like a refresh: the exchange's whole retry budget now;
    // each later step up to the store extends it by its own bound.
    let deferral = crate::interrupt::defer_for(exchange_budget);
    let spinner = io.spinner("Exchanging the authorization code for tokens");
    let tokens = endpoint
        .exchange_code(&code, &verifier, &redirect_uri, &params.scopes)
        .await;
    drop(spinner);
    let _ = verdict_tx.send(if tokens.is_ok() {
        listener::CallbackAnswer::Authorized
    } else {
        listener::CallbackAnswer::ExchangeFailed
    });
    if let Some(task) = answering {
        crate::interrupt::extend_deferral(BROWSER_ANSWER_WAIT);
        let _ = task.await;
    }
    let tokens = tokens?;
    let authorization = Authorization {
        refresh_token_missing: tokens.refresh_token.is_none(),
        tokens,
        redirect_uri,
        code_source,
        deferral: Some(deferral),
    };
    if let Some(warning) = authorization.refresh_token_warning() {
        io.warn(warning);
    }
    Ok(authorization)
}

/// The next pasted line, or never when there is no paste source.
async fn next_paste_line(paste: &mut Option<PasteSource>) -> Option<String> {
    match paste {
        Some(source) => source.next_line().await,
        None => std::future::pending().await,
    }
}

/// Lets go of the paste source without leaving a read that would swallow
/// the user's next answer. Only the Windows-console fallback can have one
/// pending; then the user is asked to press Enter, which completes it.
async fn release_paste_source(mut source: PasteSource, io: &mut IoStreams) {
    if source.has_pending_blocking_read() {
        io.info("Press Enter to continue.");
        let _ = source.next_line().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_warning_explains_the_scope() {
        let auth = Authorization {
            tokens: TokenSet {
                access_token: SecretString::from("a"),
                refresh_token: None,
                expires_at: 0,
                scope: vec!["account_read".into()],
            },
            redirect_uri: "http://localhost:1/callback".into(),
            code_source: CodeSource::Listener,
            refresh_token_missing: true,
            deferral: None,
        };
        let w = auth.refresh_token_warning().unwrap();
        assert!(w.contains("offline_access"));
    }
}
