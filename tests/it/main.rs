//! The integration tests: one binary (linking the crate once is what a test
//! build spends its time on), one module per area.
//!
//! Areas, from the outside in:
//!
//! - `cli`: the command-line surface (parsing, help snapshots).
//! - `init_flow`, `wizard_noninteractive`, `wizard_pty`, `wizard_snapshots`,
//!   `demo`: the wizard, by flag and environment, through a real PTY, as
//!   snapshotted screens, and `ccsetup demo`.
//! - `authorize_e2e`, `secrets_e2e`, `stackone_e2e`: the real binary end to
//!   end against the stand-ins (authorization, token cache and rotation,
//!   Connector Profiles).
//! - `hardening_canary`, `hardening_faults`, `hardening_fuzz_regressions`:
//!   no secret leaks anywhere, injected faults end cleanly, fuzzer finds.
//! - `oauth_flow`, `oauth_listener`, `oauth_paste_stdin`, `oauth_request`:
//!   the OAuth library in process (scripted HTTP, real sockets).
//! - `stackone_client`: the StackOne client and `ensure_connector_profile`
//!   in process; every call through its `Ensure` builder, and the cases that
//!   are one call against one prepared stand-in as rows of its `cases!` table.
//! - `sandbox_cc`, `sandbox_stackone`: the stand-ins themselves are strict.
//! - `store_files`, `secret_service`: config.toml, the file store and lock,
//!   and the keyring backend inside a private D-Bus session (it re-runs this
//!   binary with `--exact`, see `support::test_name`).
//!
//! Helpers live in `support/` and nowhere else: `support::e2e` (a `TestEnv`
//! running the real binary against the stand-ins, with a test browser),
//! `support::http` (a scripted HTTP server, raw requests, captured output),
//! `support::fault` (the fault builder for the stand-ins), plus the D-Bus
//! config and keyring script the Secret Service tests run under. A helper
//! that nothing uses is deleted, not allowed.
//!
//! To add an area: create `tests/it/<area>.rs` with a `//!` line saying what
//! it covers, add `mod <area>;` below (with `#![cfg(unix)]` at the top of the
//! file if it needs Unix), and take helpers from `crate::support`. Insta
//! snapshots land in `tests/it/snapshots/it__<area>__<name>.snap`. Run one
//! area with `cargo test --test it <area>::`.

mod support;

mod authorize_e2e;
mod cc_real_world;
mod cli;
mod demo;
mod hardening_canary;
mod hardening_faults;
mod hardening_fuzz_regressions;
mod hardening_round2;
mod init_flow;
mod network;
mod oauth_flow;
mod oauth_listener;
mod oauth_paste_stdin;
mod oauth_request;
mod reset_json;
mod sandbox_cc;
mod sandbox_stackone;
mod secret_service;
mod secrets_e2e;
mod stackone_as_it_is;
mod stackone_client;
mod stackone_e2e;
mod stackone_hub;
mod stackone_paging;
mod stackone_real_world;
mod stackone_rotate_pty;
mod stackone_schema;
mod storage_isolation;
mod store_files;
mod wizard_newcomer;
mod wizard_noninteractive;
mod wizard_pty;
mod wizard_snapshots;
