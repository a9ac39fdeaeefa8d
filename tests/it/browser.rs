//! The web pages a user sees, in a real browser (headless Chromium over
//! WebDriver, `support::webdriver`): the stand-in portal, the consent page,
//! ccsetup's callback page, the StackOne hub and the stand-in dashboard,
//! clicked through as a person would, with the real binary doing its part.
//! Each page's steps live in `support::pages`. Needs Debian's `chromium`
//! and `chromium-driver`, or `CCSETUP_SKIP_BROWSER_TESTS=1`.
#![cfg(unix)]

use ccsetup::sandbox::stackone::STACKONE_CALLBACK_URI;

use crate::support::e2e::TestEnv;
use crate::support::pages;
use crate::support::pty::{AUTHORIZE_URL, Wizard};
use crate::support::webdriver::Browser;

/// The hub link `ccsetup link` prints.
const HUB_URL: &str = r"(http://\S+/hub\?token=\S+)\r?\n";

/// The demo as a newcomer lives it: the interactive `ccsetup demo` in a
/// terminal; the application created in the stand-in portal; its API Key
/// and Client Secret typed into the wizard; consent approved; ccsetup's
/// callback page; the Connector Profile made in the stand-in dashboard's
/// form (StackOne as it is: no API creates one) and its connector ID pasted
/// at the wizard's "Done?"; then, in the demo shell, `ccsetup link --wait`
/// and the hub: Connect, consent in a new tab, StackOne's callback served
/// by the stand-in, linked.
#[test]
fn the_demo_path_from_portal_to_linked_account_in_chromium() {
    let Some(browser) = Browser::start("the_demo_path_from_portal_to_linked_account_in_chromium")
    else {
        return;
    };
    let env = TestEnv::new();
    let mut w = Wizard::spawn_demo(&env);
    let portal = w.expect_capture(r"Stand-in Constant Contact developer portal: (\S+)");
    let dashboard = w.expect_capture(r"Stand-in StackOne dashboard:\s+(\S+)");
    let local_redirect = format!("http://localhost:{}/callback", env.port);
    let app = pages::create_app_in_portal(
        &browser,
        &portal,
        "Demo Bakery",
        &[STACKONE_CALLBACK_URI, &local_redirect],
    );

    w.expect("Application name");
    w.line("Demo Bakery");
    w.expect("Is the application created?");
    w.line("y");
    w.expect("Are both redirect URIs saved?");
    w.line("y");
    w.expect("API Key (client id)");
    w.line(&app.api_key);
    w.expect("Client Secret (hidden)");
    w.secret(&app.client_secret);
    w.expect("Scopes");
    w.expect("offline_access");
    w.key("\r");
    w.expect("StackOne actions to enable");
    w.line("");
    let authorize_url = w.expect_capture(AUTHORIZE_URL);
    pages::approve_consent(&browser, Some(&authorize_url));
    pages::expect_callback_page_success(&browser);
    // StackOne as it is: the profile is made in its dashboard, by hand.
    w.expect("Create a Constant Contact connector profile");
    w.expect("Show the Client Secret on screen");
    w.line("n");
    w.expect("Done?");
    w.expect("paste the new profile's connector ID");
    let profile_id = pages::create_profile_in_dashboard(
        &browser,
        &dashboard,
        &app.api_key,
        &app.client_secret,
        &ccsetup::cli::DEFAULT_SCOPES.replace(',', " "),
    );
    w.line(&profile_id);
    w.expect("Step 7/7: Done");
    // The done screen names the profile that was pasted (not just echoed).
    w.expect(&profile_id);
    w.expect("Prove the StackOne profile now");
    w.line("n");

    w.expect("in a shell?");
    w.line("y");
    w.expect("Type `exit` to end the demo");
    std::thread::sleep(std::time::Duration::from_millis(300));
    w.line("ccsetup link --origin-owner-id c1 --origin-owner-name 'Demo customer' --wait");
    let hub = w.expect_capture(HUB_URL);
    pages::link_account_in_hub(&browser, &hub);
    w.expect("Linked: Demo customer's Constant Contact account is connected");
    w.line("exit");
    w.expect("Demo finished");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
    assert!(!w.transcript.contains(&app.client_secret));
}

/// The dashboard path: the profile made in the stand-in dashboard's form
/// (StackOne's API has no create endpoint), `init` finds it, and the hub
/// proves its credentials by linking an account.
#[test]
fn a_profile_made_in_the_stand_in_dashboard_links_an_account_in_chromium() {
    let Some(browser) =
        Browser::start("a_profile_made_in_the_stand_in_dashboard_links_an_account_in_chromium")
    else {
        return;
    };
    let env = TestEnv::new();
    let init = || {
        let mut init = env.init_cmd(&[]);
        init.args(["--skip-authorize", "--stackone-mode", "dashboard"]);
        env.run_no_consent(init)
    };
    // init stops at the dashboard step with the form's values…
    let first = init();
    assert_eq!(first.code, Some(4), "{}", first.stderr);
    // …which a person types into the dashboard…
    let dashboard = env.sandbox.stackone().dashboard_url().to_string();
    let profile_id = pages::create_profile_in_dashboard(
        &browser,
        &dashboard,
        &env.app.client_id,
        &env.client_secret(),
        &ccsetup::cli::DEFAULT_SCOPES.replace(',', " "),
    );
    assert!(
        env.sandbox
            .stackone()
            .profiles()
            .iter()
            .any(|p| p.id == profile_id),
        "{profile_id} not in the stand-in"
    );
    // …and the same command again finds the profile.
    let second = init();
    assert_eq!(second.code, Some(0), "{}", second.stderr);
    assert!(second.stderr.contains(&profile_id), "{}", second.stderr);

    let mut w = Wizard::spawn(
        &env,
        &[
            "link",
            "--origin-owner-id",
            "c2",
            "--origin-owner-name",
            "Dashboard customer",
            "--wait",
        ],
        &[("STACKONE_API_KEY", env.stackone_key())],
    );
    let hub = w.expect_capture(HUB_URL);
    pages::link_account_in_hub(&browser, &hub);
    w.expect("Linked: Dashboard customer's Constant Contact account is connected");
    assert_eq!(w.finish(), 0, "{}", w.transcript);
}
