//! StackOne as it really is: every refusal leads to the
//! dashboard, the dashboard path is proven with `link --wait`, linked
//! accounts show in `status`, and one secret is rotated across profiles.

use crate::support::e2e::{TestEnv, error_text, status_check};
use ccsetup::sandbox::SandboxOptions;
use ccsetup::sandbox::stackone::{ProfileWriteApi, StackOneOptions};

fn env_with_write_api(mode: ProfileWriteApi) -> TestEnv {
    TestEnv::with(SandboxOptions {
        stackone: StackOneOptions {
            profile_write_api: mode,
            ..Default::default()
        },
        ..Default::default()
    })
}

// ---------------------------------------------------------------- item 1

#[test]
fn a_422_or_400_from_create_leads_to_the_dashboard_with_stackones_message() {
    for (status, message) in [
        (422, "property credentials should not exist"),
        (400, "Bad Request"),
    ] {
        let env = env_with_write_api(ProfileWriteApi::Rejected(status));
        let run = env.run(
            env.init_cmd(&[]),
            ccsetup::sandbox::test_browser::Decision::Approve,
        );
        // Non-interactive dashboard path: the steps, then exit 4 (docs/contract.md).
        run.assert_code(4);
        assert!(
            run.stderr.contains(&format!("HTTP {status}")) && run.stderr.contains(message),
            "StackOne's message is shown:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("+ Connector Profile"),
            "the dashboard steps:\n{}",
            run.stderr
        );
        assert!(
            !error_text(&run).contains("rejected the request"),
            "not a dead end:\n{}",
            run.stderr
        );
    }
}

#[test]
fn api_mode_still_reports_a_422_as_stackones_validation_error() {
    let env = env_with_write_api(ProfileWriteApi::Rejected(422));
    let run = env.run(
        env.init_cmd(&["--stackone-mode", "api"]),
        ccsetup::sandbox::test_browser::Decision::Approve,
    );
    run.assert_code(2);
    assert!(error_text(&run).contains("property credentials should not exist"));
}

// ---------------------------------------------------------------- item 4

#[test]
fn an_older_profile_with_the_same_name_is_never_adopted_and_the_new_one_is_found_by_id() {
    let env = TestEnv::new();
    // Another application's profile: StackOne named it "Constant Contact" too.
    let older = env
        .sandbox
        .stackone()
        .fill_dashboard_form("another-apps-client", "another-apps-secret", &[], &[])
        .unwrap();
    let run = env.run(
        env.init_cmd(&["--json"]),
        ccsetup::sandbox::test_browser::Decision::Approve,
    );
    // Not adopted: the dashboard steps, exit 4.
    run.assert_code(4);
    assert!(run.stderr.contains("+ Connector Profile"), "{}", run.stderr);
    assert!(!run.stderr.contains("edit it"), "{}", run.stderr);
    let config = env.config_text();
    assert!(
        !config.contains(&format!("stackone_connector_profile_id = \"{older}\"")),
        "{config}"
    );
    assert!(
        config.contains(&older),
        "the ids it saw are recorded:\n{config}"
    );

    // The person fills the real form (no Name): the re-run adopts that id.
    let ours = env
        .sandbox
        .stackone()
        .fill_dashboard_form(&env.app.client_id, &env.client_secret(), &[], &[])
        .unwrap();
    let run = env.init_ok(&["--json"]);
    assert_eq!(run.json()["stackone"]["action"], "dashboard");
    assert_eq!(
        run.json()["stackone"]["connector_profile_id"],
        ours.as_str()
    );
    assert_eq!(run.json()["stackone"]["verified"], "listed");
    let older_now = env.sandbox.stackone().profile_by_id(&older).unwrap();
    assert_eq!(
        older_now.client_id(),
        Some("another-apps-client"),
        "untouched"
    );
    assert_eq!(older_now.client_secret(), Some("another-apps-secret"));
}

