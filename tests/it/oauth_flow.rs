//! The whole authorization flow, the token grants and the account check,
//! against scripted HTTP servers standing in for Constant Contact.

use std::time::Duration;

use crate::support::http::{ConsentingBrowser, Reply, ScriptedServer, captured_io};
use base64::Engine;
use ccsetup::browser::NoBrowser;
use ccsetup::constant_contact::{AccountSummary, fetch_account_summary_with};
use ccsetup::error::ErrorKind;
use ccsetup::oauth::{
    AuthorizeParams, CodeSource, LoopbackListener, PasteSource, RefreshTokenState, RetryPolicy,
    TokenEndpoint, authorize,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

const CLIENT_ID: &str = "client-id-1";
const CLIENT_SECRET: &str = "s3cr:et/+";

fn token_json() -> serde_json::Value {
    json!({
        "access_token": "AT-1",
        "token_type": "Bearer",
        "expires_in": 86400,
        "refresh_token": "RT-1",
        "scope": "account_read offline_access"
    })
}

fn params(token: &ScriptedServer, port: u16, timeout: Duration) -> AuthorizeParams {
    AuthorizeParams {
        authorize_url: url::Url::parse("https://authz.example/oauth2/default/v1/authorize")
            .unwrap(),
        token_url: token.url("/oauth2/default/v1/token"),
        client_id: CLIENT_ID.into(),
        client_secret: SecretString::from(CLIENT_SECRET),
        scopes: vec!["account_read".into(), "offline_access".into()],
        redirect_port: port,
        timeout,
        http: ccsetup::http::client().unwrap(),
        retry: RetryPolicy::immediate(3),
    }
}

fn endpoint(server: &ScriptedServer, attempts: u32) -> TokenEndpoint {
    TokenEndpoint::new(
        ccsetup::http::client().unwrap(),
        &server.url("/token"),
        CLIENT_ID,
        &SecretString::from(CLIENT_SECRET),
    )
    .with_retry_policy(RetryPolicy::immediate(attempts))
}

#[tokio::test]
async fn browser_callback_then_code_exchange_with_basic_auth() {
    let token = ScriptedServer::start(vec![Reply::json(200, token_json())]).await;
    let listener = LoopbackListener::bind(0).unwrap();
    let port = listener.port();
    let browser = ConsentingBrowser::approving("the-code");
    let (mut io, out, err) = captured_io();
    let auth = authorize(
        params(&token, port, Duration::from_secs(20)),
        listener,
        &browser,
        &mut io,
        None,
    )
    .await
    .unwrap();

    assert_eq!(auth.code_source, CodeSource::Listener);
    assert_eq!(auth.tokens.access_token.expose_secret(), "AT-1");
    assert_eq!(
        auth.tokens.refresh_token.as_ref().unwrap().expose_secret(),
        "RT-1"
    );
    assert!(!auth.refresh_token_missing);
    assert_eq!(auth.tokens.scope, ["account_read", "offline_access"]);
    assert_eq!(
        auth.redirect_uri,
        format!("http://localhost:{port}/callback")
    );

    // The URL was printed, and no secret anywhere in the output.
    let opened = browser.opened.lock().unwrap()[0].clone();
    let shown = format!("{}{}", out.text(), err.text());
    assert!(shown.contains(&opened), "{shown}");
    for secret in ["AT-1", "RT-1", "the-code", CLIENT_SECRET] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }
    assert!(!format!("{auth:?}").contains("AT-1"));

    // The token request: Basic client auth, form body, PKCE verifier.
    let requests = token.requests();
    assert_eq!(requests.len(), 1);
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/oauth2/default/v1/token");
    let basic = r.header("authorization").unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(basic.strip_prefix("Basic ").unwrap())
        .unwrap();
    // RFC 6749 §2.3.1: id and secret are form-encoded before Basic.
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        "client-id-1:s3cr%3Aet%2F%2B"
    );
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
    assert_eq!(
        r.form_value("grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(r.form_value("code").as_deref(), Some("the-code"));
    assert_eq!(
        r.form_value("redirect_uri"),
        Some(format!("http://localhost:{port}/callback"))
    );
    let verifier = r.form_value("code_verifier").unwrap();
    assert!(verifier.len() >= 43);
    assert!(r.form_value("client_secret").is_none());
    // And the challenge sent to the browser matches that verifier.
    let challenge = url::Url::parse(&opened)
        .unwrap()
        .query_pairs()
        .find(|(n, _)| n == "code_challenge")
        .unwrap()
        .1
        .into_owned();
    use sha2::Digest;
    assert_eq!(
        challenge,
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()))
    );
}

