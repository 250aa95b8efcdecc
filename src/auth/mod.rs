//! Authentication pieces with no HTTP in them: password hashing, session tokens and the
//! short-lived access JWT. The extractors that use them live in `http::extract`.

pub mod jwt;
pub mod password;
pub mod session_token;

/// How long a session (the `session_token` cookie) lives.
pub const SESSION_TTL: chrono::Duration = chrono::Duration::days(7);
/// How long an `access_token` JWT lives; it is also void once its session ends.
pub const ACCESS_TOKEN_TTL: chrono::Duration = chrono::Duration::minutes(15);
pub const SESSION_COOKIE: &str = "session_token";
