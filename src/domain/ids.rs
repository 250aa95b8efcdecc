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
/// A write in flight on ScyllaDB (`store/scylla/moves.rs`).
pub const PENDING_WRITE: &str = "write";

/// Declares an id type: a view of a string as the id of one kind of thing, so that a call
/// given a lead's id where an event's belongs does not compile:
///
/// ```
/// # use leadbridge::domain::ids::{EventId, MentorId};
/// # use leadbridge::store::Store;
/// async fn delete(store: &dyn Store, mentor: &str, event: &str) {
///     let _ = store.delete_event(MentorId::new(mentor), EventId::new(event)).await;
/// }
/// ```
///
/// ```compile_fail
/// # use leadbridge::domain::ids::{EventId, MentorId};
/// # use leadbridge::store::Store;
/// async fn delete(store: &dyn Store, mentor: &str, event: &str) {
///     let _ = store.delete_event(EventId::new(event), MentorId::new(mentor)).await;
/// }
/// ```
/// Borrowed like `str` and
/// `Path` (`LeadId::new(&lead.lead_id)` copies nothing); `Deref` to `str` lets storage code
/// use it as the string it is.
macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(transparent)]
        pub struct $name(str);

        impl $name {
            pub fn new(id: &str) -> &Self {
                // SAFETY: the type is `repr(transparent)` over `str`: same layout, and the
                // borrow keeps the lifetime of `id`.
                unsafe { &*(id as *const str as *const Self) }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<&$name> for String {
            fn eq(&self, other: &&$name) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}

id_type! {
    /// An account (learner, mentor or admin).
    UserId;
    /// A mentor's profile (not the mentor's account).
    MentorId;
    EventId;
    LeadId;
    /// Our payment record.
    PaymentId;
    /// The payment provider's order.
    OrderId;
}

/// A fresh id such as `lead_3f2a…` (prefix, underscore, 32 hex digits of a v4 UUID).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", Uuid::new_v4().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_type_is_a_view_of_its_string() {
        let raw = new_id(LEAD);
        let id = LeadId::new(&raw);
        assert_eq!(id.as_str(), raw);
        assert_eq!(id.to_string(), raw);
        assert!(id.starts_with("lead_"));
        assert_eq!(LeadId::new(&raw), id);
    }

    #[test]
    fn ids_carry_their_prefix_and_are_unique() {
        let a = new_id(LEAD);
        let b = new_id(LEAD);
        assert!(a.starts_with("lead_"));
        assert_eq!(a.len(), "lead_".len() + 32);
        assert_ne!(a, b);
    }
}
