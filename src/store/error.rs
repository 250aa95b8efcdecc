pub use crate::domain::conflict::Conflict;

/// Store failures, free of HTTP. A SQLite UNIQUE violation and a ScyllaDB `[applied] =
/// false` both surface as the same `Conflict`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// A listing cursor this backend did not issue.
    #[error("cursor is not one this API issued")]
    InvalidCursor,
    /// The backend stayed too contended to take the write in time; safe to retry.
    #[error("the store is busy; retry shortly")]
    Busy,
    #[error("store failure")]
    Backend(#[from] anyhow::Error),
}
