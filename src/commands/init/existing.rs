//! Step 1: an existing setup, and the re-run menu (docs/contract.md `init`
//! step 1).

use serde_json::json;

use super::Wizard;
use crate::config::ProfileConfig;
use crate::error::Result;
use crate::render;
use crate::store::StoreChoice;
use crate::workflow::ProfileSession;
use crate::workflow::rotation::{self, RotationOptions};

/// What the re-run menu offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RerunChoice {
    RotateSecret,
    Reauthorize,
    RecreateStackOne,
    StartOver,
    Quit,
}

/// The menu's entries, in order; the default is the harmless last one, Quit.
pub(super) const RERUN_CHOICES: [(RerunChoice, &str); 5] = [
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

impl Wizard<'_> {
    /// Says what is set up and, when the run confirms, offers the re-run
    /// menu. Returns whether the full `init` should run (scripted re-runs,
    /// `--yes`, `--dry-run` and "Start over" do; the other entries finish here).
    pub(super) async fn look_for_existing_setup(&mut self) -> Result<bool> {
        let ctx = &mut *self.ctx;
        let Some(existing) = &self.plan.saved else {
            ctx.io
                .info(format!("No setup yet for profile \"{}\".", ctx.profile));
            return Ok(true);
        };
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
        if !self.plan.confirms() {
            ctx.io.info(
                "Running the whole setup again with the given inputs (the same inputs give the same end state).",
            );
            return Ok(true);
        }
        let choice = self.rerun_menu()?;
        self.act_on(choice).await
    }

    fn rerun_menu(&mut self) -> Result<RerunChoice> {
        let items: Vec<String> = RERUN_CHOICES
            .iter()
            .map(|(_, label)| label.to_string())
            .collect();
        let quit = RERUN_CHOICES
            .iter()
            .position(|(choice, _)| *choice == RerunChoice::Quit)
            .unwrap_or(0);
        let idx = self.ctx.prompter.select(
            "What do you want to do? (arrows move, Enter picks)",
            &items,
            quit,
        )?;
        Ok(RERUN_CHOICES[idx].0)
    }

    /// Does what the menu entry says; true for "Start over".
    async fn act_on(&mut self, choice: RerunChoice) -> Result<bool> {
        let (ctx, plan) = (&mut *self.ctx, &self.plan);
        let existing = plan.saved.as_ref().expect("the menu is for a saved setup");
        let session = ctx.session(Some(existing.secret_store))?;
        match choice {
            RerunChoice::RotateSecret => {
                let options = RotationOptions {
                    secret_from_stdin: false,
                    stackone_key_from_stdin: plan.stackone_key_stdin,
                    stackone_mode: plan.stackone_mode,
                    skip_stackone: false,
                    auth_timeout_secs: plan.auth_timeout_secs,
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
                let report = rotation::reauthorize(
                    &mut term,
                    remote,
                    &session,
                    existing,
                    plan.auth_timeout_secs,
                )
                .await?;
                render::print_rotation_report(term.io, session.profile(), report)?;
            }
            RerunChoice::RecreateStackOne => self.recreate_stackone_profile(&session).await?,
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

    async fn recreate_stackone_profile(&mut self, session: &ProfileSession) -> Result<()> {
        let existing: &ProfileConfig = self.plan.saved.as_ref().expect("a saved setup");
        let client_secret = session.client_secret().await?;
        let (mut term, remote, sources) = self.ctx.parts()?;
        let outcome = rotation::recreate_stackone_profile(
            &mut term,
            remote,
            sources,
            session,
            existing,
            client_secret,
            self.plan.stackone_key_stdin,
            self.plan.stackone_mode,
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
}

/// How a secret store is called in sentences.
pub(super) fn store_name(choice: StoreChoice) -> &'static str {
    match choice {
        StoreChoice::Keyring => "OS keyring",
        StoreChoice::File => "file store",
    }
}
