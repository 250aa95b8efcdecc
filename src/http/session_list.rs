//! `/api/auth/sessions` and sign-out everywhere: where an account is signed in, ending one of
//! those sessions, and ending them all. The mechanics (start, swap, end) are `sessions.rs`.

use actix_web::{delete, get, post, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::AuthUser;
use super::sessions::{end_one, removal_cookie};
use super::views::MessageResponse;
use crate::app::accounts::end_all_sessions;
use crate::domain::time::{serialize_wire, Timestamp};
use crate::state::AppState;
use leadbridge_actors::protocol::close;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list_sessions)
        .service(end_session)
        .service(logout_everywhere);
}

/// How a session is named to its user: a prefix of its store key (never the token).
fn public_id(session_hash: &str) -> &str {
    &session_hash[..session_hash.len().min(16)]
}

/// "Chrome on Linux" for a User-Agent; what cannot be told is said plainly.
fn describe_device(user_agent: &str) -> String {
    let Some(found) = woothee::parser::Parser::new().parse(user_agent) else {
        return "Unknown browser".to_string();
    };
    let known = |value: &str| !value.is_empty() && value != woothee::woothee::VALUE_UNKNOWN;
    match (known(found.name), known(found.os)) {
        (true, true) => format!("{} on {}", found.name, found.os),
        (true, false) => found.name.to_string(),
        (false, true) => format!("A browser on {}", found.os),
        (false, false) => "Unknown browser".to_string(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    /// Names the session for `DELETE /api/auth/sessions/{session_id}`.
    pub session_id: String,
    /// The browser that signed in, in words ("Chrome on Linux"), from its User-Agent.
    pub device: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub last_seen_at: Timestamp,
    /// When it ends however much it is used.
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub expires_at: Timestamp,
    /// The session this request came with.
    pub current: bool,
}

/// Where you are signed in, newest first.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, body = [SessionView]), (status = 401, body = ErrorBody))
)]
#[get("/sessions")]
async fn list_sessions(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<web::Json<Vec<SessionView>>, ApiError> {
    let now = state.clock.now();
    let sessions = state.store.user_sessions(auth.user.id()).await?;
    Ok(web::Json(
        sessions
            .into_iter()
            .filter(|s| state.sessions.is_live(s, now))
            .map(|s| SessionView {
                session_id: public_id(&s.token_hash).to_string(),
                current: s.token_hash == auth.session_hash,
                device: describe_device(&s.device),
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
                expires_at: s.expires_at,
            })
            .collect(),
    ))
}

/// End one of your sessions (a lost phone, a shared computer). Ending the current one signs
/// this browser out too.
#[utoipa::path(
    tag = "auth",
    params(("session_id" = String, Path, description = "From the session list")),
    responses(
        (status = 200, body = MessageResponse),
        (status = 401, body = ErrorBody),
        (status = 404, description = "No such session of yours", body = ErrorBody),
    )
)]
#[delete("/sessions/{session_id}")]
async fn end_session(
    state: web::Data<AppState>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let wanted = path.into_inner();
    let session = state
        .store
        .user_sessions(auth.user.id())
        .await?
        .into_iter()
        .find(|s| wanted.len() == 16 && public_id(&s.token_hash) == wanted)
        .ok_or_else(|| ApiError::not_found("session"))?;
    end_one(&state, &session.token_hash, close::SESSION_ENDED).await?;
    let mut response = HttpResponse::Ok();
    if session.token_hash == auth.session_hash {
        response.cookie(removal_cookie());
    }
    Ok(response.json(MessageResponse::new("Session ended")))
}

/// Sign out everywhere: every session of this account ends, this one included, and every
/// live connection closes.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, body = MessageResponse), (status = 401, body = ErrorBody))
)]
#[post("/logout-everywhere")]
async fn logout_everywhere(
    state: web::Data<AppState>,
    auth: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let ended = end_all_sessions(&state, auth.user.id()).await?;
    tracing::info!(user_id = %auth.user.user_id, ended, "signed out everywhere");
    Ok(HttpResponse::Ok()
        .cookie(removal_cookie())
        .json(MessageResponse::new("Signed out everywhere")))
}

#[cfg(test)]
mod tests {
    use super::describe_device;

    #[test]
    fn devices_are_named_in_words() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
        assert_eq!(describe_device(chrome), "Chrome on Linux");
        let firefox =
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(describe_device(firefox), "Firefox on Windows 10");
        assert_eq!(describe_device("unknown device"), "Unknown browser");
        assert_eq!(describe_device(""), "Unknown browser");
    }
}
