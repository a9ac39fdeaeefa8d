//! `ccsetup rotate`: a new Client Secret and/or a new authorization.
//!
//! Client secret order (SPEC.md): prove the new secret first (a refresh
//! grant, or a new authorization when there is no refresh token), then store
//! it — keeping the previous one under `client_secret_previous` — then update
//! StackOne, and only then forget the previous secret.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::cli::{RotateArgs, StackOneArgs};
use crate::commands::common::{self, AuthorizeRequest};
use crate::config::{self, ProfileConfig};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::store::SecretKind;

pub async fn run(ctx: &mut Context, args: RotateArgs) -> Result<()> {
    let existing = common::require_profile(ctx)?;
    let rotate_secret = args.client_secret || !args.reauthorize;
    let mut report = serde_json::Map::new();
    if rotate_secret {
        let new_secret = if args.client_secret_stdin {
            Some(crate::ui::read_secret_from_stdin(
                "new Client Secret",
                "--client-secret-stdin",
            )?)
        } else {
            None
        };
        let r = rotate_client_secret_inner(
            ctx,
            &existing,
            new_secret,
            &args.stackone,
            args.skip_stackone,
            args.auth_timeout,
        )
        .await?;
        report.extend(r);
    }
    if args.reauthorize {
        let existing = common::require_profile(ctx)?;
        let r = reauthorize_inner(ctx, &existing, args.auth_timeout).await?;
        report.extend(r);
    }
    if ctx.io.json {
        report.insert("profile".into(), json!(ctx.profile));
        ctx.io.print_json(&serde_json::Value::Object(report))?;
    }
    Ok(())
}

/// Menu entry of `init` and `rotate --client-secret`.
pub async fn rotate_client_secret(
    ctx: &mut Context,
    existing: &ProfileConfig,
    new_secret: Option<SecretString>,
    stackone: &StackOneArgs,
    skip_stackone: bool,
    auth_timeout: u64,
) -> Result<()> {
    let report = rotate_client_secret_inner(
        ctx,
        existing,
        new_secret,
        stackone,
        skip_stackone,
        auth_timeout,
    )
    .await?;
    if ctx.io.json {
        let mut report = report;
        report.insert("profile".into(), json!(ctx.profile));
        ctx.io.print_json(&serde_json::Value::Object(report))?;
    }
    Ok(())
}

/// Menu entry of `init` and `rotate --reauthorize`.
pub async fn reauthorize(
    ctx: &mut Context,
    existing: &ProfileConfig,
    auth_timeout: u64,
) -> Result<()> {
    let report = reauthorize_inner(ctx, existing, auth_timeout).await?;
    if ctx.io.json {
        let mut report = report;
        report.insert("profile".into(), json!(ctx.profile));
        ctx.io.print_json(&serde_json::Value::Object(report))?;
    }
    Ok(())
}

type Report = serde_json::Map<String, serde_json::Value>;

/// Steps of a client secret rotation, each shown as "Step k/4".
const ROTATE_STEPS: usize = 4;

