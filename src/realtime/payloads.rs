//! Domain values → wire payloads. The one place that decides what each topic may see.

use leadbridge_actors::protocol::event as wire;

use crate::domain::change::EventEdit;
use crate::domain::event::Event;
use crate::domain::lead::Lead;
use crate::domain::time::to_storage;
use crate::domain::verification::rejection_reason;
use crate::store::LeadClaim;

pub fn slots(event: &Event) -> wire::SlotsChanged {
    wire::SlotsChanged {
        event_id: event.event_id.clone(),
        available_slots: event.available_slots(),
        total_slots: event.total_slots,
    }
}

/// Masked (initials, no contact) until purchased, exactly like `GET /api/mentor/leads`.
pub fn mentor_lead(lead: &Lead) -> wire::LeadPayload {
    let view = lead.mentor_view();
    wire::LeadPayload {
        lead: wire::Lead {
            lead_id: lead.lead_id.clone(),
            event_id: lead.event_id.clone(),
            event_title: lead.event_title.clone(),
            status: lead.status.as_str().to_string(),
            verification_status: lead.verification_status.as_str().to_string(),
            name: view.name,
            email: view.email,
            phone: view.phone,
            message: view.message,
            created_at: to_storage(&lead.created_at),
        },
    }
}

pub fn event_details(event: &Event, edit: &EventEdit) -> wire::EventDetails {
    wire::EventDetails {
        event_id: event.event_id.clone(),
        title: event.title.clone(),
        description: event.description.clone(),
        event_datetime: to_storage(&event.event_datetime),
        duration: event.duration,
        price_per_lead: event.price_per_lead.value(),
        total_slots: event.total_slots,
        available_slots: event.available_slots(),
        changed: edit.fields().into_iter().map(str::to_string).collect(),
    }
}

pub fn booking(lead: &Lead) -> wire::BookingPayload {
    wire::BookingPayload {
        lead_id: lead.lead_id.clone(),
        event_id: lead.event_id.clone(),
        event_title: lead.event_title.clone(),
        status: lead.status.as_str().to_string(),
        verification_status: lead.verification_status.as_str().to_string(),
        updated_at: to_storage(&lead.updated_at),
        reason: rejection_reason(lead).map(str::to_string),
    }
}

pub fn claim(claim: &LeadClaim) -> wire::QueueClaim {
    wire::QueueClaim {
        lead_id: claim.lead_id.clone(),
        admin_id: claim.admin_id.clone(),
        expires_at: to_storage(&claim.expires_at),
    }
}

pub fn queue_item(lead: &Lead, claim: Option<&LeadClaim>) -> wire::QueueItem {
    wire::QueueItem {
        lead_id: lead.lead_id.clone(),
        event_id: lead.event_id.clone(),
        event_title: lead.event_title.clone(),
        mentor_id: lead.mentor_id.clone(),
        verification_notes: lead.verification_notes.clone(),
        created_at: to_storage(&lead.created_at),
        claim: claim.map(self::claim),
    }
}
