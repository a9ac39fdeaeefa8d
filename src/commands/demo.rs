//! `ccsetup demo`: the real `init`, against local stand-ins.
//!
//! Starts the strict stand-ins of the Constant Contact portal, authorization
//! server and API and of the StackOne API and dashboard on loopback, points
//! the context at them with a temporary config dir and the file store, and
//! runs `init` unchanged. Interactive: the user walks the stand-in portal,
//! consent page and StackOne dashboard in their own browser (StackOne has no
//! profile-write API; `--stackone-write-api` gives the stand-in a
//! hypothetical one).
//! Non-interactive: the demo registers the app and approves consent itself,
//! which makes it a smoke test of the whole flow.

use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;

use secrecy::SecretString;

use crate::browser::Browser;
use crate::cli::{
    DEFAULT_REDIRECT_PORT, DemoArgs, InitArgs, StackOneArgs, StackOneMode, StoreChoice,
};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::oauth::local_redirect_uri;
use crate::sandbox::constant_contact::AppRegistration;
use crate::sandbox::stackone::{ProfileWriteApi, StackOneOptions};
use crate::sandbox::{Sandbox, SandboxOptions};

pub async fn run(ctx: &mut Context, args: DemoArgs) -> Result<()> {
    refuse_real_state(ctx, &args)?;
    if !args.serve {
        return play(ctx, args).await;
    }
    // `demo --serve` is meant to run as a background job: it writes nothing
    // to the terminal while it is one (README), until an error must be told.
    let real_stderr = ctx
        .io
        .replace_stderr(Box::new(crate::ui::StderrInForegroundOnly));
    let result = play(ctx, args).await;
    if result.is_err() {
        ctx.io.replace_stderr(real_stderr);
    }
    result
}

