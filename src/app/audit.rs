//! The audit log as an admin reads it: each entry with who acted and on what, by name, and
//! a sentence saying what happened (ids mean nothing to a person).

use std::collections::HashMap;

use crate::domain::audit::{
    describe, AuditAction, AuditEntry, AuditFilter, ACTOR_SYSTEM, ACTOR_WEBHOOK,
};
use crate::domain::ids::{LeadId, MentorId, PaymentId, UserId};
use crate::store::{Page, PageRequest, Store, StoreResult};

use super::AppError;

/// An entry with its names.
pub struct NamedEntry {
    pub entry: AuditEntry,
    pub actor_name: String,
    pub target_name: String,
    /// "Asha Admin verified Ravi's booking for “Rust clinic”".
    pub summary: String,
}

/// One page of the log, filtered, each entry named (a few look-ups per entry, remembered
/// within the page).
pub async fn named_page(
    store: &dyn Store,
    filter: &AuditFilter,
    page: PageRequest,
) -> Result<Page<NamedEntry>, AppError> {
    let entries = store.audit_log(filter, page).await?;
    let mut people: HashMap<String, String> = HashMap::new();
    let mut named = Vec::with_capacity(entries.items.len());
    for entry in &entries.items {
        let actor_name = person(store, &mut people, &entry.actor_id).await?;
        let target_name = target(store, &mut people, entry).await?;
        let summary = format!("{actor_name} {} {target_name}", describe(entry.action));
        named.push((actor_name, target_name, summary));
    }
    Ok(Page {
        items: entries
            .items
            .into_iter()
            .zip(named)
            .map(|(entry, (actor_name, target_name, summary))| NamedEntry {
                entry,
                actor_name,
                target_name,
                summary,
            })
            .collect(),
        next_cursor: entries.next_cursor,
    })
}

async fn person(
    store: &dyn Store,
    known: &mut HashMap<String, String>,
    user_id: &str,
) -> StoreResult<String> {
    if let Some(name) = known.get(user_id) {
        return Ok(name.clone());
    }
    let name = match user_id {
        ACTOR_WEBHOOK => "Razorpay".to_string(),
        ACTOR_SYSTEM => "LeadBridge".to_string(),
        _ => store
            .user(UserId::new(user_id))
            .await?
            .map_or_else(|| "A closed account".to_string(), |u| u.name),
    };
    known.insert(user_id.to_string(), name.clone());
    Ok(name)
}

async fn target(
    store: &dyn Store,
    people: &mut HashMap<String, String>,
    entry: &AuditEntry,
) -> StoreResult<String> {
    let id = entry.target_id.as_str();
    Ok(match entry.action {
        AuditAction::MentorApproved | AuditAction::MentorRejected => store
            .mentor(MentorId::new(id))
            .await?
            .map_or_else(|| "a mentor who has left".to_string(), |m| m.name),
        AuditAction::LeadVerified | AuditAction::LeadRejected => lead(store, id).await?,
        AuditAction::PaymentCreated
        | AuditAction::PaymentCompleted
        | AuditAction::PaymentFailed
        | AuditAction::PaymentRefundDue => match store.payment(PaymentId::new(id)).await? {
            Some(payment) => format!(
                "the payment of ₹{} for {}",
                payment.amount.whole_rupees(),
                lead(store, &payment.lead_id).await?
            ),
            None => "a payment".to_string(),
        },
        AuditAction::AccountClosed if id == entry.actor_id => "their account".to_string(),
        AuditAction::AccountClosed => {
            format!("the account of {}", person(store, people, id).await?)
        }
    })
}

async fn lead(store: &dyn Store, lead_id: &str) -> StoreResult<String> {
    Ok(match store.lead(LeadId::new(lead_id)).await? {
        Some(lead) => format!("{}'s booking for “{}”", lead.contact.name, lead.event_title),
        None => "a booking".to_string(),
    })
}
