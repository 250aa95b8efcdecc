//! Password hashing: Argon2id in PHC strings, in memory that goes back to the system after
//! each hash.

use argon2::password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::OnceLock;

/// argon2id with OWASP's minimum: 19 MiB, 2 passes, 1 lane.
fn our_params() -> Params {
    // unwrap: constant, valid parameters.
    Params::new(19_456, 2, 1, None).expect("valid argon2 params")
}

/// The memory one hash works in, mapped for that hash and unmapped after it. Memory from
/// the allocator would not go back: glibc keeps freed blocks of this size in per-thread
/// arenas, and a burst of sign-ins once left the process gigabytes larger for good.
struct Scratch(memmap2::MmapMut);

impl Scratch {
    fn new(blocks: usize) -> anyhow::Result<Self> {
        memmap2::MmapOptions::new()
            .len(blocks * Block::SIZE)
            .populate()
            .map_anon()
            .map(Scratch)
            .map_err(|e| anyhow::anyhow!("mapping {blocks} KiB for a password hash: {e}"))
    }

    fn blocks(&mut self) -> &mut [Block] {
        let count = self.0.len() / Block::SIZE;
        // SAFETY: the mapping is page-aligned (a Block needs 64), zero-filled (a Block is
        // plain u64 words, so zeros are a valid one), exactly `count` blocks long, and
        // borrowed mutably for as long as the slice lives.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast::<Block>(), count) }
    }
}

/// Argon2 of `password` with `salt` into an output of `len` bytes.
fn compute(
    argon: &Argon2,
    params: &Params,
    password: &[u8],
    salt: Salt,
    len: usize,
) -> anyhow::Result<Output> {
    let mut salt_buffer = [0u8; 64];
    let salt = salt
        .decode_b64(&mut salt_buffer)
        .map_err(|e| anyhow::anyhow!("password salt: {e}"))?;
    let mut scratch = Scratch::new(params.block_count())?;
    Output::init_with(len, |out| {
        Ok(argon.hash_password_into_with_memory(password, salt, out, scratch.blocks())?)
    })
    .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Hashes a password (PHC string). CPU-heavy: call from a password thread.
pub fn hash(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::thread_rng());
    let params = our_params();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
    let output = compute(&argon, &params, password.as_bytes(), salt.as_salt(), len)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| anyhow::anyhow!("password parameters: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Checks a password against a stored hash, with the stored hash's own parameters.
/// CPU-heavy: call from a password thread.
pub fn verify(password: &str, stored: &str) -> bool {
    let check = || -> anyhow::Result<bool> {
        let parsed = PasswordHash::new(stored).map_err(|e| anyhow::anyhow!("{e}"))?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Ok(false);
        };
        let algorithm =
            Algorithm::try_from(parsed.algorithm).map_err(|e| anyhow::anyhow!("{e}"))?;
        let version = match parsed.version {
            Some(v) => Version::try_from(v).map_err(|e| anyhow::anyhow!("{e}"))?,
            None => Version::default(),
        };
        let params = Params::try_from(&parsed).map_err(|e| anyhow::anyhow!("{e}"))?;
        let argon = Argon2::new(algorithm, version, params.clone());
        let computed = compute(&argon, &params, password.as_bytes(), salt, expected.len())?;
        // `Output`'s equality is constant-time.
        Ok(computed == expected)
    };
    check().unwrap_or(false)
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
    fn hashes_made_by_the_argon2_crate_itself_still_verify() {
        use argon2::password_hash::PasswordHasher;
        let salt = SaltString::generate(&mut rand::thread_rng());
        let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, our_params())
            .hash_password(b"learner-pass-2026", &salt)
            .unwrap()
            .to_string();
        assert!(verify("learner-pass-2026", &stored));
        assert!(!verify("learner-pass-2027", &stored));
        // And ours verify with the crate's own verifier.
        use argon2::password_hash::PasswordVerifier;
        let ours = hash("learner-pass-2026").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"learner-pass-2026", &parsed)
            .is_ok());
    }

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
