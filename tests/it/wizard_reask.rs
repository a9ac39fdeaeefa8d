//! Refused answers are asked again in place, and what the wizard prints fits
//! the terminal: the real binary in a PTY, typed at as people type (`y`
//! then Enter; Enter alone for a default), against the stand-ins.
#![cfg(unix)]

use std::time::Duration;

use ccsetup::sandbox::stackone::faults;
use ccsetup::sandbox::test_browser::{self, Decision};

use crate::support::e2e::TestEnv;
use crate::support::pty::{AUTHORIZE_URL, Wizard, approve_in_background};

/// Walks step 2 and the prompts of step 3 up to the API Key.
fn up_to_the_api_key(w: &mut Wizard) {
    w.expect("Application name");
    w.line("");
    w.expect("Is the application created?");
    w.line("y");
    w.expect("Are both redirect URIs saved?");
    w.line("y");
    w.expect("API Key (client id)");
}

/// The rest of step 3 after the API Key: secret, scopes, StackOne key, actions.
fn rest_of_step_3(w: &mut Wizard, secret: &str, stackone_key: &str) {
    w.expect("Client Secret (hidden)");
    w.secret(secret);
    w.expect("Scopes");
    w.expect("offline_access");
    w.key("\r");
    w.expect("StackOne API key (hidden)");
    w.secret(stackone_key);
    w.expect("StackOne actions to enable");
    w.line("");
}

#[test]
fn a_mistyped_api_key_is_asked_again_with_the_reason() {
    let env = TestEnv::with_hypothetical_write_api();
    let mut w = Wizard::spawn(&env, &["init"], &[]);
    up_to_the_api_key(&mut w);
    w.line("abc");
    rest_of_step_3(&mut w, &env.client_secret(), &env.stackone_key());
    w.expect("does not know the API Key abc");
    w.expect("What do you want to do?");
    // The default entry: type the key again.
    w.expect("Enter the API Key again");
    w.key("\r");
    w.expect("API Key (client id)");
    w.line(&env.app.client_id);
    w.expect("The API Key and both redirect URIs are registered.");
    w.expect("Step 4/7");
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    w.expect("Step 7/7: Done");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    browser.join().unwrap();
    assert!(
        env.config_text()
            .contains(&format!("client_id = \"{}\"", env.app.client_id)),
        "{}",
        env.config_text()
    );
}

/// The text as the terminal shows it: control sequences removed, one entry
/// per line (a carriage return starts the line again).
fn screen_lines(transcript: &str) -> Vec<String> {
    let mut plain = String::new();
    let mut chars = transcript.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() || c == '~' {
                        break;
                    }
                }
            }
            continue;
        }
        plain.push(c);
    }
    plain
        .split(['\n', '\r'])
        .map(str::to_string)
        .filter(|l| !l.trim().is_empty())
        .collect()
}

#[test]
fn at_80_columns_the_longest_error_hint_and_prompt_fit_and_show_once() {
    let env = TestEnv::new();
    let app = env.register_long_lived_app();
    let mut w = Wizard::spawn(
        &env,
        &["init"],
        &[("WIZARD_TEST_STTY", "cols 80 rows 40".to_string())],
    );
    up_to_the_api_key(&mut w);
    // A refused registration first: its warning and fix are long lines.
    w.line("not-an-app");
    rest_of_step_3(&mut w, app.secret(), &env.stackone_key());
    w.expect("What do you want to do?");
    w.key("\r");
    w.expect("API Key (client id)");
    w.line(&app.client_id);
    let url = w.expect_capture(AUTHORIZE_URL);
    let browser = approve_in_background(url);
    // The longest prompt: stop for a long-lived app, default yes.
    w.expect("never rotate");
    w.expect("Stop here, so you can create");
    w.expect("Refresh Tokens? (y/n)");
    w.line("y");
    // The longest error and hint: the stop, and how to create the app again.
    w.expect("stopped");
    assert_eq!(w.finish(), 3, "{}", w.transcript);
    browser.join().unwrap();

    let lines = screen_lines(&w.transcript);
    // A word longer than a line (the authorization URL) stands alone on its
    // line, whole; every other line fits.
    let too_long: Vec<&String> = lines
        .iter()
        .filter(|l| l.chars().count() > 80 && l.trim().contains(' '))
        .collect();
    assert!(
        too_long.is_empty(),
        "lines wider than the terminal (the terminal would split them mid-word):\n{too_long:#?}\n{}",
        w.transcript
    );
    // The prompt's text is printed once: its first line is not redrawn.
    let head = "Stop here, so you can create";
    assert_eq!(w.transcript.matches(head).count(), 1, "{}", w.transcript);
    // A new profile that stopped keeps nothing.
    assert!(env.config_text().is_empty(), "{}", env.config_text());
    assert!(!env.has_secret("default", "refresh_token"));
}