/// The demo itself, its arguments checked.
async fn play(ctx: &mut Context, args: DemoArgs) -> Result<()> {
    // A redirect port the user gave is held while the stand-ins take their
    // ports, so the system cannot hand it to one of them (`init` binds it
    // in step 3; a CI run once saw the portal on the redirect port).
    let held_redirect_port = args
        .redirect_port
        .and_then(|port| std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)).ok());
    let sandbox = Sandbox::start(SandboxOptions {
        stackone: StackOneOptions {
            // StackOne as it is, unless the hypothetical API is asked for by name.
            profile_write_api: if args.stackone_write_api {
                ProfileWriteApi::Hypothetical
            } else {
                ProfileWriteApi::NotFound
            },
            ..Default::default()
        },
        ..Default::default()
    })
    .map_err(|e| Error::failure("could not start the local stand-ins").with_source(e))?;
    drop(held_redirect_port);
    let mut workdir = tempfile::Builder::new();
    workdir.prefix(DEMO_DIR_PREFIX);
    // Private from its creation: the file store's secrets go in it.
    #[cfg(unix)]
    workdir.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    let workdir = workdir
        .tempdir()
        .map_err(|e| Error::failure("could not create a temporary config dir").with_source(e))?;
    crate::interrupt::remove_on_interrupt(workdir.path().to_path_buf());
    let stand_in_ports = [
        sandbox.cc().server().addr().port(),
        sandbox.stackone().server().addr().port(),
    ];
    let port = args
        .redirect_port
        .unwrap_or_else(|| demo_port(&stand_in_ports));
    let stackone_key = sandbox.stackone().api_key();
    let interactive = ctx.prompter.is_interactive();
    let browser_ready = ctx.browser.can_launch().is_ok();

    ctx.io.info(format!(
        "ccsetup demo — a rehearsal of `ccsetup init` against local stand-ins of Constant Contact and StackOne.\n\
         Nothing leaves this machine: no real account, no keyring entry; settings and secrets go to a \
         temporary directory ({}) that is removed at the end.\n\n\
         Stand-in Constant Contact developer portal: {}\n\
         Stand-in StackOne dashboard:                {}\n\
         Redirect URI to register in the app:        {}\n{}{}",
        workdir.path().display(),
        sandbox.cc().portal_url(),
        sandbox.stackone().dashboard_url(),
        local_redirect_uri(port),
        if args.stackone_write_api {
            "\nHYPOTHETICAL: this stand-in StackOne has a profile-write API, which the real StackOne does not have.\n"
        } else {
            "\nLike the real StackOne, the stand-in has no API that creates Connector Profiles: you will use its dashboard page.\n"
        },
        if interactive && !browser_ready {
            "\nNo browser will be opened here: open the URLs the demo prints in a browser that can reach this \
             machine (or, over SSH, forward the ports), and paste the consent's redirected URL when asked.\n"
        } else {
            ""
        }
    ));

    // Point the context at the stand-ins, remembering what to restore.
    let saved_endpoints = std::mem::replace(&mut ctx.endpoints, sandbox.endpoints());
    let saved_dir = std::mem::replace(&mut ctx.config_dir, workdir.path().to_path_buf());
    let saved_store = ctx.store_choice.replace(StoreChoice::File);
    let saved_store_given = std::mem::replace(&mut ctx.store_choice_given, false);
    ctx.secrets
        .preset("STACKONE_API_KEY", SecretString::from(stackone_key));

    let mut init_args = InitArgs {
        app_name: None,
        client_id: None,
        client_secret_stdin: false,
        stackone: StackOneArgs {
            stackone_api_key_stdin: false,
            stackone_mode: if args.stackone_write_api {
                StackOneMode::Auto
            } else {
                StackOneMode::Dashboard
            },
        },
        scopes: None,
        actions: None,
        stackone_profile_name: None,
        stackone_profile_id: None,
        redirect_port: Some(port),
        redirect_uri: None,
        skip_authorize: false,
        skip_stackone: false,
        dry_run: false,
        auth_timeout: crate::cli::DEFAULT_AUTH_TIMEOUT_SECS,
        yes: false,
    };

    let mut saved_browser = None;
    let mut robot_app = None;
    if !interactive {
        // Nobody to click: play the user's part too.
        let app = sandbox
            .cc()
            .register_app(AppRegistration::new().redirect_uri(local_redirect_uri(port)));
        init_args.client_id = Some(app.client_id.clone());
        ctx.secrets.preset(
            "CC_CLIENT_SECRET",
            SecretString::from(app.secret().to_string()),
        );
        ctx.io.info(format!(
            "Non-interactive: the demo registered application {} in the stand-in portal and approves consent itself{}.",
            app.client_id,
            if args.stackone_write_api {
                ""
            } else {
                ", fills the stand-in dashboard's form, and links a test account in the hub"
            }
        ));
        robot_app = Some(app);
        saved_browser = Some(std::mem::replace(
            &mut ctx.browser,
            Box::new(ApprovingBrowser),
        ));
    }

    // With --serve, stdout carries only the `export` lines.
    let real_stdout = args.serve.then(|| {
        ctx.io
            .replace_stdout(Box::new(crate::ui::StderrInForegroundOnly))
    });
    let result = match robot_app {
        Some(app) if !args.stackone_write_api => {
            play_the_dashboard_user(ctx, &sandbox, init_args, &app, args.mistype_secret).await
        }
        _ => crate::commands::init::run(ctx, init_args).await,
    };
    if let Some(out) = real_stdout {
        ctx.io.replace_stdout(out);
    }

    ctx.endpoints = saved_endpoints;
    ctx.config_dir = saved_dir;
    ctx.store_choice = saved_store;
    ctx.store_choice_given = saved_store_given;
    ctx.secrets.clear_preset("STACKONE_API_KEY");
    ctx.secrets.clear_preset("CC_CLIENT_SECRET");
    if let Some(b) = saved_browser {
        ctx.browser = b;
    }
    result?;

    let exports = demo_env(&sandbox, workdir.path(), &ctx.profile);
    let bin_dir = running_binary_dir();
    if args.serve {
        serve(ctx, &exports, bin_dir.as_deref()).await?;
    } else if interactive
        && ctx.prompter.confirm(
            "Try the other commands (status, token, link, rotate) against the stand-ins in a shell?",
            true,
        )?
    {
        run_shell(ctx, &exports, bin_dir.as_deref()).await?;
    }
    let ccsetup = how_to_run_ccsetup();
    ctx.io.info(format!(
        "\nDemo finished: that was the real `ccsetup init`. Everything it created lived in the stand-ins and the \
         temporary directory, both gone now (so the `link` and `status` above have nothing to talk to: \
         `{ccsetup} demo --serve` keeps the stand-ins running to try them). Run `{ccsetup} doctor`, then \
         `{ccsetup} init`, when you are ready for the real thing.{}",
        if ccsetup == "ccsetup" {
            ""
        } else {
            " (`ccsetup` is not on your PATH: `cargo install --locked --path .` puts it there.)"
        }
    ));
    drop(sandbox);
    Ok(())
}

