//! Authorization for real: the real binary's authorization flow against
//! the Constant Contact stand-in — consent, refusals, the listener under
//! abuse, IPv6, paste mode, `$BROWSER`, and token-endpoint trouble.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ccsetup::sandbox::Response;
use ccsetup::sandbox::test_browser::{self, Decision};

use crate::support::browser_stub::BrowserStub;
use crate::support::e2e::{
    OnUrl, TestEnv, answer_paste, assert_no_secret_in, error_text, run_answering, run_plain,
};
use crate::support::fault;

/// `location` with its `state` query parameter replaced by `state`
/// (`None`: removed).
fn with_state(location: &str, state: Option<&str>) -> String {
    let mut url = url::Url::parse(location).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "state" || state.is_some())
        .map(|(k, v)| {
            let v = match (k.as_ref(), state) {
                ("state", Some(s)) => s.to_string(),
                _ => v.into_owned(),
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

#[test]
fn approve_authorizes_and_shows_the_account() {
    let env = TestEnv::new();
    let run = env.run(env.init_cmd(&["--skip-stackone"]), Decision::Approve);
    run.assert_code(0);
    // Human output names the account that was authorized.
    assert!(
        run.stdout.contains("Sandbox Bakery"),
        "stdout:\n{}",
        run.stdout
    );
    assert_eq!(run.callbacks.len(), 1, "{:?}", run.callbacks);
    assert_eq!(run.callbacks[0].0, 200, "{:?}", run.callbacks);
    assert!(env.secret("default", "refresh_token").is_some());
    assert!(env.secret("default", "access_token").is_some());
    assert!(env.config_text().contains("Sandbox Bakery"));
    // The code exchange used HTTP Basic with the client's credentials.
    let tokens = env.token_requests("code");
    assert_eq!(tokens.len(), 1);
    let basic = tokens[0].header("authorization").unwrap_or("");
    assert!(basic.starts_with("Basic "), "{basic}");
    assert_no_secret_in(&run, &[&env.client_secret()]);
    // StackOne was skipped.
    assert!(env.stackone_requests().is_empty());
}

#[test]
fn json_result_of_an_authorized_init_without_stackone() {
    let env = TestEnv::new();
    let run = env.run(
        env.init_cmd(&["--skip-stackone", "--json"]),
        Decision::Approve,
    );
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["authorized"], true);
    assert_eq!(json["account"]["organization_name"], "Sandbox Bakery");
    assert_eq!(json["stackone"]["action"], "skipped");
}

#[test]
fn deny_exits_3_and_stores_nothing() {
    let env = TestEnv::new();
    let run = env.run(env.init_cmd(&[]), Decision::Deny);
    run.assert_code(3);
    let err = error_text(&run);
    assert!(err.contains("access_denied"), "{err}");
    assert!(err.contains("Approve"), "the hint names the button: {err}");
    assert!(env.config_text().is_empty());
    assert!(!env.config_dir().join("secrets/default.json").exists());
    assert!(env.token_requests("code").is_empty());
    // Only the read-only check of the StackOne API key (before consent).
    assert!(env.stackone_requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn a_wrong_state_is_refused_and_the_right_one_still_accepted() {
    let env = TestEnv::new();
    let on_url: OnUrl = Arc::new(|url, _| {
        let location = test_browser::consent_blocking(&url, Decision::Approve).unwrap();
        // A stale tab / forged link: same code, another state; or none.
        for bad in [
            with_state(&location, Some("not-the-state")),
            with_state(&location, None),
        ] {
            let (status, body) = test_browser::deliver_blocking(&bad).unwrap();
            assert_eq!(status, 400, "{bad}: {body}");
        }
        // A forged refusal (someone else's state) does not end the flow either.
        let port = url::Url::parse(&location).unwrap().port().unwrap();
        let forged =
            format!("http://localhost:{port}/callback?error=access_denied&state=not-the-state");
        assert_eq!(test_browser::deliver_blocking(&forged).unwrap().0, 400);
        // Then the real callback.
        test_browser::deliver_blocking(&location).unwrap()
    });
    let run = run_answering(
        env.init_cmd(&["--skip-stackone", "--auth-timeout", "30"]),
        false,
        Some(on_url),
    );
    run.assert_code(0);
    assert_eq!(run.callbacks, vec![(200, run.callbacks[0].1.clone())]);
    // The page waited for the exchange and says how it went.
    assert!(
        run.callbacks[0]
            .1
            .contains("Constant Contact authorized ccsetup")
    );
    // Exactly one code exchange: the refused callbacks never reached it.
    assert_eq!(env.token_requests("code").len(), 1);
}

#[test]
fn no_consent_times_out_with_exit_3_and_a_new_url_promised() {
    let env = TestEnv::new();
    let start = Instant::now();
    let run = env.run_no_consent(env.init_cmd(&["--auth-timeout", "2"]));
    let took = start.elapsed();
    run.assert_code(3);
    assert!(took < Duration::from_secs(20), "{took:?}");
    let err = error_text(&run);
    assert!(err.contains("within 2 s"), "{err}");
    let url = run
        .stderr
        .lines()
        .find_map(crate::support::e2e::authorize_url_in)
        .expect("the URL was printed");
    // That URL worked for this run only: the next try makes a new one.
    assert!(!err.contains(&url), "the error repeats a spent URL:\n{err}");
    assert!(err.contains("new authorization URL"), "{err}");
    assert!(env.config_text().is_empty());
    // Only the read-only check of the StackOne API key (before consent).
    assert!(env.stackone_requests().iter().all(|r| r.method == "GET"));
}

#[test]
fn a_taken_port_is_exit_2_before_any_authorization_request() {
    let env = TestEnv::new();
    let _taken = std::net::TcpListener::bind(("127.0.0.1", env.port)).unwrap();
    let run = env.run(env.init_cmd(&[]), Decision::Approve);
    run.assert_code(2);
    let err = error_text(&run);
    assert!(err.contains(&env.port.to_string()), "{err}");
    assert!(err.contains("--redirect-port"), "{err}");
    // Found before the browser: no URL printed, nothing reached either stand-in.
    assert!(
        run.stderr
            .lines()
            .all(|l| crate::support::e2e::authorize_url_in(l).is_none()),
        "{}",
        run.stderr
    );
    assert!(
        env.sandbox.cc().log().entries().is_empty(),
        "{:?}",
        env.sandbox.cc().log().entries()
    );
    assert!(env.stackone_requests().is_empty());
    assert!(env.config_text().is_empty());
}

/// One abusive connection to the listener.
fn abuse(addr: SocketAddr, kind: usize) {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(500)) else {
        return;
    };
    let _ = s.set_read_timeout(Some(Duration::from_millis(300)));
    let _ = s.set_write_timeout(Some(Duration::from_millis(300)));
    let payload: Vec<u8> = match kind % 9 {
        0 => b"\x00\xff\xfe garbage \r\n\r\n".to_vec(),
        1 => b"POST /callback?code=x&state=y HTTP/1.1\r\n\r\n".to_vec(),
        2 => b"GET /callback?code=forged&state=guess HTTP/1.1\r\n\r\n".to_vec(),
        3 => vec![b'A'; 20_000],
        4 => b"GET /favicon.ico HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
        5 => b"GET http://evil/callback HTTP/1.1\r\n\r\n".to_vec(),
        6 => b"GET /callback?code=a&code=b&state=s HTTP/1.1\r\n\r\n".to_vec(),
        // Slow: half a request line, then nothing.
        7 => b"GET /callback?co".to_vec(),
        _ => Vec::new(),
    };
    let _ = s.write_all(&payload);
    let mut sink = [0u8; 512];
    let _ = s.read(&mut sink);
}

#[test]
fn garbage_malformed_and_slow_requests_do_not_stop_the_real_callback() {
    let env = TestEnv::new();
    let port = env.port;
    let on_url: OnUrl = Arc::new(move |url, _| {
        let stop = Arc::new(AtomicBool::new(false));
        let mut addrs: Vec<SocketAddr> = vec![([127, 0, 0, 1], port).into()];
        if std::net::TcpListener::bind("[::1]:0").is_ok() {
            addrs.push(format!("[::1]:{port}").parse().unwrap());
        }
        // Slow connections that are held open for the whole flow.
        let held: Vec<TcpStream> = (0..24)
            .filter_map(|i| {
                let mut s = TcpStream::connect(addrs[i % addrs.len()]).ok()?;
                let _ = s.write_all(b"GET /call");
                Some(s)
            })
            .collect();
        // A loop of garbage on a few threads.
        let workers: Vec<_> = (0..3)
            .map(|w| {
                let (stop, addrs) = (stop.clone(), addrs.clone());
                std::thread::spawn(move || {
                    let mut i = w;
                    while !stop.load(Ordering::Relaxed) {
                        abuse(addrs[i % addrs.len()], i);
                        i += 1;
                    }
                    i
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let result = test_browser::consent_blocking(&url, Decision::Approve)
            .and_then(|location| test_browser::deliver_blocking(&location))
            .unwrap_or_else(|e| (0, e));
        stop.store(true, Ordering::Relaxed);
        let sent: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
        assert!(sent > 20, "the garbage loop ran ({sent} connections)");
        drop(held);
        result
    });
    let run = run_answering(
        env.init_cmd(&["--skip-stackone", "--auth-timeout", "30"]),
        false,
        Some(on_url),
    );
    run.assert_code(0);
    assert_eq!(run.callbacks.len(), 1);
    assert_eq!(run.callbacks[0].0, 200, "{:?}", run.callbacks);
    assert_eq!(env.token_requests("code").len(), 1);
    assert!(env.secret("default", "refresh_token").is_some());
}

#[test]
fn the_callback_can_arrive_over_ipv6_loopback() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("skipped: this host has no IPv6 loopback");
        return;
    }
    let env = TestEnv::new();
    let port = env.port;
    let on_url: OnUrl = Arc::new(move |url, _| {
        let location = test_browser::consent_blocking(&url, Decision::Approve).unwrap();
        let v6 = location.replacen(
            &format!("http://localhost:{port}/"),
            &format!("http://[::1]:{port}/"),
            1,
        );
        assert!(v6.starts_with("http://[::1]:"), "{location}");
        test_browser::deliver_blocking(&v6).unwrap_or_else(|e| (0, e))
    });
    let run = run_answering(
        env.init_cmd(&["--skip-stackone", "--auth-timeout", "30"]),
        false,
        Some(on_url),
    );
    run.assert_code(0);
    assert_eq!(run.callbacks[0].0, 200, "{:?}", run.callbacks);
}

#[test]
fn paste_mode_accepts_the_redirected_url_on_stdin() {
    let env = TestEnv::new();
    let mut cmd = env.init_cmd(&["--skip-stackone", "--no-browser", "--json"]);
    cmd.env_remove("CCSETUP_NO_BROWSER");
    let run = run_answering(cmd, true, Some(answer_paste(Decision::Approve)));
    run.assert_code(0);
    assert!(run.stderr.contains("paste it here"), "{}", run.stderr);
    assert_eq!(run.json()["account"]["organization_name"], "Sandbox Bakery");
    assert_eq!(run.callbacks, vec![(0, "pasted".to_string())]);
    assert!(env.secret("default", "refresh_token").is_some());
}

#[test]
fn paste_mode_explains_a_bad_paste_and_takes_the_next_one() {
    let env = TestEnv::new();
    let on_url: OnUrl = Arc::new(|url, stdin| {
        let location = test_browser::consent_blocking(&url, Decision::Approve).unwrap();
        crate::support::e2e::write_stdin_line(stdin, "not a url");
        crate::support::e2e::write_stdin_line(stdin, &with_state(&location, Some("someone-elses")));
        crate::support::e2e::write_stdin_line(stdin, &location);
        (0, "pasted".into())
    });
    let mut cmd = env.init_cmd(&["--skip-stackone", "--no-browser", "--auth-timeout", "30"]);
    cmd.env_remove("CCSETUP_NO_BROWSER");
    let run = run_answering(cmd, true, Some(on_url));
    run.assert_code(0);
    assert!(run.stderr.contains("not a URL"), "{}", run.stderr);
    assert!(
        run.stderr.contains("another authorization attempt"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)] // the fake browser is a shell script
#[test]
fn browser_env_opens_the_authorization_url() {
    let env = TestEnv::new();
    let browser = BrowserStub::new();
    let opened = browser.opened_file().to_path_buf();
    let mut cmd = env.init_cmd(&["--skip-stackone"]);
    browser.attach(&mut cmd);
    // The "browser": whatever the script was given, consented and delivered.
    let watcher = {
        let opened = opened.clone();
        std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if let Ok(text) = std::fs::read_to_string(&opened)
                    && let Some(url) = text.lines().next()
                {
                    return test_browser::consent_blocking(url, Decision::Approve)
                        .and_then(|l| test_browser::deliver_blocking(&l))
                        .unwrap_or_else(|e| (0, e));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            (0, "the browser script was never run".to_string())
        })
    };
    let run = run_plain(cmd);
    let delivered = watcher.join().unwrap();
    run.assert_code(0);
    assert_eq!(delivered.0, 200, "{delivered:?}");
    let text = std::fs::read_to_string(&opened).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "opened once: {text}");
    assert!(lines[0].contains("/oauth2/default/v1/authorize?"), "{text}");
    // Non-interactive: the portal page is not opened, only the authorization URL.
    assert!(!text.contains("/portal"), "{text}");
    assert!(
        run.stderr.contains("Opened it in your browser"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_wrong_client_secret_is_exit_3_and_never_printed() {
    let env = TestEnv::new();
    let wrong = "wrong-secret-canary-5d1e9a";
    let mut cmd = env.init_cmd(&["--skip-stackone"]);
    cmd.env("CC_CLIENT_SECRET", wrong);
    let run = env.run(cmd, Decision::Approve);
    run.assert_code(3);
    let err = error_text(&run);
    // Found by the secret check, before any browser (docs/contract.md `init` step 3).
    assert!(err.contains("refused the Client Secret"), "{err}");
    // The first init: the fix is the secret to pass, not a command that
    // needs a setup (src/hints.rs).
    assert!(err.contains("CC_CLIENT_SECRET"), "hint: {err}");
    assert!(!err.contains("ccsetup rotate"), "hint: {err}");
    assert!(run.callbacks.is_empty(), "no browser: {:?}", run.callbacks);
    assert!(env.token_requests("code").is_empty());
    assert_no_secret_in(&run, &[wrong, &env.client_secret()]);
    assert!(env.config_text().is_empty());
    // Nothing of the failed attempt is kept.
    assert!(!env.has_secret("default", "client_secret"));
    assert!(!env.has_secret("default", "refresh_token"));
}

#[test]
fn a_token_endpoint_500_is_retried_once_then_succeeds() {
    let env = TestEnv::new();
    env.sandbox.cc().inject(
        // The secret check's request, then the code exchange's first try.
        fault::on("POST", "/oauth2/default/v1/token")
            .times(2)
            .respond(Response::json(
                500,
                &serde_json::json!({"error":"server_error","error_description":"boom"}),
            )),
    );
    let run = env.run(
        env.init_cmd(&["--skip-stackone", "--json"]),
        Decision::Approve,
    );
    run.assert_code(0);
    assert!(
        run.stderr.contains("could not check the Client Secret"),
        "a 500 proves nothing: a warning, never a block:\n{}",
        run.stderr
    );
    let tokens = env.token_requests("code");
    assert_eq!(tokens.len(), 2, "one 500, one success");
    assert_eq!(tokens[0].status, Some(500));
    assert_eq!(tokens[1].status, Some(200));
    assert!(env.secret("default", "refresh_token").is_some());
}

#[test]
fn scopes_without_offline_access_warn_and_token_explains_why_it_cannot_refresh() {
    let env = TestEnv::new();
    let run = env.run(
        env.init_cmd(&["--skip-stackone", "--scopes", "account_read,contact_data"]),
        Decision::Approve,
    );
    run.assert_code(0);
    assert!(
        run.stderr.contains("warning:") && run.stderr.contains("offline_access"),
        "{}",
        run.stderr
    );
    assert!(!env.has_secret("default", "refresh_token"));
    assert!(env.has_secret("default", "access_token"));

    // The cached access token still works.
    let token = run_plain(env.ccsetup(&["token"]));
    token.assert_code(0);
    assert!(!token.stdout.trim().is_empty());

    // Renewing is impossible, and the message says why.
    let renew = run_plain(env.ccsetup(&["token", "--force-refresh"]));
    renew.assert_code(3);
    let err = error_text(&renew);
    let message = err.lines().next().unwrap_or_default();
    assert!(
        message.contains("without the offline_access scope"),
        "{err}"
    );
    // Re-authorizing with the same scopes would not help: the hint says
    // to authorize again with offline_access.
    assert!(!err.contains("rotate --reauthorize"), "{err}");
    assert!(
        err.contains("init --scopes") && err.contains("offline_access"),
        "{err}"
    );
    assert_eq!(env.token_requests("code").len(), 1);
    assert!(env.token_requests("refresh").is_empty());
}

#[test]
fn status_of_a_setup_without_offline_access_does_not_ask_for_a_refresh_token() {
    let env = TestEnv::new();
    env.run(
        env.init_cmd(&["--skip-stackone", "--scopes", "account_read,contact_data"]),
        Decision::Approve,
    )
    .assert_code(0);
    let run = run_plain(env.ccsetup(&["status", "--json"]));
    // Everything configured works: no refresh token was asked for.
    run.assert_code(0);
    let json = run.json();
    let check = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "refresh_token")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "skipped", "{json}");
    assert!(
        check["detail"].as_str().unwrap().contains("offline_access"),
        "{json}"
    );
}
