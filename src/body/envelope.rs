//! A [`GatewayError`] as the client sees it: paycombat's envelope, in a [`GatewayBody`].

use bytes::Bytes;
use http::{header, HeaderValue, StatusCode};

use super::GatewayBody;
use crate::error::GatewayError;
use crate::http::headers::JSON_CONTENT_TYPE;

impl GatewayError {
    /// The response a client sees. `request_id` is echoed in the body so a
    /// service can quote it when it reports a problem.
    pub fn to_response(&self, request_id: &str) -> http::Response<GatewayBody> {
        let mut resp = envelope_response(self.status(), &self.to_string(), self.code(), request_id);
        if let Some(after) = self.retry_after() {
            // Whole seconds, rounded up, never 0: a 0 invites an immediate retry storm.
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        if let GatewayError::AdminMethodNotAllowed { allow } = self {
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        resp
    }
}

/// `{"status": false, "message": …, "data": null, "error": {"code": …, "request_id": …}}`
pub fn envelope_response(
    status: StatusCode,
    message: &str,
    code: &str,
    request_id: &str,
) -> http::Response<GatewayBody> {
    // A struct, not json!(): fields serialise in paycombat's order.
    #[derive(serde::Serialize)]
    struct Envelope<'a> {
        status: bool,
        message: &'a str,
        data: Option<()>,
        error: ErrorInfo<'a>,
    }
    #[derive(serde::Serialize)]
    struct ErrorInfo<'a> {
        code: &'a str,
        request_id: &'a str,
    }
    let body = Envelope {
        status: false,
        message,
        data: None,
        error: ErrorInfo { code, request_id },
    };
    let bytes = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    let mut resp = http::Response::new(GatewayBody::full(bytes));
    *resp.status_mut() = status;
    // The same Content-Type as every other answer on a JSON route.
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, JSON_CONTENT_TYPE);
    resp
}
