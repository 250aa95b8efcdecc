//! Result rows, one struct per table read, matched to the SELECTs in `cql.rs` by column
//! name, and their conversion to domain types (opening what is sealed).

use anyhow::anyhow;
use scylla::DeserializeRow;

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
use crate::store::{Credentials, LoginAttempt, Session, StoreError, StoreResult};

fn corrupt(what: &str, value: &str) -> StoreError {
    StoreError::Backend(anyhow!("stored {what} is unreadable: {value:?}"))
}

pub fn ts(raw: &str) -> StoreResult<Timestamp> {
    parse_rfc3339(raw).ok_or_else(|| corrupt("timestamp", raw))
}

fn parsed<T>(what: &str, raw: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(raw).ok_or_else(|| corrupt(what, raw))
}

#[derive(DeserializeRow)]
pub struct UserRow {
    user_id: String,
    identity_sealed: Vec<u8>,
    role: String,
    picture: Option<String>,
    created_at: String,
    password_hash: String,
}

impl UserRow {
    pub fn credentials(self, vault: &Vault) -> StoreResult<Credentials> {
        let identity: Identity = sealed::open(
            vault,
            &self.identity_sealed,
            "identity_sealed",
            &self.user_id,
        )?;
        Ok(Credentials {
            user: User {
                email: identity.email,
                name: identity.name,
                role: parsed("role", &self.role, Role::from_stored)?,
                picture: self.picture,
                created_at: ts(&self.created_at)?,
                user_id: self.user_id,
            },
            password_hash: self.password_hash,
        })
    }
}

/// Columns are optional: a touch racing a sign-out can leave a row holding only
/// `last_seen_at` (until its TTL), which is no session.
#[derive(DeserializeRow)]
pub struct SessionRow {
    token_hash: String,
    user_id: Option<String>,
    created_at: Option<String>,
    expires_at: Option<String>,
    last_seen_at: Option<String>,
    device: Option<String>,
    rotate: Option<bool>,
}

impl SessionRow {
    pub fn session(self) -> StoreResult<Option<Session>> {
        let (Some(user_id), Some(created_at), Some(expires_at)) =
            (self.user_id, self.created_at, self.expires_at)
        else {
            return Ok(None);
        };
        let created_at = ts(&created_at)?;
        Ok(Some(Session {
            last_seen_at: match self.last_seen_at {
                Some(seen) => ts(&seen)?,
                None => created_at,
            },
            created_at,
            expires_at: ts(&expires_at)?,
            device: self.device.unwrap_or_default(),
            rotate: self.rotate.unwrap_or(false),
            token_hash: self.token_hash,
            user_id,
        }))
    }
}

#[derive(DeserializeRow)]
pub struct LoginAttemptRow {
    state_hash: String,
    code_verifier: String,
    nonce: String,
    link_user_id: Option<String>,
    role: String,
    next: Option<String>,
    expires_at: String,
}

impl LoginAttemptRow {
    pub fn attempt(self) -> StoreResult<LoginAttempt> {
        Ok(LoginAttempt {
            role: parsed("role", &self.role, Role::from_stored)?,
            expires_at: ts(&self.expires_at)?,
            state_hash: self.state_hash,
            code_verifier: self.code_verifier,
            nonce: self.nonce,
            link_user_id: self.link_user_id,
            next: self.next,
        })
    }
}

#[derive(DeserializeRow)]
pub struct MentorRow {
    mentor_id: String,
    user_id: String,
    name: String,
    email_sealed: Vec<u8>,
    bio: Option<String>,
    /// An empty CQL list reads back as null.
    expertise: Option<Vec<String>>,
    experience: Option<String>,
    verification_status: String,
    verification_reason: Option<String>,
    created_at: String,
}

impl MentorRow {
    pub fn profile(self, vault: &Vault) -> StoreResult<MentorProfile> {
        Ok(MentorProfile {
            email: sealed::open(vault, &self.email_sealed, "email_sealed", &self.mentor_id)?,
            verification_status: parsed(
                "verification_status",
                &self.verification_status,
                MentorStatus::from_stored,
            )?,
            created_at: ts(&self.created_at)?,
            mentor_id: self.mentor_id,
            user_id: self.user_id,
            name: self.name,
            bio: self.bio.unwrap_or_default(),
            expertise: self.expertise.unwrap_or_default(),
            experience: self.experience.unwrap_or_default(),
            verification_reason: self.verification_reason,
        })
    }
}

