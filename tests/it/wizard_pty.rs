//! The interactive wizard through a real pseudo-terminal: the real binary,
//! driven with expectrl like a person at a keyboard, against the stand-ins.
//!
//! Rules learned the hard way (tests/../recipes "Crate notes"): wait for each
//! prompt before typing (dialoguer drops input sent early), match stable
//! text and never ANSI redraws, a confirmation waits for `y` and Enter, and a
//! hidden prompt echoes nothing. Every wait is bounded.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::e2e::TestEnv;
use crate::support::pty::{AUTHORIZE_URL, Wizard, approve_in_background, has_colour_codes};
use ccsetup::sandbox::test_browser::{self, Decision};

/// A fake `xclip` that appends what it is given to a file: the wizard's
/// clipboard offers become observable.
fn fake_clipboard(dir: &Path) -> (Vec<(&'static str, String)>, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let clipboard = dir.join("clipboard.txt");
    let script = bin.join("xclip");
    std::fs::write(
        &script,
        "#!/bin/sh\ncat >> \"$WIZARD_TEST_CLIPBOARD\"\necho >> \"$WIZARD_TEST_CLIPBOARD\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let env = vec![
        ("PATH", path),
        ("DISPLAY", ":99".to_string()),
        ("WIZARD_TEST_CLIPBOARD", clipboard.display().to_string()),
    ];
    (env, clipboard)
}

#[test]
fn a_newcomer_finishes_init_by_answering_every_prompt() {
    let env = TestEnv::with_hypothetical_write_api();
    let tools = tempfile::tempdir().unwrap();
    let (clipboard_env, clipboard) = fake_clipboard(tools.path());
    let secret = env.client_secret();
    let stackone_key = env.stackone_key();
    let local_redirect = format!("http://localhost:{}/callback", env.port);

    let mut w = Wizard::spawn(&env, &["init"], &clipboard_env);
    w.expect("Step 1/7: Look for an existing setup");
    w.expect("No setup yet for profile \"default\".");
    w.expect("The secret store works"); // before any portal work

    w.expect("Step 2/7: Create the Constant Contact application");
    w.expect("My Applications page and sign in:");
    w.expect("Not opening a browser: --no-browser is set");
    w.expect("Application name");
    w.line("Bakery Sync");
    w.expect("1. Name: Bakery Sync");
    w.expect("OAuth2 flow: \"Authorization Code Flow and Implicit Flow\" (one option)");
    w.expect("Refresh token type: Rotating Refresh Tokens");
    w.expect("Is the application created?");
    w.line("y");
    w.expect("https://api.stackone.com/connect/oauth2/constantcontact/callback");
    w.expect(&local_redirect);
    w.expect("Copy StackOne's redirect URI to the clipboard?");
    w.line("y");
    w.expect("Copy this machine's redirect URI to the clipboard?");
    w.line("y");
    w.expect("Are both redirect URIs saved?");
    w.line("y");

    w.expect("Step 3/7: Enter the credentials and check this machine");
    w.expect("API Key (client id)");
    w.line(&env.app.client_id);
    w.expect("shows it only once");
    w.expect("Client Secret (hidden)");
    w.secret(&secret);
    w.expect("Scopes");
    w.expect("offline_access");
    w.key("\r"); // the defaults, as ticked
    w.expect("StackOne API key (hidden)");
    w.secret(&stackone_key);
    w.expect("StackOne actions to enable");
    w.line("");
    w.expect(&format!("Port {} is free", env.port));

    w.expect("Step 4/7: Authorize with Constant Contact");
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("Authorized for");
    assert_eq!(
        browser.join().unwrap().0,
        200,
        "the listener answered the browser"
    );

    w.expect("Step 5/7: Store the secrets");
    w.expect("Step 6/7: Create the StackOne Connector Profile");
    w.expect("created");
    w.expect("Step 7/7: Done");
    w.expect("Constant Contact app   \"Bakery Sync\"");
    w.expect("ccsetup link --origin-owner-id");
    assert_eq!(w.finish(), 0, "{}", w.transcript);

    let profiles = env.sandbox.stackone().constant_contact_profiles();
    assert_eq!(profiles.len(), 1, "one StackOne profile");
    let credential = |name: &str| {
        profiles[0]
            .credentials
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        credential("client_id").as_deref(),
        Some(env.app.client_id.as_str())
    );
    assert_eq!(
        credential("client_secret").as_deref(),
        Some(secret.as_str())
    );
    assert_eq!(profiles[0].scopes.len(), 4, "the default scopes");
    assert_eq!(
        env.secret("default", "client_secret").as_deref(),
        Some(secret.as_str())
    );
    assert!(env.secret("default", "refresh_token").is_some());
    assert!(env.config_text().contains("Bakery Sync"));
    assert!(
        !has_colour_codes(&w.transcript),
        "NO_COLOR: {:?}",
        w.transcript
    );
    // Hidden means hidden: neither secret ever reached the terminal.
    assert!(!w.transcript.contains(&secret), "{}", w.transcript);
    assert!(!w.transcript.contains(&stackone_key), "{}", w.transcript);
    let copied = std::fs::read_to_string(clipboard).unwrap();
    assert_eq!(
        copied,
        format!(
            "https://api.stackone.com/connect/oauth2/constantcontact/callback\n{local_redirect}\n"
        )
    );
}

#[test]
fn rerun_menu_rotates_the_client_secret_into_stackone() {
    let env = TestEnv::with_hypothetical_write_api();
    env.run(env.init_cmd(&[]), Decision::Approve).assert_code(0);
    let old_secret = env.client_secret();

    let mut w = Wizard::spawn(&env, &["init"], &[]);
    w.expect("is already set up");
    w.expect("What do you want to do?");
    w.expect("Quit (change nothing)");
    w.key("\x1b[B"); // down from the default (Quit, the last) wraps to the first
    w.key("\r"); // the first entry: rotate the client secret
    w.expect("Step 1/4: Generate a new Client Secret");
    w.expect("Generate Client Secret");
    w.expect("New Client Secret (hidden)");
    // The person clicks Generate Client Secret in the portal…
    let new_secret = env.sandbox.cc().generate_client_secret(&env.app.client_id);
    // …but first pastes the old one by mistake: asked again, with why.
    w.secret(&old_secret);
    w.expect("already stored");
    w.expect("New Client Secret (hidden)");
    w.secret(&new_secret);
    w.expect("Step 2/4: Prove the new secret");
    w.expect("The new Client Secret works.");
    w.expect("Step 3/4: Store the new secret");
    w.expect("Step 4/4: Update the StackOne Connector Profile");
    w.expect("updated");
    assert_eq!(w.finish(), 0, "{}", w.transcript);

    let profiles = env.sandbox.stackone().constant_contact_profiles();
    assert_eq!(profiles.len(), 1);
    let stored_at_stackone = profiles[0]
        .credentials
        .iter()
        .find(|(k, _)| k == "client_secret")
        .map(|(_, v)| v.clone());
    assert_eq!(stored_at_stackone.as_deref(), Some(new_secret.as_str()));
    assert_eq!(
        env.secret("default", "client_secret").as_deref(),
        Some(new_secret.as_str())
    );
    assert_eq!(env.secret("default", "client_secret_previous"), None);
    assert!(!w.transcript.contains(&new_secret) && !w.transcript.contains(&old_secret));
}

#[test]
fn rerun_menu_quit_changes_nothing_and_ctrl_c_in_the_menu_shows_the_cursor() {
    let env = TestEnv::with_hypothetical_write_api();
    env.run(env.init_cmd(&[]), Decision::Approve).assert_code(0);
    let before = env.files();

    let mut w = Wizard::spawn(&env, &["init"], &[]);
    w.expect("Quit (change nothing)");
    w.key("\r"); // the default is the harmless Quit
    w.expect("Nothing changed.");
    assert_eq!(w.finish(), 0, "{}", w.transcript);

    let mut w = Wizard::spawn(&env, &["init"], &[]);
    w.expect("Quit (change nothing)");
    w.ctrl_c();
    assert_eq!(w.finish(), 130, "{}", w.transcript);
    assert!(cursor_left_visible(&w.transcript), "{:?}", w.transcript);
    assert_eq!(env.files(), before, "nothing changed");
}

#[test]
fn a_refused_app_name_is_asked_again_with_the_reason() {
    let env = TestEnv::new();
    let mut w = Wizard::spawn(&env, &["init"], &[]);
    w.expect("Application name");
    w.line("My Constant contact app");
    w.expect("may not contain \"Constant Contact\"");
    w.expect("the portal refuses it");
    w.expect("Application name");
    w.line("My Bakery app");
    w.expect("1. Name: My Bakery app");
    w.expect("Is the application created?");
    // Ctrl-C at a one-key prompt (raw mode) ends the run cleanly.
    w.ctrl_c();
    assert_eq!(w.finish(), 130, "{}", w.transcript);
    assert!(
        w.transcript.contains("\x1b[?25h"),
        "the cursor is shown again"
    );
    assert!(env.files().is_empty(), "nothing written: {:?}", env.files());
}

#[test]
fn ctrl_c_at_the_hidden_prompt_restores_the_terminal_and_writes_nothing() {
    let env = TestEnv::new();
    let mut w = Wizard::spawn(&env, &["init"], &[]);
    // The terminal starts with echo on (`stty echo`); it cannot be checked
    // here, as a waiting prompt holds the terminal in raw mode.
    w.walk_the_portal("");
    w.expect("API Key (client id)");
    w.line(&env.app.client_id);
    w.expect("Client Secret (hidden)");
    w.wait_until_hidden_prompt_reads();
    w.ctrl_c();
    w.expect("interrupted");
    assert_eq!(w.finish(), 130, "{}", w.transcript);
    assert!(
        w.transcript.contains("\x1b[?25h"),
        "the cursor is shown again"
    );
    assert!(
        w.terminal_echoes(),
        "echo is back on after Ctrl-C at a hidden prompt"
    );
    assert!(!env.config_dir().join("config.toml").exists());
    assert!(env.files().is_empty(), "nothing written: {:?}", env.files());
}

/// Whether the last cursor-visibility sequence shows the cursor (menus and
/// one-key prompts hide it while they wait).
fn cursor_left_visible(transcript: &str) -> bool {
    let shown = transcript.rfind("\x1b[?25h");
    let hidden = transcript.rfind("\x1b[?25l");
    shown.is_some() && shown > hidden
}

#[test]
fn yes_in_a_terminal_asks_nothing_given_and_json_keeps_colour_and_spinners_off() {
    let env = TestEnv::with_hypothetical_write_api();
    let give_everything = |cmd: &mut Command| {
        cmd.env_remove("NO_COLOR") // only --json turns colour off here
            .env("CC_CLIENT_ID", &env.app.client_id)
            .env("CC_CLIENT_SECRET", env.client_secret())
            .env("STACKONE_API_KEY", env.stackone_key());
    };
    let mut w = Wizard::spawn_with(&env, &["init", "--yes", "--json"], give_everything);
    w.expect("Step 2/7");
    w.expect("Step 4/7");
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    // Static progress lines, not spinners: --json turns them off.
    w.expect("Checking whose account this is…");
    w.expect("Step 7/7: Done");
    let json = w.expect_capture(r#"(\{"account".*\})\r?\n"#);
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    browser.join().unwrap();
    let result: serde_json::Value = serde_json::from_str(&json).expect("the JSON result");
    assert_eq!(result["stackone"]["action"], "created");
    for question in [
        "Application name",
        "Is the application created?",
        "Scopes",
        "StackOne actions",
    ] {
        assert!(
            !w.transcript.contains(question),
            "--yes asked {question:?}:\n{}",
            w.transcript
        );
    }
    assert!(!has_colour_codes(&w.transcript), "{:?}", w.transcript);

    // A re-run with --yes skips the menu: the same inputs, the same end state.
    let mut w = Wizard::spawn_with(&env, &["init", "--yes"], give_everything);
    w.expect("Running the whole setup again");
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("unchanged");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    browser.join().unwrap();
    assert!(!w.transcript.contains("What do you want to do?"));
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
}

/// `init --yes` on the dashboard path in a PTY, every input given by the
/// environment.
fn dashboard_init_given_everything(env: &TestEnv, secret: &str) -> Wizard {
    Wizard::spawn_with(
        env,
        &["init", "--yes", "--stackone-mode", "dashboard"],
        |cmd| {
            cmd.env("CC_CLIENT_ID", &env.app.client_id)
                .env("CC_CLIENT_SECRET", secret)
                .env("STACKONE_API_KEY", env.stackone_key());
        },
    )
}

/// The person fills the stand-in dashboard's form with the default scopes
/// and `secret`; the new profile's id.
fn fill_the_dashboard_form(env: &TestEnv, secret: &str) -> String {
    env.sandbox
        .stackone()
        .create_profile_as_dashboard(
            "Constant Contact",
            &env.app.client_id,
            secret,
            &[
                "account_read",
                "contact_data",
                "campaign_data",
                "offline_access",
            ],
            &[],
        )
        .expect("the dashboard accepts the form")
}

#[test]
fn dashboard_path_shows_the_form_values_and_the_secret_only_on_request() {
    let env = TestEnv::new();
    let secret = env.client_secret();
    let mut w = dashboard_init_given_everything(&env, &secret);
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("Step 6/7: Create the StackOne Connector Profile");
    w.expect("Click \"+ Connector Profile\"");
    w.expect(&format!("API Key (Client ID): {}", env.app.client_id));
    // (The terminal is 80 columns: ccsetup wraps this line at a space.)
    w.expect("Client Secret: the Client Secret of your Constant Contact application");
    w.expect("shown here)");
    w.expect("Show the Client Secret on screen so you can copy it?");
    w.line("y"); // the one explicit request that shows a secret
    w.expect(&format!("Client Secret: {secret}"));
    w.expect("Done?");
    // The person fills the dashboard form…
    fill_the_dashboard_form(&env, &secret);
    w.line("y");
    w.expect("dashboard");
    w.expect("Step 7/7: Done");
    // Issue 13: honest about what the API cannot show, and how to prove it
    // (--yes does not start a proof that needs someone at the hub).
    w.expect("StackOne's API cannot show a Connector Profile's credentials");
    w.expect("--origin-owner-name \"My test user\" --wait");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    browser.join().unwrap();
    assert_eq!(
        w.transcript.matches(secret.as_str()).count(),
        1,
        "the secret is shown once, on request:\n{}",
        w.transcript
    );
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
}

/// The contract's wait: ccsetup looks for the new profile while the user is
/// still at the form, says so as soon as it shows (no key pressed), and
/// continues on the user's Enter, which therefore never answers the next
/// question. A line that is neither Enter nor an id is explained.
#[test]
fn dashboard_wait_finds_the_new_profile_while_the_user_is_still_at_the_form() {
    let env = TestEnv::new();
    let secret = env.client_secret();
    let mut w = dashboard_init_given_everything(&env, &secret);
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("Show the Client Secret on screen so you can copy it?");
    w.line("n");
    w.expect("Done?");
    w.expect("connector ID or page URL:");
    w.line("not an id");
    w.expect("paste the connector ID");
    // The person fills the dashboard form and says nothing.
    let id = fill_the_dashboard_form(&env, &secret);
    w.expect("Found the new profile in StackOne:");
    w.expect(&format!("(id {id})"));
    w.expect("Press Enter to continue.");
    assert!(
        !w.transcript.contains("Step 7/7"),
        "the wait goes on until the user's Enter:\n{}",
        w.transcript
    );
    w.key("\r");
    w.expect("dashboard");
    w.expect("Step 7/7: Done");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    browser.join().unwrap();
    assert_eq!(env.sandbox.stackone().constant_contact_profiles().len(), 1);
}

/// Issue 13: after the dashboard path, an interactive `init` offers to prove
/// the profile with `link --wait` on the user's own test account; a secret
/// mistyped in the dashboard is caught there, with the fix.
#[test]
fn dashboard_path_offers_the_link_proof_and_it_catches_a_mistyped_secret() {
    for (typed_secret, expected_code) in [(None, 0), (Some("whatever"), 3)] {
        let env = TestEnv::new();
        let secret = env.client_secret();
        let mut w = Wizard::spawn(&env, &["init", "--stackone-mode", "dashboard"], &[]);
        w.walk_the_portal("Bakery Sync");
        w.expect("API Key (client id)");
        w.line(&env.app.client_id);
        w.expect("Client Secret (hidden)");
        w.secret(&secret);
        w.expect("Scopes");
        w.key("\r");
        w.expect("StackOne API key (hidden)");
        w.secret(&env.stackone_key());
        w.expect("StackOne actions to enable");
        w.line("");
        let url = w.expect_capture(AUTHORIZE_URL);
        let browser = approve_in_background(url);
        w.expect("Show the Client Secret on screen so you can copy it?");
        w.line("n");
        w.expect("Done?");
        fill_the_dashboard_form(&env, typed_secret.unwrap_or(&secret));
        w.line("y");
        w.expect("Step 7/7: Done");
        w.expect("StackOne's API cannot show a Connector Profile's credentials");
        w.expect("separate Constant Contact test user");
        w.expect("Prove the StackOne profile now");
        w.line("y");
        let hub = w.expect_capture(r"(http://\S+/hub\?token=\S+)\r?\n");
        let customer = std::thread::spawn(move || {
            test_browser::link_account_blocking(&hub, Decision::Approve)
        });
        if expected_code == 0 {
            w.expect("The Connector Profile's credentials work.");
        } else {
            w.expect("invalid_client");
            w.expect("ccsetup rotate --client-secret");
        }
        assert_eq!(w.finish(), expected_code, "{}", w.transcript);
        browser.join().unwrap();
        customer.join().unwrap().unwrap();
    }
}
