//! The baseline: a minimal actix-ws broadcast server, the least any server on this stack
//! must do. `GET /ws` registers a socket, `POST /publish/{value}` sends one frame shaped
//! like LeadBridge's `slots_changed` message to every socket, `GET /json` is a trivial
//! JSON endpoint. Run as its own process (`leadbridge-bench baseline-server --port N`)
//! so its memory and CPU are read apart from the load generator's.

use std::sync::Mutex;

use actix_web::{get, post, web, App, HttpRequest, HttpResponse, HttpServer};
use bytestring::ByteString;
use futures_util::StreamExt;

#[derive(Default)]
struct Sessions(Mutex<Vec<actix_ws::Session>>);

/// The frame LeadBridge sends for a seat-count change, with `value` as `total_slots`.
pub fn frame(value: u64) -> String {
    format!(
        r#"{{"v":1,"type":"message","topic":"event:event_0123456789abcdef0123456789abcdef","offset":{value},"event":{{"type":"slots_changed","event_id":"event_0123456789abcdef0123456789abcdef","available_slots":0,"total_slots":{value}}}}}"#
    )
}

#[get("/ws")]
async fn ws(
    req: HttpRequest,
    body: web::Payload,
    sessions: web::Data<Sessions>,
) -> actix_web::Result<HttpResponse> {
    let (response, session, mut stream) = actix_ws::handle(&req, body)?;
    if let Ok(mut all) = sessions.0.lock() {
        all.push(session.clone());
    }
    actix_web::rt::spawn(async move {
        let mut session = session;
        while let Some(Ok(message)) = stream.next().await {
            if let actix_ws::Message::Ping(bytes) = message {
                if session.pong(&bytes).await.is_err() {
                    break;
                }
            }
        }
    });
    Ok(response)
}

#[post("/publish/{value}")]
async fn publish(value: web::Path<u64>, sessions: web::Data<Sessions>) -> HttpResponse {
    // Serialised once; every session gets the same bytes.
    let frame = ByteString::from(frame(*value));
    let all: Vec<actix_ws::Session> = sessions.0.lock().map(|s| s.clone()).unwrap_or_default();
    let mut closed = Vec::new();
    for (i, mut session) in all.into_iter().enumerate() {
        if session.text(frame.clone()).await.is_err() {
            closed.push(i);
        }
    }
    if !closed.is_empty() {
        if let Ok(mut all) = sessions.0.lock() {
            for i in closed.into_iter().rev() {
                if i < all.len() {
                    all.swap_remove(i);
                }
            }
        }
    }
    HttpResponse::Ok().finish()
}

#[get("/json")]
async fn json() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({"ok": true}))
}

/// Serves until killed.
pub fn serve(port: u16) -> std::io::Result<()> {
    let sessions = web::Data::new(Sessions::default());
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(sessions.clone())
                .service(ws)
                .service(publish)
                .service(json)
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })
}
