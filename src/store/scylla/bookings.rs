//! Bookings and leads: taking a slot with three compare-and-sets, the lead state machine
//! as a compare-and-set on the lead's status, and the lead listings.

use super::admin::lead_moved as counter_moves;
use super::exec::back_off;
use super::exec::Values;
use super::listing::{day, Key, Order, Walk};
use super::moves::{LeadOwed, Owed, Pending, Review};
use super::rows::{ts, LeadRow};
use super::{cql, ScyllaStore};
use crate::domain::audit::AuditEntry;
use crate::domain::change::Change;
use crate::domain::ids;
use crate::domain::lead::{review, Lead, LeadAction, LeadStatus};
use crate::domain::time::{to_storage, Timestamp};
use crate::domain::verification::{initial_state, DUPLICATE_CONTACT};
use crate::store::{
    Conflict, LeadChange, LeadDecision, NewBooking, Page, PageRequest, StoreError, StoreResult,
};

/// Rounds of read-decide-CAS on one lead before answering "busy"; a lost round means
/// another change to the same lead went through, and the next round decides on it.
const LEAD_ROUNDS: usize = 8;

/// Why writing a booking's lead failed: before the lead's insert (undo the slot and the
/// learner's booking), or at or after it (the lead may exist: undo nothing).
enum Failed {
    Before(StoreError),
    Unknown(StoreError),
}

/// What a transition writes besides the status.
#[derive(Default)]
pub struct Details {
    /// Replaces the verification notes.
    pub notes: Option<Vec<String>>,
    /// The buying mentor and the payment that unlocked the lead.
    pub purchase: Option<(String, String)>,
    /// The payment settling this change, whose open order is not voided.
    pub settling: Option<String>,
    /// The admin's decision: its reason, announced with the move, and its log rows.
    pub review: Option<Review>,
}

impl ScyllaStore {
    /// The learner's booking (CAS), a slot (CAS), then the duplicate check and the lead.
    /// Anything failing after the slot was taken gives the slot and the booking back.
    pub(super) async fn book_slot(&self, booking: NewBooking) -> StoreResult<Lead> {
        // An account closed while this request was on its way books nothing.
        if self.user_row(&booking.user_id).await?.is_none() {
            return Err(StoreError::NotFound("account"));
        }
        let event = self
            .event(&booking.event_id)
            .await?
            .ok_or(StoreError::NotFound("event"))?;
        let mentor = self.mentor_row(&event.mentor_id).await?;
        event.check_bookable(mentor.map(|m| m.verification_status), booking.now)?;
        let claimed = self
            .cas(
                cql::BOOKING_CLAIM,
                values![&booking.event_id, &booking.user_id, &booking.lead_id],
            )
            .await?;
        if !claimed {
            return Err(Conflict::AlreadyBooked.into());
        }
        if let Err(e) = self.take_slot(&booking.event_id).await {
            self.release_booking(&booking.event_id, &booking.user_id, &booking.lead_id)
                .await?;
            return Err(e);
        }
        let indexes = self.vault().contact_indexes(&booking.contact);
        match self.write_lead(&booking, &event, &indexes).await {
            Ok(lead) => Ok(lead),
            Err(Failed::Before(e)) => {
                if let Err(undo) = self.undo_booking(&booking, &indexes).await {
                    tracing::error!(error = %undo, lead_id = %booking.lead_id, "a failed booking kept its slot");
                }
                Err(e)
            }
            // The lead may exist (a timed-out insert can still apply): its slot and the
            // learner's booking stay, at worst one seat unsold, never one sold twice.
            Err(Failed::Unknown(e)) => Err(e),
        }
    }

