//! `init` end to end: the real binary against the stand-ins.

use crate::support::e2e::TestEnv;
use ccsetup::sandbox::test_browser::Decision;

#[test]
fn non_interactive_init_authorizes_stores_and_creates_the_profile() {
    let env = TestEnv::with_hypothetical_write_api();
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["profile"], "default");
    assert_eq!(json["client_id"], env.app.client_id.as_str());
    assert_eq!(json["authorized"], true);
    assert_eq!(json["account"]["organization_name"], "Sandbox Bakery");
    assert_eq!(json["secret_store"], "file");
    assert_eq!(json["stackone"]["action"], "created");
    assert_eq!(json["stackone"]["name"], "Constant Contact");
    let profiles = env.sandbox.stackone().constant_contact_profiles();
    assert_eq!(profiles.len(), 1);
    // The secret reached StackOne, and nothing secret reached config.toml or output.
    let secret = env.client_secret();
    let config = env.config_text();
    assert!(config.contains(&env.app.client_id));
    assert!(!config.contains(&secret));
    assert!(!run.all_output().contains(&secret));
    let refresh = env
        .secret("default", "refresh_token")
        .expect("refresh token stored");
    assert!(!config.contains(&refresh) && !run.all_output().contains(&refresh));
    assert_eq!(
        env.secret("default", "client_secret").as_deref(),
        Some(secret.as_str())
    );
}

#[test]
fn rerun_with_the_same_inputs_leaves_one_unchanged_profile() {
    let env = TestEnv::with_hypothetical_write_api();
    env.run(env.init_cmd(&["--json"]), Decision::Approve)
        .assert_code(0);
    let run = env.run(env.init_cmd(&["--json"]), Decision::Approve);
    run.assert_code(0);
    assert_eq!(run.json()["stackone"]["action"], "unchanged");
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
}

#[test]
fn denied_consent_exits_3_and_stores_nothing() {
    let env = TestEnv::new();
    let run = env.run(env.init_cmd(&["--skip-stackone"]), Decision::Deny);
    run.assert_code(3);
    assert!(
        run.stderr.contains("access_denied") || run.stderr.contains("denied"),
        "{}",
        run.stderr
    );
    assert!(env.config_text().is_empty());
}
