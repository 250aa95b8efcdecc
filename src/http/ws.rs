//! `GET /api/ws`: the realtime WebSocket (actix-ws, the maintained successor of the
//! deprecated actix-web-actors). The protocol is in the `leadbridge-protocol` crate.

use std::sync::Arc;

use actix_web::http::header::AUTHORIZATION;
use actix_web::{get, web, HttpRequest, HttpResponse};
use leadbridge_actors::access::{Viewer, ViewerRole};
use leadbridge_actors::hub::CountSockets;
use leadbridge_actors::protocol::SUBPROTOCOL;
use leadbridge_actors::session::{self, Services};

use futures_util::FutureExt;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::{identify, AuthUser};
use super::json::Query;
use super::throttle;
use crate::domain::ids::UserId;
use crate::domain::mentor::MentorStatus;
use crate::domain::user::Role;
use crate::limits;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(websocket);
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WsQuery {
    /// An access token (JWT), for clients that cannot set headers.
    pub token: Option<String>,
}

/// Who the socket acts for. A mentor who is not approved is an applicant: the lead feed is
/// a privilege of approval, but the decision itself arrives on their own `user:` topic.
async fn viewer(state: &AppState, auth: &AuthUser) -> Result<Viewer, ApiError> {
    let role = match auth.user.role {
        Role::User => ViewerRole::Learner,
        Role::Admin => ViewerRole::Admin,
        Role::Mentor => {
            let profile = state
                .store
                .mentor_by_user(auth.user.id())
                .await?
                .ok_or_else(|| ApiError::not_found("mentor profile"))?;
            if profile.verification_status == MentorStatus::Approved {
                ViewerRole::Mentor {
                    mentor_id: profile.mentor_id,
                }
            } else {
                ViewerRole::Applicant
            }
        }
    };
    Ok(Viewer {
        user_id: auth.user.user_id.clone(),
        role,
        session_hash: auth.session_hash.clone(),
    })
}

/// Upgrade to the realtime socket. Credentials: `Authorization: Bearer`, `?token=`, or the
/// session cookie (then `Origin` must be this site or allowed, else 403). Without any, the
/// socket may watch public topics (`event:{id}`) only. Subprotocol `leadbridge.v1`.
#[utoipa::path(
    tag = "realtime",
    params(WsQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket handshake", body = ErrorBody),
        (status = 401, description = "Credentials given but invalid or expired", body = ErrorBody),
        (status = 403, description = "Session cookie from a foreign Origin (CSRF_ORIGIN_REJECTED)", body = ErrorBody),
        (status = 429, description = "Too many connections from this address (RATE_LIMITED); see Retry-After", body = ErrorBody),
        (status = 503, description = "Live updates are interrupted (the bus between nodes is down); retry shortly", body = ErrorBody),
    )
)]
#[get("/ws")]
async fn websocket(
    req: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
    query: Query<WsQuery>,
) -> Result<HttpResponse, ApiError> {
    throttle::take(
        &state,
        &limits::WS_CONNECT_PER_IP,
        &throttle::client_address(&req, &state),
    )
    .await?;
    if !state.realtime.available() {
        // A socket now could not promise it misses nothing; the client retries with `since`.
        return Err(ApiError::Unavailable(
            "live updates are interrupted; reconnect shortly".into(),
        ));
    }
    let cookie_only = query.token.as_deref().is_none_or(str::is_empty)
        && !req.headers().contains_key(AUTHORIZATION);
    let identity = match identify(&req, query.token.as_deref()).await {
        // A stale cookie must not cost a public page its live updates.
        Err(ApiError::Unauthorized(_)) if cookie_only => None,
        other => other?,
    };
    let (viewer, expires_at) = match identity {
        // Cross-site socket hijacking: a socket carrying the session cookie from another
        // site's page was refused by the CSRF guard (`csrf.rs`) before it got here.
        Some((auth, _)) => {
            let left = (auth.session_live_until - state.clock.now())
                .to_std()
                .unwrap_or_default();
            let viewer = viewer(&state, &auth).await?;
            (Some(viewer), Some(tokio::time::Instant::now() + left))
        }
        None => (None, None),
    };
    let (response, socket, stream) = actix_ws::handle_with_protocols(&req, body, &[SUBPROTOCOL])
        .map_err(|e| ApiError::bad_request("NOT_A_WEBSOCKET", e.to_string()))?;
    let services = state.realtime.services.clone();
    let admin = viewer
        .as_ref()
        .filter(|v| v.role == ViewerRole::Admin)
        .map(|v| v.user_id.clone());
    // Chained, not awaited inside an `async` block: such a block would hold the session's
    // future twice over (its capture and the pinned copy it awaits), some KiB per socket.
    let session = session::run(socket, stream, services.clone(), viewer, expires_at);
    let state = state.into_inner();
    actix_web::rt::spawn(session.then(move |remaining| async move {
        if let (Some(admin_id), 0) = (admin, remaining) {
            // Boxed: rare, and it would otherwise size every socket's task.
            Box::pin(release_claims_after_grace(state, services, admin_id)).await;
        }
    }));
    Ok(response)
}

/// An admin who left entirely (not just reloading, not still on another node) gives back
/// the items they held.
async fn release_claims_after_grace(state: Arc<AppState>, services: Services, admin_id: String) {
    tokio::time::sleep(services.limits.reconnect_grace).await;
    let back = services
        .hub
        .send(CountSockets {
            user_id: admin_id.clone(),
        })
        .await
        .unwrap_or(0);
    // Unknown (the bus is down) keeps the claims: they expire on their own.
    let elsewhere = match services.bus.peers() {
        Some(peers) => peers.connected_elsewhere(&admin_id).await.unwrap_or(true),
        None => false,
    };
    if back == 0 && !elsewhere {
        if let Err(e) = state.store.release_claims_of(UserId::new(&admin_id)).await {
            tracing::warn!(error = ?e, "claims not released on disconnect");
        }
    }
}
