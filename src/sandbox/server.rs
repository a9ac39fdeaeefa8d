//! The HTTP plumbing shared by the stand-ins: a hyper HTTP/1 server on an
//! ephemeral loopback port, a log of every request it received, and fault
//! injection (canned answers, delays, resets — before or after the real
//! handler ran, so "the create succeeded but the answer was lost" can be
//! modelled).

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

/// Bodies larger than this are refused with 413: real services cap them too.
const MAX_BODY_BYTES: usize = 1 << 20;

/// A request as the stand-ins see it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Raw query string without `?` (empty if none).
    pub query: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Decoded query parameters.
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect()
    }

    /// First value of a query parameter.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// Decoded `application/x-www-form-urlencoded` body.
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }

    pub fn form_param(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// `Authorization: Basic` credentials, decoded (user, password).
    pub fn basic_auth(&self) -> Option<(String, String)> {
        let value = self.header("authorization")?;
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, pass) = text.split_once(':')?;
        Some((user.to_string(), pass.to_string()))
    }

    /// `Authorization: Bearer` token.
    pub fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    pub fn json_body(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

/// A response from a stand-in.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Response::new(status)
            .with_header("content-type", "application/json")
            .with_body(value.to_string())
    }
    pub fn html(status: u16, html: impl Into<String>) -> Self {
        Response::new(status)
            .with_header("content-type", "text/html; charset=utf-8")
            .with_body(html.into())
    }
    pub fn text(status: u16, text: impl Into<String>) -> Self {
        Response::new(status)
            .with_header("content-type", "text/plain; charset=utf-8")
            .with_body(text.into())
    }
    /// A 302 to `location`.
    pub fn redirect(location: &str) -> Self {
        Response::new(302).with_header("location", location)
    }
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// The logic of one stand-in. Synchronous: state lives behind a mutex and
/// handlers never wait; delays and resets are faults, applied around them.
pub trait Service: Send + Sync + 'static {
    fn handle(&self, req: &Request) -> Response;
}

/// What an injected fault does to a matching request.
#[derive(Debug, Clone)]
pub enum FaultAction {
    /// Answer with this instead of running the handler.
    Respond(Response),
    /// Wait, then run the handler normally (a slow service).
    Delay(Duration),
    /// Close the connection without an answer; the handler does not run.
    Reset,
    /// Run the handler (its state changes happen), then answer with this
    /// instead of its response: "it worked, but you were told it failed".
    RespondAfterHandling(Response),
    /// Run the handler, then close the connection: the answer is lost.
    ResetAfterHandling,
    /// Run the handler (a token endpoint rotates), then hold the answer for
    /// this long: the window in which the client has been rotated but does
    /// not know it yet.
    DelayAfterHandling(Duration),
}

/// A fault that applies to the next `times` requests matching it.
#[derive(Debug, Clone)]
pub struct Fault {
    /// `None` matches any method.
    pub method: Option<String>,
    /// Matches paths starting with this.
    pub path_prefix: String,
    pub action: FaultAction,
    pub times: usize,
}

impl Fault {
    pub fn new(method: Option<&str>, path_prefix: &str, action: FaultAction, times: usize) -> Self {
        Fault {
            method: method.map(str::to_string),
            path_prefix: path_prefix.to_string(),
            action,
            times,
        }
    }

    fn matches(&self, req: &Request) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(&req.method))
            && req.path.starts_with(&self.path_prefix)
    }
}

/// One entry of the request log.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Which stand-in received it ("constant_contact", "stackone", …).
    pub server: &'static str,
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The status answered; `None` when the connection was reset.
    pub status: Option<u16>,
}

impl RecordedRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether `needle` occurs anywhere in this request: path, query,
    /// headers or body (raw, and decoded where the encoding hides it:
    /// form/query percent-encoding and Basic credentials).
    pub fn contains(&self, needle: &str) -> bool {
        let req = Request {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers: self.headers.clone(),
            body: self.body.clone(),
        };
        let raw_hit = self.path.contains(needle)
            || self.query.contains(needle)
            || self
                .headers
                .iter()
                .any(|(k, v)| k.contains(needle) || v.contains(needle))
            || String::from_utf8_lossy(&self.body).contains(needle);
        let decoded_hit = req
            .query_pairs()
            .iter()
            .any(|(k, v)| k.contains(needle) || v.contains(needle))
            || req
                .form()
                .iter()
                .any(|(k, v)| k.contains(needle) || v.contains(needle))
            || req
                .basic_auth()
                .is_some_and(|(u, p)| u.contains(needle) || p.contains(needle));
        raw_hit || decoded_hit
    }
}

