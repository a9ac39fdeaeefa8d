//! HTML shared by the stand-ins' pages: one escaper, one small stylesheet,
//! and the page frame with a banner that says plainly which real service
//! this is NOT.

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

pub const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;\
padding:0 1rem;color:#1d2733}\
.banner{background:#fff3cd;border:1px solid #e0c36c;padding:.5rem .8rem;border-radius:4px;\
font-size:.9rem}\
.error{background:#fde2e1;border:1px solid #d9534f;padding:.6rem .8rem;border-radius:4px}\
ul.error{padding-left:2rem}\
.notice{background:#e3f4e1;border:1px solid #5cb85c;padding:.6rem .8rem;border-radius:4px}\
.secret{font-family:monospace;font-size:1.1rem;background:#f4f4f4;padding:.3rem .5rem}\
code{background:#f4f4f4;padding:0 .2rem}\
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;\
text-align:left}\
label{display:block;margin:.3rem 0}\
textarea,select,input:not([type=radio]):not([type=checkbox]):not([type=hidden])\
{width:100%;box-sizing:border-box;font-family:monospace}\
button{padding:.4rem 1rem;margin:.4rem .4rem 0 0}";

/// A complete page: `service` names the real service this stands in for,
/// `title` is plain text, `body` is already HTML.
pub fn page(service: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{title} — ccsetup sandbox</title><style>{STYLE}</style></head><body>\
<p class=\"banner\"><strong>ccsetup sandbox — not the real {service}.</strong> \
A local stand-in started by ccsetup; nothing here touches a real account.</p>\
<h1>{title}</h1>\n{body}\n</body></html>\n",
        service = escape(service),
        title = escape(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_break_out() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn page_names_the_service_it_is_not() {
        let p = page("StackOne", "T<", "<p>b</p>");
        assert!(p.contains("not the real StackOne"));
        assert!(p.contains("<h1>T&lt;</h1>"));
    }
}
