//! Pieces several commands share: reading secret inputs, talking to the
//! secret store off the async runtime, and the rotation-safe way to get an
//! access token.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use crate::config::{self, ProfileConfig};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::store::{SecretKind, SecretStore};

/// How one secret input is obtained: `--…-stdin`, then its env var, then a
/// hidden prompt. Never a flag value (it would show in `ps` and history).
pub struct SecretInput {
    pub what: &'static str,
    pub stdin_flag: &'static str,
    pub env: &'static str,
    pub prompt: &'static str,
    /// Said before the prompt.
    pub note: Option<&'static str>,
    /// What can be checked locally; a prompt asks again with the reason.
    pub validate: fn(&str) -> std::result::Result<(), String>,
}

impl SecretInput {
    pub const CLIENT_SECRET: SecretInput = SecretInput {
        what: "Client Secret",
        stdin_flag: "--client-secret-stdin",
        env: "CC_CLIENT_SECRET",
        prompt: "Client Secret (hidden)",
        note: Some(
            "Click Generate Client Secret and copy it now: the portal shows it only once.\n\
             Paste it below (typing shows nothing), then press Enter.",
        ),
        validate: crate::constant_contact::validate_client_secret,
    };
    pub const NEW_CLIENT_SECRET: SecretInput = SecretInput {
        what: "new Client Secret",
        stdin_flag: "--client-secret-stdin",
        env: "CC_CLIENT_SECRET",
        prompt: "New Client Secret (hidden)",
        note: Some("Paste the new Client Secret below (typing shows nothing), then press Enter."),
        validate: crate::constant_contact::validate_client_secret,
    };
    pub const STACKONE_API_KEY: SecretInput = SecretInput {
        what: "StackOne API key",
        stdin_flag: "--stackone-api-key-stdin",
        env: "STACKONE_API_KEY",
        prompt: "StackOne API key (hidden)",
        note: Some(
            "ccsetup needs a StackOne API key to create the Connector Profile: create one in the \
             StackOne dashboard under API Keys (it starts with v1.). Paste it below (typing shows nothing).",
        ),
        validate: validate_stackone_api_key,
    };
}

/// A StackOne API key is opaque; catch the wrong thing pasted.
pub fn validate_stackone_api_key(key: &str) -> std::result::Result<(), String> {
    let key = key.trim();
    if key.is_empty() {
        return Err("the StackOne API key cannot be empty".into());
    }
    crate::ui::tidy_secret(key)?;
    if key.len() > 512 || key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(
            "the StackOne API key has spaces or control characters; copy it again from the dashboard"
                .into(),
        );
    }
    Ok(())
}

/// Reads a secret input; `None` is never returned — a value that cannot be
/// obtained is the documented exit-2 error naming the flag and env var.
pub fn read_secret_input(
    ctx: &mut Context,
    from_stdin: bool,
    input: SecretInput,
) -> Result<SecretString> {
    read_secret_input_checked(ctx, from_stdin, &input, &|_| Ok(()))
}

/// [`read_secret_input`] with one more check on top of the input's own
/// (e.g. "not the secret already stored").
pub fn read_secret_input_checked(
    ctx: &mut Context,
    from_stdin: bool,
    input: &SecretInput,
    check: &dyn Fn(&str) -> std::result::Result<(), String>,
) -> Result<SecretString> {
    if let Some(v) = read_secret_input_opt(ctx, from_stdin, input, check)? {
        return Ok(v);
    }
    Err(missing_input(
        ctx,
        input.what,
        input.stdin_flag,
        Some(input.env),
    ))
}

/// The exit-2 error for an input nobody gave, saying why no prompt asked
/// for it (e.g. stdin is not a terminal).
pub fn missing_input(ctx: &Context, what: &str, flag: &str, env: Option<&str>) -> Error {
    let err = Error::missing_input(what, flag, env);
    match ctx.prompter.why_not_interactive() {
        Some(why) => err.with_hint(format!(
            "ccsetup did not ask because {why}; pass every input by flag or environment variable \
             (see `ccsetup init --help`){}",
            if why.contains("terminal") {
                ", or run it in a terminal"
            } else {
                ""
            }
        )),
        None => err,
    }
}

