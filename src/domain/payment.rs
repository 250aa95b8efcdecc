//! Payments for lead purchases and how their status may move.
//!
//! Gateways deliver at least once and out of order, so every move here is idempotent:
//! a completed payment stays completed whatever arrives later.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::audit::AuditAction;
use super::conflict::Conflict;
use super::{money::Paise, time::Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Order created, waiting for the buyer.
    Created,
    /// Money captured and the lead unlocked for this payment's mentor.
    Completed,
    Failed,
    /// Money captured but the lead could no longer be sold (cancelled, rejected, or sold to
    /// an earlier payment): owed back to the mentor, not counted as revenue.
    RefundDue,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Created => "CREATED",
            PaymentStatus::Completed => "COMPLETED",
            PaymentStatus::Failed => "FAILED",
            PaymentStatus::RefundDue => "REFUND_DUE",
        }
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        match value {
            "CREATED" => Some(PaymentStatus::Created),
            "COMPLETED" => Some(PaymentStatus::Completed),
            "FAILED" => Some(PaymentStatus::Failed),
            "REFUND_DUE" => Some(PaymentStatus::RefundDue),
            _ => None,
        }
    }

    /// Whether the capture of money is already settled (either way); a repeat capture is a
    /// no-op then.
    pub fn is_settled(self) -> bool {
        matches!(self, PaymentStatus::Completed | PaymentStatus::RefundDue)
    }

    /// A failure notice only moves an order that has not been paid; a late `payment.failed`
    /// for an earlier attempt must not undo a capture.
    pub fn accepts_failure(self) -> bool {
        self == PaymentStatus::Created
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Payment {
    pub payment_id: String,
    pub mentor_id: String,
    pub lead_id: String,
    pub razorpay_order_id: String,
    pub razorpay_payment_id: Option<String>,
    #[schema(value_type = i64)]
    pub amount: Paise,
    pub currency: String,
    pub status: PaymentStatus,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// What a captured payment becomes: it bought the lead, or the lead could no longer be sold
/// (cancelled, rejected, sold to an earlier payment) and the money is owed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    Completed,
    RefundDue { reason: String },
}

impl Settlement {
    /// The settlement of a capture whose unlock of `lead_id` succeeded (`None`) or was
    /// refused for `refused`.
    pub fn of_unlock(lead_id: &str, refused: Option<&Conflict>) -> Self {
        match refused {
            None => Settlement::Completed,
            Some(why) => Settlement::RefundDue {
                reason: format!("lead {lead_id} could not be unlocked: {why}"),
            },
        }
    }

    pub fn status(&self) -> PaymentStatus {
        match self {
            Settlement::Completed => PaymentStatus::Completed,
            Settlement::RefundDue { .. } => PaymentStatus::RefundDue,
        }
    }

    pub fn audit_action(&self) -> AuditAction {
        match self {
            Settlement::Completed => AuditAction::PaymentCompleted,
            Settlement::RefundDue { .. } => AuditAction::PaymentRefundDue,
        }
    }

    /// Recorded in the audit log beside the refund.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Settlement::Completed => None,
            Settlement::RefundDue { reason } => Some(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PaymentStatus::*;
    use super::*;

    #[test]
    fn a_capture_for_a_lead_that_cannot_be_sold_is_owed_back() {
        let sold = Settlement::of_unlock("lead_1", None);
        assert_eq!(sold.status(), Completed);
        assert_eq!(sold.reason(), None);
        let refused = Settlement::of_unlock("lead_1", Some(&Conflict::EventStarted));
        assert_eq!(refused.status(), RefundDue);
        assert_eq!(refused.audit_action(), AuditAction::PaymentRefundDue);
        assert!(refused
            .reason()
            .unwrap()
            .starts_with("lead lead_1 could not be unlocked"));
    }

    #[test]
    fn captures_are_final_and_failures_only_hit_open_orders() {
        assert!(Completed.is_settled() && RefundDue.is_settled());
        assert!(!Created.is_settled() && !Failed.is_settled());
        assert!(Created.accepts_failure());
        assert!(
            !Completed.accepts_failure()
                && !Failed.accepts_failure()
                && !RefundDue.accepts_failure()
        );
    }
}
