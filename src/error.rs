//! One error type for the whole program, carrying the exit code it maps to.
//!
//! Every failure a user can see is an [`Error`]: a kind (which decides the exit
//! code of docs/contract.md "Exit codes"), a message in the user's terms, and an optional
//! hint saying what to do next. Messages must never contain a secret: build them
//! from names, ids, paths and status codes only.

use std::fmt;

/// What went wrong, at the granularity of the documented exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// Unexpected failure, or `status`/`doctor` found a failing part (exit 1).
    Failure,
    /// Bad usage or bad input, missing input in non-interactive mode (exit 2).
    Usage,
    /// Authorization failed: denied, state mismatch, timeout, invalid grant/client (exit 3).
    Authorization,
    /// A remote service failed after retries, could not be reached, or a step
    /// must be done by hand in the StackOne dashboard (exit 4).
    Remote,
    /// The secret store is unavailable, timed out or refused (exit 5).
    SecretStore,
    /// Interrupted by the user (exit 130).
    Interrupted,
}

impl ErrorKind {
    /// The kind's name in `--json` error objects.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Failure => "failure",
            ErrorKind::Usage => "usage",
            ErrorKind::Authorization => "authorization",
            ErrorKind::Remote => "remote",
            ErrorKind::SecretStore => "secret_store",
            ErrorKind::Interrupted => "interrupted",
        }
    }

    /// The process exit code of docs/contract.md for this kind.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorKind::Failure => 1,
            ErrorKind::Usage => 2,
            ErrorKind::Authorization => 3,
            ErrorKind::Remote => 4,
            ErrorKind::SecretStore => 5,
            ErrorKind::Interrupted => 130,
        }
    }
}

/// A user-facing failure: what went wrong and what to do next.
#[derive(Debug)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    hint: Option<String>,
    /// Lower-level cause, shown with `-v`. Must not carry secrets either.
    source: Option<anyhow::Error>,
    /// Extra top-level members of the `--json` error object (e.g. the
    /// `registration` report an exit 3 is about).
    json_fields: Vec<(&'static str, serde_json::Value)>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            hint: None,
            source: None,
            json_fields: Vec::new(),
        }
    }
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Failure, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    pub fn authorization(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Authorization, message)
    }
    pub fn remote(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Remote, message)
    }
    pub fn secret_store(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::SecretStore, message)
    }
    pub fn interrupted() -> Self {
        Self::new(ErrorKind::Interrupted, "interrupted")
    }

    /// A value that non-interactive mode could not obtain: names both the flag
    /// and the environment variable that supply it.
    pub fn missing_input(what: &str, flag: &str, env: Option<&str>) -> Self {
        let how = match env {
            Some(env) => format!("pass {flag} or set {env}"),
            None => format!("pass {flag}"),
        };
        Self::usage(format!("missing {what}: {how}"))
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_source(mut self, source: impl Into<anyhow::Error>) -> Self {
        self.source = Some(source.into());
        self
    }
    /// Adds `name: value` beside `"error"` in the `--json` object.
    pub fn with_json_field(mut self, name: &'static str, value: serde_json::Value) -> Self {
        self.json_fields.push((name, value));
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    pub fn exit_code(&self) -> i32 {
        self.kind.exit_code()
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    pub fn hint(&self) -> Option<&str> {
        self.hint.as_deref()
    }
    pub fn cause(&self) -> Option<&anyhow::Error> {
        self.source.as_ref()
    }

    /// The text printed on stderr: `error: …`, then the hint, then (verbose)
    /// the chain of causes.
    /// The `--json` form: `{"error":{"kind","message","hint"?,"exit_code"}}`,
    /// plus any [`Error::with_json_field`] members
    /// (messages hold no secret, so this is as safe as [`Error::render`]).
    pub fn to_json(&self) -> serde_json::Value {
        let mut error = serde_json::json!({
            "kind": self.kind.as_str(),
            "message": self.message,
            "exit_code": self.exit_code(),
        });
        if let Some(hint) = &self.hint {
            error["hint"] = serde_json::json!(hint);
        }
        let mut object = serde_json::json!({ "error": error });
        for (name, value) in &self.json_fields {
            object[*name] = value.clone();
        }
        object
    }

    pub fn render(&self, verbose: bool) -> String {
        let mut out = format!("error: {}", self.message);
        if let Some(hint) = &self.hint {
            out.push_str("\n  hint: ");
            out.push_str(hint);
        }
        if verbose && let Some(source) = &self.source {
            for cause in source.chain() {
                out.push_str("\n  cause: ");
                out.push_str(&cause.to_string());
            }
        }
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|e| e.as_ref() as _)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_match_the_spec_table() {
        let table = [
            (ErrorKind::Failure, 1),
            (ErrorKind::Usage, 2),
            (ErrorKind::Authorization, 3),
            (ErrorKind::Remote, 4),
            (ErrorKind::SecretStore, 5),
            (ErrorKind::Interrupted, 130),
        ];
        for (kind, code) in table {
            assert_eq!(kind.exit_code(), code, "{kind:?}");
        }
    }

    #[test]
    fn missing_input_names_flag_and_env() {
        let e = Error::missing_input("API Key (client id)", "--client-id", Some("CC_CLIENT_ID"));
        assert_eq!(e.exit_code(), 2);
        assert!(e.message().contains("--client-id"));
        assert!(e.message().contains("CC_CLIENT_ID"));
    }

    #[test]
    fn render_shows_hint_and_causes_only_when_verbose() {
        let e = Error::remote("StackOne did not answer")
            .with_hint("check your network")
            .with_source(anyhow::anyhow!("connection refused"));
        let quiet = e.render(false);
        assert!(quiet.contains("hint: check your network"));
        assert!(!quiet.contains("connection refused"));
        assert!(e.render(true).contains("cause: connection refused"));
    }
}
