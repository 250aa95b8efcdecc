//! Every CQL statement the backend runs, in one place, so the static check
//! (`check.rs`) can parse each one against the migrations. All are prepared (and cached)
//! on first use; `?` markers only, no literals (but `null` in a condition: "unset"), so one
//! prepared statement serves every call.

macro_rules! statements {
    ($($(#[$doc:meta])* $name:ident = $cql:literal;)*) => {
        $($(#[$doc])* pub const $name: &str = $cql;)*
        /// Every statement, named, for the static check.
        #[cfg(test)]
        pub const ALL: &[(&str, &str)] = &[$((stringify!($name), $cql)),*];
    };
}

statements! {
    // Bookkeeping.
    MIGRATION_GET = "SELECT version FROM schema_migrations WHERE version = ?";
    MIGRATION_RECORD =
        "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?) IF NOT EXISTS";
    META_GET = "SELECT value FROM meta WHERE key = ?";
    META_INSERT = "INSERT INTO meta (key, value) VALUES (?, ?) IF NOT EXISTS";
    DAY_ADD = "INSERT INTO listing_days (listing, day) VALUES (?, ?)";
    DAYS_ASC = "SELECT day FROM listing_days WHERE listing = ? AND day >= ? AND day <= ?";
    DAYS_DESC = "SELECT day FROM listing_days WHERE listing = ? AND day >= ? AND day <= ? ORDER BY day DESC";
    STAT_ADD = "UPDATE stats SET value = value + ? WHERE name = ?";
    STAT_GET = "SELECT value FROM stats WHERE name = ?";
    AUDIT_INSERT = "INSERT INTO audit_by_day (day, created_at, audit_id, actor_id, action, target_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?)";
    AUDIT_OF_DAY = "SELECT created_at, audit_id, actor_id, action, target_id, reason FROM audit_by_day WHERE day = ? AND (created_at, audit_id) < (?, ?) LIMIT ?";

    // Accounts and sessions.
    USER_INSERT = "INSERT INTO users (user_id, email_index, identity_sealed, role, password_hash, picture, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
    USER_DELETE = "DELETE FROM users WHERE user_id = ?";
    USER_GET = "SELECT user_id, identity_sealed, role, picture, created_at, password_hash FROM users WHERE user_id = ?";
    USER_SET_IDENTITY = "UPDATE users SET identity_sealed = ?, password_hash = ? WHERE user_id = ?";
    EMAIL_CLAIM = "INSERT INTO users_by_email (email_index, user_id) VALUES (?, ?) IF NOT EXISTS";
    EMAIL_LOOKUP = "SELECT user_id FROM users_by_email WHERE email_index = ?";
    EMAIL_RELEASE = "DELETE FROM users_by_email WHERE email_index = ? IF user_id = ?";
    USER_BY_DAY_DELETE = "DELETE FROM users_by_day WHERE day = ? AND created_at = ? AND user_id = ?";
    USER_BY_DAY_INSERT = "INSERT INTO users_by_day (day, created_at, user_id) VALUES (?, ?, ?)";
    USERS_OF_DAY = "SELECT created_at, user_id FROM users_by_day WHERE day = ? AND (created_at, user_id) > (?, ?) LIMIT ?";
    SESSION_INSERT = "INSERT INTO sessions_by_token (token_hash, user_id, created_at, expires_at, last_seen_at, device, rotate) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?";
    SESSION_OF_USER_INSERT = "INSERT INTO sessions_by_user (user_id, token_hash) VALUES (?, ?) USING TTL ?";
    SESSION_GET = "SELECT token_hash, user_id, created_at, expires_at, last_seen_at, device, rotate FROM sessions_by_token WHERE token_hash = ?";
    SESSION_ROTATE = "UPDATE sessions_by_token USING TTL ? SET rotate = ? WHERE token_hash = ?";
    SESSION_ROTATION_CLAIM = "INSERT INTO session_rotations (token_hash, replaced_by) VALUES (?, ?) IF NOT EXISTS USING TTL ?";
    SESSION_RETIRE = "UPDATE sessions_by_token USING TTL ? SET expires_at = ?, rotate = ? WHERE token_hash = ?";
    SESSION_TOUCH = "UPDATE sessions_by_token USING TTL ? SET last_seen_at = ? WHERE token_hash = ?";
    SESSION_DELETE = "DELETE FROM sessions_by_token WHERE token_hash = ?";
    SESSION_OF_USER_DELETE = "DELETE FROM sessions_by_user WHERE user_id = ? AND token_hash = ?";
    SESSIONS_OF_USER = "SELECT token_hash FROM sessions_by_user WHERE user_id = ?";

    // Google sign-in. An attempt is written and taken by compare-and-set only.
    LOGIN_ATTEMPT_INSERT = "INSERT INTO login_attempts (state_hash, code_verifier, nonce, link_user_id, role, next, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS USING TTL ?";
    LOGIN_ATTEMPT_GET = "SELECT state_hash, code_verifier, nonce, link_user_id, role, next, expires_at FROM login_attempts WHERE state_hash = ?";
    LOGIN_ATTEMPT_TAKE = "DELETE FROM login_attempts WHERE state_hash = ? IF EXISTS";
    GOOGLE_IDENTITY_CLAIM = "INSERT INTO google_identities (sub, user_id) VALUES (?, ?) IF NOT EXISTS";
    GOOGLE_IDENTITY_GET = "SELECT user_id FROM google_identities WHERE sub = ?";
    GOOGLE_IDENTITY_RELEASE = "DELETE FROM google_identities WHERE sub = ? IF user_id = ?";
    GOOGLE_SUBJECT_OF_USER_INSERT = "INSERT INTO google_subjects_by_user (user_id, sub) VALUES (?, ?)";
    GOOGLE_SUBJECT_OF_USER_DELETE = "DELETE FROM google_subjects_by_user WHERE user_id = ? AND sub = ?";
    GOOGLE_SUBJECTS_OF_USER = "SELECT sub FROM google_subjects_by_user WHERE user_id = ?";

    // Mentors. The profile row changes only by compare-and-set, never by a blind write.
    MENTOR_INSERT = "INSERT INTO mentors (mentor_id, user_id, name, email_sealed, bio, expertise, experience, verification_status, verification_reason, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS";
    MENTOR_GET = "SELECT mentor_id, user_id, name, email_sealed, bio, expertise, experience, verification_status, verification_reason, created_at FROM mentors WHERE mentor_id = ?";
    MENTOR_SET_PROFILE = "UPDATE mentors SET bio = ?, expertise = ?, experience = ?, updated_at = ? WHERE mentor_id = ? IF EXISTS";
    MENTOR_DECIDE = "UPDATE mentors SET verification_status = ?, verification_reason = ?, updated_at = ?, pending_id = ?, pending = ? WHERE mentor_id = ? IF verification_status = ? AND pending_id = null";
    MENTOR_OF_USER_INSERT = "INSERT INTO mentors_by_user (user_id, mentor_id) VALUES (?, ?)";
    MENTOR_OF_USER = "SELECT mentor_id FROM mentors_by_user WHERE user_id = ?";
    MENTOR_OF_USER_DELETE = "DELETE FROM mentors_by_user WHERE user_id = ?";
    MENTOR_DELETE = "DELETE FROM mentors WHERE mentor_id = ? IF verification_status = ? AND pending_id = null";
    MENTOR_BY_STATUS_INSERT = "INSERT INTO mentors_by_status (verification_status, created_at, mentor_id) VALUES (?, ?, ?)";
    MENTOR_BY_STATUS_DELETE = "DELETE FROM mentors_by_status WHERE verification_status = ? AND created_at = ? AND mentor_id = ?";
    MENTORS_OF_STATUS = "SELECT mentor_id FROM mentors_by_status WHERE verification_status = ?";

    // Events. Every write to an event row is a compare-and-set.
    EVENT_INSERT = "INSERT INTO events (event_id, mentor_id, mentor_name, title, description, category, event_datetime, duration, total_slots, booked_slots, price_per_lead, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS";
    EVENT_GET = "SELECT event_id, mentor_id, mentor_name, title, description, category, event_datetime, duration, total_slots, booked_slots, price_per_lead, created_at FROM events WHERE event_id = ?";
    EVENT_SLOTS = "SELECT booked_slots, total_slots FROM events WHERE event_id = ?";
    EVENT_EDIT = "UPDATE events SET title = ?, description = ?, category = ?, event_datetime = ?, duration = ?, total_slots = ?, price_per_lead = ?, updated_at = ?, pending_id = ?, pending = ? WHERE event_id = ? IF booked_slots <= ? AND event_datetime = ? AND category = ? AND pending_id = null";
    EVENT_DELETE = "DELETE FROM events WHERE event_id = ? IF booked_slots = ? AND event_datetime = ? AND category = ? AND pending_id = null";
    EVENT_TAKE_SLOT = "UPDATE events SET booked_slots = ? WHERE event_id = ? IF booked_slots = ? AND total_slots > ?";
    // Once per lead: `slot_returns` names the leads whose slot went back.
    EVENT_FREE_SLOT = "UPDATE events SET booked_slots = ?, slot_returns[?] = ? WHERE event_id = ? IF booked_slots = ? AND slot_returns[?] = null";
    EVENT_SLOT_RETURNS = "SELECT booked_slots, slot_returns FROM events WHERE event_id = ?";
    EVENT_BY_MENTOR_INSERT = "INSERT INTO events_by_mentor (mentor_id, event_datetime, event_id) VALUES (?, ?, ?)";
    EVENT_BY_MENTOR_DELETE = "DELETE FROM events_by_mentor WHERE mentor_id = ? AND event_datetime = ? AND event_id = ?";
    EVENTS_OF_MENTOR = "SELECT event_datetime, event_id FROM events_by_mentor WHERE mentor_id = ? AND (event_datetime, event_id) > (?, ?) LIMIT ?";
    EVENT_BY_DAY_INSERT = "INSERT INTO events_by_day (day, event_datetime, event_id) VALUES (?, ?, ?)";
    EVENT_BY_DAY_DELETE = "DELETE FROM events_by_day WHERE day = ? AND event_datetime = ? AND event_id = ?";
    EVENTS_OF_DAY = "SELECT event_datetime, event_id FROM events_by_day WHERE day = ? AND (event_datetime, event_id) > (?, ?) LIMIT ?";
    CATEGORY_DAY_ADD = "INSERT INTO event_categories (scope, category, display, last_day) VALUES (?, ?, ?, ?) USING TIMESTAMP ?";
    CATEGORY_DAYS = "SELECT category, last_day, display FROM event_categories WHERE scope = ?";
    EVENT_BY_CATEGORY_INSERT = "INSERT INTO events_by_category_day (category, day, event_datetime, event_id) VALUES (?, ?, ?, ?)";
    EVENT_BY_CATEGORY_DELETE = "DELETE FROM events_by_category_day WHERE category = ? AND day = ? AND event_datetime = ? AND event_id = ?";
    EVENTS_OF_CATEGORY_DAY = "SELECT event_datetime, event_id FROM events_by_category_day WHERE category = ? AND day = ? AND (event_datetime, event_id) > (?, ?) LIMIT ?";

    // Bookings and leads. Every write to a lead row is a compare-and-set on its status.
    BOOKING_CLAIM = "INSERT INTO event_bookings (event_id, user_id, lead_id) VALUES (?, ?, ?) IF NOT EXISTS";
    BOOKINGS_OF_EVENT = "SELECT user_id FROM event_bookings WHERE event_id = ?";
    BOOKING_RELEASE = "DELETE FROM event_bookings WHERE event_id = ? AND user_id = ? IF lead_id = ?";
    CONTACT_INDEX_INSERT = "INSERT INTO contact_index (event_id, blind_index, lead_id, user_id) VALUES (?, ?, ?, ?)";
    CONTACT_INDEX_FIND = "SELECT lead_id, user_id FROM contact_index WHERE event_id = ? AND blind_index = ?";
    CONTACT_INDEX_DELETE = "DELETE FROM contact_index WHERE event_id = ? AND blind_index = ? AND lead_id = ?";
    LEAD_INSERT = "INSERT INTO leads (lead_id, event_id, event_title, event_datetime, mentor_id, user_id, contact_sealed, status, verification_status, verification_notes, purchased_by, payment_id, created_at, updated_at, pending_id, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS";
    LEAD_GET = "SELECT lead_id, event_id, event_title, event_datetime, mentor_id, user_id, contact_sealed, status, verification_status, verification_notes, purchased_by, payment_id, created_at, updated_at FROM leads WHERE lead_id = ?";
    LEAD_TRANSITION = "UPDATE leads SET status = ?, verification_status = ?, verification_notes = ?, purchased_by = ?, payment_id = ?, updated_at = ?, pending_id = ?, pending = ? WHERE lead_id = ? IF status = ? AND pending_id = null";
    // Writes still to be carried out (see `moves.rs`); a swap takes a record over or
    // clears it.
    LEAD_PENDING_GET = "SELECT pending_id, pending, WRITETIME(pending_id) FROM leads WHERE lead_id = ?";
    LEAD_PENDING_SWAP = "UPDATE leads SET pending_id = ?, pending = ? WHERE lead_id = ? IF pending_id = ?";
    EVENT_PENDING_GET = "SELECT pending_id, pending, WRITETIME(pending_id) FROM events WHERE event_id = ?";
    EVENT_PENDING_SWAP = "UPDATE events SET pending_id = ?, pending = ? WHERE event_id = ? IF pending_id = ?";
    MENTOR_PENDING_GET = "SELECT pending_id, pending, WRITETIME(pending_id) FROM mentors WHERE mentor_id = ?";
    MENTOR_PENDING_SWAP = "UPDATE mentors SET pending_id = ?, pending = ? WHERE mentor_id = ? IF pending_id = ?";
    IN_FLIGHT_INSERT = "INSERT INTO writes_in_flight (bucket, aggregate, pending_id, pending, marked_at) VALUES (?, ?, ?, ?, ?) USING TTL ?";
    IN_FLIGHT_DELETE = "DELETE FROM writes_in_flight WHERE bucket = ? AND aggregate = ? AND pending_id = ?";
    IN_FLIGHT_OF_BUCKET = "SELECT aggregate, pending_id, pending FROM writes_in_flight WHERE bucket = ?";
    DAILY_ADD = "UPDATE daily_stats SET value = value + ? WHERE day = ? AND name = ?";
    DAILY_GET = "SELECT name, value FROM daily_stats WHERE day = ?";
    SWEEP_ADVANCE = "UPDATE relay SET delivered = ? WHERE name = ? IF delivered < ?";
    LEAD_EVENT_COPY = "UPDATE leads SET event_title = ?, event_datetime = ? WHERE lead_id = ? IF EXISTS";
    LEAD_BY_EVENT_INSERT = "INSERT INTO leads_by_event (event_id, lead_id) VALUES (?, ?)";
    LEADS_OF_EVENT = "SELECT lead_id FROM leads_by_event WHERE event_id = ?";
    LEAD_BY_LEARNER_INSERT = "INSERT INTO leads_by_learner (user_id, created_at, lead_id) VALUES (?, ?, ?)";
    LEADS_OF_LEARNER = "SELECT lead_id FROM leads_by_learner WHERE user_id = ?";
    LEAD_BY_MENTOR_INSERT = "INSERT INTO leads_by_mentor (mentor_id, created_at, lead_id) VALUES (?, ?, ?)";
    LEADS_OF_MENTOR = "SELECT lead_id FROM leads_by_mentor WHERE mentor_id = ?";
    LEAD_BY_STATUS_INSERT = "INSERT INTO leads_by_status_day (status, day, created_at, lead_id) VALUES (?, ?, ?, ?)";
    LEAD_BY_STATUS_DELETE = "DELETE FROM leads_by_status_day WHERE status = ? AND day = ? AND created_at = ? AND lead_id = ?";
    LEADS_OF_STATUS_DAY = "SELECT created_at, lead_id FROM leads_by_status_day WHERE status = ? AND day = ? AND (created_at, lead_id) < (?, ?) LIMIT ?";
    LEAD_BY_DAY_INSERT = "INSERT INTO leads_by_day (day, created_at, lead_id) VALUES (?, ?, ?)";
    LEADS_OF_DAY = "SELECT created_at, lead_id FROM leads_by_day WHERE day = ? AND (created_at, lead_id) < (?, ?) LIMIT ?";
    VERIFICATION_LOG_INSERT = "INSERT INTO verification_logs (lead_id, timestamp, log_id, verified_by, status, reason) VALUES (?, ?, ?, ?, ?, ?)";

    // Review claims.
    CLAIM_GET = "SELECT admin_id, expires_at FROM lead_claims WHERE lead_id = ?";
    CLAIM_TAKE = "INSERT INTO lead_claims (lead_id, admin_id, expires_at) VALUES (?, ?, ?) IF NOT EXISTS USING TTL ?";
    CLAIM_RENEW = "UPDATE lead_claims USING TTL ? SET admin_id = ?, expires_at = ? WHERE lead_id = ? IF admin_id = ?";
    CLAIM_TAKE_EXPIRED = "UPDATE lead_claims USING TTL ? SET admin_id = ?, expires_at = ? WHERE lead_id = ? IF expires_at <= ?";
    CLAIM_RELEASE = "DELETE FROM lead_claims WHERE lead_id = ? IF admin_id = ?";
    CLAIM_DROP_EXPIRED = "DELETE FROM lead_claims WHERE lead_id = ? IF expires_at <= ?";
    CLAIM_CLEAR = "DELETE FROM lead_claims WHERE lead_id = ? IF EXISTS";
    ACTIVE_CLAIM_UPSERT = "INSERT INTO active_claims (queue, lead_id, admin_id, expires_at) VALUES (?, ?, ?, ?) USING TTL ?";
    ACTIVE_CLAIM_DELETE = "DELETE FROM active_claims WHERE queue = ? AND lead_id = ?";
    ACTIVE_CLAIMS = "SELECT lead_id, admin_id, expires_at FROM active_claims WHERE queue = ?";

    // Payments.
    PAYMENT_INSERT = "INSERT INTO payments (payment_id, razorpay_order_id, razorpay_payment_id, mentor_id, lead_id, amount_paise, currency, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) IF NOT EXISTS";
    PAYMENT_GET = "SELECT payment_id, razorpay_order_id, razorpay_payment_id, mentor_id, lead_id, amount_paise, currency, status, created_at, updated_at FROM payments WHERE payment_id = ?";
    PAYMENT_SET_STATUS = "UPDATE payments SET status = ?, razorpay_payment_id = ?, updated_at = ? WHERE payment_id = ? IF status = ?";
    PAYMENT_BY_ORDER_INSERT = "INSERT INTO payments_by_order (razorpay_order_id, payment_id) VALUES (?, ?)";
    PAYMENT_OF_ORDER = "SELECT payment_id FROM payments_by_order WHERE razorpay_order_id = ?";
    PAYMENT_BY_LEAD_INSERT = "INSERT INTO payments_by_lead (lead_id, payment_id) VALUES (?, ?)";
    PAYMENTS_OF_LEAD = "SELECT payment_id FROM payments_by_lead WHERE lead_id = ?";
    OPEN_ORDER_CLAIM = "INSERT INTO lead_open_orders (lead_id, payment_id) VALUES (?, ?) IF NOT EXISTS";
    OPEN_ORDER_GET = "SELECT payment_id FROM lead_open_orders WHERE lead_id = ?";
    OPEN_ORDER_RELEASE = "DELETE FROM lead_open_orders WHERE lead_id = ? IF payment_id = ?";
    WEBHOOK_GET = "SELECT event_id FROM webhook_events WHERE event_id = ?";
    WEBHOOK_RECORD = "INSERT INTO webhook_events (event_id, received_at) VALUES (?, ?) IF NOT EXISTS USING TTL ?";

    // The outbox and its relay (see `outbox.rs`).
    OUTBOX_INSERT = "INSERT INTO outbox (bucket, seq, change_id, kind, aggregate, payload, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?";
    OUTBOX_AFTER = "SELECT seq, change_id, payload, occurred_at FROM outbox WHERE bucket = ? AND seq > ? AND seq <= ? LIMIT ?";
    RELAY_CREATE = "INSERT INTO relay (name, holder, lease_until, delivered) VALUES (?, ?, ?, ?) IF NOT EXISTS";
    RELAY_RENEW = "UPDATE relay SET lease_until = ? WHERE name = ? IF holder = ?";
    RELAY_TAKE_OVER = "UPDATE relay SET holder = ?, lease_until = ? WHERE name = ? IF lease_until < ?";
    RELAY_GET = "SELECT holder, delivered FROM relay WHERE name = ?";
    RELAY_DELIVERED = "UPDATE relay SET delivered = ? WHERE name = ? IF holder = ? AND delivered <= ?";
}
