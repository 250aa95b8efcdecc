use rusqlite::{params, Connection};

use super::{admin::append_audit, rows};
use crate::domain::audit::AuditAction;
use crate::domain::ids;
use crate::domain::mentor::{MentorProfile, MentorStatus, ProfileUpdate};
use crate::domain::time::{now, to_storage};
use crate::domain::user::User;
use crate::store::{
    Conflict, Credentials, MentorDecision, NewUser, Page, PageRequest, Session, StoreError,
    StoreResult,
};

pub fn create_user(tx: &Connection, new: &NewUser) -> StoreResult<User> {
    let created = to_storage(&new.created_at);
    // Compare-and-set on the unique e-mail.
    let inserted = tx.execute(
        "INSERT INTO users (user_id, email, name, role, password_hash, picture, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6) ON CONFLICT (email) DO NOTHING",
        params![
            new.user_id,
            new.email,
            new.name,
            new.role.as_str(),
            new.password_hash,
            created
        ],
    )?;
    if inserted == 0 {
        return Err(Conflict::EmailTaken.into());
    }
    if let Some(mentor_id) = &new.mentor_id {
        tx.execute(
            "INSERT INTO mentors (mentor_id, user_id, name, email, bio, expertise, experience,
                                  verification_status, verification_reason, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, '', '[]', '', 'PENDING', NULL, ?5, ?5)",
            params![mentor_id, new.user_id, new.name, new.email, created],
        )?;
    }
    user(tx, &new.user_id)?.ok_or(StoreError::NotFound("user"))
}

pub fn upsert_admin(tx: &Connection, email: &str, name: &str, hash: &str) -> StoreResult<User> {
    tx.execute(
        "INSERT INTO users (user_id, email, name, role, password_hash, picture, created_at)
         VALUES (?1, ?2, ?3, 'ADMIN', ?4, NULL, ?5)
         ON CONFLICT (email) DO UPDATE SET name = excluded.name, role = 'ADMIN',
                                           password_hash = excluded.password_hash",
        params![
            ids::new_id(ids::USER),
            email,
            name,
            hash,
            to_storage(&now())
        ],
    )?;
    credentials_by_email(tx, email)?
        .map(|c| c.user)
        .ok_or(StoreError::NotFound("user"))
}

pub fn credentials_by_email(conn: &Connection, email: &str) -> StoreResult<Option<Credentials>> {
    let sql = format!(
        "SELECT {}, password_hash FROM users WHERE email = ?1",
        rows::USER_COLUMNS
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([email])?;
    match rows.next()? {
        Some(row) => Ok(Some(Credentials {
            user: rows::user(row)?,
            password_hash: row.get("password_hash")?,
        })),
        None => Ok(None),
    }
}

pub fn user(conn: &Connection, user_id: &str) -> StoreResult<Option<User>> {
    let sql = format!(
        "SELECT {} FROM users WHERE user_id = ?1",
        rows::USER_COLUMNS
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([user_id])?;
    rows.next()?.map(rows::user).transpose()
}

/// Oldest first; the cursor is `created_at|user_id`.
pub fn list_users(conn: &Connection, page: &PageRequest) -> StoreResult<Page<User>> {
    let (after_ts, after_id) = split_cursor(page.after.as_deref());
    let sql = format!(
        "SELECT {} FROM users WHERE (created_at, user_id) > (?1, ?2)
         ORDER BY created_at, user_id LIMIT ?3",
        rows::USER_COLUMNS
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(params![after_ts, after_id, page.limit + 1])?;
    let users = rows::collect(&mut rows, rows::user)?;
    Ok(Page::from_overfetch(users, page.limit, |u| {
        format!("{}|{}", to_storage(&u.created_at), u.user_id)
    }))
}

/// Splits a `timestamp|id` cursor; an absent cursor starts before everything.
pub fn split_cursor(after: Option<&str>) -> (String, String) {
    match after.and_then(|a| a.split_once('|')) {
        Some((ts, id)) => (ts.to_string(), id.to_string()),
        None => (String::new(), String::new()),
    }
}

pub fn create_session(tx: &Connection, session: &Session) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            session.token_hash,
            session.user_id,
            to_storage(&session.created_at),
            to_storage(&session.expires_at)
        ],
    )?;
    // Expired sessions of this user are swept as new ones are made (no background job needed).
    tx.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND expires_at < ?2",
        params![session.user_id, to_storage(&session.created_at)],
    )?;
    Ok(())
}

pub fn session(conn: &Connection, token_hash: &str) -> StoreResult<Option<Session>> {
    let mut stmt = conn.prepare(
        "SELECT token_hash, user_id, created_at, expires_at FROM sessions WHERE token_hash = ?1",
    )?;
    let mut rows = stmt.query([token_hash])?;
    rows.next()?.map(rows::session).transpose()
}

pub fn delete_session(tx: &Connection, token_hash: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}

const MENTOR_COLUMNS: &str = "mentor_id, user_id, name, email, bio, expertise, experience,
    verification_status, verification_reason, created_at";

/// `column` is one of our own key columns, never user input.
pub fn mentor_where(
    conn: &Connection,
    column: &'static str,
    value: &str,
) -> StoreResult<Option<MentorProfile>> {
    let sql = format!("SELECT {MENTOR_COLUMNS} FROM mentors WHERE {column} = ?1");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([value])?;
    rows.next()?.map(rows::mentor).transpose()
}

pub fn update_mentor_profile(
    tx: &Connection,
    mentor_id: &str,
    update: &ProfileUpdate,
) -> StoreResult<MentorProfile> {
    let expertise = serde_json::to_string(&update.expertise).map_err(anyhow::Error::new)?;
    let changed = tx.execute(
        "UPDATE mentors SET bio = ?2, expertise = ?3, experience = ?4, updated_at = ?5 WHERE mentor_id = ?1",
        params![mentor_id, update.bio, expertise, update.experience, to_storage(&now())],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound("mentor"));
    }
    mentor_where(tx, "mentor_id", mentor_id)?.ok_or(StoreError::NotFound("mentor"))
}

pub fn list_mentors(
    conn: &Connection,
    status: Option<MentorStatus>,
) -> StoreResult<Vec<MentorProfile>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {MENTOR_COLUMNS} FROM mentors WHERE (?1 IS NULL OR verification_status = ?1)
         ORDER BY created_at, mentor_id"
    ))?;
    let mut rows = stmt.query([status.map(MentorStatus::as_str)])?;
    rows::collect(&mut rows, rows::mentor)
}

pub fn decide_mentor(tx: &Connection, decision: &MentorDecision) -> StoreResult<MentorProfile> {
    let current = mentor_where(tx, "mentor_id", &decision.mentor_id)?
        .ok_or(StoreError::NotFound("mentor"))?;
    let next = current
        .verification_status
        .decide(decision.status)
        .map_err(Conflict::AlreadyDecided)?;
    let now = now();
    tx.execute(
        "UPDATE mentors SET verification_status = ?2, verification_reason = ?3, updated_at = ?4
         WHERE mentor_id = ?1",
        params![
            decision.mentor_id,
            next.as_str(),
            decision.reason,
            to_storage(&now)
        ],
    )?;
    let action = match next {
        MentorStatus::Approved => AuditAction::MentorApproved,
        _ => AuditAction::MentorRejected,
    };
    append_audit(
        tx,
        &decision.admin_id,
        action,
        &decision.mentor_id,
        decision.reason.as_deref(),
        now,
    )?;
    mentor_where(tx, "mentor_id", &decision.mentor_id)?.ok_or(StoreError::NotFound("mentor"))
}
