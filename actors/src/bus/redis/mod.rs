//! The bus between nodes. Redis keeps each topic's offset, epoch and history, changed
//! together in one Lua script per operation; live publications travel on pub/sub, one
//! channel per topic, which a node subscribes to only while it has watchers.
//!
//! Pub/sub itself is at-most-once: a node that loses its link may have missed messages.
//! So losing the link closes this node's sockets (1012: reconnect with `since`), and a
//! publish that failed changes the epoch before anyone can recover across the gap.

mod inner;
mod link;
mod presence;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;
use leadbridge_protocol::client::Since;
use leadbridge_protocol::event::Event;
use leadbridge_protocol::topic::Topic;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{mpsc, oneshot};

use self::inner::{
    entry, history_key, offset_key, unavailable, Command, Control, Inner, Scripts, CONTROL,
    EPOCH_KEY, MAX_BACKOFF, NODES, PRESENCE, TIMEOUT,
};
use super::interface::{
    new_epoch, Bus, BusError, History, HistoryLimits, Peers, Position, Presence, Ready,
};
use crate::node::{NodeLink, ReportPresence, Selector};
use crate::publication::Publication;

pub struct RedisBus {
    inner: Arc<Inner>,
}

impl RedisBus {
    /// Connects to Redis and starts the pub/sub link; fails if Redis cannot be reached now.
    pub async fn connect(url: &str, limits: HistoryLimits) -> Result<Self, BusError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(TIMEOUT)
            .set_response_timeout(TIMEOUT)
            .set_number_of_retries(1)
            .set_max_delay(MAX_BACKOFF.as_millis() as u64);
        let connection = tokio::time::timeout(
            TIMEOUT,
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| BusError(format!("no answer from Redis at {url}")))?
        .map_err(unavailable)?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let (presence, changes) = mpsc::unbounded_channel();
        let inner = Arc::new(Inner {
            node: format!("node-{}", new_epoch()),
            limits,
            connection,
            scripts: Scripts::new(),
            epoch: Mutex::new(None),
            linked: AtomicBool::new(false),
            gap: Mutex::new(None),
            here: OnceLock::new(),
            commands,
            presence,
        });
        tokio::spawn(presence::run(Arc::downgrade(&inner), changes));
        let (first, linked) = oneshot::channel();
        tokio::spawn(link::run(Arc::downgrade(&inner), client, receiver, first));
        linked
            .await
            .map_err(|_| BusError("the pub/sub link stopped".into()))??;
        let _ = inner.presence.send(Presence::Exactly(HashSet::new()));
        Ok(Self { inner })
    }
}

#[async_trait]
impl Bus for RedisBus {
    async fn publish(&self, topic: &Topic, event: Event) -> Result<Position, BusError> {
        let result = self.inner.publish(topic, &event).await;
        // Whether or not the script ran (a timeout may come after it did), the history
        // may lack this message.
        if result.is_err() {
            self.inner.note_gap();
        }
        result
    }

    async fn position(&self, topic: &Topic) -> Result<Position, BusError> {
        let bus = &self.inner;
        bus.heal().await?;
        let (epoch, offset): (String, u64) = bus
            .scripts
            .position
            .key(EPOCH_KEY)
            .key(offset_key(topic))
            .arg(new_epoch())
            .arg(CONTROL)
            .invoke_async(&mut bus.connection())
            .await
            .map_err(unavailable)?;
        Ok(Position { offset, epoch })
    }

    async fn since(&self, topic: &Topic, since: &Since) -> Result<History, BusError> {
        let bus = &self.inner;
        bus.heal().await?;
        let (_epoch, _last, covered, entries): (String, u64, i64, Vec<String>) = bus
            .scripts
            .since
            .key(EPOCH_KEY)
            .key(offset_key(topic))
            .key(history_key(topic))
            .arg(new_epoch())
            .arg(CONTROL)
            .arg(&since.epoch)
            .arg(since.offset)
            .arg(bus.limits.max_age.as_millis() as u64)
            .invoke_async(&mut bus.connection())
            .await
            .map_err(unavailable)?;
        if covered == 0 {
            return Ok(History::Lost);
        }
        let replay: Option<Vec<Publication>> = entries.iter().map(|e| entry(topic, e)).collect();
        // An unreadable entry cannot be replayed: a snapshot is the honest answer.
        Ok(replay.map_or(History::Lost, History::Complete))
    }

