//! `ccsetup status`: one line per part, each ok / warning / missing /
//! failing / skipped with the reason (warning and skipped do not make `ok`
//! false). Never redeems a refresh token needlessly: the
//! access token is refreshed (safely) only when the cached one expired.

use serde::Serialize;
use serde_json::json;

use crate::cli::StatusArgs;
use crate::clock::{now_unix, rfc3339};
use crate::config;
use crate::constant_contact::probe::{SecretProbe, probe_client_secret};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::oauth::token::INVALID_CLIENT_HINT;
use crate::render::{CheckRow, check_table};
use crate::store::SecretKind;
use crate::workflow::authorize::{CheckLevel, redirect_target_of};
use crate::workflow::secrets::SecretInput;
use crate::workflow::tokens::{self, ACCESS_TOKEN_MIN_SECS};

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

fn check(name: &'static str, status: CheckStatus, detail: impl Into<String>) -> Check {
    Check {
        name,
        status,
        detail: detail.into(),
    }
}

pub async fn run(ctx: &mut Context, args: StatusArgs) -> Result<()> {
    let mut accounts = Vec::new();
    let checks = collect(ctx, args.offline, &mut accounts).await;
    let ok = !checks.is_empty()
        && checks.iter().all(|c| {
            matches!(
                c.status,
                CheckStatus::Ok | CheckStatus::Warning | CheckStatus::Skipped
            )
        })
        && checks
            .iter()
            .any(|c| c.name == "config" && c.status == CheckStatus::Ok);
    if ctx.io.json {
        let accounts: Vec<serde_json::Value> = accounts
            .iter()
            .map(|a| {
                json!({
                    "id": a.id,
                    "status": a.status,
                    "origin_owner_id": a.origin_owner_id,
                    "origin_owner_name": a.origin_owner_name,
                    "label": a.label,
                })
            })
            .collect();
        ctx.io.print_json(&json!({
            "profile": ctx.profile,
            "ok": ok,
            "checks": checks,
            "stackone_accounts": accounts,
        }))?;
    } else {
        let rows = checks.iter().map(|c| CheckRow {
            name: c.name,
            status: c.status.as_str(),
            detail: &c.detail,
            fix: None,
        });
        ctx.io.println(format!(
            "Profile {}:\n{}",
            ctx.profile,
            check_table(rows, "  ")
        ));
    }
    if ok {
        Ok(())
    } else {
        Err(Error::failure("some parts are missing or failing").with_hint(
            "`ccsetup init` sets up what is missing; `ccsetup rotate --reauthorize` renews a dead refresh token",
        ))
    }
}

