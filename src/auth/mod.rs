//! Authentication pieces with no HTTP in them: password hashing, session tokens and the
//! short-lived access JWT. The extractors that use them live in `http::extract`.

pub mod device_cookie;
pub mod google;
pub mod jwt;
pub mod password;
pub mod password_pool;
pub mod session_token;

/// How long a session (the `session_token` cookie) lives.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::days(7);
/// How long an `access_token` JWT lives; it is also void once its session ends.
pub const ACCESS_TOKEN_TTL: chrono::Duration = chrono::Duration::minutes(15);
pub const SESSION_COOKIE: &str = "session_token";

/// When a session ends: at its absolute end (`expires_at`, set at sign-in), or once unused
/// for `idle`.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub idle: chrono::Duration,
}

impl SessionPolicy {
    pub fn new(idle: std::time::Duration) -> Self {
        Self {
            idle: chrono::Duration::from_std(idle).unwrap_or(SESSION_TTL),
        }
    }

    pub fn is_live(&self, session: &crate::store::Session, now: Timestamp) -> bool {
        now < session.expires_at && now < session.last_seen_at + self.idle
    }

    /// Whether this use should be recorded: at most once per twelfth of the idle timeout
    /// (five minutes at most), so a busy session costs one write per interval.
    pub fn needs_touch(&self, session: &crate::store::Session, now: Timestamp) -> bool {
        let every = (self.idle / 12).min(chrono::Duration::minutes(5));
        now - session.last_seen_at >= every
    }
}

use crate::domain::time::Timestamp;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::now;
    use crate::store::Session;

    fn session(created: Timestamp, seen: Timestamp) -> Session {
        Session {
            token_hash: "h".into(),
            user_id: "u".into(),
            created_at: created,
            expires_at: created + SESSION_TTL,
            last_seen_at: seen,
            device: String::new(),
            rotate: false,
        }
    }

    #[test]
    fn sessions_end_when_idle_or_at_their_absolute_end() {
        let policy = SessionPolicy::new(std::time::Duration::from_secs(3600));
        let t = now();
        let minutes = chrono::Duration::minutes;
        assert!(policy.is_live(&session(t, t), t + minutes(59)));
        assert!(!policy.is_live(&session(t, t), t + minutes(61)), "idle");
        let busy = session(t, t + SESSION_TTL - minutes(1));
        assert!(
            !policy.is_live(&busy, t + SESSION_TTL),
            "absolute end, however busy"
        );
        assert!(!policy.needs_touch(&session(t, t), t + minutes(4)));
        assert!(policy.needs_touch(&session(t, t), t + minutes(5)));
    }
}
