//! The store: the source of truth, as one trait of domain operations.
//!
//! Every operation is shaped so a wide-column backend (ScyllaDB) can implement it natively:
//! reads by key or within one partition, denormalised read models instead of joins, and a
//! compare-and-set for everything contended (slot taking, one booking per learner and event,
//! unique e-mail, one open order and one unlock per lead, webhook de-duplication). The SQLite
//! backend keeps the same shapes and gets atomicity from `BEGIN IMMEDIATE` transactions.

pub(crate) mod cursor;
mod error;
mod page;
pub mod scylla;
pub(crate) mod sealed;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use crate::domain::claim::LeadClaim;
pub use error::{Conflict, StoreError};
pub use page::{Page, PageRequest, DEFAULT_LIMIT, MAX_LIMIT};

use crate::domain::audit::{AuditEntry, AuditFilter};
use crate::domain::change::ChangeRecord;
use crate::domain::contact::Contact;
use crate::domain::event::{Event, EventDraft, EventFilter};
use crate::domain::ids::{EventId, LeadId, MentorId, OrderId, PaymentId, UserId};
use crate::domain::lead::{Lead, LeadStatus};
use crate::domain::mentor::{MentorProfile, MentorStatus, ProfileUpdate};
use crate::domain::payment::Payment;
use crate::domain::time::Timestamp;
use crate::domain::user::{Role, User, UserFilter};

pub type StoreResult<T> = Result<T, StoreError>;

/// A new account; mentors get their PENDING profile in the same write.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub mentor_id: Option<String>,
    pub created_at: Timestamp,
}

impl NewUser {
    /// The bootstrap admin's account, created from configuration.
    pub fn admin(email: &str, name: &str, password_hash: &str) -> Self {
        Self {
            user_id: crate::domain::ids::new_id(crate::domain::ids::USER),
            email: email.to_string(),
            name: name.to_string(),
            role: Role::Admin,
            password_hash: password_hash.to_string(),
            mentor_id: None,
            created_at: crate::domain::time::now(),
        }
    }
}

/// Which account the bootstrap admin takes: a new one (`None`) or the existing admin's.
/// Configuration must never turn a learner's or mentor's account (and its live sessions)
/// into an admin. Every backend decides with this.
pub fn bootstrap_admin_account(existing: Option<Credentials>) -> StoreResult<Option<String>> {
    match existing {
        Some(found) if found.user.role != Role::Admin => Err(Conflict::AdminEmailInUse.into()),
        Some(found) => Ok(Some(found.user.user_id)),
        None => Ok(None),
    }
}

/// What login needs: the account and its password hash.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

/// A server-side session. Only the SHA-256 of the token is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: String,
    pub created_at: Timestamp,
    /// The absolute end; the idle end is `last_seen_at` plus the idle timeout.
    pub expires_at: Timestamp,
    /// Last use, recorded at most every few minutes (`auth::SessionPolicy`).
    pub last_seen_at: Timestamp,
    /// What the user sees in their session list: the browser that signed in.
    pub device: String,
    /// The account's rights changed since this session began: the next request with its
    /// cookie swaps it for a fresh session (see `http::extract`).
    pub rotate: bool,
}

/// A Google sign-in between its start and its callback. Single use: the callback takes
/// it (read and delete in one step), so a replayed `state` finds nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginAttempt {
    /// SHA-256 of the `state` parameter.
    pub state_hash: String,
    /// The PKCE verifier sent with the code exchange.
    pub code_verifier: String,
    /// Must come back inside the ID token.
    pub nonce: String,
    /// The signed-in account that asked to link Google, if any.
    pub link_user_id: Option<String>,
    /// The role of an account the callback creates (USER or MENTOR).
    pub role: Role,
    /// A same-site path to land on afterwards.
    pub next: Option<String>,
    pub expires_at: Timestamp,
}

/// What closing an account changed, for the live views.
#[derive(Debug, Clone)]
pub struct ClosedAccount {
    /// Session hashes ended.
    pub sessions: Vec<String>,
    /// Bookings cancelled (their seats freed).
    pub cancelled: Vec<LeadChange>,
}

/// An admin's decision on a mentor application.
#[derive(Debug, Clone)]
pub struct MentorDecision {
    pub mentor_id: String,
    pub status: MentorStatus,
    pub reason: Option<String>,
    pub admin_id: String,
}

