use rusqlite::{params, Connection, OptionalExtension};

use super::exec;
use super::{admin::append_audit, catalog, claims, outbox, payments, rows};
use crate::crypto::Vault;
use crate::domain::change::Change;
use crate::domain::ids;
use crate::domain::lead::{review, Lead, LeadAction, LeadStatus};
use crate::domain::mentor::MentorStatus;
use crate::domain::time::{to_storage, Timestamp};
use crate::domain::verification::{initial_state, DUPLICATE_CONTACT};
use crate::store::cursor;
use crate::store::{
    Conflict, LeadChange, LeadDecision, NewBooking, Page, PageRequest, StoreError, StoreResult,
};

const LEAD_COLUMNS: &str = "lead_id, event_id, event_title, event_datetime, mentor_id, user_id, contact_sealed,
    status, verification_status, verification_notes, purchased_by, payment_id, created_at, updated_at";

/// The mentor's application status, looked up by key.
fn mentor_status(tx: &Connection, mentor_id: &str) -> StoreResult<Option<MentorStatus>> {
    let status: Option<String> = tx
        .query_row(
            "SELECT verification_status FROM mentors WHERE mentor_id = ?1",
            [mentor_id],
            |r| r.get(0),
        )
        .optional()?;
    Ok(status.as_deref().and_then(MentorStatus::from_stored))
}

/// Takes a slot with three compare-and-sets under the write lock: the learner's one booking
/// on the event, a slot (`booked_slots < total_slots`), then the duplicate check.
pub fn book_slot(tx: &Connection, vault: &Vault, booking: NewBooking) -> StoreResult<Lead> {
    // An account closed while this request was on its way books nothing.
    let mut account = tx.prepare_cached("SELECT 1 FROM users WHERE user_id = ?1")?;
    if !account.exists([&booking.user_id])? {
        return Err(StoreError::NotFound("account"));
    }
    let event = catalog::event(tx, &booking.event_id)?.ok_or(StoreError::NotFound("event"))?;
    event.check_bookable(mentor_status(tx, &event.mentor_id)?, booking.now)?;
    let claimed = exec(
        tx,
        "INSERT INTO event_bookings (event_id, user_id, lead_id) VALUES (?1, ?2, ?3)
         ON CONFLICT (event_id, user_id) DO NOTHING",
        params![booking.event_id, booking.user_id, booking.lead_id],
    )?;
    if claimed == 0 {
        return Err(Conflict::AlreadyBooked.into());
    }
    let took_slot = exec(
        tx,
        "UPDATE events SET booked_slots = booked_slots + 1 WHERE event_id = ?1 AND booked_slots < total_slots",
        [&booking.event_id],
    )?;
    if took_slot == 0 {
        // The error rolls back the booking claim above.
        return Err(Conflict::EventFull.into());
    }

    let indexes = vault.contact_indexes(&booking.contact);
    let mut flags = booking.flags.clone();
    if has_duplicate(tx, &booking, &indexes)? {
        flags.push(DUPLICATE_CONTACT.to_string());
    }
    let (status, verification_status) = initial_state(&flags);
    for blind in &indexes {
        exec(
            tx,
            "INSERT INTO contact_index (event_id, blind_index, lead_id, user_id) VALUES (?1, ?2, ?3, ?4)",
            params![booking.event_id, blind, booking.lead_id, booking.user_id],
        )?;
    }
    let created = to_storage(&booking.now);
    let notes = serde_json::to_string(&flags).map_err(anyhow::Error::new)?;
    let sql = &format!("INSERT INTO leads ({LEAD_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, NULL, ?11, ?11)");
    exec(
        tx,
        sql,
        params![
            booking.lead_id,
            booking.event_id,
            event.title,
            to_storage(&event.event_datetime),
            event.mentor_id,
            booking.user_id,
            rows::seal(vault, &booking.lead_id, &booking.contact)?,
            status.as_str(),
            verification_status.as_str(),
            notes,
            created,
        ],
    )?;
    let lead = lead(tx, vault, &booking.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
    let booked = Change::LeadBooked { lead: lead.clone() };
    outbox::record(tx, vault, &booked, booking.now)?;
    Ok(lead)
}

/// Another account's live lead on this event with the same e-mail or phone.
fn has_duplicate(tx: &Connection, booking: &NewBooking, indexes: &[String]) -> StoreResult<bool> {
    let mut stmt = tx.prepare_cached(
        "SELECT 1 FROM contact_index WHERE event_id = ?1 AND blind_index = ?2 AND user_id != ?3 LIMIT 1",
    )?;
    for blind in indexes {
        if stmt.exists(params![booking.event_id, blind, booking.user_id])? {
            return Ok(true);
        }
    }
    Ok(false)
}

pub fn lead(conn: &Connection, vault: &Vault, lead_id: &str) -> StoreResult<Option<Lead>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE lead_id = ?1"
    ))?;
    let mut rows = stmt.query([lead_id])?;
    rows.next()?.map(|row| rows::lead(row, vault)).transpose()
}

/// Newest first within one owner's partition; `column` is one of our own key columns.
pub fn leads_where(
    conn: &Connection,
    vault: &Vault,
    column: &'static str,
    value: &str,
) -> StoreResult<Vec<Lead>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE {column} = ?1 ORDER BY created_at DESC, lead_id DESC"
    ))?;
    let mut rows = stmt.query([value])?;
    rows::collect(&mut rows, |row| rows::lead(row, vault))
}

/// Newest first; the cursor is `created_at|lead_id`.
pub fn leads_by_status(
    conn: &Connection,
    vault: &Vault,
    status: Option<LeadStatus>,
    page: &PageRequest,
) -> StoreResult<Page<Lead>> {
    let (after_ts, after_id) = cursor::after("leads", page.after.as_deref())?
        .unwrap_or_else(|| ("\u{10FFFF}".to_string(), String::new()));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LEAD_COLUMNS} FROM leads WHERE (?1 IS NULL OR status = ?1) AND (created_at, lead_id) < (?2, ?3)
         ORDER BY created_at DESC, lead_id DESC LIMIT ?4"
    ))?;
    let mut rows = stmt.query(params![
        status.map(LeadStatus::as_str),
        after_ts,
        after_id,
        page.limit + 1
    ])?;
    let leads = rows::collect(&mut rows, |row| rows::lead(row, vault))?;
    Ok(Page::from_overfetch(leads, page.limit, |l| {
        cursor::position("leads", &l.created_at, &l.lead_id)
    }))
}

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
        payments::void_open_orders(tx, &lead.lead_id, settling, planned.to, now)?;
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
    let current = lead(tx, vault, lead_id)?
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
    let after = lead(tx, vault, &before.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
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
    let current = lead(tx, vault, &decision.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
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
