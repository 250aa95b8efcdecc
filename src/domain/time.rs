//! Timestamps: UTC, RFC 3339 on the wire, and one fixed-width form in storage so that
//! text order equals time order (needed for cursors and range filters on any backend).

use chrono::{DateTime, Datelike, SecondsFormat, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn now() -> Timestamp {
    Utc::now()
}

/// Fixed-width RFC 3339 (`2026-01-05T10:00:00.000000Z`) whose lexical order is time order.
pub fn to_storage(ts: &Timestamp) -> String {
    ts.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Parses any RFC 3339 timestamp (with an offset) into UTC. Instants outside the years
/// 1–9999 in UTC are refused: their storage form would not sort or parse back.
pub fn parse_rfc3339(value: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(value.trim())
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
        .filter(|dt| (1..=9999).contains(&dt.year()))
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
        // 9999-12-31T23:59:59-23:59 is year 10000 in UTC.
        assert!(parse_rfc3339("9999-12-31T23:59:59-23:59").is_none());
        assert!(parse_rfc3339("0001-01-01T00:00:00+01:00").is_none());
        assert!(parse_rfc3339("9999-12-31T00:00:00Z").is_some());
    }
}
