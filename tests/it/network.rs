//! Issue 17: requests over a real network. One HTTP client per run keeps
//! its connections alive, so a host's second request costs no new
//! connection (and, against the real services, no TLS handshake).

use std::time::Duration;

use crate::support::e2e::TestEnv;
use ccsetup::sandbox::test_browser::Decision;

#[test]
fn a_run_reuses_its_connections_to_each_host() {
    let env = TestEnv::with_hypothetical_write_api();
    let before = env.sandbox.connections_accepted();
    env.run(env.init_cmd(&[]), Decision::Approve).assert_code(0);
    let requests = env.sandbox.all_requests().len();
    let connections = env.sandbox.connections_accepted() - before;
    // init talks to Constant Contact and StackOne a dozen times; the test
    // browser's own requests (consent) open connections of their own.
    assert!(requests >= 8, "{requests} requests");
    assert!(
        connections < requests,
        "{connections} connections for {requests} requests: keep-alive is not reused"
    );
}

#[test]
fn status_runs_its_network_checks_at_once() {
    let env = TestEnv::with_hypothetical_write_api();
    env.run(env.init_cmd(&[]), Decision::Approve).assert_code(0);
    env.sandbox.cc().log().clear();
    env.sandbox.stackone().log().clear();
    // Every answer takes 300 ms, so requests sent together are seen in
    // flight together by the stand-ins (whatever the machine's speed).
    env.sandbox.set_latency(Duration::from_millis(300));
    let mut status = env.cmd();
    status.args(["status", "--json"]);
    let run = env.run_no_consent(status);
    env.sandbox.set_latency(Duration::ZERO);
    run.assert_code(0);
    let mut timings = env.sandbox.cc().log().timings();
    timings.extend(env.sandbox.stackone().log().timings());
    assert!(timings.len() >= 5, "status made {} requests", timings.len());
    // The most requests in flight at one moment: the secret check, the
    // account call, the registration probes and StackOne's two lists are
    // independent, so they overlap.
    let most_at_once = timings
        .iter()
        .map(|t| {
            timings
                .iter()
                .filter(|o| o.started <= t.started && t.started < o.started + o.took)
                .count()
        })
        .max()
        .unwrap_or(0);
    assert!(
        most_at_once >= 4,
        "at most {most_at_once} of {} requests in flight at once",
        timings.len()
    );
}
