//! The embedded SQLite backend: WAL mode, one `BEGIN IMMEDIATE` transaction per write, and
//! every call that may wait (writes, scans, multi-statement reads) run on the blocking pool
//! so async workers never wait on disk or locks; single-statement look-ups by key run in
//! place (see `lookup`). Two processes on one file stay correct: SQLite's write lock
//! serialises their transactions.

mod accounts;
mod admin;
mod bookings;
mod catalog;
mod claims;
mod leads;
mod moves;
mod orders;
mod outbox;
mod payments;
mod rows;
mod scan;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use super::*;
use crate::crypto::Vault;
use crate::domain::audit::AuditEntry;
use crate::domain::ids::{EventId, LeadId, MentorId, OrderId, PaymentId, UserId};

/// Connections kept open; also the bound on concurrent store calls per process.
const POOL_SIZE: usize = 8;
/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;
/// How long a write waits for another process's (or connection's) write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
    /// Seals personal data and computes its blind indexes.
    vault: Vault,
    /// Notified after every committed write (`Store::outbox_signal`).
    committed: Arc<tokio::sync::Notify>,
}

/// The database file exists 0600 before SQLite opens it, so the `-wal` and `-shm` files
/// SQLite makes beside it get the same mode (it copies the database's), whatever the umask.
/// Files an earlier version left readable by others are tightened, with a warning.
fn make_files_private(path: &Path) -> anyhow::Result<()> {
    let mut files = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(PathBuf::from(name));
    }
    for (i, file) in files.iter().enumerate() {
        let tightened = if i == 0 {
            crate::private_files::ensure_private_file(file)
        } else {
            crate::private_files::tighten_if_present(file)
        }
        .with_context(|| format!("making {} private", file.display()))?;
        if let Some(mode) = tightened {
            tracing::warn!(file = %file.display(), from = format!("{mode:o}"), "database file was readable by other users; now 0600");
        }
    }
    Ok(())
}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        match err.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                StoreError::Busy
            }
            _ => StoreError::Backend(anyhow::Error::new(err).context("sqlite")),
        }
    }
}

/// Runs one statement, prepared once per connection (`Connection::execute` would parse the
/// SQL again on every call).
fn exec(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)?.execute(params)
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Every statement is prepared once per connection and reused (there are fewer than
    // this many distinct ones).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Plans that never depend on bound values: without this, binding a `LIMIT ?` (which
    // SQLite reads while planning) marks the statement expired, and every page was parsed
    // and planned again on its next step.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "OFF")?;
    Ok(conn)
}

