//! `ccsetup reset`: forget this profile's secrets and state; optionally
//! delete its StackOne Connector Profile.

use serde_json::json;

use crate::cli::ResetArgs;
use crate::commands::common;
use crate::config;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::store::SecretKind;

pub async fn run(ctx: &mut Context, args: ResetArgs) -> Result<()> {
    let mut file = config::load(&ctx.config_dir)?;
    let profile = ctx.profile.clone();
    let existing = file.profiles.get(&profile).cloned();

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

    let store = ctx.open_store(existing.as_ref().map(|e| e.secret_store))?;

    // StackOne first: it needs the stored API key, which is deleted below.
    let mut stackone_deleted = false;
    if args.delete_stackone_profile {
        match existing.as_ref().and_then(|e| e.stackone_connector_profile_id.clone()) {
            None => ctx.io.info("No StackOne Connector Profile is recorded for this profile; nothing to delete there."),
            Some(id) => {
                let key = common::stackone_api_key(ctx, &store, args.stackone_api_key_stdin).await?;
                stackone_deleted = common::delete_stackone_profile(ctx, &key, &id).await?;
            }
        }
    }

    let mut removed = Vec::new();
    for kind in SecretKind::ALL {
        if common::load_secret(&store, &profile, kind).await?.is_some() {
            removed.push(kind.as_str());
        }
        common::delete_secret(&store, &profile, kind).await?;
    }
    crate::store::recovery::discard(&ctx.config_dir, &profile)?;
    if file.profiles.remove(&profile).is_some() {
        config::save(&ctx.config_dir, &file)?;
        removed.push("config");
    }

    if ctx.io.json {
        ctx.io.print_json(&json!({
            "profile": profile,
            "removed": removed,
            "stackone_profile_deleted": stackone_deleted,
        }))?;
    } else if removed.is_empty() {
        ctx.io
            .println(format!("Profile \"{profile}\" had nothing stored."));
    } else {
        ctx.io.println(format!(
            "Forgot profile \"{profile}\": {}.",
            removed.join(", ")
        ));
    }
    Ok(())
}
