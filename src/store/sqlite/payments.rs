//! Buying a lead: opening its one order, settling a capture exactly once, recording a
//! failure; webhook deliveries claimed in the same write.

use rusqlite::{params, Connection};

use super::exec;
use super::orders::{self, payment_where, set_status, PAYMENT_COLUMNS};
use super::{admin::append_audit, leads, moves};
use crate::crypto::Vault;
use crate::domain::audit::AuditAction;
use crate::domain::lead::LeadAction;
use crate::domain::payment::{Payment, PaymentStatus, Settlement};
use crate::domain::time::to_storage;
use crate::store::{CaptureOutcome, Conflict, OpenOrder, PaymentReport, StoreError, StoreResult};

/// Opens the lead's one order under the write lock: re-checks that the lead is still for
/// sale, returns an order already open, else records this one.
pub fn open_order(
    tx: &Connection,
    vault: &Vault,
    payment: Payment,
    actor_id: &str,
) -> StoreResult<OpenOrder> {
    let lead = leads::lead(tx, vault, &payment.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
    lead.status
        .apply(LeadAction::Purchase)
        .map_err(Conflict::from)?;
    if let Some(existing) = orders::open_payment_for_lead(tx, &payment.lead_id)? {
        return Ok(OpenOrder {
            payment: existing,
            created: false,
        });
    }
    let sql = &format!("INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, ?7, ?8, ?8)");
    exec(
        tx,
        sql,
        params![
            payment.payment_id,
            payment.mentor_id,
            payment.lead_id,
            payment.razorpay_order_id,
            payment.amount.value(),
            payment.currency,
            PaymentStatus::Created.as_str(),
            to_storage(&payment.created_at),
        ],
    )?;
    // No open order exists (checked above under the lock), so the lead's row is free.
    exec(
        tx,
        "DELETE FROM lead_open_orders WHERE lead_id = ?1",
        [&payment.lead_id],
    )?;
    exec(
        tx,
        "INSERT INTO lead_open_orders (lead_id, payment_id) VALUES (?1, ?2)",
        params![payment.lead_id, payment.payment_id],
    )?;
    append_audit(
        tx,
        actor_id,
        AuditAction::PaymentCreated,
        &payment.payment_id,
        None,
        payment.created_at,
    )?;
    Ok(OpenOrder {
        payment,
        created: true,
    })
}

/// Settles a capture exactly once: a replay finds the payment settled and changes nothing.
pub fn record_payment(
    tx: &Connection,
    vault: &Vault,
    capture: &PaymentReport,
) -> StoreResult<CaptureOutcome> {
    let payment = payment_where(tx, "razorpay_order_id", &capture.order_id)?
        .ok_or(StoreError::NotFound("order"))?;
    let lead = leads::lead(tx, vault, &payment.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
    let duplicate_delivery = !claim_delivery(tx, capture)?;
    if duplicate_delivery || payment.status.is_settled() {
        return Ok(CaptureOutcome {
            payment,
            lead,
            newly_settled: false,
            duplicate_delivery,
        });
    }
    let settlement = match moves::unlock_lead(
        tx,
        &lead,
        &payment.mentor_id,
        &payment.payment_id,
        capture.now,
    ) {
        Ok(()) => {
            moves::moved(tx, vault, &lead, None, capture.now)?;
            Settlement::of_unlock(&lead.lead_id, None)
        }
        Err(StoreError::Conflict(why)) => Settlement::of_unlock(&lead.lead_id, Some(&why)),
        Err(other) => return Err(other),
    };
    set_status(
        tx,
        &payment.payment_id,
        settlement.status(),
        Some(capture.razorpay_payment_id.as_str()),
        capture.now,
    )?;
    append_audit(
        tx,
        &capture.actor_id,
        settlement.audit_action(),
        &payment.payment_id,
        settlement.reason(),
        capture.now,
    )?;
    Ok(CaptureOutcome {
        payment: payment_where(tx, "payment_id", &payment.payment_id)?
            .ok_or(StoreError::NotFound("payment"))?,
        lead: leads::lead(tx, vault, &payment.lead_id)?.ok_or(StoreError::NotFound("lead"))?,
        newly_settled: true,
        duplicate_delivery: false,
    })
}

pub fn record_payment_failure(
    tx: &Connection,
    failure: &PaymentReport,
) -> StoreResult<Option<Payment>> {
    let payment = payment_where(tx, "razorpay_order_id", &failure.order_id)?
        .ok_or(StoreError::NotFound("order"))?;
    if !claim_delivery(tx, failure)? {
        return Ok(None);
    }
    if !payment.status.accepts_failure() {
        return Ok(Some(payment));
    }
    set_status(
        tx,
        &payment.payment_id,
        PaymentStatus::Failed,
        Some(&failure.razorpay_payment_id),
        failure.now,
    )?;
    append_audit(
        tx,
        &failure.actor_id,
        AuditAction::PaymentFailed,
        &payment.payment_id,
        None,
        failure.now,
    )?;
    payment_where(tx, "payment_id", &payment.payment_id).map(|p| p.or(Some(payment)))
}

/// Claims the report's webhook delivery id in this write; false if it was seen before. A
/// report without one (the checkout callback) always proceeds.
fn claim_delivery(tx: &Connection, report: &PaymentReport) -> StoreResult<bool> {
    match &report.delivery_id {
        Some(id) => {
            let inserted = exec(
                tx,
                "INSERT INTO webhook_events (event_id, received_at) VALUES (?1, ?2) ON CONFLICT (event_id) DO NOTHING",
                params![id, to_storage(&report.now)],
            )?;
            Ok(inserted == 1)
        }
        None => Ok(true),
    }
}
