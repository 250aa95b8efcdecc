use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection};

use super::exec;
use super::{outbox, rows};
use crate::crypto::Vault;
use crate::domain::change::Change;
use crate::domain::event::{Event, EventDraft, EventFilter};
use crate::domain::time::{now, to_storage, Timestamp};
use crate::store::cursor;
use crate::store::{Page, PageRequest, StoreError, StoreResult};

const EVENT_COLUMNS: &str =
    "event_id, mentor_id, mentor_name, title, description, category, event_datetime,
    duration, total_slots, booked_slots, price_per_lead, created_at";

pub fn create_event(tx: &Connection, event: Event) -> StoreResult<Event> {
    exec(
        tx,
        "INSERT INTO events (event_id, mentor_id, mentor_name, title, description, category, event_datetime,
                             duration, total_slots, booked_slots, price_per_lead, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11, ?11)",
        params![
            event.event_id,
            event.mentor_id,
            event.mentor_name,
            event.title,
            event.description,
            event.category,
            to_storage(&event.event_datetime),
            event.duration,
            event.total_slots,
            event.price_per_lead.value(),
            to_storage(&event.created_at),
        ],
    )?;
    Ok(event)
}

pub fn event(conn: &Connection, event_id: &str) -> StoreResult<Option<Event>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE event_id = ?1"
    ))?;
    let mut rows = stmt.query([event_id])?;
    rows.next()?.map(rows::event).transpose()
}

fn like_pattern(text: &str) -> String {
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Soonest first; the cursor is `event_datetime|event_id`.
/// One spelling per category, of events on `from`'s day or later.
pub fn event_categories(conn: &Connection, from: &Timestamp) -> StoreResult<Vec<String>> {
    let day = from.format("%Y-%m-%d").to_string();
    let mut stmt = conn.prepare_cached(
        "SELECT MIN(category) FROM events WHERE event_datetime >= ?1
         GROUP BY lower(category) ORDER BY lower(category)",
    )?;
    let names = stmt
        .query_map([day], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(names)
}

pub fn list_events(
    conn: &Connection,
    filter: &EventFilter,
    page: &PageRequest,
) -> StoreResult<Page<Event>> {
    let mut clauses = vec!["(event_datetime, event_id) > (?, ?)".to_string()];
    let (after_ts, after_id) = cursor::after("events", page.after.as_deref())?.unwrap_or_default();
    let mut args: Vec<Value> = vec![after_ts.into(), after_id.into()];
    if let Some(q) = &filter.q {
        clauses.push(
            "(title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' OR category LIKE ? ESCAPE '\\')".into(),
        );
        let pattern = like_pattern(q);
        args.extend([
            pattern.clone().into(),
            pattern.clone().into(),
            pattern.into(),
        ]);
    }
    if let Some(category) = &filter.category {
        clauses.push("category = ? COLLATE NOCASE".into());
        args.push(category.clone().into());
    }
    if let Some(mentor_id) = &filter.mentor_id {
        clauses.push("mentor_id = ?".into());
        args.push(mentor_id.clone().into());
    }
    if let Some(from) = &filter.from {
        clauses.push("event_datetime >= ?".into());
        args.push(to_storage(from).into());
    }
    if let Some(to) = &filter.to {
        clauses.push("event_datetime <= ?".into());
        args.push(to_storage(to).into());
    }
    args.push(i64::from(page.limit + 1).into());
    let sql = format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE {} ORDER BY event_datetime, event_id LIMIT ?",
        clauses.join(" AND ")
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params_from_iter(args))?;
    let events = rows::collect(&mut rows, rows::event)?;
    Ok(Page::from_overfetch(events, page.limit, |e| {
        cursor::position("events", &e.event_datetime, &e.event_id)
    }))
}

pub fn mentor_events(conn: &Connection, mentor_id: &str) -> StoreResult<Vec<Event>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE mentor_id = ?1 ORDER BY event_datetime, event_id"
    ))?;
    let mut rows = stmt.query([mentor_id])?;
    rows::collect(&mut rows, rows::event)
}

fn own_event(tx: &Connection, mentor_id: &str, event_id: &str) -> StoreResult<Event> {
    event(tx, event_id)?
        .filter(|e| e.mentor_id == mentor_id)
        .ok_or(StoreError::NotFound("event"))
}

pub fn update_event(
    tx: &Connection,
    vault: &Vault,
    mentor_id: &str,
    event_id: &str,
    draft: &EventDraft,
) -> StoreResult<Event> {
    let current = own_event(tx, mentor_id, event_id)?;
    current.check_slots(draft.total_slots)?;
    let when = to_storage(&draft.event_datetime);
    let edited_at = now();
    exec(
        tx,
        "UPDATE events SET title = ?2, description = ?3, category = ?4, event_datetime = ?5, duration = ?6,
                           total_slots = ?7, price_per_lead = ?8, updated_at = ?9
         WHERE event_id = ?1",
        params![
            event_id,
            draft.title,
            draft.description,
            draft.category,
            when,
            draft.duration,
            draft.total_slots,
            draft.price_per_lead.value(),
            to_storage(&edited_at),
        ],
    )?;
    // Keep the leads' denormalised copies in step (one partition: the event's leads).
    exec(
        tx,
        "UPDATE leads SET event_title = ?2, event_datetime = ?3 WHERE event_id = ?1",
        params![event_id, draft.title, when],
    )?;
    let event = own_event(tx, mentor_id, event_id)?;
    let mut stmt = tx.prepare_cached("SELECT user_id FROM event_bookings WHERE event_id = ?1")?;
    let learners = stmt
        .query_map([event_id], |r| r.get::<_, String>(0))?
        .collect::<Result<_, _>>()?;
    let edited = Change::EventEdited {
        before: current,
        event: event.clone(),
        learners,
    };
    outbox::record(tx, vault, &edited, edited_at)?;
    Ok(event)
}

pub fn delete_event(
    tx: &Connection,
    vault: &Vault,
    mentor_id: &str,
    event_id: &str,
) -> StoreResult<()> {
    own_event(tx, mentor_id, event_id)?.check_deletable()?;
    exec(tx, "DELETE FROM events WHERE event_id = ?1", [event_id])?;
    let deleted = Change::EventDeleted {
        event_id: event_id.to_string(),
        mentor_id: mentor_id.to_string(),
    };
    outbox::record(tx, vault, &deleted, now())
}
