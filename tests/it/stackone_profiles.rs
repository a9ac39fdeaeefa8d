//! The real binary's Connector Profile handling against
//! the StackOne stand-in — create, idempotent re-runs, updates, faults,
//! pagination, the dashboard path, rotation, connect sessions, and where
//! secrets may (and may not) travel.

use std::time::{Duration, Instant};

use crate::support::e2e::{Run, TestEnv, assert_no_secret_in, error_text, run_plain};
use crate::support::fault;
use ccsetup::sandbox::stackone::{ProfileWriteApi, StoredProfile, faults};
use ccsetup::sandbox::test_browser::Decision;
use ccsetup::sandbox::{RecordedRequest, Response};

const DEFAULT_SCOPES: [&str; 4] = [
    "account_read",
    "contact_data",
    "campaign_data",
    "offline_access",
];

fn credential(profile: &StoredProfile, name: &str) -> String {
    profile
        .credentials
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn only_profile(env: &TestEnv) -> StoredProfile {
    let profiles = env.sandbox.stackone().constant_contact_profiles();
    assert_eq!(profiles.len(), 1, "{profiles:?}");
    profiles.into_iter().next().unwrap()
}

/// StackOne requests that write a connector profile.
fn writes(env: &TestEnv) -> Vec<RecordedRequest> {
    env.stackone_requests()
        .into_iter()
        .filter(|r| {
            r.path.starts_with("/connector_profiles") && (r.method == "POST" || r.method == "PATCH")
        })
        .collect()
}

fn recorded_id(env: &TestEnv) -> String {
    let config: toml::Value = toml::from_str(&env.config_text()).unwrap();
    config["profiles"]["default"]["stackone_connector_profile_id"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn init_creates_the_profile_with_the_credentials() {
    let env = TestEnv::with_hypothetical_write_api();
    let run = env.init_ok(&["--json", "--actions", "marketing_list_contacts"]);
    let json = run.json();
    assert_eq!(json["stackone"]["action"], "created");
    let profile = only_profile(&env);
    assert_eq!(
        json["stackone"]["connector_profile_id"],
        profile.id.as_str()
    );
    assert_eq!(recorded_id(&env), profile.id);
    assert_eq!(profile.name, "Constant Contact");
    assert_eq!(profile.authentication_config_key, "oauth2");
    assert_eq!(profile.created_via, "api");
    assert_eq!(credential(&profile, "client_id"), env.app.client_id);
    assert_eq!(credential(&profile, "client_secret"), env.client_secret());
    assert_eq!(profile.scopes, DEFAULT_SCOPES);
    assert_eq!(profile.actions, ["marketing_list_contacts"]);
    // Every StackOne call: Basic with the key as user and an empty password.
    for r in env.stackone_requests() {
        let header = r.header("authorization").unwrap_or_default().to_string();
        let req = ccsetup::sandbox::server::Request {
            method: r.method.clone(),
            path: r.path.clone(),
            query: r.query.clone(),
            headers: r.headers.clone(),
            body: r.body.clone(),
        };
        assert_eq!(
            req.basic_auth(),
            Some((env.stackone_key(), String::new())),
            "{} {}: {header}",
            r.method,
            r.path
        );
    }
}

#[test]
fn a_rerun_with_the_same_inputs_writes_nothing() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let id = only_profile(&env).id;
    env.sandbox.stackone().log().clear();
    let run = env.init_ok(&["--json"]);
    assert_eq!(run.json()["stackone"]["action"], "unchanged");
    assert_eq!(run.json()["stackone"]["connector_profile_id"], id.as_str());
    assert!(writes(&env).is_empty(), "{:?}", writes(&env));
    assert_eq!(only_profile(&env).id, id);
}

#[test]
fn changed_scopes_update_the_profile() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let id = only_profile(&env).id;
    env.sandbox.stackone().log().clear();
    let run = env.init_ok(&[
        "--json",
        "--scopes",
        "account_read,contact_data,offline_access",
    ]);
    assert_eq!(run.json()["stackone"]["action"], "updated");
    let profile = only_profile(&env);
    assert_eq!(profile.id, id);
    assert_eq!(
        profile.scopes,
        ["account_read", "contact_data", "offline_access"]
    );
    let writes = writes(&env);
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].method, "PATCH");
    let body: serde_json::Value = serde_json::from_slice(&writes[0].body).unwrap();
    assert!(body.to_string().contains("offline_access"), "{body}");
    // The secret did not change, so it is not sent again.
    assert!(!writes[0].contains(&env.client_secret()), "{body}");
    // The same setup once more: nothing to do.
    let run = env.init_ok(&[
        "--json",
        "--scopes",
        "account_read,contact_data,offline_access",
    ]);
    assert_eq!(run.json()["stackone"]["action"], "unchanged");
}

