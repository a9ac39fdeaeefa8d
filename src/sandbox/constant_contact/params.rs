//! Request parameters with OAuth's rule that none may be repeated
//! (RFC 6749 §3.1, §3.2): a repeated parameter is ambiguous, and a server
//! that silently takes the first or the last hides client bugs.

use super::super::server::Request;

/// Whether the body is declared a form (`application/x-www-form-urlencoded`,
/// parameters such as `charset` allowed).
pub(super) fn is_form(req: &Request) -> bool {
    req.header("content-type").is_some_and(|ct| {
        ct.split(';').next().is_some_and(|m| {
            m.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    })
}

/// Decoded parameters of one request.
pub(super) struct Params(Vec<(String, String)>);

/// A parameter was given more than once.
pub(super) struct Repeated;

impl Params {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        Params(pairs)
    }

    /// The one value of `name`; `Ok(None)` when absent.
    pub fn get(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self.0.iter().filter(|(k, _)| k == name);
        let first = values.next().map(|(_, v)| v.as_str());
        if values.next().is_some() {
            return Err(Repeated);
        }
        Ok(first)
    }

    /// Like [`Params::get`], an empty value counting as absent.
    pub fn non_empty(&self, name: &str) -> Result<Option<&str>, Repeated> {
        Ok(self.get(name)?.filter(|v| !v.is_empty()))
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The first parameter that occurs more than once, if any.
    pub fn first_repeated(&self) -> Option<&str> {
        self.0.iter().enumerate().find_map(|(i, (k, _))| {
            self.0[..i]
                .iter()
                .any(|(earlier, _)| earlier == k)
                .then_some(k.as_str())
        })
    }
}