/// The non-interactive dashboard demo, as a user lives it: `init` stops at
/// the dashboard step (exit 4, the steps printed), the "user" fills the
/// stand-in dashboard's form (with a mistyped secret if asked), `init` runs
/// again and finds the profile, and `link --wait` proves the credentials by
/// linking a test account in the hub — or catches the wrong secret.
async fn play_the_dashboard_user(
    ctx: &mut Context,
    sandbox: &Sandbox,
    init_args: InitArgs,
    app: &crate::sandbox::constant_contact::RegisteredApp,
    mistype_secret: bool,
) -> Result<()> {
    match crate::commands::init::run(ctx, init_args.clone()).await {
        Err(e) if e.exit_code() == 4 => {}
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    let secret = if mistype_secret {
        ctx.io.info(
            "\nThe demo's user now fills the dashboard form — and mistypes the Client Secret.",
        );
        "whatever".to_string()
    } else {
        ctx.io
            .info("\nThe demo's user now fills the dashboard form with the values above.");
        app.secret().to_string()
    };
    let scopes: Vec<&str> = crate::cli::DEFAULT_SCOPES.split(',').collect();
    let profile_id = sandbox
        .stackone()
        .fill_dashboard_form(&app.client_id, &secret, &scopes, &[])
        .map_err(|why| {
            Error::failure(format!("the demo could not fill the dashboard form: {why}"))
        })?;
    ctx.io
        .info("Running `ccsetup init` again: it now finds the profile.");
    crate::commands::init::run(ctx, init_args).await?;
    ctx.io.info(
        "\nStackOne's API cannot show the profile's credentials: proving them with `ccsetup link --wait`.",
    );
    let (mut term, remote, sources) = ctx.parts()?;
    let key = sources
        .given(crate::workflow::secrets::SecretInput::STACKONE_API_KEY.env)
        .map(|(k, _)| k)
        .ok_or_else(|| Error::failure("the demo's StackOne key is not set"))?;
    crate::workflow::stackone::prove_profile(
        &mut term,
        remote,
        &key,
        crate::workflow::stackone::SessionOwner {
            id: "demo-test-user",
            name: "Demo test user",
            label: None,
        },
        &profile_id,
        crate::workflow::stackone::WaitOptions {
            interval: std::time::Duration::from_millis(250),
            timeout: std::time::Duration::from_secs(60),
        },
    )
    .await
}

/// The demo never touches the user's real state: flags that point at it
/// are refused, not silently ignored.
fn refuse_real_state(ctx: &Context, args: &DemoArgs) -> Result<()> {
    // A shell that sourced an earlier `demo --serve`'s exports still names
    // that demo's directory: never real state, so a second demo starts.
    if ctx.config_dir_given && !is_a_demo_dir(&ctx.config_dir) {
        return Err(Error::usage(
            "demo uses its own temporary config dir and does not take --config-dir (or CCSETUP_CONFIG_DIR)",
        )
        .with_hint("run `ccsetup demo` without it; `demo --serve` prints the demo's CCSETUP_CONFIG_DIR"));
    }
    if ctx.store_choice == Some(StoreChoice::Keyring) {
        return Err(Error::usage(
            "demo keeps its secrets in a temporary file store and never touches the keyring (--store keyring)",
        )
        .with_hint("run `ccsetup demo` without --store (or CCSETUP_STORE)"));
    }
    if args.serve && ctx.io.json {
        return Err(Error::usage(
            "demo --serve prints `export` lines on stdout and cannot be combined with --json",
        ));
    }
    Ok(())
}

/// Whether `dir` is (or was) a demo's temporary directory.
fn is_a_demo_dir(dir: &Path) -> bool {
    dir.parent() == Some(std::env::temp_dir().as_path())
        && dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(DEMO_DIR_PREFIX))
}

