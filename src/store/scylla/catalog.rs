//! Events: the row (slot count changed only by compare-and-set), its listings by mentor,
//! by day and by category and day, and the search the tables cannot answer.

use std::time::Duration;

use rand::Rng;

use super::admin::Stat;
use super::exec::Values;
use super::listing::{day, Key, Order, Walk};
use super::rows::{self, EventRow};
use super::{cql, ScyllaStore};
use crate::domain::event::{Event, EventDraft, EventFilter};
use crate::domain::time::{now, to_storage, Timestamp};
use crate::store::{Conflict, Page, PageRequest, StoreError, StoreResult};

/// Compare-and-set rounds on one event's slot count before answering "busy": each lost
/// round means another booking or cancellation of the same event went through.
pub(super) const SLOT_ROUNDS: usize = 64;

/// Which of an event's index rows an edit touches: those keyed by its time (by mentor,
/// by day) and the one keyed by its category (lower-cased, so a change of case is none).
#[derive(Clone, Copy)]
struct Keys<'a> {
    event_id: &'a str,
    mentor_id: &'a str,
    category: &'a str,
    when: &'a str,
}

impl Keys<'_> {
    fn category(&self) -> String {
        self.category.to_ascii_lowercase()
    }

    /// The rows keyed by time (`timed`) and/or by category, written before the event row
    /// they point to exists or changes.
    fn inserts(&self, timed: bool, categorised: bool) -> Vec<(&'static str, Values)> {
        let (id, when, day) = (self.event_id, self.when, day(self.when));
        let mut rows = Vec::new();
        if timed {
            rows.push((
                cql::EVENT_BY_MENTOR_INSERT,
                values![self.mentor_id, when, id],
            ));
            rows.push((cql::EVENT_BY_DAY_INSERT, values![&day, when, id]));
            rows.push((cql::DAY_ADD, values!["events", &day]));
        }
        if categorised {
            let category = self.category();
            rows.push((cql::DAY_ADD, values![format!("events:{category}"), &day]));
            rows.push((
                cql::EVENT_BY_CATEGORY_INSERT,
                values![category, &day, when, id],
            ));
        }
        rows
    }

    /// The same rows, removed after the event moved away from them or was deleted.
    fn deletes(&self, timed: bool, categorised: bool) -> Vec<(&'static str, Values)> {
        let (id, when, day) = (self.event_id, self.when, day(self.when));
        let mut rows = Vec::new();
        if timed {
            rows.push((
                cql::EVENT_BY_MENTOR_DELETE,
                values![self.mentor_id, when, id],
            ));
            rows.push((cql::EVENT_BY_DAY_DELETE, values![&day, when, id]));
        }
        if categorised {
            rows.push((
                cql::EVENT_BY_CATEGORY_DELETE,
                values![self.category(), &day, when, id],
            ));
        }
        rows
    }
}

/// A short random pause between lost compare-and-set rounds, so contenders spread out.
pub(super) async fn back_off() {
    let millis = rand::thread_rng().gen_range(1..=10);
    tokio::time::sleep(Duration::from_millis(millis)).await;
}

impl ScyllaStore {
    pub(super) async fn create_event(&self, event: Event) -> StoreResult<Event> {
        let when = to_storage(&event.event_datetime);
        let created = to_storage(&event.created_at);
        let keys = Keys {
            event_id: &event.event_id,
            mentor_id: &event.mentor_id,
            category: &event.category,
            when: &when,
        };
        self.batch(keys.inserts(true, true)).await?;
        let applied = self
            .cas(
                cql::EVENT_INSERT,
                values![
                    &event.event_id,
                    &event.mentor_id,
                    &event.mentor_name,
                    &event.title,
                    &event.description,
                    &event.category,
                    &when,
                    event.duration,
                    event.total_slots,
                    0i64,
                    event.price_per_lead.value(),
                    &created,
                    &created
                ],
            )
            .await?;
        if !applied {
            return Err(StoreError::Backend(anyhow::anyhow!(
                "event id {} already taken",
                event.event_id
            )));
        }
        self.count(&[(Stat::Events, 1)]).await;
        Ok(Event {
            booked_slots: 0,
            ..event
        })
    }

