//! Paste mode: when no browser can be launched here (`--no-browser`, SSH,
//! containers), the user opens the URL elsewhere and pastes the address the
//! browser was redirected to. The flow races that paste against the
//! loopback listener; the first valid answer wins.
//!
//! # Reading the terminal without stealing keystrokes
//!
//! A plain blocking `stdin` read left pending after the listener wins would
//! swallow the user's next line (the next prompt's answer). So on Unix,
//! [`PasteSource::stdin`] never blocks in `read`: it registers a duplicate of
//! fd 0 with tokio's reactor and reads only once the fd is readable (for a
//! terminal in canonical mode: once a whole line was entered). Dropping the
//! source cancels the wait and leaves nothing pending. Each read registers the
//! fd afresh, which makes readiness level-triggered: two lines pasted at once
//! are both seen. Where registration is impossible (stdin is a regular file or
//! `/dev/null`, whose reads never hang) and on Windows, a reader thread is
//! used; on a Windows console that thread may stay blocked, and
//! [`PasteSource::has_pending_blocking_read`] tells the flow to ask for Enter.

use std::fmt;

use oauth2::AuthorizationCode;
use tokio::sync::mpsc;
use url::Url;

use super::callback::{CallbackOutcome, classify_callback_query};

/// Longest line kept; a pasted redirect URL is well below this.
const MAX_LINE: usize = 16 * 1024;

/// Why a pasted text was not accepted. `Display` is the explanation shown to
/// the user before asking again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasteRejection {
    /// Nothing but whitespace.
    Empty,
    /// Not a URL at all.
    NotAUrl,
    /// A URL, but not to the redirect URI (scheme, host, port or path differ).
    WrongAddress { expected: String },
    /// The redirect URI without a `state`, or with another attempt's.
    WrongState,
    /// Our state, but no usable code.
    NoCode,
    /// Constant Contact answered our request with an error (e.g.
    /// `access_denied`): the flow ends rather than asking again.
    ProviderError {
        error: String,
        description: Option<String>,
    },
}

impl fmt::Display for PasteRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PasteRejection::Empty => f.write_str("nothing was pasted"),
            PasteRejection::NotAUrl => f.write_str(
                "that is not a URL; copy the whole address from the browser's address bar",
            ),
            PasteRejection::WrongAddress { expected } => write!(
                f,
                "that URL does not start with the redirect URI {expected}; paste the address the browser was sent to after you approved"
            ),
            PasteRejection::WrongState => f.write_str(
                "that URL belongs to another authorization attempt (its state does not match); use the URL printed above",
            ),
            PasteRejection::NoCode => f.write_str("that URL carries no authorization code"),
            PasteRejection::ProviderError { error, description } => match description {
                Some(d) => write!(f, "Constant Contact refused the authorization ({error}: {d})"),
                None => write!(f, "Constant Contact refused the authorization ({error})"),
            },
        }
    }
}

/// Parses a pasted redirect (`http://localhost:8917/callback?code=…&state=…`),
/// tolerating surrounding whitespace, quotes or angle brackets. The address
/// must be `expected_redirect_uri` (loopback spellings of the host are
/// interchangeable) and the state must be ours.
pub fn parse_pasted_redirect(
    text: &str,
    expected_redirect_uri: &str,
    expected_state: &str,
) -> Result<AuthorizationCode, PasteRejection> {
    let text = strip_wrapping(text.trim());
    if text.is_empty() {
        return Err(PasteRejection::Empty);
    }
    let url = Url::parse(text).map_err(|_| PasteRejection::NotAUrl)?;
    let expected = Url::parse(expected_redirect_uri).map_err(|_| PasteRejection::NotAUrl)?;
    let wrong_address = || PasteRejection::WrongAddress {
        expected: expected_redirect_uri.to_string(),
    };
    if url.scheme() != expected.scheme()
        || url.port_or_known_default() != expected.port_or_known_default()
        || url.path() != expected.path()
        || !same_host(&url, &expected)
    {
        return Err(wrong_address());
    }
    match classify_callback_query(url.query().unwrap_or(""), expected_state) {
        CallbackOutcome::Code(code) => Ok(code),
        CallbackOutcome::ProviderError { error, description } => {
            Err(PasteRejection::ProviderError { error, description })
        }
        CallbackOutcome::MissingState | CallbackOutcome::StateMismatch => {
            Err(PasteRejection::WrongState)
        }
        CallbackOutcome::Malformed(_) => Err(PasteRejection::NoCode),
        CallbackOutcome::NotFound => Err(wrong_address()),
    }
}

