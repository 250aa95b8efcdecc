//! Accounts, sessions and mentor profiles.

use super::admin::Stat;
use super::exec::Ttl;
use super::listing::{day, Key, Order, Walk};
use super::moves::{Owed, Pending};
use super::rows::{LoginAttemptRow, MentorRow, SessionRow, UserRow};
use super::{cql, ScyllaStore};
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::change::Change;
use crate::domain::ids;
use crate::domain::mentor::{MentorProfile, MentorStatus, ProfileUpdate};
use crate::domain::time::{now, to_storage, Timestamp};
use crate::domain::user::{check_closable, Role, User, UserFilter};
use crate::store::sealed::{self, Identity};
use crate::store::{
    bootstrap_admin_account, ClosedAccount, Conflict, Credentials, LoginAttempt, MentorDecision,
    NewUser, Page, PageRequest, Session, StoreError, StoreResult,
};

/// The statuses a mentor can be in, for listing all of them.
const MENTOR_STATUSES: [MentorStatus; 3] = [
    MentorStatus::Pending,
    MentorStatus::Approved,
    MentorStatus::Rejected,
];

/// Rounds of read-decide-CAS on a mentor's profile before answering "busy".
const DECISION_ROUNDS: usize = 8;

impl ScyllaStore {
    /// The account row first (unreachable until indexed), then the e-mail's CAS, then the
    /// listings: a lost e-mail race leaves nothing behind.
    pub(super) async fn create_user(&self, new: &NewUser) -> StoreResult<User> {
        let created = to_storage(&new.created_at);
        let identity = Identity::new(&new.email, &new.name);
        let email_index = self.vault().email_index(&new.email);
        self.run(
            cql::USER_INSERT,
            values![
                &new.user_id,
                &email_index,
                sealed::seal(self.vault(), &new.user_id, &identity)?,
                new.role.as_str(),
                &new.password_hash,
                None::<String>,
                &created
            ],
        )
        .await?;
        if !self
            .cas(cql::EMAIL_CLAIM, values![&email_index, &new.user_id])
            .await?
        {
            self.run(cql::USER_DELETE, values![&new.user_id]).await?;
            return Err(Conflict::EmailTaken.into());
        }
        let mut writes = vec![
            (
                cql::USER_BY_DAY_INSERT,
                values![day(&created), &created, &new.user_id],
            ),
            (cql::DAY_ADD, values!["users", day(&created)]),
        ];
        let mut stats = vec![(Stat::Users, 1)];
        if new.role == Role::User {
            stats.push((Stat::Learners, 1));
        }
        if let Some(mentor_id) = &new.mentor_id {
            writes.push((cql::MENTOR_OF_USER_INSERT, values![&new.user_id, mentor_id]));
            writes.push((
                cql::MENTOR_BY_STATUS_INSERT,
                values![MentorStatus::Pending.as_str(), &created, mentor_id],
            ));
            stats.extend([(Stat::Mentors, 1), (Stat::PendingMentors, 1)]);
        }
        self.batch(writes).await?;
        if let Some(mentor_id) = &new.mentor_id {
            self.cas(
                cql::MENTOR_INSERT,
                values![
                    mentor_id,
                    &new.user_id,
                    &new.name,
                    sealed::seal(self.vault(), mentor_id, &new.email)?,
                    "",
                    &[] as &[String],
                    "",
                    MentorStatus::Pending.as_str(),
                    None::<String>,
                    &created,
                    &created
                ],
            )
            .await?;
        }
        self.count(&stats).await;
        self.user_row(&new.user_id)
            .await?
            .map(|c| c.user)
            .ok_or(StoreError::NotFound("user"))
    }

    /// Two nodes starting together may both try to create the admin: the one that loses
    /// the e-mail's compare-and-set updates the account the other created.
    pub(super) async fn upsert_admin(
        &self,
        email: &str,
        name: &str,
        hash: &str,
    ) -> StoreResult<User> {
        match self.upsert_admin_once(email, name, hash).await {
            Err(StoreError::Conflict(Conflict::EmailTaken)) => {
                self.upsert_admin_once(email, name, hash).await
            }
            other => other,
        }
    }

