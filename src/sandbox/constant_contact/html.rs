//! The HTML every page of the stand-in shares: escaping, one small inline
//! stylesheet, and a banner that says plainly this is not Constant Contact.

use super::super::server::Response;

pub use crate::sandbox::html::escape;

/// A complete page: `title` is plain text, `body` is already HTML.
pub fn page(title: &str, body: &str) -> String {
    crate::sandbox::html::page("Constant Contact", title, body)
}

/// An error page: shown instead of redirecting when the redirect target
/// cannot be trusted, and for portal input the stand-in refuses.
pub fn error_page(status: u16, error: &str, description: &str) -> Response {
    let body = format!(
        "<p class=\"error\"><strong>{}</strong>: {}</p>",
        escape(error),
        escape(description)
    );
    no_store(Response::html(status, page("Something went wrong", &body)))
}

/// Responses with one-time values (consent ids, a fresh secret, tokens)
/// must not be cached; used for the token endpoint's JSON too.
pub fn no_store(response: Response) -> Response {
    response
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_neutralises_markup_and_attribute_quotes() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