/// Seals a known value on first start and opens it on every later one, so a wrong
/// `LEADBRIDGE_DATA_KEY` stops the start instead of making every account unreadable.
fn check_data_key(conn: &Connection, vault: &Vault) -> anyhow::Result<()> {
    const KEY: &str = "data_key_check";
    const EXPECTED: &str = "leadbridge";
    let sealed = vault
        .seal(KEY, &EXPECTED)
        .context("sealing the data key check")?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
        rusqlite::params![KEY, sealed],
    )?;
    let stored: Vec<u8> =
        conn.query_row("SELECT value FROM meta WHERE key = ?1", [KEY], |r| r.get(0))?;
    match vault.open::<String>(KEY, &stored) {
        Ok(value) if value == EXPECTED => Ok(()),
        _ => anyhow::bail!(
            "LEADBRIDGE_DATA_KEY: this is not the key the database was created with; its accounts and contacts cannot be read"
        ),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path, vault: Vault) -> anyhow::Result<Self> {
        make_files_private(path)?;
        let mut conn = open_connection(path)
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        schema::migrate(&mut conn).context("applying schema migrations")?;
        check_data_key(&conn, &vault)?;
        Ok(Self {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                idle: Mutex::new(vec![conn]),
                permits: Semaphore::new(POOL_SIZE),
                vault,
                committed: Arc::default(),
            }),
        })
    }

    /// Runs `f` on a pooled connection on the blocking thread pool.
    async fn with_conn<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Vault) -> StoreResult<T> + Send + 'static,
    {
        let _permit = self
            .inner
            .permits
            .acquire()
            .await
            .map_err(|e| StoreError::Backend(anyhow::Error::new(e)))?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let pooled = inner.idle.lock().ok().and_then(|mut idle| idle.pop());
            let mut conn = match pooled {
                Some(conn) => conn,
                None => open_connection(&inner.path)?,
            };
            let result = f(&mut conn, &inner.vault);
            // A transaction left open (its rollback failed) must not reach the next caller.
            if conn.is_autocommit() {
                if let Ok(mut idle) = inner.idle.lock() {
                    idle.push(conn);
                }
            }
            result
        })
        .await
        .map_err(|e| StoreError::Backend(anyhow::Error::new(e).context("store task failed")))?
    }

    /// A look-up by key, or one page in index order, in a single statement, answered on the
    /// calling worker thread. In WAL mode a reader never waits for a writer, and such a read
    /// is a few B-tree steps over cached pages: the hop to the blocking pool and back cost
    /// more than the read itself (context switches were the largest item in the listing's
    /// profile). A read that would have to wait (busy), or finds no pooled connection free,
    /// goes through the pool like any other call.
    async fn lookup<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: Fn(&Connection, &Vault) -> StoreResult<T> + Send + 'static,
    {
        match self.try_inline(&f) {
            Some(result) => result,
            None => self.with_conn(move |conn, vault| f(conn, vault)).await,
        }
    }

    fn try_inline<T>(
        &self,
        f: &impl Fn(&Connection, &Vault) -> StoreResult<T>,
    ) -> Option<StoreResult<T>> {
        let _permit = self.inner.permits.try_acquire().ok()?;
        let conn = self.inner.idle.lock().ok()?.pop()?;
        let result = conn
            .busy_timeout(Duration::ZERO)
            .map_err(StoreError::from)
            .and_then(|()| f(&conn, &self.inner.vault));
        let restored = conn.busy_timeout(BUSY_TIMEOUT).is_ok();
        if let (true, Ok(mut idle)) = (restored, self.inner.idle.lock()) {
            idle.push(conn);
        }
        match result {
            Err(StoreError::Busy) => None,
            other => Some(other),
        }
    }

    /// A read in a deferred transaction: every statement in `f` sees one snapshot (WAL).
    async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Vault) -> StoreResult<T> + Send + 'static,
    {
        self.with_conn(move |conn, vault| transaction(conn, "BEGIN DEFERRED", |tx| f(tx, vault)))
            .await
    }

    /// A write in `BEGIN IMMEDIATE`: it holds the database write lock from the first
    /// statement, so check-then-write sequences inside `f` are compare-and-set. An error
    /// rolls everything back.
    async fn write<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Vault) -> StoreResult<T> + Send + 'static,
    {
        let written = self
            .with_conn(move |conn, vault| transaction(conn, "BEGIN IMMEDIATE", |tx| f(tx, vault)))
            .await;
        if written.is_ok() {
            self.inner.committed.notify_one();
        }
        written
    }
}

/// Whether the listing filters rows that its index does not order (text, category): such a
/// page may scan any number of events before it fills.
fn filter_scans(filter: &EventFilter) -> bool {
    filter.q.is_some() || filter.category.is_some()
}