    pub(super) async fn event(&self, event_id: &str) -> StoreResult<Option<Event>> {
        self.one::<EventRow>(cql::EVENT_GET, values![event_id])
            .await?
            .map(EventRow::event)
            .transpose()
    }

    async fn own_event(&self, mentor_id: &str, event_id: &str) -> StoreResult<Event> {
        self.one_serial::<EventRow>(cql::EVENT_GET, values![event_id])
            .await?
            .map(EventRow::event)
            .transpose()?
            .filter(|e| e.mentor_id == mentor_id)
            .ok_or(StoreError::NotFound("event"))
    }

    /// Soonest first. A mentor's events are one partition; otherwise the walk goes over
    /// day partitions (of one category when filtered) from the `from` day to the `to`
    /// day. The free-text `q` is matched on each event read, within the scan budget.
    pub(super) async fn list_events(
        &self,
        filter: &EventFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Event>> {
        // Bounds at the precision events are stored with (microseconds), as SQLite
        // compares them, so an event at exactly `from` is in.
        let stored = |t: Timestamp| rows::ts(&to_storage(&t));
        let filter = &EventFilter {
            from: filter.from.map(stored).transpose()?,
            to: filter.to.map(stored).transpose()?,
            ..filter.clone()
        };
        let days = (
            filter.from.map(|t| day(&to_storage(&t))),
            filter.to.map(|t| day(&to_storage(&t))),
        );
        let walk = match (&filter.mentor_id, &filter.category) {
            (Some(mentor_id), _) => Walk {
                listing: None,
                keys: cql::EVENTS_OF_MENTOR,
                prefix: Some(mentor_id.clone()),
                order: Order::Oldest,
                from_day: None,
                to_day: None,
            },
            (None, Some(category)) => {
                let category = category.to_ascii_lowercase();
                Walk {
                    from_day: days.0,
                    to_day: days.1,
                    ..Walk::daily(
                        format!("events:{category}"),
                        cql::EVENTS_OF_CATEGORY_DAY,
                        Some(category),
                        Order::Oldest,
                    )
                }
            }
            (None, None) => Walk {
                from_day: days.0,
                to_day: days.1,
                ..Walk::daily("events".into(), cql::EVENTS_OF_DAY, None, Order::Oldest)
            },
        };
        self.page_of(
            &walk,
            page,
            "events",
            |key: Key| Box::pin(async move { self.event_at(key).await }),
            |event| filter.matches(event),
        )
        .await
    }

    pub(super) async fn mentor_events(&self, mentor_id: &str) -> StoreResult<Vec<Event>> {
        let keys: Vec<Key> = self
            .rows(cql::EVENTS_OF_MENTOR, values![mentor_id, "", "", i32::MAX])
            .await?;
        let mut events = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(event) = self
                .event_at(key)
                .await?
                .filter(|e| e.mentor_id == mentor_id)
            {
                events.push(event);
            }
        }
        Ok(events)
    }

    /// The event an index key points to, if it is still at that time (an edit that moved
    /// it may not have removed the old key yet).
    async fn event_at(&self, (when, event_id): Key) -> StoreResult<Option<Event>> {
        Ok(self
            .event(&event_id)
            .await?
            .filter(|e| to_storage(&e.event_datetime) == when))
    }

