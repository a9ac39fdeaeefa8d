//! Bounded retries with backoff for calls to Constant Contact (token
//! endpoint, account check): which delays, how many tries, and how to read
//! `Retry-After` and Okta's `X-Rate-Limit-Reset`.

use std::time::Duration;

/// How often and how patiently a remote call is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, the first included.
    pub max_attempts: u32,
    /// Delay before the second try; doubled each time up to `max_delay`.
    pub first_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the call fails
    /// at once and says when to try again.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    /// 3 tries, waiting 0.5 s then 1 s (2 s at most), honouring a
    /// `Retry-After` of up to 30 s.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            first_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// No waiting between tries (tests).
    pub fn immediate(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts,
            first_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_retry_after: Duration::from_secs(1),
        }
    }

    /// The longest a call under this policy can take when each try may run
    /// for `per_try` (the HTTP client's request timeout): every try running
    /// out its time, and the longest accepted wait between them. What a
    /// signal deferral around such a call must cover.
    pub fn worst_case(&self, per_try: Duration) -> Duration {
        let tries = self.max_attempts.max(1);
        per_try.saturating_mul(tries)
            + self
                .max_retry_after
                .max(self.max_delay)
                .saturating_mul(tries - 1)
    }

    /// The wait before try number `next_attempt` (2 for the first retry),
    /// or `None` when the server asked for a longer wait than we accept.
    pub fn delay_before(
        &self,
        next_attempt: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        if let Some(after) = retry_after {
            return (after <= self.max_retry_after).then_some(after);
        }
        let doublings = next_attempt.saturating_sub(2).min(16);
        Some(
            self.first_delay
                .saturating_mul(1u32 << doublings)
                .min(self.max_delay),
        )
    }
}

/// Reads a `Retry-After` header: delta-seconds, or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let format = time::format_description::well_known::Rfc2822;
    let when = time::OffsetDateTime::parse(value, &format).ok()?;
    let wait = when - time::OffsetDateTime::now_utc();
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

/// How long a response asks to wait: its `Retry-After`, else Okta's
/// `X-Rate-Limit-Reset` (docs/vendors.md §5), if present and readable. Both
/// are then capped alike by [`RetryPolicy::max_retry_after`].
pub fn retry_after_of(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    header(reqwest::header::RETRY_AFTER.as_str())
        .and_then(parse_retry_after)
        .or_else(|| {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            header("x-rate-limit-reset").and_then(|v| parse_rate_limit_reset(v, now))
        })
}

/// Reads Okta's `X-Rate-Limit-Reset`: the epoch second at which the limit
/// resets, as a wait from `now` (zero if it has passed). `now` is the
/// current second rounded down, so the wait is never short.
pub fn parse_rate_limit_reset(value: &str, now: i64) -> Option<Duration> {
    let reset: i64 = value.trim().parse().ok()?;
    Some(Duration::from_secs(reset.saturating_sub(now).max(0) as u64))
}

/// Whether a 429 is Constant Contact's daily quota (`error_key`
/// `quota_exceeded`, docs/vendors.md §2): not worth retrying before 00:00 UTC,
/// unlike the per-second `throttled`.
pub fn is_quota_exceeded(status: u16, body: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Keyed {
        #[serde(default)]
        error_key: Option<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Body {
        Many(Vec<Keyed>),
        One(Keyed),
    }
    if status != 429 {
        return false;
    }
    let keys = match serde_json::from_slice::<Body>(body) {
        Ok(Body::Many(v)) => v,
        Ok(Body::One(k)) => vec![k],
        Err(_) => return false,
    };
    keys.iter()
        .any(|k| k.error_key.as_deref() == Some("quota_exceeded"))
}

/// The exit-4 error for a used-up daily quota, saying when it resets.
pub fn quota_exceeded_error(during: &str) -> crate::error::Error {
    let now = time::OffsetDateTime::now_utc();
    let secs_left = 86_400
        - i64::from(now.time().hour()) * 3600
        - i64::from(now.time().minute()) * 60
        - i64::from(now.time().second());
    crate::error::Error::remote(format!(
        "Constant Contact's daily request quota for this API Key is used up (quota_exceeded) {during}"
    ))
    .with_hint(format!(
        "the quota (10,000 requests a day) resets at 00:00 UTC, in {} h {} min; try again after that",
        secs_left / 3600,
        (secs_left % 3600) / 60
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay_before(2, None), Some(Duration::from_millis(500)));
        assert_eq!(p.delay_before(3, None), Some(Duration::from_secs(1)));
        assert_eq!(p.delay_before(4, None), Some(Duration::from_secs(2)));
        assert_eq!(p.delay_before(9, None), Some(Duration::from_secs(2)));
    }

    #[test]
    fn the_worst_case_covers_every_try_and_every_wait() {
        let p = RetryPolicy::default();
        // 3 tries of 30 s, two waits of up to 30 s (Retry-After).
        assert_eq!(
            p.worst_case(Duration::from_secs(30)),
            Duration::from_secs(150)
        );
        let mut waited = Duration::ZERO;
        for attempt in 2..=p.max_attempts {
            waited += p
                .delay_before(attempt, Some(p.max_retry_after))
                .unwrap()
                .max(p.delay_before(attempt, None).unwrap());
        }
        assert!(p.worst_case(Duration::ZERO) >= waited);
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.delay_before(2, Some(Duration::from_secs(7))),
            Some(Duration::from_secs(7))
        );
        assert_eq!(p.delay_before(2, Some(Duration::from_secs(3600))), None);
    }

    #[test]
    fn retry_after_formats() {
        assert_eq!(parse_retry_after(" 12 "), Some(Duration::from_secs(12)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn okta_rate_limit_reset_is_a_wait_until_that_second() {
        assert_eq!(
            parse_rate_limit_reset("1000005", 1_000_000),
            Some(Duration::from_secs(5))
        );
        assert_eq!(
            parse_rate_limit_reset("999", 1_000_000),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_rate_limit_reset("soon", 0), None);
        let mut headers = reqwest::header::HeaderMap::new();
        let reset = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        headers.insert("x-rate-limit-reset", reset.to_string().parse().unwrap());
        let wait = retry_after_of(&headers).unwrap();
        assert!(wait > Duration::from_secs(3590), "{wait:?}");
        // Capped like Retry-After.
        assert_eq!(RetryPolicy::default().delay_before(2, Some(wait)), None);
        headers.insert(reqwest::header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after_of(&headers), Some(Duration::from_secs(7)));
    }

    #[test]
    fn only_quota_exceeded_is_final() {
        assert!(is_quota_exceeded(
            429,
            br#"[{"error_key":"quota_exceeded","error_message":"x"}]"#
        ));
        assert!(!is_quota_exceeded(429, br#"[{"error_key":"throttled"}]"#));
        assert!(!is_quota_exceeded(
            400,
            br#"[{"error_key":"quota_exceeded"}]"#
        ));
        assert!(!is_quota_exceeded(429, b"busy"));
        let e = quota_exceeded_error("during the token request");
        assert_eq!(e.exit_code(), 4);
        assert!(e.hint().unwrap().contains("00:00 UTC"));
    }
}
