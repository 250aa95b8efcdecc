//! Timestamps: UTC, RFC 3339 on the wire, and one fixed-width form in storage so that
//! text order equals time order (needed for cursors and range filters on any backend).

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
use serde::{Serialize, Serializer};

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

/// Reads the storage form directly, and anything else with the general parser: rows are
/// read far more often than written, and chrono's parser was 7 % of an event listing.
pub fn from_storage(value: &str) -> Option<Timestamp> {
    let b = value.as_bytes();
    let fixed = b.len() == 27
        && [
            (4, b'-'),
            (7, b'-'),
            (10, b'T'),
            (13, b':'),
            (16, b':'),
            (19, b'.'),
            (26, b'Z'),
        ]
        .iter()
        .all(|&(at, sep)| b[at] == sep);
    let number = |from: usize, to: usize| {
        b[from..to].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let quick = || {
        let date = NaiveDate::from_ymd_opt(
            i32::try_from(number(0, 4)?).ok()?,
            number(5, 7)?,
            number(8, 10)?,
        )?;
        let time = date.and_hms_micro_opt(
            number(11, 13)?,
            number(14, 16)?,
            number(17, 19)?,
            number(20, 26)?,
        )?;
        Some(time.and_utc()).filter(|t| t.year() >= 1)
    };
    fixed.then(quick).flatten().or_else(|| parse_rfc3339(value))
}

/// Serialises like chrono's own serde form (RFC 3339 with `Z`, and 0, 3, 6 or 9 fractional
/// digits, as few as the value needs) without the `fmt` machinery, which was 12 % of an
/// event listing; for `#[serde(serialize_with = "...")]`.
pub fn serialize_wire<S: Serializer>(ts: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
    if !(0..=9999).contains(&ts.year()) {
        return ts.serialize(serializer);
    }
    let mut out = [0u8; 30];
    let mut len = 0;
    let mut put = |value: u32, digits: u32, after: u8| {
        for place in (0..digits).rev() {
            out[len] = b'0' + (value / 10u32.pow(place) % 10) as u8;
            len += 1;
        }
        out[len] = after;
        len += 1;
    };
    // A leap second is second 59 with a fraction of a second or more: written as 60.
    let (second, nano) = match ts.nanosecond() {
        n if n >= 1_000_000_000 => (ts.second() + 1, n - 1_000_000_000),
        n => (ts.second(), n),
    };
    put(ts.year().unsigned_abs(), 4, b'-');
    put(ts.month(), 2, b'-');
    put(ts.day(), 2, b'T');
    put(ts.hour(), 2, b':');
    put(ts.minute(), 2, b':');
    match nano {
        0 => put(second, 2, b'Z'),
        n if n % 1_000_000 == 0 => {
            put(second, 2, b'.');
            put(n / 1_000_000, 3, b'Z');
        }
        n if n % 1_000 == 0 => {
            put(second, 2, b'.');
            put(n / 1_000, 6, b'Z');
        }
        n => {
            put(second, 2, b'.');
            put(n, 9, b'Z');
        }
    }
    // Only ASCII digits and separators were written.
    let text = std::str::from_utf8(&out[..len]).map_err(serde::ser::Error::custom)?;
    serializer.serialize_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_is_chronos_serde_form() {
        #[derive(Serialize)]
        struct Wire(#[serde(serialize_with = "serialize_wire")] Timestamp);
        for text in [
            "2026-01-05T10:00:00Z",
            "2026-01-05T10:00:00.5Z",
            "2026-01-05T10:00:00.123456Z",
            "2026-01-05T10:00:00.123456789Z",
            "0001-01-01T00:00:00.000001Z",
            "9999-12-31T23:59:59.999Z",
            "2016-12-31T23:59:60.25Z",
        ] {
            let ts = parse_rfc3339(text).unwrap();
            assert_eq!(
                serde_json::to_string(&Wire(ts)).unwrap(),
                serde_json::to_string(&ts).unwrap(),
                "{text}"
            );
        }
    }

    #[test]
    fn storage_form_reads_back_exactly() {
        for text in [
            "2026-01-05T10:00:00Z",
            "2026-01-05T10:00:00.123456Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999Z",
            "2016-12-31T23:59:60.25Z",
        ] {
            let ts = parse_rfc3339(text).unwrap();
            assert_eq!(from_storage(&to_storage(&ts)), Some(ts), "{text}");
        }
        // Not the storage form: the general parser decides.
        assert_eq!(
            from_storage("2026-01-05T10:00:00+05:30"),
            parse_rfc3339("2026-01-05T04:30:00Z")
        );
        assert_eq!(from_storage("2026-02-30T10:00:00.000000Z"), None);
        assert_eq!(from_storage("2026-01-05T10:00:0x.000000Z"), None);
        assert_eq!(from_storage("0000-01-05T10:00:00.000000Z"), None);
    }

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
