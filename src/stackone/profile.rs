//! Making StackOne hold the Constant Contact connector profile ccsetup
//! wants, idempotently: find first, then create, update or leave alone —
//! through the API, or through the dashboard where the API offers no way.
//!
//! ## When is a profile "unchanged"?
//!
//! StackOne never reveals the client secret, and may not reveal other
//! fields either (the list endpoint shows the name only). So:
//! - every field StackOne *reports* is compared with the desired value: the
//!   name (exactly, outer spaces aside: a near match is reported by name and
//!   id, never adopted), the client id,
//!   and scopes and actions as sets (order and repeats do not matter);
//! - a field StackOne does not report is not compared: there is no evidence
//!   of a difference, and forcing a write would turn every re-run into an
//!   update (or, without a write API, into a dashboard chore);
//! - the client secret is written only when the caller says it changed
//!   ([`DesiredProfile::secret_changed`]): true on rotation, or when the
//!   secret differs from the one ccsetup last gave StackOne (e.g. from the
//!   one in the secret store before this run). With `false`, an existing
//!   profile's secret is left as it is.
//!
//! A profile is unchanged when no reported field differs and the secret did
//! not change; then nothing is written. Otherwise a PATCH carries exactly
//! the differing fields, and the profile is read back and checked.
//!
//! ## Found by id, never by name
//!
//! The existing profile is looked up before any write by the id the caller
//! recorded (or the user named: [`EnsureOptions::adopt_id`]). A profile that
//! merely has the wanted name is never adopted: the dashboard's form has no
//! Name field (StackOne names every profile after its connector), so an older
//! profile of another application may well carry it. The dashboard path
//! lists the Constant Contact profiles before the user goes to the form and
//! adopts exactly the one id that is new (docs/contract.md "StackOne API").
//!
//! ## Edits from what was recorded
//!
//! The list never shows credentials, scopes or actions, so a field StackOne
//! does not report is compared with what ccsetup last wrote to or verified
//! in the profile ([`EnsureOptions::recorded`]); a new API Key always brings
//! the Client Secret with it.
//!
//! ## No duplicates (the hypothetical write API)
//!
//! A create that fails in a way that may have succeeded (5xx, timeout, lost
//! connection) is followed by a look for the profile ccsetup itself just
//! named before any retry; a 409 adopts that profile.

use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use url::Url;

use super::StackOneMode;
use super::client::{StackOneClient, StackOneError};
use super::dashboard::{DashboardGuide, DashboardSteps, DashboardTask, LineSource, UserWait};
use super::model::{
    ConnectorProfile, NewConnectorProfile, ProfileDetails, ProfileField, ProfilePatch, same_name,
    same_set,
};
use crate::error::{Error, Result};

/// StackOne's connector key for Constant Contact.
pub const CONNECTOR_KEY: &str = "constantcontact";
/// Its label in the dashboard.
pub const CONNECTOR_LABEL: &str = "Constant Contact";

/// The profile ccsetup wants StackOne to hold. `Debug` redacts the secret.
#[derive(Debug, Clone)]
pub struct DesiredProfile {
    pub name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub actions: Vec<String>,
    /// Whether StackOne may hold a different secret than `client_secret`
    /// (rotation, or a secret other than the one ccsetup last sent). The
    /// secret cannot be read back, so this alone decides whether an
    /// existing profile's secret is written.
    pub secret_changed: bool,
}

/// What happened to the profile (`stackone.action` of `init --json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProfileAction {
    Created,
    Updated,
    Unchanged,
    /// Made or changed by the user in the dashboard, verified through the API.
    Dashboard,
}

impl ProfileAction {
    pub fn as_str(self) -> &'static str {
        match self {
            ProfileAction::Created => "created",
            ProfileAction::Updated => "updated",
            ProfileAction::Unchanged => "unchanged",
            ProfileAction::Dashboard => "dashboard",
        }
    }
}

/// The profile StackOne now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileOutcome {
    pub id: String,
    pub name: String,
    pub action: ProfileAction,
    /// Fields written on an existing profile (empty when created or unchanged).
    pub changed: Vec<ProfileField>,
    /// After a dashboard create or edit: `listed` (only the id was seen),
    /// `linked` once an account was linked through it. `None` otherwise.
    pub verified: Option<&'static str>,
}

/// The values ccsetup last wrote to, or verified in, a profile (kept in
/// `config.toml`): the list endpoint never shows them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecordedValues {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub actions: Vec<String>,
}