/// A booking to take: the store checks the event is open (not started, mentor approved),
/// takes a slot, claims the learner's one booking on the event, checks the contact's blind
/// indexes for duplicates under the same lock, and writes the lead with its contact sealed.
#[derive(Debug, Clone)]
pub struct NewBooking {
    pub lead_id: String,
    pub event_id: String,
    pub user_id: String,
    pub contact: Contact,
    /// Flags raised by the contact-only checks (`domain::verification::contact_flags`).
    pub flags: Vec<String>,
    pub now: Timestamp,
}

/// An admin's decision on a lead.
#[derive(Debug, Clone)]
pub struct LeadDecision {
    pub lead_id: String,
    /// VERIFIED or REJECTED.
    pub status: LeadStatus,
    pub reason: Option<String>,
    pub admin_id: String,
    pub now: Timestamp,
}

/// A lead after a change, and the status it had just before (read under the same lock), so
/// listeners can tell what the change meant.
#[derive(Debug, Clone)]
pub struct LeadChange {
    pub before: LeadStatus,
    pub lead: Lead,
}

/// Result of asking for an order on a lead: the one open order, new or already there.
#[derive(Debug, Clone)]
pub struct OpenOrder {
    pub payment: Payment,
    /// False when another request (a second tab) had opened the order first.
    pub created: bool,
}

/// A payment outcome (capture or failure) reported by the checkout callback or a webhook.
#[derive(Debug, Clone)]
pub struct PaymentReport {
    pub order_id: String,
    pub razorpay_payment_id: String,
    /// Who reported it: the mentor's user id, or `razorpay_webhook`.
    pub actor_id: String,
    /// The webhook delivery id (`X-Razorpay-Event-Id`). It is claimed (insert if absent) in
    /// the same write as the outcome, so a delivery seen before changes nothing, and one
    /// whose write failed is processed again when retried.
    pub delivery_id: Option<String>,
    pub now: Timestamp,
}

#[derive(Debug, Clone)]
pub struct CaptureOutcome {
    pub payment: Payment,
    /// The lead after the capture (PURCHASED when this or an earlier capture unlocked it).
    pub lead: Lead,
    /// False when this capture was a replay of one already recorded.
    pub newly_settled: bool,
    /// True when the webhook delivery had been processed before (nothing was done).
    pub duplicate_delivery: bool,
}

/// A change this version cannot read (written by a newer one, or damaged) is passed over,
/// loudly: one bad row must not stop every announcement after it.
pub(crate) fn unreadable_change(seq: i64, change_id: &str, error: &StoreError) {
    tracing::error!(seq, change_id, error = ?error, "outbox change unreadable; not announced");
}

/// A read of the outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxPage {
    pub changes: Vec<ChangeRecord>,
    /// Where the next read starts: past every change returned, and past stretches the read
    /// found empty (so an idle outbox does not make every read walk further).
    pub cursor: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Analytics {
    /// Every account, whatever its role.
    pub total_users: i64,
    /// Learner accounts only.
    pub total_learners: i64,
    pub total_mentors: i64,
    pub total_events: i64,
    pub total_leads: i64,
    /// Leads that passed verification (VERIFIED or PURCHASED now).
    pub verified_leads: i64,
    pub purchased_leads: i64,
    /// Completed payments, in rupees.
    pub total_revenue: i64,
    pub pending_leads: i64,
    pub pending_mentors: i64,
    /// Leads rejected, and leads cancelled (by the learner or with their account): with
    /// pending, verified-and-not-bought and purchased, each lead is counted once, in the
    /// state it is in now.
    pub rejected_leads: i64,
    pub cancelled_leads: i64,
}

