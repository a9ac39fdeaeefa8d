//! Secrets that survive: the real binary's token cache and
//! rotation, concurrent refreshes, the recovery file, config.toml
//! robustness, `status`, `reset`, and the real Secret Service.
// Unix only: file modes, `kill`, and the Secret Service (the Windows CI job runs the portable suites).
#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;

use crate::support::e2e::{TestEnv, assert_no_secret_in, error_text, run_plain, status_check};
use ccsetup::sandbox::stackone::ProfileWriteApi;
use ccsetup::sandbox::test_browser::Decision;

const TOKEN_PATH: &str = "/oauth2/default/v1/token";
const AUTHORIZE_PATH: &str = "/oauth2/default/v1/authorize";

fn stored_access_token(env: &TestEnv) -> serde_json::Value {
    serde_json::from_str(
        &env.secret("default", "access_token")
            .expect("access token cached"),
    )
    .unwrap()
}

/// Authorization requests (consent pages shown), not their decisions.
/// Authorizations a browser went through: the registration check's probes
/// also `GET` the authorization URL, but only a browser follows the
/// redirect to the sign-in page.
fn authorizations(env: &TestEnv) -> usize {
    env.cc_requests(AUTHORIZE_PATH)
        .iter()
        .filter(|r| r.path == format!("{AUTHORIZE_PATH}/signin"))
        .count()
}

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn token_uses_the_cache_then_force_refresh_rotates() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let cached = stored_access_token(&env)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let old_refresh = env.secret("default", "refresh_token").unwrap();
    let token_requests = env.cc_requests(TOKEN_PATH).len();

    let run = run_plain(env.ccsetup(&["token"]));
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        format!("{cached}\n"),
        "only the token on stdout"
    );
    assert_eq!(
        env.cc_requests(TOKEN_PATH).len(),
        token_requests,
        "the cache was used: no token request"
    );

    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(0);
    let fresh = run.stdout.trim().to_string();
    assert_ne!(fresh, cached);
    let new_refresh = env.secret("default", "refresh_token").unwrap();
    assert_ne!(
        new_refresh, old_refresh,
        "the rotated refresh token is stored"
    );
    assert_eq!(new_refresh, env.last_issued_refresh_token());
    assert!(
        !env.refresh_token_alive(&old_refresh),
        "the old one is dead at the stand-in"
    );
    assert!(env.refresh_token_alive(&new_refresh));
    assert_eq!(stored_access_token(&env)["access_token"], fresh.as_str());
    assert_no_secret_in(&run, &[&new_refresh, &old_refresh]);
    // The new access token works at the API.
    let api = env.cc_requests("/v3/account/summary");
    assert!(api.iter().all(|r| r.status == Some(200)));
}

#[test]
fn a_cached_token_with_under_a_minute_left_is_refreshed() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let mut cached = stored_access_token(&env);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let old_token = cached["access_token"].as_str().unwrap().to_string();
    // 90 s left: still used.
    cached["expires_at"] = serde_json::json!(now + 90);
    env.set_secret("default", "access_token", Some(&cached.to_string()));
    let run = run_plain(env.ccsetup(&["token"]));
    run.assert_code(0);
    assert_eq!(run.stdout.trim(), old_token);
    // 30 s left: refreshed first.
    cached["expires_at"] = serde_json::json!(now + 30);
    env.set_secret("default", "access_token", Some(&cached.to_string()));
    let run = run_plain(env.ccsetup(&["token"]));
    run.assert_code(0);
    assert_ne!(run.stdout.trim(), old_token);
    // init's refresh-token type check, then this one.
    assert_eq!(env.sandbox.cc().refresh_redemptions().len(), 2);
}

