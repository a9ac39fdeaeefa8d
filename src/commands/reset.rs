//! `ccsetup reset`: forget this profile's secrets and state; optionally
//! delete its StackOne Connector Profile.

use serde_json::json;

use crate::cli::ResetArgs;
use crate::config;
use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::store::SecretKind;
use crate::workflow::{ProfileSession, stackone};

pub async fn run(ctx: &mut Context, args: ResetArgs) -> Result<()> {
    let profile = ctx.profile.clone();
    let existing = config::load(&ctx.config_dir)?.profile(&profile).cloned();

    // Destructive: needs --yes when nobody can be asked (docs/contract.md).
    if !args.yes {
        if !ctx.prompter.is_interactive() {
            return Err(Error::usage("reset deletes secrets and needs confirmation")
                .with_hint("pass --yes"));
        }
        let what = if args.delete_stackone_profile {
            format!(
                "Forget profile \"{profile}\" (secrets and settings) and delete its StackOne Connector Profile?"
            )
        } else {
            format!("Forget profile \"{profile}\" (secrets and settings)?")
        };
        if !ctx.prompter.confirm(&what, false)? {
            ctx.io.info("Nothing changed.");
            return Ok(());
        }
    }

    let session = ctx.session(existing.as_ref().map(|e| e.secret_store))?;
    // An earlier run with the other --store may have left secrets there.
    let other_store = ctx.session_on(session.store().choice().other())?;
    let (mut term, remote, sources) = ctx.parts()?;

    // StackOne first: it needs the stored API key, which is deleted below.
    let mut stackone_deleted = false;
    if args.delete_stackone_profile {
        match existing
            .as_ref()
            .and_then(|e| e.stackone_connector_profile_id.clone())
        {
            None => term.io.info(
                "No StackOne Connector Profile is recorded for this profile; nothing to delete there.",
            ),
            Some(id) => {
                let key =
                    stackone::api_key(&mut term, sources, &session, args.stackone_api_key_stdin)
                        .await?;
                stackone_deleted =
                    stackone::delete_profile(term.reborrow(), remote, &key, &id).await?;
            }
        }
    }

    // Under the profile lock: a refresh running now finishes its writes
    // first (the token revoked is the live one), and none comes after the
    // deletes to undo them. A profile that was never set up here has no
    // refresh to wait for, and its reset must not create lock files.
    let lock = match &existing {
        Some(_) => Some(session.lock().await?),
        None => None,
    };
    // Before the secrets go: a forgotten token should also be a dead one.
    let revoked = if args.no_revoke {
        false
    } else {
        crate::workflow::tokens::revoke_live_refresh_token(
            term.io,
            remote,
            &session,
            existing.as_ref(),
        )
        .await
    };

    let mut removed = match forget_secrets(&session).await {
        Ok(kinds) => kinds,
        // Never set up here (no settings) and no keyring to look in:
        // nothing of this profile can be stored, so nothing to reset.
        Err(e) if existing.is_none() && e.kind() == ErrorKind::SecretStore => {
            tracing::debug!("reset: no secret store to look in ({e})");
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    match forget_secrets(&other_store).await {
        Ok(kinds) => {
            for kind in kinds {
                if !removed.contains(&kind) {
                    removed.push(kind);
                }
            }
        }
        // A file-store profile on a machine without a usable keyring.
        Err(e) => term.io.warn(format!(
            "could not check the {} for secrets of profile \"{profile}\" left by an earlier run \
             with --store {}: {}",
            other_store.store().describe(),
            other_store.store().choice().as_str(),
            e.message()
        )),
    }
    session.discard_recovered_refresh_token()?;
    if existing.is_some() && session.remove_config()? {
        removed.push("config");
    }
    drop(lock);

    if term.io.json {
        term.io.print_json(&json!({
            "profile": profile,
            // A boolean scripts test (docs/contract.md `reset`); what went is in removed_kinds.
            "removed": !removed.is_empty(),
            "removed_kinds": removed,
            "revoked": revoked,
            "stackone_profile_deleted": stackone_deleted,
        }))?;
    } else if removed.is_empty() {
        term.io.println(format!(
            "Nothing to reset: profile \"{profile}\" has no settings or secrets here."
        ));
    } else {
        term.io.println(format!(
            "Forgot profile \"{profile}\": {}.",
            removed.join(", ")
        ));
    }
    Ok(())
}

/// Deletes every secret of the profile in the session's store; returns the
/// kinds that were there.
async fn forget_secrets(session: &ProfileSession) -> Result<Vec<&'static str>> {
    let mut removed = Vec::new();
    for kind in SecretKind::ALL {
        if session.get(kind).await?.is_some() {
            removed.push(kind.as_str());
        }
        session.delete(kind).await?;
    }
    Ok(removed)
}