#[test]
fn a_500_after_the_create_still_leaves_exactly_one_profile() {
    let env = TestEnv::with_a_500_after_the_profile_create();
    let run = env.init_ok(&["--json"]);
    assert_eq!(run.json()["stackone"]["action"], "created");
    let profile = only_profile(&env);
    assert_eq!(
        run.json()["stackone"]["connector_profile_id"],
        profile.id.as_str()
    );
    assert_eq!(credential(&profile, "client_secret"), env.client_secret());
    let posts: Vec<_> = writes(&env)
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1, "looked before trying again: {posts:?}");
}

#[test]
fn a_429_with_retry_after_is_waited_for() {
    let env = TestEnv::with_hypothetical_write_api();
    env.sandbox.stackone().inject(
        fault::on("POST", "/connector_profiles").respond(
            Response::json(
                429,
                &serde_json::json!({"statusCode":429,"message":"Too Many Requests"}),
            )
            .with_header("retry-after", "3"),
        ),
    );
    let start = Instant::now();
    let run = env.init_ok(&["--json"]);
    let took = start.elapsed();
    assert_eq!(run.json()["stackone"]["action"], "created");
    let posts: Vec<_> = writes(&env)
        .into_iter()
        .filter(|r| r.method == "POST")
        .collect();
    assert_eq!(posts.len(), 2);
    assert_eq!(posts[0].status, Some(429));
    assert_eq!(posts[1].status, Some(201));
    assert!(
        took >= Duration::from_secs(3),
        "Retry-After: 3 honoured ({took:?})"
    );
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
}

#[test]
fn a_bad_stackone_key_is_exit_2_and_never_printed() {
    let env = TestEnv::new();
    let bad = "v1.sandbox.wrong-key-canary-77a1";
    let mut cmd = env.init_cmd(&[]);
    cmd.env("STACKONE_API_KEY", bad);
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(2);
    let err = error_text(&run);
    assert!(err.contains("refused the API key"), "{err}");
    assert!(
        err.contains("STACKONE_API_KEY"),
        "the hint says how to pass another: {err}"
    );
    assert_no_secret_in(&run, &[bad, &env.stackone_key(), &env.client_secret()]);
    assert!(
        env.stackone_requests()
            .iter()
            .all(|r| r.status == Some(401)),
        "{:?}",
        env.stackone_requests()
    );
    assert!(
        env.sandbox
            .stackone()
            .constant_contact_profiles()
            .is_empty()
    );
}

