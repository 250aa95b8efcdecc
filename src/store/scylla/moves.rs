//! Writes made whole on ScyllaDB, which has no transaction spanning a row, the rows its
//! change implies and the outbox. The compare-and-set that decides a write to a lead, an
//! event or a mentor also stores what the write still owes (index rows, the slot, orders,
//! the claim, the logs, the announcement) as a sealed *pending* record in the same row, so
//! the write and the record apply together or not at all; the record is also filed, before
//! the compare-and-set, in `writes_in_flight` by minute. A row carrying a record takes no
//! other deciding write (status, edit, decision, deletion) until the record is cleared.
//!
//! One finisher at a time: a finisher starts no request once its record is `FINISH_BUDGET`
//! old, so its last one is over well before the record is `ABANDONED_AFTER` old (the
//! margin is for the request timeout and clock skew between nodes). From then on anyone may
//! take the record over by compare-and-set, which gives it a new id and a fresh age: the
//! row's next deciding write, or the sweep the relay's lease holder runs over minutes whose
//! records are all that old (reading a minute's records instead of scanning tables). A
//! deleted event has no row left to carry its record: its deletion applied if the row is
//! gone, nothing can write the event after it, and its steps are only deletions, so the
//! sweep re-files such a record under a new id before finishing it, without a
//! compare-and-set. A finish that fails leaves its record, re-filed, for a later pass.
//! A record no node can read (a stored format changed incompatibly; records, like outbox
//! payloads, are a stored format) is logged and, once as old as an abandoned one, cleared,
//! so its row takes writes again.
//!
//! Each step may also be taken twice: index rows are upserts and deletes, the booking
//! release and the claim clear are conditional, a slot goes back once per lead
//! (`events.slot_returns`), orders are voided by compare-and-set, log and audit rows have ids
//! fixed in the record, and copies and announcements carry the state read as they are made.
//! The outbox row is written before the record is cleared: a finisher that dies between the
//! two has its change announced twice (delivery is at least once, and every payload is
//! state), never not at all. Analytics counters are moved by the writer's first attempt
//! only: one that fails before them leaves a figure one short, never counted twice.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::exec::back_off;
use super::exec::Ttl;
use super::{cql, ScyllaStore};
use crate::domain::audit::AuditEntry;
use crate::domain::change::Change;
use crate::domain::ids;
use crate::domain::lead::LeadStatus;
use crate::domain::mentor::MentorStatus;
use crate::domain::time::{now as wall_clock, to_storage, Timestamp};
use crate::store::{sealed, StoreError, StoreResult};

/// A finisher starts no request once its record is this old.
const FINISH_BUDGET: Duration = Duration::from_secs(20);
/// A record this old may be taken over: its finisher's last request is over, with room for
/// clock skew between nodes.
const ABANDONED_AFTER_SECONDS: i64 = 60;
/// Attempts at finishing within the budget (each step may be taken again).
const FINISH_ATTEMPTS: usize = 3;
/// Filed records are kept this long at most (the sweep deletes each one it resolves; this
/// only bounds what a sweep stopped for weeks would leave).
const RECORD_TTL_SECONDS: i64 = 30 * 24 * 3600;
/// Minutes back the sweep starts the first time it runs (the table is as new as its row).
const FIRST_SWEEP_MINUTES: i64 = 60;
/// The sweep's row in `relay`: `delivered` is the last minute it has swept.
const SWEEP: &str = "writes_in_flight";
/// Minutes swept per pass, so a sweep far behind catches up over several passes.
const MINUTES_PER_SWEEP: i64 = 60;

/// A write and what it still owes once its compare-and-set applied.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// Names the record in the row and in `writes_in_flight`; a takeover renames it.
    pub id: String,
    /// What is announced, with the state as the write left it.
    pub change: Change,
    pub owed: Owed,
    /// When the change happened (logs, the outbox).
    pub at: Timestamp,
    /// When this node filed the record (wall clock): its age and its minute.
    pub filed_at: Timestamp,
}

