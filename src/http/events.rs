//! `/api/events`: the public catalogue and booking a slot.

use actix_web::{get, post, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::Learner;
use super::json::{Json, Query};
use super::throttle;
use super::views::{non_empty, paged, parse_bound, EventView, PageParams};
use crate::app::bookings;
use crate::domain::event::EventFilter;
use crate::domain::ids::{EventId, MentorId};
use crate::domain::lead::{LeadStatus, VerificationStatus};
use crate::domain::verification::{parse_contact, ContactInput};
use crate::limits;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    // Before `/{event_id}`, which would take "categories" for an id.
    cfg.service(list_events)
        .service(categories)
        .service(get_event)
        .service(book_event);
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventQuery {
    /// Text searched in title, description and category (case-insensitive).
    pub q: Option<String>,
    /// Exact category (case-insensitive).
    pub category: Option<String>,
    pub mentor_id: Option<String>,
    /// Events at or after this RFC 3339 time or date (`2026-02-01`). Defaults to now:
    /// events that have started are left out unless `include_past=true` or `from` is given.
    pub from: Option<String>,
    pub include_past: Option<bool>,
    /// Events at or before this RFC 3339 time or date (a date includes the whole day).
    pub to: Option<String>,
    /// Items per page, 1–100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Browse upcoming events, soonest first (`event_datetime` ascending, then id). The next
/// page's cursor is in the `X-Next-Cursor` header.
#[utoipa::path(
    tag = "events",
    params(EventQuery),
    responses(
        (status = 200, body = [EventView], headers(("X-Next-Cursor" = String, description = "Cursor of the next page"))),
        (status = 422, body = ErrorBody),
    )
)]
#[get("")]
async fn list_events(
    state: web::Data<AppState>,
    query: Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = EventFilter {
        q: non_empty(&query.q),
        category: non_empty(&query.category),
        mentor_id: non_empty(&query.mentor_id),
        from: match non_empty(&query.from) {
            Some(from) => Some(parse_bound("from", &from, false)?),
            None if query.include_past == Some(true) => None,
            None => Some(state.clock.now()),
        },
        to: non_empty(&query.to)
            .map(|v| parse_bound("to", &v, true))
            .transpose()?,
    };
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .to_request()?;
    let events = state.store.list_events(&filter, page).await?;
    Ok(paged(events.map(EventView::from)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventDetail {
    #[serde(flatten)]
    pub event: EventView,
    pub mentor_bio: String,
    pub mentor_expertise: Vec<String>,
    pub mentor_experience: String,
}

/// The categories of upcoming events, each once (whatever its case), sorted: what the
/// listing's `category` filter can be set to.
#[utoipa::path(tag = "events", responses((status = 200, body = [String])))]
#[get("/categories")]
async fn categories(state: web::Data<AppState>) -> Result<web::Json<Vec<String>>, ApiError> {
    let categories = state.store.event_categories(state.clock.now()).await?;
    Ok(web::Json(categories))
}

/// One event with its mentor's bio and expertise and the live slot count.
#[utoipa::path(
    tag = "events",
    responses((status = 200, body = EventDetail), (status = 404, body = ErrorBody))
)]
#[get("/{event_id}")]
async fn get_event(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<EventDetail>, ApiError> {
    let event = state
        .store
        .event(EventId::new(&path))
        .await?
        .ok_or_else(|| ApiError::not_found("event"))?;
    let mentor = state.store.mentor(MentorId::new(&event.mentor_id)).await?;
    Ok(web::Json(EventDetail {
        event: EventView::from(&event),
        mentor_bio: mentor.as_ref().map(|m| m.bio.clone()).unwrap_or_default(),
        mentor_expertise: mentor
            .as_ref()
            .map(|m| m.expertise.clone())
            .unwrap_or_default(),
        mentor_experience: mentor.map(|m| m.experience).unwrap_or_default(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BookingRequest {
    pub name: String,
    pub email: String,
    /// Any common format; numbers without `+` are read as Indian.
    pub phone: String,
    pub message: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingResponse {
    pub lead_id: String,
    pub message: String,
    /// VERIFIED when the automatic checks passed, PENDING when an admin must review.
    pub status: LeadStatus,
    pub verification_status: VerificationStatus,
}

/// Book a slot (learners only). Atomic: the last slot goes to exactly one learner.
#[utoipa::path(
    tag = "events",
    request_body = BookingRequest,
    responses(
        (status = 200, body = BookingResponse),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "EVENT_FULL, ALREADY_BOOKED or EVENT_STARTED", body = ErrorBody),
        (status = 429, description = "Too many bookings by this learner (RATE_LIMITED); see Retry-After", body = ErrorBody),
        (status = 422, description = "INVALID_EMAIL or INVALID_PHONE", body = ErrorBody),
    )
)]
#[post("/{event_id}/book")]
async fn book_event(
    state: web::Data<AppState>,
    learner: Learner,
    path: web::Path<String>,
    body: Json<BookingRequest>,
) -> Result<web::Json<BookingResponse>, ApiError> {
    throttle::take(
        &state,
        &limits::BOOKING_PER_LEARNER,
        &learner.0.user.user_id,
    )
    .await?;
    let contact = parse_contact(ContactInput {
        name: &body.0.name,
        email: &body.0.email,
        phone: &body.0.phone,
        message: body.0.message.as_deref().unwrap_or_default(),
    })?;
    let lead = bookings::book(&state, learner.0.user.id(), EventId::new(&path), contact).await?;
    Ok(web::Json(BookingResponse {
        lead_id: lead.lead_id,
        message: "Booking successful".into(),
        status: lead.status,
        verification_status: lead.verification_status,
    }))
}
