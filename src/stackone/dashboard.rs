//! The dashboard path: when StackOne's API cannot create or update the
//! profile (docs/vendors.md §4: no public endpoint does), the user fills the
//! dashboard form and ccsetup verifies the result through the list endpoint.
//!
//! [`DashboardSteps`] holds the values to enter, in the order of the seed
//! guide's form; a [`DashboardGuide`] shows them and waits for the user.
//! The wizard implements the guide with a browser, clipboard and prompts;
//! [`PrintedDashboardGuide`] prints the steps and either refuses
//! (non-interactive: exit 4) or goes straight on to polling (tests).

use std::future::Future;
use std::pin::Pin;

use secrecy::SecretString;
use url::Url;

use super::model::ProfileField;
use crate::error::{Error, Result};
use crate::ui::IoStreams;

/// What the user has to do in the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DashboardTask {
    /// "+ Connector Profile" and fill the form.
    Create,
    /// Open an existing profile and change these fields.
    Edit {
        profile_id: String,
        current_name: String,
        fields: Vec<ProfileField>,
    },
    /// Delete a profile (for `reset` where the API refuses).
    Delete { profile_id: String },
}

/// The steps and values for the dashboard. Holds no secret: the client
/// secret is handed to [`DashboardGuide::show_steps`] separately, so an
/// implementation decides explicitly how (and whether) to reveal it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardSteps {
    pub task: DashboardTask,
    /// The dashboard's Connector Profiles page.
    pub dashboard_url: Url,
    pub connector_label: String,
    /// The profile's name where known (an edit or delete); a create cannot
    /// choose it (the form has no Name field).
    pub name: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub actions: Vec<String>,
}

/// How the printed steps refer to the secret when it is not shown.
pub const SECRET_NOT_SHOWN: &str =
    "the Client Secret of your Constant Contact application (not shown here)";

impl DashboardSteps {
    /// A one-line summary, e.g. for a prompt or an error.
    pub fn title(&self) -> String {
        match &self.task {
            DashboardTask::Create => format!(
                "Create a {} connector profile in the StackOne dashboard",
                self.connector_label
            ),
            DashboardTask::Edit { current_name, .. } => format!(
                "Update the {} connector profile \"{current_name}\" in the StackOne dashboard",
                self.connector_label
            ),
            DashboardTask::Delete { .. } => format!(
                "Delete the {} connector profile \"{}\" in the StackOne dashboard",
                self.connector_label, self.name
            ),
        }
    }

    /// The steps, one per line, without numbers. `secret_note` is what the
    /// Client Secret line says (e.g. [`SECRET_NOT_SHOWN`], or "copied to
    /// your clipboard").
    pub fn lines(&self, secret_note: &str) -> Vec<String> {
        let mut out = vec![format!(
            "Open {} (StackOne → Connector Profiles) and sign in.",
            self.dashboard_url
        )];
        let scopes = if self.scopes.is_empty() {
            "leave empty".to_string()
        } else {
            self.scopes.join(" ")
        };
        let actions = if self.actions.is_empty() {
            "none".to_string()
        } else {
            self.actions.join(", ")
        };
        match &self.task {
            DashboardTask::Create => {
                out.push("Click \"+ Connector Profile\".".into());
                out.push(format!(
                    "Search for and select \"{}\".",
                    self.connector_label
                ));
                out.push("Select Type \"OAuth 2.0\".".into());
                out.push(format!("API Key (Client ID): {}", self.client_id));
                out.push(format!("Client Secret: {secret_note}"));
                out.push(format!("Scopes (optional): {scopes}"));
                out.push(format!("Actions (optional): {actions}"));
                out.push("Click \"Create profile\". (There is no Name field: StackOne names the profile; \
                     ccsetup finds the new one by its id.)"
                    .into());
            }
            DashboardTask::Edit {
                profile_id,
                current_name,
                fields,
            } => {
                out.push(format!(
                    "Open the connector profile \"{current_name}\" (id {profile_id}) and edit it."
                ));
                for field in fields {
                    out.push(match field {
                        ProfileField::Name => format!("Name: {}", self.name),
                        ProfileField::ClientId => {
                            format!("API Key (Client ID): {}", self.client_id)
                        }
                        ProfileField::ClientSecret => format!("Client Secret: {secret_note}"),
                        ProfileField::Scopes => format!("Scopes: {scopes}"),
                        ProfileField::Actions => format!("Actions: {actions}"),
                    });
                }
                out.push("Save the profile.".into());
            }
            DashboardTask::Delete { profile_id } => {
                out.push(format!(
                    "Delete the connector profile \"{}\" (id {profile_id}).",
                    self.name
                ));
            }
        }
        out
    }

