//! Authorization as `init`, `rotate` and `demo` need it: the OAuth flow on
//! an already-bound listener, then one account call that shows whose
//! account the token reaches (reported apart from OAuth failures).

use secrecy::SecretString;

use super::{Remote, Terminal};
use crate::constant_contact::AccountSummary;
use crate::constant_contact::STACKONE_REDIRECT_URI;
use crate::constant_contact::probe::{
    AuthorizeRefusal, RegistrationReport, RegistrationVerdict, probe_registration,
};
use crate::error::{Error, Result};
use crate::hints;
use crate::oauth::{Redirect, RedirectTarget, TokenSet};

/// What an authorization is asked for.
pub struct AuthorizeRequest {
    pub client_id: String,
    pub client_secret: SecretString,
    pub scopes: Vec<String>,
    pub redirect_port: u16,
    pub timeout_secs: u64,
}

/// A proven authorization: the tokens, and whose account they reach.
pub struct AuthOutcome {
    pub tokens: TokenSet,
    pub account: Option<AccountSummary>,
    /// Signals wait until the tokens are stored ([`Self::stored`]).
    deferral: Option<crate::interrupt::DeferGuard>,
}

impl AuthOutcome {
    /// The tokens are stored: signals are no longer held off (one that
    /// arrived meanwhile ends the process now, as after a refresh).
    pub fn stored(&mut self) {
        drop(self.deferral.take());
    }
}

pub async fn authorize_and_check(
    term: Terminal<'_>,
    remote: Remote<'_>,
    request: AuthorizeRequest,
    redirect: impl Into<Redirect>,
) -> Result<AuthOutcome> {
    let redirect = redirect.into();
    let params = crate::oauth::AuthorizeParams {
        authorize_url: remote.endpoints.cc_authorize.clone(),
        token_url: remote.endpoints.cc_token.clone(),
        client_id: request.client_id.clone(),
        client_secret: request.client_secret.clone(),
        scopes: request.scopes.clone(),
        redirect_port: request.redirect_port,
        timeout: std::time::Duration::from_secs(request.timeout_secs),
        http: remote.http.clone(),
        retry: crate::oauth::RetryPolicy::default(),
    };
    // Where no browser can be launched, or the launch fails, the user may
    // paste the redirected URL instead; the paste source never steals later
    // keystrokes (on Unix it leaves no read pending, so it can always be
    // ready; elsewhere only where no launch is tried). A redirect URI no
    // listener serves always needs the paste.
    let paste = (matches!(redirect, Redirect::PasteOnly(_))
        || cfg!(unix)
        || term.browser.can_launch().is_err())
    .then(crate::oauth::PasteSource::stdin);
    let mut authorization =
        crate::oauth::authorize_via(params, redirect, term.browser, term.io, paste).await?;
    term.io
        .success("Constant Contact accepted the API Key and Client Secret.");

    let account = if crate::constant_contact::grants_account_read(&request.scopes) {
        // Still under the exchange's deferral: the new grant is not stored.
        crate::interrupt::extend_deferral(
            crate::oauth::RetryPolicy::default().worst_case(crate::http::REQUEST_TIMEOUT),
        );
        let spinner = term.io.spinner("Checking whose account this is");
        let result = crate::constant_contact::fetch_account_summary(
            remote.http,
            &remote.endpoints.cc_api,
            &authorization.tokens.access_token,
        )
        .await;
        drop(spinner);
        let summary = result.map_err(|e| {
            let hint = e.hint().map(str::to_string);
            let err = Error::new(
                e.kind(),
                format!(
                    "the authorization worked, but the account check failed: {}",
                    e.message()
                ),
            );
            match hint {
                Some(h) => err.with_hint(h),
                None => err,
            }
        })?;
        term.io
            .success(format!("Authorized for {}.", summary.display_name()));
        Some(summary)
    } else {
        None
    };
    Ok(AuthOutcome {
        deferral: authorization.deferral.take(),
        tokens: authorization.tokens,
        account,
    })
}

/// The redirect URI a saved setup uses: `--redirect-uri` as saved, else
/// `http://localhost:<port>/callback`.
pub fn redirect_target_of(settings: &crate::config::ProfileConfig) -> Result<RedirectTarget> {
    match &settings.redirect_uri {
        Some(uri) => RedirectTarget::parse(uri),
        None => Ok(RedirectTarget::local(settings.redirect_port)),
    }
}

