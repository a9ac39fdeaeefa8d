//! The token lifecycle, rotation-safe (docs/contract.md `token`): Constant Contact
//! rotates refresh tokens, and a rotated token that is not saved is lost
//! access. So a refresh runs under the profile lock, the new refresh token
//! is stored before anything else (or kept in a 0600 recovery file when the
//! store refuses it), and a token left in a recovery file is put back first.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

use super::{ProfileSession, Remote};
use crate::config::ProfileConfig;
use crate::error::{Error, Result};
use crate::oauth::{RetryPolicy, TokenEndpoint, TokenSet};
use crate::store::recovery::{self, Reservation};
use crate::store::{SecretKind, SecretStore, StoredAccessToken};
use crate::ui::IoStreams;

/// Seconds a cached access token must still have to be used.
pub const ACCESS_TOKEN_MIN_SECS: i64 = 60;

/// Where a valid access token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Cache,
    /// Another process refreshed while we waited for the lock.
    RefreshedByOther,
    Refreshed,
}

impl TokenSource {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenSource::Cache => "cache",
            TokenSource::RefreshedByOther => "refreshed by another process",
            TokenSource::Refreshed => "refreshed",
        }
    }
}

/// The cached access token, if one is stored and readable.
pub async fn cached_access_token(session: &ProfileSession) -> Result<Option<StoredAccessToken>> {
    Ok(session
        .get(SecretKind::AccessToken)
        .await?
        .and_then(|s| StoredAccessToken::from_secret(&s).ok()))
}

/// Whether `token` is good enough to hand out without a refresh.
fn is_usable(token: &StoredAccessToken) -> bool {
    token.is_fresh(crate::clock::now_unix(), ACCESS_TOKEN_MIN_SECS)
}

/// Step 2 of [`valid_access_token`] alone, on this thread: the cached token
/// when it is usable and no recovery file waits (step 1 would put a refresh
/// token back first). `None` means "take the whole path". Reads only, so it
/// needs neither the async runtime nor the signal handling that guards
/// writes: `token` answers from its cache before either exists
/// (docs/performance.md). Blocking.
pub fn usable_cached_token_now(session: &ProfileSession) -> Result<Option<StoredAccessToken>> {
    if session.recovery_pending()? {
        return Ok(None);
    }
    Ok(session
        .get_now(SecretKind::AccessToken)?
        .and_then(|s| StoredAccessToken::from_secret(&s).ok())
        .filter(is_usable))
}

/// A valid access token for the profile, refreshing when needed:
/// 1. a refresh token left in a recovery file is put back first;
/// 2. a cached token with more than 60 s left is used (unless `force`);
/// 3. otherwise the lock is taken and the store re-read (another process
///    may have refreshed meanwhile: then its token is used), and the
///    refresh token redeemed with `client_secret` (given to this call) or
///    the stored one;
/// 4. the new refresh token is stored before anything else.
pub async fn valid_access_token(
    session: &ProfileSession,
    remote: Remote<'_>,
    io: &mut IoStreams,
    settings: &ProfileConfig,
    client_secret: Option<SecretString>,
    force: bool,
) -> Result<(StoredAccessToken, TokenSource)> {
    if let Some(path) = session.recover_refresh_token().await? {
        say_recovered(io, &path);
    }

    let before = cached_access_token(session).await?;
    if !force
        && let Some(tok) = &before
        && is_usable(tok)
    {
        return Ok((tok.clone(), TokenSource::Cache));
    }

    let lock = session.lock().await?;
    // Under the lock: another process may have refreshed while we waited.
    if let Some(tok) = cached_access_token(session).await? {
        let changed = before
            .as_ref()
            .is_none_or(|b| b.access_token != tok.access_token);
        if is_usable(&tok) && (changed || !force) {
            drop(lock);
            return Ok((tok, TokenSource::RefreshedByOther));
        }
    }

    let refresh_token = session
        .get(SecretKind::RefreshToken)
        .await?
        .ok_or_else(|| no_refresh_token(session.profile(), &settings.scopes))?;
    let client_secret = match client_secret {
        Some(s) => s,
        None => session.client_secret().await?,
    };
    let stored = redeem_locked(
        session,
        remote,
        io,
        &settings.client_id,
        &client_secret,
        &refresh_token,
    )
    .await?;
    drop(lock);
    Ok((stored, TokenSource::Refreshed))
}

