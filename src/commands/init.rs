//! `ccsetup init`: the seed guide as a checked, repeatable wizard.
//!
//! Seven steps, each announced as "Step k/7". Inputs come from flags and
//! environment first, then from the existing setup of this profile, then
//! from prompts (interactive only). Everything that can be checked locally
//! — names, scopes, the secret store, the redirect port — is checked before
//! the browser opens: a failure found after consent would waste it.
//!
//! Interactive runs walk the portal screen by screen (step 2) and then ask
//! for what it showed (step 3). Non-interactive runs resolve and check every
//! input first, so a missing one fails at once (exit 2) instead of after a
//! screen of instructions nobody can act on.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::cli::{
    DEFAULT_APP_NAME, DEFAULT_REDIRECT_PORT, DEFAULT_SCOPES, DEFAULT_STACKONE_PROFILE_NAME,
    InitArgs,
};
use crate::config::{self, ProfileConfig};
use crate::constant_contact::probe::RegistrationReport;
use crate::constant_contact::{
    self as cc, KNOWN_SCOPES, STACKONE_REDIRECT_URI, validate_app_name, validate_client_id,
};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::oauth::{AuthorizeFailure, Redirect, RedirectTarget};
use crate::render;
use crate::stackone::{DesiredProfile, ProfileOutcome, StackOneMode};
use crate::store::{SecretKind, StoreChoice};
use crate::workflow::authorize::{
    AuthOutcome, AuthorizeRequest, RegistrationNeeds, authorize_and_check, check_app_registration,
    prepare_redirect, redirect_target_of,
};
use crate::workflow::rotation::{self, RotationOptions};
use crate::workflow::secrets::{SecretInput, missing_input, no_check};
use crate::workflow::{ProfileSession, preflight, tokens};

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
    /// `--stackone-profile-id`: adopt this existing profile.
    pub stackone_profile_id: Option<String>,
    pub redirect_port: u16,
    /// Where the browser is sent after consent (`--redirect-uri`).
    pub redirect: RedirectTarget,
}

impl InitInputs {
    /// The application the checks before the browser probe.
    fn app_under_test(&self) -> preflight::AppUnderTest<'_> {
        preflight::AppUnderTest {
            client_id: &self.client_id,
            redirect_uri: self.redirect.uri(),
            scopes: &self.scopes,
        }
    }
}

/// What the re-run menu offers (docs/contract.md `init` step 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RerunChoice {
    RotateSecret,
    Reauthorize,
    RecreateStackOne,
    StartOver,
    Quit,
}

/// The menu's entries, in order; the default is the harmless last one, Quit.
const RERUN_CHOICES: [(RerunChoice, &str); 5] = [
    (RerunChoice::RotateSecret, "Rotate the client secret"),
    (
        RerunChoice::Reauthorize,
        "Re-authorize (get a new refresh token)",
    ),
    (
        RerunChoice::RecreateStackOne,
        "Re-create the StackOne Connector Profile",
    ),
    (
        RerunChoice::StartOver,
        "Start over (new application or credentials)",
    ),
    (RerunChoice::Quit, "Quit (change nothing)"),
];

