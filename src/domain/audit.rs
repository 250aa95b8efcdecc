//! The append-only audit log: every admin decision and payment state change.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuditAction {
    MentorApproved,
    MentorRejected,
    LeadVerified,
    LeadRejected,
    PaymentCreated,
    PaymentCompleted,
    PaymentFailed,
    PaymentRefundDue,
    /// Someone closed their own account.
    AccountClosed,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::MentorApproved => "MENTOR_APPROVED",
            AuditAction::MentorRejected => "MENTOR_REJECTED",
            AuditAction::LeadVerified => "LEAD_VERIFIED",
            AuditAction::LeadRejected => "LEAD_REJECTED",
            AuditAction::PaymentCreated => "PAYMENT_CREATED",
            AuditAction::PaymentCompleted => "PAYMENT_COMPLETED",
            AuditAction::PaymentFailed => "PAYMENT_FAILED",
            AuditAction::PaymentRefundDue => "PAYMENT_REFUND_DUE",
            AuditAction::AccountClosed => "ACCOUNT_CLOSED",
        }
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        [
            AuditAction::MentorApproved,
            AuditAction::MentorRejected,
            AuditAction::LeadVerified,
            AuditAction::LeadRejected,
            AuditAction::PaymentCreated,
            AuditAction::PaymentCompleted,
            AuditAction::PaymentFailed,
            AuditAction::PaymentRefundDue,
            AuditAction::AccountClosed,
        ]
        .into_iter()
        .find(|a| a.as_str() == value)
    }
}

/// Who did it: an admin's or mentor's user id, or a system actor such as `razorpay_webhook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub audit_id: String,
    pub actor_id: String,
    pub action: AuditAction,
    pub target_id: String,
    pub reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Which entries the admin's audit log shows: an action, an actor, a time window.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<AuditAction>,
    pub actor_id: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

impl AuditFilter {
    pub fn matches(&self, entry: &AuditEntry) -> bool {
        self.action.is_none_or(|a| entry.action == a)
            && self.actor_id.as_ref().is_none_or(|a| entry.actor_id == *a)
            && self.from.is_none_or(|from| entry.created_at >= from)
            && self.to.is_none_or(|to| entry.created_at <= to)
    }

    /// Whether an entry made at `at` or earlier can match (the log is read newest first).
    pub fn reaches_back_to(&self, at: Timestamp) -> bool {
        self.from.is_none_or(|from| at >= from)
    }
}

/// What an action means, in words.
pub fn describe(action: AuditAction) -> &'static str {
    match action {
        AuditAction::MentorApproved => "approved the mentor application of",
        AuditAction::MentorRejected => "turned down the mentor application of",
        AuditAction::LeadVerified => "verified",
        AuditAction::LeadRejected => "rejected",
        AuditAction::PaymentCreated => "opened",
        AuditAction::PaymentCompleted => "completed",
        AuditAction::PaymentFailed => "recorded the failure of",
        AuditAction::PaymentRefundDue => "marked for refund",
        AuditAction::AccountClosed => "closed",
    }
}

/// Actor ids for changes no person made directly.
pub const ACTOR_WEBHOOK: &str = "razorpay_webhook";
/// Consequences the store applies by itself (e.g. voiding orders of a lead no longer for sale).
pub const ACTOR_SYSTEM: &str = "system";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip() {
        for a in [
            AuditAction::MentorApproved,
            AuditAction::PaymentRefundDue,
            AuditAction::LeadRejected,
        ] {
            assert_eq!(AuditAction::from_stored(a.as_str()), Some(a));
        }
        assert_eq!(AuditAction::from_stored("NOPE"), None);
    }
}
