//! `/api/auth/google`: sign in with Google. `start` sends the browser to Google with a
//! fresh `state` (also set as a cookie, binding the sign-in to this browser), a `nonce` and
//! a PKCE challenge; `callback` takes the stored attempt (once), trades the code, checks the
//! ID token and signs in the account linked to the Google subject, creating one if none is.
//! Without Google configured both answer 404.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header::{ACCEPT, LOCATION};
use actix_web::{get, web, HttpRequest, HttpResponse, ResponseError};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::identify;
use super::json::Query;
use super::{csrf, sessions, throttle};
use crate::auth::google::{
    self, AuthorizationRequest, GoogleClient, GoogleError, GoogleIdentity, TokenError,
};
use crate::auth::{password, session_token};
use crate::domain::contact::EmailAddress;
use crate::domain::ids::{self, UserId};
use crate::domain::user::{parse_name, Role, User};
use crate::limits;
use crate::state::AppState;
use crate::store::{Conflict, LoginAttempt, NewUser, StoreError};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(start).service(callback);
}

/// Holds the `state` between start and callback; only ever sent to the callback.
const STATE_COOKIE: &str = "google_state";
const CALLBACK_PATH: &str = "/api/auth/google/callback";

fn configured(state: &AppState) -> Result<&GoogleClient, ApiError> {
    state.google.as_deref().ok_or_else(|| ApiError::NotFound {
        code: "GOOGLE_SIGN_IN_DISABLED",
        message: "Google sign-in is not configured on this server".into(),
    })
}

/// A path on this site to land on after signing in; anything else is dropped.
fn same_site_path(next: &str) -> Option<String> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && next.len() <= 512;
    ok.then(|| next.to_string())
}

fn state_cookie(req: &HttpRequest, value: String, max_age: CookieDuration) -> Cookie<'static> {
    Cookie::build(STATE_COOKIE, value)
        .http_only(true)
        .same_site(SameSite::Lax)
        .path(CALLBACK_PATH)
        .max_age(max_age)
        .secure(req.connection_info().scheme() == "https")
        .finish()
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StartQuery {
    /// A path on this site to land on afterwards (default: the role's dashboard).
    pub next: Option<String>,
    /// The role of an account created by this sign-in: USER (default) or MENTOR.
    pub role: Option<Role>,
    /// `true` to link Google to the signed-in account instead of signing in.
    pub link: Option<bool>,
}

/// Start signing in with Google: a redirect to Google's consent page.
#[utoipa::path(
    tag = "auth",
    params(StartQuery),
    responses(
        (status = 303, description = "To Google, with state, nonce and PKCE challenge"),
        (status = 401, description = "link=true without being signed in", body = ErrorBody),
        (status = 403, description = "link=true from another site (CSRF_ORIGIN_REJECTED)", body = ErrorBody),
        (status = 404, description = "Google sign-in is not configured (GOOGLE_SIGN_IN_DISABLED)", body = ErrorBody),
        (status = 422, description = "role ADMIN", body = ErrorBody),
        (status = 429, description = "Too many sign-ins from this address (RATE_LIMITED)", body = ErrorBody),
        (status = 502, description = "Google did not answer (IDENTITY_PROVIDER_ERROR)", body = ErrorBody),
    )
)]
#[get("/google/start")]
async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query<StartQuery>,
) -> Result<HttpResponse, ApiError> {
    let google = configured(&state)?;
    throttle::take(
        &state,
        &limits::LOGIN_PER_IP,
        &throttle::client_address(&req, &state),
    )
    .await?;
    let role = query.role.unwrap_or(Role::User);
    if role == Role::Admin {
        return Err(ApiError::unprocessable(
            "INVALID_FIELD",
            Some("role".into()),
            "role must be USER or MENTOR; admin accounts are configured by the operator",
        ));
    }
    let link_user_id = match query.link {
        Some(true) => {
            // Linking changes who can sign in to the account: only from our own pages (a
            // cross-site link could otherwise attach whatever Google account the browser
            // has signed in).
            if csrf::is_cross_site_navigation(&req) {
                return Err(ApiError::forbidden(
                    "CSRF_ORIGIN_REJECTED",
                    "start linking Google from your account page",
                ));
            }
            Some(
                identify(&req, None)
                    .await?
                    .ok_or_else(|| ApiError::Unauthorized("sign in first to link Google".into()))?
                    .0
                    .user
                    .user_id,
            )
        }
        _ => None,
    };
    let state_token = session_token::generate();
    let nonce = session_token::generate();
    let code_verifier = session_token::generate();
    let url = google
        .authorization_url(&AuthorizationRequest {
            state: &state_token,
            nonce: &nonce,
            code_challenge: &google::code_challenge(&code_verifier),
        })
        .await
        .map_err(provider_error)?;
    state
        .store
        .save_login_attempt(LoginAttempt {
            state_hash: session_token::digest(&state_token),
            code_verifier,
            nonce,
            link_user_id,
            role,
            next: query.next.as_deref().and_then(same_site_path),
            expires_at: state.clock.now() + google::ATTEMPT_TTL,
        })
        .await?;
    let max_age = CookieDuration::seconds(google::ATTEMPT_TTL.num_seconds());
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, url))
        .cookie(state_cookie(&req, state_token, max_age))
        .finish())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CallbackQuery {
    pub code: Option<String>,
    pub state: Option<String>,
    /// Set by Google instead of `code` when the person declined.
    pub error: Option<String>,
}

