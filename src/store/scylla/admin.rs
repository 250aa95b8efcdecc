//! The admin's views without scans: counters moved with the domain writes, and the audit
//! log in day partitions, newest first.

use futures_util::future::join_all;

use super::exec::Delta;
use super::listing::{day, Key, Order, Positioned, Walk};
use super::rows::AuditRow;
use super::{cql, ScyllaStore};
use crate::domain::audit::{AuditAction, AuditEntry, AuditFilter};
use crate::domain::ids;
use crate::domain::lead::LeadStatus;
use crate::domain::money::Paise;
use crate::domain::time::{to_storage, Timestamp};
use crate::store::{Analytics, DayActivity, Page, PageRequest, StoreResult};

/// One analytics counter (a row of `stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Users,
    Learners,
    Mentors,
    PendingMentors,
    Events,
    Leads,
    PendingLeads,
    VerifiedLeads,
    PurchasedLeads,
    RejectedLeads,
    CancelledLeads,
    RevenuePaise,
}

impl Stat {
    fn name(self) -> &'static str {
        match self {
            Stat::Users => "users",
            Stat::Learners => "learners",
            Stat::Mentors => "mentors",
            Stat::PendingMentors => "pending_mentors",
            Stat::Events => "events",
            Stat::Leads => "leads",
            Stat::PendingLeads => "pending_leads",
            Stat::VerifiedLeads => "verified_leads",
            Stat::PurchasedLeads => "purchased_leads",
            Stat::RejectedLeads => "rejected_leads",
            Stat::CancelledLeads => "cancelled_leads",
            Stat::RevenuePaise => "revenue_paise",
        }
    }
}

/// Whether a lead in `status` counts as having passed verification.
fn passed(status: LeadStatus) -> bool {
    matches!(status, LeadStatus::Verified | LeadStatus::Purchased)
}

/// The counter moves of a lead entering `to` (from `from`, or new when `None`).
pub fn lead_moved(from: Option<LeadStatus>, to: LeadStatus) -> Vec<(Stat, i64)> {
    let mut moves = Vec::new();
    if from.is_none() {
        moves.push((Stat::Leads, 1));
    }
    let was = |s: LeadStatus| from == Some(s);
    if to == LeadStatus::Pending && !was(LeadStatus::Pending) {
        moves.push((Stat::PendingLeads, 1));
    }
    if was(LeadStatus::Pending) && to != LeadStatus::Pending {
        moves.push((Stat::PendingLeads, -1));
    }
    let passed_before = from.is_some_and(passed);
    if passed(to) != passed_before {
        moves.push((Stat::VerifiedLeads, if passed(to) { 1 } else { -1 }));
    }
    if to == LeadStatus::Purchased && !was(LeadStatus::Purchased) {
        moves.push((Stat::PurchasedLeads, 1));
    }
    // Rejected and cancelled are final: a lead enters each at most once.
    if to == LeadStatus::Rejected && !was(LeadStatus::Rejected) {
        moves.push((Stat::RejectedLeads, 1));
    }
    if to == LeadStatus::Cancelled && !was(LeadStatus::Cancelled) {
        moves.push((Stat::CancelledLeads, 1));
    }
    moves
}

impl Positioned for AuditRow {
    fn key(&self) -> Key {
        (self.created_at.clone(), self.audit_id.clone())
    }
}

impl ScyllaStore {
    /// Moves counters after the change they count. Counters are not idempotent, so they are
    /// not retried: a failure here (logged) leaves the figures off by that change.
    pub(super) async fn count(&self, moves: &[(Stat, i64)]) {
        for (stat, by) in moves {
            if let Err(e) = self
                .run(cql::STAT_ADD, values![Delta(*by), stat.name()])
                .await
            {
                tracing::warn!(error = %e, stat = stat.name(), "analytics counter not moved");
            }
        }
    }

    /// Moves the day's counters of `at` (`bookings`, `verified`, `purchases`,
    /// `revenue_paise`); like the others, never retried.
    pub(super) async fn count_day(&self, at: Timestamp, moves: &[(&str, i64)]) {
        let on = day(&to_storage(&at));
        for (name, by) in moves {
            if let Err(e) = self
                .run(cql::DAILY_ADD, values![Delta(*by), &on, *name])
                .await
            {
                tracing::warn!(error = %e, name, "daily counter not moved");
            }
        }
    }

