//! The wizard as a newcomer meets it (issue 14): the real binary in a PTY,
//! typed at as people type (`y` then Enter; Enter alone on a default),
//! against the stand-ins over loopback.
#![cfg(unix)]

use std::process::Stdio;
use std::time::Duration;

use crate::support::e2e::TestEnv;
use crate::support::pty::{AUTHORIZE_URL, Wizard, approve_in_background};
use expectrl::Expect;

/// How many times `needle` occurs in `text`.
fn count(text: &str, needle: &str) -> usize {
    text.matches(needle).count()
}

/// Waits a moment and says whether `text` showed up meanwhile (without
/// consuming anything else).
fn shows_within(w: &mut Wizard, text: &str, wait: Duration) -> bool {
    std::thread::sleep(wait);
    matches!(w.session.check(text), Ok(found) if !found.is_empty())
}

#[test]
fn y_then_enter_answers_exactly_one_question_each_time() {
    let env = TestEnv::with_hypothetical_write_api();
    let mut w = Wizard::spawn(&env, &["init"], &[]);
    w.expect("Application name");
    w.line("");
    w.expect("Is the application created?");
    // `y` alone answers nothing yet: the question waits for Enter.
    w.key("y");
    assert!(
        !shows_within(
            &mut w,
            "Are both redirect URIs saved?",
            Duration::from_millis(400)
        ),
        "a confirmation took `y` without Enter:\n{}",
        w.transcript
    );
    w.key("\r");
    w.expect("Are both redirect URIs saved?");
    // Enter alone: the default of a question whose "yes" skips a step is "no".
    w.key("\r");
    w.expect("Take your time");
    w.expect("Are both redirect URIs saved?");
    w.line("y");
    w.expect("Step 3/7");
    w.expect("API Key (client id)");
    w.line(&env.app.client_id);
    w.expect("Client Secret (hidden)");
    w.secret(&env.client_secret());
    w.expect("Scopes");
    w.expect("offline_access");
    w.key("\r");
    w.expect("StackOne API key (hidden)");
    w.secret(&env.stackone_key());
    w.expect("StackOne actions to enable");
    w.line("");
    w.expect("Step 4/7");
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("Step 7/7: Done");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    browser.join().unwrap();
    // Each question was answered once, by what was typed for it.
    assert_eq!(
        count(&w.transcript, "Is the application created? · yes"),
        1,
        "{}",
        w.transcript
    );
    assert_eq!(
        count(&w.transcript, "Are both redirect URIs saved? · no"),
        1,
        "{}",
        w.transcript
    );
    assert_eq!(
        count(&w.transcript, "Are both redirect URIs saved? · yes"),
        1,
        "{}",
        w.transcript
    );
}

/// A keyring that cannot work: no session bus, an empty runtime dir.
fn without_secret_service(cmd: &mut std::process::Command, runtime: &std::path::Path) {
    cmd.env_remove("CCSETUP_STORE")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", runtime)
        .env("CCSETUP_KEYRING_TIMEOUT_SECS", "3");
}

#[test]
fn a_broken_keyring_is_found_at_step_1_and_the_file_store_offered() {
    let env = TestEnv::with_hypothetical_write_api();
    let runtime = tempfile::tempdir().unwrap();
    let mut w = Wizard::spawn_with(&env, &["init"], |cmd| {
        without_secret_service(cmd, runtime.path())
    });
    w.expect("Step 1/7");
    w.expect("the OS keyring does not work here");
    w.expect("How do you want to go on?");
    w.expect("Quit");
    assert!(
        !w.transcript.contains("Step 2/7"),
        "the portal came first:\n{}",
        w.transcript
    );
    w.key("\x1b[A"); // from the default (Quit) up to the file store
    w.key("\r");
    w.expect("0600 file");
    w.expect("The secret store works");
    w.expect("Step 2/7");
    w.walk_the_portal("");
    w.expect("API Key (client id)");
    w.line(&env.app.client_id);
    w.expect("Client Secret (hidden)");
    w.secret(&env.client_secret());
    w.expect("Scopes");
    w.expect("offline_access");
    w.key("\r");
    w.expect("StackOne API key (hidden)");
    w.secret(&env.stackone_key());
    w.expect("StackOne actions to enable");
    w.line("");
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("Step 7/7: Done");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    browser.join().unwrap();
    assert_eq!(
        env.secret("default", "client_secret").as_deref(),
        Some(env.client_secret().as_str()),
        "the secret went to the file store"
    );
    assert!(env.config_text().contains("secret_store = \"file\""));
}