/// One response a stand-in's own logic produced (injected faults' canned
/// answers are not included), recorded by the stand-in: lets tests check
/// that no response ever carries a secret.
#[derive(Debug, Clone)]
pub struct RecordedResponse {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RecordedResponse {
    /// Whether `needle` occurs in a header value or the body.
    pub fn contains(&self, needle: &str) -> bool {
        self.headers.iter().any(|(_, v)| v.contains(needle))
            || String::from_utf8_lossy(&self.body).contains(needle)
    }
}

/// When a stand-in served one request, and for how long (from its head
/// arriving to its answer being ready, the body read and any fault delay
/// included): what a benchmark subtracts to see the client's own time.
#[derive(Debug, Clone)]
pub struct RequestTiming {
    pub server: &'static str,
    pub path: String,
    pub started: Instant,
    pub took: Duration,
}

/// Every request a server received, in order.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<Vec<RecordedRequest>>,
    timings: Mutex<Vec<RequestTiming>>,
}

impl RequestLog {
    pub fn entries(&self) -> Vec<RecordedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    /// The timing of every logged request, in the same order.
    pub fn timings(&self) -> Vec<RequestTiming> {
        self.timings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
    pub fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        self.timings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }
    fn push(&self, entry: RecordedRequest, started: Instant) {
        let timing = RequestTiming {
            server: entry.server,
            path: entry.path.clone(),
            started,
            took: started.elapsed(),
        };
        // Both under the entries lock: the two lists keep the same order.
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.push(entry);
        self.timings
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(timing);
    }
}

/// A running stand-in server. Dropping it stops accepting connections.
pub struct HttpServer {
    name: &'static str,
    addr: SocketAddr,
    log: Arc<RequestLog>,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    latency_ms: Arc<AtomicU64>,
    connections: Arc<AtomicUsize>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl HttpServer {
    /// Binds 127.0.0.1 on an ephemeral port and serves `service` on `rt`.
    pub fn start(
        rt: &tokio::runtime::Handle,
        name: &'static str,
        service: Arc<dyn Service>,
    ) -> std::io::Result<Self> {
        Self::start_on(
            rt,
            name,
            service,
            SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            None,
        )
    }

    /// Like [`HttpServer::start`] on a given address, sharing a log (several
    /// servers can record into one log).
    pub fn start_on(
        rt: &tokio::runtime::Handle,
        name: &'static str,
        service: Arc<dyn Service>,
        addr: SocketAddr,
        log: Option<Arc<RequestLog>>,
    ) -> std::io::Result<Self> {
        let std_listener = std::net::TcpListener::bind(addr)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let log = log.unwrap_or_default();
        let faults: Arc<Mutex<VecDeque<Fault>>> = Arc::default();
        let latency_ms: Arc<AtomicU64> = Arc::default();
        let connections: Arc<AtomicUsize> = Arc::default();
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();

        let shared = Arc::new(Shared {
            name,
            service,
            log: log.clone(),
            faults: faults.clone(),
            latency_ms: latency_ms.clone(),
        });
        let accepted_count = connections.clone();
        rt.spawn(async move {
            let listener = match tokio::net::TcpListener::from_std(std_listener) {
                Ok(l) => l,
                Err(e) => {
                    tracing::error!("sandbox {name}: cannot listen: {e}");
                    return;
                }
            };
            loop {
                tokio::select! {
                    _ = &mut stop_rx => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        accepted_count.fetch_add(1, Ordering::Relaxed);
                        let shared = shared.clone();
                        tokio::spawn(async move {
                            let svc = service_fn(move |req| {
                                let shared = shared.clone();
                                async move { shared.serve(req).await }
                            });
                            let _ = http1::Builder::new()
                                .keep_alive(true)
                                .serve_connection(TokioIo::new(stream), svc)
                                .await;
                        });
                    }
                }
            }
        });
        Ok(HttpServer {
            name,
            addr,
            log,
            faults,
            latency_ms,
            connections,
            stop: Some(stop_tx),
        })
    }

