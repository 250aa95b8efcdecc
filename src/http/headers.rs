//! Headers every response carries (and the cookie of a session renewed on the way). The
//! pages' Content-Security-Policy and frame denial are set with the pages themselves
//! (`web.rs`); these hold for the API too.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{
    HeaderValue, CACHE_CONTROL, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS,
};
use actix_web::middleware::Next;
use actix_web::Error;

/// A year, subdomains included: the site is served over https or not at all once it is.
const HSTS: &str = "max-age=31536000; includeSubDomains";

pub async fn secure(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    // Over https directly, or behind a proxy that says so; browsers ignore HSTS over http.
    let https = req.connection_info().scheme() == "https";
    let api = req.path().starts_with("/api/");
    let mut response = next.call(req).await?;
    super::sessions::apply_rotated_cookie(&mut response)?;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !headers.contains_key(REFERRER_POLICY) {
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
    // Answers carry accounts, contacts and tokens: no shared or disk cache keeps them.
    if api && !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    Ok(response)
}
