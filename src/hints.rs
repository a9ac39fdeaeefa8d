//! The one catalogue of hints: what to do next, keyed by the problem, the
//! command it shows in, and the state the user is in.
//!
//! A hint is only useful where it can be followed: never "run `ccsetup X`"
//! inside X, never a rotate hint before anything is set up, never "run
//! ccsetup again" above a question that offers to check again. Every
//! command takes its hints from here, so each place is tested once (below).
//! Plumbing: imports nothing of ccsetup.

/// The command a hint shows in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Init,
    Rotate,
    Status,
    Token,
    Doctor,
    Link,
    Reset,
    Demo,
}

/// Where the user stands when the hint shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Nothing is set up for this profile yet.
    NotSetUp,
    /// A setup exists; the command is about to end with the problem.
    SetUp,
    /// The user is at a question that lets them fix it without leaving.
    AtPrompt,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Constant Contact refused the API Key and Client Secret pair.
    InvalidClient,
    /// A redirect URI the run needs is not registered in the app.
    RedirectUriMissing,
    /// The API Key is unknown (or no redirect URI is registered).
    ApiKeyUnknown,
    /// The stored refresh token is dead or missing.
    RefreshTokenDead,
    /// `status` found parts missing or failing (its closing line).
    PartsMissing,
    /// The app issues long-lived refresh tokens.
    LongLivedRefreshTokens,
}

/// The "PKCE Flow" remark every invalid-client hint ends with.
const PKCE_FLOW_NOTE: &str = "a \"PKCE Flow\" app has no Client Secret: the app must use \
     \"Authorization Code Flow and Implicit Flow\" (create a new application with that flow)";

