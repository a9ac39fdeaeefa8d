//! The integration tests: one binary (linking the crate once is what a test
//! build spends its time on), one module per area.
//!
//! Areas, from the outside in:
//!
//! - `cli`, `manual`: the command-line surface (parsing, help snapshots),
//!   `ccsetup help` and `ccsetup man`.
//! - `init`, `wizard_noninteractive`, `wizard_pty`, `wizard_newcomer`,
//!   `wizard_snapshots`, `demo`, `demo_messages`, `demo_serve`: the wizard, by
//!   flag and environment, through a real PTY, as snapshotted screens, and
//!   `ccsetup demo`; `browser`: the web pages clicked through in Chromium.
//! - `authorize`, `secrets`, `stackone_profiles`: the real binary end to end
//!   against the stand-ins (authorization, token cache and rotation,
//!   Connector Profiles); `constant_contact`, `stackone`: the two services as
//!   they really behave (registration and secret checks, the dashboard path,
//!   linking); `storage_isolation`, `network`: config dirs apart, one
//!   connection pool.
//! - `hardening_canary`, `hardening_faults`, `hardening_fuzz_regressions`,
//!   `attacks`: no secret leaks anywhere, injected faults end cleanly,
//!   fuzzer finds, attacks (signals, a full disk, hostile files) fail;
//!   `echoed_secrets`: secrets a service quotes back are redacted;
//!   `network_hardening`: answers of any size, proxies, hub links, deadlines,
//!   remote text in JSON, the overridden-endpoints notice.
//! - `oauth_flow`, `oauth_listener`, `oauth_paste_stdin`, `oauth_request`:
//!   the OAuth library in process (scripted HTTP, real sockets).
//! - `stackone_client`: the StackOne client and `ensure_connector_profile`
//!   in process; every call through its `Ensure` builder, and the cases that
//!   are one call against one prepared stand-in as rows of its `cases!` table.
//! - `next_steps`, `wizard_reask`: hints that fit their place, refused
//!   answers asked again, output that fits the terminal.
//! - `sandbox_cc`, `sandbox_stackone`: the stand-ins themselves are strict.
//! - `stackone_as_it_is`, `stackone_schema`, `stackone_paging`,
//!   `stackone_hub`, `stackone_rotate_pty`, `reset_json`: StackOne as it is
//!   (no write API, the dashboard form and pages, its published schema),
//!   paging that never trusts a short page, the hub in one tab, a dashboard
//!   edit proven by a link, and `reset --json`.
//! - `browser`: the web pages a user sees, clicked through in headless
//!   Chromium (`support::webdriver`, one helper per page in `support::pages`).
//! - `okta`: Constant Contact's Okta as it really answers (errors on the
//!   redirect URI, both `invalid_client` shapes, rate limits, rotation grace
//!   period and reuse detection) and one rule for client authentication.
//! - `cached_token` (Linux): a cached `token` opens no certificate file.
//! - `store_files`, `secret_service`: config.toml, the file store and lock,
//!   and the keyring backend inside a private D-Bus session (it re-runs this
//!   binary with `--exact`, see `support::test_name`).
//! - `config_dir_copies`: a copied config dir never touches the original's
//!   keyring entries (real Secret Service).
//! - `recovery_files`, `signal_deferral`: the refresh token recovery file is
//!   read only as ccsetup writes it, `reset` revokes the live token, and a
//!   signal during a refresh or between a code exchange and its storing
//!   costs no token.
//!
//! Helpers live in `support/` and nowhere else: `support::e2e` (a `TestEnv`
//! running the real binary against the stand-ins, with a test browser;
//! `TestEnv::new()` is StackOne as it is, and a test of StackOne's
//! hypothetical profile-write API names it: `TestEnv::with_hypothetical_write_api()`),
//! `support::http` (a scripted HTTP server, raw requests, captured output),
//! `support::fault` (the fault builder for the stand-ins), plus the D-Bus
//! config and keyring script the Secret Service tests run under. A helper
//! that nothing uses is deleted, not allowed.
//!
//! To add an area: create `tests/it/<area>.rs`, named by its subject (not by
//! an issue), with a `//!` line saying what it covers, add `mod <area>;`
//! below (with `#![cfg(unix)]` at the top of the file if it needs Unix), and
//! take helpers from `crate::support` (`every_test_file_is_listed_here`
//! fails for a file left out). Insta
//! snapshots land in `tests/it/snapshots/it__<area>__<name>.snap`. Run one
//! area with `cargo test --test it <area>::`.

mod support;

mod attacks;
mod authorize;
mod browser;
mod cached_token;
mod cli;
mod config_dir_copies;
mod constant_contact;
mod demo;
mod demo_messages;
mod demo_serve;
mod echoed_secrets;
mod hardening_canary;
mod hardening_faults;
mod hardening_fuzz_regressions;
mod init;
mod manual;
mod network;
mod network_hardening;
mod next_steps;
mod oauth_flow;
mod oauth_listener;
mod oauth_paste_stdin;
mod oauth_request;
mod okta;
mod recovery_files;
mod reset_json;
mod sandbox_cc;
mod sandbox_stackone;
mod secret_service;
mod secrets;
mod signal_deferral;
mod stackone;
mod stackone_as_it_is;
mod stackone_client;
mod stackone_hub;
mod stackone_paging;
mod stackone_profiles;
mod stackone_rotate_pty;
mod stackone_schema;
mod storage_isolation;
mod store_files;
mod wizard_newcomer;
mod wizard_noninteractive;
mod wizard_pty;
mod wizard_reask;
mod wizard_snapshots;

/// Every test file of this directory is one of the modules above: a file
/// nobody lists would compile into nothing and test nothing.
#[test]
fn every_test_file_is_listed_here() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let listing = std::fs::read_to_string(dir.join("main.rs")).unwrap();
    let unlisted = unlisted_files(&dir, &listing);
    assert!(
        unlisted.is_empty(),
        "not listed in tests/it/main.rs (add `mod <name>;`): {unlisted:?}"
    );
    // The check itself: a listing without `mod cli;` misses cli.rs.
    let without_cli = listing.replace("\nmod cli;", "\n");
    assert_eq!(unlisted_files(&dir, &without_cli), ["cli.rs"]);
}

/// One way to build the command and one way to find a port, both in
/// `support/`: a copy elsewhere drifts (an environment variable one copy
/// forgets to strip lets the caller's settings into a test).
#[test]
fn the_command_builder_and_free_port_live_only_in_support() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let mut copies = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for needle in ["fn free_port", concat!("std::env::", "vars()")] {
            if name != "main.rs" && text.contains(needle) {
                copies.push(format!("{name}: {needle}"));
            }
        }
    }
    assert!(copies.is_empty(), "use crate::support instead: {copies:?}");
}

/// The `.rs` files directly in `dir` (but `main.rs`) that `listing` does not
/// declare as `mod <name>;`.
#[cfg(test)]
fn unlisted_files(dir: &std::path::Path, listing: &str) -> Vec<String> {
    let mut unlisted: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs") && name != "main.rs")
        .filter(|name| {
            let module = name.trim_end_matches(".rs");
            !listing
                .lines()
                .any(|l| l.trim() == format!("mod {module};"))
        })
        .collect();
    unlisted.sort();
    unlisted
}