/// Where Google sends the browser back. Signs in and redirects to the role's dashboard (or
/// `next`); a browser that fails lands on `/login?error=CODE`, other clients get the error.
#[utoipa::path(
    tag = "auth",
    params(CallbackQuery),
    responses(
        (status = 303, description = "Signed in (session cookie set), to the dashboard; or a browser's failure, to /login?error=CODE"),
        (status = 400, description = "Missing, unknown, replayed or foreign state (OIDC_STATE_INVALID); declined (GOOGLE_SIGN_IN_CANCELLED); code refused (OIDC_CODE_REJECTED)", body = ErrorBody),
        (status = 403, description = "ID token invalid (OIDC_TOKEN_INVALID), e-mail unverified (GOOGLE_EMAIL_UNVERIFIED), or the linking session ended (OIDC_LINK_SESSION_CHANGED)", body = ErrorBody),
        (status = 404, description = "Google sign-in is not configured (GOOGLE_SIGN_IN_DISABLED)", body = ErrorBody),
        (status = 409, description = "The e-mail belongs to an account not linked to this Google account (GOOGLE_EMAIL_IN_USE), or the Google account is linked elsewhere (GOOGLE_ACCOUNT_IN_USE)", body = ErrorBody),
        (status = 502, description = "Google did not answer (IDENTITY_PROVIDER_ERROR)", body = ErrorBody),
    )
)]
#[get("/google/callback")]
async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: Query<CallbackQuery>,
) -> Result<HttpResponse, ApiError> {
    let google = configured(&state)?;
    let mut response = match finish(&req, &state, google, &query).await {
        Ok(response) => response,
        Err(error) if wants_html(&req) => HttpResponse::SeeOther()
            .insert_header((LOCATION, format!("/login?error={}", error.code())))
            .finish(),
        Err(error) => error.error_response(),
    };
    // The state is spent either way.
    let spent = state_cookie(&req, String::new(), CookieDuration::ZERO);
    response
        .add_cookie(&spent)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("setting a cookie: {e}")))?;
    Ok(response)
}

fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

fn state_invalid(message: &str) -> ApiError {
    ApiError::bad_request("OIDC_STATE_INVALID", message)
}

async fn finish(
    req: &HttpRequest,
    state: &AppState,
    google: &GoogleClient,
    query: &CallbackQuery,
) -> Result<HttpResponse, ApiError> {
    let given = query
        .state
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| state_invalid("the sign-in state is missing"))?;
    if req.cookie(STATE_COOKIE).is_none_or(|c| c.value() != given) {
        return Err(state_invalid(
            "this sign-in was not started in this browser",
        ));
    }
    let attempt = state
        .store
        .take_login_attempt(&session_token::digest(given), state.clock.now())
        .await?
        .ok_or_else(|| state_invalid("this sign-in expired or was used already; start again"))?;
    if let Some(error) = &query.error {
        return Err(ApiError::bad_request(
            "GOOGLE_SIGN_IN_CANCELLED",
            format!("Google sign-in did not complete ({error})"),
        ));
    }
    let code = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| ApiError::bad_request("OIDC_CODE_REJECTED", "the code is missing"))?;
    let identity = google
        .finish(code, &attempt.code_verifier, &attempt.nonce)
        .await
        .map_err(provider_error)?;
    let user = account_for(req, state, &attempt, &identity).await?;
    let started = sessions::start(req, state, &user).await?;
    tracing::info!(user_id = %user.user_id, linked = attempt.link_user_id.is_some(), "signed in with Google");
    let landing = attempt.next.unwrap_or_else(|| user.role.dashboard().into());
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, landing))
        .cookie(started.cookie)
        .finish())
}