/// What a write implies besides its own row, by kind of write.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Owed {
    /// A lead booked (`from` is `None`) or moved.
    Lead(LeadOwed),
    /// An event edited: its old index rows go, its leads' copies follow, and the learners
    /// booked on it are told (read when it is finished).
    EventEdited,
    /// An event deleted: its index rows go.
    EventDeleted { category: String, when: String },
    /// A mentor application decided: the status listing and the audit log.
    MentorDecided {
        from: MentorStatus,
        created: String,
        audit: AuditEntry,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LeadOwed {
    pub from: Option<LeadStatus>,
    pub frees_slot: bool,
    pub voids_orders: bool,
    pub ends_claim: bool,
    /// The payment settling the move, whose open order is not voided.
    pub settling: Option<String>,
    pub review: Option<Review>,
}

/// An admin's decision on a lead: its verification log row and its audit entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Review {
    pub log_id: String,
    pub audit: AuditEntry,
}

/// The row that carries a write's record: its read, and its swap (take over or clear).
struct Carrier {
    get: &'static str,
    swap: &'static str,
    key: String,
}

impl Pending {
    pub fn new(change: Change, owed: Owed, at: Timestamp) -> Self {
        Self {
            id: ids::new_id(ids::PENDING_WRITE),
            change,
            owed,
            at,
            filed_at: wall_clock(),
        }
    }

    /// The same record under a new id, filed now: what a finisher taking it over writes.
    fn taken_over(&self) -> Self {
        Self {
            id: ids::new_id(ids::PENDING_WRITE),
            filed_at: wall_clock(),
            ..self.clone()
        }
    }

    fn abandoned(&self, now: Timestamp) -> bool {
        now - self.filed_at >= chrono::Duration::seconds(ABANDONED_AFTER_SECONDS)
    }

    /// `None` for a deletion, whose row is gone once it applied.
    fn carrier(&self) -> StoreResult<Option<Carrier>> {
        let matched = matches!(
            (&self.owed, &self.change),
            (
                Owed::Lead(_),
                Change::LeadBooked { .. } | Change::LeadMoved { .. }
            ) | (Owed::EventEdited, Change::EventEdited { .. })
                | (Owed::MentorDecided { .. }, Change::MentorDecided { .. })
                | (Owed::EventDeleted { .. }, Change::EventDeleted { .. })
        );
        if !matched {
            return Err(StoreError::Backend(anyhow::anyhow!(
                "a pending write owes nothing a {} implies",
                self.change.kind()
            )));
        }
        if matches!(self.owed, Owed::EventDeleted { .. }) {
            return Ok(None);
        }
        Ok(carrier_of(&self.change.aggregate()))
    }
}

/// The row that carries the records of `aggregate` (`lead:…`, `event:…`, `mentor:…`).
fn carrier_of(aggregate: &str) -> Option<Carrier> {
    let (kind, key) = aggregate.split_once(':')?;
    let (get, swap) = match kind {
        "lead" => (cql::LEAD_PENDING_GET, cql::LEAD_PENDING_SWAP),
        "event" => (cql::EVENT_PENDING_GET, cql::EVENT_PENDING_SWAP),
        "mentor" => (cql::MENTOR_PENDING_GET, cql::MENTOR_PENDING_SWAP),
        _ => return None,
    };
    Some(Carrier {
        get,
        swap,
        key: key.to_string(),
    })
}

/// What taking a record over came to.
enum TakeOver {
    /// Another finisher took or cleared it first.
    Lost,
    Finished,
    /// Taken, but not finished: it stays, under its new id, for a later pass.
    Failed(StoreError),
}

/// A row's record columns: its id, the sealed record, when it was written (microseconds).
#[derive(scylla::DeserializeRow)]
#[scylla(flavor = "enforce_order", skip_name_checks)]
struct RecordRow {
    pending_id: Option<String>,
    pending: Option<Vec<u8>>,
    written: Option<i64>,
}

/// A record as read from its row.
enum Found {
    Readable(Box<Pending>),
    /// No node can open it: its id, and whether it is old enough to be taken over.
    Unreadable {
        id: String,
        abandoned: bool,
    },
}