pub async fn run(ctx: &mut Context, args: InitArgs) -> Result<()> {
    let existing = config::load(&ctx.config_dir)?
        .profile(&ctx.profile)
        .cloned();

    ctx.io.step(1, STEPS, "Look for an existing setup");
    if let Some(existing) = &existing
        && !continue_after_rerun_menu(ctx, existing, &args).await?
    {
        return Ok(());
    }
    if existing.is_none() {
        ctx.io
            .info(format!("No setup yet for profile \"{}\".", ctx.profile));
    }

    let (redirect, redirect_port) = resolve_redirect(&args, existing.as_ref())?;
    // Interactive runs check the store before any portal work (a failure
    // found after the show-once Client Secret was pasted would lose it);
    // the others resolve their inputs first, so a missing one is exit 2.
    let store_first = if ctx.prompter.is_interactive() {
        Some(check_secret_store(ctx, existing.as_ref()).await?)
    } else {
        None
    };
    let mut inputs = gather_inputs(ctx, &args, existing.as_ref(), redirect, redirect_port)?;
    let sharing = crate::workflow::rotation::other_profiles_with_client_id(
        &ctx.config_dir,
        &ctx.profile,
        &inputs.client_id,
    );
    if !sharing.is_empty() {
        ctx.io.info(format!(
            "API Key {} is also used by profile {}: one Constant Contact app, so one Client Secret \
             for all of them. `ccsetup rotate --client-secret` on any of them updates them all.",
            inputs.client_id,
            sharing
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    warn_about_scopes(ctx, &args, &inputs.scopes);
    let (session, store_choice) = match store_first {
        Some(checked) => checked,
        None => check_secret_store(ctx, existing.as_ref()).await?,
    };
    let listener = check_redirect(ctx, &args, &inputs.redirect)?;
    // The network checks before the browser are independent: their first
    // answers are fetched at once; each is then reported (and, when refused,
    // fixed and checked again) in order.
    let first = {
        let (mut term, remote, sources) = ctx.parts()?;
        let app = inputs.app_under_test();
        let first = preflight::first_answers(
            &mut term,
            remote,
            app,
            inputs.stackone_api_key.as_ref(),
            args.dry_run,
        )
        .await;
        inputs.stackone_api_key = preflight::check_stackone_key(
            &mut term,
            remote,
            sources,
            inputs.stackone_api_key.take(),
            args.stackone.stackone_api_key_stdin,
            first.stackone_key,
        )
        .await?;
        first.registration
    };

    if args.dry_run {
        drop(listener);
        return print_dry_run(ctx, &inputs, &args, existing.as_ref(), store_choice);
    }
    let registration = check_registration(ctx, &inputs, &args, first).await?;
    {
        let (mut term, remote, sources) = ctx.parts()?;
        let (client_id, redirect, scopes) = (
            inputs.client_id.clone(),
            inputs.redirect.uri().to_string(),
            inputs.scopes.clone(),
        );
        let app = preflight::AppUnderTest {
            client_id: &client_id,
            redirect_uri: &redirect,
            scopes: &scopes,
        };
        preflight::check_client_secret(
            &mut term,
            remote,
            sources,
            app,
            &mut inputs.client_secret,
            args.client_secret_stdin,
        )
        .await?;
    }

    ctx.io.step(4, STEPS, "Authorize with Constant Contact");
    let mut authorization = authorize(ctx, &mut inputs, args.auth_timeout, listener).await?;
    let refresh_token_type = match authorization.as_mut() {
        Some(auth) => check_refresh_token_type(ctx, &session, &inputs, auth).await?,
        None => None,
    };

    ctx.io.step(5, STEPS, "Store the secrets");
    // Decided before storing: StackOne cannot show which secret it holds, so
    // "is this secret new to us" decides whether it is written there.
    let secret_changed = existing
        .as_ref()
        .is_none_or(|e| e.client_id != inputs.client_id)
        || secret_differs(&session, &inputs.client_secret).await
        // A rotation that did not finish: StackOne may hold the previous secret.
        || matches!(
            session.get(SecretKind::PreviousClientSecret).await,
            Ok(Some(_))
        );
    // Under the profile lock: a `token` refresh running now stores its
    // rotated token first, and cannot overwrite this new grant after.
    let lock = session.lock().await?;
    let mut profile_config = store_everything(
        ctx,
        &session,
        &inputs,
        authorization.as_ref(),
        existing.as_ref(),
        store_choice,
        args.skip_stackone,
    )
    .await?;
    session.save_config(&profile_config)?;
    drop(lock);

    ctx.io
        .step(6, STEPS, "Create the StackOne Connector Profile");
    let stackone = if args.skip_stackone {
        ctx.io.info("--skip-stackone: StackOne is not touched.");
        None
    } else {
        let outcome =
            create_stackone_profile(ctx, &session, &inputs, &profile_config, secret_changed)
                .await?;
        crate::workflow::stackone::record_outcome(&mut profile_config, &outcome);
        profile_config.updated_at = crate::clock::now_rfc3339();
        session.save_config(&profile_config)?;
        Some(outcome)
    };

    ctx.io.step(7, STEPS, "Done");
    let result = InitResult {
        profile: &profile_config,
        authorization: authorization.as_ref(),
        stackone: stackone.as_ref(),
        store_choice,
        store_description: session.store().describe(),
        registration: registration.as_ref(),
        refresh_token_type,
    };
    // Under --json the summary is human text too: stderr, then the object.
    print_summary(ctx, &result);
    if ctx.io.json {
        ctx.io.print_json(&result.to_json(&ctx.profile))?;
    }
    if let (Some(outcome), Some(key)) = (&stackone, &inputs.stackone_api_key)
        && !written_by_ccsetup(outcome)
        && offer_proof(ctx, outcome, key, args.yes).await?
    {
        session
            .update_config(|p| crate::workflow::stackone::record_verified_link(p, &outcome.id))?;
    }
    Ok(())
}

/// Whether ccsetup itself wrote the profile's credentials. Not so on the
/// dashboard path: nothing shows they are right, as StackOne's API never
/// reveals them.
fn written_by_ccsetup(outcome: &ProfileOutcome) -> bool {
    outcome.action != crate::stackone::ProfileAction::Dashboard
}

/// The owner of the connect session that proves a profile.
const PROOF_OWNER_ID: &str = "ccsetup-self-test";

/// The dashboard path is proven by linking the user's own test account:
/// offered at once when someone is at the terminal; scripts are told how.
async fn offer_proof(
    ctx: &mut Context,
    outcome: &ProfileOutcome,
    key: &SecretString,
    assume_yes: bool,
) -> Result<bool> {
    let command = format!(
        "ccsetup{} link --origin-owner-id {PROOF_OWNER_ID} --origin-owner-name \"My test user\" --wait",
        if ctx.profile == "default" {
            String::new()
        } else {
            format!(" --profile {}", ctx.profile)
        }
    );
    // The proof needs someone at the hub: `--yes` does not start it.
    if !ctx.prompter.is_interactive() || assume_yes {
        ctx.io.info(format!(
            "\nProve the StackOne profile's credentials by linking your own Constant Contact test user:\n  {command}"
        ));
        return Ok(false);
    }
    ctx.io.info(
        "Sign in as a separate Constant Contact test user, not the one ccsetup just authorized: a new \
         authorization of the same user and app can expire the older refresh token.",
    );
    if !ctx.prompter.confirm(
        "Prove the StackOne profile now by linking your own test account (link --wait)?",
        true,
    )? {
        ctx.io.info(format!("Later: {command}"));
        return Ok(false);
    }
    let (mut term, remote, _) = ctx.parts()?;
    crate::workflow::stackone::prove_profile(
        &mut term,
        remote,
        key,
        crate::workflow::stackone::SessionOwner {
            id: PROOF_OWNER_ID,
            name: "My test user",
            label: Some("ccsetup self-test"),
        },
        &outcome.id,
        crate::workflow::stackone::WaitOptions {
            interval: std::time::Duration::from_secs(2),
            timeout: std::time::Duration::from_secs(crate::cli::DEFAULT_LINK_WAIT_SECS),
        },
    )
    .await
    .map(|()| true)
}

// ---- Step 1: an existing setup ----

/// Says what is set up and, interactively, offers the re-run menu. Returns
/// whether the full `init` should run (non-interactive re-runs, `--yes`,
/// `--dry-run` and "Start over" do; the other entries finish here).
async fn continue_after_rerun_menu(
    ctx: &mut Context,
    existing: &ProfileConfig,
    args: &InitArgs,
) -> Result<bool> {
    ctx.io.info(format!(
        "Profile \"{}\" is already set up: application \"{}\" (API Key {}), secrets in the {}{}.",
        ctx.profile,
        existing.app_name,
        existing.client_id,
        store_name(existing.secret_store),
        existing
            .stackone_connector_profile_id
            .as_deref()
            .map(|id| format!(", StackOne profile {id}"))
            .unwrap_or_default()
    ));
    if !ctx.prompter.is_interactive() || args.yes || args.dry_run {
        ctx.io.info(
            "Running the whole setup again with the given inputs (the same inputs give the same end state).",
        );
        return Ok(true);
    }
    let choice = rerun_menu(ctx)?;
    let session = ctx.session(Some(existing.secret_store))?;
    match choice {
        RerunChoice::RotateSecret => {
            let options = RotationOptions {
                secret_from_stdin: false,
                stackone_key_from_stdin: args.stackone.stackone_api_key_stdin,
                stackone_mode: args.stackone.stackone_mode,
                skip_stackone: false,
                auth_timeout_secs: args.auth_timeout,
            };
            let (mut term, remote, sources) = ctx.parts()?;
            let report = rotation::rotate_client_secret(
                &mut term, remote, sources, &session, existing, options,
            )
            .await?;
            render::print_rotation_report(term.io, session.profile(), report)?;
        }
        RerunChoice::Reauthorize => {
            let (mut term, remote, _) = ctx.parts()?;
            let report =
                rotation::reauthorize(&mut term, remote, &session, existing, args.auth_timeout)
                    .await?;
            render::print_rotation_report(term.io, session.profile(), report)?;
        }
        RerunChoice::RecreateStackOne => {
            recreate_stackone_profile(ctx, &session, existing, args).await?
        }
        RerunChoice::StartOver => {
            ctx.io.info(
                "Starting over. The stored secrets are replaced only once the new ones are proven (step 4).",
            );
            return Ok(true);
        }
        RerunChoice::Quit => {
            ctx.io.info("Nothing changed.");
            if ctx.io.json {
                ctx.io
                    .print_json(&json!({ "profile": ctx.profile, "changed": false }))?;
            }
        }
    }
    Ok(false)
}

fn rerun_menu(ctx: &mut Context) -> Result<RerunChoice> {
    let items: Vec<String> = RERUN_CHOICES
        .iter()
        .map(|(_, label)| label.to_string())
        .collect();
    let quit = RERUN_CHOICES
        .iter()
        .position(|(choice, _)| *choice == RerunChoice::Quit)
        .unwrap_or(0);
    let idx = ctx.prompter.select(
        "What do you want to do? (arrows move, Enter picks)",
        &items,
        quit,
    )?;
    Ok(RERUN_CHOICES[idx].0)
}

/// How a secret store is called in sentences.
fn store_name(choice: StoreChoice) -> &'static str {
    match choice {
        StoreChoice::Keyring => "OS keyring",
        StoreChoice::File => "file store",
    }
}

// ---- Steps 2 and 3: the application and the inputs ----

/// Steps 2 and 3 up to the local checks: interactive runs guide, then ask;
/// other runs resolve everything first, then show what is expected.
fn gather_inputs(
    ctx: &mut Context,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
    redirect: RedirectTarget,
    redirect_port: u16,
) -> Result<InitInputs> {
    if ctx.prompter.is_interactive() {
        ctx.io
            .step(2, STEPS, "Create the Constant Contact application");
        let app_name = guide_app_creation(ctx, args, existing, redirect.uri())?;
        ctx.io
            .step(3, STEPS, "Enter the credentials and check this machine");
        resolve_inputs(ctx, args, existing, app_name, redirect, redirect_port)
    } else {
        // All inputs first: a missing one is exit 2 before any instructions,
        // and several missing ones are named together.
        refuse_missing_inputs(ctx, args, existing)?;
        let app_name = resolve_app_name(ctx, args, existing)?;
        let inputs = resolve_inputs(ctx, args, existing, app_name, redirect, redirect_port)?;
        ctx.io
            .step(2, STEPS, "Create the Constant Contact application");
        print_app_checklist(
            ctx,
            &inputs.app_name,
            &inputs.client_id,
            inputs.redirect.uri(),
        );
        ctx.io
            .step(3, STEPS, "Enter the credentials and check this machine");
        print_given_inputs(ctx, &inputs, args.skip_stackone);
        Ok(inputs)
    }
}

/// One exit-2 error naming every required input nobody gave (flag and
/// environment variable each), rather than one per run.
fn refuse_missing_inputs(
    ctx: &Context,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
) -> Result<()> {
    let mut missing: Vec<(&str, &str, &str)> = Vec::new();
    if args.client_id.is_none() && existing.is_none() {
        missing.push(("API Key (client id)", "--client-id", "CC_CLIENT_ID"));
    }
    for (input, from_stdin, needed) in [
        (&SecretInput::CLIENT_SECRET, args.client_secret_stdin, true),
        (
            &SecretInput::STACKONE_API_KEY,
            args.stackone.stackone_api_key_stdin,
            !args.skip_stackone,
        ),
    ] {
        if needed && !ctx.secrets.is_given(input, from_stdin) {
            missing.push((input.what, input.stdin_flag, input.env));
        }
    }
    match missing.as_slice() {
        [] | [_] => Ok(()), // the single case keeps its own error below
        several => {
            let list: Vec<String> = several
                .iter()
                .map(|(what, flag, env)| format!("  {what}: pass {flag} or set {env}"))
                .collect();
            let single = missing_input(
                ctx.prompter.as_ref(),
                several[0].0,
                several[0].1,
                Some(several[0].2),
            );
            let err = Error::usage(format!(
                "missing {} inputs:\n{}",
                several.len(),
                list.join("\n")
            ));
            Err(match single.hint() {
                Some(hint) => err.with_hint(hint.to_string()),
                None => err,
            })
        }
    }
}

/// Interactive step 2: the seed guide's portal steps, one screen at a time,
/// waiting for the user after each. Returns the application name.
fn guide_app_creation(
    ctx: &mut Context,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
    local: &str,
) -> Result<String> {
    let portal = ctx.endpoints.cc_portal.to_string();
    ctx.io.info(format!(
        "Open the Constant Contact developer portal's My Applications page and sign in:\n  {portal}"
    ));
    if !args.dry_run {
        open_in_browser(ctx, &portal);
    }

    let unattended = args.yes || args.dry_run;

    let app_name = resolve_app_name(ctx, args, existing)?;
    ctx.io.info(format!(
        "\nClick New Application, then:\n\
         \x20 1. Name: {app_name}\n\
         \x20 2. OAuth2 flow: \"Authorization Code Flow and Implicit Flow\" (one option)\n\
         \x20 3. Refresh token type: Rotating Refresh Tokens\n\
         \x20 4. Click Create"
    ));
    wait_until_done(ctx, "Is the application created?", unattended)?;

    ctx.io.info(format!(
        "\nOn My Applications, click Edit on \"{app_name}\" and add BOTH redirect URIs, exactly:\n\
         \x20 StackOne's (for the accounts your customers will link):\n\
         \x20   {STACKONE_REDIRECT_URI}\n\
         \x20 This machine's (for the check in step 4):\n\
         \x20   {local}\n\
         Then click Save."
    ));
    if !unattended {
        offer_to_clipboard(ctx, &[STACKONE_REDIRECT_URI, local])?;
    }
    wait_until_done(ctx, "Are both redirect URIs saved?", unattended)?;
    Ok(app_name)
}

/// Non-interactive step 2: what the application must look like (nothing is
/// opened: docs/contract.md).
fn print_app_checklist(ctx: &mut Context, app_name: &str, client_id: &str, local: &str) {
    ctx.io.info(format!(
        "Using the application \"{app_name}\" (API Key {client_id}). In the developer portal \
         ({}) it must have:\n\
         \x20 - OAuth2 flow: Authorization Code Flow and Implicit Flow\n\
         \x20 - Refresh token type: Rotating Refresh Tokens\n\
         \x20 - both redirect URIs, exactly:\n\
         \x20     {STACKONE_REDIRECT_URI}\n\
         \x20     {}",
        ctx.endpoints.cc_portal, local
    ));
}

/// Non-interactive step 3: what was given (never a secret's value).
fn print_given_inputs(ctx: &mut Context, inputs: &InitInputs, skip_stackone: bool) {
    let stackone = if skip_stackone {
        "StackOne skipped (--skip-stackone)".to_string()
    } else {
        let actions = if inputs.actions.is_empty() {
            "none".to_string()
        } else {
            inputs.actions.join(", ")
        };
        format!(
            "StackOne API key (hidden), profile \"{}\", actions: {actions}",
            inputs.stackone_profile_name
        )
    };
    ctx.io.success(format!(
        "Inputs complete: API Key {}, Client Secret (hidden), {stackone}.\n  Scopes: {}",
        inputs.client_id,
        inputs.scopes.join(" ")
    ));
}

/// Opens `url`, or says why not (the URL is always printed beforehand): no
/// browser here is a note, a launch that failed is a warning.
fn open_in_browser(ctx: &mut Context, url: &str) {
    if let Err(why) = ctx.browser.can_launch() {
        ctx.io
            .info(format!("(Not opening a browser: {why}. Open it yourself.)"));
        return;
    }
    match ctx.browser.open(url) {
        Ok(()) => ctx.io.info("(Opened it in your browser.)"),
        Err(why) => ctx.io.warn(format!(
            "could not open a browser ({why}); open the URL above yourself"
        )),
    }
}

/// Offers each value to the clipboard, where there is one.
fn offer_to_clipboard(ctx: &mut Context, values: &[&str]) -> Result<()> {
    if !crate::clipboard::available() {
        return Ok(());
    }
    for value in values {
        if ctx
            .prompter
            .confirm(&format!("Copy {value} to the clipboard?"), true)?
        {
            match crate::clipboard::copy(value) {
                Ok(_) => ctx.io.success("Copied: paste it into the portal."),
                Err(why) => ctx.io.warn(format!("could not copy: {why}")),
            }
        }
    }
    Ok(())
}

/// Asks until the user says the step is done (skipped when unattended).
/// The default is "no": an Enter pressed unread must not skip a step.
fn wait_until_done(ctx: &mut Context, question: &str, unattended: bool) -> Result<()> {
    if unattended {
        return Ok(());
    }
    while !ctx.prompter.confirm(question, false)? {
        ctx.io.info(
            "Take your time: the steps are above. Nothing is saved yet, so Ctrl-C is safe too.",
        );
    }
    Ok(())
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
        ctx.io.info(
            "\nName the application (the portal refuses names that contain \"Constant Contact\").",
        );
        ctx.prompter
            .input("Application name", Some(default), &validate_app_name)
    } else {
        Ok(default.to_string())
    }
}

/// Every input but the application name, in the order the portal shows them.
fn resolve_inputs(
    ctx: &mut Context,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
    app_name: String,
    redirect: RedirectTarget,
    redirect_port: u16,
) -> Result<InitInputs> {
    let client_id = resolve_client_id(ctx, args, existing)?;
    let client_secret = ctx.secrets.resolve(
        &mut ctx.io,
        ctx.prompter.as_mut(),
        &SecretInput::CLIENT_SECRET,
        args.client_secret_stdin,
        None,
        &no_check,
    )?;
    let scopes = resolve_scopes(ctx, args, existing)?;
    let stackone_api_key = if args.skip_stackone {
        None
    } else {
        Some(ctx.secrets.resolve(
            &mut ctx.io,
            ctx.prompter.as_mut(),
            &SecretInput::STACKONE_API_KEY,
            args.stackone.stackone_api_key_stdin,
            None,
            &no_check,
        )?)
    };
    let actions = resolve_actions(ctx, args, existing)?;
    let stackone_profile_name = args
        .stackone_profile_name
        .clone()
        .or_else(|| existing.and_then(|e| e.stackone_profile_name.clone()))
        .unwrap_or_else(|| DEFAULT_STACKONE_PROFILE_NAME.to_string());
    if stackone_profile_name.trim().is_empty() {
        return Err(Error::usage("the StackOne profile name cannot be empty")
            .with_hint("pass a non-empty --stackone-profile-name"));
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
        stackone_profile_id: args.stackone_profile_id.clone(),
        redirect_port,
        redirect,
    })
}