#[test]
fn token_json_has_the_documented_shape() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    for args in [
        &["token", "--json"][..],
        &["--json", "token", "--force-refresh"],
    ] {
        let run = run_plain(env.ccsetup(args));
        run.assert_code(0);
        let json = run.json();
        let obj = json.as_object().unwrap();
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["access_token", "expires_at", "scope"], "{json}");
        assert!(!json["access_token"].as_str().unwrap().is_empty());
        let expires_at = json["expires_at"].as_str().unwrap();
        let at =
            time::OffsetDateTime::parse(expires_at, &time::format_description::well_known::Rfc3339)
                .unwrap_or_else(|e| panic!("{expires_at} is not RFC 3339: {e}"));
        let left = at - time::OffsetDateTime::now_utc();
        assert!(
            left > time::Duration::hours(23) && left <= time::Duration::hours(24),
            "{expires_at}"
        );
        let scope = json["scope"].as_str().unwrap();
        for s in [
            "account_read",
            "contact_data",
            "campaign_data",
            "offline_access",
        ] {
            assert!(scope.split(' ').any(|x| x == s), "{scope}");
        }
    }
}

#[test]
fn concurrent_force_refreshes_never_redeem_a_refresh_token_twice() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = env.ccsetup(&["token", "--force-refresh"]);
            cmd.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut tokens = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        tokens.push(String::from_utf8(out.stdout).unwrap().trim().to_string());
    }
    assert!(tokens.iter().all(|t| !t.is_empty()));
    assert_eq!(
        env.sandbox.cc().refresh_tokens_redeemed_more_than_once(),
        Vec::<String>::new()
    );
    assert!(
        env.sandbox
            .cc()
            .refresh_redemptions()
            .iter()
            .all(|r| r.accepted),
        "{:?}",
        env.sandbox.cc().refresh_redemptions().len()
    );
    // The stored refresh token is the live one.
    let stored = env.secret("default", "refresh_token").unwrap();
    assert_eq!(stored, env.last_issued_refresh_token());
    run_plain(env.ccsetup(&["token", "--force-refresh"])).assert_code(0);
    assert!(
        env.sandbox
            .cc()
            .refresh_tokens_redeemed_more_than_once()
            .is_empty()
    );
}

#[test]
fn a_refused_store_write_after_a_refresh_leaves_a_recovery_file_and_the_next_run_recovers() {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let old_refresh = env.secret("default", "refresh_token").unwrap();
    let authorized_before = authorizations(&env);

    let mut cmd = env.ccsetup(&["token", "--force-refresh"]);
    cmd.env("CCSETUP_TEST_FAIL_STORE_WRITES", "refresh_token");
    let run = run_plain(cmd);
    run.assert_code(5);
    assert!(run.stdout.is_empty(), "nothing printed: {}", run.stdout);
    let rotated = env.last_issued_refresh_token();
    assert_ne!(rotated, old_refresh);
    assert!(!env.refresh_token_alive(&old_refresh));
    let recovery = env.config_dir().join("recovery/default.refresh_token");
    assert_eq!(std::fs::read_to_string(&recovery).unwrap(), rotated);
    assert_eq!(mode(&recovery), 0o600);
    let err = error_text(&run);
    assert!(err.contains(&recovery.display().to_string()), "{err}");
    assert_no_secret_in(&run, &[&rotated, &old_refresh]);
    // The store still holds the dead token; the file holds the live one.
    assert_eq!(env.secret("default", "refresh_token").unwrap(), old_refresh);

    // The next run puts it back, without a new authorization.
    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(0);
    assert!(run.stderr.contains("Recovered"), "{}", run.stderr);
    assert!(!recovery.exists());
    assert_eq!(authorizations(&env), authorized_before);
    assert!(
        env.sandbox
            .cc()
            .refresh_tokens_redeemed_more_than_once()
            .is_empty()
    );
    let stored = env.secret("default", "refresh_token").unwrap();
    assert_eq!(stored, env.last_issued_refresh_token());
    assert!(env.refresh_token_alive(&stored));
}

#[test]
fn a_corrupt_config_is_reported_with_its_path_and_never_rewritten() {
    assert_corrupt_config_is_reported(b"[profiles.default\nclient_id = \"unterminated\n");
}

#[test]
fn a_config_that_is_not_text_is_reported_like_any_corrupt_config() {
    // What a disk error or a stray binary write leaves behind.
    assert_corrupt_config_is_reported(b"[profiles.default]\n\x00\x00\xff\xfe\x80garbage");
}

