//! Events: the row (slot count changed only by compare-and-set), its listings by mentor,
//! by day and by category and day, and the search the tables cannot answer.

use std::collections::HashMap;

use super::admin::Stat;
use super::exec::{back_off, Values};
use super::listing::{day, Key, Order, Walk};
use super::moves::{Owed, Pending};
use super::rows::{self, EventRow};
use super::{cql, ScyllaStore};
use crate::domain::change::Change;
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
            // Written at the event's own time: of two events, the later one's day stays.
            let at = rows::ts(self.when).map_or(0, |t| t.timestamp_micros());
            rows.push((
                cql::CATEGORY_DAY_ADD,
                values!["events", &category, self.category, &day, at],
            ));
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
    /// move them). New index rows go in first; the old ones go once the edit applied, with
    /// the rest it implies (`moves.rs`). Answers the event before and after.
    /// From the one `event_categories` partition (a row per category): those whose latest
    /// day is `from`'s or later.
    pub(super) async fn event_categories(&self, from: Timestamp) -> StoreResult<Vec<String>> {
        let from_day = day(&to_storage(&from));
        let rows: Vec<(String, String, String)> =
            self.rows(cql::CATEGORY_DAYS, values!["events"]).await?;
        Ok(rows
            .into_iter()
            .filter(|(_, last_day, _)| *last_day >= from_day)
            .map(|(_, _, display)| display)
            .collect())
    }

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
            // Read after the event: an edit still being carried out may yet remove index
            // rows this one would add (moving the event back to where it was).
            if !self.finish_abandoned(&format!("event:{event_id}")).await? {
                back_off().await;
                continue;
            }
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
            let at = rows::ts(&to_storage(&now()))?;
            let after = Event {
                title: draft.title.clone(),
                description: draft.description.clone(),
                category: draft.category.clone(),
                event_datetime: rows::ts(&when)?,
                duration: draft.duration,
                total_slots: draft.total_slots,
                price_per_lead: draft.price_per_lead,
                ..current.clone()
            };
            let edited = Change::EventEdited {
                before: current.clone(),
                event: after,
                // Read as the edit is finished, with the seat count.
                learners: Vec::new(),
            };
            let pending = Pending::new(edited, Owed::EventEdited, at);
            let sealed = self.begin(&pending).await?;
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
                        to_storage(&at),
                        &pending.id,
                        sealed,
                        event_id,
                        draft.total_slots,
                        &old_when,
                        &current.category
                    ],
                )
                .await?;
            if !applied {
                // Seats booked meanwhile, another edit moved it, or one is still in flight:
                // decide again.
                self.abandon(&pending).await;
                self.finish_abandoned(&format!("event:{event_id}")).await?;
                back_off().await;
                continue;
            }
            self.finish_written(&pending).await;
            let after = self.own_event(mentor_id, event_id).await?;
            return Ok((current, after));
        }
        Err(StoreError::Busy)
    }

    /// What an edit implies besides the event's row (see `moves.rs`); each step may be
    /// taken again. `event` is the event as the edit left it; its seat count is read now,
    /// so the announcement does not carry one older than the bookings since. Answers the
    /// learners booked on it now, who are told.
    pub(super) async fn carry_out_event_edit(
        &self,
        before: &Event,
        event: &mut Event,
    ) -> StoreResult<Vec<String>> {
        let (old_when, when) = (
            to_storage(&before.event_datetime),
            to_storage(&event.event_datetime),
        );
        let old = Keys {
            event_id: &event.event_id,
            mentor_id: &event.mentor_id,
            category: &before.category,
            when: &old_when,
        };
        let timed = old_when != when;
        let categorised = timed || old.category() != event.category.to_ascii_lowercase();
        self.batch(old.deletes(timed, categorised)).await?;
        // The leads' denormalised copies follow (one partition: the event's leads).
        let leads: Vec<(String,)> = self
            .rows(cql::LEADS_OF_EVENT, values![&event.event_id])
            .await?;
        for (lead_id,) in leads {
            self.cas(cql::LEAD_EVENT_COPY, values![&event.title, &when, &lead_id])
                .await?;
        }
        if let Some((booked, _total)) = self
            .one_serial::<(i64, i64)>(cql::EVENT_SLOTS, values![&event.event_id])
            .await?
        {
            event.booked_slots = booked;
        }
        let learners: Vec<(String,)> = self
            .rows(cql::BOOKINGS_OF_EVENT, values![&event.event_id])
            .await?;
        Ok(learners.into_iter().map(|(user_id,)| user_id).collect())
    }

    pub(super) async fn delete_event(&self, mentor_id: &str, event_id: &str) -> StoreResult<()> {
        let mut rounds = 0;
        loop {
            let current = self.own_event(mentor_id, event_id).await?;
            current.check_deletable()?;
            let deleted = Change::EventDeleted {
                event_id: event_id.to_string(),
                mentor_id: mentor_id.to_string(),
            };
            let owed = Owed::EventDeleted {
                category: current.category.clone(),
                when: to_storage(&current.event_datetime),
            };
            let when = to_storage(&current.event_datetime);
            let pending = Pending::new(deleted, owed, now());
            self.begin(&pending).await?;
            // On the time and category read, whose index rows the deletion removes.
            let delete = values![event_id, 0i64, when, &current.category];
            if self.cas(cql::EVENT_DELETE, delete).await? {
                self.finish_written(&pending).await;
                return Ok(());
            }
            // A booking came and went meanwhile, or an edit is still in flight: decide
            // again on what is there now.
            self.abandon(&pending).await;
            self.finish_abandoned(&format!("event:{event_id}")).await?;
            rounds += 1;
            if rounds == SLOT_ROUNDS {
                return Err(StoreError::Busy);
            }
            back_off().await;
        }
    }

    /// What a deletion implies besides the event's row: its index rows go. `keys`: the
    /// event, its mentor, and the category and time it was listed under.
    pub(super) async fn carry_out_event_deletion(
        &self,
        (event_id, mentor_id, category, when): (&str, &str, &str, &str),
        by_writer: bool,
    ) -> StoreResult<()> {
        let keys = Keys {
            event_id,
            mentor_id,
            category,
            when,
        };
        self.batch(keys.deletes(true, true)).await?;
        if by_writer {
            self.count(&[(Stat::Events, -1)]).await;
        }
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

    /// Gives `lead_id`'s slot back, the same way, once however often it is asked (a write
    /// finished again after a crash asks again).
    pub(super) async fn free_slot(&self, event_id: &str, lead_id: &str) -> StoreResult<()> {
        for _ in 0..SLOT_ROUNDS {
            let Some((booked, returned)) = self
                .one_serial::<(i64, Option<HashMap<String, String>>)>(
                    cql::EVENT_SLOT_RETURNS,
                    values![event_id],
                )
                .await?
            else {
                return Ok(());
            };
            if booked <= 0 || returned.is_some_and(|r| r.contains_key(lead_id)) {
                return Ok(());
            }
            let at = to_storage(&now());
            if self
                .cas(
                    cql::EVENT_FREE_SLOT,
                    values![booked - 1, lead_id, at, event_id, booked, lead_id],
                )
                .await?
            {
                return Ok(());
            }
            back_off().await;
        }
        Err(StoreError::Busy)
    }
}