fn resolve_client_id(
    ctx: &mut Context,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
) -> Result<String> {
    if let Some(id) = &args.client_id {
        validate_client_id(id).map_err(|why| {
            Error::usage(format!("invalid API Key: {why}"))
                .with_hint("pass --client-id or set CC_CLIENT_ID")
        })?;
        return Ok(id.trim().to_string());
    }
    let current = existing.map(|e| e.client_id.as_str());
    if ctx.prompter.is_interactive() {
        ctx.io.info(
            "The API Key (Client ID) is on the application's details page (click Edit on it).",
        );
        return ctx
            .prompter
            .input("API Key (client id)", current, &validate_client_id);
    }
    match current {
        Some(id) => Ok(id.to_string()),
        None => Err(missing_input(
            ctx.prompter.as_ref(),
            "API Key (client id)",
            "--client-id",
            Some("CC_CLIENT_ID"),
        )),
    }
}

fn resolve_scopes(
    ctx: &mut Context,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
) -> Result<Vec<String>> {
    if let Some(list) = &args.scopes {
        return cc::parse_scopes(list);
    }
    let current: Vec<String> = existing
        .map(|e| e.scopes.clone())
        .unwrap_or_else(|| DEFAULT_SCOPES.split(',').map(str::to_string).collect());
    if !ctx.prompter.is_interactive() || args.yes {
        return cc::parse_scopes(&current);
    }
    let items: Vec<String> = KNOWN_SCOPES.iter().map(|s| s.to_string()).collect();
    let mut ticked: Vec<bool> = KNOWN_SCOPES
        .iter()
        .map(|s| current.iter().any(|c| c == s))
        .collect();
    loop {
        let picked = ctx.prompter.multi_select(
            "Scopes (Space ticks or unticks, Enter accepts)",
            &items,
            &ticked,
        )?;
        if picked.is_empty() {
            ctx.io
                .warn("pick at least one scope: Space ticks the one under the cursor");
            continue;
        }
        let chosen: Vec<&str> = picked.iter().map(|&i| items[i].as_str()).collect();
        let scopes = cc::parse_scopes(&chosen)?;
        let lacking = lacking_scope_warnings(&scopes, ScopeSource::Picker);
        if lacking.is_empty() {
            return Ok(scopes);
        }
        for warning in &lacking {
            ctx.io.warn(warning);
        }
        if ctx.prompter.confirm("Keep these scopes anyway?", false)? {
            return Ok(scopes);
        }
        ticked = KNOWN_SCOPES
            .iter()
            .map(|s| scopes.iter().any(|c| c == s))
            .collect();
    }
}