/// Every command that reads config.toml reports `corrupt` with the file's
/// path and what is wrong, exits 1, and leaves the file as it is.
fn assert_corrupt_config_is_reported(corrupt: &[u8]) {
    let env = TestEnv::new();
    env.init_ok(&["--skip-stackone"]);
    let path = env.config_dir().join("config.toml");
    std::fs::write(&path, corrupt).unwrap();
    let secrets_before = std::fs::read(env.config_dir().join("secrets/default.json")).unwrap();
    let path_text = path.display().to_string();

    let commands: Vec<(&str, std::process::Command)> = vec![
        ("init", env.init_cmd(&[])),
        ("token", env.ccsetup(&["token"])),
        (
            "token --force-refresh",
            env.ccsetup(&["token", "--force-refresh"]),
        ),
        ("status", env.ccsetup(&["status"])),
        ("status --json", env.ccsetup(&["status", "--json"])),
        ("status --offline", env.ccsetup(&["status", "--offline"])),
        (
            "rotate --reauthorize",
            env.ccsetup(&["rotate", "--reauthorize"]),
        ),
        ("rotate --client-secret", {
            let mut c = env.ccsetup(&["rotate", "--client-secret"]);
            c.env("CC_CLIENT_SECRET", "a-new-secret-nobody-generated");
            c
        }),
        (
            "link",
            env.ccsetup(&["link", "--origin-owner-id", "x", "--origin-owner-name", "y"]),
        ),
        ("reset --yes", env.ccsetup(&["reset", "--yes"])),
        ("doctor", env.ccsetup(&["doctor"])),
    ];
    for (name, cmd) in commands {
        let run = env.run(cmd, Decision::Approve);
        assert_eq!(run.code, Some(1), "{name}: {}", run.stderr);
        let shown = run.all_output();
        assert!(
            shown.contains(&path_text),
            "{name} names the file:\n{shown}"
        );
        assert!(
            shown.contains("not valid"),
            "{name} says what is wrong:\n{shown}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), corrupt, "{name} rewrote it");
    }
    // Nothing else was touched either: no authorization, no new secrets.
    assert_eq!(authorizations(&env), 1);
    assert_eq!(
        std::fs::read(env.config_dir().join("secrets/default.json")).unwrap(),
        secrets_before
    );
}

#[test]
fn no_secret_reaches_config_toml_after_a_full_run() {
    let env = TestEnv::with_hypothetical_write_api();
    let mut outputs = vec![env.init_ok(&["--actions", "marketing_list_contacts"])];
    outputs.push(run_plain(env.ccsetup(&["token", "--force-refresh"])));
    let old_secret = env.client_secret();
    let new_secret = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let mut rotate = env.ccsetup(&["rotate", "--client-secret"]);
    rotate.env("CC_CLIENT_SECRET", &new_secret);
    outputs.push(run_plain(rotate));
    outputs.push(run_plain(env.ccsetup(&[
        "link",
        "--origin-owner-id",
        "cust-1",
        "--origin-owner-name",
        "Cust",
    ])));
    outputs.push(run_plain(env.ccsetup(&["status"])));
    for run in &outputs {
        run.assert_code(0);
    }

    let config = env.config_text();
    assert!(config.contains(&env.app.client_id));
    let mut secrets = vec![old_secret, new_secret, env.stackone_key()];
    secrets.extend(
        env.sandbox
            .cc()
            .issued_refresh_tokens()
            .into_iter()
            .map(|t| t.token),
    );
    let access = stored_access_token(&env)["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    secrets.push(access);
    for s in &secrets {
        assert!(!config.contains(s.as_str()), "config.toml holds a secret");
    }
    // Nothing secret in any output either, except `token`'s own access token.
    for run in outputs.iter().filter(|r| !r.stdout.is_empty()) {
        let refresh_and_secrets: Vec<&str> = secrets[..secrets.len() - 1]
            .iter()
            .map(String::as_str)
            .collect();
        assert_no_secret_in(run, &refresh_and_secrets);
    }
    assert_eq!(mode(&env.config_dir().join("config.toml")), 0o600);
    assert_eq!(mode(env.config_dir()), 0o700);
    assert_eq!(mode(&env.config_dir().join("secrets/default.json")), 0o600);
}

const CHECKS: [&str; 7] = [
    "config",
    "secret_store",
    "client_secret",
    "refresh_token",
    "access_token",
    "account",
    "stackone_profile",
];

#[test]
fn status_after_a_full_init_is_all_ok() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let run = run_plain(env.ccsetup(&["status", "--json"]));
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["profile"], "default");
    assert_eq!(json["ok"], true);
    let names: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for name in CHECKS {
        assert!(names.contains(&name), "{name} missing: {json}");
        let c = status_check(&json, name);
        assert_eq!(c["status"], "ok", "{json}");
        assert!(!c["detail"].as_str().unwrap().is_empty());
    }
    assert!(
        status_check(&json, "account")["detail"]
            .as_str()
            .unwrap()
            .contains("Sandbox Bakery")
    );
    // Human form: one line per part, all ok, exit 0.
    let run = run_plain(env.ccsetup(&["status"]));
    run.assert_code(0);
    for name in CHECKS {
        let line = run
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line:\n{}", run.stdout));
        assert!(line.contains(" ok "), "{line}");
    }
}