    /// The title and numbered steps, ready to print.
    pub fn render(&self, secret_note: &str) -> String {
        let mut text = format!("{}:\n", self.title());
        for (i, line) in self.lines(secret_note).iter().enumerate() {
            text.push_str(&format!("  {}. {line}\n", i + 1));
        }
        text
    }
}

/// Lines the user enters while ccsetup polls (an interactive create).
pub trait LineSource: Send {
    /// The next line (without its line end); `None` once there will be no
    /// more. Dropping the source leaves no read pending.
    fn next_line(&mut self) -> Pin<Box<dyn Future<Output = Option<String>> + Send + '_>>;
}

/// How the wait for the user's work in the dashboard goes on.
pub enum UserWait {
    /// Done (or a run that proceeds without anyone): poll until it shows.
    Done,
    /// The user pasted this profile id (or a page URL holding it).
    Pasted(String),
    /// The user is still at the form: ccsetup polls now, and reads what the
    /// user enters meanwhile (Enter: check now; an id or page URL: that
    /// profile). Only for a create, the one change the list can show.
    Polling(Box<dyn LineSource>),
}

impl std::fmt::Debug for UserWait {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserWait::Done => f.write_str("Done"),
            UserWait::Pasted(id) => f.debug_tuple("Pasted").field(id).finish(),
            UserWait::Polling(_) => f.write_str("Polling"),
        }
    }
}

/// Shows the dashboard steps and waits for the user to do them. Then, or
/// meanwhile ([`UserWait::Polling`]), ccsetup polls StackOne's list
/// endpoint until a new profile id appears (or adopts the id pasted).
pub trait DashboardGuide: Send {
    /// Shows the steps. The client id is part of `steps`; the secret is
    /// passed separately and must not be displayed unless the user
    /// explicitly asks (copying it to a clipboard is fine).
    fn show_steps(&mut self, steps: &DashboardSteps, client_secret: &SecretString) -> Result<()>;

    /// Returns when the user says they are done — with the profile id they
    /// pasted (the id or the profile page's URL, see
    /// [`super::profile::profile_id_in`]), if any — or at once with the
    /// lines they will enter while ccsetup polls; or an error to stop (a
    /// non-interactive run refuses with exit 4).
    fn wait_for_user(&mut self, steps: &DashboardSteps) -> Result<UserWait>;

    /// During a [`UserWait::Polling`] wait: new profiles showed in the list;
    /// the user's next line goes on (Enter, or the id of one of them).
    fn on_appeared(&mut self, _new: &[super::model::ConnectorProfile]) {}

    /// A [`UserWait::Polling`] wait is over: whatever else the user typed
    /// meanwhile is not meant for what comes next.
    fn on_wait_over(&mut self) {}

    /// The Constant Contact profile ids StackOne listed before the user went
    /// to the form (a run that stops here records them for the next one).
    fn on_listed_before(&mut self, _ids: &[String]) {}

    /// Several new profiles appeared: the index of this setup's, or `None`
    /// when nobody can say (then the run stops, naming them).
    fn choose(&mut self, _candidates: &[super::model::ConnectorProfile]) -> Result<Option<usize>> {
        Ok(None)
    }

    /// Called before each poll of the list endpoint (e.g. to tick a spinner).
    fn on_poll(&mut self, _attempt: u32, _max_attempts: u32) {}

    /// Something the user should read before or while doing the steps: why
    /// the API path was left (StackOne's message), or a profile whose name
    /// is close to, but not exactly, the one asked for.
    fn on_note(&mut self, _note: &str) {}
}

/// Prints the steps (never the secret) on stderr; then either refuses, as a
/// non-interactive run must, or proceeds to polling at once.
pub struct PrintedDashboardGuide<'a> {
    io: &'a mut IoStreams,
    proceed: bool,
    listed_before: Option<Vec<String>>,
}

impl<'a> PrintedDashboardGuide<'a> {
    /// Prints the steps, then fails with exit 4 (docs/contract.md: the non-interactive
    /// dashboard path opens nothing and does not poll).
    pub fn non_interactive(io: &'a mut IoStreams) -> Self {
        PrintedDashboardGuide {
            io,
            proceed: false,
            listed_before: None,
        }
    }

    /// Prints the steps, then lets ccsetup poll (someone else does them).
    pub fn proceeding(io: &'a mut IoStreams) -> Self {
        PrintedDashboardGuide {
            io,
            proceed: true,
            listed_before: None,
        }
    }
}

impl PrintedDashboardGuide<'_> {
    /// The ids listed before the steps were printed (`None`: no listing
    /// happened, e.g. an edit).
    pub fn listed_before(&self) -> Option<&[String]> {
        self.listed_before.as_deref()
    }
}

