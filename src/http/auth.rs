//! `/api/auth`: registration, password login, the current user, logout.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::{identify, AuthUser};
use super::json::Json;
use super::sessions;
use super::throttle;
use super::views::MessageResponse;
use crate::app::accounts;
use crate::auth::{password, ACCESS_TOKEN_TTL};
use crate::domain::contact::EmailAddress;
use crate::domain::ids;
use crate::domain::user::{parse_name, NewPassword, Role, User};
use crate::limits;
use crate::state::AppState;
use crate::store::NewUser;
use leadbridge_actors::protocol::close;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(me)
        .service(close_account)
        .service(current_session)
        .service(logout)
        .configure(super::session_list::routes)
        .configure(super::google::routes);
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    /// USER (learner, the default) or MENTOR. ADMIN is refused.
    pub role: Option<Role>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// The account plus a short-lived bearer token; the session itself is in the cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignedIn {
    #[serde(flatten)]
    pub user: User,
    /// HS256 JWT for `Authorization: Bearer`, valid 15 minutes and only while the session lives.
    pub access_token: String,
    pub token_type: &'static str,
    /// Seconds until `access_token` expires.
    pub expires_in: i64,
}

/// Signs the user in: a new session (see `sessions::start`), its cookie and an access token.
async fn sign_in(
    req: &HttpRequest,
    state: &AppState,
    user: User,
) -> Result<HttpResponse, ApiError> {
    let started = sessions::start(req, state, &user).await?;
    let access_token = state.tokens.issue(
        &user.user_id,
        &started.session.token_hash,
        started.issued_at,
    )?;
    Ok(HttpResponse::Ok()
        .cookie(started.cookie)
        .cookie(throttle::device_cookie(req, state, &user.user_id))
        .json(SignedIn {
            user,
            access_token,
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_TTL.num_seconds(),
        }))
}

/// Create an account (learner or mentor) and sign in. Mentors start PENDING.
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 200, description = "Registered and signed in", body = SignedIn),
        (status = 403, description = "ADMIN cannot self-register", body = ErrorBody),
        (status = 409, description = "E-mail taken", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address (RATE_LIMITED); see Retry-After", body = ErrorBody),
        (status = 422, description = "Invalid e-mail, name or weak password", body = ErrorBody),
    )
)]
#[post("/register")]
async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    throttle::take(
        &state,
        &limits::REGISTER_PER_IP,
        &throttle::client_address(&req, &state),
    )
    .await?;
    let body = body.0;
    let role = body.role.unwrap_or(Role::User);
    if role == Role::Admin {
        return Err(ApiError::forbidden(
            "ADMIN_REGISTRATION_FORBIDDEN",
            "admin accounts cannot be registered; they are configured by the operator",
        ));
    }
    let email = EmailAddress::parse("email", &body.email)?;
    let name = parse_name(&body.name)?;
    let password = NewPassword::parse(&body.password)?;
    let password_hash = state.passwords.hash(password.expose().to_string()).await?;
    let created_at = state.clock.now();
    let user = state
        .store
        .create_user(NewUser {
            user_id: ids::new_id(ids::USER),
            email: email.as_str().to_string(),
            name,
            role,
            password_hash,
            mentor_id: (role == Role::Mentor).then(|| ids::new_id(ids::MENTOR)),
            created_at,
        })
        .await?;
    tracing::info!(user_id = %user.user_id, role = role.as_str(), "account registered");
    sign_in(&req, &state, user).await
}

/// Sign in with e-mail and password; sets the `session_token` cookie.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = SignedIn),
        (status = 401, description = "Wrong e-mail or password (indistinguishable)", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or on this account (RATE_LIMITED); see Retry-After", body = ErrorBody),
    )
)]
#[post("/login")]
async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let email = body.email.trim().to_lowercase();
    // Looked up first: a browser that signed in to this very account before is recognised
    // by the account's id.
    let credentials = state.store.credentials_by_email(&email).await?;
    let user_id = credentials.as_ref().map(|c| c.user.user_id.as_str());
    throttle::take_sign_in(&req, &state, &email, user_id).await?;
    // An unknown e-mail, or an account that signs in with Google only, costs the same
    // hashing time as a wrong password.
    let stored_hash = credentials
        .as_ref()
        .map(|c| c.password_hash.clone())
        .filter(|hash| password::is_usable(hash));
    let given = body.password;
    let matches = state.passwords.verify(given, stored_hash).await?;
    match credentials {
        Some(credentials) if matches && password::is_usable(&credentials.password_hash) => {
            sign_in(&req, &state, credentials.user).await
        }
        _ => Err(ApiError::Unauthorized("wrong e-mail or password".into())),
    }
}