/// What happened on one day (UTC), for the analytics' chart.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct DayActivity {
    /// `YYYY-MM-DD`.
    pub day: String,
    /// Leads booked.
    pub bookings: i64,
    /// Leads that passed verification (automatically at booking, or by an admin).
    pub verified: i64,
    /// Leads bought.
    pub purchases: i64,
    /// Completed payments, in rupees.
    pub revenue: i64,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // Accounts and sessions.
    async fn create_user(&self, new: NewUser) -> StoreResult<User>;
    /// Creates the bootstrap admin, or resets its name and password and ends its sessions.
    /// `Conflict::AdminEmailInUse` if a learner or mentor holds the e-mail.
    async fn upsert_admin(&self, email: &str, name: &str, password_hash: &str)
        -> StoreResult<User>;
    async fn credentials_by_email(&self, email: &str) -> StoreResult<Option<Credentials>>;
    async fn user(&self, user_id: &UserId) -> StoreResult<Option<User>>;
    /// Oldest first. A filter that matches few accounts may answer a short page with a
    /// cursor: each page examines a bounded number of accounts.
    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> StoreResult<Page<User>>;
    async fn create_session(&self, session: Session) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Records a use of the session (its idle clock restarts).
    async fn touch_session(&self, token_hash: &str, now: Timestamp) -> StoreResult<()>;
    /// The user's sessions, newest first (expired ones may be included; callers filter).
    async fn user_sessions(&self, user_id: &UserId) -> StoreResult<Vec<Session>>;
    /// Marks every session of the user for rotation (their rights changed).
    async fn rotate_user_sessions(&self, user_id: &UserId) -> StoreResult<()>;
    /// Swaps a session marked for rotation for `fresh`, once: the call that wins stores
    /// `fresh` and makes the old session end at `grace_until` (requests already on their
    /// way with it still succeed) and answers true; every other call answers false.
    async fn rotate_session(
        &self,
        old_hash: &str,
        fresh: Session,
        grace_until: Timestamp,
    ) -> StoreResult<bool>;
    /// Ends every session of the user; answers the token hashes ended.
    async fn end_user_sessions(&self, user_id: &UserId) -> StoreResult<Vec<String>>;

    // Google sign-in.
    async fn save_login_attempt(&self, attempt: LoginAttempt) -> StoreResult<()>;
    /// Takes the attempt out of the store: `None` if unknown, expired or already taken.
    async fn take_login_attempt(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<LoginAttempt>>;
    /// The account a Google subject is linked to.
    async fn google_account(&self, sub: &str) -> StoreResult<Option<String>>;
    /// Links the subject to the account unless it is linked already (compare-and-set);
    /// answers the account it is linked to now.
    async fn link_google_account(&self, sub: &str, user_id: &UserId) -> StoreResult<String>;
    /// Removes the link if it still names `user_id` (a claim whose account could not be made).
    async fn unlink_google_account(&self, sub: &str, user_id: &UserId) -> StoreResult<()>;

    /// Removes an account: a learner's live bookings are cancelled first (seats freed), then
    /// its row and e-mail (the address can register again), a mentor's profile
    /// (`Conflict::AccountHasEvents` while they have events), its sessions and Google links,
    /// with an audit entry. Its other leads stay, as the marketplace's records.
    async fn close_account(&self, user_id: &UserId, now: Timestamp) -> StoreResult<ClosedAccount>;

    // Mentors.
    async fn mentor_by_user(&self, user_id: &UserId) -> StoreResult<Option<MentorProfile>>;
    async fn mentor(&self, mentor_id: &MentorId) -> StoreResult<Option<MentorProfile>>;
    async fn update_mentor_profile(
        &self,
        mentor_id: &MentorId,
        update: ProfileUpdate,
    ) -> StoreResult<MentorProfile>;
    async fn list_mentors(&self, status: Option<MentorStatus>) -> StoreResult<Vec<MentorProfile>>;
    /// Records the decision and its audit entry together.
    async fn decide_mentor(&self, decision: MentorDecision) -> StoreResult<MentorProfile>;

    // Events.
    async fn create_event(&self, event: Event) -> StoreResult<Event>;
    async fn event(&self, event_id: &EventId) -> StoreResult<Option<Event>>;
    async fn list_events(
        &self,
        filter: &EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Event>>;
    async fn mentor_events(&self, mentor_id: &MentorId) -> StoreResult<Vec<Event>>;
    /// The categories of events on `from`'s day or later, each once whatever its case (as
    /// first written), sorted; what the listing's category filter offers. ScyllaDB may also
    /// name a category whose only such event was deleted.
    async fn event_categories(&self, from: Timestamp) -> StoreResult<Vec<String>>;
    /// Own events only (another mentor's is `NotFound`); the slot count may not drop below
    /// the live bookings; denormalised copies on the event's leads follow.
    async fn update_event(
        &self,
        mentor_id: &MentorId,
        event_id: &EventId,
        draft: EventDraft,
    ) -> StoreResult<Event>;
    /// Refused with `EventHasBookings` while any lead holds a slot.
    async fn delete_event(&self, mentor_id: &MentorId, event_id: &EventId) -> StoreResult<()>;

    // Leads.
    async fn book_slot(&self, booking: NewBooking) -> StoreResult<Lead>;
    async fn lead(&self, lead_id: &LeadId) -> StoreResult<Option<Lead>>;
    async fn learner_leads(&self, user_id: &UserId) -> StoreResult<Vec<Lead>>;
    async fn mentor_leads(&self, mentor_id: &MentorId) -> StoreResult<Vec<Lead>>;
    /// The admin's view, newest first; `Some(PENDING)` is the verification queue.
    async fn leads_by_status(
        &self,
        status: Option<LeadStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<Lead>>;
    /// Own bookings only; frees the slot and the learner's booking on the event.
    async fn cancel_booking(
        &self,
        user_id: &UserId,
        lead_id: &LeadId,
        now: Timestamp,
    ) -> StoreResult<LeadChange>;
    /// Applies the decision, writes a verification log and an audit entry; a rejection frees
    /// the slot. Refused with `ClaimedByOther` while another admin holds a live claim.
    async fn verify_lead(&self, decision: LeadDecision) -> StoreResult<LeadChange>;

    // Review claims (leases on PENDING leads).
    /// Takes or renews the lease: free, expired or already the same admin's. Another admin's
    /// live claim is `Conflict::ClaimedByOther`; a lead that is not PENDING is a transition
    /// conflict.
    async fn claim_lead(
        &self,
        lead_id: &LeadId,
        admin_id: &UserId,
        now: Timestamp,
        ttl: chrono::Duration,
    ) -> StoreResult<LeadClaim>;
    /// Ends the admin's claim on the lead; false if they held none.
    async fn release_claim(&self, lead_id: &LeadId, admin_id: &UserId) -> StoreResult<bool>;
    /// Ends every claim of the admin (their last socket closed); answers the lead ids.
    async fn release_claims_of(&self, admin_id: &UserId) -> StoreResult<Vec<String>>;
    /// Removes claims that expired by `now`; answers the lead ids.
    async fn expire_claims(&self, now: Timestamp) -> StoreResult<Vec<String>>;
    /// Live claims (the admin queue's partition).
    async fn active_claims(&self, now: Timestamp) -> StoreResult<Vec<LeadClaim>>;

    // Payments.
    /// Compare-and-set on the lead's one open order: returns the order already open, if any.
    /// The lead must still be VERIFIED. `actor_id` is the buying mentor's user id (audit).
    async fn open_order(&self, payment: Payment, actor_id: &UserId) -> StoreResult<OpenOrder>;
    /// The lead's open (CREATED) order, so a second purchase click reuses it.
    async fn open_payment_for_lead(&self, lead_id: &LeadId) -> StoreResult<Option<Payment>>;
    async fn payment_by_order(&self, order_id: &OrderId) -> StoreResult<Option<Payment>>;
    async fn payment(&self, payment_id: &PaymentId) -> StoreResult<Option<Payment>>;
    /// Settles a capture and unlocks the lead, exactly once however often it is reported.
    async fn record_payment(&self, capture: PaymentReport) -> StoreResult<CaptureOutcome>;
    /// Marks an unpaid order FAILED; a no-op on a settled payment. `None` when the webhook
    /// delivery had been processed before.
    async fn record_payment_failure(&self, failure: PaymentReport) -> StoreResult<Option<Payment>>;

    // Admin views.
    async fn analytics(&self) -> StoreResult<Analytics>;
    /// The days from `since`'s (UTC) on that had any activity, oldest first.
    async fn daily_activity(&self, since: Timestamp) -> StoreResult<Vec<DayActivity>>;
    /// Newest first; a filter that matches few entries may answer a short page with a cursor.
    async fn audit_log(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuditEntry>>;

    // The outbox: every write above that changes something people watch records its
    // `Change` with it; the relay (`crate::relay`) reads them back here.
    /// Changes after the cursor `after`, in commit order (per aggregate at least), at most
    /// `limit`, and how far the read got.
    async fn changes_after(&self, after: i64, limit: usize) -> StoreResult<OutboxPage>;
    /// Takes the relay lease if free or expired, or renews `holder`'s own, until `until`;
    /// answers the cursor (last change delivered), or `None` while another holder's lease
    /// runs.
    async fn take_relay_lease(
        &self,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<Option<i64>>;
    /// Moves the cursor to `seq` and prunes what was delivered, if `holder` still holds the
    /// lease; false if it lost it.
    async fn changes_delivered(&self, holder: &str, seq: i64) -> StoreResult<bool>;
    /// Finishes the writes whose writer died between deciding them and carrying out what
    /// they imply; answers how many. The relay's lease holder calls it now and then. A
    /// backend that commits a write with everything it implies in one transaction has none.
    async fn finish_interrupted(&self, now: Timestamp) -> StoreResult<usize>;
    /// Notified after this process wrote something that may have recorded a change, so the
    /// relay need not wait for its next poll (a wake for nothing costs one outbox read).
    fn outbox_signal(&self) -> Arc<tokio::sync::Notify>;
}
