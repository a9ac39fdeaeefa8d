//! The wizard's side of the StackOne dashboard path: open the Connector
//! Profiles page, show the form's values, put the client secret on the
//! clipboard (shown only when the user explicitly asks), then wait while
//! ccsetup polls the list endpoint: Enter checks at once, a pasted id names
//! the profile, and a new profile is announced as soon as it shows.

use secrecy::{ExposeSecret, SecretString};

use super::Terminal;
use crate::browser::Browser;
use crate::error::Result;
use crate::stackone::dashboard::SECRET_NOT_SHOWN;
use crate::stackone::{
    DashboardGuide, DashboardSteps, DashboardTask, ENTER_OR_PASTE, Entered, LineSource, UserWait,
    entered,
};
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

    fn wait_for_user(&mut self, steps: &DashboardSteps) -> Result<UserWait> {
        if steps.task != DashboardTask::Create {
            // An edit or a removal does not show in the list: the user says.
            while !self
                .prompter
                .confirm(&format!("Done? ({})", steps.title()), false)?
            {
                self.io.info("Take your time; the steps are above.");
            }
            self.spinner = Some(self.io.spinner("Looking for the profile in StackOne"));
            return Ok(UserWait::Done);
        }
        if cfg!(unix) {
            // Looked for from now on; Enter checks at once, and the id from
            // "Copy connector ID" (or the page's URL) names it directly.
            // Read without a pending read, so nothing typed is kept from the
            // next question (src/oauth/paste.rs).
            self.io.always(format!(
                "Done? ({}) ccsetup is looking for the new profile in StackOne every few seconds; \
                 press Enter to check now, or paste the new profile's connector ID or page URL:",
                steps.title()
            ));
            return Ok(UserWait::Polling(Box::new(StdinLines(
                crate::oauth::PasteSource::stdin(),
            ))));
        }
        // Elsewhere a terminal read cannot be abandoned: ask, then look.
        let answer = self.prompter.input(
            &format!(
                "Done? ({}) Press Enter, or paste the new profile's connector ID or page URL",
                steps.title()
            ),
            Some(""),
            &|text: &str| match entered(text) {
                Entered::Other => Err(ENTER_OR_PASTE.into()),
                _ => Ok(()),
            },
        )?;
        self.spinner = Some(self.io.spinner("Looking for the profile in StackOne"));
        Ok(match entered(&answer) {
            Entered::Id(id) => UserWait::Pasted(id),
            _ => UserWait::Done,
        })
    }

    fn on_appeared(&mut self, new: &[crate::stackone::ConnectorProfile]) {
        let text = match new {
            [one] => crate::render::remote_text(&format!(
                "Found the new profile in StackOne: \"{}\" (id {}). Press Enter to continue.",
                one.name, one.id
            )),
            several => format!(
                "{} new Constant Contact profiles appeared in StackOne. Press Enter to choose this \
                 setup's.",
                several.len()
            ),
        };
        self.io.always(text);
    }

    fn on_wait_over(&mut self) {
        crate::ui::discard_typeahead();
        self.spinner = Some(self.io.spinner("Reading the profile from StackOne"));
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

/// The terminal's lines, read only when one is there.
struct StdinLines(crate::oauth::PasteSource);

impl LineSource for StdinLines {
    fn next_line(
        &mut self,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<String>> + Send + '_>> {
        Box::pin(self.0.next_line())
    }
}
