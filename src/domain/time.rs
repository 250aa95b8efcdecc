//! Timestamps: UTC, RFC 3339 on the wire, and one fixed-width form in storage so that
//! text order equals time order (needed for cursors and range filters on any backend).

use chrono::{DateTime, SecondsFormat, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn now() -> Timestamp {
    Utc::now()
}

/// Fixed-width RFC 3339 (`2026-01-05T10:00:00.000000Z`) whose lexical order is time order.
pub fn to_storage(ts: &Timestamp) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses any RFC 3339 timestamp (with an offset) into UTC.
pub fn parse_rfc3339(value: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(value.trim())
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_form_sorts_like_time() {
        let a = parse_rfc3339("2026-01-05T10:00:00+05:30").unwrap();
        let b = parse_rfc3339("2026-01-05T10:00:00.5Z").unwrap();
        assert!(a < b);
        assert!(to_storage(&a) < to_storage(&b));
        assert_eq!(to_storage(&a), "2026-01-05T04:30:00.000000Z");
        assert!(parse_rfc3339("yesterday").is_none());
    }
}
