//! The ScyllaDB backend, for deployments beyond one machine.
//!
//! One table per query (`schema.rs`), every statement prepared once and cached
//! (`CachingSession`), LOCAL_QUORUM by default. There are no multi-row transactions, so
//! each contended write is a lightweight transaction (`IF NOT EXISTS`, `IF col = ?`) at
//! SERIAL on the one row that decides it (so uniqueness holds across datacenters): the slot count, the learner's booking on
//! the event, the e-mail, the lead's status, the lead's open order, the claim, the webhook
//! delivery. Index tables hold keys only; they are written before the row they point to
//! is created and after it changes, and readers check every key against that row, so a
//! crash between the steps leaves at worst a stale key that nobody is shown.

/// Bind values for one statement, in marker order (see `exec::Cql`).
macro_rules! values {
    ($($value:expr),* $(,)?) => {
        vec![$($crate::store::scylla::exec::Cql::cql($value)),*]
    };
}

mod accounts;
mod admin;
mod bookings;
mod catalog;
#[cfg(test)]
mod check;
mod claims;
mod cql;
mod exec;
mod listing;
mod moves;
mod outbox;
mod payments;
mod rows;
mod schema;

use std::sync::Arc;

use ::scylla::client::caching_session::{CachingSession, CachingSessionBuilder};
use ::scylla::client::execution_profile::ExecutionProfile;
use ::scylla::client::session_builder::SessionBuilder;
use ::scylla::statement::{Consistency, SerialConsistency};
use anyhow::Context;
use async_trait::async_trait;

use super::*;
use crate::crypto::Vault;
use crate::domain::audit::AuditEntry;
use crate::domain::change::Change;
use crate::domain::ids::{EventId, LeadId, MentorId, OrderId, PaymentId, UserId};
use crate::store::sealed;

/// Prepared statements kept; more than the backend has, so none is ever prepared twice.
const STATEMENT_CACHE: usize = 256;

/// Where and how to connect: `scylla://host:9042[,host:9042…]/keyspace`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScyllaConfig {
    pub nodes: Vec<String>,
    pub keyspace: String,
    /// The keyspace's replication map, as CQL (used only when the keyspace is created).
    pub replication: String,
    /// The local datacenter, for LOCAL_QUORUM routing; unset: any.
    pub datacenter: Option<String>,
}

/// A replication map fit for one small cluster; production sets its own.
pub const DEFAULT_REPLICATION: &str =
    "{'class': 'NetworkTopologyStrategy', 'replication_factor': 3}";

impl ScyllaConfig {
    /// Parses `scylla://host:port[,host:port]/keyspace`; `None` if it is not one.
    pub fn from_url(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("scylla://")?;
        let (hosts, keyspace) = rest.split_once('/')?;
        let keyspace_ok = !keyspace.is_empty()
            && keyspace.len() <= 48
            && keyspace.starts_with(|c: char| c.is_ascii_alphabetic())
            && keyspace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        let nodes: Vec<String> = hosts
            .split(',')
            .map(|h| {
                if h.contains(':') {
                    h.to_string()
                } else {
                    format!("{h}:9042")
                }
            })
            .collect();
        if !keyspace_ok || nodes.iter().any(|n| n.len() < 3 || n.starts_with(':')) {
            return None;
        }
        Some(Self {
            nodes,
            keyspace: keyspace.to_string(),
            replication: DEFAULT_REPLICATION.to_string(),
            datacenter: None,
        })
    }
}

/// The longest one request may take.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Clone)]
pub struct ScyllaStore {
    inner: Arc<Inner>,
}

struct Inner {
    session: CachingSession,
    vault: Vault,
    /// Notified after each change recorded (`Store::outbox_signal`).
    recorded: Arc<tokio::sync::Notify>,
}