#[test]
fn quitting_at_a_broken_keyring_asks_nothing_else_and_writes_nothing() {
    let env = TestEnv::new();
    let runtime = tempfile::tempdir().unwrap();
    let mut w = Wizard::spawn_with(&env, &["init"], |cmd| {
        without_secret_service(cmd, runtime.path())
    });
    w.expect("How do you want to go on?");
    w.expect("Quit");
    w.key("\r"); // the default: quit
    assert_eq!(w.finish(), 5, "{}", w.transcript);
    assert!(!w.transcript.contains("Application name"));
    assert!(w.transcript.contains("--store file"), "{}", w.transcript);
    assert!(env.files().is_empty(), "{:?}", env.files());
}

/// Answers steps 2 and 3 with the defaults and `secret`, up to the
/// authorization URL of step 4, which it returns.
fn through_step_3(w: &mut Wizard, env: &TestEnv, secret: &str) {
    w.walk_the_portal("");
    w.expect("API Key (client id)");
    w.line(&env.app.client_id);
    w.expect("Client Secret (hidden)");
    w.secret(secret);
    w.expect("Scopes");
    w.expect("offline_access");
    w.key("\r");
    w.expect("StackOne API key (hidden)");
    w.secret(&env.stackone_key());
    w.expect("StackOne actions to enable");
    w.line("");
    w.expect(&format!("Port {} is free", env.port));
}

#[test]
fn a_wrong_secret_at_the_token_exchange_is_asked_again_keeping_everything_else() {
    let env = TestEnv::with_hypothetical_write_api();
    let mut w = Wizard::spawn(&env, &["init"], &[]);
    through_step_3(&mut w, &env, &env.client_secret());
    // The secret is regenerated in the portal after it was entered and
    // checked: the token endpoint now refuses the one ccsetup has.
    w.expect("accepts this API Key and Client Secret");
    let new_secret = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    let url = w.expect_capture(AUTHORIZE_URL);
    let (status, page) = approve_in_background(url).join().unwrap();
    // The browser's page waited for the exchange and tells the truth.
    assert_eq!(status, 200);
    assert!(page.contains("refused to exchange it"), "{page}");
    w.expect("refused the client credentials");
    w.expect("Generate");
    w.expect("Enter the Client Secret again");
    w.key("\r"); // the default for a refused secret
    w.expect("Client Secret (hidden)");
    w.secret(&new_secret);
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("Step 7/7: Done");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    let (_, page) = browser.join().unwrap();
    assert!(
        page.contains("Constant Contact authorized ccsetup"),
        "{page}"
    );
    assert_eq!(
        count(&w.transcript, "✔ Application name ·"),
        1,
        "nothing else was asked again:\n{}",
        w.transcript
    );
    assert_eq!(count(&w.transcript, "✔ API Key (client id) ·"), 1);
    assert_eq!(
        env.secret("default", "client_secret").as_deref(),
        Some(new_secret.as_str())
    );
    assert!(!w.transcript.contains(&new_secret));
}

#[test]
fn a_denied_consent_and_a_timeout_offer_the_consent_again() {
    let env = TestEnv::with_hypothetical_write_api();
    let mut w = Wizard::spawn(&env, &["init", "--auth-timeout", "2"], &[]);
    through_step_3(&mut w, &env, &env.client_secret());
    let url = w.expect_capture(AUTHORIZE_URL);
    std::thread::spawn(move || {
        use ccsetup::sandbox::test_browser::{Decision, consent_blocking, deliver_blocking};
        consent_blocking(&url, Decision::Deny).and_then(|l| deliver_blocking(&l))
    })
    .join()
    .unwrap()
    .expect("the test browser denies");
    w.expect("access_denied");
    w.expect("Approve."); // the button's label (the line may wrap before it)
    w.expect("Open the consent page again");
    w.key("\r"); // the default after a denial
    // This time nobody answers within --auth-timeout.
    w.expect_capture(AUTHORIZE_URL);
    w.expect("no authorization arrived within 2 s");
    w.expect("Open the consent page again");
    w.key("\r");
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("Step 7/7: Done");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    browser.join().unwrap();
    assert_eq!(count(&w.transcript, "✔ Application name ·"), 1);
    assert!(env.secret("default", "refresh_token").is_some());
}