/// The profile id in what a user pasted: the id itself (the dashboard's
/// "Copy connector ID") or the profile page's URL (its last path segment).
pub fn profile_id_in(pasted: &str) -> Option<String> {
    let text = pasted.trim();
    let candidate = match Url::parse(text) {
        Ok(url) if url.has_host() => url
            .path_segments()
            .and_then(|mut s| s.rfind(|seg| !seg.is_empty()))?
            .to_string(),
        _ => text.to_string(),
    };
    let plausible = !candidate.is_empty()
        && candidate.len() <= 128
        && candidate
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    plausible.then_some(candidate)
}

/// Knobs of [`ensure_connector_profile`].
#[derive(Debug, Clone)]
pub struct EnsureOptions {
    /// The dashboard's Connector Profiles page, for the steps.
    pub dashboard_url: Url,
    /// Dashboard path: how often, and how far apart, to look for the profile.
    pub poll_attempts: u32,
    pub poll_interval: Duration,
    /// Create attempts when a create fails in a way that may have succeeded.
    pub create_attempts: u32,
    /// A profile id the user named (`--stackone-profile-id`, or pasted at the
    /// waiting prompt): adopted once StackOne lists it as a Constant Contact
    /// profile, refused with the reason otherwise.
    pub adopt_id: Option<String>,
    /// The Constant Contact profile ids listed when an earlier run stopped at
    /// the dashboard step: a profile not among them was made since.
    pub seen_before: Option<Vec<String>>,
    /// What ccsetup last wrote to, or verified in, the profile.
    pub recorded: Option<RecordedValues>,
    /// Wait before the next create attempt (times the attempt number),
    /// unless StackOne said `Retry-After`.
    pub create_retry_delay: Duration,
}

impl EnsureOptions {
    /// Polls for up to 10 minutes, every 5 s; three create attempts.
    pub fn new(dashboard_url: Url) -> Self {
        EnsureOptions {
            dashboard_url,
            poll_attempts: 120,
            poll_interval: Duration::from_secs(5),
            create_attempts: 3,
            create_retry_delay: Duration::from_secs(2),
            adopt_id: None,
            seen_before: None,
            recorded: None,
        }
    }
}

/// Makes StackOne hold `desired` as a Constant Contact connector profile
/// (see the module docs for the rules). `known_id` is the profile id
/// recorded by an earlier run. `mode`: `Auto` uses the API and switches to
/// the dashboard when a create or update is refused with 400, 404, 405, 409,
/// 422 or 501, showing StackOne's message (a 404 on
/// PATCH first re-lists: a vanished profile is created again); `Dashboard`
/// goes there directly; `Api` never does.
pub async fn ensure_connector_profile(
    client: &StackOneClient,
    desired: &DesiredProfile,
    mode: StackOneMode,
    known_id: Option<&str>,
    dashboard: &mut dyn DashboardGuide,
    options: &EnsureOptions,
) -> Result<ProfileOutcome> {
    if desired.name.trim().is_empty() {
        return Err(Error::usage("the StackOne profile name is empty")
            .with_hint("pass --stackone-profile-name NAME"));
    }
    if desired.client_id.trim().is_empty() {
        return Err(Error::usage("the API Key (client id) is empty"));
    }
    let mut run = Run {
        client,
        desired,
        mode,
        guide: dashboard,
        opts: options,
        noted_near: Vec::new(),
        known_id: known_id.map(str::to_string),
    };
    run.ensure(known_id, 0).await
}

/// What `remove_connector_profile` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveOutcome {
    Deleted,
    /// It was not there (any more).
    AlreadyGone,
    /// StackOne's API refused (404/405/501) and still lists it: delete it in
    /// the dashboard (see [`delete_steps`]).
    NotOffered,
}

