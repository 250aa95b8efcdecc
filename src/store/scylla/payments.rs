//! Payments: one open order per lead (CAS on `lead_open_orders`), captures settled once
//! (CAS on the lead's status, then on the payment's), webhook deliveries recorded once.

use super::admin::Stat;
use super::bookings::Details;
use super::exec::back_off;
use super::exec::Ttl;
use super::rows::PaymentRow;
use super::{cql, ScyllaStore};
use crate::domain::audit::{AuditAction, ACTOR_SYSTEM};
use crate::domain::lead::{Lead, LeadAction, LeadStatus};
use crate::domain::payment::{Payment, PaymentStatus, Settlement};
use crate::domain::time::{to_storage, Timestamp};
use crate::store::{CaptureOutcome, Conflict, OpenOrder, PaymentReport, StoreError, StoreResult};

/// How long a webhook delivery id is remembered: longer than Razorpay keeps retrying.
const DELIVERY_TTL_SECONDS: i64 = 30 * 24 * 3600;
/// Rounds of read-then-CAS on one lead's order or unlock before answering "busy".
const ROUNDS: usize = 8;

/// A capture that changed nothing.
fn replay(payment: Payment, lead: Lead, duplicate_delivery: bool) -> StoreResult<CaptureOutcome> {
    Ok(CaptureOutcome {
        payment,
        lead,
        newly_settled: false,
        duplicate_delivery,
    })
}

impl ScyllaStore {
    pub(super) async fn payment(&self, payment_id: &str) -> StoreResult<Option<Payment>> {
        self.one_serial::<PaymentRow>(cql::PAYMENT_GET, values![payment_id])
            .await?
            .map(PaymentRow::payment)
            .transpose()
    }

    pub(super) async fn payment_by_order(&self, order_id: &str) -> StoreResult<Option<Payment>> {
        match self
            .one::<(String,)>(cql::PAYMENT_OF_ORDER, values![order_id])
            .await?
        {
            Some((payment_id,)) => self.payment(&payment_id).await,
            None => Ok(None),
        }
    }

    /// The lead's open order, if its row still points at a CREATED payment.
    pub(super) async fn open_payment_for_lead(
        &self,
        lead_id: &str,
    ) -> StoreResult<Option<Payment>> {
        match self
            .one_serial::<(String,)>(cql::OPEN_ORDER_GET, values![lead_id])
            .await?
        {
            Some((payment_id,)) => Ok(self
                .payment(&payment_id)
                .await?
                .filter(|p| p.status == PaymentStatus::Created)),
            None => Ok(None),
        }
    }

    /// Moves a payment from the status it was read in; false if something else moved it
    /// first. A payment that is no longer CREATED stops being its lead's open order.
    async fn move_payment(
        &self,
        payment: &Payment,
        to: PaymentStatus,
        razorpay_payment_id: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let rp_id = razorpay_payment_id.or(payment.razorpay_payment_id.as_deref());
        let moved = self
            .cas(
                cql::PAYMENT_SET_STATUS,
                values![
                    to.as_str(),
                    rp_id,
                    to_storage(&now),
                    &payment.payment_id,
                    payment.status.as_str()
                ],
            )
            .await?;
        if moved {
            self.cas(
                cql::OPEN_ORDER_RELEASE,
                values![&payment.lead_id, &payment.payment_id],
            )
            .await?;
        }
        Ok(moved)
    }

