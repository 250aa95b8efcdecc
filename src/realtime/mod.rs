//! The server's side of realtime: starting the hub, announcing the changes the relay
//! hands it, reading snapshots, and closing sockets whose access ended.

mod announce;
mod gatekeeper;
mod payloads;
mod snapshots;

use std::sync::Arc;

use actix::{Actor, Addr};
use leadbridge_actors::bus::{Bus, BusError, HistoryLimits, MemoryBus, RedisBus};
use leadbridge_actors::hub::Hub;
use leadbridge_actors::node::{CloseSockets, Selector};
use leadbridge_actors::protocol::event::Event;
use leadbridge_actors::protocol::topic::Topic;
use leadbridge_actors::session::{Limits, Services};

use crate::store::Store;

/// How often a close other nodes did not get is sent again (for a little over a minute).
const CLOSE_RETRIES: usize = 9;

/// The node's realtime services. Cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    pub services: Services,
    /// Read for the state to announce (slot counts).
    store: Arc<dyn Store>,
    system: actix::System,
}

impl Realtime {
    /// Starts the bus (Redis when `redis_url` is given, else in-process) and the hub (and
    /// with it every topic actor) on a dedicated actix system thread, so it runs the same
    /// under `main` and under a plain tokio test runtime.
    pub async fn start(
        store: Arc<dyn Store>,
        clock: Arc<dyn crate::clock::Clock>,
        sessions: crate::auth::SessionPolicy,
        limits: Limits,
        history: HistoryLimits,
        redis_url: Option<&str>,
    ) -> anyhow::Result<Self> {
        let bus: Arc<dyn Bus> = match redis_url {
            Some(url) => Arc::new(
                RedisBus::connect(url, history)
                    .await
                    .map_err(|e| anyhow::anyhow!("LEADBRIDGE_REDIS_URL: {e}"))?,
            ),
            None => Arc::new(MemoryBus::new(history)),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let hub_bus = Arc::clone(&bus);
        std::thread::Builder::new()
            .name("leadbridge-hub".into())
            .spawn(move || {
                let system = actix::System::new();
                system.block_on(async {
                    let _ = tx.send((Hub::new(hub_bus).start(), actix::System::current()));
                });
                let _ = system.run();
            })?;
        let (hub, system): (Addr<Hub>, actix::System) = rx.recv()?;
        bus.attach(Hub::link(&hub));
        Ok(Self {
            services: Services {
                hub,
                bus,
                snapshots: Arc::new(snapshots::StoreSnapshots::new(
                    Arc::clone(&store),
                    Arc::clone(&clock),
                )),
                gatekeeper: Arc::new(gatekeeper::StoreGatekeeper::new(
                    Arc::clone(&store),
                    sessions,
                    clock,
                )),
                limits,
            },
            store,
            system,
        })
    }

    /// Publishes a committed change; on failure the relay tries the change again later.
    async fn publish(&self, topic: Topic, event: Event) -> Result<(), BusError> {
        self.services
            .bus
            .publish(&topic, event)
            .await
            .map(|_| ())
            .inspect_err(|e| tracing::warn!(error = %e, %topic, "publish failed"))
    }

    /// Closes the selected sockets on every node (logout, revoked access): this node's
    /// first, without waiting for Redis.
    pub async fn close(&self, selector: Selector, code: u16) {
        self.close_here(selector.clone(), code).await;
        let Some(peers) = self.services.bus.peers() else {
            return;
        };
        if peers.close_elsewhere(&selector, code).await.is_err() {
            // Other nodes that cannot reach Redis either have closed their sockets already
            // (1012); for the rest, keep trying a while in the background. Until then, a
            // private subscribe on those sockets still rechecks the store.
            let bus = Arc::clone(&self.services.bus);
            tokio::spawn(async move {
                let mut delay = std::time::Duration::from_millis(500);
                for _ in 0..CLOSE_RETRIES {
                    tokio::time::sleep(delay).await;
                    let Some(peers) = bus.peers() else { return };
                    if peers.close_elsewhere(&selector, code).await.is_ok() {
                        return;
                    }
                    delay = (delay * 2).min(std::time::Duration::from_secs(15));
                }
                tracing::warn!(?selector, "close not sent to other nodes");
            });
        }
    }

    /// Closes the selected sockets on this node (shutdown); answers how many.
    pub async fn close_here(&self, selector: Selector, code: u16) -> usize {
        self.services
            .hub
            .send(CloseSockets { selector, code })
            .await
            .unwrap_or(0)
    }

    /// Whether live updates reach this node's sockets from every node right now.
    pub fn available(&self) -> bool {
        self.services.bus.available()
    }

    /// Stops the hub's system thread (after the HTTP server stopped).
    pub fn stop(&self) {
        self.system.stop();
    }
}