async fn rotate_client_secret_inner(
    ctx: &mut Context,
    existing: &ProfileConfig,
    new_secret: Option<SecretString>,
    stackone: &StackOneArgs,
    skip_stackone: bool,
    auth_timeout: u64,
) -> Result<Report> {
    let profile = ctx.profile.clone();
    // Everything that can fail here is checked before the user generates a
    // new secret: generating one stops the old one at once.
    let store = ctx.open_store(Some(existing.secret_store))?;
    common::probe_store(store.clone()).await?;
    let previous = common::load_secret(&store, &profile, SecretKind::ClientSecret).await?;
    // A previous secret still kept means an earlier rotation stored (and
    // proved) the current one but did not finish updating StackOne.
    let unfinished = common::load_secret(&store, &profile, SecretKind::PreviousClientSecret)
        .await?
        .is_some();
    let has_refresh = common::load_secret(&store, &profile, SecretKind::RefreshToken)
        .await?
        .is_some();
    let listener = if has_refresh {
        None
    } else {
        Some(crate::oauth::LoopbackListener::bind(
            existing.redirect_port,
        )?)
    };

    ctx.io.step(1, ROTATE_STEPS, "Generate a new Client Secret");
    let new_secret = take_new_secret(ctx, existing, new_secret, previous.as_ref(), unfinished)?;
    let resuming = unfinished
        && previous
            .as_ref()
            .is_some_and(|p| p.expose_secret() == new_secret.expose_secret());

    ctx.io.step(2, ROTATE_STEPS, "Prove the new secret");
    let account = match listener {
        _ if resuming => {
            drop(listener);
            ctx.io.info(
                "This Client Secret is already stored and proven: an earlier rotation did not finish \
                 updating StackOne. Finishing that now.",
            );
            None
        }
        None => {
            prove_with_refresh_grant(ctx, &store, existing, &new_secret).await?;
            None
        }
        Some(listener) => {
            prove_with_authorization(ctx, &store, existing, &new_secret, listener, auth_timeout)
                .await?
        }
    };
    ctx.io.success("The new Client Secret works.");

    ctx.io.step(3, ROTATE_STEPS, "Store the new secret");
    if resuming {
        ctx.io.info("Already stored by the earlier run.");
    } else {
        store_rotated_secret(
            ctx,
            &store,
            previous.as_ref(),
            &new_secret,
            account.as_ref(),
        )
        .await?;
    }

    ctx.io
        .step(4, ROTATE_STEPS, "Update the StackOne Connector Profile");
    let mut report = Report::new();
    report.insert("client_secret".into(), json!("rotated"));
    report.insert("refresh_token".into(), json!("rotated"));
    let stackone_report =
        update_stackone_after_rotation(ctx, &store, existing, &new_secret, stackone, skip_stackone)
            .await?;
    report.insert("stackone".into(), stackone_report);
    // Only now is the previous secret useless everywhere.
    common::delete_secret(&store, &profile, SecretKind::PreviousClientSecret).await?;
    ctx.io
        .info("\nDone: the new Client Secret is in use. `ccsetup status` checks every part.");
    Ok(report)
}

/// The new secret: `--client-secret-stdin`, `CC_CLIENT_SECRET`, or a hidden
/// prompt after the portal steps. The secret already stored is refused
/// (asked again when prompting) — unless an earlier rotation stored it and
/// did not finish (`unfinished`): then giving it again finishes that one.
fn take_new_secret(
    ctx: &mut Context,
    existing: &ProfileConfig,
    from_stdin: Option<SecretString>,
    previous: Option<&SecretString>,
    unfinished: bool,
) -> Result<SecretString> {
    let input = common::SecretInput::NEW_CLIENT_SECRET;
    let not_the_stored_one = |candidate: &str| {
        match previous {
        Some(p) if !unfinished && p.expose_secret() == candidate => Err(
            "this is the Client Secret already stored: click Generate Client Secret and paste the new one"
                .to_string(),
        ),
        _ => Ok(()),
    }
    };
    if let Some(secret) = from_stdin {
        (input.validate)(secret.expose_secret())
            .and_then(|()| not_the_stored_one(secret.expose_secret()))
            .map_err(|why| {
                Error::usage(format!(
                    "invalid new Client Secret (from {}): {why}",
                    input.stdin_flag
                ))
            })?;
        ctx.io.success(format!(
            "New Client Secret read from stdin ({}).",
            input.stdin_flag
        ));
        return Ok(secret);
    }
    let given_by_env = crate::secret_env::get(input.env)
        .is_some_and(|v| secrecy::ExposeSecret::expose_secret(&v).trim() != "");
    if !given_by_env && ctx.prompter.is_interactive() {
        show_generate_secret_steps(ctx, existing);
    }
    let secret = common::read_secret_input_checked(ctx, false, &input, &not_the_stored_one)?;
    if given_by_env {
        ctx.io
            .success(format!("New Client Secret taken from {}.", input.env));
    }
    Ok(secret)
}

fn show_generate_secret_steps(ctx: &mut Context, existing: &ProfileConfig) {
    let portal = ctx.endpoints.cc_portal.to_string();
    ctx.io.info(format!(
        "In the Constant Contact developer portal, My Applications:\n  {portal}\n\
         click Edit on \"{}\" (API Key {}), then Generate Client Secret, and copy the new\n\
         secret: it is shown only once. The old secret stops working at once and the StackOne\n\
         profile fails until step 4 updates it, so finish this run.",
        existing.app_name, existing.client_id
    ));
    match ctx.browser.open(&portal) {
        Ok(()) => ctx.io.info("(Opened it in your browser.)"),
        Err(why) => ctx
            .io
            .info(format!("(Not opening a browser: {why}. Open it yourself.)")),
    }
}

