//! Keys and what they protect: personal data sealed at rest (lead contacts, account names and
//! e-mails), and keyed blind indexes that let the store look such values up or find
//! duplicates without holding them in plain text.

mod blind_index;
mod sealer;
mod secret;
mod vault;

pub use blind_index::BlindIndexer;
pub use sealer::{SealError, Sealer};
pub use secret::Secret;
pub use vault::Vault;

/// Length of every symmetric key we use (XChaCha20-Poly1305, HMAC-SHA256, JWT HS256).
pub const KEY_LEN: usize = 32;
