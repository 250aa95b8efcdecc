//! How sessions start (password and Google sign-in), are swapped when an account's rights
//! change (on the request that finds them marked), and end (sign-out, revocation). The
//! endpoints for the user's own sessions (the list, ending one, signing out everywhere) are
//! `session_list.rs`.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::ServiceResponse;
use actix_web::http::header::USER_AGENT;
use actix_web::{HttpMessage, HttpRequest};

use super::error::ApiError;
use crate::auth::{session_token, SESSION_COOKIE, SESSION_TTL};
use crate::domain::ids::UserId;
use crate::domain::time::Timestamp;
use crate::domain::user::User;
use crate::state::AppState;
use crate::store::Session;
use leadbridge_actors::node::Selector;
use leadbridge_actors::protocol::close;

/// The longest device description kept (a User-Agent can be kilobytes).
const DEVICE_MAX: usize = 160;

/// A session started for `user`: the session as stored, and its cookie.
pub struct Started {
    pub session: Session,
    pub cookie: Cookie<'static>,
    /// When its cookie (and an access token issued with it) was made.
    pub issued_at: Timestamp,
}

/// Starts a session: a fresh random token, stored hashed. A session the request came with
/// ends here, so a session id planted before sign-in (fixation) never becomes a signed-in one.
pub async fn start(req: &HttpRequest, state: &AppState, user: &User) -> Result<Started, ApiError> {
    if let Some(previous) = req.cookie(SESSION_COOKIE).filter(|c| !c.value().is_empty()) {
        // Other tabs of this browser hold the cookie about to change: they reconnect.
        end_one(
            state,
            &session_token::digest(previous.value()),
            close::SESSION_RENEWED,
        )
        .await?;
    }
    let now = state.clock.now();
    let started = new_session(req, &user.user_id, now, now + SESSION_TTL, now);
    state.store.create_session(started.session.clone()).await?;
    Ok(started)
}

/// How long a rotated session keeps working for requests already on their way with it.
const ROTATION_GRACE: chrono::Duration = chrono::Duration::seconds(30);

/// Swaps a session whose account's rights changed for a fresh one with the same end; the
/// response carries the new cookie. Of concurrent requests with the old cookie one swaps it,
/// the others go on with the old session, which ends after a short grace. `None` when this
/// request did not swap it.
pub async fn rotate(
    req: &HttpRequest,
    state: &AppState,
    old: &Session,
) -> Result<Option<Started>, ApiError> {
    // The same sign-in, under a new id: when it began and when it ends stay.
    let fresh = new_session(
        req,
        &old.user_id,
        old.created_at,
        old.expires_at,
        state.clock.now(),
    );
    let swapped = state
        .store
        .rotate_session(
            &old.token_hash,
            fresh.session.clone(),
            state.clock.now() + ROTATION_GRACE,
        )
        .await?;
    if !swapped {
        return Ok(None);
    }
    req.extensions_mut().insert(Rotated(fresh.cookie.clone()));
    // Sockets on the old session reconnect, with the new cookie, before it ends.
    state
        .realtime
        .close(
            Selector::Session(old.token_hash.clone()),
            close::SESSION_RENEWED,
        )
        .await;
    Ok(Some(fresh))
}

/// A rotated session's cookie, waiting for the response (see [`apply_rotated_cookie`]).
#[derive(Clone)]
struct Rotated(Cookie<'static>);

/// Sets the cookie of a session rotated while answering this request. Called from the
/// middleware every response already passes through (`headers::secure`), not a layer of its
/// own: a layer costs every request, and rotations are rare.
pub fn apply_rotated_cookie<B>(response: &mut ServiceResponse<B>) -> Result<(), actix_web::Error> {
    let rotated = response.request().extensions().get::<Rotated>().cloned();
    let Some(Rotated(cookie)) = rotated else {
        return Ok(());
    };
    // A handler that set the session cookie itself (a sign-in, a sign-out) has the last word.
    if response
        .response()
        .cookies()
        .any(|c| c.name() == SESSION_COOKIE)
    {
        return Ok(());
    }
    response.response_mut().add_cookie(&cookie)?;
    Ok(())
}

/// A new session (not yet stored) and its cookie.
fn new_session(
    req: &HttpRequest,
    user_id: &str,
    signed_in_at: Timestamp,
    expires_at: Timestamp,
    issued_at: Timestamp,
) -> Started {
    let token = session_token::generate();
    let device = req
        .headers()
        .get(USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("unknown device")
        .chars()
        .take(DEVICE_MAX)
        .collect();
    let session = Session {
        token_hash: session_token::digest(&token),
        user_id: user_id.to_string(),
        created_at: signed_in_at,
        expires_at,
        last_seen_at: issued_at,
        device,
        rotate: false,
    };
    let cookie = Cookie::build(SESSION_COOKIE, token)
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        // Whole seconds, rounded up: the cookie outlives the session by under a second.
        .max_age(CookieDuration::seconds(
            ((expires_at - issued_at).num_milliseconds().max(0) + 999) / 1000,
        ))
        .secure(req.connection_info().scheme() == "https")
        .finish();
    Started {
        session,
        cookie,
        issued_at,
    }
}

/// The cookie that clears the session cookie.
pub fn removal_cookie() -> Cookie<'static> {
    let mut expired = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .finish();
    expired.make_removal();
    expired
}

/// Ends one sign-in and closes its sockets with `code`: the session, and any it replaced
/// when its account's rights changed. A replaced session lives on for the swap's grace
/// (requests already on their way with it); signing out must not leave it usable. A swap
/// keeps the sign-in's start, which is how its sessions are told from the account's
/// other sign-ins.
pub async fn end_one(state: &AppState, session_hash: &str, code: u16) -> Result<(), ApiError> {
    let mut ending = vec![session_hash.to_string()];
    if let Some(session) = state.store.session(session_hash).await? {
        ending.extend(
            state
                .store
                .user_sessions(UserId::new(&session.user_id))
                .await?
                .into_iter()
                .filter(|s| s.created_at == session.created_at && s.token_hash != session_hash)
                .map(|s| s.token_hash),
        );
    }
    for hash in ending {
        state.store.delete_session(&hash).await?;
        state.realtime.close(Selector::Session(hash), code).await;
    }
    Ok(())
}