#[test]
fn quitting_after_a_denied_consent_keeps_exit_3_and_stores_nothing() {
    let env = TestEnv::new();
    let mut w = Wizard::spawn(&env, &["init"], &[]);
    through_step_3(&mut w, &env, &env.client_secret());
    let url = w.expect_capture(AUTHORIZE_URL);
    std::thread::spawn(move || {
        use ccsetup::sandbox::test_browser::{Decision, consent_blocking, deliver_blocking};
        consent_blocking(&url, Decision::Deny).and_then(|l| deliver_blocking(&l))
    })
    .join()
    .unwrap()
    .expect("the test browser denies");
    w.expect("Quit (nothing was stored)");
    w.key("\x1b[B"); // from "Open the consent page again" down to Quit
    w.key("\r");
    assert_eq!(w.finish(), 3, "{}", w.transcript);
    assert!(env.config_text().is_empty());
}

#[test]
fn reset_yes_on_a_fresh_machine_without_a_keyring_has_nothing_to_reset() {
    let env = TestEnv::new();
    let runtime = tempfile::tempdir().unwrap();
    let mut cmd = env.ccsetup(&["reset", "--yes"]);
    without_secret_service(&mut cmd, runtime.path());
    let run = crate::support::e2e::run_plain(cmd);
    run.assert_code(0);
    assert!(
        run.stdout.contains("Nothing to reset"),
        "{}",
        run.all_output()
    );
    assert!(env.files().is_empty(), "{:?}", env.files());
}

#[test]
fn unticking_offline_access_is_warned_in_the_picker_and_nothing_claims_a_refresh_token() {
    let env = TestEnv::new();
    let mut w = Wizard::spawn(&env, &["init", "--skip-stackone"], &[]);
    w.walk_the_portal("");
    w.expect("API Key (client id)");
    w.line(&env.app.client_id);
    w.expect("Client Secret (hidden)");
    w.secret(&env.client_secret());
    w.expect("Scopes");
    w.expect("offline_access");
    w.key("\x1b[A"); // up from the first row wraps to the last: offline_access
    w.key(" ");
    w.key("\r");
    w.expect("without offline_access");
    w.expect("tick offline_access in the list");
    w.expect("Keep these scopes anyway?");
    w.line("y");
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("Step 7/7: Done");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    browser.join().unwrap();
    assert!(
        !w.transcript.contains("--scopes"),
        "the picker's user is told about the picker:\n{}",
        w.transcript
    );
    assert!(
        !w.transcript.to_lowercase().contains("refresh token stored")
            && !w.transcript.contains("Client Secret, refresh token")
            && !w.transcript.contains("refresh token, access token"),
        "no claim of a stored refresh token:\n{}",
        w.transcript
    );
    assert!(w.transcript.contains("no refresh token was granted"));
    assert!(env.secret("default", "refresh_token").is_none());
}

