//! The relay: reads the outbox in commit order and hands each change to the realtime layer,
//! at least once, on exactly one node at a time (a lease in the store). Later consumers
//! (notifications) take changes from here too.
//!
//! A node's own writes wake its relay at once (`Store::outbox_signal`); the lease holder
//! also looks every `POLL` for changes committed by other nodes, and the others try for the
//! lease every `STANDBY`, so a holder that died is replaced within `LEASE` plus `STANDBY`.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::domain::ids;
use crate::domain::time::now as wall_clock;
use crate::realtime::Realtime;
use crate::store::Store;

/// How long a lease runs unless renewed.
const LEASE: Duration = Duration::from_secs(10);
/// The holder renews this long after taking or renewing it.
const RENEW_AFTER: Duration = Duration::from_secs(3);
/// The holder announces nothing more once less than this is left of a lease it could not
/// renew, so it has stopped before another node may take over (an announcement takes at
/// most a bus timeout or two).
const STOP_BEFORE: Duration = Duration::from_secs(5);
/// How often the holder looks for changes other nodes committed.
const POLL: Duration = Duration::from_millis(25);
/// `RelayTask::progress` before this node announced anything.
const NOTHING_YET: i64 = i64::MIN;
/// How soon a renewal the store did not answer is asked again.
const RENEW_RETRY: Duration = Duration::from_millis(500);
/// How often a node without the lease tries to take it.
const STANDBY: Duration = Duration::from_secs(1);
/// How long the relay waits before announcing again after the bus failed.
const BUS_RETRY: Duration = Duration::from_millis(500);
/// Changes read per round.
const BATCH: usize = 256;
/// How often the cursor is written (and what it passed pruned) while changes are delivered:
/// each write takes SQLite's write lock from the bookings, so a busy relay writes it at most
/// this often rather than after every round. A relay that dies re-announces at most this
/// much (at least once; every payload is state).
const CURSOR_WRITE_EVERY: Duration = Duration::from_millis(100);
/// How often it is written while reads only pass empty stretches (ScyllaDB's minutes).
const IDLE_CURSOR_WRITE: Duration = Duration::from_secs(10);
/// How often the holder has the store finish writes a dead node left half done
/// (`Store::finish_interrupted`); what they owe reaches the outbox, and so this relay.
const SWEEP_EVERY: Duration = Duration::from_secs(5);
/// How long one sweep may run (each write it finishes has its own, shorter, budget).
const SWEEP_BUDGET: Duration = Duration::from_secs(120);

/// The node's running relay.
pub struct RelayTask {
    task: tokio::task::JoinHandle<()>,
    holder: String,
    store: Arc<dyn Store>,
    /// How far the worker has announced (its cursor), for the last write at stop.
    progress: Arc<AtomicI64>,
}

/// Starts the node's relay on the current runtime. Leases are in wall-clock time, which
/// every node shares (not the application's clock, which tests move).
pub fn start(store: Arc<dyn Store>, realtime: Realtime) -> RelayTask {
    let holder = ids::new_id("relay");
    let progress = Arc::new(AtomicI64::new(NOTHING_YET));
    let worker = Worker {
        holder: holder.clone(),
        wake: store.outbox_signal(),
        store: Arc::clone(&store),
        realtime,
        progress: Arc::clone(&progress),
    };
    RelayTask {
        task: tokio::spawn(worker.run()),
        holder,
        store,
        progress,
    }
}

impl RelayTask {
    /// Stops relaying and hands the lease back (renewed to end now), so another node, or
    /// this one restarted, takes over at once instead of after the lease runs out.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
        // What was announced since the last cursor write is not announced again by the
        // next holder (a refusal here only means the lease was no longer ours).
        let announced = self.progress.load(Ordering::SeqCst);
        if announced != NOTHING_YET {
            if let Err(e) = self.store.changes_delivered(&self.holder, announced).await {
                tracing::warn!(error = %e, "relay cursor not written at stop");
            }
        }
        let now = wall_clock();
        if let Err(e) = self.store.take_relay_lease(&self.holder, now, now).await {
            tracing::warn!(error = %e, "relay lease not handed back");
        }
    }
}

struct Worker {
    /// This node's name on the lease (fresh per start: a restarted node waits out its own
    /// old lease like anyone else's).
    holder: String,
    store: Arc<dyn Store>,
    realtime: Realtime,
    wake: Arc<Notify>,
    progress: Arc<AtomicI64>,
}

/// Where a holder stands.
#[derive(Clone)]
struct Held {
    /// Last change delivered (or empty stretch skipped).
    cursor: i64,
    /// The cursor as last written to the store.
    written: i64,
    written_at: tokio::time::Instant,
    renew_at: tokio::time::Instant,
    /// Past this, the lease may be another node's: announce nothing more until renewed.
    stop_at: tokio::time::Instant,
    /// Changes were announced since the cursor was last written.
    delivered_unwritten: bool,
}