/// Redeems `refresh_token` and stores the rotated one, falling back to a
/// recovery file reserved before the request. The caller holds the
/// profile lock. From sending the request until the new token is stored,
/// Ctrl-C waits: the server rotates on receipt, so an abandoned answer is
/// lost access.
pub async fn redeem_locked(
    session: &ProfileSession,
    remote: Remote<'_>,
    io: &mut IoStreams,
    client_id: &str,
    client_secret: &SecretString,
    refresh_token: &SecretString,
) -> Result<StoredAccessToken> {
    // Room for the rotated token before it exists: on a full disk the
    // refresh is not started (exit 5), rather than redeemed and then lost.
    let reservation = {
        let (dir, profile) = (
            session.config_dir().to_path_buf(),
            session.profile().to_string(),
        );
        super::session::blocking(move || Reservation::reserve(&dir, &profile)).await?
    };
    let policy = RetryPolicy::default();
    let _defer = crate::interrupt::defer_for(redeem_deferral(&policy, session.store().as_ref()));
    if crate::interrupt::stop_before_starting() {
        // Stopped before anything was sent: the stored token is untouched
        // (dropping the guard ends the process with the signal's code).
        return Err(Error::failure("stopped before the refresh was sent"));
    }
    let endpoint = TokenEndpoint::new(
        remote.http.clone(),
        &remote.endpoints.cc_token,
        client_id,
        client_secret,
    )
    .with_retry_policy(policy);
    let tokens = endpoint.refresh(refresh_token).await.map_err(Error::from)?;
    persist_rotated_tokens(session, io, &tokens, reservation).await
}

/// How long signals are held off while a refresh token is redeemed with
/// `policy` and its answer stored in `store` (docs/contract.md "Storage"):
/// every try the policy allows, each running out the HTTP request timeout,
/// with the longest waits between them, then the two store writes (the
/// refresh token, or its recovery file, and the access token). The one
/// place this is computed; the store calls extend it as they start.
pub fn redeem_deferral(policy: &RetryPolicy, store: &dyn SecretStore) -> Duration {
    policy.worst_case(crate::http::REQUEST_TIMEOUT) + store.call_timeout().saturating_mul(2)
}

/// Whether the app's refresh tokens rotate (docs/contract.md `init` step 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshTokenType {
    /// A different refresh token came back: single use, as the seed guide asks.
    Rotating,
    /// The same one came back: "Long Lived Refresh Tokens".
    LongLived,
}

impl RefreshTokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            RefreshTokenType::Rotating => "rotating",
            RefreshTokenType::LongLived => "long_lived",
        }
    }
}

/// Redeems a just-granted refresh token once through [`redeem_locked`]
/// (under the profile lock; the rotated token is stored before anything
/// else) and compares what came back. `tokens` is updated to the live set.
/// `None` when no refresh token was granted.
pub async fn check_refresh_token_type(
    session: &ProfileSession,
    remote: Remote<'_>,
    io: &mut IoStreams,
    client_id: &str,
    client_secret: &SecretString,
    tokens: &mut TokenSet,
) -> Result<Option<RefreshTokenType>> {
    let Some(granted) = tokens.refresh_token.clone() else {
        return Ok(None);
    };
    let lock = session.lock().await?;
    // The redeem stores the new grant's rotated token over the stored one:
    // a token still waiting in a recovery file belongs to the authorization
    // this one replaces (as in [`store_token_set`]), and its file is where
    // this redeem's answer is kept if the store refuses it.
    session.discard_recovered_refresh_token()?;
    let stored = redeem_locked(session, remote, io, client_id, client_secret, &granted).await?;
    let current = session.get(SecretKind::RefreshToken).await?;
    drop(lock);
    let kind = match &current {
        Some(now) if now.expose_secret() == granted.expose_secret() => RefreshTokenType::LongLived,
        _ => RefreshTokenType::Rotating,
    };
    tokens.refresh_token = current.or(Some(granted));
    tokens.access_token = SecretString::from(stored.access_token.clone());
    tokens.expires_at = stored.expires_at;
    Ok(Some(kind))
}