#[test]
fn status_offline_skips_the_network_and_still_exits_0() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    env.sandbox.cc().log().clear();
    env.sandbox.stackone().log().clear();
    let run = run_plain(env.ccsetup(&["status", "--offline", "--json"]));
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["ok"], true, "{json}");
    assert_eq!(status_check(&json, "account")["status"], "skipped");
    assert_eq!(status_check(&json, "stackone_profile")["status"], "skipped");
    for name in ["config", "secret_store", "client_secret", "refresh_token"] {
        assert_eq!(status_check(&json, name)["status"], "ok", "{json}");
    }
    assert!(env.sandbox.cc().log().entries().is_empty());
    assert!(env.stackone_requests().is_empty());
}

#[test]
fn status_with_a_revoked_refresh_token_fails_with_a_hint() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    env.sandbox.cc().revoke_all_tokens();
    // The client judges expiry by its own clock: remove the cached access
    // token so that status has to refresh.
    env.set_secret("default", "access_token", None);
    let run = run_plain(env.ccsetup(&["status", "--json"]));
    run.assert_code(1);
    let json = run.json();
    assert_eq!(json["ok"], false);
    assert_eq!(
        status_check(&json, "access_token")["status"],
        "failing",
        "{json}"
    );
    let detail = status_check(&json, "access_token")["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("refresh token"), "{detail}");
    assert!(detail.contains("invalid_grant"), "{detail}");
    let err = error_text(&run);
    assert!(
        err.contains("hint:") && err.contains("rotate --reauthorize"),
        "{err}"
    );
}

#[test]
fn reset_yes_forgets_secrets_and_the_config_entry() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let run = run_plain(env.ccsetup(&["reset", "--yes"]));
    run.assert_code(0);
    assert!(!env.config_text().contains("[profiles.default]"));
    let secrets = env.config_dir().join("secrets/default.json");
    assert!(
        !secrets.exists() || env.secrets("default").as_object().unwrap().is_empty(),
        "{}",
        std::fs::read_to_string(&secrets).unwrap_or_default()
    );
    // StackOne is not touched without --delete-stackone-profile.
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
    let token = run_plain(env.ccsetup(&["token"]));
    token.assert_code(2);
    assert!(error_text(&token).contains("ccsetup init"));
}

#[test]
fn reset_without_yes_when_nobody_can_confirm_is_exit_2() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    for args in [
        &["reset"][..],
        &["reset", "--non-interactive"],
        &["--non-interactive", "reset", "--delete-stackone-profile"],
    ] {
        let run = run_plain(env.ccsetup(args));
        run.assert_code(2);
        assert!(error_text(&run).contains("--yes"), "{}", run.stderr);
    }
    assert!(env.config_text().contains("[profiles.default]"));
    assert!(env.has_secret("default", "refresh_token"));
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
}

