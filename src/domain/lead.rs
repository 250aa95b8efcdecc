//! Leads (bookings) and their state machine.
//!
//! ```text
//!            admin verify              payment
//!  PENDING ───────────────▶ VERIFIED ───────────▶ PURCHASED
//!     │ admin reject            │ admin reject
//!     ▼                         ▼
//!  REJECTED                 REJECTED
//!  PENDING / VERIFIED ── learner cancel ──▶ CANCELLED
//! ```
//! A clean booking starts at VERIFIED (auto-verified); a suspicious one at PENDING.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{contact::Contact, time::Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LeadStatus {
    Pending,
    Verified,
    Purchased,
    Rejected,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerificationStatus {
    AutoVerified,
    ManualVerified,
    Pending,
    Rejected,
}

/// Something that happens to a lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadAction {
    AdminVerify,
    AdminReject,
    Purchase,
    Cancel,
}

/// Why a lead cannot take an action; the code is what the API answers with 409.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from:?} lead cannot take {action:?}")]
pub struct TransitionError {
    pub from: LeadStatus,
    pub action: LeadAction,
}

impl TransitionError {
    pub fn code(&self) -> &'static str {
        match (self.from, self.action) {
            (LeadStatus::Purchased, _) => "ALREADY_PURCHASED",
            (_, LeadAction::Purchase) => "LEAD_NOT_VERIFIED",
            (LeadStatus::Cancelled, _) => "LEAD_CANCELLED",
            (LeadStatus::Rejected, _) => "LEAD_REJECTED",
            _ => "INVALID_TRANSITION",
        }
    }
}

impl LeadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::Pending => "PENDING",
            LeadStatus::Verified => "VERIFIED",
            LeadStatus::Purchased => "PURCHASED",
            LeadStatus::Rejected => "REJECTED",
            LeadStatus::Cancelled => "CANCELLED",
        }
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        match value {
            "PENDING" => Some(LeadStatus::Pending),
            "VERIFIED" => Some(LeadStatus::Verified),
            "PURCHASED" => Some(LeadStatus::Purchased),
            "REJECTED" => Some(LeadStatus::Rejected),
            "CANCELLED" => Some(LeadStatus::Cancelled),
            _ => None,
        }
    }

    /// The whole state machine: the next state, or why not.
    pub fn apply(
        self,
        action: LeadAction,
    ) -> Result<(LeadStatus, Option<VerificationStatus>), TransitionError> {
        use LeadAction::*;
        use LeadStatus::*;
        let next = match (self, action) {
            (Pending, AdminVerify) => (Verified, Some(VerificationStatus::ManualVerified)),
            (Pending | Verified, AdminReject) => (Rejected, Some(VerificationStatus::Rejected)),
            (Verified, Purchase) => (Purchased, None),
            (Pending | Verified, Cancel) => (Cancelled, None),
            (from, action) => return Err(TransitionError { from, action }),
        };
        Ok(next)
    }

    /// Whether a lead in this state holds one of the event's slots (and the learner's one
    /// booking on that event).
    pub fn holds_slot(self) -> bool {
        matches!(
            self,
            LeadStatus::Pending | LeadStatus::Verified | LeadStatus::Purchased
        )
    }
}

impl VerificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::AutoVerified => "AUTO_VERIFIED",
            VerificationStatus::ManualVerified => "MANUAL_VERIFIED",
            VerificationStatus::Pending => "PENDING",
            VerificationStatus::Rejected => "REJECTED",
        }
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        match value {
            "AUTO_VERIFIED" => Some(VerificationStatus::AutoVerified),
            "MANUAL_VERIFIED" => Some(VerificationStatus::ManualVerified),
            "PENDING" => Some(VerificationStatus::Pending),
            "REJECTED" => Some(VerificationStatus::Rejected),
            _ => None,
        }
    }
}

/// A lead as the store holds it, with the contact already decrypted. Serialised only into
/// sealed storage (the outbox); API answers go through their own views.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub lead_id: String,
    pub event_id: String,
    /// Denormalised from the event so listings need no join.
    pub event_title: String,
    pub event_datetime: Timestamp,
    pub mentor_id: String,
    /// The learner's account.
    pub user_id: String,
    pub contact: Contact,
    pub status: LeadStatus,
    pub verification_status: VerificationStatus,
    /// Why automatic checks sent the lead to review, or the admin's reason.
    pub verification_notes: Vec<String>,
    pub purchased_by: Option<String>,
    pub payment_id: Option<String>,
    #[doc = "When the lead was booked."]
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The contact as the event's mentor may see it: initials only until the lead is PURCHASED.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MentorView {
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub message: Option<String>,
}

/// An admin's verdict on a lead: the state machine's action and the audit log's entry for
/// it. The API accepts only VERIFIED and REJECTED as verdicts (422 otherwise); anything but
/// VERIFIED is taken as a rejection here.
pub fn review(verdict: LeadStatus) -> (LeadAction, super::audit::AuditAction) {
    use super::audit::AuditAction;
    match verdict {
        LeadStatus::Verified => (LeadAction::AdminVerify, AuditAction::LeadVerified),
        _ => (LeadAction::AdminReject, AuditAction::LeadRejected),
    }
}

