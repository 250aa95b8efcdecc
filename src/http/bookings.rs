//! `/api/user/bookings`: a learner's own bookings.

use actix_web::{get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::Learner;
use super::views::BookingView;
use crate::app::bookings;
use crate::domain::ids::LeadId;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(my_bookings).service(cancel_booking);
}

/// The learner's bookings, newest first, with their own contact details and live status.
#[utoipa::path(
    tag = "bookings",
    responses((status = 200, body = [BookingView]), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
#[get("/bookings")]
async fn my_bookings(
    state: web::Data<AppState>,
    learner: Learner,
) -> Result<web::Json<Vec<BookingView>>, ApiError> {
    let leads = state.store.learner_leads(learner.0.user.id()).await?;
    Ok(web::Json(leads.iter().map(BookingView::from).collect()))
}

/// Cancel a booking and free its slot. Not possible once a mentor has purchased the lead.
#[utoipa::path(
    tag = "bookings",
    responses(
        (status = 200, body = BookingView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "ALREADY_PURCHASED, LEAD_CANCELLED or LEAD_REJECTED", body = ErrorBody),
    )
)]
#[post("/bookings/{lead_id}/cancel")]
async fn cancel_booking(
    state: web::Data<AppState>,
    learner: Learner,
    path: web::Path<String>,
) -> Result<web::Json<BookingView>, ApiError> {
    let lead = bookings::cancel(&state, learner.0.user.id(), LeadId::new(&path)).await?;
    Ok(web::Json(BookingView::from(&lead)))
}
