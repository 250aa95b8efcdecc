//! Rate limits: a token bucket per rule and key (an IP address, an account, a learner),
//! counted in this process, or in Redis when it is configured so that a client cannot
//! multiply its allowance by spreading requests over nodes. When Redis does not answer,
//! the node decides alone rather than refusing or stalling everyone.

mod gcra;
mod local;
mod shared;

use std::sync::Arc;
use std::time::Duration;

pub use gcra::Rule;
use local::LocalBuckets;
use shared::SharedBuckets;

/// Sign-in attempts from one address: enough for a household behind one router.
pub const LOGIN_PER_IP: Rule = Rule {
    name: "login-ip",
    burst: 20,
    every_ms: 3_000,
};
/// Sign-in attempts on one account from one address, by a browser that has not signed in
/// to it before: one guesser is slowed to a crawl without touching anyone elsewhere.
pub const LOGIN_PER_ACCOUNT_AND_ADDRESS: Rule = Rule {
    name: "login-account-ip",
    burst: 10,
    every_ms: 30_000,
};
/// Sign-in attempts on one account from anywhere, by browsers that have not signed in to
/// it before: a ceiling that slows guessing spread over many addresses (to 5,760 a day)
/// and that a guesser at one address (held to one per 30 s by the pair's bucket) cannot
/// exhaust, so the owner in a new browser elsewhere still gets in. The owner's own
/// browsers are not counted here at all.
pub const LOGIN_PER_ACCOUNT: Rule = Rule {
    name: "login-account",
    burst: 20,
    every_ms: 15_000,
};
/// Sign-in attempts by a browser that signed in to the account before (its device cookie):
/// the owner's own allowance, which nobody else's attempts use up.
pub const LOGIN_PER_DEVICE: Rule = Rule {
    name: "login-device",
    burst: 10,
    every_ms: 30_000,
};
/// Password confirmations by a signed-in account (closing it).
pub const REAUTH_PER_ACCOUNT: Rule = Rule {
    name: "reauth-account",
    burst: 5,
    every_ms: 60_000,
};
/// New accounts from one address.
pub const REGISTER_PER_IP: Rule = Rule {
    name: "register-ip",
    burst: 10,
    every_ms: 360_000,
};
/// Bookings by one learner: far above what a person books, far below a seat-grabbing script.
pub const BOOKING_PER_LEARNER: Rule = Rule {
    name: "booking-learner",
    burst: 10,
    every_ms: 6_000,
};
/// WebSocket connections from one address (reloads and tabs included).
pub const WS_CONNECT_PER_IP: Rule = Rule {
    name: "ws-ip",
    burst: 30,
    every_ms: 2_000,
};

#[derive(Clone)]
pub struct RateLimiter {
    /// `None`: limits are off (load tests only).
    buckets: Option<Arc<Buckets>>,
}

struct Buckets {
    local: LocalBuckets,
    shared: Option<SharedBuckets>,
}

impl RateLimiter {
    /// Limits counted here, or in Redis at `redis_url` when given.
    pub fn new(redis_url: Option<&str>) -> anyhow::Result<Self> {
        Ok(Self {
            buckets: Some(Arc::new(Buckets {
                local: LocalBuckets::new(),
                shared: redis_url.map(SharedBuckets::new).transpose()?,
            })),
        })
    }

    /// No limits at all: for load generators that make thousands of requests from one
    /// address on purpose.
    pub fn off() -> Self {
        Self { buckets: None }
    }

    /// Takes one request from `key`'s bucket of `rule`; `Err(wait)` when it is empty.
    pub async fn take(&self, rule: &Rule, key: &str) -> Result<(), Duration> {
        let Some(buckets) = &self.buckets else {
            return Ok(());
        };
        if let Some(shared) = &buckets.shared {
            match shared.take(rule, key).await {
                Ok(decision) => return decision,
                Err(e) => {
                    tracing::debug!(error = %e, rule = rule.name, "rate limit decided locally")
                }
            }
        }
        buckets.local.take(rule, key)
    }
}
