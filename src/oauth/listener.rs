//! The loopback redirect listener: a tiny, hand-rolled HTTP/1 responder on
//! 127.0.0.1 (and [::1] where the host has IPv6) that waits for exactly one
//! matching `GET /callback?code=…&state=…`.
//!
//! Why hand-rolled: it reads only the request line (plus the rest of the head,
//! discarded, so closing the socket does not reset the browser's view of our
//! answer), caps each request at [`MAX_REQUEST_HEAD`], gives each connection
//! its own task and a head-read deadline, so a slow, half-open, garbage or
//! oversized connection can neither crash it nor delay the real callback.
//!
//! A local flood (any user can connect to loopback): a connection that has
//! sent nothing within [`FIRST_BYTE_TIMEOUT`] is closed, and when
//! [`MAX_CONCURRENT_CONNECTIONS`] are open the *oldest* is closed to make
//! room, so the browser's connection — which sends its request at once —
//! always gets in. A per-peer cap would not help here: every local process,
//! the browser included, connects from the same loopback address. Closed
//! connections are counted, and a timeout names the flood.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use oauth2::AuthorizationCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

use super::callback::{
    CallbackOutcome, MAX_REQUEST_HEAD, RequestLineError, classify_callback_at, parse_request_target,
};
use crate::error::{Error, Result};