/// The signed-in account (cookie or `Authorization: Bearer`).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, body = User),
        (status = 401, body = ErrorBody),
    )
)]
#[get("/me")]
async fn me(auth: AuthUser) -> web::Json<User> {
    web::Json(auth.user)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseAccountRequest {
    /// The account's password. An account that signs in with Google only leaves it out, and
    /// must have signed in within the last 10 minutes.
    pub password: Option<String>,
}

/// How recent a Google-only sign-in must be to close the account (instead of a password).
const RECENT_SIGN_IN: chrono::Duration = chrono::Duration::minutes(10);

/// That the person at the keyboard owns the account: its password, or a fresh sign-in.
async fn confirm_owner(
    state: &AppState,
    auth: &AuthUser,
    given: Option<String>,
) -> Result<(), ApiError> {
    let again = |message: &str| ApiError::forbidden("REAUTHENTICATION_REQUIRED", message);
    let credentials = state
        .store
        .credentials_by_email(&auth.user.email)
        .await?
        .filter(|c| c.user.user_id == auth.user.user_id)
        .ok_or_else(|| ApiError::not_found("account"))?;
    if password::is_usable(&credentials.password_hash) {
        throttle::take(
            state,
            &limits::REAUTH_PER_ACCOUNT,
            &throttle::account_key(&auth.user.email),
        )
        .await?;
        let stored = credentials.password_hash;
        let given = given.unwrap_or_default();
        if !state.passwords.verify(given, Some(stored)).await? {
            return Err(again("the password is not right"));
        }
        return Ok(());
    }
    let session = state
        .store
        .session(&auth.session_hash)
        .await?
        .ok_or_else(|| {
            ApiError::Unauthorized("session expired or signed out; sign in again".into())
        })?;
    if state.clock.now() - session.created_at > RECENT_SIGN_IN {
        return Err(again(
            "sign in with Google again, then close the account within 10 minutes",
        ));
    }
    Ok(())
}

/// Close your own account: a learner's live bookings are cancelled (their slots freed), the
/// account, its e-mail, sessions and Google link are removed, every connection closes. Leads
/// already sold stay with the mentor who paid; a mentor must delete their events first.
#[utoipa::path(
    tag = "auth",
    request_body = CloseAccountRequest,
    responses(
        (status = 200, body = MessageResponse),
        (status = 401, body = ErrorBody),
        (status = 403, description = "Wrong password or no recent sign-in (REAUTHENTICATION_REQUIRED); admin accounts are the operator's (ADMIN_ACCOUNT)", body = ErrorBody),
        (status = 409, description = "A mentor with events (ACCOUNT_HAS_EVENTS)", body = ErrorBody),
        (status = 429, description = "Too many password attempts on this account (RATE_LIMITED)", body = ErrorBody),
    )
)]
#[delete("/me")]
async fn close_account(
    state: web::Data<AppState>,
    auth: AuthUser,
    body: Json<CloseAccountRequest>,
) -> Result<HttpResponse, ApiError> {
    if auth.user.role == Role::Admin {
        return Err(ApiError::forbidden(
            "ADMIN_ACCOUNT",
            "admin accounts are configured by the operator",
        ));
    }
    confirm_owner(&state, &auth, body.0.password).await?;
    accounts::close_account(&state, auth.user.id()).await?;
    Ok(HttpResponse::Ok()
        .cookie(sessions::removal_cookie())
        .json(MessageResponse::new("Account closed")))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionInfo {
    /// The signed-in account, or null for a visitor (or a session that has ended).
    pub user: Option<User>,
}

/// Who, if anyone, is signed in: 200 either way, so pages can ask on every load without an
/// error for visitors (`/me` answers 401 to them).
#[utoipa::path(tag = "auth", responses((status = 200, body = SessionInfo)))]
#[get("/session")]
async fn current_session(req: HttpRequest) -> Result<web::Json<SessionInfo>, ApiError> {
    let user = match identify(&req, None).await {
        Ok(found) => found.map(|(auth, _)| auth.user),
        Err(ApiError::Unauthorized(_)) => None,
        Err(other) => return Err(other),
    };
    Ok(web::Json(SessionInfo { user }))
}

/// End this session server-side; its cookie and access tokens stop working at once.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, body = MessageResponse),
        (status = 401, body = ErrorBody),
    )
)]
#[post("/logout")]
async fn logout(state: web::Data<AppState>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    // The session swapped from, if its rights changed, ends with it (`end_one`).
    sessions::end_one(&state, &auth.session_hash, close::SESSION_ENDED).await?;
    Ok(HttpResponse::Ok()
        .cookie(sessions::removal_cookie())
        .json(MessageResponse::new("Logged out")))
}