/// Like [`read_secret_input`] but `Ok(None)` when nothing was given and no
/// prompt is possible. A value given by stdin or env that fails the checks
/// is an exit-2 error naming where it came from.
pub fn read_secret_input_opt(
    ctx: &mut Context,
    from_stdin: bool,
    input: &SecretInput,
    check: &dyn Fn(&str) -> std::result::Result<(), String>,
) -> Result<Option<SecretString>> {
    let validate = |s: &str| (input.validate)(s).and_then(|()| check(s));
    let given = if from_stdin {
        Some((
            crate::ui::read_secret_from_stdin(input.what, input.stdin_flag)?,
            input.stdin_flag,
        ))
    } else if let Some(v) = ctx.preset_secrets.get(input.env) {
        Some((v.clone(), input.env))
    } else {
        crate::secret_env::get(input.env)
            .filter(|v| !v.expose_secret().trim().is_empty())
            .map(|v| {
                (
                    SecretString::from(v.expose_secret().trim().to_string()),
                    input.env,
                )
            })
    };
    if let Some((value, source)) = given {
        validate(value.expose_secret()).map_err(|why| {
            Error::usage(format!("invalid {} (from {source}): {why}", input.what))
        })?;
        return Ok(Some(value));
    }
    if ctx.prompter.is_interactive() {
        if let Some(note) = input.note {
            ctx.io.info(note);
        }
        return ctx.prompter.password(input.prompt, &validate).map(Some);
    }
    Ok(None)
}

/// Runs a blocking store call on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::failure("a secret store call failed unexpectedly").with_source(e))?
}

pub async fn probe_store(store: Arc<dyn SecretStore>) -> Result<()> {
    blocking(move || store.probe()).await
}

pub async fn store_secret(
    store: &Arc<dyn SecretStore>,
    profile: &str,
    kind: SecretKind,
    value: &SecretString,
) -> Result<()> {
    let (store, profile, value) = (store.clone(), profile.to_string(), value.clone());
    blocking(move || store.set(&profile, kind, &value)).await
}

pub async fn load_secret(
    store: &Arc<dyn SecretStore>,
    profile: &str,
    kind: SecretKind,
) -> Result<Option<SecretString>> {
    let (store, profile) = (store.clone(), profile.to_string());
    blocking(move || store.get(&profile, kind)).await
}

pub async fn delete_secret(
    store: &Arc<dyn SecretStore>,
    profile: &str,
    kind: SecretKind,
) -> Result<()> {
    let (store, profile) = (store.clone(), profile.to_string());
    blocking(move || store.delete(&profile, kind)).await
}

/// Whether `candidate` differs from the stored client secret (true when
/// nothing is stored or the store cannot be read).
pub async fn secret_differs(
    store: &Arc<dyn SecretStore>,
    profile: &str,
    candidate: &SecretString,
) -> bool {
    match load_secret(store, profile, SecretKind::ClientSecret).await {
        Ok(Some(stored)) => stored.expose_secret() != candidate.expose_secret(),
        _ => true,
    }
}

/// The StackOne API key: `--stackone-api-key-stdin`, `STACKONE_API_KEY`,
/// the store, then a prompt.
pub async fn stackone_api_key(
    ctx: &mut Context,
    store: &Arc<dyn SecretStore>,
    from_stdin: bool,
) -> Result<SecretString> {
    let input = SecretInput::STACKONE_API_KEY;
    if from_stdin
        || ctx.preset_secrets.contains_key(input.env)
        || crate::secret_env::get(input.env).is_some_and(|v| !v.expose_secret().trim().is_empty())
    {
        return read_secret_input(ctx, from_stdin, input);
    }
    if let Some(stored) =
        load_secret(store, &ctx.profile.clone(), SecretKind::StackOneApiKey).await?
    {
        return Ok(stored);
    }
    read_secret_input(ctx, false, input)
}

/// The profile's settings, or the exit-2 error telling to run `init`.
pub fn require_profile(ctx: &Context) -> Result<ProfileConfig> {
    let file = config::load(&ctx.config_dir)?;
    file.profiles.get(&ctx.profile).cloned().ok_or_else(|| {
        Error::usage(format!(
            "profile \"{}\" is not set up (no entry in {})",
            ctx.profile,
            config::config_path(&ctx.config_dir).display()
        ))
        .with_hint("run `ccsetup init` first (or pass the right --profile / --config-dir)")
    })
}

