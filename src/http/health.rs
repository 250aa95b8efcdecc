//! Liveness and readiness.

use actix_web::{get, web, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// 200 while the process serves HTTP (also while the bus between nodes is down).
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `degraded` while live updates are interrupted.
    pub status: &'static str,
    /// `ok`, or `unavailable` while this node has no link to the bus (Redis).
    pub realtime: &'static str,
}

/// 200 when every part works; 503 `degraded` while live updates are interrupted (HTTP,
/// bookings and payments still work: they live in the store).
#[utoipa::path(
    tag = "health",
    responses(
        (status = 200, body = Readiness),
        (status = 503, description = "Degraded: live updates interrupted", body = Readiness),
    )
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if state.realtime.available() {
        HttpResponse::Ok().json(Readiness {
            status: "ready",
            realtime: "ok",
        })
    } else {
        HttpResponse::ServiceUnavailable().json(Readiness {
            status: "degraded",
            realtime: "unavailable",
        })
    }
}