#[test]
fn several_new_profiles_are_named_and_the_id_flag_picks_one_after_checking_it() {
    let env = TestEnv::new();
    let run = env.run(
        env.init_cmd(&["--json"]),
        ccsetup::sandbox::test_browser::Decision::Approve,
    );
    run.assert_code(4);
    let so = env.sandbox.stackone();
    let a = so
        .fill_dashboard_form(&env.app.client_id, &env.client_secret(), &[], &[])
        .unwrap();
    let b = so
        .fill_dashboard_form(&env.app.client_id, &env.client_secret(), &[], &[])
        .unwrap();
    let run = env.run(
        env.init_cmd(&["--json"]),
        ccsetup::sandbox::test_browser::Decision::Approve,
    );
    run.assert_code(4);
    let err = error_text(&run);
    assert!(err.contains(&a) && err.contains(&b), "both named: {err}");
    assert!(err.contains("--stackone-profile-id"), "{err}");

    // An id that is not a Constant Contact profile is refused with the reason.
    let hubspot = so
        .profiles()
        .into_iter()
        .find(|p| p.connector_key == "hubspot")
        .unwrap()
        .id;
    let run = env.run(
        env.init_cmd(&["--json", "--stackone-profile-id", &hubspot]),
        ccsetup::sandbox::test_browser::Decision::Approve,
    );
    run.assert_code(2);
    assert!(error_text(&run).contains(&hubspot), "{}", error_text(&run));
    let run = env.run(
        env.init_cmd(&["--json", "--stackone-profile-id", "no-such-id"]),
        ccsetup::sandbox::test_browser::Decision::Approve,
    );
    run.assert_code(2);
    assert!(error_text(&run).contains("no-such-id"));

    // The profile page's URL works as well as the id (env var form).
    let mut cmd = env.init_cmd(&["--json"]);
    cmd.env(
        "CCSETUP_STACKONE_PROFILE_ID",
        so.url(&format!("/dashboard/connector-profiles/{b}"))
            .as_str(),
    );
    let run = env.run(cmd, ccsetup::sandbox::test_browser::Decision::Approve);
    run.assert_code(0);
    assert_eq!(run.json()["stackone"]["connector_profile_id"], b.as_str());
}

// ---------------------------------------------------------------- item 3

