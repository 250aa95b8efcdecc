use rusqlite::{params, Connection};

use super::exec;
use super::{admin::append_audit, bookings, rows};
use crate::crypto::Vault;
use crate::domain::audit::{AuditAction, ACTOR_SYSTEM};
use crate::domain::lead::{LeadAction, LeadStatus};
use crate::domain::payment::{Payment, PaymentStatus, Settlement};
use crate::domain::time::{to_storage, Timestamp};
use crate::store::{CaptureOutcome, Conflict, OpenOrder, PaymentReport, StoreError, StoreResult};

const PAYMENT_COLUMNS: &str =
    "payment_id, mentor_id, lead_id, razorpay_order_id, razorpay_payment_id,
    amount_paise, currency, status, created_at, updated_at";

/// `column` is one of our own key columns, never user input.
pub fn payment_where(
    conn: &Connection,
    column: &'static str,
    value: &str,
) -> StoreResult<Option<Payment>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE {column} = ?1"
    ))?;
    let mut rows = stmt.query([value])?;
    rows.next()?.map(rows::payment).transpose()
}

/// The lead's open (CREATED) order, if any.
pub fn open_payment_for_lead(conn: &Connection, lead_id: &str) -> StoreResult<Option<Payment>> {
    let mut stmt =
        conn.prepare_cached("SELECT payment_id FROM lead_open_orders WHERE lead_id = ?1")?;
    let payment_id: Option<String> = stmt
        .query([lead_id])?
        .next()?
        .map(|r| r.get(0))
        .transpose()?;
    match payment_id {
        Some(id) => {
            Ok(payment_where(conn, "payment_id", &id)?
                .filter(|p| p.status == PaymentStatus::Created))
        }
        None => Ok(None),
    }
}

/// Opens the lead's one order under the write lock: re-checks that the lead is still for
/// sale, returns an order already open, else records this one.
pub fn open_order(
    tx: &Connection,
    vault: &Vault,
    payment: Payment,
    actor_id: &str,
) -> StoreResult<OpenOrder> {
    let lead = bookings::lead(tx, vault, &payment.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
    lead.status
        .apply(LeadAction::Purchase)
        .map_err(Conflict::from)?;
    if let Some(existing) = open_payment_for_lead(tx, &payment.lead_id)? {
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

fn set_status(
    tx: &Connection,
    payment_id: &str,
    status: PaymentStatus,
    rp_id: Option<&str>,
    now: Timestamp,
) -> StoreResult<()> {
    exec(
        tx,
        "UPDATE payments SET status = ?2, razorpay_payment_id = COALESCE(?3, razorpay_payment_id), updated_at = ?4
         WHERE payment_id = ?1",
        params![payment_id, status.as_str(), rp_id, to_storage(&now)])?;
    exec(
        tx,
        "DELETE FROM lead_open_orders WHERE payment_id = ?1",
        [payment_id],
    )?;
    Ok(())
}

/// Marks the lead's unpaid orders FAILED (all but `except`): once a lead is sold, cancelled
/// or rejected, nobody should be able to pay for it any more.
pub fn void_open_orders(
    tx: &Connection,
    lead_id: &str,
    except: Option<&str>,
    lead_status: LeadStatus,
    now: Timestamp,
) -> StoreResult<()> {
    let open: Vec<String> = {
        let mut stmt = tx
            .prepare("SELECT payment_id FROM payments WHERE lead_id = ?1 AND status = 'CREATED'")?;
        let ids = stmt
            .query_map([lead_id], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        ids
    };
    let reason = format!(
        "lead {lead_id} is {} and no longer for sale",
        lead_status.as_str()
    );
    for payment_id in open.iter().filter(|id| Some(id.as_str()) != except) {
        set_status(tx, payment_id, PaymentStatus::Failed, None, now)?;
        append_audit(
            tx,
            ACTOR_SYSTEM,
            AuditAction::PaymentFailed,
            payment_id,
            Some(&reason),
            now,
        )?;
    }
    Ok(())
}

/// Settles a capture exactly once: a replay finds the payment settled and changes nothing.
pub fn record_payment(
    tx: &Connection,
    vault: &Vault,
    capture: &PaymentReport,
) -> StoreResult<CaptureOutcome> {
    let payment = payment_where(tx, "razorpay_order_id", &capture.order_id)?
        .ok_or(StoreError::NotFound("order"))?;
    let lead = bookings::lead(tx, vault, &payment.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
    let duplicate_delivery = !claim_delivery(tx, capture)?;
    if duplicate_delivery || payment.status.is_settled() {
        return Ok(CaptureOutcome {
            payment,
            lead,
            newly_settled: false,
            duplicate_delivery,
        });
    }
    let settlement = match bookings::unlock_lead(
        tx,
        &lead,
        &payment.mentor_id,
        &payment.payment_id,
        capture.now,
    ) {
        Ok(()) => {
            bookings::moved(tx, vault, &lead, None, capture.now)?;
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
        lead: bookings::lead(tx, vault, &payment.lead_id)?.ok_or(StoreError::NotFound("lead"))?,
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
