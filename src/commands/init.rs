//! `ccsetup init`: the seed guide as a checked, repeatable wizard.
//!
//! Seven steps, each announced as "Step k/7". Inputs come from flags and
//! environment first, then from the existing setup of this profile, then
//! from prompts (interactive only). Everything that can be checked locally
//! — names, scopes, the secret store, the redirect port — is checked before
//! the browser opens: a failure found after consent would waste it.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::cli::{
    DEFAULT_APP_NAME, DEFAULT_REDIRECT_PORT, DEFAULT_SCOPES, DEFAULT_STACKONE_PROFILE_NAME,
    InitArgs, StackOneMode, StoreChoice,
};
use crate::commands::common::{self, AuthorizeRequest};
use crate::config::{self, ProfileConfig};
use crate::constant_contact::{
    self as cc, KNOWN_SCOPES, STACKONE_REDIRECT_URI, local_redirect_uri, validate_app_name,
    validate_client_id,
};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::store::SecretKind;

const STEPS: usize = 7;

/// Everything `init` needs, resolved and validated.
pub struct InitInputs {
    pub app_name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub stackone_api_key: Option<SecretString>,
    pub scopes: Vec<String>,
    pub actions: Vec<String>,
    pub stackone_profile_name: String,
    pub stackone_mode: StackOneMode,
    pub redirect_port: u16,
}

/// What the re-run menu offers (SPEC.md `init` step 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RerunChoice {
    RotateSecret,
    Reauthorize,
    RecreateStackOne,
    StartOver,
    Quit,
}

