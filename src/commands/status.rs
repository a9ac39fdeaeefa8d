//! `ccsetup status`: one line per part, each ok / warning / missing /
//! failing / skipped with the reason (warning and skipped do not make `ok`
//! false). Never redeems a refresh token needlessly: the
//! access token is refreshed (safely) only when the cached one expired.

use serde_json::json;

use crate::cli::StatusArgs;
use crate::clock::{now_unix, rfc3339};
use crate::config;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::render::{CheckRow, check_table};
use crate::store::SecretKind;
use crate::workflow::health::{
    Check, CheckStatus, account_check, app_registration_check, check, client_secret_check,
    refresh_token_check, refresh_token_type, stackone_checks,
};
use crate::workflow::secrets::SecretInput;
use crate::workflow::tokens::{self, ACCESS_TOKEN_MIN_SECS};

pub async fn run(ctx: &mut Context, args: StatusArgs) -> Result<()> {
    let mut accounts = Vec::new();
    let checks = collect(ctx, args.offline, &mut accounts).await;
    // How far the Connector Profile is proven (docs/contract.md "StackOne API").
    let verified = config::load(&ctx.config_dir)
        .ok()
        .and_then(|f| f.profiles.get(&ctx.profile).cloned())
        .and_then(|p| p.stackone.verified);
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
        let token_type = config::load(&ctx.config_dir)
            .ok()
            .and_then(|f| f.profile(&ctx.profile).map(refresh_token_type))
            .unwrap_or("unknown");
        ctx.io.print_json(&json!({
            "profile": ctx.profile,
            "ok": ok,
            "refresh_token_type": token_type,
            "checks": checks,
            "stackone_accounts": accounts,
            "verified": verified,
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
        Err(Error::failure("some parts are missing or failing").with_hint(closing_hint(&checks)))
    }
}

/// The closing hint, for what was found: nothing set up, only the
/// refresh token dead, or anything else (each line says its own fix).
fn closing_hint(checks: &[Check]) -> String {
    use crate::hints::{Command, Problem, State, hint};
    let bad = |c: &&Check| matches!(c.status, CheckStatus::Missing | CheckStatus::Failing);
    let failing: Vec<&str> = checks.iter().filter(bad).map(|c| c.name).collect();
    if checks
        .iter()
        .any(|c| c.name == "config" && c.status != CheckStatus::Ok)
    {
        hint(Problem::PartsMissing, Command::Status, State::NotSetUp)
    } else if !failing.is_empty()
        && failing
            .iter()
            .all(|n| ["refresh_token", "access_token"].contains(n))
    {
        hint(Problem::RefreshTokenDead, Command::Status, State::SetUp)
    } else {
        hint(Problem::PartsMissing, Command::Status, State::SetUp)
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
