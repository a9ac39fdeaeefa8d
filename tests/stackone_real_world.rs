//! Issue 13, "StackOne as it really is": every refusal leads to the
//! dashboard, the dashboard path is proven with `link --wait`, linked
//! accounts show in `status`, and one secret is rotated across profiles.

mod common;

use ccsetup::sandbox::SandboxOptions;
use ccsetup::sandbox::stackone::{ProfileWriteApi, StackOneOptions};
use common::{TestEnv, error_text};

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
        // Non-interactive dashboard path: the steps, then exit 4 (SPEC).
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
fn a_profile_named_with_other_case_is_reported_not_adopted() {
    let env = env_with_write_api(ProfileWriteApi::NotFound);
    let near = env
        .sandbox
        .stackone()
        .create_profile_as_dashboard(
            "Constant contact",
            &env.app.client_id,
            "whatever",
            &[],
            &[],
        )
        .unwrap();
    let run = env.run(
        env.init_cmd(&["--json"]),
        ccsetup::sandbox::test_browser::Decision::Approve,
    );
    // Not adopted: the dashboard steps, exit 4, naming the near match.
    run.assert_code(4);
    assert!(
        run.stderr.contains("\"Constant contact\"") && run.stderr.contains(&near),
        "the near match is named with its id:\n{}",
        run.stderr
    );
    assert!(!env.config_text().contains(&near), "not recorded");
}