pub async fn run(ctx: &mut Context, args: InitArgs) -> Result<()> {
    let mut config_file = config::load(&ctx.config_dir)?;
    let existing = config_file.profiles.get(&ctx.profile).cloned();

    // Step 1: an existing setup of this profile.
    ctx.io.step(1, STEPS, "Look for an existing setup");
    if let Some(existing) = &existing {
        ctx.io.info(format!(
            "Profile \"{}\" is set up: API Key {}, secrets in the {}.",
            ctx.profile,
            existing.client_id,
            existing.secret_store.as_str()
        ));
        if ctx.prompter.is_interactive() && !args.yes && !args.dry_run {
            match rerun_menu(ctx)? {
                RerunChoice::RotateSecret => {
                    return crate::commands::rotate::rotate_client_secret(
                        ctx,
                        existing,
                        None,
                        &args.stackone,
                        false,
                        args.auth_timeout,
                    )
                    .await;
                }
                RerunChoice::Reauthorize => {
                    return crate::commands::rotate::reauthorize(ctx, existing, args.auth_timeout)
                        .await;
                }
                RerunChoice::RecreateStackOne => {
                    return recreate_stackone_profile(ctx, existing, &args).await;
                }
                RerunChoice::StartOver => ctx.io.info(
                    "Starting over; the old secrets are replaced once the new ones are proven.",
                ),
                RerunChoice::Quit => {
                    ctx.io.info("Nothing changed.");
                    return Ok(());
                }
            }
        } else {
            ctx.io.info(
                "Re-running with the given inputs (the same inputs give the same end state).",
            );
        }
    } else {
        ctx.io
            .info(format!("No setup yet for profile \"{}\".", ctx.profile));
    }

    // Step 2: create the Constant Contact application.
    ctx.io
        .step(2, STEPS, "Create the Constant Contact application");
    let redirect_port = args
        .redirect_port
        .or(existing.as_ref().map(|e| e.redirect_port))
        .unwrap_or(DEFAULT_REDIRECT_PORT);
    let app_name = resolve_app_name(ctx, &args, existing.as_ref())?;
    guide_app_creation(ctx, &app_name, redirect_port, args.yes || args.dry_run)?;

    // Step 3: credentials and local checks.
    ctx.io
        .step(3, STEPS, "Enter the credentials and check this machine");
    let inputs = resolve_inputs(ctx, &args, existing.as_ref(), app_name, redirect_port)?;
    let store_choice = ctx
        .store_choice
        .or(existing.as_ref().map(|e| e.secret_store))
        .unwrap_or(StoreChoice::Keyring);
    if store_choice == StoreChoice::File {
        ctx.io.warn(format!(
            "--store file: secrets go to a 0600 file under {} instead of the OS keyring",
            ctx.config_dir.display()
        ));
    }
    let store = ctx.open_store(Some(store_choice))?;
    common::probe_store(store.clone()).await?;
    ctx.io
        .success(format!("The secret store works ({}).", store.describe()));

    let listener = if args.skip_authorize {
        None
    } else {
        let l = crate::oauth::LoopbackListener::bind(redirect_port)?;
        ctx.io.success(format!(
            "Port {redirect_port} is free for the redirect listener."
        ));
        Some(l)
    };

    if args.dry_run {
        drop(listener);
        return print_dry_run(ctx, &inputs, &args, existing.as_ref(), store_choice);
    }

    // Step 4: authorize.
    ctx.io.step(4, STEPS, "Authorize with Constant Contact");
    let authorization = match listener {
        Some(listener) => {
            let request = AuthorizeRequest {
                client_id: inputs.client_id.clone(),
                client_secret: inputs.client_secret.clone(),
                scopes: inputs.scopes.clone(),
                redirect_port,
                timeout_secs: args.auth_timeout,
            };
            Some(common::authorize_and_check(ctx, request, listener).await?)
        }
        None => {
            ctx.io.warn(
                "--skip-authorize: the credentials are not checked and no refresh token is stored",
            );
            None
        }
    };

    // Step 5: store secrets, then the state that names them.
    ctx.io.step(5, STEPS, "Store the secrets");
    let profile = ctx.profile.clone();
    // Decided before storing: StackOne cannot show which secret it holds, so
    // "is this secret new to us" decides whether it is written there.
    let secret_changed = existing
        .as_ref()
        .is_none_or(|e| e.client_id != inputs.client_id)
        || common::secret_differs(&store, &profile, &inputs.client_secret).await
        // A rotation that did not finish: StackOne may hold the previous secret.
        || matches!(
            common::load_secret(&store, &profile, SecretKind::PreviousClientSecret).await,
            Ok(Some(_))
        );
    common::store_secret(
        &store,
        &profile,
        SecretKind::ClientSecret,
        &inputs.client_secret,
    )
    .await?;
    if let Some(auth) = &authorization {
        common::store_token_set(&store, &ctx.config_dir, &profile, &auth.tokens).await?;
    } else {
        // Tokens of another client id would be wrong now.
        common::delete_secret(&store, &profile, SecretKind::RefreshToken).await?;
        common::delete_secret(&store, &profile, SecretKind::AccessToken).await?;
    }
    let now = config::now_rfc3339();
    let account = authorization.as_ref().and_then(|a| a.account.clone());
    let mut profile_config = ProfileConfig {
        client_id: inputs.client_id.clone(),
        app_name: inputs.app_name.clone(),
        scopes: inputs.scopes.clone(),
        redirect_port,
        secret_store: store_choice,
        stackone_connector_profile_id: existing
            .as_ref()
            .filter(|e| e.client_id == inputs.client_id)
            .and_then(|e| e.stackone_connector_profile_id.clone()),
        stackone_profile_name: (!args.skip_stackone).then(|| inputs.stackone_profile_name.clone()),
        stackone_actions: inputs.actions.clone(),
        account_name: account.as_ref().and_then(|a| a.organization_name.clone()),
        account_email: account.as_ref().and_then(|a| a.contact_email.clone()),
        created_at: existing
            .as_ref()
            .map(|e| e.created_at.clone())
            .unwrap_or_else(|| now.clone()),
        updated_at: now.clone(),
        authorized_at: authorization.as_ref().map(|_| now.clone()),
        client_secret_rotated_at: existing
            .as_ref()
            .and_then(|e| e.client_secret_rotated_at.clone()),
    };
    config_file
        .profiles
        .insert(profile.clone(), profile_config.clone());
    config::save(&ctx.config_dir, &config_file)?;
    ctx.io.success(format!(
        "Client secret{} stored in the {}; settings in {}.",
        if authorization.is_some() {
            ", refresh token and access token"
        } else {
            ""
        },
        store.describe(),
        config::config_path(&ctx.config_dir).display()
    ));

    // Step 6: the StackOne Connector Profile.
    ctx.io
        .step(6, STEPS, "Create the StackOne Connector Profile");
    let stackone = if args.skip_stackone {
        ctx.io.info("--skip-stackone: StackOne is not touched.");
        None
    } else {
        let key = inputs.stackone_api_key.clone().ok_or_else(|| {
            Error::missing_input(
                "StackOne API key",
                "--stackone-api-key-stdin",
                Some("STACKONE_API_KEY"),
            )
        })?;
        let outcome = common::ensure_stackone_profile(
            ctx,
            &key,
            common::DesiredStackOneProfile {
                name: inputs.stackone_profile_name.clone(),
                client_id: inputs.client_id.clone(),
                client_secret: inputs.client_secret.clone(),
                scopes: inputs.scopes.clone(),
                actions: inputs.actions.clone(),
                secret_changed,
            },
            inputs.stackone_mode,
            profile_config.stackone_connector_profile_id.clone(),
        )
        .await?;
        // Kept only once StackOne accepted it: a refused key (a typo) must
        // not replace the stored one that works.
        common::store_secret(&store, &profile, SecretKind::StackOneApiKey, &key).await?;
        // StackOne holds this secret now: no rotation is left unfinished.
        common::delete_secret(&store, &profile, SecretKind::PreviousClientSecret).await?;
        ctx.io.success(format!(
            "StackOne Connector Profile \"{}\" ({}): {}.",
            outcome.name,
            outcome.id,
            outcome.action_str()
        ));
        profile_config.stackone_connector_profile_id = Some(outcome.id.clone());
        profile_config.stackone_profile_name = Some(outcome.name.clone());
        profile_config.updated_at = config::now_rfc3339();
        config_file
            .profiles
            .insert(profile.clone(), profile_config.clone());
        config::save(&ctx.config_dir, &config_file)?;
        Some(outcome)
    };

    // Step 7: summary and the next step.
    ctx.io.step(7, STEPS, "Done");
    let account_json = account
        .as_ref()
        .map(|a| json!({ "organization_name": a.organization_name, "email": a.contact_email }));
    if ctx.io.json {
        let stackone_json = match &stackone {
            Some(o) => {
                json!({ "connector_profile_id": o.id, "name": o.name, "action": o.action_str() })
            }
            None => json!({ "connector_profile_id": null, "name": null, "action": "skipped" }),
        };
        ctx.io.print_json(&json!({
            "profile": profile,
            "client_id": inputs.client_id,
            "app_name": inputs.app_name,
            "scopes": inputs.scopes,
            "authorized": authorization.is_some(),
            "account": account_json,
            "secret_store": store_choice.as_str(),
            "stackone": stackone_json,
        }))?;
    } else {
        print_summary(
            ctx,
            &profile_config,
            authorization.is_some(),
            stackone.as_ref(),
            &store.describe(),
        );
    }
    Ok(())
}

