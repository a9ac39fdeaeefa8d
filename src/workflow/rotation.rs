//! Rotation, shared by `rotate` and `init`'s re-run menu.
//!
//! Client secret order (docs/contract.md): prove the new secret first (a refresh
//! grant, or a new authorization when there is no refresh token), then store
//! it — keeping the previous one under `client_secret_previous` — then update
//! StackOne, and only then forget the previous secret.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::authorize::{
    ApiKeyUnderTest, AuthorizeRequest, RegistrationNeeds, authorize_and_check,
    check_app_registration, prepare_redirect, redirect_target_of,
};
use super::secrets::{SecretInput, SecretSources};
use super::{ProfileSession, Remote, Terminal, tokens};
use crate::config::ProfileConfig;
use crate::constant_contact::AccountSummary;
use crate::error::{Error, Result};
use crate::stackone::StackOneMode;
use crate::store::SecretKind;

/// What a rotation changed, as `rotate --json` reports it (never a secret).
pub type Report = serde_json::Map<String, serde_json::Value>;

/// Steps of a client secret rotation, each shown as "Step k/4".
const ROTATE_STEPS: usize = 4;

/// How a rotation reaches StackOne and waits for consent.
#[derive(Debug, Clone, Copy)]
pub struct RotationOptions {
    /// `--client-secret-stdin`: the new secret comes from stdin.
    pub secret_from_stdin: bool,
    /// `--stackone-api-key-stdin`.
    pub stackone_key_from_stdin: bool,
    pub stackone_mode: StackOneMode,
    pub skip_stackone: bool,
    pub auth_timeout_secs: u64,
}

