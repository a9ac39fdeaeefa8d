//! Where a secret input comes from — one rule for every command (docs/contract.md
//! "Storage": flags and env vars given to a command override the store for
//! that call):
//!
//! 1. its `--…-stdin` flag;
//! 2. a value the caller preset (`demo` hands `init` the stand-ins' secrets
//!    this way, without touching the process environment), else its
//!    environment variable;
//! 3. the secret store, for commands that run after `init`;
//! 4. a hidden prompt, when someone can be asked;
//! 5. otherwise the exit-2 error naming the flag and the variable.
//!
//! Never a flag value: it would show in `ps` and in shell history.

use std::collections::HashMap;

use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::ui::{IoStreams, Prompter};

/// How one secret input is asked for and checked.
pub struct SecretInput {
    pub what: &'static str,
    pub stdin_flag: &'static str,
    pub env: &'static str,
    pub prompt: &'static str,
    /// Said before the prompt.
    pub note: Option<&'static str>,
    /// What can be checked locally; a prompt asks again with the reason.
    pub validate: fn(&str) -> std::result::Result<(), String>,
}

impl SecretInput {
    pub const CLIENT_SECRET: SecretInput = SecretInput {
        what: "Client Secret",
        stdin_flag: "--client-secret-stdin",
        env: "CC_CLIENT_SECRET",
        prompt: "Client Secret (hidden)",
        note: Some(
            "Click Generate Client Secret and copy it now: the portal shows it only once.\n\
             Paste it below (typing shows nothing), then press Enter.",
        ),
        validate: crate::constant_contact::validate_client_secret,
    };
    pub const NEW_CLIENT_SECRET: SecretInput = SecretInput {
        what: "new Client Secret",
        stdin_flag: "--client-secret-stdin",
        env: "CC_CLIENT_SECRET",
        prompt: "New Client Secret (hidden)",
        note: Some("Paste the new Client Secret below (typing shows nothing), then press Enter."),
        validate: crate::constant_contact::validate_client_secret,
    };
    pub const STACKONE_API_KEY: SecretInput = SecretInput {
        what: "StackOne API key",
        stdin_flag: "--stackone-api-key-stdin",
        env: "STACKONE_API_KEY",
        prompt: "StackOne API key (hidden)",
        note: Some(
            "ccsetup needs a StackOne API key to create the Connector Profile: create one in the \
             StackOne dashboard under API Keys (it starts with v1.; in `ccsetup demo`, the stand-in \
             dashboard's API Keys page shows the demo's key). Paste it below (typing shows nothing).",
        ),
        validate: crate::stackone::validate_api_key,
    };
}

/// The secrets given to this call from outside the store: presets and the
/// environment (stdin is read on demand, once).
#[derive(Default)]
pub struct SecretSources {
    preset: HashMap<&'static str, SecretString>,
}

impl SecretSources {
    /// Presets `env`'s value for this run (it wins over the variable).
    pub fn preset(&mut self, env: &'static str, value: SecretString) {
        self.preset.insert(env, value);
    }

    pub fn clear_preset(&mut self, env: &'static str) {
        self.preset.remove(env);
    }

    /// The value given by preset or environment, with its source's name.
    pub fn given(&self, env: &'static str) -> Option<(SecretString, &'static str)> {
        if let Some(v) = self.preset.get(env) {
            return Some((v.clone(), env));
        }
        // Read once at start-up and removed from the environment, so no
        // child process (a browser) inherits it.
        crate::secret_env::get(env)
            .filter(|v| !v.expose_secret().trim().is_empty())
            .map(|v| {
                (
                    SecretString::from(v.expose_secret().trim().to_string()),
                    env,
                )
            })
    }

    /// Whether `input` is given by stdin, preset or environment.
    pub fn is_given(&self, input: &SecretInput, from_stdin: bool) -> bool {
        from_stdin || self.given(input.env).is_some()
    }

    /// Steps 1–2 of the rule: `Ok(None)` when neither stdin nor a preset or
    /// the environment gives it. A value that fails the checks is an exit-2
    /// error naming where it came from.
    pub fn read_given(
        &self,
        input: &SecretInput,
        from_stdin: bool,
        check: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<Option<SecretString>> {
        let given = if from_stdin {
            Some((
                crate::ui::read_secret_from_stdin(input.what, input.stdin_flag)?,
                input.stdin_flag,
            ))
        } else {
            self.given(input.env)
        };
        let Some((value, source)) = given else {
            return Ok(None);
        };
        (input.validate)(value.expose_secret())
            .and_then(|()| check(value.expose_secret()))
            .map_err(|why| {
                Error::usage(format!("invalid {} (from {source}): {why}", input.what))
            })?;
        Ok(Some(value))
    }

    /// The whole rule. `stored` is step 3 (`None` for inputs the store
    /// cannot answer, e.g. a secret that must be new); `check` adds a check
    /// on top of the input's own.
    pub fn resolve(
        &self,
        io: &mut IoStreams,
        prompter: &mut dyn Prompter,
        input: &SecretInput,
        from_stdin: bool,
        stored: Option<SecretString>,
        check: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<SecretString> {
        if let Some(v) = self.read_given(input, from_stdin, check)? {
            return Ok(v);
        }
        if let Some(v) = stored {
            return Ok(v);
        }
        if let Some(v) = prompt_for(io, prompter, input, check)? {
            return Ok(v);
        }
        Err(missing_input(
            prompter,
            input.what,
            input.stdin_flag,
            Some(input.env),
        ))
    }
}

/// Asks for `input` with a hidden prompt; `Ok(None)` when nobody can be asked.
pub fn prompt_for(
    io: &mut IoStreams,
    prompter: &mut dyn Prompter,
    input: &SecretInput,
    check: &dyn Fn(&str) -> std::result::Result<(), String>,
) -> Result<Option<SecretString>> {
    if !prompter.is_interactive() {
        return Ok(None);
    }
    if let Some(note) = input.note {
        io.info(note);
    }
    let validate = |s: &str| (input.validate)(s).and_then(|()| check(s));
    prompter.password(input.prompt, &validate).map(Some)
}

/// Asks for `input` again with a hidden prompt, whatever flags or the
/// environment gave (the value given was refused); exit 2 when nobody can
/// be asked.
pub fn ask_again(
    io: &mut IoStreams,
    prompter: &mut dyn Prompter,
    input: &SecretInput,
) -> Result<SecretString> {
    prompt_for(io, prompter, input, &no_check)?
        .ok_or_else(|| missing_input(prompter, input.what, input.stdin_flag, Some(input.env)))
}

/// No check beyond the input's own.
pub fn no_check(_: &str) -> std::result::Result<(), String> {
    Ok(())
}

/// The exit-2 error for an input nobody gave, saying why no prompt asked
/// for it (e.g. stdin is not a terminal).
pub fn missing_input(prompter: &dyn Prompter, what: &str, flag: &str, env: Option<&str>) -> Error {
    let err = Error::missing_input(what, flag, env);
    match prompter.why_not_interactive() {
        Some(why) => err.with_hint(format!(
            "ccsetup did not ask because {why}; pass every input by flag or environment variable \
             (see `ccsetup init --help`){}",
            if why.contains("terminal") {
                ", or run it in a terminal"
            } else {
                ""
            }
        )),
        None => err,
    }
}