/// A connect session for `profile_id` made straight through the API.
fn session_for(env: &TestEnv, profile_id: &str) -> (u64, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer: serde_json::Value = rt.block_on(async {
        ccsetup::http::client()
            .unwrap()
            .post(env.sandbox.stackone().url("/connect_sessions"))
            .basic_auth(env.stackone_key(), Some(""))
            .json(&serde_json::json!({
                "origin_owner_id": "cust-1",
                "origin_owner_name": "Customer One",
                "connector_profile_id": profile_id,
            }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    (
        answer["id"].as_u64().unwrap(),
        answer["auth_link_url"].as_str().unwrap().to_string(),
    )
}

#[test]
fn the_hub_links_with_the_profiles_credentials_and_catches_a_wrong_secret() {
    use ccsetup::sandbox::test_browser::{Decision, link_account_blocking};
    let env = TestEnv::new();
    let so = env.sandbox.stackone();
    let right = so
        .create_profile_as_dashboard("Right", &env.app.client_id, &env.client_secret(), &[], &[])
        .unwrap();
    let wrong = so
        .create_profile_as_dashboard("Wrong", &env.app.client_id, "whatever", &[], &[])
        .unwrap();

    let (id, link) = session_for(&env, &wrong);
    assert_eq!(so.connection_attempt(id), None, "nothing before Connect");
    let page = link_account_blocking(&link, Decision::Approve).unwrap();
    assert!(page.contains("invalid_client"), "{page}");
    let attempt = so.connection_attempt(id).unwrap();
    assert_eq!(attempt["status"], "error");
    assert_eq!(attempt["oauth_error_code"], "invalid_client");
    assert!(so.linked_accounts().is_empty());
    // The token request used the profile's credentials and StackOne's callback.
    let token_calls = env.cc_requests("/oauth2/default/v1/token");
    let last = token_calls.last().unwrap();
    assert!(
        String::from_utf8_lossy(&last.body)
            .contains("api.stackone.com%2Fconnect%2Foauth2%2Fconstantcontact%2Fcallback")
    );

    let (id, link) = session_for(&env, &right);
    link_account_blocking(&link, Decision::Approve).unwrap();
    let attempt = so.connection_attempt(id).unwrap();
    assert_eq!(attempt["status"], "authenticated", "{attempt}");
    let accounts = so.linked_accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(attempt["account_secure_id"], accounts[0].id.as_str());
    assert_eq!(accounts[0].origin_owner_id, "cust-1");
    assert_eq!(accounts[0].status, "active");

    // A denied consent is an error attempt too; a disabled profile is hidden.
    let (id, link) = session_for(&env, &right);
    link_account_blocking(&link, Decision::Deny).unwrap();
    assert_eq!(
        so.connection_attempt(id).unwrap()["oauth_error_code"],
        "access_denied"
    );
    assert!(so.set_profile_active(&right, false));
    let (id, link) = session_for(&env, &right);
    assert!(link_account_blocking(&link, Decision::Approve).is_err());
    assert_eq!(so.connection_attempt(id).unwrap()["status"], "error");
}

// ---------------------------------------------------------------- item 2

/// The hub link in a line ccsetup printed, if any.
fn hub_link_in(line: &str) -> Option<String> {
    line.split_whitespace()
        .find(|w| w.contains("/hub?token="))
        .map(str::to_string)
}

/// Runs `cmd`; when it prints a hub link, a customer "clicks Connect" and
/// answers Constant Contact's consent with `decision` (None: nobody does).
fn run_linking(
    mut cmd: std::process::Command,
    decision: Option<ccsetup::sandbox::test_browser::Decision>,
) -> crate::support::e2e::Run {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ccsetup");
    let watch = |stream: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut all = String::new();
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let (Some(link), Some(decision)) = (hub_link_in(&line), decision) {
                    std::thread::spawn(move || {
                        ccsetup::sandbox::test_browser::link_account_blocking(&link, decision)
                    });
                }
                all.push_str(&line);
                all.push('\n');
            }
            all
        })
    };
    let out = watch(Box::new(child.stdout.take().unwrap()));
    let err = watch(Box::new(child.stderr.take().unwrap()));
    let status = crate::support::e2e::wait_bounded(&mut child, std::time::Duration::from_secs(60));
    crate::support::e2e::Run {
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        callbacks: Vec::new(),
    }
}

fn link_cmd(env: &TestEnv, extra: &[&str]) -> std::process::Command {
    let mut cmd = env.ccsetup(&[
        "link",
        "--origin-owner-id",
        "me",
        "--origin-owner-name",
        "My test account",
        "--wait-interval-ms",
        "50",
    ]);
    cmd.args(extra);
    cmd
}

#[test]
fn link_wait_ends_authenticated_with_the_account_id() {
    use ccsetup::sandbox::test_browser::Decision;
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let run = run_linking(
        link_cmd(&env, &["--wait", "--json"]),
        Some(Decision::Approve),
    );
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["status"], "authenticated", "{json}");
    let accounts = env.sandbox.stackone().linked_accounts();
    assert_eq!(accounts.len(), 1);
    assert_eq!(json["account_id"], accounts[0].id.as_str());
    assert!(json["session_id"].is_string() && json["expires_at"].is_string());
    // It followed the session with GET /connect_sessions/{id}.
    let polls = env
        .stackone_requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/connect_sessions/"))
        .count();
    assert!(polls >= 1);
}