/// The name every demo's temporary directory starts with.
const DEMO_DIR_PREFIX: &str = "ccsetup-demo-";

/// The variables that point every command at the demo's stand-ins and state.
fn demo_env(sandbox: &Sandbox, workdir: &Path, profile: &str) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("CCSETUP_CONFIG_DIR", workdir.display().to_string()),
        ("CCSETUP_STORE", StoreChoice::File.as_str().to_string()),
    ];
    if profile != "default" {
        vars.push(("CCSETUP_PROFILE", profile.to_string()));
    }
    // The stand-in's key (sandbox-only, shown on its API Keys page): every
    // command that talks to StackOne needs one.
    vars.push(("STACKONE_API_KEY", sandbox.stackone().api_key()));
    vars.extend(sandbox.endpoints().to_env());
    vars
}

/// `NAME='value'` for a POSIX shell: single quotes, each `'` as `'\''`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// `demo --serve`: the exports on stdout, then wait for Ctrl-C or SIGTERM,
/// whose handler removes the temporary directory (the stand-ins end with
/// the process).
async fn serve(
    ctx: &mut Context,
    exports: &[(&'static str, String)],
    bin_dir: Option<&Path>,
) -> Result<()> {
    if let Some(dir) = bin_dir {
        // `ccsetup` in that shell is this binary, whatever else is installed.
        ctx.io.print_raw_stdout(format!(
            "export PATH={}\"${{PATH:+:$PATH}}\"",
            shell_quote(&dir.display().to_string())
        ))?;
    }
    for (name, value) in exports {
        ctx.io
            .print_raw_stdout(format!("export {name}={}", shell_quote(value)))?;
    }
    ctx.io.info(
        format!(
            "\nThe stand-ins keep running. In another shell, run `eval \"$(…)\"` on the lines above (or paste \
             them{}), then try `ccsetup status`, `ccsetup token`, \
             `ccsetup link --origin-owner-id c1 --origin-owner-name Demo`. Ctrl-C, SIGTERM or SIGHUP (`kill %1` \
             for a background job) stops the demo and removes everything.",
            if bin_dir.is_some() {
                "; they also put this ccsetup first on PATH"
            } else {
                ""
            }
        ),
    );
    crate::interrupt::stop_on_signal(
        "demo stopped: the stand-ins and the temporary directory are gone",
    );
    std::future::pending::<()>().await;
    Ok(())
}

/// The interactive demo's playground: `$SHELL` with the demo's variables;
/// `exit` ends the demo.
async fn run_shell(
    ctx: &mut Context,
    exports: &[(&'static str, String)],
    bin_dir: Option<&Path>,
) -> Result<()> {
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "/bin/sh".to_string());
    ctx.io.info(format!(
        "\n──── ccsetup demo shell ({shell}) ────\n\
         Every ccsetup command here talks to the stand-ins and the demo's temporary state. Try:\n\
         \x20 ccsetup status\n\
         \x20 ccsetup token\n\
         \x20 ccsetup link --origin-owner-id c1 --origin-owner-name \"Demo customer\"\n\
         \x20 ccsetup rotate --reauthorize\n\
         Type `exit` to end the demo (everything is removed then)."
    ));
    let _ctrl_c_is_the_shells = crate::interrupt::foreground_child();
    let mut command = tokio::process::Command::new(&shell);
    command
        .envs(exports.iter().map(|(k, v)| (*k, v.as_str())))
        .env("CCSETUP_DEMO", "1");
    if let Some(dir) = bin_dir {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let with_ours = std::env::join_paths(
            std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&path)),
        );
        if let Ok(with_ours) = with_ours {
            command.env("PATH", with_ours);
        }
    }
    let status = command
        .status()
        .await
        .map_err(|e| Error::failure(format!("could not start {shell}")).with_source(e))?;
    if !status.success() {
        tracing::debug!("the demo shell ended with {status}");
    }
    Ok(())
}

/// This binary (its canonical path), and whether `ccsetup` on PATH is it.
fn running_binary() -> Option<(std::path::PathBuf, bool)> {
    let exe = std::env::current_exe()
        .and_then(std::fs::canonicalize)
        .ok()?;
    let name = exe.file_name()?.to_os_string();
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|dir| dir.join(&name))
        .find(|candidate| candidate.is_file())
        .and_then(|found| std::fs::canonicalize(found).ok())
        .is_some_and(|found| found == exe);
    Some((exe, on_path))
}

