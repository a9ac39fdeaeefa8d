//! Step 3's checks of this machine and of the application, all before the
//! browser opens: a failure found after consent would waste it.

use crate::constant_contact::probe::RegistrationReport;
use crate::error::{Error, ErrorKind, Result};
use crate::oauth::{Redirect, RedirectTarget};
use crate::store::StoreChoice;
use crate::workflow::authorize::{
    ApiKeyUnderTest, RegistrationNeeds, check_app_registration, prepare_redirect,
};
use crate::workflow::setup::SetupInputs;
use crate::workflow::{ProfileSession, preflight, rotation};

use super::Wizard;
use super::inputs::Application;

/// A secret store that was proven to work, and which one it is.
pub(super) type CheckedStore = (ProfileSession, StoreChoice);

/// What steps 4 to 7 start from.
pub(super) struct Ready {
    pub inputs: SetupInputs,
    pub session: ProfileSession,
    pub store_choice: StoreChoice,
    pub listener: Option<Redirect>,
    pub registration: Option<RegistrationReport>,
}

impl Wizard<'_> {
    /// Step 2, with what it needs first: the redirect URI and, when someone
    /// is at the terminal, the secret store (the others resolve their inputs
    /// first, so a missing one is exit 2).
    pub(super) async fn create_application(&mut self) -> Result<Application> {
        let (redirect, redirect_port) = self.plan.redirect()?;
        let store = match self.plan.in_terminal() {
            true => Some(self.check_secret_store().await?),
            false => None,
        };
        self.walk_or_check_application(redirect, redirect_port, store)
    }

    /// Step 3: the inputs, then every check before the browser. `None`
    /// after a dry run, which printed its plan.
    pub(super) async fn enter_inputs_and_check(
        &mut self,
        application: Application,
    ) -> Result<Option<Ready>> {
        let (mut inputs, store) = self.enter_inputs(application)?;
        self.say_who_shares_the_app(&inputs.client_id);
        self.warn_about_scopes(&inputs.scopes);
        let (session, store_choice) = match store {
            Some(checked) => checked,
            None => self.check_secret_store().await?,
        };
        let listener = self.check_redirect(&inputs.redirect)?;
        let first_registration = self.check_first_answers(&mut inputs).await?;
        if self.plan.is_dry_run() {
            drop(listener);
            self.print_dry_run(&inputs, store_choice)?;
            return Ok(None);
        }
        let registration = self
            .check_registration(&mut inputs, first_registration)
            .await?;
        let (mut term, remote, sources) = self.ctx.parts()?;
        let app = preflight::AppUnderTest {
            client_id: &inputs.client_id,
            redirect_uri: inputs.redirect.uri(),
            scopes: &inputs.scopes,
        };
        let from_stdin = self.plan.client_secret_stdin;
        preflight::check_client_secret(
            &mut term,
            remote,
            sources,
            app,
            &mut inputs.client_secret,
            from_stdin,
            crate::hints::Command::Init,
        )
        .await?;
        Ok(Some(Ready {
            inputs,
            session,
            store_choice,
            listener,
            registration,
        }))
    }

    fn say_who_shares_the_app(&mut self, client_id: &str) {
        let ctx = &mut *self.ctx;
        let sharing =
            rotation::other_profiles_with_client_id(&ctx.config_dir, &ctx.profile, client_id);
        if sharing.is_empty() {
            return;
        }
        ctx.io.info(format!(
            "API Key {} is also used by profile {}: one Constant Contact app, so one Client Secret \
             for all of them. `ccsetup rotate --client-secret` on any of them updates them all.",
            client_id,
            sharing
                .iter()
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    /// Opens the secret store and proves it works (bounded write/read/delete).
    /// With someone at the terminal, a keyring that fails is not the end: the
    /// user may switch to the file store (with its warning) or quit.
    async fn check_secret_store(&mut self) -> Result<CheckedStore> {
        let mut store_choice = self.ctx.store_choice_or(self.plan.saved_store());
        // Not for the demo's own choice: its banner says where its secrets go.
        if store_choice == StoreChoice::File
            && (self.ctx.store_choice_given || self.ctx.store_choice.is_none())
        {
            self.warn_file_store();
        }
        let mut session = self.ctx.session(Some(store_choice))?;
        if let Err(failed) = session.probe().await {
            if store_choice == StoreChoice::File
                || failed.kind() != ErrorKind::SecretStore
                || !self.plan.in_terminal()
                || !self.offer_file_store(&failed)?
            {
                return Err(failed);
            }
            store_choice = StoreChoice::File;
            self.ctx.store_choice = Some(StoreChoice::File);
            self.warn_file_store();
            session = self.ctx.session(Some(store_choice))?;
            session.probe().await?;
        }
        self.ctx.io.success(format!(
            "The secret store works: {}.",
            session.store().describe()
        ));
        Ok((session, store_choice))
    }

    fn warn_file_store(&mut self) {
        self.ctx.io.warn(format!(
            "--store file: secrets go to a 0600 file under {} instead of the OS keyring",
            self.ctx.config_dir.display()
        ));
    }

    /// Says why the keyring failed and asks whether to use the file store
    /// instead; the harmless answer (quit) is the default.
    fn offer_file_store(&mut self, failed: &Error) -> Result<bool> {
        let ctx = &mut *self.ctx;
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
    fn check_redirect(&mut self, target: &RedirectTarget) -> Result<Option<Redirect>> {
        if self.plan.skip_authorize {
            return Ok(None);
        }
        let redirect = prepare_redirect(target, self.plan.in_terminal())?;
        match target {
            RedirectTarget::Loopback { port, .. } => self
                .ctx
                .io
                .success(format!("Port {port} is free for the redirect listener.")),
            RedirectTarget::PasteOnly { uri } => self.ctx.io.info(format!(
                "The redirect URI {uri} is not served by ccsetup: after consent you will paste the address the browser is sent to."
            )),
        }
        Ok(Some(redirect))
    }

    /// The network checks before the browser are independent: their first
    /// answers are fetched at once; each is then reported (and, when refused,
    /// fixed and checked again) in order. Checks the StackOne key; returns
    /// the registration's first answer.
    async fn check_first_answers(
        &mut self,
        inputs: &mut SetupInputs,
    ) -> Result<Option<RegistrationReport>> {
        let (mut term, remote, sources) = self.ctx.parts()?;
        let first = preflight::first_answers(
            &mut term,
            remote,
            inputs.app_under_test(),
            inputs.stackone_api_key.as_ref(),
            self.plan.is_dry_run(),
        )
        .await;
        inputs.stackone_api_key = preflight::check_stackone_key(
            &mut term,
            remote,
            sources,
            inputs.stackone_api_key.take(),
            self.plan.stackone_key_stdin,
            first.stackone_key,
        )
        .await?;
        Ok(first.registration)
    }

    /// The contract's registration check, before the browser (the workflow's rule).
    async fn check_registration(
        &mut self,
        inputs: &mut SetupInputs,
        first: Option<RegistrationReport>,
    ) -> Result<Option<RegistrationReport>> {
        let needs = RegistrationNeeds {
            local: !self.plan.skip_authorize,
            stackone: !self.plan.skip_stackone,
            ask_again: self.plan.confirms(),
            command: crate::hints::Command::Init,
        };
        // Typed at the prompt (not a flag or CC_CLIENT_ID): it may be typed again.
        let api_key = ApiKeyUnderTest {
            client_id: &mut inputs.client_id,
            typed_here: self.plan.client_id.is_none(),
        };
        let (mut term, remote, _) = self.ctx.parts()?;
        check_app_registration(
            &mut term,
            remote,
            api_key,
            inputs.redirect.uri(),
            &inputs.scopes,
            needs,
            first,
        )
        .await
        .map(Some)
    }
}