impl ScyllaStore {
    /// Connects, creates the keyspace if missing, applies pending migrations, and checks the
    /// data key against the one the keyspace was created with.
    pub async fn connect(config: &ScyllaConfig, vault: Vault) -> anyhow::Result<Self> {
        let mut policy =
            ::scylla::policies::load_balancing::DefaultPolicy::builder().token_aware(true);
        if let Some(dc) = &config.datacenter {
            policy = policy.prefer_datacenter(dc.clone());
        }
        let profile = ExecutionProfile::builder()
            .consistency(Consistency::LocalQuorum)
            .serial_consistency(Some(SerialConsistency::Serial))
            .load_balancing_policy(policy.build())
            .request_timeout(Some(REQUEST_TIMEOUT))
            .build();
        let session = SessionBuilder::new()
            .known_nodes(&config.nodes)
            .default_execution_profile_handle(profile.into_handle())
            .build()
            .await
            .with_context(|| format!("connecting to ScyllaDB at {}", config.nodes.join(",")))?;
        // Tablets do not support lightweight transactions or counters (ScyllaDB 6), so the
        // keyspace opts out; a server that does not know the option (Cassandra, ScyllaDB
        // before 6) gets the keyspace without it.
        let create = format!(
            "CREATE KEYSPACE IF NOT EXISTS {} WITH replication = {}",
            config.keyspace, config.replication
        );
        let without_tablets = format!("{create} AND tablets = {{'enabled': false}}");
        if let Err(refused) = session.query_unpaged(without_tablets, ()).await {
            // Only a server that does not know the option gets a keyspace without it; any
            // other failure (a timeout, tablets enforced) must not leave a keyspace on
            // which lightweight transactions do not work.
            let unknown_option = refused.to_string().to_ascii_lowercase().contains("tablets");
            if !unknown_option {
                return Err(refused).context("creating the keyspace");
            }
            tracing::info!(error = %refused, "keyspace created without the tablets option");
            session
                .query_unpaged(create, ())
                .await
                .context("creating the keyspace")?;
        }
        session
            .use_keyspace(&config.keyspace, false)
            .await
            .context("using the keyspace")?;
        let store = Self {
            inner: Arc::new(Inner {
                session: CachingSessionBuilder::new(session)
                    .max_capacity(STATEMENT_CACHE)
                    .build(),
                vault,
                recorded: Arc::default(),
            }),
        };
        store.migrate().await.context("applying CQL migrations")?;
        store.check_data_key().await?;
        Ok(store)
    }

    fn vault(&self) -> &Vault {
        &self.inner.vault
    }

    async fn migrate(&self) -> StoreResult<()> {
        self.inner
            .session
            .get_session()
            .query_unpaged(schema::MIGRATIONS_TABLE, ())
            .await
            .map_err(exec::failure)?;
        for (index, statements) in schema::MIGRATIONS.iter().enumerate() {
            let version = index as i32 + 1;
            if self
                .one::<(i32,)>(cql::MIGRATION_GET, values![version])
                .await?
                .is_some()
            {
                continue;
            }
            for statement in *statements {
                let added = schema::added_column(statement);
                if let Some((table, column)) = added {
                    if self.has_column(table, column).await? {
                        continue;
                    }
                }
                // Schema changes are not prepared statements.
                let done = self
                    .inner
                    .session
                    .get_session()
                    .query_unpaged(*statement, ())
                    .await;
                match (done, added) {
                    (Ok(_), _) => {}
                    // Another node starting at the same moment added it first.
                    (Err(_), Some((table, column))) if self.has_column(table, column).await? => {}
                    (Err(e), _) => return Err(exec::failure(e)),
                }
            }
            self.cas(
                cql::MIGRATION_RECORD,
                values![
                    version,
                    crate::domain::time::to_storage(&crate::domain::time::now())
                ],
            )
            .await?;
        }
        Ok(())
    }

    async fn has_column(&self, table: &str, column: &str) -> StoreResult<bool> {
        let keyspace = self
            .inner
            .session
            .get_session()
            .get_keyspace()
            .map(|k| k.to_string())
            .unwrap_or_default();
        // `system_schema` holds unquoted names lower-cased, as the keyspace was created.
        let keyspace = keyspace.to_ascii_lowercase();
        let found: Vec<(String,)> = self
            .rows(schema::COLUMN_EXISTS, values![keyspace, table, column])
            .await?;
        Ok(!found.is_empty())
    }

    /// Seals a known value on first start and opens it on every later one, so a wrong
    /// `LEADBRIDGE_DATA_KEY` stops the start instead of making every account unreadable.
    async fn check_data_key(&self) -> anyhow::Result<()> {
        const KEY: &str = "data_key_check";
        const EXPECTED: &str = "leadbridge";
        let sealed = sealed::seal(self.vault(), KEY, &EXPECTED)?;
        self.cas(cql::META_INSERT, values![KEY, sealed]).await?;
        let stored = self
            .one::<(Vec<u8>,)>(cql::META_GET, values![KEY])
            .await?
            .map(|(v,)| v)
            .unwrap_or_default();
        match sealed::open::<String>(self.vault(), &stored, "value", KEY) {
            Ok(value) if value == EXPECTED => Ok(()),
            _ => anyhow::bail!(
                "LEADBRIDGE_DATA_KEY: this is not the key the keyspace was created with; its accounts and contacts cannot be read"
            ),
        }
    }
}

impl ScyllaStore {
    /// Records a change that has been written. A failure is logged, not returned: the
    /// change itself stands (see `outbox.rs` on this gap).
    async fn announce(&self, change: Change, now: Timestamp) {
        match self.record_change(&change, now).await {
            Ok(()) => self.inner.recorded.notify_one(),
            Err(e) => {
                tracing::error!(error = %e, kind = change.kind(), aggregate = %change.aggregate(), "change written but not recorded in the outbox")
            }
        }
    }