    /// Records the payment row (with its indexes) first, then takes the lead's open-order
    /// row by compare-and-set; a second tab losing that race reuses the winner's order.
    pub(super) async fn open_order(
        &self,
        payment: Payment,
        actor_id: &str,
    ) -> StoreResult<OpenOrder> {
        let lead = self
            .lead_serial(&payment.lead_id)
            .await?
            .ok_or(StoreError::NotFound("lead"))?;
        lead.status
            .apply(LeadAction::Purchase)
            .map_err(Conflict::from)?;
        if let Some(existing) = self.open_payment_for_lead(&payment.lead_id).await? {
            return Ok(OpenOrder {
                payment: existing,
                created: false,
            });
        }
        let created = to_storage(&payment.created_at);
        self.batch(vec![
            (
                cql::PAYMENT_BY_ORDER_INSERT,
                values![&payment.razorpay_order_id, &payment.payment_id],
            ),
            (
                cql::PAYMENT_BY_LEAD_INSERT,
                values![&payment.lead_id, &payment.payment_id],
            ),
        ])
        .await?;
        self.cas(
            cql::PAYMENT_INSERT,
            values![
                &payment.payment_id,
                &payment.razorpay_order_id,
                None::<String>,
                &payment.mentor_id,
                &payment.lead_id,
                payment.amount.value(),
                &payment.currency,
                PaymentStatus::Created.as_str(),
                &created,
                &created
            ],
        )
        .await?;
        let recorded = Payment {
            status: PaymentStatus::Created,
            ..payment
        };
        for _ in 0..ROUNDS {
            // A claim that timed out may still have applied: the read below tells.
            match self
                .cas(
                    cql::OPEN_ORDER_CLAIM,
                    values![&recorded.lead_id, &recorded.payment_id],
                )
                .await
            {
                Ok(true) => return self.opened(recorded, actor_id).await,
                Ok(false) => {}
                Err(StoreError::Busy) => back_off().await,
                Err(e) => return Err(e),
            }
            match self.open_payment_for_lead(&recorded.lead_id).await? {
                Some(open) if open.payment_id == recorded.payment_id => {
                    return self.opened(recorded, actor_id).await
                }
                Some(existing) => {
                    // Another tab won: this order is never offered, so it is closed.
                    self.move_payment(&recorded, PaymentStatus::Failed, None, recorded.created_at)
                        .await?;
                    return Ok(OpenOrder {
                        payment: existing,
                        created: false,
                    });
                }
                None => {
                    // The row points at an order that is no longer open: free it.
                    if let Some((stale,)) = self
                        .one_serial::<(String,)>(cql::OPEN_ORDER_GET, values![&recorded.lead_id])
                        .await?
                    {
                        self.cas(cql::OPEN_ORDER_RELEASE, values![&recorded.lead_id, &stale])
                            .await?;
                    }
                }
            }
        }
        Err(StoreError::Busy)
    }

    async fn opened(&self, payment: Payment, actor_id: &str) -> StoreResult<OpenOrder> {
        self.audit(
            actor_id,
            AuditAction::PaymentCreated,
            &payment.payment_id,
            None,
            payment.created_at,
        )
        .await?;
        Ok(OpenOrder {
            payment,
            created: true,
        })
    }

