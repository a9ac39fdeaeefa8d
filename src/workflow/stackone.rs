//! StackOne workflows: the Connector Profile (API or dashboard), its
//! removal, and connect sessions. The StackOne API key reaches the client
//! here and nowhere else.

use secrecy::SecretString;

use super::dashboard_guide::WizardDashboardGuide;
use super::{Remote, Terminal};
use crate::config::{ProfileConfig, StackOneRecord};
use crate::error::{Error, Result};
use crate::stackone::{
    CONNECTOR_KEY, DEFAULT_STACKONE_PROFILE_NAME, DesiredProfile, PrintedDashboardGuide,
    ProfileAction, ProfileOutcome, RemoveOutcome, StackOneClient, StackOneMode,
};

fn client(remote: Remote<'_>, api_key: &SecretString) -> StackOneClient {
    StackOneClient::new(
        remote.http.clone(),
        remote.endpoints.stackone_api.clone(),
        api_key.clone(),
    )
}

/// The profile a saved setup wants, carrying `client_secret` — which is new
/// to StackOne (a rotation, or a re-creation), so it is always written.
pub fn desired_profile_from(
    settings: &ProfileConfig,
    client_secret: SecretString,
) -> DesiredProfile {
    DesiredProfile {
        name: settings
            .stackone_profile_name
            .clone()
            .unwrap_or_else(|| DEFAULT_STACKONE_PROFILE_NAME.to_string()),
        client_id: settings.client_id.clone(),
        client_secret,
        scopes: settings.scopes.clone(),
        actions: settings.stackone_actions.clone(),
        secret_changed: true,
    }
}

/// Records in the settings which StackOne profile holds this setup and the
/// values it now holds (as written, or as the user was told to type them:
/// the list never shows them). A dashboard create or edit is `listed` until
/// a link proves it ([`record_verified_link`]).
pub fn record_outcome(settings: &mut ProfileConfig, outcome: &ProfileOutcome) {
    settings.stackone_connector_profile_id = Some(outcome.id.clone());
    settings.stackone_profile_name = Some(outcome.name.clone());
    let record = &mut settings.stackone;
    record.seen_profile_ids = None;
    let written = outcome.action != ProfileAction::Unchanged || record.client_id.is_none();
    if written {
        record.client_id = Some(settings.client_id.clone());
        record.scopes = Some(settings.scopes.clone());
        record.actions = Some(settings.stackone_actions.clone());
    }
    match outcome.action {
        ProfileAction::Dashboard => record.verified = Some(VERIFIED_LISTED.into()),
        ProfileAction::Created | ProfileAction::Updated => record.verified = None,
        ProfileAction::Unchanged => {}
    }
}

/// `verified` after a dashboard create or edit: only the id was seen.
pub const VERIFIED_LISTED: &str = "listed";
/// `verified` once an account was linked through the profile.
pub const VERIFIED_LINKED: &str = "linked";

/// Records that a link through profile `id` worked: it holds this setup's
/// API Key and secret (a consent went through them), so a dashboard edit
/// the list could not show is done: the record takes the current values.
pub fn record_verified_link(settings: &mut ProfileConfig, id: &str) {
    if settings.stackone_connector_profile_id.as_deref() == Some(id) {
        settings.stackone.verified = Some(VERIFIED_LINKED.into());
        settings.stackone.client_id = Some(settings.client_id.clone());
        settings.stackone.scopes = Some(settings.scopes.clone());
        settings.stackone.actions = Some(settings.stackone_actions.clone());
    }
}

/// The StackOne record a new config of the same setup carries: the existing
/// one's, or — for a config written before records existed — the values it
/// last sent with its profile (client id, scopes, actions).
pub fn carried_record(existing: Option<&ProfileConfig>) -> StackOneRecord {
    let Some(e) = existing else {
        return StackOneRecord::default();
    };
    if !e.stackone.is_empty() || e.stackone_connector_profile_id.is_none() {
        return e.stackone.clone();
    }
    StackOneRecord {
        client_id: Some(e.client_id.clone()),
        scopes: Some(e.scopes.clone()),
        actions: Some(e.stackone_actions.clone()),
        ..StackOneRecord::default()
    }
}

