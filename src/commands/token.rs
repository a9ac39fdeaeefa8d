//! `ccsetup token`: print a valid access token, refreshing safely.

use serde_json::json;

use crate::cli::TokenArgs;
use crate::context::Context;
use crate::error::Result;
use crate::workflow::secrets::SecretInput;
use crate::workflow::{session, tokens};

pub async fn run(ctx: &mut Context, args: TokenArgs) -> Result<()> {
    let settings = session::require_profile(&ctx.config_dir, &ctx.profile)?;
    let session = ctx.session(Some(settings.secret_store))?;
    let (term, remote, sources) = ctx.parts()?;
    // A Client Secret given to this call overrides the stored one.
    let client_secret = sources.read_given(
        &SecretInput::CLIENT_SECRET,
        false,
        &crate::workflow::secrets::no_check,
    )?;
    let (token, source) = tokens::valid_access_token(
        &session,
        remote,
        term.io,
        &settings,
        client_secret,
        args.force_refresh,
    )
    .await?;
    tracing::info!(
        source = source.as_str(),
        expires_at = token.expires_at,
        "access token ready"
    );
    // Printing the token is this command's purpose; it goes to stdout only.
    if term.io.json {
        term.io.print_json(&json!({
            "access_token": token.access_token,
            "expires_at": crate::clock::rfc3339(token.expires_at),
            "scope": token.scope,
        }))
    } else {
        term.io.print_raw_stdout(&token.access_token)
    }
}