    /// Marks the lead's unpaid orders FAILED (all but `except`): once a lead is sold,
    /// cancelled or rejected, nobody should be able to pay for it any more.
    pub(super) async fn void_open_orders(
        &self,
        lead_id: &str,
        except: Option<&str>,
        lead_status: LeadStatus,
        now: Timestamp,
    ) -> StoreResult<()> {
        let ids: Vec<(String,)> = self.rows(cql::PAYMENTS_OF_LEAD, values![lead_id]).await?;
        let reason = format!(
            "lead {lead_id} is {} and no longer for sale",
            lead_status.as_str()
        );
        for (payment_id,) in ids {
            if Some(payment_id.as_str()) == except {
                continue;
            }
            let Some(payment) = self
                .payment(&payment_id)
                .await?
                .filter(|p| p.status == PaymentStatus::Created)
            else {
                continue;
            };
            if self
                .move_payment(&payment, PaymentStatus::Failed, None, now)
                .await?
            {
                self.audit(
                    ACTOR_SYSTEM,
                    AuditAction::PaymentFailed,
                    &payment_id,
                    Some(&reason),
                    now,
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn delivery_seen(&self, report: &PaymentReport) -> StoreResult<bool> {
        match &report.delivery_id {
            Some(id) => Ok(self
                .one_serial::<(String,)>(cql::WEBHOOK_GET, values![id])
                .await?
                .is_some()),
            None => Ok(false),
        }
    }

    /// Remembers a webhook delivery once its outcome is stored, so a delivery whose
    /// processing failed half-way is processed again when Razorpay retries it.
    async fn record_delivery(&self, report: &PaymentReport) -> StoreResult<()> {
        if let Some(id) = &report.delivery_id {
            self.cas(
                cql::WEBHOOK_RECORD,
                values![id, to_storage(&report.now), Ttl(DELIVERY_TTL_SECONDS)],
            )
            .await?;
        }
        Ok(())
    }

    /// Unlocks the lead for this payment, or says why it cannot be sold. A lead already
    /// unlocked by this very payment (an earlier attempt, or a concurrent report) is sold.
    async fn unlock(&self, payment: &Payment, now: Timestamp) -> StoreResult<Settlement> {
        for _ in 0..ROUNDS {
            let lead = self
                .lead_serial(&payment.lead_id)
                .await?
                .ok_or(StoreError::NotFound("lead"))?;
            if lead.status == LeadStatus::Purchased
                && lead.payment_id.as_deref() == Some(payment.payment_id.as_str())
            {
                return Ok(Settlement::of_unlock(&lead.lead_id, None));
            }
            let details = Details {
                purchase: Some((payment.mentor_id.clone(), payment.payment_id.clone())),
                settling: Some(payment.payment_id.clone()),
                ..Details::default()
            };
            match self
                .transition(&lead, LeadAction::Purchase, details, now)
                .await
            {
                Ok(Some(_)) => return Ok(Settlement::of_unlock(&lead.lead_id, None)),
                Ok(None) => continue,
                Err(StoreError::Conflict(why)) => {
                    return Ok(Settlement::of_unlock(&lead.lead_id, Some(&why)))
                }
                Err(other) => return Err(other),
            }
        }
        Err(StoreError::Busy)
    }

    /// Settles a capture exactly once, however often and however concurrently reported:
    /// the lead's CAS decides the sale, the payment's CAS decides who reports it as new.
    pub(super) async fn record_payment(
        &self,
        capture: &PaymentReport,
    ) -> StoreResult<CaptureOutcome> {
        let payment = self
            .payment_by_order(&capture.order_id)
            .await?
            .ok_or(StoreError::NotFound("order"))?;
        let lead = self
            .lead_serial(&payment.lead_id)
            .await?
            .ok_or(StoreError::NotFound("lead"))?;
        if self.delivery_seen(capture).await? {
            return replay(payment, lead, true);
        }
        if payment.status.is_settled() {
            self.record_delivery(capture).await?;
            return replay(payment, lead, false);
        }
        let settlement = self.unlock(&payment, capture.now).await?;
        let status = settlement.status();
        // The payment moves from whatever unsettled status it has now: a failure notice
        // or a void racing this capture must not make it look like a replay.
        let mut from = payment.clone();
        let moved = loop {
            if self
                .move_payment(
                    &from,
                    status,
                    Some(&capture.razorpay_payment_id),
                    capture.now,
                )
                .await?
            {
                break true;
            }
            from = self
                .payment(&payment.payment_id)
                .await?
                .ok_or(StoreError::NotFound("payment"))?;
            if from.status.is_settled() {
                break false;
            }
        };
        let payment_now = self
            .payment(&payment.payment_id)
            .await?
            .ok_or(StoreError::NotFound("payment"))?;
        let lead_now = self
            .lead_serial(&payment.lead_id)
            .await?
            .ok_or(StoreError::NotFound("lead"))?;
        if !moved {
            // A concurrent report of the same capture settled it first.
            self.record_delivery(capture).await?;
            return replay(payment_now, lead_now, false);
        }
        self.audit(
            &capture.actor_id,
            settlement.audit_action(),
            &payment.payment_id,
            settlement.reason(),
            capture.now,
        )
        .await?;
        if status == PaymentStatus::Completed {
            self.count(&[(Stat::RevenuePaise, payment.amount.value())])
                .await;
            self.count_day(capture.now, &[("revenue_paise", payment.amount.value())])
                .await;
        }
        self.record_delivery(capture).await?;
        Ok(CaptureOutcome {
            payment: payment_now,
            lead: lead_now,
            newly_settled: true,
            duplicate_delivery: false,
        })
    }

    pub(super) async fn record_payment_failure(
        &self,
        failure: &PaymentReport,
    ) -> StoreResult<Option<Payment>> {
        let payment = self
            .payment_by_order(&failure.order_id)
            .await?
            .ok_or(StoreError::NotFound("order"))?;
        if self.delivery_seen(failure).await? {
            return Ok(None);
        }
        if payment.status.accepts_failure()
            && self
                .move_payment(
                    &payment,
                    PaymentStatus::Failed,
                    Some(&failure.razorpay_payment_id),
                    failure.now,
                )
                .await?
        {
            self.audit(
                &failure.actor_id,
                AuditAction::PaymentFailed,
                &payment.payment_id,
                None,
                failure.now,
            )
            .await?;
        }
        self.record_delivery(failure).await?;
        Ok(Some(
            self.payment(&payment.payment_id).await?.unwrap_or(payment),
        ))
    }
}