/// What the record says the profile holds, when it says.
fn recorded_values(record: &StackOneRecord) -> Option<crate::stackone::RecordedValues> {
    Some(crate::stackone::RecordedValues {
        client_id: record.client_id.clone()?,
        scopes: record.scopes.clone().unwrap_or_default(),
        actions: record.actions.clone().unwrap_or_default(),
    })
}

/// Creates, updates or verifies the Connector Profile (API or dashboard).
/// With someone at the terminal the dashboard path asks and waits; without,
/// it prints the steps and the run stops with exit 4, recording in
/// `config.toml` the profile ids it listed so the next run adopts the new
/// one (docs/contract.md "StackOne API"). `settings`: the recorded profile
/// id and [`StackOneRecord`]; `adopt_id`: `--stackone-profile-id`.
#[allow(clippy::too_many_arguments)]
pub async fn ensure_profile(
    term: Terminal<'_>,
    remote: Remote<'_>,
    api_key: &SecretString,
    desired: DesiredProfile,
    mode: StackOneMode,
    settings: &ProfileConfig,
    adopt_id: Option<&str>,
    session: &super::ProfileSession,
) -> Result<ProfileOutcome> {
    let client = client(remote, api_key);
    let known_id = settings.stackone_connector_profile_id.as_deref();
    let record = carried_record(Some(settings));
    let mut options =
        crate::stackone::EnsureOptions::new(remote.endpoints.stackone_dashboard.clone());
    // The contract's wait: every 3 s, at most 10 minutes.
    options.poll_interval = std::time::Duration::from_secs(3);
    options.poll_attempts = 200;
    options.adopt_id = adopt_id
        .map(|id| crate::stackone::profile_id_in(id).unwrap_or_else(|| id.trim().to_string()));
    options.seen_before = record.seen_profile_ids.clone();
    options.recorded = recorded_values(&record);
    if term.prompter.is_interactive() {
        let mut guide = WizardDashboardGuide {
            io: term.io,
            prompter: term.prompter,
            browser: term.browser,
            spinner: None,
        };
        return crate::stackone::ensure_connector_profile(
            &client, &desired, mode, known_id, &mut guide, &options,
        )
        .await;
    }
    let mut guide = PrintedDashboardGuide::non_interactive(term.io);
    let result = crate::stackone::ensure_connector_profile(
        &client, &desired, mode, known_id, &mut guide, &options,
    )
    .await;
    if let Err(e) = &result
        && e.exit_code() == 4
        && let Some(ids) = guide.listed_before()
    {
        let ids = ids.to_vec();
        session.update_config(|p| p.stackone.seen_profile_ids = Some(ids))?;
    }
    result
}

/// The Constant Contact profile `id`, if StackOne lists it.
pub async fn find_profile(
    remote: Remote<'_>,
    api_key: &SecretString,
    id: &str,
) -> Result<Option<crate::stackone::ConnectorProfile>> {
    let profiles = client(remote, api_key)
        .list_profiles(CONNECTOR_KEY)
        .await
        .map_err(Error::from)?;
    Ok(profiles.into_iter().find(|p| p.id == id))
}

/// Proves that StackOne accepts `api_key` with one read-only call (the list
/// of Constant Contact profiles): a wrong key is then found before anything
/// else happens. A refused key is the client's exit-2 error.
pub async fn check_api_key(remote: Remote<'_>, api_key: &SecretString) -> Result<()> {
    client(remote, api_key)
        .list_profiles(CONNECTOR_KEY)
        .await
        .map(|_| ())
        .map_err(Error::from)
}

