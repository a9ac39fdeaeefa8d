//! `ccsetup token`: print a valid access token, refreshing safely.
//!
//! Two ways in: [`cached`] runs before the async runtime exists and
//! answers when the cached token is usable (most calls: no thread, network
//! client or signal handler is started for them); [`run`] is the whole path.

use serde_json::json;

use crate::cli::TokenArgs;
use crate::context::Context;
use crate::error::Result;
use crate::store::access_token::StoredAccessToken;
use crate::ui::IoStreams;
use crate::workflow::secrets::{SecretInput, SecretSources, no_check};
use crate::workflow::session;
use crate::workflow::tokens::{self, TokenSource};

pub async fn run(ctx: &mut Context, args: TokenArgs) -> Result<()> {
    let settings = session::require_profile(&ctx.config_dir, &ctx.profile)?;
    let session = ctx.session(Some(settings.secret_store))?;
    let (term, remote, sources) = ctx.parts()?;
    let client_secret = given_client_secret(sources)?;
    let (token, source) = tokens::valid_access_token(
        &session,
        remote,
        term.io,
        &settings,
        client_secret,
        args.force_refresh,
    )
    .await?;
    print(term.io, &token, source)
}

/// The answer of `token` from the cache, without the async runtime: `None`
/// when the whole path must run ([`run`]: a refresh, a recovery, or
/// `--force-refresh`). Checks and errors are those of [`run`], in its
/// order; nothing is printed ([`print_cached`] does).
pub fn cached(ctx: &mut Context, args: &TokenArgs) -> Option<Result<StoredAccessToken>> {
    if args.force_refresh {
        return None;
    }
    let cached = (|| {
        let settings = session::require_profile(&ctx.config_dir, &ctx.profile)?;
        let session = ctx.session(Some(settings.secret_store))?;
        given_client_secret(&ctx.secrets)?;
        tokens::usable_cached_token_now(&session)
    })();
    cached.transpose()
}

/// Prints what [`cached`] found.
pub fn print_cached(io: &mut IoStreams, token: &StoredAccessToken) -> Result<()> {
    print(io, token, TokenSource::Cache)
}

/// A Client Secret given to this call overrides the stored one; a given
/// one that fails its checks stops the run either way.
fn given_client_secret(sources: &SecretSources) -> Result<Option<secrecy::SecretString>> {
    sources.read_given(&SecretInput::CLIENT_SECRET, false, &no_check)
}

fn print(io: &mut IoStreams, token: &StoredAccessToken, source: TokenSource) -> Result<()> {
    tracing::info!(
        source = source.as_str(),
        expires_at = token.expires_at,
        "access token ready"
    );
    // Printing the token is this command's purpose; it goes to stdout only.
    if io.json {
        io.print_json(&json!({
            "access_token": token.access_token,
            "expires_at": crate::clock::rfc3339(token.expires_at),
            "scope": token.scope,
        }))
    } else {
        io.print_raw_stdout(&token.access_token)
    }
}
