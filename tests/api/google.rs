//! Sign in with Google against the fake provider (tests/common/fake_google.rs): the whole
//! browser round trip over HTTP, and each way an ID token or a callback can be bad.

use leadbridge::domain::ids::UserId;
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::fake_google::{FakeGoogle, Person, Tamper};
use crate::common::{error_code, read, spawn_app, spawn_app_with_google, Actor, TestApp, PASSWORD};

/// A browser that does not follow redirects, so each hop can be looked at.
fn stepping_browser(app: &TestApp) -> Actor {
    Actor {
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .expect("client"),
        ..app.anonymous()
    }
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_string()
}

/// Start → Google's consent → the callback URL Google sends the browser to.
async fn consent(browser: &Actor, start_query: &str) -> String {
    let start = browser
        .client
        .get(browser.base.clone() + "/api/auth/google/start" + start_query)
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let to_google = location(&start);
    let google = browser.client.get(&to_google).send().await.unwrap();
    assert_eq!(google.status(), StatusCode::FOUND, "the fake consents");
    location(&google)
}

/// The callback's answer: (status, where it redirects, JSON body if any).
async fn callback(browser: &Actor, url: &str) -> (StatusCode, Option<String>, Value) {
    let response = browser.client.get(url).send().await.unwrap();
    let to = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let (status, body) = read(response).await;
    (status, to, body)
}

async fn sign_in(browser: &Actor, start_query: &str) -> (StatusCode, Option<String>, Value) {
    let url = consent(browser, start_query).await;
    callback(browser, &url).await
}