/// Rotates the client secret of the profile whose settings are `settings`.
pub async fn rotate_client_secret(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    sources: &SecretSources,
    session: &ProfileSession,
    settings: &ProfileConfig,
    options: RotationOptions,
) -> Result<Report> {
    // Everything that can fail here is checked before the user generates a
    // new secret: generating one stops the old one at once.
    session.probe().await?;
    let previous = session.get(SecretKind::ClientSecret).await?;
    // A previous secret still kept means an earlier rotation stored (and
    // proved) the current one but did not finish updating StackOne.
    let unfinished = session
        .get(SecretKind::PreviousClientSecret)
        .await?
        .is_some();
    let has_refresh = session.get(SecretKind::RefreshToken).await?.is_some();
    let listener = if has_refresh {
        None
    } else {
        Some(prepare_redirect(
            &redirect_target_of(settings)?,
            term.prompter.is_interactive(),
        )?)
    };

    term.io
        .step(1, ROTATE_STEPS, "Generate a new Client Secret");
    let new_secret = take_new_secret(
        term,
        remote,
        sources,
        settings,
        options.secret_from_stdin,
        previous.as_ref(),
        unfinished,
    )?;
    let resuming = unfinished
        && previous
            .as_ref()
            .is_some_and(|p| p.expose_secret() == new_secret.expose_secret());

    term.io.step(2, ROTATE_STEPS, "Prove the new secret");
    let account = match listener {
        _ if resuming => {
            drop(listener);
            term.io.info(
                "This Client Secret is already stored and proven: an earlier rotation did not finish \
                 updating StackOne. Finishing that now.",
            );
            None
        }
        None => {
            prove_with_refresh_grant(term, remote, session, settings, &new_secret).await?;
            None
        }
        Some(listener) => {
            term.io.info(
                "No refresh token is stored: proving the new secret with a new authorization.",
            );
            let mut auth = authorize_and_check(
                term.reborrow(),
                remote,
                authorize_request(settings, new_secret.clone(), options.auth_timeout_secs),
                listener,
            )
            .await?;
            let _lock = session.lock().await?;
            tokens::store_token_set(session, &auth.tokens).await?;
            auth.stored();
            auth.account
        }
    };
    term.io.success("The new Client Secret works.");

    term.io.step(3, ROTATE_STEPS, "Store the new secret");
    if resuming {
        term.io.info("Already stored by the earlier run.");
    } else {
        store_rotated_secret(
            term,
            session,
            previous.as_ref(),
            &new_secret,
            account.as_ref(),
        )
        .await?;
    }
    // Other local profiles of the same app: the old secret is dead for
    // them too, so each gets the new one (in its own store) at once.
    let mut siblings = Vec::new();
    for (name, sibling_settings) in profiles_sharing_the_app(session, settings)? {
        match store_in_sibling(session, &name, &sibling_settings, &new_secret).await {
            Ok(Some(sibling)) => {
                term.io.success(format!(
                    "Stored the new Client Secret for profile \"{name}\" too (same API Key) in the {}.",
                    sibling.store().describe()
                ));
                siblings.push(Sibling {
                    settings: sibling_settings,
                    session: Ok(sibling),
                });
            }
            Ok(None) => {}
            Err(e) => siblings.push(Sibling {
                settings: sibling_settings,
                session: Err((name, e)),
            }),
        }
    }

    term.io
        .step(4, ROTATE_STEPS, "Update the StackOne Connector Profile");
    let mut report = Report::new();
    report.insert("client_secret".into(), json!("rotated"));
    report.insert("refresh_token".into(), json!("rotated"));
    let own = update_stackone(
        term,
        remote,
        sources,
        session,
        settings,
        &new_secret,
        options,
    )
    .await;
    let mut left: Vec<(String, String)> = Vec::new();
    let mut sibling_reports = Vec::new();
    for sibling in siblings {
        let (name, result) = match sibling.session {
            Ok(s) => {
                let name = s.profile().to_string();
                let result = update_sibling_stackone(
                    term,
                    remote,
                    &s,
                    &sibling.settings,
                    &new_secret,
                    options,
                )
                .await;
                (name, result)
            }
            Err((name, e)) => (name, Err(e)),
        };
        match result {
            Ok(entry) => sibling_reports
                .push(json!({ "profile": name, "client_secret": "rotated", "stackone": entry })),
            Err(e) => {
                term.io.warn(format!(
                    "Profile \"{name}\" is left on the dead Client Secret: {}",
                    e.message()
                ));
                sibling_reports.push(
                    json!({ "profile": name, "client_secret": "unfinished", "error": e.message() }),
                );
                left.push((name, e.message().to_string()));
            }
        }
    }
    if !sibling_reports.is_empty() {
        report.insert("other_profiles".into(), json!(sibling_reports));
    }
    let stackone_report = match own {
        Ok(r) => r,
        Err(e) => return Err(with_left_profiles(e, &left)),
    };
    report.insert("stackone".into(), stackone_report);
    // Only now is the previous secret useless everywhere.
    {
        let _lock = session.lock().await?;
        session.delete(SecretKind::PreviousClientSecret).await?;
    }
    if !left.is_empty() {
        return Err(with_left_profiles(
            Error::remote(format!(
                "the new Client Secret is in use for profile \"{}\", but not yet everywhere",
                session.profile()
            )),
            &left,
        ));
    }
    // A dashboard edit only listed is not proven: StackOne's API cannot show
    // the secret typed there (docs/contract.md "StackOne API").
    if report.get("stackone").and_then(|s| s.get("verified")) == Some(&json!("listed")) {
        term.io.info(
            "\nDone: the new Client Secret is stored and works with Constant Contact. StackOne's profile was \
             edited in its dashboard, which its API cannot show: it is proven only once an account links \
             through it (see the `ccsetup link … --wait` above).",
        );
    } else {
        term.io
            .info("\nDone: the new Client Secret is in use. `ccsetup status` checks every part.");
    }
    Ok(report)
}

/// Another local profile of the same Constant Contact app.
struct Sibling {
    settings: ProfileConfig,
    /// Its session, or why its new secret could not be stored.
    session: std::result::Result<ProfileSession, (String, Error)>,
}

/// The other profiles of this config dir with the same API Key (client id).
fn profiles_sharing_the_app(
    session: &ProfileSession,
    settings: &ProfileConfig,
) -> Result<Vec<(String, ProfileConfig)>> {
    let file = crate::config::load(session.config_dir())?;
    Ok(file
        .profiles
        .into_iter()
        .filter(|(name, p)| {
            name != session.profile() && p.client_id.trim() == settings.client_id.trim()
        })
        .collect())
}

/// The names of the other local profiles using `client_id` (for `init`).
pub fn other_profiles_with_client_id(
    config_dir: &std::path::Path,
    profile: &str,
    client_id: &str,
) -> Vec<String> {
    crate::config::load(config_dir)
        .map(|f| {
            f.profiles
                .into_iter()
                .filter(|(name, p)| name != profile && p.client_id.trim() == client_id.trim())
                .map(|(name, _)| name)
                .collect()
        })
        .unwrap_or_default()
}

