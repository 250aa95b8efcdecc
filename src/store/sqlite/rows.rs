//! Row → domain mapping, one function per table, so every query reads rows the same way.

use anyhow::anyhow;
use rusqlite::types::FromSql;
use rusqlite::Row;

use serde::de::DeserializeOwned;

use crate::crypto::Vault;
use crate::domain::audit::{AuditAction, AuditEntry};
use crate::domain::event::Event;
use crate::domain::lead::{Lead, LeadStatus, VerificationStatus};
use crate::domain::mentor::{MentorProfile, MentorStatus};
use crate::domain::money::{Paise, Rupees};
use crate::domain::payment::{Payment, PaymentStatus};
use crate::domain::time::{from_storage, Timestamp};
use crate::domain::user::{Role, User};
use crate::store::sealed::{self, Identity};
use crate::store::{LoginAttempt, Session, StoreError, StoreResult};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Backend(anyhow!("stored {what} is unreadable: {value:?}"))
}

pub use crate::store::sealed::seal;

/// Reads a row's columns by position, in the order its `*_COLUMNS` list names them:
/// finding a column by name compares it with every name in the row, for every field (6 %
/// of a listing's time). Debug builds (the tests) check each name, so a list and the
/// mapper that reads it cannot drift apart unnoticed.
struct Columns<'r, 's> {
    row: &'r Row<'s>,
    next: usize,
}

impl<'r, 's> Columns<'r, 's> {
    fn of(row: &'r Row<'s>) -> Self {
        Self { row, next: 0 }
    }

    fn get<T: FromSql>(&mut self, name: &str) -> StoreResult<T> {
        let index = self.next;
        self.next += 1;
        debug_assert_eq!(
            self.row.as_ref().column_name(index).ok(),
            Some(name),
            "column {index} is not the one the mapper expects"
        );
        Ok(self.row.get(index)?)
    }

    fn parsed<T>(&mut self, name: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
        let raw: String = self.get(name)?;
        parse(&raw).ok_or_else(|| corrupt(name, &raw))
    }

    fn ts(&mut self, name: &str) -> StoreResult<Timestamp> {
        self.parsed(name, from_storage)
    }

    /// Opens a sealed column of the row `context`.
    fn open<T: DeserializeOwned>(
        &mut self,
        vault: &Vault,
        name: &str,
        context: &str,
    ) -> StoreResult<T> {
        let sealed: Vec<u8> = self.get(name)?;
        sealed::open(vault, &sealed, name, context)
    }
}

pub const USER_COLUMNS: &str = "user_id, identity_sealed, role, picture, created_at";

pub fn user(row: &Row<'_>, vault: &Vault) -> StoreResult<User> {
    let mut c = Columns::of(row);
    let user_id: String = c.get("user_id")?;
    let identity: Identity = c.open(vault, "identity_sealed", &user_id)?;
    Ok(User {
        email: identity.email,
        name: identity.name,
        role: c.parsed("role", Role::from_stored)?,
        picture: c.get("picture")?,
        created_at: c.ts("created_at")?,
        user_id,
    })
}

pub fn session(row: &Row<'_>) -> StoreResult<Session> {
    let mut c = Columns::of(row);
    Ok(Session {
        token_hash: c.get("token_hash")?,
        user_id: c.get("user_id")?,
        created_at: c.ts("created_at")?,
        expires_at: c.ts("expires_at")?,
        last_seen_at: c.ts("last_seen_at")?,
        device: c.get("device")?,
        rotate: c.get("rotate")?,
    })
}

pub const SESSION_COLUMNS: &str =
    "token_hash, user_id, created_at, expires_at, last_seen_at, device, rotate";

pub fn login_attempt(row: &Row<'_>) -> StoreResult<LoginAttempt> {
    let mut c = Columns::of(row);
    Ok(LoginAttempt {
        state_hash: c.get("state_hash")?,
        code_verifier: c.get("code_verifier")?,
        nonce: c.get("nonce")?,
        link_user_id: c.get("link_user_id")?,
        role: c.parsed("role", Role::from_stored)?,
        next: c.get("next")?,
        expires_at: c.ts("expires_at")?,
    })
}

