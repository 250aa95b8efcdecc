//! Personal data as every backend stores it: sealed under the data key, with the row's id
//! as associated data (so a sealed value moved to another row does not open).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{StoreError, StoreResult};
use crate::crypto::Vault;

/// The sealed part of an account row.
#[derive(Serialize, Deserialize)]
pub struct Identity {
    pub email: String,
    pub name: String,
}

impl Identity {
    pub fn new(email: &str, name: &str) -> Self {
        Self {
            email: email.to_string(),
            name: name.to_string(),
        }
    }
}

/// Seals a value for the row `context`; a failure is ours, never the caller's.
pub fn seal<T: Serialize>(vault: &Vault, context: &str, value: &T) -> StoreResult<Vec<u8>> {
    vault.seal(context, value).map_err(|e| {
        StoreError::Backend(anyhow::Error::new(e).context(format!("sealing for {context}")))
    })
}

/// Opens the sealed `column` of the row `context`.
pub fn open<T: DeserializeOwned>(
    vault: &Vault,
    sealed: &[u8],
    column: &str,
    context: &str,
) -> StoreResult<T> {
    vault.open(context, sealed).map_err(|e| {
        StoreError::Backend(anyhow::Error::new(e).context(format!("opening {column} of {context}")))
    })
}
