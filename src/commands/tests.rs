//! Commands run in-process: a scripted prompter stands in for the person,
//! the stand-ins for the services, a temporary dir with the file store for
//! the machine. These reach paths that otherwise only a PTY or a child
//! process reaches: the re-run menu, rotation resume, where secrets come from.

use secrecy::{ExposeSecret, SecretString};

use super::dispatch;
use crate::cli::Cli;
use crate::oauth::local_redirect_uri;
use crate::sandbox::constant_contact::AppRegistration;
use crate::sandbox::{Sandbox, SandboxOptions};
use crate::store::SecretKind;
use crate::testing::{Answer, ApprovingBrowser, Output, ScriptedPrompter};
use crate::ui::{NoPrompter, Prompter};
use crate::workflow::secrets::SecretSources;

/// A set-up profile: the stand-ins, the config dir, the app's credentials.
struct Setup {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
    client_id: String,
    stackone_key: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Setup {
    /// Runs a non-interactive `init` in-process, against StackOne's
    /// HYPOTHETICAL profile-write API (named below), which makes the profile
    /// without a person at the dashboard.
    async fn new() -> Setup {
        let sandbox = Sandbox::start(SandboxOptions::with_hypothetical_write_api()).unwrap();
        let port = free_port();
        let app = sandbox
            .cc()
            .register_app(AppRegistration::new().redirect_uri(local_redirect_uri(port)));
        let setup = Setup {
            stackone_key: sandbox.stackone().api_key(),
            client_id: app.client_id.clone(),
            sandbox,
            dir: tempfile::tempdir().unwrap(),
        };
        let mut secrets = SecretSources::default();
        secrets.preset(
            "CC_CLIENT_SECRET",
            SecretString::from(app.secret().to_string()),
        );
        secrets.preset(
            "STACKONE_API_KEY",
            SecretString::from(setup.stackone_key.clone()),
        );
        let (code, out) = setup
            .run_with(
                &[
                    "init",
                    "--client-id",
                    &app.client_id,
                    "--redirect-port",
                    &port.to_string(),
                ],
                Box::new(NoPrompter { reason: "test" }),
                secrets,
            )
            .await;
        assert_eq!(code, 0, "init failed:\n{}", out.stderr.text());
        setup
    }

    /// Runs `args` in-process; returns the exit code and the output.
    async fn run_with(
        &self,
        args: &[&str],
        prompter: Box<dyn Prompter>,
        secrets: SecretSources,
    ) -> (i32, Output) {
        let cli = <Cli as clap::Parser>::try_parse_from(
            std::iter::once("ccsetup").chain(args.iter().copied()),
        )
        .expect("valid arguments");
        let (mut ctx, out) = crate::testing::context(
            self.dir.path(),
            self.sandbox.endpoints(),
            prompter,
            Box::new(ApprovingBrowser::default()),
            secrets,
        );
        ctx.io.json = cli.global.json;
        let code = match dispatch(&mut ctx, cli.command).await {
            Ok(()) => 0,
            Err(e) => {
                ctx.io.error(&e, true);
                e.exit_code()
            }
        };
        (code, out)
    }

    fn session(&self) -> crate::workflow::ProfileSession {
        crate::workflow::ProfileSession::new(
            self.dir.path().to_path_buf(),
            "default".into(),
            crate::store::open(crate::store::StoreChoice::File, self.dir.path()).unwrap(),
        )
    }

    async fn stored(&self, kind: SecretKind) -> Option<String> {
        self.session()
            .get(kind)
            .await
            .unwrap()
            .map(|s| s.expose_secret().to_string())
    }

    fn stackone_secret(&self) -> String {
        let profiles = self.sandbox.stackone().constant_contact_profiles();
        assert_eq!(
            profiles.len(),
            1,
            "one Constant Contact profile in StackOne"
        );
        profiles[0]
            .credentials
            .iter()
            .find(|(k, _)| k == "client_secret")
            .map(|(_, v)| v.clone())
            .expect("the profile has a client secret")
    }

    fn config_text(&self) -> String {
        std::fs::read_to_string(crate::config::config_path(self.dir.path())).unwrap()
    }
}

/// Runs `init --json` on the set-up profile, answering the re-run menu and
/// what follows from `answers`; returns the JSON result. Every answer must
/// be used.
async fn rerun_init(setup: &Setup, answers: Vec<Answer>) -> (ScriptedPrompter, serde_json::Value) {
    let prompter = ScriptedPrompter::new(answers);
    let (code, out) = setup
        .run_with(
            &["init", "--json"],
            Box::new(prompter.clone()),
            SecretSources::default(),
        )
        .await;
    assert_eq!(code, 0, "{}", out.stderr.text());
    assert_eq!(prompter.unused(), 0, "asked: {:?}", prompter.asked());
    (prompter, serde_json::from_str(&out.stdout.text()).unwrap())
}

fn preset(pairs: &[(&'static str, &str)]) -> SecretSources {
    let mut s = SecretSources::default();
    for (env, value) in pairs {
        s.preset(env, SecretString::from(value.to_string()));
    }
    s
}

#[tokio::test(flavor = "multi_thread")]
async fn rerun_menu_quit_changes_nothing() {
    let setup = Setup::new().await;
    let before = setup.config_text();
    let (prompter, json) = rerun_init(&setup, vec![Answer::Choose("Quit")]).await;
    assert_eq!(prompter.asked().len(), 1, "{:?}", prompter.asked());
    assert_eq!(
        json,
        serde_json::json!({"profile": "default", "changed": false})
    );
    assert_eq!(setup.config_text(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn rerun_menu_rotates_the_secret_everywhere() {
    let setup = Setup::new().await;
    let new_secret = setup.sandbox.cc().generate_client_secret(&setup.client_id);
    let (_, json) = rerun_init(
        &setup,
        vec![
            Answer::Choose("Rotate the client secret"),
            Answer::Secret(new_secret.clone()),
        ],
    )
    .await;
    assert_eq!(json["client_secret"], "rotated");
    assert_eq!(json["stackone"]["action"], "updated");
    assert_eq!(
        setup.stored(SecretKind::ClientSecret).await.as_deref(),
        Some(new_secret.as_str())
    );
    assert_eq!(setup.stored(SecretKind::PreviousClientSecret).await, None);
    assert_eq!(setup.stackone_secret(), new_secret);
    // The rotation records the StackOne profile's name as init does.
    assert!(
        setup
            .config_text()
            .contains("stackone_profile_name = \"Constant Contact\"")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rotation_left_unfinished_resumes_with_the_same_secret() {
    let setup = Setup::new().await;
    let old_secret = setup.stored(SecretKind::ClientSecret).await.unwrap();
    let new_secret = setup.sandbox.cc().generate_client_secret(&setup.client_id);
    // What an earlier rotation leaves when its StackOne update failed: the
    // new secret stored and proven, the previous one kept.
    let session = setup.session();
    session
        .set(
            SecretKind::PreviousClientSecret,
            &SecretString::from(old_secret),
        )
        .await
        .unwrap();
    session
        .set(
            SecretKind::ClientSecret,
            &SecretString::from(new_secret.clone()),
        )
        .await
        .unwrap();
    let redemptions_before = setup.sandbox.cc().refresh_redemptions().len();

    let (code, out) = setup
        .run_with(
            &["--non-interactive", "rotate"],
            Box::new(NoPrompter { reason: "test" }),
            preset(&[("CC_CLIENT_SECRET", &new_secret)]),
        )
        .await;
    assert_eq!(code, 0, "{}", out.stderr.text());
    assert!(
        out.stderr.text().contains("already stored and proven"),
        "{}",
        out.stderr.text()
    );
    // Resuming spends no refresh token: the secret was proven before.
    assert_eq!(
        setup.sandbox.cc().refresh_redemptions().len(),
        redemptions_before
    );
    assert_eq!(setup.stackone_secret(), new_secret);
    assert_eq!(setup.stored(SecretKind::PreviousClientSecret).await, None);
}

/// docs/contract.md "Storage": flags and env vars given to a command override the
/// store for that call — for every command that reads a stored secret.
#[tokio::test(flavor = "multi_thread")]
async fn a_given_secret_wins_over_the_stored_one_in_every_command() {
    let setup = Setup::new().await;
    let wrong_key = "v1.test.not-the-stored-key";
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "--non-interactive",
                "link",
                "--origin-owner-id",
                "c1",
                "--origin-owner-name",
                "C",
            ],
            "STACKONE_API_KEY",
        ),
        (&["--json", "status"], "STACKONE_API_KEY"),
        (
            &[
                "--non-interactive",
                "reset",
                "--yes",
                "--delete-stackone-profile",
            ],
            "STACKONE_API_KEY",
        ),
        (&["token", "--force-refresh"], "CC_CLIENT_SECRET"),
    ];
    for (args, env) in cases {
        let stored_key_requests = || setup.sandbox.all_requests().len();
        let before = stored_key_requests();
        let (code, out) = setup
            .run_with(
                args,
                Box::new(NoPrompter { reason: "test" }),
                preset(&[(env, wrong_key)]),
            )
            .await;
        let text = format!("{}{}", out.stdout.text(), out.stderr.text());
        assert_ne!(
            code, 0,
            "{args:?} used the stored secret instead of {env}:\n{text}"
        );
        assert!(stored_key_requests() > before, "{args:?} made no request");
        if env == "STACKONE_API_KEY" {
            assert!(
                text.contains("API key") || text.contains("401") || text.contains("rejected"),
                "{args:?}: {text}"
            );
        } else {
            assert!(
                text.contains("invalid_client") || text.contains("Client Secret"),
                "{text}"
            );
        }
    }
    // Nothing was reset with the wrong key.
    assert!(setup.config_text().contains(&setup.client_id));
}