/// How long one connection may take to send its request head.
pub const HEAD_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a connection may stay silent before its first byte (a browser
/// sends its request at once; a preconnect that never does is closed).
pub const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long writing our answer may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections handled at once; beyond that the oldest is closed (a local
/// flood must neither exhaust file descriptors nor lock the browser out).
const MAX_CONCURRENT_CONNECTIONS: usize = 128;

/// Listening sockets bound on loopback, not yet serving.
///
/// Binding happens up front (before any browser opens) so a taken port is a
/// usage error found early; [`wait_for_code`](Self::wait_for_code) then
/// serves until one matching callback arrives, and drops the sockets.
#[derive(Debug)]
pub struct LoopbackListener {
    sockets: Vec<std::net::TcpListener>,
    port: u16,
    /// The redirect URI served, and the path a callback must have.
    redirect_uri: String,
    path: String,
    /// Connections closed unanswered (idle, or pushed out by newer ones).
    dropped: Arc<AtomicUsize>,
}

impl LoopbackListener {
    /// Binds `127.0.0.1:port` and, where the host has IPv6, `[::1]:port`
    /// (never a wildcard address). Port 0 picks a free port (tests).
    ///
    /// A taken port is [`ErrorKind::Usage`](crate::error::ErrorKind::Usage)
    /// naming the port and `--redirect-port`.
    pub fn bind(port: u16) -> Result<LoopbackListener> {
        // With port 0 the v4 socket picks the port and v6 must follow it; if
        // that port is taken on v6 only, try a few other ports.
        let tries = if port == 0 { 8 } else { 1 };
        let mut last_err = None;
        for _ in 0..tries {
            let v4 = std::net::TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
                .map_err(|e| bind_error(port, "127.0.0.1", e))?;
            let bound_port = v4
                .local_addr()
                .map_err(|e| bind_error(port, "127.0.0.1", e))?
                .port();
            match std::net::TcpListener::bind(SocketAddrV6::new(
                Ipv6Addr::LOCALHOST,
                bound_port,
                0,
                0,
            )) {
                Ok(v6) => {
                    return Ok(LoopbackListener::on(vec![v4, v6], bound_port));
                }
                Err(e) if ipv6_unavailable(&e) => {
                    tracing::debug!("no IPv6 loopback here ({e}); listening on 127.0.0.1 only");
                    return Ok(LoopbackListener::on(vec![v4], bound_port));
                }
                Err(e) => last_err = Some(bind_error(bound_port, "[::1]", e)),
            }
        }
        Err(last_err.unwrap_or_else(|| Error::failure("could not bind the redirect listener")))
    }

    fn on(sockets: Vec<std::net::TcpListener>, port: u16) -> Self {
        LoopbackListener {
            sockets,
            port,
            redirect_uri: crate::oauth::local_redirect_uri(port),
            path: super::callback::CALLBACK_PATH.to_string(),
            dropped: Arc::default(),
        }
    }

    /// Serves `redirect_uri` (a loopback URI on this port, `--redirect-uri`)
    /// instead of `http://localhost:<port>/callback`: callbacks must come
    /// to `path`.
    pub fn with_redirect_uri(mut self, redirect_uri: &str, path: &str) -> Self {
        self.redirect_uri = redirect_uri.to_string();
        self.path = path.to_string();
        self
    }

    /// Counts the connections closed unanswered while serving (for the
    /// timeout message: see [`callback_timeout_error`]).
    pub fn dropped_connections(&self) -> Arc<AtomicUsize> {
        self.dropped.clone()
    }

    /// The port bound (the one asked for, or the one picked for port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The addresses listened on (127.0.0.1 and maybe [::1]).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.sockets
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .collect()
    }

    /// The redirect URI this listener serves (`http://localhost:<port>/callback`
    /// unless [`LoopbackListener::with_redirect_uri`] said otherwise).
    pub fn redirect_uri(&self) -> String {
        self.redirect_uri.clone()
    }

    /// Serves until one callback with `expected_state` arrives (its code is
    /// returned), the provider reports an error for our request (exit 3), or
    /// `timeout` passes (exit 3). The sockets are closed when this returns.
    pub async fn wait_for_code(
        self,
        expected_state: &str,
        timeout: Duration,
    ) -> Result<AuthorizationCode> {
        let port = self.port;
        let dropped = self.dropped_connections();
        match self.serve(expected_state, Instant::now() + timeout).await? {
            Some((code, browser)) => {
                browser.answer(CallbackAnswer::Received).await;
                Ok(code)
            }
            None => Err(callback_timeout_error(
                timeout,
                port,
                None,
                dropped.load(Ordering::Relaxed),
            )),
        }
    }

    /// The serving loop; `Ok(None)` on reaching `deadline`. With the code
    /// comes the browser's connection, still waiting for its page: the
    /// caller answers it once it knows the outcome. Dropping the future
    /// closes the sockets and aborts every connection task.
    pub(crate) async fn serve(
        self,
        expected_state: &str,
        deadline: Instant,
    ) -> Result<Option<(AuthorizationCode, PendingAnswer)>> {
        let mut listeners = Vec::with_capacity(self.sockets.len());
        for socket in self.sockets {
            socket
                .set_nonblocking(true)
                .and_then(|()| TcpListener::from_std(socket))
                .map(|l| listeners.push(l))
                .map_err(|e| {
                    Error::failure("could not start the redirect listener").with_source(e)
                })?;
        }
        let (v4, v6) = (listeners.remove(0), listeners.pop());

        let (outcome_tx, mut outcome_rx) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            expected_state: expected_state.to_string(),
            path: self.path,
            claimed: AtomicBool::new(false),
            outcome_tx,
        });
        let mut open = OpenConnections {
            handles: std::collections::VecDeque::new(),
            dropped: self.dropped.clone(),
        };
        let mut connections = JoinSet::new();

        let outcome = loop {
            tokio::select! {
                accepted = v4.accept() => {
                    spawn_connection(accepted, &shared, &mut open, &mut connections).await;
                }
                accepted = accept_optional(v6.as_ref()) => {
                    spawn_connection(accepted, &shared, &mut open, &mut connections).await;
                }
                Some(outcome) = outcome_rx.recv() => break Some(outcome),
                // Reap finished connection tasks so the set stays small.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
                _ = tokio::time::sleep_until(deadline) => break None,
            }
        };
        // Dropping `v4`/`v6` here frees the port before we return.
        drop((v4, v6));
        connections.abort_all();
        match outcome {
            None => Ok(None),
            Some(Terminal::Code(code, stream)) => Ok(Some((code, PendingAnswer { stream }))),
            Some(Terminal::ProviderError { error, description }) => {
                Err(provider_error(&error, description.as_deref()))
            }
        }
    }
}

/// The error for "no callback within the timeout"; `url` (the authorization
/// URL) is repeated in the hint when known.
pub(crate) fn callback_timeout_error(
    timeout: Duration,
    port: u16,
    url: Option<&str>,
    dropped_connections: usize,
) -> Error {
    let mut hint = format!(
        "run the command again and approve the access in the browser within {} s (--auth-timeout); \
         the browser must be able to reach http://localhost:{port}/callback on this machine",
        timeout.as_secs()
    );
    if url.is_some() {
        // Never the URL itself: it worked for this run only (its `state`
        // and PKCE verifier end with it).
        hint.push_str(
            "; the next try makes a new authorization URL (the one shown cannot be used again)",
        );
    }
    let flood = if dropped_connections > 0 {
        format!(
            "; meanwhile {dropped_connections} connections to port {port} sent no request in time \
             or were pushed out by newer ones: another local program may be flooding the \
             listener (see `ss -tnp 'sport = :{port}'`)"
        )
    } else {
        String::new()
    };
    Error::authorization(format!(
        "no authorization arrived within {} s{flood}",
        timeout.as_secs()
    ))
    .with_hint(hint)
    .with_source(super::AuthorizeFailure::TimedOut)
}

