//! This node's registry: which topics are live (and their actors), which sessions are open
//! (and whose they are), so publications reach subscribers and revocations reach sockets.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::bus::{Bus, BusError, Presence};
use crate::node::{CloseSockets, Deliver, NodeLink, ReportPresence, Selector};
use crate::sink::{SessionId, Sink, Stopper};
use crate::topic::{AddSubscriber, FanOut, RemoveSubscriber, TopicActor};
use actix::{Actor, ActorContext, Addr, Context, Handler, Message, MessageResult, ResponseFuture};
use leadbridge_protocol::topic::Topic;

struct LiveTopic {
    actor: Addr<TopicActor>,
    sessions: HashSet<SessionId>,
}

struct OpenSession {
    user_id: Option<String>,
    session_hash: Option<String>,
    stopper: Arc<Stopper>,
    topics: HashSet<Topic>,
}

pub struct Hub {
    topics: HashMap<Topic, LiveTopic>,
    sessions: HashMap<SessionId, OpenSession>,
    /// Told which topics are live here, so it receives them from other nodes.
    bus: Arc<dyn Bus>,
}

impl Hub {
    pub fn new(bus: Arc<dyn Bus>) -> Self {
        Self {
            topics: HashMap::new(),
            sessions: HashMap::new(),
            bus,
        }
    }
}

impl Actor for Hub {
    type Context = Context<Self>;
}

impl Hub {
    /// The hub as the bus reaches it.
    pub fn link(hub: &Addr<Hub>) -> NodeLink {
        NodeLink {
            deliver: hub.clone().recipient(),
            close: hub.clone().recipient(),
            report_presence: hub.clone().recipient(),
        }
    }

    /// Tells the other nodes, if any, who has sockets here.
    fn report(&self, change: Presence) {
        if let Some(peers) = self.bus.peers() {
            peers.presence(change);
        }
    }
}

/// A socket opened; `user_id`/`session_hash` are absent for anonymous sockets.
#[derive(Message)]
#[rtype(result = "()")]
pub struct Register {
    pub session: SessionId,
    pub user_id: Option<String>,
    pub session_hash: Option<String>,
    pub stopper: Arc<Stopper>,
}

/// A socket closed. Answers how many sockets that user still has open on this node.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct Unregister {
    pub session: SessionId,
}

/// Start delivering `topic` to the session's sink. Answered once registered here and with
/// the bus, so nothing published afterwards, on any node, can be missed.
#[derive(Message)]
#[rtype(result = "Result<(), BusError>")]
pub struct Subscribe {
    pub session: SessionId,
    pub topic: Topic,
    pub sink: Sink,
}

#[derive(Message)]
#[rtype(result = "()")]
pub struct Unsubscribe {
    pub session: SessionId,
    pub topic: Topic,
}

/// How many sockets a user has open on this node.
#[derive(Message)]
#[rtype(result = "usize")]
pub struct CountSockets {
    pub user_id: String,
}

impl Handler<CountSockets> for Hub {
    type Result = MessageResult<CountSockets>;

    fn handle(&mut self, msg: CountSockets, _: &mut Context<Self>) -> MessageResult<CountSockets> {
        MessageResult(
            self.sessions
                .values()
                .filter(|s| s.user_id.as_deref() == Some(msg.user_id.as_str()))
                .count(),
        )
    }
}

impl Hub {
    fn signed_in(&self, user_id: &str) -> usize {
        self.sessions
            .values()
            .filter(|s| s.user_id.as_deref() == Some(user_id))
            .count()
    }
}

impl Handler<ReportPresence> for Hub {
    type Result = ();

    fn handle(&mut self, _: ReportPresence, _: &mut Context<Self>) {
        let users = self
            .sessions
            .values()
            .filter_map(|s| s.user_id.clone())
            .collect();
        self.report(Presence::Exactly(users));
    }
}

