//! `/api/admin`: analytics, mentor applications, the lead verification queue, users, audit.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::Admin;
use super::json::{Json, Query};
use super::views::{paged, AdminLeadView, MessageResponse, PageParams};
use crate::app::{mentors, review};
use crate::domain::audit::AuditEntry;
use crate::domain::decision_reason;
use crate::domain::ids::{LeadId, MentorId};
use crate::domain::lead::LeadStatus;
use crate::domain::mentor::{MentorProfile, MentorStatus};
use crate::domain::user::User;
use crate::state::AppState;
use crate::store::{Analytics, LeadClaim};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(analytics)
        .service(list_mentors)
        .service(verify_mentor)
        .service(list_leads)
        .service(verify_lead)
        .service(claim_lead)
        .service(release_claim)
        .service(list_users)
        .service(audit_log);
}

/// Platform totals (revenue in rupees).
#[utoipa::path(tag = "admin", responses((status = 200, body = Analytics), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
#[get("/analytics")]
async fn analytics(
    state: web::Data<AppState>,
    _admin: Admin,
) -> Result<web::Json<Analytics>, ApiError> {
    Ok(web::Json(state.store.analytics().await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MentorQuery {
    /// PENDING, APPROVED or REJECTED; all when absent.
    pub status: Option<MentorStatus>,
}

/// Mentor applications, oldest first.
#[utoipa::path(tag = "admin", params(MentorQuery), responses((status = 200, body = [MentorProfile])))]
#[get("/mentors")]
async fn list_mentors(
    state: web::Data<AppState>,
    _admin: Admin,
    query: Query<MentorQuery>,
) -> Result<web::Json<Vec<MentorProfile>>, ApiError> {
    Ok(web::Json(state.store.list_mentors(query.status).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MentorDecisionRequest {
    /// APPROVED or REJECTED.
    pub status: MentorStatus,
    /// Required for a rejection; shown to the mentor.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MentorDecisionResponse {
    pub message: String,
    pub mentor: MentorProfile,
}

/// Approve or reject a mentor (also revoke an approval or reconsider a rejection).
#[utoipa::path(
    tag = "admin",
    request_body = MentorDecisionRequest,
    responses(
        (status = 200, body = MentorDecisionResponse),
        (status = 404, body = ErrorBody),
        (status = 409, description = "ALREADY_DECIDED", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[put("/mentors/{mentor_id}/verify")]
async fn verify_mentor(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<String>,
    body: Json<MentorDecisionRequest>,
) -> Result<web::Json<MentorDecisionResponse>, ApiError> {
    let body = body.0;
    if body.status == MentorStatus::Pending {
        return Err(ApiError::unprocessable(
            "INVALID_FIELD",
            Some("status".into()),
            "status must be APPROVED or REJECTED",
        ));
    }
    let reason = decision_reason(
        body.status == MentorStatus::Rejected,
        body.reason.as_deref(),
    )?;
    let mentor = mentors::decide_mentor(
        &state,
        admin.0.user.id(),
        MentorId::new(&path),
        body.status,
        reason,
    )
    .await?;
    Ok(web::Json(MentorDecisionResponse {
        message: "Mentor verification updated".into(),
        mentor,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LeadQuery {
    /// PENDING is the verification queue; all leads when absent.
    pub status: Option<LeadStatus>,
    /// Items per page, 1–100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Leads with full contact details, newest first, paged (`X-Next-Cursor`).
#[utoipa::path(tag = "admin", params(LeadQuery), responses((status = 200, body = [AdminLeadView])))]
#[get("/leads")]
async fn list_leads(
    state: web::Data<AppState>,
    _admin: Admin,
    query: Query<LeadQuery>,
) -> Result<HttpResponse, ApiError> {
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .to_request()?;
    let leads = state.store.leads_by_status(query.status, page).await?;
    Ok(paged(leads.map(|l| AdminLeadView::from(&l))))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LeadDecisionRequest {
    /// VERIFIED or REJECTED.
    pub status: LeadStatus,
    /// Required for a rejection.
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeadDecisionResponse {
    pub message: String,
    pub lead: AdminLeadView,
}

/// Verify a pending lead, or reject a pending or verified one (which frees its slot).
/// Writes a verification log and an audit entry.
#[utoipa::path(
    tag = "admin",
    request_body = LeadDecisionRequest,
    responses(
        (status = 200, body = LeadDecisionResponse),
        (status = 404, body = ErrorBody),
        (status = 409, description = "ALREADY_PURCHASED, LEAD_CANCELLED, LEAD_REJECTED or INVALID_TRANSITION", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
#[put("/leads/{lead_id}/verify")]
async fn verify_lead(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<String>,
    body: Json<LeadDecisionRequest>,
) -> Result<web::Json<LeadDecisionResponse>, ApiError> {
    let body = body.0;
    if !matches!(body.status, LeadStatus::Verified | LeadStatus::Rejected) {
        return Err(ApiError::unprocessable(
            "INVALID_FIELD",
            Some("status".into()),
            "status must be VERIFIED or REJECTED",
        ));
    }
    let reason = decision_reason(body.status == LeadStatus::Rejected, body.reason.as_deref())?;
    let lead = review::decide_lead(
        &state,
        admin.0.user.id(),
        LeadId::new(&path),
        body.status,
        reason,
    )
    .await?;
    Ok(web::Json(LeadDecisionResponse {
        message: "Lead verification updated".into(),
        lead: AdminLeadView::from(&lead),
    }))
}

/// All accounts, oldest first, paged (`X-Next-Cursor`).
#[utoipa::path(tag = "admin", params(PageParams), responses((status = 200, body = [User])))]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    _admin: Admin,
    query: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let users = state.store.list_users(query.to_request()?).await?;
    Ok(paged(users))
}

/// Every admin decision and payment state change, newest first, paged (`X-Next-Cursor`).
#[utoipa::path(tag = "admin", params(PageParams), responses((status = 200, body = [AuditEntry])))]
#[get("/audit-log")]
async fn audit_log(
    state: web::Data<AppState>,
    _admin: Admin,
    query: Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    let entries = state.store.audit_log(query.to_request()?).await?;
    Ok(paged(entries))
}

/// Take (or renew) the review of a PENDING lead for two minutes. While the claim lives,
/// other admins' decisions on it are refused (409 CLAIMED_BY_OTHER). It ends with the
/// decision, `DELETE`, expiry, or when the admin's last live socket closes.
#[utoipa::path(
    tag = "admin",
    responses(
        (status = 200, body = LeadClaim),
        (status = 404, body = ErrorBody),
        (status = 409, description = "CLAIMED_BY_OTHER, or the lead is not PENDING", body = ErrorBody),
    )
)]
#[post("/leads/{lead_id}/claim")]
async fn claim_lead(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<String>,
) -> Result<web::Json<LeadClaim>, ApiError> {
    let claim = review::claim(&state, admin.0.user.id(), LeadId::new(&path)).await?;
    Ok(web::Json(claim))
}

/// Give a claimed lead back to the queue.
#[utoipa::path(
    tag = "admin",
    responses((status = 200, body = MessageResponse), (status = 404, description = "You hold no claim on it", body = ErrorBody))
)]
#[delete("/leads/{lead_id}/claim")]
async fn release_claim(
    state: web::Data<AppState>,
    admin: Admin,
    path: web::Path<String>,
) -> Result<web::Json<MessageResponse>, ApiError> {
    review::release(&state, admin.0.user.id(), LeadId::new(&path)).await?;
    Ok(web::Json(MessageResponse::new("Claim released")))
}