/// Says what `init` found (docs/contract.md `init` step 4) in the user's
/// words. A long-lived app is not what the guide asks for and cannot be
/// changed in the portal: someone at the terminal is offered to stop here
/// and create the app again (a stop on a new profile removes the tokens
/// just stored, so nothing of it is left); a script is warned and goes on
/// (`status` keeps saying so).
pub async fn explain_refresh_token_type(
    term: &mut super::Terminal<'_>,
    session: &ProfileSession,
    kind: Option<RefreshTokenType>,
    existing_setup: bool,
) -> Result<()> {
    use crate::hints::{Command, Problem, State, hint};
    match kind {
        Some(RefreshTokenType::Rotating) => {
            term.io
                .success("The refresh path works, and refresh tokens rotate.");
            return Ok(());
        }
        Some(RefreshTokenType::LongLived) => {}
        None => return Ok(()),
    }
    term.io.warn(LONG_LIVED_MEANING);
    if !term.prompter.is_interactive() {
        term.io.info(format!(
            "Going on with tokens that never rotate. To follow the guide: {}.",
            hint(Problem::LongLivedRefreshTokens, Command::Init, State::SetUp)
        ));
        return Ok(());
    }
    term.io.info(format!(
        "To follow the guide: {}.",
        hint(
            Problem::LongLivedRefreshTokens,
            Command::Init,
            State::AtPrompt
        )
    ));
    if !term.prompter.confirm(
        "Stop here, so you can create the application again with Rotating Refresh Tokens?",
        true,
    )? {
        term.io
            .info("Going on with tokens that never rotate; `ccsetup status` will say so.");
        return Ok(());
    }
    let note = if existing_setup {
        "the Client Secret and settings were not stored"
    } else {
        let _lock = session.lock().await?;
        session.delete(SecretKind::RefreshToken).await?;
        session.delete(SecretKind::AccessToken).await?;
        "nothing of this run was kept"
    };
    Err(Error::authorization(format!(
        "stopped: the application issues refresh tokens that never rotate ({note})"
    ))
    .with_hint(hint(
        Problem::LongLivedRefreshTokens,
        Command::Init,
        State::SetUp,
    )))
}

/// What "Long Lived Refresh Tokens" means, for `init`'s warning.
pub const LONG_LIVED_MEANING: &str = "this application's refresh tokens never rotate (it was \
     created with \"Long Lived Refresh Tokens\"): the same token works until it is revoked, so a \
     copied one keeps working too. The setup guide asks for \"Rotating Refresh Tokens\", where each \
     refresh gives a new token and the old one stops working; the type of an existing application \
     cannot be changed.";

/// Stores a freshly issued token set: the refresh token first, falling back
/// to the recovery file reserved for it; then the access token (a failure
/// there is only a warning: the refresh token is safe, the next run
/// refreshes again).
pub async fn persist_rotated_tokens(
    session: &ProfileSession,
    io: &mut IoStreams,
    tokens: &TokenSet,
    reservation: Reservation,
) -> Result<StoredAccessToken> {
    let stored_refresh = match &tokens.refresh_token {
        Some(new_refresh) => session.set(SecretKind::RefreshToken, new_refresh).await,
        None => Ok(()),
    };
    if let (Some(new_refresh), Err(store_err)) = (&tokens.refresh_token, stored_refresh) {
        return Err(
            match reservation.keep(session.config_dir(), session.profile(), new_refresh) {
                Ok(path) => Error::secret_store(format!(
                    "could not store the new refresh token: {}; it was saved to {} (mode 0600) instead",
                    store_err.message(),
                    path.display()
                ))
                .with_hint(
                    "fix the secret store, then run any ccsetup command for this profile: it picks the token up",
                ),
                Err(file_err) => Error::secret_store(format!(
                    "could not store the new refresh token ({}) nor save it to a recovery file ({})",
                    store_err.message(),
                    file_err.message()
                ))
                .with_hint("run `ccsetup rotate --reauthorize` once the secret store works"),
            },
        );
    }
    if let Err(e) = reservation.release() {
        // The token is stored; the empty reservation is dropped next run.
        tracing::debug!("could not remove the recovery reservation: {}", e.message());
    }
    let stored = access_token_of(tokens);
    if let Err(e) = session
        .set(SecretKind::AccessToken, &stored.to_secret())
        .await
    {
        io.warn(format!("could not cache the access token: {}", e.message()));
    }
    Ok(stored)
}

/// Stores a whole token set after an authorization (init, re-authorize).
/// A refresh token still waiting in a recovery file belongs to the older
/// authorization this one replaces: it is discarded, or the next run would
/// put it back over the new one.
pub async fn store_token_set(session: &ProfileSession, tokens: &TokenSet) -> Result<()> {
    match &tokens.refresh_token {
        Some(r) => session.set(SecretKind::RefreshToken, r).await?,
        None => session.delete(SecretKind::RefreshToken).await?,
    }
    session.discard_recovered_refresh_token()?;
    session
        .set(
            SecretKind::AccessToken,
            &access_token_of(tokens).to_secret(),
        )
        .await
}

fn access_token_of(tokens: &TokenSet) -> StoredAccessToken {
    StoredAccessToken {
        access_token: tokens.access_token.expose_secret().to_string(),
        expires_at: tokens.expires_at,
        scope: tokens.scope.join(" "),
    }
}

