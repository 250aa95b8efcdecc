//! Domain rules as plain Rust: no I/O, no clocks except where a caller passes `now`.
//!
//! Every value that crosses the HTTP edge is parsed into one of these types once
//! ("parse, don't validate"), so the store and the handlers can trust what they hold.

pub mod audit;
pub mod change;
pub mod claim;
pub mod conflict;
pub mod contact;
pub mod event;
pub mod ids;
pub mod lead;
pub mod mentor;
pub mod money;
pub mod payment;
pub mod time;
pub mod user;
pub mod verification;

/// A value that failed its parse at the edge. Maps to 422 with the field named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The JSON field (or query parameter) that was rejected.
    pub field: &'static str,
    /// Stable machine-readable code, e.g. `INVALID_EMAIL`.
    pub code: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

/// Trims `value` and checks its length in characters; shared by every free-text field.
pub fn bounded_text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        let message = if min == 1 {
            "must not be empty".to_string()
        } else {
            format!("must be at least {min} characters")
        };
        return Err(ValidationError::new(field, "VALIDATION_FAILED", message));
    }
    if len > max {
        return Err(ValidationError::new(
            field,
            "VALIDATION_FAILED",
            format!("must be at most {max} characters"),
        ));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(ValidationError::new(
            field,
            "VALIDATION_FAILED",
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_string())
}

/// The reason given with an admin's decision: a rejection must say why (the person sees it
/// and the audit log keeps it); an approval may.
pub fn decision_reason(
    rejecting: bool,
    reason: Option<&str>,
) -> Result<Option<String>, ValidationError> {
    match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(given) => Ok(Some(bounded_text("reason", given, 1, 1000)?)),
        None if rejecting => Err(ValidationError::new(
            "reason",
            "REASON_REQUIRED",
            "must be given for a rejection",
        )),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rejection_needs_a_reason_and_an_approval_may_have_one() {
        assert_eq!(
            decision_reason(true, Some("  ")).unwrap_err().code,
            "REASON_REQUIRED"
        );
        assert_eq!(decision_reason(true, None).unwrap_err().field, "reason");
        assert_eq!(decision_reason(false, None), Ok(None));
        assert_eq!(
            decision_reason(false, Some(" fine ")),
            Ok(Some("fine".to_string()))
        );
    }

    #[test]
    fn bounded_text_trims_and_checks_length() {
        assert_eq!(bounded_text("name", "  Ann ", 1, 10).unwrap(), "Ann");
        assert_eq!(
            bounded_text("name", "   ", 1, 10).unwrap_err().field,
            "name"
        );
        assert!(bounded_text("name", "abcdefghijk", 1, 10).is_err());
        assert!(bounded_text("name", "a\u{0}b", 1, 10).is_err());
        assert!(bounded_text("bio", "line\nline", 0, 100).is_ok());
    }
}