#[test]
fn the_existing_profile_is_found_beyond_the_first_page() {
    let env = TestEnv::with_hypothetical_write_api();
    for i in 0..30 {
        env.sandbox
            .stackone()
            .create_profile_as_dashboard(
                &format!("Other Constant Contact app {i:02}"),
                &format!("other-client-{i}"),
                "other-secret",
                &[],
                &[],
            )
            .unwrap();
    }
    let run = env.init_ok(&["--json"]);
    assert_eq!(run.json()["stackone"]["action"], "created");
    let ours = |env: &TestEnv| {
        env.sandbox
            .stackone()
            .constant_contact_profiles()
            .into_iter()
            .filter(|p| p.name == "Constant Contact")
            .count()
    };
    assert_eq!(ours(&env), 1);
    // Re-runs must find it on page 2 by its recorded id; without the id it
    // is never adopted by name (the older same-named ones could be anyone's).
    let run = env.init_ok(&["--json"]);
    assert_eq!(run.json()["stackone"]["action"], "unchanged");
    std::fs::write(
        env.config_dir().join("config.toml"),
        env.config_text()
            .lines()
            .filter(|l| !l.starts_with("stackone_connector_profile_id"))
            .collect::<Vec<_>>()
            .join("\n"),
    )
    .unwrap();
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(4);
    assert_eq!(ours(&env), 1, "no duplicate, nothing adopted by name");
    assert!(
        env.stackone_requests()
            .iter()
            .any(|r| r.method == "GET" && r.query.contains("page=2")),
        "the listing was paged"
    );
}

/// The steps of a non-interactive dashboard path, and what they must not show.
fn assert_dashboard_steps(run: &Run, env: &TestEnv) {
    run.assert_code(4);
    let err = &run.stderr;
    for needle in [
        "+ Connector Profile",
        "OAuth 2.0",
        "There is no Name field",
        &format!("API Key (Client ID): {}", env.app.client_id),
        "Client Secret: the Client Secret of your Constant Contact application (not shown here)",
        "/dashboard/connector-profiles",
    ] {
        assert!(err.contains(needle), "{needle:?} missing:\n{err}");
    }
    assert!(
        error_text(run).contains("run the same command again"),
        "{err}"
    );
    assert_no_secret_in(run, &[&env.client_secret(), &env.stackone_key()]);
}

fn create_in_dashboard(env: &TestEnv) -> String {
    env.sandbox
        .stackone()
        .create_profile_as_dashboard(
            "Constant Contact",
            &env.app.client_id,
            &env.client_secret(),
            &DEFAULT_SCOPES,
            &[],
        )
        .unwrap()
}

#[test]
fn auto_mode_without_a_write_api_exits_4_with_the_steps_then_a_rerun_records_the_profile() {
    let env = TestEnv::new();
    env.sandbox
        .stackone()
        .set_profile_write_api(ProfileWriteApi::NotFound);
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    assert_dashboard_steps(&run, &env);
    assert!(
        env.sandbox
            .stackone()
            .constant_contact_profiles()
            .is_empty()
    );

    let id = create_in_dashboard(&env);
    let run = env.init_ok(&["--json"]);
    // The first run recorded the ids it listed: the one new since is adopted.
    assert_eq!(run.json()["stackone"]["action"], "dashboard");
    assert_eq!(run.json()["stackone"]["connector_profile_id"], id.as_str());
    assert_eq!(recorded_id(&env), id);
    assert_eq!(only_profile(&env).created_via, "dashboard");
}

#[test]
fn dashboard_mode_non_interactive_never_writes_through_the_api() {
    let env = TestEnv::new();
    let run = env.run(
        env.init_cmd(&["--json", "--stackone-mode", "dashboard"]),
        Decision::Approve,
    );
    assert_dashboard_steps(&run, &env);
    assert!(writes(&env).is_empty(), "{:?}", writes(&env));

    let id = create_in_dashboard(&env);
    let mut cmd = env.init_cmd(&["--json"]);
    cmd.env("CCSETUP_STACKONE_MODE", "dashboard");
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(0);
    assert_eq!(run.json()["stackone"]["action"], "dashboard");
    assert_eq!(recorded_id(&env), id);
    assert!(writes(&env).is_empty());
}

