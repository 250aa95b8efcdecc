//! The ScyllaDB data model: one table per query, each named `<what>_by_<key>` after the
//! look-up it serves, versioned as CQL migrations applied at start.
//!
//! Timestamps are stored as text in the fixed-width form of `domain::time::to_storage`: it
//! keeps microseconds (CQL `timestamp` keeps milliseconds) and sorts like time, so it works
//! as a clustering column. Listings that span time are split into day partitions
//! (`day` = `YYYY-MM-DD`), and `listing_days` names the days each listing has, so no
//! partition grows without bound and no query scans the table.

/// Each entry upgrades the schema by one version (recorded in `schema_migrations`). A
/// migration is a list of statements, each idempotent (`IF NOT EXISTS`; an `ALTER TABLE …
/// ADD` is skipped when the column exists), so two nodes starting together both succeed.
pub const MIGRATIONS: &[&[&str]] = &[
    &[
        // Store-wide facts, e.g. a value sealed with the data key to detect a wrong key.
        "CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value blob)",
        // Accounts. Name and e-mail are sealed; log-in finds the row by the e-mail's blind
        // index, which `users_by_email` also makes unique (INSERT ... IF NOT EXISTS).
        "CREATE TABLE IF NOT EXISTS users (
        user_id text PRIMARY KEY, email_index text, identity_sealed blob, role text,
        password_hash text, picture text, created_at text)",
        "CREATE TABLE IF NOT EXISTS users_by_email (email_index text PRIMARY KEY, user_id text)",
        "CREATE TABLE IF NOT EXISTS users_by_day (
        day text, created_at text, user_id text,
        PRIMARY KEY ((day), created_at, user_id))",
        // The days a listing has rows for (`users`, `leads`, `leads:PENDING`, `events`,
        // `events:<category>`, `audit`): a few hundred rows a year per listing.
        "CREATE TABLE IF NOT EXISTS listing_days (
        listing text, day text, PRIMARY KEY ((listing), day))",
        // Sessions expire by TTL; `sessions_by_user` lets a password reset end them all.
        "CREATE TABLE IF NOT EXISTS sessions (
        token_hash text PRIMARY KEY, user_id text, created_at text, expires_at text)",
        "CREATE TABLE IF NOT EXISTS sessions_by_user (
        user_id text, token_hash text, PRIMARY KEY ((user_id), token_hash))",
        // Mentors.
        "CREATE TABLE IF NOT EXISTS mentors (
        mentor_id text PRIMARY KEY, user_id text, name text, email_sealed blob, bio text,
        expertise list<text>, experience text, verification_status text,
        verification_reason text, created_at text, updated_at text)",
        "CREATE TABLE IF NOT EXISTS mentors_by_user (user_id text PRIMARY KEY, mentor_id text)",
        "CREATE TABLE IF NOT EXISTS mentors_by_status (
        verification_status text, created_at text, mentor_id text,
        PRIMARY KEY ((verification_status), created_at, mentor_id))",
        // Events. `booked_slots` only ever changes by compare-and-set (IF booked_slots = ?).
        "CREATE TABLE IF NOT EXISTS events (
        event_id text PRIMARY KEY, mentor_id text, mentor_name text, title text,
        description text, category text, event_datetime text, duration bigint,
        total_slots bigint, booked_slots bigint, price_per_lead bigint, created_at text,
        updated_at text)",
        "CREATE TABLE IF NOT EXISTS events_by_mentor (
        mentor_id text, event_datetime text, event_id text,
        PRIMARY KEY ((mentor_id), event_datetime, event_id))",
        "CREATE TABLE IF NOT EXISTS events_by_day (
        day text, event_datetime text, event_id text,
        PRIMARY KEY ((day), event_datetime, event_id))",
        // `category` is lower-cased: the filter matches without regard to case.
        "CREATE TABLE IF NOT EXISTS events_by_category_day (
        category text, day text, event_datetime text, event_id text,
        PRIMARY KEY ((category, day), event_datetime, event_id))",
        // Leads.
        "CREATE TABLE IF NOT EXISTS leads (
        lead_id text PRIMARY KEY, event_id text, event_title text, event_datetime text,
        mentor_id text, user_id text, contact_sealed blob, status text,
        verification_status text, verification_notes list<text>, purchased_by text,
        payment_id text, created_at text, updated_at text)",
        "CREATE TABLE IF NOT EXISTS leads_by_event (
        event_id text, lead_id text, PRIMARY KEY ((event_id), lead_id))",
        "CREATE TABLE IF NOT EXISTS leads_by_learner (
        user_id text, created_at text, lead_id text,
        PRIMARY KEY ((user_id), created_at, lead_id))",
        "CREATE TABLE IF NOT EXISTS leads_by_mentor (
        mentor_id text, created_at text, lead_id text,
        PRIMARY KEY ((mentor_id), created_at, lead_id))",
        // The admin listings; `status = 'PENDING'` is the verification queue.
        "CREATE TABLE IF NOT EXISTS leads_by_status_day (
        status text, day text, created_at text, lead_id text,
        PRIMARY KEY ((status, day), created_at, lead_id))
        WITH CLUSTERING ORDER BY (created_at DESC, lead_id DESC)",
        "CREATE TABLE IF NOT EXISTS leads_by_day (
        day text, created_at text, lead_id text, PRIMARY KEY ((day), created_at, lead_id))
        WITH CLUSTERING ORDER BY (created_at DESC, lead_id DESC)",
        // One live booking per learner per event (INSERT ... IF NOT EXISTS).
        "CREATE TABLE IF NOT EXISTS event_bookings (
        event_id text, user_id text, lead_id text, PRIMARY KEY ((event_id), user_id))",
        // Blind indexes of live leads' e-mail and phone, per event, for duplicate detection.
        "CREATE TABLE IF NOT EXISTS contact_index (
        event_id text, blind_index text, lead_id text, user_id text,
        PRIMARY KEY ((event_id, blind_index), lead_id))",
        // Payments.
        "CREATE TABLE IF NOT EXISTS payments (
        payment_id text PRIMARY KEY, razorpay_order_id text, razorpay_payment_id text,
        mentor_id text, lead_id text, amount_paise bigint, currency text, status text,
        created_at text, updated_at text)",
        "CREATE TABLE IF NOT EXISTS payments_by_order (
        razorpay_order_id text PRIMARY KEY, payment_id text)",
        "CREATE TABLE IF NOT EXISTS payments_by_lead (
        lead_id text, payment_id text, PRIMARY KEY ((lead_id), payment_id))",
        // The one open (CREATED) order per lead (INSERT ... IF NOT EXISTS).
        "CREATE TABLE IF NOT EXISTS lead_open_orders (lead_id text PRIMARY KEY, payment_id text)",
        // Webhook deliveries seen, kept for 30 days (TTL) — longer than Razorpay retries.
        "CREATE TABLE IF NOT EXISTS webhook_events (event_id text PRIMARY KEY, received_at text)",
        // Review leases: the CAS row per lead, and the admin queue's one partition of live
        // claims (small: one row per lead being reviewed right now).
        "CREATE TABLE IF NOT EXISTS lead_claims (
        lead_id text PRIMARY KEY, admin_id text, expires_at text)",
        "CREATE TABLE IF NOT EXISTS active_claims (
        queue text, lead_id text, admin_id text, expires_at text,
        PRIMARY KEY ((queue), lead_id))",
        "CREATE TABLE IF NOT EXISTS verification_logs (
        lead_id text, timestamp text, log_id text, verified_by text, status text, reason text,
        PRIMARY KEY ((lead_id), timestamp, log_id))",
        "CREATE TABLE IF NOT EXISTS audit_by_day (
        day text, created_at text, audit_id text, actor_id text, action text,
        target_id text, reason text, PRIMARY KEY ((day), created_at, audit_id))
        WITH CLUSTERING ORDER BY (created_at DESC, audit_id DESC)",
        // Analytics without scans: counters moved with the domain writes.
        "CREATE TABLE IF NOT EXISTS stats (name text PRIMARY KEY, value counter)",
    ],
    &[
        // Sessions with idle expiry and what the session list shows. This supersedes
        // migration 1's `sessions`, which is no longer read: sessions from before the upgrade
        // end, and their users sign in again.
        "CREATE TABLE IF NOT EXISTS sessions_by_token (
        token_hash text PRIMARY KEY, user_id text, created_at text, expires_at text,
        last_seen_at text, device text, rotate boolean)",
        // Which session replaced a rotated one: the compare-and-set that lets one request
    // swap it (INSERT ... IF NOT EXISTS), kept while the old session could live.
    "CREATE TABLE IF NOT EXISTS session_rotations (token_hash text PRIMARY KEY, replaced_by text)",
    // Google sign-ins between start and callback, gone after ten minutes (TTL).
        "CREATE TABLE IF NOT EXISTS login_attempts (
        state_hash text PRIMARY KEY, code_verifier text, nonce text, link_user_id text,
        role text, next text, expires_at text)",
        // Google subjects and the account each signs in to (INSERT ... IF NOT EXISTS).
        "CREATE TABLE IF NOT EXISTS google_identities (sub text PRIMARY KEY, user_id text)",
    ],
    &[
        // The subjects linked to an account, so closing it unlinks them. (Links made under
        // migration 2 alone have no row here: a sign-in with one whose account is gone
        // replaces the link rather than reviving the account.)
        "CREATE TABLE IF NOT EXISTS google_subjects_by_user (
        user_id text, sub text, PRIMARY KEY ((user_id), sub))",
    ],
    &[
        // The outbox: committed changes (payload sealed) in minute partitions of `seq`
        // (microseconds), relayed in `seq` order and pruned by their TTL.
        "CREATE TABLE IF NOT EXISTS outbox (
        bucket bigint, seq bigint, change_id text, kind text, aggregate text, payload blob,
        occurred_at text, PRIMARY KEY ((bucket), seq, change_id))",
        // One row per consumer of the outbox: the lease to relay and the cursor.
        "CREATE TABLE IF NOT EXISTS relay (
        name text PRIMARY KEY, holder text, lease_until text, delivered bigint)",
    ],
    &[
        // A write to a lead, an event or a mentor carries what it implies (index rows, the
        // slot, orders, claims, logs, the outbox) in the same compare-and-set, sealed, until
        // it has been carried out (`moves.rs`).
        "ALTER TABLE leads ADD pending_id text",
        "ALTER TABLE leads ADD pending blob",
        "ALTER TABLE events ADD pending_id text",
        "ALTER TABLE events ADD pending blob",
        "ALTER TABLE mentors ADD pending_id text",
        "ALTER TABLE mentors ADD pending blob",
        // The leads whose slot went back, so a write finished twice returns it once.
        "ALTER TABLE events ADD slot_returns map<text,text>",
        // Writes in flight (`aggregate` is `lead:…`, `event:…` or `mentor:…`) by minute,
        // with what they owe, for the sweep that finishes those of a node that died; rows
        // expire by TTL.
        "CREATE TABLE IF NOT EXISTS writes_in_flight (
        bucket bigint, aggregate text, pending_id text, pending blob, marked_at text,
        PRIMARY KEY ((bucket), aggregate, pending_id))",
    ],
    &[
        // One row per category (`scope` is `events`), for the listing's category filter:
        // written with the event's time as its write time, so the row keeps the latest
        // day any event of the category is on. A category whose events all went stays
        // until that day has passed.
        "CREATE TABLE IF NOT EXISTS event_categories (
        scope text, category text, display text, last_day text,
        PRIMARY KEY ((scope), category))",
        // The analytics' days: what happened on each (UTC), moved with the writes.
        "CREATE TABLE IF NOT EXISTS daily_stats (
        day text, name text, value counter, PRIMARY KEY ((day), name))",
    ],
];

