//! `ccsetup init`: the seed guide as a checked, repeatable wizard.
//!
//! Seven steps, each announced as "Step k/7" and each one method of
//! `Wizard`, called in order by [`run`]. Inputs come from flags and
//! environment first, then from the existing setup of this profile, then
//! from prompts (interactive only); [`plan::InitPlan`] decides once which.
//! Everything that can be checked locally — names, scopes, the secret store,
//! the redirect port — is checked before the browser opens: a failure found
//! after consent would waste it.
//!
//! Interactive runs walk the portal screen by screen (step 2) and then ask
//! for what it showed (step 3). Scripted runs resolve and check every input
//! first, so a missing one fails at once (exit 2) instead of after a screen
//! of instructions nobody can act on. What is stored, and StackOne, belong
//! to [`crate::workflow::setup`].

mod authorize;
mod checks;
mod done;
mod existing;
mod inputs;
pub mod plan;
mod scopes;

use crate::cli::InitArgs;
use crate::context::Context;
use crate::error::Result;
use crate::stackone::ProfileOutcome;
use crate::workflow::setup::{self, StoredSetup};
use crate::workflow::setup_notes;

use authorize::Authorized;
use checks::Ready;
use plan::InitPlan;

const STEPS: usize = 7;

/// One run of the wizard: the command's context and the plan resolved from
/// its arguments. The inputs are step 3's result, handed on as `Ready`.
struct Wizard<'c> {
    ctx: &'c mut Context,
    plan: InitPlan,
}

pub async fn run(ctx: &mut Context, args: InitArgs) -> Result<()> {
    let plan = InitPlan::resolve(ctx, args)?;
    let mut wizard = Wizard { ctx, plan };
    wizard.step(1, "Look for an existing setup");
    crate::interrupt::set_rerun_note(setup_notes::BEFORE_STORING);
    if !wizard.look_for_existing_setup().await? {
        return Ok(());
    }
    // Steps 2 and 3 announce themselves: a scripted run resolves every
    // input before step 2 is shown (a missing one is exit 2 at once).
    let application = wizard.create_application().await?;
    let Some(mut ready) = wizard.enter_inputs_and_check(application).await? else {
        return Ok(()); // a dry run ends after step 3's checks
    };
    wizard.step(4, "Authorize with Constant Contact");
    let mut authorized = wizard.authorize(&mut ready).await?;
    wizard.step(5, "Store the secrets");
    let mut stored = wizard.store_secrets(&ready, &mut authorized).await?;
    wizard.step(6, "Create the StackOne Connector Profile");
    let stackone = wizard.create_stackone_profile(&ready, &mut stored).await?;
    wizard.step(7, "Done");
    wizard.finish(&ready, &authorized, &stored, stackone).await
}

impl Wizard<'_> {
    fn step(&mut self, k: usize, title: &str) {
        self.ctx.io.step(k, STEPS, title);
    }

    /// Step 5: the secrets and settings (the workflow's rules).
    async fn store_secrets(
        &mut self,
        ready: &Ready,
        authorized: &mut Authorized,
    ) -> Result<StoredSetup> {
        let stored = setup::store_secrets(
            &mut self.ctx.io,
            &ready.session,
            &ready.inputs,
            authorized.outcome.as_ref(),
            authorized.refresh_token_type,
            self.plan.saved.as_ref(),
            ready.store_choice,
        )
        .await?;
        // The new grant is stored: a signal may end the process again.
        if let Some(auth) = authorized.outcome.as_mut() {
            auth.stored();
        }
        crate::interrupt::set_rerun_note(setup_notes::AFTER_STORING);
        Ok(stored)
    }

    /// Step 6, unless `--skip-stackone`.
    async fn create_stackone_profile(
        &mut self,
        ready: &Ready,
        stored: &mut StoredSetup,
    ) -> Result<Option<ProfileOutcome>> {
        if self.plan.skip_stackone {
            self.ctx
                .io
                .info("--skip-stackone: StackOne is not touched.");
            return Ok(None);
        }
        let (term, remote, _) = self.ctx.parts()?;
        setup::create_stackone_profile(term, remote, &ready.session, &ready.inputs, stored)
            .await
            .map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::existing::{RERUN_CHOICES, RerunChoice};

    #[test]
    fn rerun_menu_starts_with_rotation_and_ends_with_quit() {
        assert_eq!(RERUN_CHOICES[0].0, RerunChoice::RotateSecret);
        assert_eq!(RERUN_CHOICES[4].0, RerunChoice::Quit);
    }
}
