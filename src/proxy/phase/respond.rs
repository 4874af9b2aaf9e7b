//! Respond: the answer, or the error's envelope, as the client gets it.

use http::Response;
use opentelemetry::KeyValue;

use super::super::context::RequestContext;
use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::http::headers::X_REQUEST_ID;

pub(in crate::proxy) fn respond(
    result: Result<Response<GatewayBody>, GatewayError>,
    ctx: &RequestContext,
) -> Response<GatewayBody> {
    let mut resp = match result {
        Ok(r) => r,
        Err(e) => {
            ctx.span.set(|| vec![KeyValue::new("error.type", e.code())]);
            e.to_response(ctx.request_id.to_str().unwrap_or(""))
        }
    };
    if ctx.method == http::Method::HEAD || crate::http::framing::bodiless(resp.status()) {
        // Whoever produced the answer (the gateway's own errors included),
        // a HEAD response has no body: on HTTP/2 a DATA frame would be a
        // protocol error and the client would never see the status. Nor
        // has a 1xx/204/304, which hyper never sends a body for: an empty
        // one is also what lets the finish phase count it as sent whole.
        *resp.body_mut() = GatewayBody::empty();
    }
    resp.headers_mut()
        .insert(X_REQUEST_ID, ctx.request_id.clone());
    // The client's own rate-limit policy, on every answer once its bucket
    // was asked (the 429 and cached hits included); upstream's never pass.
    if let Some(rate) = &ctx.rate {
        rate.write(resp.headers_mut());
    }
    resp
}