    async fn claims_released(&self, lead_ids: Vec<String>) -> Vec<String> {
        if !lead_ids.is_empty() {
            let released = Change::ClaimsReleased {
                lead_ids: lead_ids.clone(),
            };
            self.announce(released, crate::domain::time::now()).await;
        }
        lead_ids
    }
}

#[async_trait]
impl Store for ScyllaStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        self.create_user(&new).await
    }

    async fn upsert_admin(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<User> {
        self.upsert_admin(email, name, password_hash).await
    }

    async fn credentials_by_email(&self, email: &str) -> StoreResult<Option<Credentials>> {
        self.credentials_by_email(email).await
    }

    async fn user(&self, user_id: &UserId) -> StoreResult<Option<User>> {
        Ok(self.user_row(user_id).await?.map(|c| c.user))
    }

    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> StoreResult<Page<User>> {
        self.list_users(filter, &page).await
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        self.create_session(&session).await
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        self.session(token_hash).await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        self.delete_session(token_hash).await
    }

    async fn touch_session(&self, token_hash: &str, now: Timestamp) -> StoreResult<()> {
        self.touch_session(token_hash, now).await
    }

    async fn user_sessions(&self, user_id: &UserId) -> StoreResult<Vec<Session>> {
        self.user_sessions(user_id).await
    }

    async fn rotate_user_sessions(&self, user_id: &UserId) -> StoreResult<()> {
        self.rotate_user_sessions(user_id).await
    }

    async fn rotate_session(
        &self,
        old_hash: &str,
        fresh: Session,
        grace_until: Timestamp,
    ) -> StoreResult<bool> {
        self.rotate_session(old_hash, &fresh, grace_until).await
    }

    async fn end_user_sessions(&self, user_id: &UserId) -> StoreResult<Vec<String>> {
        self.end_user_sessions(user_id).await
    }

    async fn save_login_attempt(&self, attempt: LoginAttempt) -> StoreResult<()> {
        self.save_login_attempt(&attempt).await
    }

    async fn take_login_attempt(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<LoginAttempt>> {
        self.take_login_attempt(state_hash, now).await
    }

    async fn google_account(&self, sub: &str) -> StoreResult<Option<String>> {
        self.google_account(sub).await
    }

    async fn close_account(&self, user_id: &UserId, now: Timestamp) -> StoreResult<ClosedAccount> {
        // Its cancelled bookings were announced by their moves (`moves.rs`).
        let closed = self.close_account(user_id, now).await?;
        let user_id = user_id.to_string();
        self.announce(Change::AccountClosed { user_id }, now).await;
        Ok(closed)
    }

    async fn unlink_google_account(&self, sub: &str, user_id: &UserId) -> StoreResult<()> {
        self.unlink_google_account(sub, user_id).await
    }

    async fn link_google_account(&self, sub: &str, user_id: &UserId) -> StoreResult<String> {
        self.link_google_account(sub, user_id).await
    }

    async fn mentor_by_user(&self, user_id: &UserId) -> StoreResult<Option<MentorProfile>> {
        match self
            .one::<(String,)>(cql::MENTOR_OF_USER, values![user_id.as_str()])
            .await?
        {
            Some((mentor_id,)) => self.mentor_row(&mentor_id).await,
            None => Ok(None),
        }
    }

    async fn mentor(&self, mentor_id: &MentorId) -> StoreResult<Option<MentorProfile>> {
        self.mentor_row(mentor_id).await
    }

    async fn update_mentor_profile(
        &self,
        mentor_id: &MentorId,
        update: ProfileUpdate,
    ) -> StoreResult<MentorProfile> {
        self.update_mentor_profile(mentor_id, &update).await
    }

    async fn list_mentors(&self, status: Option<MentorStatus>) -> StoreResult<Vec<MentorProfile>> {
        self.list_mentors(status).await
    }

    async fn decide_mentor(&self, decision: MentorDecision) -> StoreResult<MentorProfile> {
        self.decide_mentor(&decision).await
    }

    async fn create_event(&self, event: Event) -> StoreResult<Event> {
        self.create_event(event).await
    }

    async fn event(&self, event_id: &EventId) -> StoreResult<Option<Event>> {
        self.event(event_id).await
    }

    async fn event_categories(&self, from: Timestamp) -> StoreResult<Vec<String>> {
        self.event_categories(from).await
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Event>> {
        self.list_events(filter, &page).await
    }

    async fn mentor_events(&self, mentor_id: &MentorId) -> StoreResult<Vec<Event>> {
        self.mentor_events(mentor_id).await
    }

    async fn update_event(
        &self,
        mentor_id: &MentorId,
        event_id: &EventId,
        draft: EventDraft,
    ) -> StoreResult<Event> {
        let (_before, event) = self.update_event(mentor_id, event_id, &draft).await?;
        Ok(event)
    }

    async fn delete_event(&self, mentor_id: &MentorId, event_id: &EventId) -> StoreResult<()> {
        self.delete_event(mentor_id, event_id).await
    }

    async fn book_slot(&self, booking: NewBooking) -> StoreResult<Lead> {
        self.book_slot(booking).await
    }

    async fn lead(&self, lead_id: &LeadId) -> StoreResult<Option<Lead>> {
        self.lead(lead_id).await
    }

    async fn learner_leads(&self, user_id: &UserId) -> StoreResult<Vec<Lead>> {
        self.leads_of(cql::LEADS_OF_LEARNER, user_id).await
    }

    async fn mentor_leads(&self, mentor_id: &MentorId) -> StoreResult<Vec<Lead>> {
        self.leads_of(cql::LEADS_OF_MENTOR, mentor_id).await
    }

    async fn leads_by_status(
        &self,
        status: Option<LeadStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<Lead>> {
        self.leads_by_status(status, &page).await
    }

    async fn cancel_booking(
        &self,
        user_id: &UserId,
        lead_id: &LeadId,
        now: Timestamp,
    ) -> StoreResult<LeadChange> {
        self.cancel_booking(user_id, lead_id, now).await
    }

    async fn verify_lead(&self, decision: LeadDecision) -> StoreResult<LeadChange> {
        self.verify_lead(&decision).await
    }

    async fn claim_lead(
        &self,
        lead_id: &LeadId,
        admin_id: &UserId,
        now: Timestamp,
        ttl: chrono::Duration,
    ) -> StoreResult<LeadClaim> {
        let claim = self.claim_lead(lead_id, admin_id, now, ttl).await?;
        let claimed = Change::LeadClaimed {
            claim: claim.clone(),
        };
        self.announce(claimed, now).await;
        Ok(claim)
    }

    async fn release_claim(&self, lead_id: &LeadId, admin_id: &UserId) -> StoreResult<bool> {
        let released = self.release_claim(lead_id, admin_id).await?;
        if released {
            self.claims_released(vec![lead_id.to_string()]).await;
        }
        Ok(released)
    }

    async fn release_claims_of(&self, admin_id: &UserId) -> StoreResult<Vec<String>> {
        let released = self.release_claims_of(admin_id).await?;
        Ok(self.claims_released(released).await)
    }

    async fn expire_claims(&self, now: Timestamp) -> StoreResult<Vec<String>> {
        let expired = self.expire_claims(now).await?;
        Ok(self.claims_released(expired).await)
    }

    async fn active_claims(&self, now: Timestamp) -> StoreResult<Vec<LeadClaim>> {
        self.active_claims(now).await
    }

    async fn open_order(&self, payment: Payment, actor_id: &UserId) -> StoreResult<OpenOrder> {
        self.open_order(payment, actor_id).await
    }

    async fn open_payment_for_lead(&self, lead_id: &LeadId) -> StoreResult<Option<Payment>> {
        self.open_payment_for_lead(lead_id).await
    }

    async fn payment_by_order(&self, order_id: &OrderId) -> StoreResult<Option<Payment>> {
        self.payment_by_order(order_id).await
    }

    async fn payment(&self, payment_id: &PaymentId) -> StoreResult<Option<Payment>> {
        self.payment(payment_id).await
    }

    async fn record_payment(&self, capture: PaymentReport) -> StoreResult<CaptureOutcome> {
        self.record_payment(&capture).await
    }

    async fn record_payment_failure(&self, failure: PaymentReport) -> StoreResult<Option<Payment>> {
        self.record_payment_failure(&failure).await
    }

    async fn daily_activity(&self, since: Timestamp) -> StoreResult<Vec<DayActivity>> {
        self.daily_activity(since).await
    }

    async fn analytics(&self) -> StoreResult<Analytics> {
        self.analytics().await
    }

    async fn audit_log(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuditEntry>> {
        self.audit_log(filter, &page).await
    }

    async fn changes_after(&self, after: i64, limit: usize) -> StoreResult<OutboxPage> {
        self.changes_after(after, limit).await
    }

    async fn take_relay_lease(
        &self,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<Option<i64>> {
        self.take_relay_lease(holder, now, until).await
    }

    async fn changes_delivered(&self, holder: &str, seq: i64) -> StoreResult<bool> {
        self.changes_delivered(holder, seq).await
    }

    async fn finish_interrupted(&self, now: Timestamp) -> StoreResult<usize> {
        self.finish_interrupted(now).await
    }

    fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.inner.recorded)
    }
}
