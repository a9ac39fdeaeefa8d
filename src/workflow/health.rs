//! The checks `status` reports, one function each: what each part of a
//! saved setup looks like now, with the reason and the fix. Each takes only
//! what it probes; `status` decides their order and what runs at once.

use serde::Serialize;

use super::Remote;
use super::authorize::{CheckLevel, redirect_target_of};
use crate::config::ProfileConfig;
use crate::constant_contact::probe::{SecretProbe, probe_client_secret};
use crate::error::Result;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Ok,
    /// Works, but something needs attention; does not make `ok` false.
    Warning,
    Missing,
    Failing,
    Skipped,
}

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Warning => "warning",
            CheckStatus::Missing => "missing",
            CheckStatus::Failing => "failing",
            CheckStatus::Skipped => "skipped",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: CheckStatus,
    pub detail: String,
}

pub fn check(name: &'static str, status: CheckStatus, detail: impl Into<String>) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
    }
}

/// The secret check spends nothing: a token request with an invalid code.
/// Returns the check and whether Constant Contact refused the secret.
pub async fn client_secret_check(
    remote: Remote<'_>,
    settings: &ProfileConfig,
    stored: Option<secrecy::SecretString>,
    offline: bool,
) -> (Check, bool) {
    use CheckStatus as S;
    let Some(secret) = stored else {
        return (
            check(
                "client_secret",
                S::Missing,
                "not stored; run `ccsetup rotate --client-secret`",
            ),
            false,
        );
    };
    if offline {
        return (
            check("client_secret", S::Ok, "stored (--offline: not checked)"),
            false,
        );
    }
    let redirect_uri = redirect_target_of(settings).map_or_else(
        |_| crate::oauth::local_redirect_uri(settings.redirect_port),
        |t| t.uri().to_string(),
    );
    match probe_client_secret(
        remote.http,
        &remote.endpoints.cc_token,
        &settings.client_id,
        &secret,
        &redirect_uri,
    )
    .await
    {
        SecretProbe::Accepted => (
            check(
                "client_secret",
                S::Ok,
                "stored; Constant Contact accepts it (checked without spending a token)",
            ),
            false,
        ),
        SecretProbe::Refused => (
            check(
                "client_secret",
                S::Failing,
                format!(
                    "Constant Contact refuses it (invalid_client): {}",
                    crate::hints::hint(
                        crate::hints::Problem::InvalidClient,
                        crate::hints::Command::Status,
                        crate::hints::State::SetUp
                    )
                ),
            ),
            true,
        ),
        SecretProbe::Unknown(why) => (
            check(
                "client_secret",
                S::Warning,
                format!("stored; could not check it: {why}"),
            ),
            false,
        ),
    }
}

/// `refresh_token_type` of `status --json`: what `init` found, else
/// `unknown` (a setup from before it was recorded, or never checked).
pub fn refresh_token_type(settings: &ProfileConfig) -> &'static str {
    match settings.refresh_token_type.as_deref() {
        Some("rotating") => "rotating",
        Some("long_lived") => "long_lived",
        _ => "unknown",
    }
}

pub fn refresh_token_check(settings: &ProfileConfig, has_refresh: bool) -> Check {
    use CheckStatus as S;
    if has_refresh {
        match refresh_token_type(settings) {
            "rotating" => check(
                "refresh_token",
                S::Ok,
                "stored (rotating: each refresh replaces it; status does not redeem it needlessly)",
            ),
            "long_lived" => check(
                "refresh_token",
                S::Warning,
                format!(
                    "stored, long-lived: it never rotates, and the guide asks for rotating ones; {}",
                    crate::hints::hint(
                        crate::hints::Problem::LongLivedRefreshTokens,
                        crate::hints::Command::Status,
                        crate::hints::State::SetUp
                    )
                ),
            ),
            _ => check(
                "refresh_token",
                S::Ok,
                "stored (whether it rotates was not recorded; status does not redeem it needlessly)",
            ),
        }
    } else if settings.authorized_at.is_none() {
        check(
            "refresh_token",
            S::Skipped,
            "not authorized (init --skip-authorize)",
        )
    } else if !crate::constant_contact::grants_refresh_token(&settings.scopes) {
        // None was asked for: not a missing part of this setup.
        check(
            "refresh_token",
            S::Skipped,
            "not requested (the scopes lack offline_access; the access token cannot be renewed)",
        )
    } else {
        check(
            "refresh_token",
            S::Missing,
            "not stored; run `ccsetup rotate --reauthorize`",
        )
    }
}

/// Whose account the access token reaches (one API call).
pub async fn account_check(remote: Remote<'_>, token: &crate::store::StoredAccessToken) -> Check {
    use CheckStatus as S;
    let scopes: Vec<String> = token.scope.split(' ').map(str::to_string).collect();
    if !crate::constant_contact::grants_account_read(&scopes) {
        return check("account", S::Skipped, "the scopes lack account_read");
    }
    let secret = secrecy::SecretString::from(token.access_token.clone());
    match crate::constant_contact::fetch_account_summary(
        remote.http,
        &remote.endpoints.cc_api,
        &secret,
    )
    .await
    {
        Ok(a) => check(
            "account",
            S::Ok,
            format!(
                "{} <{}>",
                a.organization_name.unwrap_or_default(),
                a.contact_email.unwrap_or_default()
            ),
        ),
        Err(e) => check("account", S::Failing, e.message()),
    }
}