#[test]
fn link_wait_catches_a_wrong_secret_with_invalid_client_and_names_the_fix() {
    use ccsetup::sandbox::test_browser::Decision;
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    // Someone typed another secret into the profile (e.g. in the dashboard).
    let id = env.sandbox.stackone().constant_contact_profiles()[0]
        .id
        .clone();
    env.sandbox.stackone().delete_profile_as_dashboard(&id);
    let wrong = env
        .sandbox
        .stackone()
        .create_profile_as_dashboard("Constant Contact", &env.app.client_id, "whatever", &[], &[])
        .unwrap();
    let mut config = env.config_text();
    config = config.replace(&id, &wrong);
    std::fs::write(env.config_dir().join("config.toml"), config).unwrap();

    let run = run_linking(
        link_cmd(&env, &["--wait", "--json"]),
        Some(Decision::Approve),
    );
    run.assert_code(3);
    assert_eq!(run.json()["status"], "error");
    assert_eq!(run.json()["oauth_error_code"], "invalid_client");
    let err = error_text(&run);
    assert!(err.contains("invalid_client"), "{err}");
    assert!(
        err.contains("Client Secret") && err.contains("ccsetup rotate"),
        "{err}"
    );
}

#[test]
fn link_wait_that_nobody_finishes_ends_pending_with_exit_3() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let run = run_linking(
        link_cmd(&env, &["--wait", "--wait-timeout", "1", "--json"]),
        None,
    );
    run.assert_code(3);
    assert_eq!(run.json()["status"], "pending");
    assert!(
        error_text(&run).contains("not linked yet"),
        "{}",
        run.stderr
    );
    assert!(error_text(&run).contains("valid until"), "{}", run.stderr);
}

#[test]
fn link_without_a_terminal_does_not_wait_unless_asked() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let run = run_linking(link_cmd(&env, &["--json"]), None);
    run.assert_code(0);
    assert!(run.json().get("status").is_none(), "{}", run.stdout);
    let run = run_linking(link_cmd(&env, &["--wait", "--no-wait"]), None);
    run.assert_code(2);
}

#[test]
fn link_retries_once_with_integration_id_when_connector_profile_id_is_refused() {
    use ccsetup::sandbox::stackone::StackOneOptions;
    let env = TestEnv::with(SandboxOptions {
        stackone: StackOneOptions {
            legacy_connect_sessions: true,
            ..StackOneOptions::with_hypothetical_write_api()
        },
        ..Default::default()
    });
    env.init_ok(&[]);
    let run = run_linking(link_cmd(&env, &["--json"]), None);
    run.assert_code(0);
    let posts: Vec<serde_json::Value> = env
        .stackone_requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == "/connect_sessions")
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[0].get("connector_profile_id").is_some());
    assert!(posts[1].get("connector_profile_id").is_none());
    assert_eq!(posts[1]["integration_id"], posts[0]["connector_profile_id"]);
}

// ---------------------------------------------------------------- item 5

fn status_json(env: &TestEnv) -> (i32, serde_json::Value) {
    let run = crate::support::e2e::run_plain(env.ccsetup(&["status", "--json"]));
    (run.code.unwrap_or(-1), run.json())
}

#[test]
fn a_disabled_profile_turns_status_red_with_the_fix() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let (code, json) = status_json(&env);
    assert_eq!(code, 0, "{json}");
    assert_eq!(status_check(&json, "stackone_profile")["status"], "ok");
    let id = env.sandbox.stackone().constant_contact_profiles()[0]
        .id
        .clone();
    env.sandbox.stackone().set_profile_active(&id, false);
    let (code, json) = status_json(&env);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["ok"], false);
    let c = status_check(&json, "stackone_profile");
    assert_eq!(c["status"], "failing");
    assert!(c["detail"].as_str().unwrap().contains("enable it"), "{c}");
}

