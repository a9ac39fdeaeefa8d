//! Step 4: authorization with Constant Contact, a fixable failure offered
//! as a question (like `gh auth login`), and the refresh token's type.

use crate::constant_contact::portal::NEW_CLIENT_SECRET_ADVICE;
use crate::error::{Error, Result};
use crate::oauth::AuthorizeFailure;
use crate::workflow::authorize::{
    AuthOutcome, AuthorizeRequest, authorize_and_check, prepare_redirect,
};
use crate::workflow::secrets::{SecretInput, ask_again};
use crate::workflow::tokens::{self, RefreshTokenType};

use super::Wizard;
use super::checks::Ready;

/// What step 4 proved: `None` under `--skip-authorize`.
pub(super) struct Authorized {
    pub outcome: Option<AuthOutcome>,
    pub refresh_token_type: Option<RefreshTokenType>,
}

/// What to do after a fixable failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    Secret,
    Consent,
    Quit,
}

impl Wizard<'_> {
    pub(super) async fn authorize(&mut self, ready: &mut Ready) -> Result<Authorized> {
        let mut outcome = self.authorize_until_done(ready).await?;
        let refresh_token_type = match outcome.as_mut() {
            Some(auth) => self.check_refresh_token_type(ready, auth).await?,
            None => None,
        };
        Ok(Authorized {
            outcome,
            refresh_token_type,
        })
    }

    async fn authorize_until_done(&mut self, ready: &mut Ready) -> Result<Option<AuthOutcome>> {
        let Some(mut listener) = ready.listener.take() else {
            self.ctx.io.warn(
                "--skip-authorize: the credentials are not checked and no refresh token is stored",
            );
            return Ok(None);
        };
        let inputs = &mut ready.inputs;
        loop {
            let request = AuthorizeRequest {
                client_id: inputs.client_id.clone(),
                client_secret: inputs.client_secret.clone(),
                scopes: inputs.scopes.clone(),
                redirect_port: inputs.redirect_port,
                timeout_secs: self.plan.auth_timeout_secs,
            };
            let (term, remote, _) = self.ctx.parts()?;
            let failed = match authorize_and_check(term, remote, request, listener).await {
                Ok(outcome) => return Ok(Some(outcome)),
                Err(e) => e,
            };
            // Everything entered so far is kept.
            let Some(failure) = AuthorizeFailure::of(&failed) else {
                return Err(failed);
            };
            if !self.plan.in_terminal() {
                return Err(failed);
            }
            match self.retry_menu(&failed, failure)? {
                Retry::Secret => {
                    let ctx = &mut *self.ctx;
                    inputs.client_secret = ask_again(
                        &mut ctx.io,
                        ctx.prompter.as_mut(),
                        &SecretInput::CLIENT_SECRET,
                    )?;
                }
                Retry::Consent => {}
                Retry::Quit => return Err(failed),
            }
            // A fresh listener (or paste) for the next attempt.
            listener = prepare_redirect(&inputs.redirect, self.plan.in_terminal())?;
        }
    }

    /// Says what went wrong and how to fix it, then asks what to do; the
    /// default is the fix that matches the failure.
    fn retry_menu(&mut self, failed: &Error, failure: AuthorizeFailure) -> Result<Retry> {
        let ctx = &mut *self.ctx;
        ctx.io.warn(failed.message());
        let advice = match failure {
            AuthorizeFailure::WrongClient => NEW_CLIENT_SECRET_ADVICE,
            AuthorizeFailure::Denied => {
                "The consent page was answered with Deny. To go on, open it again and choose Approve."
            }
            AuthorizeFailure::TimedOut => {
                "No answer reached ccsetup in time. \"Open the consent page again\" makes a new \
                 authorization URL (the one above cannot be used again): sign in and choose Approve; the \
                 browser must reach this machine's redirect URI (or paste the redirected URL here)."
            }
        };
        ctx.io.info(advice);
        let entries = [
            (Retry::Secret, "Enter the Client Secret again"),
            (Retry::Consent, "Open the consent page again"),
            (Retry::Quit, "Quit (nothing was stored)"),
        ];
        let default = match failure {
            AuthorizeFailure::WrongClient => 0,
            AuthorizeFailure::Denied | AuthorizeFailure::TimedOut => 1,
        };
        let items: Vec<String> = entries.iter().map(|(_, l)| l.to_string()).collect();
        let idx = ctx
            .prompter
            .select("What do you want to do?", &items, default)?;
        Ok(entries[idx].0)
    }

    /// docs/contract.md `init` step 4: redeems the new refresh token once,
    /// under the lock and rotation-safe (the rotated one is stored first, as
    /// `token` does), and tells rotating tokens from long-lived ones. `auth`
    /// then carries the tokens that are alive.
    async fn check_refresh_token_type(
        &mut self,
        ready: &Ready,
        auth: &mut AuthOutcome,
    ) -> Result<Option<RefreshTokenType>> {
        let existing_setup = self.plan.saved.is_some();
        let (mut term, remote, _) = self.ctx.parts()?;
        let kind = tokens::check_refresh_token_type(
            &ready.session,
            remote,
            term.io,
            &ready.inputs.client_id,
            &ready.inputs.client_secret,
            &mut auth.tokens,
        )
        .await?;
        tokens::explain_refresh_token_type(&mut term, &ready.session, kind, existing_setup).await?;
        Ok(kind)
    }
}
