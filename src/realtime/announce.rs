//! What each committed change announces, and on which topics. Called by the relay
//! (`crate::relay`) for every change in the outbox, in commit order.

use leadbridge_actors::bus::BusError;
use leadbridge_actors::node::Selector;
use leadbridge_actors::protocol::event::{
    AccountRef, Event, EventRef, MentorStatusPayload, QueueRef, QueueResolved,
};
use leadbridge_actors::protocol::topic::Topic;

use super::{payloads, Realtime};
use crate::domain::change::{Change, EventEdit};
use crate::domain::ids::EventId;
use crate::domain::lead::{Lead, LeadStatus};

/// How long a closed account's sockets stay after its `account_closed` was published.
const CLOSE_AFTER_ANNOUNCEMENT: std::time::Duration = std::time::Duration::from_millis(250);

impl Realtime {
    /// Publishes what `change` means. A bus failure stops at that publish: the relay
    /// announces the change again later (what was published already is state, so a repeat
    /// is harmless).
    pub async fn announce(&self, change: &Change) -> Result<(), BusError> {
        match change {
            Change::LeadBooked { lead } => self.lead_booked(lead).await?,
            Change::LeadMoved { before, lead, .. } => self.lead_moved(*before, lead).await?,
            Change::LeadClaimed { claim } => {
                let claimed = payloads::claim(claim);
                self.publish(Topic::AdminQueue, Event::QueueItemClaimed(claimed))
                    .await?;
            }
            Change::ClaimsReleased { lead_ids } => {
                for lead_id in lead_ids {
                    let item = QueueRef {
                        lead_id: lead_id.clone(),
                    };
                    self.publish(Topic::AdminQueue, Event::QueueItemReleased(item))
                        .await?;
                }
            }
            Change::EventEdited {
                before,
                event,
                learners,
            } => {
                let edit = EventEdit::between(before, event);
                // One message per edit on the event's topic: a new seat count alone is a
                // `slots_changed`; anything else an `event_updated`, which carries the
                // counts too.
                if edit.fields() == ["total_slots"] {
                    self.slots_changed(&event.event_id).await?;
                    return Ok(());
                }
                let details = payloads::event_details(event, &edit);
                self.publish(
                    Topic::Event(event.event_id.clone()),
                    Event::EventUpdated(details.clone()),
                )
                .await?;
                if edit.concerns_learners() {
                    for user_id in learners {
                        self.publish(
                            Topic::User(user_id.clone()),
                            Event::EventUpdated(details.clone()),
                        )
                        .await?;
                    }
                }
            }
            Change::EventDeleted { event_id, .. } => {
                let gone = EventRef {
                    event_id: event_id.clone(),
                };
                self.publish(Topic::Event(event_id.clone()), Event::EventDeleted(gone))
                    .await?;
            }
            Change::MentorDecided {
                mentor_id,
                user_id,
                status,
                reason,
            } => {
                let decided = MentorStatusPayload {
                    mentor_id: mentor_id.clone(),
                    verification_status: status.as_str().to_string(),
                    reason: reason.clone(),
                };
                self.publish(
                    Topic::User(user_id.clone()),
                    Event::MentorStatusChanged(decided),
                )
                .await?;
            }
            Change::AccountClosed { user_id } => {
                let closed = AccountRef {
                    user_id: user_id.clone(),
                };
                self.publish(Topic::User(user_id.clone()), Event::AccountClosed(closed))
                    .await?;
                // The announcement reaches sockets through the topic's actor, a close
                // directly: the close waits a moment so the account's pages hear why. Its
                // sessions ended with the commit, so nothing new is let in meanwhile.
                let realtime = self.clone();
                let selector = Selector::User(user_id.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(CLOSE_AFTER_ANNOUNCEMENT).await;
                    realtime
                        .close(selector, leadbridge_actors::protocol::close::SESSION_ENDED)
                        .await;
                });
            }
        }
        Ok(())
    }

    /// A new booking: the event's slots, the learner's bookings, and either the mentor's feed
    /// (clean lead) or the admin queue (lead for review).
    async fn lead_booked(&self, lead: &Lead) -> Result<(), BusError> {
        self.slots_changed(&lead.event_id).await?;
        self.publish(
            Topic::User(lead.user_id.clone()),
            Event::BookingUpdated(payloads::booking(lead)),
        )
        .await?;
        if lead.offered_to_mentor() {
            self.publish(
                Topic::Mentor(lead.mentor_id.clone()),
                Event::LeadCreated(payloads::mentor_lead(lead)),
            )
            .await?;
        }
        if lead.status == LeadStatus::Pending {
            self.publish(
                Topic::AdminQueue,
                Event::QueueItemAdded(payloads::queue_item(lead, None)),
            )
            .await?;
        }
        Ok(())
    }

    /// A lead moved (verified, rejected, cancelled, purchased).
    async fn lead_moved(&self, before: LeadStatus, lead: &Lead) -> Result<(), BusError> {
        self.publish(
            Topic::User(lead.user_id.clone()),
            Event::BookingUpdated(payloads::booking(lead)),
        )
        .await?;
        let mentor = Topic::Mentor(lead.mentor_id.clone());
        let was_offered = matches!(before, LeadStatus::Verified | LeadStatus::Purchased);
        if lead.status == LeadStatus::Purchased {
            self.publish(mentor, Event::LeadPurchased(payloads::mentor_lead(lead)))
                .await?;
        } else if lead.offered_to_mentor() && !was_offered {
            self.publish(mentor, Event::LeadCreated(payloads::mentor_lead(lead)))
                .await?;
        } else if was_offered {
            self.publish(mentor, Event::LeadUpdated(payloads::mentor_lead(lead)))
                .await?;
        }
        if before == LeadStatus::Pending && lead.status != LeadStatus::Pending {
            let resolved = QueueResolved {
                lead_id: lead.lead_id.clone(),
                status: lead.status.as_str().to_string(),
            };
            self.publish(Topic::AdminQueue, Event::QueueItemResolved(resolved))
                .await?;
        }
        if before.holds_slot() != lead.status.holds_slot() {
            self.slots_changed(&lead.event_id).await?;
        }
        Ok(())
    }

    /// The event's slot count as stored now. Relayed changes are announced one at a time,
    /// but another node's relay may have published an older count just before it lost
    /// its lease, so with peers the count is read again after publishing and published
    /// once more if it moved: the last message on the topic carries the last committed
    /// count.
    async fn slots_changed(&self, event_id: &str) -> Result<(), BusError> {
        let mut published = None;
        // Ends as soon as a read finds what was published; each further round needs another
        // booking or cancellation of this event to have committed meanwhile.
        loop {
            let slots = match self.store.event(EventId::new(event_id)).await {
                Ok(Some(event)) => payloads::slots(&event),
                Ok(None) => return Ok(()),
                Err(e) => {
                    tracing::warn!(error = ?e, event_id, "slot count not published");
                    return Ok(());
                }
            };
            if published.as_ref() == Some(&slots) {
                return Ok(());
            }
            self.publish(
                Topic::Event(slots.event_id.clone()),
                Event::SlotsChanged(slots.clone()),
            )
            .await?;
            if self.services.bus.peers().is_none() {
                return Ok(());
            }
            published = Some(slots);
        }
    }
}
