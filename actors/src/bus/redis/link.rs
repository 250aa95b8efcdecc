//! The pub/sub link: one connection subscribed to the control channel and to the channels
//! of the topics this node has sockets for. It reconnects by itself, with backoff; while
//! it is down, watches fail at once and the node reports itself unavailable.

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::Duration;

use futures_util::StreamExt;
use leadbridge_protocol::topic::Topic;
use redis::aio::{PubSubSink, PubSubStream};
use tokio::sync::{mpsc, oneshot};

use super::inner::{
    channel, resume, unavailable, Command, Inner, Received, CONTROL, MAX_BACKOFF, TIMEOUT,
};
use crate::bus::interface::BusError;

/// How often an idle link is pinged, so a dead one is noticed without traffic.
const LINK_PING: Duration = Duration::from_secs(5);

/// One pub/sub call, bounded: a link that does not answer counts as lost.
async fn within<T>(
    call: impl std::future::Future<Output = redis::RedisResult<T>>,
) -> Result<T, BusError> {
    tokio::time::timeout(TIMEOUT, call)
        .await
        .map_err(|_| BusError("Redis did not answer in time".into()))?
        .map_err(unavailable)
}

async fn subscribe(
    client: &redis::Client,
    watched: &HashSet<Topic>,
) -> Result<(PubSubSink, PubSubStream), BusError> {
    let pubsub = within(client.get_async_pubsub()).await?;
    let (mut sink, stream) = pubsub.split();
    within(sink.subscribe(CONTROL)).await?;
    if !watched.is_empty() {
        let channels: Vec<String> = watched.iter().map(channel).collect();
        within(sink.subscribe(channels)).await?;
    }
    Ok((sink, stream))
}

/// Serves watch requests and hands publications to the hub until the link fails. The
/// node counts as linked once its own `resumed` announcement comes back on the stream:
/// every announcement made before it has then been read, so the epoch it learnt is the
/// current one.
async fn serve(
    inner: &Weak<Inner>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
    watched: &mut HashSet<Topic>,
    (sink, stream): &mut (PubSubSink, PubSubStream),
    first: &mut Option<oneshot::Sender<Result<(), BusError>>>,
) -> Result<(), BusError> {
    let mut ping = tokio::time::interval(LINK_PING);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let echo_deadline = tokio::time::sleep(TIMEOUT);
    tokio::pin!(echo_deadline);
    let mut echoed = false;
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                // The bus was dropped: nothing left to serve.
                None => return Ok(()),
                Some(Command::Watch(topic, reply)) => {
                    if watched.insert(topic.clone()) {
                        // A failed SUBSCRIBE leaves the topic watched: the next link
                        // subscribes it (or the session's unwatch removes it).
                        if let Err(e) = within(sink.subscribe(channel(&topic))).await {
                            let _ = reply.send(Err(BusError(e.0.clone())));
                            return Err(e);
                        }
                    }
                    let _ = reply.send(Ok(()));
                }
                Some(Command::Unwatch(topic)) => {
                    if watched.remove(&topic) {
                        within(sink.unsubscribe(channel(&topic))).await?;
                    }
                }
            },
            message = stream.next() => {
                let (Some(message), Some(bus)) = (message, inner.upgrade()) else {
                    return Err(BusError("the pub/sub connection closed".into()));
                };
                if bus.receive(message) == Received::OwnEcho && !echoed {
                    echoed = true;
                    bus.linked.store(true, Ordering::SeqCst);
                    match first.take() {
                        Some(first) => {
                            let _ = first.send(Ok(()));
                        }
                        None => tracing::info!("realtime bus link to Redis restored"),
                    }
                }
            }
            _ = &mut echo_deadline, if !echoed => {
                return Err(BusError("the link's own announcement never came back".into()));
            }
            _ = ping.tick() => {
                within(sink.ping::<redis::Value>()).await?;
            }
        }
    }
}

/// Keeps the link up for as long as the bus lives.
pub async fn run(
    inner: Weak<Inner>,
    client: redis::Client,
    mut commands: mpsc::UnboundedReceiver<Command>,
    first: oneshot::Sender<Result<(), BusError>>,
) {
    let mut first = Some(first);
    let mut watched: HashSet<Topic> = HashSet::new();
    let mut backoff = Duration::from_millis(100);
    loop {
        let attempt = match subscribe(&client, &watched).await {
            Ok(link) => match inner.upgrade() {
                Some(bus) => resume(&bus).await.map(|()| link),
                None => return,
            },
            Err(e) => Err(e),
        };
        let failed = match attempt {
            Ok(mut link) => {
                backoff = Duration::from_millis(100);
                let served =
                    serve(&inner, &mut commands, &mut watched, &mut link, &mut first).await;
                let Some(bus) = inner.upgrade() else { return };
                let Err(e) = served else { return };
                if bus.linked.swap(false, Ordering::SeqCst) {
                    tracing::warn!(error = %e, "realtime bus lost its link to Redis; closing sockets, retrying");
                    bus.interrupt();
                }
                e
            }
            Err(e) => e,
        };
        if let Some(first) = first.take() {
            let _ = first.send(Err(failed));
            return;
        }
        tracing::debug!(error = %failed, "realtime bus: Redis still unreachable");
        // Unlinked until the next attempt: watches fail at once (their sockets are told the
        // topic is unavailable), and are resubscribed with the link.
        let retry = tokio::time::sleep(backoff);
        tokio::pin!(retry);
        backoff = (backoff * 2).min(MAX_BACKOFF);
        loop {
            tokio::select! {
                _ = &mut retry => break,
                command = commands.recv() => match command {
                    None => return,
                    Some(Command::Watch(topic, reply)) => {
                        watched.insert(topic);
                        let _ = reply.send(Err(BusError("no link to Redis".into())));
                    }
                    Some(Command::Unwatch(topic)) => {
                        watched.remove(&topic);
                    }
                },
            }
        }
    }
}