/// Waits for the authorization URL on `err` and returns its state.
async fn printed_state(err: &crate::support::http::SharedBuf) -> String {
    loop {
        if let Some(line) = err
            .text()
            .lines()
            .find(|l| l.contains("https://authz.example"))
        {
            let url = url::Url::parse(line.trim()).unwrap();
            return url
                .query_pairs()
                .find(|(n, _)| n == "state")
                .unwrap()
                .1
                .into_owned();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn when_a_paste_wins_the_listener_is_closed_before_the_code_exchange() {
    let token = ScriptedServer::start(vec![Reply::Delayed(
        Duration::from_millis(300),
        Box::new(Reply::json(200, token_json())),
    )])
    .await;
    let listener = LoopbackListener::bind(0).unwrap();
    let port = listener.port();
    let requests = token.requests.clone();
    let watcher = tokio::spawn(async move {
        while requests.lock().unwrap().is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    });
    let (mut io, _out, err) = captured_io();
    let (tx, paste) = PasteSource::channel(1);
    let p = params(&token, port, Duration::from_secs(20));
    let flow =
        tokio::spawn(async move { authorize(p, listener, &NoBrowser, &mut io, Some(paste)).await });
    let state = printed_state(&err).await;
    tx.send(format!(
        "http://localhost:{port}/callback?code=c&state={state}"
    ))
    .await
    .unwrap();
    flow.await.unwrap().unwrap();
    assert!(
        watcher.await.unwrap(),
        "listener still open during the exchange"
    );
}

#[tokio::test]
async fn a_paste_races_the_listener_and_an_invalid_paste_is_asked_again() {
    let token = ScriptedServer::start(vec![Reply::json(200, token_json())]).await;
    let listener = LoopbackListener::bind(0).unwrap();
    let port = listener.port();
    let (tx, paste) = PasteSource::channel(4);
    let (mut io, _out, err) = captured_io();
    let flow = tokio::spawn(async move {
        let r = authorize(
            params(&token, port, Duration::from_secs(20)),
            listener,
            &NoBrowser,
            &mut io,
            Some(paste),
        )
        .await;
        (r, token.requests())
    });
    let state = printed_state(&err).await;
    tx.send("not a url".into()).await.unwrap();
    tx.send(format!(
        "http://localhost:{port}/callback?code=stale&state=old"
    ))
    .await
    .unwrap();
    tx.send(format!(
        "  'http://localhost:{port}/callback?code=pasted-code&state={state}'  "
    ))
    .await
    .unwrap();
    let (result, requests) = flow.await.unwrap();
    let auth = result.unwrap();
    assert_eq!(auth.code_source, CodeSource::Paste);
    assert_eq!(
        requests[0].form_value("code").as_deref(),
        Some("pasted-code")
    );
    let shown = err.text();
    assert!(shown.contains("Not opening a browser here"), "{shown}");
    assert!(shown.contains("paste it here"), "{shown}");
    assert!(shown.contains("not a URL"), "{shown}");
    assert!(shown.contains("another authorization attempt"), "{shown}");
    assert!(!shown.contains("pasted-code"));
    // The listener is closed once the paste won.
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn with_a_paste_source_the_listener_can_still_win() {
    let token = ScriptedServer::start(vec![Reply::json(200, token_json())]).await;
    let listener = LoopbackListener::bind(0).unwrap();
    let port = listener.port();
    let (_tx, paste) = PasteSource::channel(1);
    let (mut io, _out, err) = captured_io();
    let flow = tokio::spawn(async move {
        authorize(
            params(&token, port, Duration::from_secs(20)),
            listener,
            &NoBrowser,
            &mut io,
            Some(paste),
        )
        .await
    });
    let state = printed_state(&err).await;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let r =
        crate::support::http::get(addr, &format!("/callback?code=via-browser&state={state}")).await;
    assert_eq!(crate::support::http::status_of(&r), 200);
    assert_eq!(
        flow.await.unwrap().unwrap().code_source,
        CodeSource::Listener
    );
}

#[tokio::test]
async fn a_pasted_denial_ends_the_flow_with_exit_3() {
    let token = ScriptedServer::start(vec![]).await;
    let listener = LoopbackListener::bind(0).unwrap();
    let port = listener.port();
    let (tx, paste) = PasteSource::channel(1);
    let (mut io, _out, err) = captured_io();
    let p = params(&token, port, Duration::from_secs(20));
    let flow =
        tokio::spawn(async move { authorize(p, listener, &NoBrowser, &mut io, Some(paste)).await });
    let state = printed_state(&err).await;
    tx.send(format!(
        "http://localhost:{port}/callback?error=access_denied&error_description=nope&state={state}"
    ))
    .await
    .unwrap();
    let e = flow.await.unwrap().unwrap_err();
    assert_eq!(e.exit_code(), 3);
    assert!(e.message().contains("access_denied: nope"));
    assert!(token.requests().is_empty());
}

#[tokio::test]
async fn no_answer_in_time_is_exit_3_promising_a_new_url() {
    let token = ScriptedServer::start(vec![]).await;
    let listener = LoopbackListener::bind(0).unwrap();
    let port = listener.port();
    let (mut io, _out, _err) = captured_io();
    let e = authorize(
        params(&token, port, Duration::from_millis(200)),
        listener,
        &NoBrowser,
        &mut io,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Authorization);
    // The spent URL is not offered again: the next try makes a new one.
    let hint = e.hint().unwrap();
    assert!(!hint.contains("https://authz.example"), "{hint}");
    assert!(hint.contains("new authorization URL"), "{hint}");
    assert!(LoopbackListener::bind(port).is_ok());
}

#[tokio::test]
async fn no_offline_access_means_no_refresh_token_and_a_warning() {
    let body = json!({"access_token": "AT", "token_type": "bearer", "expires_in": 86400, "scope": "account_read"});
    let token = ScriptedServer::start(vec![Reply::json(200, body)]).await;
    let listener = LoopbackListener::bind(0).unwrap();
    let port = listener.port();
    let mut p = params(&token, port, Duration::from_secs(20));
    p.scopes = vec!["account_read".into()];
    let (mut io, _out, err) = captured_io();
    let auth = authorize(
        p,
        listener,
        &ConsentingBrowser::approving("c"),
        &mut io,
        None,
    )
    .await
    .unwrap();
    assert!(auth.refresh_token_missing);
    assert!(auth.tokens.refresh_token.is_none());
    assert!(err.text().contains("offline_access"), "{}", err.text());
}

#[tokio::test]
async fn a_wrong_secret_is_exit_3_and_not_retried() {
    let token = ScriptedServer::start(vec![Reply::json(
        401,
        json!({"error": "invalid_client", "error_description": "Client authentication failed."}),
    )])
    .await;
    let listener = LoopbackListener::bind(0).unwrap();
    let port = listener.port();
    let (mut io, _out, _err) = captured_io();
    let e = authorize(
        params(&token, port, Duration::from_secs(20)),
        listener,
        &ConsentingBrowser::approving("c"),
        &mut io,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(e.exit_code(), 3);
    assert!(e.message().contains("does not belong to this API Key"));
    assert!(!e.render(true).contains(CLIENT_SECRET));
    assert_eq!(token.requests().len(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = ScriptedServer::start(vec![
        Reply::json(503, json!({"error": "temporarily_unavailable"})),
        Reply::Json(429, vec![("Retry-After", "0".into())], "{}".into()),
        Reply::json(200, token_json()),
    ])
    .await;
    let tokens = endpoint(&server, 3)
        .refresh(&SecretString::from("RT-0"))
        .await
        .unwrap();
    assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "RT-1");
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    for r in &requests {
        assert_eq!(r.form_value("grant_type").as_deref(), Some("refresh_token"));
        assert_eq!(r.form_value("refresh_token").as_deref(), Some("RT-0"));
    }
}

#[tokio::test]
async fn server_errors_exhaust_into_exit_4_with_the_token_unused() {
    let server = ScriptedServer::start(vec![
        Reply::json(500, json!({})),
        Reply::json(502, json!({})),
        Reply::json(503, json!({})),
    ])
    .await;
    let e = endpoint(&server, 3)
        .refresh(&SecretString::from("RT-0"))
        .await
        .unwrap_err();
    assert_eq!(e.error.exit_code(), 4);
    assert_eq!(e.refresh_token, RefreshTokenState::Unused);
    assert!(
        e.error.message().contains("3 tries"),
        "{}",
        e.error.message()
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn a_long_retry_after_is_not_waited_for() {
    let server = ScriptedServer::start(vec![Reply::Json(
        429,
        vec![("Retry-After", "3600".into())],
        "{}".into(),
    )])
    .await;
    let started = std::time::Instant::now();
    let e = endpoint(&server, 3)
        .refresh(&SecretString::from("RT-0"))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(e.error.exit_code(), 4);
    assert_eq!(e.refresh_token, RefreshTokenState::Unused);
    assert!(
        e.error.hint().unwrap().contains("3600 s"),
        "{:?}",
        e.error.hint()
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn a_refresh_whose_answer_is_lost_is_retried_once_then_flagged() {
    let server = ScriptedServer::start(vec![Reply::Hangup, Reply::Hangup, Reply::Hangup]).await;
    let e = endpoint(&server, 3)
        .refresh(&SecretString::from("RT-0"))
        .await
        .unwrap_err();
    assert_eq!(e.error.exit_code(), 4);
    assert_eq!(e.refresh_token, RefreshTokenState::MaybeSpent);
    assert!(
        e.error
            .hint()
            .unwrap()
            .contains("ccsetup rotate --reauthorize")
    );
    // The same token was sent twice: once, and one retry.
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(
        requests
            .iter()
            .all(|r| r.form_value("refresh_token").as_deref() == Some("RT-0"))
    );
}

/// docs/contract.md `token`: a network failure after the refresh request was sent is
/// retried once with the same token, then exit 4 with the reauthorize hint.
/// Against rotating tokens that retry meets `invalid_grant` (our own lost
/// request spent the token): still exit 4, not 3, and the token is gone.
#[tokio::test]
async fn a_lost_answer_then_invalid_grant_is_rejected() {
    let server = ScriptedServer::start(vec![
        Reply::Hangup,
        Reply::json(
            400,
            json!({"error": "invalid_grant", "error_description": "used"}),
        ),
    ])
    .await;
    let e = endpoint(&server, 3)
        .refresh(&SecretString::from("RT-0"))
        .await
        .unwrap_err();
    assert_eq!(e.error.exit_code(), 4);
    assert_eq!(e.refresh_token, RefreshTokenState::Rejected);
    assert!(e.error.message().contains("lost"));
    assert!(e.error.hint().unwrap().contains("rotate --reauthorize"));
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_exit_4_with_the_token_unused() {
    // A port nobody listens on: connection refused before anything is sent.
    let port = crate::support::e2e::free_port();
    let url = url::Url::parse(&format!("http://127.0.0.1:{port}/token")).unwrap();
    let e = TokenEndpoint::new(
        ccsetup::http::client().unwrap(),
        &url,
        CLIENT_ID,
        &SecretString::from(CLIENT_SECRET),
    )
    .with_retry_policy(RetryPolicy::immediate(3))
    .refresh(&SecretString::from("RT-0"))
    .await
    .unwrap_err();
    assert_eq!(e.error.exit_code(), 4);
    assert_eq!(e.refresh_token, RefreshTokenState::Unused);
    assert!(e.error.message().contains("could not reach"));
}

#[tokio::test]
async fn a_refresh_without_a_new_refresh_token_keeps_the_old_one() {
    let server = ScriptedServer::start(vec![Reply::json(
        200,
        json!({"access_token": "AT-2", "token_type": "Bearer"}),
    )])
    .await;
    let tokens = endpoint(&server, 1)
        .refresh(&SecretString::from("RT-0"))
        .await
        .unwrap();
    assert_eq!(tokens.refresh_token.unwrap().expose_secret(), "RT-0");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!((tokens.expires_at - (now + 86400)).abs() < 5);
}

#[tokio::test]
async fn a_success_answer_that_is_not_json_is_exit_4_without_echoing_it() {
    let server = ScriptedServer::start(vec![Reply::Json(
        200,
        vec![],
        "access_token=AT-leak".into(),
    )])
    .await;
    let e = endpoint(&server, 1)
        .refresh(&SecretString::from("RT-0"))
        .await
        .unwrap_err();
    assert_eq!(e.error.exit_code(), 4);
    assert!(!e.error.render(true).contains("AT-leak"));
}

#[tokio::test]
async fn account_summary_is_fetched_with_the_bearer_token() {
    let server = ScriptedServer::start(vec![Reply::json(
        200,
        json!({"organization_name": "Acme", "contact_email": "a@acme.test", "encoded_account_id": "e1"}),
    )])
    .await;
    let summary = fetch_account_summary_with(
        &ccsetup::http::client().unwrap(),
        &server.url("/v3"),
        &SecretString::from("AT-1"),
        &RetryPolicy::immediate(3),
    )
    .await
    .unwrap();
    assert_eq!(
        summary,
        AccountSummary {
            organization_name: Some("Acme".into()),
            contact_email: Some("a@acme.test".into()),
            encoded_account_id: Some("e1".into()),
            ..Default::default()
        }
    );
    let r = &server.requests()[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.target, "/v3/account/summary");
    assert_eq!(r.header("authorization"), Some("Bearer AT-1"));
}

#[tokio::test]
async fn account_summary_errors() {
    let http = ccsetup::http::client().unwrap();
    let token = SecretString::from("AT-1");
    let cases = [
        (
            401,
            ErrorKind::Authorization,
            "rejected the access token",
            1,
        ),
        (403, ErrorKind::Authorization, "account_read", 1),
        (429, ErrorKind::Remote, "rate-limiting", 3),
        (500, ErrorKind::Remote, "failed", 3),
    ];
    for (status, kind, text, tries) in cases {
        let body = json!([{"error_key": "k", "error_message": "m"}]);
        let server = ScriptedServer::start(vec![Reply::json(status, body); 3]).await;
        let e = fetch_account_summary_with(
            &http,
            &server.url("/v3"),
            &token,
            &RetryPolicy::immediate(3),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), kind, "{status}");
        assert!(e.message().contains(text), "{status}: {}", e.message());
        assert!(!e.render(true).contains("AT-1"));
        assert_eq!(server.requests().len(), tries, "{status}");
    }
    // A 429 then a success.
    let server = ScriptedServer::start(vec![
        Reply::Json(429, vec![("Retry-After", "0".into())], "[]".into()),
        Reply::json(200, json!({"organization_name": "Later"})),
    ])
    .await;
    let s = fetch_account_summary_with(
        &http,
        &server.url("/v3"),
        &token,
        &RetryPolicy::immediate(3),
    )
    .await
    .unwrap();
    assert_eq!(s.organization_name.as_deref(), Some("Later"));
}

/// A browser that seems available but fails to launch.
struct BrokenBrowser;

impl ccsetup::browser::Browser for BrokenBrowser {
    fn can_launch(&self) -> Result<(), String> {
        Ok(())
    }
    fn open(&self, _url: &str) -> Result<(), String> {
        Err("xdg-open exited with 3".into())
    }
}

#[tokio::test]
async fn a_failed_launch_warns_and_falls_back_to_paste() {
    let token = ScriptedServer::start(vec![Reply::json(200, token_json())]).await;
    let listener = LoopbackListener::bind(0).unwrap();
    let port = listener.port();
    let (tx, paste) = PasteSource::channel(1);
    let (mut io, _out, err) = captured_io();
    let p = params(&token, port, Duration::from_secs(20));
    let flow =
        tokio::spawn(
            async move { authorize(p, listener, &BrokenBrowser, &mut io, Some(paste)).await },
        );
    let state = printed_state(&err).await;
    tx.send(format!(
        "http://localhost:{port}/callback?code=c&state={state}"
    ))
    .await
    .unwrap();
    assert_eq!(flow.await.unwrap().unwrap().code_source, CodeSource::Paste);
    let shown = err.text();
    assert!(
        shown.contains("warning: could not open a browser (xdg-open exited with 3)"),
        "{shown}"
    );
}
