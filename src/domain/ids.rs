//! Prefixed random ids (`user_…`, `lead_…`), as in the seed, so an id says what it names.

use uuid::Uuid;

pub const USER: &str = "user";
pub const MENTOR: &str = "mentor";
pub const EVENT: &str = "event";
pub const LEAD: &str = "lead";
pub const PAYMENT: &str = "pay";
pub const ORDER: &str = "order";
pub const AUDIT: &str = "audit";
pub const VERIFICATION_LOG: &str = "vlog";

/// A fresh id such as `lead_3f2a…` (prefix, underscore, 32 hex digits of a v4 UUID).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_are_unique() {
        let a = new_id(LEAD);
        let b = new_id(LEAD);
        assert!(a.starts_with("lead_"));
        assert_eq!(a.len(), "lead_".len() + 32);
        assert_ne!(a, b);
    }
}
