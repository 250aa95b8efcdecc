//! The single-node bus: history in memory, delivery straight to the local hub.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use async_trait::async_trait;
use leadbridge_protocol::client::Since;
use leadbridge_protocol::event::Event;
use leadbridge_protocol::server::ServerMessage;
use leadbridge_protocol::topic::Topic;

use super::interface::{new_epoch, Bus, BusError, History, HistoryLimits, Position};
use crate::node::{Deliver, NodeLink};
use crate::publication::Publication;

struct Log {
    /// Offset of the latest message; kept even when the entries are trimmed, so offsets are
    /// never reused within an epoch.
    last: u64,
    entries: VecDeque<(Instant, Publication)>,
}

/// The single-node bus: history in memory, delivery straight to the local hub. Its epoch is
/// new each process start, so clients of a previous run get a fresh snapshot.
pub struct MemoryBus {
    epoch: String,
    limits: HistoryLimits,
    logs: Mutex<HashMap<Topic, Log>>,
    node: OnceLock<NodeLink>,
}

impl MemoryBus {
    pub fn new(limits: HistoryLimits) -> Self {
        Self {
            epoch: new_epoch(),
            limits,
            logs: Mutex::new(HashMap::new()),
            node: OnceLock::new(),
        }
    }

    fn logs(&self) -> Result<std::sync::MutexGuard<'_, HashMap<Topic, Log>>, BusError> {
        self.logs
            .lock()
            .map_err(|_| BusError("history lock poisoned".into()))
    }

    fn trim(&self, log: &mut Log, now: Instant) {
        while log.entries.len() > self.limits.max_messages
            || log
                .entries
                .front()
                .is_some_and(|(at, _)| now.duration_since(*at) > self.limits.max_age)
        {
            log.entries.pop_front();
        }
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, topic: &Topic, event: Event) -> Result<Position, BusError> {
        let now = Instant::now();
        let mut logs = self.logs()?;
        let log = logs.entry(topic.clone()).or_insert_with(|| Log {
            last: 0,
            entries: VecDeque::new(),
        });
        log.last += 1;
        let frame = ServerMessage::Message {
            topic: topic.to_string(),
            offset: log.last,
            event,
        }
        .to_text();
        let publication = Publication {
            topic: topic.clone(),
            offset: log.last,
            frame: frame.into(),
        };
        log.entries.push_back((now, publication.clone()));
        self.trim(log, now);
        // Delivered under the lock, so the hub sees each topic's offsets in order.
        if let Some(node) = self.node.get() {
            node.deliver.do_send(Deliver(publication));
        }
        Ok(Position {
            offset: log.last,
            epoch: self.epoch.clone(),
        })
    }

    async fn position(&self, topic: &Topic) -> Result<Position, BusError> {
        let logs = self.logs()?;
        Ok(Position {
            offset: logs.get(topic).map_or(0, |l| l.last),
            epoch: self.epoch.clone(),
        })
    }

    async fn since(&self, topic: &Topic, since: &Since) -> Result<History, BusError> {
        if since.epoch != self.epoch {
            return Ok(History::Lost);
        }
        let mut logs = self.logs()?;
        let Some(log) = logs.get_mut(topic) else {
            return Ok(if since.offset == 0 {
                History::Complete(Vec::new())
            } else {
                History::Lost
            });
        };
        self.trim(log, Instant::now());
        if since.offset > log.last {
            return Ok(History::Lost);
        }
        if since.offset == log.last {
            return Ok(History::Complete(Vec::new()));
        }
        // Every offset after the client's must still be held.
        let oldest = log.entries.front().map(|(_, p)| p.offset);
        if oldest.is_none_or(|oldest| oldest > since.offset + 1) {
            return Ok(History::Lost);
        }
        Ok(History::Complete(
            log.entries
                .iter()
                .filter(|(_, p)| p.offset > since.offset)
                .map(|(_, p)| p.clone())
                .collect(),
        ))
    }

    fn attach(&self, node: NodeLink) {
        let _ = self.node.set(node);
    }

    async fn housekeeping(&self) {
        let now = Instant::now();
        if let Ok(mut logs) = self.logs() {
            for log in logs.values_mut() {
                self.trim(log, now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use leadbridge_protocol::event::SlotsChanged;
    use std::time::Duration;

    fn slots(n: i64) -> Event {
        Event::SlotsChanged(SlotsChanged {
            event_id: "e".into(),
            available_slots: n,
            total_slots: 10,
        })
    }

    fn offsets(history: History) -> Option<Vec<u64>> {
        match history {
            History::Complete(list) => Some(list.iter().map(|p| p.offset).collect()),
            History::Lost => None,
        }
    }

    #[tokio::test]
    async fn offsets_grow_and_history_recovers_exactly_what_was_missed() {
        let bus = MemoryBus::new(HistoryLimits::default());
        let topic: Topic = "event:e".parse().unwrap();
        for n in 0..5 {
            bus.publish(&topic, slots(n)).await.unwrap();
        }
        let position = bus.position(&topic).await.unwrap();
        assert_eq!(position.offset, 5);
        let since = |offset| Since {
            offset,
            epoch: position.epoch.clone(),
        };
        assert_eq!(
            offsets(bus.since(&topic, &since(2)).await.unwrap()),
            Some(vec![3, 4, 5])
        );
        assert_eq!(
            offsets(bus.since(&topic, &since(5)).await.unwrap()),
            Some(vec![])
        );
        assert_eq!(
            offsets(bus.since(&topic, &since(9)).await.unwrap()),
            None,
            "from the future"
        );
        let other = Since {
            offset: 2,
            epoch: "old".into(),
        };
        assert_eq!(
            offsets(bus.since(&topic, &other).await.unwrap()),
            None,
            "another epoch"
        );
        let frame = match bus.since(&topic, &since(4)).await.unwrap() {
            History::Complete(list) => list[0].frame.to_string(),
            History::Lost => unreachable!(),
        };
        assert!(
            frame.contains(r#""offset":5"#) && frame.contains(r#""type":"message""#),
            "{frame}"
        );
    }

    #[tokio::test]
    async fn trimmed_history_reports_lost_but_offsets_are_never_reused() {
        let bus = MemoryBus::new(HistoryLimits {
            max_messages: 2,
            max_age: Duration::from_secs(60),
        });
        let topic: Topic = "event:e".parse().unwrap();
        for n in 0..5 {
            bus.publish(&topic, slots(n)).await.unwrap();
        }
        let epoch = bus.position(&topic).await.unwrap().epoch;
        let since = |offset| Since {
            offset,
            epoch: epoch.clone(),
        };
        assert_eq!(
            offsets(bus.since(&topic, &since(3)).await.unwrap()),
            Some(vec![4, 5])
        );
        assert_eq!(offsets(bus.since(&topic, &since(2)).await.unwrap()), None);
        assert_eq!(bus.publish(&topic, slots(9)).await.unwrap().offset, 6);
        tokio::time::sleep(Duration::from_millis(5)).await;
        let aged = MemoryBus::new(HistoryLimits {
            max_messages: 10,
            max_age: Duration::from_millis(1),
        });
        aged.publish(&topic, slots(1)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        aged.housekeeping().await;
        assert_eq!(
            aged.logs().unwrap()[&topic].entries.len(),
            0,
            "quiet topics are trimmed too"
        );
        assert_eq!(
            aged.position(&topic).await.unwrap().offset,
            1,
            "the offset survives"
        );
        let fresh: Topic = "event:new".parse().unwrap();
        assert_eq!(
            offsets(bus.since(&fresh, &since(0)).await.unwrap()),
            Some(vec![])
        );
    }
}