    async fn write_lead(
        &self,
        booking: &NewBooking,
        event: &crate::domain::event::Event,
        indexes: &[String],
    ) -> Result<Lead, Failed> {
        // Our own index rows first, then a read: of two bookings with the same contact
        // racing, each sees the other's rows, so neither slips through unflagged.
        let own: Vec<(&'static str, Values)> = indexes
            .iter()
            .map(|blind| {
                (
                    cql::CONTACT_INDEX_INSERT,
                    values![&booking.event_id, blind, &booking.lead_id, &booking.user_id],
                )
            })
            .collect();
        self.batch(own).await.map_err(Failed::Before)?;
        let mut flags = booking.flags.clone();
        let mut duplicate = false;
        for blind in indexes {
            let holders: Vec<(String, String)> = self
                .rows(cql::CONTACT_INDEX_FIND, values![&booking.event_id, blind])
                .await
                .map_err(Failed::Before)?;
            duplicate |= holders.iter().any(|(_, user)| *user != booking.user_id);
        }
        if duplicate {
            flags.push(DUPLICATE_CONTACT.to_string());
        }
        let (status, verification_status) = initial_state(&flags);
        let created = to_storage(&booking.now);
        let lead_id = &booking.lead_id;
        self.batch(vec![
            (
                cql::LEAD_BY_EVENT_INSERT,
                values![&booking.event_id, lead_id],
            ),
            (
                cql::LEAD_BY_LEARNER_INSERT,
                values![&booking.user_id, &created, lead_id],
            ),
            (
                cql::LEAD_BY_MENTOR_INSERT,
                values![&event.mentor_id, &created, lead_id],
            ),
            status_index(status, &created, lead_id),
            status_day(status, &created),
            (
                cql::LEAD_BY_DAY_INSERT,
                values![day(&created), &created, lead_id],
            ),
            (cql::DAY_ADD, values!["leads", day(&created)]),
        ])
        .await
        .map_err(Failed::Before)?;
        let at = ts(&created).map_err(Failed::Before)?;
        let lead = Lead {
            lead_id: lead_id.clone(),
            event_id: booking.event_id.clone(),
            event_title: event.title.clone(),
            event_datetime: event.event_datetime,
            mentor_id: event.mentor_id.clone(),
            user_id: booking.user_id.clone(),
            contact: booking.contact.clone(),
            status,
            verification_status,
            verification_notes: flags,
            purchased_by: None,
            payment_id: None,
            created_at: at,
            updated_at: at,
        };
        let sealed = crate::store::sealed::seal(self.vault(), lead_id, &booking.contact)
            .map_err(Failed::Before)?;
        let owed = LeadOwed {
            from: None,
            frees_slot: false,
            voids_orders: false,
            ends_claim: false,
            settling: None,
            review: None,
        };
        let booked = Change::LeadBooked { lead: lead.clone() };
        let pending = Pending::new(booked, Owed::Lead(owed), at);
        let pending_sealed = self.begin(&pending).await.map_err(Failed::Before)?;
        let applied = self
            .cas(
                cql::LEAD_INSERT,
                values![
                    lead_id,
                    &booking.event_id,
                    &event.title,
                    to_storage(&event.event_datetime),
                    &event.mentor_id,
                    &booking.user_id,
                    sealed,
                    status.as_str(),
                    verification_status.as_str(),
                    lead.verification_notes.as_slice(),
                    None::<String>,
                    None::<String>,
                    &created,
                    &created,
                    &pending.id,
                    pending_sealed
                ],
            )
            .await
            .map_err(Failed::Unknown)?;
        if !applied {
            self.abandon(&pending).await;
            return Err(Failed::Before(StoreError::Backend(anyhow::anyhow!(
                "lead id {lead_id} already taken"
            ))));
        }
        self.finish_written(&pending).await;
        Ok(lead)
    }

    async fn undo_booking(&self, booking: &NewBooking, indexes: &[String]) -> StoreResult<()> {
        self.free_slot(&booking.event_id, &booking.lead_id).await?;
        self.release_booking(&booking.event_id, &booking.user_id, &booking.lead_id)
            .await?;
        self.batch(contact_deletes(
            &booking.event_id,
            &booking.lead_id,
            indexes,
        ))
        .await
    }

    async fn release_booking(
        &self,
        event_id: &str,
        user_id: &str,
        lead_id: &str,
    ) -> StoreResult<()> {
        self.cas(cql::BOOKING_RELEASE, values![event_id, user_id, lead_id])
            .await
            .map(drop)
    }

    pub(super) async fn lead(&self, lead_id: &str) -> StoreResult<Option<Lead>> {
        self.one::<LeadRow>(cql::LEAD_GET, values![lead_id])
            .await?
            .map(|row| row.lead(self.vault()))
            .transpose()
    }

    /// The lead as the last compare-and-set left it.
    pub(super) async fn lead_serial(&self, lead_id: &str) -> StoreResult<Option<Lead>> {
        self.one_serial::<LeadRow>(cql::LEAD_GET, values![lead_id])
            .await?
            .map(|row| row.lead(self.vault()))
            .transpose()
    }

    /// Newest first within one owner's partition (`LEADS_OF_LEARNER` or `LEADS_OF_MENTOR`).
    pub(super) async fn leads_of(
        &self,
        statement: &'static str,
        owner: &str,
    ) -> StoreResult<Vec<Lead>> {
        let ids: Vec<(String,)> = self.rows(statement, values![owner]).await?;
        let mut leads = Vec::with_capacity(ids.len());
        for (lead_id,) in ids {
            if let Some(lead) = self.lead(&lead_id).await? {
                leads.push(lead);
            }
        }
        leads.sort_by(|a, b| (b.created_at, &b.lead_id).cmp(&(a.created_at, &a.lead_id)));
        Ok(leads)
    }

    /// Newest first; one status is its own day partitions (PENDING: the queue).
    pub(super) async fn leads_by_status(
        &self,
        status: Option<LeadStatus>,
        page: &PageRequest,
    ) -> StoreResult<Page<Lead>> {
        let walk = match status {
            Some(status) => Walk::daily(
                format!("leads:{}", status.as_str()),
                cql::LEADS_OF_STATUS_DAY,
                Some(status.as_str().to_string()),
                Order::Newest,
            ),
            None => Walk::daily("leads".into(), cql::LEADS_OF_DAY, None, Order::Newest),
        };
        self.page_of(
            &walk,
            page,
            "leads",
            |(_, id): Key| Box::pin(async move { self.lead(&id).await }),
            |lead| status.is_none_or(|s| lead.status == s),
        )
        .await
    }

    /// Moves the lead from the status it was read in: `Ok(None)` when another change won
    /// the race (read again and decide again). The compare-and-set carries what the move
    /// implies (the status index, the slot, open orders, the review claim, the logs, the
    /// announcement) as the lead's pending write, carried out here and, should this node
    /// die first, by whoever comes next (`moves.rs`).
    pub(super) async fn transition(
        &self,
        lead: &Lead,
        action: LeadAction,
        details: Details,
        now: Timestamp,
    ) -> StoreResult<Option<LeadStatus>> {
        let planned = lead.plan(action).map_err(Conflict::from)?;
        let next = planned.to;
        let created = to_storage(&lead.created_at);
        if next != lead.status {
            self.batch(vec![
                status_index(next, &created, &lead.lead_id),
                status_day(next, &created),
            ])
            .await?;
        }
        let mut after = lead.clone();
        after.status = next;
        after.verification_status = planned.verification;
        if let Some(notes) = details.notes {
            after.verification_notes = notes;
        }
        if let Some((mentor, payment)) = details.purchase {
            after.purchased_by = Some(mentor);
            after.payment_id = Some(payment);
        }
        after.updated_at = ts(&to_storage(&now))?;
        let reason = details.review.as_ref().and_then(|r| r.audit.reason.clone());
        let owed = LeadOwed {
            from: Some(lead.status),
            frees_slot: planned.frees_slot(),
            voids_orders: planned.voids_orders(),
            ends_claim: planned.ends_claim(),
            settling: details.settling,
            review: details.review,
        };
        let moved = Change::LeadMoved {
            before: lead.status,
            lead: after.clone(),
            reason,
        };
        let pending = Pending::new(moved, Owed::Lead(owed), after.updated_at);
        let sealed = self.begin(&pending).await?;
        let applied = self
            .cas(
                cql::LEAD_TRANSITION,
                values![
                    next.as_str(),
                    planned.verification.as_str(),
                    after.verification_notes.as_slice(),
                    after.purchased_by,
                    after.payment_id,
                    to_storage(&now),
                    &pending.id,
                    sealed,
                    &lead.lead_id,
                    lead.status.as_str()
                ],
            )
            .await?;
        if !applied {
            self.abandon(&pending).await;
            // Lost to another change, or blocked by a write still in flight on the lead.
            if !self
                .finish_abandoned(&format!("lead:{}", lead.lead_id))
                .await?
            {
                back_off().await;
            }
            return Ok(None);
        }
        self.finish_written(&pending).await;
        Ok(Some(next))
    }

    /// What a lead's write implies besides its row (see `moves.rs`); `lead` is the lead as
    /// the write left it. Each step may be taken again.
    pub(super) async fn carry_out_lead(
        &self,
        owed: &LeadOwed,
        lead: &Lead,
        at: Timestamp,
        by_writer: bool,
    ) -> StoreResult<()> {
        let created = to_storage(&lead.created_at);
        if let Some(from) = owed.from.filter(|from| *from != lead.status) {
            self.run(
                cql::LEAD_BY_STATUS_DELETE,
                values![from.as_str(), day(&created), &created, &lead.lead_id],
            )
            .await?;
        }
        if owed.frees_slot {
            self.free_slot(&lead.event_id, &lead.lead_id).await?;
            self.release_booking(&lead.event_id, &lead.user_id, &lead.lead_id)
                .await?;
            let indexes = self.vault().contact_indexes(&lead.contact);
            self.batch(contact_deletes(&lead.event_id, &lead.lead_id, &indexes))
                .await?;
        }
        if owed.voids_orders {
            self.void_open_orders(&lead.lead_id, owed.settling.as_deref(), lead.status, at)
                .await?;
        }
        if owed.ends_claim {
            self.clear_claim(&lead.lead_id).await?;
        }
        if let Some(review) = &owed.review {
            self.run(
                cql::VERIFICATION_LOG_INSERT,
                values![
                    &lead.lead_id,
                    to_storage(&at),
                    &review.log_id,
                    &review.audit.actor_id,
                    lead.status.as_str(),
                    review.audit.reason.as_deref()
                ],
            )
            .await?;
            self.audit_entry(&review.audit).await?;
        }
        if by_writer {
            self.count(&counter_moves(owed.from, lead.status)).await;
            let mut day = Vec::new();
            if owed.from.is_none() {
                day.push(("bookings", 1));
            }
            if lead.status == LeadStatus::Verified && owed.from != Some(LeadStatus::Verified) {
                day.push(("verified", 1));
            }
            if lead.status == LeadStatus::Purchased && owed.from != Some(LeadStatus::Purchased) {
                day.push(("purchases", 1));
            }
            self.count_day(at, &day).await;
        }
        Ok(())
    }

    pub(super) async fn cancel_booking(
        &self,
        user_id: &str,
        lead_id: &str,
        now: Timestamp,
    ) -> StoreResult<LeadChange> {
        for _ in 0..LEAD_ROUNDS {
            let current = self
                .lead_serial(lead_id)
                .await?
                .filter(|l| l.user_id == user_id)
                .ok_or(StoreError::NotFound("booking"))?;
            if self
                .transition(&current, LeadAction::Cancel, Details::default(), now)
                .await?
                .is_some()
            {
                return Ok(LeadChange {
                    before: current.status,
                    lead: self
                        .lead_serial(lead_id)
                        .await?
                        .ok_or(StoreError::NotFound("booking"))?,
                });
            }
        }
        Err(StoreError::Busy)
    }

    pub(super) async fn verify_lead(&self, decision: &LeadDecision) -> StoreResult<LeadChange> {
        let (action, audit) = review(decision.status);
        for _ in 0..LEAD_ROUNDS {
            let current = self
                .lead_serial(&decision.lead_id)
                .await?
                .ok_or(StoreError::NotFound("lead"))?;
            self.check_not_claimed_by_other(&decision.lead_id, &decision.admin_id, decision.now)
                .await?;
            let mut notes = current.verification_notes.clone();
            notes.extend(decision.reason.clone());
            let details = Details {
                notes: Some(notes),
                review: Some(Review {
                    log_id: ids::new_id(ids::VERIFICATION_LOG),
                    audit: AuditEntry {
                        audit_id: ids::new_id(ids::AUDIT),
                        actor_id: decision.admin_id.clone(),
                        action: audit,
                        target_id: decision.lead_id.clone(),
                        reason: decision.reason.clone(),
                        created_at: decision.now,
                    },
                }),
                ..Details::default()
            };
            if self
                .transition(&current, action, details, decision.now)
                .await?
                .is_none()
            {
                continue;
            }
            return Ok(LeadChange {
                before: current.status,
                lead: self
                    .lead_serial(&decision.lead_id)
                    .await?
                    .ok_or(StoreError::NotFound("lead"))?,
            });
        }
        Err(StoreError::Busy)
    }
}

fn status_index(status: LeadStatus, created: &str, lead_id: &str) -> (&'static str, Values) {
    (
        cql::LEAD_BY_STATUS_INSERT,
        values![status.as_str(), day(created), created, lead_id],
    )
}

fn status_day(status: LeadStatus, created: &str) -> (&'static str, Values) {
    (
        cql::DAY_ADD,
        values![format!("leads:{}", status.as_str()), day(created)],
    )
}

fn contact_deletes(
    event_id: &str,
    lead_id: &str,
    indexes: &[String],
) -> Vec<(&'static str, Values)> {
    indexes
        .iter()
        .map(|blind| (cql::CONTACT_INDEX_DELETE, values![event_id, blind, lead_id]))
        .collect()
}
