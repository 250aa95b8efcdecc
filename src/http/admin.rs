//! `/api/admin`: analytics, mentor applications, the lead verification queue, users, audit.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::Admin;
use super::json::{Json, Query};
use super::sessions;
use super::views::{paged, AdminLeadView, MessageResponse, PageParams};
use crate::domain::audit::AuditEntry;
use crate::domain::bounded_text;
use crate::domain::lead::LeadStatus;
use crate::domain::mentor::{MentorProfile, MentorStatus};
use crate::domain::user::User;
use crate::state::AppState;
use crate::store::{Analytics, Conflict, LeadClaim, LeadDecision, MentorDecision, StoreError};

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

/// A rejection must say why: the reason is shown to the person and kept in the audit log.
fn reason_for(rejecting: bool, reason: Option<&str>) -> Result<Option<String>, ApiError> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    match reason {
        Some(r) => Ok(Some(bounded_text("reason", r, 1, 1000)?)),
        None if rejecting => Err(ApiError::unprocessable(
            "REASON_REQUIRED",
            Some("reason".into()),
            "a rejection needs a reason",
        )),
        None => Ok(None),
    }
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
    let reason = reason_for(
        body.status == MentorStatus::Rejected,
        body.reason.as_deref(),
    )?;
    let mentor_id = path.into_inner();
    let decided = state
        .store
        .decide_mentor(MentorDecision {
            mentor_id: mentor_id.clone(),
            status: body.status,
            reason,
            admin_id: admin.0.user.user_id.clone(),
        })
        .await;
    let mentor = match decided {
        Ok(mentor) => mentor,
        Err(StoreError::Conflict(Conflict::AlreadyDecided(why))) => {
            // The same decision again (a retry after the step below failed): it stands,
            // and its effect on the mentor's sessions is applied once more.
            let same = state
                .store
                .mentor(&mentor_id)
                .await?
                .filter(|m| m.verification_status == body.status);
            if let Some(mentor) = same {
                apply_to_sessions(&state, &mentor).await?;
            }
            return Err(Conflict::AlreadyDecided(why).into());
        }
        Err(other) => return Err(other.into()),
    };
    apply_to_sessions(&state, &mentor).await?;
    Ok(web::Json(MentorDecisionResponse {
        message: "Mentor verification updated".into(),
        mentor,
    }))
}

/// A decision changes the mentor's rights. Approval: each session is swapped for a new id
/// at its next request (their sockets were public-only while pending; nothing to close).
/// Rejection: no way in is kept; every session ends, every socket closes.
async fn apply_to_sessions(state: &AppState, mentor: &MentorProfile) -> Result<(), ApiError> {
    if mentor.verification_status == MentorStatus::Approved {
        state.store.rotate_user_sessions(&mentor.user_id).await?;
    } else {
        sessions::end_all(state, &mentor.user_id).await?;
    }
    Ok(())
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
    let reason = reason_for(body.status == LeadStatus::Rejected, body.reason.as_deref())?;
    let change = state
        .store
        .verify_lead(LeadDecision {
            lead_id: path.into_inner(),
            status: body.status,
            reason,
            admin_id: admin.0.user.user_id.clone(),
            now: state.clock.now(),
        })
        .await?;
    Ok(web::Json(LeadDecisionResponse {
        message: "Lead verification updated".into(),
        lead: AdminLeadView::from(&change.lead),
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

/// How long a review claim lasts unless renewed.
pub const CLAIM_TTL: chrono::Duration = chrono::Duration::minutes(2);

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
    let claim = state
        .store
        .claim_lead(&path, &admin.0.user.user_id, state.clock.now(), CLAIM_TTL)
        .await?;
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
    if !state
        .store
        .release_claim(&path, &admin.0.user.user_id)
        .await?
    {
        return Err(ApiError::not_found("claim"));
    }
    Ok(web::Json(MessageResponse::new("Claim released")))
}