fn rerun_menu(ctx: &mut Context) -> Result<RerunChoice> {
    let choices = [
        (RerunChoice::RotateSecret, "Rotate the client secret"),
        (RerunChoice::Reauthorize, "Re-authorize (new refresh token)"),
        (
            RerunChoice::RecreateStackOne,
            "Re-create the StackOne Connector Profile",
        ),
        (RerunChoice::StartOver, "Start over"),
        (RerunChoice::Quit, "Quit"),
    ];
    let items: Vec<String> = choices.iter().map(|(_, label)| label.to_string()).collect();
    let idx = ctx.prompter.select("What do you want to do?", &items, 0)?;
    Ok(choices[idx].0)
}

fn resolve_app_name(
    ctx: &mut Context,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
) -> Result<String> {
    if let Some(name) = &args.app_name {
        validate_app_name(name).map_err(|why| {
            Error::usage(format!(
                "invalid application name \"{}\": {why}",
                name.trim()
            ))
            .with_hint("pass another --app-name (or CCSETUP_APP_NAME)")
        })?;
        return Ok(name.trim().to_string());
    }
    let default = existing
        .map(|e| e.app_name.as_str())
        .unwrap_or(DEFAULT_APP_NAME);
    if ctx.prompter.is_interactive() && !args.yes {
        ctx.prompter
            .input("Application name", Some(default), &validate_app_name)
    } else {
        Ok(default.to_string())
    }
}

