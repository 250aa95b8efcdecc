use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Secret;

const NONCE_LEN: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("the sealed value is too short or was not made with this key and context")]
    Open,
    #[error("value could not be encoded or decoded: {0}")]
    Encode(#[from] serde_json::Error),
}

/// Seals values with XChaCha20-Poly1305. The context (the owning row's id) is the associated
/// data, so a sealed value copied onto another row does not open.
#[derive(Clone)]
pub struct Sealer {
    aead: XChaCha20Poly1305,
}

impl Sealer {
    /// `key` must be 32 bytes (checked when the configuration is loaded).
    pub fn new(key: &Secret) -> Self {
        Self {
            aead: XChaCha20Poly1305::new(key.expose().into()),
        }
    }

    /// `nonce ‖ ciphertext` of the value's JSON; a random 192-bit nonce per seal is safe
    /// without a counter.
    pub fn seal<T: Serialize>(&self, context: &str, value: &T) -> Result<Vec<u8>, SealError> {
        let plain = serde_json::to_vec(value)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::thread_rng().fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub fn open<T: DeserializeOwned>(&self, context: &str, sealed: &[u8]) -> Result<T, SealError> {
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
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Open)?;
        Ok(serde_json::from_slice(&plain)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::{Contact, EmailAddress, PhoneNumber};

    fn contact() -> Contact {
        Contact {
            name: "Jane Doe".into(),
            email: EmailAddress::parse("email", "jane@example.com").unwrap(),
            phone: PhoneNumber::parse("phone", "9876543210").unwrap(),
            message: "hello".into(),
        }
    }

    #[test]
    fn seal_round_trips_and_hides_the_value() {
        let sealer = Sealer::new(&Secret::new(vec![7; 32]));
        let sealed = sealer.seal("lead_1", &contact()).unwrap();
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("jane") && !text.contains("9876543210"));
        assert_eq!(
            sealer.open::<Contact>("lead_1", &sealed).unwrap(),
            contact()
        );
    }

    #[test]
    fn a_sealed_value_does_not_open_under_another_context_or_key() {
        let sealer = Sealer::new(&Secret::new(vec![7; 32]));
        let sealed = sealer.seal("lead_1", &contact()).unwrap();
        assert!(sealer.open::<Contact>("lead_2", &sealed).is_err());
        let other = Sealer::new(&Secret::new(vec![8; 32]));
        assert!(other.open::<Contact>("lead_1", &sealed).is_err());
        assert!(sealer.open::<Contact>("lead_1", &sealed[..10]).is_err());
    }
}