impl Worker {
    async fn run(self) {
        let mut held: Option<Held> = None;
        let mut sweep_at = tokio::time::Instant::now();
        let mut sweep: Option<Sweep> = None;
        loop {
            held = match held {
                Some(h) if tokio::time::Instant::now() < h.renew_at => Some(h),
                Some(h) => match self.lease(Some(h.clone())).await {
                    Lease::Held(renewed) => Some(renewed),
                    Lease::Elsewhere => None,
                    // The store did not answer: keep what we had until `stop_at` (the next
                    // round stops announcing by itself) and ask again a little later.
                    Lease::Unknown if tokio::time::Instant::now() < h.stop_at => Some(Held {
                        renew_at: tokio::time::Instant::now() + RENEW_RETRY,
                        ..h
                    }),
                    Lease::Unknown => None,
                },
                None => match self.lease(None).await {
                    Lease::Held(taken) => Some(taken),
                    Lease::Elsewhere | Lease::Unknown => None,
                },
            };
            let Some(h) = held.as_mut() else {
                // Another node relays (and sweeps): this node's own writes reach it by its
                // poll.
                sweep = None;
                tokio::time::sleep(STANDBY).await;
                continue;
            };
            let sweeping = sweep.as_ref().is_some_and(|s| !s.0.is_finished());
            if tokio::time::Instant::now() >= sweep_at && !sweeping {
                sweep_at = tokio::time::Instant::now() + SWEEP_EVERY;
                let task = tokio::spawn(finish_interrupted(Arc::clone(&self.store)));
                sweep = Some(Sweep(task));
            }
            match self.round(h).await {
                Ok(true) => continue,
                Ok(false) => self.rest(POLL).await,
                Err(Lost) => {
                    held = None;
                    tokio::time::sleep(STANDBY).await;
                }
            }
        }
    }

    /// Takes or renews the lease.
    async fn lease(&self, previous: Option<Held>) -> Lease {
        let asked = tokio::time::Instant::now();
        let now = wall_clock();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        match self.store.take_relay_lease(&self.holder, now, until).await {
            Ok(Some(stored)) => {
                // After a lapse another node may have relayed meanwhile: go on from whichever
                // cursor is further (ours may be ahead of the stored one by a round).
                let cursor = previous.as_ref().map_or(stored, |h| h.cursor.max(stored));
                if previous.is_none() {
                    tracing::info!(holder = %self.holder, cursor, "relaying the outbox");
                }
                Lease::Held(Held {
                    cursor,
                    written: stored,
                    written_at: previous.as_ref().map_or(asked, |h| h.written_at),
                    renew_at: asked + RENEW_AFTER,
                    stop_at: asked + (LEASE - STOP_BEFORE),
                    delivered_unwritten: previous.as_ref().is_some_and(|h| h.delivered_unwritten),
                })
            }
            Ok(None) => Lease::Elsewhere,
            Err(e) => {
                tracing::warn!(error = %e, "relay lease not taken");
                Lease::Unknown
            }
        }
    }

    /// Relays one batch; answers whether there may be more right away.
    async fn round(&self, held: &mut Held) -> Result<bool, Lost> {
        let page = match self.store.changes_after(held.cursor, BATCH).await {
            Ok(page) => page,
            Err(e) => {
                tracing::warn!(error = %e, "outbox not read");
                return Ok(false);
            }
        };
        let mut announced = 0;
        let mut bus_failed = false;
        for record in &page.changes {
            if tokio::time::Instant::now() >= held.stop_at {
                // The lease is running out: renew before announcing more.
                break;
            }
            if self.realtime.announce(&record.change).await.is_err() {
                bus_failed = true;
                break;
            }
            announced += 1;
        }
        let complete = announced == page.changes.len();
        held.cursor = if complete {
            held.cursor.max(page.cursor)
        } else {
            // The bus failed: this change and those after it are announced again later.
            page.changes[..announced]
                .last()
                .map_or(held.cursor, |last| last.seq)
        };
        if announced > 0 {
            self.progress.store(held.cursor, Ordering::SeqCst);
        }
        let since_written = held.written_at.elapsed();
        let delivered_since = held.delivered_unwritten || announced > 0;
        held.delivered_unwritten = delivered_since;
        let due = if delivered_since {
            since_written >= CURSOR_WRITE_EVERY
        } else {
            since_written >= IDLE_CURSOR_WRITE
        };
        if held.cursor > held.written && due {
            match self
                .store
                .changes_delivered(&self.holder, held.cursor)
                .await
            {
                Ok(true) => {
                    held.written = held.cursor;
                    held.written_at = tokio::time::Instant::now();
                    held.delivered_unwritten = false;
                }
                Ok(false) => {
                    tracing::warn!(holder = %self.holder, "relay lease lost to another node");
                    return Err(Lost);
                }
                // Delivered anyway; the cursor is written with the next round.
                Err(e) => tracing::warn!(error = %e, "relay cursor not written"),
            }
        }
        if bus_failed {
            tokio::time::sleep(BUS_RETRY).await;
        }
        Ok(!complete || page.changes.len() >= BATCH)
    }

    /// Waits for a nudge or the timeout, whichever comes first.
    async fn rest(&self, at_most: Duration) {
        let _ = tokio::time::timeout(at_most, self.wake.notified()).await;
    }
}

/// The running sweep, stopped when the node stops relaying (it lost the lease, or the
/// relay was stopped) so that two nodes do not sweep at once.
struct Sweep(tokio::task::JoinHandle<()>);

impl Drop for Sweep {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// One sweep for writes a dead node left half done, beside the relay's rounds so a long one
/// delays no announcement, and bounded so a stuck one does not keep the next from starting.
async fn finish_interrupted(store: Arc<dyn Store>) {
    match tokio::time::timeout(SWEEP_BUDGET, store.finish_interrupted(wall_clock())).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "interrupted writes not finished this time"),
        Err(_) => tracing::warn!("the sweep of interrupted writes ran out of time"),
    }
}

/// The lease went to another node.
struct Lost;

/// What asking for the lease found.
enum Lease {
    Held(Held),
    /// Another node holds it.
    Elsewhere,
    /// The store did not answer.
    Unknown,
}
