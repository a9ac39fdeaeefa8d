//! A "browser" for tests: answers the stand-in's consent page over real
//! HTTP, and delivers the resulting redirect to a callback listener —
//! what a person does in a real browser, without one.
//!
//! Redirects are never followed automatically: [`consent`] returns where
//! the browser would go, so a test can inspect it before [`deliver`]ing it.

/// The consent page's two buttons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Approve,
    Deny,
}

impl Decision {
    fn form_value(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Deny => "deny",
        }
    }
}

/// Opens `authorize_url`, presses `decision` on the consent page and
/// returns the redirect `Location` (the callback URL with `code` or
/// `error`). When the authorization server redirects at once (an error
/// sent back to the client), that `Location` is returned: a browser would
/// follow it. Error pages and anything unexpected are `Err`.
pub async fn consent(authorize_url: &str, decision: Decision) -> Result<String, String> {
    let client = crate::http::client().map_err(|e| e.to_string())?;
    let mut page_url =
        url::Url::parse(authorize_url).map_err(|e| format!("bad authorize URL: {e}"))?;
    let mut response = client
        .get(page_url.clone())
        .send()
        .await
        .map_err(|e| format!("GET {page_url}: {e}"))?;
    // The authorization server sends a browser without a session to its
    // sign-in page on its own origin: follow that one redirect, as a
    // browser would; any other redirect goes back to the client.
    if let Some(next) = location(&response)
        .and_then(|l| page_url.join(&l).ok())
        .filter(|next| next.origin() == page_url.origin())
    {
        page_url = next;
        response = client
            .get(page_url.clone())
            .send()
            .await
            .map_err(|e| format!("GET {page_url}: {e}"))?;
    }
    let status = response.status().as_u16();
    if let Some(location) = location(&response) {
        return Ok(location);
    }
    let html = response.text().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!(
            "the authorize page answered {status}: {}",
            excerpt(&html)
        ));
    }
    let form = find_tag(&html, "form", |_| true)
        .ok_or_else(|| format!("no consent form on the page: {}", excerpt(&html)))?;
    let action = attribute(form, "action").ok_or("the consent form has no action")?;
    let input = find_tag(&html, "input", |tag| {
        attribute(tag, "name").as_deref() == Some("consent_id")
    })
    .ok_or("the consent form has no consent_id")?;
    let consent_id = attribute(input, "value").ok_or("the consent_id input has no value")?;
    let action_url = page_url
        .join(&action)
        .map_err(|e| format!("bad form action {action}: {e}"))?;

    let response = client
        .post(action_url.clone())
        .form(&[
            ("consent_id", consent_id.as_str()),
            ("decision", decision.form_value()),
        ])
        .send()
        .await
        .map_err(|e| format!("POST {action_url}: {e}"))?;
    let status = response.status().as_u16();
    match location(&response) {
        Some(location) => Ok(location),
        None => {
            let body = response.text().await.unwrap_or_default();
            Err(format!(
                "the consent decision answered {status}: {}",
                excerpt(&body)
            ))
        }
    }
}

/// Opens `location` (the callback URL — i.e. hits the wizard's loopback
/// listener) and returns the status and body it answered.
pub async fn deliver(location: &str) -> Result<(u16, String), String> {
    let client = crate::http::client().map_err(|e| e.to_string())?;
    let response = client
        .get(location)
        .send()
        .await
        .map_err(|e| format!("GET {location}: {e}"))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|e| e.to_string())?;
    Ok((status, body))
}

/// [`consent`] from synchronous code (a plain `#[test]`, or a thread
/// beside a running wizard).
pub fn consent_blocking(authorize_url: &str, decision: Decision) -> Result<String, String> {
    let url = authorize_url.to_string();
    on_fresh_runtime(async move { consent(&url, decision).await })
}

/// [`deliver`] from synchronous code.
pub fn deliver_blocking(location: &str) -> Result<(u16, String), String> {
    let location = location.to_string();
    on_fresh_runtime(async move { deliver(&location).await })
}

