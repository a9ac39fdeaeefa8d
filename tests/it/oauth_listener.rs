//! The loopback redirect listener over real sockets.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::support::http::{get, raw_request, status_of};
use ccsetup::error::ErrorKind;
use ccsetup::oauth::LoopbackListener;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const STATE: &str = "s7aTe-xyz_123";
const WAIT: Duration = Duration::from_secs(20);

fn v4(port: u16) -> SocketAddr {
    SocketAddr::from((Ipv4Addr::LOCALHOST, port))
}

/// Binds on a free port and starts waiting; returns the port and the wait.
fn start() -> (u16, tokio::task::JoinHandle<ccsetup::error::Result<String>>) {
    let listener = LoopbackListener::bind(0).expect("bind");
    let port = listener.port();
    let task = tokio::spawn(async move {
        listener
            .wait_for_code(STATE, WAIT)
            .await
            .map(|c| c.secret().clone())
    });
    (port, task)
}

#[tokio::test]
async fn listens_on_loopback_only() {
    let listener = LoopbackListener::bind(0).unwrap();
    let addrs = listener.local_addrs();
    assert!(!addrs.is_empty());
    for addr in addrs {
        assert!(addr.ip().is_loopback(), "{addr}");
        assert_eq!(addr.port(), listener.port());
    }
    assert_eq!(
        listener.redirect_uri(),
        format!("http://localhost:{}/callback", listener.port())
    );
}

#[tokio::test]
async fn the_matching_callback_wins_and_gets_a_closing_page() {
    let (port, task) = start();
    let response = get(v4(port), &format!("/callback?code=the-code&state={STATE}")).await;
    assert_eq!(status_of(&response), 200, "{response}");
    assert!(response.contains("close this tab"), "{response}");
    assert!(response.contains("Referrer-Policy: no-referrer"));
    assert_eq!(task.await.unwrap().unwrap(), "the-code");
}

#[tokio::test]
async fn a_wrong_state_is_refused_and_the_wait_goes_on() {
    let (port, task) = start();
    let wrong = get(v4(port), "/callback?code=forged&state=not-ours").await;
    assert_eq!(status_of(&wrong), 400, "{wrong}");
    assert!(!task.is_finished());
    let right = get(v4(port), &format!("/callback?code=real&state={STATE}")).await;
    assert_eq!(status_of(&right), 200);
    assert_eq!(task.await.unwrap().unwrap(), "real");
}

#[tokio::test]
async fn a_missing_state_is_refused() {
    let (port, task) = start();
    for target in [
        "/callback?code=abc",
        "/callback",
        "/callback?error=access_denied",
    ] {
        let r = get(v4(port), target).await;
        assert_eq!(status_of(&r), 400, "{target}: {r}");
    }
    assert!(!task.is_finished());
    get(v4(port), &format!("/callback?code=ok&state={STATE}")).await;
    assert_eq!(task.await.unwrap().unwrap(), "ok");
}

#[tokio::test]
async fn access_denied_ends_with_an_authorization_error_and_the_description() {
    let (port, task) = start();
    let r = get(
        v4(port),
        &format!(
            "/callback?error=access_denied&error_description=The+user+denied+the+request&state={STATE}"
        ),
    )
    .await;
    assert_eq!(status_of(&r), 200);
    assert!(r.contains("did not grant"));
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authorization);
    assert_eq!(err.exit_code(), 3);
    assert!(err.message().contains("access_denied"), "{}", err.message());
    assert!(err.message().contains("The user denied the request"));
    assert!(err.hint().is_some());
}