/// Seconds a cached access token must still have to be used.
pub const ACCESS_TOKEN_MIN_SECS: i64 = 60;
/// How long `token` waits for another process's refresh of this profile.
const REFRESH_LOCK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a valid access token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Cache,
    /// Another process refreshed while we waited for the lock.
    RefreshedByOther,
    Refreshed,
}

/// A valid access token for the profile, refreshing when needed — the
/// rotation-safe path (SPEC.md `token`):
/// 1. a refresh token left in a recovery file by a failed store write is
///    put back first;
/// 2. a cached token with more than 60 s left is used (unless `force`);
/// 3. otherwise the per-profile lock is taken, the store re-read (another
///    process may have refreshed meanwhile: then its token is used), and the
///    refresh token redeemed;
/// 4. the new refresh token is stored before anything else; if that fails
///    it goes to a 0600 recovery file and the command exits 5.
pub async fn valid_access_token(
    ctx: &mut Context,
    profile_config: &ProfileConfig,
    store: &Arc<dyn SecretStore>,
    force: bool,
) -> Result<(crate::store::StoredAccessToken, TokenSource)> {
    use crate::store::{StoredAccessToken, lock::ProfileLock, recovery};
    let profile = ctx.profile.clone();
    let config_dir = ctx.config_dir.clone();

    {
        let (store, dir, p) = (store.clone(), config_dir.clone(), profile.clone());
        // Under the profile lock: of two runs that both saw the file, the
        // second must not put the token back after the first has rotated it.
        let taken = blocking(move || {
            if !recovery::pending(&dir, &p)? {
                return Ok(None);
            }
            let _lock = ProfileLock::acquire(&dir, &p, REFRESH_LOCK_TIMEOUT)?;
            recovery::take(&dir, &p, store.as_ref())
        });
        if let Some(path) = taken.await? {
            ctx.io.success(format!(
                "Recovered the refresh token that an earlier run saved to {}.",
                path.display()
            ));
        }
    }

    let now = now_unix();
    let before = match load_secret(store, &profile, SecretKind::AccessToken).await? {
        Some(s) => StoredAccessToken::from_secret(&s).ok(),
        None => None,
    };
    if !force
        && let Some(tok) = &before
        && tok.is_fresh(now, ACCESS_TOKEN_MIN_SECS)
    {
        return Ok((tok.clone(), TokenSource::Cache));
    }

    let lock = {
        let (dir, p) = (config_dir.clone(), profile.clone());
        blocking(move || ProfileLock::acquire(&dir, &p, REFRESH_LOCK_TIMEOUT)).await?
    };

    // Under the lock: another process may have refreshed while we waited.
    let after = match load_secret(store, &profile, SecretKind::AccessToken).await? {
        Some(s) => StoredAccessToken::from_secret(&s).ok(),
        None => None,
    };
    if let Some(tok) = &after {
        let changed = before
            .as_ref()
            .is_none_or(|b| b.access_token != tok.access_token);
        if tok.is_fresh(now_unix(), ACCESS_TOKEN_MIN_SECS) && (changed || !force) {
            drop(lock);
            return Ok((tok.clone(), TokenSource::RefreshedByOther));
        }
    }

    let refresh_token = load_secret(store, &profile, SecretKind::RefreshToken)
        .await?
        .ok_or_else(|| {
            if !crate::constant_contact::grants_refresh_token(&profile_config.scopes) {
                // Re-authorizing with the same scopes would not help.
                let mut scopes = profile_config.scopes.clone();
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
            .with_hint(
                "run `ccsetup rotate --reauthorize` (the scopes must include offline_access)",
            )
        })?;
    let client_secret = load_secret(store, &profile, SecretKind::ClientSecret)
        .await?
        .ok_or_else(|| {
            Error::usage(format!(
                "no client secret is stored for profile \"{profile}\""
            ))
            .with_hint("run `ccsetup init` or `ccsetup rotate --client-secret`")
        })?;

    let reservation = reserve_recovery(ctx).await?;
    // From sending the refresh until the new token is stored, Ctrl-C waits:
    // the server rotates on receipt, so an abandoned answer is lost access.
    let _defer = crate::interrupt::defer();
    let tokens = refresh_grant(
        ctx,
        &profile_config.client_id,
        &client_secret,
        &refresh_token,
    )
    .await?;

    let stored = persist_rotated_tokens(ctx, store, &tokens, reservation).await?;
    drop(lock);
    Ok((stored, TokenSource::Refreshed))
}

/// Room for the rotated refresh token in the recovery file, taken (under
/// the profile lock) before the refresh is sent: on a full disk the refresh
/// is not started (exit 5).
pub async fn reserve_recovery(ctx: &Context) -> Result<crate::store::recovery::Reservation> {
    let (dir, p) = (ctx.config_dir.clone(), ctx.profile.clone());
    blocking(move || crate::store::recovery::Reservation::reserve(&dir, &p)).await
}

/// Stores a freshly issued token set: the refresh token first (a rotated
/// token that is not saved is lost access), falling back to the recovery
/// file reserved before the refresh; then the access token.
pub async fn persist_rotated_tokens(
    ctx: &mut Context,
    store: &Arc<dyn SecretStore>,
    tokens: &crate::oauth::TokenSet,
    reservation: crate::store::recovery::Reservation,
) -> Result<crate::store::StoredAccessToken> {
    let profile = ctx.profile.clone();
    let stored_refresh = match &tokens.refresh_token {
        Some(new_refresh) => {
            store_secret(store, &profile, SecretKind::RefreshToken, new_refresh).await
        }
        None => Ok(()),
    };
    if let (Some(new_refresh), Err(store_err)) = (&tokens.refresh_token, stored_refresh) {
        let (dir, p, tok) = (ctx.config_dir.clone(), profile.clone(), new_refresh.clone());
        return match reservation.keep(&dir, &p, &tok) {
            Ok(path) => Err(Error::secret_store(format!(
                "could not store the new refresh token: {}; it was saved to {} (mode 0600) instead",
                store_err.message(),
                path.display()
            ))
            .with_hint("fix the secret store, then run any ccsetup command for this profile: it picks the token up")),
            Err(file_err) => Err(Error::secret_store(format!(
                "could not store the new refresh token ({}) nor save it to a recovery file ({})",
                store_err.message(),
                file_err.message()
            ))
            .with_hint("run `ccsetup rotate --reauthorize` once the secret store works")),
        };
    }
    if let Err(e) = reservation.release() {
        // The token is stored; the empty reservation is dropped next run.
        tracing::debug!("could not remove the recovery reservation: {}", e.message());
    }
    let stored = crate::store::StoredAccessToken {
        access_token: tokens.access_token.expose_secret().to_string(),
        expires_at: tokens.expires_at,
        scope: tokens.scope.join(" "),
    };
    if let Err(e) = store_secret(
        store,
        &profile,
        SecretKind::AccessToken,
        &stored.to_secret(),
    )
    .await
    {
        // Not fatal: the refresh token is safe, the next run refreshes again.
        ctx.io
            .warn(format!("could not cache the access token: {}", e.message()));
    }
    Ok(stored)
}

/// Stores a whole token set after an authorization (init, re-authorize).
/// A refresh token still waiting in a recovery file belongs to the older
/// authorization this one replaces: it is discarded, or the next run would
/// put it back over the new one.
pub async fn store_token_set(
    store: &Arc<dyn SecretStore>,
    config_dir: &std::path::Path,
    profile: &str,
    tokens: &crate::oauth::TokenSet,
) -> Result<()> {
    match &tokens.refresh_token {
        Some(r) => store_secret(store, profile, SecretKind::RefreshToken, r).await?,
        None => delete_secret(store, profile, SecretKind::RefreshToken).await?,
    }
    crate::store::recovery::discard(config_dir, profile)?;
    let stored = crate::store::StoredAccessToken {
        access_token: tokens.access_token.expose_secret().to_string(),
        expires_at: tokens.expires_at,
        scope: tokens.scope.join(" "),
    };
    store_secret(store, profile, SecretKind::AccessToken, &stored.to_secret()).await
}

pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// An RFC 3339 timestamp of a unix time.
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Redeems a refresh token (the caller holds the profile lock and a
/// [`crate::interrupt::defer`] guard).
pub async fn refresh_grant(
    ctx: &Context,
    client_id: &str,
    client_secret: &SecretString,
    refresh_token: &SecretString,
) -> Result<crate::oauth::TokenSet> {
    let endpoint = crate::oauth::TokenEndpoint::new(
        ctx.http()?,
        &ctx.endpoints.cc_token,
        client_id,
        client_secret,
    );
    endpoint.refresh(refresh_token).await.map_err(Error::from)
}

/// What `init`, `rotate` and `demo` ask of an authorization.
pub struct AuthorizeRequest {
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub redirect_port: u16,
    pub timeout_secs: u64,
}

/// A proven authorization: the tokens, and whose account they reach.
pub struct AuthOutcome {
    pub tokens: crate::oauth::TokenSet,
    pub account: Option<crate::constant_contact::AccountSummary>,
}

/// Runs the authorization flow on an already-bound listener, then checks
/// the token with one account call (reported apart from OAuth failures).
pub async fn authorize_and_check(
    ctx: &mut Context,
    request: AuthorizeRequest,
    listener: crate::oauth::LoopbackListener,
) -> Result<AuthOutcome> {
    let params = crate::oauth::AuthorizeParams {
        authorize_url: ctx.endpoints.cc_authorize.clone(),
        token_url: ctx.endpoints.cc_token.clone(),
        client_id: request.client_id.clone(),
        client_secret: request.client_secret.clone(),
        scopes: request.scopes.clone(),
        redirect_port: request.redirect_port,
        timeout: std::time::Duration::from_secs(request.timeout_secs),
        http: ctx.http()?,
        retry: crate::oauth::RetryPolicy::default(),
    };
    // Where no browser can be launched the user may paste the redirected
    // URL instead; the paste source never steals later keystrokes.
    let paste = ctx
        .browser
        .can_launch()
        .is_err()
        .then(crate::oauth::PasteSource::stdin);
    let authorization =
        crate::oauth::authorize(params, listener, ctx.browser.as_ref(), &mut ctx.io, paste).await?;
    ctx.io
        .success("Constant Contact accepted the API Key and Client Secret.");

    let account = if crate::constant_contact::grants_account_read(&request.scopes) {
        let spinner = ctx.io.spinner("Checking whose account this is");
        let result = crate::constant_contact::fetch_account_summary(
            &ctx.http()?,
            &ctx.endpoints.cc_api,
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
        ctx.io
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

// ---- StackOne ----

pub use crate::stackone::DesiredProfile as DesiredStackOneProfile;

/// The profile a saved setup wants, carrying `client_secret` — which is new
/// to StackOne (a rotation, or a re-creation), so it is always written.
pub fn desired_profile_from(
    existing: &ProfileConfig,
    client_secret: SecretString,
) -> DesiredStackOneProfile {
    DesiredStackOneProfile {
        name: existing
            .stackone_profile_name
            .clone()
            .unwrap_or_else(|| crate::cli::DEFAULT_STACKONE_PROFILE_NAME.to_string()),
        client_id: existing.client_id.clone(),
        client_secret,
        scopes: existing.scopes.clone(),
        actions: existing.stackone_actions.clone(),
        secret_changed: true,
    }
}

/// What happened to the Connector Profile.
pub struct StackOneOutcome {
    pub id: String,
    pub name: String,
    pub action: crate::stackone::ProfileAction,
}

impl StackOneOutcome {
    pub fn action_str(&self) -> &'static str {
        self.action.as_str()
    }
}

fn stackone_client(
    ctx: &Context,
    api_key: &SecretString,
) -> Result<crate::stackone::StackOneClient> {
    Ok(crate::stackone::StackOneClient::new(
        ctx.http()?,
        ctx.endpoints.stackone_api.clone(),
        api_key.clone(),
    ))
}

/// Creates, updates or verifies the Connector Profile (API or dashboard).
pub async fn ensure_stackone_profile(
    ctx: &mut Context,
    api_key: &SecretString,
    desired: DesiredStackOneProfile,
    mode: crate::cli::StackOneMode,
    known_id: Option<String>,
) -> Result<StackOneOutcome> {
    let client = stackone_client(ctx, api_key)?;
    let options = crate::stackone::EnsureOptions::new(ctx.endpoints.stackone_dashboard.clone());
    // The wizard's guide asks and waits; without a terminal the steps are
    // printed and the run stops with exit 4 (SPEC: non-interactive dashboard).
    let mut wizard_guide;
    let mut printed_guide;
    let guide: &mut dyn crate::stackone::DashboardGuide = if ctx.prompter.is_interactive() {
        wizard_guide = crate::commands::dashboard_guide::WizardDashboardGuide {
            io: &mut ctx.io,
            prompter: ctx.prompter.as_mut(),
            browser: ctx.browser.as_ref(),
            spinner: None,
        };
        &mut wizard_guide
    } else {
        printed_guide = crate::stackone::PrintedDashboardGuide::non_interactive(&mut ctx.io);
        &mut printed_guide
    };
    let outcome = crate::stackone::ensure_connector_profile(
        &client,
        &desired,
        mode,
        known_id.as_deref(),
        guide,
        &options,
    )
    .await?;
    Ok(StackOneOutcome {
        id: outcome.id,
        name: outcome.name,
        action: outcome.action,
    })
}

/// The name of the Constant Contact profile `id`, if StackOne lists it.
pub async fn find_stackone_profile(
    ctx: &mut Context,
    api_key: &SecretString,
    id: &str,
) -> Result<Option<String>> {
    let client = stackone_client(ctx, api_key)?;
    let profiles = client
        .list_profiles(crate::stackone::CONNECTOR_KEY)
        .await
        .map_err(Error::from)?;
    Ok(profiles.into_iter().find(|p| p.id == id).map(|p| p.name))
}

/// Deletes the Connector Profile; where StackOne's API refuses, prints the
/// dashboard step instead. Returns whether it is gone.
pub async fn delete_stackone_profile(
    ctx: &mut Context,
    api_key: &SecretString,
    id: &str,
) -> Result<bool> {
    use crate::stackone::RemoveOutcome;
    let client = stackone_client(ctx, api_key)?;
    match crate::stackone::remove_connector_profile(&client, id).await? {
        RemoveOutcome::Deleted => {
            ctx.io
                .success(format!("Deleted the StackOne Connector Profile {id}."));
            Ok(true)
        }
        RemoveOutcome::AlreadyGone => {
            ctx.io.info(format!(
                "The StackOne Connector Profile {id} was already gone."
            ));
            Ok(true)
        }
        RemoveOutcome::NotOffered => {
            let profiles = client
                .list_profiles(crate::stackone::CONNECTOR_KEY)
                .await
                .map_err(Error::from)?;
            if let Some(profile) = profiles.iter().find(|p| p.id == id) {
                let steps = crate::stackone::delete_steps(
                    ctx.endpoints.stackone_dashboard.clone(),
                    profile,
                );
                ctx.io.warn(
                    "StackOne's API does not delete Connector Profiles; do it in the dashboard:",
                );
                let _ = write!(
                    ctx.io.stderr(),
                    "{}",
                    steps.render(crate::stackone::dashboard::SECRET_NOT_SHOWN)
                );
            }
            Ok(false)
        }
    }
}

/// A connect session, as `link` shows it (never the session token).
pub struct ConnectSession {
    pub id: String,
    pub auth_link_url: String,
    pub expires_at: String,
}

pub async fn create_connect_session(
    ctx: &mut Context,
    api_key: &SecretString,
    owner_id: &str,
    owner_name: &str,
    label: Option<&str>,
    profile_id: Option<&str>,
) -> Result<ConnectSession> {
    let client = stackone_client(ctx, api_key)?;
    let session = client
        .create_connect_session(&crate::stackone::ConnectSessionRequest {
            origin_owner_id: owner_id.to_string(),
            origin_owner_name: owner_name.to_string(),
            provider: Some(crate::stackone::CONNECTOR_KEY.to_string()),
            label: label.map(str::to_string),
            connector_profile_id: profile_id.map(str::to_string),
            expires_in: None,
        })
        .await
        .map_err(Error::from)?;
    Ok(ConnectSession {
        id: session.id,
        auth_link_url: session.auth_link_url,
        expires_at: session.expires_at,
    })
}
