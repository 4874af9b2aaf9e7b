//! W3C trace context on the wire: `traceparent`/`tracestate` read from a
//! client's request (when `telemetry.honour_traceparent`) and written on each
//! upstream attempt.

use http::HeaderMap;
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::Context;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;

pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";

/// The client's trace context as a parent, or an empty context (a new root)
/// when it sent none or a malformed one.
pub fn extract(headers: &HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Replaces any `traceparent`/`tracestate` with `cx`'s span: the client's own
/// values never reach paycombat beside the gateway's. The `tracestate` that
/// goes out is the one parsed (and so validated) from an honoured parent.
pub fn inject(cx: &Context, headers: &mut HeaderMap) {
    headers.remove(TRACEPARENT);
    headers.remove(TRACESTATE);
    TraceContextPropagator::new().inject_context(cx, &mut HeaderInjector(headers));
    if headers.get(TRACESTATE).is_some_and(|v| v.is_empty()) {
        headers.remove(TRACESTATE);
    }
}