/// Where the scopes came from: the fix a warning names depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScopeSource {
    Flag,
    Picker,
}

/// What a missing `offline_access` or `account_read` costs, and the fix.
fn lacking_scope_warnings(scopes: &[String], source: ScopeSource) -> Vec<String> {
    let fix = |scope: &str| match source {
        ScopeSource::Flag => format!("add {scope} to --scopes (CCSETUP_SCOPES)"),
        ScopeSource::Picker => format!("tick {scope} in the list"),
    };
    let mut warnings = Vec::new();
    if !cc::grants_refresh_token(scopes) {
        warnings.push(format!(
            "without offline_access Constant Contact issues no refresh token, so `ccsetup token` \
             cannot renew access after 24 h: {}",
            fix("offline_access")
        ));
    }
    if !cc::grants_account_read(scopes) {
        warnings.push(format!(
            "without account_read the account check after authorization is skipped: {}",
            fix("account_read")
        ));
    }
    warnings
}

/// Warns about scopes given without the picker (which warned already).
fn warn_about_scopes(ctx: &mut Context, args: &InitArgs, scopes: &[String]) {
    let picked = args.scopes.is_none() && ctx.prompter.is_interactive() && !args.yes;
    if picked {
        return;
    }
    for warning in lacking_scope_warnings(scopes, ScopeSource::Flag) {
        if args.skip_authorize && warning.contains("offline_access") {
            continue;
        }
        ctx.io.warn(warning);
    }
}

