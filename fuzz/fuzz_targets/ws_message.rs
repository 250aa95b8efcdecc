//! A WebSocket text frame from anyone: parsing never panics, a parsed message serialises
//! back to one that parses the same, and any topic it names either parses to a topic that
//! prints as the same name or is refused.
#![no_main]

use libfuzzer_sys::fuzz_target;
use leadbridge_protocol::client::ClientMessage;
use leadbridge_protocol::topic::Topic;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(message) = ClientMessage::parse(text) else {
        return;
    };
    if !matches!(message, ClientMessage::Unknown) {
        let again = serde_json::to_string(&message).expect("a parsed message serialises");
        assert_eq!(ClientMessage::parse(&again).ok(), Some(message.clone()));
    }
    if let ClientMessage::Subscribe { topic, .. } | ClientMessage::Unsubscribe { topic } = &message {
        if let Ok(parsed) = topic.parse::<Topic>() {
            assert_eq!(&parsed.to_string(), topic);
        }
    }
});
