//! Bookings and leads: taking a slot with three compare-and-sets, the lead state machine
//! as a compare-and-set on the lead's status, and the lead listings.

use super::admin::lead_moved;
use super::exec::Values;
use super::listing::{day, Key, Order, Walk};
use super::rows::LeadRow;
use super::{cql, ScyllaStore};
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
pub struct Change {
    /// Replaces the verification notes.
    pub notes: Option<Vec<String>>,
    /// The buying mentor and the payment that unlocked the lead.
    pub purchase: Option<(String, String)>,
    /// The payment settling this change, whose open order is not voided.
    pub settling: Option<String>,
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
        let sealed = crate::store::sealed::seal(self.vault(), lead_id, &booking.contact)
            .map_err(Failed::Before)?;
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
                    flags.as_slice(),
                    None::<String>,
                    None::<String>,
                    &created,
                    &created
                ],
            )
            .await
            .map_err(Failed::Unknown)?;
        if !applied {
            return Err(Failed::Before(StoreError::Backend(anyhow::anyhow!(
                "lead id {lead_id} already taken"
            ))));
        }
        self.count(&lead_moved(None, status)).await;
        self.lead(lead_id)
            .await
            .and_then(|lead| lead.ok_or(StoreError::NotFound("lead")))
            .map_err(Failed::Unknown)
    }

    async fn undo_booking(&self, booking: &NewBooking, indexes: &[String]) -> StoreResult<()> {
        self.free_slot(&booking.event_id).await?;
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
    /// the race (read again and decide again). Then what the move implies: the status
    /// index, the slot, open orders, the review claim, the counters.
    pub(super) async fn transition(
        &self,
        lead: &Lead,
        action: LeadAction,
        change: Change,
        now: Timestamp,
    ) -> StoreResult<Option<LeadStatus>> {
        let planned = lead.plan(action).map_err(Conflict::from)?;
        let (next, verification) = (planned.to, planned.verification);
        let created = to_storage(&lead.created_at);
        if next != lead.status {
            self.batch(vec![
                status_index(next, &created, &lead.lead_id),
                status_day(next, &created),
            ])
            .await?;
        }
        let notes = change
            .notes
            .unwrap_or_else(|| lead.verification_notes.clone());
        let (purchased_by, payment_id) = match change.purchase {
            Some((mentor, payment)) => (Some(mentor), Some(payment)),
            None => (lead.purchased_by.clone(), lead.payment_id.clone()),
        };
        let applied = self
            .cas(
                cql::LEAD_TRANSITION,
                values![
                    next.as_str(),
                    verification.as_str(),
                    notes.as_slice(),
                    purchased_by,
                    payment_id,
                    to_storage(&now),
                    &lead.lead_id,
                    lead.status.as_str()
                ],
            )
            .await?;
        if !applied {
            return Ok(None);
        }
        if next != lead.status {
            self.run(
                cql::LEAD_BY_STATUS_DELETE,
                values![lead.status.as_str(), day(&created), &created, &lead.lead_id],
            )
            .await?;
        }
        if planned.frees_slot() {
            self.free_slot(&lead.event_id).await?;
            self.release_booking(&lead.event_id, &lead.user_id, &lead.lead_id)
                .await?;
            let indexes = self.vault().contact_indexes(&lead.contact);
            self.batch(contact_deletes(&lead.event_id, &lead.lead_id, &indexes))
                .await?;
        }
        if planned.voids_orders() {
            self.void_open_orders(&lead.lead_id, change.settling.as_deref(), next, now)
                .await?;
        }
        if planned.ends_claim() {
            self.clear_claim(&lead.lead_id).await?;
        }
        self.count(&lead_moved(Some(lead.status), next)).await;
        Ok(Some(next))
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
                .transition(&current, LeadAction::Cancel, Change::default(), now)
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
            let change = Change {
                notes: Some(notes),
                ..Change::default()
            };
            let Some(next) = self
                .transition(&current, action, change, decision.now)
                .await?
            else {
                continue;
            };
            self.run(
                cql::VERIFICATION_LOG_INSERT,
                values![
                    &decision.lead_id,
                    to_storage(&decision.now),
                    ids::new_id(ids::VERIFICATION_LOG),
                    &decision.admin_id,
                    next.as_str(),
                    decision.reason.as_deref()
                ],
            )
            .await?;
            self.audit(
                &decision.admin_id,
                audit,
                &decision.lead_id,
                decision.reason.as_deref(),
                decision.now,
            )
            .await?;
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
