//! Lead rows: read by key or within one owner's partition.

use rusqlite::{params, Connection};

use super::rows;
use crate::crypto::Vault;
use crate::domain::lead::{Lead, LeadStatus};
use crate::store::cursor;
use crate::store::{Page, PageRequest, StoreResult};

pub(super) const LEAD_COLUMNS: &str = "lead_id, event_id, event_title, event_datetime, mentor_id, user_id, contact_sealed,
    status, verification_status, verification_notes, purchased_by, payment_id, created_at, updated_at";

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