#[tokio::test]
async fn signing_in_with_google_creates_the_account_then_finds_it_by_subject() {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google(&google, &[]).await;
    let (_, info) = app.anonymous().get("/api/config").await;
    assert_eq!(info["google_sign_in"], true);

    let person = Person::new("gita");
    google.sign_in_as(&person);
    let browser = stepping_browser(&app);
    let (status, to, _) = sign_in(&browser, "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(to.as_deref(), Some("/user/dashboard"));
    let (status, me) = browser.get("/api/auth/me").await;
    assert_eq!(status, StatusCode::OK, "the session cookie is set: {me}");
    assert_eq!(me["email"], person.email.as_str());
    assert_eq!(me["name"], "Gita Google");
    assert_eq!(me["role"], "USER");

    // Same Google account with a changed e-mail: the same LeadBridge account.
    let renamed = Person {
        email: format!("renamed.{}", person.email),
        ..person.clone()
    };
    google.sign_in_as(&renamed);
    let other_browser = stepping_browser(&app);
    let (_, to, _) = sign_in(&other_browser, "?next=/events%3Fq%3Drust").await;
    assert_eq!(
        to.as_deref(),
        Some("/events?q=rust"),
        "back where they started"
    );
    let (_, again) = other_browser.get("/api/auth/me").await;
    assert_eq!(again["user_id"], me["user_id"]);

    // `next` never leads off the site.
    for next in [
        "//evil.example/x",
        "https://evil.example/",
        "/%5Cevil.example",
        "events",
    ] {
        let query = format!("?next={}", next.replace('/', "%2F"));
        let (_, to, _) = sign_in(&stepping_browser(&app), &query).await;
        assert_eq!(to.as_deref(), Some("/user/dashboard"), "next={next}");
    }

    // A Google-only account has no password: nothing typed opens it.
    let (status, _) = app
        .anonymous()
        .post(
            "/api/auth/login",
            json!({"email": person.email, "password": "!no-password"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Closing a Google-only account needs a recent sign-in, not a password; the next
    // Google sign-in then starts a new, empty account.
    let (status, body) = browser
        .call(reqwest::Method::DELETE, "/api/auth/me", Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        other_browser.get("/api/auth/me").await.0,
        StatusCode::UNAUTHORIZED
    );
    let fresh = stepping_browser(&app);
    let (status, _, _) = sign_in(&fresh, "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, reborn) = fresh.get("/api/auth/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reborn["email"], renamed.email.as_str());
    assert_ne!(reborn["user_id"], me["user_id"]);

    // A mentor can sign up with Google too; the landing page follows the role.
    google.sign_in_as(&Person::new("mira"));
    let (_, to, _) = sign_in(&stepping_browser(&app), "?role=MENTOR").await;
    assert_eq!(to.as_deref(), Some("/mentor/dashboard"));
}

#[tokio::test]
async fn bad_id_tokens_are_refused_and_sign_no_one_in() {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google(&google, &[]).await;
    for (tamper, code) in [
        (Tamper::WrongAudience, "OIDC_TOKEN_INVALID"),
        (Tamper::WrongIssuer, "OIDC_TOKEN_INVALID"),
        (Tamper::Expired, "OIDC_TOKEN_INVALID"),
        (Tamper::BadSignature, "OIDC_TOKEN_INVALID"),
        (Tamper::WrongNonce, "OIDC_TOKEN_INVALID"),
        (Tamper::UnverifiedEmail, "GOOGLE_EMAIL_UNVERIFIED"),
    ] {
        google.tamper(tamper);
        google.sign_in_as(&Person::new("mallory"));
        let browser = stepping_browser(&app);
        let (status, _, body) = sign_in(&browser, "").await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{tamper:?}: {body}");
        assert_eq!(error_code(&body), code, "{tamper:?}");
        let (status, _) = browser.get("/api/auth/me").await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{tamper:?} signed someone in"
        );
    }
    google.tamper(Tamper::None);
    let browser = stepping_browser(&app);
    let (status, _, body) = sign_in(&browser, "").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the control case signs in: {body}"
    );
}

#[tokio::test]
async fn a_state_works_once_and_only_in_the_browser_that_started_it() {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google(&google, &[]).await;
    let browser = stepping_browser(&app);
    let url = consent(&browser, "").await;

    // Someone else's browser (a link sent to a victim) has no state cookie.
    let (status, _, body) = callback(&stepping_browser(&app), &url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "OIDC_STATE_INVALID");

    let (status, _, _) = callback(&browser, &url).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    // Replayed: the attempt is gone (and the state cookie with it).
    let (status, _, body) = callback(&browser, &url).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "OIDC_STATE_INVALID");

    // A replay that also carries the state cookie still finds no attempt.
    let browser = stepping_browser(&app);
    let url = consent(&browser, "").await;
    let state = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let replay = |client: &reqwest::Client| {
        client
            .get(&url)
            .header("cookie", format!("google_state={state}"))
            .send()
    };
    let plain = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    assert_eq!(
        replay(&plain).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );
    let (status, body) = read(replay(&plain).await.unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(&body), "OIDC_STATE_INVALID");

    // A browser that fails lands on the sign-in page with the reason.
    let response = plain
        .get(&url)
        .header("cookie", format!("google_state={state}"))
        .header("accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?error=OIDC_STATE_INVALID");
}

#[tokio::test]
async fn rotated_signing_keys_are_fetched_when_a_token_names_one() {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google(&google, &[]).await;
    let (status, _, _) = sign_in(&stepping_browser(&app), "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(google.jwks_fetches(), 1);
    let (status, _, _) = sign_in(&stepping_browser(&app), "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(google.jwks_fetches(), 1, "known keys are cached");

    google.rotate_keys();
    google.sign_in_as(&Person::new("rotated"));
    let (status, _, body) = sign_in(&stepping_browser(&app), "").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(google.jwks_fetches(), 2);
}

#[tokio::test]
async fn an_existing_account_is_linked_only_by_its_signed_in_owner() {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google(&google, &[]).await;
    let owner = app.learner().await;
    let person = Person {
        email: owner.email.clone(),
        ..Person::new("owner")
    };
    google.sign_in_as(&person);

    // Same e-mail, not linked: no way in through Google.
    let stranger = stepping_browser(&app);
    let (status, _, body) = sign_in(&stranger, "").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "GOOGLE_EMAIL_IN_USE");
    assert_eq!(
        stranger.get("/api/auth/me").await.0,
        StatusCode::UNAUTHORIZED
    );

    // Linking needs a signed-in account.
    let (status, _) = stepping_browser(&app)
        .get("/api/auth/google/start?link=true")
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The owner, signed in with the password, links Google.
    let owner_browser = stepping_browser(&app);
    let (status, _) = owner_browser
        .post(
            "/api/auth/login",
            json!({"email": owner.email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, to, body) = sign_in(&owner_browser, "?link=true&next=/account").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert_eq!(to.as_deref(), Some("/account"));
    assert_eq!(
        owner_browser.get("/api/auth/me").await.1["user_id"],
        owner.user_id.as_str()
    );

    // From now on Google opens that account.
    let elsewhere = stepping_browser(&app);
    let (status, _, _) = sign_in(&elsewhere, "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        elsewhere.get("/api/auth/me").await.1["user_id"],
        owner.user_id.as_str()
    );

    // Linking starts only from our own pages, and completes only for the same session.
    let (status, body) = read(
        owner_browser
            .client
            .get(app.url("/api/auth/google/start?link=true"))
            .header("sec-fetch-site", "cross-site")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "CSRF_ORIGIN_REJECTED");
    let url = consent(&owner_browser, "?link=true").await;
    owner_browser.post("/api/auth/logout", json!({})).await;
    let (status, _, body) = callback(&owner_browser, &url).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&body), "OIDC_LINK_SESSION_CHANGED");

    // The same Google account cannot be linked to a second account.
    let other = app.learner().await;
    let other_browser = stepping_browser(&app);
    other_browser
        .post(
            "/api/auth/login",
            json!({"email": other.email, "password": PASSWORD}),
        )
        .await;
    let (status, _, body) = sign_in(&other_browser, "?link=true").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&body), "GOOGLE_ACCOUNT_IN_USE");
}

