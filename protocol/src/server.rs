//! Server → client frames. Each is serialised with `"v": 1`.

use serde::{Deserialize, Serialize};

use super::event::Event;
use super::VERSION;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The subscription is live. `offset`/`epoch` are the position to resume from later.
    /// `recovered` is true when every message after the client's `since` follows (and no
    /// snapshot is needed); otherwise `snapshot` is the topic's current state.
    Subscribed {
        topic: String,
        offset: u64,
        epoch: String,
        recovered: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snapshot: Option<serde_json::Value>,
    },
    /// One event of a topic, in offset order, without gaps or duplicates.
    Message {
        topic: String,
        offset: u64,
        event: Event,
    },
    Unsubscribed {
        topic: String,
    },
    /// A refused or malformed client message; the socket stays open.
    Error {
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        topic: Option<String>,
    },
    Pong,
}

#[derive(Serialize)]
struct FrameOut<'a> {
    v: u8,
    #[serde(flatten)]
    message: &'a ServerMessage,
}

/// A server frame as a client reads it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Frame {
    pub v: u8,
    #[serde(flatten)]
    pub message: ServerMessage,
}

impl ServerMessage {
    /// The JSON text of this frame, with the version.
    pub fn to_text(&self) -> String {
        serde_json::to_string(&FrameOut {
            v: VERSION,
            message: self,
        })
        // unwrap: these types serialise infallibly (string keys, no maps with other keys).
        .expect("server frames serialise")
    }

    pub fn error(code: &str, message: impl Into<String>, topic: Option<&str>) -> Self {
        ServerMessage::Error {
            code: code.to_string(),
            message: message.into(),
            topic: topic.map(str::to_string),
        }
    }
}

impl Frame {
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, SlotsChanged};

    #[test]
    fn server_frames_round_trip_with_the_version() {
        let messages = [
            ServerMessage::Subscribed {
                topic: "event:e".into(),
                offset: 4,
                epoch: "ep".into(),
                recovered: false,
                snapshot: Some(serde_json::json!({"available_slots": 3})),
            },
            ServerMessage::Message {
                topic: "event:e".into(),
                offset: 5,
                event: Event::SlotsChanged(SlotsChanged {
                    event_id: "e".into(),
                    available_slots: 2,
                    total_slots: 5,
                }),
            },
            ServerMessage::Unsubscribed {
                topic: "event:e".into(),
            },
            ServerMessage::error("FORBIDDEN", "no", Some("admin:queue")),
            ServerMessage::Pong,
        ];
        for message in messages {
            let text = message.to_text();
            let frame = Frame::parse(&text).unwrap();
            assert_eq!(frame.v, 1);
            assert_eq!(frame.message, message);
        }
        let text = ServerMessage::Pong.to_text();
        assert_eq!(text, r#"{"v":1,"type":"pong"}"#);
    }
}
