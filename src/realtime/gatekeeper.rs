//! Whether a connected viewer may stay connected, from the store.

use std::sync::Arc;

use async_trait::async_trait;
use leadbridge_actors::access::{Viewer, ViewerRole};
use leadbridge_actors::protocol::close;
use leadbridge_actors::session::Gatekeeper;

use crate::auth::SessionPolicy;
use crate::clock::Clock;
use crate::domain::ids::MentorId;
use crate::domain::mentor::MentorStatus;
use crate::store::Store;

pub struct StoreGatekeeper {
    store: Arc<dyn Store>,
    sessions: SessionPolicy,
    clock: Arc<dyn Clock>,
}

impl StoreGatekeeper {
    pub fn new(store: Arc<dyn Store>, sessions: SessionPolicy, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            sessions,
            clock,
        }
    }
}

#[async_trait]
impl Gatekeeper for StoreGatekeeper {
    async fn revoked(&self, viewer: &Viewer) -> Option<u16> {
        // A store failure keeps the socket: the store is checked again on the next subscribe.
        let session = self.store.session(&viewer.session_hash).await.ok()?;
        if session.is_none_or(|s| !self.sessions.is_live(&s, self.clock.now())) {
            return Some(close::SESSION_ENDED);
        }
        if let ViewerRole::Mentor { mentor_id } = &viewer.role {
            let profile = self.store.mentor(MentorId::new(mentor_id)).await.ok()?;
            if profile.is_none_or(|p| p.verification_status != MentorStatus::Approved) {
                return Some(close::FORBIDDEN);
            }
        }
        None
    }
}
