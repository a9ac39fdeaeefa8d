//! Test support for running commands in-process: a scripted [`Prompter`],
//! captured output, a browser that approves the stand-in's consent, and a
//! [`Context`] builder. Public so `tests/` can use it too (as cargo's
//! `cargo-test-support`); nothing in the product uses it.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;

use crate::browser::Browser;
use crate::context::Context;
use crate::endpoints::Endpoints;
use crate::error::{Error, Result};
use crate::store::StoreChoice;
use crate::ui::{IoStreams, Prompter};
use crate::workflow::secrets::SecretSources;

/// One scripted answer, in the order the questions come.
#[derive(Debug, Clone)]
pub enum Answer {
    Text(String),
    Secret(String),
    Confirm(bool),
    /// An index into the items.
    Select(usize),
    /// The first item containing this text.
    Choose(&'static str),
    MultiSelect(Vec<usize>),
}

/// Answers questions from a script, and records each question asked. A
/// question of another kind than the next answer, or one beyond the script,
/// fails the command (so a test sees an unexpected question at once).
#[derive(Clone, Default)]
pub struct ScriptedPrompter {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    asked: Arc<Mutex<Vec<String>>>,
}

impl ScriptedPrompter {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        ScriptedPrompter {
            answers: Arc::new(Mutex::new(answers.into_iter().collect())),
            asked: Arc::default(),
        }
    }

    /// The prompts asked so far.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }

    /// Answers not used (a test usually wants none left).
    pub fn unused(&self) -> usize {
        self.answers.lock().unwrap().len()
    }

    fn next(&self, prompt: &str) -> Result<Answer> {
        self.asked.lock().unwrap().push(prompt.to_string());
        self.answers
            .lock()
            .unwrap()
            .pop_front()
            .ok_or_else(|| Error::usage(format!("the script has no answer for \"{prompt}\"")))
    }
}

fn unexpected(prompt: &str, got: &Answer) -> Error {
    Error::usage(format!(
        "the script answers \"{prompt}\" with {got:?}, a different kind of question"
    ))
}

impl Prompter for ScriptedPrompter {
    fn is_interactive(&self) -> bool {
        true
    }

    fn input(
        &mut self,
        prompt: &str,
        _default: Option<&str>,
        validate: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        match self.next(prompt)? {
            Answer::Text(t) => validate(&t).map(|()| t).map_err(Error::usage),
            other => Err(unexpected(prompt, &other)),
        }
    }

    fn password(
        &mut self,
        prompt: &str,
        validate: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<SecretString> {
        match self.next(prompt)? {
            Answer::Secret(t) => validate(&t)
                .map(|()| SecretString::from(t))
                .map_err(Error::usage),
            other => Err(unexpected(prompt, &other)),
        }
    }

    fn confirm(&mut self, prompt: &str, _default: bool) -> Result<bool> {
        match self.next(prompt)? {
            Answer::Confirm(b) => Ok(b),
            other => Err(unexpected(prompt, &other)),
        }
    }

    fn select(&mut self, prompt: &str, items: &[String], _default: usize) -> Result<usize> {
        match self.next(prompt)? {
            Answer::Select(i) if i < items.len() => Ok(i),
            Answer::Choose(text) => items
                .iter()
                .position(|item| item.contains(text))
                .ok_or_else(|| {
                    Error::usage(format!("no item of \"{prompt}\" contains \"{text}\""))
                }),
            other => Err(unexpected(prompt, &other)),
        }
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        _items: &[String],
        _defaults: &[bool],
    ) -> Result<Vec<usize>> {
        match self.next(prompt)? {
            Answer::MultiSelect(v) => Ok(v),
            other => Err(unexpected(prompt, &other)),
        }
    }
}

/// A shared, growable text sink for [`IoStreams::captured`].
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A "browser" that approves the stand-in's consent page and delivers the
/// redirect to the listener over real HTTP; every other URL is ignored.
/// Records what it was asked to open.
#[derive(Clone, Default)]
pub struct ApprovingBrowser {
    opened: Arc<Mutex<Vec<String>>>,
}

impl ApprovingBrowser {
    pub fn opened(&self) -> Vec<String> {
        self.opened.lock().unwrap().clone()
    }
}

impl Browser for ApprovingBrowser {
    fn open(&self, url: &str) -> std::result::Result<(), String> {
        self.opened.lock().unwrap().push(url.to_string());
        if url.contains("/oauth2/default/v1/authorize") {
            let url = url.to_string();
            std::thread::spawn(move || {
                use crate::sandbox::test_browser::{Decision, consent_blocking, deliver_blocking};
                let _ = consent_blocking(&url, Decision::Approve)
                    .and_then(|location| deliver_blocking(&location));
            });
        }
        Ok(())
    }

    fn can_launch(&self) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// What an in-process run printed.
pub struct Output {
    pub stdout: Captured,
    pub stderr: Captured,
}

/// A [`Context`] for an in-process run against `endpoints`, with the file
/// store in `config_dir`, captured output and the given prompter/browser.
pub fn context(
    config_dir: &Path,
    endpoints: Endpoints,
    prompter: Box<dyn Prompter>,
    browser: Box<dyn Browser>,
    secrets: SecretSources,
) -> (Context, Output) {
    let (stdout, stderr) = (Captured::default(), Captured::default());
    let io = IoStreams::captured(Box::new(stdout.clone()), Box::new(stderr.clone()));
    let ctx = Context {
        io,
        prompter,
        browser,
        endpoints,
        profile: "default".into(),
        config_dir: config_dir.to_path_buf(),
        config_dir_given: true,
        store_choice: Some(StoreChoice::File),
        store_choice_given: true,
        non_interactive: false,
        secrets,
        http_client: std::sync::OnceLock::new(),
    };
    (ctx, Output { stdout, stderr })
}