/// Deletes the Connector Profile; where StackOne's API refuses, prints the
/// dashboard step instead. Returns whether it is gone.
pub async fn delete_profile(
    term: Terminal<'_>,
    remote: Remote<'_>,
    api_key: &SecretString,
    id: &str,
) -> Result<bool> {
    let client = client(remote, api_key);
    match crate::stackone::remove_connector_profile(&client, id).await? {
        RemoveOutcome::Deleted => {
            term.io
                .success(format!("Deleted the StackOne Connector Profile {id}."));
            Ok(true)
        }
        RemoveOutcome::AlreadyGone => {
            term.io.info(format!(
                "The StackOne Connector Profile {id} was already gone."
            ));
            Ok(true)
        }
        RemoveOutcome::NotOffered => {
            let profiles = client
                .list_profiles(CONNECTOR_KEY)
                .await
                .map_err(Error::from)?;
            if let Some(profile) = profiles.iter().find(|p| p.id == id) {
                let steps = crate::stackone::delete_steps(
                    remote.endpoints.stackone_dashboard.clone(),
                    profile,
                );
                term.io.warn(
                    "StackOne's API does not delete Connector Profiles; do it in the dashboard:",
                );
                let text = steps.render(crate::stackone::dashboard::SECRET_NOT_SHOWN);
                term.io.always(text.strip_suffix('\n').unwrap_or(&text));
            }
            Ok(false)
        }
    }
}

/// A connect session, as `link` shows it (never the session token).
pub struct ConnectSession {
    pub id: String,
    pub auth_link_url: String,
    pub expires_at: String,
}

/// Who the connect session is for.
#[derive(Clone, Copy)]
pub struct SessionOwner<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub label: Option<&'a str>,
}

pub async fn create_connect_session(
    remote: Remote<'_>,
    api_key: &SecretString,
    owner: SessionOwner<'_>,
    profile_id: Option<&str>,
) -> Result<ConnectSession> {
    let session = client(remote, api_key)
        .create_connect_session(&crate::stackone::ConnectSessionRequest {
            origin_owner_id: owner.id.to_string(),
            origin_owner_name: owner.name.to_string(),
            provider: Some(CONNECTOR_KEY.to_string()),
            label: owner.label.map(str::to_string),
            connector_profile_id: profile_id.map(str::to_string),
            expires_in: None,
            legacy_profile_field: false,
        })
        .await
        .map_err(Error::from)?;
    Ok(ConnectSession {
        id: session.id,
        auth_link_url: session.auth_link_url,
        expires_at: session.expires_at,
    })
}

/// How `link --wait` follows a connect session.
#[derive(Debug, Clone, Copy)]
pub struct WaitOptions {
    /// Between two reads of the session (docs/contract.md: 2 s).
    pub interval: std::time::Duration,
    /// When to stop waiting (`--wait-timeout`).
    pub timeout: std::time::Duration,
}

/// How a connect session ended, or that it has not yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Linked; the account id when StackOne gives one.
    Authenticated { account_id: Option<String> },
    /// `error` or `cancelled`, with Constant Contact's OAuth error if any.
    Failed {
        status: String,
        oauth_error_code: Option<String>,
        oauth_error_description: Option<String>,
    },
    /// The wait ended first.
    Pending,
}

impl LinkOutcome {
    /// `status` of `link --json`.
    pub fn status(&self) -> &str {
        match self {
            LinkOutcome::Authenticated { .. } => "authenticated",
            LinkOutcome::Failed { status, .. } => status,
            LinkOutcome::Pending => "pending",
        }
    }
}

/// The Constant Contact accounts an owner had linked when the link
/// started: where StackOne cannot report a session, the one not among them
/// is the new link (docs/contract.md "`link` without `GET /connect_sessions/{id}`").
#[derive(Debug, Clone)]
pub struct AccountWatch {
    pub owner_id: String,
    pub before: Vec<String>,
}

/// Lists `owner_id`'s linked Constant Contact accounts now (before the link).
pub async fn watch_accounts(
    remote: Remote<'_>,
    api_key: &SecretString,
    owner_id: &str,
) -> Result<AccountWatch> {
    let before = client(remote, api_key)
        .list_accounts_of(CONNECTOR_KEY, Some(owner_id))
        .await
        .map_err(Error::from)?
        .into_iter()
        .map(|a| a.id)
        .collect();
    Ok(AccountWatch {
        owner_id: owner_id.to_string(),
        before,
    })
}

