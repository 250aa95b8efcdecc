//! Admins decide mentor applications.

use crate::domain::conflict::Conflict;
use crate::domain::ids::{MentorId, UserId};
use crate::domain::mentor::{MentorProfile, MentorStatus};
use crate::state::AppState;
use crate::store::{MentorDecision, StoreError};

use super::accounts::end_all_sessions;
use super::AppResult;

/// Records the decision (the mentor hears it through the outbox) and applies it to the
/// mentor's sessions. The same decision again (a retry after the sessions step failed)
/// stands: it is refused as ALREADY_DECIDED and its effect on the sessions is applied once
/// more.
pub async fn decide_mentor(
    state: &AppState,
    admin_id: &UserId,
    mentor_id: &MentorId,
    status: MentorStatus,
    reason: Option<String>,
) -> AppResult<MentorProfile> {
    let decided = state
        .store
        .decide_mentor(MentorDecision {
            mentor_id: mentor_id.to_string(),
            status,
            reason,
            admin_id: admin_id.to_string(),
        })
        .await;
    match decided {
        Ok(mentor) => {
            apply_to_sessions(state, &mentor).await?;
            Ok(mentor)
        }
        Err(StoreError::Conflict(Conflict::AlreadyDecided(why))) => {
            let same = state
                .store
                .mentor(mentor_id)
                .await?
                .filter(|m| m.verification_status == status);
            if let Some(mentor) = same {
                apply_to_sessions(state, &mentor).await?;
            }
            Err(Conflict::AlreadyDecided(why).into())
        }
        Err(other) => Err(other.into()),
    }
}

/// A decision changes the mentor's rights. Approval: each session is swapped for a new id
/// at its next request (their sockets reconnect with the lead feed). Rejection: no way in
/// is kept; every session ends, every socket closes.
async fn apply_to_sessions(state: &AppState, mentor: &MentorProfile) -> AppResult<()> {
    if mentor.verification_status == MentorStatus::Approved {
        state
            .store
            .rotate_user_sessions(UserId::new(&mentor.user_id))
            .await?;
    } else {
        end_all_sessions(state, UserId::new(&mentor.user_id)).await?;
    }
    Ok(())
}
