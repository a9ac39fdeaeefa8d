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

    fn wait_for_user(&mut self, steps: &DashboardSteps) -> Result<Option<String>> {
        let mut pasted = None;
        if steps.task == DashboardTask::Create {
            // Enter (or y) when done; or the id from "Copy connector ID", or
            // the profile page's URL, which adopts that profile directly.
            let answer = self.prompter.input(
                &format!(
                    "Done? ({}) Press Enter, or paste the new profile's connector ID or page URL",
                    steps.title()
                ),
                Some(""),
                &|text: &str| {
                    let t = text.trim();
                    if t.is_empty()
                        || t.eq_ignore_ascii_case("y")
                        || t.eq_ignore_ascii_case("yes")
                        || crate::stackone::profile_id_in(t).is_some()
                    {
                        Ok(())
                    } else {
                        Err(
                            "paste the connector ID (or the profile page's URL), or press Enter"
                                .into(),
                        )
                    }
                },
            )?;
            let t = answer.trim();
            if !(t.is_empty() || t.eq_ignore_ascii_case("y") || t.eq_ignore_ascii_case("yes")) {
                pasted = crate::stackone::profile_id_in(t);
            }
        } else {
            while !self
                .prompter
                .confirm(&format!("Done? ({})", steps.title()), false)?
            {
                self.io.info("Take your time; the steps are above.");
            }
        }
        self.spinner = Some(self.io.spinner("Looking for the profile in StackOne"));
        Ok(pasted)
    }

    fn choose(
        &mut self,
        candidates: &[crate::stackone::ConnectorProfile],
    ) -> Result<Option<usize>> {
        if let Some(s) = self.spinner.take() {
            drop(s);
        }
        let items: Vec<String> = candidates
            .iter()
            .map(|p| {
                crate::render::remote_text(&format!(
                    "\"{}\" (id {}{})",
                    p.name,
                    p.id,
                    p.created_at
                        .as_deref()
                        .map(|c| format!(", created {c}"))
                        .unwrap_or_default()
                ))
            })
            .collect();
        let i = self.prompter.select(
            "Several new Constant Contact profiles appeared in StackOne. Which one is this setup's?",
            &items,
            0,
        )?;
        Ok(Some(i))
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
