//! The wizard's side of the StackOne dashboard path: open the Connector
//! Profiles page, show the form's values, put the client secret on the
//! clipboard (shown only when the user explicitly asks), wait for "done",
//! then show a spinner while ccsetup polls the list endpoint.

use secrecy::{ExposeSecret, SecretString};

use super::Terminal;
use crate::browser::Browser;
use crate::error::Result;
use crate::stackone::dashboard::SECRET_NOT_SHOWN;
use crate::stackone::{DashboardGuide, DashboardSteps, DashboardTask};
use crate::ui::{IoStreams, Prompter, Spinner};

pub struct WizardDashboardGuide<'a> {
    pub io: &'a mut IoStreams,
    pub prompter: &'a mut dyn Prompter,
    pub browser: &'a dyn Browser,
    pub spinner: Option<Spinner>,
}

impl DashboardGuide for WizardDashboardGuide<'_> {
    fn show_steps(&mut self, steps: &DashboardSteps, client_secret: &SecretString) -> Result<()> {
        self.io.info(
            "StackOne's API does not create or update Connector Profiles here, so this step is done in its \
             dashboard; ccsetup then checks the result through the API.",
        );
        let needs_secret = match &steps.task {
            DashboardTask::Create => true,
            DashboardTask::Edit { fields, .. } => {
                fields.contains(&crate::stackone::ProfileField::ClientSecret)
            }
            DashboardTask::Delete { .. } => false,
        };
        let mut note = SECRET_NOT_SHOWN.to_string();
        if needs_secret && crate::clipboard::available() {
            match crate::clipboard::copy(client_secret.expose_secret()) {
                Ok(_) => note = "paste it from your clipboard (ccsetup copied it there)".into(),
                Err(why) => self
                    .io
                    .warn(format!("could not copy the secret to the clipboard: {why}")),
            }
        }
        self.io.info(steps.render(&note));
        Terminal {
            io: self.io,
            prompter: self.prompter,
            browser: self.browser,
        }
        .open_in_browser(steps.dashboard_url.as_str());
        if needs_secret
            && !note.contains("clipboard")
            && self.prompter.confirm(
                "Show the Client Secret on screen so you can copy it?",
                false,
            )?
        {
            // Explicitly requested: the only place a secret is ever shown.
            self.io
                .info(format!("Client Secret: {}", client_secret.expose_secret()));
        }
        Ok(())
    }

    fn wait_for_user(&mut self, steps: &DashboardSteps) -> Result<()> {
        while !self
            .prompter
            .confirm(&format!("Done? ({})", steps.title()), false)?
        {
            self.io.info("Take your time; the steps are above.");
        }
        self.spinner = Some(self.io.spinner("Looking for the profile in StackOne"));
        Ok(())
    }

    fn on_note(&mut self, note: &str) {
        self.io.warn(note);
    }

    fn on_poll(&mut self, attempt: u32, max_attempts: u32) {
        if let Some(s) = &self.spinner {
            s.set_message(format!(
                "Looking for the profile in StackOne (check {attempt} of {max_attempts})"
            ));
        }
    }
}
