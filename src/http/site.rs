//! What the browser front end needs to know about this deployment before it acts.

use actix_web::{get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct SiteConfig {
    /// `simulated` (checkout completed by `/api/payments/simulated-checkout`) or `razorpay`
    /// (Razorpay's checkout.js).
    pub payments: &'static str,
    /// Whether "Continue with Google" is offered (`/api/auth/google/start`).
    pub google_sign_in: bool,
}

/// Public settings the web pages read at start.
#[utoipa::path(tag = "site", responses((status = 200, body = SiteConfig)))]
#[get("/config")]
pub async fn config(state: web::Data<AppState>) -> web::Json<SiteConfig> {
    let payments = if state.payments.is_simulated() {
        "simulated"
    } else {
        "razorpay"
    };
    web::Json(SiteConfig {
        payments,
        google_sign_in: state.google.is_some(),
    })
}