#[test]
fn a_browser_that_fails_to_launch_is_reported_and_the_url_can_be_pasted() {
    let env = TestEnv::new();
    let mut w = Wizard::spawn_with(&env, &["init", "--skip-stackone"], |cmd| {
        cmd.env_remove("CCSETUP_NO_BROWSER").env("BROWSER", "false");
    });
    w.expect("My Applications page and sign in:");
    w.expect("could not open a browser");
    w.expect("open the URL above yourself");
    w.walk_the_portal("");
    w.expect("API Key (client id)");
    w.line(&env.app.client_id);
    w.expect("Client Secret (hidden)");
    w.secret(&env.client_secret());
    w.expect("Scopes");
    w.expect("offline_access");
    w.key("\r");
    let url = w.expect_capture(AUTHORIZE_URL);
    w.expect("could not open a browser");
    w.expect("paste it here");
    // The person opens the URL elsewhere and pastes where it led.
    let location = ccsetup::sandbox::test_browser::consent_blocking(
        &url,
        ccsetup::sandbox::test_browser::Decision::Approve,
    )
    .unwrap();
    w.line(&location);
    w.expect("Step 7/7: Done");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    assert!(!w.transcript.contains("Opened it in your browser"));

    let run = crate::support::e2e::run_plain({
        let mut cmd = env.ccsetup(&["doctor", "--json"]);
        cmd.env_remove("CCSETUP_NO_BROWSER").env("BROWSER", "false");
        cmd
    });
    let browser = run.json()["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["name"] == "browser").cloned())
        .unwrap_or_else(|| panic!("a browser check: {}", run.stdout));
    assert_ne!(browser["status"], "ok", "{browser}");
    assert!(browser.to_string().contains("opens nothing"), "{browser}");
}

/// `ccsetup` with a clean environment: nothing of the caller's ccsetup
/// settings, no keyring, no browser.
fn bare_ccsetup() -> std::process::Command {
    let mut cmd = crate::support::ccsetup_command();
    crate::support::without_desktop(&mut cmd)
        .env("CCSETUP_NO_BROWSER", "1")
        .stdin(std::process::Stdio::null());
    cmd
}

#[test]
fn demo_serve_keeps_the_stand_ins_for_other_commands_and_cleans_up_on_sigterm() {
    use std::io::BufRead;
    use std::process::Stdio;

    let mut demo = bare_ccsetup()
        .args(["demo", "--serve", "--non-interactive"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = demo.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let mut exports = Vec::new();
    while !exports
        .iter()
        .any(|l: &String| l.starts_with("export CCSETUP_STACKONE_DASHBOARD_URL="))
    {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the demo prints its exports");
        exports.push(line);
    }
    let names: Vec<&str> = exports
        .iter()
        .map(|l| l.trim_start_matches("export ").split('=').next().unwrap())
        .collect();
    for name in [
        "CCSETUP_CONFIG_DIR",
        "CCSETUP_STORE",
        "CCSETUP_CC_AUTHORIZE_URL",
        "CCSETUP_CC_TOKEN_URL",
        "CCSETUP_CC_API_URL",
        "CCSETUP_CC_PORTAL_URL",
        "CCSETUP_STACKONE_API_URL",
        "STACKONE_API_KEY",
    ] {
        assert!(names.contains(&name), "{name} in {exports:?}");
    }
    assert!(exports.contains(&"export CCSETUP_STORE='file'".to_string()));
    let script = exports.join("\n");
    let workdir = exports
        .iter()
        .find_map(|l| l.strip_prefix("export CCSETUP_CONFIG_DIR="))
        .map(|v| std::path::PathBuf::from(v.trim_matches('\'')))
        .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&workdir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "the demo's dir is private");
    }

    // The exports, evaluated by a real shell, then a command.
    let in_demo = |args: &str| {
        let mut base = bare_ccsetup();
        base.env_remove("CCSETUP_REDIRECT_PORT")
            .env("CCSETUP_BIN", assert_cmd::cargo::cargo_bin("ccsetup"))
            .env("EXPORTS", &script);
        let out = shell_like(
            &base,
            &format!("eval \"$EXPORTS\"; exec \"$CCSETUP_BIN\" {args}"),
        )
        .output()
        .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            text,
        )
    };
    let (code, _, text) = in_demo("status");
    assert_eq!(code, Some(0), "status: {text}");
    let (code, token, text) = in_demo("token");
    assert_eq!(code, Some(0), "token: {text}");
    assert!(!token.trim().is_empty());
    let (code, _, text) = in_demo("link --origin-owner-id c1 --origin-owner-name 'Demo customer'");
    assert_eq!(code, Some(0), "link: {text}");

    let pid = demo.id().to_string();
    std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    let status = crate::support::e2e::wait_bounded(&mut demo, Duration::from_secs(20))
        .expect("the demo stops");
    assert_eq!(
        status.code(),
        Some(0),
        "a stop by signal is the expected end"
    );
    assert!(!workdir.exists(), "{} was left behind", workdir.display());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut demo.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(stderr.contains("demo stopped"), "{stderr}");
    assert!(
        !stderr.contains(ccsetup::sandbox::stackone::DEFAULT_API_KEY),
        "the banner shows no StackOne key nobody asked for:\n{stderr}"
    );
    // init's summary went to stderr: stdout carried only the exports.
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.is_empty(), "{rest:?}");
    assert!(
        exports.iter().all(|l| l.starts_with("export ")),
        "{exports:?}"
    );
}

