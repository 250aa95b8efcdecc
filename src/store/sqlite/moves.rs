//! Moving leads: the domain plans each move (`Lead::plan`), this carries it out in the
//! caller's transaction (status, slot, orders, claim) and records it in the outbox.

use rusqlite::{params, Connection};

use super::exec;
use super::{admin::append_audit, claims, leads, orders, outbox};
use crate::crypto::Vault;
use crate::domain::change::Change;
use crate::domain::ids;
use crate::domain::lead::{review, Lead, LeadAction, LeadStatus};
use crate::domain::time::{to_storage, Timestamp};
use crate::store::{Conflict, LeadChange, LeadDecision, StoreError, StoreResult};

/// Moves a lead as the domain plans it (`Lead::plan`), or answers why not (a 409 at the
/// API), and carries out what the move implies; `settling` is the payment whose capture
/// makes this move, whose order is not voided.
fn transition(
    tx: &Connection,
    lead: &Lead,
    action: LeadAction,
    settling: Option<&str>,
    now: Timestamp,
) -> StoreResult<LeadStatus> {
    let planned = lead.plan(action).map_err(Conflict::from)?;
    exec(
        tx,
        "UPDATE leads SET status = ?2, verification_status = ?3, updated_at = ?4 WHERE lead_id = ?1",
        params![
            lead.lead_id,
            planned.to.as_str(),
            planned.verification.as_str(),
            to_storage(&now)
        ],
    )?;
    if planned.frees_slot() {
        release_slot(tx, lead)?;
    }
    if planned.voids_orders() {
        orders::void_open_orders(tx, &lead.lead_id, settling, planned.to, now)?;
    }
    if planned.ends_claim() {
        claims::clear(tx, &lead.lead_id)?;
    }
    Ok(planned.to)
}

/// Gives the slot back and lifts the learner's one-booking claim and the duplicate index.
fn release_slot(tx: &Connection, lead: &Lead) -> StoreResult<()> {
    exec(
        tx,
        "UPDATE events SET booked_slots = booked_slots - 1 WHERE event_id = ?1 AND booked_slots > 0",
        [&lead.event_id])?;
    exec(
        tx,
        "DELETE FROM event_bookings WHERE event_id = ?1 AND user_id = ?2 AND lead_id = ?3",
        params![lead.event_id, lead.user_id, lead.lead_id],
    )?;
    exec(
        tx,
        "DELETE FROM contact_index WHERE event_id = ?1 AND lead_id = ?2",
        params![lead.event_id, lead.lead_id],
    )?;
    Ok(())
}

pub fn cancel_booking(
    tx: &Connection,
    vault: &Vault,
    user_id: &str,
    lead_id: &str,
    now: Timestamp,
) -> StoreResult<LeadChange> {
    let current = leads::lead(tx, vault, lead_id)?
        .filter(|l| l.user_id == user_id)
        .ok_or(StoreError::NotFound("booking"))?;
    transition(tx, &current, LeadAction::Cancel, None, now)?;
    moved(tx, vault, &current, None, now)
}

/// Reads the lead after its move and records the move in the outbox.
pub fn moved(
    tx: &Connection,
    vault: &Vault,
    before: &Lead,
    reason: Option<String>,
    now: Timestamp,
) -> StoreResult<LeadChange> {
    let after = leads::lead(tx, vault, &before.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
    let change = LeadChange {
        before: before.status,
        lead: after,
    };
    outbox::record(
        tx,
        vault,
        &Change::LeadMoved {
            before: change.before,
            lead: change.lead.clone(),
            reason,
        },
        now,
    )?;
    Ok(change)
}

pub fn verify_lead(
    tx: &Connection,
    vault: &Vault,
    decision: &LeadDecision,
) -> StoreResult<LeadChange> {
    let current = leads::lead(tx, vault, &decision.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
    claims::check_not_claimed_by_other(tx, &decision.lead_id, &decision.admin_id, decision.now)?;
    let (action, audit) = review(decision.status);
    let next = transition(tx, &current, action, None, decision.now)?;
    if let Some(reason) = &decision.reason {
        let mut notes = current.verification_notes.clone();
        notes.push(reason.clone());
        let notes = serde_json::to_string(&notes).map_err(anyhow::Error::new)?;
        exec(
            tx,
            "UPDATE leads SET verification_notes = ?2 WHERE lead_id = ?1",
            params![decision.lead_id, notes],
        )?;
    }
    exec(
        tx,
        "INSERT INTO verification_logs (log_id, lead_id, verified_by, status, reason, timestamp)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            ids::new_id(ids::VERIFICATION_LOG),
            decision.lead_id,
            decision.admin_id,
            next.as_str(),
            decision.reason,
            to_storage(&decision.now)
        ],
    )?;
    append_audit(
        tx,
        &decision.admin_id,
        audit,
        &decision.lead_id,
        decision.reason.as_deref(),
        decision.now,
    )?;
    moved(tx, vault, &current, decision.reason.clone(), decision.now)
}

/// Unlocks a VERIFIED lead for a payment; a `Conflict` says why it could not be sold.
pub fn unlock_lead(
    tx: &Connection,
    lead: &Lead,
    mentor_id: &str,
    payment_id: &str,
    now: Timestamp,
) -> StoreResult<()> {
    transition(tx, lead, LeadAction::Purchase, Some(payment_id), now)?;
    exec(
        tx,
        "UPDATE leads SET purchased_by = ?2, payment_id = ?3 WHERE lead_id = ?1",
        params![lead.lead_id, mentor_id, payment_id],
    )?;
    Ok(())
}
