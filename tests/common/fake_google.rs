//! A local OpenID provider that speaks Google's wire format: the discovery document, an
//! authorization endpoint that consents at once as the configured person (so a browser or
//! an HTTP client can walk the whole flow), a token endpoint that checks the client, the
//! redirect URI and the PKCE verifier, and a JWKS. Tests pick the person, tamper with the
//! ID token in one way at a time, and rotate the signing key.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::{web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub const CLIENT_ID: &str = "leadbridge-test.apps.googleusercontent.com";
pub const CLIENT_SECRET: &str = "GOCSPX-test-client-secret";

const FIRST: (&str, &str, &str) = (
    "test-first",
    include_str!("../fixtures/google/first.pem"),
    include_str!("../fixtures/google/first.jwk.json"),
);
const SECOND: (&str, &str, &str) = (
    "test-second",
    include_str!("../fixtures/google/second.pem"),
    include_str!("../fixtures/google/second.jwk.json"),
);
const STRANGER_PEM: &str = include_str!("../fixtures/google/stranger.pem");

/// One way to spoil the next ID tokens.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tamper {
    None,
    WrongAudience,
    WrongIssuer,
    Expired,
    /// Signed by a key the JWKS does not hold, under a published key's id.
    BadSignature,
    WrongNonce,
    UnverifiedEmail,
}

#[derive(Clone, Debug)]
pub struct Person {
    pub sub: String,
    pub email: String,
    pub name: String,
}

impl Person {
    pub fn new(label: &str) -> Self {
        let id = super::unique();
        Self {
            sub: format!("1{id}{}", label.len()),
            email: format!("{label}.{id}@gmail-example.com"),
            name: "Gita Google".into(),
        }
    }
}

struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: String,
    person: Person,
}

struct Provider {
    issuer: String,
    person: Person,
    tamper: Tamper,
    /// (kid, private PEM, public JWK) of the signing key.
    signing: (&'static str, &'static str, &'static str),
    published: Vec<&'static str>,
    grants: HashMap<String, Grant>,
    jwks_fetches: usize,
}

pub struct FakeGoogle {
    pub issuer: String,
    provider: Arc<Mutex<Provider>>,
    handle: actix_web::dev::ServerHandle,
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    client_id: String,
    redirect_uri: String,
    response_type: String,
    scope: String,
    state: String,
    nonce: String,
    code_challenge: String,
    code_challenge_method: String,
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    client_id: String,
    client_secret: String,
    code_verifier: String,
}

fn token_error(error: &str) -> HttpResponse {
    HttpResponse::BadRequest().json(json!({"error": error, "error_description": error}))
}

impl FakeGoogle {
    pub async fn start() -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind fake google");
        let issuer = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let provider = Arc::new(Mutex::new(Provider {
            issuer: issuer.clone(),
            person: Person::new("gita"),
            tamper: Tamper::None,
            signing: FIRST,
            published: vec![FIRST.2],
            grants: HashMap::new(),
            jwks_fetches: 0,
        }));
        let shared = web::Data::from(Arc::clone(&provider));
        let server = HttpServer::new(move || {
            App::new()
                .app_data(shared.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/authorize", web::get().to(authorize))
                .route("/token", web::post().to(token))
                .route("/certs", web::get().to(certs))
        })
        .workers(1)
        .listen(listener)
        .expect("listen fake google")
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            issuer,
            provider,
            handle,
        }
    }

    /// Who consents at the next authorization.
    pub fn sign_in_as(&self, person: &Person) {
        self.provider.lock().unwrap().person = person.clone();
    }

    pub fn tamper(&self, tamper: Tamper) {
        self.provider.lock().unwrap().tamper = tamper;
    }

    /// Google's rotation: sign with a new key, publish only it.
    pub fn rotate_keys(&self) {
        let mut p = self.provider.lock().unwrap();
        p.signing = SECOND;
        p.published = vec![SECOND.2];
    }

    pub fn jwks_fetches(&self) -> usize {
        self.provider.lock().unwrap().jwks_fetches
    }