/// `sh -c SCRIPT` with `base`'s environment.
fn shell_like(base: &std::process::Command, script: &str) -> std::process::Command {
    let mut sh = std::process::Command::new("sh");
    sh.arg("-c").arg(script);
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => sh.env(k, v),
            None => sh.env_remove(k),
        };
    }
    sh.stdin(Stdio::null());
    sh
}

#[test]
fn demo_refuses_the_real_config_dir_and_the_keyring() {
    for args in [
        &["demo", "--non-interactive", "--config-dir", "/tmp/x"][..],
        &["demo", "--non-interactive", "--store", "keyring"][..],
    ] {
        let out = bare_ccsetup().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("demo"), "{stderr}");
    }
}

#[test]
fn text_wraps_to_a_narrow_terminal_at_word_boundaries_and_empty_secrets_say_why() {
    let env = TestEnv::new();
    let mut w = Wizard::spawn(
        &env,
        &["init"],
        &[("WIZARD_TEST_STTY", "cols 50 rows 40".to_string())],
    );
    w.expect("Application name");
    // Wrapped by ccsetup at a space, not cut by the terminal mid-word.
    assert!(
        w.transcript.contains(
            "Name the application (the portal refuses names\r\nthat contain \"Constant Contact\")."
        ),
        "{:?}",
        w.transcript
    );
    w.line("");
    w.confirm_the_portal_screens();
    w.expect("API Key (client id)");
    w.line(&env.app.client_id);
    w.expect("Client Secret (hidden)");
    w.wait_until_hidden_prompt_reads();
    w.line("");
    w.expect("cannot be empty");
    w.expect("Client Secret (hidden)");
    w.secret(&env.client_secret());
    w.expect("Scopes");
    // The focused row is marked without colour (NO_COLOR is set).
    w.expect("> ✔ account_read");
    w.ctrl_c();
    assert_eq!(w.finish(), 130, "{}", w.transcript);
}

#[tokio::test]
async fn the_stand_in_portal_names_every_missing_field_and_the_dashboard_styles_its_notices() {
    use ccsetup::sandbox::{Sandbox, SandboxOptions};
    let sandbox = Sandbox::start(SandboxOptions::default()).unwrap();
    let http = ccsetup::http::client().unwrap();
    let url = sandbox.cc().portal_url().join("apps").unwrap();
    let resp = http.post(url).form(&[("name", "")]).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Missing: an application name, an OAuth2 flow, a refresh token type."),
        "{html}"
    );
    // Inputs fit their column: padding and border inside the 100 % width.
    assert!(html.contains("box-sizing:border-box"), "{html}");

    // Every class the dashboard uses has a style.
    let dashboard = http
        .get(sandbox.stackone().dashboard_url().as_str())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for class in ["notice", "error"] {
        assert!(dashboard.contains(&format!(".{class}{{")), "{class}");
    }
    assert!(!dashboard.contains("class=\"flash\""));
}

/// Does in the stand-in portal what the demo asks a person to do: creates
/// the application, saves both redirect URIs, generates the Client Secret.
/// Returns the API Key and the secret.
fn walk_the_stand_in_portal(portal: &str, local_redirect: &str) -> (String, String) {
    let portal = url::Url::parse(portal).unwrap();
    let local_redirect = local_redirect.to_string();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async move {
                let http = ccsetup::http::client().unwrap();
                let created = http
                    .post(portal.join("apps").unwrap())
                    .form(&[
                        ("name", "Demo Bakery"),
                        ("flow", "authorization_code_implicit"),
                        ("refresh_kind", "rotating"),
                    ])
                    .send()
                    .await
                    .unwrap();
                let location = created.headers()["location"].to_str().unwrap().to_string();
                let id = location.rsplit('/').next().unwrap().to_string();
                let uris = format!(
                    "https://api.stackone.com/connect/oauth2/constantcontact/callback\n{local_redirect}"
                );
                http.post(portal.join(&format!("apps/{id}/redirect-uris")).unwrap())
                    .form(&[("redirect_uris", uris.as_str())])
                    .send()
                    .await
                    .unwrap();
                let page = http
                    .post(portal.join(&format!("apps/{id}/client-secret")).unwrap())
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap();
                let start = page.find("id=\"client-secret\">").unwrap() + "id=\"client-secret\">".len();
                let secret = page[start..start + page[start..].find('<').unwrap()].to_string();
                (id, secret)
            })
    })
    .join()
    .unwrap()
}

