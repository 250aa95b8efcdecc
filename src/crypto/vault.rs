use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{BlindIndexer, SealError, Sealer, Secret};
use crate::domain::contact::Contact;

/// What a store needs to keep personal data unreadable at rest: a sealer for the values and
/// blind indexes for the ones it must look up or compare (account e-mails, lead contacts).
#[derive(Clone)]
pub struct Vault {
    sealer: Sealer,
    index: BlindIndexer,
}

impl Vault {
    pub fn new(data_key: &Secret) -> Self {
        Self {
            sealer: Sealer::new(data_key),
            index: BlindIndexer::new(data_key),
        }
    }

    /// Seals `value` bound to `context` (the id of the row that holds it).
    pub fn seal<T: Serialize>(&self, context: &str, value: &T) -> Result<Vec<u8>, SealError> {
        self.sealer.seal(context, value)
    }

    pub fn open<T: DeserializeOwned>(&self, context: &str, sealed: &[u8]) -> Result<T, SealError> {
        self.sealer.open(context, sealed)
    }

    /// The look-up key of an account e-mail (already normalised by the caller).
    pub fn email_index(&self, email: &str) -> String {
        self.index.index("account-email", email)
    }

    /// The keys a booking's contact is compared on for duplicates: its e-mail and phone.
    pub fn contact_indexes(&self, contact: &Contact) -> Vec<String> {
        self.index.for_contact(contact)
    }
}