/// Stores the new secret in a sibling profile's own store, keeping its old
/// one as `client_secret_previous` until its StackOne profile has the new
/// one. `None`: nothing to do (it has the new secret and nothing unfinished).
async fn store_in_sibling(
    session: &ProfileSession,
    name: &str,
    settings: &ProfileConfig,
    new_secret: &SecretString,
) -> Result<Option<ProfileSession>> {
    let store = crate::store::open(settings.secret_store, session.config_dir())?;
    let sibling = session.sibling(name, store);
    let current = sibling.get(SecretKind::ClientSecret).await?;
    let unfinished = sibling
        .get(SecretKind::PreviousClientSecret)
        .await?
        .is_some();
    if current
        .as_ref()
        .is_some_and(|c| c.expose_secret() == new_secret.expose_secret())
    {
        return Ok(unfinished.then_some(sibling));
    }
    if let Some(old) = &current
        && !unfinished
    {
        sibling.set(SecretKind::PreviousClientSecret, old).await?;
    }
    sibling.set(SecretKind::ClientSecret, new_secret).await?;
    sibling.update_config(|p| p.client_secret_rotated_at = Some(crate::clock::now_rfc3339()))?;
    Ok(Some(sibling))
}

/// Writes the new secret to a sibling's StackOne profile with the StackOne
/// API key stored for that profile (another StackOne project, typically).
async fn update_sibling_stackone(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    sibling: &ProfileSession,
    settings: &ProfileConfig,
    new_secret: &SecretString,
    options: RotationOptions,
) -> Result<serde_json::Value> {
    let configured = settings.stackone_profile_name.is_some()
        || settings.stackone_connector_profile_id.is_some();
    if options.skip_stackone || !configured {
        sibling.delete(SecretKind::PreviousClientSecret).await?;
        return Ok(json!({ "action": "skipped" }));
    }
    let key = sibling
        .get(SecretKind::StackOneApiKey)
        .await?
        .ok_or_else(|| {
            Error::usage("no StackOne API key is stored for it; give one with STACKONE_API_KEY")
        })?;
    term.io.info(format!(
        "Updating the StackOne Connector Profile of profile \"{}\"…",
        sibling.profile()
    ));
    let outcome = super::stackone::ensure_profile(
        term.reborrow(),
        remote,
        &key,
        super::stackone::desired_profile_from(settings, new_secret.clone()),
        options.stackone_mode,
        settings,
        None,
        sibling,
    )
    .await?;
    sibling.update_config(|p| super::stackone::record_outcome(p, &outcome))?;
    sibling.delete(SecretKind::PreviousClientSecret).await?;
    term.io.success(format!(
        "Profile \"{}\": {}",
        sibling.profile(),
        crate::render::stackone_outcome_line(&outcome)
    ));
    Ok(crate::render::stackone_json(Some(&outcome)))
}