/// Splits a comma-separated action list, dropping empty items.
fn split_actions<S: AsRef<str>>(items: &[S]) -> Vec<String> {
    items
        .iter()
        .flat_map(|item| item.as_ref().split(','))
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect()
}

/// Action ids have no spaces; a space means a missing comma.
fn validate_actions(text: &str) -> std::result::Result<(), String> {
    match split_actions(&[text])
        .iter()
        .find(|a| a.contains(char::is_whitespace))
    {
        Some(bad) => Err(format!(
            "\"{bad}\" has a space: separate actions with commas"
        )),
        None => Ok(()),
    }
}

fn resolve_actions(
    ctx: &mut Context,
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
) -> Result<Vec<String>> {
    if let Some(list) = &args.actions {
        return Ok(split_actions(list));
    }
    let current = existing
        .map(|e| e.stackone_actions.clone())
        .unwrap_or_default();
    if !ctx.prompter.is_interactive() || args.yes || args.skip_stackone {
        return Ok(current);
    }
    let current = current.join(",");
    let text = ctx.prompter.input(
        "StackOne actions to enable (optional, comma-separated; Enter for none)",
        (!current.is_empty()).then_some(current.as_str()),
        &validate_actions,
    )?;
    Ok(split_actions(&[text]))
}

// ---- Step 3: checks of this machine ----

/// Opens the secret store and proves it works (bounded write/read/delete).
/// Interactively, a keyring that fails is not the end: the user may switch
/// to the file store (with its warning) or quit, before any other work.
async fn check_secret_store(
    ctx: &mut Context,
    existing: Option<&ProfileConfig>,
) -> Result<(ProfileSession, StoreChoice)> {
    let mut store_choice = ctx.store_choice_or(existing.map(|e| e.secret_store));
    if store_choice == StoreChoice::File {
        warn_file_store(ctx);
    }
    let mut session = ctx.session(Some(store_choice))?;
    if let Err(failed) = session.probe().await {
        if store_choice == StoreChoice::File
            || failed.kind() != crate::error::ErrorKind::SecretStore
            || !ctx.prompter.is_interactive()
            || !offer_file_store(ctx, &failed)?
        {
            return Err(failed);
        }
        store_choice = StoreChoice::File;
        ctx.store_choice = Some(StoreChoice::File);
        warn_file_store(ctx);
        session = ctx.session(Some(store_choice))?;
        session.probe().await?;
    }
    ctx.io.success(format!(
        "The secret store works: {}.",
        session.store().describe()
    ));
    Ok((session, store_choice))
}

