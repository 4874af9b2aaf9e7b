//! W3C trace context on the wire: `traceparent`/`tracestate` read from a
//! client's request (when `telemetry.honour_traceparent`) and written on each
//! upstream attempt.

use http::{HeaderMap, HeaderName};
use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::Context;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_sdk::propagation::TraceContextPropagator;

pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
pub const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The client's trace context as a parent, or an empty context (a new root)
/// when it sent none or a malformed one.
pub fn extract(headers: &HeaderMap) -> Context {
    TraceContextPropagator::new().extract(&HeaderExtractor(headers))
}

/// Replaces any `traceparent`/`tracestate` with `cx`'s span: the client's own
/// values never reach paycombat beside the gateway's. The `tracestate` that
/// goes out is the one parsed (and so validated) from an honoured parent.
pub fn inject(cx: &Context, headers: &mut HeaderMap) {
    headers.remove(&TRACEPARENT);
    headers.remove(&TRACESTATE);
    TraceContextPropagator::new().inject_context(cx, &mut HeaderInjector(headers));
    if headers.get(&TRACESTATE).is_some_and(|v| v.is_empty()) {
        headers.remove(&TRACESTATE);
    }
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;
    use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId};
    use proptest::prelude::*;

    use super::*;

    /// The gateway's attempt span: under `parent`'s trace when it has one.
    fn gateway_span(parent: &Context) -> (Context, String) {
        let p = parent.span().span_context().clone();
        let trace = if p.is_valid() {
            p.trace_id()
        } else {
            TraceId::from(0x0af7651916cd43dd8448eb211c80319c_u128)
        };
        let span = SpanId::from(0xb7ad6b7169203331_u64);
        let sc = SpanContext::new(
            trace,
            span,
            TraceFlags::SAMPLED,
            false,
            p.trace_state().clone(),
        );
        (
            Context::new().with_remote_span_context(sc),
            format!("00-{trace}-{span}-01"),
        )
    }

    /// Printable junk, or a well-formed traceparent of any ids and flags.
    fn traceparent() -> impl Strategy<Value = String> {
        prop_oneof![
            "[ -~]{0,70}",
            (any::<u128>(), any::<u64>(), any::<u8>())
                .prop_map(|(t, s, f)| format!("00-{t:032x}-{s:016x}-{f:02x}")),
        ]
    }

    proptest! {
        /// Whatever a client sends as trace context, once or repeated, paycombat gets exactly
        /// one traceparent, the gateway's, and a tracestate only as the parser re-wrote it.
        #[test]
        fn client_trace_headers_never_pass_through(
            parents in proptest::collection::vec(traceparent(), 1..3),
            state in prop_oneof!["[ -~]{0,60}", "[a-z]{1,8}=[a-z0-9]{1,8}(,[a-z]{1,8}=[a-z0-9]{1,8}){0,3}"],
        ) {
            let mut headers = HeaderMap::new();
            for p in &parents {
                headers.append(TRACEPARENT, HeaderValue::from_str(p).unwrap());
            }
            headers.insert(TRACESTATE, HeaderValue::from_str(&state).unwrap());
            let parent = extract(&headers);
            let (cx, expected) = gateway_span(&parent);
            inject(&cx, &mut headers);
            let sent: Vec<_> = headers.get_all(TRACEPARENT).iter().collect();
            prop_assert_eq!(sent.len(), 1);
            prop_assert_eq!(sent[0].to_str().unwrap(), expected.as_str());
            let kept = parent.span().span_context().trace_state().header();
            match headers.get(TRACESTATE) {
                None => prop_assert!(kept.is_empty()),
                Some(v) => prop_assert_eq!(v.to_str().unwrap(), kept.as_str()),
            }
        }
    }

    #[test]
    fn a_well_formed_traceparent_is_the_parent() {
        let mut headers = HeaderMap::new();
        headers.insert(
            TRACEPARENT,
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let cx = extract(&headers);
        let sc = cx.span().span_context().clone();
        assert!(sc.is_valid() && sc.is_remote() && sc.is_sampled());
        assert_eq!(
            sc.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(sc.span_id().to_string(), "00f067aa0ba902b7");
    }
}
