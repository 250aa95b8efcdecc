//! `/api/mentor`: profile, own events, the lead feed, and buying a lead.

use std::collections::HashMap;

use actix_web::{delete, get, post, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::Mentor;
use super::json::Json;
use super::views::{EventView, MentorLeadView, MessageResponse};
use crate::app::{catalog, purchases};
use crate::domain::event::{EventDraft, EventInput};
use crate::domain::ids::{EventId, LeadId, MentorId, PaymentId};
use crate::domain::lead::LeadStatus;
use crate::domain::mentor::{MentorProfile, ProfileUpdate};
use crate::domain::payment::Payment;
use crate::domain::time::Timestamp;
use crate::state::AppState;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(get_profile)
        .service(update_profile)
        .service(create_event)
        .service(my_events)
        .service(update_event)
        .service(delete_event)
        .service(my_leads)
        .service(stats)
        .service(purchase_lead);
}

/// The mentor's profile and verification status.
#[utoipa::path(tag = "mentor", responses((status = 200, body = MentorProfile), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/profile")]
async fn get_profile(mentor: Mentor) -> web::Json<MentorProfile> {
    web::Json(mentor.profile)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProfileRequest {
    /// Omitted fields keep their current value.
    pub bio: Option<String>,
    pub expertise: Option<Vec<String>>,
    pub experience: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProfileResponse {
    pub message: String,
    pub profile: MentorProfile,
}

/// Edit bio, expertise and experience (allowed in any verification status).
#[utoipa::path(tag = "mentor", request_body = ProfileRequest, responses((status = 200, body = ProfileResponse), (status = 422, body = ErrorBody)))]
#[put("/profile")]
async fn update_profile(
    state: web::Data<AppState>,
    mentor: Mentor,
    body: Json<ProfileRequest>,
) -> Result<web::Json<ProfileResponse>, ApiError> {
    let current = &mentor.profile;
    let body = body.0;
    let update = ProfileUpdate::parse(
        body.bio.as_deref().unwrap_or(&current.bio),
        body.expertise.as_deref().unwrap_or(&current.expertise),
        body.experience.as_deref().unwrap_or(&current.experience),
    )?;
    let profile = state
        .store
        .update_mentor_profile(current.id(), update)
        .await?;
    Ok(web::Json(ProfileResponse {
        message: "Profile updated".into(),
        profile,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EventRequest {
    pub title: String,
    #[serde(default)]
    pub description: String,
    pub category: String,
    /// RFC 3339, in the future.
    pub event_datetime: String,
    /// Minutes.
    pub duration: i64,
    /// Slots offered in all (the seed's name). On edit it may not go below the live bookings.
    #[serde(alias = "total_slots")]
    pub available_slots: i64,
    /// Whole rupees.
    pub price_per_lead: i64,
}

impl EventRequest {
    fn draft(&self, now: Timestamp) -> Result<EventDraft, ApiError> {
        Ok(EventDraft::parse(
            EventInput {
                title: &self.title,
                description: &self.description,
                category: &self.category,
                event_datetime: &self.event_datetime,
                duration: self.duration,
                total_slots: self.available_slots,
                price_per_lead: self.price_per_lead,
            },
            now,
        )?)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    pub event_id: String,
    pub message: String,
    pub event: EventView,
}

/// Publish an event (approved mentors only).
#[utoipa::path(
    tag = "mentor",
    request_body = EventRequest,
    responses(
        (status = 200, body = EventResponse),
        (status = 403, description = "MENTOR_NOT_APPROVED", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[post("/events")]
async fn create_event(
    state: web::Data<AppState>,
    mentor: Mentor,
    body: Json<EventRequest>,
) -> Result<web::Json<EventResponse>, ApiError> {
    mentor.require_approved()?;
    let draft = body.0.draft(state.clock.now())?;
    let event = catalog::create_event(&state, &mentor.profile, draft).await?;
    Ok(web::Json(EventResponse {
        event_id: event.event_id.clone(),
        message: "Event created".into(),
        event: EventView::from(&event),
    }))
}

/// The mentor's own events, soonest first.
#[utoipa::path(tag = "mentor", responses((status = 200, body = [EventView])))]
#[get("/events")]
async fn my_events(
    state: web::Data<AppState>,
    mentor: Mentor,
) -> Result<web::Json<Vec<EventView>>, ApiError> {
    let events = state.store.mentor_events(mentor.profile.id()).await?;
    Ok(web::Json(events.iter().map(EventView::from).collect()))
}

/// Replace an own event's details. Another mentor's event is 404.
#[utoipa::path(
    tag = "mentor",
    request_body = EventRequest,
    responses(
        (status = 200, body = EventResponse),
        (status = 404, body = ErrorBody),
        (status = 409, description = "SLOTS_BELOW_BOOKED", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[put("/events/{event_id}")]
async fn update_event(
    state: web::Data<AppState>,
    mentor: Mentor,
    path: web::Path<String>,
    body: Json<EventRequest>,
) -> Result<web::Json<EventResponse>, ApiError> {
    mentor.require_approved()?;
    let draft = body.0.draft(state.clock.now())?;
    let event =
        catalog::edit_event(&state, mentor.profile.id(), EventId::new(&path), draft).await?;
    Ok(web::Json(EventResponse {
        event_id: event.event_id.clone(),
        message: "Event updated".into(),
        event: EventView::from(&event),
    }))
}

/// Delete an own event. Refused (409 EVENT_HAS_BOOKINGS) while any booking holds a slot:
/// learners cancel, or admins reject, first. Nobody's booking disappears silently.
#[utoipa::path(
    tag = "mentor",
    responses(
        (status = 200, body = MessageResponse),
        (status = 404, body = ErrorBody),
        (status = 409, description = "EVENT_HAS_BOOKINGS", body = ErrorBody),
    )
)]
#[delete("/events/{event_id}")]
async fn delete_event(
    state: web::Data<AppState>,
    mentor: Mentor,
    path: web::Path<String>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    catalog::delete_event(&state, mentor.profile.id(), EventId::new(&path)).await?;
    Ok(web::Json(MessageResponse::new("Event deleted")))
}

async fn prices(state: &AppState, mentor_id: &MentorId) -> Result<HashMap<String, i64>, ApiError> {
    Ok(state
        .store
        .mentor_events(mentor_id)
        .await?
        .into_iter()
        .map(|e| (e.event_id, e.price_per_lead.value()))
        .collect())
}

/// Verified and purchased leads on the mentor's events, newest first. Contact details are
/// hidden (initials only) until the lead is purchased.
#[utoipa::path(tag = "mentor", responses((status = 200, body = [MentorLeadView])))]
#[get("/leads")]
async fn my_leads(
    state: web::Data<AppState>,
    mentor: Mentor,
) -> Result<web::Json<Vec<MentorLeadView>>, ApiError> {
    let mentor_id = mentor.profile.id();
    let prices = prices(&state, mentor_id).await?;
    let leads = state.store.mentor_leads(mentor_id).await?;
    Ok(web::Json(
        leads
            .iter()
            .filter(|l| l.offered_to_mentor())
            .map(|l| MentorLeadView::new(l, prices.get(&l.event_id).copied()))
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MentorStats {
    pub total_events: i64,
    pub upcoming_events: i64,
    pub total_slots: i64,
    pub booked_slots: i64,
    /// Leads on the mentor's events by status.
    pub pending_leads: i64,
    pub verified_leads: i64,
    pub purchased_leads: i64,
    /// What the mentor paid for purchased leads, in rupees.
    pub total_spent: i64,
}

/// Counts for the mentor dashboard.
#[utoipa::path(tag = "mentor", responses((status = 200, body = MentorStats)))]
#[get("/stats")]
async fn stats(
    state: web::Data<AppState>,
    mentor: Mentor,
) -> Result<web::Json<MentorStats>, ApiError> {
    let mentor_id = mentor.profile.id();
    let events = state.store.mentor_events(mentor_id).await?;
    let leads = state.store.mentor_leads(mentor_id).await?;
    let current = state.clock.now();
    let count = |status: LeadStatus| leads.iter().filter(|l| l.status == status).count() as i64;
    let mut total_spent = 0;
    for lead in leads.iter().filter(|l| l.status == LeadStatus::Purchased) {
        if let Some(payment_id) = &lead.payment_id {
            if let Some(payment) = state.store.payment(PaymentId::new(payment_id)).await? {
                total_spent += payment.amount.whole_rupees();
            }
        }
    }
    Ok(web::Json(MentorStats {
        total_events: events.len() as i64,
        upcoming_events: events.iter().filter(|e| !e.has_started(current)).count() as i64,
        total_slots: events.iter().map(|e| e.total_slots).sum(),
        booked_slots: events.iter().map(|e| e.booked_slots).sum(),
        pending_leads: count(LeadStatus::Pending),
        verified_leads: count(LeadStatus::Verified),
        purchased_leads: count(LeadStatus::Purchased),
        total_spent,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PurchaseResponse {
    /// Razorpay order id (`order_…`), to open the checkout with.
    pub order_id: String,
    /// Paise (price × 100).
    pub amount: i64,
    pub currency: String,
    /// Razorpay key id for the checkout.
    pub key: String,
    pub payment_id: String,
    pub lead_id: String,
}

impl From<&Payment> for PurchaseResponse {
    fn from(p: &Payment) -> Self {
        Self {
            order_id: p.razorpay_order_id.clone(),
            amount: p.amount.value(),
            currency: p.currency.clone(),
            key: String::new(),
            payment_id: p.payment_id.clone(),
            lead_id: p.lead_id.clone(),
        }
    }
}

/// Start buying a verified lead: creates (or reuses) the one open Razorpay order for it.
#[utoipa::path(
    tag = "mentor",
    responses(
        (status = 200, body = PurchaseResponse),
        (status = 403, description = "MENTOR_NOT_APPROVED", body = ErrorBody),
        (status = 404, description = "No such lead on your events", body = ErrorBody),
        (status = 409, description = "ALREADY_PURCHASED or LEAD_NOT_VERIFIED", body = ErrorBody),
        (status = 502, body = ErrorBody),
        (status = 504, body = ErrorBody),
    )
)]
#[post("/leads/{lead_id}/purchase")]
async fn purchase_lead(
    state: web::Data<AppState>,
    mentor: Mentor,
    path: web::Path<String>,
) -> Result<web::Json<PurchaseResponse>, ApiError> {
    mentor.require_approved()?;
    let order = purchases::open_order(
        &state,
        mentor.profile.id(),
        mentor.auth.user.id(),
        LeadId::new(&path),
    )
    .await?;
    Ok(web::Json(PurchaseResponse {
        key: state.payments.settings.key_id.clone(),
        ..PurchaseResponse::from(&order)
    }))
}