    async fn upsert_admin_once(&self, email: &str, name: &str, hash: &str) -> StoreResult<User> {
        let existing = self.credentials_by_email(email).await?;
        let Some(user_id) = bootstrap_admin_account(existing)? else {
            return self.create_user(&NewUser::admin(email, name, hash)).await;
        };
        let identity = Identity::new(email, name);
        self.run(
            cql::USER_SET_IDENTITY,
            values![
                sealed::seal(self.vault(), &user_id, &identity)?,
                hash,
                &user_id
            ],
        )
        .await?;
        self.end_user_sessions(&user_id).await?;
        self.user_row(&user_id)
            .await?
            .map(|c| c.user)
            .ok_or(StoreError::NotFound("user"))
    }

    pub(super) async fn credentials_by_email(
        &self,
        email: &str,
    ) -> StoreResult<Option<Credentials>> {
        let index = self.vault().email_index(email);
        match self
            .one::<(String,)>(cql::EMAIL_LOOKUP, values![index])
            .await?
        {
            Some((user_id,)) => self.user_row(&user_id).await,
            None => Ok(None),
        }
    }

    pub(super) async fn user_row(&self, user_id: &str) -> StoreResult<Option<Credentials>> {
        self.one::<UserRow>(cql::USER_GET, values![user_id])
            .await?
            .map(|row| row.credentials(self.vault()))
            .transpose()
    }

    /// Oldest first, by day of sign-up.
    pub(super) async fn list_users(
        &self,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<User>> {
        let walk = Walk::daily("users".into(), cql::USERS_OF_DAY, None, Order::Oldest);
        self.page_of(
            &walk,
            page,
            "users",
            |(_, id): Key| Box::pin(async move { Ok(self.user_row(&id).await?.map(|c| c.user)) }),
            |user| filter.matches(user),
        )
        .await
    }

    /// The session row and its entry under the user expire together, at the session's end.
    pub(super) async fn create_session(&self, session: &Session) -> StoreResult<()> {
        // Until its end from now (a rotated session keeps the time it was first signed in).
        let ttl = Ttl((session.expires_at - now()).num_seconds().max(1));
        let ttl_again = Ttl(ttl.0);
        self.batch(vec![
            (
                cql::SESSION_INSERT,
                values![
                    &session.token_hash,
                    &session.user_id,
                    to_storage(&session.created_at),
                    to_storage(&session.expires_at),
                    to_storage(&session.last_seen_at),
                    &session.device,
                    session.rotate,
                    ttl
                ],
            ),
            (
                cql::SESSION_OF_USER_INSERT,
                values![&session.user_id, &session.token_hash, ttl_again],
            ),
        ])
        .await
    }

    pub(super) async fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        Ok(self
            .one::<SessionRow>(cql::SESSION_GET, values![token_hash])
            .await?
            .map(SessionRow::session)
            .transpose()?
            .flatten())
    }

    /// The new `last_seen_at` cell expires with the session's other cells.
    pub(super) async fn touch_session(&self, token_hash: &str, now: Timestamp) -> StoreResult<()> {
        let Some(session) = self.session(token_hash).await? else {
            return Ok(());
        };
        let left = (session.expires_at - now).num_seconds();
        if left <= 0 {
            return Ok(());
        }
        self.run(
            cql::SESSION_TOUCH,
            values![Ttl(left), to_storage(&now), token_hash],
        )
        .await
    }

