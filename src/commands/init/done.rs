//! Step 7 (what is where, the `--json` result, the proof of a dashboard
//! profile) and the dry run's plan.

use secrecy::SecretString;
use serde_json::json;

use crate::config::{self, ProfileConfig};
use crate::constant_contact::probe::RegistrationReport;
use crate::error::Result;
use crate::render;
use crate::stackone::{ProfileAction, ProfileOutcome};
use crate::store::StoreChoice;
use crate::workflow::authorize::AuthOutcome;
use crate::workflow::setup::{SetupInputs, StoredSetup};
use crate::workflow::stackone::{offer_link_proof, proof_command, record_verified_link};
use crate::workflow::tokens::RefreshTokenType;

use super::Wizard;
use super::authorize::Authorized;
use super::checks::Ready;
use super::existing::store_name;

/// What `init` leaves behind, for the summary and `--json`.
struct InitResult<'a> {
    profile: &'a ProfileConfig,
    authorization: Option<&'a AuthOutcome>,
    stackone: Option<&'a ProfileOutcome>,
    store_choice: StoreChoice,
    store_description: String,
    registration: Option<&'a RegistrationReport>,
    refresh_token_type: Option<RefreshTokenType>,
}

impl Wizard<'_> {
    /// Step 7: the summary (human text, on stderr under `--json`), the JSON
    /// object, and the offer to prove a profile ccsetup did not write.
    pub(super) async fn finish(
        &mut self,
        ready: &Ready,
        authorized: &Authorized,
        stored: &StoredSetup,
        stackone: Option<ProfileOutcome>,
    ) -> Result<()> {
        let result = InitResult {
            profile: &stored.settings,
            authorization: authorized.outcome.as_ref(),
            stackone: stackone.as_ref(),
            store_choice: ready.store_choice,
            store_description: ready.session.store().describe(),
            registration: ready.registration.as_ref(),
            refresh_token_type: authorized.refresh_token_type,
        };
        self.print_summary(&result);
        if self.ctx.io.json {
            self.ctx.io.print_json(&result.to_json(&self.ctx.profile))?;
        }
        if let (Some(outcome), Some(key)) = (&stackone, &ready.inputs.stackone_api_key)
            && !written_by_ccsetup(outcome)
            && self.offer_proof(outcome, key).await?
        {
            ready
                .session
                .update_config(|p| record_verified_link(p, &outcome.id))?;
        }
        Ok(())
    }

    /// The dashboard path is proven by linking the user's own test account
    /// (the list cannot show credentials): offered at once when someone
    /// confirms; scripts are told how. True when an account was linked.
    async fn offer_proof(&mut self, outcome: &ProfileOutcome, key: &SecretString) -> Result<bool> {
        let ctx = &mut *self.ctx;
        // The proof needs someone at the hub: `--yes` does not start it.
        if !self.plan.confirms() {
            let command = proof_command(&ctx.profile);
            ctx.io.info(format!(
                "\nProve the StackOne profile's credentials by linking your own Constant Contact test user:\n  {command}"
            ));
            return Ok(false);
        }
        let profile = ctx.profile.clone();
        let (mut term, remote, _) = ctx.parts()?;
        offer_link_proof(&mut term, remote, key, &outcome.id, &profile).await
    }

    /// What is where, and the next step.
    fn print_summary(&mut self, result: &InitResult<'_>) {
        let ctx = &mut *self.ctx;
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

    /// `--dry-run`: what `init` would do, changing nothing.
    pub(super) fn print_dry_run(
        &mut self,
        inputs: &SetupInputs,
        store_choice: StoreChoice,
    ) -> Result<()> {
        let action = if self.plan.skip_stackone {
            "skipped"
        } else if self.plan.has_saved_stackone_profile() {
            "create or update"
        } else {
            "create"
        };
        let authorize = !self.plan.skip_authorize;
        let ctx = &mut *self.ctx;
        if ctx.io.json {
            return ctx.io.print_json(&json!({
                "dry_run": true,
                "profile": ctx.profile,
                "client_id": inputs.client_id,
                "client_secret": "[redacted]",
                "app_name": inputs.app_name,
                "scopes": inputs.scopes,
                "redirect_uri": inputs.redirect.uri(),
                "authorize": authorize,
                "secret_store": store_choice.as_str(),
                "config": config::config_path(&ctx.config_dir),
                "stackone": {
                    "name": inputs.stackone_profile_name,
                    "mode": format!("{:?}", inputs.stackone_mode).to_lowercase(),
                    "actions": inputs.actions,
                    "action": action,
                },
            }));
        }
        self.print_dry_run_text(inputs, store_choice, action);
        Ok(())
    }

    fn print_dry_run_text(
        &mut self,
        inputs: &SetupInputs,
        store_choice: StoreChoice,
        action: &str,
    ) {
        let ctx = &mut *self.ctx;
        let authorize = !self.plan.skip_authorize;
        let authorize_note = if authorize {
            ""
        } else {
            " (skipped: --skip-authorize)"
        };
        let mut stored = vec!["the Client Secret [redacted]"];
        if authorize {
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
    }
}

/// Whether ccsetup itself wrote the profile's credentials. Not so on the
/// dashboard path: nothing shows they are right, as StackOne's API never
/// reveals them.
fn written_by_ccsetup(outcome: &ProfileOutcome) -> bool {
    outcome.action != ProfileAction::Dashboard
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