    pub fn name(&self) -> &'static str {
        self.name
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>` joined with `path`.
    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{}", self.addr, path)).expect("loopback URL")
    }

    pub fn log(&self) -> &Arc<RequestLog> {
        &self.log
    }

    /// Queues a fault; faults are matched in the order they were added.
    pub fn inject(&self, fault: Fault) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(fault);
    }

    pub fn clear_faults(&self) {
        self.faults
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Delays every answer by `latency` (a round trip to a real service,
    /// for benchmarks and tests of request overlap; zero by default).
    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency_ms.store(ms, Ordering::Relaxed);
    }

    /// TCP connections accepted so far (keep-alive reuse shows as fewer
    /// connections than requests).
    pub fn connections_accepted(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

struct Shared {
    name: &'static str,
    service: Arc<dyn Service>,
    log: Arc<RequestLog>,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    latency_ms: Arc<AtomicU64>,
}

/// Marker error: hyper closes the connection without an answer.
#[derive(Debug)]
struct ConnectionReset;
impl std::fmt::Display for ConnectionReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fault: connection reset")
    }
}
impl std::error::Error for ConnectionReset {}

impl Shared {
    /// Takes the first fault matching `req`, counting one use of it.
    fn take_fault(&self, req: &Request) -> Option<FaultAction> {
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        let idx = faults.iter().position(|f| f.matches(req))?;
        let fault = &mut faults[idx];
        let action = fault.action.clone();
        fault.times = fault.times.saturating_sub(1);
        if fault.times == 0 {
            faults.remove(idx);
        }
        Some(action)
    }

    async fn serve(
        &self,
        req: hyper::Request<Incoming>,
    ) -> Result<hyper::Response<Full<Bytes>>, ConnectionReset> {
        let started = Instant::now();
        let latency = self.latency_ms.load(Ordering::Relaxed);
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(b) => b.to_bytes().to_vec(),
            Err(_) => return Ok(to_hyper(Response::text(413, "request body too large"))),
        };
        let request = Request {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().unwrap_or("").to_string(),
            headers: parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body,
        };

        let outcome = match self.take_fault(&request) {
            None => Some(self.service.handle(&request)),
            Some(FaultAction::Respond(resp)) => Some(resp),
            Some(FaultAction::Delay(d)) => {
                tokio::time::sleep(d).await;
                Some(self.service.handle(&request))
            }
            Some(FaultAction::Reset) => None,
            Some(FaultAction::RespondAfterHandling(resp)) => {
                let _ = self.service.handle(&request);
                Some(resp)
            }
            Some(FaultAction::ResetAfterHandling) => {
                let _ = self.service.handle(&request);
                None
            }
            Some(FaultAction::DelayAfterHandling(d)) => {
                let resp = self.service.handle(&request);
                tokio::time::sleep(d).await;
                Some(resp)
            }
        };
        self.log.push(
            RecordedRequest {
                server: self.name,
                method: request.method,
                path: request.path,
                query: request.query,
                headers: request.headers,
                body: request.body,
                status: outcome.as_ref().map(|r| r.status),
            },
            started,
        );
        outcome.map(to_hyper).ok_or(ConnectionReset)
    }
}

fn to_hyper(resp: Response) -> hyper::Response<Full<Bytes>> {
    let mut builder = hyper::Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k, v);
    }
    builder
        .body(Full::new(Bytes::from(resp.body)))
        .unwrap_or_else(|_| hyper::Response::new(Full::new(Bytes::from_static(b"bad response"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(AtomicUsize);
    impl Service for Counter {
        fn handle(&self, req: &Request) -> Response {
            let n = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            Response::json(200, &serde_json::json!({ "n": n, "path": req.path }))
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn latency_delays_every_answer_and_connections_are_counted() {
        let rt = runtime();
        let server =
            HttpServer::start(rt.handle(), "test", Arc::new(Counter(AtomicUsize::new(0)))).unwrap();
        let client = crate::http::client().unwrap();
        server.set_latency(Duration::from_millis(150));
        let started = Instant::now();
        for path in ["/a", "/b", "/c", "/d"] {
            let (url, client) = (server.url(path), client.clone());
            // The body is read to its end: only then can the connection be reused.
            let status = rt.block_on(async move {
                let resp = client.get(url).send().await.unwrap();
                let status = resp.status().as_u16();
                resp.bytes().await.unwrap();
                status
            });
            assert_eq!(status, 200);
            // The pool takes the connection back on its own task.
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(
            started.elapsed() >= Duration::from_millis(600),
            "{:?}",
            started.elapsed()
        );
        // One client, one host: later requests reuse a connection (the pool
        // may still open a second one under load, never one per request).
        assert!(
            server.connections_accepted() < 4,
            "{}",
            server.connections_accepted()
        );
        server.set_latency(Duration::ZERO);
        let started = Instant::now();
        let (url, client) = (server.url("/c"), client.clone());
        rt.block_on(async move { client.get(url).send().await.unwrap() });
        assert!(started.elapsed() < Duration::from_millis(150));
    }

    #[test]
    fn faults_apply_in_order_and_log_records_everything() {
        let rt = runtime();
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        let server = HttpServer::start(rt.handle(), "test", counter.clone()).unwrap();
        let client = crate::http::client().unwrap();
        let get = |path: &str| {
            let url = server.url(path);
            let client = client.clone();
            rt.block_on(async move { client.get(url).send().await.map(|r| r.status().as_u16()) })
        };

        server.inject(Fault::new(
            Some("GET"),
            "/a",
            FaultAction::Respond(Response::text(500, "boom")),
            2,
        ));
        assert_eq!(get("/a").unwrap(), 500);
        assert_eq!(get("/a/b").unwrap(), 500);
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            0,
            "Respond must not run the handler"
        );
        assert_eq!(get("/a").unwrap(), 200, "the fault is used up after 2");

        server.inject(Fault::new(
            None,
            "/",
            FaultAction::RespondAfterHandling(Response::text(503, "")),
            1,
        ));
        assert_eq!(get("/x").unwrap(), 503);
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            2,
            "RespondAfterHandling runs the handler"
        );

        server.inject(Fault::new(None, "/", FaultAction::ResetAfterHandling, 1));
        assert!(get("/y").is_err(), "the answer is lost");
        assert_eq!(counter.0.load(Ordering::SeqCst), 3);

        server.inject(Fault::new(None, "/", FaultAction::Reset, 1));
        assert!(get("/z").is_err());
        assert_eq!(
            counter.0.load(Ordering::SeqCst),
            3,
            "Reset does not run the handler"
        );

        let log = server.log().entries();
        let statuses: Vec<_> = log.iter().map(|e| e.status).collect();
        assert_eq!(
            statuses,
            vec![Some(500), Some(500), Some(200), Some(503), None, None]
        );
        assert_eq!(log[1].path, "/a/b");
        let timings = server.log().timings();
        assert_eq!(timings.len(), log.len());
        assert_eq!(timings[1].path, "/a/b");
        assert!(timings.windows(2).all(|w| w[0].started <= w[1].started));
    }

    #[test]
    fn oversized_bodies_are_refused() {
        let rt = runtime();
        let server =
            HttpServer::start(rt.handle(), "test", Arc::new(Counter(AtomicUsize::new(0)))).unwrap();
        let url = server.url("/big");
        let status = rt.block_on(async move {
            crate::http::client()
                .unwrap()
                .post(url)
                .body(vec![b'x'; MAX_BODY_BYTES + 1])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        });
        assert_eq!(status, 413);
    }

    #[test]
    fn recorded_requests_find_secrets_through_encodings() {
        let rec = RecordedRequest {
            server: "t",
            method: "POST".into(),
            path: "/token".into(),
            query: String::new(),
            headers: vec![(
                "authorization".into(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode("id:s3cr+t")
                ),
            )],
            body: b"refresh_token=a%2Bb".to_vec(),
            status: Some(200),
        };
        assert!(rec.contains("s3cr+t"), "inside Basic credentials");
        assert!(rec.contains("a+b"), "percent-encoded form value");
        assert!(!rec.contains("nothere"));
    }
}
