//! Terminal IO: the output streams, the prompter seam and progress spinners.
//!
//! Commands never touch `std::io::stdout()` directly: they write through
//! [`IoStreams`], which knows whether output is a terminal, whether `--json`
//! moved human text to stderr, and whether colour is allowed. Prompts go
//! through the [`Prompter`] trait so non-interactive mode is one explicit
//! implementation, not a scattering of `if`s.

use std::io::{self, IsTerminal, Read, Write};
use std::time::Duration;

use secrecy::SecretString;

use crate::error::{Error, Result};

/// Where a command's text goes, and what kind of terminal it goes to.
pub struct IoStreams {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    pub stdin_is_tty: bool,
    pub stderr_is_tty: bool,
    /// `--json`: stdout carries exactly one JSON object.
    pub json: bool,
    /// `-q`: only errors and results.
    pub quiet: bool,
    /// Colour and spinners allowed (a TTY, no `NO_COLOR`, no `--json`).
    pub color: bool,
    /// The terminal's width when stderr is one: our text is wrapped to it.
    pub width: Option<usize>,
    /// A JSON object already went to stdout (an error then adds none).
    json_printed: bool,
    /// Stdout is a terminal: text printed there is wrapped too.
    stdout_is_tty: bool,
    /// The spinner on screen, if any: cleared before any other line and
    /// drawn again after it, so they never share a line.
    live_spinner: Option<indicatif::ProgressBar>,
}

impl IoStreams {
    /// The process's real streams.
    pub fn system() -> Self {
        let stderr_is_tty = io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let mut streams = IoStreams {
            out: Box::new(io::stdout()),
            err: Box::new(io::stderr()),
            stdin_is_tty: io::stdin().is_terminal(),
            stderr_is_tty,
            json: false,
            quiet: false,
            color: true,
            width: stderr_is_tty
                .then(|| console::Term::stderr().size_checked())
                .flatten()
                .map(|(_rows, cols)| usize::from(cols))
                .filter(|&cols| cols >= 20),
            json_printed: false,
            stdout_is_tty: io::stdout().is_terminal(),
            live_spinner: None,
        };
        if !stderr_is_tty || no_color {
            streams.disable_color();
        }
        streams
    }

    /// No colour and no spinner from here on — in our own text and in the
    /// prompts' theme too (dialoguer styles through `console`).
    pub fn disable_color(&mut self) {
        self.color = false;
        console::set_colors_enabled(false);
        console::set_colors_enabled_stderr(false);
    }

    /// Streams writing into the given sinks, as if nothing were a terminal.
    pub fn captured(out: Box<dyn Write + Send>, err: Box<dyn Write + Send>) -> Self {
        IoStreams {
            out,
            err,
            stdin_is_tty: false,
            stderr_is_tty: false,
            json: false,
            quiet: false,
            color: false,
            width: None,
            json_printed: false,
            stdout_is_tty: false,
            live_spinner: None,
        }
    }

    /// `text` wrapped to the terminal's width at word boundaries: each line
    /// longer than the terminal is wrapped on its own, continuing at its
    /// indentation; words longer than a line (URLs) are never split.
    pub fn wrap(&self, text: &str) -> String {
        match self.width {
            Some(width) => wrap_to(text, width),
            None => text.to_string(),
        }
    }

    /// Writes one (already wrapped) line to stderr, with a live spinner
    /// cleared first and drawn again after.
    fn err_line(&mut self, text: &str) {
        let IoStreams {
            err, live_spinner, ..
        } = self;
        match live_spinner.as_ref().filter(|bar| !bar.is_finished()) {
            Some(bar) => bar.suspend(|| {
                let _ = writeln!(err, "{text}");
            }),
            None => {
                let _ = writeln!(err, "{text}");
            }
        }
    }

    /// Text the user needs even under `-q` (a URL to open, what to paste):
    /// stderr, wrapped, never sharing a line with a spinner.
    pub fn always(&mut self, msg: impl AsRef<str>) {
        let text = self.wrap(msg.as_ref());
        self.err_line(&text);
    }

