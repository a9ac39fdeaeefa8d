//! `ccsetup token`: print a valid access token, refreshing safely.

use serde_json::json;

use crate::cli::TokenArgs;
use crate::commands::common::{self, TokenSource};
use crate::context::Context;
use crate::error::Result;

pub async fn run(ctx: &mut Context, args: TokenArgs) -> Result<()> {
    let profile_config = common::require_profile(ctx)?;
    let store = ctx.open_store(Some(profile_config.secret_store))?;
    let (token, source) =
        common::valid_access_token(ctx, &profile_config, &store, args.force_refresh).await?;
    tracing::info!(
        source = match source {
            TokenSource::Cache => "cache",
            TokenSource::RefreshedByOther => "refreshed by another process",
            TokenSource::Refreshed => "refreshed",
        },
        expires_at = token.expires_at,
        "access token ready"
    );
    // Printing the token is this command's purpose; it goes to stdout only.
    if ctx.io.json {
        ctx.io.print_json(&json!({
            "access_token": token.access_token,
            "expires_at": common::rfc3339(token.expires_at),
            "scope": token.scope,
        }))
    } else {
        ctx.io.print_raw_stdout(&token.access_token)
    }
}