/// Shows what to create in the portal (the seed guide's steps 1–7), opens
/// the portal when interactive, and offers the redirect URIs to the clipboard.
fn guide_app_creation(
    ctx: &mut Context,
    app_name: &str,
    port: u16,
    skip_confirm: bool,
) -> Result<()> {
    let portal = ctx.endpoints.cc_portal.to_string();
    let local = local_redirect_uri(port);
    ctx.io.info(format!(
        "In the Constant Contact developer portal, My Applications:\n  {portal}\n\n\
         1. Click New Application and enter the name: {app_name}\n\
         2. OAuth2 flow: Authorization Code Flow and Implicit Flow\n\
         3. Refresh token type: Rotating Refresh Tokens — then Create\n\
         4. Click Edit on the application and add BOTH redirect URIs, exactly:\n       {STACKONE_REDIRECT_URI}\n       {local}\n   and Save\n\
         5. Copy the API Key\n\
         6. Click Generate Client Secret and copy it: it is shown only once"
    ));
    if !ctx.prompter.is_interactive() || skip_confirm {
        // Non-interactive runs never open the portal (SPEC.md).
        return Ok(());
    }
    if let Err(why) = ctx.browser.open(&portal) {
        ctx.io
            .info(format!("(Open the URL above yourself: {why}.)"));
    }
    if crate::clipboard::available() {
        for uri in [STACKONE_REDIRECT_URI, local.as_str()] {
            if ctx
                .prompter
                .confirm(&format!("Copy {uri} to the clipboard?"), true)?
            {
                match crate::clipboard::copy(uri) {
                    Ok(_) => ctx.io.success("Copied."),
                    Err(why) => ctx.io.warn(format!("could not copy: {why}")),
                }
            }
        }
    }
    while !ctx.prompter.confirm(
        "Is the application created, with both redirect URIs saved?",
        true,
    )? {
        ctx.io.info("Take your time; the steps are above.");
    }
    Ok(())
}

