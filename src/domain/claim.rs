//! Review claims: an admin's lease on a PENDING lead, so two admins never decide the same
//! lead at once.

use super::conflict::Conflict;
use super::lead::{LeadAction, LeadStatus, TransitionError};
use super::time::Timestamp;

/// An admin's lease on a queue item: while it runs, other admins cannot decide the lead.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct LeadClaim {
    pub lead_id: String,
    /// The admin's user id.
    pub admin_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

impl LeadClaim {
    pub fn is_live(&self, now: Timestamp) -> bool {
        self.expires_at > now
    }
}

/// Whether `admin_id` may decide (or claim) a lead that has the claim `held`: only while
/// no other admin's claim is live.
pub fn check_free_for(
    held: Option<&LeadClaim>,
    admin_id: &str,
    now: Timestamp,
) -> Result<(), Conflict> {
    match held {
        Some(claim) if claim.is_live(now) && claim.admin_id != admin_id => {
            Err(Conflict::ClaimedByOther {
                admin_id: claim.admin_id.clone(),
            })
        }
        _ => Ok(()),
    }
}

/// Only a lead waiting for review can be claimed.
pub fn check_claimable(status: LeadStatus) -> Result<(), Conflict> {
    if status == LeadStatus::Pending {
        Ok(())
    } else {
        Err(Conflict::Transition(TransitionError {
            from: status,
            action: LeadAction::AdminVerify,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim(admin_id: &str, expires_at: Timestamp) -> LeadClaim {
        LeadClaim {
            lead_id: "lead_1".into(),
            admin_id: admin_id.into(),
            expires_at,
        }
    }

    #[test]
    fn only_another_admins_live_claim_blocks() {
        let now = crate::domain::time::now();
        let later = now + chrono::Duration::minutes(2);
        let earlier = now - chrono::Duration::seconds(1);
        assert!(check_free_for(None, "a", now).is_ok());
        assert!(check_free_for(Some(&claim("a", later)), "a", now).is_ok());
        assert!(check_free_for(Some(&claim("b", earlier)), "a", now).is_ok());
        assert_eq!(
            check_free_for(Some(&claim("b", later)), "a", now),
            Err(Conflict::ClaimedByOther {
                admin_id: "b".into()
            })
        );
        assert!(check_claimable(LeadStatus::Pending).is_ok());
        assert_eq!(
            check_claimable(LeadStatus::Verified).map_err(|c| c.code()),
            Err("INVALID_TRANSITION")
        );
    }
}
