//! Admins work the verification queue: claim a lead, decide it, or give it back.

use chrono::Duration;

use crate::domain::ids::{LeadId, UserId};
use crate::domain::lead::{Lead, LeadStatus};
use crate::state::AppState;
use crate::store::{LeadClaim, LeadDecision};

use super::{AppError, AppResult};

/// How long a review claim lasts unless renewed.
pub const CLAIM_TTL: Duration = Duration::minutes(2);

/// Verifies or rejects (with the reason the learner will see) a lead; refused while
/// another admin holds a live claim on it.
pub async fn decide_lead(
    state: &AppState,
    admin_id: &UserId,
    lead_id: &LeadId,
    verdict: LeadStatus,
    reason: Option<String>,
) -> AppResult<Lead> {
    let change = state
        .store
        .verify_lead(LeadDecision {
            lead_id: lead_id.to_string(),
            status: verdict,
            reason,
            admin_id: admin_id.to_string(),
            now: state.clock.now(),
        })
        .await?;
    Ok(change.lead)
}

/// Takes (or renews) the review of a PENDING lead.
pub async fn claim(state: &AppState, admin_id: &UserId, lead_id: &LeadId) -> AppResult<LeadClaim> {
    Ok(state
        .store
        .claim_lead(lead_id, admin_id, state.clock.now(), CLAIM_TTL)
        .await?)
}

/// Gives the admin's claim back to the queue.
pub async fn release(state: &AppState, admin_id: &UserId, lead_id: &LeadId) -> AppResult<()> {
    if state.store.release_claim(lead_id, admin_id).await? {
        Ok(())
    } else {
        Err(AppError::NotFound("claim"))
    }
}
