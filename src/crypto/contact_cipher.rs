use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

use super::Secret;
use crate::domain::contact::Contact;

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the sealed contact is too short or was not made with this key and lead id")]
    Open,
    #[error("contact could not be encoded: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Seals a lead's contact with XChaCha20-Poly1305. The lead id is the associated data, so
/// a sealed contact copied onto another lead row does not open.
#[derive(Clone)]
pub struct ContactCipher {
    aead: XChaCha20Poly1305,
}

impl ContactCipher {
    /// `key` must be 32 bytes (checked when the configuration is loaded).
    pub fn new(key: &Secret) -> Self {
        Self {
            aead: XChaCha20Poly1305::new(key.expose().into()),
        }
    }

    /// `nonce ‖ ciphertext`; a random 192-bit nonce per seal is safe without a counter.
    pub fn seal(&self, lead_id: &str, contact: &Contact) -> Result<Vec<u8>, SealError> {
        let plain = serde_json::to_vec(contact)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: lead_id.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open(&self, lead_id: &str, sealed: &[u8]) -> Result<Contact, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let plain = self
            .aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: lead_id.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)?;
        Ok(serde_json::from_slice(&plain)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::{EmailAddress, PhoneNumber};

    fn contact() -> Contact {
        Contact {
            name: "Jane Doe".into(),
            email: EmailAddress::parse("email", "jane@example.com").unwrap(),
            phone: PhoneNumber::parse("phone", "9876543210").unwrap(),
            message: "hello".into(),
        }
    }

    #[test]
    fn seal_round_trips_and_hides_the_contact() {
        let cipher = ContactCipher::new(&Secret::new(vec![7; 32]));
        let sealed = cipher.seal("lead_1", &contact()).unwrap();
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("jane") && !text.contains("9876543210"));
        assert_eq!(cipher.open("lead_1", &sealed).unwrap(), contact());
    }

    #[test]
    fn a_sealed_contact_does_not_open_under_another_lead_or_key() {
        let cipher = ContactCipher::new(&Secret::new(vec![7; 32]));
        let sealed = cipher.seal("lead_1", &contact()).unwrap();
        assert!(cipher.open("lead_2", &sealed).is_err());
        let other = ContactCipher::new(&Secret::new(vec![8; 32]));
        assert!(other.open("lead_1", &sealed).is_err());
        assert!(cipher.open("lead_1", &sealed[..10]).is_err());
    }
}
