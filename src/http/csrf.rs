//! Cross-site request forgery guard for cookie-authenticated writes.
//!
//! SameSite=Lax already keeps the cookie off most cross-site requests; this adds the check
//! that the `Origin` of a state-changing request carrying the session cookie is our own or
//! listed in `LEADBRIDGE_ALLOWED_ORIGINS`. Bearer-authenticated calls and the webhook carry
//! no ambient credentials and are exempt.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{AUTHORIZATION, ORIGIN};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error};

use super::error::ApiError;
use crate::auth::SESSION_COOKIE;
use crate::config::normalise_origin;
use crate::state::AppState;

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

pub async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let cookie_authenticated =
        req.cookie(SESSION_COOKIE).is_some() && !req.headers().contains_key(AUTHORIZATION);
    if cookie_authenticated && !is_safe(req.method()) {
        if let Some(origin) = req.headers().get(ORIGIN) {
            let origin = origin.to_str().unwrap_or_default().to_string();
            let host = req.connection_info().host().to_string();
            let allowed = req
                .app_data::<web::Data<AppState>>()
                .map(|s| s.allowed_origins.clone())
                .unwrap_or_default();
            if !origin_allowed(&origin, &host, &allowed) {
                return Err(ApiError::forbidden(
                    "CSRF_ORIGIN_REJECTED",
                    format!("requests from {origin} may not use this site's session cookie"),
                )
                .into());
            }
        }
    }
    next.call(req).await
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
