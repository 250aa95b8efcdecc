//! The outbox on ScyllaDB. There is no transaction to share with the change: a write to a
//! lead, an event or a mentor carries its change in its compare-and-set and records it once
//! what the write implies is done, by whoever finishes it (`moves.rs`); a claim or an
//! account closing records it right after its write, and a node dying in between loses that
//! one announcement (clients resynchronise from snapshots). Order: `seq` is the writer's clock in microseconds, shifted to make room for
//! a random per-process tag (so two nodes writing in one microsecond differ, short of a
//! 1-in-1024 tag collision), strictly increasing within a process, and changes to
//! one aggregate are serialised by its compare-and-set, so per-aggregate order holds while
//! nodes' clocks agree to within the time between two changes of one thing. The relay reads
//! only changes older than `SETTLE_MICROS`, so a write still in flight on another node with
//! a slightly earlier `seq` is not skipped; a write that lands later than that (a writer
//! whose clock is behind by more, a retried insert) is not announced, and its clients
//! resynchronise from snapshots. On ScyllaDB, then, announcements trail their commits by
//! about a second.

use std::sync::atomic::{AtomicI64, Ordering};

use scylla::DeserializeRow;

use super::exec::Ttl;
use super::{cql, ScyllaStore};
use crate::domain::change::{Change, ChangeRecord, CHANGE};
use crate::domain::ids;
use crate::domain::time::{to_storage, Timestamp};
use crate::store::OutboxPage;
use crate::store::{sealed, unreadable_change, StoreResult};

/// The realtime relay's row in `relay`.
const RELAY: &str = "realtime";
/// Low bits of `seq` that tell writers apart.
const TAG_BITS: u32 = 10;
/// One partition of the outbox per minute.
const BUCKET_MICROS: i64 = 60_000_000;
/// Changes younger than this are not relayed yet (clock skew and writes in flight).
const SETTLE_MICROS: i64 = 1_000_000;
/// Changes are kept this long, delivered or not: the TTL is how the outbox is pruned here
/// (a relay down for two days has bigger problems).
const KEEP_SECONDS: i64 = 2 * 24 * 3600;
/// Buckets walked per read; a relay further behind catches up over several reads.
const BUCKETS_PER_READ: i64 = 60;

static LAST_MICROS: AtomicI64 = AtomicI64::new(0);
static TAG: std::sync::OnceLock<i64> = std::sync::OnceLock::new();

/// The `seq` of a change written at `micros`.
fn seq_at(micros: i64) -> i64 {
    let tag = *TAG.get_or_init(|| rand::random::<u16>() as i64 & ((1 << TAG_BITS) - 1));
    (micros << TAG_BITS) | tag
}

/// The next `seq`: the clock in microseconds (strictly increasing within the process) and
/// this process's tag, so two nodes writing in the same microsecond still differ.
fn next_seq(now: Timestamp) -> i64 {
    let micros = now.timestamp_micros();
    let mut last = LAST_MICROS.load(Ordering::Relaxed);
    loop {
        let next = micros.max(last + 1);
        match LAST_MICROS.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return seq_at(next),
            Err(seen) => last = seen,
        }
    }
}

/// The lowest `seq` of minute `b`, whatever the writer's tag.
fn bucket_start(b: i64) -> i64 {
    (b * BUCKET_MICROS) << TAG_BITS
}

fn bucket(seq: i64) -> i64 {
    (seq >> TAG_BITS).div_euclid(BUCKET_MICROS)
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

    pub(super) async fn changes_after(&self, after: i64, limit: usize) -> StoreResult<OutboxPage> {
        let settled_micros = crate::domain::time::now().timestamp_micros() - SETTLE_MICROS;
        let settled = seq_at(settled_micros) | ((1 << TAG_BITS) - 1);
        // A relay that never delivered starts as far back as anything is kept, a minute per
        // query.
        let oldest = seq_at(settled_micros - KEEP_SECONDS * 1_000_000);
        let after = after.max(oldest);
        let last = bucket(settled).min(bucket(after) + BUCKETS_PER_READ);
        let mut found = Vec::new();
        let mut read = 0;
        let mut cursor = after;
        for b in bucket(after)..=last {
            let rows: Vec<OutboxRow> = self
                .rows(
                    cql::OUTBOX_AFTER,
                    values![b, after, settled, (limit - read) as i32],
                )
                .await?;
            for row in rows {
                read += 1;
                cursor = row.seq;
                let change = sealed::open(self.vault(), &row.payload, "payload", &row.change_id)
                    .and_then(|change| Ok((change, super::rows::ts(&row.occurred_at)?)));
                match change {
                    Ok((change, occurred_at)) => found.push(ChangeRecord {
                        seq: row.seq,
                        change,
                        occurred_at,
                        change_id: row.change_id,
                    }),
                    Err(e) => unreadable_change(row.seq, &row.change_id, &e),
                }
            }
            if read >= limit {
                return Ok(OutboxPage {
                    changes: found,
                    cursor,
                });
            }
            // Everything up to the end of this minute (or `settled`) has been read.
            cursor = settled.min(bucket_start(b + 1) - 1).max(cursor);
        }
        Ok(OutboxPage {
            changes: found,
            cursor,
        })
    }

    pub(super) async fn take_relay_lease(
        &self,
        holder: &str,
        now: Timestamp,
        until: Timestamp,
    ) -> StoreResult<Option<i64>> {
        let (now, until) = (to_storage(&now), to_storage(&until));
        // Renewing is the common case; the row exists after the very first start.
        let taken = self
            .cas(cql::RELAY_RENEW, values![&until, RELAY, holder])
            .await?
            || self
                .cas(cql::RELAY_TAKE_OVER, values![holder, &until, RELAY, &now])
                .await?
            || self
                .cas(cql::RELAY_CREATE, values![RELAY, holder, &until, 0i64])
                .await?;
        if !taken {
            return Ok(None);
        }
        let row: Option<RelayRow> = self.one_serial(cql::RELAY_GET, values![RELAY]).await?;
        Ok(row.filter(|r| r.holder == holder).map(|r| r.delivered))
    }

    /// Delivered changes are not deleted one by one (a tombstone each): reads start at the
    /// cursor's minute, so they are never read again, and their TTL removes them.
    pub(super) async fn changes_delivered(&self, holder: &str, seq: i64) -> StoreResult<bool> {
        self.cas(cql::RELAY_DELIVERED, values![seq, RELAY, holder, seq])
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
        assert_eq!(a & ((1 << TAG_BITS) - 1), b & ((1 << TAG_BITS) - 1));
        assert_eq!(bucket(seq_at(60_000_000)), 1);
        assert_eq!(bucket(seq_at(59_999_999)), 0);
        // A minute ends below the next one's first seq for every tag.
        let next = bucket_start(1);
        assert_eq!(bucket(next - 1), 0);
        assert_eq!(bucket(next), 1);
        assert!(next > (59_999_999 << TAG_BITS) | ((1 << TAG_BITS) - 1));
    }
}
