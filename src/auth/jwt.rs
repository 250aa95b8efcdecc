use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::crypto::Secret;
use crate::domain::time::Timestamp;

pub const ISSUER: &str = "leadbridge";
pub const AUDIENCE: &str = "leadbridge-api";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The session's token hash: the JWT dies with its session (logout revokes it).
    pub sid: String,
}

/// Issues and checks access tokens: HS256 only (pinned, so `alg: none` or RS/HS confusion
/// cannot pass), with issuer, audience and expiry checked.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl AccessTokens {
    pub fn new(secret: &Secret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
            validation,
        }
    }

    pub fn issue(
        &self,
        user_id: &str,
        session_hash: &str,
        now: Timestamp,
    ) -> anyhow::Result<String> {
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user_id.into(),
            iat: now.timestamp(),
            exp: (now + super::ACCESS_TOKEN_TTL).timestamp(),
            sid: session_hash.into(),
        };
        Ok(encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// `None` for any token we did not issue, or that expired.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::now;

    fn tokens(byte: u8) -> AccessTokens {
        AccessTokens::new(&Secret::new(vec![byte; 32]))
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_session() {
        let t = tokens(1);
        let jwt = t.issue("user_1", "hash", now()).unwrap();
        let claims = t.verify(&jwt).unwrap();
        assert_eq!(
            (claims.sub.as_str(), claims.sid.as_str()),
            ("user_1", "hash")
        );
        assert_eq!(claims.iss, ISSUER);
        assert_eq!(claims.aud, AUDIENCE);
    }

    #[test]
    fn foreign_expired_and_unsigned_tokens_fail() {
        let jwt = tokens(1).issue("user_1", "hash", now()).unwrap();
        assert!(tokens(2).verify(&jwt).is_none());
        let old = tokens(1)
            .issue("user_1", "hash", now() - chrono::Duration::hours(1))
            .unwrap();
        assert!(tokens(1).verify(&old).is_none());
        // alg=none with the same claims.
        let mut parts = jwt.split('.');
        let _header = parts.next();
        let body = parts.next().unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{body}.");
        assert!(tokens(1).verify(&none).is_none());
        assert!(tokens(1).verify("garbage").is_none());
    }

    #[test]
    fn tokens_for_another_issuer_or_audience_or_without_expiry_fail() {
        let key = EncodingKey::from_secret(&[1; 32]);
        let exp = (now() + chrono::Duration::minutes(5)).timestamp();
        let sign = |claims: serde_json::Value| {
            encode(&Header::new(Algorithm::HS256), &claims, &key).unwrap()
        };
        let good = serde_json::json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "user_1", "iat": 0, "exp": exp, "sid": "h"});
        assert!(
            tokens(1).verify(&sign(good.clone())).is_some(),
            "the control case passes"
        );
        for (field, value) in [
            ("iss", serde_json::json!("someone-else")),
            ("aud", serde_json::json!("another-api")),
        ] {
            let mut claims = good.clone();
            claims[field] = value;
            assert!(tokens(1).verify(&sign(claims)).is_none(), "{field}");
        }
        let mut no_exp = good.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert!(tokens(1).verify(&sign(no_exp)).is_none());
        let hs512 = encode(&Header::new(Algorithm::HS512), &good, &key).unwrap();
        assert!(tokens(1).verify(&hs512).is_none(), "only HS256 is accepted");
    }
}
