//! Review claims: a lease row per lead taken by compare-and-set, listed in the admin
//! queue's one partition of live claims.

use super::rows::{ts, ClaimRow};
use super::{cql, exec::Ttl, ScyllaStore};
use crate::domain::claim;
use crate::domain::time::{to_storage, Timestamp};
use crate::store::{LeadClaim, StoreError, StoreResult};

/// The admin queue's partition of `active_claims`.
const ADMIN_QUEUE: &str = "admin";
/// Claim rows outlive their lease by this much (TTL), so an expired claim is still seen
/// and announced as released before it disappears by itself.
const LINGER_SECONDS: i64 = 3600;
/// Rounds of read-then-CAS on one claim before answering "busy".
const CLAIM_ROUNDS: usize = 8;

fn claim(row: ClaimRow) -> StoreResult<LeadClaim> {
    Ok(LeadClaim {
        expires_at: ts(&row.expires_at)?,
        lead_id: row.lead_id,
        admin_id: row.admin_id,
    })
}

impl ScyllaStore {
    async fn claim_row(&self, lead_id: &str) -> StoreResult<Option<LeadClaim>> {
        let row: Option<(String, String)> =
            self.one_serial(cql::CLAIM_GET, values![lead_id]).await?;
        row.map(|(admin_id, expires_at)| {
            claim(ClaimRow {
                lead_id: lead_id.to_string(),
                admin_id,
                expires_at,
            })
        })
        .transpose()
    }

    /// Refuses a decision on a lead another admin holds.
    pub(super) async fn check_not_claimed_by_other(
        &self,
        lead_id: &str,
        admin_id: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        let held = self.claim_row(lead_id).await?;
        Ok(claim::check_free_for(held.as_ref(), admin_id, now)?)
    }

    /// Takes the lease if free or expired, renews it if it is ours: one compare-and-set
    /// for each case, on the state just read.
    pub(super) async fn claim_lead(
        &self,
        lead_id: &str,
        admin_id: &str,
        now: Timestamp,
        ttl: chrono::Duration,
    ) -> StoreResult<LeadClaim> {
        let lead = self
            .lead_serial(lead_id)
            .await?
            .ok_or(StoreError::NotFound("lead"))?;
        claim::check_claimable(lead.status)?;
        let expires_at = now + ttl;
        let until = to_storage(&expires_at);
        let row_ttl = || Ttl(ttl.num_seconds() + LINGER_SECONDS);
        for _ in 0..CLAIM_ROUNDS {
            let held = self.claim_row(lead_id).await?;
            claim::check_free_for(held.as_ref(), admin_id, now)?;
            let taken = match held {
                None => {
                    self.cas(
                        cql::CLAIM_TAKE,
                        values![lead_id, admin_id, &until, row_ttl()],
                    )
                    .await?
                }
                Some(held) if held.admin_id == admin_id => {
                    self.cas(
                        cql::CLAIM_RENEW,
                        values![row_ttl(), admin_id, &until, lead_id, admin_id],
                    )
                    .await?
                }
                // Another admin's, expired (a live one was refused above).
                Some(_) => {
                    self.cas(
                        cql::CLAIM_TAKE_EXPIRED,
                        values![row_ttl(), admin_id, &until, lead_id, to_storage(&now)],
                    )
                    .await?
                }
            };
            if taken {
                self.run(
                    cql::ACTIVE_CLAIM_UPSERT,
                    values![ADMIN_QUEUE, lead_id, admin_id, &until, row_ttl()],
                )
                .await?;
                return Ok(LeadClaim {
                    lead_id: lead_id.to_string(),
                    admin_id: admin_id.to_string(),
                    expires_at,
                });
            }
        }
        Err(StoreError::Busy)
    }

    pub(super) async fn release_claim(&self, lead_id: &str, admin_id: &str) -> StoreResult<bool> {
        let released = self
            .cas(cql::CLAIM_RELEASE, values![lead_id, admin_id])
            .await?;
        if released {
            self.run(cql::ACTIVE_CLAIM_DELETE, values![ADMIN_QUEUE, lead_id])
                .await?;
        }
        Ok(released)
    }

    /// A lead left the queue: whoever held it, the claim is over.
    pub(super) async fn clear_claim(&self, lead_id: &str) -> StoreResult<()> {
        self.cas(cql::CLAIM_CLEAR, values![lead_id]).await?;
        self.run(cql::ACTIVE_CLAIM_DELETE, values![ADMIN_QUEUE, lead_id])
            .await
    }

    async fn listed_claims(&self) -> StoreResult<Vec<LeadClaim>> {
        let rows: Vec<ClaimRow> = self.rows(cql::ACTIVE_CLAIMS, values![ADMIN_QUEUE]).await?;
        rows.into_iter().map(claim).collect()
    }

    pub(super) async fn release_claims_of(&self, admin_id: &str) -> StoreResult<Vec<String>> {
        let mut released = Vec::new();
        for listed in self.listed_claims().await? {
            if listed.admin_id == admin_id && self.release_claim(&listed.lead_id, admin_id).await? {
                released.push(listed.lead_id);
            }
        }
        Ok(released)
    }

    pub(super) async fn expire_claims(&self, now: Timestamp) -> StoreResult<Vec<String>> {
        let mut expired = Vec::new();
        for listed in self.listed_claims().await? {
            if listed.expires_at > now {
                continue;
            }
            let dropped = self
                .cas(
                    cql::CLAIM_DROP_EXPIRED,
                    values![&listed.lead_id, to_storage(&now)],
                )
                .await?;
            // A lost drop means someone took the lead meanwhile: their listing stays.
            if dropped {
                self.run(
                    cql::ACTIVE_CLAIM_DELETE,
                    values![ADMIN_QUEUE, &listed.lead_id],
                )
                .await?;
                expired.push(listed.lead_id);
            }
        }
        Ok(expired)
    }

    /// The queue's listed claims, each confirmed against its lease row.
    pub(super) async fn active_claims(&self, now: Timestamp) -> StoreResult<Vec<LeadClaim>> {
        let mut live = Vec::new();
        for listed in self.listed_claims().await? {
            if let Some(held) = self
                .claim_row(&listed.lead_id)
                .await?
                .filter(|c| c.expires_at > now)
            {
                live.push(held);
            }
        }
        Ok(live)
    }
}
