use rusqlite::{params, Connection};

use super::{admin::append_audit, leads, moves, outbox, rows};
use super::{exec, scan};
use crate::crypto::Vault;
use crate::domain::audit::AuditAction;
use crate::domain::change::Change;
use crate::domain::mentor::{MentorProfile, MentorStatus, ProfileUpdate};
use crate::domain::time::{now, to_storage, Timestamp};
use crate::domain::user::{check_closable, User, UserFilter};
use crate::store::cursor;
use crate::store::sealed::Identity;
use crate::store::{
    bootstrap_admin_account, ClosedAccount, Conflict, Credentials, LoginAttempt, MentorDecision,
    NewUser, Page, PageRequest, Session, StoreError, StoreResult,
};

pub fn create_user(tx: &Connection, vault: &Vault, new: &NewUser) -> StoreResult<User> {
    let created = to_storage(&new.created_at);
    let identity = Identity::new(&new.email, &new.name);
    // Compare-and-set on the unique e-mail (its blind index).
    let inserted = exec(
        tx,
        "INSERT INTO users (user_id, email_index, identity_sealed, role, password_hash, picture, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, ?6) ON CONFLICT (email_index) DO NOTHING",
        params![
            new.user_id,
            vault.email_index(&new.email),
            rows::seal(vault, &new.user_id, &identity)?,
            new.role.as_str(),
            new.password_hash,
            created
        ],
    )?;
    if inserted == 0 {
        return Err(Conflict::EmailTaken.into());
    }
    if let Some(mentor_id) = &new.mentor_id {
        exec(
            tx,
            "INSERT INTO mentors (mentor_id, user_id, name, email_sealed, bio, expertise, experience,
                                  verification_status, verification_reason, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, '', '[]', '', 'PENDING', NULL, ?5, ?5)",
            params![
                mentor_id,
                new.user_id,
                new.name,
                rows::seal(vault, mentor_id, &new.email)?,
                created
            ],
        )?;
    }
    user(tx, vault, &new.user_id)?.ok_or(StoreError::NotFound("user"))
}

/// Creates the admin, or resets the existing admin's name and password and ends its
/// sessions. An e-mail held by a learner or mentor is refused: configuration must never turn
/// someone else's account (and its live sessions) into an admin.
pub fn upsert_admin(
    tx: &Connection,
    vault: &Vault,
    email: &str,
    name: &str,
    hash: &str,
) -> StoreResult<User> {
    let existing = credentials_by_email(tx, vault, email)?;
    let Some(user_id) = bootstrap_admin_account(existing)? else {
        return create_user(tx, vault, &NewUser::admin(email, name, hash));
    };
    let identity = Identity::new(email, name);
    exec(
        tx,
        "UPDATE users SET identity_sealed = ?2, password_hash = ?3 WHERE user_id = ?1",
        params![user_id, rows::seal(vault, &user_id, &identity)?, hash],
    )?;
    exec(tx, "DELETE FROM sessions WHERE user_id = ?1", [&user_id])?;
    user(tx, vault, &user_id)?.ok_or(StoreError::NotFound("user"))
}

pub fn credentials_by_email(
    conn: &Connection,
    vault: &Vault,
    email: &str,
) -> StoreResult<Option<Credentials>> {
    let sql = format!(
        "SELECT {}, password_hash FROM users WHERE email_index = ?1",
        rows::USER_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([vault.email_index(email)])?;
    match rows.next()? {
        Some(row) => Ok(Some(Credentials {
            user: rows::user(row, vault)?,
            password_hash: row.get("password_hash")?,
        })),
        None => Ok(None),
    }
}

pub fn user(conn: &Connection, vault: &Vault, user_id: &str) -> StoreResult<Option<User>> {
    let sql = format!(
        "SELECT {} FROM users WHERE user_id = ?1",
        rows::USER_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([user_id])?;
    rows.next()?.map(|row| rows::user(row, vault)).transpose()
}

/// Oldest first; the cursor is `created_at|user_id`. The role is matched by SQL, text in the
/// (sealed) name or e-mail on each account read.
pub fn list_users(
    conn: &Connection,
    vault: &Vault,
    filter: &UserFilter,
    page: &PageRequest,
) -> StoreResult<Page<User>> {
    let (mut after_ts, mut after_id) =
        cursor::after("users", page.after.as_deref())?.unwrap_or_default();
    let sql = format!(
        "SELECT {} FROM users WHERE (created_at, user_id) > (?1, ?2) AND (?4 IS NULL OR role = ?4)
         ORDER BY created_at, user_id LIMIT ?3",
        rows::USER_COLUMNS
    );
    let role = filter.role.map(|r| r.as_str());
    let mut stmt = conn.prepare_cached(&sql)?;
    let fetch = |n: usize| {
        let mut rows = stmt.query(params![after_ts, after_id, n, role])?;
        let users = rows::collect(&mut rows, |row| rows::user(row, vault))?;
        if let Some(last) = users.last() {
            (after_ts, after_id) = (to_storage(&last.created_at), last.user_id.clone());
        }
        Ok(users)
    };
    scan::filtered_page(
        page.limit,
        fetch,
        |u| filter.matches(u),
        |u| cursor::position("users", &u.created_at, &u.user_id),
    )
}

pub fn create_session(tx: &Connection, session: &Session) -> StoreResult<()> {
    exec(
        tx,
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at, device, rotate)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            session.token_hash,
            session.user_id,
            to_storage(&session.created_at),
            to_storage(&session.expires_at),
            to_storage(&session.last_seen_at),
            session.device,
            session.rotate
        ],
    )?;
    // Expired sessions of this user are swept as new ones are made (no background job needed).
    exec(
        tx,
        "DELETE FROM sessions WHERE user_id = ?1 AND expires_at < ?2",
        params![session.user_id, to_storage(&session.created_at)],
    )?;
    Ok(())
}

