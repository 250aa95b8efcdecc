//! The rate limits applied to requests: whose bucket a request takes from, and the 429.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::HttpRequest;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::auth::device_cookie::{DEVICE_COOKIE, DEVICE_TTL_DAYS};
use crate::limits::{self, Rule};
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

/// Takes a password sign-in to `email`'s account from the buckets that apply: a browser
/// that signed in to this account before draws on its own allowance only; any other draws
/// on its address's, on the pair of account and address, and on the account's ceiling. A
/// guesser elsewhere thus never locks the owner out of their own browser, and a guesser at
/// one address never locks out the account from another.
pub async fn take_sign_in(
    req: &HttpRequest,
    state: &AppState,
    email: &str,
    user_id: Option<&str>,
) -> Result<(), ApiError> {
    let device = user_id.and_then(|user_id| {
        req.cookie(DEVICE_COOKIE)
            .and_then(|cookie| state.devices.recognise(cookie.value(), user_id))
    });
    if let Some(device) = device {
        return take(state, &limits::LOGIN_PER_DEVICE, &device).await;
    }
    let account = account_key(email);
    let address = client_address(req, state);
    take(state, &limits::LOGIN_PER_IP, &address).await?;
    take(
        state,
        &limits::LOGIN_PER_ACCOUNT_AND_ADDRESS,
        &format!("{account}:{address}"),
    )
    .await?;
    take(state, &limits::LOGIN_PER_ACCOUNT, &account).await
}

/// The device cookie a successful sign-in to `user_id` leaves in the browser. Sent only
/// to `/api/auth`, never with other sites' requests.
pub fn device_cookie(req: &HttpRequest, state: &AppState, user_id: &str) -> Cookie<'static> {
    let current = req.cookie(DEVICE_COOKIE);
    let value = state
        .devices
        .remember(current.as_ref().map(|c| c.value()), user_id);
    Cookie::build(DEVICE_COOKIE, value)
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/api/auth")
        .max_age(CookieDuration::days(DEVICE_TTL_DAYS))
        .secure(req.connection_info().scheme() == "https")
        .finish()
}