#[tokio::test]
async fn without_google_configured_the_endpoints_are_404_and_the_button_is_off() {
    let app = spawn_app().await;
    let visitor = app.anonymous();
    let (_, info) = visitor.get("/api/config").await;
    assert_eq!(info["google_sign_in"], false);
    for path in [
        "/api/auth/google/start",
        "/api/auth/google/callback?code=x&state=y",
    ] {
        let (status, body) = visitor.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error_code(&body), "GOOGLE_SIGN_IN_DISABLED");
    }
}

#[tokio::test]
async fn an_unreachable_provider_is_a_502_not_a_hang_or_a_500() {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google(&google, &[]).await;
    google.stop().await;
    let (status, body) = app.anonymous().get("/api/auth/google/start").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(error_code(&body), "IDENTITY_PROVIDER_ERROR");
}

#[tokio::test]
async fn a_google_only_account_closes_only_soon_after_signing_in() {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google(&google, &[]).await;
    let browser = stepping_browser(&app);
    sign_in(&browser, "").await;
    let (_, me) = browser.get("/api/auth/me").await;
    let user_id = me["user_id"].as_str().unwrap().to_string();
    // A session of that account from half an hour ago, presented as a bearer token.
    let token = leadbridge::auth::session_token::generate();
    let then = chrono::Utc::now() - chrono::Duration::minutes(30);
    app.store
        .create_session(leadbridge::store::Session {
            token_hash: leadbridge::auth::session_token::digest(&token),
            user_id: user_id.clone(),
            created_at: then,
            expires_at: then + chrono::Duration::days(7),
            last_seen_at: chrono::Utc::now(),
            device: "old laptop".into(),
            rotate: false,
        })
        .await
        .unwrap();
    let close = |bearer: Option<&str>| {
        let mut request = app
            .anonymous()
            .client
            .delete(app.url("/api/auth/me"))
            .json(&json!({}));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request
    };
    let (status, body) = read(close(Some(&token)).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(error_code(&body), "REAUTHENTICATION_REQUIRED");
    assert_eq!(
        browser.get("/api/auth/me").await.0,
        StatusCode::OK,
        "still there"
    );

    // A link left to an account that is gone gives a new account, not the old one back.
    app.store
        .link_google_account("sub-of-a-closed-account", UserId::new("user_gone"))
        .await
        .unwrap();
    google.sign_in_as(&Person {
        sub: "sub-of-a-closed-account".into(),
        ..Person::new("ghost")
    });
    let ghost = stepping_browser(&app);
    let (status, _, body) = sign_in(&ghost, "").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let (_, who) = ghost.get("/api/auth/me").await;
    assert!(
        who["user_id"].as_str().is_some_and(|id| id != "user_gone"),
        "{who}"
    );
}

#[tokio::test]
async fn a_client_secret_google_refuses_is_the_servers_fault_not_the_users() {
    let google = FakeGoogle::start().await;
    let app = spawn_app_with_google(&google, &[("GOOGLE_CLIENT_SECRET", "not-our-secret")]).await;
    let (status, _, body) = sign_in(&stepping_browser(&app), "").await;
    assert_eq!(status, StatusCode::BAD_GATEWAY, "{body}");
    assert_eq!(error_code(&body), "IDENTITY_PROVIDER_ERROR");
}