#[tokio::test]
async fn other_paths_are_404_and_other_methods_405() {
    let (port, task) = start();
    for target in ["/favicon.ico", "/", "/callback/extra", "/robots.txt"] {
        let r = get(v4(port), target).await;
        assert_eq!(status_of(&r), 404, "{target}");
    }
    let post = raw_request(
        v4(port),
        format!("POST /callback?code=x&state={STATE} HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            .as_bytes(),
    )
    .await;
    assert_eq!(status_of(&post), 405);
    assert!(!task.is_finished());
    get(v4(port), &format!("/callback?code=c&state={STATE}")).await;
    assert_eq!(task.await.unwrap().unwrap(), "c");
}

#[tokio::test]
async fn hostile_connections_neither_crash_nor_block_the_real_callback() {
    let (port, task) = start();
    let addr = v4(port);
    // Connections that stay open: half-open (nothing sent) and slow
    // (a partial request line), held for the whole test.
    let mut held = Vec::new();
    for _ in 0..20 {
        held.push(TcpStream::connect(addr).await.unwrap());
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /callback?code=slo").await.unwrap();
        held.push(slow);
    }
    // Garbage, malformed lines, binary, and oversized requests.
    let oversized = {
        let mut r = b"GET /callback?code=".to_vec();
        r.extend(vec![b'a'; 16 * 1024]);
        r.extend(format!("&state={STATE} HTTP/1.1\r\n\r\n").as_bytes());
        r
    };
    let big_headers = {
        let mut r = format!("GET /callback?code=x&state={STATE} HTTP/1.1\r\n").into_bytes();
        for i in 0..400 {
            r.extend(format!("X-Filler-{i}: {}\r\n", "z".repeat(40)).as_bytes());
        }
        r.extend(b"\r\n");
        r
    };
    let garbage: Vec<Vec<u8>> = vec![
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03".to_vec(), // a TLS hello
        b"\r\n\r\n".to_vec(),
        b"GET\r\n\r\n".to_vec(),
        b"GET /callback?code=x&state=s HTTP/9.9\r\n\r\n".to_vec(),
        b"BREW /pot HTTP/1.1\r\n\r\n".to_vec(),
        vec![0u8; 3000],
        oversized,
        big_headers,
    ];
    for _ in 0..3 {
        for g in &garbage {
            let mut s = TcpStream::connect(addr).await.unwrap();
            let _ = s.write_all(g).await;
            // Some are closed at once, some are left to the listener.
            drop(s);
        }
    }
    // The listener answers a too-large request with 431 and survives.
    let mut r = b"GET /x".to_vec();
    r.extend(vec![b'a'; 16 * 1024]);
    let answer = raw_request(addr, &r).await;
    assert!(answer.is_empty() || status_of(&answer) == 431, "{answer}");

    let started = Instant::now();
    let ok = get(addr, &format!("/callback?code=winner&state={STATE}")).await;
    assert_eq!(status_of(&ok), 200, "{ok}");
    let code = tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .expect("the real callback was blocked")
        .unwrap()
        .unwrap();
    assert_eq!(code, "winner");
    assert!(started.elapsed() < Duration::from_secs(3));
    drop(held);
}

#[tokio::test]
async fn a_half_closed_request_is_still_answered() {
    let (port, task) = start();
    let mut s = TcpStream::connect(v4(port)).await.unwrap();
    s.write_all(format!("GET /callback?code=hc&state={STATE} HTTP/1.1\r\n").as_bytes())
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    assert_eq!(task.await.unwrap().unwrap(), "hc");
}

#[tokio::test]
async fn a_callback_over_ipv6_loopback_works() {
    let listener = LoopbackListener::bind(0).unwrap();
    let Some(v6) = listener.local_addrs().into_iter().find(|a| a.is_ipv6()) else {
        eprintln!("skipped: this host has no IPv6 loopback");
        return;
    };
    let task = tokio::spawn(async move { listener.wait_for_code(STATE, WAIT).await });
    let r = get(v6, &format!("/callback?code=six&state={STATE}")).await;
    assert_eq!(status_of(&r), 200);
    assert_eq!(task.await.unwrap().unwrap().secret(), "six");
}

#[tokio::test]
async fn a_taken_port_is_a_usage_error_naming_it() {
    let blocker = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = blocker.local_addr().unwrap().port();
    let err = LoopbackListener::bind(port).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Usage);
    assert_eq!(err.exit_code(), 2);
    assert!(
        err.message().contains(&port.to_string()),
        "{}",
        err.message()
    );
    let hint = err.hint().unwrap();
    assert!(hint.contains("--redirect-port"), "{hint}");
    assert!(hint.contains("redirect URI registered"), "{hint}");
}

#[tokio::test]
async fn no_callback_in_time_is_an_authorization_error() {
    let listener = LoopbackListener::bind(0).unwrap();
    let started = Instant::now();
    let err = listener
        .wait_for_code(STATE, Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(err.kind(), ErrorKind::Authorization);
    assert!(err.message().contains("within"), "{}", err.message());
    assert!(err.hint().unwrap().contains("again"));
}

#[tokio::test]
async fn the_port_is_free_again_after_success_and_after_timeout() {
    let (port, task) = start();
    get(v4(port), &format!("/callback?code=x&state={STATE}")).await;
    task.await.unwrap().unwrap();
    // Nobody listens any more, and the port can be bound again at once.
    assert!(TcpStream::connect(v4(port)).await.is_err());
    let again = LoopbackListener::bind(port).expect("port free after success");
    assert_eq!(again.port(), port);
    again
        .wait_for_code(STATE, Duration::from_millis(50))
        .await
        .unwrap_err();
    LoopbackListener::bind(port).expect("port free after a timeout");
}

#[tokio::test]
async fn exactly_one_callback_is_accepted() {
    let (port, task) = start();
    let first = get(v4(port), &format!("/callback?code=first&state={STATE}")).await;
    assert_eq!(status_of(&first), 200);
    assert_eq!(task.await.unwrap().unwrap(), "first");
    // A later duplicate finds nobody listening.
    assert!(TcpStream::connect(v4(port)).await.is_err());
}
