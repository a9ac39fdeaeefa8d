//! The wall clock, in the two forms ccsetup stores and shows.

/// Seconds since the Unix epoch, now.
pub fn now_unix() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The current UTC time in RFC 3339 (`2025-01-31T12:34:56Z`), for the
/// timestamps of `config.toml`.
pub fn now_rfc3339() -> String {
    rfc3339(now_unix())
}

/// A Unix time in RFC 3339 (the number itself if it is out of range).
pub fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_has_no_fraction() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert!(!super::now_rfc3339().contains('.'));
    }
}
