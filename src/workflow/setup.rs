//! `init`'s storage and StackOne steps (5 and 6): what is written where,
//! under which lock, and when. The command resolves the inputs; this owns
//! the profile lock, the "secret changed" decision, the profile's settings
//! and the rule that the StackOne key is stored only once StackOne took it.

use secrecy::{ExposeSecret, SecretString};

use super::authorize::AuthOutcome;
use super::secrets::missing_input;
use super::tokens::RefreshTokenType;
use super::{ProfileSession, Remote, Terminal, preflight, tokens};
use crate::config::ProfileConfig;
use crate::error::Result;
use crate::oauth::RedirectTarget;
use crate::stackone::{DesiredProfile, ProfileOutcome, StackOneMode};
use crate::store::{SecretKind, StoreChoice};
use crate::ui::IoStreams;

/// Everything `init` sets up, resolved and validated.
pub struct SetupInputs {
    pub app_name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    /// `None` under `--skip-stackone`.
    pub stackone_api_key: Option<SecretString>,
    pub scopes: Vec<String>,
    pub actions: Vec<String>,
    pub stackone_profile_name: String,
    pub stackone_mode: StackOneMode,
    /// `--stackone-profile-id`: adopt this existing profile.
    pub stackone_profile_id: Option<String>,
    pub redirect_port: u16,
    /// Where the browser is sent after consent (`--redirect-uri`).
    pub redirect: RedirectTarget,
}

impl SetupInputs {
    /// The application the checks before the browser probe.
    pub fn app_under_test(&self) -> preflight::AppUnderTest<'_> {
        preflight::AppUnderTest {
            client_id: &self.client_id,
            redirect_uri: self.redirect.uri(),
            scopes: &self.scopes,
        }
    }
}

/// The profile as step 5 left it.
pub struct StoredSetup {
    /// The settings saved in `config.toml`.
    pub settings: ProfileConfig,
    /// Whether StackOne may hold another Client Secret than this one.
    secret_changed: bool,
}

/// Step 5: decides whether the secret is new, then, under the profile lock
/// (a `token` refresh running now stores its rotated token first and cannot
/// overwrite this new grant after), stores the secrets and saves the
/// settings that name them.
pub async fn store_secrets(
    io: &mut IoStreams,
    session: &ProfileSession,
    inputs: &SetupInputs,
    authorization: Option<&AuthOutcome>,
    refresh_token_type: Option<RefreshTokenType>,
    saved: Option<&ProfileConfig>,
    store_choice: StoreChoice,
) -> Result<StoredSetup> {
    // StackOne cannot show which secret it holds, so "is this secret new to
    // us" decides whether it is written there.
    let secret_changed = saved.is_none_or(|e| e.client_id != inputs.client_id)
        || secret_differs(session, &inputs.client_secret).await
        // A rotation that did not finish: StackOne may hold the previous secret.
        || matches!(
            session.get(SecretKind::PreviousClientSecret).await,
            Ok(Some(_))
        );
    let lock = session.lock().await?;
    session
        .set(SecretKind::ClientSecret, &inputs.client_secret)
        .await?;
    if let Some(auth) = authorization {
        tokens::store_token_set(session, &auth.tokens).await?;
    } else {
        // Tokens of another client id would be wrong now.
        session.delete(SecretKind::RefreshToken).await?;
        session.delete(SecretKind::AccessToken).await?;
    }
    // The StackOne API key is stored in step 6, once StackOne accepted it: a
    // refused key (a typo) must not replace a stored one that works.
    let stored = match authorization {
        Some(auth) if auth.tokens.refresh_token.is_some() => {
            "Client Secret, refresh token and access token"
        }
        Some(_) => "Client Secret and access token (no refresh token was granted)",
        None => "Client Secret",
    };
    io.success(format!(
        "{stored} stored in the {}.",
        session.store().describe()
    ));
    // Saved after the secrets: state never points at secrets that are not there.
    let settings = new_settings(
        inputs,
        authorization,
        refresh_token_type,
        saved,
        store_choice,
    );
    session.save_config(&settings)?;
    drop(lock);
    Ok(StoredSetup {
        settings,
        secret_changed,
    })
}