/// The minute a record written at `at` is filed under.
fn minute(at: Timestamp) -> i64 {
    at.timestamp().div_euclid(60)
}

/// The last minute whose records are all old enough to be taken over at `now`.
fn ripe_minute(now: Timestamp) -> i64 {
    minute(now - chrono::Duration::seconds(ABANDONED_AFTER_SECONDS)) - 1
}

impl ScyllaStore {
    /// Files `pending` as in flight and seals it for the compare-and-set's row.
    pub(super) async fn begin(&self, pending: &Pending) -> StoreResult<Vec<u8>> {
        pending.carrier()?;
        let sealed = sealed::seal(self.vault(), &pending.id, pending)?;
        self.run(
            cql::IN_FLIGHT_INSERT,
            values![
                minute(pending.filed_at),
                pending.change.aggregate(),
                &pending.id,
                sealed.clone(),
                to_storage(&pending.filed_at),
                Ttl(RECORD_TTL_SECONDS)
            ],
        )
        .await?;
        Ok(sealed)
    }

    /// Drops the record of a write whose compare-and-set did not apply.
    pub(super) async fn abandon(&self, pending: &Pending) {
        if let Err(e) = self.unfile(pending).await {
            // The sweep drops it when it finds the write did not apply.
            tracing::debug!(error = %e, "record of a write that did not apply left to the sweep");
        }
    }

    async fn unfile(&self, pending: &Pending) -> StoreResult<()> {
        let aggregate = pending.change.aggregate();
        let at = minute(pending.filed_at);
        self.run(cql::IN_FLIGHT_DELETE, values![at, aggregate, &pending.id])
            .await
    }

    /// Carries out what `pending` owes, records its change, then clears it. `by_writer`:
    /// the writer's first attempt, the only one that moves counters.
    async fn finish(&self, pending: &Pending, by_writer: bool) -> StoreResult<()> {
        let mut change = pending.change.clone();
        match (&pending.owed, &mut change) {
            (Owed::Lead(owed), Change::LeadBooked { lead } | Change::LeadMoved { lead, .. }) => {
                self.carry_out_lead(owed, lead, pending.at, by_writer)
                    .await?
            }
            (
                Owed::EventEdited,
                Change::EventEdited {
                    before,
                    event,
                    learners,
                },
            ) => {
                *learners = self.carry_out_event_edit(before, event).await?;
            }
            (
                Owed::EventDeleted { category, when },
                Change::EventDeleted {
                    event_id,
                    mentor_id,
                },
            ) => {
                let keys = (
                    event_id.as_str(),
                    mentor_id.as_str(),
                    category.as_str(),
                    when.as_str(),
                );
                self.carry_out_event_deletion(keys, by_writer).await?
            }
            (
                Owed::MentorDecided {
                    from,
                    created,
                    audit,
                },
                Change::MentorDecided {
                    mentor_id, status, ..
                },
            ) => {
                let moved = (*from, *status);
                self.carry_out_mentor_decision(mentor_id, moved, created, audit, by_writer)
                    .await?
            }
            _ => {
                pending.carrier()?;
            }
        }
        self.record_change(&change, pending.at).await?;
        self.inner.recorded.notify_one();
        if let Some(carrier) = pending.carrier()? {
            let cleared = values![None::<String>, None::<Vec<u8>>, &carrier.key, &pending.id];
            self.cas(carrier.swap, cleared).await?;
        }
        // Done: the row may take other writes now, so nothing here is tried again. A marker
        // left behind is dropped by the sweep, which finds no such record on the row.
        if let Err(e) = self.unfile(pending).await {
            tracing::debug!(error = %e, "marker of a finished write left to the sweep");
        }
        Ok(())
    }

