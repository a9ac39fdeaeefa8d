//! The checks `init` makes before it sends anyone to a browser (a failure
//! found after consent would waste it): the StackOne API key and the app's
//! registration, probed at once, then the Client Secret. None spends a
//! token. Refused answers typed at a prompt are asked again.

use secrecy::SecretString;

use super::secrets::{SecretInput, SecretSources, ask_again, no_check};
use super::{Remote, Terminal};
use crate::constant_contact::probe::{
    RegistrationReport, SecretProbe, probe_client_secret, probe_registration,
};
use crate::error::{Error, ErrorKind, Result};
use crate::hints::{self, Problem};

/// The application being checked.
#[derive(Clone, Copy)]
pub struct AppUnderTest<'a> {
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scopes: &'a [String],
}

/// The first answers of the checks before the browser, fetched at once.
pub struct FirstAnswers {
    /// `None`: no StackOne key to check (`--skip-stackone`).
    pub stackone_key: Option<Result<()>>,
    /// `None`: not probed (a dry run sends nothing to Constant Contact).
    pub registration: Option<RegistrationReport>,
}

/// Probes the StackOne key and the app's registration (both redirect URIs)
/// concurrently. The Client Secret check waits for the registration's
/// answer: no token request goes out for an unknown API Key or an
/// unregistered redirect URI, and a wrong API Key is reported once.
pub async fn first_answers(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    app: AppUnderTest<'_>,
    stackone_key: Option<&SecretString>,
    dry_run: bool,
) -> FirstAnswers {
    let _spinner = match (stackone_key, dry_run) {
        (_, true) => None,
        (Some(_), false) => Some(term.io.spinner(
            "Checking the StackOne API key and the app's registration at Constant Contact",
        )),
        (None, false) => Some(
            term.io
                .spinner("Checking the app's registration at Constant Contact"),
        ),
    };
    let key_answer = async {
        match stackone_key {
            Some(key) => Some(super::stackone::check_api_key(remote, key).await),
            None => None,
        }
    };
    let registration = async {
        if dry_run {
            return None;
        }
        Some(
            probe_registration(
                remote.http,
                &remote.endpoints.cc_authorize,
                app.client_id,
                app.redirect_uri,
                app.scopes,
            )
            .await,
        )
    };
    let (stackone_key, registration) = tokio::join!(key_answer, registration);
    FirstAnswers {
        stackone_key,
        registration,
    }
}

/// the contract's secret check that spends nothing: a token request with an
/// invalid code. A refused secret is asked again when it was typed at the
/// prompt (`secret` is then replaced), else exit 3; an answer that proves
/// nothing is a warning.
pub async fn check_client_secret(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    sources: &SecretSources,
    app: AppUnderTest<'_>,
    secret: &mut SecretString,
    from_stdin: bool,
    command: hints::Command,
) -> Result<()> {
    loop {
        let probe = probe_client_secret(
            remote.http,
            &remote.endpoints.cc_token,
            app.client_id,
            secret,
            app.redirect_uri,
        )
        .await;
        match probe {
            SecretProbe::Accepted => {
                term.io
                    .success("Constant Contact accepts this API Key and Client Secret.");
                return Ok(());
            }
            SecretProbe::Unknown(why) => {
                term.io.warn(format!(
                    "could not check the Client Secret ({why}); going on"
                ));
                return Ok(());
            }
            SecretProbe::Refused => {}
        }
        let message = format!(
            "Constant Contact refused the Client Secret for API Key {} (invalid_client)",
            app.client_id
        );
        let typed_here = !sources.is_given(&SecretInput::CLIENT_SECRET, from_stdin);
        if !typed_here || !term.prompter.is_interactive() {
            return Err(Error::authorization(message).with_hint(hints::hint(
                Problem::InvalidClient,
                command,
                hints::State::SetUp,
            )));
        }
        let failure = Error::authorization(message);
        term.io.warn(failure.message());
        term.io.info(format!(
            "Fix: {}",
            hints::hint(Problem::InvalidClient, command, hints::State::AtPrompt)
        ));
        *secret = ask_again(term.io, term.prompter, &SecretInput::CLIENT_SECRET)?;
    }
}

/// Proves the StackOne API key with one read-only call before consent (and
/// in a dry run: it changes nothing): a wrong key found at step 6 would
/// waste the authorization. `first` is an answer already fetched. A refused
/// key typed at the prompt is asked again; a given one (stdin, environment)
/// is exit 2, as every refused StackOne key is. Returns the key.
pub async fn check_stackone_key(
    term: &mut Terminal<'_>,
    remote: Remote<'_>,
    sources: &SecretSources,
    key: Option<SecretString>,
    from_stdin: bool,
    mut first: Option<Result<()>>,
) -> Result<Option<SecretString>> {
    let Some(mut key) = key else {
        return Ok(None); // --skip-stackone
    };
    let input = &SecretInput::STACKONE_API_KEY;
    loop {
        let answer = match first.take() {
            Some(answer) => answer,
            None => super::stackone::check_api_key(remote, &key).await,
        };
        match answer {
            Ok(()) => {
                term.io.success("StackOne accepts the API key.");
                return Ok(Some(key));
            }
            Err(e)
                if e.kind() == ErrorKind::Usage
                    && term.prompter.is_interactive()
                    && !sources.is_given(input, from_stdin) =>
            {
                term.io.warn(e.message());
                key =
                    sources.resolve(term.io, term.prompter, input, from_stdin, None, &no_check)?;
            }
            Err(e) if e.kind() == ErrorKind::Usage => return Err(e),
            // StackOne unreachable or failing: not the key's fault; step 6
            // tries again (as the registration check, this only warns).
            Err(e) => {
                term.io.warn(format!(
                    "could not check the StackOne API key now ({}); going on",
                    e.message()
                ));
                return Ok(Some(key));
            }
        }
    }
}