#[test]
fn linked_accounts_are_listed_and_broken_ones_are_a_warning() {
    use ccsetup::sandbox::stackone::AccountsShape;
    for shape in [AccountsShape::BareArray, AccountsShape::Data] {
        let env = TestEnv::with(SandboxOptions {
            stackone: StackOneOptions {
                accounts_shape: shape,
                ..StackOneOptions::with_hypothetical_write_api()
            },
            ..Default::default()
        });
        env.init_ok(&[]);
        let (code, json) = status_json(&env);
        assert_eq!(code, 0);
        let c = status_check(&json, "stackone_accounts");
        assert_eq!(c["status"], "ok");
        assert!(
            c["detail"].as_str().unwrap().contains("ccsetup link"),
            "{c}"
        );
        assert_eq!(json["stackone_accounts"], serde_json::json!([]));

        let so = env.sandbox.stackone();
        // More than one page (the client asks for 100 a page), and other connectors.
        for i in 0..230 {
            so.add_linked_account("constantcontact", "active", &format!("c{i}"), "Customer");
        }
        so.add_linked_account("hubspot", "error", "h1", "Not ours");
        let broken = so.add_linked_account("constantcontact", "expired", "c-x", "Lapsed Ltd");
        let (code, json) = status_json(&env);
        assert_eq!(code, 0, "a warning does not make status fail: {json}");
        assert_eq!(json["ok"], true);
        let c = status_check(&json, "stackone_accounts");
        assert_eq!(c["status"], "warning", "{shape:?}: {c}");
        assert!(c["detail"].as_str().unwrap().contains(&broken), "{c}");
        assert!(c["detail"].as_str().unwrap().contains("Lapsed Ltd"), "{c}");
        let listed = json["stackone_accounts"].as_array().unwrap();
        assert_eq!(
            listed.len(),
            231,
            "{shape:?}: every page, Constant Contact only"
        );
        let item = listed.iter().find(|a| a["id"] == broken.as_str()).unwrap();
        assert_eq!(
            item,
            &serde_json::json!({"id": broken, "status": "expired", "origin_owner_id": "c-x",
                                "origin_owner_name": "Lapsed Ltd", "label": null})
        );
        // The human table says "warning".
        let run = crate::support::e2e::run_plain(env.ccsetup(&["status"]));
        run.assert_code(0);
        assert!(
            run.stdout.contains("stackone_accounts  warning"),
            "{}",
            run.stdout
        );
    }
}

// ------------------------------------------------- the demo's dashboard mode

fn demo(extra: &[&str]) -> crate::support::e2e::Run {
    let mut cmd = crate::support::ccsetup_command();
    crate::support::without_desktop(&mut cmd)
        .args(["demo", "--dashboard", "--non-interactive"])
        .args(extra)
        .stdin(std::process::Stdio::null());
    crate::support::e2e::run_plain(cmd)
}

#[test]
fn the_dashboard_demo_proves_a_right_profile_and_catches_a_mistyped_secret() {
    let run = demo(&[]);
    run.assert_code(0);
    assert!(run.stderr.contains("cannot show"), "{}", run.stderr);
    assert!(run.stderr.contains("Linked:"), "{}", run.stderr);
    assert!(run.stderr.contains("credentials work"), "{}", run.stderr);

    let run = demo(&["--mistype-secret"]);
    run.assert_code(3);
    let err = error_text(&run);
    assert!(err.contains("invalid_client"), "{err}");
    assert!(err.contains("ccsetup rotate --client-secret"), "{err}");
    assert!(
        err.contains("Client Secret in the profile on the StackOne dashboard"),
        "{err}"
    );
}

// ---------------------------------------------------------------- item 6

const PROD_KEY: &str = "v1.sandbox.prod-project-key-77aa";

fn dev_and_prod() -> TestEnv {
    use ccsetup::sandbox::stackone::DEFAULT_API_KEY;
    let env = TestEnv::with(SandboxOptions {
        stackone: StackOneOptions {
            api_keys: vec![DEFAULT_API_KEY.to_string(), PROD_KEY.to_string()],
            ..StackOneOptions::with_hypothetical_write_api()
        },
        ..Default::default()
    });
    env.run(
        env.init_cmd(&["--profile", "dev", "--stackone-profile-name", "CC dev"]),
        ccsetup::sandbox::test_browser::Decision::Approve,
    )
    .assert_code(0);
    let mut prod = env.init_cmd(&["--profile", "prod", "--stackone-profile-name", "CC prod"]);
    prod.env("STACKONE_API_KEY", PROD_KEY);
    let run = env.run(prod, ccsetup::sandbox::test_browser::Decision::Approve);
    run.assert_code(0);
    assert!(
        run.stderr.contains("also used by profile \"dev\""),
        "init says the app is shared:\n{}",
        run.stderr
    );
    env
}

