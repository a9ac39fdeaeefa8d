//! Requests sent straight to the stand-ins over real HTTP, without the
//! binary in between: for the tests that check what the stand-in itself
//! answers (docs/vendors.md) before checking how ccsetup reads it.

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