#[test]
fn rotate_client_secret_proves_stores_and_patches_stackone() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let old = env.client_secret();
    let new = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    env.sandbox.stackone().log().clear();
    let token_requests = env.cc_requests("/oauth2/default/v1/token").len();

    let mut cmd = env.ccsetup(&["rotate", "--client-secret", "--non-interactive", "--json"]);
    cmd.env("CC_CLIENT_SECRET", &new);
    let run = run_plain(cmd);
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["client_secret"], "rotated", "{json}");
    assert_eq!(json["stackone"]["action"], "updated", "{json}");

    // Proven with a refresh grant authenticated by the new secret.
    let tokens = env.cc_requests("/oauth2/default/v1/token");
    assert_eq!(tokens.len(), token_requests + 1);
    let proof = tokens.last().unwrap();
    assert!(String::from_utf8_lossy(&proof.body).contains("grant_type=refresh_token"));
    assert!(proof.contains(&new) && !proof.contains(&old));
    assert_eq!(proof.status, Some(200));

    assert_eq!(env.secret("default", "client_secret").unwrap(), new);
    assert!(!env.has_secret("default", "client_secret_previous"));
    assert_eq!(credential(&only_profile(&env), "client_secret"), new);
    let writes = writes(&env);
    assert_eq!(writes.len(), 1);
    assert_eq!(writes[0].method, "PATCH");
    assert_no_secret_in(&run, &[&old, &new, &env.stackone_key()]);
    // Still a working setup.
    run_plain(env.ccsetup(&["token", "--force-refresh"])).assert_code(0);
    run_plain(env.ccsetup(&["status"])).assert_code(0);
}

#[test]
fn rotate_reauthorize_replaces_the_refresh_token() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let old = env.secret("default", "refresh_token").unwrap();
    let run = env.run(
        env.ccsetup(&["rotate", "--reauthorize", "--json"]),
        Decision::Approve,
    );
    run.assert_code(0);
    assert_eq!(run.json()["refresh_token"], "rotated");
    let new = env.secret("default", "refresh_token").unwrap();
    assert_ne!(new, old);
    assert_eq!(new, env.last_issued_refresh_token());
    assert_no_secret_in(&run, &[&new, &old]);
    // StackOne is not touched by a re-authorization.
    assert_eq!(
        credential(&only_profile(&env), "client_secret"),
        env.client_secret()
    );
    run_plain(env.ccsetup(&["token", "--force-refresh"])).assert_code(0);
}

#[test]
fn link_json_gives_the_session_and_never_its_token() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let run = run_plain(env.ccsetup(&[
        "link",
        "--origin-owner-id",
        "x",
        "--origin-owner-name",
        "y",
        "--json",
    ]));
    run.assert_code(0);
    let json = run.json();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["auth_link_url", "expires_at", "session_id"],
        "{json}"
    );
    assert!(
        !json["session_id"].as_str().unwrap_or("").is_empty(),
        "{json}"
    );
    assert!(json["auth_link_url"].as_str().unwrap().starts_with("http"));
    let expires_at = json["expires_at"].as_str().unwrap();
    time::OffsetDateTime::parse(expires_at, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{expires_at}: {e}"));

    let session = env
        .sandbox
        .stackone()
        .responses()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/connect_sessions")
        .expect("a session was created");
    let body: serde_json::Value = serde_json::from_slice(&session.body).unwrap();
    let token = body["token"].as_str().expect("StackOne returned a token");
    // The hub link is what the customer opens, and StackOne puts the session
    // token inside it; outside the link, the token is never shown.
    let link = json["auth_link_url"].as_str().unwrap();
    assert!(
        !run.all_output().replace(link, "<link>").contains(token),
        "{}",
        run.all_output()
    );
    // Nor in the human form, or with HTTP tracing on.
    let human = run_plain(env.ccsetup(&[
        "link",
        "--origin-owner-id",
        "x2",
        "--origin-owner-name",
        "y2",
        "-vv",
    ]));
    human.assert_code(0);
    let session = env
        .sandbox
        .stackone()
        .responses()
        .into_iter()
        .rfind(|r| r.method == "POST" && r.path == "/connect_sessions")
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&session.body).unwrap();
    let (token2, link2) = (
        body["token"].as_str().unwrap(),
        body["auth_link_url"].as_str().unwrap(),
    );
    assert!(human.stdout.contains(link2), "{}", human.stdout);
    assert!(
        !human.all_output().replace(link2, "<link>").contains(token2),
        "{}",
        human.all_output()
    );
    let request = env
        .stackone_requests()
        .into_iter()
        .find(|r| r.path == "/connect_sessions")
        .unwrap();
    let sent: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(sent["origin_owner_id"], "x");
    assert_eq!(sent["origin_owner_name"], "y");
    assert_eq!(env.sandbox.stackone().session_count(), 2);
}

