use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Secret;
use crate::domain::contact::Contact;

type HmacSha256 = Hmac<Sha256>;

/// Keyed HMAC of normalised contact values. Equal contacts give equal indexes; without the
/// key an index reveals nothing and cannot be brute-forced offline.
#[derive(Clone)]
pub struct BlindIndexer {
    key: Secret,
}

impl BlindIndexer {
    /// Derives its own key from the data key, so the sealing key is never used for MACs.
    pub fn new(data_key: &Secret) -> Self {
        let mut mac = HmacSha256::new_from_slice(data_key.expose())
            // unwrap: HMAC accepts keys of any length.
            .expect("hmac key of any length");
        mac.update(b"leadbridge/blind-index/v1");
        Self {
            key: Secret::new(mac.finalize().into_bytes().to_vec()),
        }
    }

    /// HMAC of `value` under this indexer's key, separated by `kind` so equal strings of
    /// different kinds (an e-mail and a phone) never collide.
    pub fn index(&self, kind: &str, value: &str) -> String {
        // unwrap: HMAC accepts keys of any length.
        let mut mac = HmacSha256::new_from_slice(self.key.expose()).expect("hmac key");
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The indexes a booking is checked against for duplicates: its e-mail and its phone.
    pub fn for_contact(&self, contact: &Contact) -> Vec<String> {
        vec![
            self.index("email", contact.email.as_str()),
            self.index("phone", contact.phone.as_str()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::{EmailAddress, PhoneNumber};

    fn contact(email: &str, phone: &str) -> Contact {
        Contact {
            name: "X".into(),
            email: EmailAddress::parse("email", email).unwrap(),
            phone: PhoneNumber::parse("phone", phone).unwrap(),
            message: String::new(),
        }
    }

    #[test]
    fn equal_contacts_share_indexes_after_normalisation() {
        let idx = BlindIndexer::new(&Secret::new(vec![1; 32]));
        let a = idx.for_contact(&contact("Jane@Example.com", "+91 98765 43210"));
        let b = idx.for_contact(&contact("jane@example.com", "9876543210"));
        assert_eq!(a, b);
        let c = idx.for_contact(&contact("john@example.com", "9876543211"));
        assert!(a.iter().all(|i| !c.contains(i)));
        assert!(!a[0].contains("jane"));
    }

    #[test]
    fn another_key_gives_other_indexes() {
        let a = BlindIndexer::new(&Secret::new(vec![1; 32]));
        let b = BlindIndexer::new(&Secret::new(vec![2; 32]));
        let c = contact("jane@example.com", "9876543210");
        assert_ne!(a.for_contact(&c), b.for_contact(&c));
    }
}
