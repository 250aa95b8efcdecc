//! The rate limits applied to requests: whose bucket a request takes from, and the 429.

use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::limits::Rule;
use crate::state::AppState;

/// Takes one request from `key`'s bucket of `rule`, or answers 429 with `Retry-After`.
pub async fn take(state: &AppState, rule: &Rule, key: &str) -> Result<(), ApiError> {
    state
        .limits
        .take(rule, key)
        .await
        .map_err(ApiError::TooManyRequests)
}

/// The client's address: the peer, or behind our own proxy the hop it appended last to
/// `X-Forwarded-For` (earlier hops are whatever the client chose to send).
pub fn client_address(req: &HttpRequest, state: &AppState) -> String {
    let forwarded = state
        .trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for"))
        .flatten()
        .and_then(|v| v.to_str().ok())
        .and_then(|list| list.rsplit(',').next())
        .map(str::trim)
        .filter(|hop| hop.parse::<std::net::IpAddr>().is_ok());
    match forwarded {
        Some(hop) => hop.to_string(),
        None => req
            .peer_addr()
            .map(|peer| peer.ip().to_string())
            .unwrap_or_else(|| "unknown".into()),
    }
}

/// An account's bucket key: a digest of its normalised e-mail, so addresses stay out of
/// Redis key names and logs.
pub fn account_key(email: &str) -> String {
    hex::encode(&Sha256::digest(email.trim().to_lowercase().as_bytes())[..16])
}