#[test]
fn reset_can_delete_the_stackone_profile() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    let run = run_plain(env.ccsetup(&["reset", "--yes", "--delete-stackone-profile", "--json"]));
    run.assert_code(0);
    assert_eq!(run.json()["stackone_profile_deleted"], true);
    assert!(
        env.sandbox
            .stackone()
            .constant_contact_profiles()
            .is_empty()
    );
    assert!(
        env.stackone_requests()
            .iter()
            .any(|r| r.method == "DELETE" && r.path.starts_with("/connector_profiles/"))
    );
    assert!(!env.config_text().contains("[profiles.default]"));
}

#[test]
fn reset_without_a_delete_api_prints_the_dashboard_step() {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(&[]);
    env.sandbox
        .stackone()
        .set_profile_write_api(ProfileWriteApi::NotFound);
    let run = run_plain(env.ccsetup(&["reset", "--yes", "--delete-stackone-profile"]));
    run.assert_code(0);
    let id = env.sandbox.stackone().constant_contact_profiles()[0]
        .id
        .clone();
    assert!(run.stderr.contains("dashboard"), "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("(id {id})")),
        "the step names the profile: {}",
        run.stderr
    );
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
    assert!(!env.config_text().contains("[profiles.default]"));
    assert_no_secret_in(&run, &[&env.client_secret(), &env.stackone_key()]);
}

// ------------------------------------------------- the real Secret Service

/// Runs `inner` of this module in a private Secret Service session.
fn run_in_secret_service_session(inner: &str) -> bool {
    crate::support::secret_service_session::run_inner(module_path!(), inner, "CCSETUP_SS_E2E_INNER")
}

#[test]
fn init_and_token_with_the_default_keyring_store() {
    run_in_secret_service_session("inner_init_and_token_with_the_default_keyring_store");
}

