//! One actor per live topic: fans each publication out to the topic's sessions.

use std::collections::HashMap;
use std::sync::Arc;

use actix::{Actor, Context, Handler, Message};
use leadbridge_protocol::close;
use leadbridge_protocol::topic::Topic;
use tokio::sync::mpsc::error::TrySendError;

use crate::publication::Publication;
use crate::sink::{SessionId, Sink};

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
                    sink.stopper.close(close::TRY_AGAIN_LATER);
                    false
                }
                Err(TrySendError::Closed(_)) => false,
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sink::Stopper;
    use tokio::sync::mpsc;

    fn publication(offset: u64) -> Arc<Publication> {
        Arc::new(Publication {
            topic: "event:e".parse().unwrap(),
            offset,
            frame: format!("frame {offset}").into(),
        })
    }

    #[actix::test]
    async fn a_session_whose_queue_is_full_is_told_it_is_too_slow_and_dropped() {
        let topic = TopicActor::new("event:e".parse().unwrap()).start();
        let (queue, mut received) = mpsc::channel(1);
        let stopper = Arc::new(Stopper::default());
        let sink = Sink {
            queue,
            stopper: Arc::clone(&stopper),
        };
        topic
            .send(AddSubscriber { session: 1, sink })
            .await
            .unwrap();
        topic.send(FanOut(publication(1))).await.unwrap();
        topic.send(FanOut(publication(2))).await.unwrap();
        let code = tokio::time::timeout(std::time::Duration::from_secs(1), stopper.stopped())
            .await
            .expect("the overflow is signalled");
        assert_eq!(code, close::TRY_AGAIN_LATER);
        assert_eq!(received.recv().await.unwrap().offset, 1);
        topic.send(FanOut(publication(3))).await.unwrap();
        assert!(
            received.try_recv().is_err(),
            "a dropped session gets nothing more"
        );
    }

    #[actix::test]
    async fn every_subscriber_gets_the_same_shared_frame() {
        let topic = TopicActor::new("event:e".parse().unwrap()).start();
        let mut receivers = Vec::new();
        for session in 0..3 {
            let (queue, rx) = mpsc::channel(4);
            let sink = Sink {
                queue,
                stopper: Arc::default(),
            };
            topic.send(AddSubscriber { session, sink }).await.unwrap();
            receivers.push(rx);
        }
        let published = publication(7);
        topic.send(FanOut(Arc::clone(&published))).await.unwrap();
        for rx in &mut receivers {
            let got = rx.recv().await.unwrap();
            assert!(Arc::ptr_eq(&got, &published), "no copy per subscriber");
        }
    }
}
