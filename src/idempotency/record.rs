//! What the store keeps per key: the request's fingerprint and where its one send stands
//! (in flight under a lease, answered, or ended with an unknown outcome).

use base64::Engine;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use serde::{Deserialize, Serialize};

/// The answer headers a replay repeats; every other header of the first answer (its
/// request id, dates, rate-limit state) belongs to that exchange only.
pub const REPLAYED_HEADERS: [HeaderName; 4] = [
    http::header::CONTENT_TYPE,
    http::header::CONTENT_DISPOSITION,
    http::header::CONTENT_LANGUAGE,
    http::header::LOCATION,
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// `key::Fingerprint` in hex.
    pub fingerprint: String,
    pub state: State,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum State {
    /// Claimed by `owner` (one request on one replica), trusted until `lease_until_ms`
    /// (Unix ms): a claim left past its lease belongs to a replica that stopped
    /// mid-request, so its outcome is unknown.
    InFlight { owner: String, lease_until_ms: u64 },
    /// paycombat answered; the masked answer the client got.
    Answered(StoredAnswer),
    /// Sent, but whether paycombat acted on it is not known (`why`: a closed word).
    Unknown { why: String },
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(with = "b64")]
    pub body: Bytes,
}

impl std::fmt::Debug for StoredAnswer {
    // The body is a masked answer, but still no business of a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredAnswer")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl StoredAnswer {
    /// The answer as the client received it: its status, the `REPLAYED_HEADERS` it had,
    /// its body.
    pub fn capture(status: StatusCode, headers: &HeaderMap, body: Bytes) -> StoredAnswer {
        let headers = REPLAYED_HEADERS
            .iter()
            .flat_map(|name| {
                headers.get_all(name).iter().filter_map(move |v| {
                    v.to_str()
                        .ok()
                        .map(|v| (name.as_str().to_owned(), v.to_owned()))
                })
            })
            .collect();
        StoredAnswer {
            status: status.as_u16(),
            headers,
            body,
        }
    }

    /// The status and headers to replay; a stored value the gateway would not have sent
    /// itself (a damaged record) is left out rather than sent.
    pub fn head(&self) -> (StatusCode, HeaderMap) {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut headers = HeaderMap::new();
        for (name, value) in &self.headers {
            let Some(name) = REPLAYED_HEADERS.iter().find(|h| h.as_str() == name) else {
                continue;
            };
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.append(name.clone(), value);
            }
        }
        (status, headers)
    }
}

impl Record {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// None for bytes that are not a record (another program's key, a damaged value).
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        serde_json::from_slice(bytes).ok()
    }

    /// What the record costs the in-process store: its encoded size, about.
    pub fn weight(&self) -> u64 {
        let body = match &self.state {
            State::Answered(a) => {
                a.body.len()
                    + a.headers
                        .iter()
                        .map(|(n, v)| n.len() + v.len())
                        .sum::<usize>()
            }
            State::InFlight { owner, .. } => owner.len(),
            State::Unknown { why } => why.len(),
        };
        // Key, fingerprint, framing and the map's own overhead.
        (body + 256) as u64
    }
}

mod b64 {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map(Bytes::from)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_replay_only_listed_headers() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert("x-request-id", HeaderValue::from_static("first"));
        h.insert(http::header::DATE, HeaderValue::from_static("then"));
        let answer = StoredAnswer::capture(StatusCode::CREATED, &h, Bytes::from_static(b"\x00{}"));
        let r = Record {
            fingerprint: "ab".into(),
            state: State::Answered(answer),
        };
        let back = Record::decode(&r.encode()).unwrap();
        assert_eq!(back, r);
        let State::Answered(a) = back.state else {
            panic!()
        };
        let (status, headers) = a.head();
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[http::header::CONTENT_TYPE], "application/json");
        assert_eq!(Record::decode(b"not a record"), None);
    }
}