fn stackone_secret(env: &TestEnv, name: &str) -> String {
    env.sandbox
        .stackone()
        .constant_contact_profiles()
        .into_iter()
        .find(|p| p.name == name)
        .and_then(|p| p.client_secret().map(str::to_string))
        .unwrap()
}

fn rotate(env: &TestEnv, profile: &str, secret: &str) -> crate::support::e2e::Run {
    let mut cmd = env.ccsetup(&[
        "--profile",
        profile,
        "rotate",
        "--client-secret",
        "--non-interactive",
        "--json",
    ]);
    cmd.env("CC_CLIENT_SECRET", secret);
    crate::support::e2e::run_plain(cmd)
}

#[test]
fn one_rotate_moves_every_profile_of_the_app_to_the_new_secret() {
    let env = dev_and_prod();
    let new = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let run = rotate(&env, "dev", &new);
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["stackone"]["action"], "updated", "{json}");
    assert_eq!(json["other_profiles"][0]["profile"], "prod", "{json}");
    assert_eq!(json["other_profiles"][0]["stackone"]["action"], "updated");
    for (profile, stackone_name) in [("dev", "CC dev"), ("prod", "CC prod")] {
        assert_eq!(
            env.secret(profile, "client_secret").unwrap(),
            new,
            "{profile}"
        );
        assert!(
            !env.has_secret(profile, "client_secret_previous"),
            "{profile}"
        );
        assert_eq!(stackone_secret(&env, stackone_name), new, "{stackone_name}");
    }
    // prod's StackOne profile was written with prod's own key.
    let patches: Vec<_> = env
        .stackone_requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect();
    assert_eq!(patches.len(), 2);
    crate::support::e2e::assert_no_secret_in(&run, &[&new]);
    // prod still works with it (its refresh token belongs to the same app).
    crate::support::e2e::run_plain(env.ccsetup(&["--profile", "prod", "token", "--force-refresh"]))
        .assert_code(0);
}

#[test]
fn a_profile_that_cannot_be_updated_is_named_with_how_to_finish() {
    let env = dev_and_prod();
    let old = env.client_secret();
    env.set_secret("prod", "stackone_api_key", None);
    let new = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let run = rotate(&env, "dev", &new);
    run.assert_code(4);
    let err = error_text(&run);
    assert!(err.contains("\"prod\""), "{err}");
    assert!(
        err.contains("ccsetup --profile prod rotate --client-secret"),
        "{err}"
    );
    // dev is done; prod holds the new secret locally and remembers the old.
    assert_eq!(stackone_secret(&env, "CC dev"), new);
    assert_eq!(stackone_secret(&env, "CC prod"), old);
    assert_eq!(env.secret("prod", "client_secret").unwrap(), new);
    assert_eq!(env.secret("prod", "client_secret_previous").unwrap(), old);

    // Resumable: with its key back, the named command finishes it.
    env.set_secret("prod", "stackone_api_key", Some(PROD_KEY));
    let run = rotate(&env, "prod", &new);
    run.assert_code(0);
    assert_eq!(stackone_secret(&env, "CC prod"), new);
    assert!(!env.has_secret("prod", "client_secret_previous"));
    assert!(
        run.json().get("other_profiles").is_none(),
        "dev was already done: {}",
        run.stdout
    );
}