/// Proves the new secret by redeeming the refresh token with it (under the
/// profile lock; the rotated token is stored before anything else).
async fn prove_with_refresh_grant(
    ctx: &mut Context,
    store: &std::sync::Arc<dyn crate::store::SecretStore>,
    existing: &ProfileConfig,
    new_secret: &SecretString,
) -> Result<()> {
    let profile = ctx.profile.clone();
    ctx.io
        .info("Proving the new secret with a refresh-token grant…");
    let lock = {
        let (dir, p) = (ctx.config_dir.clone(), profile.clone());
        tokio::task::spawn_blocking(move || {
            crate::store::lock::ProfileLock::acquire(&dir, &p, std::time::Duration::from_secs(60))
        })
        .await
        .map_err(|e| Error::failure("lock task failed").with_source(e))??
    };
    // A refresh token an earlier run left in a recovery file is the live one
    // (the stored one was already redeemed): put it back first, under the lock.
    let recovered = {
        let (dir, p, store) = (ctx.config_dir.clone(), profile.clone(), store.clone());
        tokio::task::spawn_blocking(move || crate::store::recovery::take(&dir, &p, store.as_ref()))
            .await
            .map_err(|e| Error::failure("recovery task failed").with_source(e))??
    };
    if let Some(path) = recovered {
        ctx.io.success(format!(
            "Recovered the refresh token that an earlier run saved to {}.",
            path.display()
        ));
    }
    let refresh_token = common::load_secret(store, &profile, SecretKind::RefreshToken)
        .await?
        .ok_or_else(|| {
            Error::authorization("the refresh token disappeared while waiting for the lock")
                .with_hint("run `ccsetup rotate --client-secret` again")
        })?;
    let reservation = common::reserve_recovery(ctx).await?;
    let _defer = crate::interrupt::defer();
    let tokens =
        common::refresh_grant(ctx, &existing.client_id, new_secret, &refresh_token).await?;
    common::persist_rotated_tokens(ctx, store, &tokens, reservation).await?;
    drop(lock);
    Ok(())
}

/// Proves the new secret with a new authorization (no refresh token is
/// stored); returns whose account it reached.
async fn prove_with_authorization(
    ctx: &mut Context,
    store: &std::sync::Arc<dyn crate::store::SecretStore>,
    existing: &ProfileConfig,
    new_secret: &SecretString,
    listener: crate::oauth::LoopbackListener,
    auth_timeout: u64,
) -> Result<Option<crate::constant_contact::AccountSummary>> {
    ctx.io
        .info("No refresh token is stored: proving the new secret with a new authorization.");
    let auth = common::authorize_and_check(
        ctx,
        AuthorizeRequest {
            client_id: existing.client_id.clone(),
            client_secret: new_secret.clone(),
            scopes: existing.scopes.clone(),
            redirect_port: existing.redirect_port,
            timeout_secs: auth_timeout,
        },
        listener,
    )
    .await?;
    common::store_token_set(store, &ctx.config_dir, &ctx.profile, &auth.tokens).await?;
    Ok(auth.account)
}

/// Stores the new secret, keeping the previous one until StackOne has the
/// new one too.
async fn store_rotated_secret(
    ctx: &mut Context,
    store: &std::sync::Arc<dyn crate::store::SecretStore>,
    previous: Option<&SecretString>,
    new_secret: &SecretString,
    account: Option<&crate::constant_contact::AccountSummary>,
) -> Result<()> {
    let profile = ctx.profile.clone();
    if let Some(prev) = previous {
        common::store_secret(store, &profile, SecretKind::PreviousClientSecret, prev).await?;
    }
    common::store_secret(store, &profile, SecretKind::ClientSecret, new_secret).await?;
    let mut file = config::load(&ctx.config_dir)?;
    if let Some(p) = file.profiles.get_mut(&profile) {
        let now = config::now_rfc3339();
        p.client_secret_rotated_at = Some(now.clone());
        p.updated_at = now.clone();
        if let Some(a) = account {
            p.authorized_at = Some(now);
            p.account_name = a.organization_name.clone();
            p.account_email = a.contact_email.clone();
        }
    }
    config::save(&ctx.config_dir, &file)?;
    ctx.io.success(format!(
        "Stored the new Client Secret in the {}.",
        store.describe()
    ));
    Ok(())
}