#[test]
fn secrets_travel_only_in_the_create_and_patch_bodies() {
    let env = TestEnv::with_hypothetical_write_api();
    let mut outputs = vec![env.init_ok(&[])];
    let old = env.client_secret();
    let new = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let mut rotate = env.ccsetup(&["rotate", "--client-secret", "--non-interactive"]);
    rotate.env("CC_CLIENT_SECRET", &new);
    outputs.push(run_plain(rotate));
    outputs.push(run_plain(env.ccsetup(&[
        "link",
        "--origin-owner-id",
        "x",
        "--origin-owner-name",
        "y",
    ])));
    outputs.push(run_plain(env.ccsetup(&["status", "-vv"])));
    outputs.push(env.init_ok(&["-vv"]));
    for run in &outputs {
        run.assert_code(0);
        assert_no_secret_in(run, &[&old, &new, &env.stackone_key()]);
    }

    let requests = env.stackone_requests();
    let carrying: Vec<&RecordedRequest> = requests
        .iter()
        .filter(|r| r.contains(&old) || r.contains(&new))
        .collect();
    let shape: Vec<(String, bool)> = carrying
        .iter()
        .map(|r| {
            (
                format!("{} {}", r.method, r.path.split('/').nth(1).unwrap_or("")),
                String::from_utf8_lossy(&r.body).contains(if r.method == "POST" {
                    &old
                } else {
                    &new
                }),
            )
        })
        .collect();
    assert_eq!(
        shape,
        [
            ("POST connector_profiles".to_string(), true),
            ("PATCH connector_profiles".to_string(), true)
        ],
        "the secret went exactly into the create and the PATCH bodies"
    );
    for r in &carrying {
        assert!(
            !r.path.contains(&old)
                && !r.query.contains(&old)
                && r.headers
                    .iter()
                    .all(|(_, v)| !v.contains(&old) && !v.contains(&new)),
            "only in the body"
        );
    }
    let key = env.stackone_key();
    for r in env.sandbox.all_requests() {
        assert!(
            !String::from_utf8_lossy(&r.body).contains(&key),
            "the StackOne key in a body: {} {}",
            r.method,
            r.path
        );
    }
    for r in env.sandbox.stackone().responses() {
        assert!(
            !r.contains(&old) && !r.contains(&new) && !r.contains(&key),
            "a secret in a StackOne response: {} {}",
            r.method,
            r.path
        );
    }
    for r in env.sandbox.cc().responses() {
        assert!(!r.contains(&old) && !r.contains(&new) && !r.contains(&key));
    }
}

#[test]
fn a_rerun_with_a_new_client_secret_sends_it_to_stackone() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let new = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    env.sandbox.stackone().log().clear();
    let mut cmd = env.init_cmd(&["--json"]);
    cmd.env("CC_CLIENT_SECRET", &new);
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(0);
    assert_eq!(run.json()["stackone"]["action"], "updated");
    assert_eq!(credential(&only_profile(&env), "client_secret"), new);
    assert_eq!(writes(&env).len(), 1);
    assert_no_secret_in(&run, &[&new]);
}
#[test]
fn a_refused_stackone_key_does_not_replace_the_working_one() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let mut cmd = env.init_cmd(&[]);
    cmd.env("STACKONE_API_KEY", "v1.sandbox.typo-in-the-key");
    env.run(cmd, Decision::Approve).assert_code(2);
    assert_eq!(
        env.secret("default", "stackone_api_key").as_deref(),
        Some(env.stackone_key().as_str()),
        "the key StackOne refused was stored over the one that works"
    );
    // Commands that use the stored key still work.
    run_plain(env.ccsetup(&["link", "--origin-owner-id", "x", "--origin-owner-name", "y"]))
        .assert_code(0);
}

