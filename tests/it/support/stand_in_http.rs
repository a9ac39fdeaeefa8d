//! The stand-ins used directly, without the binary in between: started on
//! a runtime of their own, and asked over real HTTP. For the tests that
//! check what a stand-in itself answers (docs/vendors.md) before checking
//! how ccsetup reads it.

use ccsetup::sandbox::stackone::{StackOneOptions, StackOneStandIn};

/// A one-worker runtime for a server the test talks to from another one.
pub fn server_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The StackOne stand-in with `options`, on a [`server_runtime`] of its own
/// (keep the runtime as long as the stand-in).
pub fn start_stackone(options: StackOneOptions) -> (tokio::runtime::Runtime, StackOneStandIn) {
    let rt = server_runtime();
    let so = StackOneStandIn::start(rt.handle(), options).unwrap();
    (rt, so)
}

/// Runs `fut` to completion on a runtime of its own (the tests are
/// synchronous; the HTTP client is async).
pub fn block_on<T>(fut: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

/// A `GET` with ccsetup's own HTTP client, which follows no redirect: the
/// status and the `Location` header, if any.
pub fn get_without_redirect(url: impl reqwest::IntoUrl) -> (u16, Option<String>) {
    block_on(async {
        let resp = ccsetup::http::client()
            .unwrap()
            .get(url)
            .send()
            .await
            .unwrap();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        (resp.status().as_u16(), location)
    })
}
