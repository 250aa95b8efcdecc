//! Response shapes shared by several resources. Field names follow the seed's API.

use actix_web::HttpResponse;
use chrono::{Datelike, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::ApiError;
use crate::domain::event::Event;
use crate::domain::lead::{Lead, LeadStatus, VerificationStatus};
use crate::domain::time::{parse_rfc3339, serialize_wire, Timestamp};
use crate::domain::verification::rejection_reason;
use crate::store::{Page, PageRequest, DEFAULT_LIMIT, MAX_LIMIT};

/// Header that carries the opaque cursor of the next page of a listing.
pub const NEXT_CURSOR_HEADER: &str = "X-Next-Cursor";

#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub event_id: String,
    pub mentor_id: String,
    pub mentor_name: String,
    pub title: String,
    pub description: String,
    pub category: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub event_datetime: Timestamp,
    /// Minutes.
    pub duration: i64,
    /// Slots still free.
    pub available_slots: i64,
    /// Slots offered in all.
    pub total_slots: i64,
    /// Whole rupees.
    pub price_per_lead: i64,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub created_at: Timestamp,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        Self {
            available_slots: e.available_slots(),
            event_id: e.event_id,
            mentor_id: e.mentor_id,
            mentor_name: e.mentor_name,
            title: e.title,
            description: e.description,
            category: e.category,
            event_datetime: e.event_datetime,
            duration: e.duration,
            total_slots: e.total_slots,
            price_per_lead: e.price_per_lead.value(),
            created_at: e.created_at,
        }
    }
}

impl From<&Event> for EventView {
    fn from(e: &Event) -> Self {
        Self::from(e.clone())
    }
}

/// A lead as its own learner sees it: everything they entered.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookingView {
    pub lead_id: String,
    pub event_id: String,
    pub event_title: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub event_datetime: Timestamp,
    pub status: LeadStatus,
    pub verification_status: VerificationStatus,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub message: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub updated_at: Timestamp,
    /// Why an admin rejected the booking, when they said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl From<&Lead> for BookingView {
    fn from(l: &Lead) -> Self {
        Self {
            lead_id: l.lead_id.clone(),
            event_id: l.event_id.clone(),
            event_title: l.event_title.clone(),
            event_datetime: l.event_datetime,
            status: l.status,
            verification_status: l.verification_status,
            name: l.contact.name.clone(),
            email: l.contact.email.as_str().to_string(),
            phone: l.contact.phone.as_str().to_string(),
            message: l.contact.message.clone(),
            created_at: l.created_at,
            updated_at: l.updated_at,
            reason: rejection_reason(l).map(str::to_string),
        }
    }
}

/// A lead as a mentor sees it: initials only until PURCHASED, then the full contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct MentorLeadView {
    pub lead_id: String,
    pub event_id: String,
    pub event_title: String,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub event_datetime: Timestamp,
    pub status: LeadStatus,
    pub verification_status: VerificationStatus,
    /// Whole rupees; absent only if the event is gone.
    pub price_per_lead: Option<i64>,
    /// Initials (`J. D.`) until purchased, then the full name.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchased_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "serialize_wire")]
    pub created_at: Timestamp,
}

impl MentorLeadView {
    pub fn new(l: &Lead, price_per_lead: Option<i64>) -> Self {
        let view = l.mentor_view();
        Self {
            lead_id: l.lead_id.clone(),
            event_id: l.event_id.clone(),
            event_title: l.event_title.clone(),
            event_datetime: l.event_datetime,
            status: l.status,
            verification_status: l.verification_status,
            price_per_lead,
            name: view.name,
            email: view.email,
            phone: view.phone,
            message: view.message,
            purchased_by: l.purchased_by.clone(),
            payment_id: l.payment_id.clone(),
            created_at: l.created_at,
        }
    }
}

/// A lead as an admin reviewing it sees it: everything, with why it is in review.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdminLeadView {
    #[serde(flatten)]
    pub booking: BookingView,
    pub user_id: String,
    pub mentor_id: String,
    pub verification_notes: Vec<String>,
    pub purchased_by: Option<String>,
    pub payment_id: Option<String>,
}

impl From<&Lead> for AdminLeadView {
    fn from(l: &Lead) -> Self {
        Self {
            booking: BookingView::from(l),
            user_id: l.user_id.clone(),
            mentor_id: l.mentor_id.clone(),
            verification_notes: l.verification_notes.clone(),
            purchased_by: l.purchased_by.clone(),
            payment_id: l.payment_id.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: String,
}

impl MessageResponse {
    pub fn new(message: &str) -> Self {
        Self {
            message: message.to_string(),
        }
    }
}

/// `limit` (1–100, default 20) and the opaque `cursor` from the previous page's
/// `X-Next-Cursor` header.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PageParams {
    /// Items per page, 1–100 (20 when absent).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

impl PageParams {
    pub fn to_request(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::unprocessable(
                "INVALID_FIELD",
                Some("limit".into()),
                format!("limit must be between 1 and {MAX_LIMIT}"),
            ));
        }
        match self.cursor.as_deref() {
            None | Some("") => Ok(PageRequest::first(limit)),
            Some(cursor) => PageRequest::from_cursor(limit, cursor).ok_or_else(|| {
                ApiError::unprocessable(
                    "INVALID_CURSOR",
                    Some("cursor".into()),
                    "cursor is not one this API issued",
                )
            }),
        }
    }
}

/// A JSON array of one page, with the next page's cursor in [`NEXT_CURSOR_HEADER`].
pub fn paged<T: Serialize>(page: Page<T>) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(cursor) = &page.next_cursor {
        response.insert_header((NEXT_CURSOR_HEADER, cursor.as_str()));
    }
    response.json(page.items)
}

/// A time bound from a query: an RFC 3339 time, or a `YYYY-MM-DD` date (its start, or its
/// end with `end_of_day`).
pub fn parse_bound(
    field: &'static str,
    value: &str,
    end_of_day: bool,
) -> Result<Timestamp, ApiError> {
    if let Some(ts) = parse_rfc3339(value) {
        return Ok(ts);
    }
    let invalid = || {
        ApiError::unprocessable(
            "INVALID_FIELD",
            Some(field.into()),
            format!("{field} must be an RFC 3339 time or a YYYY-MM-DD date"),
        )
    };
    let date = NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| invalid())?;
    let time = if end_of_day {
        date.and_hms_micro_opt(23, 59, 59, 999_999)
    } else {
        date.and_hms_opt(0, 0, 0)
    };
    time.map(|t| Utc.from_utc_datetime(&t))
        .filter(|t| (1..=9999).contains(&t.year()))
        .ok_or_else(invalid)
}

/// A query value with its spaces trimmed, if anything is left.
pub fn non_empty(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}
