//! The HTTP API: one module per resource, each registering its own routes; shared pieces
//! (errors, extractors, JSON parsing, CSRF, views) beside them.

mod admin;
mod auth;
mod bookings;
pub mod csrf;
pub mod error;
mod events;
pub mod extract;
pub mod headers;
mod health;
pub mod json;
mod mentor;
mod payments;
mod site;
mod throttle;
pub mod views;
pub mod web;
mod ws;

use actix_web::HttpResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use error::ApiError;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "LeadBridge API",
        description = "Realtime lead marketplace: learners book mentors' events, admins verify leads, mentors buy them. \
                       Every error is `{\"error\": {\"code\", \"message\"}}`."
    ),
    modifiers(&SecuritySchemes)
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Every route of the API.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope("/api")
                .service(scope("/auth").configure(auth::routes))
                .service(scope("/events").configure(events::routes))
                .service(scope("/user").configure(bookings::routes))
                .service(scope("/mentor").configure(mentor::routes))
                .service(scope("/payments").configure(payments::routes))
                .service(scope("/admin").configure(admin::routes))
                .service(site::config)
                .configure(ws::routes),
        );
}

/// Unknown routes (and methods) answer in our error shape.
async fn not_found() -> HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::NotFound {
        code: "NOT_FOUND",
        message: "no such endpoint".into(),
    })
}

/// `/docs` → `/docs/`, where Swagger UI's relative asset links resolve.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((actix_web::http::header::LOCATION, "/docs/"))
        .finish()
}