    /// Finishes `pending` while it is younger than `FINISH_BUDGET`, trying again after a
    /// failure. `by_writer` as for `finish`.
    async fn finish_within_budget(&self, pending: &Pending, by_writer: bool) -> StoreResult<()> {
        let age = (wall_clock() - pending.filed_at)
            .to_std()
            .unwrap_or_default();
        let Some(left) = FINISH_BUDGET.checked_sub(age) else {
            return Err(StoreError::Busy);
        };
        let attempts = async {
            let mut last = None;
            for attempt in 0..FINISH_ATTEMPTS {
                // A clear that answered with an error may have applied: then the row is
                // free and may have moved on, and nothing may be done again.
                if attempt > 0 && !self.still_pending(pending).await? {
                    return Ok(());
                }
                match self.finish(pending, by_writer && attempt == 0).await {
                    Ok(()) => return Ok(()),
                    Err(e) => last = Some(e),
                }
                back_off().await;
            }
            Err(last.unwrap_or(StoreError::Busy))
        };
        tokio::time::timeout(left, attempts)
            .await
            .unwrap_or(Err(StoreError::Busy))
    }

    /// Finishes, as the writer, a write whose compare-and-set applied. A failure here does
    /// not undo the write: it is logged, and the row's next deciding write or the sweep
    /// finishes it once it is abandoned.
    pub(super) async fn finish_written(&self, pending: &Pending) {
        if let Err(e) = self.finish_within_budget(pending, true).await {
            let aggregate = pending.change.aggregate();
            tracing::warn!(error = %e, %aggregate, "a write applied; what it implies is left to the sweep");
        }
    }

    /// The record in `carrier`'s row, if any, read at SERIAL.
    async fn pending_in(&self, carrier: &Carrier) -> StoreResult<Option<Found>> {
        let row: Option<RecordRow> = self.one_serial(carrier.get, values![&carrier.key]).await?;
        let Some(RecordRow {
            pending_id: Some(id),
            pending: sealed,
            written,
        }) = row
        else {
            return Ok(None);
        };
        let opened = sealed
            .ok_or_else(|| StoreError::Backend(anyhow::anyhow!("no record beside its id")))
            .and_then(|sealed| sealed::open(self.vault(), &sealed, "pending", &id));
        Ok(Some(match opened {
            Ok(pending) => Found::Readable(Box::new(pending)),
            Err(e) => {
                tracing::error!(error = %e, key = %carrier.key, %id, "unreadable write record");
                let age_micros = wall_clock().timestamp_micros() - written.unwrap_or(0);
                let abandoned = age_micros >= ABANDONED_AFTER_SECONDS * 1_000_000;
                Found::Unreadable { id, abandoned }
            }
        }))
    }

    /// Whether `pending` is still the record its row carries (deletions: always).
    async fn still_pending(&self, pending: &Pending) -> StoreResult<bool> {
        let Some(carrier) = pending.carrier()? else {
            return Ok(true);
        };
        Ok(matches!(
            self.pending_in(&carrier).await?,
            Some(Found::Readable(found)) if found.id == pending.id
        ))
    }

    /// Clears a record no node can read, losing what it owed (logged where it was found),
    /// so that its row takes writes again.
    async fn clear_unreadable(&self, carrier: &Carrier, id: &str) -> StoreResult<()> {
        let cleared = values![None::<String>, None::<Vec<u8>>, &carrier.key, id];
        self.cas(carrier.swap, cleared).await.map(drop)
    }

    /// Takes `found` (the record `carrier`'s row holds) over and finishes it. An error:
    /// the record could not be taken (it stays as it was); `Failed`: it was taken, and stays
    /// under its new id.
    async fn take_over(&self, carrier: &Carrier, found: &Pending) -> StoreResult<TakeOver> {
        let mine = found.taken_over();
        let sealed = self.begin(&mine).await?;
        let swap = values![&mine.id, sealed, &carrier.key, &found.id];
        if !self.cas(carrier.swap, swap).await? {
            self.abandon(&mine).await;
            return Ok(TakeOver::Lost);
        }
        Ok(match self.finish_within_budget(&mine, false).await {
            Ok(()) => TakeOver::Finished,
            Err(e) => TakeOver::Failed(e),
        })
    }