#[test]
#[ignore = "started by init_and_token_with_the_default_keyring_store"]
fn inner_init_and_token_with_the_default_keyring_store() {
    if std::env::var("CCSETUP_SS_E2E_INNER").as_deref() != Ok("1") {
        return;
    }
    // Never a real keyring: ours lives in the temp dir of this run.
    let tmp = std::path::PathBuf::from(std::env::var("CCSETUP_SS_TMP").unwrap());
    assert!(std::path::PathBuf::from(std::env::var("XDG_DATA_HOME").unwrap()).starts_with(&tmp));

    let env = TestEnv::new();
    let mut init = env.init_cmd(&["--skip-stackone", "--json"]);
    init.env_remove("CCSETUP_STORE");
    let run = env.run(init, Decision::Approve);
    run.assert_code(0);
    assert_eq!(run.json()["secret_store"], "keyring");
    assert!(env.config_text().contains("secret_store = \"keyring\""));
    assert!(
        !env.config_dir()
            .join("secrets")
            .join("default.json")
            .exists(),
        "nothing in the file store"
    );

    let lookup = |user: &str| {
        let out = std::process::Command::new("secret-tool")
            .args(["lookup", "service", "ccsetup", "username", user])
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // A config dir other than the default one: its entries carry its id.
    let config = env.config_text();
    let dir_id = config
        .lines()
        .find_map(|l| l.strip_prefix("dir_id = "))
        .expect("config.toml has the dir id")
        .trim_matches('"')
        .to_string();
    let user = |kind: &str| format!("default@{dir_id}:{kind}");
    let refresh = lookup(&user("refresh_token"));
    assert_eq!(refresh, env.last_issued_refresh_token());
    assert_eq!(lookup(&user("client_secret")), env.client_secret());
    assert_eq!(
        lookup("default:refresh_token"),
        "",
        "nothing under the default dir's name"
    );

    // `token` reads the store config.toml names (no --store given).
    let mut token = env.ccsetup(&["token", "--force-refresh"]);
    token.env_remove("CCSETUP_STORE");
    let run = run_plain(token);
    run.assert_code(0);
    assert!(!run.stdout.trim().is_empty());
    let rotated = lookup(&user("refresh_token"));
    assert_ne!(rotated, refresh);
    assert_eq!(rotated, env.last_issued_refresh_token());
    assert_no_secret_in(&run, &[&rotated, &refresh]);
}

#[test]
fn concurrent_runs_after_a_refused_write_recover_the_token_once() {
    for round in 0..3 {
        let env = TestEnv::new();
        env.init_ok(&["--skip-stackone"]);
        let mut cmd = env.ccsetup(&["token", "--force-refresh"]);
        cmd.env("CCSETUP_TEST_FAIL_STORE_WRITES", "refresh_token");
        run_plain(cmd).assert_code(5);
        let recovery = env.config_dir().join("recovery/default.refresh_token");
        assert!(recovery.exists());

        let children: Vec<_> = (0..8)
            .map(|_| {
                env.ccsetup(&["token", "--force-refresh"])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        assert!(!recovery.exists());
        assert_eq!(
            env.sandbox.cc().refresh_tokens_redeemed_more_than_once(),
            Vec::<String>::new(),
            "round {round}"
        );
        let stored = env.secret("default", "refresh_token").unwrap();
        assert_eq!(stored, env.last_issued_refresh_token(), "round {round}");
        assert!(env.refresh_token_alive(&stored));
    }
}

/// init, then a `token --force-refresh` whose refresh-token write is
/// refused: the live refresh token is left in the recovery file (exit 5).
fn env_with_a_pending_recovery_file(extra: &[&str]) -> TestEnv {
    let env = TestEnv::with_hypothetical_write_api();
    env.init_ok(extra);
    let mut cmd = env.ccsetup(&["token", "--force-refresh"]);
    cmd.env("CCSETUP_TEST_FAIL_STORE_WRITES", "refresh_token");
    run_plain(cmd).assert_code(5);
    assert!(
        env.config_dir()
            .join("recovery/default.refresh_token")
            .exists()
    );
    env
}

#[test]
fn rotate_client_secret_picks_up_a_pending_recovery_file() {
    let env = env_with_a_pending_recovery_file(&[]);
    let new = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let mut cmd = env.ccsetup(&["rotate", "--client-secret", "--non-interactive"]);
    cmd.env("CC_CLIENT_SECRET", &new);
    let run = run_plain(cmd);
    run.assert_code(0);
    assert!(
        !env.config_dir()
            .join("recovery/default.refresh_token")
            .exists()
    );
    assert!(
        env.sandbox
            .cc()
            .refresh_tokens_redeemed_more_than_once()
            .is_empty()
    );
    assert_eq!(
        env.secret("default", "refresh_token").unwrap(),
        env.last_issued_refresh_token()
    );
    run_plain(env.ccsetup(&["token", "--force-refresh"])).assert_code(0);
}

#[test]
fn a_new_authorization_supersedes_a_pending_recovery_file() {
    let env = env_with_a_pending_recovery_file(&["--skip-stackone"]);
    // Access was revoked meanwhile; the user authorizes again.
    env.sandbox.cc().revoke_all_tokens();
    env.run(env.ccsetup(&["rotate", "--reauthorize"]), Decision::Approve)
        .assert_code(0);
    let fresh = env.secret("default", "refresh_token").unwrap();
    assert!(env.refresh_token_alive(&fresh));
    assert!(
        !env.config_dir()
            .join("recovery/default.refresh_token")
            .exists(),
        "the recovered token belongs to the old authorization"
    );
    let run = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    run.assert_code(0);
    assert_eq!(
        env.sandbox.cc().refresh_redemptions().last().unwrap().token,
        fresh
    );

    // The same through `init`.
    let env = env_with_a_pending_recovery_file(&["--skip-stackone"]);
    env.sandbox.cc().revoke_all_tokens();
    env.init_ok(&["--skip-stackone"]);
    assert!(
        !env.config_dir()
            .join("recovery/default.refresh_token")
            .exists()
    );
    run_plain(env.ccsetup(&["token", "--force-refresh"])).assert_code(0);
}