/// Runs `f` between `begin` and `COMMIT`, rolling back when `f` or the commit fails. The
/// statements are prepared once per connection like every other (rusqlite's `Transaction`
/// parses them on every call).
fn transaction<T>(
    conn: &Connection,
    begin: &str,
    f: impl FnOnce(&Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    exec(conn, begin, [])?;
    let result = f(conn).and_then(|value| {
        exec(conn, "COMMIT", [])?;
        Ok(value)
    });
    if result.is_err() && !conn.is_autocommit() {
        // Nothing else to report: the connection is left without an open transaction
        // either way, and the caller gets `f`'s (or the commit's) error.
        let _ = exec(conn, "ROLLBACK", []);
    }
    result
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        self.write(move |tx, vault| accounts::create_user(tx, vault, &new))
            .await
    }

    async fn upsert_admin(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
    ) -> StoreResult<User> {
        let (email, name, hash) = (
            email.to_string(),
            name.to_string(),
            password_hash.to_string(),
        );
        self.write(move |tx, vault| accounts::upsert_admin(tx, vault, &email, &name, &hash))
            .await
    }

    async fn credentials_by_email(&self, email: &str) -> StoreResult<Option<Credentials>> {
        let email = email.to_string();
        self.lookup(move |conn, vault| accounts::credentials_by_email(conn, vault, &email))
            .await
    }

    async fn user(&self, user_id: &UserId) -> StoreResult<Option<User>> {
        let user_id = user_id.to_string();
        self.lookup(move |conn, vault| accounts::user(conn, vault, &user_id))
            .await
    }

    async fn list_users(&self, filter: &UserFilter, page: PageRequest) -> StoreResult<Page<User>> {
        let filter = filter.clone();
        self.read(move |conn, vault| accounts::list_users(conn, vault, &filter, &page))
            .await
    }

    async fn create_session(&self, session: Session) -> StoreResult<()> {
        self.write(move |tx, _| accounts::create_session(tx, &session))
            .await
    }

    async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        let token_hash = token_hash.to_string();
        self.lookup(move |conn, _| accounts::session(conn, &token_hash))
            .await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |tx, _| accounts::delete_session(tx, &token_hash))
            .await
    }

    async fn touch_session(&self, token_hash: &str, now: Timestamp) -> StoreResult<()> {
        let token_hash = token_hash.to_string();
        self.write(move |tx, _| accounts::touch_session(tx, &token_hash, &now))
            .await
    }

    async fn user_sessions(&self, user_id: &UserId) -> StoreResult<Vec<Session>> {
        let user_id = user_id.to_string();
        self.read(move |conn, _| accounts::user_sessions(conn, &user_id))
            .await
    }

    async fn rotate_user_sessions(&self, user_id: &UserId) -> StoreResult<()> {
        let user_id = user_id.to_string();
        self.write(move |tx, _| accounts::rotate_user_sessions(tx, &user_id))
            .await
    }

    async fn rotate_session(
        &self,
        old_hash: &str,
        fresh: Session,
        grace_until: Timestamp,
    ) -> StoreResult<bool> {
        let old_hash = old_hash.to_string();
        self.write(move |tx, _| accounts::rotate_session(tx, &old_hash, &fresh, &grace_until))
            .await
    }

    async fn end_user_sessions(&self, user_id: &UserId) -> StoreResult<Vec<String>> {
        let user_id = user_id.to_string();
        self.write(move |tx, _| accounts::end_user_sessions(tx, &user_id))
            .await
    }

    async fn save_login_attempt(&self, attempt: LoginAttempt) -> StoreResult<()> {
        self.write(move |tx, _| accounts::save_login_attempt(tx, &attempt))
            .await
    }

    async fn take_login_attempt(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<LoginAttempt>> {
        let state_hash = state_hash.to_string();
        self.write(move |tx, _| accounts::take_login_attempt(tx, &state_hash, &now))
            .await
    }

    async fn google_account(&self, sub: &str) -> StoreResult<Option<String>> {
        let sub = sub.to_string();
        self.lookup(move |conn, _| accounts::google_account(conn, &sub))
            .await
    }

    async fn close_account(&self, user_id: &UserId, now: Timestamp) -> StoreResult<ClosedAccount> {
        let user_id = user_id.to_string();
        self.write(move |tx, vault| accounts::close_account(tx, vault, &user_id, &now))
            .await
    }

    async fn unlink_google_account(&self, sub: &str, user_id: &UserId) -> StoreResult<()> {
        let (sub, user_id) = (sub.to_string(), user_id.to_string());
        self.write(move |tx, _| accounts::unlink_google_account(tx, &sub, &user_id))
            .await
    }

    async fn link_google_account(&self, sub: &str, user_id: &UserId) -> StoreResult<String> {
        let (sub, user_id) = (sub.to_string(), user_id.to_string());
        self.write(move |tx, _| accounts::link_google_account(tx, &sub, &user_id))
            .await
    }

    async fn mentor_by_user(&self, user_id: &UserId) -> StoreResult<Option<MentorProfile>> {
        let user_id = user_id.to_string();
        self.lookup(move |conn, vault| accounts::mentor_where(conn, vault, "user_id", &user_id))
            .await
    }

    async fn mentor(&self, mentor_id: &MentorId) -> StoreResult<Option<MentorProfile>> {
        let mentor_id = mentor_id.to_string();
        self.lookup(move |conn, vault| accounts::mentor_where(conn, vault, "mentor_id", &mentor_id))
            .await
    }

    async fn update_mentor_profile(
        &self,
        mentor_id: &MentorId,
        update: ProfileUpdate,
    ) -> StoreResult<MentorProfile> {
        let mentor_id = mentor_id.to_string();
        self.write(move |tx, vault| accounts::update_mentor_profile(tx, vault, &mentor_id, &update))
            .await
    }

    async fn list_mentors(&self, status: Option<MentorStatus>) -> StoreResult<Vec<MentorProfile>> {
        self.read(move |conn, vault| accounts::list_mentors(conn, vault, status))
            .await
    }

    async fn decide_mentor(&self, decision: MentorDecision) -> StoreResult<MentorProfile> {
        self.write(move |tx, vault| accounts::decide_mentor(tx, vault, &decision))
            .await
    }

    async fn create_event(&self, event: Event) -> StoreResult<Event> {
        self.write(move |tx, _| catalog::create_event(tx, event))
            .await
    }

    async fn event(&self, event_id: &EventId) -> StoreResult<Option<Event>> {
        let event_id = event_id.to_string();
        self.lookup(move |conn, _| catalog::event(conn, &event_id))
            .await
    }

    async fn event_categories(&self, from: Timestamp) -> StoreResult<Vec<String>> {
        self.read(move |conn, _| catalog::event_categories(conn, &from))
            .await
    }

    async fn list_events(
        &self,
        filter: &EventFilter,
        page: PageRequest,
    ) -> StoreResult<Page<Event>> {
        // Text and category filters scan the time index until a page matches: unbounded.
        let scans = filter_scans(filter);
        let filter = filter.clone();
        let list = move |conn: &Connection, _: &Vault| catalog::list_events(conn, &filter, &page);
        if scans {
            self.read(list).await
        } else {
            self.lookup(list).await
        }
    }

    async fn mentor_events(&self, mentor_id: &MentorId) -> StoreResult<Vec<Event>> {
        let mentor_id = mentor_id.to_string();
        self.read(move |conn, _| catalog::mentor_events(conn, &mentor_id))
            .await
    }

    async fn update_event(
        &self,
        mentor_id: &MentorId,
        event_id: &EventId,
        draft: EventDraft,
    ) -> StoreResult<Event> {
        let (mentor_id, event_id) = (mentor_id.to_string(), event_id.to_string());
        self.write(move |tx, vault| catalog::update_event(tx, vault, &mentor_id, &event_id, &draft))
            .await
    }

    async fn delete_event(&self, mentor_id: &MentorId, event_id: &EventId) -> StoreResult<()> {
        let (mentor_id, event_id) = (mentor_id.to_string(), event_id.to_string());
        self.write(move |tx, vault| catalog::delete_event(tx, vault, &mentor_id, &event_id))
            .await
    }

    async fn book_slot(&self, booking: NewBooking) -> StoreResult<Lead> {
        self.write(move |tx, vault| bookings::book_slot(tx, vault, booking))
            .await
    }

    async fn lead(&self, lead_id: &LeadId) -> StoreResult<Option<Lead>> {
        let lead_id = lead_id.to_string();
        self.lookup(move |conn, vault| leads::lead(conn, vault, &lead_id))
            .await
    }

    async fn learner_leads(&self, user_id: &UserId) -> StoreResult<Vec<Lead>> {
        let user_id = user_id.to_string();
        self.read(move |conn, vault| leads::leads_where(conn, vault, "user_id", &user_id))
            .await
    }

    async fn mentor_leads(&self, mentor_id: &MentorId) -> StoreResult<Vec<Lead>> {
        let mentor_id = mentor_id.to_string();
        self.read(move |conn, vault| leads::leads_where(conn, vault, "mentor_id", &mentor_id))
            .await
    }

    async fn leads_by_status(
        &self,
        status: Option<LeadStatus>,
        page: PageRequest,
    ) -> StoreResult<Page<Lead>> {
        self.read(move |conn, vault| leads::leads_by_status(conn, vault, status, &page))
            .await
    }

    async fn cancel_booking(
        &self,
        user_id: &UserId,
        lead_id: &LeadId,
        now: Timestamp,
    ) -> StoreResult<LeadChange> {
        let (user_id, lead_id) = (user_id.to_string(), lead_id.to_string());
        self.write(move |tx, vault| moves::cancel_booking(tx, vault, &user_id, &lead_id, now))
            .await
    }

    async fn verify_lead(&self, decision: LeadDecision) -> StoreResult<LeadChange> {
        self.write(move |tx, vault| moves::verify_lead(tx, vault, &decision))
            .await
    }

    async fn claim_lead(
        &self,
        lead_id: &LeadId,
        admin_id: &UserId,
        now: Timestamp,
        ttl: chrono::Duration,
    ) -> StoreResult<LeadClaim> {
        let (lead_id, admin_id) = (lead_id.to_string(), admin_id.to_string());
        self.write(move |tx, vault| claims::claim_lead(tx, vault, &lead_id, &admin_id, now, ttl))
            .await
    }

    async fn release_claim(&self, lead_id: &LeadId, admin_id: &UserId) -> StoreResult<bool> {
        let (lead_id, admin_id) = (lead_id.to_string(), admin_id.to_string());
        self.write(move |tx, vault| claims::release_claim(tx, vault, &lead_id, &admin_id))
            .await
    }

    async fn release_claims_of(&self, admin_id: &UserId) -> StoreResult<Vec<String>> {
        let admin_id = admin_id.to_string();
        self.write(move |tx, vault| claims::release_claims_of(tx, vault, &admin_id))
            .await
    }

    async fn expire_claims(&self, now: Timestamp) -> StoreResult<Vec<String>> {
        self.write(move |tx, vault| claims::expire_claims(tx, vault, now))
            .await
    }

    async fn active_claims(&self, now: Timestamp) -> StoreResult<Vec<LeadClaim>> {
        self.read(move |conn, _| claims::active_claims(conn, now))
            .await
    }

    async fn open_order(&self, payment: Payment, actor_id: &UserId) -> StoreResult<OpenOrder> {
        let actor_id = actor_id.to_string();
        self.write(move |tx, vault| payments::open_order(tx, vault, payment, &actor_id))
            .await
    }

    async fn open_payment_for_lead(&self, lead_id: &LeadId) -> StoreResult<Option<Payment>> {
        let lead_id = lead_id.to_string();
        self.read(move |conn, _| orders::open_payment_for_lead(conn, &lead_id))
            .await
    }

    async fn payment_by_order(&self, order_id: &OrderId) -> StoreResult<Option<Payment>> {
        let order_id = order_id.to_string();
        self.lookup(move |conn, _| orders::payment_where(conn, "razorpay_order_id", &order_id))
            .await
    }

    async fn payment(&self, payment_id: &PaymentId) -> StoreResult<Option<Payment>> {
        let payment_id = payment_id.to_string();
        self.lookup(move |conn, _| orders::payment_where(conn, "payment_id", &payment_id))
            .await
    }

    async fn record_payment(&self, capture: PaymentReport) -> StoreResult<CaptureOutcome> {
        self.write(move |tx, vault| payments::record_payment(tx, vault, &capture))
            .await
    }

    async fn record_payment_failure(&self, failure: PaymentReport) -> StoreResult<Option<Payment>> {
        self.write(move |tx, _| payments::record_payment_failure(tx, &failure))
            .await
    }

    async fn analytics(&self) -> StoreResult<Analytics> {
        self.read(|conn, _| admin::analytics(conn)).await
    }

    async fn daily_activity(&self, since: Timestamp) -> StoreResult<Vec<DayActivity>> {
        self.read(move |conn, _| admin::daily_activity(conn, &since))
            .await
    }

    async fn audit_log(
        &self,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> StoreResult<Page<AuditEntry>> {
        let filter = filter.clone();
        self.read(move |conn, _| admin::audit_log(conn, &filter, &page))
            .await
    }

    async fn changes_after(&self, after: i64, limit: usize) -> StoreResult<OutboxPage> {
        // On the blocking pool: a page may open a few hundred sealed payloads.
        self.read(move |conn, vault| outbox::changes_after(conn, vault, after, limit))
            .await
    }

    async fn take_relay_lease(
        &self,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let holder = holder.to_string();
        self.write(move |tx, _| outbox::take_lease(tx, &holder, now, until))
            .await
    }

    async fn changes_delivered(&self, holder: &str, seq: i64) -> StoreResult<bool> {
        let holder = holder.to_string();
        self.write(move |tx, _| outbox::delivered(tx, &holder, seq))
            .await
    }

    /// Every write commits with what it implies and its outbox row: nothing is left over.
    async fn finish_interrupted(&self, _now: Timestamp) -> StoreResult<usize> {
        Ok(0)
    }

    fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        Arc::clone(&self.inner.committed)
    }
}
