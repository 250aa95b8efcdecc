//! The server's side of realtime: starting the hub, publishing domain changes after the
//! store commits, reading snapshots, and closing sockets whose access ended.

mod gatekeeper;
mod payloads;
pub mod publish;
mod snapshots;

use std::sync::Arc;

use actix::{Actor, Addr};
use leadbridge_actors::bus::{Bus, HistoryLimits, MemoryBus};
use leadbridge_actors::hub::{CloseSockets, Hub, Selector};
use leadbridge_actors::protocol::event::Event;
use leadbridge_actors::protocol::topic::Topic;
use leadbridge_actors::session::{Limits, Services};

use crate::store::Store;

const SLOT_LOCK_STRIPES: usize = 64;

/// The node's realtime services. Cheap to clone.
#[derive(Clone)]
pub struct Realtime {
    pub services: Services,
    /// Read after commits for the state to announce (slot counts).
    store: Arc<dyn Store>,
    /// Read-then-publish of one event's slot count is serialised (striped by event id), so
    /// the last count published is the last one committed.
    slot_locks: Arc<[tokio::sync::Mutex<()>]>,
    system: actix::System,
}

impl Realtime {
    /// Starts the hub (and with it every topic actor) on a dedicated actix system thread, so
    /// it runs the same under `main` and under a plain tokio test runtime.
    pub fn start(
        store: Arc<dyn Store>,
        limits: Limits,
        history: HistoryLimits,
    ) -> anyhow::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("leadbridge-hub".into())
            .spawn(move || {
                let system = actix::System::new();
                system.block_on(async {
                    let _ = tx.send((Hub::default().start(), actix::System::current()));
                });
                let _ = system.run();
            })?;
        let (hub, system): (Addr<Hub>, actix::System) = rx.recv()?;
        let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new(history));
        bus.attach(hub.clone().recipient());
        Ok(Self {
            services: Services {
                hub,
                bus,
                snapshots: Arc::new(snapshots::StoreSnapshots::new(Arc::clone(&store))),
                gatekeeper: Arc::new(gatekeeper::StoreGatekeeper::new(Arc::clone(&store))),
                limits,
            },
            store,
            slot_locks: (0..SLOT_LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            system,
        })
    }

    /// Publishes after a committed change. A bus failure is logged, not returned: the change
    /// is stored, and clients resynchronise from snapshots.
    pub async fn publish(&self, topic: Topic, event: Event) {
        if let Err(e) = self.services.bus.publish(&topic, event).await {
            tracing::warn!(error = %e, %topic, "publish failed");
        }
    }

    /// Closes live sockets (logout, revoked access, shutdown); answers how many.
    pub async fn close(&self, selector: Selector, code: u16) -> usize {
        self.services
            .hub
            .send(CloseSockets { selector, code })
            .await
            .unwrap_or(0)
    }

    /// Stops the hub's system thread (after the HTTP server stopped).
    pub fn stop(&self) {
        self.system.stop();
    }
}