/// Gets ready to receive the code for `target` before any browser opens:
/// binds the listener on its port and path (a taken port is exit 2), or,
/// for a URI no listener serves, checks that someone can paste (exit 2 if
/// not).
pub fn prepare_redirect(target: &RedirectTarget, can_paste: bool) -> Result<Redirect> {
    match target {
        RedirectTarget::Loopback { uri, port, path } => Ok(Redirect::Listener(
            crate::oauth::LoopbackListener::bind(*port)?.with_redirect_uri(uri, path),
        )),
        RedirectTarget::PasteOnly { uri } if can_paste => Ok(Redirect::PasteOnly(uri.clone())),
        RedirectTarget::PasteOnly { uri } => Err(Error::usage(format!(
            "the redirect URI {uri} is not a loopback http URI, so ccsetup cannot receive the \
             redirect itself: the address the browser is sent to must be pasted, which needs a terminal"
        ))
        .with_hint(
            "run in a terminal without --non-interactive, or use (and register) a loopback URI such as \
             http://localhost:8917/callback with --redirect-uri",
        )),
    }
}

/// Which redirect URIs this run needs registered (a refused one that is not
/// needed is only a warning).
#[derive(Debug, Clone, Copy)]
pub struct RegistrationNeeds {
    pub local: bool,
    pub stackone: bool,
    /// Whether to show the fix and offer "check again" (someone is there to
    /// edit the app, and did not pass `--yes`), instead of exit 3.
    pub ask_again: bool,
    /// The command checking: the fix's last words fit it ([`hints`]).
    pub command: hints::Command,
}

/// The API Key a registration check probes, and whether the user may type
/// another one when Constant Contact does not know it (it was typed at a
/// prompt of this run, not given by flag or saved).
pub struct ApiKeyUnderTest<'a> {
    pub client_id: &'a mut String,
    pub typed_here: bool,
}

/// What the user can do about a refused registration, at the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RegistrationChoice {
    EnterApiKey,
    CheckAgain,
    Quit,
}

/// the contract's registration check (`init` step 3, `rotate --reauthorize`): the
/// local redirect URI and StackOne's, probed without signing in, before any
/// browser opens. A needed URI refused is exit 3 naming it — or, when
/// someone can edit the app now, the fix and a choice: enter the API Key
/// again (when it was typed here), check again, or quit. An authorization
/// server that does not answer is exit 4 naming its host and `ccsetup
/// doctor` (or, interactively, "try again"): the browser would fail the
/// same way. Any other answer that proves nothing is a warning, never a
/// block. `first` is an answer already probed by the caller.
pub async fn check_app_registration(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    api_key: ApiKeyUnderTest<'_>,
    local: &str,
    scopes: &[String],
    needs: RegistrationNeeds,
    mut first: Option<RegistrationReport>,
) -> Result<RegistrationReport> {
    let command = needs.command;
    let ApiKeyUnderTest {
        client_id,
        typed_here,
    } = api_key;
    loop {
        // `first`: an answer the caller already has (probed together with
        // its other checks); "check again" always probes anew.
        let report = match first.take() {
            Some(report) => report,
            None => {
                let _spinner = term
                    .io
                    .spinner("Checking the app's registration at Constant Contact");
                probe_registration(
                    remote.http,
                    &remote.endpoints.cc_authorize,
                    client_id,
                    local,
                    scopes,
                )
                .await
            }
        };
        let verdict = report.verdict();
        let failure = match &verdict {
            RegistrationVerdict::AllRegistered => {
                term.io
                    .success("The API Key and both redirect URIs are registered.");
                return Ok(report);
            }
            RegistrationVerdict::Unreachable(host) => {
                let failure = unreachable_error(host);
                if !term.prompter.is_interactive() {
                    return Err(failure);
                }
                term.io.warn(failure.message());
                term.io.info(format!(
                    "The browser could not reach it either. {}.",
                    failure.hint().unwrap_or_default()
                ));
                if term.prompter.confirm("Try again?", true)? {
                    continue;
                }
                return Err(failure);
            }
            RegistrationVerdict::Inconclusive(why) => {
                term.io.warn(format!(
                    "could not check the app's registration ({why}); going on"
                ));
                return Ok(report);
            }
            RegistrationVerdict::LocalMissing if !needs.local => {
                term.io.warn(format!(
                    "the redirect URI {local} is not registered in the app (not needed now)"
                ));
                return Ok(report);
            }
            RegistrationVerdict::StackOneMissing if !needs.stackone => {
                term.io.warn(format!(
                    "StackOne's redirect URI {STACKONE_REDIRECT_URI} is not registered in the app: \
                     accounts cannot be linked through StackOne until it is"
                ));
                return Ok(report);
            }
            verdict => registration_error(verdict, client_id, local, command, hints::State::SetUp)
                .with_json_field("registration", report.to_json()),
        };
        if !(needs.ask_again && term.prompter.is_interactive()) {
            return Err(failure);
        }
        // At the prompt the fix ends with the choice below, not "run again".
        let at_prompt =
            registration_error(&verdict, client_id, local, command, hints::State::AtPrompt);
        term.io.warn(at_prompt.message());
        if let Some(fix) = at_prompt.hint() {
            term.io.info(format!("Fix: {fix}"));
        }
        let api_key_unknown = verdict == RegistrationVerdict::ClientUnknownOrNoUris;
        let mut entries = Vec::new();
        if api_key_unknown && typed_here {
            entries.push((RegistrationChoice::EnterApiKey, "Enter the API Key again"));
        }
        entries.push((
            RegistrationChoice::CheckAgain,
            "Check again (after saving the app's settings in the portal)",
        ));
        entries.push((RegistrationChoice::Quit, "Quit (nothing was stored)"));
        let items: Vec<String> = entries.iter().map(|(_, l)| l.to_string()).collect();
        let picked = term.prompter.select("What do you want to do?", &items, 0)?;
        match entries[picked].0 {
            RegistrationChoice::EnterApiKey => {
                term.io.info(
                    "The API Key (Client ID) is on the application's details page (click Edit on it).",
                );
                *client_id = term.prompter.input(
                    "API Key (client id)",
                    None,
                    &crate::constant_contact::validate_client_id,
                )?;
            }
            RegistrationChoice::CheckAgain => {}
            RegistrationChoice::Quit => return Err(failure),
        }
    }
}

