//! Talking to the OpenID provider: its discovery document, its keys (JWKS) and its token
//! endpoint. The discovery document is read once; the keys are cached and fetched again
//! when a token names a key we do not have (Google rotates its keys) or after an hour.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use super::id_token::{self, Expected, GoogleIdentity, TokenError};
use crate::config::GoogleSettings;

/// Keys older than this are fetched again even when they still match.
const KEYS_MAX_AGE: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum GoogleError {
    /// Discovery, keys or the token endpoint did not answer as they should.
    #[error("Google sign-in is unavailable: {0}")]
    Unavailable(String),
    /// The token endpoint refused the code (expired, used, or not ours).
    #[error("Google refused the sign-in code: {0}")]
    CodeRejected(String),
    #[error(transparent)]
    Token(#[from] TokenError),
}

#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

#[derive(Deserialize)]
struct TokenErrorBody {
    error: String,
}

/// What the start of a sign-in sends to the provider.
pub struct AuthorizationRequest<'a> {
    pub state: &'a str,
    pub nonce: &'a str,
    pub code_challenge: &'a str,
}

pub struct GoogleClient {
    settings: GoogleSettings,
    http: reqwest::Client,
    discovery: Mutex<Option<Discovery>>,
    keys: RwLock<Option<(JwkSet, Instant)>>,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> GoogleError {
    GoogleError::Unavailable(format!("{what}: {e}"))
}

impl GoogleClient {
    pub fn new(settings: GoogleSettings) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Self {
            settings,
            http,
            discovery: Mutex::new(None),
            keys: RwLock::new(None),
        })
    }

    /// Read on first use (a provider down at our start must not stop the server), kept
    /// once read.
    async fn discovery(&self) -> Result<Discovery, GoogleError> {
        let mut cached = self.discovery.lock().await;
        if let Some(found) = cached.as_ref() {
            return Ok(found.clone());
        }
        let url = format!("{}/.well-known/openid-configuration", self.settings.issuer);
        let found: Discovery = self
            .http
            .get(&url)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| unavailable("discovery document", e))?
            .json()
            .await
            .map_err(|e| unavailable("discovery document", e))?;
        if found.issuer.trim_end_matches('/') != self.settings.issuer {
            return Err(GoogleError::Unavailable(format!(
                "the discovery document names issuer {:?}, not {:?}",
                found.issuer, self.settings.issuer
            )));
        }
        *cached = Some(found.clone());
        Ok(found)
    }

    /// Where to send the browser: the authorization-code flow with PKCE (S256).
    pub async fn authorization_url(
        &self,
        request: &AuthorizationRequest<'_>,
    ) -> Result<String, GoogleError> {
        let discovery = self.discovery().await?;
        let mut url = url::Url::parse(&discovery.authorization_endpoint)
            .map_err(|e| unavailable("authorization endpoint", e))?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.settings.client_id)
            .append_pair("redirect_uri", &self.settings.redirect_uri)
            .append_pair("scope", "openid email profile")
            .append_pair("state", request.state)
            .append_pair("nonce", request.nonce)
            .append_pair("code_challenge", request.code_challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("prompt", "select_account");
        Ok(url.into())
    }

    /// Trades the code for an ID token (with the client secret and the PKCE verifier) and
    /// checks the token.
    pub async fn finish(
        &self,
        code: &str,
        code_verifier: &str,
        nonce: &str,
    ) -> Result<GoogleIdentity, GoogleError> {
        let discovery = self.discovery().await?;
        let secret = String::from_utf8_lossy(self.settings.client_secret.expose()).into_owned();
        let response = self
            .http
            .post(&discovery.token_endpoint)
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", &self.settings.redirect_uri),
                ("client_id", &self.settings.client_id),
                ("client_secret", &secret),
                ("code_verifier", code_verifier),
            ])
            .send()
            .await
            .map_err(|e| unavailable("token endpoint", e))?;
        let status = response.status();
        if status.is_client_error() {
            let reason = response
                .json::<TokenErrorBody>()
                .await
                .map(|b| b.error)
                .unwrap_or_else(|_| status.to_string());
            // Our credentials, not the person's code: the operator must fix them.
            if matches!(reason.as_str(), "invalid_client" | "unauthorized_client") {
                return Err(unavailable(
                    "token endpoint",
                    format!("refused our client ({reason})"),
                ));
            }
            return Err(GoogleError::CodeRejected(reason));
        }
        let token = response
            .error_for_status()
            .map_err(|e| unavailable("token endpoint", e))?
            .json::<TokenResponse>()
            .await
            .map_err(|e| unavailable("token endpoint", e))?
            .id_token
            .ok_or_else(|| unavailable("token endpoint", "no id_token in the answer"))?;
        self.verify(&token, &discovery, nonce).await
    }

    async fn verify(
        &self,
        token: &str,
        discovery: &Discovery,
        nonce: &str,
    ) -> Result<GoogleIdentity, GoogleError> {
        let expected = Expected {
            issuer: &self.settings.issuer,
            client_id: &self.settings.client_id,
            nonce,
        };
        let keys = self.keys(discovery, false).await?;
        match id_token::verify(token, &keys, &expected) {
            Err(TokenError::UnknownKey) => {
                // Rotated since we last looked: one fresh fetch, then the answer stands.
                let keys = self.keys(discovery, true).await?;
                Ok(id_token::verify(token, &keys, &expected)?)
            }
            other => Ok(other?),
        }
    }

    async fn keys(&self, discovery: &Discovery, refresh: bool) -> Result<JwkSet, GoogleError> {
        if !refresh {
            if let Some((keys, at)) = self.keys.read().await.as_ref() {
                if at.elapsed() < KEYS_MAX_AGE {
                    return Ok(keys.clone());
                }
            }
        }
        let mut slot = self.keys.write().await;
        let keys: JwkSet = self
            .http
            .get(&discovery.jwks_uri)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| unavailable("signing keys", e))?
            .json()
            .await
            .map_err(|e| unavailable("signing keys", e))?;
        *slot = Some((keys.clone(), Instant::now()));
        Ok(keys)
    }
}