fn strip_wrapping(text: &str) -> &str {
    for (open, close) in [('"', '"'), ('\'', '\''), ('<', '>'), ('`', '`')] {
        if let Some(inner) = text
            .strip_prefix(open)
            .and_then(|rest| rest.strip_suffix(close))
        {
            return inner.trim();
        }
    }
    text
}

/// `localhost`, `127.0.0.1` and `[::1]` all reach the listener.
fn same_host(a: &Url, b: &Url) -> bool {
    fn is_loopback(u: &Url) -> bool {
        match u.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        }
    }
    a.host() == b.host() || (is_loopback(a) && is_loopback(b))
}

/// Lines the user pastes, as an async source the flow can race against the
/// listener. Tests feed it through [`PasteSource::channel`].
pub struct PasteSource {
    lines: mpsc::Receiver<String>,
    /// Aborted on drop: the stdin reader task, which holds no pending read.
    reader_task: Option<tokio::task::JoinHandle<()>>,
    /// A thread blocked in a console read (Windows fallback only).
    blocking_reader: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
}

impl fmt::Debug for PasteSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasteSource").finish_non_exhaustive()
    }
}

impl PasteSource {
    /// A source fed by the returned sender (tests, other front ends).
    pub fn channel(capacity: usize) -> (mpsc::Sender<String>, PasteSource) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (tx, Self::from_receiver(rx))
    }

    /// A source reading the given receiver.
    pub fn from_receiver(lines: mpsc::Receiver<String>) -> PasteSource {
        PasteSource {
            lines,
            reader_task: None,
            blocking_reader: None,
        }
    }

    /// Lines typed or pasted on this process's stdin. Must be called inside a
    /// tokio runtime. See the module docs for why this does not steal input.
    pub fn stdin() -> PasteSource {
        #[cfg(unix)]
        {
            use std::os::fd::BorrowedFd;
            // SAFETY: fd 0 is open for the life of the process; we only dup it.
            let stdin = unsafe { BorrowedFd::borrow_raw(0) };
            match stdin.try_clone_to_owned() {
                Ok(fd) => Self::from_fd(fd),
                Err(e) => {
                    tracing::debug!("cannot duplicate stdin ({e}); paste disabled");
                    let (_tx, source) = Self::channel(1);
                    source
                }
            }
        }
        #[cfg(not(unix))]
        {
            Self::from_blocking_reader(Box::new(std::io::stdin()))
        }
    }

    /// Lines read from `fd` (owned; closed when the source is dropped),
    /// without ever leaving a read pending. Unix only; must be called inside
    /// a tokio runtime.
    #[cfg(unix)]
    pub fn from_fd(fd: std::os::fd::OwnedFd) -> PasteSource {
        let file = std::fs::File::from(fd);
        // Probe once: regular files and /dev/null cannot be registered.
        let file = match unix_reader::register(file) {
            Ok(registered) => registered.into_inner(),
            Err(refused) => {
                let (file, e) = refused.into_parts();
                tracing::debug!("stdin cannot be polled ({e}); reading it on a thread");
                return Self::from_blocking_reader(Box::new(file));
            }
        };
        let (tx, rx) = mpsc::channel(4);
        let task = tokio::spawn(unix_reader::feed_lines(file, tx));
        PasteSource {
            lines: rx,
            reader_task: Some(task),
            blocking_reader: None,
        }
    }

    /// Lines read on a dedicated thread with blocking reads (inputs whose
    /// reads never hang, and the Windows console).
    fn from_blocking_reader(reader: Box<dyn std::io::Read + Send>) -> PasteSource {
        use std::io::BufRead;
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};

        let (tx, rx) = mpsc::channel(4);
        let reading = Arc::new(AtomicBool::new(false));
        let flag = reading.clone();
        let spawned = std::thread::Builder::new()
            .name("ccsetup-paste".into())
            .spawn(move || {
                let mut reader = std::io::BufReader::new(reader);
                loop {
                    let mut line = String::new();
                    flag.store(true, Ordering::SeqCst);
                    let read = reader.read_line(&mut line);
                    flag.store(false, Ordering::SeqCst);
                    match read {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {
                            line.truncate(MAX_LINE);
                            if tx.blocking_send(line.trim_end().to_string()).is_err() {
                                return;
                            }
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::debug!("cannot start the paste reader thread ({e}); paste disabled");
        }
        PasteSource {
            lines: rx,
            reader_task: None,
            blocking_reader: Some(reading),
        }
    }

    /// The next line (without its line end); `None` once the input is closed.
    pub async fn next_line(&mut self) -> Option<String> {
        self.lines.recv().await
    }

    /// Whether a reader thread is blocked in a read that would swallow the
    /// user's next line (only the Windows-console fallback). The flow then
    /// asks the user to press Enter and waits for that line.
    pub fn has_pending_blocking_read(&self) -> bool {
        cfg!(not(unix))
            && self
                .blocking_reader
                .as_ref()
                .is_some_and(|r| r.load(std::sync::atomic::Ordering::SeqCst))
    }
}

impl Drop for PasteSource {
    fn drop(&mut self) {
        if let Some(task) = self.reader_task.take() {
            task.abort();
        }
    }
}

#[cfg(unix)]
mod unix_reader {
    use std::fs::File;
    use std::io::{ErrorKind, Read};

    use tokio::io::Interest;
    use tokio::io::unix::{AsyncFd, AsyncFdRegisterError};
    use tokio::sync::mpsc;

    use super::MAX_LINE;

    /// Reads lines from `file` only when it is readable, so no read is ever
    /// pending when the task is aborted.
    pub(super) async fn feed_lines(mut file: File, tx: mpsc::Sender<String>) {
        let mut pending: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            // Registering afresh before each read reports data already
            // buffered (epoll/kqueue check readiness on registration), which
            // an edge-triggered registration kept across reads would miss.
            let registered = match register(file) {
                Ok(r) => r,
                Err(_) => return,
            };
            let ready = registered.readable().await.map(|_guard| ());
            file = registered.into_inner();
            if ready.is_err() {
                return;
            }
            let n = match (&file).read(&mut chunk) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => return,
            };
            if n == 0 {
                if !pending.is_empty() {
                    let _ = tx.send(take_line(&mut pending, None)).await;
                }
                return; // end of input: paste is no longer possible
            }
            pending.extend_from_slice(&chunk[..n]);
            while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                let line = take_line(&mut pending, Some(pos));
                if tx.send(line).await.is_err() {
                    return;
                }
            }
            if pending.len() > MAX_LINE {
                pending.clear();
            }
        }
    }

    /// Registers `file` with tokio's reactor for readability.
    pub(super) fn register(file: File) -> Result<AsyncFd<File>, AsyncFdRegisterError<File>> {
        // SAFETY: the `File` owns its fd, which stays open and unchanged for
        // as long as the `AsyncFd` holds the `File`.
        unsafe { AsyncFd::register_with_interest(file, Interest::READABLE) }
    }

    fn take_line(pending: &mut Vec<u8>, newline_at: Option<usize>) -> String {
        let end = newline_at.map_or(pending.len(), |p| p + 1);
        let bytes: Vec<u8> = pending.drain(..end).collect();
        String::from_utf8_lossy(&bytes).trim_end().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI: &str = "http://localhost:8917/callback";

    #[test]
    fn accepts_the_redirect_with_decorations() {
        for text in [
            "http://localhost:8917/callback?code=abc&state=st",
            "  http://localhost:8917/callback?code=abc&state=st\r\n",
            "\"http://localhost:8917/callback?code=abc&state=st\"",
            "'http://localhost:8917/callback?state=st&code=abc'",
            "<http://127.0.0.1:8917/callback?code=abc&state=st>",
            "http://[::1]:8917/callback?code=abc&state=st&extra=1",
        ] {
            let code =
                parse_pasted_redirect(text, URI, "st").unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(code.secret(), "abc");
        }
    }

    #[test]
    fn rejects_with_a_reason() {
        let cases = [
            ("", PasteRejection::Empty),
            ("   ", PasteRejection::Empty),
            ("abc", PasteRejection::NotAUrl),
            ("code=abc&state=st", PasteRejection::NotAUrl),
            (
                "http://localhost:8917/callback?code=abc&state=other",
                PasteRejection::WrongState,
            ),
            (
                "http://localhost:8917/callback?code=abc",
                PasteRejection::WrongState,
            ),
            (
                "http://localhost:8917/callback?state=st",
                PasteRejection::NoCode,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(
                parse_pasted_redirect(text, URI, "st").unwrap_err(),
                want,
                "{text:?}"
            );
        }
        for wrong in [
            "http://localhost:8918/callback?code=abc&state=st",
            "http://example.com:8917/callback?code=abc&state=st",
            "https://localhost:8917/callback?code=abc&state=st",
            "http://localhost:8917/other?code=abc&state=st",
            "http://localhost/callback?code=abc&state=st",
        ] {
            assert!(
                matches!(
                    parse_pasted_redirect(wrong, URI, "st"),
                    Err(PasteRejection::WrongAddress { .. })
                ),
                "{wrong}"
            );
        }
        let denied = parse_pasted_redirect(
            "http://localhost:8917/callback?error=access_denied&error_description=no&state=st",
            URI,
            "st",
        )
        .unwrap_err();
        assert_eq!(
            denied,
            PasteRejection::ProviderError {
                error: "access_denied".into(),
                description: Some("no".into())
            }
        );
        assert!(denied.to_string().contains("access_denied"));
    }
}
