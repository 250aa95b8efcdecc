//! Accounts and their roles.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::conflict::Conflict;
use super::ids::UserId;
use super::{time::Timestamp, ValidationError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Role {
    /// A learner: books slots.
    User,
    Mentor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "USER",
            Role::Mentor => "MENTOR",
            Role::Admin => "ADMIN",
        }
    }

    /// Where the role's pages start (the web front end has the same table).
    pub fn dashboard(self) -> &'static str {
        match self {
            Role::User => "/user/dashboard",
            Role::Mentor => "/mentor/dashboard",
            Role::Admin => "/admin/dashboard",
        }
    }

    pub fn from_stored(value: &str) -> Option<Self> {
        match value {
            "USER" => Some(Role::User),
            "MENTOR" => Some(Role::Mentor),
            "ADMIN" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// Which accounts the admin's list shows: a role, and text found in the name or e-mail
/// (case-insensitive). Names and e-mails are sealed at rest, so the text is matched on
/// each account read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub q: Option<String>,
}

impl UserFilter {
    pub fn matches(&self, user: &User) -> bool {
        let text = self.q.as_ref().map(|q| q.to_lowercase());
        self.role.is_none_or(|role| user.role == role)
            && text.is_none_or(|q| {
                user.name.to_lowercase().contains(&q) || user.email.to_lowercase().contains(&q)
            })
    }
}

/// An account as the API shows it (never the password hash).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct User {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub picture: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl User {
    pub fn id(&self) -> &UserId {
        UserId::new(&self.user_id)
    }
}

/// Length bounds: long enough for passphrases, short enough that hashing stays cheap.
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// Passwords that meet the length rule but are among the first tried by any attacker.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password123",
    "12345678",
    "123456789",
    "1234567890",
    "qwerty123",
    "qwertyuiop",
    "iloveyou1",
    "admin123",
    "welcome1",
    "letmein1",
    "abc12345",
    "11111111",
    "00000000",
    "passw0rd",
    "football1",
    "baseball1",
    "sunshine1",
    "princess1",
];

/// A password that passed the strength rule; holds the plain text only until it is hashed.
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let weak = |why: &str| ValidationError::new("password", "WEAK_PASSWORD", why.to_string());
        let len = raw.chars().count();
        if len < PASSWORD_MIN {
            return Err(weak("must be at least 8 characters"));
        }
        if len > PASSWORD_MAX {
            return Err(weak("must be at most 128 characters"));
        }
        let has_letter = raw.chars().any(char::is_alphabetic);
        let has_other = raw.chars().any(|c| !c.is_alphabetic());
        if !has_letter || !has_other {
            return Err(weak("must mix letters with digits or symbols"));
        }
        if COMMON_PASSWORDS.contains(&raw.to_lowercase().as_str()) {
            return Err(weak("is one of the most common passwords"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(**redacted**)")
    }
}

pub fn parse_name(raw: &str) -> Result<String, ValidationError> {
    super::bounded_text("name", raw, 1, 100)
}

/// Whether an account may close: a mentor's events are the marketplace's records, so a
/// mentor with events deletes them first (those with bookings stay: an admin decides).
pub fn check_closable(mentor_has_events: bool) -> Result<(), Conflict> {
    if mentor_has_events {
        return Err(Conflict::AccountHasEvents);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_strength_table() {
        for weak in [
            "short1",
            "allletters",
            "1234567890123",
            "Password1",
            "passw0rd",
        ] {
            let err = NewPassword::parse(weak).unwrap_err();
            assert_eq!(err.code, "WEAK_PASSWORD", "{weak}");
        }
        assert!(NewPassword::parse(&"a1".repeat(65)).is_err());
        for strong in ["correct horse 9", "Tr0ub4dor&3", "learner-pass-2026"] {
            assert!(NewPassword::parse(strong).is_ok(), "{strong}");
        }
    }

    #[test]
    fn password_debug_never_prints_the_secret() {
        let p = NewPassword::parse("secret-value-42").unwrap();
        assert!(!format!("{p:?}").contains("secret-value"));
    }

    #[test]
    fn roles_round_trip_through_storage_names() {
        for role in [Role::User, Role::Mentor, Role::Admin] {
            assert_eq!(Role::from_stored(role.as_str()), Some(role));
        }
        assert_eq!(Role::from_stored("ROOT"), None);
    }

    #[test]
    fn the_user_filter_matches_role_and_text_in_name_or_email() {
        let user = User {
            user_id: "user_1".into(),
            email: "asha.rao@example.org".into(),
            name: "Asha Rao".into(),
            role: Role::Mentor,
            picture: None,
            created_at: crate::domain::time::now(),
        };
        let filter = |role, q: Option<&str>| UserFilter {
            role,
            q: q.map(str::to_string),
        };
        assert!(filter(None, None).matches(&user));
        assert!(filter(Some(Role::Mentor), Some("RAO")).matches(&user));
        assert!(filter(None, Some("asha.rao@")).matches(&user));
        assert!(!filter(Some(Role::User), None).matches(&user));
        assert!(!filter(None, Some("zed")).matches(&user));
    }
}