impl Hub {
    fn drop_subscription(&mut self, session: SessionId, topic: &Topic) {
        let Some(live) = self.topics.get_mut(topic) else {
            return;
        };
        live.sessions.remove(&session);
        live.actor.do_send(RemoveSubscriber { session });
        if live.sessions.is_empty() {
            if let Some(live) = self.topics.remove(topic) {
                live.actor.do_send(StopTopic);
                self.bus.unwatch(topic);
            }
        }
    }
}

/// Tells an idle topic actor to stop.
#[derive(Message)]
#[rtype(result = "()")]
pub struct StopTopic;

impl Handler<StopTopic> for TopicActor {
    type Result = ();

    fn handle(&mut self, _: StopTopic, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<Register> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Register, _: &mut Context<Self>) {
        if let Some(user_id) = &msg.user_id {
            if self.signed_in(user_id) == 0 {
                self.report(Presence::Here(user_id.clone()));
            }
        }
        self.sessions.insert(
            msg.session,
            OpenSession {
                user_id: msg.user_id,
                session_hash: msg.session_hash,
                stopper: msg.stopper,
                topics: HashSet::new(),
            },
        );
    }
}

impl Handler<Unregister> for Hub {
    type Result = MessageResult<Unregister>;

    fn handle(&mut self, msg: Unregister, _: &mut Context<Self>) -> MessageResult<Unregister> {
        let Some(open) = self.sessions.remove(&msg.session) else {
            return MessageResult(0);
        };
        for topic in &open.topics {
            self.drop_subscription(msg.session, topic);
        }
        let remaining = open
            .user_id
            .as_deref()
            .map_or(0, |user| self.signed_in(user));
        if let (Some(user_id), 0) = (open.user_id, remaining) {
            self.report(Presence::Gone(user_id));
        }
        MessageResult(remaining)
    }
}

impl Handler<Subscribe> for Hub {
    type Result = ResponseFuture<Result<(), BusError>>;

    fn handle(&mut self, msg: Subscribe, _: &mut Context<Self>) -> Self::Result {
        let Some(open) = self.sessions.get_mut(&msg.session) else {
            return Box::pin(async { Err(BusError("the socket is closing".into())) });
        };
        open.topics.insert(msg.topic.clone());
        let live = self.topics.entry(msg.topic.clone()).or_insert_with(|| {
            let topic = msg.topic.clone();
            // Topic actors live on the hub's own arbiter.
            let actor = TopicActor::new(topic).start();
            LiveTopic {
                actor,
                sessions: HashSet::new(),
            }
        });
        live.sessions.insert(msg.session);
        live.actor.do_send(AddSubscriber {
            session: msg.session,
            sink: msg.sink,
        });
        // Asked on every subscribe, in the hub's order, so a watch never overtakes the
        // unwatch of a topic that emptied just before.
        self.bus.watch(&msg.topic)
    }
}

impl Handler<Unsubscribe> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Unsubscribe, _: &mut Context<Self>) {
        if let Some(open) = self.sessions.get_mut(&msg.session) {
            open.topics.remove(&msg.topic);
        }
        self.drop_subscription(msg.session, &msg.topic);
    }
}

impl Handler<Deliver> for Hub {
    type Result = ();

    fn handle(&mut self, msg: Deliver, _: &mut Context<Self>) {
        if let Some(live) = self.topics.get(&msg.0.topic) {
            live.actor.do_send(FanOut(Arc::new(msg.0)));
        }
    }
}

impl Handler<CloseSockets> for Hub {
    type Result = MessageResult<CloseSockets>;

    fn handle(&mut self, msg: CloseSockets, _: &mut Context<Self>) -> MessageResult<CloseSockets> {
        let mut closed = 0;
        for open in self.sessions.values() {
            let selected = match &msg.selector {
                Selector::Session(hash) => open.session_hash.as_ref() == Some(hash),
                Selector::User(user) => open.user_id.as_ref() == Some(user),
                Selector::All => true,
            };
            if selected {
                open.stopper.close(msg.code);
                closed += 1;
            }
        }
        MessageResult(closed)
    }
}