#[derive(DeserializeRow)]
pub struct EventRow {
    event_id: String,
    mentor_id: String,
    mentor_name: String,
    title: String,
    description: String,
    category: String,
    event_datetime: String,
    duration: i64,
    total_slots: i64,
    booked_slots: i64,
    price_per_lead: i64,
    created_at: String,
}

impl EventRow {
    pub fn event(self) -> StoreResult<Event> {
        Ok(Event {
            event_datetime: ts(&self.event_datetime)?,
            created_at: ts(&self.created_at)?,
            event_id: self.event_id,
            mentor_id: self.mentor_id,
            mentor_name: self.mentor_name,
            title: self.title,
            description: self.description,
            category: self.category,
            duration: self.duration,
            total_slots: self.total_slots,
            booked_slots: self.booked_slots,
            price_per_lead: Rupees::from_stored(self.price_per_lead),
        })
    }
}

#[derive(DeserializeRow)]
pub struct LeadRow {
    lead_id: String,
    event_id: String,
    event_title: String,
    event_datetime: String,
    mentor_id: String,
    user_id: String,
    contact_sealed: Vec<u8>,
    status: String,
    verification_status: String,
    verification_notes: Option<Vec<String>>,
    purchased_by: Option<String>,
    payment_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl LeadRow {
    pub fn lead(self, vault: &Vault) -> StoreResult<Lead> {
        Ok(Lead {
            contact: sealed::open(vault, &self.contact_sealed, "contact_sealed", &self.lead_id)?,
            event_datetime: ts(&self.event_datetime)?,
            status: parsed("status", &self.status, LeadStatus::from_stored)?,
            verification_status: parsed(
                "verification_status",
                &self.verification_status,
                VerificationStatus::from_stored,
            )?,
            created_at: ts(&self.created_at)?,
            updated_at: ts(&self.updated_at)?,
            verification_notes: self.verification_notes.unwrap_or_default(),
            lead_id: self.lead_id,
            event_id: self.event_id,
            event_title: self.event_title,
            mentor_id: self.mentor_id,
            user_id: self.user_id,
            purchased_by: self.purchased_by,
            payment_id: self.payment_id,
        })
    }
}

#[derive(DeserializeRow)]
pub struct PaymentRow {
    payment_id: String,
    razorpay_order_id: String,
    razorpay_payment_id: Option<String>,
    mentor_id: String,
    lead_id: String,
    amount_paise: i64,
    currency: String,
    status: String,
    created_at: String,
    updated_at: String,
}

impl PaymentRow {
    pub fn payment(self) -> StoreResult<Payment> {
        Ok(Payment {
            status: parsed("status", &self.status, PaymentStatus::from_stored)?,
            created_at: ts(&self.created_at)?,
            updated_at: ts(&self.updated_at)?,
            payment_id: self.payment_id,
            mentor_id: self.mentor_id,
            lead_id: self.lead_id,
            razorpay_order_id: self.razorpay_order_id,
            razorpay_payment_id: self.razorpay_payment_id,
            amount: Paise::new(self.amount_paise),
            currency: self.currency,
        })
    }
}

#[derive(DeserializeRow)]
pub struct AuditRow {
    pub created_at: String,
    pub audit_id: String,
    actor_id: String,
    action: String,
    target_id: String,
    reason: Option<String>,
}

impl AuditRow {
    pub fn entry(self) -> StoreResult<AuditEntry> {
        Ok(AuditEntry {
            action: parsed("action", &self.action, AuditAction::from_stored)?,
            created_at: ts(&self.created_at)?,
            audit_id: self.audit_id,
            actor_id: self.actor_id,
            target_id: self.target_id,
            reason: self.reason,
        })
    }
}

#[derive(DeserializeRow)]
pub struct ClaimRow {
    pub lead_id: String,
    pub admin_id: String,
    pub expires_at: String,
}