/// Step 6: creates, updates or verifies the Connector Profile, then stores
/// the StackOne key (StackOne accepted it) and records the profile.
pub async fn create_stackone_profile(
    mut term: Terminal<'_>,
    remote: Remote<'_>,
    session: &ProfileSession,
    inputs: &SetupInputs,
    stored: &mut StoredSetup,
) -> Result<ProfileOutcome> {
    let key = inputs.stackone_api_key.clone().ok_or_else(|| {
        missing_input(
            &*term.prompter,
            "StackOne API key",
            "--stackone-api-key-stdin",
            Some("STACKONE_API_KEY"),
        )
    })?;
    let outcome = super::stackone::ensure_profile(
        term.reborrow(),
        remote,
        &key,
        DesiredProfile {
            name: inputs.stackone_profile_name.clone(),
            client_id: inputs.client_id.clone(),
            client_secret: inputs.client_secret.clone(),
            scopes: inputs.scopes.clone(),
            actions: inputs.actions.clone(),
            secret_changed: stored.secret_changed,
        },
        inputs.stackone_mode,
        &stored.settings,
        inputs.stackone_profile_id.as_deref(),
        session,
    )
    .await?;
    let lock = session.lock().await?;
    session.set(SecretKind::StackOneApiKey, &key).await?;
    // StackOne holds this secret now: no rotation is left unfinished.
    session.delete(SecretKind::PreviousClientSecret).await?;
    drop(lock);
    term.io
        .success(crate::render::stackone_outcome_line(&outcome));
    super::stackone::record_outcome(&mut stored.settings, &outcome);
    stored.settings.updated_at = crate::clock::now_rfc3339();
    session.save_config(&stored.settings)?;
    Ok(outcome)
}

/// The profile's settings after this run.
fn new_settings(
    inputs: &SetupInputs,
    authorization: Option<&AuthOutcome>,
    refresh_token_type: Option<RefreshTokenType>,
    saved: Option<&ProfileConfig>,
    store_choice: StoreChoice,
) -> ProfileConfig {
    let now = crate::clock::now_rfc3339();
    let account = authorization.and_then(|a| a.account.as_ref());
    ProfileConfig {
        client_id: inputs.client_id.clone(),
        app_name: inputs.app_name.clone(),
        scopes: inputs.scopes.clone(),
        redirect_port: inputs.redirect_port,
        redirect_uri: match &inputs.redirect {
            // The default needs no entry: older versions read the file too.
            t if *t == RedirectTarget::local(inputs.redirect_port) => None,
            t => Some(t.uri().to_string()),
        },
        secret_store: store_choice,
        // Kept for a new client id too: that profile is edited (API Key and
        // Client Secret), never silently replaced (docs/contract.md "StackOne API").
        stackone_connector_profile_id: saved.and_then(|e| e.stackone_connector_profile_id.clone()),
        stackone_profile_name: inputs
            .stackone_api_key
            .is_some()
            .then(|| inputs.stackone_profile_name.clone()),
        stackone_actions: inputs.actions.clone(),
        account_name: account.and_then(|a| a.organization_name.clone()),
        account_email: account.and_then(|a| a.contact_email.clone()),
        created_at: saved
            .map(|e| e.created_at.clone())
            .unwrap_or_else(|| now.clone()),
        updated_at: now.clone(),
        authorized_at: authorization.map(|_| now.clone()),
        client_secret_rotated_at: saved.and_then(|e| e.client_secret_rotated_at.clone()),
        // What step 4 found, else what was found for this client id before.
        refresh_token_type: refresh_token_type
            .map(|kind| kind.as_str().to_string())
            .or_else(|| {
                saved
                    .filter(|e| e.client_id == inputs.client_id)
                    .and_then(|e| e.refresh_token_type.clone())
            }),
        stackone: super::stackone::carried_record(saved),
    }
}

/// Whether `candidate` differs from the stored client secret (true when
/// nothing is stored or the store cannot be read).
async fn secret_differs(session: &ProfileSession, candidate: &SecretString) -> bool {
    match session.get(SecretKind::ClientSecret).await {
        Ok(Some(stored)) => stored.expose_secret() != candidate.expose_secret(),
        _ => true,
    }
}