/// The error for an `error=…` callback answering our request.
pub(crate) fn provider_error(error: &str, description: Option<&str>) -> Error {
    let detail = match description {
        Some(d) if !d.is_empty() => format!("{error}: {d}"),
        _ => error.to_string(),
    };
    let denied = error == "access_denied";
    let hint = if denied {
        "run the command again and choose Approve on the Constant Contact consent page".to_string()
    } else {
        "check the app's settings in the Constant Contact portal (OAuth2 flow, redirect URIs, scopes) and run the command again".to_string()
    };
    let err = Error::authorization(format!(
        "Constant Contact refused the authorization ({detail})"
    ))
    .with_hint(hint);
    if denied {
        err.with_source(super::AuthorizeFailure::Denied)
    } else {
        err
    }
}

fn bind_error(port: u16, addr: &str, e: io::Error) -> Error {
    let must_match = "the redirect URI registered in the Constant Contact app must match it exactly (http://localhost:N/callback)";
    match e.kind() {
        io::ErrorKind::AddrInUse => Error::usage(format!(
            "port {port} on {addr} is already in use, so the authorization redirect cannot be received there"
        ))
        .with_hint(format!(
            "stop the program using port {port}, or choose another port with --redirect-port N (CCSETUP_REDIRECT_PORT); {must_match}"
        ))
        .with_source(e),
        io::ErrorKind::PermissionDenied => Error::usage(format!(
            "not allowed to listen on port {port} on {addr} (a privileged or reserved port)"
        ))
        .with_hint(format!(
            "choose a port above 1024 with --redirect-port N (CCSETUP_REDIRECT_PORT); {must_match}"
        ))
        .with_source(e),
        _ => Error::failure(format!("could not listen on {addr}:{port} for the authorization redirect"))
            .with_source(e),
    }
}

/// Errors meaning "this host has no IPv6 loopback", as opposed to "taken".
fn ipv6_unavailable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::Unsupported
    ) || matches!(e.raw_os_error(), Some(code) if is_af_not_supported(code))
}

fn is_af_not_supported(code: i32) -> bool {
    // EAFNOSUPPORT (Linux 97, BSD/macOS 47) and EPROTONOSUPPORT (93/43);
    // WSAEAFNOSUPPORT 10047 on Windows.
    if cfg!(target_os = "linux") {
        code == 97 || code == 93
    } else if cfg!(windows) {
        code == 10047
    } else {
        code == 47 || code == 43
    }
}

async fn accept_optional(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(l) => l.accept().await,
        None => std::future::pending().await,
    }
}

/// The browser's request that brought the code, not answered yet: the page
/// it gets says how the token exchange went (docs/contract.md step 4).
#[derive(Debug)]
pub struct PendingAnswer {
    stream: TcpStream,
}

/// How the authorization ended, as the browser's page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackAnswer {
    /// The code was exchanged: ccsetup is authorized.
    Authorized,
    /// The code arrived but the exchange failed; the terminal says why.
    ExchangeFailed,
    /// The code arrived; the outcome is in the terminal (the exchange took
    /// too long to wait for, or nobody waits for it).
    Received,
}

impl PendingAnswer {
    /// Sends the page (bounded by the write timeout).
    pub async fn answer(mut self, answer: CallbackAnswer) {
        let page = match answer {
            CallbackAnswer::Authorized => Page::Success,
            CallbackAnswer::ExchangeFailed => Page::ExchangeFailed,
            CallbackAnswer::Received => Page::Received,
        };
        let _ = write_page(&mut self.stream, page).await;
    }
}

/// What ends the wait.
enum Terminal {
    Code(AuthorizationCode, TcpStream),
    ProviderError {
        error: String,
        description: Option<String>,
    },
}

