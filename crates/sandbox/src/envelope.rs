//! paycombat's response envelope and the in-progress answer the fault layer reshapes.

use std::borrow::Cow;

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

use super::body::Payload;

pub(crate) const JSON: &str = "application/json; charset=utf-8";

/// An answer before faults are applied to it.
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub payload: Payload,
}

impl Reply {
    pub(crate) fn with_content_type(
        status: StatusCode,
        content_type: &'static str,
        payload: Payload,
    ) -> Reply {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        Reply {
            status,
            headers,
            payload,
        }
    }

    pub(crate) fn json_bytes(status: StatusCode, body: Bytes) -> Reply {
        Reply::with_content_type(status, JSON, Payload::Bytes(body))
    }

    pub(crate) fn json(status: StatusCode, value: &impl Serialize) -> Reply {
        match serde_json::to_vec(value) {
            Ok(body) => Reply::json_bytes(status, Bytes::from(body)),
            Err(_) => Reply::json_bytes(
                StatusCode::INTERNAL_SERVER_ERROR,
                Bytes::from_static(
                    br#"{"status":false,"message":"serialization failed","data":null}"#,
                ),
            ),
        }
    }

    /// `{"status":true,"message":"OK","data":…}` with 200.
    pub(crate) fn ok(data: Value) -> Reply {
        Reply::envelope(StatusCode::OK, true, "OK", &data)
    }

    /// `{"status":false,"message":…,"data":null}`.
    pub(crate) fn error(status: StatusCode, message: &str) -> Reply {
        Reply::envelope(status, false, message, &Value::Null)
    }

    fn envelope(status: StatusCode, ok: bool, message: &str, data: &Value) -> Reply {
        Reply::json(
            status,
            &Envelope {
                status: ok,
                message,
                data,
            },
        )
    }
}

/// Fields in paycombat's order (a `Value` map would sort them).
#[derive(Serialize)]
struct Envelope<'a> {
    status: bool,
    message: &'a str,
    data: &'a Value,
}

/// A request turned down before any work: becomes an error envelope.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub message: Cow<'static, str>,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Refusal {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<Cow<'static, str>>) -> Self {
        Refusal::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<Refusal> for Reply {
    fn from(refusal: Refusal) -> Reply {
        Reply::error(refusal.status, &refusal.message)
    }
}

/// The second envelope some write endpoints wrap inside `data` (documented for disable/delete).
pub(crate) fn nested(status: StatusCode, inner: Value) -> Value {
    json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        "request_time": super::clock::now_rfc3339(),
        "success": status.is_success(),
        "status_code": status.as_u16(),
        "status_text": status.canonical_reason().unwrap_or(""),
        "data": inner,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(reply: Reply) -> Bytes {
        match reply.payload {
            Payload::Bytes(b) => b,
            Payload::Stream(_) => Bytes::new(),
        }
    }

    #[test]
    fn envelopes_keep_paycombats_field_order() {
        assert_eq!(
            bytes(Reply::ok(json!({"a": 1}))),
            &br#"{"status":true,"message":"OK","data":{"a":1}}"#[..]
        );
        let err = Reply::error(StatusCode::NOT_FOUND, "customer not found");
        assert_eq!(err.status, StatusCode::NOT_FOUND);
        assert_eq!(
            bytes(err),
            &br#"{"status":false,"message":"customer not found","data":null}"#[..]
        );
    }

    #[test]
    fn nested_envelope_has_the_documented_fields() {
        let v = nested(StatusCode::OK, json!({"x": 1}));
        assert_eq!(v["success"], true);
        assert_eq!(v["status_code"], 200);
        assert_eq!(v["status_text"], "OK");
        assert!(v["request_id"].is_string() && v["request_time"].is_string());
        assert_eq!(v["data"]["x"], 1);
    }
}
