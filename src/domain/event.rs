//! Events a mentor offers: a fixed number of slots and a price per lead.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::conflict::Conflict;
use super::mentor::MentorStatus;
use super::{bounded_text, money::Rupees, time::Timestamp, ValidationError};

/// Upper bound on slots per event; a mentor session is not a stadium.
pub const MAX_SLOTS: i64 = 10_000;
pub const MAX_DURATION_MINUTES: i64 = 24 * 60;
/// How far ahead an event may be scheduled.
pub const MAX_DAYS_AHEAD: i64 = 5 * 366;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub event_id: String,
    pub mentor_id: String,
    /// Denormalised from the mentor's account for listings.
    pub mentor_name: String,
    pub title: String,
    pub description: String,
    pub category: String,
    #[schema(value_type = String, format = DateTime)]
    pub event_datetime: Timestamp,
    /// Minutes.
    pub duration: i64,
    /// Slots the mentor offers in all.
    pub total_slots: i64,
    /// Slots held by live bookings (PENDING, VERIFIED or PURCHASED).
    pub booked_slots: i64,
    pub price_per_lead: Rupees,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl Event {
    pub fn available_slots(&self) -> i64 {
        (self.total_slots - self.booked_slots).max(0)
    }

    pub fn has_started(&self, now: Timestamp) -> bool {
        self.event_datetime <= now
    }

    /// Whether the event takes a booking now: not started, and its mentor (`None`: the
    /// profile is gone) approved. Seats and the learner's one booking are the store's
    /// compare-and-sets.
    pub fn check_bookable(
        &self,
        mentor: Option<MentorStatus>,
        now: Timestamp,
    ) -> Result<(), Conflict> {
        if self.has_started(now) {
            return Err(Conflict::EventStarted);
        }
        if mentor != Some(MentorStatus::Approved) {
            return Err(Conflict::MentorNotAccepting);
        }
        Ok(())
    }

    /// An edit may not offer fewer slots than live bookings hold.
    pub fn check_slots(&self, total_slots: i64) -> Result<(), Conflict> {
        if total_slots < self.booked_slots {
            return Err(Conflict::SlotsBelowBooked {
                booked: self.booked_slots,
            });
        }
        Ok(())
    }

    /// Only an event nobody holds a slot on may be deleted.
    pub fn check_deletable(&self) -> Result<(), Conflict> {
        if self.booked_slots > 0 {
            return Err(Conflict::EventHasBookings {
                live: self.booked_slots,
            });
        }
        Ok(())
    }
}

/// A validated create or full edit of an event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDraft {
    pub title: String,
    pub description: String,
    pub category: String,
    pub event_datetime: Timestamp,
    pub duration: i64,
    pub total_slots: i64,
    pub price_per_lead: Rupees,
}

/// Raw fields as they came over the wire, before validation.
pub struct EventInput<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub category: &'a str,
    pub event_datetime: &'a str,
    pub duration: i64,
    pub total_slots: i64,
    pub price_per_lead: i64,
}

impl EventDraft {
    /// `now` is passed in so the "not in the past" rule is testable.
    pub fn parse(input: EventInput<'_>, now: Timestamp) -> Result<Self, ValidationError> {
        let event_datetime = super::time::parse_rfc3339(input.event_datetime).ok_or_else(|| {
            ValidationError::new(
                "event_datetime",
                "VALIDATION_FAILED",
                "must be an RFC 3339 timestamp such as 2026-02-01T10:00:00Z",
            )
        })?;
        if event_datetime <= now {
            return Err(ValidationError::new(
                "event_datetime",
                "VALIDATION_FAILED",
                "must be in the future",
            ));
        }
        if event_datetime > now + chrono::Duration::days(MAX_DAYS_AHEAD) {
            return Err(ValidationError::new(
                "event_datetime",
                "VALIDATION_FAILED",
                "must be within five years from now",
            ));
        }
        if !(1..=MAX_DURATION_MINUTES).contains(&input.duration) {
            return Err(ValidationError::new(
                "duration",
                "VALIDATION_FAILED",
                format!("must be between 1 and {MAX_DURATION_MINUTES} minutes"),
            ));
        }
        if !(1..=MAX_SLOTS).contains(&input.total_slots) {
            return Err(ValidationError::new(
                "available_slots",
                "VALIDATION_FAILED",
                format!("must be between 1 and {MAX_SLOTS}"),
            ));
        }
        Ok(Self {
            title: bounded_text("title", input.title, 3, 200)?,
            description: bounded_text("description", input.description, 0, 5000)?,
            category: bounded_text("category", input.category, 1, 100)?,
            event_datetime,
            duration: input.duration,
            total_slots: input.total_slots,
            price_per_lead: Rupees::parse("price_per_lead", input.price_per_lead)?,
        })
    }
}

