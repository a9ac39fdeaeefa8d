//! The cached access token, kept in the store (kind
//! [`SecretKind::AccessToken`](super::SecretKind::AccessToken)) as JSON
//! `{"access_token","expires_at","scope"}`.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::error::{Error, Result};

/// An access token with its expiry (Unix seconds) and scope. `Debug` never
/// shows the token; the token is zeroed on drop.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAccessToken {
    pub access_token: String,
    /// Unix time (seconds) at which the token expires.
    pub expires_at: i64,
    pub scope: String,
}

impl StoredAccessToken {
    /// The JSON form kept in the store.
    pub fn to_secret(&self) -> SecretString {
        // Serializing a struct of strings and an integer cannot fail.
        let json = serde_json::to_string(self).unwrap_or_default();
        SecretString::from(json)
    }

    /// Parses the stored JSON. The error never quotes the value.
    pub fn from_secret(secret: &SecretString) -> Result<Self> {
        serde_json::from_str(secret.expose_secret()).map_err(|_| {
            Error::secret_store("the stored access token is malformed")
                .with_hint("run `ccsetup token --force-refresh` to replace it")
        })
    }

    /// True while more than `min_secs` seconds are left at `now` (Unix secs).
    pub fn is_fresh(&self, now: i64, min_secs: i64) -> bool {
        self.expires_at.saturating_sub(now) > min_secs
    }

    /// Seconds left at `now` (negative once expired).
    pub fn seconds_left(&self, now: i64) -> i64 {
        self.expires_at.saturating_sub(now)
    }

    /// The token as a secret, for an `Authorization` header.
    pub fn secret(&self) -> SecretString {
        SecretString::from(self.access_token.clone())
    }
}

impl fmt::Debug for StoredAccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredAccessToken")
            .field("access_token", &"[REDACTED]")
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .finish()
    }
}

impl Drop for StoredAccessToken {
    fn drop(&mut self) {
        self.access_token.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(expires_at: i64) -> StoredAccessToken {
        StoredAccessToken {
            access_token: "at-VERY-SECRET".into(),
            expires_at,
            scope: "account_read offline_access".into(),
        }
    }

    #[test]
    fn round_trips_through_the_store_form() {
        let t = tok(1_700_000_000);
        let s = t.to_secret();
        let v: serde_json::Value = serde_json::from_str(s.expose_secret()).unwrap();
        assert_eq!(v["access_token"], "at-VERY-SECRET");
        assert_eq!(v["expires_at"], 1_700_000_000);
        assert_eq!(v["scope"], "account_read offline_access");
        assert_eq!(StoredAccessToken::from_secret(&s).unwrap(), t);
        assert_eq!(t.secret().expose_secret(), "at-VERY-SECRET");
    }

    #[test]
    fn debug_redacts_the_token() {
        let text = format!("{:?}", tok(5));
        assert!(!text.contains("VERY-SECRET"), "{text}");
        assert!(text.contains("REDACTED"));
        assert!(text.contains("expires_at: 5"));
    }

    #[test]
    fn malformed_is_an_error_that_does_not_quote_the_value() {
        let s = SecretString::from("{\"access_token\":\"leak-me\",\"expires_at\":\"x\"}");
        let err = StoredAccessToken::from_secret(&s).unwrap_err();
        assert_eq!(err.exit_code(), 5);
        assert!(!err.render(true).contains("leak-me"));
    }

    #[test]
    fn freshness_needs_more_than_min_secs_left() {
        let t = tok(1_000);
        assert!(t.is_fresh(900, 60));
        assert!(!t.is_fresh(940, 60), "exactly 60 s left is not enough");
        assert!(!t.is_fresh(2_000, 60));
        assert_eq!(t.seconds_left(2_000), -1_000);
        assert!(tok(i64::MAX).is_fresh(i64::MIN, 60), "no overflow");
    }
}