    /// Human-readable progress text: stderr, suppressed by `-q`.
    pub fn info(&mut self, msg: impl AsRef<str>) {
        if !self.quiet {
            let text = self.wrap(msg.as_ref());
            self.err_line(&text);
        }
    }

    /// A notice about how this run is set up: always shown on stderr (also
    /// under `-q` and `--json`), wrapped to the terminal like every line.
    pub fn notice(&mut self, msg: impl AsRef<str>) {
        let text = self.wrap(msg.as_ref());
        self.err_line(&text);
    }

    /// A warning: always shown on stderr.
    pub fn warn(&mut self, msg: impl AsRef<str>) {
        let prefix = if self.color {
            console::style("warning:").yellow().bold().to_string()
        } else {
            "warning:".to_string()
        };
        let text = self.wrap(&format!("{prefix} {}", msg.as_ref()));
        self.err_line(&text);
    }

    /// A completed step or check.
    pub fn success(&mut self, msg: impl AsRef<str>) {
        if !self.quiet {
            let mark = if self.color {
                console::style("✓").green().to_string()
            } else {
                "✓".to_string()
            };
            let text = self.wrap(&format!("{mark} {}", msg.as_ref()));
            self.err_line(&text);
        }
    }

    /// "Step k/n: title" header of the wizard.
    pub fn step(&mut self, k: usize, n: usize, title: &str) {
        if !self.quiet {
            let head = format!("Step {k}/{n}: {title}");
            let head = if self.color {
                console::style(head).bold().to_string()
            } else {
                head
            };
            self.err_line(&format!("\n{head}"));
        }
    }

    /// The error report on stderr; with `--json` also the error object on
    /// stdout, so a script reading stdout learns what failed.
    pub fn error(&mut self, err: &Error, verbose: bool) {
        // Remote text in errors was redacted as it was read; this catches a
        // secret echoed anywhere else (a cause's text), since no error ever
        // needs to show one (crate::text).
        let text = self.wrap(&crate::text::redact_known(&err.render(verbose)));
        self.err_line(&text);
        // A command that printed its result object and then fails (`status`
        // found a failing part) keeps stdout at one object.
        if self.json && !self.json_printed {
            let text = serde_json::to_string(&err.to_json()).unwrap_or_default();
            self.json_printed = true;
            let _ = self.print_raw_stdout(crate::text::escape_json_invisible(
                &crate::text::redact_known(&text),
            ));
        }
    }

    /// Primary output for humans: stdout normally, stderr under `--json`
    /// (stdout then belongs to the JSON object alone).
    pub fn println(&mut self, msg: impl AsRef<str>) {
        if self.json {
            let text = self.wrap(msg.as_ref());
            self.err_line(&text);
        } else if self.stdout_is_tty {
            let text = self.wrap(msg.as_ref());
            let _ = writeln!(self.out, "{text}");
        } else {
            let _ = writeln!(self.out, "{}", msg.as_ref());
        }
    }

    /// Machine output that bypasses `--json` redirection (e.g. `token` prints
    /// the bare token on stdout).
    pub fn print_raw_stdout(&mut self, msg: impl AsRef<str>) -> Result<()> {
        writeln!(self.out, "{}", msg.as_ref())
            .and_then(|_| self.out.flush())
            .map_err(|e| Error::failure("could not write to stdout").with_source(e))
    }

    /// The `--json` result: one object, one line, on stdout.
    pub fn print_json(&mut self, value: &serde_json::Value) -> Result<()> {
        let text = serde_json::to_string(value)
            .map_err(|e| Error::failure("could not encode the JSON result").with_source(e))?;
        self.json_printed = true;
        self.print_raw_stdout(crate::text::escape_json_invisible(&text))
    }

    /// Replaces the stdout sink, returning the previous one (`demo --serve`
    /// keeps stdout for its `export` lines and sends `init`'s text aside).
    pub fn replace_stdout(&mut self, out: Box<dyn Write + Send>) -> Box<dyn Write + Send> {
        let _ = self.out.flush();
        std::mem::replace(&mut self.out, out)
    }

