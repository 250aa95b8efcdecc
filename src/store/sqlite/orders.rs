//! Payment rows and their moves: the primitives that opening, settling and voiding orders
//! are made of.

use rusqlite::{params, Connection};

use super::exec;
use super::{admin::append_audit, rows};
use crate::domain::audit::{AuditAction, ACTOR_SYSTEM};
use crate::domain::lead::LeadStatus;
use crate::domain::payment::{Payment, PaymentStatus};
use crate::domain::time::{to_storage, Timestamp};
use crate::store::StoreResult;

pub(super) const PAYMENT_COLUMNS: &str =
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

pub(super) fn set_status(
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