/// `err` with the invalid-client hint that fits `command` ([`hints`]),
/// when Constant Contact refused the client credentials; else unchanged.
pub fn fit_invalid_client_hint(err: Error, command: hints::Command) -> Error {
    match crate::oauth::AuthorizeFailure::of(&err) {
        Some(crate::oauth::AuthorizeFailure::WrongClient) => err.with_hint(hints::hint(
            hints::Problem::InvalidClient,
            command,
            hints::State::SetUp,
        )),
        _ => err,
    }
}

/// The exit-4 error for an authorization server that does not answer.
pub fn unreachable_error(host: &str) -> Error {
    Error::remote(format!(
        "could not reach Constant Contact's authorization server ({host})"
    ))
    .with_hint(
        "check this machine's network connection (a proxy, VPN or firewall); `ccsetup doctor` \
         checks every endpoint",
    )
}

/// The exit-3 error for a refused registration, naming what to fix; its
/// hint ends as fits `command` and `state` ([`hints`]).
pub fn registration_error(
    verdict: &RegistrationVerdict,
    client_id: &str,
    local: &str,
    command: hints::Command,
    state: hints::State,
) -> Error {
    use hints::Problem;
    let portal_step = "in the developer portal's My Applications, click Edit on the app";
    match verdict {
        RegistrationVerdict::AppRefused(refusal) => app_refusal_error(refusal, client_id),
        RegistrationVerdict::LocalMissing => Error::authorization(format!(
            "the redirect URI {local} is not registered in the Constant Contact app"
        ))
        .with_hint(format!(
            "{portal_step}, add exactly {local} to the redirect URIs and Save; {}",
            hints::hint(Problem::RedirectUriMissing, command, state)
        )),
        RegistrationVerdict::StackOneMissing => Error::authorization(format!(
            "StackOne's redirect URI {STACKONE_REDIRECT_URI} is not registered in the Constant Contact app"
        ))
        .with_hint(format!(
            "{portal_step}, add exactly {STACKONE_REDIRECT_URI} to the redirect URIs and Save \
             (or pass --skip-stackone); {}",
            hints::hint(Problem::RedirectUriMissing, command, state)
        )),
        _ => Error::authorization(format!(
            "Constant Contact does not know the API Key {client_id}, or neither redirect URI is registered in its app"
        ))
        .with_hint(format!(
            "check the API Key on the app's page in My Applications, and that its redirect URIs \
             include exactly {STACKONE_REDIRECT_URI} and {local}; {}",
            hints::hint(Problem::ApiKeyUnknown, command, state)
        )),
    }
}

