//! What a person does on each web page of the flow, in a real browser
//! ([`Browser`]): one function per page, selecting only by stable ids and
//! form field names, so a page change is adapted here once. A step whose
//! button or field is gone fails with a screenshot.

use ccsetup::sandbox::stackone::{CALLBACK_PATH, STACKONE_CALLBACK_URI};

use super::webdriver::Browser;

/// The application a person created in the stand-in portal.
pub struct PortalApp {
    pub api_key: String,
    pub client_secret: String,
}

/// The stand-in Constant Contact developer portal, as the seed guide walks
/// it: New Application → name, flow, refresh token type → Create → the
/// redirect URIs → Save → Generate Client Secret (shown once).
pub fn create_app_in_portal(
    browser: &Browser,
    portal_url: &str,
    name: &str,
    redirect_uris: &[&str],
) -> PortalApp {
    browser.goto(portal_url);
    browser.expect_text("My Applications");
    browser.click("#new-application");
    browser.expect_text("New Application");
    browser.fill("input[name=name]", name);
    browser.click("input[name=flow][value=authorization_code_implicit]");
    browser.click("input[name=refresh_kind][value=rotating]");
    browser.click("#create-application");
    let api_key = browser.text("#api-key");
    if api_key.trim().is_empty() {
        browser.fail("the application page shows no API Key");
    }
    browser.fill("textarea[name=redirect_uris]", &redirect_uris.join("\n"));
    browser.click("#save-redirect-uris");
    browser.expect_text("Saved.");
    browser.click("#generate-client-secret");
    let client_secret = browser.text("#client-secret");
    if client_secret.trim().is_empty() {
        browser.fail("no Client Secret shown after Generate Client Secret");
    }
    PortalApp {
        api_key: api_key.trim().to_string(),
        client_secret: client_secret.trim().to_string(),
    }
}

/// The stand-in's sign-in and consent page, reached from `authorize_url`
/// (or already open when `authorize_url` is `None`): Approve.
pub fn approve_consent(browser: &Browser, authorize_url: Option<&str>) {
    if let Some(url) = authorize_url {
        browser.goto(url);
    }
    browser.expect_text("Allow access?");
    browser.click("button[name=decision][value=approve]");
}

/// ccsetup's own page on its loopback redirect, after an approved consent.
pub fn expect_callback_page_success(browser: &Browser) {
    browser.expect_text("Constant Contact authorized ccsetup");
    if !browser.current_url().contains("/callback?") {
        browser.fail("the success page is not ccsetup's callback");
    }
}

/// The StackOne hub behind a connect session's link: Connect → the consent
/// opens in a new tab → sign in and approve at Constant Contact, which sends
/// that tab to StackOne's callback: the sandbox forwards it to the StackOne
/// stand-in's own callback path (`hub_url`'s origin), never the real host,
/// and that page says the account is linked → back in the hub's tab, a
/// reload shows the link done.
pub fn link_account_in_hub(browser: &Browser, hub_url: &str) {
    browser.goto(hub_url);
    browser.expect_text("Link your Constant Contact account");
    browser.click("#connect");
    browser.find("#callback-form");
    let hub_window = browser.click_following_new_tab("#authorize");
    if browser.current_window() == hub_window {
        browser.fail("Sign in to Constant Contact did not open a new tab");
    }
    approve_consent(browser, None);
    let stand_in_callback = url::Url::parse(hub_url)
        .and_then(|hub| hub.join(CALLBACK_PATH))
        .unwrap_or_else(|e| panic!("hub link {hub_url}: {e}"));
    wait_for_url_starting(browser, stand_in_callback.as_str());
    browser.expect_text("Account linked");
    // The hub's tab still shows the attempt; reloaded, it shows it done.
    browser.close_tab_and_return(&hub_window);
    browser.refresh();
    browser.find("#linked");
    browser.expect_text("Account linked");
}

/// The stand-in StackOne dashboard: "+ Connector Profile", Constant
/// Contact, the app's credentials and scopes (the form has no Name),
/// Create, then the new profile's page. Returns its connector ID as a
/// person copies it there.
pub fn create_profile_in_dashboard(
    browser: &Browser,
    dashboard_url: &str,
    client_id: &str,
    client_secret: &str,
    scopes: &str,
) -> String {
    browser.goto(dashboard_url);
    browser.expect_text("Connector Profiles");
    browser.click("#new-profile");
    browser.expect_text("New Connector Profile");
    browser.find("#profile-form");
    browser.click("#connector_key option[value=constantcontact]");
    browser.click("#authentication_config_key option[value=oauth2]");
    browser.fill("#client_id", client_id);
    browser.fill("#client_secret", client_secret);
    browser.fill("#scopes", scopes);
    browser.click("#create-profile");
    browser.expect_text("Connector profile created");
    browser.click("#created-profile");
    browser.find("#copy-connector-id");
    let id = browser.value("#connector-id");
    if id.trim().is_empty() {
        browser.fail("the new profile's page shows no connector ID");
    }
    id.trim().to_string()
}

/// Waits (bounded) until the browser's address starts with `prefix`; the
/// real StackOne host is never acceptable on the way (a sandbox must not
/// send a stand-in's code there).
fn wait_for_url_starting(browser: &Browser, prefix: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let url = browser.current_url();
        if url.starts_with(STACKONE_CALLBACK_URI) {
            browser.fail(format!("the browser was sent to the real StackOne: {url}"));
        }
        if url.starts_with(prefix) {
            return url;
        }
        if started.elapsed() > super::webdriver::STEP_TIMEOUT {
            browser.fail(format!("the browser never reached {prefix} (at {url})"));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
