//! Cross-site request forgery guard for every request that sets or reads the session cookie.
//!
//! SameSite=Lax already keeps the cookie off most cross-site requests; this adds the check
//! that the `Origin` of a request is our own or listed in `LEADBRIDGE_ALLOWED_ORIGINS`:
//! - every state-changing request, with the cookie or without it: sign-in and registration
//!   set the cookie, and a cross-site form that signs a visitor into the attacker's account
//!   (login CSRF) would collect whatever the visitor then books;
//! - every API read that carries the cookie.
//!
//! Bearer-authenticated calls carry no ambient credentials, the webhook is Razorpay's server
//! and Google sign-in is entered from links and comes back from Google by design (linking
//! refuses other sites itself; the callback checks its single-use `state`, bound to the
//! browser): they are exempt.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, AUTHORIZATION, HOST, ORIGIN};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};

use super::error::ApiError;
use crate::auth::SESSION_COOKIE;
use crate::config::normalise_origin;
use crate::state::AppState;

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

fn is_safe(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// Whether `origin` names this server (as the client addressed it) or a trusted origin.
pub fn origin_allowed(origin: &str, host: &str, allowed: &[String]) -> bool {
    let Some(origin) = normalise_origin(origin) else {
        return false;
    };
    let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or_default();
    authority.eq_ignore_ascii_case(host) || allowed.iter().any(|a| a == &origin)
}

/// Why a request carrying the session cookie looks cross-site, if it does: an `Origin` that
/// is neither this server (by the `Host` header; forwarded-host headers are not trusted) nor
/// allowed, or no `Origin` but a browser's `Sec-Fetch-Site: cross-site`.
pub fn cross_site(headers: &HeaderMap, allowed: &[String]) -> Option<String> {
    let header = |name| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().to_string())
    };
    match header(ORIGIN) {
        Some(origin) => {
            let host = header(HOST).unwrap_or_default();
            (!origin_allowed(&origin, &host, allowed))
                .then(|| format!("requests from {origin} may not use this site's session cookie"))
        }
        None => (header(SEC_FETCH_SITE).as_deref() == Some("cross-site"))
            .then(|| "cross-site requests may not use this site's session cookie".to_string()),
    }
}

/// Whether a browser says this request (a top-level navigation too) was started by another
/// site: `Sec-Fetch-Site` other than `same-origin` or `none` (typed or bookmarked).
/// Clients that send no such header are not browsers and are let through.
pub fn is_cross_site_navigation(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get(SEC_FETCH_SITE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| !matches!(site, "same-origin" | "none"))
}

/// Paths that other sites reach on purpose, each with a check of its own.
const EXEMPT: &[&str] = &[
    "/api/payments/webhook",
    "/api/auth/google/start",
    "/api/auth/google/callback",
];

/// Whether the request must come from this site: it may set the session cookie (any write)
/// or it reads it (an API call carrying it). Bearer calls and the exempt paths need not.
fn needs_same_site(req: &ServiceRequest) -> bool {
    if req.headers().contains_key(AUTHORIZATION) || EXEMPT.contains(&req.path()) {
        return false;
    }
    !is_safe(req.method())
        || (req.path().starts_with("/api/") && req.cookie(SESSION_COOKIE).is_some())
}

/// Refuses as a response, not an error, so the layer around it (`deadline.rs`) sees the
/// answer and ends a connection whose body was never read.
pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if needs_same_site(&req) {
        let allowed = req
            .app_data::<web::Data<AppState>>()
            .map(|s| s.allowed_origins.clone())
            .unwrap_or_default();
        if let Some(why) = cross_site(req.headers(), &allowed) {
            let refusal = ApiError::forbidden("CSRF_ORIGIN_REJECTED", why).error_response();
            return Ok(req.into_response(refusal).map_into_right_body());
        }
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_left_body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_table() {
        let allowed = vec!["https://app.example.com".to_string()];
        assert!(origin_allowed(
            "http://127.0.0.1:8001",
            "127.0.0.1:8001",
            &allowed
        ));
        assert!(origin_allowed(
            "https://APP.example.com",
            "api.example.com",
            &allowed
        ));
        assert!(!origin_allowed(
            "https://evil.example",
            "127.0.0.1:8001",
            &allowed
        ));
        assert!(!origin_allowed(
            "http://127.0.0.1:9999",
            "127.0.0.1:8001",
            &allowed
        ));
        assert!(!origin_allowed("null", "127.0.0.1:8001", &allowed));
    }
}