/// Follows `GET /connect_sessions/{id}` every `interval` until the latest
/// connection attempt is `authenticated`, `error` or `cancelled`, or
/// `timeout` passes; a spinner shows it is waiting. Where that endpoint
/// answers 404/405/501 (only StackOne's newest SDK has it), it says so once
/// and follows `watch`'s owner's linked accounts instead (every 1.5
/// `interval`: 3 s by default) until one appears that was not there before.
pub async fn wait_for_link(
    io: &mut crate::ui::IoStreams,
    remote: Remote<'_>,
    api_key: &SecretString,
    session_id: &str,
    watch: &AccountWatch,
    options: WaitOptions,
) -> Result<LinkOutcome> {
    let client = client(remote, api_key);
    let started = std::time::Instant::now();
    // `--wait-timeout` bounds the whole wait: a read that hangs (with its
    // own timeouts and retries) is cut off at the deadline too
    // (docs/contract.md `link`).
    let deadline = tokio::time::Instant::now() + options.timeout;
    let mut following_accounts = false;
    let spinner = io.spinner("Waiting for the account to be linked in the StackOne hub");
    loop {
        if following_accounts {
            let read = tokio::time::timeout_at(
                deadline,
                client.list_accounts_of(CONNECTOR_KEY, Some(&watch.owner_id)),
            );
            let Ok(read) = read.await else {
                tracing::debug!("the wait ended during a read of the linked accounts");
                return Ok(LinkOutcome::Pending);
            };
            let now = read.map_err(Error::from)?;
            if let Some(new) = now.into_iter().find(|a| !watch.before.contains(&a.id)) {
                return Ok(LinkOutcome::Authenticated {
                    account_id: Some(new.id),
                });
            }
        } else {
            let read = tokio::time::timeout_at(deadline, client.get_connect_session(session_id));
            let Ok(read) = read.await else {
                tracing::debug!("the wait ended during a read of the connect session");
                return Ok(LinkOutcome::Pending);
            };
            match read {
                Ok(state) => {
                    if let Some(attempt) = state.latest_connection_attempt {
                        match attempt.status.as_str() {
                            "authenticated" => {
                                return Ok(LinkOutcome::Authenticated {
                                    account_id: attempt.account_secure_id,
                                });
                            }
                            "error" | "cancelled" => {
                                return Ok(LinkOutcome::Failed {
                                    status: attempt.status,
                                    oauth_error_code: attempt.oauth_error_code,
                                    oauth_error_description: attempt.oauth_error_description,
                                });
                            }
                            other => spinner.set_message(format!(
                                "Waiting for the account to be linked in the StackOne hub ({})",
                                crate::render::remote_text(if other.is_empty() {
                                    "pending"
                                } else {
                                    other
                                })
                            )),
                        }
                    }
                }
                // Only StackOne's newest API documents reading a session back.
                // The spinner keeps spinning: the warning clears its line
                // and it is drawn again below (IoStreams::warn).
                Err(e) if e.is_not_offered() => {
                    io.warn(format!(
                        "This StackOne cannot report how linking went (GET /connect_sessions/{{id}}: HTTP {}); \
                         following the linked accounts of {} instead.",
                        e.status().unwrap_or_default(),
                        crate::render::remote_text(&watch.owner_id)
                    ));
                    spinner.set_message("Waiting for a new linked account in StackOne");
                    following_accounts = true;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        let elapsed = started.elapsed();
        if elapsed >= options.timeout {
            return Ok(LinkOutcome::Pending);
        }
        let interval = if following_accounts {
            options.interval * 3 / 2
        } else {
            options.interval
        };
        tokio::time::sleep(interval.min(options.timeout - elapsed)).await;
    }
}

/// The Constant Contact accounts linked in StackOne, every page.
pub async fn linked_accounts(
    remote: Remote<'_>,
    api_key: &SecretString,
) -> Result<Vec<crate::stackone::LinkedAccount>> {
    client(remote, api_key)
        .list_accounts(CONNECTOR_KEY)
        .await
        .map_err(Error::from)
}

/// The StackOne API key by the one rule of [`super::secrets`]: stdin, preset
/// or environment, then the store, then a prompt.
pub async fn api_key(
    term: &mut Terminal<'_>,
    sources: &super::secrets::SecretSources,
    session: &super::ProfileSession,
    from_stdin: bool,
) -> Result<SecretString> {
    use super::secrets::{SecretInput, no_check};
    let input = &SecretInput::STACKONE_API_KEY;
    let stored = if sources.is_given(input, from_stdin) {
        None
    } else {
        session
            .get(crate::store::SecretKind::StackOneApiKey)
            .await?
    };
    sources
        .resolve(term.io, term.prompter, input, from_stdin, stored, &no_check)
        .map_err(|e| {
            if e.exit_code() != 2 || !e.message().starts_with("missing ") {
                return e;
            }
            let hint = [e.hint().unwrap_or_default(), DEMO_KEY_HINT]
                .iter()
                .filter(|h| !h.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join("; ");
            e.with_hint(hint)
        })
}

/// Where the demo's StackOne key is (issue: a newcomer trying commands
/// against `demo --serve` is asked for a key they never made).
pub const DEMO_KEY_HINT: &str = "in `ccsetup demo` the stand-in StackOne dashboard's API Keys page \
     (/dashboard/api-keys) shows the demo's key, and `demo --serve` exports it as STACKONE_API_KEY";

/// The error that ends `link --wait` (exit 3), or `None` when linked.
pub fn link_error(
    outcome: &LinkOutcome,
    wait_timeout_secs: u64,
    expires_at: &str,
) -> Option<Error> {
    match outcome {
        LinkOutcome::Authenticated { .. } => None,
        LinkOutcome::Failed {
            status,
            oauth_error_code,
            oauth_error_description,
        } => Some(link_failed(
            status,
            oauth_error_code.as_deref(),
            oauth_error_description.as_deref(),
        )),
        LinkOutcome::Pending => Some(
            Error::authorization(format!(
                "not linked yet: nobody finished linking within {wait_timeout_secs} s"
            ))
            .with_hint(format!(
                "the link stays valid until {expires_at}; run `ccsetup status` later to see linked accounts"
            )),
        ),
    }
}

/// "Linked: …'s Constant Contact account is connected in StackOne (account …)."
pub fn linked_line(owner_name: &str, outcome: &LinkOutcome) -> String {
    match outcome {
        LinkOutcome::Authenticated {
            account_id: Some(id),
        } => format!(
            "Linked: {owner_name}'s Constant Contact account is connected in StackOne (account {}).",
            crate::render::remote_text(id)
        ),
        _ => format!("Linked: {owner_name}'s Constant Contact account is connected in StackOne."),
    }
}

/// Proves a Connector Profile end to end: a connect session for the user's
/// own test account, the hub link opened (or printed), and the wait. The
/// dashboard path needs it: StackOne's API cannot show a profile's
/// credentials, so only a real link shows they are right.
pub async fn prove_profile(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    api_key: &SecretString,
    owner: SessionOwner<'_>,
    profile_id: &str,
    wait: WaitOptions,
) -> Result<()> {
    let watch = watch_accounts(remote, api_key, owner.id).await?;
    let session = create_connect_session(remote, api_key, owner, Some(profile_id)).await?;
    term.io.info(format!(
        "Open this link, click Connect and allow access (valid until {}):\n{}",
        session.expires_at, session.auth_link_url
    ));
    term.open_in_browser(&session.auth_link_url);
    let outcome = wait_for_link(term.io, remote, api_key, &session.id, &watch, wait).await?;
    match link_error(&outcome, wait.timeout.as_secs(), &session.expires_at) {
        Some(err) => Err(err),
        None => {
            term.io.success(format!(
                "{} The Connector Profile's credentials work.",
                linked_line(owner.name, &outcome)
            ));
            Ok(())
        }
    }
}

/// The owner of the connect session that proves a profile.
pub const PROOF_OWNER_ID: &str = "ccsetup-self-test";

/// How long a link wait lasts unless told otherwise (`link --wait-timeout`'s
/// default, docs/contract.md `link`: 600 s); the proof waits as long.
pub const PROOF_WAIT: std::time::Duration = std::time::Duration::from_secs(600);

/// The command that proves a profile by linking the user's own test account.
pub fn proof_command(local_profile: &str) -> String {
    format!(
        "ccsetup{} link --origin-owner-id {PROOF_OWNER_ID} --origin-owner-name \"My test user\" --wait",
        if local_profile == "default" {
            String::new()
        } else {
            format!(" --profile {local_profile}")
        }
    )
}

/// After a dashboard create or edit, the list cannot prove the credentials:
/// with someone at the terminal, offer (default yes) to link their own test
/// account through the profile at once and say what was found; otherwise
/// print the command. Returns whether an account was linked; a failed link
/// is its error (e.g. `invalid_client`: exit 3 with the fix).
pub async fn offer_link_proof(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    api_key: &SecretString,
    profile_id: &str,
    local_profile: &str,
) -> Result<bool> {
    let command = proof_command(local_profile);
    if !term.prompter.is_interactive() {
        term.io.info(format!(
            "StackOne's API cannot show the profile's credentials. Prove them by linking your own \
             Constant Contact test user:\n  {command}"
        ));
        return Ok(false);
    }
    term.io.info(
        "Sign in as a separate Constant Contact test user, not the one ccsetup authorized: a new \
         authorization of the same user and app can expire the older refresh token.",
    );
    if !term.prompter.confirm(
        "Prove the StackOne profile now by linking your own test account (link --wait)?",
        true,
    )? {
        term.io.info(format!("Not proven yet. Later: {command}"));
        return Ok(false);
    }
    prove_profile(
        term,
        remote,
        api_key,
        SessionOwner {
            id: PROOF_OWNER_ID,
            name: "My test user",
            label: Some("ccsetup self-test"),
        },
        profile_id,
        WaitOptions {
            interval: std::time::Duration::from_secs(2),
            timeout: PROOF_WAIT,
        },
    )
    .await
    .map(|()| true)
}

/// Exit 3 with StackOne's `oauth_error_code`/`description` and the fix.
fn link_failed(status: &str, code: Option<&str>, description: Option<&str>) -> Error {
    let code = code
        .map(crate::render::remote_text)
        .filter(|c| !c.is_empty());
    let description = description
        .map(crate::render::remote_text)
        .filter(|d| !d.is_empty());
    let mut message = format!("linking did not work: StackOne reports the attempt as {status}");
    if let Some(c) = &code {
        message.push_str(&format!(" ({c}"));
        if let Some(d) = &description {
            message.push_str(&format!(": {d}"));
        }
        message.push(')');
    } else if let Some(d) = &description {
        message.push_str(&format!(" ({d})"));
    }
    let hint = match (status, code.as_deref()) {
        (_, Some("invalid_client")) => {
            "Constant Contact refused the StackOne Connector Profile's credentials: its Client Secret \
             (or API Key) is wrong. Run `ccsetup rotate --client-secret` to give it a new secret, or \
             correct the Client Secret in the profile on the StackOne dashboard; then run \
             `ccsetup link --wait` again"
        }
        (_, Some("access_denied")) => {
            "access was declined on Constant Contact's consent page; run `ccsetup link` again and allow access"
        }
        (_, Some("invalid_scope")) => {
            "Constant Contact refused the profile's scopes: correct Scopes in the Connector Profile on the \
             StackOne dashboard, then run `ccsetup link --wait` again"
        }
        (_, Some("invalid_request" | "invalid_grant")) => {
            "check that the Constant Contact app lists StackOne's redirect URI \
             https://api.stackone.com/connect/oauth2/constantcontact/callback, then run `ccsetup link --wait` again"
        }
        ("cancelled", _) => {
            "linking was cancelled in the hub; run `ccsetup link` again for a new link"
        }
        _ => {
            "check the Connector Profile on the StackOne dashboard (`ccsetup status` shows whether it is \
             enabled), then run `ccsetup link --wait` again"
        }
    };
    Error::authorization(message).with_hint(hint)
}
