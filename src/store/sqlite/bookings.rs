//! Taking a slot: the learner's one booking on the event, a seat, the duplicate check and
//! the lead row, in one transaction.

use rusqlite::{params, Connection, OptionalExtension};

use super::exec;
use super::{catalog, leads, outbox, rows};
use crate::crypto::Vault;
use crate::domain::change::Change;
use crate::domain::lead::Lead;
use crate::domain::mentor::MentorStatus;
use crate::domain::time::to_storage;
use crate::domain::verification::{initial_state, DUPLICATE_CONTACT};
use crate::store::{Conflict, NewBooking, StoreError, StoreResult};

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
    let sql = &format!("INSERT INTO leads ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, NULL, ?11, ?11)", leads::LEAD_COLUMNS);
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
    let lead = leads::lead(tx, vault, &booking.lead_id)?.ok_or(StoreError::NotFound("lead"))?;
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
