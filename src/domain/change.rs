//! Domain events: what a committed change means, recorded in the store's outbox in the same
//! write as the change and relayed afterwards (see `crate::relay`). Called "changes" here
//! because an `Event` is a mentor's session.

use serde::{Deserialize, Serialize};

use super::claim::LeadClaim;
use super::event::Event;
use super::lead::{Lead, LeadStatus};
use super::mentor::MentorStatus;
use super::time::Timestamp;

pub const CHANGE: &str = "chg";

/// One committed change. Payloads carry the state right after the change (read under the
/// same lock), so relaying them later tells the same story whatever happened since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// A learner booked a slot.
    LeadBooked { lead: Lead },
    /// A lead moved: verified, rejected (with the admin's reason), cancelled or purchased.
    LeadMoved {
        before: LeadStatus,
        lead: Lead,
        reason: Option<String>,
    },
    /// An admin took or renewed the review lease on a PENDING lead.
    LeadClaimed {
        #[serde(flatten)]
        claim: LeadClaim,
    },
    /// Review leases ended without a decision (released, expired, the admin left).
    ClaimsReleased { lead_ids: Vec<String> },
    /// The mentor edited the event; `learners` hold live bookings on it.
    EventEdited {
        before: Event,
        event: Event,
        learners: Vec<String>,
    },
    /// The mentor deleted the event (only possible with no live bookings).
    EventDeleted { event_id: String, mentor_id: String },
    /// An admin decided a mentor application.
    MentorDecided {
        mentor_id: String,
        user_id: String,
        status: MentorStatus,
        reason: Option<String>,
    },
    /// The account was closed (its live bookings were cancelled in the same write, each
    /// recorded as a `LeadMoved` before this).
    AccountClosed { user_id: String },
}

impl Change {
    /// What the change is, as stored beside its payload.
    pub fn kind(&self) -> &'static str {
        match self {
            Change::LeadBooked { .. } => "lead_booked",
            Change::LeadMoved { .. } => "lead_moved",
            Change::LeadClaimed { .. } => "lead_claimed",
            Change::ClaimsReleased { .. } => "claims_released",
            Change::EventEdited { .. } => "event_edited",
            Change::EventDeleted { .. } => "event_deleted",
            Change::MentorDecided { .. } => "mentor_decided",
            Change::AccountClosed { .. } => "account_closed",
        }
    }

    /// The thing that changed (`lead:…`, `event:…`, `mentor:…`, `user:…`, or the queue):
    /// changes to one aggregate are relayed in the order they were committed.
    pub fn aggregate(&self) -> String {
        match self {
            Change::LeadBooked { lead } | Change::LeadMoved { lead, .. } => {
                format!("lead:{}", lead.lead_id)
            }
            Change::LeadClaimed { claim } => format!("lead:{}", claim.lead_id),
            Change::ClaimsReleased { .. } => "admin:queue".to_string(),
            Change::EventEdited { event, .. } => format!("event:{}", event.event_id),
            Change::EventDeleted { event_id, .. } => format!("event:{event_id}"),
            Change::MentorDecided { mentor_id, .. } => format!("mentor:{mentor_id}"),
            Change::AccountClosed { user_id } => format!("user:{user_id}"),
        }
    }
}

/// A change as the outbox holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRecord {
    /// Commit order within the store (the relay's cursor).
    pub seq: i64,
    pub change_id: String,
    pub occurred_at: Timestamp,
    pub change: Change,
}

/// What a change to an event's details means to the people booked on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventEdit {
    /// The time or the duration moved.
    pub rescheduled: bool,
    pub retitled: bool,
    pub described: bool,
    pub repriced: bool,
    pub resized: bool,
}

impl EventEdit {
    pub fn between(before: &Event, after: &Event) -> Self {
        Self {
            rescheduled: before.event_datetime != after.event_datetime
                || before.duration != after.duration,
            retitled: before.title != after.title,
            described: before.description != after.description,
            repriced: before.price_per_lead != after.price_per_lead,
            resized: before.total_slots != after.total_slots,
        }
    }

    /// The wire names of what changed, in a fixed order.
    pub fn fields(&self) -> Vec<&'static str> {
        [
            (self.rescheduled, "event_datetime"),
            (self.retitled, "title"),
            (self.described, "description"),
            (self.repriced, "price_per_lead"),
            (self.resized, "total_slots"),
        ]
        .into_iter()
        .filter_map(|(changed, name)| changed.then_some(name))
        .collect()
    }

    /// Whether a learner who booked should be told: the time or the name of what they
    /// booked changed (the price and the seats are the mentor's business).
    pub fn concerns_learners(&self) -> bool {
        self.rescheduled || self.retitled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::money::Rupees;

    fn event() -> Event {
        let at = chrono::DateTime::parse_from_rfc3339("2030-01-01T10:00:00Z")
            .unwrap()
            .to_utc();
        Event {
            event_id: "event_1".into(),
            mentor_id: "mentor_1".into(),
            mentor_name: "Ann".into(),
            title: "Rust".into(),
            description: "Ownership".into(),
            category: "tech".into(),
            event_datetime: at,
            duration: 60,
            total_slots: 5,
            booked_slots: 1,
            price_per_lead: Rupees::from_stored(100),
            created_at: at,
        }
    }

    #[test]
    fn an_edit_names_what_changed_and_whether_learners_care() {
        let before = event();
        let mut after = before.clone();
        after.price_per_lead = Rupees::from_stored(200);
        let edit = EventEdit::between(&before, &after);
        assert_eq!(edit.fields(), vec!["price_per_lead"]);
        assert!(!edit.concerns_learners());

        after.description = "Lifetimes too".into();
        let edit = EventEdit::between(&before, &after);
        assert_eq!(edit.fields(), vec!["description", "price_per_lead"]);
        assert!(!edit.concerns_learners());

        after.event_datetime += chrono::Duration::hours(2);
        after.title = "Rust, again".into();
        let edit = EventEdit::between(&before, &after);
        assert_eq!(
            edit.fields(),
            vec!["event_datetime", "title", "description", "price_per_lead"]
        );
        assert!(edit.concerns_learners());
    }

    #[test]
    fn changes_survive_the_outbox_round_trip_and_name_their_aggregate() {
        let change = Change::EventEdited {
            before: event(),
            event: event(),
            learners: vec!["user_1".into()],
        };
        let text = serde_json::to_string(&change).unwrap();
        assert!(text.contains(r#""kind":"event_edited""#));
        assert_eq!(serde_json::from_str::<Change>(&text).unwrap(), change);
        assert_eq!(change.aggregate(), "event:event_1");
        assert_eq!(change.kind(), "event_edited");
        let released = Change::ClaimsReleased { lead_ids: vec![] };
        assert_eq!(released.aggregate(), "admin:queue");
    }
}
