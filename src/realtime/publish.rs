//! What each committed change announces, and on which topics. Called by the HTTP handlers
//! after the store answered.

use leadbridge_actors::protocol::event::{Event, QueueRef, QueueResolved};
use leadbridge_actors::protocol::topic::Topic;

use super::{payloads, Realtime};
use crate::domain::lead::{Lead, LeadStatus};
use crate::store::{CaptureOutcome, LeadChange, LeadClaim};

impl Realtime {
    /// A new booking: the event's slots, the learner's bookings, and either the mentor's feed
    /// (clean lead) or the admin queue (lead for review).
    pub async fn lead_booked(&self, lead: &Lead) {
        self.slots_changed(&lead.event_id).await;
        self.publish(
            Topic::User(lead.user_id.clone()),
            Event::BookingUpdated(payloads::booking(lead)),
        )
        .await;
        if lead.offered_to_mentor() {
            self.publish(
                Topic::Mentor(lead.mentor_id.clone()),
                Event::LeadCreated(payloads::mentor_lead(lead)),
            )
            .await;
        }
        if lead.status == LeadStatus::Pending {
            self.publish(
                Topic::AdminQueue,
                Event::QueueItemAdded(payloads::queue_item(lead, None)),
            )
            .await;
        }
    }

    /// A lead moved (verified, rejected, cancelled, purchased).
    pub async fn lead_changed(&self, change: &LeadChange) {
        let (before, lead) = (change.before, &change.lead);
        self.publish(
            Topic::User(lead.user_id.clone()),
            Event::BookingUpdated(payloads::booking(lead)),
        )
        .await;
        let mentor = Topic::Mentor(lead.mentor_id.clone());
        let was_offered = matches!(before, LeadStatus::Verified | LeadStatus::Purchased);
        if lead.status == LeadStatus::Purchased {
            self.publish(mentor, Event::LeadPurchased(payloads::mentor_lead(lead)))
                .await;
        } else if lead.offered_to_mentor() && !was_offered {
            self.publish(mentor, Event::LeadCreated(payloads::mentor_lead(lead)))
                .await;
        } else if was_offered {
            self.publish(mentor, Event::LeadUpdated(payloads::mentor_lead(lead)))
                .await;
        }
        if before == LeadStatus::Pending && lead.status != LeadStatus::Pending {
            let resolved = QueueResolved {
                lead_id: lead.lead_id.clone(),
                status: lead.status.as_str().to_string(),
            };
            self.publish(Topic::AdminQueue, Event::QueueItemResolved(resolved))
                .await;
        }
        if before.holds_slot() != lead.status.holds_slot() {
            self.slots_changed(&lead.event_id).await;
        }
    }

    /// A capture that unlocked a lead (replays and refunds announce nothing).
    pub async fn payment_settled(&self, outcome: &CaptureOutcome) {
        if outcome.newly_settled && outcome.lead.status == LeadStatus::Purchased {
            self.lead_changed(&LeadChange {
                before: LeadStatus::Verified,
                lead: outcome.lead.clone(),
            })
            .await;
        }
    }

    /// The event's slot count as stored now. Within a node the read-then-publish is
    /// serialised per event; across nodes another node may publish an older count after
    /// ours, so each node reads again after publishing and publishes once more if the count
    /// moved: the last message on the topic always carries the last committed count.
    pub async fn slots_changed(&self, event_id: &str) {
        let stripe = {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            event_id.hash(&mut hasher);
            hasher.finish() as usize % self.slot_locks.len()
        };
        let _ordered = self.slot_locks[stripe].lock().await;
        let mut published = None;
        // Ends as soon as a read finds what was published; each further round needs another
        // booking or cancellation of this event to have committed meanwhile.
        loop {
            let slots = match self.store.event(event_id).await {
                Ok(Some(event)) => payloads::slots(&event),
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = ?e, event_id, "slot count not published");
                    return;
                }
            };
            if published.as_ref() == Some(&slots) {
                return;
            }
            self.publish(
                Topic::Event(slots.event_id.clone()),
                Event::SlotsChanged(slots.clone()),
            )
            .await;
            if self.services.bus.peers().is_none() {
                return;
            }
            published = Some(slots);
        }
    }

    pub async fn claimed(&self, claim: &LeadClaim) {
        self.publish(
            Topic::AdminQueue,
            Event::QueueItemClaimed(payloads::claim(claim)),
        )
        .await;
    }

    pub async fn released(&self, lead_ids: &[String]) {
        for lead_id in lead_ids {
            let item = QueueRef {
                lead_id: lead_id.clone(),
            };
            self.publish(Topic::AdminQueue, Event::QueueItemReleased(item))
                .await;
        }
    }
}
