//! The HTML every page of the stand-in shares: escaping, one small inline
//! stylesheet, and a banner that says plainly this is not Constant Contact.

use super::super::server::Response;

/// Escapes text for an HTML element body or a double-quoted attribute.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;\
padding:0 1rem;color:#1d2733}\
.banner{background:#fff3cd;border:1px solid #e0c36c;padding:.5rem .8rem;border-radius:4px;\
font-size:.9rem}\
.error{background:#fde2e1;border:1px solid #d9534f;padding:.6rem .8rem;border-radius:4px}\
.notice{background:#e3f4e1;border:1px solid #5cb85c;padding:.6rem .8rem;border-radius:4px}\
.secret{font-family:monospace;font-size:1.1rem;background:#f4f4f4;padding:.3rem .5rem}\
code{background:#f4f4f4;padding:0 .2rem}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;\
text-align:left}\
label{display:block;margin:.3rem 0}textarea,input[type=text]{width:100%;font-family:monospace}\
button{padding:.4rem 1rem;margin:.4rem .4rem 0 0}";

/// A complete page: `title` is plain text, `body` is already HTML.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{title} — ccsetup sandbox</title><style>{STYLE}</style></head><body>\
<p class=\"banner\"><strong>ccsetup sandbox — not the real Constant Contact.</strong> \
A local stand-in started by ccsetup; nothing here touches a real account.</p>\
<h1>{title}</h1>\n{body}\n</body></html>\n",
        title = escape(title),
    )
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
