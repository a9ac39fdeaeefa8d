//! `ccsetup reset`: forget this profile's secrets and state; optionally
//! delete its StackOne Connector Profile.

use serde_json::json;

use crate::cli::ResetArgs;
use crate::config;
use crate::context::Context;
use crate::error::{Error, ErrorKind, Result};
use crate::store::SecretKind;
use crate::workflow::stackone;

pub async fn run(ctx: &mut Context, args: ResetArgs) -> Result<()> {
    let profile = ctx.profile.clone();
    let existing = config::load(&ctx.config_dir)?.profile(&profile).cloned();

    // Destructive: needs --yes when nobody can be asked (SPEC.md).
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

    let mut removed = Vec::new();
    for kind in SecretKind::ALL {
        match session.get(kind).await {
            Ok(found) => {
                if found.is_some() {
                    removed.push(kind.as_str());
                }
            }
            // Never set up here (no settings) and no keyring to look in:
            // nothing of this profile can be stored, so nothing to reset.
            Err(e) if existing.is_none() && e.kind() == ErrorKind::SecretStore => {
                tracing::debug!("reset: no secret store to look in ({e})");
                break;
            }
            Err(e) => return Err(e),
        }
        session.delete(kind).await?;
    }
    session.discard_recovered_refresh_token()?;
    if session.remove_config()? {
        removed.push("config");
    }

    if term.io.json {
        term.io.print_json(&json!({
            "profile": profile,
            "removed": removed,
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
