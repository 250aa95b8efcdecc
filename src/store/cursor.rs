//! Listing positions inside opaque cursors (every backend): `kind:timestamp|id`, tagged
//! with the listing they belong to, so a cursor of one listing is refused by another.

use crate::domain::time::{parse_rfc3339, to_storage, Timestamp};
use crate::store::{StoreError, StoreResult};

pub fn position(kind: &str, ts: &Timestamp, id: &str) -> String {
    format!("{kind}:{}|{id}", to_storage(ts))
}

/// The `(timestamp, id)` after which a page starts, in storage form; `None` for a first page.
pub fn after(kind: &str, cursor: Option<&str>) -> StoreResult<Option<(String, String)>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    cursor
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|rest| rest.split_once('|'))
        .filter(|(_, id)| !id.is_empty())
        .and_then(|(ts, id)| parse_rfc3339(ts).map(|ts| Some((to_storage(&ts), id.to_string()))))
        .ok_or(StoreError::InvalidCursor)
}

/// A sequence-number position (`kind:n`).
pub fn sequence(kind: &str, cursor: Option<&str>) -> StoreResult<Option<i64>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    cursor
        .strip_prefix(kind)
        .and_then(|rest| rest.strip_prefix(':'))
        .and_then(|n| n.parse().ok())
        .map(Some)
        .ok_or(StoreError::InvalidCursor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_belong_to_their_listing_and_normalise_times() {
        let ts = parse_rfc3339("2026-01-01T05:30:00+05:30").unwrap();
        let p = position("users", &ts, "user_1");
        assert_eq!(
            after("users", Some(&p)).unwrap(),
            Some(("2026-01-01T00:00:00.000000Z".into(), "user_1".into()))
        );
        assert!(after("events", Some(&p)).is_err());
        assert!(
            after("users", Some("users:2026-01-01T05:30:00+05:30|user_1"))
                .unwrap()
                .is_some()
        );
        assert_eq!(
            after("users", Some("users:2026-01-01T05:30:00+05:30|u"))
                .unwrap()
                .unwrap()
                .0,
            "2026-01-01T00:00:00.000000Z"
        );
        for junk in ["abc", "users:abc|x", "users:2026-01-01T00:00:00Z|", "x:1"] {
            assert!(after("users", Some(junk)).is_err(), "{junk}");
        }
        assert_eq!(sequence("audit", Some("audit:42")).unwrap(), Some(42));
        assert!(sequence("audit", Some("42")).is_err());
        assert_eq!(after("users", None).unwrap(), None);
    }
}