/// The exit-3 error for an `error=` the authorization server sent back
/// before sign-in (docs/contract.md `init` step 3): the cause and its fix.
fn app_refusal_error(refusal: &AuthorizeRefusal, client_id: &str) -> Error {
    let said = refusal.said();
    match refusal.error.as_str() {
        "invalid_scope" => {
            let (named, keep): (Vec<&String>, Vec<&String>) = if refusal.scopes.is_empty() {
                (Vec::new(), Vec::new())
            } else {
                refusal
                    .requested
                    .iter()
                    .partition(|s| refusal.scopes.contains(s))
            };
            let named = if named.is_empty() {
                format!(
                    "one of the requested scopes ({})",
                    refusal.requested.join(" ")
                )
            } else {
                let list: Vec<&str> = named.iter().map(|s| s.as_str()).collect();
                let noun = if list.len() == 1 { "scope" } else { "scopes" };
                format!("the {noun} {}", list.join(", "))
            };
            // `--scopes` is init's: status and doctor show the same fix.
            let untick = if keep.is_empty() {
                "untick it: run `ccsetup init` with --scopes without it".to_string()
            } else {
                let list: Vec<&str> = keep.iter().map(|s| s.as_str()).collect();
                format!("untick it: `ccsetup init --scopes {}`", list.join(","))
            };
            Error::authorization(format!(
                "the Constant Contact app (API Key {client_id}) may not ask for {named} ({said})"
            ))
            .with_hint(format!(
                "{untick}; or allow it for the app in the developer portal's My Applications; then run ccsetup again"
            ))
        }
        "unauthorized_client" => Error::authorization(format!(
            "the Constant Contact app (API Key {client_id}) does not allow the authorization-code flow ({said})"
        ))
        .with_hint(
            "the app's OAuth2 flow must be \"Authorization Code Flow and Implicit Flow\" (a \"PKCE Flow\" or \"Device Flow\" app cannot be used): \
             create a new application with that flow in My Applications and use its API Key and Client Secret",
        ),
        "access_denied" => Error::authorization(format!(
            "Constant Contact refused this app's authorization request before sign-in ({said})"
        ))
        .with_hint(
            "check in My Applications that the app is active and may be used by this account; then run ccsetup again",
        ),
        _ => Error::authorization(format!(
            "Constant Contact refused this app's authorization request before sign-in ({said})"
        ))
        .with_hint(
            "check the app's settings in My Applications (OAuth2 flow \"Authorization Code Flow and Implicit Flow\", the scopes it may ask for); then run ccsetup again",
        ),
    }
}

/// How a check of `status` or `doctor` reads a registration report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckLevel {
    Ok,
    Warning,
    Failing,
}

/// The `app_registration` check of a saved setup, as `status` and `doctor`
/// report it: probes its redirect URI (and StackOne's when it uses
/// StackOne) without signing in.
pub async fn saved_registration_check(
    remote: Remote<'_>,
    settings: &crate::config::ProfileConfig,
) -> (CheckLevel, String, Option<String>) {
    let local = match redirect_target_of(settings) {
        Ok(t) => t.uri().to_string(),
        Err(e) => {
            return (
                CheckLevel::Failing,
                e.message().to_string(),
                e.hint().map(str::to_string),
            );
        }
    };
    let report = probe_registration(
        remote.http,
        &remote.endpoints.cc_authorize,
        &settings.client_id,
        &local,
        &settings.scopes,
    )
    .await;
    let needs = RegistrationNeeds {
        local: true,
        stackone: settings.stackone_profile_name.is_some()
            || settings.stackone_connector_profile_id.is_some(),
        ask_again: false,
        command: hints::Command::Status,
    };
    registration_check(&report, &settings.client_id, needs)
}

/// The `app_registration` check of `status` and `doctor`: the level, what
/// was found, and the fix.
pub fn registration_check(
    report: &RegistrationReport,
    client_id: &str,
    needs: RegistrationNeeds,
) -> (CheckLevel, String, Option<String>) {
    let local = report.local_redirect_uri.as_str();
    match report.verdict() {
        RegistrationVerdict::AllRegistered => (
            CheckLevel::Ok,
            format!("API Key and redirect URIs registered ({local}, StackOne's)"),
            None,
        ),
        RegistrationVerdict::Unreachable(host) => (
            CheckLevel::Warning,
            format!("could not check: no answer from {host}"),
            Some("check the network connection; `ccsetup doctor` checks the endpoints".into()),
        ),
        RegistrationVerdict::Inconclusive(why) => (
            CheckLevel::Warning,
            format!("could not check: {why}"),
            Some("run it again later; `ccsetup doctor` checks the endpoints".into()),
        ),
        RegistrationVerdict::LocalMissing if !needs.local => (
            CheckLevel::Warning,
            format!("{local} is not registered (not needed)"),
            None,
        ),
        RegistrationVerdict::StackOneMissing if !needs.stackone => (
            CheckLevel::Warning,
            format!("StackOne's redirect URI {STACKONE_REDIRECT_URI} is not registered"),
            Some(format!(
                "add {STACKONE_REDIRECT_URI} to the app's redirect URIs before linking accounts"
            )),
        ),
        verdict => {
            let e = registration_error(
                &verdict,
                client_id,
                local,
                needs.command,
                hints::State::SetUp,
            );
            (
                CheckLevel::Failing,
                e.message().to_string(),
                e.hint().map(str::to_string),
            )
        }
    }
}
