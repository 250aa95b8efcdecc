//! The browser front end: the files under `web/`, compiled into the binary (see `build.rs`) so
//! `leadbridge serve` needs nothing beside it. The page paths below all get `index.html`; the
//! client-side router in `web/js/router.js` renders them.

use std::collections::HashMap;
use std::sync::LazyLock;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use crate::state::AppState;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_files.rs"));
}

/// Page paths the client-side router knows; `*` is one path segment.
const PAGES: &[&str] = &[
    "/",
    "/login",
    "/signup",
    "/events/*",
    "/user/dashboard",
    "/mentor/dashboard",
    "/admin/dashboard",
    "/checkout/*",
    "/account",
];

struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    etag: String,
}

static ASSETS: LazyLock<HashMap<&'static str, Asset>> = LazyLock::new(|| {
    embedded::FILES
        .iter()
        .map(|(path, body)| {
            let digest = Sha256::digest(body);
            let asset = Asset {
                body,
                content_type: content_type(path),
                etag: format!("\"{}\"", hex::encode(&digest[..12])),
            };
            (*path, asset)
        })
        .collect()
});

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("json" | "webmanifest") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn is_page(path: &str) -> bool {
    PAGES.iter().any(|pattern| match pattern.strip_suffix('*') {
        Some(prefix) => path
            .strip_prefix(prefix)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/')),
        None => path == *pattern,
    })
}

/// The browser's Content-Security-Policy: our own scripts only (no inline script), plus
/// Razorpay's checkout (script, its API calls and its payment frame) when real payments are on.
fn content_security_policy(simulated_payments: bool) -> String {
    // checkout.js styles its modal inline and loads images from Razorpay.
    let (script, style, img, connect, frame) = if simulated_payments {
        ("'self'", "'self'", "'self' data:", "'self'", "'none'")
    } else {
        (
            "'self' https://checkout.razorpay.com",
            "'self' 'unsafe-inline'",
            "'self' data: https://*.razorpay.com",
            "'self' https://*.razorpay.com",
            "https://*.razorpay.com",
        )
    };
    format!(
        "default-src 'self'; script-src {script}; style-src {style}; img-src {img}; \
         connect-src {connect}; frame-src {frame}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

fn respond(
    req: &HttpRequest,
    state: &AppState,
    asset: &Asset,
    status: actix_web::http::StatusCode,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::ETAG, asset.etag.as_str()));
    if asset.content_type.starts_with("text/html") {
        response
            .insert_header((
                header::CONTENT_SECURITY_POLICY,
                content_security_policy(state.payments.is_simulated()),
            ))
            .insert_header((header::X_FRAME_OPTIONS, "DENY"));
    }
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| etag_matches(tags, &asset.etag));
    if status.is_success() && fresh {
        return response
            .status(actix_web::http::StatusCode::NOT_MODIFIED)
            .finish();
    }
    // For HEAD, actix sends the headers (with the real Content-Length) and drops the body.
    response.body(asset.body)
}

fn etag_matches(header: &HeaderValue, etag: &str) -> bool {
    header
        .to_str()
        .is_ok_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn wants_html(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

/// Everything no API route took: a file of the front end, a page of it, or our JSON 404.
/// A browser asking for an unknown page gets the app (which says "not found") with a 404.
pub async fn fallback(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let path = req.path();
    let readable = req.method() == Method::GET || req.method() == Method::HEAD;
    if readable && !path.starts_with("/api/") {
        let index = &ASSETS["/index.html"];
        if let Some(asset) = ASSETS.get(path) {
            return respond(&req, &state, asset, actix_web::http::StatusCode::OK);
        }
        if is_page(path) {
            return respond(&req, &state, index, actix_web::http::StatusCode::OK);
        }
        if wants_html(&req) {
            return respond(&req, &state, index, actix_web::http::StatusCode::NOT_FOUND);
        }
    }
    let described = req
        .app_data::<web::Data<super::RouteTable>>()
        .and_then(|routes| routes.allowed(path).map(<[_]>::to_vec));
    match described {
        Some(methods) => actix_web::ResponseError::error_response(
            &super::error::ApiError::MethodNotAllowed(methods),
        ),
        None => super::not_found().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_under_web_is_embedded_with_a_known_type() {
        assert!(ASSETS.contains_key("/index.html"));
        for (path, _) in embedded::FILES {
            assert_ne!(
                content_type(path),
                "application/octet-stream",
                "{path} would be served without a proper type"
            );
        }
    }

    #[test]
    fn page_patterns_match_one_segment() {
        assert!(is_page("/"));
        assert!(is_page("/events/event_1"));
        assert!(!is_page("/events/"));
        assert!(!is_page("/events/a/b"));
        assert!(!is_page("/user/dashboard/x"));
        assert!(is_page("/checkout/order_1"));
    }

    #[test]
    fn etags_match_lists_and_wildcards() {
        let tag = "\"abc\"";
        assert!(etag_matches(
            &HeaderValue::from_static("\"x\", \"abc\""),
            tag
        ));
        assert!(etag_matches(&HeaderValue::from_static("*"), tag));
        assert!(!etag_matches(&HeaderValue::from_static("\"abcd\""), tag));
    }
}
