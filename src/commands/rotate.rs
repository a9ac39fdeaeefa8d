//! `ccsetup rotate`: a new Client Secret and/or a new authorization.
//!
//! Client secret order (SPEC.md): prove the new secret first (a refresh
//! grant, or a new authorization when there is no refresh token), then store
//! it — keeping the previous one under `client_secret_previous` — then update
//! StackOne, and only then forget the previous secret.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::cli::{DEFAULT_STACKONE_PROFILE_NAME, RotateArgs, StackOneArgs};
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

async fn rotate_client_secret_inner(
    ctx: &mut Context,
    existing: &ProfileConfig,
    new_secret: Option<SecretString>,
    stackone: &StackOneArgs,
    skip_stackone: bool,
    auth_timeout: u64,
) -> Result<Report> {
    let profile = ctx.profile.clone();
    let store = ctx.open_store(Some(existing.secret_store))?;
    common::probe_store(store.clone()).await?;

    ctx.io.info(format!(
        "In the portal, open application \"{}\" (API Key {}) and click Generate Client Secret.\n\
         The old secret stops working at once; the StackOne profile keeps failing until it is updated, which this command does next.\n  {}",
        existing.app_name, existing.client_id, ctx.endpoints.cc_portal
    ));
    if ctx.prompter.is_interactive()
        && let Err(why) = ctx.browser.open(ctx.endpoints.cc_portal.as_str())
    {
        ctx.io
            .info(format!("(Open the URL above yourself: {why}.)"));
    }
    let new_secret = match new_secret {
        Some(s) => s,
        None => common::read_secret_input(ctx, false, common::SecretInput::NEW_CLIENT_SECRET)?,
    };
    crate::constant_contact::validate_client_secret(new_secret.expose_secret())
        .map_err(|why| Error::usage(format!("invalid Client Secret: {why}")))?;
    let previous = common::load_secret(&store, &profile, SecretKind::ClientSecret).await?;
    let already_stored = previous
        .as_ref()
        .is_some_and(|p| p.expose_secret() == new_secret.expose_secret());
    // A previous secret still kept means an earlier rotation stored (and
    // proved) this one but did not finish updating StackOne: finish it.
    let resuming = already_stored
        && common::load_secret(&store, &profile, SecretKind::PreviousClientSecret)
            .await?
            .is_some();
    if already_stored && !resuming {
        return Err(Error::usage("this is the Client Secret already stored")
            .with_hint("click Generate Client Secret in the portal and paste the new one"));
    }
    if resuming {
        ctx.io.info(
            "This Client Secret is already stored; an earlier rotation did not finish updating \
             StackOne. Finishing that now.",
        );
    }

    // 1. Prove the new secret (done already when resuming).
    let has_refresh = common::load_secret(&store, &profile, SecretKind::RefreshToken)
        .await?
        .is_some();
    let mut account = None;
    if resuming {
    } else if has_refresh {
        ctx.io
            .info("Proving the new secret with a refresh-token grant…");
        let lock = {
            let (dir, p) = (ctx.config_dir.clone(), profile.clone());
            tokio::task::spawn_blocking(move || {
                crate::store::lock::ProfileLock::acquire(
                    &dir,
                    &p,
                    std::time::Duration::from_secs(60),
                )
            })
            .await
            .map_err(|e| Error::failure("lock task failed").with_source(e))??
        };
        // A refresh token an earlier run left in a recovery file is the live
        // one (the stored one was already redeemed): put it back first.
        let recovered = {
            let (dir, p, store) = (ctx.config_dir.clone(), profile.clone(), store.clone());
            tokio::task::spawn_blocking(move || {
                crate::store::recovery::take(&dir, &p, store.as_ref())
            })
            .await
            .map_err(|e| Error::failure("recovery task failed").with_source(e))??
        };
        if let Some(path) = recovered {
            ctx.io.success(format!(
                "Recovered the refresh token that an earlier run saved to {}.",
                path.display()
            ));
        }
        let refresh_token = common::load_secret(&store, &profile, SecretKind::RefreshToken)
            .await?
            .ok_or_else(|| {
                Error::authorization("the refresh token disappeared while waiting for the lock")
            })?;
        let _defer = crate::interrupt::defer();
        let tokens =
            common::refresh_grant(ctx, &existing.client_id, &new_secret, &refresh_token).await?;
        common::persist_rotated_tokens(ctx, &store, &tokens).await?;
        drop(lock);
    } else {
        ctx.io
            .info("No refresh token is stored: proving the new secret with a new authorization.");
        let listener = crate::oauth::LoopbackListener::bind(existing.redirect_port)?;
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
        common::store_token_set(&store, &ctx.config_dir, &profile, &auth.tokens).await?;
        account = auth.account;
    }
    ctx.io.success("The new Client Secret works.");

    // 2. Store it, keeping the previous one until StackOne is updated (when
    // resuming, the kept one is the previous secret: leave it).
    if let Some(prev) = previous.as_ref().filter(|_| !resuming) {
        common::store_secret(&store, &profile, SecretKind::PreviousClientSecret, prev).await?;
    }
    common::store_secret(&store, &profile, SecretKind::ClientSecret, &new_secret).await?;
    let mut file = config::load(&ctx.config_dir)?;
    if let Some(p) = file.profiles.get_mut(&profile) {
        let now = config::now_rfc3339();
        p.client_secret_rotated_at = Some(now.clone());
        p.updated_at = now.clone();
        if let Some(a) = &account {
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

    // 3. StackOne.
    let mut report = Report::new();
    report.insert("client_secret".into(), json!("rotated"));
    report.insert("refresh_token".into(), json!("rotated"));
    let stackone_configured = existing.stackone_profile_name.is_some()
        || existing.stackone_connector_profile_id.is_some();
    if skip_stackone || !stackone_configured {
        report.insert("stackone".into(), json!({ "action": "skipped" }));
        if !skip_stackone {
            ctx.io.info(
                "No StackOne profile is configured for this profile; StackOne is not touched.",
            );
        }
    } else {
        let key = common::stackone_api_key(ctx, &store, stackone.stackone_api_key_stdin).await?;
        let outcome = common::ensure_stackone_profile(
            ctx,
            &key,
            common::DesiredStackOneProfile {
                name: existing
                    .stackone_profile_name
                    .clone()
                    .unwrap_or_else(|| DEFAULT_STACKONE_PROFILE_NAME.to_string()),
                client_id: existing.client_id.clone(),
                client_secret: new_secret.clone(),
                scopes: existing.scopes.clone(),
                actions: existing.stackone_actions.clone(),
                secret_changed: true,
            },
            stackone.stackone_mode,
            existing.stackone_connector_profile_id.clone(),
        )
        .await?;
        let mut file = config::load(&ctx.config_dir)?;
        if let Some(p) = file.profiles.get_mut(&profile) {
            p.stackone_connector_profile_id = Some(outcome.id.clone());
            p.updated_at = config::now_rfc3339();
        }
        config::save(&ctx.config_dir, &file)?;
        ctx.io.success(format!(
            "StackOne profile {} ({}) {}.",
            outcome.name,
            outcome.id,
            outcome.action_str()
        ));
        report.insert(
            "stackone".into(),
            json!({ "connector_profile_id": outcome.id, "name": outcome.name, "action": outcome.action_str() }),
        );
    }
    // 4. Only now is the previous secret useless everywhere.
    common::delete_secret(&store, &profile, SecretKind::PreviousClientSecret).await?;
    Ok(report)
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