    /// The slot count may not drop below the live bookings: the edit is a compare-and-set
    /// on `booked_slots <= total_slots` (so a booking racing it cannot slip under) and on
    /// the time and category it moves the index rows from (so two edits racing cannot both
    /// move them). New index rows go in first; the old ones go once the edit applied.
    pub(super) async fn update_event(
        &self,
        mentor_id: &str,
        event_id: &str,
        draft: &EventDraft,
    ) -> StoreResult<(Event, Event)> {
        let when = to_storage(&draft.event_datetime);
        for _ in 0..SLOT_ROUNDS {
            let current = self.own_event(mentor_id, event_id).await?;
            current.check_slots(draft.total_slots)?;
            let old_when = to_storage(&current.event_datetime);
            let (old, new) = (
                Keys {
                    event_id,
                    mentor_id,
                    category: &current.category,
                    when: &old_when,
                },
                Keys {
                    event_id,
                    mentor_id,
                    category: &draft.category,
                    when: &when,
                },
            );
            let timed = old_when != when;
            let categorised = timed || old.category() != new.category();
            self.batch(new.inserts(timed, categorised)).await?;
            let applied = self
                .cas(
                    cql::EVENT_EDIT,
                    values![
                        &draft.title,
                        &draft.description,
                        &draft.category,
                        &when,
                        draft.duration,
                        draft.total_slots,
                        draft.price_per_lead.value(),
                        to_storage(&now()),
                        event_id,
                        draft.total_slots,
                        &old_when,
                        &current.category
                    ],
                )
                .await?;
            if !applied {
                // Seats booked meanwhile, or another edit moved it: decide again.
                back_off().await;
                continue;
            }
            self.batch(old.deletes(timed, categorised)).await?;
            // The leads' denormalised copies follow (one partition: the event's leads).
            let leads: Vec<(String,)> = self.rows(cql::LEADS_OF_EVENT, values![event_id]).await?;
            for (lead_id,) in leads {
                self.cas(cql::LEAD_EVENT_COPY, values![&draft.title, &when, &lead_id])
                    .await?;
            }
            let after = self.own_event(mentor_id, event_id).await?;
            return Ok((current, after));
        }
        Err(StoreError::Busy)
    }

    pub(super) async fn delete_event(&self, mentor_id: &str, event_id: &str) -> StoreResult<()> {
        let mut current = self.own_event(mentor_id, event_id).await?;
        let mut rounds = 0;
        loop {
            current.check_deletable()?;
            if self.cas(cql::EVENT_DELETE, values![event_id, 0i64]).await? {
                break;
            }
            // A booking came and went meanwhile: decide again on what is there now.
            rounds += 1;
            if rounds == SLOT_ROUNDS {
                return Err(StoreError::Busy);
            }
            back_off().await;
            current = self.own_event(mentor_id, event_id).await?;
        }
        let when = to_storage(&current.event_datetime);
        let keys = Keys {
            event_id,
            mentor_id,
            category: &current.category,
            when: &when,
        };
        self.batch(keys.deletes(true, true)).await?;
        self.count(&[(Stat::Events, -1)]).await;
        Ok(())
    }

    /// Takes one slot: a compare-and-set of `booked_slots` from the count read at
    /// SERIAL, guarded by `total_slots > booked`; a lost round reads again.
    pub(super) async fn take_slot(&self, event_id: &str) -> StoreResult<()> {
        for _ in 0..SLOT_ROUNDS {
            let (booked, total): (i64, i64) = self
                .one_serial(cql::EVENT_SLOTS, values![event_id])
                .await?
                .ok_or(StoreError::NotFound("event"))?;
            if booked >= total {
                return Err(Conflict::EventFull.into());
            }
            if self
                .cas(
                    cql::EVENT_TAKE_SLOT,
                    values![booked + 1, event_id, booked, booked],
                )
                .await?
            {
                return Ok(());
            }
            back_off().await;
        }
        Err(StoreError::Busy)
    }

    /// Gives a slot back, the same way.
    pub(super) async fn free_slot(&self, event_id: &str) -> StoreResult<()> {
        for _ in 0..SLOT_ROUNDS {
            let Some((booked, _total)) = self
                .one_serial::<(i64, i64)>(cql::EVENT_SLOTS, values![event_id])
                .await?
            else {
                return Ok(());
            };
            if booked <= 0 {
                return Ok(());
            }
            if self
                .cas(cql::EVENT_FREE_SLOT, values![booked - 1, event_id, booked])
                .await?
            {
                return Ok(());
            }
            back_off().await;
        }
        Err(StoreError::Busy)
    }
}