/// What a person does on the stand-in dashboard's "+ Connector Profile"
/// form (the real form's fields, no Name).
fn fill_the_stand_in_dashboard_form(dashboard: &str, client_id: &str, secret: &str) {
    let (dashboard, client_id, secret) = (
        dashboard.to_string(),
        client_id.to_string(),
        secret.to_string(),
    );
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let resp = ccsetup::http::client()
                    .unwrap()
                    .post(dashboard.as_str())
                    .form(&[
                        ("connector_key", "constantcontact"),
                        ("authentication_config_key", "oauth2"),
                        ("client_id", client_id.as_str()),
                        ("client_secret", secret.as_str()),
                        (
                            "scopes",
                            "account_read contact_data campaign_data offline_access",
                        ),
                    ])
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status().as_u16(), 303);
            })
    })
    .join()
    .unwrap()
}

#[test]
fn the_interactive_demo_ends_in_a_shell_where_commands_reach_the_stand_ins() {
    let env = TestEnv::new();
    let mut w = Wizard::spawn_demo(&env);
    let portal = w.expect_capture(r"Stand-in Constant Contact developer portal: (\S+)");
    let dashboard = w.expect_capture(r"Stand-in StackOne dashboard:\s+(\S+)");
    let local_redirect = format!("http://localhost:{}/callback", env.port);
    let (client_id, secret) = walk_the_stand_in_portal(&portal, &local_redirect);
    w.walk_the_portal("Demo Bakery");
    w.expect("API Key (client id)");
    w.line(&client_id);
    w.expect("Client Secret (hidden)");
    w.secret(&secret);
    w.expect("Scopes");
    w.expect("offline_access");
    w.key("\r");
    w.expect("StackOne actions to enable");
    w.line("");
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    // StackOne as it is: the person fills the stand-in dashboard's form.
    w.expect("Create a Constant Contact connector profile");
    w.expect("Show the Client Secret on screen");
    w.line("n");
    w.expect("Done?");
    fill_the_stand_in_dashboard_form(&dashboard, &client_id, &secret);
    w.key("\r");
    w.expect("dashboard");
    w.expect("Step 7/7: Done");
    browser.join().unwrap();
    w.expect("Prove the StackOne profile now");
    w.line("n");
    w.expect("in a shell?");
    w.line("y");
    w.expect("ccsetup demo shell");
    w.expect("Type `exit` to end the demo");
    std::thread::sleep(Duration::from_millis(300));
    // What the banner and the closing words tell the user to type.
    w.line("ccsetup status && ccsetup token >/dev/null && echo TOKEN-OK-$CCSETUP_STORE");
    w.expect("TOKEN-OK-file");
    w.line("exit");
    w.expect("Demo finished");
    // Outside the demo shell no `ccsetup` is on this PATH: the closing
    // words name the binary by its path.
    w.expect("`ccsetup` is not on your PATH");
    assert!(
        !w.transcript.contains("Run `ccsetup doctor`"),
        "{}",
        w.transcript
    );
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    assert!(!w.transcript.contains(&secret));
}

#[test]
fn non_interactive_init_names_every_missing_input_at_once() {
    let env = TestEnv::new();
    let run = crate::support::e2e::run_plain({
        let mut cmd = env.ccsetup(&["init", "--non-interactive"]);
        cmd.env_remove("CC_CLIENT_SECRET")
            .env_remove("STACKONE_API_KEY");
        cmd
    });
    run.assert_code(2);
    for name in [
        "--client-id",
        "CC_CLIENT_ID",
        "--client-secret-stdin",
        "CC_CLIENT_SECRET",
        "--stackone-api-key-stdin",
        "STACKONE_API_KEY",
    ] {
        assert!(run.stderr.contains(name), "{name}:\n{}", run.stderr);
    }
    assert!(run.stderr.contains("missing 3 inputs"), "{}", run.stderr);
    assert!(env.files().is_empty());
}