    pub(super) async fn daily_activity(&self, since: Timestamp) -> StoreResult<Vec<DayActivity>> {
        let today = crate::domain::time::now().date_naive();
        let mut days = Vec::new();
        let mut on = since.date_naive();
        // One partition per day; a year and a bit at most.
        while on <= today && days.len() < 400 {
            days.push(on.format("%Y-%m-%d").to_string());
            match on.succ_opt() {
                Some(next) => on = next,
                None => break,
            }
        }
        let reads = join_all(days.iter().map(|d| async move {
            let rows: Vec<(String, scylla::value::Counter)> =
                self.rows(cql::DAILY_GET, values![d]).await?;
            StoreResult::Ok(rows)
        }))
        .await;
        let mut active = Vec::new();
        for (d, read) in days.into_iter().zip(reads) {
            let mut entry = DayActivity {
                day: d,
                ..Default::default()
            };
            let rows = read?;
            if rows.is_empty() {
                continue;
            }
            for (name, value) in rows {
                match name.as_str() {
                    "bookings" => entry.bookings = value.0,
                    "verified" => entry.verified = value.0,
                    "purchases" => entry.purchases = value.0,
                    "revenue_paise" => entry.revenue = Paise::new(value.0).whole_rupees(),
                    _ => {}
                }
            }
            active.push(entry);
        }
        Ok(active)
    }

    pub(super) async fn analytics(&self) -> StoreResult<Analytics> {
        let stats = [
            Stat::Users,
            Stat::Learners,
            Stat::Mentors,
            Stat::PendingMentors,
            Stat::Events,
            Stat::Leads,
            Stat::PendingLeads,
            Stat::VerifiedLeads,
            Stat::PurchasedLeads,
            Stat::RejectedLeads,
            Stat::CancelledLeads,
            Stat::RevenuePaise,
        ];
        let reads = join_all(stats.iter().map(|stat| async move {
            let value: Option<(scylla::value::Counter,)> =
                self.one(cql::STAT_GET, values![stat.name()]).await?;
            StoreResult::Ok(value.map_or(0, |(c,)| c.0))
        }))
        .await;
        let mut values = [0i64; 12];
        for (slot, read) in values.iter_mut().zip(reads) {
            *slot = read?;
        }
        let [users, learners, mentors, pending_mentors, events, leads, pending_leads, verified, purchased, rejected, cancelled, revenue] =
            values;
        Ok(Analytics {
            total_users: users,
            // Counted from the version that added it: closing an older account could take
            // it below zero.
            total_learners: learners.max(0),
            rejected_leads: rejected,
            cancelled_leads: cancelled,
            total_mentors: mentors,
            total_events: events,
            total_leads: leads,
            verified_leads: verified,
            purchased_leads: purchased,
            total_revenue: Paise::new(revenue).whole_rupees(),
            pending_leads,
            pending_mentors,
        })
    }

    /// Appends an audit entry, right after the change it records (there is no transaction
    /// to share with it).
    pub(super) async fn audit(
        &self,
        actor_id: &str,
        action: AuditAction,
        target_id: &str,
        reason: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<()> {
        let entry = AuditEntry {
            audit_id: ids::new_id(ids::AUDIT),
            actor_id: actor_id.to_string(),
            action,
            target_id: target_id.to_string(),
            reason: reason.map(str::to_string),
            created_at: now,
        };
        self.audit_entry(&entry).await
    }

    /// Writes `entry` under its own id: writing it again changes nothing.
    pub(super) async fn audit_entry(&self, entry: &AuditEntry) -> StoreResult<()> {
        let created = to_storage(&entry.created_at);
        self.batch(vec![
            (cql::DAY_ADD, values!["audit", day(&created)]),
            (
                cql::AUDIT_INSERT,
                values![
                    day(&created),
                    &created,
                    &entry.audit_id,
                    &entry.actor_id,
                    entry.action.as_str(),
                    &entry.target_id,
                    entry.reason.as_deref()
                ],
            ),
        ])
        .await
    }

    /// Newest first; the cursor is `created_at|audit_id`.
    pub(super) async fn audit_log(
        &self,
        filter: &AuditFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<AuditEntry>> {
        let walk = Walk::daily("audit".into(), cql::AUDIT_OF_DAY, None, Order::Newest);
        self.page_of(
            &walk,
            page,
            "audit",
            |row: AuditRow| Box::pin(async move { row.entry().map(Some) }),
            |entry| filter.matches(entry),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use LeadStatus::*;

    #[test]
    fn lead_counters_follow_the_state_machine() {
        assert_eq!(
            lead_moved(None, Pending),
            vec![(Stat::Leads, 1), (Stat::PendingLeads, 1)]
        );
        assert_eq!(
            lead_moved(None, Verified),
            vec![(Stat::Leads, 1), (Stat::VerifiedLeads, 1)]
        );
        assert_eq!(
            lead_moved(Some(Pending), Verified),
            vec![(Stat::PendingLeads, -1), (Stat::VerifiedLeads, 1)]
        );
        assert_eq!(
            lead_moved(Some(Pending), Rejected),
            vec![(Stat::PendingLeads, -1), (Stat::RejectedLeads, 1)]
        );
        assert_eq!(
            lead_moved(Some(Verified), Purchased),
            vec![(Stat::PurchasedLeads, 1)],
            "a purchased lead still counts as verified"
        );
        assert_eq!(
            lead_moved(Some(Verified), Cancelled),
            vec![(Stat::VerifiedLeads, -1), (Stat::CancelledLeads, 1)]
        );
    }
}