/// Filters of the public event listing. Results are ordered by `event_datetime`, soonest
/// first, then by id, so a cursor is a `(event_datetime, event_id)` position.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    pub q: Option<String>,
    pub category: Option<String>,
    pub mentor_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl EventFilter {
    /// Whether `event` passes every filter; the one definition each backend must agree with.
    pub fn matches(&self, event: &Event) -> bool {
        let q_ok = self.q.as_deref().is_none_or(|q| {
            let q = q.to_lowercase();
            [&event.title, &event.description, &event.category]
                .iter()
                .any(|field| field.to_lowercase().contains(&q))
        });
        q_ok && self
            .category
            .as_deref()
            .is_none_or(|c| event.category.eq_ignore_ascii_case(c))
            && self
                .mentor_id
                .as_deref()
                .is_none_or(|m| event.mentor_id == m)
            && self.from.is_none_or(|from| event.event_datetime >= from)
            && self.to.is_none_or(|to| event.event_datetime <= to)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::parse_rfc3339;

    fn input(datetime: &str) -> EventInput<'_> {
        EventInput {
            title: "Rust for the web",
            description: "Axum, actix and friends",
            category: "Programming",
            event_datetime: datetime,
            duration: 90,
            total_slots: 5,
            price_per_lead: 500,
        }
    }

    #[test]
    fn drafts_must_be_in_the_future_and_in_bounds() {
        let now = parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        assert!(EventDraft::parse(input("2026-02-01T10:00:00Z"), now).is_ok());
        assert_eq!(
            EventDraft::parse(input("2025-12-31T10:00:00Z"), now)
                .unwrap_err()
                .field,
            "event_datetime"
        );
        assert_eq!(
            EventDraft::parse(input("soon"), now).unwrap_err().field,
            "event_datetime"
        );
        for too_far in ["2032-01-01T00:00:00Z", "9999-12-31T23:59:59-23:59"] {
            assert_eq!(
                EventDraft::parse(input(too_far), now).unwrap_err().field,
                "event_datetime",
                "{too_far}"
            );
        }
        let mut zero_slots = input("2026-02-01T10:00:00Z");
        zero_slots.total_slots = 0;
        assert_eq!(
            EventDraft::parse(zero_slots, now).unwrap_err().field,
            "available_slots"
        );
        let mut free = input("2026-02-01T10:00:00Z");
        free.price_per_lead = 0;
        assert_eq!(
            EventDraft::parse(free, now).unwrap_err().field,
            "price_per_lead"
        );
    }

    #[test]
    fn filter_matches_text_category_and_range() {
        let now = parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        let d = EventDraft::parse(input("2026-02-01T10:00:00Z"), now).unwrap();
        let event = Event {
            event_id: "event_1".into(),
            mentor_id: "mentor_1".into(),
            mentor_name: "M".into(),
            title: d.title,
            description: d.description,
            category: d.category,
            event_datetime: d.event_datetime,
            duration: d.duration,
            total_slots: d.total_slots,
            booked_slots: 2,
            price_per_lead: d.price_per_lead,
            created_at: now,
        };
        assert_eq!(event.available_slots(), 3);
        let f = |q: Option<&str>, cat: Option<&str>| EventFilter {
            q: q.map(String::from),
            category: cat.map(String::from),
            ..Default::default()
        };
        assert!(f(Some("ACTIX"), None).matches(&event));
        assert!(f(None, Some("programming")).matches(&event));
        assert!(!f(Some("cooking"), None).matches(&event));
        let late = EventFilter {
            from: parse_rfc3339("2026-03-01T00:00:00Z"),
            ..Default::default()
        };
        assert!(!late.matches(&event));
    }
}