/// A lead's move and what it implies, decided here once for every backend: each backend
/// writes the status and carries out the effects with its own primitives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub from: LeadStatus,
    pub to: LeadStatus,
    pub verification: VerificationStatus,
}

impl Move {
    /// The slot, the learner's one booking on the event and the duplicate index go back.
    pub fn frees_slot(&self) -> bool {
        self.from.holds_slot() && !self.to.holds_slot()
    }

    /// The lead can no longer be bought: its open orders are void (except the one whose
    /// capture is settling this move).
    pub fn voids_orders(&self) -> bool {
        self.to != LeadStatus::Verified
    }

    /// It left the review queue: any admin's claim on it is over.
    pub fn ends_claim(&self) -> bool {
        self.from == LeadStatus::Pending
    }
}

impl Lead {
    /// Plans `action` on this lead, or says why the state machine refuses it.
    pub fn plan(&self, action: LeadAction) -> Result<Move, TransitionError> {
        let (to, verification) = self.status.apply(action)?;
        Ok(Move {
            from: self.status,
            to,
            verification: verification.unwrap_or(self.verification_status),
        })
    }

    pub fn mentor_view(&self) -> MentorView {
        if self.status == LeadStatus::Purchased {
            MentorView {
                name: self.contact.name.clone(),
                email: Some(self.contact.email.as_str().to_string()),
                phone: Some(self.contact.phone.as_str().to_string()),
                message: Some(self.contact.message.clone()),
            }
        } else {
            MentorView {
                name: self.contact.initials(),
                email: None,
                phone: None,
                message: None,
            }
        }
    }

    /// Whether the event's mentor sees this lead at all (in the feed and listings).
    pub fn offered_to_mentor(&self) -> bool {
        matches!(self.status, LeadStatus::Verified | LeadStatus::Purchased)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LeadAction::*;
    use LeadStatus::*;

    #[test]
    fn a_move_says_what_it_implies() {
        let plan = |from, to| Move {
            from,
            to,
            verification: VerificationStatus::Pending,
        };
        // Rejecting a lead under review frees its slot, ends the claim, voids orders.
        let rejected = plan(Pending, Rejected);
        assert!(rejected.frees_slot() && rejected.ends_claim() && rejected.voids_orders());
        // Verifying keeps the slot and leaves the lead buyable.
        let verified = plan(Pending, Verified);
        assert!(!verified.frees_slot() && verified.ends_claim() && !verified.voids_orders());
        // A purchase keeps the slot; other orders for the lead are void.
        let bought = plan(Verified, Purchased);
        assert!(!bought.frees_slot() && !bought.ends_claim() && bought.voids_orders());
        let cancelled = plan(Verified, Cancelled);
        assert!(cancelled.frees_slot() && !cancelled.ends_claim());
    }

    #[test]
    fn state_machine_table() {
        let table = [
            (Pending, AdminVerify, Ok(Verified)),
            (Pending, AdminReject, Ok(Rejected)),
            (Pending, Purchase, Err("LEAD_NOT_VERIFIED")),
            (Pending, Cancel, Ok(Cancelled)),
            (Verified, AdminVerify, Err("INVALID_TRANSITION")),
            (Verified, AdminReject, Ok(Rejected)),
            (Verified, Purchase, Ok(Purchased)),
            (Verified, Cancel, Ok(Cancelled)),
            (Purchased, AdminReject, Err("ALREADY_PURCHASED")),
            (Purchased, Purchase, Err("ALREADY_PURCHASED")),
            (Purchased, Cancel, Err("ALREADY_PURCHASED")),
            (Rejected, AdminVerify, Err("LEAD_REJECTED")),
            (Rejected, Purchase, Err("LEAD_NOT_VERIFIED")),
            (Cancelled, AdminVerify, Err("LEAD_CANCELLED")),
            (Cancelled, Cancel, Err("LEAD_CANCELLED")),
        ];
        for (from, action, expected) in table {
            let got = from.apply(action).map(|(s, _)| s).map_err(|e| e.code());
            assert_eq!(got, expected, "{from:?} + {action:?}");
        }
    }

    #[test]
    fn admin_decisions_set_verification_status() {
        assert_eq!(
            Pending.apply(AdminVerify).unwrap().1,
            Some(VerificationStatus::ManualVerified)
        );
        assert_eq!(
            Verified.apply(AdminReject).unwrap().1,
            Some(VerificationStatus::Rejected)
        );
        assert_eq!(Verified.apply(Purchase).unwrap().1, None);
    }

    #[test]
    fn only_live_leads_hold_a_slot() {
        assert!(Pending.holds_slot() && Verified.holds_slot() && Purchased.holds_slot());
        assert!(!Rejected.holds_slot() && !Cancelled.holds_slot());
    }

    #[test]
    fn stored_names_round_trip() {
        for s in [Pending, Verified, Purchased, Rejected, Cancelled] {
            assert_eq!(LeadStatus::from_stored(s.as_str()), Some(s));
        }
        for v in [
            VerificationStatus::AutoVerified,
            VerificationStatus::ManualVerified,
            VerificationStatus::Pending,
            VerificationStatus::Rejected,
        ] {
            assert_eq!(VerificationStatus::from_stored(v.as_str()), Some(v));
        }
    }
}
