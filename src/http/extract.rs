//! Authentication as a type in the handler's signature: `AuthUser` for anyone signed in,
//! `Learner`, `Mentor` and `Admin` for one role (401 when signed out, 403 for other roles).

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use crate::auth::{session_token, SESSION_COOKIE};
use crate::domain::ids::UserId;
use crate::domain::mentor::{MentorProfile, MentorStatus};
use crate::domain::user::{Role, User};
use crate::state::AppState;

/// A signed-in account and the session it came with.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    /// The store key of the session (SHA-256 of its token).
    pub session_hash: String,
    /// When the session ends unless used again: its absolute end, or sooner its idle end
    /// (a live socket checks the session again then).
    pub session_live_until: crate::domain::time::Timestamp,
}

pub fn state(req: &HttpRequest) -> Result<web::Data<AppState>, ApiError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("application state is not registered")))
}

/// Where the request's credentials came from.
enum Presented {
    /// An access JWT: the session named inside, owned by `sub`.
    Jwt {
        session_hash: String,
        user_id: String,
    },
    /// The session cookie, or a raw session token as a bearer.
    SessionToken(String),
}

/// A bearer credential: a JWT (three dot-separated parts) or a raw session token.
fn bearer(token: &str, state: &AppState) -> Result<Presented, ApiError> {
    if token.matches('.').count() == 2 {
        let claims = state
            .tokens
            .verify(token)
            .ok_or_else(|| ApiError::Unauthorized("access token is invalid or expired".into()))?;
        return Ok(Presented::Jwt {
            session_hash: claims.sid,
            user_id: claims.sub,
        });
    }
    Ok(Presented::SessionToken(token.to_string()))
}

/// The credentials a request carries, if any: the `Authorization` header first, then a
/// `?token=` (WebSockets only), then the session cookie. The flag says it is the cookie.
fn presented(
    req: &HttpRequest,
    state: &AppState,
    query_token: Option<&str>,
) -> Result<Option<(Presented, bool)>, ApiError> {
    if let Some(header) = req.headers().get(AUTHORIZATION) {
        let value = header.to_str().unwrap_or_default();
        let token = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::Unauthorized("Authorization must be `Bearer <token>`".into())
            })?;
        return bearer(token, state).map(|p| Some((p, false)));
    }
    if let Some(token) = query_token.filter(|t| !t.is_empty()) {
        // Query strings end up in logs and histories: only short-lived JWTs go there.
        let claims = state
            .tokens
            .verify(token)
            .ok_or_else(|| ApiError::Unauthorized("token must be a valid access token".into()))?;
        let presented = Presented::Jwt {
            session_hash: claims.sid,
            user_id: claims.sub,
        };
        return Ok(Some((presented, false)));
    }
    Ok(req
        .cookie(SESSION_COOKIE)
        .filter(|c| !c.value().is_empty())
        .map(|c| (Presented::SessionToken(c.value().to_string()), true)))
}

/// The signed-in account behind the request's credentials: `Ok(None)` when it carries none,
/// 401 when they are invalid or their session ended.
pub async fn identify(
    req: &HttpRequest,
    query_token: Option<&str>,
) -> Result<Option<(AuthUser, bool)>, ApiError> {
    let state = state(req)?;
    let Some((presented, from_cookie)) = presented(req, &state, query_token)? else {
        return Ok(None);
    };
    let (session_hash, expected_user) = match presented {
        Presented::Jwt {
            session_hash,
            user_id,
        } => (session_hash, Some(user_id)),
        Presented::SessionToken(token) => (session_token::digest(&token), None),
    };
    let expired = || ApiError::Unauthorized("session expired or signed out; sign in again".into());
    let session = state
        .store
        .session(&session_hash)
        .await?
        .ok_or_else(expired)?;
    let now = state.clock.now();
    if !state.sessions.is_live(&session, now) || expected_user.is_some_and(|u| u != session.user_id)
    {
        return Err(expired());
    }
    let mut session_hash = session_hash;
    let mut used_at = session.last_seen_at;
    if session.rotate {
        // Only a cookie can be replaced; a token of the old session signs in again.
        if !from_cookie {
            return Err(expired());
        }
        if let Some(fresh) = super::sessions::rotate(req, &state, &session).await? {
            session_hash = fresh.session.token_hash;
            used_at = now;
        }
    } else if state.sessions.needs_touch(&session, now) {
        // Best effort: a missed touch only brings the idle end closer.
        match state.store.touch_session(&session_hash, now).await {
            Ok(()) => used_at = now,
            Err(e) => tracing::warn!(error = ?e, "recording a session's use failed"),
        }
    }
    let session_live_until = session.expires_at.min(used_at + state.sessions.idle);
    let user = state
        .store
        .user(UserId::new(&session.user_id))
        .await?
        .ok_or_else(expired)?;
    Ok(Some((
        AuthUser {
            user,
            session_hash,
            session_live_until,
        },
        from_cookie,
    )))
}

async fn authenticate(req: HttpRequest) -> Result<AuthUser, ApiError> {
    identify(&req, None)
        .await?
        .map(|(auth, _)| auth)
        .ok_or_else(|| ApiError::Unauthorized("sign in first".into()))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

async fn with_role(req: HttpRequest, role: Role) -> Result<AuthUser, ApiError> {
    let auth = authenticate(req).await?;
    if auth.user.role != role {
        return Err(ApiError::forbidden(
            "FORBIDDEN",
            format!("this needs a {} account", role.as_str()),
        ));
    }
    Ok(auth)
}

/// A signed-in learner (role USER).
pub struct Learner(pub AuthUser);

/// A signed-in admin.
pub struct Admin(pub AuthUser);

/// A signed-in mentor with their profile.
pub struct Mentor {
    pub auth: AuthUser,
    pub profile: MentorProfile,
}

impl Mentor {
    /// Publishing events and buying leads need an approved profile.
    pub fn require_approved(&self) -> Result<(), ApiError> {
        if self.profile.verification_status == MentorStatus::Approved {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "MENTOR_NOT_APPROVED",
                format!(
                    "your mentor profile is {}; an admin must approve it first",
                    self.profile.verification_status.as_str()
                ),
            ))
        }
    }
}

impl FromRequest for Learner {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { with_role(req, Role::User).await.map(Learner) })
    }
}

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { with_role(req, Role::Admin).await.map(Admin) })
    }
}

impl FromRequest for Mentor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let auth = with_role(req.clone(), Role::Mentor).await?;
            let profile = state(&req)?
                .store
                .mentor_by_user(auth.user.id())
                .await?
                .ok_or_else(|| ApiError::not_found("mentor profile"))?;
            Ok(Mentor { auth, profile })
        })
    }
}
