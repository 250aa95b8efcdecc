//! Why the rules refuse a change, given what is stored. Decided in the domain, carried
//! through the store's errors, answered with 409 by the API.

use super::lead::TransitionError;

/// A change refused because of what is already stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    #[error("an account with this e-mail already exists")]
    EmailTaken,
    #[error("the admin e-mail belongs to a learner or mentor account")]
    AdminEmailInUse,
    #[error("this event's mentor is not accepting bookings")]
    MentorNotAccepting,
    #[error("another admin is reviewing this lead (claimed by {admin_id})")]
    ClaimedByOther { admin_id: String },
    #[error("no slots left on this event")]
    EventFull,
    #[error("you already have a booking on this event")]
    AlreadyBooked,
    #[error("this event has already started")]
    EventStarted,
    #[error("{0}")]
    Transition(#[from] TransitionError),
    #[error("{0}")]
    AlreadyDecided(String),
    #[error("the event already has {booked} live bookings; slots cannot go below that")]
    SlotsBelowBooked { booked: i64 },
    #[error("the event has {live} live bookings; cancel or resolve them first")]
    EventHasBookings { live: i64 },
    #[error("a mentor with events cannot close the account; delete the events first (events with bookings stay as the marketplace's records: ask an admin)")]
    AccountHasEvents,
}

impl Conflict {
    pub fn code(&self) -> &'static str {
        match self {
            Conflict::EmailTaken => "EMAIL_TAKEN",
            Conflict::AdminEmailInUse => "ADMIN_EMAIL_IN_USE",
            Conflict::MentorNotAccepting => "MENTOR_NOT_ACCEPTING_BOOKINGS",
            Conflict::ClaimedByOther { .. } => "CLAIMED_BY_OTHER",
            Conflict::EventFull => "EVENT_FULL",
            Conflict::AlreadyBooked => "ALREADY_BOOKED",
            Conflict::EventStarted => "EVENT_STARTED",
            Conflict::Transition(t) => t.code(),
            Conflict::AlreadyDecided(_) => "ALREADY_DECIDED",
            Conflict::SlotsBelowBooked { .. } => "SLOTS_BELOW_BOOKED",
            Conflict::EventHasBookings { .. } => "EVENT_HAS_BOOKINGS",
            Conflict::AccountHasEvents => "ACCOUNT_HAS_EVENTS",
        }
    }
}