#[test]
fn link_wait_without_the_session_endpoint_follows_the_owners_accounts_to_the_new_id() {
    use ccsetup::sandbox::test_browser::Decision;
    for refused in [404, 405, 501] {
        let env = TestEnv::with(SandboxOptions {
            stackone: StackOneOptions {
                session_get_refused: Some(refused),
                ..StackOneOptions::with_hypothetical_write_api()
            },
            ..Default::default()
        });
        env.init_ok(&[]);
        // The same owner already had an account: that one is not the new link.
        let older = env.sandbox.stackone().add_linked_account(
            "constantcontact",
            "active",
            "me",
            "My test account",
        );
        let run = run_linking(
            link_cmd(&env, &["--wait", "--json"]),
            Some(Decision::Approve),
        );
        run.assert_code(0);
        let json = run.json();
        assert_eq!(json["status"], "authenticated", "{json}");
        let new = env
            .sandbox
            .stackone()
            .linked_accounts()
            .into_iter()
            .map(|a| a.id)
            .find(|id| *id != older)
            .expect("the hub linked one");
        assert_eq!(json["account_id"], new.as_str(), "HTTP {refused}");
        assert_eq!(
            run.stderr.matches("cannot report how linking went").count(),
            1,
            "said once:\n{}",
            run.stderr
        );
        assert!(
            run.stderr.contains(&format!("HTTP {refused}")),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn link_wait_without_the_session_endpoint_ends_with_exit_3_at_the_timeout() {
    let env = TestEnv::initialized_without_the_session_endpoint();
    let run = run_linking(link_cmd(&env, &["--wait", "--wait-timeout", "1"]), None);
    run.assert_code(3);
    assert!(
        error_text(&run).contains("not linked yet"),
        "{}",
        run.stderr
    );
}

// ---------------------------------------------------------------- item 8

#[test]
fn the_stand_ins_accounts_endpoint_filters_pages_and_refuses_what_it_does_not_know() {
    let env = TestEnv::new();
    let so = env.sandbox.stackone();
    for i in 0..3 {
        so.add_linked_account("constantcontact", "active", &format!("c{i}"), "C");
    }
    so.add_linked_account("constantcontact", "error", "c9", "C");
    so.add_linked_account("hubspot", "active", "h", "H");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let get = |query: &str| -> (u16, serde_json::Value) {
        rt.block_on(async {
            let resp = ccsetup::http::client()
                .unwrap()
                .get(format!("{}?{query}", so.url("/accounts")))
                .basic_auth(env.stackone_key(), Some(""))
                .send()
                .await
                .unwrap();
            (
                resp.status().as_u16(),
                resp.json().await.unwrap_or_default(),
            )
        })
    };
    let (status, all) = get("providers[]=constantcontact");
    assert_eq!(status, 200);
    assert_eq!(all.as_array().unwrap().len(), 4, "a bare array, filtered");
    assert_eq!(
        get("providers=constantcontact&status[]=error")
            .1
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get("providers=hubspot,constantcontact")
            .1
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let (_, page2) = get("providers=constantcontact&page=2&page_size=3");
    assert_eq!(page2.as_array().unwrap().len(), 1);
    assert_eq!(page2[0]["origin_owner_id"], "c9");
    for field in [
        "id",
        "provider",
        "status",
        "origin_owner_id",
        "origin_owner_name",
        "label",
        "created_at",
    ] {
        assert!(page2[0].get(field).is_some(), "{field}");
    }
    assert_eq!(get("page_size=1000").0, 400);
    assert_eq!(get("status=broken").0, 400);
    assert_eq!(get("colour=blue").0, 400);
}

// ------------------------------------------- dashboard edits (issue 20)

/// A real-StackOne setup whose profile was made in the dashboard and adopted
/// by id; returns its id.
fn set_up_through_the_dashboard(env: &TestEnv) -> String {
    let id = env.profile_made_in_the_dashboard();
    let run = env.init_ok(&["--json"]);
    assert_eq!(run.json()["stackone"]["connector_profile_id"], id.as_str());
    id
}

#[test]
fn a_new_api_key_lists_api_key_and_client_secret_to_edit() {
    use ccsetup::sandbox::constant_contact::AppRegistration;
    let env = TestEnv::new();
    let id = set_up_through_the_dashboard(&env);
    // A new Constant Contact application: new API Key and Client Secret.
    let new_app = env.sandbox.cc().register_app(
        AppRegistration::new().redirect_uri(format!("http://localhost:{}/callback", env.port)),
    );
    let mut cmd = env.cmd();
    cmd.args([
        "init",
        "--non-interactive",
        "--json",
        "--client-id",
        &new_app.client_id,
    ])
    .env("CC_CLIENT_SECRET", new_app.secret())
    .env("STACKONE_API_KEY", env.stackone_key());
    let run = env.run(cmd, ccsetup::sandbox::test_browser::Decision::Approve);
    run.assert_code(4);
    let err = &run.stderr[run
        .stderr
        .find("Update the Constant Contact connector profile")
        .expect("edit steps")..];
    assert!(
        err.contains(&format!("(id {id}) and edit it")),
        "the same profile:\n{err}"
    );
    assert!(
        err.contains(&format!("API Key (Client ID): {}", new_app.client_id)),
        "{err}"
    );
    assert!(err.contains("Client Secret: "), "{err}");
    assert!(
        !err.contains("Scopes:"),
        "unchanged fields are not listed:\n{err}"
    );
    assert!(!run.all_output().contains(new_app.secret()));
    assert!(
        error_text(&run).contains("link"),
        "the proof records the edit"
    );
}

#[test]
fn changed_scopes_list_only_scopes_and_an_unchanged_rerun_lists_nothing() {
    let env = TestEnv::new();
    set_up_through_the_dashboard(&env);
    let run = env.init_ok(&["--json"]);
    assert_eq!(run.json()["stackone"]["action"], "unchanged");
    let run = env.run(
        env.init_cmd(&[
            "--json",
            "--scopes",
            "account_read,contact_data,offline_access",
        ]),
        ccsetup::sandbox::test_browser::Decision::Approve,
    );
    run.assert_code(4);
    let err = &run.stderr[run
        .stderr
        .find("Update the Constant Contact connector profile")
        .expect("edit steps")..];
    assert!(
        err.contains("Scopes: account_read contact_data offline_access"),
        "{err}"
    );
    assert!(!err.contains("API Key (Client ID):"), "{err}");
    assert!(!err.contains("Client Secret:"), "{err}");
}

#[test]
fn a_dashboard_edit_with_a_wrong_secret_fails_the_proof_and_status_does_not_say_verified() {
    use ccsetup::sandbox::test_browser::Decision;
    let env = TestEnv::new();
    let id = set_up_through_the_dashboard(&env);
    let status = || {
        let out = env.ccsetup(&["status", "--json"]).output().unwrap();
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(status()["verified"], "listed");
    // The person edits the profile and mistypes the Client Secret.
    env.sandbox
        .stackone()
        .edit_profile_as_dashboard(&id, &env.app.client_id, Some("mistyped"), &[], &[])
        .unwrap();
    let run = run_linking(
        link_cmd(&env, &["--wait", "--json"]),
        Some(Decision::Approve),
    );
    run.assert_code(3);
    assert!(
        run.all_output().contains("invalid_client"),
        "{}",
        run.stderr
    );
    let s = status();
    assert_ne!(s["verified"], "linked", "{s}");
    let detail = s["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "stackone_profile")
        .unwrap()["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(detail.contains("not verified"), "{detail}");

    // Corrected: the proof passes and status says so.
    env.sandbox
        .stackone()
        .edit_profile_as_dashboard(
            &id,
            &env.app.client_id,
            Some(&env.client_secret()),
            &[],
            &[],
        )
        .unwrap();
    let run = run_linking(
        link_cmd(&env, &["--wait", "--json"]),
        Some(Decision::Approve),
    );
    run.assert_code(0);
    assert_eq!(status()["verified"], "linked");
}