/// What a customer does with a StackOne hub link: opens it, clicks
/// Connect, answers Constant Contact's consent page with `decision`, and
/// pastes the redirected address back into the hub (the stand-in cannot
/// serve StackOne's real callback). Returns the hub's final page text.
pub async fn link_account(auth_link_url: &str, decision: Decision) -> Result<String, String> {
    let client = crate::http::client().map_err(|e| e.to_string())?;
    let hub = url::Url::parse(auth_link_url).map_err(|e| format!("bad hub link: {e}"))?;
    let html = client
        .get(hub.clone())
        .send()
        .await
        .map_err(|e| format!("GET the hub: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let token = hidden_value(&html, "token")
        .ok_or_else(|| format!("no Connect form: {}", excerpt(&html)))?;
    let connect = hub.join("/hub/connect").map_err(|e| e.to_string())?;
    let html = client
        .post(connect)
        .form(&[("token", token.as_str())])
        .send()
        .await
        .map_err(|e| format!("POST Connect: {e}"))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let link = find_tag(&html, "a", |t| {
        attribute(t, "id").as_deref() == Some("authorize")
    })
    .and_then(|t| attribute(t, "href"))
    .ok_or_else(|| {
        format!(
            "Connect did not lead to Constant Contact: {}",
            excerpt(&html)
        )
    })?;
    let redirected = consent(&link, decision).await?;
    let served_here = hub
        .join(crate::sandbox::stackone::CALLBACK_PATH)
        .map_err(|e| e.to_string())?;
    let response = if redirected.starts_with(served_here.as_str()) {
        // The sandbox serves StackOne's callback: the browser just goes there.
        client
            .get(redirected.as_str())
            .send()
            .await
            .map_err(|e| format!("GET the callback: {e}"))?
    } else {
        let finish = hub.join("/hub/callback").map_err(|e| e.to_string())?;
        client
            .post(finish)
            .form(&[
                ("token", token.as_str()),
                ("redirected_url", redirected.as_str()),
            ])
            .send()
            .await
            .map_err(|e| format!("POST the callback: {e}"))?
    };
    let status = response.status().as_u16();
    let html = response.text().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("the hub answered {status}: {}", excerpt(&html)));
    }
    Ok(html)
}

/// [`link_account`] from synchronous code.
pub fn link_account_blocking(auth_link_url: &str, decision: Decision) -> Result<String, String> {
    let url = auth_link_url.to_string();
    on_fresh_runtime(async move { link_account(&url, decision).await })
}

/// The value of the hidden input `name`.
fn hidden_value(html: &str, name: &str) -> Option<String> {
    find_tag(html, "input", |t| {
        attribute(t, "name").as_deref() == Some(name)
    })
    .and_then(|t| attribute(t, "value"))
}

/// Runs `fut` on a new thread with its own current-thread runtime, so it
/// works whether or not the caller is inside a runtime (never nested).
fn on_fresh_runtime<T: Send + 'static>(
    fut: impl Future<Output = Result<T, String>> + Send + 'static,
) -> Result<T, String> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start a runtime: {e}"))?
            .block_on(fut)
    })
    .join()
    .map_err(|_| "the test browser thread panicked".to_string())?
}

/// The `Location` of a redirect, if it is one.
fn location(response: &reqwest::Response) -> Option<String> {
    if !response.status().is_redirection() {
        return None;
    }
    response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The inside of the first `<name …>` tag accepted by `pick`.
fn find_tag<'a>(html: &'a str, name: &str, pick: impl Fn(&str) -> bool) -> Option<&'a str> {
    let open = format!("<{name}");
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let after = &rest[start + open.len()..];
        let end = after.find('>')?;
        let tag = &after[..end];
        if tag.starts_with(char::is_whitespace) && pick(tag) {
            return Some(tag);
        }
        rest = &after[end..];
    }
    None
}

/// A double-quoted attribute's value, with the entities the stand-in's
/// escaping produces decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(
        tag[start..start + len]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

fn excerpt(text: &str) -> String {
    text.chars().take(400).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_consent_form_fields() {
        let html = r#"<p>x</p><form method="post" action="/a?x=1&amp;y=2"><input type="hidden" name="other" value="no"><input type="hidden" name="consent_id" value="abc&amp;d"></form>"#;
        let form = find_tag(html, "form", |_| true).unwrap();
        assert_eq!(attribute(form, "action").unwrap(), "/a?x=1&y=2");
        let input = find_tag(html, "input", |t| {
            attribute(t, "name").as_deref() == Some("consent_id")
        })
        .unwrap();
        assert_eq!(attribute(input, "value").unwrap(), "abc&d");
        assert!(find_tag("<formula>", "form", |_| true).is_none());
    }
}
