//! `subscribed` snapshots: each topic's current state, read from the store.

use std::sync::Arc;

use async_trait::async_trait;
use leadbridge_actors::protocol::topic::Topic;
use leadbridge_actors::session::Snapshots;
use serde_json::{json, Value};

use super::payloads;
use crate::clock::Clock;
use crate::domain::ids::{EventId, MentorId, UserId};
use crate::domain::lead::LeadStatus;
use crate::store::{PageRequest, Store, MAX_LIMIT};

/// How many recent leads a mentor's feed snapshot carries.
const RECENT_LEADS: usize = 50;

pub struct StoreSnapshots {
    store: Arc<dyn Store>,
    /// Which review claims are still running.
    clock: Arc<dyn Clock>,
}

impl StoreSnapshots {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    async fn read(&self, topic: &Topic) -> Result<Value, crate::store::StoreError> {
        Ok(match topic {
            Topic::Event(id) => match self.store.event(EventId::new(id)).await? {
                Some(event) => json!(payloads::slots(&event)),
                None => json!({"event_id": id, "deleted": true}),
            },
            Topic::Mentor(id) => {
                let leads: Vec<_> = self
                    .store
                    .mentor_leads(MentorId::new(id))
                    .await?
                    .iter()
                    .filter(|l| l.offered_to_mentor())
                    .take(RECENT_LEADS)
                    .map(|l| payloads::mentor_lead(l).lead)
                    .collect();
                json!({ "leads": leads })
            }
            Topic::AdminQueue => {
                let pending = self
                    .store
                    .leads_by_status(Some(LeadStatus::Pending), PageRequest::first(MAX_LIMIT))
                    .await?;
                let claims = self.store.active_claims(self.clock.now()).await?;
                let items: Vec<_> = pending
                    .items
                    .iter()
                    .map(|l| {
                        payloads::queue_item(l, claims.iter().find(|c| c.lead_id == l.lead_id))
                    })
                    .collect();
                json!({ "items": items, "more": pending.next_cursor.is_some() })
            }
            Topic::User(id) => {
                let bookings: Vec<_> = self
                    .store
                    .learner_leads(UserId::new(id))
                    .await?
                    .iter()
                    .map(payloads::booking)
                    .collect();
                json!({ "bookings": bookings })
            }
        })
    }
}

#[async_trait]
impl Snapshots for StoreSnapshots {
    async fn snapshot(&self, topic: &Topic) -> Result<Value, String> {
        self.read(topic).await.map_err(|e| {
            tracing::error!(error = ?e, %topic, "snapshot failed");
            "the current state could not be read; try again".to_string()
        })
    }
}