    /// The claim is an LWT on its own table (`sessions_by_token` takes plain writes only);
    /// the winner stores the fresh session, then gives the old one's cells a TTL that ends
    /// at the grace end.
    pub(super) async fn rotate_session(
        &self,
        old_hash: &str,
        fresh: &Session,
        grace_until: Timestamp,
    ) -> StoreResult<bool> {
        let Some(old) = self.session(old_hash).await? else {
            return Ok(false);
        };
        if !old.rotate {
            return Ok(false);
        }
        let left = (old.expires_at - now()).num_seconds().max(1);
        if !self
            .cas(
                cql::SESSION_ROTATION_CLAIM,
                values![old_hash, &fresh.token_hash, Ttl(left)],
            )
            .await?
        {
            return Ok(false);
        }
        self.create_session(fresh).await?;
        let grace = (grace_until - now()).num_seconds().max(1);
        self.run(
            cql::SESSION_RETIRE,
            values![
                Ttl(grace),
                to_storage(&grace_until.min(old.expires_at)),
                false,
                old_hash
            ],
        )
        .await?;
        Ok(true)
    }

    pub(super) async fn rotate_user_sessions(&self, user_id: &str) -> StoreResult<()> {
        let now = now();
        for session in self.user_sessions(user_id).await? {
            let left = (session.expires_at - now).num_seconds();
            if left > 0 {
                self.run(
                    cql::SESSION_ROTATE,
                    values![Ttl(left), true, &session.token_hash],
                )
                .await?;
            }
        }
        Ok(())
    }

