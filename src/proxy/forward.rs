//! The uncached path: the upstream phase (prepare, permit, a write's invalidation
//! armed, send; the invalidation carried out once paycombat answered) and the inspect
//! phase, over what [`Forward`] holds and nothing else of the pipeline.

use std::sync::Arc;

use http::header;
use http::{Request, Response};
use hyper::body::Incoming;

use super::context::RequestContext;
use super::invalidate::Invalidation;
use super::phase::{inspect, upstream};
use super::settings::BodyLimits;
use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::fair::Caller;
use crate::inspect::headers::ByteRange;
use crate::inspect::{Inspector, PassthroughRequest, Processed};
use crate::mask::policy::PolicyFamily;
use crate::route::Route;
use crate::upstream::Upstream;

/// What the forward branch reads: owned, as a keyed write's exchange runs as its own
/// task (`idempotent.rs`).
pub(super) struct Forward {
    /// Reading the request body, before it is prepared.
    pub request_body: BodyLimits,
    pub upstream: Arc<Upstream>,
    /// Which passthrough rule a request falls under, and the inspect phase.
    pub inspector: Arc<Inspector>,
    /// What a write invalidates, and carrying it out.
    pub invalidation: Invalidation,
}

impl Forward {
    pub(super) async fn serve(
        &self,
        route: &Route,
        req: Request<Incoming>,
        ctx: &mut RequestContext,
        caller: &Caller,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let (parts, body) = req.into_parts();
        let body = self.request_body.read(body, &parts.headers).await?;
        self.forward_read(route, parts, body, ctx, caller).await
    }

    /// The forward once the request body is read (an idempotent write reads it first,
    /// to fingerprint it).
    pub(super) async fn forward_read(
        &self,
        route: &Route,
        mut parts: http::request::Parts,
        body: bytes::Bytes,
        ctx: &mut RequestContext,
        caller: &Caller,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let passthrough = self
            .inspector
            .passthrough_for(&parts.method, parts.uri.path());
        let ranges = passthrough.is_some_and(|p| p.ranges());
        // Only a range whose answer the gateway can check goes upstream.
        let range = if ranges {
            ByteRange::of_request(&parts.headers).unwrap_or_else(|()| {
                parts.headers.remove(header::RANGE);
                parts.headers.remove(header::IF_RANGE);
                None
            })
        } else {
            None
        };
        let passthrough = passthrough.map(|rule| PassthroughRequest { rule, range });
        // Kept for the gateway's own evaluation: it is not forwarded where
        // the answer is masked.
        // Only a GET's: on any other method a matching tag is not "unchanged".
        let if_none_match = (parts.method == http::Method::GET)
            .then(|| parts.headers.get(header::IF_NONE_MATCH).cloned())
            .flatten();
        // Chosen by the path alone: a method (or a method override in the body) never picks
        // a weaker field policy.
        let family = PolicyFamily::of_path(parts.uri.path());
        let out = self.upstream.prepare(
            parts,
            body,
            ctx.peer.ip(),
            &ctx.request_id,
            ranges,
            passthrough.is_some(),
        )?;
        let permit = upstream::permit(&self.upstream, route.label_kind(), caller)?;
        let called = std::time::Instant::now();
        // Armed before the write leaves: a writer that goes away while it is in flight
        // still leaves no pre-write read cached.
        let pending = self.invalidation.arm(route, &out, permit.deadline)?;
        let sent = upstream::send(
            &self.upstream,
            &out,
            route.label_kind(),
            &ctx.client,
            (permit.deadline, called),
            ctx.span.trace(),
        )
        .await;
        let resp = match sent {
            Ok((resp, call)) => {
                ctx.upstream = Some(call);
                resp
            }
            Err(e) => {
                // The write may or may not have been applied: forget the customer anyway.
                pending.run().await;
                return Err(e);
            }
        };
        let status = resp.status();
        if status.is_client_error() {
            pending.disarm();
        } else {
            pending.run().await;
        }
        match inspect::inspect(
            &self.inspector,
            ctx.span.trace(),
            family,
            resp,
            permit.slot,
            permit.deadline,
            passthrough,
            out.signature(),
        )
        .await?
        {
            Processed::Streamed(r) => Ok(r),
            Processed::Inspected(i, reservation) => {
                Ok(i.into_response(reservation, if_none_match.as_ref()))
            }
        }
    }
}
