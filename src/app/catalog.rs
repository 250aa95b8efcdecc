//! A mentor publishes, edits and deletes events.

use crate::domain::event::{Event, EventDraft};
use crate::domain::ids::{self, EventId, MentorId};
use crate::domain::mentor::MentorProfile;
use crate::state::AppState;

use super::AppResult;

pub async fn create_event(
    state: &AppState,
    mentor: &MentorProfile,
    draft: EventDraft,
) -> AppResult<Event> {
    let event = Event {
        event_id: ids::new_id(ids::EVENT),
        mentor_id: mentor.mentor_id.clone(),
        mentor_name: mentor.name.clone(),
        title: draft.title,
        description: draft.description,
        category: draft.category,
        event_datetime: draft.event_datetime,
        duration: draft.duration,
        total_slots: draft.total_slots,
        booked_slots: 0,
        price_per_lead: draft.price_per_lead,
        created_at: state.clock.now(),
    };
    Ok(state.store.create_event(event).await?)
}

/// Replaces the details of the mentor's own event; the slots may not drop below the live
/// bookings (`Event::check_slots`), and the learners booked on it are told of a move.
pub async fn edit_event(
    state: &AppState,
    mentor_id: &MentorId,
    event_id: &EventId,
    draft: EventDraft,
) -> AppResult<Event> {
    Ok(state.store.update_event(mentor_id, event_id, draft).await?)
}

/// Deletes the mentor's own event, only while nobody holds a slot on it.
pub async fn delete_event(
    state: &AppState,
    mentor_id: &MentorId,
    event_id: &EventId,
) -> AppResult<()> {
    Ok(state.store.delete_event(mentor_id, event_id).await?)
}
