//! `ccsetup link`: a StackOne connect session, and the hub link that lets a
//! customer link their Constant Contact account.

use serde_json::json;

use crate::cli::LinkArgs;
use crate::commands::common;
use crate::context::Context;
use crate::error::{Error, Result};

pub async fn run(ctx: &mut Context, args: LinkArgs) -> Result<()> {
    let profile_config = common::require_profile(ctx)?;
    let owner_id = required_text(
        ctx,
        args.origin_owner_id,
        "your identifier for this customer",
        "--origin-owner-id",
        "Customer id (origin owner id)",
    )?;
    let owner_name = required_text(
        ctx,
        args.origin_owner_name,
        "the customer's name",
        "--origin-owner-name",
        "Customer name (origin owner name)",
    )?;
    let store = ctx.open_store(Some(profile_config.secret_store))?;
    let key = common::stackone_api_key(ctx, &store, args.stackone_api_key_stdin).await?;

    let session = common::create_connect_session(
        ctx,
        &key,
        &owner_id,
        &owner_name,
        args.label.as_deref(),
        profile_config.stackone_connector_profile_id.as_deref(),
    )
    .await?;

    if ctx.io.json {
        ctx.io.print_json(&json!({
            "session_id": session.id,
            "auth_link_url": session.auth_link_url,
            "expires_at": session.expires_at,
        }))?;
    } else {
        ctx.io.println(format!(
            "Send this link to {owner_name} to link their Constant Contact account (valid until {}):\n{}",
            session.expires_at, session.auth_link_url
        ));
    }
    if !ctx.non_interactive
        && let Err(why) = ctx.browser.open(&session.auth_link_url)
    {
        tracing::debug!("browser not opened: {why}");
    }
    Ok(())
}

fn required_text(
    ctx: &mut Context,
    given: Option<String>,
    what: &str,
    flag: &str,
    prompt: &str,
) -> Result<String> {
    if let Some(v) = given
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
    {
        return Ok(v);
    }
    if ctx.prompter.is_interactive() {
        return ctx.prompter.input(prompt, None, &|s: &str| {
            if s.trim().is_empty() {
                Err("this cannot be empty".to_string())
            } else {
                Ok(())
            }
        });
    }
    Err(Error::missing_input(what, flag, None))
}