/// Records which migrations ran; created before any of them.
pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version int PRIMARY KEY, applied_at text)";

/// Whether a column exists, asked before an `ALTER TABLE … ADD` (which has no `IF NOT
/// EXISTS`).
pub const COLUMN_EXISTS: &str = "SELECT column_name FROM system_schema.columns
    WHERE keyspace_name = ? AND table_name = ? AND column_name = ?";

/// The table and column of an `ALTER TABLE <table> ADD <column> <type>` migration.
pub fn added_column(statement: &str) -> Option<(&str, &str)> {
    let words: Vec<&str> = statement.split_whitespace().collect();
    match words.as_slice() {
        [alter, table_word, table, add, column, _kind]
            if alter.eq_ignore_ascii_case("ALTER")
                && table_word.eq_ignore_ascii_case("TABLE")
                && add.eq_ignore_ascii_case("ADD") =>
        {
            Some((table, column))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_columns_are_found_in_alter_statements_only() {
        assert_eq!(
            added_column("ALTER TABLE leads ADD pending blob"),
            Some(("leads", "pending"))
        );
        assert_eq!(
            added_column("CREATE TABLE IF NOT EXISTS t (a text PRIMARY KEY)"),
            None
        );
        let alters = MIGRATIONS
            .iter()
            .flat_map(|m| m.iter())
            .filter(|s| s.trim_start().to_ascii_uppercase().starts_with("ALTER"));
        for statement in alters {
            assert!(added_column(statement).is_some(), "{statement}");
        }
    }
}
