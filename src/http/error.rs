//! The HTTP error type: every failure becomes `{"error": {"code", "message"}}` with the right
//! status, mapped here once. Internal causes are logged and never sent to the client.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppError;
use crate::auth::password_pool::PoolError;
use crate::domain::ValidationError;
use crate::payments::GatewayError;
use crate::store::{Conflict, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is not readable (malformed JSON, bad signature encoding, …).
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: no valid session or token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: signed in, but not allowed.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    /// 404: unknown id or route (also for ids owned by someone else).
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// 409: refused because of what is already stored.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 408: the request body did not arrive within the body timeout.
    #[error("the request body did not arrive in time; send it all at once")]
    RequestTimeout,
    /// 415: a JSON endpoint given a body of another type (or none declared).
    #[error("send the body as JSON, with Content-Type: application/json")]
    UnsupportedMediaType,
    /// 413: body over the limit.
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    /// 422: well-formed but invalid; names the field.
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    /// 405: the path exists, answering only the listed methods.
    #[error("this endpoint answers {}", .0.join(", "))]
    MethodNotAllowed(Vec<&'static str>),
    /// 429: this address holds too many connections open; the connection closes.
    #[error("too many connections from your address; close some and retry")]
    TooManyConnections,
    /// 429: too many requests of this kind from this client; retry after the wait.
    #[error("too many attempts; try again in {} s", retry_after_seconds(*.0))]
    TooManyRequests(std::time::Duration),
    /// 503: the store is momentarily too busy; the client may retry.
    #[error("{0}")]
    Unavailable(String),
    /// 502: Google sign-in's provider did not answer as it should.
    #[error("{0}")]
    IdentityProvider(String),
    /// 502 / 504: the payment gateway failed us.
    #[error(transparent)]
    Gateway(#[from] GatewayError),
    /// 500: our fault; logged with its cause, answered opaquely.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound {
            code: "NOT_FOUND",
            message: format!("{what} not found"),
        }
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Forbidden {
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn unprocessable(
        code: &'static str,
        field: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError::Unprocessable {
            code,
            field,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::NotFound { code, .. }
            | ApiError::Conflict { code, .. }
            | ApiError::Unprocessable { code, .. } => code,
            ApiError::Unauthorized(_) => "UNAUTHORIZED",
            ApiError::Unavailable(_) => "UNAVAILABLE",
            ApiError::TooManyRequests(_) => "RATE_LIMITED",
            ApiError::TooManyConnections => "TOO_MANY_CONNECTIONS",
            ApiError::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            ApiError::PayloadTooLarge { .. } => "PAYLOAD_TOO_LARGE",
            ApiError::RequestTimeout => "REQUEST_TIMEOUT",
            ApiError::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ApiError::IdentityProvider(_) => "IDENTITY_PROVIDER_ERROR",
            ApiError::Gateway(GatewayError::Timeout) => "PAYMENT_GATEWAY_TIMEOUT",
            ApiError::Gateway(_) => "PAYMENT_GATEWAY_ERROR",
            ApiError::Internal(_) => "INTERNAL_ERROR",
        }
    }
}

/// The error body every endpoint answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `EVENT_FULL`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The offending field, for 422s.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Whole seconds for `Retry-After`, rounded up so a client that waits that long succeeds.
fn retry_after_seconds(wait: std::time::Duration) -> u64 {
    wait.as_millis().div_ceil(1000).max(1) as u64
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooManyRequests(_) | ApiError::TooManyConnections => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::IdentityProvider(_) => StatusCode::BAD_GATEWAY,
            ApiError::Gateway(GatewayError::Timeout) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Gateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                "something went wrong on our side; nothing was changed".to_string()
            }
            ApiError::Gateway(cause) => {
                tracing::warn!(error = %cause, "payment gateway failure");
                cause.to_string()
            }
            ApiError::IdentityProvider(cause) => {
                tracing::warn!(error = %cause, "identity provider failure");
                "Google sign-in is unavailable right now; try again, or sign in with your password"
                    .into()
            }
            other => other.to_string(),
        };
        let field = match self {
            ApiError::Unprocessable { field, .. } => field.clone(),
            _ => None,
        };
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::Unavailable(_) | ApiError::TooManyConnections => {
                response.insert_header((actix_web::http::header::RETRY_AFTER, "1"));
            }
            ApiError::TooManyRequests(wait) => {
                response.insert_header((
                    actix_web::http::header::RETRY_AFTER,
                    retry_after_seconds(*wait).to_string(),
                ));
            }
            ApiError::MethodNotAllowed(methods) => {
                response.insert_header((actix_web::http::header::ALLOW, methods.join(", ")));
            }
            _ => {}
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message,
                field,
            },
        })
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(conflict) => conflict.into(),
            StoreError::InvalidCursor => ApiError::unprocessable(
                "INVALID_CURSOR",
                Some("cursor".into()),
                "cursor is not one this API issued",
            ),
            StoreError::Busy => ApiError::Unavailable("the store is busy; retry shortly".into()),
            StoreError::Backend(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        match err {
            AppError::Store(e) => e.into(),
            AppError::Gateway(e) => ApiError::Gateway(e),
            AppError::NotFound(what) => ApiError::not_found(what),
            AppError::Refused { code, message } => ApiError::Conflict { code, message },
            AppError::BadSignature { message } => ApiError::BadRequest {
                code: "INVALID_SIGNATURE",
                message,
            },
            AppError::Malformed { code, message } => ApiError::BadRequest { code, message },
        }
    }
}

impl From<PoolError> for ApiError {
    fn from(err: PoolError) -> Self {
        match err {
            PoolError::Saturated => ApiError::Unavailable(
                "too many sign-ins at this moment; try again in a second".into(),
            ),
            PoolError::Failed(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<Conflict> for ApiError {
    fn from(conflict: Conflict) -> Self {
        ApiError::Conflict {
            code: conflict.code(),
            message: conflict.to_string(),
        }
    }
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        ApiError::Unprocessable {
            code: err.code,
            field: Some(err.field.to_string()),
            message: format!("{} {}", err.field, err.message),
        }
    }
}
