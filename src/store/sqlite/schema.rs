//! Versioned schema. Tables mirror the ScyllaDB design: one row per key, listings served by
//! an index on one column prefix (a "partition"), no foreign keys and no joins.

use rusqlite::Connection;

/// Each entry upgrades the schema by one version (tracked in `PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[
    r#"
-- Store-wide facts, e.g. a value sealed with the data key to detect a wrong key at start.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- Name and e-mail are sealed (`identity_sealed`); log-in finds the row by the e-mail's
-- blind index.
CREATE TABLE users (
    user_id         TEXT PRIMARY KEY,
    email_index     TEXT NOT NULL UNIQUE,
    identity_sealed BLOB NOT NULL,
    role            TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    picture         TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX users_by_created ON users (created_at, user_id);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE mentors (
    mentor_id           TEXT PRIMARY KEY,
    user_id             TEXT NOT NULL UNIQUE,
    -- Public (shown on the mentor's events); the e-mail is sealed.
    name                TEXT NOT NULL,
    email_sealed        BLOB NOT NULL,
    bio                 TEXT NOT NULL,
    expertise           TEXT NOT NULL,
    experience          TEXT NOT NULL,
    verification_status TEXT NOT NULL,
    verification_reason TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX mentors_by_status ON mentors (verification_status, created_at);

CREATE TABLE events (
    event_id       TEXT PRIMARY KEY,
    mentor_id      TEXT NOT NULL,
    mentor_name    TEXT NOT NULL,
    title          TEXT NOT NULL,
    description    TEXT NOT NULL,
    category       TEXT NOT NULL,
    event_datetime TEXT NOT NULL,
    duration       INTEGER NOT NULL,
    total_slots    INTEGER NOT NULL,
    booked_slots   INTEGER NOT NULL DEFAULT 0,
    price_per_lead INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    CHECK (booked_slots >= 0 AND booked_slots <= total_slots)
);
CREATE INDEX events_by_time ON events (event_datetime, event_id);
CREATE INDEX events_by_mentor ON events (mentor_id, event_datetime);

CREATE TABLE leads (
    lead_id             TEXT PRIMARY KEY,
    event_id            TEXT NOT NULL,
    event_title         TEXT NOT NULL,
    event_datetime      TEXT NOT NULL,
    mentor_id           TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    contact_sealed      BLOB NOT NULL,
    status              TEXT NOT NULL,
    verification_status TEXT NOT NULL,
    verification_notes  TEXT NOT NULL,
    purchased_by        TEXT,
    payment_id          TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX leads_by_event ON leads (event_id);
CREATE INDEX leads_by_user ON leads (user_id, created_at);
CREATE INDEX leads_by_mentor ON leads (mentor_id, created_at);
CREATE INDEX leads_by_status ON leads (status, created_at, lead_id);
CREATE INDEX leads_by_created ON leads (created_at, lead_id);

-- One live booking per learner per event (the compare-and-set row).
CREATE TABLE event_bookings (
    event_id TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    lead_id  TEXT NOT NULL,
    PRIMARY KEY (event_id, user_id)
) WITHOUT ROWID;

-- Blind indexes of live leads' e-mail and phone, per event, for duplicate detection.
CREATE TABLE contact_index (
    event_id    TEXT NOT NULL,
    blind_index TEXT NOT NULL,
    lead_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    PRIMARY KEY (event_id, blind_index, lead_id)
) WITHOUT ROWID;

CREATE TABLE payments (
    payment_id          TEXT PRIMARY KEY,
    razorpay_order_id   TEXT NOT NULL UNIQUE,
    razorpay_payment_id TEXT,
    mentor_id           TEXT NOT NULL,
    lead_id             TEXT NOT NULL,
    amount_paise        INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    status              TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE INDEX payments_by_lead ON payments (lead_id, status);

-- The one open (CREATED) order per lead, so two tabs share one order.
CREATE TABLE lead_open_orders (
    lead_id    TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL
);

-- Review leases on PENDING leads.
CREATE TABLE lead_claims (
    lead_id    TEXT PRIMARY KEY,
    admin_id   TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX lead_claims_by_admin ON lead_claims (admin_id);
CREATE INDEX lead_claims_by_expiry ON lead_claims (expires_at);

CREATE TABLE webhook_events (
    event_id    TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);

CREATE TABLE verification_logs (
    log_id      TEXT PRIMARY KEY,
    lead_id     TEXT NOT NULL,
    verified_by TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    timestamp   TEXT NOT NULL
);
CREATE INDEX verification_logs_by_lead ON verification_logs (lead_id, timestamp);

CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    audit_id   TEXT NOT NULL UNIQUE,
    actor_id   TEXT NOT NULL,
    action     TEXT NOT NULL,
    target_id  TEXT NOT NULL,
    reason     TEXT,
    created_at TEXT NOT NULL
);
-- Append-only: the log cannot be edited or pruned through SQL either.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"#,
    r#"
-- Idle expiry and the user's session list.
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN rotate INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;

-- Google sign-ins between start and callback; the callback deletes its row.
CREATE TABLE login_attempts (
    state_hash    TEXT PRIMARY KEY,
    code_verifier TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    link_user_id  TEXT,
    role          TEXT NOT NULL,
    next          TEXT,
    expires_at    TEXT NOT NULL
);
CREATE INDEX login_attempts_by_expiry ON login_attempts (expires_at);

-- Google subjects (`sub`) and the account each signs in to.
CREATE TABLE google_identities (
    sub     TEXT PRIMARY KEY,
    user_id TEXT NOT NULL
);
"#,
    r#"
-- Closing an account unlinks its Google subjects.
CREATE INDEX google_identities_by_user ON google_identities (user_id);
"#,
    r#"
-- The transactional outbox: every committed change, written by the change's own
-- transaction (payload sealed), in commit order. AUTOINCREMENT: a pruned seq is never
-- reused, so the relay's cursor stays meaningful.
CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    change_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    aggregate   TEXT NOT NULL,
    payload     BLOB NOT NULL,
    occurred_at TEXT NOT NULL
);

-- One row per consumer of the outbox: who holds the lease to relay, until when, and the
-- last seq delivered.
CREATE TABLE relay (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    delivered   INTEGER NOT NULL
);
"#,
    r#"
-- The analytics' days: verifications (in the audit log) and settled payments by when.
CREATE INDEX audit_log_by_created ON audit_log (action, created_at);
CREATE INDEX payments_by_settled ON payments (status, updated_at);
"#,
];

/// Brings the schema to the latest version inside one immediate transaction, so two
/// processes starting on one file do not both migrate.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version > current {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", version)?;
        }
    }
    tx.commit()
}