/// Deletes a profile (`reset --delete-stackone-profile`), telling "gone"
/// apart from "not offered" by listing again after a 404/405/501.
pub async fn remove_connector_profile(client: &StackOneClient, id: &str) -> Result<RemoveOutcome> {
    match client.delete_profile(id).await {
        Ok(()) => Ok(RemoveOutcome::Deleted),
        Err(e) if e.is_not_offered() => {
            let listed = client
                .list_profiles(CONNECTOR_KEY)
                .await?
                .iter()
                .any(|p| p.id == id);
            Ok(if listed {
                RemoveOutcome::NotOffered
            } else {
                RemoveOutcome::AlreadyGone
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The dashboard steps that delete `profile`.
pub fn delete_steps(dashboard_url: Url, profile: &ConnectorProfile) -> DashboardSteps {
    DashboardSteps {
        task: DashboardTask::Delete {
            profile_id: profile.id.clone(),
        },
        dashboard_url,
        connector_label: CONNECTOR_LABEL.into(),
        name: profile.name.clone(),
        client_id: String::new(),
        scopes: Vec::new(),
        actions: Vec::new(),
    }
}

/// Re-entries (create → 409 → adopt → PATCH 404 → gone → …) allowed before
/// giving up: a StackOne that keeps changing under us is an error.
const MAX_DEPTH: u32 = 3;

/// One `ensure_connector_profile` run.
struct Run<'a> {
    client: &'a StackOneClient,
    desired: &'a DesiredProfile,
    mode: StackOneMode,
    guide: &'a mut dyn DashboardGuide,
    opts: &'a EnsureOptions,
    /// Ids of near-miss profiles already reported.
    noted_near: Vec<String>,
    /// The id the caller recorded: what `opts.recorded` describes.
    known_id: Option<String>,
}

impl Run<'_> {
    async fn ensure(&mut self, known_id: Option<&str>, depth: u32) -> Result<ProfileOutcome> {
        if depth > MAX_DEPTH {
            return Err(Error::remote(
                "the StackOne connector profile kept changing while ccsetup was updating it",
            )
            .with_hint("check the Connector Profiles page of the StackOne dashboard, then run the command again"));
        }
        if depth == 0
            && let Some(id) = self.opts.adopt_id.clone()
            && known_id != Some(id.as_str())
        {
            let profile = self.named_profile(&id).await?;
            return Ok(outcome(&profile, ProfileAction::Dashboard, vec![]));
        }
        match (self.find(known_id).await?, self.mode) {
            (None, StackOneMode::Dashboard) => self.dashboard_create().await,
            (None, _) => self.create(depth).await,
            (Some(profile), _) => self.update(profile, false, depth).await,
        }
    }

    /// The Constant Contact profiles StackOne lists (every page).
    async fn listed(&self) -> Result<Vec<ConnectorProfile>> {
        Ok(self
            .client
            .list_profiles(CONNECTOR_KEY)
            .await?
            .into_iter()
            .filter(|p| p.is_for(CONNECTOR_KEY))
            .collect())
    }

    /// The profile the user named by id, once StackOne lists it as a
    /// Constant Contact profile; else refused with the reason.
    async fn named_profile(&self, id: &str) -> Result<ConnectorProfile> {
        let listed = self.client.list_profiles(CONNECTOR_KEY).await?;
        match listed.into_iter().find(|p| p.id == id) {
            Some(p) if p.is_for(CONNECTOR_KEY) => Ok(p),
            Some(p) => Err(Error::usage(format!(
                "the StackOne connector profile {} is a {} profile, not a {CONNECTOR_LABEL} one",
                printable(id),
                printable(p.connector_key.as_deref().unwrap_or("different connector's"))
            ))
            .with_hint("give the id of the Constant Contact profile (its page's \"Copy connector ID\")")),
            None => Err(Error::usage(format!(
                "StackOne lists no {CONNECTOR_LABEL} connector profile with the id {}",
                printable(id)
            ))
            .with_hint(
                "copy the id with \"Copy connector ID\" on the profile's page in the StackOne dashboard \
                 (the same project as the API key), then give it with --stackone-profile-id",
            )),
        }
    }

    /// The existing Constant Contact profile: by recorded id only. A
    /// profile with the wanted name is never adopted for that alone.
    async fn find(&mut self, known_id: Option<&str>) -> Result<Option<ConnectorProfile>> {
        let Some(id) = known_id else {
            return Ok(None);
        };
        let found = self.listed().await?.into_iter().find(|p| p.id == id);
        if found.is_none() {
            tracing::info!("the recorded StackOne profile {id} is gone");
        }
        Ok(found)
    }

    /// The profile ccsetup itself just asked the (hypothetical) write API to
    /// create under `desired.name`: after a 409 or an uncertain create.
    async fn find_own_create(&mut self) -> Result<Option<ConnectorProfile>> {
        let profiles = self.listed().await?;
        if !profiles.iter().any(|p| p.has_name(&self.desired.name)) {
            self.note_near_matches(&profiles);
        }
        let mut named = profiles
            .into_iter()
            .filter(|p| p.has_name(&self.desired.name));
        let first = named.next();
        if first.is_some() && named.next().is_some() {
            tracing::warn!(
                "several Constant Contact profiles are named \"{}\"; using the first listed",
                self.desired.name.trim()
            );
        }
        Ok(first)
    }

    async fn create(&mut self, depth: u32) -> Result<ProfileOutcome> {
        let d = self.desired;
        let new = NewConnectorProfile {
            connector_key: CONNECTOR_KEY.into(),
            name: d.name.trim().to_string(),
            client_id: d.client_id.trim().to_string(),
            client_secret: d.client_secret.clone(),
            scopes: d.scopes.clone(),
            actions: d.actions.clone(),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match self.client.create_profile(&new).await {
                Ok(created) => {
                    let details = self.read_back(created).await?;
                    self.check(&details)?;
                    return Ok(outcome(&details.profile, ProfileAction::Created, vec![]));
                }
                Err(e) => e,
            };
            // A 409 (a profile of that name exists) is not adopted: it may be
            // another application's (docs/contract.md "StackOne API").
            if err.is_write_refused() {
                return match self.mode {
                    StackOneMode::Auto => {
                        self.note_refusal(&err);
                        self.dashboard_create().await
                    }
                    _ => Err(api_mode_refusal(err, "create connector profiles")),
                };
            }
            if !err.is_uncertain() {
                return Err(err.into());
            }
            // It may have been created although we were told otherwise:
            // look before trying again, so a retry never makes a duplicate.
            tracing::info!("creating the profile failed ({err}); checking whether it exists");
            if let Some(existing) = self.find_own_create().await? {
                return self.adopt_after_uncertain_create(existing, depth).await;
            }
            if attempt >= self.opts.create_attempts {
                return Err(err.into());
            }
            let wait = err
                .retry_after()
                .unwrap_or(self.opts.create_retry_delay * attempt);
            tokio::time::sleep(wait).await;
        }
    }

    /// A profile found after a failed create: ours if it holds what we sent
    /// (then it counts as created); otherwise someone else's, brought in
    /// line including the secret, which we cannot know it has.
    async fn adopt_after_uncertain_create(
        &mut self,
        existing: ConnectorProfile,
        depth: u32,
    ) -> Result<ProfileOutcome> {
        let details = self
            .read_back(ProfileDetails::from_listed(existing.clone()))
            .await?;
        if self.mismatches(&details).is_empty() {
            return Ok(outcome(&details.profile, ProfileAction::Created, vec![]));
        }
        Box::pin(self.update(existing, true, depth + 1)).await
    }

    async fn update(
        &mut self,
        existing: ConnectorProfile,
        force_secret: bool,
        depth: u32,
    ) -> Result<ProfileOutcome> {
        let details = self
            .read_back(ProfileDetails::from_listed(existing.clone()))
            .await?;
        let patch = self.plan_patch(&details, force_secret);
        if patch.is_empty() {
            return Ok(outcome(&details.profile, ProfileAction::Unchanged, vec![]));
        }
        if self.mode == StackOneMode::Dashboard {
            return self.dashboard_edit(&details.profile, patch.fields()).await;
        }
        match self.client.update_profile(&existing.id, &patch).await {
            Ok(updated) => {
                let details = self.read_back(updated).await?;
                self.check(&details)?;
                Ok(outcome(
                    &details.profile,
                    ProfileAction::Updated,
                    patch.fields(),
                ))
            }
            Err(e) if e.status() == Some(404) => {
                // Gone, or no PATCH endpoint: the listing tells which.
                let still_listed = self
                    .client
                    .list_profiles(CONNECTOR_KEY)
                    .await?
                    .iter()
                    .any(|p| p.id == existing.id);
                if !still_listed {
                    tracing::info!("the StackOne profile vanished; creating it again");
                    return Box::pin(self.ensure(None, depth + 1)).await;
                }
                self.update_not_offered(e, &details.profile, patch.fields())
                    .await
            }
            Err(e) if e.is_write_refused() => {
                self.update_not_offered(e, &details.profile, patch.fields())
                    .await
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn update_not_offered(
        &mut self,
        err: StackOneError,
        profile: &ConnectorProfile,
        fields: Vec<ProfileField>,
    ) -> Result<ProfileOutcome> {
        match self.mode {
            StackOneMode::Auto => {
                self.note_refusal(&err);
                self.dashboard_edit(profile, fields).await
            }
            _ => Err(api_mode_refusal(err, "update connector profiles")),
        }
    }

    /// Profiles named like the wanted one but not exactly (other case or
    /// spacing): each reported once by name and id.
    fn near_matches(&self, profiles: &[ConnectorProfile]) -> Vec<ConnectorProfile> {
        profiles
            .iter()
            .filter(|p| p.is_for(CONNECTOR_KEY) && p.has_near_name(&self.desired.name))
            .cloned()
            .collect()
    }

    fn note_near_matches(&mut self, profiles: &[ConnectorProfile]) {
        for p in self.near_matches(profiles) {
            if self.noted_near.contains(&p.id) {
                continue;
            }
            self.guide.on_note(&near_match_text(&p, &self.desired.name));
            self.noted_near.push(p.id);
        }
    }

    /// Says why `auto` leaves the API: StackOne's own answer.
    fn note_refusal(&mut self, err: &StackOneError) {
        self.guide.on_note(&format!(
            "{err}\nStackOne documents no API that writes Connector Profiles, so ccsetup continues in \
             the dashboard."
        ));
    }

    /// The fields to write: reported values that differ, and the secret
    /// when it changed (or is forced).
    /// A field StackOne does not report is compared with what was recorded
    /// for this profile (`recorded`), never taken as unchanged for lack of
    /// evidence when there is a record. A new API Key brings the secret.
    fn plan_patch(&self, details: &ProfileDetails, force_secret: bool) -> ProfilePatch {
        let d = self.desired;
        let recorded = self
            .opts
            .recorded
            .as_ref()
            .filter(|_| self.known_id.as_deref() == Some(details.profile.id.as_str()));
        let differs =
            |reported: &Option<Vec<String>>, recorded: Option<&Vec<String>>, wanted: &[String]| {
                match (reported, recorded) {
                    (Some(r), _) => !same_set(r, wanted),
                    (None, Some(r)) => !same_set(r, wanted),
                    (None, None) => false,
                }
            };
        let client_id_changed = match (details.client_id(), recorded) {
            (Some(c), _) => c.trim() != d.client_id.trim(),
            (None, Some(r)) => r.client_id.trim() != d.client_id.trim(),
            (None, None) => false,
        };
        ProfilePatch {
            name: (!same_name(&details.profile.name, &d.name)).then(|| d.name.trim().to_string()),
            client_id: client_id_changed.then(|| d.client_id.trim().to_string()),
            client_secret: (d.secret_changed || force_secret || client_id_changed)
                .then(|| d.client_secret.clone()),
            scopes: differs(&details.scopes, recorded.map(|r| &r.scopes), &d.scopes)
                .then(|| d.scopes.clone()),
            actions: differs(&details.actions, recorded.map(|r| &r.actions), &d.actions)
                .then(|| d.actions.clone()),
        }
    }

    /// Reported fields that differ from the desired values.
    fn mismatches(&self, details: &ProfileDetails) -> Vec<ProfileField> {
        let mut patch = self.plan_patch(details, false);
        patch.client_secret = None;
        patch.fields()
    }

    /// Reads the profile back by id; where StackOne offers no read by id,
    /// `fallback` (what create/update/list answered) stands in.
    async fn read_back(&self, fallback: ProfileDetails) -> Result<ProfileDetails> {
        match self.client.get_profile(&fallback.profile.id).await {
            Ok(details) => Ok(details),
            Err(e) if e.is_not_offered() => Ok(fallback),
            Err(e) => Err(e.into()),
        }
    }

    /// After a write: StackOne must report what was sent.
    fn check(&self, details: &ProfileDetails) -> Result<()> {
        let wrong = self.mismatches(details);
        if wrong.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = wrong.iter().map(|f| f.label()).collect();
        Err(Error::remote(format!(
            "StackOne's connector profile \"{}\" ({}) does not hold the values ccsetup expects: {} differ",
            details.profile.name,
            details.profile.id,
            names.join(", ")
        ))
        .with_hint("check the profile in the StackOne dashboard, then run the command again"))
    }

    /// [`Run::check`] without the name, which the dashboard's form cannot set.
    fn check_without_name(&self, details: &ProfileDetails) -> Result<()> {
        let mut renamed = details.clone();
        renamed.profile.name = self.desired.name.clone();
        self.check(&renamed)
    }

    fn steps(&self, task: DashboardTask) -> DashboardSteps {
        let d = self.desired;
        DashboardSteps {
            task,
            dashboard_url: self.opts.dashboard_url.clone(),
            connector_label: CONNECTOR_LABEL.into(),
            name: d.name.trim().to_string(),
            client_id: d.client_id.trim().to_string(),
            scopes: d.scopes.clone(),
            actions: d.actions.clone(),
        }
    }

    /// The dashboard's create: the profiles listed before (or recorded by an
    /// earlier run that stopped here), the steps, then the one new id,
    /// whatever its name.
    async fn dashboard_create(&mut self) -> Result<ProfileOutcome> {
        let listed = self.listed().await?;
        let mut before: Vec<String> = listed.iter().map(|p| p.id.clone()).collect();
        if let Some(seen) = &self.opts.seen_before {
            // Made since an earlier run stopped at this step: adopt it now.
            let new: Vec<ConnectorProfile> = listed
                .iter()
                .filter(|p| !seen.contains(&p.id))
                .cloned()
                .collect();
            if !new.is_empty() {
                let found = self.one_new(new)?;
                return self.adopt_created(found).await;
            }
            before.extend(seen.iter().cloned());
            before.sort();
            before.dedup();
        }
        self.guide.on_listed_before(&before);
        let steps = self.steps(DashboardTask::Create);
        self.guide.show_steps(&steps, &self.desired.client_secret)?;
        let new = match self.guide.wait_for_user(&steps)? {
            UserWait::Pasted(pasted) => {
                let found = self.named_profile(&pasted).await?;
                return self.adopt_created(found).await;
            }
            UserWait::Done => self.poll_new(&before).await?,
            UserWait::Polling(lines) => {
                let waited = self.poll_new_while_waiting(&before, lines).await;
                self.guide.on_wait_over();
                match waited? {
                    Waited::Appeared(new) => new,
                    Waited::Named(found) => return self.adopt_created(found).await,
                }
            }
        };
        let found = self.one_new(new)?;
        self.adopt_created(found).await
    }

    /// Exactly one new profile is ours; several: the user says which, or
    /// (nobody at the terminal) exit 4 naming them.
    fn one_new(&mut self, mut new: Vec<ConnectorProfile>) -> Result<ConnectorProfile> {
        if new.len() == 1 {
            return Ok(new.remove(0));
        }
        if let Some(i) = self.guide.choose(&new)?
            && i < new.len()
        {
            return Ok(new.remove(i));
        }
        let named: Vec<String> = new.iter().map(describe).collect();
        Err(Error::remote(format!(
            "{} new {CONNECTOR_LABEL} connector profiles appeared in StackOne, and ccsetup cannot tell \
             which one is this setup's: {}",
            new.len(),
            named.join("; ")
        ))
        .with_hint("name it: --stackone-profile-id ID (or CCSETUP_STACKONE_PROFILE_ID)"))
    }

    /// A profile the user made: read back where StackOne can (the
    /// hypothetical API), checked without its name (the form has none).
    async fn adopt_created(&mut self, found: ConnectorProfile) -> Result<ProfileOutcome> {
        let details = self.read_back(ProfileDetails::from_listed(found)).await?;
        self.check_without_name(&details)?;
        Ok(outcome(&details.profile, ProfileAction::Dashboard, vec![]))
    }

    async fn dashboard_edit(
        &mut self,
        profile: &ConnectorProfile,
        mut fields: Vec<ProfileField>,
    ) -> Result<ProfileOutcome> {
        // The dashboard's form has no Name: StackOne keeps its own.
        fields.retain(|f| *f != ProfileField::Name);
        if fields.is_empty() {
            return Ok(outcome(profile, ProfileAction::Unchanged, vec![]));
        }
        let steps = self.steps(DashboardTask::Edit {
            profile_id: profile.id.clone(),
            current_name: profile.name.clone(),
            fields: fields.clone(),
        });
        self.guide.show_steps(&steps, &self.desired.client_secret)?;
        // The list cannot show an edit: whatever the wait, read it back.
        if let UserWait::Polling(_) = self.guide.wait_for_user(&steps)? {
            self.guide.on_wait_over();
        }
        let id = profile.id.clone();
        let found = self
            .poll(move |p| p.id == id, "was not found after the edit")
            .await?;
        let details = self.read_back(ProfileDetails::from_listed(found)).await?;
        self.check_without_name(&details)?;
        Ok(outcome(&details.profile, ProfileAction::Dashboard, fields))
    }

    /// Lists (bounded, every `poll_interval`) until a Constant Contact
    /// profile appears whose id is not in `before`; returns every new one.
    async fn poll_new(&mut self, before: &[String]) -> Result<Vec<ConnectorProfile>> {
        let max = self.opts.poll_attempts.max(1);
        for attempt in 1..=max {
            self.guide.on_poll(attempt, max);
            let new = self.new_since(before).await?;
            if !new.is_empty() {
                return Ok(new);
            }
            if attempt < max {
                tokio::time::sleep(self.opts.poll_interval).await;
            }
        }
        Err(self.none_appeared(max))
    }

    /// [`Self::poll_new`] while the user is still at the form, reading what
    /// they enter meanwhile: Enter checks at once; the id (or page URL) of a
    /// listed Constant Contact profile is that profile; anything else is
    /// explained and the wait goes on. New profiles found by a check the
    /// user did not ask for are announced, and the user's next line goes on
    /// (so a key pressed just then never answers the next question). End of
    /// input: polling alone.
    async fn poll_new_while_waiting(
        &mut self,
        before: &[String],
        mut lines: Box<dyn LineSource>,
    ) -> Result<Waited> {
        let max = self.opts.poll_attempts.max(1);
        let mut reading = true;
        let mut appeared: Option<Vec<ConnectorProfile>> = None;
        let mut attempt = 0;
        // Whether this check is the one the user asked for with Enter.
        let mut asked = false;
        loop {
            if appeared.is_none() {
                attempt += 1;
                self.guide.on_poll(attempt, max);
                let new = self.new_since(before).await?;
                if !new.is_empty() {
                    if asked || !reading {
                        return Ok(Waited::Appeared(new));
                    }
                    self.guide.on_appeared(&new);
                    appeared = Some(new);
                } else if attempt >= max {
                    return Err(self.none_appeared(max));
                }
            }
            asked = false;
            // Until the next check (or, once they appeared, the user's
            // word), read what the user enters.
            let interval = tokio::time::sleep(self.opts.poll_interval);
            tokio::pin!(interval);
            loop {
                let line = tokio::select! {
                    () = &mut interval, if appeared.is_none() => break,
                    line = lines.next_line(), if reading => line,
                };
                let Some(line) = line else {
                    reading = false;
                    match appeared.take() {
                        Some(new) => return Ok(Waited::Appeared(new)),
                        None => continue,
                    }
                };
                match entered(&line) {
                    Entered::CheckNow => match appeared.take() {
                        Some(new) => return Ok(Waited::Appeared(new)),
                        None => {
                            asked = true;
                            break;
                        }
                    },
                    Entered::Id(id) => match self.named_profile(&id).await {
                        Ok(found) => return Ok(Waited::Named(found)),
                        Err(why) => self.guide.on_note(&format!(
                            "{}; paste the id from \"Copy connector ID\" on the profile's page, \
                             or press Enter",
                            why.message()
                        )),
                    },
                    Entered::Other => self.guide.on_note(ENTER_OR_PASTE),
                }
            }
        }
    }

    /// The Constant Contact profiles listed now whose ids are not in `before`.
    async fn new_since(&mut self, before: &[String]) -> Result<Vec<ConnectorProfile>> {
        Ok(self
            .listed()
            .await?
            .into_iter()
            .filter(|p| !before.contains(&p.id))
            .collect())
    }

    /// No new profile after `max` checks.
    fn none_appeared(&self, max: u32) -> Error {
        let waited = self.opts.poll_interval * (max - 1);
        Error::remote(format!(
            "no new {CONNECTOR_LABEL} connector profile appeared in StackOne (checked {max} times over {} s)",
            waited.as_secs()
        ))
        .with_hint(
            "create it in the dashboard (same project as the API key), then run the command again, or \
             give its id: --stackone-profile-id ID (the profile page's \"Copy connector ID\")",
        )
    }

    /// Lists until a Constant Contact profile satisfies `wanted` (bounded).
    async fn poll(
        &mut self,
        wanted: impl Fn(&ConnectorProfile) -> bool,
        failure: &str,
    ) -> Result<ConnectorProfile> {
        let max = self.opts.poll_attempts.max(1);
        for attempt in 1..=max {
            self.guide.on_poll(attempt, max);
            if let Some(p) = self.listed().await?.into_iter().find(|p| wanted(p)) {
                return Ok(p);
            }
            if attempt < max {
                tokio::time::sleep(self.opts.poll_interval).await;
            }
        }
        let waited = self.opts.poll_interval * (max - 1);
        Err(Error::remote(format!(
            "the {CONNECTOR_LABEL} connector profile {failure} in StackOne (checked {max} times over {} s)",
            waited.as_secs()
        ))
        .with_hint("check the Connector Profiles page of the StackOne dashboard, then run the command again"))
    }
}

/// How a wait that polled while the user was at the form ended.
enum Waited {
    /// New profiles appeared.
    Appeared(Vec<ConnectorProfile>),
    /// The user named a listed profile (its id or page URL).
    Named(ConnectorProfile),
}

/// What the user entered while waiting for their dashboard work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entered {
    /// Enter (or "y"/"yes"): done, check now.
    CheckNow,
    /// A profile id, or a page URL holding one.
    Id(String),
    /// Neither.
    Other,
}

/// Reads one line the user entered at the dashboard wait.
pub fn entered(line: &str) -> Entered {
    let t = line.trim();
    if t.is_empty() || t.eq_ignore_ascii_case("y") || t.eq_ignore_ascii_case("yes") {
        Entered::CheckNow
    } else if let Some(id) = profile_id_in(t) {
        Entered::Id(id)
    } else {
        Entered::Other
    }
}

/// What to say to a line that is neither Enter nor an id.
pub const ENTER_OR_PASTE: &str =
    "paste the connector ID (or the profile page's URL), or press Enter";

/// "StackOne has … named "Constant contact" (id …), not exactly …".
fn near_match_text(profile: &ConnectorProfile, wanted: &str) -> String {
    format!(
        "StackOne has a {CONNECTOR_LABEL} profile named \"{}\" (id {}), which is not exactly \
         \"{}\": ccsetup does not adopt it. Rename it to exactly \"{}\" in the dashboard, or \
         pass --stackone-profile-name with its exact name",
        printable(&profile.name),
        printable(&profile.id),
        wanted.trim(),
        wanted.trim()
    )
}

/// "name (id …, created …)" for a message.
fn describe(p: &ConnectorProfile) -> String {
    format!(
        "\"{}\" (id {}{})",
        printable(&p.name),
        printable(&p.id),
        p.created_at
            .as_deref()
            .map(|c| format!(", created {}", printable(c)))
            .unwrap_or_default()
    )
}

/// A name or id from StackOne, without control characters (it reaches a
/// terminal).
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

fn outcome(
    profile: &ConnectorProfile,
    action: ProfileAction,
    changed: Vec<ProfileField>,
) -> ProfileOutcome {
    ProfileOutcome {
        id: profile.id.clone(),
        name: profile.name.clone(),
        action,
        changed,
        verified: (action == ProfileAction::Dashboard).then_some("listed"),
    }
}

/// `--stackone-mode api` (or `dashboard`) and a refused write: StackOne's
/// own error for a refusal about the values (400/409/422), else "no such
/// endpoint".
fn api_mode_refusal(err: StackOneError, what: &str) -> Error {
    if err.is_not_offered() {
        not_offered(&err, what)
    } else {
        err.into()
    }
}

fn not_offered(err: &StackOneError, what: &str) -> Error {
    let status = err
        .status()
        .map(|s| format!(" (HTTP {s})"))
        .unwrap_or_default();
    Error::remote(format!(
        "StackOne's API does not offer a way to {what}{status}, and --stackone-mode api never \
         uses the dashboard"
    ))
    .with_hint("run with --stackone-mode auto or dashboard to be guided through the dashboard form")
}

#[cfg(test)]
mod tests {
    use super::profile_id_in;

    #[test]
    fn a_pasted_id_or_profile_page_url_gives_the_id() {
        assert_eq!(
            profile_id_in("  4613220120151 \n").as_deref(),
            Some("4613220120151")
        );
        assert_eq!(
            profile_id_in("http://127.0.0.1:9/dashboard/connector-profiles/abc-123").as_deref(),
            Some("abc-123")
        );
        assert_eq!(
            profile_id_in("https://app.stackone.com/connector-profiles/p_9/").as_deref(),
            Some("p_9"),
            "a trailing slash"
        );
        assert_eq!(profile_id_in(""), None);
        assert_eq!(profile_id_in("two words"), None);
        assert_eq!(profile_id_in("y; rm -rf"), None);
    }
}