fn resolve_inputs(
    ctx: &mut Context,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
    app_name: String,
    redirect_port: u16,
) -> Result<InitInputs> {
    let interactive = ctx.prompter.is_interactive();

    let client_id = match &args.client_id {
        Some(id) => {
            validate_client_id(id).map_err(|why| {
                Error::usage(format!("invalid API Key: {why}"))
                    .with_hint("pass --client-id or set CC_CLIENT_ID")
            })?;
            id.trim().to_string()
        }
        None if interactive => {
            let default = existing.map(|e| e.client_id.as_str());
            ctx.prompter
                .input("API Key (client id)", default, &validate_client_id)?
        }
        None => match existing {
            Some(e) => e.client_id.clone(),
            None => {
                return Err(Error::missing_input(
                    "API Key (client id)",
                    "--client-id",
                    Some("CC_CLIENT_ID"),
                ));
            }
        },
    };

    let client_secret = common::read_secret_input(
        ctx,
        args.client_secret_stdin,
        common::SecretInput::CLIENT_SECRET,
    )?;
    cc::validate_client_secret(client_secret.expose_secret())
        .map_err(|why| Error::usage(format!("invalid Client Secret: {why}")))?;

    let scopes = match &args.scopes {
        Some(list) => cc::parse_scopes(list)?,
        None if interactive && !args.yes => {
            let current: Vec<String> = existing
                .map(|e| e.scopes.clone())
                .unwrap_or_else(|| DEFAULT_SCOPES.split(',').map(str::to_string).collect());
            let items: Vec<String> = KNOWN_SCOPES.iter().map(|s| s.to_string()).collect();
            let defaults: Vec<bool> = KNOWN_SCOPES
                .iter()
                .map(|s| current.iter().any(|c| c == s))
                .collect();
            loop {
                let picked = ctx.prompter.multi_select(
                    "Scopes (space toggles, enter accepts)",
                    &items,
                    &defaults,
                )?;
                let chosen: Vec<String> = picked.into_iter().map(|i| items[i].clone()).collect();
                match cc::parse_scopes(&chosen) {
                    Ok(s) => break s,
                    Err(e) => ctx.io.warn(e.message()),
                }
            }
        }
        None => match existing {
            Some(e) => e.scopes.clone(),
            None => cc::parse_scopes(&DEFAULT_SCOPES.split(',').collect::<Vec<_>>())?,
        },
    };
    if !cc::grants_refresh_token(&scopes) && !args.skip_authorize {
        ctx.io.warn(
            "the scopes lack offline_access: Constant Contact will issue no refresh token, so `ccsetup token` \
             cannot renew access after 24 h",
        );
    }
    if !cc::grants_account_read(&scopes) {
        ctx.io
            .warn("the scopes lack account_read: the account check after authorization is skipped");
    }

    let stackone_api_key = if args.skip_stackone {
        None
    } else {
        Some(common::read_secret_input(
            ctx,
            args.stackone.stackone_api_key_stdin,
            common::SecretInput::STACKONE_API_KEY,
        )?)
    };

    let actions = match &args.actions {
        Some(list) => list
            .iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect(),
        None if interactive && !args.yes && !args.skip_stackone => {
            let current = existing
                .map(|e| e.stackone_actions.join(","))
                .unwrap_or_default();
            let text = ctx.prompter.input(
                "StackOne actions to enable (optional, comma-separated; empty for none)",
                Some(&current),
                &|_| Ok(()),
            )?;
            text.split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect()
        }
        None => existing
            .map(|e| e.stackone_actions.clone())
            .unwrap_or_default(),
    };

    let stackone_profile_name = args
        .stackone_profile_name
        .clone()
        .or_else(|| existing.and_then(|e| e.stackone_profile_name.clone()))
        .unwrap_or_else(|| DEFAULT_STACKONE_PROFILE_NAME.to_string());
    if stackone_profile_name.trim().is_empty() {
        return Err(Error::usage("the StackOne profile name cannot be empty"));
    }

    Ok(InitInputs {
        app_name,
        client_id,
        client_secret,
        stackone_api_key,
        scopes,
        actions,
        stackone_profile_name,
        stackone_mode: args.stackone.stackone_mode,
        redirect_port,
    })
}

fn print_dry_run(
    ctx: &mut Context,
    inputs: &InitInputs,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
    store_choice: StoreChoice,
) -> Result<()> {
    let action = if args.skip_stackone {
        "skipped"
    } else if existing
        .and_then(|e| e.stackone_connector_profile_id.as_ref())
        .is_some()
    {
        "create or update"
    } else {
        "create"
    };
    let plan = json!({
        "dry_run": true,
        "profile": ctx.profile,
        "client_id": inputs.client_id,
        "client_secret": "[redacted]",
        "app_name": inputs.app_name,
        "scopes": inputs.scopes,
        "redirect_uri": local_redirect_uri(inputs.redirect_port),
        "authorize": !args.skip_authorize,
        "secret_store": store_choice.as_str(),
        "config": config::config_path(&ctx.config_dir),
        "stackone": {
            "name": inputs.stackone_profile_name,
            "mode": format!("{:?}", inputs.stackone_mode).to_lowercase(),
            "actions": inputs.actions,
            "action": action,
        },
    });
    if ctx.io.json {
        ctx.io.print_json(&plan)?;
    } else {
        ctx.io.println(format!(
            "Dry run — nothing was changed. ccsetup init would:\n\
             - authorize API Key {} with scopes {} through {}{}\n\
             - store the client secret [redacted]{} in the {}\n\
             - write profile \"{}\" to {}\n\
             - StackOne: {} the Connector Profile \"{}\"",
            inputs.client_id,
            inputs.scopes.join(" "),
            local_redirect_uri(inputs.redirect_port),
            if args.skip_authorize {
                " (skipped: --skip-authorize)"
            } else {
                ""
            },
            if args.skip_authorize {
                ""
            } else {
                ", refresh token and access token"
            },
            store_choice.as_str(),
            ctx.profile,
            config::config_path(&ctx.config_dir).display(),
            action,
            inputs.stackone_profile_name,
        ));
    }
    Ok(())
}