#[test]
fn ctrl_c_says_what_running_init_again_redoes() {
    let env = TestEnv::new();
    let mut w = Wizard::spawn(&env, &["init"], &[]);
    up_to_the_api_key(&mut w);
    w.ctrl_c();
    w.expect("interrupted");
    assert_eq!(w.finish(), 130, "{}", w.transcript);
    assert!(
        w.transcript.contains("starts at step 1"),
        "{}",
        w.transcript
    );
    assert!(
        !w.transcript.contains("re-run the command to continue"),
        "{}",
        w.transcript
    );
}

#[test]
fn an_unreachable_authorization_server_is_offered_again_then_exit_4() {
    let env = TestEnv::new();
    let port = crate::support::e2e::free_port();
    let mut w = Wizard::spawn(
        &env,
        &["init"],
        &[
            (
                "CCSETUP_CC_AUTHORIZE_URL",
                format!("http://127.0.0.1:{port}/oauth2/default/v1/authorize"),
            ),
            (
                "CCSETUP_CC_TOKEN_URL",
                format!("http://127.0.0.1:{port}/oauth2/default/v1/token"),
            ),
        ],
    );
    up_to_the_api_key(&mut w);
    w.line(&env.app.client_id);
    rest_of_step_3(&mut w, &env.client_secret(), &env.stackone_key());
    w.expect(&format!(
        "could not reach Constant Contact's authorization server (127.0.0.1:{port})"
    ));
    w.expect("ccsetup doctor");
    w.expect("Try again?");
    w.line("y");
    // Checked again: the same answer, asked again.
    w.expect("Try again? · yes");
    w.expect("could not reach Constant Contact's authorization server");
    w.expect("Try again?");
    w.line("n");
    assert_eq!(w.finish(), 4, "{}", w.transcript);
    for leak in ["state=", "code_challenge", "Open this URL", "Step 4/7"] {
        assert!(!w.transcript.contains(leak), "{leak}:\n{}", w.transcript);
    }
}

/// A warning printed while a spinner spins: `link --wait` against a
/// StackOne without `GET /connect_sessions/{id}` warns once, mid-wait, and
/// goes on following the owner's accounts. The spinner's line is cleared
/// before the warning and drawn again after it (`IoStreams::warn`), never
/// left in front of it.
#[test]
fn a_warning_while_a_spinner_spins_gets_its_own_line() {
    let env = TestEnv::initialized_without_the_session_endpoint();
    // The first read of the session answers late: the spinner is on screen
    // (it ticks every 100 ms) when the warning comes.
    env.sandbox.stackone().inject(faults::slow(
        Some("GET"),
        "/connect_sessions/",
        Duration::from_millis(800),
        1,
    ));
    // Colour on: the spinner runs (NO_COLOR turns it off).
    let mut w = Wizard::spawn_with(
        &env,
        &[
            "link",
            "--origin-owner-id",
            "me",
            "--origin-owner-name",
            "My test account",
            "--wait",
        ],
        |cmd| {
            cmd.env("STACKONE_API_KEY", env.stackone_key())
                .env_remove("NO_COLOR");
        },
    );
    let hub = w.expect_capture(r"(http://\S+/hub\?token=\S+)\r?\n");
    w.expect("Waiting for the account to be linked in the StackOne hub");
    w.expect("cannot report how linking went");
    w.expect("Waiting for a new linked account in StackOne");
    let page = test_browser::link_account_blocking(&hub, Decision::Approve)
        .expect("the hub links the account");
    assert!(page.contains("Account linked"), "{page}");
    w.expect("Linked: My test account's Constant Contact account is connected");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    let lines = screen_lines(&w.transcript);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("warning: This StackOne cannot report how linking went")),
        "the warning starts its own line:\n{lines:#?}"
    );
    let shared: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("Waiting for") && l.contains("warning"))
        .collect();
    assert!(
        shared.is_empty(),
        "a spinner and a warning share a line:\n{shared:#?}"
    );
}
