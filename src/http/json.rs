//! Request-body and query extraction with our error shape: a body that is not declared JSON
//! is 415, malformed JSON is 400, a field of the wrong type or a missing field is 422 naming
//! the field, a body over 64 KiB is 413, a body that does not arrive in time is 408.

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Largest request body accepted anywhere.
pub const BODY_LIMIT: usize = 64 * 1024;

/// Like `web::Json`, with precise errors. The body must be declared JSON
/// (`application/json` or `application/…+json`): what a plain cross-site form or a no-cors
/// `fetch` can send (`text/plain`, form encodings, no type at all) is refused before it is
/// read, so no such request reaches a handler.
pub struct Json<T>(pub T);

/// Whether the request declares a JSON body.
fn declares_json(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json")
            || subtype.len() > 5 && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json"))
}

/// The raw body, bounded by [`BODY_LIMIT`] (webhooks need the exact bytes they were signed on).
pub struct RawBody(pub web::Bytes);

async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<web::Bytes, ApiError> {
    let too_large = ApiError::PayloadTooLarge { limit: BODY_LIMIT };
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > BODY_LIMIT) {
        return Err(too_large);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            if super::deadline::is_timeout(&e) {
                ApiError::RequestTimeout
            } else {
                ApiError::bad_request("BAD_BODY", format!("could not read the request body: {e}"))
            }
        })?;
        if body.len() + chunk.len() > BODY_LIMIT {
            return Err(too_large);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Parses JSON, classifying failures: syntax → 400, shape → 422 with the field's path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut *de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let message = inner.to_string();
                let field = if path != "." {
                    Some(path)
                } else {
                    // `missing field `email`` is reported at the parent: name the field itself.
                    message.split('`').nth(1).map(str::to_string)
                };
                let text = match &field {
                    Some(f) => format!("field `{f}`: {}", strip_position(&message)),
                    None => strip_position(&message).to_string(),
                };
                ApiError::unprocessable("INVALID_FIELD", field, text)
            }
            _ => ApiError::bad_request(
                "MALFORMED_JSON",
                format!("request body is not valid JSON: {inner}"),
            ),
        }
    })?;
    de.end().map_err(|e| {
        ApiError::bad_request(
            "MALFORMED_JSON",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    Ok(value)
}

fn strip_position(message: &str) -> &str {
    message.split(" at line ").next().unwrap_or(message)
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            if !declares_json(&req) {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = read_body(&req, &mut payload).await?;
            parse_json(&bytes).map(Json)
        })
    }
}

impl FromRequest for RawBody {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move { read_body(&req, &mut payload).await.map(RawBody) })
    }
}

/// Like `web::Query`, but a bad parameter is a 422 naming it.
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let parser = form_urlencoded::parse(req.query_string().as_bytes());
        let de = serde_urlencoded::Deserializer::new(parser);
        let parsed = serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let message = err.into_inner().to_string();
                let field = if path != "." {
                    Some(path)
                } else {
                    message.split('`').nth(1).map(str::to_string)
                };
                let text = match &field {
                    Some(f) => format!("query parameter `{f}`: {message}"),
                    None => format!("query string: {message}"),
                };
                ApiError::unprocessable("INVALID_QUERY", field, text)
            });
        std::future::ready(parsed)
    }
}

/// Path errors in our shape (ids are plain strings, so this is a safety net).
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        ApiError::unprocessable("INVALID_PATH", None, format!("path: {err}")).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::ResponseError;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        slots: u32,
    }

    fn status(bytes: &[u8]) -> (u16, String) {
        let err = parse_json::<Body>(bytes).unwrap_err();
        let field = match &err {
            ApiError::Unprocessable { field, .. } => field.clone().unwrap_or_default(),
            _ => String::new(),
        };
        (err.status_code().as_u16(), field)
    }

    #[test]
    fn json_error_table() {
        assert_eq!(status(b"{"), (400, String::new()));
        assert_eq!(status(b""), (400, String::new()));
        assert_eq!(
            status(br#"{"email":"a","slots":1} x"#),
            (400, String::new())
        );
        assert_eq!(
            status(br#"{"email":"a","slots":"many"}"#),
            (422, "slots".into())
        );
        assert_eq!(
            status(br#"{"email":"a","slots":-1}"#),
            (422, "slots".into())
        );
        assert_eq!(status(br#"{"slots":1}"#), (422, "email".into()));
        assert_eq!(status(b"[]"), (422, String::new()));
        assert!(parse_json::<Body>(br#"{"email":"a","slots":1,"extra":true}"#).is_ok());
    }
}
