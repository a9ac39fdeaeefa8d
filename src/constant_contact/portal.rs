//! The Constant Contact developer portal as the seed guide walks it (creating
//! the application, its settings, its redirect URIs): data, worded once, for
//! the interactive walk and the printed checklist of `workflow::portal_guide`
//! (docs/contract.md `init` step 2; the portal's screens: docs/vendors.md).

use super::STACKONE_REDIRECT_URI;

/// What the application must look like in the portal, for one run.
pub struct PortalSteps<'a> {
    /// The portal's My Applications page.
    pub portal_url: &'a str,
    pub app_name: &'a str,
    /// This machine's redirect URI (the one the local check uses).
    pub local_redirect_uri: &'a str,
}

/// Where the application name rule is told before asking for one.
pub const NAME_RULE: &str =
    "\nName the application (the portal refuses names that contain \"Constant Contact\").";

/// Where the API Key is found once the application exists.
pub const WHERE_THE_CLIENT_ID_IS: &str =
    "The API Key (Client ID) is on the application's details page (click Edit on it).";

/// How a refused Client Secret is fixed in the portal.
pub const NEW_CLIENT_SECRET_ADVICE: &str = "The Client Secret is most likely wrong. In the portal, click Generate Client Secret on the \
     application (it is shown once) and enter the new one.";

impl PortalSteps<'_> {
    /// The first screen: where to sign in (before the application has a name).
    pub fn sign_in(portal_url: &str) -> String {
        format!(
            "Open the Constant Contact developer portal's My Applications page and sign in:\n  {portal_url}"
        )
    }

    /// Creating the application, with the settings StackOne needs.
    pub fn create_application(&self) -> String {
        format!(
            "\nClick New Application, then:\n\
             \x20 1. Name: {}\n\
             \x20 2. OAuth2 flow: \"Authorization Code Flow and Implicit Flow\" (one option)\n\
             \x20 3. Refresh token type: Rotating Refresh Tokens\n\
             \x20 4. Click Create",
            self.app_name
        )
    }

    /// Adding both redirect URIs.
    pub fn add_redirect_uris(&self) -> String {
        format!(
            "\nOn My Applications, click Edit on \"{}\" and add BOTH redirect URIs, exactly:\n\
             \x20 StackOne's (for the accounts your customers will link):\n\
             \x20   {STACKONE_REDIRECT_URI}\n\
             \x20 This machine's (for the check in step 4):\n\
             \x20   {}\n\
             Then click Save.",
            self.app_name, self.local_redirect_uri
        )
    }

    /// The redirect URIs the user pastes into the portal, in order.
    pub fn redirect_uris(&self) -> [&str; 2] {
        [STACKONE_REDIRECT_URI, self.local_redirect_uri]
    }

    /// The printed form: what the application must have (nothing is opened).
    pub fn checklist(&self, client_id: &str) -> String {
        format!(
            "Using the application \"{}\" (API Key {client_id}). In the developer portal \
             ({}) it must have:\n\
             \x20 - OAuth2 flow: Authorization Code Flow and Implicit Flow\n\
             \x20 - Refresh token type: Rotating Refresh Tokens\n\
             \x20 - both redirect URIs, exactly:\n\
             \x20     {STACKONE_REDIRECT_URI}\n\
             \x20     {}",
            self.app_name, self.portal_url, self.local_redirect_uri
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_name_both_redirect_uris_and_rotating_tokens() {
        let steps = PortalSteps {
            portal_url: "https://portal.example/apps",
            app_name: "My app",
            local_redirect_uri: "http://localhost:8917/callback",
        };
        let walked = format!(
            "{}{}",
            steps.create_application(),
            steps.add_redirect_uris()
        );
        for text in [walked, steps.checklist("abc")] {
            assert!(text.contains(STACKONE_REDIRECT_URI), "{text}");
            assert!(text.contains("http://localhost:8917/callback"), "{text}");
            assert!(text.contains("Rotating Refresh Tokens"), "{text}");
        }
    }
}