fn warn_file_store(ctx: &mut Context) {
    ctx.io.warn(format!(
        "--store file: secrets go to a 0600 file under {} instead of the OS keyring",
        ctx.config_dir.display()
    ));
}

/// Says why the keyring failed and asks whether to use the file store
/// instead; the harmless answer (quit) is the default.
fn offer_file_store(ctx: &mut Context, failed: &Error) -> Result<bool> {
    ctx.io.warn(format!(
        "the OS keyring does not work here: {}",
        failed.message()
    ));
    ctx.io.info(format!(
        "Nothing has been entered yet. ccsetup can keep the secrets in a file readable only by you \
         (mode 0600, under {}) instead: anyone who can read your files as you can read them.",
        ctx.config_dir.display()
    ));
    let items = [
        "Use the file store instead".to_string(),
        "Quit (fix the keyring first; nothing was written)".to_string(),
    ];
    Ok(ctx
        .prompter
        .select("How do you want to go on?", &items, 1)?
        == 0)
}

/// Binds the redirect listener now (a taken port is exit 2 before consent),
/// or, for a redirect URI no listener serves, checks someone can paste.
fn check_redirect(
    ctx: &mut Context,
    args: &InitArgs,
    target: &RedirectTarget,
) -> Result<Option<Redirect>> {
    if args.skip_authorize {
        return Ok(None);
    }
    let redirect = prepare_redirect(target, ctx.prompter.is_interactive())?;
    match target {
        RedirectTarget::Loopback { port, .. } => ctx
            .io
            .success(format!("Port {port} is free for the redirect listener.")),
        RedirectTarget::PasteOnly { uri } => ctx.io.info(format!(
            "The redirect URI {uri} is not served by ccsetup: after consent you will paste the address the browser is sent to."
        )),
    }
    Ok(Some(redirect))
}

/// `--redirect-uri` (or the saved one) and the port it implies. Giving it
/// with a different `--redirect-port` is exit 2; a new `--redirect-port`
/// alone means the default URI on that port.
fn resolve_redirect(
    args: &InitArgs,
    existing: Option<&ProfileConfig>,
) -> Result<(RedirectTarget, u16)> {
    let target = match (&args.redirect_uri, args.redirect_port, existing) {
        (Some(uri), _, _) if !uri.trim().is_empty() => RedirectTarget::parse(uri)?,
        (_, Some(port), _) => RedirectTarget::local(port),
        (_, None, Some(e)) => redirect_target_of(e)?,
        (_, None, None) => RedirectTarget::local(DEFAULT_REDIRECT_PORT),
    };
    let uri_port = url::Url::parse(target.uri())
        .ok()
        .and_then(|u| u.port_or_known_default());
    if let (Some(given), Some(uri_port)) = (args.redirect_port, uri_port)
        && args.redirect_uri.is_some()
        && given != uri_port
    {
        return Err(Error::usage(format!(
            "--redirect-port {given} conflicts with --redirect-uri {}, whose port is {uri_port}",
            target.uri()
        ))
        .with_hint("give only --redirect-uri (CCSETUP_REDIRECT_URI), or a port that matches it"));
    }
    let port = target
        .port()
        .or(args.redirect_port)
        .or(existing.map(|e| e.redirect_port))
        .unwrap_or(DEFAULT_REDIRECT_PORT);
    Ok((target, port))
}

/// the contract's registration check, before the browser (the workflow's rule).
async fn check_registration(
    ctx: &mut Context,
    inputs: &InitInputs,
    args: &InitArgs,
    first: Option<RegistrationReport>,
) -> Result<Option<RegistrationReport>> {
    let (mut term, remote, _) = ctx.parts()?;
    let needs = RegistrationNeeds {
        local: !args.skip_authorize,
        stackone: !args.skip_stackone,
        ask_again: !args.yes,
    };
    check_app_registration(
        &mut term,
        remote,
        &inputs.client_id,
        inputs.redirect.uri(),
        &inputs.scopes,
        needs,
        first,
    )
    .await
    .map(Some)
}

/// SPEC `init` step 4: redeems the new refresh token once, under the lock
/// and rotation-safe (the rotated one is stored first, as `token` does), and
/// tells rotating tokens from long-lived ones. `auth` then carries the
/// tokens that are alive.
async fn check_refresh_token_type(
    ctx: &mut Context,
    session: &ProfileSession,
    inputs: &InitInputs,
    auth: &mut AuthOutcome,
) -> Result<Option<tokens::RefreshTokenType>> {
    let (term, remote, _) = ctx.parts()?;
    let kind = tokens::check_refresh_token_type(
        session,
        remote,
        term.io,
        &inputs.client_id,
        &inputs.client_secret,
        &mut auth.tokens,
    )
    .await?;
    match kind {
        Some(tokens::RefreshTokenType::Rotating) => term
            .io
            .success("The refresh path works, and refresh tokens rotate."),
        Some(tokens::RefreshTokenType::LongLived) => term.io.warn(
            "the app issues long-lived refresh tokens (the same token came back): the seed guide asks for \
             \"Refresh token type: Rotating Refresh Tokens\"; the portal fixes it when the app is created, \
             so create a new application with that setting for StackOne",
        ),
        None => {}
    }
    Ok(kind)
}

// ---- Step 4 ----