async fn collect(
    ctx: &mut Context,
    offline: bool,
    accounts: &mut Vec<crate::stackone::LinkedAccount>,
) -> Vec<Check> {
    use CheckStatus as S;
    let mut checks = Vec::new();
    let names_after_config = [
        "secret_store",
        "client_secret",
        "refresh_token",
        "access_token",
        "account",
        "app_registration",
        "stackone_profile",
        "stackone_accounts",
    ];

    let file = match config::load(&ctx.config_dir) {
        Ok(f) => f,
        Err(e) => {
            checks.push(check("config", S::Failing, e.message()));
            checks.extend(names_after_config.map(|n| check(n, S::Skipped, "config unreadable")));
            return checks;
        }
    };
    let Some(profile_config) = file.profiles.get(&ctx.profile).cloned() else {
        checks.push(check(
            "config",
            S::Missing,
            format!(
                "no profile \"{}\" in {}; run `ccsetup init`",
                ctx.profile,
                config::config_path(&ctx.config_dir).display()
            ),
        ));
        checks.extend(names_after_config.map(|n| check(n, S::Skipped, "not set up")));
        return checks;
    };
    checks.push(check(
        "config",
        S::Ok,
        format!(
            "{} (API Key {})",
            config::config_path(&ctx.config_dir).display(),
            profile_config.client_id
        ),
    ));

    // The store works when it opens and answers a read.
    let opened = match ctx.session(Some(profile_config.secret_store)) {
        Ok(session) => session
            .get(SecretKind::ClientSecret)
            .await
            .map(|secret| (session, secret)),
        Err(e) => Err(e),
    };
    let (session, client_secret) = match opened {
        Ok(opened) => opened,
        Err(e) => {
            checks.push(check("secret_store", S::Failing, e.message()));
            checks.extend(
                names_after_config[1..]
                    .iter()
                    .map(|n| check(n, S::Skipped, "secret store unavailable")),
            );
            return checks;
        }
    };
    checks.push(check("secret_store", S::Ok, session.store().describe()));
    let Ok((term, remote, sources)) = ctx.parts() else {
        checks.extend(
            names_after_config[1..]
                .iter()
                .map(|n| check(n, S::Skipped, "no HTTP client")),
        );
        return checks;
    };
    // Local facts first; then the network checks run at once in three
    // independent groups (Constant Contact's token and account, the app's
    // registration, StackOne), reported in the fixed order. Only what
    // depends on an answer waits for it, and nothing that spends a refresh
    // token runs before the secret check allows it.
    let has_refresh = matches!(session.get(SecretKind::RefreshToken).await, Ok(Some(_)));
    let refresh_check = refresh_token_check(&profile_config, has_refresh);
    let cached = tokens::cached_access_token(&session).await.ok().flatten();
    let cache_is_fresh = cached
        .as_ref()
        .is_some_and(|t| t.is_fresh(now_unix(), ACCESS_TOKEN_MIN_SECS));
    // The one rule: a value given to this call wins over the stored one.
    let given_secret = sources
        .read_given(
            &SecretInput::CLIENT_SECRET,
            false,
            &crate::workflow::secrets::no_check,
        )
        .ok()
        .flatten();
    let stackone_key = match sources.given(SecretInput::STACKONE_API_KEY.env) {
        Some((k, _)) => Some(k),
        None => session.get(SecretKind::StackOneApiKey).await.ok().flatten(),
    };

    let secret_probe = client_secret_check(remote, &profile_config, client_secret, offline);
    let constant_contact = async {
        if offline {
            let (secret, _) = secret_probe.await;
            let token = match &cached {
                Some(t) if cache_is_fresh => check(
                    "access_token",
                    S::Ok,
                    format!("cached, valid until {}", rfc3339(t.expires_at)),
                ),
                Some(_) => check(
                    "access_token",
                    S::Skipped,
                    "cached token expired; refreshing needs the network",
                ),
                None => check(
                    "access_token",
                    S::Skipped,
                    "none cached; refreshing needs the network",
                ),
            };
            return (secret, token, check("account", S::Skipped, "--offline"));
        }
        if !has_refresh && profile_config.authorized_at.is_none() {
            let (secret, _) = secret_probe.await;
            return (
                secret,
                check("access_token", S::Skipped, "not authorized"),
                check("account", S::Skipped, "not authorized"),
            );
        }
        let token_then_account = async {
            match tokens::valid_access_token(
                &session,
                remote,
                term.io,
                &profile_config,
                given_secret,
                false,
            )
            .await
            {
                Ok((t, _)) => (
                    check(
                        "access_token",
                        S::Ok,
                        format!("valid until {}", rfc3339(t.expires_at)),
                    ),
                    account_check(remote, &t).await,
                ),
                Err(e) => (
                    check("access_token", S::Failing, e.message()),
                    check("account", S::Skipped, "no valid access token"),
                ),
            }
        };
        if cache_is_fresh {
            // No refresh is needed: the account check need not wait.
            let ((secret, _), (token, account)) = tokio::join!(secret_probe, token_then_account);
            return (secret, token, account);
        }
        let (secret, refused) = secret_probe.await;
        if refused {
            // A refresh with a refused secret cannot work: not even tried.
            return (
                secret,
                check(
                    "access_token",
                    S::Skipped,
                    "not refreshed: Constant Contact refuses the Client Secret",
                ),
                check("account", S::Skipped, "no valid access token"),
            );
        }
        let (token, account) = token_then_account.await;
        (secret, token, account)
    };

    let registration = async {
        if offline {
            check("app_registration", S::Skipped, "--offline")
        } else {
            app_registration_check(remote, &profile_config).await
        }
    };
    let stackone = stackone_checks(remote, &profile_config, stackone_key.as_ref(), offline);

    let ((secret, token, account), registration, (profile, linked, listed)) =
        tokio::join!(constant_contact, registration, stackone);
    checks.extend([
        secret,
        refresh_check,
        token,
        account,
        registration,
        profile,
        linked,
    ]);
    if let Some(listed) = listed {
        *accounts = listed;
    }
    checks
}

/// The secret check spends nothing: a token request with an invalid code.
/// Returns the check and whether Constant Contact refused the secret.
async fn client_secret_check(
    remote: crate::workflow::Remote<'_>,
    settings: &crate::config::ProfileConfig,
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
                    "Constant Contact refuses it (invalid_client): a new Client Secret was generated? run `ccsetup rotate`. {INVALID_CLIENT_HINT}"
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

fn refresh_token_check(settings: &crate::config::ProfileConfig, has_refresh: bool) -> Check {
    use CheckStatus as S;
    if has_refresh {
        check(
            "refresh_token",
            S::Ok,
            "stored (single-use; status does not redeem it needlessly)",
        )
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
async fn account_check(
    remote: crate::workflow::Remote<'_>,
    token: &crate::store::StoredAccessToken,
) -> Check {
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
async fn stackone_checks(
    remote: crate::workflow::Remote<'_>,
    settings: &crate::config::ProfileConfig,
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
        crate::workflow::stackone::find_profile(remote, key, profile_id),
        crate::workflow::stackone::linked_accounts(remote, key),
    );
    let accounts_check = stackone_accounts_check(&listed);
    (
        stackone_profile_check(found, profile_id),
        accounts_check,
        listed.ok(),
    )
}

/// The profile must be listed and enabled: a disabled profile is hidden
/// from the Hub and its accounts go inactive (REFERENCE.md §5).
fn stackone_profile_check(
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
fn stackone_accounts_check(listed: &Result<Vec<crate::stackone::LinkedAccount>>) -> Check {
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

/// SPEC's registration check, as `status` reports it.
async fn app_registration_check(
    remote: crate::workflow::Remote<'_>,
    settings: &crate::config::ProfileConfig,
) -> Check {
    let (level, detail, fix) =
        crate::workflow::authorize::saved_registration_check(remote, settings).await;
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
