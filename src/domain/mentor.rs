//! Mentor profiles and the admin's approval decision.

use super::ids::MentorId;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{bounded_text, time::Timestamp, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum MentorStatus {
    Pending,
    Approved,
    Rejected,
}

impl MentorStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MentorStatus::Pending => "PENDING",
            MentorStatus::Approved => "APPROVED",
            MentorStatus::Rejected => "REJECTED",
        }
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        match value {
            "PENDING" => Some(MentorStatus::Pending),
            "APPROVED" => Some(MentorStatus::Approved),
            "REJECTED" => Some(MentorStatus::Rejected),
            _ => None,
        }
    }

    /// An admin may approve or reject a pending mentor, revoke an approval, or reconsider a
    /// rejection; deciding what is already the case is a conflict, not a silent no-op.
    pub fn decide(self, decision: MentorStatus) -> Result<MentorStatus, String> {
        match (self, decision) {
            (_, MentorStatus::Pending) => Err("a decision must be APPROVED or REJECTED".into()),
            (from, to) if from == to => Err(format!("mentor is already {}", to.as_str())),
            (_, to) => Ok(to),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MentorProfile {
    pub mentor_id: String,
    pub user_id: String,
    /// Denormalised from the account so listings need no second look-up.
    pub name: String,
    pub email: String,
    pub bio: String,
    pub expertise: Vec<String>,
    pub experience: String,
    pub verification_status: MentorStatus,
    /// The admin's reason for the last decision, shown to the mentor.
    pub verification_reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl MentorProfile {
    pub fn id(&self) -> &MentorId {
        MentorId::new(&self.mentor_id)
    }
}

/// A validated profile edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileUpdate {
    pub bio: String,
    pub expertise: Vec<String>,
    pub experience: String,
}

pub const MAX_EXPERTISE: usize = 20;

impl ProfileUpdate {
    pub fn parse(
        bio: &str,
        expertise: &[String],
        experience: &str,
    ) -> Result<Self, ValidationError> {
        if expertise.len() > MAX_EXPERTISE {
            return Err(ValidationError::new(
                "expertise",
                "VALIDATION_FAILED",
                format!("at most {MAX_EXPERTISE} entries"),
            ));
        }
        let mut tags: Vec<String> = Vec::with_capacity(expertise.len());
        for tag in expertise {
            let tag = bounded_text("expertise", tag, 1, 50)?;
            if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                tags.push(tag);
            }
        }
        Ok(Self {
            bio: bounded_text("bio", bio, 0, 2000)?,
            expertise: tags,
            experience: bounded_text("experience", experience, 0, 500)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MentorStatus::*;

    #[test]
    fn decision_table() {
        assert_eq!(Pending.decide(Approved), Ok(Approved));
        assert_eq!(Pending.decide(Rejected), Ok(Rejected));
        assert_eq!(Approved.decide(Rejected), Ok(Rejected));
        assert_eq!(Rejected.decide(Approved), Ok(Approved));
        assert!(Approved.decide(Approved).is_err());
        assert!(Pending.decide(Pending).is_err());
    }

    #[test]
    fn profile_update_dedupes_and_bounds_expertise() {
        let p = ProfileUpdate::parse(
            " bio ",
            &["Rust".into(), "rust".into(), " Go ".into()],
            "5y",
        )
        .unwrap();
        assert_eq!(p.expertise, vec!["Rust", "Go"]);
        assert_eq!(p.bio, "bio");
        let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert_eq!(
            ProfileUpdate::parse("", &too_many, "").unwrap_err().field,
            "expertise"
        );
        assert!(ProfileUpdate::parse(&"x".repeat(2001), &[], "").is_err());
    }
}
