//! Which signed-in users have sockets on which node, kept in Redis so a node can tell
//! whether an admin who left it is still connected elsewhere. Changes arrive in the hub's
//! order and are applied one at a time, so an open quickly followed by a close never lands
//! the other way round.

use std::sync::Weak;

use tokio::sync::mpsc;

use super::inner::{unavailable, Inner, NODES, PRESENCE};
use crate::bus::interface::{BusError, Presence};

/// How long a node counts as alive after its last refresh (housekeeping, every few s).
pub const PRESENCE_TTL_SECONDS: i64 = 15;

/// Writes one change. `Exactly` replaces the node's set and marks the node alive.
async fn record(bus: &Inner, change: Presence) -> Result<(), BusError> {
    let key = format!("{PRESENCE}{}", bus.node);
    let mut pipe = redis::pipe();
    match change {
        Presence::Here(user_id) => {
            pipe.sadd(&key, user_id)
                .ignore()
                .expire(&key, PRESENCE_TTL_SECONDS)
                .ignore();
        }
        Presence::Gone(user_id) => {
            pipe.srem(&key, user_id).ignore();
        }
        Presence::Exactly(users) => {
            pipe.atomic()
                .del(&key)
                .ignore()
                // A marker member, so a node without users still shows as alive.
                .sadd(&key, "*")
                .ignore();
            if !users.is_empty() {
                pipe.sadd(&key, users.into_iter().collect::<Vec<_>>())
                    .ignore();
            }
            pipe.expire(&key, PRESENCE_TTL_SECONDS)
                .ignore()
                .sadd(NODES, &bus.node)
                .ignore();
        }
    }
    pipe.query_async::<()>(&mut bus.connection())
        .await
        .map_err(unavailable)
}

/// Applies changes for as long as the bus lives.
pub async fn run(inner: Weak<Inner>, mut changes: mpsc::UnboundedReceiver<Presence>) {
    while let Some(change) = changes.recv().await {
        let Some(bus) = inner.upgrade() else { return };
        if let Err(e) = record(&bus, change).await {
            // The next refresh (`Exactly`) rewrites this node's presence from its sockets.
            tracing::debug!(error = %e, "presence not recorded");
        }
    }
}