pub fn mentor(row: &Row<'_>, vault: &Vault) -> StoreResult<MentorProfile> {
    let mut c = Columns::of(row);
    let mentor_id: String = c.get("mentor_id")?;
    let user_id = c.get("user_id")?;
    let name = c.get("name")?;
    let email = c.open(vault, "email_sealed", &mentor_id)?;
    let bio = c.get("bio")?;
    let expertise: String = c.get("expertise")?;
    Ok(MentorProfile {
        expertise: serde_json::from_str(&expertise)
            .map_err(|_| corrupt("expertise", &expertise))?,
        experience: c.get("experience")?,
        verification_status: c.parsed("verification_status", MentorStatus::from_stored)?,
        verification_reason: c.get("verification_reason")?,
        created_at: c.ts("created_at")?,
        mentor_id,
        user_id,
        name,
        email,
        bio,
    })
}

pub fn event(row: &Row<'_>) -> StoreResult<Event> {
    let mut c = Columns::of(row);
    Ok(Event {
        event_id: c.get("event_id")?,
        mentor_id: c.get("mentor_id")?,
        mentor_name: c.get("mentor_name")?,
        title: c.get("title")?,
        description: c.get("description")?,
        category: c.get("category")?,
        event_datetime: c.ts("event_datetime")?,
        duration: c.get("duration")?,
        total_slots: c.get("total_slots")?,
        booked_slots: c.get("booked_slots")?,
        price_per_lead: Rupees::from_stored(c.get("price_per_lead")?),
        created_at: c.ts("created_at")?,
    })
}

pub fn lead(row: &Row<'_>, vault: &Vault) -> StoreResult<Lead> {
    let mut c = Columns::of(row);
    let lead_id: String = c.get("lead_id")?;
    let event_id = c.get("event_id")?;
    let event_title = c.get("event_title")?;
    let event_datetime = c.ts("event_datetime")?;
    let mentor_id = c.get("mentor_id")?;
    let user_id = c.get("user_id")?;
    let contact = c.open(vault, "contact_sealed", &lead_id)?;
    let status = c.parsed("status", LeadStatus::from_stored)?;
    let verification_status = c.parsed("verification_status", VerificationStatus::from_stored)?;
    let notes: String = c.get("verification_notes")?;
    Ok(Lead {
        verification_notes: serde_json::from_str(&notes)
            .map_err(|_| corrupt("verification_notes", &notes))?,
        purchased_by: c.get("purchased_by")?,
        payment_id: c.get("payment_id")?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
        lead_id,
        event_id,
        event_title,
        event_datetime,
        mentor_id,
        user_id,
        contact,
        status,
        verification_status,
    })
}

pub fn payment(row: &Row<'_>) -> StoreResult<Payment> {
    let mut c = Columns::of(row);
    Ok(Payment {
        payment_id: c.get("payment_id")?,
        mentor_id: c.get("mentor_id")?,
        lead_id: c.get("lead_id")?,
        razorpay_order_id: c.get("razorpay_order_id")?,
        razorpay_payment_id: c.get("razorpay_payment_id")?,
        amount: Paise::new(c.get("amount_paise")?),
        currency: c.get("currency")?,
        status: c.parsed("status", PaymentStatus::from_stored)?,
        created_at: c.ts("created_at")?,
        updated_at: c.ts("updated_at")?,
    })
}

/// Reads `audit_id, actor_id, action, target_id, reason, created_at`, in that order.
pub fn audit(row: &Row<'_>) -> StoreResult<AuditEntry> {
    let mut c = Columns::of(row);
    Ok(AuditEntry {
        audit_id: c.get("audit_id")?,
        actor_id: c.get("actor_id")?,
        action: c.parsed("action", AuditAction::from_stored)?,
        target_id: c.get("target_id")?,
        reason: c.get("reason")?,
        created_at: c.ts("created_at")?,
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