async fn authorize(
    ctx: &mut Context,
    inputs: &mut InitInputs,
    timeout_secs: u64,
    listener: Option<Redirect>,
) -> Result<Option<AuthOutcome>> {
    let Some(mut listener) = listener else {
        ctx.io.warn(
            "--skip-authorize: the credentials are not checked and no refresh token is stored",
        );
        return Ok(None);
    };
    loop {
        let request = AuthorizeRequest {
            client_id: inputs.client_id.clone(),
            client_secret: inputs.client_secret.clone(),
            scopes: inputs.scopes.clone(),
            redirect_port: inputs.redirect_port,
            timeout_secs,
        };
        let (term, remote, _) = ctx.parts()?;
        let failed = match authorize_and_check(term, remote, request, listener).await {
            Ok(outcome) => return Ok(Some(outcome)),
            Err(e) => e,
        };
        // Like `gh auth login`: a fixable failure is a question, not the
        // end of the run; everything entered so far is kept.
        let Some(failure) = AuthorizeFailure::of(&failed) else {
            return Err(failed);
        };
        if !ctx.prompter.is_interactive() {
            return Err(failed);
        }
        match retry_menu(ctx, &failed, failure)? {
            Retry::Secret => {
                inputs.client_secret = ask_secret_again(ctx, &SecretInput::CLIENT_SECRET)?;
            }
            Retry::Consent => {}
            Retry::Quit => return Err(failed),
        }
        // A fresh listener (or paste) for the next attempt.
        listener = prepare_redirect(&inputs.redirect, ctx.prompter.is_interactive())?;
    }
}

/// What to do after a fixable step-4 failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Retry {
    Secret,
    Consent,
    Quit,
}

/// Says what went wrong and how to fix it, then asks what to do; the
/// default is the fix that matches the failure.
fn retry_menu(ctx: &mut Context, failed: &Error, failure: AuthorizeFailure) -> Result<Retry> {
    ctx.io.warn(failed.message());
    let advice = match failure {
        AuthorizeFailure::WrongClient => {
            "The Client Secret is most likely wrong. In the portal, click Generate Client Secret on the \
             application (it is shown once) and enter the new one."
        }
        AuthorizeFailure::Denied => {
            "The consent page was answered with Deny. To go on, open it again and choose Approve."
        }
        AuthorizeFailure::TimedOut => {
            "No answer reached ccsetup in time. Open the URL again, sign in and choose Approve; the \
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

/// A hidden prompt for `input`, whatever the flags or environment gave.
fn ask_secret_again(ctx: &mut Context, input: &SecretInput) -> Result<SecretString> {
    crate::workflow::secrets::prompt_for(&mut ctx.io, ctx.prompter.as_mut(), input, &no_check)?
        .ok_or_else(|| {
            missing_input(
                ctx.prompter.as_ref(),
                input.what,
                input.stdin_flag,
                Some(input.env),
            )
        })
}

// ---- Step 5 ----

/// Stores the secrets, then returns the settings that name them (saved by
/// the caller: state never points at secrets that are not there).
async fn store_everything(
    ctx: &mut Context,
    session: &ProfileSession,
    inputs: &InitInputs,
    authorization: Option<&AuthOutcome>,
    existing: Option<&ProfileConfig>,
    store_choice: StoreChoice,
    skip_stackone: bool,
) -> Result<ProfileConfig> {
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
    ctx.io.success(format!(
        "{stored} stored in the {}.",
        session.store().describe()
    ));
    Ok(new_profile_config(
        inputs,
        authorization,
        existing,
        store_choice,
        skip_stackone,
    ))
}

fn new_profile_config(
    inputs: &InitInputs,
    authorization: Option<&AuthOutcome>,
    existing: Option<&ProfileConfig>,
    store_choice: StoreChoice,
    skip_stackone: bool,
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
        stackone_connector_profile_id: existing
            .and_then(|e| e.stackone_connector_profile_id.clone()),
        stackone_profile_name: (!skip_stackone).then(|| inputs.stackone_profile_name.clone()),
        stackone_actions: inputs.actions.clone(),
        account_name: account.and_then(|a| a.organization_name.clone()),
        account_email: account.and_then(|a| a.contact_email.clone()),
        created_at: existing
            .map(|e| e.created_at.clone())
            .unwrap_or_else(|| now.clone()),
        updated_at: now.clone(),
        authorized_at: authorization.map(|_| now.clone()),
        client_secret_rotated_at: existing.and_then(|e| e.client_secret_rotated_at.clone()),
        stackone: crate::workflow::stackone::carried_record(existing),
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

// ---- Step 6 ----

async fn create_stackone_profile(
    ctx: &mut Context,
    session: &ProfileSession,
    inputs: &InitInputs,
    profile_config: &ProfileConfig,
    secret_changed: bool,
) -> Result<ProfileOutcome> {
    let key = inputs.stackone_api_key.clone().ok_or_else(|| {
        missing_input(
            ctx.prompter.as_ref(),
            "StackOne API key",
            "--stackone-api-key-stdin",
            Some("STACKONE_API_KEY"),
        )
    })?;
    let (term, remote, _) = ctx.parts()?;
    let outcome = crate::workflow::stackone::ensure_profile(
        term,
        remote,
        &key,
        DesiredProfile {
            name: inputs.stackone_profile_name.clone(),
            client_id: inputs.client_id.clone(),
            client_secret: inputs.client_secret.clone(),
            scopes: inputs.scopes.clone(),
            actions: inputs.actions.clone(),
            secret_changed,
        },
        inputs.stackone_mode,
        profile_config,
        inputs.stackone_profile_id.as_deref(),
        session,
    )
    .await?;
    let lock = session.lock().await?;
    session.set(SecretKind::StackOneApiKey, &key).await?;
    // StackOne holds this secret now: no rotation is left unfinished.
    session.delete(SecretKind::PreviousClientSecret).await?;
    drop(lock);
    ctx.io.success(render::stackone_outcome_line(&outcome));
    Ok(outcome)
}

// ---- Step 7 ----

/// What `init` leaves behind, for the summary and `--json`.
struct InitResult<'a> {
    profile: &'a ProfileConfig,
    authorization: Option<&'a AuthOutcome>,
    stackone: Option<&'a ProfileOutcome>,
    store_choice: StoreChoice,
    store_description: String,
    registration: Option<&'a RegistrationReport>,
    refresh_token_type: Option<tokens::RefreshTokenType>,
}

impl InitResult<'_> {
    /// docs/contract.md's `--json` result of `init` (never a secret).
    fn to_json(&self, profile_name: &str) -> serde_json::Value {
        let account = render::account_json(self.authorization.and_then(|a| a.account.as_ref()));
        let stackone = render::stackone_json(self.stackone);
        let mut result = json!({
            "profile": profile_name,
            "client_id": self.profile.client_id,
            "app_name": self.profile.app_name,
            "scopes": self.profile.scopes,
            "authorized": self.authorization.is_some(),
            "account": account,
            "secret_store": self.store_choice.as_str(),
            "stackone": stackone,
        });
        if let Some(report) = self.registration {
            result["registration"] = report.to_json();
        }
        if let Some(kind) = self.refresh_token_type {
            result["refresh_token_type"] = json!(kind.as_str());
        }
        result
    }

    fn account_line(&self) -> String {
        match (&self.profile.account_name, &self.profile.account_email) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (Some(n), None) => n.clone(),
            (None, Some(e)) => e.clone(),
            (None, None) if self.authorization.is_some() => {
                "not checked (no account_read scope)".into()
            }
            (None, None) => "not authorized (--skip-authorize)".into(),
        }
    }

    fn secrets_line(&self) -> String {
        let mut kinds = vec!["Client Secret"];
        if let Some(auth) = self.authorization {
            if auth.tokens.refresh_token.is_some() {
                kinds.push("refresh token");
            }
            kinds.push("access token");
        }
        if self.stackone.is_some() {
            kinds.push("StackOne API key");
        }
        format!("{} in the {}", kinds.join(", "), self.store_description)
    }

    fn stackone_line(&self) -> String {
        match self.stackone {
            Some(o) => format!("\"{}\" (id {}, {})", o.name, o.id, o.action.as_str()),
            None => "skipped (--skip-stackone)".into(),
        }
    }
}

/// What is where, and the next step.
fn print_summary(ctx: &mut Context, result: &InitResult<'_>) {
    let lines = [
        format!(
            "Constant Contact app   \"{}\" (API Key {})",
            result.profile.app_name, result.profile.client_id
        ),
        format!("Authorized account     {}", result.account_line()),
        format!("Secrets                {}", result.secrets_line()),
        format!(
            "Settings               {} (profile \"{}\")",
            config::config_path(&ctx.config_dir).display(),
            ctx.profile
        ),
        format!("StackOne profile       {}", result.stackone_line()),
    ];
    ctx.io.println(lines.join("\n"));
    if let Some(o) = result.stackone
        && !written_by_ccsetup(o)
    {
        ctx.io.warn(format!(
            "StackOne's API cannot show a Connector Profile's credentials: ccsetup verified that \
             \"{}\" exists, not that its API Key and Client Secret are right. Only linking an \
             account proves them.",
            o.name
        ));
    }
    let next = if result.stackone.is_some() {
        "Next: link a customer's Constant Contact account through StackOne:\n  \
         ccsetup link --origin-owner-id <customer id> --origin-owner-name \"<customer name>\""
    } else {
        "Next: run `ccsetup init` again without --skip-stackone to create the StackOne profile, \
         then `ccsetup link` to link a customer's account."
    };
    ctx.io.info(format!(
        "\n{next}\nAny time: `ccsetup status` checks every part; `ccsetup token` prints an access token."
    ));
}

// ---- --dry-run ----

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
        "redirect_uri": inputs.redirect.uri(),
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
        return ctx.io.print_json(&plan);
    }
    let authorize_note = if args.skip_authorize {
        " (skipped: --skip-authorize)"
    } else {
        ""
    };
    let mut stored = vec!["the Client Secret [redacted]"];
    if !args.skip_authorize {
        stored.extend(["the refresh token", "the access token"]);
    }
    if inputs.stackone_api_key.is_some() {
        stored.push("the StackOne API key [redacted]");
    }
    ctx.io.println(format!(
        "Dry run — nothing was changed. ccsetup init would:\n\
         - authorize API Key {} with scopes {} through {}{authorize_note}\n\
         - store in the {}: {}\n\
         - write profile \"{}\" to {}\n\
         - StackOne: {action} the Connector Profile \"{}\"",
        inputs.client_id,
        inputs.scopes.join(" "),
        inputs.redirect.uri(),
        store_name(store_choice),
        stored.join(", "),
        ctx.profile,
        config::config_path(&ctx.config_dir).display(),
        inputs.stackone_profile_name,
    ));
    Ok(())
}

