//! One published event as every subscriber receives it: what the bus carries, topics fan
//! out and sessions write.

use bytestring::ByteString;
use leadbridge_protocol::topic::Topic;

/// One published event, serialised once: every subscriber gets the same bytes.
#[derive(Debug, Clone)]
pub struct Publication {
    pub topic: Topic,
    pub offset: u64,
    /// The complete `message` frame text; clones share the bytes.
    pub frame: ByteString,
}
