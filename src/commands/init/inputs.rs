//! Steps 2 and 3 up to the checks of this machine: the application in the
//! portal, then every input. Interactive runs guide, then ask; scripted runs
//! resolve everything first (a missing input is exit 2 before any
//! instructions, several named together), then show what is expected.

use crate::constant_contact::portal::{NAME_RULE, PortalSteps, WHERE_THE_CLIENT_ID_IS};
use crate::constant_contact::{self as cc, validate_app_name, validate_client_id};
use crate::error::{Error, Result};
use crate::oauth::RedirectTarget;
use crate::workflow::portal_guide;
use crate::workflow::secrets::{SecretInput, missing_input, no_check};
use crate::workflow::setup::SetupInputs;

use super::Wizard;
use super::checks::CheckedStore;

/// What step 2 leaves for step 3.
pub(super) enum Application {
    /// Walked in the portal: named; the other inputs are asked at step 3.
    Walked {
        app_name: String,
        redirect: RedirectTarget,
        redirect_port: u16,
        /// Checked before any portal work: a failure found after the
        /// show-once Client Secret was pasted would lose it.
        store: CheckedStore,
    },
    /// Scripted: every input resolved before the checklist.
    Resolved(SetupInputs),
}

impl Wizard<'_> {
    /// Interactive step 2: the seed guide's portal steps, one screen at a
    /// time. Scripted: all inputs first, then what the application must have.
    pub(super) fn walk_or_check_application(
        &mut self,
        redirect: RedirectTarget,
        redirect_port: u16,
        store: Option<CheckedStore>,
    ) -> Result<Application> {
        if let Some(store) = store {
            self.step(2, "Create the Constant Contact application");
            let portal = self.ctx.endpoints.cc_portal.to_string();
            let (mut term, _, _) = self.ctx.parts()?;
            portal_guide::open_portal(&mut term, &portal, !self.plan.is_dry_run());
            let app_name = self.app_name()?;
            let steps = PortalSteps {
                portal_url: &portal,
                app_name: &app_name,
                local_redirect_uri: redirect.uri(),
            };
            let (mut term, _, _) = self.ctx.parts()?;
            portal_guide::walk(&mut term, &steps, self.plan.confirms())?;
            return Ok(Application::Walked {
                app_name,
                redirect,
                redirect_port,
                store,
            });
        }
        self.refuse_missing_inputs()?;
        let app_name = self.app_name()?;
        let inputs = self.resolve_inputs(app_name, redirect, redirect_port)?;
        self.step(2, "Create the Constant Contact application");
        let portal = self.ctx.endpoints.cc_portal.to_string();
        let steps = PortalSteps {
            portal_url: &portal,
            app_name: &inputs.app_name,
            local_redirect_uri: inputs.redirect.uri(),
        };
        portal_guide::print_checklist(&mut self.ctx.io, &steps, &inputs.client_id);
        Ok(Application::Resolved(inputs))
    }

    /// Step 3's inputs: asked after the walk, or shown when resolved before.
    pub(super) fn enter_inputs(
        &mut self,
        application: Application,
    ) -> Result<(SetupInputs, Option<CheckedStore>)> {
        self.step(3, "Enter the credentials and check this machine");
        match application {
            Application::Walked {
                app_name,
                redirect,
                redirect_port,
                store,
            } => Ok((
                self.resolve_inputs(app_name, redirect, redirect_port)?,
                Some(store),
            )),
            Application::Resolved(inputs) => {
                self.print_given_inputs(&inputs);
                Ok((inputs, None))
            }
        }
    }

    /// One exit-2 error naming every required input nobody gave (flag and
    /// environment variable each), rather than one per run.
    fn refuse_missing_inputs(&self) -> Result<()> {
        let (ctx, plan) = (&*self.ctx, &self.plan);
        let mut missing: Vec<(&str, &str, &str)> = Vec::new();
        if plan.client_id.is_none() && plan.saved.is_none() {
            missing.push(("API Key (client id)", "--client-id", "CC_CLIENT_ID"));
        }
        for (input, from_stdin, needed) in [
            (&SecretInput::CLIENT_SECRET, plan.client_secret_stdin, true),
            (
                &SecretInput::STACKONE_API_KEY,
                plan.stackone_key_stdin,
                !plan.skip_stackone,
            ),
        ] {
            if needed && !ctx.secrets.is_given(input, from_stdin) {
                missing.push((input.what, input.stdin_flag, input.env));
            }
        }
        let [first, _, ..] = missing.as_slice() else {
            return Ok(()); // none, or one: it keeps its own error below
        };
        let list: Vec<String> = missing
            .iter()
            .map(|(what, flag, env)| format!("  {what}: pass {flag} or set {env}"))
            .collect();
        let single = missing_input(ctx.prompter.as_ref(), first.0, first.1, Some(first.2));
        let err = Error::usage(format!(
            "missing {} inputs:\n{}",
            missing.len(),
            list.join("\n")
        ));
        Err(match single.hint() {
            Some(hint) => err.with_hint(hint.to_string()),
            None => err,
        })
    }

    /// Scripted step 3: what was given (never a secret's value).
    fn print_given_inputs(&mut self, inputs: &SetupInputs) {
        let stackone = if inputs.stackone_api_key.is_none() {
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
        self.ctx.io.success(format!(
            "Inputs complete: API Key {}, Client Secret (hidden), {stackone}.\n  Scopes: {}",
            inputs.client_id,
            inputs.scopes.join(" ")
        ));
    }

    fn app_name(&mut self) -> Result<String> {
        if let Some(name) = &self.plan.app_name {
            validate_app_name(name).map_err(|why| {
                Error::usage(format!(
                    "invalid application name \"{}\": {why}",
                    name.trim()
                ))
                .with_hint("pass another --app-name (or CCSETUP_APP_NAME)")
            })?;
            return Ok(name.trim().to_string());
        }
        let default = self.plan.default_app_name();
        if !self.plan.asks(true) {
            return Ok(default.to_string());
        }
        self.ctx.io.info(NAME_RULE);
        self.ctx
            .prompter
            .input("Application name", Some(default), &validate_app_name)
    }

    /// Every input but the application name, in the order the portal shows them.
    fn resolve_inputs(
        &mut self,
        app_name: String,
        redirect: RedirectTarget,
        redirect_port: u16,
    ) -> Result<SetupInputs> {
        let client_id = self.client_id()?;
        let client_secret =
            self.secret(&SecretInput::CLIENT_SECRET, self.plan.client_secret_stdin)?;
        let scopes = self.scopes()?;
        let stackone_api_key = match self.plan.skip_stackone {
            true => None,
            false => {
                Some(self.secret(&SecretInput::STACKONE_API_KEY, self.plan.stackone_key_stdin)?)
            }
        };
        let actions = self.actions()?;
        let stackone_profile_name = self.plan.stackone_profile_name.clone();
        if stackone_profile_name.trim().is_empty() {
            return Err(Error::usage("the StackOne profile name cannot be empty")
                .with_hint("pass a non-empty --stackone-profile-name"));
        }
        Ok(SetupInputs {
            app_name,
            client_id,
            client_secret,
            stackone_api_key,
            scopes,
            actions,
            stackone_profile_name,
            stackone_mode: self.plan.stackone_mode,
            stackone_profile_id: self.plan.stackone_profile_id.clone(),
            redirect_port,
            redirect,
        })
    }

    fn secret(&mut self, input: &SecretInput, from_stdin: bool) -> Result<secrecy::SecretString> {
        let ctx = &mut *self.ctx;
        ctx.secrets.resolve(
            &mut ctx.io,
            ctx.prompter.as_mut(),
            input,
            from_stdin,
            None,
            &no_check,
        )
    }

    fn client_id(&mut self) -> Result<String> {
        if let Some(id) = &self.plan.client_id {
            validate_client_id(id).map_err(|why| {
                Error::usage(format!("invalid API Key: {why}"))
                    .with_hint("pass --client-id or set CC_CLIENT_ID")
            })?;
            return Ok(id.trim().to_string());
        }
        let saved = self.plan.saved_client_id();
        if self.plan.asks(saved.is_some()) {
            self.ctx.io.info(WHERE_THE_CLIENT_ID_IS);
            return self
                .ctx
                .prompter
                .input("API Key (client id)", saved, &validate_client_id);
        }
        match saved {
            Some(id) => Ok(id.to_string()),
            None => Err(missing_input(
                self.ctx.prompter.as_ref(),
                "API Key (client id)",
                "--client-id",
                Some("CC_CLIENT_ID"),
            )),
        }
    }

    fn scopes(&mut self) -> Result<Vec<String>> {
        if let Some(list) = &self.plan.scopes {
            return cc::parse_scopes(list);
        }
        let current = self.plan.default_scopes();
        if !self.plan.asks(true) {
            return cc::parse_scopes(&current);
        }
        self.pick_scopes(&current)
    }
}