// ---- Re-run menu: re-create the StackOne profile ----

async fn recreate_stackone_profile(
    ctx: &mut Context,
    session: &ProfileSession,
    existing: &ProfileConfig,
    args: &InitArgs,
) -> Result<()> {
    let client_secret = session.client_secret().await?;
    let (mut term, remote, sources) = ctx.parts()?;
    let outcome = rotation::recreate_stackone_profile(
        &mut term,
        remote,
        sources,
        session,
        existing,
        client_secret,
        args.stackone.stackone_api_key_stdin,
        args.stackone.stackone_mode,
    )
    .await?;
    if term.io.json {
        term.io.print_json(&json!({
            "profile": session.profile(),
            "stackone": render::stackone_json(Some(&outcome)),
        }))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_split_on_commas_and_drop_blanks() {
        assert_eq!(
            split_actions(&[" a , ,b", "c"]),
            vec!["a".to_string(), "b".into(), "c".into()]
        );
        assert!(split_actions::<&str>(&[""]).is_empty());
    }

    #[test]
    fn an_action_with_a_space_is_refused_with_the_reason() {
        assert!(validate_actions("").is_ok());
        assert!(validate_actions("list_contacts, get_contact").is_ok());
        let why = validate_actions("list_contacts get_contact").unwrap_err();
        assert!(why.contains("commas"), "{why}");
    }

    #[test]
    fn rerun_menu_starts_with_rotation_and_ends_with_quit() {
        assert_eq!(RERUN_CHOICES[0].0, RerunChoice::RotateSecret);
        assert_eq!(RERUN_CHOICES[4].0, RerunChoice::Quit);
    }
}