    fn attach(&self, node: NodeLink) {
        let _ = self.inner.here.set(node);
    }

    fn watch(&self, topic: &Topic) -> Ready {
        let (reply, answer) = oneshot::channel();
        let sent = self
            .inner
            .commands
            .send(Command::Watch(topic.clone(), reply));
        Box::pin(async move {
            sent.map_err(|_| BusError("the pub/sub link stopped".into()))?;
            answer
                .await
                .map_err(|_| BusError("the pub/sub link stopped".into()))?
        })
    }

    fn unwatch(&self, topic: &Topic) {
        let _ = self.inner.commands.send(Command::Unwatch(topic.clone()));
    }

    fn peers(&self) -> Option<&dyn Peers> {
        Some(self)
    }

    fn available(&self) -> bool {
        self.inner.linked.load(Ordering::SeqCst)
    }

    async fn housekeeping(&self) {
        // History trims itself on every publish and expires when a topic goes quiet. A gap
        // left by a failed publish is closed here even if nothing else touches Redis.
        if let Err(e) = self.inner.heal().await {
            tracing::debug!(error = %e, "epoch not moved yet");
        }
        // The hub answers with this node's users, in order with arrivals and departures.
        if let Some(node) = self.inner.here() {
            node.report_presence.do_send(ReportPresence);
        }
    }
}

#[async_trait]
impl Peers for RedisBus {
    async fn close_elsewhere(&self, selector: &Selector, code: u16) -> Result<(), BusError> {
        let message = serde_json::to_string(&Control::Close {
            from: self.inner.node.clone(),
            selector: selector.clone(),
            code,
        })
        .map_err(unavailable)?;
        redis::cmd("PUBLISH")
            .arg(CONTROL)
            .arg(message)
            .query_async::<()>(&mut self.inner.connection())
            .await
            .map_err(unavailable)
    }

    fn presence(&self, change: Presence) {
        let _ = self.inner.presence.send(change);
    }

    async fn connected_elsewhere(&self, user_id: &str) -> Result<bool, BusError> {
        let bus = &self.inner;
        let found: i64 = bus
            .scripts
            .elsewhere
            .key(NODES)
            .arg(&bus.node)
            .arg(user_id)
            .arg(PRESENCE)
            .invoke_async(&mut bus.connection())
            .await
            .map_err(unavailable)?;
        Ok(found == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_publications_parse_into_frames_or_nothing() {
        let topic: Topic = "event:e1".parse().unwrap();
        let json =
            r#"{"type":"slots_changed","event_id":"e1","available_slots":3,"total_slots":5}"#;
        let replayed = entry(&topic, &format!("7 1732530000000 {json}")).unwrap();
        assert_eq!(replayed.offset, 7);
        let frame: serde_json::Value = serde_json::from_str(&replayed.frame).unwrap();
        assert_eq!(frame["type"], "message");
        assert_eq!(frame["offset"], 7);
        assert_eq!(frame["topic"], "event:e1");
        assert_eq!(frame["event"]["available_slots"], 3);
        assert!(entry(&topic, "7 1732530000000 {not json").is_none());
        assert!(entry(&topic, "seven 1 {}").is_none());
        assert!(entry(&topic, "7").is_none());
    }

    #[test]
    fn control_messages_match_what_the_scripts_publish() {
        // The scripts announce a new epoch with cjson.encode({epoch = ...}).
        let parsed: Control = serde_json::from_str(r#"{"epoch":"abc123"}"#).unwrap();
        assert!(matches!(parsed, Control::Epoch(e) if e == "abc123"));
        let close = Control::Close {
            from: "node-a".into(),
            selector: Selector::Session("hash".into()),
            code: 4001,
        };
        let text = serde_json::to_string(&close).unwrap();
        let back: Control = serde_json::from_str(&text).unwrap();
        assert!(matches!(
            back,
            Control::Close { selector: Selector::Session(h), code: 4001, .. } if h == "hash"
        ));
    }
}
