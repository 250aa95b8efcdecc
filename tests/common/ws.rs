//! A real WebSocket client (tokio-tungstenite) speaking the LeadBridge protocol.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::TestApp;

/// How long a test waits for an expected frame before failing.
pub const WAIT: Duration = Duration::from_secs(5);

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// How a socket authenticates.
pub enum Auth<'a> {
    Anonymous,
    Bearer(&'a str),
    Query(&'a str),
    /// A `Cookie` header value and the `Origin` to send with it.
    Cookie(&'a str, &'a str),
}

/// Opens a socket; `Err` carries the HTTP status of a refused handshake.
pub async fn try_connect(app: &TestApp, auth: Auth<'_>) -> Result<Ws, u16> {
    let base = app.ws_address.replace("http://", "ws://");
    let url = match auth {
        Auth::Query(token) => format!("{base}/api/ws?token={token}"),
        _ => format!("{base}/api/ws"),
    };
    let mut request = url.into_client_request().expect("ws request");
    let headers = request.headers_mut();
    match auth {
        Auth::Bearer(token) => {
            headers.insert(
                "authorization",
                HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
            );
        }
        Auth::Cookie(cookie, origin) => {
            headers.insert("cookie", HeaderValue::from_str(cookie).unwrap());
            headers.insert("origin", HeaderValue::from_str(origin).unwrap());
        }
        Auth::Anonymous | Auth::Query(_) => {}
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((stream, _)) => Ok(Ws { stream }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("websocket connect failed: {e}"),
    }
}

pub async fn connect(app: &TestApp, auth: Auth<'_>) -> Ws {
    try_connect(app, auth)
        .await
        .unwrap_or_else(|status| panic!("handshake refused: {status}"))
}

/// What the server did next.
#[derive(Debug)]
pub enum Next {
    Frame(Value),
    Closed(Option<u16>),
}

impl Ws {
    pub async fn send(&mut self, value: Value) {
        self.stream
            .send(Message::text(value.to_string()))
            .await
            .expect("ws send");
    }

    pub async fn send_raw(&mut self, message: Message) -> Result<(), String> {
        self.stream.send(message).await.map_err(|e| e.to_string())
    }

    /// The next JSON frame or the close, skipping pings; fails after [`WAIT`].
    pub async fn next(&mut self) -> Next {
        loop {
            let message = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("timed out waiting for a websocket frame");
            match message {
                None => return Next::Closed(None),
                Some(Err(_)) => return Next::Closed(None),
                Some(Ok(Message::Text(text))) => {
                    return Next::Frame(serde_json::from_str(&text).expect("JSON frame"));
                }
                Some(Ok(Message::Close(frame))) => {
                    return Next::Closed(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    pub async fn frame(&mut self) -> Value {
        match self.next().await {
            Next::Frame(value) => value,
            Next::Closed(code) => panic!("socket closed ({code:?}) while a frame was expected"),
        }
    }

    /// Reads until a frame satisfies `matches` (others are skipped).
    pub async fn until(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        loop {
            let frame = self.frame().await;
            if matches(&frame) {
                return frame;
            }
        }
    }

    /// The next `message` frame's event of type `kind`.
    pub async fn event(&mut self, kind: &str) -> Value {
        self.until(|f| f["type"] == "message" && f["event"]["type"] == kind)
            .await
    }

    /// Waits for the close and answers its code.
    pub async fn closed(&mut self) -> Option<u16> {
        loop {
            if let Next::Closed(code) = self.next().await {
                return code;
            }
        }
    }

    pub async fn subscribe(&mut self, topic: &str) -> Value {
        self.send(json!({"type": "subscribe", "topic": topic}))
            .await;
        self.until(|f| f["type"] == "subscribed" || f["type"] == "error")
            .await
    }

    /// Frames up to the `pong` that answers a ping sent now: everything the server had
    /// queued for this socket before it.
    pub async fn drain(&mut self) -> Vec<Value> {
        self.send(json!({"type": "ping"})).await;
        let mut frames = Vec::new();
        loop {
            let frame = self.frame().await;
            if frame["type"] == "pong" {
                return frames;
            }
            frames.push(frame);
        }
    }
}

/// Signs in over HTTP and returns the `Cookie` header value of the session.
pub async fn session_cookie(app: &TestApp, email: &str, password: &str) -> String {
    let response = reqwest::Client::new()
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("login");
    response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}
