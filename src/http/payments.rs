//! `/api/payments`: checkout verification, Razorpay webhooks, and the simulated checkout.

use actix_web::{post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::Mentor;
use super::json::{Json, RawBody};
use super::views::MentorLeadView;
use crate::app::purchases::{self, CheckoutProof};
use crate::domain::ids::{EventId, OrderId};
use crate::domain::payment::PaymentStatus;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(verify_payment)
        .service(razorpay_webhook)
        .service(simulated_checkout);
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyRequest {
    pub razorpay_order_id: String,
    pub razorpay_payment_id: String,
    pub razorpay_signature: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VerifyResponse {
    pub message: String,
    pub payment_id: String,
    pub status: PaymentStatus,
    /// The lead, with its contact now visible.
    pub lead: MentorLeadView,
}

/// Complete a checkout: checks Razorpay's signature, records the payment and unlocks the lead.
/// Repeating it is harmless (one unlock, one revenue entry).
#[utoipa::path(
    tag = "payments",
    request_body = VerifyRequest,
    responses(
        (status = 200, body = VerifyResponse),
        (status = 400, description = "INVALID_SIGNATURE", body = ErrorBody),
        (status = 404, description = "Unknown order, or another mentor's", body = ErrorBody),
        (status = 409, description = "LEAD_UNAVAILABLE: paid, but the lead could no longer be sold; a refund is due", body = ErrorBody),
    )
)]
#[post("/verify")]
async fn verify_payment(
    state: web::Data<AppState>,
    mentor: Mentor,
    body: Json<VerifyRequest>,
) -> Result<web::Json<VerifyResponse>, ApiError> {
    let body = body.0;
    let outcome = purchases::settle_checkout(
        &state,
        mentor.profile.id(),
        mentor.auth.user.id(),
        CheckoutProof {
            order_id: body.razorpay_order_id,
            payment_id: body.razorpay_payment_id,
            signature: body.razorpay_signature,
        },
    )
    .await?;
    let price = state
        .store
        .event(EventId::new(&outcome.lead.event_id))
        .await?
        .map(|e| e.price_per_lead.value());
    Ok(web::Json(VerifyResponse {
        message: "Payment verified".into(),
        payment_id: outcome.payment.payment_id.clone(),
        status: outcome.payment.status,
        lead: MentorLeadView::new(&outcome.lead, price),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    /// `processed`, `duplicate` or `ignored`.
    pub status: &'static str,
}

fn ack(status: &'static str) -> HttpResponse {
    HttpResponse::Ok().json(WebhookAck { status })
}

/// Razorpay webhook. The raw body must match `X-Razorpay-Signature`; deliveries are
/// de-duplicated on `X-Razorpay-Event-Id` and completion is idempotent, so replays and
/// out-of-order deliveries are all answered 2xx without a second unlock.
#[utoipa::path(
    tag = "payments",
    request_body(content = String, description = "Razorpay event JSON, exactly as signed"),
    responses(
        (status = 200, body = WebhookAck),
        (status = 400, description = "MISSING_SIGNATURE, INVALID_SIGNATURE or MALFORMED_EVENT", body = ErrorBody),
    )
)]
#[post("/webhook")]
async fn razorpay_webhook(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: RawBody,
) -> Result<HttpResponse, ApiError> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let signature = header("X-Razorpay-Signature").ok_or_else(|| {
        ApiError::bad_request(
            "MISSING_SIGNATURE",
            "X-Razorpay-Signature header is required",
        )
    })?;
    let status =
        purchases::settle_webhook(&state, &body.0, &signature, header("X-Razorpay-Event-Id"))
            .await?;
    Ok(ack(status))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SimulatedCheckoutRequest {
    pub order_id: String,
}

/// What Razorpay's checkout hands the browser after a successful payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckoutResult {
    pub razorpay_order_id: String,
    pub razorpay_payment_id: String,
    pub razorpay_signature: String,
}

/// Simulated mode only: pay an own open order as Razorpay's checkout would, returning the
/// signed result to pass to `/api/payments/verify`. 404 in `razorpay` mode.
#[utoipa::path(
    tag = "payments",
    request_body = SimulatedCheckoutRequest,
    responses(
        (status = 200, body = CheckoutResult),
        (status = 404, body = ErrorBody),
        (status = 409, description = "ORDER_NOT_OPEN", body = ErrorBody),
    )
)]
#[post("/simulated-checkout")]
async fn simulated_checkout(
    state: web::Data<AppState>,
    mentor: Mentor,
    body: Json<SimulatedCheckoutRequest>,
) -> Result<web::Json<CheckoutResult>, ApiError> {
    let paid =
        purchases::simulate_checkout(&state, mentor.profile.id(), OrderId::new(&body.0.order_id))
            .await?;
    Ok(web::Json(CheckoutResult {
        razorpay_order_id: paid.order_id,
        razorpay_payment_id: paid.payment_id,
        razorpay_signature: paid.signature,
    }))
}