pub fn say_recovered(io: &mut IoStreams, taken: &recovery::Taken) {
    match taken {
        recovery::Taken::Recovered(path) => io.success(format!(
            "Recovered the refresh token that an earlier run saved to {}.",
            path.display()
        )),
        recovery::Taken::DeadReservationRemoved(path) => io.info(format!(
            "Removed {}: an earlier run set it aside for a refresh token and ended before \
             needing it (it held none); the stored refresh token is the live one.",
            path.display()
        )),
    }
}

/// Why there is no refresh token to redeem, and what helps.
fn no_refresh_token(profile: &str, scopes: &[String]) -> Error {
    if !crate::constant_contact::grants_refresh_token(scopes) {
        // Re-authorizing with the same scopes would not help.
        let mut scopes = scopes.to_vec();
        scopes.push("offline_access".into());
        return Error::authorization(format!(
            "profile \"{profile}\" was authorized without the offline_access scope, so \
             Constant Contact issued no refresh token and the access token cannot be renewed"
        ))
        .with_hint(format!(
            "authorize again with offline_access: `ccsetup init --scopes {}`",
            scopes.join(",")
        ));
    }
    Error::authorization(format!(
        "no refresh token is stored for profile \"{profile}\""
    ))
    .with_hint("run `ccsetup rotate --reauthorize` (the scopes must include offline_access)")
}

/// Revokes the live refresh token at Constant Contact (RFC 7009), best
/// effort: the one waiting in a recovery file when there is one (the stored
/// one was redeemed by the run that wrote the file, so it is dead), else
/// the stored one. Returns whether that token was revoked; a failure is a
/// warning saying how to remove the access by hand. The caller holds the
/// profile lock (no refresh changes which token is live meanwhile).
pub async fn revoke_live_refresh_token(
    io: &mut IoStreams,
    remote: Remote<'_>,
    session: &ProfileSession,
    settings: Option<&ProfileConfig>,
) -> bool {
    let Some(settings) = settings else {
        return false;
    };
    let pending = {
        let (dir, profile) = (
            session.config_dir().to_path_buf(),
            session.profile().to_string(),
        );
        super::session::blocking(move || recovery::read(&dir, &profile)).await
    };
    let refresh_token = match pending {
        Ok(recovery::Content::Token(t)) => t,
        Ok(recovery::Content::Absent | recovery::Content::DeadReservation) => {
            match session.get(SecretKind::RefreshToken).await {
                Ok(Some(t)) => t,
                _ => return false,
            }
        }
        Err(e) => {
            io.warn(format!(
                "{}; so which refresh token is live is unknown and none was revoked. To remove \
                 the access by hand, disconnect \"{}\" in the Constant Contact account's \
                 connected apps",
                e.message(),
                settings.app_name
            ));
            return false;
        }
    };
    let result = match session.get(SecretKind::ClientSecret).await {
        Ok(Some(secret)) => {
            crate::oauth::revoke::revoke_refresh_token(
                remote.http,
                &remote.endpoints.cc_revoke,
                &settings.client_id,
                &secret,
                &refresh_token,
            )
            .await
        }
        _ => Err(Error::failure(
            "no Client Secret is stored to authenticate the revocation",
        )),
    };
    match result {
        Ok(()) => {
            io.success("Revoked the refresh token at Constant Contact.");
            true
        }
        Err(e) => {
            io.warn(format!(
                "{}; the refresh token may still work. To remove the access by hand, disconnect \"{}\" \
                 in the Constant Contact account's connected apps, or delete the application in the \
                 developer portal's My Applications",
                e.message(),
                settings.app_name
            ));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::KeyringStore;
    use crate::store::keyring::DEFAULT_TIMEOUT;

    /// The refresh's signal deferral covers everything the refresh may
    /// take: every try and wait the retry policy allows, then the store.
    #[test]
    fn the_refresh_deferral_covers_the_whole_retry_budget_and_the_store() {
        let policy = RetryPolicy::default();
        let store = KeyringStore::new(DEFAULT_TIMEOUT);
        let deferral = redeem_deferral(&policy, &store);
        assert!(
            deferral >= policy.worst_case(crate::http::REQUEST_TIMEOUT) + store.call_timeout(),
            "{deferral:?}"
        );
        // The reported case: `Retry-After: 30` twice, then an answer that
        // takes the whole request timeout, then a keyring write.
        let reported =
            policy.max_retry_after * 2 + crate::http::REQUEST_TIMEOUT * 3 + DEFAULT_TIMEOUT;
        assert!(deferral >= reported, "{deferral:?} < {reported:?}");
        // A slower keyring (CCSETUP_KEYRING_TIMEOUT_SECS) lengthens it.
        let slow = KeyringStore::new(Duration::from_secs(120));
        assert!(redeem_deferral(&policy, &slow) >= deferral + Duration::from_secs(90));
    }
}
