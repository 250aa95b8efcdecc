//! Sign in with Google: OpenID Connect's authorization-code flow with PKCE, `state` and
//! `nonce`. `client` talks to the provider; `id_token` decides whether a token is good.

mod client;
pub mod id_token;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

pub use client::{AuthorizationRequest, GoogleClient, GoogleError};
pub use id_token::{GoogleIdentity, TokenError};

/// How long a started sign-in may take to come back.
pub const ATTEMPT_TTL: chrono::Duration = chrono::Duration::minutes(10);

/// The PKCE challenge of a verifier (method S256, RFC 7636).
pub fn code_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_challenge_is_rfc_7636s_s256() {
        // RFC 7636, appendix B.
        assert_eq!(
            super::code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