/// Writes the new secret to the StackOne profile; returns the report entry.
async fn update_stackone_after_rotation(
    ctx: &mut Context,
    store: &std::sync::Arc<dyn crate::store::SecretStore>,
    existing: &ProfileConfig,
    new_secret: &SecretString,
    stackone: &StackOneArgs,
    skip_stackone: bool,
) -> Result<serde_json::Value> {
    let stackone_configured = existing.stackone_profile_name.is_some()
        || existing.stackone_connector_profile_id.is_some();
    if skip_stackone {
        ctx.io.info("--skip-stackone: StackOne is not touched.");
        return Ok(json!({ "action": "skipped" }));
    }
    if !stackone_configured {
        ctx.io
            .info("No StackOne profile is configured for this profile; StackOne is not touched.");
        return Ok(json!({ "action": "skipped" }));
    }
    let key = common::stackone_api_key(ctx, store, stackone.stackone_api_key_stdin).await?;
    let outcome = common::ensure_stackone_profile(
        ctx,
        &key,
        common::desired_profile_from(existing, new_secret.clone()),
        stackone.stackone_mode,
        existing.stackone_connector_profile_id.clone(),
    )
    .await?;
    let mut file = config::load(&ctx.config_dir)?;
    if let Some(p) = file.profiles.get_mut(&ctx.profile) {
        p.stackone_connector_profile_id = Some(outcome.id.clone());
        p.updated_at = config::now_rfc3339();
    }
    config::save(&ctx.config_dir, &file)?;
    ctx.io.success(format!(
        "StackOne Connector Profile \"{}\" ({}): {}.",
        outcome.name,
        outcome.id,
        outcome.action_str()
    ));
    Ok(
        json!({ "connector_profile_id": outcome.id, "name": outcome.name, "action": outcome.action_str() }),
    )
}

async fn reauthorize_inner(
    ctx: &mut Context,
    existing: &ProfileConfig,
    auth_timeout: u64,
) -> Result<Report> {
    let profile = ctx.profile.clone();
    let store = ctx.open_store(Some(existing.secret_store))?;
    let client_secret = common::load_secret(&store, &profile, SecretKind::ClientSecret)
        .await?
        .ok_or_else(|| {
            Error::usage("no client secret is stored for this profile")
                .with_hint("run `ccsetup rotate --client-secret`")
        })?;
    ctx.io.info(format!(
        "Re-authorizing application \"{}\" (API Key {}): approve access in the browser to get a new refresh token.",
        existing.app_name, existing.client_id
    ));
    let listener = crate::oauth::LoopbackListener::bind(existing.redirect_port)?;
    let auth = common::authorize_and_check(
        ctx,
        AuthorizeRequest {
            client_id: existing.client_id.clone(),
            client_secret,
            scopes: existing.scopes.clone(),
            redirect_port: existing.redirect_port,
            timeout_secs: auth_timeout,
        },
        listener,
    )
    .await?;
    {
        // Serialize with any concurrent `token` refresh of this profile.
        let (dir, p) = (ctx.config_dir.clone(), profile.clone());
        let lock = tokio::task::spawn_blocking(move || {
            crate::store::lock::ProfileLock::acquire(&dir, &p, std::time::Duration::from_secs(60))
        })
        .await
        .map_err(|e| Error::failure("lock task failed").with_source(e))??;
        common::store_token_set(&store, &ctx.config_dir, &profile, &auth.tokens).await?;
        drop(lock);
    }
    let mut file = config::load(&ctx.config_dir)?;
    if let Some(p) = file.profiles.get_mut(&profile) {
        let now = config::now_rfc3339();
        p.authorized_at = Some(now.clone());
        p.updated_at = now;
        if let Some(a) = &auth.account {
            p.account_name = a.organization_name.clone();
            p.account_email = a.contact_email.clone();
        }
    }
    config::save(&ctx.config_dir, &file)?;
    ctx.io
        .success("Re-authorized: a new refresh token is stored.");
    let mut report = Report::new();
    report.insert("refresh_token".into(), json!("rotated"));
    report.insert(
        "account".into(),
        json!(
            auth.account.as_ref().map(
                |a| json!({"organization_name": a.organization_name, "email": a.contact_email})
            )
        ),
    );
    Ok(report)
}