impl DashboardGuide for PrintedDashboardGuide<'_> {
    fn on_note(&mut self, note: &str) {
        self.io.warn(note);
    }

    fn on_listed_before(&mut self, ids: &[String]) {
        self.listed_before = Some(ids.to_vec());
    }

    fn show_steps(&mut self, steps: &DashboardSteps, _client_secret: &SecretString) -> Result<()> {
        // Written even with -q: without these steps the run cannot finish.
        let text = format!("\n{}", steps.render(SECRET_NOT_SHOWN));
        self.io.always(text.strip_suffix('\n').unwrap_or(&text));
        let _ = self.io.stderr().flush();
        Ok(())
    }

    fn wait_for_user(&mut self, steps: &DashboardSteps) -> Result<UserWait> {
        if self.proceed {
            self.io
                .info("Waiting for the profile to appear in StackOne…");
            return Ok(UserWait::Done);
        }
        let what = match steps.task {
            DashboardTask::Create => "created",
            DashboardTask::Edit { .. } => "updated",
            DashboardTask::Delete { .. } => "deleted",
        };
        let error = Error::remote(format!(
            "the {} connector profile must be {what} by hand in the StackOne dashboard \
             (its API offers no way to do it), and this run is non-interactive",
            steps.connector_label
        ));
        if let DashboardTask::Edit { .. } = steps.task {
            // The list cannot show an edit: only a link through the profile
            // proves it, and a passing link records it.
            return Err(error.with_hint(
                "make the edit printed above, then prove it by linking your own test user: \
                 ccsetup link --origin-owner-id me --origin-owner-name \"My test user\" --wait \
                 (a passing link records the edit; StackOne's API cannot show it)",
            ));
        }
        Err(error.with_hint(
            "follow the steps printed above, then run the same command again: ccsetup adopts the \
             one profile that is new since this run (or name it: --stackone-profile-id ID, the \
             profile page's \"Copy connector ID\"). StackOne's API cannot show the credentials \
             typed there, so then prove them by linking your own test user: \
             ccsetup link --origin-owner-id me --origin-owner-name \"My test user\" --wait",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(task: DashboardTask) -> DashboardSteps {
        DashboardSteps {
            task,
            dashboard_url: Url::parse("https://app.stackone.com/connector-profiles").unwrap(),
            connector_label: "Constant Contact".into(),
            name: "Constant Contact".into(),
            client_id: "cid-1".into(),
            scopes: vec!["account_read".into(), "offline_access".into()],
            actions: vec![],
        }
    }

    #[test]
    fn create_steps_follow_the_seed_guide_in_order() {
        let text = steps(DashboardTask::Create).render(SECRET_NOT_SHOWN);
        assert!(
            !text.contains("Name:"),
            "the real form has no Name field:\n{text}"
        );
        let order = [
            "https://app.stackone.com/connector-profiles",
            "+ Connector Profile",
            "select \"Constant Contact\"",
            "OAuth 2.0",
            "API Key (Client ID): cid-1",
            "Client Secret: the Client Secret",
            "Scopes (optional): account_read offline_access",
            "Actions (optional): none",
            "Create profile",
        ];
        let mut at = 0;
        for needle in order {
            let pos = text[at..]
                .find(needle)
                .unwrap_or_else(|| panic!("{needle} missing or out of order in\n{text}"));
            at += pos + needle.len();
        }
    }

    #[test]
    fn edit_steps_list_only_the_changed_fields() {
        let text = steps(DashboardTask::Edit {
            profile_id: "p1".into(),
            current_name: "Old".into(),
            fields: vec![ProfileField::ClientSecret],
        })
        .render("copied to your clipboard");
        assert!(text.contains("\"Old\" (id p1)"));
        assert!(text.contains("Client Secret: copied to your clipboard"));
        assert!(!text.contains("API Key"));
        assert!(!text.contains("Scopes"));
    }

    #[test]
    fn the_non_interactive_guide_prints_steps_without_the_secret_and_refuses() {
        let err_buf = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
        impl std::io::Write for Sink {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let mut io =
            IoStreams::captured(Box::new(std::io::sink()), Box::new(Sink(err_buf.clone())));
        io.quiet = true;
        let s = steps(DashboardTask::Create);
        let mut guide = PrintedDashboardGuide::non_interactive(&mut io);
        guide
            .show_steps(&s, &SecretString::from("top-secret-value"))
            .unwrap();
        let err = guide.wait_for_user(&s).unwrap_err();
        assert_eq!(err.exit_code(), 4);
        let printed = String::from_utf8(err_buf.lock().unwrap().clone()).unwrap();
        assert!(printed.contains("cid-1"), "{printed}");
        assert!(!printed.contains("top-secret-value"));
        assert!(!err.render(true).contains("top-secret-value"));
    }
}
