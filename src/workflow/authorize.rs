//! Authorization as `init`, `rotate` and `demo` need it: the OAuth flow on
//! an already-bound listener, then one account call that shows whose
//! account the token reaches (reported apart from OAuth failures).

use secrecy::SecretString;

use super::{Remote, Terminal};
use crate::constant_contact::AccountSummary;
use crate::error::{Error, Result};
use crate::oauth::{LoopbackListener, TokenSet};

/// What an authorization is asked for.
pub struct AuthorizeRequest {
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub redirect_port: u16,
    pub timeout_secs: u64,
}

/// A proven authorization: the tokens, and whose account they reach.
pub struct AuthOutcome {
    pub tokens: TokenSet,
    pub account: Option<AccountSummary>,
}

pub async fn authorize_and_check(
    term: Terminal<'_>,
    remote: Remote<'_>,
    request: AuthorizeRequest,
    listener: LoopbackListener,
) -> Result<AuthOutcome> {
    let params = crate::oauth::AuthorizeParams {
        authorize_url: remote.endpoints.cc_authorize.clone(),
        token_url: remote.endpoints.cc_token.clone(),
        client_id: request.client_id.clone(),
        client_secret: request.client_secret.clone(),
        scopes: request.scopes.clone(),
        redirect_port: request.redirect_port,
        timeout: std::time::Duration::from_secs(request.timeout_secs),
        http: remote.http.clone(),
        retry: crate::oauth::RetryPolicy::default(),
    };
    // Where no browser can be launched, or the launch fails, the user may
    // paste the redirected URL instead; the paste source never steals later
    // keystrokes (on Unix it leaves no read pending, so it can always be
    // ready; elsewhere only where no launch is tried).
    let paste =
        (cfg!(unix) || term.browser.can_launch().is_err()).then(crate::oauth::PasteSource::stdin);
    let authorization =
        crate::oauth::authorize(params, listener, term.browser, term.io, paste).await?;
    term.io
        .success("Constant Contact accepted the API Key and Client Secret.");

    let account = if crate::constant_contact::grants_account_read(&request.scopes) {
        let spinner = term.io.spinner("Checking whose account this is");
        let result = crate::constant_contact::fetch_account_summary(
            remote.http,
            &remote.endpoints.cc_api,
            &authorization.tokens.access_token,
        )
        .await;
        drop(spinner);
        let summary = result.map_err(|e| {
            let hint = e.hint().map(str::to_string);
            let err = Error::new(
                e.kind(),
                format!(
                    "the authorization worked, but the account check failed: {}",
                    e.message()
                ),
            );
            match hint {
                Some(h) => err.with_hint(h),
                None => err,
            }
        })?;
        term.io
            .success(format!("Authorized for {}.", summary.display_name()));
        Some(summary)
    } else {
        None
    };
    Ok(AuthOutcome {
        tokens: authorization.tokens,
        account,
    })
}
