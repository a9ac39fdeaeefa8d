//! Strict local stand-ins of the two remote services, for tests and `demo`.
//!
//! [`Sandbox::start`] runs a Constant Contact authorization server + API and
//! a StackOne API on ephemeral loopback ports, on a runtime of their own (so
//! they work from plain `#[test]`s and from inside `demo`'s runtime alike).
//! They are strict on purpose: a stand-in that accepts what the real service
//! refuses hides bugs. Every request is logged for tests to assert on.

pub mod constant_contact;
pub mod html;
pub mod server;
pub mod stackone;
pub mod test_browser;

use crate::endpoints::Endpoints;

pub use server::{Fault, FaultAction, RecordedRequest, RequestLog, RequestTiming, Response};

/// How to start the stand-ins.
#[derive(Debug, Clone, Default)]
pub struct SandboxOptions {
    pub cc: constant_contact::CcOptions,
    pub stackone: stackone::StackOneOptions,
}

impl SandboxOptions {
    /// The stand-ins with StackOne's HYPOTHETICAL profile-write API switched
    /// on ([`stackone::ProfileWriteApi::Hypothetical`]): a StackOne that does
    /// not exist today, for the tests and demos that name it.
    pub fn with_hypothetical_write_api() -> Self {
        SandboxOptions {
            stackone: stackone::StackOneOptions {
                profile_write_api: stackone::ProfileWriteApi::Hypothetical,
                ..Default::default()
            },
            ..Default::default()
        }
    }
}

/// Both stand-ins, running. Dropping it stops them.
pub struct Sandbox {
    cc: constant_contact::CcStandIn,
    stackone: stackone::StackOneStandIn,
    // Last: servers stop before the runtime goes away.
    runtime: Option<tokio::runtime::Runtime>,
}

impl Sandbox {
    pub fn start(options: SandboxOptions) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("ccsetup-sandbox")
            .enable_all()
            .build()?;
        let cc = constant_contact::CcStandIn::start(runtime.handle(), options.cc)?;
        let mut stackone_options = options.stackone;
        // The hub reaches Constant Contact over HTTP only, as StackOne does.
        stackone_options
            .constant_contact
            .get_or_insert_with(|| stackone::CcEndpoints {
                authorize: cc.authorize_url(),
                token: cc.token_url(),
                api: cc.api_url(),
            });
        let stackone = stackone::StackOneStandIn::start(runtime.handle(), stackone_options)?;
        // StackOne's callback is served by its stand-in (docs/contract.md:
        // the hub's consent never lands on the real StackOne host).
        cc.forward_redirects(
            stackone::STACKONE_CALLBACK_URI,
            stackone.url(stackone::CALLBACK_PATH),
        );
        Ok(Sandbox {
            cc,
            stackone,
            runtime: Some(runtime),
        })
    }

    pub fn cc(&self) -> &constant_contact::CcStandIn {
        &self.cc
    }

    pub fn stackone(&self) -> &stackone::StackOneStandIn {
        &self.stackone
    }

    /// The endpoints that point ccsetup at these stand-ins.
    pub fn endpoints(&self) -> Endpoints {
        Endpoints {
            cc_authorize: self.cc.authorize_url(),
            cc_token: self.cc.token_url(),
            cc_revoke: self.cc.revoke_url(),
            cc_api: self.cc.api_url(),
            cc_portal: self.cc.portal_url(),
            stackone_api: self.stackone.api_url(),
            stackone_dashboard: self.stackone.dashboard_url(),
        }
    }

    /// The same as environment variables, for a child `ccsetup` process.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        self.endpoints().to_env()
    }

    /// Delays every answer of both stand-ins by `latency`, like a round
    /// trip to the real services (benchmarks; tests of request overlap).
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.cc.server().set_latency(latency);
        self.stackone.server().set_latency(latency);
    }

    /// TCP connections both stand-ins accepted so far.
    pub fn connections_accepted(&self) -> usize {
        self.cc.server().connections_accepted() + self.stackone.server().connections_accepted()
    }

    /// Every request either stand-in received, Constant Contact's first.
    pub fn all_requests(&self) -> Vec<RecordedRequest> {
        let mut all = self.cc.log().entries();
        all.extend(self.stackone.log().entries());
        all
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            // Dropping a runtime inside another runtime would panic.
            rt.shutdown_background();
        }
    }
}
