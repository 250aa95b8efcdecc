//! What a connection may cost before its handler runs: an address over its connection
//! allowance is answered 429 and closed, and a request body must arrive within the body
//! timeout (a body trickled a byte at a time would otherwise hold the connection for
//! minutes). A body left unread, or cut off, closes the connection after the answer: it
//! is never drained at the sender's pace.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header::{CONTENT_LENGTH, TRANSFER_ENCODING};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{web, Error, HttpMessage, ResponseError};
use futures_util::Stream;
use tokio::time::Sleep;

use super::error::ApiError;
use crate::net::stream::HangUp;
use crate::net::OverLimit;
use crate::state::AppState;

/// A request body that fails once its deadline passes, and says whether it was read out.
struct Deadline {
    inner: Payload,
    timer: Pin<Box<Sleep>>,
    /// Set once the body has been read to its end.
    finished: Rc<Cell<bool>>,
}

impl Stream for Deadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(None) => {
                this.finished.set(true);
                Poll::Ready(None)
            }
            Poll::Ready(item) => Poll::Ready(item),
            Poll::Pending => match this.timer.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(PayloadError::Io(
                    std::io::ErrorKind::TimedOut.into(),
                )))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

/// Whether a read error is the body deadline passing.
pub fn is_timeout(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(e) if e.kind() == std::io::ErrorKind::TimedOut)
}

/// Whether the request has a body to bound. The socket endpoint's "body" is the socket
/// itself, read for as long as it lives.
fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    req.path() != WEBSOCKET_PATH
        && (headers.contains_key(TRANSFER_ENCODING)
            || headers
                .get(CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.trim() != "0"))
}

const WEBSOCKET_PATH: &str = "/api/ws";

pub async fn guard(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    let hang_up = req.conn_data::<HangUp>().cloned();
    let close = |head: &mut actix_web::dev::ResponseHead| {
        head.set_connection_type(ConnectionType::Close);
        if let Some(hang_up) = &hang_up {
            hang_up.after_this_answer();
        }
    };
    if req.conn_data::<OverLimit>().is_some() {
        let mut response = ApiError::TooManyConnections.error_response();
        close(response.head_mut());
        return Ok(req.into_response(response).map_into_right_body());
    }
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.body_timeout);
    let finished = match limit {
        Some(limit) if has_body(&req) => {
            let finished = Rc::new(Cell::new(false));
            let body = Deadline {
                inner: req.take_payload(),
                timer: Box::pin(tokio::time::sleep(limit)),
                finished: Rc::clone(&finished),
            };
            req.set_payload(Payload::from(
                Box::pin(body) as Pin<Box<dyn Stream<Item = Result<Bytes, PayloadError>>>>
            ));
            Some(finished)
        }
        _ => None,
    };
    // Layers inside answer refusals as responses (the CSRF guard does), so the body they
    // never read ends the connection here too.
    let mut response = next.call(req).await?;
    if finished.is_some_and(|finished| !finished.get()) {
        close(response.response_mut().head_mut());
    }
    Ok(response.map_into_left_body())
}
