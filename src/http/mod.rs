//! The HTTP API: one module per resource, each registering its own routes; shared pieces
//! (errors, extractors, JSON parsing, CSRF, views) beside them.

mod admin;
mod auth;
mod bookings;
pub mod csrf;
pub mod deadline;
pub mod error;
mod events;
pub mod extract;
mod google;
pub mod headers;
mod health;
pub mod json;
mod mentor;
mod payments;
mod session_list;
pub mod sessions;
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

/// Adds the answers every operation of a kind can give, documented once instead of on each
/// handler: the description must list every status a client can get, and these come from
/// the shared extractors (authentication, JSON body and parameters) and the store. Applied
/// to the finished description, once the routes have added their paths.
pub fn document_common_responses(openapi: &mut utoipa::openapi::OpenApi) {
    CommonResponses.modify(openapi);
}

struct CommonResponses;

/// Operations that need a signed-in caller (cookie or bearer token).
fn needs_sign_in(method: &str, path: &str) -> bool {
    ["/api/admin/", "/api/mentor/", "/api/user/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
        || matches!(
            (method, path),
            ("GET", "/api/auth/me")
                | ("DELETE", "/api/auth/me")
                | ("POST", "/api/auth/logout")
                | ("POST", "/api/auth/logout-everywhere")
                | ("GET", "/api/auth/sessions")
                | ("DELETE", "/api/auth/sessions/{session_id}")
                | ("POST", "/api/events/{event_id}/book")
                | ("POST", "/api/payments/verify")
                | ("POST", "/api/payments/simulated-checkout")
        )
}

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::SecurityRequirement;
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};

        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("GET", &mut item.get),
                ("POST", &mut item.post),
                ("PUT", &mut item.put),
                ("DELETE", &mut item.delete),
            ];
            for (method, operation) in operations {
                let Some(operation) = operation.as_mut() else {
                    continue;
                };
                let mut add = |status: &str, description: &str| {
                    operation
                        .responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| error(description).into());
                };
                if !path.starts_with("/api/") {
                    continue;
                }
                let signed_in = needs_sign_in(method, path);
                if signed_in {
                    add("401", "Not signed in, or the session ended (UNAUTHORIZED)");
                    add(
                        "403",
                        "Signed in without the right to this (FORBIDDEN and others)",
                    );
                }
                if operation.request_body.is_some() {
                    add(
                        "400",
                        "Body not JSON, or not of the declared type (BAD_REQUEST)",
                    );
                    add("413", "Body over the size limit (PAYLOAD_TOO_LARGE)");
                    add(
                        "415",
                        "Body not declared as application/json (UNSUPPORTED_MEDIA_TYPE)",
                    );
                    add(
                        "408",
                        "Body not received within the body timeout (REQUEST_TIMEOUT)",
                    );
                }
                add(
                    "403",
                    "A write from another site's page, or a read carrying the session cookie from one (CSRF_ORIGIN_REJECTED)",
                );
                if operation.request_body.is_some()
                    || operation.parameters.as_ref().is_some_and(|p| !p.is_empty())
                {
                    add("422", "A field or parameter is invalid; `field` names it");
                }
                add(
                    "429",
                    "This address holds too many connections (TOO_MANY_CONNECTIONS); the connection closes",
                );
                add(
                    "503",
                    "Momentarily unavailable (store busy); retry after Retry-After",
                );
                if signed_in {
                    operation.security = Some(vec![
                        SecurityRequirement::new("session_cookie", Vec::<String>::new()),
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                    ]);
                }
            }
        }
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

/// The methods each described path answers: another method on it is a 405 with `Allow`,
/// not a 404 (the path exists). Built from the API description, the one route table.
pub struct RouteTable(Vec<(Vec<String>, Vec<&'static str>)>);

impl RouteTable {
    pub fn from_description(openapi: &utoipa::openapi::OpenApi) -> Self {
        let routes = openapi
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let methods = [
                    ("GET", item.get.is_some()),
                    ("POST", item.post.is_some()),
                    ("PUT", item.put.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                let segments = path.split('/').map(str::to_string).collect();
                let allowed = methods.iter().filter(|(_, on)| *on).map(|(m, _)| *m);
                (segments, allowed.collect())
            })
            .collect();
        Self(routes)
    }

    /// The methods `path` answers, when it is a described path.
    pub fn allowed(&self, path: &str) -> Option<&[&'static str]> {
        let given: Vec<&str> = path.split('/').collect();
        self.0.iter().find_map(|(segments, methods)| {
            let matches = segments.len() == given.len()
                && segments.iter().zip(&given).all(|(template, part)| {
                    template == part || (template.starts_with('{') && !part.is_empty())
                });
            matches.then_some(methods.as_slice())
        })
    }
}

/// Unknown routes answer in our error shape.
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