    /// Before another deciding write of `aggregate`'s row (`lead:…`, `event:…`,
    /// `mentor:…`): finishes the write in flight there if it was abandoned. Answers whether
    /// the row may be free now (false: a finisher is still at work on it).
    pub(super) async fn finish_abandoned(&self, aggregate: &str) -> StoreResult<bool> {
        let Some(carrier) = carrier_of(aggregate) else {
            return Ok(true);
        };
        match self.pending_in(&carrier).await? {
            None => Ok(true),
            Some(Found::Unreadable {
                id,
                abandoned: true,
            }) => {
                self.clear_unreadable(&carrier, &id).await?;
                Ok(true)
            }
            Some(Found::Readable(found)) if found.abandoned(wall_clock()) => {
                let taken = self.take_over(&carrier, &found).await?;
                self.abandon(&found).await;
                match taken {
                    TakeOver::Failed(e) => Err(e),
                    TakeOver::Finished => Ok(true),
                    // Another finisher has it now and may still be at work.
                    TakeOver::Lost => Ok(false),
                }
            }
            Some(Found::Readable(_) | Found::Unreadable { .. }) => Ok(false),
        }
    }

    /// The sweep's work on one filed record (`filed`: `None` if it cannot be read): finishes
    /// it if its write applied and nobody finished it, then unfiles it. Answers whether it
    /// finished it. A finish that fails after the record was re-filed is logged and left
    /// to a later pass; an error means nothing was decided and the record stays filed.
    async fn finish_filed(
        &self,
        bucket: i64,
        aggregate: &str,
        pending_id: &str,
        filed: Option<&Pending>,
    ) -> StoreResult<bool> {
        let carrier = match filed {
            Some(filed) => filed.carrier()?,
            None => carrier_of(aggregate),
        };
        let finished = match (carrier, filed) {
            (Some(carrier), _) => self.finish_carried(&carrier, pending_id).await?,
            (None, Some(filed)) => self.finish_deletion(filed).await?,
            (None, None) => false,
        };
        self.run(
            cql::IN_FLIGHT_DELETE,
            values![bucket, aggregate, pending_id],
        )
        .await?;
        Ok(finished)
    }

    async fn finish_carried(&self, carrier: &Carrier, pending_id: &str) -> StoreResult<bool> {
        match self.pending_in(carrier).await? {
            Some(Found::Readable(found)) if found.id == pending_id => {
                match self.take_over(carrier, &found).await? {
                    TakeOver::Finished => Ok(true),
                    TakeOver::Lost => Ok(false),
                    TakeOver::Failed(e) => {
                        tracing::warn!(error = %e, key = %carrier.key, "an abandoned write not finished; left for a later pass");
                        Ok(false)
                    }
                }
            }
            // Filed in a minute the sweep reads, so old enough to be taken over.
            Some(Found::Unreadable { id, .. }) if id == pending_id => {
                self.clear_unreadable(carrier, pending_id).await?;
                Ok(false)
            }
            // Finished already, or its compare-and-set never applied.
            _ => Ok(false),
        }
    }

    async fn finish_deletion(&self, filed: &Pending) -> StoreResult<bool> {
        let Change::EventDeleted { event_id, .. } = &filed.change else {
            return Ok(false);
        };
        let gone = self
            .one_serial::<(i64, i64)>(cql::EVENT_SLOTS, values![event_id])
            .await?
            .is_none();
        if !gone {
            // Its compare-and-set did not apply.
            return Ok(false);
        }
        let mine = filed.taken_over();
        self.begin(&mine).await?;
        match self.finish_within_budget(&mine, false).await {
            Ok(()) => Ok(true),
            Err(e) => {
                tracing::warn!(error = %e, %event_id, "an abandoned deletion not finished; left for a later pass");
                Ok(false)
            }
        }
    }

