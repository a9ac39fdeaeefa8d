//! One way to write a fault for either stand-in:
//!
//! ```text
//! env.sandbox.cc().inject(fault::on("POST", TOKEN_PATH).times(10).reset_after_handling());
//! ```
//!
//! The StackOne-shaped answers (429 with StackOne's body, 500, 503) are
//! ready-made in `ccsetup::sandbox::stackone::faults`; this builder is for
//! everything else.

use ccsetup::sandbox::{Fault, FaultAction, Response};

/// Which requests a fault hits, and for how many of them (one unless said).
pub struct FaultOn {
    method: Option<&'static str>,
    path_prefix: &'static str,
    times: usize,
}

/// Requests with `method` to paths starting with `path_prefix`.
pub fn on(method: &'static str, path_prefix: &'static str) -> FaultOn {
    FaultOn {
        method: Some(method),
        path_prefix,
        times: 1,
    }
}

/// Requests with any method to paths starting with `path_prefix`.
pub fn any_method(path_prefix: &'static str) -> FaultOn {
    FaultOn {
        method: None,
        path_prefix,
        times: 1,
    }
}

impl FaultOn {
    /// The next `times` matching requests instead of only the next one.
    pub fn times(self, times: usize) -> Self {
        FaultOn { times, ..self }
    }

    /// Answer with `response`; the handler does not run.
    pub fn respond(self, response: Response) -> Fault {
        self.action(FaultAction::Respond(response))
    }

    /// Run the handler, then drop the connection: the answer is lost.
    pub fn reset_after_handling(self) -> Fault {
        self.action(FaultAction::ResetAfterHandling)
    }

    /// Wait `delay`, then handle normally (a slow service).
    #[cfg(unix)] // only the Unix-only areas use it
    pub fn delay(self, delay: std::time::Duration) -> Fault {
        self.action(FaultAction::Delay(delay))
    }

    pub fn action(self, action: FaultAction) -> Fault {
        Fault::new(self.method, self.path_prefix, action, self.times)
    }
}
