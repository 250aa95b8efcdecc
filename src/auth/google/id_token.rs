//! Checking a Google ID token: pure, given the provider's keys. RS256 only, signed by a key
//! the JWKS publishes (by `kid`), issued by the provider to our client id, unexpired,
//! carrying the nonce we sent, for a verified e-mail.

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Deserializer};

/// Google's issuer; its tokens may also name it without the scheme.
pub const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// What a valid token must say.
pub struct Expected<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub nonce: &'a str,
}

/// The person, as the provider vouches for them.
#[derive(Debug, Clone, PartialEq)]
pub struct GoogleIdentity {
    /// Stable and never reused: what we identify the person by (not the e-mail).
    pub sub: String,
    pub email: String,
    pub name: Option<String>,
    pub picture: Option<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenError {
    #[error("the ID token is not a well-formed RS256 JWT")]
    Malformed,
    /// Signed with a key the JWKS does not (yet) list: refresh the keys once and retry.
    #[error("the ID token is signed with an unknown key")]
    UnknownKey,
    #[error("the ID token's signature is invalid")]
    Signature,
    #[error("the ID token was issued by someone else")]
    Issuer,
    #[error("the ID token was issued to another client")]
    Audience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token does not carry this sign-in's nonce")]
    Nonce,
    #[error("Google has not verified this account's e-mail address")]
    EmailUnverified,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    nonce: Option<String>,
    email: Option<String>,
    #[serde(default, deserialize_with = "flag")]
    email_verified: bool,
    name: Option<String>,
    picture: Option<String>,
}

/// Google sends a boolean; some older tokens carry the string "true".
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Text(String),
    }
    Ok(match Flag::deserialize(d)? {
        Flag::Bool(b) => b,
        Flag::Text(t) => t == "true",
    })
}

/// The issuers a token may name: Google's in both its forms, any other provider exactly.
pub fn accepted_issuers(issuer: &str) -> Vec<String> {
    if issuer == GOOGLE_ISSUER {
        vec![GOOGLE_ISSUER.into(), "accounts.google.com".into()]
    } else {
        vec![issuer.into()]
    }
}

pub fn verify(
    token: &str,
    keys: &JwkSet,
    expected: &Expected,
) -> Result<GoogleIdentity, TokenError> {
    let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
    if header.alg != Algorithm::RS256 {
        return Err(TokenError::Malformed);
    }
    let jwk = header
        .kid
        .as_deref()
        .and_then(|kid| keys.find(kid))
        .ok_or(TokenError::UnknownKey)?;
    let key = DecodingKey::from_jwk(jwk).map_err(|_| TokenError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&accepted_issuers(expected.issuer));
    validation.set_audience(&[expected.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 60;
    let claims = decode::<Claims>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => TokenError::Signature,
            ErrorKind::InvalidIssuer => TokenError::Issuer,
            ErrorKind::InvalidAudience => TokenError::Audience,
            ErrorKind::ExpiredSignature => TokenError::Expired,
            _ => TokenError::Malformed,
        })?
        .claims;
    if claims.nonce.as_deref() != Some(expected.nonce) {
        return Err(TokenError::Nonce);
    }
    let email = claims
        .email
        .filter(|_| claims.email_verified)
        .ok_or(TokenError::EmailUnverified)?;
    Ok(GoogleIdentity {
        sub: claims.sub,
        email,
        name: claims.name,
        picture: claims.picture,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::{json, Value};

    const FIRST: &str = include_str!("../../../tests/fixtures/google/first.pem");
    const STRANGER: &str = include_str!("../../../tests/fixtures/google/stranger.pem");
    const FIRST_JWK: &str = include_str!("../../../tests/fixtures/google/first.jwk.json");

    fn keys() -> JwkSet {
        serde_json::from_str(&format!("{{\"keys\": [{FIRST_JWK}]}}")).unwrap()
    }

    fn claims() -> Value {
        let exp = chrono::Utc::now().timestamp() + 600;
        json!({"iss": GOOGLE_ISSUER, "aud": "client-1", "sub": "1234567890", "exp": exp,
               "iat": exp - 900, "nonce": "n-1", "email": "asha@example.com",
               "email_verified": true, "name": "Asha Rao"})
    }

    fn sign(claims: &Value, pem: &str, kid: &str) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(kid.into());
        encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    }

    fn check(claims: &Value) -> Result<GoogleIdentity, TokenError> {
        let expected = Expected {
            issuer: GOOGLE_ISSUER,
            client_id: "client-1",
            nonce: "n-1",
        };
        verify(&sign(claims, FIRST, "test-first"), &keys(), &expected)
    }

    fn with(field: &str, value: Value) -> Value {
        let mut c = claims();
        c[field] = value;
        c
    }

    #[test]
    fn a_valid_token_names_the_person_by_subject() {
        let who = check(&claims()).unwrap();
        assert_eq!(who.sub, "1234567890");
        assert_eq!(who.email, "asha@example.com");
        assert_eq!(who.name.as_deref(), Some("Asha Rao"));
    }

    #[test]
    fn both_google_issuer_forms_pass_and_others_fail() {
        assert!(check(&with("iss", json!("accounts.google.com"))).is_ok());
        assert_eq!(
            check(&with("iss", json!("https://evil.example.com"))),
            Err(TokenError::Issuer)
        );
        assert_eq!(
            accepted_issuers("http://127.0.0.1:1"),
            ["http://127.0.0.1:1"]
        );
    }

    #[test]
    fn each_broken_promise_is_named() {
        let past = chrono::Utc::now().timestamp() - 3600;
        assert_eq!(
            check(&with("aud", json!("client-2"))),
            Err(TokenError::Audience)
        );
        assert_eq!(check(&with("exp", json!(past))), Err(TokenError::Expired));
        assert_eq!(check(&with("nonce", json!("n-2"))), Err(TokenError::Nonce));
        assert_eq!(
            check(&with("email_verified", json!(false))),
            Err(TokenError::EmailUnverified)
        );
        assert!(check(&with("email_verified", json!("true"))).is_ok());
        let mut no_exp = claims();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(check(&no_exp), Err(TokenError::Malformed));
    }

    #[test]
    fn keys_are_matched_by_kid_and_signatures_checked() {
        let expected = Expected {
            issuer: GOOGLE_ISSUER,
            client_id: "client-1",
            nonce: "n-1",
        };
        let forged = sign(&claims(), STRANGER, "test-first");
        assert_eq!(
            verify(&forged, &keys(), &expected),
            Err(TokenError::Signature)
        );
        let unknown = sign(&claims(), STRANGER, "test-stranger");
        assert_eq!(
            verify(&unknown, &keys(), &expected),
            Err(TokenError::UnknownKey)
        );
        let hs = encode(
            &Header::new(Algorithm::HS256),
            &claims(),
            &EncodingKey::from_secret(b"secret"),
        )
        .unwrap();
        assert_eq!(verify(&hs, &keys(), &expected), Err(TokenError::Malformed));
    }
}