    /// The variables that point a LeadBridge server at this provider.
    pub fn vars(&self) -> [(&'static str, String); 3] {
        [
            ("GOOGLE_CLIENT_ID", CLIENT_ID.into()),
            ("GOOGLE_CLIENT_SECRET", CLIENT_SECRET.into()),
            ("GOOGLE_ISSUER_URL", self.issuer.clone()),
        ]
    }

    pub async fn stop(self) {
        self.handle.stop(false).await;
    }
}

async fn discovery(p: web::Data<Mutex<Provider>>) -> HttpResponse {
    let issuer = p.lock().unwrap().issuer.clone();
    HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/certs"),
        "response_types_supported": ["code", "id_token", "code id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile"],
        "code_challenge_methods_supported": ["plain", "S256"],
    }))
}

/// Consents at once: back to the client with a code, as Google does after the consent page.
async fn authorize(p: web::Data<Mutex<Provider>>, q: web::Query<AuthorizeQuery>) -> HttpResponse {
    let q = q.into_inner();
    if q.client_id != CLIENT_ID
        || q.response_type != "code"
        || !q.scope.split(' ').any(|s| s == "openid")
        || q.code_challenge_method != "S256"
    {
        return HttpResponse::BadRequest().body("invalid_request");
    }
    let code = format!("4/0code-{}", super::unique());
    let mut p = p.lock().unwrap();
    let person = p.person.clone();
    p.grants.insert(
        code.clone(),
        Grant {
            redirect_uri: q.redirect_uri.clone(),
            challenge: q.code_challenge,
            nonce: q.nonce,
            person,
        },
    );
    let mut back = url::Url::parse(&q.redirect_uri).expect("redirect_uri is a URL");
    back.query_pairs_mut()
        .append_pair("state", &q.state)
        .append_pair("code", &code)
        .append_pair("scope", "email profile openid");
    HttpResponse::Found()
        .insert_header(("location", back.to_string()))
        .finish()
}

async fn token(p: web::Data<Mutex<Provider>>, form: web::Form<TokenForm>) -> HttpResponse {
    let form = form.into_inner();
    let mut p = p.lock().unwrap();
    if form.client_id != CLIENT_ID || form.client_secret != CLIENT_SECRET {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    if form.grant_type != "authorization_code" {
        return token_error("unsupported_grant_type");
    }
    // Codes are single use.
    let Some(grant) = p.grants.remove(&form.code) else {
        return token_error("invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes()));
    if grant.redirect_uri != form.redirect_uri || grant.challenge != challenge {
        return token_error("invalid_grant");
    }
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": p.issuer,
        "azp": CLIENT_ID,
        "aud": CLIENT_ID,
        "sub": grant.person.sub,
        "email": grant.person.email,
        "email_verified": true,
        "name": grant.person.name,
        "nonce": grant.nonce,
        "iat": now,
        "exp": now + 3600,
    });
    let (kid, mut pem, _) = p.signing;
    match p.tamper {
        Tamper::None => {}
        Tamper::WrongAudience => claims["aud"] = json!("someone-else.apps.googleusercontent.com"),
        Tamper::WrongIssuer => claims["iss"] = json!("https://accounts.evil.example"),
        Tamper::Expired => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 3600);
        }
        Tamper::BadSignature => pem = STRANGER_PEM,
        Tamper::WrongNonce => claims["nonce"] = json!("a-nonce-from-another-sign-in"),
        Tamper::UnverifiedEmail => claims["email_verified"] = json!(false),
    }
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("test key");
    let id_token = encode(&header, &claims, &key).expect("sign id token");
    HttpResponse::Ok().json(json!({
        "access_token": "ya29.test-access-token",
        "expires_in": 3599,
        "scope": "openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile",
        "token_type": "Bearer",
        "id_token": id_token,
    }))
}

async fn certs(p: web::Data<Mutex<Provider>>) -> HttpResponse {
    let mut p = p.lock().unwrap();
    p.jwks_fetches += 1;
    let keys: Vec<Value> = p
        .published
        .iter()
        .map(|jwk| serde_json::from_str(jwk).expect("test JWK"))
        .collect();
    HttpResponse::Ok().json(json!({ "keys": keys }))
}