/// The folder to put first on the demo's PATH so that `ccsetup` there is
/// this binary (`cargo run` builds it under target/); `None` when it
/// already is. The binary's own folder, not a link in the demo's temporary
/// directory: a shell remembers where it found a command, and that must
/// still exist after the demo.
fn running_binary_dir() -> Option<std::path::PathBuf> {
    match running_binary()? {
        (exe, false) => exe.parent().map(Path::to_path_buf),
        (_, true) => None,
    }
}

/// What the user types to run this binary: `ccsetup` when that name on
/// their PATH is this binary, else its full path.
fn how_to_run_ccsetup() -> String {
    match running_binary() {
        Some((exe, false)) => exe.display().to_string(),
        _ => "ccsetup".to_string(),
    }
}

/// 8917 when free (what the real flow uses), else a free loopback port that
/// none of the stand-ins (`taken`) listens on, checked the way the redirect
/// listener binds it (127.0.0.1 and, where there is one, ::1).
fn demo_port(taken: &[u16]) -> u16 {
    let usable =
        |port: u16| !taken.contains(&port) && crate::oauth::LoopbackListener::bind(port).is_ok();
    if usable(DEFAULT_REDIRECT_PORT) {
        return DEFAULT_REDIRECT_PORT;
    }
    (0..20)
        .filter_map(|_| {
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                .and_then(|l| l.local_addr())
                .ok()
        })
        .map(|a| a.port())
        .find(|&port| usable(port))
        .unwrap_or(DEFAULT_REDIRECT_PORT)
}

/// The non-interactive demo's "browser": approves the stand-in's consent
/// page and delivers the redirect to ccsetup's listener, over real HTTP.
struct ApprovingBrowser;

impl Browser for ApprovingBrowser {
    fn open(&self, url: &str) -> std::result::Result<(), String> {
        if url.contains("/hub?token=") {
            // A test user clicks Connect in the hub and allows access.
            let url = url.to_string();
            std::thread::spawn(move || {
                use crate::sandbox::test_browser::{Decision, link_account_blocking};
                if let Err(e) = link_account_blocking(&url, Decision::Approve) {
                    eprintln!("demo browser: {e}");
                }
            });
            return Ok(());
        }
        if !url.contains("/oauth2/default/v1/authorize") {
            return Ok(());
        }
        let url = url.to_string();
        std::thread::spawn(move || {
            use crate::sandbox::test_browser::{Decision, consent_blocking, deliver_blocking};
            if let Err(e) =
                consent_blocking(&url, Decision::Approve).and_then(|loc| deliver_blocking(&loc))
            {
                eprintln!("demo browser: {e}");
            }
        });
        Ok(())
    }

    fn can_launch(&self) -> std::result::Result<(), String> {
        Ok(())
    }
}