/// The hint for `problem` shown in `command` while the user is in `state`.
pub fn hint(problem: Problem, command: Command, state: State) -> String {
    use Command as C;
    use Problem as P;
    use State as S;
    match (problem, command, state) {
        // ---- invalid_client ----
        (P::InvalidClient, C::Init | C::Rotate | C::Demo, S::AtPrompt) => format!(
            "in the portal, click Generate Client Secret on the application (it is shown once) and \
             enter the new one here; {PKCE_FLOW_NOTE}"
        ),
        (P::InvalidClient, C::Init | C::Demo, _) => format!(
            "pass the application's current Client Secret (CC_CLIENT_SECRET or \
             --client-secret-stdin; Generate Client Secret in the portal shows a new one once) and \
             check the API Key on the application's page; {PKCE_FLOW_NOTE}"
        ),
        (P::InvalidClient, C::Rotate, _) => format!(
            "give the Client Secret the portal shows now (Generate Client Secret shows a new one \
             once), and check the API Key on the application's page; {PKCE_FLOW_NOTE}"
        ),
        (P::InvalidClient, _, S::NotSetUp) => {
            "run `ccsetup init`: it asks for the API Key and Client Secret and checks them".into()
        }
        (P::InvalidClient, _, _) => format!(
            "if a new Client Secret was generated in the portal, run `ccsetup rotate` and enter it; \
             otherwise copy the API Key again from the application's page. {PKCE_FLOW_NOTE}"
        ),

        // ---- redirect URIs and the API Key, found before the browser ----
        // (the end of a sentence naming what to change in the portal)
        (P::RedirectUriMissing | P::ApiKeyUnknown, _, S::AtPrompt) => {
            "then pick what to do below (nothing is lost)".into()
        }
        (P::RedirectUriMissing, C::Init | C::Rotate | C::Demo, _) => {
            "then run this command again".into()
        }
        (P::RedirectUriMissing, _, _) => "the change counts at once".into(),
        (P::ApiKeyUnknown, C::Init | C::Demo, _) => {
            "then run this command again with that API Key (--client-id or CC_CLIENT_ID)".into()
        }
        (P::ApiKeyUnknown, _, S::NotSetUp) => "then run `ccsetup init` with that API Key".into(),
        (P::ApiKeyUnknown, _, _) => {
            "if the application was deleted or replaced, run `ccsetup init` and choose \"Start over\"".into()
        }

        // ---- refresh tokens ----
        (P::RefreshTokenDead, C::Init, S::NotSetUp) => {
            "approve the access in the browser: this run stores a new refresh token".into()
        }
        (P::RefreshTokenDead, C::Init, _) => {
            "choose \"Re-authorize\" in the menu of this command's first step".into()
        }
        (P::RefreshTokenDead, _, S::NotSetUp) => "run `ccsetup init` to set this profile up".into(),
        (P::RefreshTokenDead, C::Rotate, _) => {
            "approve the access in the browser again: this command asks for a new refresh token".into()
        }
        (P::RefreshTokenDead, _, _) => "run `ccsetup rotate --reauthorize` to authorize again".into(),

        // ---- status's closing line ----
        (P::PartsMissing, C::Init, _) => "the menu of this command's first step fixes each part".into(),
        (P::PartsMissing, _, S::NotSetUp) => "`ccsetup init` sets this profile up".into(),
        (P::PartsMissing, _, _) => {
            "`ccsetup init` sets up what is missing; each failing line above says its own fix".into()
        }

        // ---- long-lived refresh tokens ----
        (P::LongLivedRefreshTokens, C::Init | C::Demo, S::AtPrompt) => {
            "in the developer portal, create a new application with \"Refresh token type: Rotating \
             Refresh Tokens\" (the type cannot be changed later), then come back with its API Key"
                .into()
        }
        (P::LongLivedRefreshTokens, C::Init | C::Demo, _) => {
            "create a new application with \"Refresh token type: Rotating Refresh Tokens\" in the \
             developer portal (the type cannot be changed later), then run this command again with its \
             API Key and Client Secret"
                .into()
        }
        (P::LongLivedRefreshTokens, _, S::NotSetUp) => "run `ccsetup init` to set this profile up".into(),
        (P::LongLivedRefreshTokens, _, _) => {
            "create a new application with \"Refresh token type: Rotating Refresh Tokens\" in the \
             developer portal, then run `ccsetup init` and choose \"Start over\""
                .into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMANDS: [(Command, &str); 8] = [
        (Command::Init, "ccsetup init"),
        (Command::Rotate, "ccsetup rotate"),
        (Command::Status, "ccsetup status"),
        (Command::Token, "ccsetup token"),
        (Command::Doctor, "ccsetup doctor"),
        (Command::Link, "ccsetup link"),
        (Command::Reset, "ccsetup reset"),
        (Command::Demo, "ccsetup demo"),
    ];
    const STATES: [State; 3] = [State::NotSetUp, State::SetUp, State::AtPrompt];
    const PROBLEMS: [Problem; 6] = [
        Problem::InvalidClient,
        Problem::RedirectUriMissing,
        Problem::ApiKeyUnknown,
        Problem::RefreshTokenDead,
        Problem::PartsMissing,
        Problem::LongLivedRefreshTokens,
    ];

    /// Every entry, each place: defined, and never sending the user to the
    /// command they are in.
    #[test]
    fn no_hint_says_run_the_command_it_shows_in() {
        for problem in PROBLEMS {
            for (command, name) in COMMANDS {
                for state in STATES {
                    let text = hint(problem, command, state);
                    assert!(!text.is_empty());
                    assert!(
                        !text.contains(&format!("`{name}`"))
                            && !text.contains(&format!("`{name} ")),
                        "{problem:?} in {command:?} ({state:?}) sends the user to {name}: {text}"
                    );
                }
            }
        }
    }

    #[test]
    fn nothing_set_up_never_hints_rotate() {
        for problem in PROBLEMS {
            for (command, _) in COMMANDS {
                let text = hint(problem, command, State::NotSetUp);
                assert!(
                    !text.contains("ccsetup rotate"),
                    "{problem:?} in {command:?} before any setup: {text}"
                );
            }
        }
    }

    #[test]
    fn a_hint_at_a_prompt_never_says_to_run_ccsetup_again() {
        for problem in PROBLEMS {
            for (command, _) in COMMANDS {
                let text = hint(problem, command, State::AtPrompt);
                assert!(
                    !text.contains("run ccsetup") && !text.contains("run this command again"),
                    "{problem:?} in {command:?} at a prompt: {text}"
                );
            }
        }
    }

    #[test]
    fn invalid_client_in_init_asks_for_the_secret_and_elsewhere_names_rotate() {
        let at_prompt = hint(Problem::InvalidClient, Command::Init, State::AtPrompt);
        assert!(at_prompt.contains("Generate Client Secret"), "{at_prompt}");
        assert!(at_prompt.contains("enter the new one here"), "{at_prompt}");
        let in_script = hint(Problem::InvalidClient, Command::Init, State::NotSetUp);
        assert!(in_script.contains("CC_CLIENT_SECRET"), "{in_script}");
        let in_rotate = hint(Problem::InvalidClient, Command::Rotate, State::SetUp);
        assert!(
            in_rotate.contains("Client Secret the portal shows"),
            "{in_rotate}"
        );
        for command in [
            Command::Status,
            Command::Token,
            Command::Link,
            Command::Doctor,
        ] {
            let text = hint(Problem::InvalidClient, command, State::SetUp);
            assert_eq!(text.matches("ccsetup rotate").count(), 1, "{text}");
        }
        let fresh = hint(Problem::InvalidClient, Command::Status, State::NotSetUp);
        assert!(fresh.contains("ccsetup init"), "{fresh}");
    }

    #[test]
    fn registration_hints_fit_a_prompt_and_an_exit() {
        let at_prompt = hint(Problem::RedirectUriMissing, Command::Init, State::AtPrompt);
        assert!(at_prompt.contains("below"), "{at_prompt}");
        let exit = hint(Problem::RedirectUriMissing, Command::Init, State::NotSetUp);
        assert!(exit.contains("run this command again"), "{exit}");
        let status = hint(Problem::RedirectUriMissing, Command::Status, State::SetUp);
        assert!(!status.contains("run"), "{status}");
        let api_key = hint(Problem::ApiKeyUnknown, Command::Init, State::NotSetUp);
        assert!(api_key.contains("--client-id"), "{api_key}");
        let api_key_later = hint(Problem::ApiKeyUnknown, Command::Rotate, State::SetUp);
        assert!(api_key_later.contains("Start over"), "{api_key_later}");
    }

    #[test]
    fn refresh_token_hints_name_the_command_that_renews_it() {
        assert!(
            hint(Problem::RefreshTokenDead, Command::Token, State::SetUp)
                .contains("ccsetup rotate --reauthorize")
        );
        assert!(
            hint(Problem::RefreshTokenDead, Command::Rotate, State::SetUp)
                .contains("approve the access in the browser again")
        );
        assert!(
            hint(Problem::RefreshTokenDead, Command::Init, State::SetUp).contains("Re-authorize")
        );
    }

    #[test]
    fn status_closing_hint_fits_the_state() {
        let nothing = hint(Problem::PartsMissing, Command::Status, State::NotSetUp);
        assert_eq!(nothing, "`ccsetup init` sets this profile up");
        let some = hint(Problem::PartsMissing, Command::Status, State::SetUp);
        assert!(!some.contains("rotate"), "{some}");
    }

    #[test]
    fn long_lived_hints_say_create_the_app_again() {
        for state in STATES {
            let text = hint(Problem::LongLivedRefreshTokens, Command::Init, state);
            assert!(text.contains("Rotating Refresh Tokens"), "{text}");
            assert!(text.contains("new application"), "{text}");
        }
        let status = hint(
            Problem::LongLivedRefreshTokens,
            Command::Status,
            State::SetUp,
        );
        assert!(status.contains("Start over"), "{status}");
    }
}