/// The StackOne profile and its linked accounts (two independent lists,
/// fetched at once); the accounts themselves for the JSON.
pub async fn stackone_checks(
    remote: Remote<'_>,
    settings: &ProfileConfig,
    key: Option<&secrecy::SecretString>,
    offline: bool,
) -> (Check, Check, Option<Vec<crate::stackone::LinkedAccount>>) {
    use CheckStatus as S;
    let Some(profile_id) = settings.stackone_connector_profile_id.as_deref() else {
        let (status, detail) = if settings.stackone_profile_name.is_none() {
            (S::Skipped, "not configured (init --skip-stackone)")
        } else {
            (
                S::Missing,
                "no Connector Profile recorded; run `ccsetup init`",
            )
        };
        return (
            check("stackone_profile", status, detail),
            check("stackone_accounts", S::Skipped, "no Connector Profile"),
            None,
        );
    };
    if offline {
        return (
            check(
                "stackone_profile",
                S::Skipped,
                format!("{profile_id} (--offline)"),
            ),
            check("stackone_accounts", S::Skipped, "--offline"),
            None,
        );
    }
    let Some(key) = key else {
        let why = "no StackOne API key stored or in STACKONE_API_KEY";
        return (
            check("stackone_profile", S::Skipped, why),
            check("stackone_accounts", S::Skipped, why),
            None,
        );
    };
    let (found, listed) = tokio::join!(
        super::stackone::find_profile(remote, key, profile_id),
        super::stackone::linked_accounts(remote, key),
    );
    let accounts_check = stackone_accounts_check(&listed);
    let mut profile_check = stackone_profile_check(found, profile_id);
    if profile_check.status == S::Ok {
        // The list cannot show credentials: say how far the profile is proven.
        match settings.stackone.verified.as_deref() {
            Some(super::stackone::VERIFIED_LISTED) => profile_check.detail.push_str(
                "; not verified: made or edited in the dashboard and only listed since \
                 (prove it: ccsetup link --origin-owner-id ccsetup-self-test --origin-owner-name \"My test user\" --wait)",
            ),
            Some(super::stackone::VERIFIED_LINKED) => profile_check
                .detail
                .push_str("; verified: an account was linked through it"),
            _ => {}
        }
    }
    (profile_check, accounts_check, listed.ok())
}

/// The profile must be listed and enabled: a disabled profile is hidden
/// from the Hub and its accounts go inactive (docs/vendors.md §5).
pub fn stackone_profile_check(
    found: Result<Option<crate::stackone::ConnectorProfile>>,
    profile_id: &str,
) -> Check {
    use CheckStatus as S;
    match found {
        Ok(Some(p)) if p.active == Some(false) => check(
            "stackone_profile",
            S::Failing,
            format!(
                "{} ({profile_id}) is disabled in StackOne: the Hub hides it and its accounts go \
                 inactive; enable it on the dashboard's Connector Profiles page",
                crate::render::remote_text(&p.name)
            ),
        ),
        Ok(Some(p)) => check(
            "stackone_profile",
            S::Ok,
            format!("{} ({profile_id})", crate::render::remote_text(&p.name)),
        ),
        Ok(None) => check(
            "stackone_profile",
            S::Failing,
            format!(
                "{profile_id} is not listed by StackOne any more; run `ccsetup init` to re-create it"
            ),
        ),
        Err(e) => check("stackone_profile", S::Failing, e.message()),
    }
}

/// Linked Constant Contact accounts: a warning names those in `error` or
/// `expired` (their customer must link again).
pub fn stackone_accounts_check(listed: &Result<Vec<crate::stackone::LinkedAccount>>) -> Check {
    use CheckStatus as S;
    let accounts = match listed {
        Ok(a) => a,
        Err(e) => return check("stackone_accounts", S::Failing, e.message()),
    };
    if accounts.is_empty() {
        return check(
            "stackone_accounts",
            S::Ok,
            "no Constant Contact account linked yet; `ccsetup link` sends a customer the link",
        );
    }
    let broken: Vec<String> = accounts
        .iter()
        .filter(|a| matches!(a.status.as_str(), "error" | "expired"))
        .map(|a| {
            let owner = a
                .origin_owner_name
                .as_deref()
                .or(a.origin_owner_id.as_deref())
                .unwrap_or("unknown customer");
            crate::render::remote_text(&format!("{} ({owner}): {}", a.id, a.status))
        })
        .collect();
    if broken.is_empty() {
        check(
            "stackone_accounts",
            S::Ok,
            format!("{} linked, none in error or expired", accounts.len()),
        )
    } else {
        check(
            "stackone_accounts",
            S::Warning,
            format!(
                "{} of {} linked need linking again ({}); `ccsetup link --origin-owner-id …` sends a new link",
                broken.len(),
                accounts.len(),
                broken.join(", ")
            ),
        )
    }
}

/// the contract's registration check, as `status` reports it.
pub async fn app_registration_check(remote: Remote<'_>, settings: &ProfileConfig) -> Check {
    let (level, detail, fix) = super::authorize::saved_registration_check(remote, settings).await;
    let status = match level {
        CheckLevel::Ok => CheckStatus::Ok,
        CheckLevel::Warning => CheckStatus::Warning,
        CheckLevel::Failing => CheckStatus::Failing,
    };
    let detail = match fix {
        Some(fix) => format!("{detail}; fix: {fix}"),
        None => detail,
    };
    check("app_registration", status, detail)
}