#[test]
fn rotate_with_a_secret_constant_contact_refuses_changes_nothing() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let old = env.client_secret();
    let refresh = env.secret("default", "refresh_token").unwrap();
    env.sandbox.stackone().log().clear();
    let wrong = "not-the-generated-secret-4f1c";
    let mut cmd = env.ccsetup(&["rotate", "--client-secret", "--non-interactive"]);
    cmd.env("CC_CLIENT_SECRET", wrong);
    let run = run_plain(cmd);
    run.assert_code(3);
    assert!(
        error_text(&run).contains("does not belong to this API Key"),
        "{}",
        run.stderr
    );
    assert_no_secret_in(&run, &[wrong, &old]);
    assert_eq!(env.secret("default", "client_secret").unwrap(), old);
    assert!(!env.has_secret("default", "client_secret_previous"));
    assert_eq!(env.secret("default", "refresh_token").unwrap(), refresh);
    assert!(
        env.refresh_token_alive(&refresh),
        "the refresh token is not spent"
    );
    assert!(writes(&env).is_empty());
}

#[test]
fn a_rotation_whose_stackone_update_failed_can_be_finished_by_running_it_again() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let old = env.client_secret();
    let new = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    // StackOne fails every try of the PATCH.
    env.sandbox.stackone().inject(faults::server_error(
        Some("PATCH"),
        "/connector_profiles",
        10,
    ));
    let rotate = || {
        let mut cmd = env.ccsetup(&["rotate", "--client-secret", "--non-interactive", "--json"]);
        cmd.env("CC_CLIENT_SECRET", &new);
        run_plain(cmd)
    };
    let run = rotate();
    run.assert_code(4);
    // The new secret is stored, the previous one kept, StackOne still old.
    assert_eq!(env.secret("default", "client_secret").unwrap(), new);
    assert_eq!(
        env.secret("default", "client_secret_previous").unwrap(),
        old
    );
    assert_eq!(credential(&only_profile(&env), "client_secret"), old);

    // StackOne is back; the same command finishes the job.
    env.sandbox.stackone().clear_faults();
    let run = rotate();
    run.assert_code(0);
    assert_eq!(
        run.json()["stackone"]["action"],
        "updated",
        "{}",
        run.stdout
    );
    assert_eq!(credential(&only_profile(&env), "client_secret"), new);
    assert!(!env.has_secret("default", "client_secret_previous"));
    assert_no_secret_in(&run, &[&old, &new]);
}

#[test]
fn init_also_finishes_a_rotation_whose_stackone_update_failed() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let new = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    env.sandbox.stackone().inject(faults::server_error(
        Some("PATCH"),
        "/connector_profiles",
        10,
    ));
    let mut cmd = env.ccsetup(&["rotate", "--client-secret", "--non-interactive"]);
    cmd.env("CC_CLIENT_SECRET", &new);
    run_plain(cmd).assert_code(4);
    env.sandbox.stackone().clear_faults();

    // `init` with the (new, stored) secret: StackOne must get it too.
    let mut cmd = env.init_cmd(&["--json"]);
    cmd.env("CC_CLIENT_SECRET", &new);
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(0);
    assert_eq!(run.json()["stackone"]["action"], "updated");
    assert_eq!(credential(&only_profile(&env), "client_secret"), new);
    assert!(!env.has_secret("default", "client_secret_previous"));
    // And from then on re-runs are idempotent again.
    let mut cmd = env.init_cmd(&["--json"]);
    cmd.env("CC_CLIENT_SECRET", &new);
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(0);
    assert_eq!(run.json()["stackone"]["action"], "unchanged");
}
