//! Use cases: one function per thing a person does, between HTTP and the store. A handler
//! authenticates, parses its request into domain values, calls one of these and renders
//! what it returns. A use case asks the domain for the decision and has the store carry it
//! out; what it commits reaches people through the outbox and its relay, never from here.
//! Access it ends is another matter: ending sessions closes their sockets at once.

pub mod accounts;
pub mod analytics;
pub mod audit;
pub mod bookings;
pub mod catalog;
pub mod mentors;
pub mod purchases;
pub mod review;

use crate::payments::GatewayError;
use crate::store::StoreError;

/// Why a use case did not happen; mapped to HTTP once (`http::error`).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The payment provider failed or timed out.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// Unknown, or someone else's (the two are not told apart).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Refused by a rule that has its own code (`LEAD_UNAVAILABLE`, `ORDER_NOT_OPEN`).
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// A signature that does not match what it signs.
    #[error("{message}")]
    BadSignature { message: String },
    /// A request the provider sent that cannot be read.
    #[error("{message}")]
    Malformed { code: &'static str, message: String },
}

impl From<crate::domain::conflict::Conflict> for AppError {
    fn from(conflict: crate::domain::conflict::Conflict) -> Self {
        AppError::Store(conflict.into())
    }
}

pub type AppResult<T> = Result<T, AppError>;
