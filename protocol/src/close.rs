//! Close codes the server uses. 1000–1015 are the standard ones; 4000–4999 are ours.

/// The answer to a client's own close.
pub const NORMAL: u16 = 1000;
/// The server is shutting down or restarting: reconnect (with `since`) to another moment.
pub const GOING_AWAY: u16 = 1001;
/// The client broke a rule, e.g. sent more than the allowed messages per second.
pub const POLICY_VIOLATION: u16 = 1008;
/// A frame larger than the limit (64 KiB).
pub const MESSAGE_TOO_BIG: u16 = 1009;
/// The node lost its link to the other nodes (the Redis bus) or the history moved to a new
/// epoch: what this socket saw may have a gap. Reconnect with `since` (it is answered with a
/// replay or a fresh snapshot).
pub const SERVICE_RESTART: u16 = 1012;
/// The client reads too slowly: its outbound queue passed the bound. Reconnect with `since`.
pub const TRY_AGAIN_LATER: u16 = 1013;
/// The session ended (logout, expiry): sign in again.
pub const SESSION_ENDED: u16 = 4001;
/// The session was replaced by a new one (its account's rights changed, or this browser
/// signed in again): reconnect in a moment, with the new cookie.
pub const SESSION_RENEWED: u16 = 4002;
/// The account lost the right to what it watched (e.g. a mentor's approval was revoked).
pub const FORBIDDEN: u16 = 4003;
/// No ping answered within the idle timeout.
pub const IDLE_TIMEOUT: u16 = 4008;

/// A one-line reason for each code, sent with the close frame.
pub fn reason(code: u16) -> &'static str {
    match code {
        NORMAL => "closed",
        GOING_AWAY => "server going away",
        POLICY_VIOLATION => "too many messages",
        MESSAGE_TOO_BIG => "frame too large",
        SERVICE_RESTART => "live updates interrupted; reconnect with since",
        TRY_AGAIN_LATER => "too slow to keep up; reconnect with since",
        SESSION_ENDED => "session ended; sign in again",
        SESSION_RENEWED => "session renewed; reconnect",
        FORBIDDEN => "access revoked",
        IDLE_TIMEOUT => "no answer to pings",
        _ => "closing",
    }
}
