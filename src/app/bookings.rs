//! A learner books a slot, or cancels a booking.

use crate::domain::contact::Contact;
use crate::domain::ids::{self, EventId, LeadId, UserId};
use crate::domain::lead::Lead;
use crate::domain::verification::contact_flags;
use crate::state::AppState;
use crate::store::NewBooking;

use super::AppResult;

/// Takes a slot on the event for the learner: the automatic checks flag the contact here,
/// the store adds the duplicate check and decides the lead's first state with the domain.
pub async fn book(
    state: &AppState,
    user_id: &UserId,
    event_id: &EventId,
    contact: Contact,
) -> AppResult<Lead> {
    let lead = state
        .store
        .book_slot(NewBooking {
            lead_id: ids::new_id(ids::LEAD),
            event_id: event_id.to_string(),
            user_id: user_id.to_string(),
            flags: contact_flags(&contact),
            contact,
            now: state.clock.now(),
        })
        .await?;
    tracing::info!(lead_id = %lead.lead_id, event_id = %lead.event_id, status = lead.status.as_str(), "slot booked");
    Ok(lead)
}

/// Cancels the learner's own booking and frees its slot.
pub async fn cancel(state: &AppState, user_id: &UserId, lead_id: &LeadId) -> AppResult<Lead> {
    let change = state
        .store
        .cancel_booking(user_id, lead_id, state.clock.now())
        .await?;
    Ok(change.lead)
}
