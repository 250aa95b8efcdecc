//! Client → server frames.

use serde::{Deserialize, Serialize};

/// Where a client left a topic: resume after `offset` if the topic still has `epoch`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Since {
    pub offset: u64,
    pub epoch: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Start receiving a topic; with `since`, first everything missed after it.
    Subscribe {
        topic: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<Since>,
    },
    Unsubscribe {
        topic: String,
    },
    Ping,
    /// Any other `type`: answered with an `error` frame, never a disconnect.
    #[serde(other)]
    Unknown,
}

/// Why a text frame is not a client message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl ClientMessage {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        serde_json::from_str(text).map_err(|e| ParseError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_round_trip() {
        let cases = [
            ClientMessage::Subscribe {
                topic: "event:e1".into(),
                since: Some(Since {
                    offset: 3,
                    epoch: "ep".into(),
                }),
            },
            ClientMessage::Subscribe {
                topic: "admin:queue".into(),
                since: None,
            },
            ClientMessage::Unsubscribe {
                topic: "user:u1".into(),
            },
            ClientMessage::Ping,
        ];
        for message in cases {
            let text = serde_json::to_string(&message).unwrap();
            assert_eq!(ClientMessage::parse(&text).unwrap(), message);
        }
    }

    #[test]
    fn documented_shapes_parse_and_junk_is_an_error_not_a_panic() {
        assert_eq!(
            ClientMessage::parse(
                r#"{"type":"subscribe","topic":"event:e1","since":{"offset":7,"epoch":"x"}}"#
            )
            .unwrap(),
            ClientMessage::Subscribe {
                topic: "event:e1".into(),
                since: Some(Since {
                    offset: 7,
                    epoch: "x".into()
                })
            }
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"dance"}"#).unwrap(),
            ClientMessage::Unknown
        );
        for junk in [
            "",
            "{",
            "[]",
            r#"{"topic":"event:e1"}"#,
            r#"{"type":"subscribe"}"#,
            r#"{"type":7}"#,
        ] {
            assert!(ClientMessage::parse(junk).is_err(), "{junk}");
        }
    }
}
