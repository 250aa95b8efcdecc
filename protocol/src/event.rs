//! Events inside `message` frames: one payload struct per kind. Each carries absolute state
//! (a slot count, a status), so applying one twice is harmless.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    /// `event:{id}`: after every booking, cancellation, rejection or edit.
    SlotsChanged(SlotsChanged),
    /// `mentor:{id}`: a lead the mentor may buy appeared (masked).
    LeadCreated(LeadPayload),
    /// `mentor:{id}`: a lead changed status (verified, rejected, cancelled).
    LeadUpdated(LeadPayload),
    /// `mentor:{id}`: the mentor bought the lead; the contact is included.
    LeadPurchased(LeadPayload),
    /// `admin:queue`: a lead needs review.
    QueueItemAdded(QueueItem),
    /// `admin:queue`: an admin took the item (until `expires_at` unless renewed).
    QueueItemClaimed(QueueClaim),
    /// `admin:queue`: the claim ended without a decision (released, expired, disconnected).
    QueueItemReleased(QueueRef),
    /// `admin:queue`: the item left the queue (verified, rejected or cancelled).
    QueueItemResolved(QueueResolved),
    /// `user:{id}`: one of the learner's bookings changed.
    BookingUpdated(BookingPayload),
    /// `event:{id}`, and `user:{id}` of each learner booked on it when the time or title
    /// changed: the mentor edited the event.
    EventUpdated(EventDetails),
    /// `event:{id}`: the mentor deleted the event; it takes no more bookings.
    EventDeleted(EventRef),
    /// `user:{id}` of a mentor: an admin decided their application.
    MentorStatusChanged(MentorStatusPayload),
    /// `user:{id}`: the account was closed; its sockets close with 4001 next.
    AccountClosed(AccountRef),
}

/// An event's details after an edit, and which of them changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventDetails {
    pub event_id: String,
    pub title: String,
    pub description: String,
    pub event_datetime: String,
    /// Minutes.
    pub duration: i64,
    /// Rupees.
    pub price_per_lead: i64,
    pub total_slots: i64,
    pub available_slots: i64,
    /// Wire names of the fields that changed: `event_datetime` (time or duration), `title`,
    /// `description`, `price_per_lead`, `total_slots`.
    pub changed: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRef {
    pub event_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentorStatusPayload {
    pub mentor_id: String,
    /// APPROVED or REJECTED.
    pub verification_status: String,
    /// The admin's reason, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRef {
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotsChanged {
    pub event_id: String,
    pub available_slots: i64,
    pub total_slots: i64,
}

/// A lead as its mentor sees it: `name` is initials and the contact fields are absent until
/// the lead is PURCHASED.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lead {
    pub lead_id: String,
    pub event_id: String,
    pub event_title: String,
    pub status: String,
    pub verification_status: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadPayload {
    pub lead: Lead,
}

/// A lead waiting for review. Contact details are fetched over HTTP by the reviewing admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub lead_id: String,
    pub event_id: String,
    pub event_title: String,
    pub mentor_id: String,
    pub verification_notes: Vec<String>,
    pub created_at: String,
    /// Set while an admin holds the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<QueueClaim>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueClaim {
    pub lead_id: String,
    pub admin_id: String,
    pub expires_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRef {
    pub lead_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueResolved {
    pub lead_id: String,
    /// VERIFIED, REJECTED or CANCELLED.
    pub status: String,
}

/// A learner's booking, as the learner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingPayload {
    pub lead_id: String,
    pub event_id: String,
    pub event_title: String,
    pub status: String,
    pub verification_status: String,
    pub updated_at: String,
    /// Why an admin rejected the booking, when they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked_lead() -> Lead {
        Lead {
            lead_id: "l".into(),
            event_id: "e".into(),
            event_title: "T".into(),
            status: "VERIFIED".into(),
            verification_status: "AUTO_VERIFIED".into(),
            name: "J. D.".into(),
            email: None,
            phone: None,
            message: None,
            created_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn events_round_trip_with_their_type_tag() {
        let events = [
            Event::SlotsChanged(SlotsChanged {
                event_id: "e".into(),
                available_slots: 2,
                total_slots: 5,
            }),
            Event::LeadCreated(LeadPayload {
                lead: masked_lead(),
            }),
            Event::QueueItemClaimed(QueueClaim {
                lead_id: "l".into(),
                admin_id: "a".into(),
                expires_at: "t".into(),
            }),
            Event::QueueItemReleased(QueueRef {
                lead_id: "l".into(),
            }),
            Event::QueueItemResolved(QueueResolved {
                lead_id: "l".into(),
                status: "VERIFIED".into(),
            }),
            Event::BookingUpdated(BookingPayload {
                lead_id: "l".into(),
                event_id: "e".into(),
                event_title: "T".into(),
                status: "PURCHASED".into(),
                verification_status: "AUTO_VERIFIED".into(),
                updated_at: "t".into(),
                reason: Some("Phone does not answer".into()),
            }),
            Event::EventUpdated(EventDetails {
                event_id: "e".into(),
                title: "T".into(),
                description: "D".into(),
                event_datetime: "t".into(),
                duration: 60,
                price_per_lead: 500,
                total_slots: 5,
                available_slots: 2,
                changed: vec!["event_datetime".into()],
            }),
            Event::EventDeleted(EventRef {
                event_id: "e".into(),
            }),
            Event::MentorStatusChanged(MentorStatusPayload {
                mentor_id: "m".into(),
                verification_status: "APPROVED".into(),
                reason: None,
            }),
            Event::AccountClosed(AccountRef {
                user_id: "u".into(),
            }),
        ];
        for event in events {
            let value = serde_json::to_value(&event).unwrap();
            assert!(value["type"].is_string());
            assert_eq!(serde_json::from_value::<Event>(value).unwrap(), event);
        }
        let masked = serde_json::to_value(Event::LeadCreated(LeadPayload {
            lead: masked_lead(),
        }))
        .unwrap();
        assert!(masked["lead"].get("email").is_none() && masked["lead"].get("phone").is_none());
        assert_eq!(masked["type"], "lead_created");
        let moved = serde_json::to_value(Event::EventDeleted(EventRef {
            event_id: "e".into(),
        }))
        .unwrap();
        assert_eq!(
            moved,
            serde_json::json!({"type": "event_deleted", "event_id": "e"})
        );
        // A booking without a reason has no `reason` key (older clients see what they knew).
        let plain: BookingPayload = serde_json::from_value(serde_json::json!({
            "lead_id": "l", "event_id": "e", "event_title": "T", "status": "VERIFIED",
            "verification_status": "AUTO_VERIFIED", "updated_at": "t"
        }))
        .unwrap();
        assert!(serde_json::to_value(&plain)
            .unwrap()
            .get("reason")
            .is_none());
    }
}
