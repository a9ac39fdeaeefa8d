//! What a person does on each web page of the flow, in a real browser
//! ([`Browser`]): one function per page, selecting only by stable ids and
//! form field names, so a page change is adapted here once. A step whose
//! button or field is gone fails with a screenshot.

use ccsetup::sandbox::stackone::STACKONE_CALLBACK_URI;

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

/// The StackOne hub behind a connect session's link: Connect → sign in
/// and approve at Constant Contact → the StackOne callback address (which
/// only the real StackOne serves) pasted back → Finish → linked.
pub fn link_account_in_hub(browser: &Browser, hub_url: &str) {
    browser.goto(hub_url);
    browser.expect_text("Link your Constant Contact account");
    browser.click("form[action='/hub/connect'] button[type=submit]");
    let hub_window = browser.click_following_new_tab("#authorize");
    approve_consent(browser, None);
    let callback = wait_for_url_starting(browser, STACKONE_CALLBACK_URI);
    // Back to the hub's page with the paste field (a new tab is closed; in
    // the same tab, back through the consent pages).
    browser.close_tab_and_return(&hub_window);
    for _ in 0..4 {
        if browser.current_url().contains("/hub") {
            break;
        }
        browser.back();
    }
    browser.fill("input[name=redirected_url]", &callback);
    browser.click("form[action='/hub/callback'] button[type=submit]");
    browser.expect_text("Account linked");
}

/// The stand-in StackOne dashboard: "+ Connector Profile" with the app's
/// credentials and scopes, Create. Returns the new profile's id from the
/// notice.
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
    browser.fill("input[name=client_id]", client_id);
    browser.fill("input[name=client_secret]", client_secret);
    browser.fill("input[name=scopes]", scopes);
    browser.click("form[action='/dashboard/connector-profiles'] button[type=submit]");
    browser.expect_text("Connector profile created");
    let id = browser.text(".notice code");
    if id.trim().is_empty() {
        browser.fail("the created notice names no profile id");
    }
    id.trim().to_string()
}

/// Waits (bounded) until the browser's address starts with `prefix`.
fn wait_for_url_starting(browser: &Browser, prefix: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let url = browser.current_url();
        if url.starts_with(prefix) {
            return url;
        }
        if started.elapsed() > super::webdriver::STEP_TIMEOUT {
            browser.fail(format!("the browser never reached {prefix} (at {url})"));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