/// `err`, with how to finish each profile left on the dead secret.
fn with_left_profiles(err: Error, left: &[(String, String)]) -> Error {
    if left.is_empty() {
        return err;
    }
    let steps: Vec<String> = left
        .iter()
        .map(|(name, why)| {
            format!(
                "profile \"{name}\" ({why}): run `ccsetup --profile {name} rotate --client-secret` \
                 and give it the same new secret to finish"
            )
        })
        .collect();
    let hint = match err.hint() {
        Some(h) => format!("{h}; then {}", steps.join("; ")),
        None => steps.join("; "),
    };
    let message = format!(
        "{}; StackOne still holds the dead Client Secret for: {}",
        err.message(),
        left.iter()
            .map(|(n, _)| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(", ")
    );
    Error::new(err.kind(), message).with_hint(hint)
}

fn authorize_request(
    settings: &ProfileConfig,
    client_secret: SecretString,
    timeout_secs: u64,
) -> AuthorizeRequest {
    AuthorizeRequest {
        client_id: settings.client_id.clone(),
        client_secret,
        scopes: settings.scopes.clone(),
        redirect_port: settings.redirect_port,
        timeout_secs,
    }
}

/// The new secret: `--client-secret-stdin`, `CC_CLIENT_SECRET`, or a hidden
/// prompt after the portal steps. The secret already stored is refused
/// (asked again when prompting) — unless an earlier rotation stored it and
/// did not finish (`unfinished`): then giving it again finishes that one.
fn take_new_secret(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    sources: &SecretSources,
    settings: &ProfileConfig,
    from_stdin: bool,
    previous: Option<&SecretString>,
    unfinished: bool,
) -> Result<SecretString> {
    let input = &SecretInput::NEW_CLIENT_SECRET;
    let not_the_stored_one = |candidate: &str| {
        match previous {
        Some(p) if !unfinished && p.expose_secret() == candidate => Err(
            "this is the Client Secret already stored: click Generate Client Secret and paste the new one"
                .to_string(),
        ),
        _ => Ok(()),
    }
    };
    if let Some(secret) = sources.read_given(input, from_stdin, &not_the_stored_one)? {
        term.io.success(if from_stdin {
            format!("New Client Secret read from stdin ({}).", input.stdin_flag)
        } else {
            format!("New Client Secret taken from {}.", input.env)
        });
        return Ok(secret);
    }
    if term.prompter.is_interactive() {
        show_generate_secret_steps(term, remote.endpoints.cc_portal.as_str(), settings);
    }
    sources.resolve(
        term.io,
        term.prompter,
        input,
        false,
        None,
        &not_the_stored_one,
    )
}

fn show_generate_secret_steps(term: &mut Terminal<'_>, portal: &str, settings: &ProfileConfig) {
    term.io.info(format!(
        "In the Constant Contact developer portal, My Applications:\n  {portal}\n\
         click Edit on \"{}\" (API Key {}), then Generate Client Secret, and copy the new \
         secret: it is shown only once. The old secret stops working at once and the StackOne \
         profile fails until step 4 updates it, so finish this run.",
        settings.app_name, settings.client_id
    ));
    term.open_in_browser(portal);
}

/// Proves the new secret by redeeming the refresh token with it (under the
/// profile lock; the rotated token is stored before anything else).
async fn prove_with_refresh_grant(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    session: &ProfileSession,
    settings: &ProfileConfig,
    new_secret: &SecretString,
) -> Result<()> {
    term.io
        .info("Proving the new secret with a refresh-token grant…");
    let lock = session.lock().await?;
    // A refresh token an earlier run left in a recovery file is the live one
    // (the stored one was already redeemed): put it back first, under the lock.
    if let Some(path) = session.recover_refresh_token_locked().await? {
        tokens::say_recovered(term.io, &path);
    }
    let refresh_token = session
        .get(SecretKind::RefreshToken)
        .await?
        .ok_or_else(|| {
            Error::authorization("the refresh token disappeared while waiting for the lock")
                .with_hint("nothing was changed: run this command again")
        })?;
    tokens::redeem_locked(
        session,
        remote,
        term.io,
        &settings.client_id,
        new_secret,
        &refresh_token,
    )
    .await?;
    drop(lock);
    Ok(())
}

/// Stores the new secret, keeping the previous one until StackOne has the
/// new one too.
async fn store_rotated_secret(
    term: &mut Terminal<'_>,
    session: &ProfileSession,
    previous: Option<&SecretString>,
    new_secret: &SecretString,
    account: Option<&AccountSummary>,
) -> Result<()> {
    let _lock = session.lock().await?;
    if let Some(prev) = previous {
        session.set(SecretKind::PreviousClientSecret, prev).await?;
    }
    session.set(SecretKind::ClientSecret, new_secret).await?;
    session.update_config(|p| {
        let now = crate::clock::now_rfc3339();
        p.client_secret_rotated_at = Some(now.clone());
        if let Some(a) = account {
            record_authorization(p, a, now);
        }
    })?;
    term.io.success(format!(
        "Stored the new Client Secret in the {}.",
        session.store().describe()
    ));
    Ok(())
}

/// Records a new authorization and whose account it reached.
fn record_authorization(settings: &mut ProfileConfig, account: &AccountSummary, now: String) {
    settings.authorized_at = Some(now);
    settings.account_name = account.organization_name.clone();
    settings.account_email = account.contact_email.clone();
}

/// Writes the new secret to the StackOne profile; returns the report entry.
async fn update_stackone(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    sources: &SecretSources,
    session: &ProfileSession,
    settings: &ProfileConfig,
    new_secret: &SecretString,
    options: RotationOptions,
) -> Result<serde_json::Value> {
    let stackone_configured = settings.stackone_profile_name.is_some()
        || settings.stackone_connector_profile_id.is_some();
    if options.skip_stackone {
        term.io.info("--skip-stackone: StackOne is not touched.");
        return Ok(json!({ "action": "skipped" }));
    }
    if !stackone_configured {
        term.io
            .info("No StackOne profile is configured for this profile; StackOne is not touched.");
        return Ok(json!({ "action": "skipped" }));
    }
    let outcome = recreate_stackone_profile(
        term,
        remote,
        sources,
        session,
        settings,
        new_secret.clone(),
        options.stackone_key_from_stdin,
        options.stackone_mode,
    )
    .await?;
    Ok(crate::render::stackone_json(Some(&outcome)))
}

/// Writes a saved setup's profile to StackOne with `client_secret` (a
/// rotation, or `init`'s "re-create" entry), records it and says so.
#[allow(clippy::too_many_arguments)]
pub async fn recreate_stackone_profile(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    sources: &SecretSources,
    session: &ProfileSession,
    settings: &ProfileConfig,
    client_secret: SecretString,
    key_from_stdin: bool,
    mode: StackOneMode,
) -> Result<crate::stackone::ProfileOutcome> {
    let key = super::stackone::api_key(term, sources, session, key_from_stdin).await?;
    let outcome = super::stackone::ensure_profile(
        term.reborrow(),
        remote,
        &key,
        super::stackone::desired_profile_from(settings, client_secret),
        mode,
        settings,
        None,
        session,
    )
    .await?;
    let mut outcome = outcome;
    session.update_config(|p| super::stackone::record_outcome(p, &outcome))?;
    term.io
        .success(crate::render::stackone_outcome_line(&outcome));
    if outcome.action == crate::stackone::ProfileAction::Dashboard
        && super::stackone::offer_link_proof(term, remote, &key, &outcome.id, session.profile())
            .await?
    {
        outcome.verified = Some(super::stackone::VERIFIED_LINKED);
        session.update_config(|p| super::stackone::record_verified_link(p, &outcome.id))?;
    }
    Ok(outcome)
}

/// A new authorization with the stored client secret; replaces the refresh
/// token.
pub async fn reauthorize(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    session: &ProfileSession,
    settings: &ProfileConfig,
    auth_timeout_secs: u64,
) -> Result<Report> {
    let client_secret = session.client_secret().await?;
    term.io.info(format!(
        "Re-authorizing application \"{}\" (API Key {}): approve access in the browser to get a new refresh token.",
        settings.app_name, settings.client_id
    ));
    let target = redirect_target_of(settings)?;
    let listener = prepare_redirect(&target, term.prompter.is_interactive())?;
    // Before the browser: a refused API Key or redirect URI is found now.
    let mut client_id = settings.client_id.clone();
    check_app_registration(
        term,
        remote,
        ApiKeyUnderTest {
            client_id: &mut client_id,
            typed_here: false,
        },
        target.uri(),
        &settings.scopes,
        RegistrationNeeds {
            local: true,
            stackone: false,
            ask_again: true,
            command: crate::hints::Command::Rotate,
        },
        None,
    )
    .await?;
    let mut auth = authorize_and_check(
        term.reborrow(),
        remote,
        authorize_request(settings, client_secret, auth_timeout_secs),
        listener,
    )
    .await?;
    {
        // Serialize with any concurrent `token` refresh of this profile.
        let _lock = session.lock().await?;
        tokens::store_token_set(session, &auth.tokens).await?;
    }
    auth.stored();
    session.update_config(|p| {
        let now = crate::clock::now_rfc3339();
        match &auth.account {
            Some(a) => record_authorization(p, a, now),
            None => p.authorized_at = Some(now),
        }
    })?;
    term.io
        .success("Re-authorized: a new refresh token is stored.");
    let mut report = Report::new();
    report.insert("refresh_token".into(), json!("rotated"));
    report.insert(
        "account".into(),
        crate::render::account_json(auth.account.as_ref()),
    );
    Ok(report)
}
