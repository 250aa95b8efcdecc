//! The outbox on ScyllaDB. There is no transaction to share with the change, so a change
//! is recorded right after the compare-and-set that decided it and the writes it implies
//! (README, "Where each rule lives"): a node that dies between the two loses that one
//! change's announcement, as before the outbox, and clients still resynchronise from
//! snapshots. Order: `seq` is the writer's clock in microseconds (unique per process), and
//! changes to one aggregate are serialised by its compare-and-set, so per-aggregate order
//! holds while nodes' clocks agree to within the time between two changes of one thing.
//! The relay reads only changes older than `SETTLE`, so a write still in flight on another
//! node with a slightly earlier `seq` is not skipped.

use std::sync::atomic::{AtomicI64, Ordering};

use scylla::DeserializeRow;

use super::exec::Ttl;
use super::{cql, ScyllaStore};
use crate::domain::change::{Change, ChangeRecord, CHANGE};
use crate::domain::ids;
use crate::domain::time::{to_storage, Timestamp};
use crate::store::OutboxPage;
use crate::store::{sealed, StoreResult};

/// The realtime relay's row in `relay`.
const RELAY: &str = "realtime";
/// One partition of the outbox per minute of `seq`.
const BUCKET_MICROS: i64 = 60_000_000;
/// Changes younger than this are not relayed yet (clock skew and writes in flight).
const SETTLE_MICROS: i64 = 1_000_000;
/// Changes are kept this long, delivered or not: the TTL is how the outbox is pruned here
/// (a relay down for two days has bigger problems).
const KEEP_SECONDS: i64 = 2 * 24 * 3600;
/// Buckets walked per read; a relay further behind catches up over several reads.
const BUCKETS_PER_READ: i64 = 60;

static LAST_SEQ: AtomicI64 = AtomicI64::new(0);

/// The next `seq`: the clock in microseconds, strictly increasing within the process.
fn next_seq(now: Timestamp) -> i64 {
    let micros = now.timestamp_micros();
    let mut last = LAST_SEQ.load(Ordering::Relaxed);
    loop {
        let next = micros.max(last + 1);
        match LAST_SEQ.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

fn row_cursor(found: &[ChangeRecord], after: i64) -> i64 {
    found.last().map_or(after, |last| last.seq)
}

fn bucket(seq: i64) -> i64 {
    seq.div_euclid(BUCKET_MICROS)
}

#[derive(DeserializeRow)]
struct OutboxRow {
    seq: i64,
    change_id: String,
    payload: Vec<u8>,
    occurred_at: String,
}

#[derive(DeserializeRow)]
struct RelayRow {
    holder: String,
    delivered: i64,
}

impl ScyllaStore {
    /// Records a committed change (see the module's note on what "committed" means here).
    pub(super) async fn record_change(&self, change: &Change, now: Timestamp) -> StoreResult<()> {
        let change_id = ids::new_id(CHANGE);
        let seq = next_seq(crate::domain::time::now());
        self.run(
            cql::OUTBOX_INSERT,
            values![
                bucket(seq),
                seq,
                &change_id,
                change.kind(),
                change.aggregate(),
                sealed::seal(self.vault(), &change_id, change)?,
                to_storage(&now),
                Ttl(KEEP_SECONDS)
            ],
        )
        .await
    }

    pub(super) async fn outbox_after(&self, after: i64, limit: usize) -> StoreResult<OutboxPage> {
        let settled = crate::domain::time::now().timestamp_micros() - SETTLE_MICROS;
        // A relay that never delivered starts as far back as anything is kept, a minute per
        // query.
        let oldest = settled - KEEP_SECONDS * 1_000_000;
        let after = after.max(oldest);
        let last = bucket(settled).min(bucket(after) + BUCKETS_PER_READ);
        let mut found = Vec::new();
        for b in bucket(after)..=last {
            let rows: Vec<OutboxRow> = self
                .rows(cql::OUTBOX_AFTER, values![b, after, settled, limit as i32])
                .await?;
            for row in rows {
                found.push(ChangeRecord {
                    seq: row.seq,
                    change: sealed::open(self.vault(), &row.payload, "payload", &row.change_id)?,
                    occurred_at: super::rows::ts(&row.occurred_at)?,
                    change_id: row.change_id,
                });
                if found.len() >= limit {
                    let cursor = row_cursor(&found, after);
                    return Ok(OutboxPage {
                        changes: found,
                        cursor,
                    });
                }
            }
        }
        // Everything up to the end of the last minute walked (or `settled`) has been read.
        let cursor = if found.is_empty() {
            settled.min((last + 1) * BUCKET_MICROS - 1).max(after)
        } else {
            row_cursor(&found, after)
        };
        Ok(OutboxPage {
            changes: found,
            cursor,
        })
    }

    pub(super) async fn relay_lease(
        &self,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let (now, until) = (to_storage(&now), to_storage(&until));
        let taken = self
            .cas(cql::RELAY_CREATE, values![RELAY, holder, &until, 0i64])
            .await?
            || self
                .cas(cql::RELAY_RENEW, values![&until, RELAY, holder])
                .await?
            || self
                .cas(cql::RELAY_TAKE_OVER, values![holder, &until, RELAY, &now])
                .await?;
        if !taken {
            return Ok(None);
        }
        let row: Option<RelayRow> = self.one_serial(cql::RELAY_GET, values![RELAY]).await?;
        Ok(row.filter(|r| r.holder == holder).map(|r| r.delivered))
    }

    /// Delivered changes are not deleted one by one (a tombstone each): reads start at the
    /// cursor's minute, so they are never read again, and their TTL removes them.
    pub(super) async fn relay_delivered(&self, holder: &str, seq: i64) -> StoreResult<bool> {
        self.cas(cql::RELAY_DELIVERED, values![seq, RELAY, holder])
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seqs_only_grow_and_fall_into_minute_buckets() {
        let now = crate::domain::time::now();
        let a = next_seq(now);
        let b = next_seq(now);
        assert!(b > a);
        assert_eq!(bucket(60_000_000), 1);
        assert_eq!(bucket(59_999_999), 0);
    }
}