fn provider_error(error: GoogleError) -> ApiError {
    match error {
        GoogleError::Unavailable(cause) => ApiError::IdentityProvider(cause),
        GoogleError::CodeRejected(reason) => ApiError::bad_request(
            "OIDC_CODE_REJECTED",
            format!("Google refused the sign-in code ({reason}); start again"),
        ),
        GoogleError::Token(TokenError::EmailUnverified) => ApiError::forbidden(
            "GOOGLE_EMAIL_UNVERIFIED",
            TokenError::EmailUnverified.to_string(),
        ),
        GoogleError::Token(other) => ApiError::forbidden("OIDC_TOKEN_INVALID", other.to_string()),
    }
}

async fn user(state: &AppState, user_id: &str) -> Result<User, ApiError> {
    state
        .store
        .user(UserId::new(user_id))
        .await?
        .ok_or_else(|| ApiError::not_found("account"))
}

/// Whose account this Google identity opens. Identified by `sub`, never by e-mail alone: an
/// e-mail already held by an account is linked only from inside that account.
async fn account_for(
    req: &HttpRequest,
    state: &AppState,
    attempt: &LoginAttempt,
    identity: &GoogleIdentity,
) -> Result<User, ApiError> {
    if let Some(owner) = &attempt.link_user_id {
        let current = identify(req, None).await.ok().flatten();
        if current.as_ref().map(|(auth, _)| &auth.user.user_id) != Some(owner) {
            return Err(ApiError::forbidden(
                "OIDC_LINK_SESSION_CHANGED",
                "sign in to the account you were linking, then link Google again",
            ));
        }
        let linked = state
            .store
            .link_google_account(&identity.sub, UserId::new(owner))
            .await?;
        if &linked != owner {
            return Err(in_use());
        }
        return user(state, owner).await;
    }
    // The subject is claimed for a new account id before the account is made: a first
    // sign-in that dies halfway leaves a claim the next one completes, never an account
    // nobody can sign in to.
    let fresh_id = ids::new_id(ids::USER);
    let mut user_id = state
        .store
        .link_google_account(&identity.sub, UserId::new(&fresh_id))
        .await?;
    if let Some(found) = state.store.user(UserId::new(&user_id)).await? {
        return Ok(found);
    }
    if user_id != fresh_id {
        // Linked to an account that is gone (closed, or a first sign-in that died
        // halfway): a new account under a new id, never the old one revived.
        state
            .store
            .unlink_google_account(&identity.sub, UserId::new(&user_id))
            .await?;
        user_id = state
            .store
            .link_google_account(&identity.sub, UserId::new(&fresh_id))
            .await?;
        if user_id != fresh_id {
            return user(state, &user_id).await;
        }
    }
    let email = EmailAddress::parse("email", &identity.email)?;
    let name = identity
        .name
        .as_deref()
        .and_then(|n| parse_name(n).ok())
        .unwrap_or_else(|| {
            email
                .as_str()
                .split('@')
                .next()
                .unwrap_or("Learner")
                .to_string()
        });
    let created = state
        .store
        .create_user(NewUser {
            user_id: user_id.clone(),
            email: email.as_str().to_string(),
            name,
            role: attempt.role,
            password_hash: password::NONE.into(),
            mentor_id: (attempt.role == Role::Mentor).then(|| ids::new_id(ids::MENTOR)),
            created_at: state.clock.now(),
        })
        .await;
    match created {
        Ok(created) => {
            tracing::info!(user_id = %created.user_id, role = created.role.as_str(), "account registered with Google");
            Ok(created)
        }
        Err(StoreError::Conflict(Conflict::EmailTaken)) => {
            // A first sign-in racing this one made the account under the claimed id...
            if let Some(found) = state.store.user(UserId::new(&user_id)).await? {
                return Ok(found);
            }
            // ...or another account holds the e-mail: give the claim back, so its owner
            // can link this Google account.
            state
                .store
                .unlink_google_account(&identity.sub, UserId::new(&user_id))
                .await?;
            Err(ApiError::Conflict {
                code: "GOOGLE_EMAIL_IN_USE",
                message: "an account with this e-mail exists: sign in with its password, then link Google from your account page".into(),
            })
        }
        Err(other) => Err(other.into()),
    }
}

fn in_use() -> ApiError {
    ApiError::Conflict {
        code: "GOOGLE_ACCOUNT_IN_USE",
        message: "this Google account is linked to another LeadBridge account".into(),
    }
}
