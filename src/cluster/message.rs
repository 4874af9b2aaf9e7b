//! What replicas say to each other on the invalidation channel: JSON, one message per
//! publish, naming its sender (so a replica skips its own) and the sender's clock (for
//! the lag histogram).

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Larger messages are ignored unread: a write's ids are sent in messages no larger
/// (`publish::messages_for`).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// Drop these customers' entries.
    Customers { ids: Vec<String> },
    /// Drop every entry.
    All,
    /// Liveness: proves the subscription still delivers, and that `from` is alive and
    /// hears invalidations, so writers wait for its confirmations. Sent only while
    /// subscribed (`subscribed` is always true; kept for the message format).
    Heartbeat { subscribed: bool },
    /// Replica `from` applied message `ack` of replica `to`.
    Ack { to: String, ack: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// The sending replica's id, random per process.
    pub from: String,
    /// Random per message; what an `Ack` names.
    #[serde(default)]
    pub id: u64,
    /// The sender's wall clock at publishing, in microseconds since the Unix epoch.
    pub sent_us: u64,
    #[serde(flatten)]
    pub body: Body,
}

pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Whether `s` is a replica id as [`super::Cluster::new`] makes them: a simple
/// UUID, 32 lowercase hex digits. Anything else on the channel is not a replica
/// of this gateway, and nothing it says is applied or kept: a hostile publisher
/// cannot fill a replica's memory with made-up peers of any size.
pub fn is_replica_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Message {
    pub fn new(from: &str, body: Body) -> Message {
        Message {
            from: from.to_owned(),
            id: rand::random(),
            sent_us: now_us(),
            body,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// `None` for anything that is not a message of this format (another program on the
    /// channel, a newer gateway's kind): ignored, never an error.
    pub fn decode(bytes: &[u8]) -> Option<Message> {
        if bytes.len() > MAX_MESSAGE_BYTES {
            return None;
        }
        serde_json::from_slice(bytes).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn foreign_payloads_are_ignored() {
        for junk in [&b""[..], b"null", b"{\"kind\":\"reboot\"}", b"\xff\xfe"] {
            assert_eq!(Message::decode(junk), None);
        }
        let huge = vec![b' '; MAX_MESSAGE_BYTES + 1];
        assert_eq!(Message::decode(&huge), None);
    }

    #[test]
    fn replica_ids_are_what_replicas_are_named() {
        let made = uuid::Uuid::new_v4().simple().to_string();
        assert!(is_replica_id(&made), "{made}");
        let (upper, longer, huge) = (
            made.to_ascii_uppercase(),
            format!("{made}0"),
            "x".repeat(10_000),
        );
        for bad in [
            "",
            "attacker",
            &made[1..],
            upper.as_str(),
            longer.as_str(),
            huge.as_str(),
        ] {
            assert!(!is_replica_id(bad), "{bad:.40}");
        }
    }

    proptest! {
        /// Whatever an id holds (an admin purge takes any string), it arrives as sent.
        #[test]
        fn messages_round_trip(from in ".{0,40}", ids in proptest::collection::vec(".{0,60}", 0..8)) {
            let ack = Body::Ack { to: from.clone(), ack: 7 };
            for body in [Body::Customers { ids: ids.clone() }, Body::All, Body::Heartbeat { subscribed: true }, ack] {
                let m = Message::new(&from, body);
                prop_assert_eq!(Message::decode(&m.encode()), Some(m));
            }
        }
    }
}
