//! `ccsetup link`: a StackOne connect session, and the hub link that lets a
//! customer link their Constant Contact account.

use std::time::Duration;

use serde_json::json;

use crate::cli::LinkArgs;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::ui::Prompter;
use crate::workflow::session;
use crate::workflow::stackone::{self, LinkOutcome, SessionOwner, WaitOptions};

pub async fn run(ctx: &mut Context, args: LinkArgs) -> Result<()> {
    let settings = session::require_profile(&ctx.config_dir, &ctx.profile)?;
    let owner_id = required_text(
        ctx.prompter.as_mut(),
        args.origin_owner_id,
        "your identifier for this customer",
        "--origin-owner-id",
        "Customer id (origin owner id)",
    )?;
    let owner_name = required_text(
        ctx.prompter.as_mut(),
        args.origin_owner_name,
        "the customer's name",
        "--origin-owner-name",
        "Customer name (origin owner name)",
    )?;
    let session = ctx.session(Some(settings.secret_store))?;
    let open_browser = !ctx.non_interactive;
    let interactive = ctx.prompter.is_interactive();
    let (mut term, remote, sources) = ctx.parts()?;
    let key = stackone::api_key(&mut term, sources, &session, args.stackone_api_key_stdin).await?;
    let wait = !args.no_wait && (args.wait || interactive);
    // Before the link exists: where StackOne cannot report the session, the
    // owner's account not in this list is the new one.
    let watch = if wait {
        Some(stackone::watch_accounts(remote, &key, &owner_id).await?)
    } else {
        None
    };

    let connect = stackone::create_connect_session(
        remote,
        &key,
        SessionOwner {
            id: &owner_id,
            name: &owner_name,
            label: args.label.as_deref(),
        },
        settings.stackone_connector_profile_id.as_deref(),
    )
    .await?;

    // Under --json this goes to stderr: a waiting run must show the link.
    term.io.println(format!(
        "Send this link to {owner_name} to link their Constant Contact account (valid until {}):\n{}",
        connect.expires_at, connect.auth_link_url
    ));
    // The link is StackOne's answer: it reaches a browser only if it is one.
    if let Err(why) = crate::browser::check_openable(&connect.auth_link_url) {
        term.io.warn(format!(
            "The hub link was not opened in a browser: {why}. Check it before sending it."
        ));
    } else if open_browser && let Err(why) = term.browser.open(&connect.auth_link_url) {
        tracing::debug!("browser not opened: {why}");
    }
    let mut result = json!({
        "session_id": connect.id,
        "auth_link_url": connect.auth_link_url,
        "expires_at": connect.expires_at,
    });
    let Some(watch) = watch else {
        if term.io.json {
            term.io.print_json(&result)?;
        }
        return Ok(());
    };
    let outcome = stackone::wait_for_link(
        term.io,
        remote,
        &key,
        &connect.id,
        &watch,
        WaitOptions {
            interval: Duration::from_millis(args.wait_interval_ms),
            timeout: Duration::from_secs(args.wait_timeout),
        },
    )
    .await?;
    result["status"] = json!(outcome.status());
    match &outcome {
        LinkOutcome::Authenticated { account_id } => {
            result["account_id"] = json!(account_id);
        }
        LinkOutcome::Failed {
            oauth_error_code,
            oauth_error_description,
            ..
        } => {
            result["oauth_error_code"] = json!(oauth_error_code);
            result["oauth_error_description"] = json!(oauth_error_description);
        }
        LinkOutcome::Pending => {}
    }
    if term.io.json {
        term.io.print_json(&result)?;
    }
    match stackone::link_error(&outcome, args.wait_timeout, &connect.expires_at) {
        Some(err) => Err(err),
        None => {
            // A link through the recorded profile proves its credentials.
            if let Some(id) = settings.stackone_connector_profile_id.as_deref() {
                session.update_config(|p| stackone::record_verified_link(p, id))?;
            }
            term.io
                .success(stackone::linked_line(&owner_name, &outcome));
            Ok(())
        }
    }
}

fn required_text(
    prompter: &mut dyn Prompter,
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
    if prompter.is_interactive() {
        return prompter.input(prompt, None, &|s: &str| {
            if s.trim().is_empty() {
                Err("this cannot be empty".to_string())
            } else {
                Ok(())
            }
        });
    }
    Err(Error::missing_input(what, flag, None))
}