    pub(super) async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let Some(session) = self.session(token_hash).await? else {
            return Ok(());
        };
        self.forget_session(&session.user_id, token_hash).await
    }

    async fn forget_session(&self, user_id: &str, token_hash: &str) -> StoreResult<()> {
        self.batch(vec![
            (cql::SESSION_DELETE, values![token_hash]),
            (cql::SESSION_OF_USER_DELETE, values![user_id, token_hash]),
        ])
        .await
    }

    /// Newest first, from the user's partition of session keys.
    pub(super) async fn user_sessions(&self, user_id: &str) -> StoreResult<Vec<Session>> {
        let tokens: Vec<(String,)> = self.rows(cql::SESSIONS_OF_USER, values![user_id]).await?;
        let mut sessions = Vec::with_capacity(tokens.len());
        for (token_hash,) in tokens {
            if let Some(session) = self.session(&token_hash).await? {
                sessions.push(session);
            }
        }
        sessions.sort_by(|a, b| (b.created_at, &a.token_hash).cmp(&(a.created_at, &b.token_hash)));
        Ok(sessions)
    }

    pub(super) async fn end_user_sessions(&self, user_id: &str) -> StoreResult<Vec<String>> {
        let tokens: Vec<(String,)> = self.rows(cql::SESSIONS_OF_USER, values![user_id]).await?;
        let mut ended = Vec::with_capacity(tokens.len());
        for (token_hash,) in tokens {
            self.forget_session(user_id, &token_hash).await?;
            ended.push(token_hash);
        }
        Ok(ended)
    }

    pub(super) async fn save_login_attempt(&self, attempt: &LoginAttempt) -> StoreResult<()> {
        let ttl = Ttl((attempt.expires_at - now()).num_seconds().max(1));
        let applied = self
            .cas(
                cql::LOGIN_ATTEMPT_INSERT,
                values![
                    &attempt.state_hash,
                    &attempt.code_verifier,
                    &attempt.nonce,
                    attempt.link_user_id.as_deref(),
                    attempt.role.as_str(),
                    attempt.next.as_deref(),
                    to_storage(&attempt.expires_at),
                    ttl
                ],
            )
            .await?;
        if !applied {
            return Err(StoreError::Backend(anyhow::anyhow!(
                "a sign-in attempt with this state exists already"
            )));
        }
        Ok(())
    }

    /// A serial read, then a delete that only one caller can apply.
    pub(super) async fn take_login_attempt(
        &self,
        state_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<LoginAttempt>> {
        let Some(row) = self
            .one_serial::<LoginAttemptRow>(cql::LOGIN_ATTEMPT_GET, values![state_hash])
            .await?
        else {
            return Ok(None);
        };
        if !self
            .cas(cql::LOGIN_ATTEMPT_TAKE, values![state_hash])
            .await?
        {
            return Ok(None);
        }
        Ok(Some(row.attempt()?).filter(|a| a.expires_at > now))
    }

    pub(super) async fn google_account(&self, sub: &str) -> StoreResult<Option<String>> {
        Ok(self
            .one_serial::<(String,)>(cql::GOOGLE_IDENTITY_GET, values![sub])
            .await?
            .map(|(user_id,)| user_id))
    }

    /// The account's index row first, so a claim never exists without it (a lost claim's
    /// row is taken back).
    pub(super) async fn link_google_account(
        &self,
        sub: &str,
        user_id: &str,
    ) -> StoreResult<String> {
        self.run(cql::GOOGLE_SUBJECT_OF_USER_INSERT, values![user_id, sub])
            .await?;
        self.cas(cql::GOOGLE_IDENTITY_CLAIM, values![sub, user_id])
            .await?;
        let owner = self
            .google_account(sub)
            .await?
            .ok_or(StoreError::NotFound("google identity"))?;
        if owner != user_id {
            self.run(cql::GOOGLE_SUBJECT_OF_USER_DELETE, values![user_id, sub])
                .await?;
        }
        Ok(owner)
    }

    pub(super) async fn unlink_google_account(&self, sub: &str, user_id: &str) -> StoreResult<()> {
        if self
            .cas(cql::GOOGLE_IDENTITY_RELEASE, values![sub, user_id])
            .await?
        {
            self.run(cql::GOOGLE_SUBJECT_OF_USER_DELETE, values![user_id, sub])
                .await?;
        }
        Ok(())
    }

    /// Each piece goes by its own key. Releasing the e-mail (compare-and-set) comes first
    /// and decides: of two closings one goes on, the other finds no account.
    pub(super) async fn close_account(
        &self,
        user_id: &str,
        now: Timestamp,
    ) -> StoreResult<ClosedAccount> {
        let user = self
            .user_row(user_id)
            .await?
            .ok_or(StoreError::NotFound("user"))?
            .user;
        let mentor_id = self
            .one::<(String,)>(cql::MENTOR_OF_USER, values![user_id])
            .await?
            .map(|(id,)| id);
        if let Some(mentor_id) = &mentor_id {
            check_closable(!self.mentor_events(mentor_id).await?.is_empty())?;
        }
        let email_index = self.vault().email_index(&user.email);
        if !self
            .cas(cql::EMAIL_RELEASE, values![&email_index, user_id])
            .await?
        {
            // Released already by an earlier attempt that stopped part way (a booking or
            // profile busy with another write): the account row still stands, so go on.
            let holder: Option<(String,)> = self
                .one_serial(cql::EMAIL_LOOKUP, values![&email_index])
                .await?;
            if holder.is_some_and(|(holder,)| holder == user_id) {
                return Err(StoreError::Busy);
            }
        }
        let mut cancelled = Vec::new();
        for lead in self.leads_of(cql::LEADS_OF_LEARNER, user_id).await? {
            if !lead.status.holds_slot() {
                continue;
            }
            match self.cancel_booking(user_id, &lead.lead_id, now).await {
                Ok(change) => cancelled.push(change),
                // One that can no longer be cancelled (its event started) stays on record.
                Err(StoreError::Conflict(_)) => {}
                Err(other) => return Err(other),
            }
        }
        let mut stats = vec![(Stat::Users, -1)];
        if user.role == Role::User {
            stats.push((Stat::Learners, -1));
        }
        if let Some(mentor_id) = &mentor_id {
            if let Some(status) = self.remove_mentor_row(mentor_id).await? {
                stats.push((Stat::Mentors, -1));
                if status == MentorStatus::Pending {
                    stats.push((Stat::PendingMentors, -1));
                }
            }
            self.run(cql::MENTOR_OF_USER_DELETE, values![user_id])
                .await?;
        }
        let sessions = self.end_user_sessions(user_id).await?;
        let subjects: Vec<(String,)> = self
            .rows(cql::GOOGLE_SUBJECTS_OF_USER, values![user_id])
            .await?;
        for (sub,) in subjects {
            self.unlink_google_account(&sub, user_id).await?;
        }
        let created = to_storage(&user.created_at);
        self.batch(vec![
            (
                cql::USER_BY_DAY_DELETE,
                values![day(&created), &created, user_id],
            ),
            (cql::USER_DELETE, values![user_id]),
        ])
        .await?;
        self.count(&stats).await;
        self.audit(user_id, AuditAction::AccountClosed, user_id, None, now)
            .await?;
        Ok(ClosedAccount {
            sessions,
            cancelled,
        })
    }

    /// Deletes the profile by compare-and-set on the status read and on no decision being
    /// in flight (one may land meanwhile: read again), then its listing row. Answers the
    /// status it had.
    async fn remove_mentor_row(&self, mentor_id: &str) -> StoreResult<Option<MentorStatus>> {
        for _ in 0..DECISION_ROUNDS {
            let Some(mentor) = self
                .one_serial::<MentorRow>(cql::MENTOR_GET, values![mentor_id])
                .await?
                .map(|row| row.profile(self.vault()))
                .transpose()?
            else {
                return Ok(None);
            };
            let status = mentor.verification_status;
            if self
                .cas(cql::MENTOR_DELETE, values![mentor_id, status.as_str()])
                .await?
            {
                self.run(
                    cql::MENTOR_BY_STATUS_DELETE,
                    values![status.as_str(), to_storage(&mentor.created_at), mentor_id],
                )
                .await?;
                return Ok(Some(status));
            }
            // A decision landed, or one is still being carried out: read again.
            if !self
                .finish_abandoned(&format!("mentor:{mentor_id}"))
                .await?
            {
                super::exec::back_off().await;
            }
        }
        Err(StoreError::Busy)
    }

    pub(super) async fn mentor_row(&self, mentor_id: &str) -> StoreResult<Option<MentorProfile>> {
        self.one::<MentorRow>(cql::MENTOR_GET, values![mentor_id])
            .await?
            .map(|row| row.profile(self.vault()))
            .transpose()
    }

    pub(super) async fn update_mentor_profile(
        &self,
        mentor_id: &str,
        update: &ProfileUpdate,
    ) -> StoreResult<MentorProfile> {
        let applied = self
            .cas(
                cql::MENTOR_SET_PROFILE,
                values![
                    &update.bio,
                    update.expertise.as_slice(),
                    &update.experience,
                    to_storage(&now()),
                    mentor_id
                ],
            )
            .await?;
        if !applied {
            return Err(StoreError::NotFound("mentor"));
        }
        self.mentor_row(mentor_id)
            .await?
            .ok_or(StoreError::NotFound("mentor"))
    }

    /// Oldest first; all statuses are three partitions merged.
    pub(super) async fn list_mentors(
        &self,
        status: Option<MentorStatus>,
    ) -> StoreResult<Vec<MentorProfile>> {
        let statuses: Vec<MentorStatus> = match status {
            Some(status) => vec![status],
            None => MENTOR_STATUSES.to_vec(),
        };
        let mut mentors = Vec::new();
        for status in statuses {
            let ids: Vec<(String,)> = self
                .rows(cql::MENTORS_OF_STATUS, values![status.as_str()])
                .await?;
            for (mentor_id,) in ids {
                // The index may lag a decision: the row says where the mentor is now.
                if let Some(mentor) = self
                    .mentor_row(&mentor_id)
                    .await?
                    .filter(|m| m.verification_status == status)
                {
                    mentors.push(mentor);
                }
            }
        }
        mentors.sort_by(|a, b| (a.created_at, &a.mentor_id).cmp(&(b.created_at, &b.mentor_id)));
        Ok(mentors)
    }

    /// A compare-and-set on the status read, then the status index and the audit entry.
    /// A compare-and-set on the status read; lost to another admin's decision, it is
    /// refused, and blocked by a write still in flight on the profile, tried again.
    pub(super) async fn decide_mentor(
        &self,
        decision: &MentorDecision,
    ) -> StoreResult<MentorProfile> {
        let read = self.mentor_serial(&decision.mentor_id).await?;
        let mut current = read.clone();
        for _ in 0..DECISION_ROUNDS {
            if current.verification_status != read.verification_status {
                return Err(Conflict::AlreadyDecided(
                    "another admin decided this application first".into(),
                )
                .into());
            }
            if self.try_decide_mentor(&current, decision).await? {
                return self
                    .mentor_row(&decision.mentor_id)
                    .await?
                    .ok_or(StoreError::NotFound("mentor"));
            }
            if !self
                .finish_abandoned(&format!("mentor:{}", decision.mentor_id))
                .await?
            {
                super::exec::back_off().await;
            }
            current = self.mentor_serial(&decision.mentor_id).await?;
        }
        Err(StoreError::Busy)
    }

    async fn mentor_serial(&self, mentor_id: &str) -> StoreResult<MentorProfile> {
        self.one_serial::<MentorRow>(cql::MENTOR_GET, values![mentor_id])
            .await?
            .ok_or(StoreError::NotFound("mentor"))?
            .profile(self.vault())
    }

    /// One round of `decide_mentor` on the profile as read; answers whether it applied.
    async fn try_decide_mentor(
        &self,
        current: &MentorProfile,
        decision: &MentorDecision,
    ) -> StoreResult<bool> {
        let next = current
            .verification_status
            .decide(decision.status)
            .map_err(Conflict::AlreadyDecided)?;
        // A decision still being carried out may yet remove the listing row this one would
        // add (statuses can go back and forth): wait for it.
        if !self
            .finish_abandoned(&format!("mentor:{}", decision.mentor_id))
            .await?
        {
            return Ok(false);
        }
        let at = super::rows::ts(&to_storage(&now()))?;
        let created = to_storage(&current.created_at);
        // The new listing row first, so the mentor is always listed under where it is.
        self.run(
            cql::MENTOR_BY_STATUS_INSERT,
            values![next.as_str(), &created, &decision.mentor_id],
        )
        .await?;
        let action = match next {
            MentorStatus::Approved => AuditAction::MentorApproved,
            _ => AuditAction::MentorRejected,
        };
        let decided = Change::MentorDecided {
            mentor_id: current.mentor_id.clone(),
            user_id: current.user_id.clone(),
            status: next,
            reason: decision.reason.clone(),
        };
        let owed = Owed::MentorDecided {
            from: current.verification_status,
            created,
            audit: AuditEntry {
                audit_id: ids::new_id(ids::AUDIT),
                actor_id: decision.admin_id.clone(),
                action,
                target_id: decision.mentor_id.clone(),
                reason: decision.reason.clone(),
                created_at: at,
            },
        };
        let pending = Pending::new(decided, owed, at);
        let sealed = self.begin(&pending).await?;
        let applied = self
            .cas(
                cql::MENTOR_DECIDE,
                values![
                    next.as_str(),
                    decision.reason.as_deref(),
                    to_storage(&at),
                    &pending.id,
                    sealed,
                    &decision.mentor_id,
                    current.verification_status.as_str()
                ],
            )
            .await?;
        if applied {
            self.finish_written(&pending).await;
        } else {
            self.abandon(&pending).await;
        }
        Ok(applied)
    }

    /// What a decision implies besides the mentor's row (see `moves.rs`); each step may be
    /// taken again.
    pub(super) async fn carry_out_mentor_decision(
        &self,
        mentor_id: &str,
        (from, to): (MentorStatus, MentorStatus),
        created: &str,
        audit: &AuditEntry,
        by_writer: bool,
    ) -> StoreResult<()> {
        if to != from {
            self.run(
                cql::MENTOR_BY_STATUS_DELETE,
                values![from.as_str(), created, mentor_id],
            )
            .await?;
        }
        if by_writer && from == MentorStatus::Pending {
            self.count(&[(Stat::PendingMentors, -1)]).await;
        }
        self.audit_entry(audit).await
    }
}
