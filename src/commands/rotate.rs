//! `ccsetup rotate`: a new Client Secret and/or a new authorization
//! (the workflows are [`crate::workflow::rotation`]'s, shared with `init`).

use crate::cli::RotateArgs;
use crate::context::Context;
use crate::error::Result;
use crate::workflow::rotation::{self, Report, RotationOptions};
use crate::workflow::session;

pub async fn run(ctx: &mut Context, args: RotateArgs) -> Result<()> {
    let settings = session::require_profile(&ctx.config_dir, &ctx.profile)?;
    let session = ctx.session(Some(settings.secret_store))?;
    let (mut term, remote, sources) = ctx.parts()?;
    let mut report = Report::new();
    if args.client_secret || !args.reauthorize {
        let options = RotationOptions {
            secret_from_stdin: args.client_secret_stdin,
            stackone_key_from_stdin: args.stackone.stackone_api_key_stdin,
            stackone_mode: args.stackone.stackone_mode,
            skip_stackone: args.skip_stackone,
            auth_timeout_secs: args.auth_timeout,
        };
        report.extend(
            rotation::rotate_client_secret(
                &mut term, remote, sources, &session, &settings, options,
            )
            .await?,
        );
    }
    if args.reauthorize {
        let settings = session.require_config()?;
        report.extend(
            rotation::reauthorize(&mut term, remote, &session, &settings, args.auth_timeout)
                .await?,
        );
    }
    crate::render::print_rotation_report(term.io, session.profile(), report)
}
