//! A mentor buys a lead: an order with the payment provider, then the capture, reported by
//! the checkout or by the provider's webhook (at least once, in any order).

use crate::domain::audit::ACTOR_WEBHOOK;
use crate::domain::ids::{self, EventId, LeadId, MentorId, OrderId, UserId};
use crate::domain::lead::LeadAction;
use crate::domain::money::CURRENCY;
use crate::domain::payment::{Payment, PaymentStatus};
use crate::payments::signature::{checkout_signature, verify_checkout, verify_webhook};
use crate::payments::webhook::{self, WebhookEvent};
use crate::state::AppState;
use crate::store::{CaptureOutcome, Conflict, PaymentReport, StoreError};

use super::{AppError, AppResult};

/// The lead's one open order: the one already open (a second tab), or a new one created
/// with the provider. The lead must be on the mentor's events and still for sale.
pub async fn open_order(
    state: &AppState,
    mentor_id: &MentorId,
    actor_id: &UserId,
    lead_id: &LeadId,
) -> AppResult<Payment> {
    let lead = state
        .store
        .lead(lead_id)
        .await?
        .filter(|l| l.mentor_id == mentor_id)
        .ok_or(AppError::NotFound("lead"))?;
    lead.plan(LeadAction::Purchase).map_err(Conflict::from)?;
    if let Some(open) = state.store.open_payment_for_lead(lead_id).await? {
        return Ok(open);
    }
    let event = state
        .store
        .event(EventId::new(&lead.event_id))
        .await?
        .ok_or(AppError::NotFound("event"))?;
    let payment_id = ids::new_id(ids::PAYMENT);
    let order = state
        .payments
        .gateway
        .create_order(event.price_per_lead.to_paise(), &payment_id, &lead.lead_id)
        .await?;
    let created_at = state.clock.now();
    let opened = state
        .store
        .open_order(
            Payment {
                payment_id,
                mentor_id: mentor_id.to_string(),
                lead_id: lead.lead_id.clone(),
                razorpay_order_id: order.order_id,
                razorpay_payment_id: None,
                amount: order.amount,
                currency: CURRENCY.to_string(),
                status: PaymentStatus::Created,
                created_at,
                updated_at: created_at,
            },
            actor_id,
        )
        .await?;
    Ok(opened.payment)
}

/// What the checkout handed the mentor's browser.
pub struct CheckoutProof {
    pub order_id: String,
    pub payment_id: String,
    pub signature: String,
}

/// Simulated payments only: pays the mentor's own open order as the provider's checkout
/// would, answering the signed result the browser then hands to `settle_checkout`.
pub async fn simulate_checkout(
    state: &AppState,
    mentor_id: &MentorId,
    order_id: &OrderId,
) -> AppResult<CheckoutProof> {
    if !state.payments.is_simulated() {
        return Err(AppError::NotFound(
            "simulated checkout (LEADBRIDGE_PAYMENTS is razorpay)",
        ));
    }
    let payment = state
        .store
        .payment_by_order(order_id)
        .await?
        .filter(|p| p.mentor_id == mentor_id)
        .ok_or(AppError::NotFound("order"))?;
    if payment.status != PaymentStatus::Created {
        return Err(AppError::Refused {
            code: "ORDER_NOT_OPEN",
            message: format!(
                "order {} is {}",
                payment.razorpay_order_id,
                payment.status.as_str()
            ),
        });
    }
    let payment_id = ids::new_id(ids::PAYMENT);
    let signature = checkout_signature(
        state.payments.settings.key_secret.expose(),
        &payment.razorpay_order_id,
        &payment_id,
    );
    Ok(CheckoutProof {
        order_id: payment.razorpay_order_id,
        payment_id,
        signature,
    })
}

/// Settles a capture the mentor's checkout reports, signed by the provider. Repeating it is
/// harmless. Money taken for a lead that could no longer be sold is recorded as owed back
/// and answered LEAD_UNAVAILABLE.
pub async fn settle_checkout(
    state: &AppState,
    mentor_id: &MentorId,
    actor_id: &UserId,
    proof: CheckoutProof,
) -> AppResult<CaptureOutcome> {
    let secret = state.payments.settings.key_secret.expose();
    if !verify_checkout(secret, &proof.order_id, &proof.payment_id, &proof.signature) {
        return Err(AppError::BadSignature {
            message: "razorpay_signature does not match this order and payment".into(),
        });
    }
    let payment = state
        .store
        .payment_by_order(OrderId::new(&proof.order_id))
        .await?
        .filter(|p| p.mentor_id == mentor_id)
        .ok_or(AppError::NotFound("order"))?;
    let outcome = state
        .store
        .record_payment(PaymentReport {
            order_id: payment.razorpay_order_id,
            razorpay_payment_id: proof.payment_id,
            actor_id: actor_id.to_string(),
            delivery_id: None,
            now: state.clock.now(),
        })
        .await?;
    if outcome.payment.status == PaymentStatus::RefundDue {
        return Err(AppError::Refused {
            code: "LEAD_UNAVAILABLE",
            message: format!(
                "the payment was received but lead {} could no longer be sold; it is recorded for a refund",
                outcome.lead.lead_id
            ),
        });
    }
    Ok(outcome)
}

/// Processes one webhook delivery (body as sent, its signature, its delivery id); answers
/// `processed`, `duplicate` or `ignored`.
pub async fn settle_webhook(
    state: &AppState,
    body: &[u8],
    signature: &str,
    delivery_id: Option<String>,
) -> AppResult<&'static str> {
    if !verify_webhook(
        state.payments.settings.webhook_secret.expose(),
        body,
        signature,
    ) {
        return Err(AppError::BadSignature {
            message: "X-Razorpay-Signature does not match the body".into(),
        });
    }
    let event = webhook::parse(body).map_err(|e| AppError::Malformed {
        code: "MALFORMED_EVENT",
        message: e.to_string(),
    })?;
    let report = |order_id: &str, payment_id: &str| PaymentReport {
        order_id: order_id.to_string(),
        razorpay_payment_id: payment_id.to_string(),
        actor_id: ACTOR_WEBHOOK.into(),
        // Claimed in the same write as the outcome: a replay changes nothing, and a
        // delivery whose write failed is processed when the provider retries it.
        delivery_id: delivery_id.clone(),
        now: state.clock.now(),
    };
    let outcome = match &event {
        WebhookEvent::Captured {
            order_id,
            payment_id,
        } => state
            .store
            .record_payment(report(order_id, payment_id))
            .await
            .map(|capture| {
                if capture.duplicate_delivery {
                    "duplicate"
                } else {
                    "processed"
                }
            }),
        WebhookEvent::Failed {
            order_id,
            payment_id,
        } => state
            .store
            .record_payment_failure(report(order_id, payment_id))
            .await
            .map(|payment| {
                if payment.is_some() {
                    "processed"
                } else {
                    "duplicate"
                }
            }),
        WebhookEvent::Ignored(name) => {
            tracing::debug!(event = %name, "webhook event ignored");
            Ok("ignored")
        }
    };
    match outcome {
        Ok(status) => Ok(status),
        Err(StoreError::NotFound(_)) => {
            // Not one of our orders (another integration on the same account): acknowledge
            // so the provider stops retrying.
            tracing::warn!(?event, "webhook for an unknown order");
            Ok("ignored")
        }
        Err(other) => Err(other.into()),
    }
}
