use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::OnceLock;

/// argon2id with OWASP's minimum: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    // unwrap: constant, valid parameters.
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password (PHC string). CPU-heavy: call from a blocking thread.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::thread_rng());
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Checks a password against a stored hash. CPU-heavy: call from a blocking thread.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Stored for accounts made by Google sign-in: no password can match it.
pub const NONE: &str = "!no-password";

/// Whether the stored hash is a password's (not the `NONE` of a Google-only account).
pub fn is_usable(stored: &str) -> bool {
    stored != NONE
}

/// A hash to verify against when the e-mail is unknown, so a wrong e-mail costs as much
/// time as a wrong password and the two cannot be told apart.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash("dummy-password-for-timing").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_use_argon2id_with_our_parameters() {
        let h = hash("learner-pass-2026").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("learner-pass-2026", &h));
        assert!(!verify("learner-pass-2027", &h));
        assert!(!verify("x", "not a hash"));
        assert!(!dummy_hash().is_empty());
        assert!(!verify("", NONE) && !is_usable(NONE) && is_usable(&h));
    }
}