    /// Finishes the writes abandoned in the minutes not swept yet; answers how many. A
    /// failure stops the pass after the last minute swept whole, which the next pass
    /// continues from.
    pub(super) async fn finish_interrupted(&self, now: Timestamp) -> StoreResult<usize> {
        let swept = self.swept_until(now).await?;
        let last = ripe_minute(now).min(swept + MINUTES_PER_SWEEP);
        let mut finished = 0;
        let mut done = swept;
        let mut failure = None;
        'minutes: for m in swept + 1..=last {
            let records: Vec<(String, String, Vec<u8>)> =
                match self.rows(cql::IN_FLIGHT_OF_BUCKET, values![m]).await {
                    Ok(records) => records,
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                };
            for (aggregate, pending_id, sealed) in records {
                let filed: Option<Pending> = match sealed::open(
                    self.vault(),
                    &sealed,
                    "pending",
                    &pending_id,
                ) {
                    Ok(filed) => Some(filed),
                    Err(e) => {
                        tracing::error!(error = %e, %aggregate, %pending_id, "unreadable write record");
                        None
                    }
                };
                match self
                    .finish_filed(m, &aggregate, &pending_id, filed.as_ref())
                    .await
                {
                    Ok(true) => finished += 1,
                    Ok(false) => {}
                    Err(e) => {
                        failure = Some(e);
                        break 'minutes;
                    }
                }
            }
            done = m;
        }
        if done > swept {
            self.cas(cql::SWEEP_ADVANCE, values![done, SWEEP, done])
                .await?;
        }
        if finished > 0 {
            tracing::info!(finished, "finished writes their writers abandoned");
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(finished),
        }
    }

    /// The last minute swept; the first sweep starts as far back as records are kept.
    async fn swept_until(&self, now: Timestamp) -> StoreResult<i64> {
        let row: Option<(String, i64)> = self.one_serial(cql::RELAY_GET, values![SWEEP]).await?;
        if let Some((_, swept)) = row {
            return Ok(swept);
        }
        let start = minute(now) - FIRST_SWEEP_MINUTES;
        self.cas(cql::RELAY_CREATE, values![SWEEP, "", "", start])
            .await?;
        let row: Option<(String, i64)> = self.one_serial(cql::RELAY_GET, values![SWEEP]).await?;
        Ok(row.map_or(start, |(_, swept)| swept))
    }
}

#[cfg(test)]
mod tests {
    use super::super::REQUEST_TIMEOUT;
    use super::*;
    use crate::domain::time::now;

    #[test]
    fn a_minute_is_swept_only_once_every_record_in_it_may_be_taken_over() {
        let start = chrono::DateTime::from_timestamp(600, 0).unwrap_or_default();
        // At 10:00 minute 9 may still hold records younger than the grace.
        let grace = chrono::Duration::seconds(ABANDONED_AFTER_SECONDS);
        assert_eq!(ripe_minute(start), 8);
        assert_eq!(ripe_minute(start + grace), 9);
        // A finisher's last request ends before its record may be taken over, with half a
        // minute to spare for clock skew.
        let skew = Duration::from_secs(30);
        let abandoned = Duration::from_secs(ABANDONED_AFTER_SECONDS as u64);
        assert!(abandoned >= FINISH_BUDGET + REQUEST_TIMEOUT + skew);
    }

    #[test]
    fn a_record_is_abandoned_only_after_the_grace_and_a_takeover_renames_it() {
        let at = now();
        let deleted = Change::EventDeleted {
            event_id: "event_1".into(),
            mentor_id: "mentor_1".into(),
        };
        let owed = Owed::EventDeleted {
            category: "Tech".into(),
            when: to_storage(&at),
        };
        let pending = Pending::new(deleted.clone(), owed, at);
        let filed = pending.filed_at;
        let grace = chrono::Duration::seconds(ABANDONED_AFTER_SECONDS);
        assert!(!pending.abandoned(filed + grace - chrono::Duration::seconds(1)));
        assert!(pending.abandoned(filed + grace));
        let taken = pending.taken_over();
        assert_ne!(taken.id, pending.id);
        assert_eq!(taken.change, pending.change);
        assert!(
            matches!(pending.carrier(), Ok(None)),
            "a deletion has no row"
        );
        let mismatched = Pending::new(deleted, Owed::EventEdited, at);
        assert!(mismatched.carrier().is_err());
    }
}
