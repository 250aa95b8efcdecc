//! Topic names. Parsing is strict: an id is 1–100 characters of `[A-Za-z0-9_-]`.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// `event:{event_id}`: public slot availability.
    Event(String),
    /// `mentor:{mentor_id}`: that mentor's lead feed (the mentor and admins).
    Mentor(String),
    /// `admin:queue`: the verification queue (admins).
    AdminQueue,
    /// `user:{user_id}`: a learner's own bookings (that learner).
    User(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadTopic(pub String);

impl fmt::Display for BadTopic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown topic {:?}: expected event:{{id}}, mentor:{{id}}, admin:queue or user:{{id}}",
            self.0
        )
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl FromStr for Topic {
    type Err = BadTopic;

    fn from_str(s: &str) -> Result<Self, BadTopic> {
        let bad = || BadTopic(s.chars().take(120).collect());
        if s == "admin:queue" {
            return Ok(Topic::AdminQueue);
        }
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        if !valid_id(id) {
            return Err(bad());
        }
        match kind {
            "event" => Ok(Topic::Event(id.to_string())),
            "mentor" => Ok(Topic::Mentor(id.to_string())),
            "user" => Ok(Topic::User(id.to_string())),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Topic::Event(id) => write!(f, "event:{id}"),
            Topic::Mentor(id) => write!(f, "mentor:{id}"),
            Topic::AdminQueue => f.write_str("admin:queue"),
            Topic::User(id) => write!(f, "user:{id}"),
        }
    }
}

impl Topic {
    /// Whether anyone, signed in or not, may subscribe.
    pub fn is_public(&self) -> bool {
        matches!(self, Topic::Event(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip_and_junk_is_refused() {
        for name in [
            "event:event_1",
            "mentor:mentor_a-b",
            "admin:queue",
            "user:user_9",
        ] {
            let topic: Topic = name.parse().unwrap();
            assert_eq!(topic.to_string(), name);
        }
        for bad in [
            "",
            "event:",
            "event",
            "admin:other",
            "lead:1",
            "event:a b",
            "event:x:y",
            &format!("event:{}", "a".repeat(101)),
        ] {
            assert!(bad.parse::<Topic>().is_err(), "{bad}");
        }
        assert!(Topic::Event("e".into()).is_public());
        assert!(!Topic::AdminQueue.is_public());
    }
}
