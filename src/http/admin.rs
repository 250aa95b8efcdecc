//! `/api/admin`: analytics, mentor applications, the lead verification queue, users, audit.

use actix_web::{delete, get, post, put, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;

use super::error::{ApiError, ErrorBody};
use super::extract::Admin;
use super::json::{Json, Query};
use super::views::{non_empty, paged, parse_bound, AdminLeadView, MessageResponse, PageParams};
use crate::app::{analytics as figures, audit, mentors, review};
use crate::domain::audit::{AuditAction, AuditEntry, AuditFilter};
use crate::domain::decision_reason;
use crate::domain::ids::{LeadId, MentorId};
use crate::domain::lead::LeadStatus;
use crate::domain::mentor::{MentorProfile, MentorStatus};
use crate::domain::user::{Role, User, UserFilter};
use crate::state::AppState;
use crate::store::{Analytics, DayActivity, LeadClaim};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(analytics)
        .service(daily_analytics)
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
pub struct DailyQuery {
    /// Days up to today (UTC), 1–365 (30 when absent).
    #[param(minimum = 1, maximum = 365)]
    pub days: Option<u32>,
}

/// Bookings, verified leads, purchases and revenue (rupees) per day (UTC), one entry per
/// day, oldest first.
#[utoipa::path(
    tag = "admin",
    params(DailyQuery),
    responses((status = 200, body = [DayActivity]), (status = 422, body = ErrorBody))
)]
#[get("/analytics/daily")]
async fn daily_analytics(
    state: web::Data<AppState>,
    _admin: Admin,
    query: Query<DailyQuery>,
) -> Result<web::Json<Vec<DayActivity>>, ApiError> {
    let days = query.days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(ApiError::unprocessable(
            "INVALID_FIELD",
            Some("days".into()),
            "days must be between 1 and 365",
        ));
    }
    let series = figures::daily(state.store.as_ref(), state.clock.now(), days).await?;
    Ok(web::Json(series))
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

#[derive(Debug, Deserialize, IntoParams)]
pub struct UsersQuery {
    /// Only accounts with this role: `USER` (learners), `MENTOR` or `ADMIN`.
    pub role: Option<String>,
    /// Text found in the name or e-mail (case-insensitive).
    pub q: Option<String>,
    /// Items per page, 1–100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Accounts, oldest first, paged (`X-Next-Cursor`). With `q`, a page may come back short
/// (even empty) with a cursor: each page reads a bounded number of accounts.
#[utoipa::path(
    tag = "admin",
    params(UsersQuery),
    responses((status = 200, body = [User]), (status = 422, body = ErrorBody))
)]
#[get("/users")]
async fn list_users(
    state: web::Data<AppState>,
    _admin: Admin,
    query: Query<UsersQuery>,
) -> Result<HttpResponse, ApiError> {
    let role = match query.role.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(role) => Some(
            Role::from_stored(&role.to_ascii_uppercase()).ok_or_else(|| {
                ApiError::unprocessable(
                    "INVALID_FIELD",
                    Some("role".into()),
                    "role must be USER, MENTOR or ADMIN",
                )
            })?,
        ),
    };
    let q = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let filter = UserFilter {
        role,
        q: q.map(|q| q.chars().take(100).collect()),
    };
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .to_request()?;
    let users = state.store.list_users(&filter, page).await?;
    Ok(paged(users))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AuditQuery {
    /// Only this action (`MENTOR_APPROVED`, `LEAD_REJECTED`, …).
    pub action: Option<String>,
    /// Only what this account did (a user id, or `razorpay_webhook`, `system`).
    pub actor_id: Option<String>,
    /// Entries at or after this RFC 3339 time or date.
    pub from: Option<String>,
    /// Entries at or before this RFC 3339 time or date (a date includes the whole day).
    pub to: Option<String>,
    /// Items per page, 1–100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// An audit entry with who acted and on what, by name, and what happened in words.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    #[serde(flatten)]
    pub entry: AuditEntry,
    pub actor_name: String,
    pub target_name: String,
    pub summary: String,
}

/// Every admin decision and payment state change, newest first, paged (`X-Next-Cursor`),
/// each named. A filter that matches few entries may answer a short page with a cursor.
#[utoipa::path(
    tag = "admin",
    params(AuditQuery),
    responses((status = 200, body = [AuditEntryView]), (status = 422, body = ErrorBody))
)]
#[get("/audit-log")]
async fn audit_log(
    state: web::Data<AppState>,
    _admin: Admin,
    query: Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let action = non_empty(&query.action)
        .map(|a| {
            AuditAction::from_stored(&a.to_ascii_uppercase()).ok_or_else(|| {
                ApiError::unprocessable(
                    "INVALID_FIELD",
                    Some("action".into()),
                    "action is not one the audit log records",
                )
            })
        })
        .transpose()?;
    let filter = AuditFilter {
        action,
        actor_id: non_empty(&query.actor_id),
        from: non_empty(&query.from)
            .map(|v| parse_bound("from", &v, false))
            .transpose()?,
        to: non_empty(&query.to)
            .map(|v| parse_bound("to", &v, true))
            .transpose()?,
    };
    let page = PageParams {
        limit: query.limit,
        cursor: query.cursor.clone(),
    }
    .to_request()?;
    let entries = audit::named_page(state.store.as_ref(), &filter, page).await?;
    Ok(paged(entries.map(|named| AuditEntryView {
        entry: named.entry,
        actor_name: named.actor_name,
        target_name: named.target_name,
        summary: named.summary,
    })))
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