pub fn session(conn: &Connection, token_hash: &str) -> StoreResult<Option<Session>> {
    let sql = format!(
        "SELECT {} FROM sessions WHERE token_hash = ?1",
        rows::SESSION_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([token_hash])?;
    rows.next()?.map(rows::session).transpose()
}

pub fn delete_session(tx: &Connection, token_hash: &str) -> StoreResult<()> {
    exec(
        tx,
        "DELETE FROM sessions WHERE token_hash = ?1",
        [token_hash],
    )?;
    Ok(())
}

pub fn touch_session(tx: &Connection, token_hash: &str, now: &Timestamp) -> StoreResult<()> {
    exec(
        tx,
        "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
        params![token_hash, to_storage(now)],
    )?;
    Ok(())
}

pub fn rotate_user_sessions(tx: &Connection, user_id: &str) -> StoreResult<()> {
    exec(
        tx,
        "UPDATE sessions SET rotate = 1 WHERE user_id = ?1",
        [user_id],
    )?;
    Ok(())
}

/// The compare-and-set is on `rotate`: one caller clears it, and only that one inserts.
pub fn rotate_session(
    tx: &Connection,
    old_hash: &str,
    fresh: &Session,
    grace_until: &Timestamp,
) -> StoreResult<bool> {
    let claimed = exec(
        tx,
        "UPDATE sessions SET rotate = 0, expires_at = MIN(expires_at, ?2)
         WHERE token_hash = ?1 AND rotate = 1",
        params![old_hash, to_storage(grace_until)],
    )?;
    if claimed == 0 {
        return Ok(false);
    }
    create_session(tx, fresh)?;
    Ok(true)
}

pub fn user_sessions(conn: &Connection, user_id: &str) -> StoreResult<Vec<Session>> {
    let sql = format!(
        "SELECT {} FROM sessions WHERE user_id = ?1 ORDER BY created_at DESC, token_hash",
        rows::SESSION_COLUMNS
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([user_id])?;
    rows::collect(&mut rows, rows::session)
}

pub fn end_user_sessions(tx: &Connection, user_id: &str) -> StoreResult<Vec<String>> {
    let ended: Vec<String> = user_sessions(tx, user_id)?
        .into_iter()
        .map(|s| s.token_hash)
        .collect();
    for hash in &ended {
        delete_session(tx, hash)?;
    }
    Ok(ended)
}

pub fn save_login_attempt(tx: &Connection, attempt: &LoginAttempt) -> StoreResult<()> {
    exec(
        tx,
        "INSERT INTO login_attempts (state_hash, code_verifier, nonce, link_user_id, role, next, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            attempt.state_hash,
            attempt.code_verifier,
            attempt.nonce,
            attempt.link_user_id,
            attempt.role.as_str(),
            attempt.next,
            to_storage(&attempt.expires_at)
        ],
    )?;
    // Abandoned attempts are swept as new ones start.
    exec(
        tx,
        "DELETE FROM login_attempts WHERE expires_at < ?1",
        [to_storage(&now())],
    )?;
    Ok(())
}

/// Read and delete under one write lock: of two callbacks with one `state`, one gets it.
pub fn take_login_attempt(
    tx: &Connection,
    state_hash: &str,
    now: &Timestamp,
) -> StoreResult<Option<LoginAttempt>> {
    let mut stmt = tx.prepare_cached(
        "DELETE FROM login_attempts WHERE state_hash = ?1
         RETURNING state_hash, code_verifier, nonce, link_user_id, role, next, expires_at",
    )?;
    let mut rows = stmt.query([state_hash])?;
    let attempt = rows.next()?.map(rows::login_attempt).transpose()?;
    Ok(attempt.filter(|a| a.expires_at > *now))
}

pub fn google_account(conn: &Connection, sub: &str) -> StoreResult<Option<String>> {
    let mut stmt = conn.prepare_cached("SELECT user_id FROM google_identities WHERE sub = ?1")?;
    let mut rows = stmt.query([sub])?;
    Ok(rows.next()?.map(|row| row.get(0)).transpose()?)
}

/// One transaction: no booking can slip in between the cancellations and the removal.
pub fn close_account(
    tx: &Connection,
    vault: &Vault,
    user_id: &str,
    now: &Timestamp,
) -> StoreResult<ClosedAccount> {
    user(tx, vault, user_id)?.ok_or(StoreError::NotFound("user"))?;
    if let Some(mentor) = mentor_where(tx, vault, "user_id", user_id)? {
        let mut stmt = tx.prepare_cached("SELECT 1 FROM events WHERE mentor_id = ?1 LIMIT 1")?;
        check_closable(stmt.exists([&mentor.mentor_id])?)?;
        exec(
            tx,
            "DELETE FROM mentors WHERE mentor_id = ?1",
            [&mentor.mentor_id],
        )?;
    }
    let mut cancelled = Vec::new();
    for lead in leads::leads_where(tx, vault, "user_id", user_id)? {
        if !lead.status.holds_slot() {
            continue;
        }
        match moves::cancel_booking(tx, vault, user_id, &lead.lead_id, *now) {
            Ok(change) => cancelled.push(change),
            // One that can no longer be cancelled (its event started) stays on record.
            Err(StoreError::Conflict(_)) => {}
            Err(other) => return Err(other),
        }
    }
    let sessions = end_user_sessions(tx, user_id)?;
    exec(
        tx,
        "DELETE FROM google_identities WHERE user_id = ?1",
        [user_id],
    )?;
    exec(tx, "DELETE FROM users WHERE user_id = ?1", [user_id])?;
    append_audit(tx, user_id, AuditAction::AccountClosed, user_id, None, *now)?;
    let closed = Change::AccountClosed {
        user_id: user_id.to_string(),
    };
    outbox::record(tx, vault, &closed, *now)?;
    Ok(ClosedAccount {
        sessions,
        cancelled,
    })
}

pub fn unlink_google_account(tx: &Connection, sub: &str, user_id: &str) -> StoreResult<()> {
    exec(
        tx,
        "DELETE FROM google_identities WHERE sub = ?1 AND user_id = ?2",
        params![sub, user_id],
    )?;
    Ok(())
}

pub fn link_google_account(tx: &Connection, sub: &str, user_id: &str) -> StoreResult<String> {
    exec(
        tx,
        "INSERT INTO google_identities (sub, user_id) VALUES (?1, ?2) ON CONFLICT (sub) DO NOTHING",
        params![sub, user_id],
    )?;
    google_account(tx, sub)?.ok_or(StoreError::NotFound("google identity"))
}

const MENTOR_COLUMNS: &str = "mentor_id, user_id, name, email_sealed, bio, expertise, experience,
    verification_status, verification_reason, created_at";

/// `column` is one of our own key columns, never user input.
pub fn mentor_where(
    conn: &Connection,
    vault: &Vault,
    column: &'static str,
    value: &str,
) -> StoreResult<Option<MentorProfile>> {
    let sql = format!("SELECT {MENTOR_COLUMNS} FROM mentors WHERE {column} = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([value])?;
    rows.next()?.map(|row| rows::mentor(row, vault)).transpose()
}

pub fn update_mentor_profile(
    tx: &Connection,
    vault: &Vault,
    mentor_id: &str,
    update: &ProfileUpdate,
) -> StoreResult<MentorProfile> {
    let expertise = serde_json::to_string(&update.expertise).map_err(anyhow::Error::new)?;
    let changed = exec(
        tx,
        "UPDATE mentors SET bio = ?2, expertise = ?3, experience = ?4, updated_at = ?5 WHERE mentor_id = ?1",
        params![
            mentor_id,
            update.bio,
            expertise,
            update.experience,
            to_storage(&now())
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound("mentor"));
    }
    mentor_where(tx, vault, "mentor_id", mentor_id)?.ok_or(StoreError::NotFound("mentor"))
}

pub fn list_mentors(
    conn: &Connection,
    vault: &Vault,
    status: Option<MentorStatus>,
) -> StoreResult<Vec<MentorProfile>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {MENTOR_COLUMNS} FROM mentors WHERE (?1 IS NULL OR verification_status = ?1)
         ORDER BY created_at, mentor_id"
    ))?;
    let mut rows = stmt.query([status.map(MentorStatus::as_str)])?;
    rows::collect(&mut rows, |row| rows::mentor(row, vault))
}

pub fn decide_mentor(
    tx: &Connection,
    vault: &Vault,
    decision: &MentorDecision,
) -> StoreResult<MentorProfile> {
    let current = mentor_where(tx, vault, "mentor_id", &decision.mentor_id)?
        .ok_or(StoreError::NotFound("mentor"))?;
    let next = current
        .verification_status
        .decide(decision.status)
        .map_err(Conflict::AlreadyDecided)?;
    let now = now();
    exec(
        tx,
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
    let decided = Change::MentorDecided {
        mentor_id: current.mentor_id.clone(),
        user_id: current.user_id.clone(),
        status: next,
        reason: decision.reason.clone(),
    };
    outbox::record(tx, vault, &decided, now)?;
    mentor_where(tx, vault, "mentor_id", &decision.mentor_id)?.ok_or(StoreError::NotFound("mentor"))
}
