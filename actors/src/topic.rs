//! One actor per live topic: fans each publication out to the topic's sessions.

use std::collections::HashMap;
use std::sync::Arc;

use actix::{Actor, Context, Handler, Message};
use leadbridge_protocol::topic::Topic;
use tokio::sync::mpsc::error::TrySendError;

use crate::bus::Publication;
use crate::session::{SessionId, Sink};

pub struct TopicActor {
    topic: Topic,
    subscribers: HashMap<SessionId, Sink>,
}

impl TopicActor {
    pub fn new(topic: Topic) -> Self {
        Self {
            topic,
            subscribers: HashMap::new(),
        }
    }
}

impl Actor for TopicActor {
    type Context = Context<Self>;

    fn started(&mut self, _: &mut Self::Context) {
        tracing::debug!(topic = %self.topic, "topic live");
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        tracing::debug!(topic = %self.topic, "topic idle, stopped");
    }
}

/// Adds a session to the topic.
#[derive(Message)]
#[rtype(result = "()")]
pub struct AddSubscriber {
    pub session: SessionId,
    pub sink: Sink,
}

/// Removes a session from the topic.
#[derive(Message)]
#[rtype(result = "()")]
pub struct RemoveSubscriber {
    pub session: SessionId,
}

/// A publication of this topic, to fan out.
#[derive(Message)]
#[rtype(result = "()")]
pub struct FanOut(pub Arc<Publication>);

impl Handler<AddSubscriber> for TopicActor {
    type Result = ();

    fn handle(&mut self, msg: AddSubscriber, _: &mut Context<Self>) {
        self.subscribers.insert(msg.session, msg.sink);
    }
}

impl Handler<RemoveSubscriber> for TopicActor {
    type Result = ();

    fn handle(&mut self, msg: RemoveSubscriber, _: &mut Context<Self>) {
        self.subscribers.remove(&msg.session);
    }
}

impl Handler<FanOut> for TopicActor {
    type Result = ();

    /// No await and no allocation per subscriber: each gets a clone of one `Arc`. A session
    /// whose queue is full is told it is too slow (it closes with 1013) instead of the
    /// queue growing.
    fn handle(&mut self, msg: FanOut, _: &mut Context<Self>) {
        self.subscribers
            .retain(|_, sink| match sink.queue.try_send(Arc::clone(&msg.0)) {
                Ok(()) => true,
                Err(TrySendError::Full(_)) => {
                    sink.too_slow.notify_one();
                    false
                }
                Err(TrySendError::Closed(_)) => false,
            });
    }
}