fn print_summary(
    ctx: &mut Context,
    profile: &ProfileConfig,
    authorized: bool,
    stackone: Option<&common::StackOneOutcome>,
    store_description: &str,
) {
    let account = match (&profile.account_name, &profile.account_email) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        (Some(n), None) => n.clone(),
        (None, Some(e)) => e.clone(),
        (None, None) => "not checked".into(),
    };
    let mut lines = vec![
        format!("Profile:          {}", ctx.profile),
        format!(
            "Application:      {} (API Key {})",
            profile.app_name, profile.client_id
        ),
        format!(
            "Authorized:       {}",
            if authorized {
                "yes"
            } else {
                "no (--skip-authorize)"
            }
        ),
        format!("Account:          {account}"),
        format!("Secrets:          {store_description}"),
        format!(
            "Settings:         {}",
            config::config_path(&ctx.config_dir).display()
        ),
    ];
    match stackone {
        Some(o) => lines.push(format!(
            "StackOne profile: {} ({}, {})",
            o.name,
            o.id,
            o.action_str()
        )),
        None => lines.push("StackOne profile: skipped".into()),
    }
    ctx.io.println(lines.join("\n"));
    let next = if stackone.is_some() {
        "Next: link a customer's account with `ccsetup link --origin-owner-id <id> --origin-owner-name <name>`"
    } else {
        "Next: `ccsetup token` prints an access token; run `ccsetup init` without --skip-stackone to create the StackOne profile"
    };
    ctx.io.info(format!("\n{next}"));
}

/// Menu choice "Re-create the StackOne Connector Profile".
async fn recreate_stackone_profile(
    ctx: &mut Context,
    existing: &ProfileConfig,
    args: &InitArgs,
) -> Result<()> {
    let store = ctx.open_store(Some(existing.secret_store))?;
    let profile = ctx.profile.clone();
    let client_secret = common::load_secret(&store, &profile, SecretKind::ClientSecret)
        .await?
        .ok_or_else(|| {
            Error::usage("no client secret is stored for this profile")
                .with_hint("choose \"Start over\"")
        })?;
    let key = common::stackone_api_key(ctx, &store, args.stackone.stackone_api_key_stdin).await?;
    let outcome = common::ensure_stackone_profile(
        ctx,
        &key,
        common::DesiredStackOneProfile {
            name: existing
                .stackone_profile_name
                .clone()
                .unwrap_or_else(|| DEFAULT_STACKONE_PROFILE_NAME.to_string()),
            client_id: existing.client_id.clone(),
            client_secret,
            scopes: existing.scopes.clone(),
            actions: existing.stackone_actions.clone(),
            secret_changed: true,
        },
        args.stackone.stackone_mode,
        existing.stackone_connector_profile_id.clone(),
    )
    .await?;
    let mut config_file = config::load(&ctx.config_dir)?;
    if let Some(p) = config_file.profiles.get_mut(&profile) {
        p.stackone_connector_profile_id = Some(outcome.id.clone());
        p.stackone_profile_name = Some(outcome.name.clone());
        p.updated_at = config::now_rfc3339();
    }
    config::save(&ctx.config_dir, &config_file)?;
    ctx.io.success(format!(
        "StackOne profile {} ({}): {}",
        outcome.name,
        outcome.id,
        outcome.action_str()
    ));
    Ok(())
}