    pub fn stderr(&mut self) -> &mut (dyn Write + Send) {
        &mut *self.err
    }

    /// Swaps the writer of stderr; returns the one it replaces.
    pub fn replace_stderr(&mut self, err: Box<dyn Write + Send>) -> Box<dyn Write + Send> {
        let _ = self.err.flush();
        std::mem::replace(&mut self.err, err)
    }

    /// A spinner on stderr while waiting; hidden when not a TTY, with `--json`
    /// or `-q`, so logs and pipes get no control characters.
    pub fn spinner(&mut self, msg: impl Into<String>) -> Spinner {
        let msg = msg.into();
        // A background job's spinner would draw over the user's shell (or,
        // under `stty tostop`, stop the job).
        if self.color && !self.json && !self.quiet && terminal_is_ours(2) {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_message(msg);
            bar.enable_steady_tick(Duration::from_millis(100));
            self.live_spinner = Some(bar.clone());
            Spinner { bar: Some(bar) }
        } else {
            self.info(format!("{msg}…"));
            Spinner { bar: None }
        }
    }
}

/// `text` wrapped to `width` columns at spaces only: each line longer than
/// that is wrapped on its own, continuing at its indentation (past a list
/// marker, "7. " or "- "); a word longer than a line (a URL, a path) is
/// never split, nor a word at its hyphens.
pub fn wrap_to(text: &str, width: usize) -> String {
    text.split('\n')
        .map(|line| {
            if textwrap::core::display_width(line) <= width {
                return line.to_string();
            }
            let spaces = line.chars().take_while(|c| *c == ' ').count();
            let rest = &line[spaces..];
            let marker = rest
                .split_once(' ')
                .filter(|(m, _)| {
                    *m == "-" || (m.ends_with('.') && m[..m.len() - 1].parse::<u32>().is_ok())
                })
                .map_or(0, |(m, _)| m.len() + 1);
            let indent = " ".repeat(spaces + marker);
            let options = textwrap::Options::new(width)
                .subsequent_indent(&indent)
                .break_words(false)
                .word_separator(textwrap::WordSeparator::AsciiSpace)
                .word_splitter(textwrap::WordSplitter::NoHyphenation);
            textwrap::wrap(line, options).join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Stderr's width when it is a terminal (asked each time: it can change).
fn terminal_width() -> Option<usize> {
    io::stderr()
        .is_terminal()
        .then(|| console::Term::stderr().size_checked())
        .flatten()
        .map(|(_rows, cols)| usize::from(cols))
        .filter(|&cols| cols >= 20)
}

/// A prompt that fits on one terminal line with `room` columns to spare
/// (the theme's marks, the default, the answer): a prompt redrawn on each
/// key press must be one line, or its first line is left behind and the
/// question shows twice. A longer one is wrapped; all but its last line
/// are printed once above, the last line is returned as the prompt.
fn fit_prompt(prompt: &str, room: usize) -> String {
    let Some(width) = terminal_width() else {
        return prompt.to_string();
    };
    let available = width.saturating_sub(room).max(10);
    if textwrap::core::display_width(prompt) <= available {
        return prompt.to_string();
    }
    let wrapped = wrap_to(prompt, available);
    let (head, last) = wrapped.rsplit_once('\n').unwrap_or(("", &wrapped));
    if !head.is_empty() {
        let _ = console::Term::stderr().write_line(head);
    }
    last.to_string()
}

/// A refusal shown under a prompt ("✘ reason"), wrapped by us: the prompt
/// clears as many lines as the text has, so a line the terminal wrapped
/// would be left behind or another one erased.
fn fit_refusal(reason: String) -> String {
    match terminal_width() {
        Some(width) => {
            let options = textwrap::Options::new(width.saturating_sub(2).max(10))
                .subsequent_indent("  ")
                .break_words(false)
                .word_separator(textwrap::WordSeparator::AsciiSpace)
                .word_splitter(textwrap::WordSplitter::NoHyphenation);
            textwrap::wrap(&reason, options).join("\n")
        }
        None => reason,
    }
}

/// Room a prompt line needs besides its text: "? ", " [y/n] › " and the
/// answer "· yes" that replaces them.
const PROMPT_ROOM: usize = 12;

/// A running spinner; dropping it clears the line.
pub struct Spinner {
    bar: Option<indicatif::ProgressBar>,
}

impl Spinner {
    pub fn set_message(&self, msg: impl Into<String>) {
        if let Some(bar) = &self.bar {
            bar.set_message(msg.into());
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// The most a secret read from stdin may be: client secrets and API keys
/// are well under 1 KiB; `yes | ccsetup …` must not grow without bound.
pub const MAX_STDIN_SECRET_BYTES: usize = 4096;

/// Reads a secret piped on stdin (`--client-secret-stdin`): the whole input
/// (at most [`MAX_STDIN_SECRET_BYTES`]), surrounding whitespace trimmed
/// ([`tidy_secret`]). Empty or too long is a usage error.
pub fn read_secret_from_stdin(what: &str, flag: &str) -> Result<SecretString> {
    read_secret_from(&mut io::stdin().lock(), what, flag)
}

/// [`read_secret_from_stdin`] from any reader. One buffer, sized once and
/// wiped on every path, holds the bytes.
pub fn read_secret_from(input: &mut dyn Read, what: &str, flag: &str) -> Result<SecretString> {
    let mut buf = zeroize::Zeroizing::new(vec![0u8; MAX_STDIN_SECRET_BYTES + 1]);
    let mut len = 0;
    while len < buf.len() {
        match input.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(
                    Error::usage(format!("could not read {what} from stdin ({flag})"))
                        .with_source(e),
                );
            }
        }
    }
    if len > MAX_STDIN_SECRET_BYTES {
        return Err(Error::usage(format!(
            "{flag}: stdin is longer than {MAX_STDIN_SECRET_BYTES} bytes, which no {what} is"
        ))
        .with_hint(format!(
            "pipe only the {what} (e.g. `printf %s \"$SECRET\" | ccsetup … {flag}`)"
        )));
    }
    let text = std::str::from_utf8(&buf[..len])
        .map_err(|_| Error::usage(format!("{flag}: the {what} on stdin is not UTF-8 text")))?;
    let value = tidy_secret(text)
        .map_err(|why| Error::usage(format!("invalid {what} (from {flag}): {why}")))?;
    if value.is_empty() {
        return Err(Error::usage(format!(
            "{flag} was given but stdin was empty"
        )));
    }
    Ok(SecretString::from(value.to_string()))
}

/// The one rule for the edges of a pasted or piped secret: surrounding
/// whitespace (a trailing newline, spaces copied along) is trimmed; a
/// byte order mark or an invisible format character, which a copy from a
/// document or an editor can add and which would make the secret silently
/// wrong, is refused with the reason.
pub fn tidy_secret(text: &str) -> std::result::Result<&str, String> {
    if text.contains('\u{feff}') {
        return Err(
            "it starts with (or holds) a byte order mark (U+FEFF), which an editor or \
                    a Windows tool added; copy the value again without it (e.g. from the portal)"
                .into(),
        );
    }
    if let Some(c) = text
        .chars()
        .find(|&c| matches!(c, '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{202a}'..='\u{202e}'))
    {
        return Err(format!(
            "it holds an invisible character (U+{:04X}); copy the value again",
            c as u32
        ));
    }
    Ok(text.trim())
}

/// Asking the user. `DialoguerPrompter` talks to a terminal; `NoPrompter`
/// turns every question into the documented exit-2 error.
pub trait Prompter: Send {
    /// Whether questions can be asked at all.
    fn is_interactive(&self) -> bool;

    /// A line of text, validated as it is typed: a rejected answer is asked
    /// again with the reason.
    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String>;

    /// A hidden answer, validated like [`Prompter::input`]: a rejected
    /// answer is asked again with the reason (never echoed back).
    fn password(
        &mut self,
        prompt: &str,
        validate: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<SecretString>;

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool>;

    /// One of `items`; returns its index.
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize>;

    /// Any of `items`; returns the chosen indices.
    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Result<Vec<usize>>;

    /// Why no question can be asked (`None` when one can): error messages
    /// about a missing input say it.
    fn why_not_interactive(&self) -> Option<&str> {
        None
    }
}

/// Maps dialoguer failures: Ctrl-C surfaces as SIGINT (handled globally), a
/// closed terminal as a usage error rather than a panic.
fn prompt_error(e: dialoguer::Error) -> Error {
    let dialoguer::Error::IO(io) = e;
    if io.kind() == io::ErrorKind::Interrupted {
        // Prompts come before anything is written, or between complete
        // writes: what the Ctrl-C handler says holds here too.
        Error::interrupted().with_hint(crate::interrupt::rerun_note())
    } else {
        Error::usage("could not read an answer from the terminal")
            .with_hint(
                "run with --non-interactive and pass every input by flag or environment variable",
            )
            .with_source(io)
    }
}

/// Prompts on the controlling terminal (stderr), with dialoguer.
pub struct DialoguerPrompter {
    theme: dialoguer::theme::ColorfulTheme,
}

impl DialoguerPrompter {
    pub fn new() -> Self {
        DialoguerPrompter {
            theme: dialoguer::theme::ColorfulTheme::default(),
        }
    }
}

impl Default for DialoguerPrompter {
    fn default() -> Self {
        Self::new()
    }
}

impl Prompter for DialoguerPrompter {
    fn is_interactive(&self) -> bool {
        true
    }

    fn input(
        &mut self,
        prompt: &str,
        default: Option<&str>,
        validate: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        // Empty answers reach the validator, which says why they are
        // refused (dialoguer would otherwise re-ask without a word).
        // "? " and " › ", then the default in parentheses; typed text may wrap.
        let room = 6 + default.map_or(0, |d| d.chars().count() + 3);
        let mut input = dialoguer::Input::<String>::with_theme(&self.theme)
            .with_prompt(fit_prompt(prompt, room))
            .allow_empty(true)
            .validate_with(|s: &String| validate(s.trim()).map_err(fit_refusal));
        if let Some(d) = default {
            input = input.default(d.to_string());
        }
        input
            .interact_text()
            .map(|s| s.trim().to_string())
            .map_err(prompt_error)
    }

    fn password(
        &mut self,
        prompt: &str,
        validate: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<SecretString> {
        // Empty answers reach the validator, which says why they are refused
        // (dialoguer would re-ask without a word).
        dialoguer::Password::with_theme(&self.theme)
            .with_prompt(fit_prompt(prompt, PROMPT_ROOM))
            .allow_empty_password(true)
            .validate_with(|s: &String| {
                if s.trim().is_empty() {
                    Err(fit_refusal(
                        "this cannot be empty (typing shows nothing; paste, then press Enter)"
                            .to_string(),
                    ))
                } else {
                    validate(s.trim()).map_err(fit_refusal)
                }
            })
            .interact()
            .map(|s| SecretString::from(s.trim().to_string()))
            .map_err(prompt_error)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        // Waits for Enter: people type `y` then Enter, and a one-key prompt
        // would hand that Enter to the next question's default.
        dialoguer::Confirm::with_theme(&self.theme)
            .with_prompt(fit_prompt(prompt, PROMPT_ROOM))
            .default(default)
            .wait_for_newline(true)
            .interact()
            .map_err(prompt_error)
    }

    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
        dialoguer::Select::with_theme(&self.theme)
            .with_prompt(fit_prompt(prompt, PROMPT_ROOM))
            .items(items)
            .default(default)
            .interact()
            .map_err(prompt_error)
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Result<Vec<usize>> {
        dialoguer::MultiSelect::with_theme(&FocusMarked(&self.theme))
            .with_prompt(fit_prompt(prompt, PROMPT_ROOM))
            .items(items)
            .defaults(defaults)
            .interact()
            .map_err(prompt_error)
    }
}

/// The colourful theme with the focused row of a list marked by `>`: its
/// own theme shows focus by colour alone, which `NO_COLOR` takes away.
struct FocusMarked<'a>(&'a dialoguer::theme::ColorfulTheme);

impl dialoguer::theme::Theme for FocusMarked<'_> {
    fn format_multi_select_prompt(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
    ) -> std::fmt::Result {
        self.0.format_multi_select_prompt(f, prompt)
    }

    fn format_multi_select_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        selections: &[&str],
    ) -> std::fmt::Result {
        // The answer line lists every ticked item: wrapped here, at spaces,
        // or the terminal would split a scope's name.
        let mut line = String::new();
        self.0
            .format_multi_select_prompt_selection(&mut line, prompt, selections)?;
        match terminal_width() {
            Some(width) => f.write_str(&wrap_to(&line, width)),
            None => f.write_str(&line),
        }
    }

    fn format_multi_select_prompt_item(
        &self,
        f: &mut dyn std::fmt::Write,
        text: &str,
        checked: bool,
        active: bool,
    ) -> std::fmt::Result {
        f.write_str(if active { "> " } else { "  " })?;
        self.0
            .format_multi_select_prompt_item(f, text, checked, active)
    }
}

/// The prompter of `--non-interactive` runs and of runs without a terminal:
/// it never blocks. Callers resolve inputs from flags and env first and only
/// ask when something is missing, so reaching it is a usage error.
pub struct NoPrompter {
    /// Why no question can be asked, for the error message.
    pub reason: &'static str,
}

impl NoPrompter {
    fn refuse(&self, prompt: &str) -> Error {
        Error::usage(format!("cannot ask \"{prompt}\": {}", self.reason))
            .with_hint("pass the value by flag or environment variable (see --help)")
    }
}

impl Prompter for NoPrompter {
    fn is_interactive(&self) -> bool {
        false
    }
    fn input(
        &mut self,
        prompt: &str,
        _default: Option<&str>,
        _validate: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<String> {
        Err(self.refuse(prompt))
    }
    fn password(
        &mut self,
        prompt: &str,
        _validate: &dyn Fn(&str) -> std::result::Result<(), String>,
    ) -> Result<SecretString> {
        Err(self.refuse(prompt))
    }
    fn confirm(&mut self, prompt: &str, _default: bool) -> Result<bool> {
        Err(self.refuse(prompt))
    }
    fn select(&mut self, prompt: &str, _items: &[String], _default: usize) -> Result<usize> {
        Err(self.refuse(prompt))
    }
    fn multi_select(
        &mut self,
        prompt: &str,
        _items: &[String],
        _defaults: &[bool],
    ) -> Result<Vec<usize>> {
        Err(self.refuse(prompt))
    }
    fn why_not_interactive(&self) -> Option<&str> {
        Some(self.reason)
    }
}

// ---- Putting the terminal back after Ctrl-C ----

/// Stdin's terminal settings as the program found them.
#[cfg(unix)]
static TERMINAL_AT_START: std::sync::OnceLock<libc::termios> = std::sync::OnceLock::new();

/// Remembers stdin's terminal settings (echo, line mode) so an interrupt
/// can put them back. A no-op when stdin is not a terminal.
pub fn remember_terminal_state() {
    #[cfg(unix)]
    {
        let mut termios = std::mem::MaybeUninit::<libc::termios>::uninit();
        // SAFETY: tcgetattr only reads fd 0 and fills `termios` when it
        // returns 0; the value is used only then.
        if unsafe { libc::tcgetattr(0, termios.as_mut_ptr()) } == 0 {
            let _ = TERMINAL_AT_START.set(unsafe { termios.assume_init() });
        }
    }
}

/// Restores what a prompt may have changed when Ctrl-C cut it short: a
/// hidden prompt turns echo off (and the process exits before dialoguer
/// turns it on again), a menu hides the cursor.
/// Never from a background job: changing a terminal's settings (or writing
/// to it under `stty tostop`) would stop the process with SIGTTOU.
pub fn restore_terminal() {
    #[cfg(unix)]
    if let Some(termios) = TERMINAL_AT_START.get()
        && terminal_is_ours(0)
    {
        // SAFETY: a termios obtained from tcgetattr on the same fd.
        unsafe {
            libc::tcsetattr(0, libc::TCSANOW, termios);
        }
    }
    // Only to a terminal: logs and pipes get no control characters.
    if io::stderr().is_terminal() && terminal_is_ours(2) {
        let _ = console::Term::stderr().show_cursor();
    }
}

/// Stderr for a process that may be a background job (`demo --serve &`):
/// while its terminal belongs to another process group, what it writes is
/// dropped, so it neither draws over the user's shell nor, under `stty
/// tostop`, gets stopped for writing. In the foreground it is stderr.
pub struct StderrInForegroundOnly;

impl Write for StderrInForegroundOnly {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if terminal_is_ours(2) {
            io::stderr().write(buf)
        } else {
            Ok(buf.len())
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if terminal_is_ours(2) {
            io::stderr().flush()
        } else {
            Ok(())
        }
    }
}

/// Drops what was typed on stdin's terminal but not yet read, so keys meant
/// for a wait that ended on its own do not answer the next question. A
/// no-op when stdin is not a terminal this process may use.
pub fn discard_typeahead() {
    #[cfg(unix)]
    if io::stdin().is_terminal() && terminal_is_ours(0) {
        // SAFETY: tcflush on fd 0 only discards its pending input.
        unsafe {
            libc::tcflush(0, libc::TCIFLUSH);
        }
    }
}

/// Whether this process may use file descriptor `fd` without being stopped
/// for it: it is not a terminal (a pipe, a file), or it is the terminal
/// whose foreground process group is this process's. False for a
/// background job (`ccsetup … &`) and for a terminal that hung up.
pub fn terminal_is_ours(fd: i32) -> bool {
    #[cfg(unix)]
    {
        // SAFETY: isatty, tcgetpgrp and getpgrp only read process and fd state.
        unsafe { libc::isatty(fd) == 0 || libc::tcgetpgrp(fd) == libc::getpgrp() }
    }
    #[cfg(not(unix))]
    {
        let _ = fd;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line fits, or is one word alone (a URL, a path), whole.
    fn assert_fits(text: &str, width: usize) {
        for line in text.lines() {
            assert!(
                textwrap::core::display_width(line) <= width || !line.trim().contains(' '),
                "{line:?} is wider than {width}:\n{text}"
            );
        }
    }

    #[test]
    fn wrapping_keeps_paths_and_urls_whole() {
        let path = "/tmp/ccsetup-demo-x1y2z3/secrets";
        let text =
            format!("warning: secrets go to a 0600 file under {path} instead of the keyring");
        let wrapped = wrap_to(&text, 40);
        assert_fits(&wrapped, 40);
        assert!(wrapped.lines().any(|l| l.contains(path)), "{wrapped}");
        let url = "https://api.stackone.com/connect/oauth2/constantcontact/callback";
        let wrapped = wrap_to(&format!("add exactly {url} to the redirect URIs"), 30);
        assert!(wrapped.lines().any(|l| l.trim() == url), "{wrapped}");
    }

    #[test]
    fn an_error_and_its_hint_are_wrapped_with_nothing_lost() {
        let err = Error::authorization(
            "Constant Contact does not know the API Key not-an-app, or neither redirect URI is registered in its app",
        )
        .with_hint("check the API Key on the app's page in My Applications, and that its redirect URIs include exactly https://api.stackone.com/connect/oauth2/constantcontact/callback and http://localhost:8917/callback");
        let (out, err_sink) = (SharedSink::default(), SharedSink::default());
        let mut io = IoStreams::captured(Box::new(out), Box::new(err_sink.clone()));
        io.width = Some(80);
        io.error(&err, false);
        let text = err_sink.text();
        assert_fits(&text, 80);
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(&text), words(&err.render(false)), "{text}");
    }

    /// A cloneable in-memory writer.
    #[derive(Clone, Default)]
    struct SharedSink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl SharedSink {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    impl Write for SharedSink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}
