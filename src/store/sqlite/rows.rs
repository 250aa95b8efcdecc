//! Row → domain mapping, one function per table, so every query reads rows the same way.

use anyhow::anyhow;
use rusqlite::Row;

use serde::de::DeserializeOwned;

use crate::crypto::Vault;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::event::Event;
use crate::domain::lead::{Lead, LeadStatus, VerificationStatus};
use crate::domain::mentor::{MentorProfile, MentorStatus};
use crate::domain::money::{Paise, Rupees};
use crate::domain::payment::{Payment, PaymentStatus};
use crate::domain::time::{parse_rfc3339, Timestamp};
use crate::domain::user::{Role, User};
use crate::store::sealed::{self, Identity};
use crate::store::{Session, StoreError, StoreResult};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Backend(anyhow!("stored {what} is unreadable: {value:?}"))
}

fn ts(row: &Row<'_>, column: &str) -> StoreResult<Timestamp> {
    let raw: String = row.get(column)?;
    parse_rfc3339(&raw).ok_or_else(|| corrupt("timestamp", &raw))
}

fn parsed<T>(row: &Row<'_>, column: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    let raw: String = row.get(column)?;
    parse(&raw).ok_or_else(|| corrupt(column, &raw))
}

pub use crate::store::sealed::seal;

/// Opens a sealed column of the row `context`.
pub fn open<T: DeserializeOwned>(
    vault: &Vault,
    row: &Row<'_>,
    column: &str,
    context: &str,
) -> StoreResult<T> {
    let sealed: Vec<u8> = row.get(column)?;
    sealed::open(vault, &sealed, column, context)
}

pub const USER_COLUMNS: &str = "user_id, identity_sealed, role, picture, created_at";

pub fn user(row: &Row<'_>, vault: &Vault) -> StoreResult<User> {
    let user_id: String = row.get("user_id")?;
    let identity: Identity = open(vault, row, "identity_sealed", &user_id)?;
    Ok(User {
        email: identity.email,
        name: identity.name,
        role: parsed(row, "role", Role::from_stored)?,
        picture: row.get("picture")?,
        created_at: ts(row, "created_at")?,
        user_id,
    })
}

pub fn session(row: &Row<'_>) -> StoreResult<Session> {
    Ok(Session {
        token_hash: row.get("token_hash")?,
        user_id: row.get("user_id")?,
        created_at: ts(row, "created_at")?,
        expires_at: ts(row, "expires_at")?,
    })
}

pub fn mentor(row: &Row<'_>, vault: &Vault) -> StoreResult<MentorProfile> {
    let expertise: String = row.get("expertise")?;
    let mentor_id: String = row.get("mentor_id")?;
    Ok(MentorProfile {
        email: open(vault, row, "email_sealed", &mentor_id)?,
        mentor_id,
        user_id: row.get("user_id")?,
        name: row.get("name")?,
        bio: row.get("bio")?,
        expertise: serde_json::from_str(&expertise)
            .map_err(|_| corrupt("expertise", &expertise))?,
        experience: row.get("experience")?,
        verification_status: parsed(row, "verification_status", MentorStatus::from_stored)?,
        verification_reason: row.get("verification_reason")?,
        created_at: ts(row, "created_at")?,
    })
}

pub fn event(row: &Row<'_>) -> StoreResult<Event> {
    Ok(Event {
        event_id: row.get("event_id")?,
        mentor_id: row.get("mentor_id")?,
        mentor_name: row.get("mentor_name")?,
        title: row.get("title")?,
        description: row.get("description")?,
        category: row.get("category")?,
        event_datetime: ts(row, "event_datetime")?,
        duration: row.get("duration")?,
        total_slots: row.get("total_slots")?,
        booked_slots: row.get("booked_slots")?,
        price_per_lead: Rupees::from_stored(row.get("price_per_lead")?),
        created_at: ts(row, "created_at")?,
    })
}

pub fn lead(row: &Row<'_>, vault: &Vault) -> StoreResult<Lead> {
    let lead_id: String = row.get("lead_id")?;
    let contact = open(vault, row, "contact_sealed", &lead_id)?;
    let notes: String = row.get("verification_notes")?;
    Ok(Lead {
        event_id: row.get("event_id")?,
        event_title: row.get("event_title")?,
        event_datetime: ts(row, "event_datetime")?,
        mentor_id: row.get("mentor_id")?,
        user_id: row.get("user_id")?,
        contact,
        status: parsed(row, "status", LeadStatus::from_stored)?,
        verification_status: parsed(row, "verification_status", VerificationStatus::from_stored)?,
        verification_notes: serde_json::from_str(&notes)
            .map_err(|_| corrupt("verification_notes", &notes))?,
        purchased_by: row.get("purchased_by")?,
        payment_id: row.get("payment_id")?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
        lead_id,
    })
}

pub fn payment(row: &Row<'_>) -> StoreResult<Payment> {
    Ok(Payment {
        payment_id: row.get("payment_id")?,
        mentor_id: row.get("mentor_id")?,
        lead_id: row.get("lead_id")?,
        razorpay_order_id: row.get("razorpay_order_id")?,
        razorpay_payment_id: row.get("razorpay_payment_id")?,
        amount: Paise::new(row.get("amount_paise")?),
        currency: row.get("currency")?,
        status: parsed(row, "status", PaymentStatus::from_stored)?,
        created_at: ts(row, "created_at")?,
        updated_at: ts(row, "updated_at")?,
    })
}

pub fn audit(row: &Row<'_>) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        audit_id: row.get("audit_id")?,
        actor_id: row.get("actor_id")?,
        action: parsed(row, "action", AuditAction::from_stored)?,
        target_id: row.get("target_id")?,
        reason: row.get("reason")?,
        created_at: ts(row, "created_at")?,
    })
}

/// Collects mapped rows from a prepared query.
pub fn collect<T>(
    rows: &mut rusqlite::Rows<'_>,
    map: impl Fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}
