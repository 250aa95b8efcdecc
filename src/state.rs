//! What every handler shares: the store and the services around it.

use std::sync::Arc;

use crate::auth::device_cookie::DeviceCookies;
use crate::auth::google::GoogleClient;
use crate::auth::jwt::AccessTokens;
use crate::auth::password_pool::PasswordPool;
use crate::auth::SessionPolicy;
use crate::clock::Clock;
use crate::limits::RateLimiter;
use crate::payments::Payments;
use crate::realtime::Realtime;
use crate::store::Store;

pub struct AppState {
    /// What time it is (tests advance a manual one instead of sleeping).
    pub clock: Arc<dyn Clock>,
    /// The source of truth.
    pub store: Arc<dyn Store>,
    pub tokens: AccessTokens,
    /// Recognises browsers that signed in to an account before (sign-in limits).
    pub devices: DeviceCookies,
    pub payments: Payments,
    /// Origins trusted for cookie-authenticated writes besides the server's own.
    pub allowed_origins: Vec<String>,
    /// Live updates: published after each committed change.
    pub realtime: Realtime,
    pub limits: RateLimiter,
    /// Whether the client address comes from `X-Forwarded-For` (behind our own proxy).
    pub trust_forwarded_for: bool,
    /// Idle and absolute session expiry.
    pub sessions: SessionPolicy,
    /// How long a request body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// Where password hashes run, a few at a time.
    pub passwords: PasswordPool,
    /// Google sign-in, when configured.
    pub google: Option<Arc<GoogleClient>>,
}
