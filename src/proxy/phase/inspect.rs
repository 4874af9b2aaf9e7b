//! Inspect: the `Inspector` (masking, header allowlist, secret guard) on
//! paycombat's answer, before the cache and before the client, as a `mask`
//! span of the request's trace: whether the body was read and masked or
//! streamed through, or why it was refused.

use http::header::HeaderValue;
use http::Response;
use hyper::body::Incoming;
use opentelemetry::trace::SpanKind;
use opentelemetry::KeyValue;
use tokio::time::Instant;

use crate::error::GatewayError;
use crate::inspect::{Inspector, PassthroughRequest, Processed};
use crate::mask::policy::PolicyFamily;
use crate::telemetry::Trace;

// The inspector's own arguments plus the inspector and the span's parent: bundling them
// would only move the same list into a struct built at two call sites.
#[allow(clippy::too_many_arguments)]
pub(in crate::proxy) async fn inspect(
    inspector: &Inspector,
    parent: &Trace,
    family: PolicyFamily,
    resp: Response<Incoming>,
    slot: crate::upstream::Slot,
    deadline: Instant,
    passthrough: Option<PassthroughRequest<'_>>,
    signature: Option<&HeaderValue>,
) -> Result<Processed, GatewayError> {
    let span = parent.child("mask", SpanKind::Internal, Vec::new);
    let result = inspector
        .inspect(family, resp, slot, deadline, passthrough, signature)
        .await;
    let outcome = match &result {
        Ok(Processed::Inspected(..)) => "inspected",
        Ok(Processed::Streamed(_)) => "streamed",
        Err(e) => {
            span.fail(e.code());
            e.code()
        }
    };
    span.set(|| vec![KeyValue::new("gateway.mask.outcome", outcome)]);
    result
}
