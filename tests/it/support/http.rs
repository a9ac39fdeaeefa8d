//! In-process HTTP helpers (the `oauth_*` and `stackone_client` areas): a raw HTTP client for
//! the loopback listener, a scripted HTTP server standing in for the remote
//! endpoints, a browser stand-in, and captured terminal output.

use std::collections::VecDeque;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Sends raw bytes to `addr` and returns what comes back until the peer
/// closes (or 5 s pass).
pub async fn raw_request(addr: SocketAddr, bytes: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(bytes).await.expect("write");
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

/// `GET target` as a browser would send it; returns the whole response.
pub async fn get(addr: SocketAddr, target: &str) -> String {
    let req = format!(
        "GET {target} HTTP/1.1\r\nHost: localhost:{}\r\nUser-Agent: test\r\nAccept: text/html\r\n\r\n",
        addr.port()
    );
    raw_request(addr, req.as_bytes()).await
}

/// The status code of a raw response.
pub fn status_of(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// A request as the scripted server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn form(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.body.as_bytes())
            .into_owned()
            .collect()
    }
    pub fn form_value(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// What the scripted server does with the next request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Answer with this status, extra headers and JSON body.
    Json(u16, Vec<(&'static str, String)>, String),
    /// Read the request, then close without answering (answer lost).
    Hangup,
    /// Wait, then answer (to observe the client meanwhile).
    Delayed(Duration, Box<Reply>),
}

impl Reply {
    pub fn json(status: u16, body: serde_json::Value) -> Reply {
        Reply::Json(status, vec![], body.to_string())
    }
}

/// A tiny HTTP/1.1 server answering from a script, recording requests.
/// Stands in for Constant Contact's token endpoint and API.
pub struct ScriptedServer {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl ScriptedServer {
    pub async fn start(script: Vec<Reply>) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(VecDeque::from(script)));
        let recorded = requests.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let Some(request) = read_request(&mut stream).await else {
                    continue;
                };
                recorded.lock().unwrap().push(request);
                let reply = script.lock().unwrap().pop_front().unwrap_or(Reply::Json(
                    500,
                    vec![],
                    "{\"error\":\"script_exhausted\"}".into(),
                ));
                let reply = match reply {
                    Reply::Delayed(wait, reply) => {
                        tokio::time::sleep(wait).await;
                        *reply
                    }
                    other => other,
                };
                match reply {
                    Reply::Hangup | Reply::Delayed(..) => drop(stream),
                    Reply::Json(status, headers, body) => {
                        let mut head = format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                            body.len()
                        );
                        for (name, value) in headers {
                            head.push_str(&format!("{name}: {value}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = stream.write_all(head.as_bytes()).await;
                        let _ = stream.write_all(body.as_bytes()).await;
                        let _ = stream.shutdown().await;
                    }
                }
            }
        });
        ScriptedServer {
            addr,
            requests,
            task,
        }
    }

    pub fn url(&self, path: &str) -> url::Url {
        url::Url::parse(&format!("http://{}{path}", self.addr)).unwrap()
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request(stream: &mut TcpStream) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Some(Recorded {
        method,
        target,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// A `Write` whose bytes the test can read back.
#[derive(Clone, Default)]
pub struct SharedBuf(pub Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captured IO streams: (io, stdout, stderr).
pub fn captured_io() -> (ccsetup::ui::IoStreams, SharedBuf, SharedBuf) {
    let (out, err) = (SharedBuf::default(), SharedBuf::default());
    let io = ccsetup::ui::IoStreams::captured(Box::new(out.clone()), Box::new(err.clone()));
    (io, out, err)
}

/// Stands in for the user's browser plus Constant Contact's consent page:
/// on `open`, it reads `redirect_uri` and `state` from the authorization URL
/// and requests the redirect with the scripted answer (like a browser
/// following CC's 302).
pub struct ConsentingBrowser {
    /// Query to send back, with `{state}` replaced by the URL's state.
    pub answer: String,
    pub opened: Mutex<Vec<String>>,
}

impl ConsentingBrowser {
    pub fn approving(code: &str) -> Self {
        ConsentingBrowser {
            answer: format!("code={code}&state={{state}}"),
            opened: Mutex::new(Vec::new()),
        }
    }
}

impl ccsetup::browser::Browser for ConsentingBrowser {
    fn can_launch(&self) -> Result<(), String> {
        Ok(())
    }
    fn open(&self, url: &str) -> Result<(), String> {
        self.opened.lock().unwrap().push(url.to_string());
        let url = url::Url::parse(url).map_err(|e| e.to_string())?;
        let param = |name: &str| {
            url.query_pairs()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        let redirect = url::Url::parse(&param("redirect_uri")).map_err(|e| e.to_string())?;
        let state: String =
            url::form_urlencoded::byte_serialize(param("state").as_bytes()).collect();
        let query = self.answer.replace("{state}", &state);
        let port = redirect.port().unwrap_or(80);
        // Like a real browser: in the background, a moment later.
        std::thread::spawn(move || {
            use std::io::Read;
            std::thread::sleep(Duration::from_millis(50));
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            write!(
                s,
                "GET /callback?{query} HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"
            )
            .unwrap();
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
        });
        Ok(())
    }
}