/// What every connection task needs.
struct Shared {
    expected_state: String,
    /// The redirect URI's path.
    path: String,
    /// Set by the first connection carrying a terminal answer: exactly one
    /// callback is accepted, a concurrent duplicate gets a 409 page.
    claimed: AtomicBool,
    outcome_tx: mpsc::Sender<Terminal>,
}

/// The connection tasks still running, oldest first.
struct OpenConnections {
    handles: std::collections::VecDeque<AbortHandle>,
    dropped: Arc<AtomicUsize>,
}

impl OpenConnections {
    /// Makes room for one more: forgets finished tasks, then closes the
    /// oldest while at the cap.
    fn make_room(&mut self) {
        self.handles.retain(|h| !h.is_finished());
        while self.handles.len() >= MAX_CONCURRENT_CONNECTIONS {
            if let Some(oldest) = self.handles.pop_front() {
                oldest.abort();
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

async fn spawn_connection(
    accepted: io::Result<(TcpStream, SocketAddr)>,
    shared: &Arc<Shared>,
    open: &mut OpenConnections,
    connections: &mut JoinSet<()>,
) {
    match accepted {
        Ok((stream, peer)) => {
            open.make_room();
            let shared = shared.clone();
            let dropped = open.dropped.clone();
            let handle = connections.spawn(async move {
                if !handle_connection(stream, &shared).await {
                    tracing::debug!("closed a silent connection from {peer}");
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
            });
            open.handles.push_back(handle);
        }
        Err(e) => {
            // EMFILE and friends: back off briefly instead of spinning.
            tracing::debug!("accept failed: {e}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Reads one request head, answers it, and reports a terminal callback.
/// `false`: the peer sent nothing within [`FIRST_BYTE_TIMEOUT`] (or no
/// complete head within [`HEAD_READ_TIMEOUT`]) and was closed.
async fn handle_connection(mut stream: TcpStream, shared: &Shared) -> bool {
    let mut probe = [0u8; 1];
    match tokio::time::timeout(FIRST_BYTE_TIMEOUT, stream.peek(&mut probe)).await {
        Ok(Ok(n)) if n > 0 => {}
        Ok(_) => return true,
        Err(_) => return false,
    }
    let head = match tokio::time::timeout(HEAD_READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => head,
        Ok(Err(HeadError::Closed)) => return true,
        Err(_) => return false,
        Ok(Err(HeadError::TooLarge)) => {
            let _ = write_page(&mut stream, Page::TooLarge).await;
            return true;
        }
    };
    let page = match parse_request_target(&head) {
        Err(RequestLineError::MethodNotAllowed) => Page::MethodNotAllowed,
        Err(RequestLineError::TooLong) => Page::TooLarge,
        Err(_) => Page::BadRequest,
        Ok(target) => match classify_callback_at(target, &shared.path, &shared.expected_state) {
            CallbackOutcome::NotFound => Page::NotFound,
            CallbackOutcome::MissingState | CallbackOutcome::StateMismatch => Page::WrongState,
            CallbackOutcome::Malformed(_) => Page::BadRequest,
            CallbackOutcome::Code(code) => {
                // Answered by the flow once the exchange is done.
                if shared.claimed.swap(true, Ordering::SeqCst) {
                    let _ = write_page(&mut stream, Page::AlreadyDone).await;
                } else {
                    let _ = shared.outcome_tx.send(Terminal::Code(code, stream)).await;
                }
                return true;
            }
            CallbackOutcome::ProviderError { error, description } => {
                let page = Page::Refused;
                let outcome = Terminal::ProviderError { error, description };
                finish(stream, shared, page, outcome).await;
                return true;
            }
        },
    };
    tracing::debug!(
        status = page.status().0,
        "answered a request on the redirect listener"
    );
    let _ = write_page(&mut stream, page).await;
    true
}

/// Answers the browser first, then hands the outcome to the waiting flow
/// (which closes the listener as soon as it gets it).
async fn finish(mut stream: TcpStream, shared: &Shared, page: Page, outcome: Terminal) {
    if shared.claimed.swap(true, Ordering::SeqCst) {
        let _ = write_page(&mut stream, Page::AlreadyDone).await;
        return;
    }
    let _ = write_page(&mut stream, page).await;
    let _ = shared.outcome_tx.send(outcome).await;
}

enum HeadError {
    /// The peer closed before a request line arrived.
    Closed,
    /// No end of head within the cap.
    TooLarge,
}

/// Reads until the blank line ending the head, up to [`MAX_REQUEST_HEAD`].
/// A peer that half-closes after a complete request line is still answered.
async fn read_head(stream: &mut TcpStream) -> std::result::Result<Vec<u8>, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream
            .read(&mut chunk)
            .await
            .map_err(|_| HeadError::Closed)?;
        if n == 0 {
            return if buf.contains(&b'\n') {
                Ok(buf)
            } else {
                Err(HeadError::Closed)
            };
        }
        buf.extend_from_slice(&chunk[..n]);
        if has_end_of_head(&buf) {
            return Ok(buf);
        }
        if buf.len() >= MAX_REQUEST_HEAD {
            return Err(HeadError::TooLarge);
        }
    }
}

fn has_end_of_head(buf: &[u8]) -> bool {
    buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.windows(2).any(|w| w == b"\n\n")
}

/// The pages the listener answers with. Static text only: nothing from the
/// request is reflected into HTML.
#[derive(Debug, Clone, Copy)]
enum Page {
    Success,
    Received,
    ExchangeFailed,
    Refused,
    AlreadyDone,
    WrongState,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    TooLarge,
}

impl Page {
    fn status(self) -> (u16, &'static str) {
        match self {
            Page::Success | Page::Received | Page::ExchangeFailed | Page::Refused => (200, "OK"),
            Page::AlreadyDone => (409, "Conflict"),
            Page::WrongState | Page::BadRequest => (400, "Bad Request"),
            Page::NotFound => (404, "Not Found"),
            Page::MethodNotAllowed => (405, "Method Not Allowed"),
            Page::TooLarge => (431, "Request Header Fields Too Large"),
        }
    }

    fn text(self) -> (&'static str, &'static str) {
        match self {
            Page::Success => (
                "ccsetup: authorized",
                "Constant Contact authorized ccsetup. You can close this tab and return to the terminal.",
            ),
            Page::Received => (
                "ccsetup: authorization received",
                "ccsetup received the authorization; the terminal shows how it went. You can close this tab.",
            ),
            Page::ExchangeFailed => (
                "ccsetup: authorization not completed",
                "ccsetup received the code, but Constant Contact refused to exchange it for tokens. The terminal says why and what to do next; you can close this tab.",
            ),
            Page::Refused => (
                "ccsetup: authorization not granted",
                "Constant Contact did not grant the authorization. You can close this tab; the terminal says what to do next.",
            ),
            Page::AlreadyDone => (
                "ccsetup: already handled",
                "ccsetup already received an answer. You can close this tab.",
            ),
            Page::WrongState => (
                "ccsetup: not the expected sign-in",
                "This link does not belong to the authorization ccsetup is waiting for (it may come from an older attempt). Use the URL printed in the terminal.",
            ),
            Page::BadRequest => ("ccsetup: bad request", "This request could not be used."),
            Page::NotFound => ("ccsetup: not found", "Nothing here."),
            Page::MethodNotAllowed => ("ccsetup: method not allowed", "Only GET is answered."),
            Page::TooLarge => ("ccsetup: request too large", "The request is too large."),
        }
    }
}

async fn write_page(stream: &mut TcpStream, page: Page) -> io::Result<()> {
    let (code, reason) = page.status();
    let (title, message) = page.text();
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\">\
         <h1>{title}</h1><p>{message}</p></body></html>\n"
    );
    // no-referrer and no-store: the address bar holds the code.
    let response = format!(
        "HTTP/1.1 {code} {reason}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    tokio::time::timeout(WRITE_TIMEOUT, async {
        stream.write_all(response.as_bytes()).await?;
        stream.flush().await?;
        stream.shutdown().await
    })
    .await
    .unwrap_or_else(|_| Err(io::ErrorKind::TimedOut.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_of_head_detection() {
        assert!(has_end_of_head(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        assert!(has_end_of_head(b"GET / HTTP/1.1\n\n"));
        assert!(!has_end_of_head(b"GET / HTTP/1.1\r\nHost: x\r\n"));
    }

    #[test]
    fn bind_error_names_port_and_flag() {
        let e = bind_error(8917, "127.0.0.1", io::ErrorKind::AddrInUse.into());
        assert_eq!(e.exit_code(), 2);
        assert!(e.message().contains("8917"));
        let hint = e.hint().unwrap();
        assert!(hint.contains("--redirect-port"));
        assert!(hint.contains("redirect URI registered"));
    }
}
