//! Keys and what they protect: lead contacts sealed at rest, and keyed blind indexes that
//! let the store find duplicate contacts without holding them in plain text.

mod blind_index;
mod contact_cipher;
mod secret;

pub use blind_index::BlindIndexer;
pub use contact_cipher::{ContactCipher, SealError};
pub use secret::Secret;

/// Length of every symmetric key we use (XChaCha20-Poly1305, HMAC-SHA256, JWT HS256).
pub const KEY_LEN: usize = 32;
