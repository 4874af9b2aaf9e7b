//! The one place the request path meets `crate::idempotency`: around the forward of a
//! write. A write on a keyed route with an `Idempotency-Key` is claimed before it is
//! sent, and its exchange runs in a task of its own, so its outcome is recorded even
//! when the client hangs up mid-request; every other request is forwarded as before.

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::context::RequestContext;
use super::Proxy;
use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::fair::Caller;
use crate::idempotency::key::Fingerprint;
use crate::idempotency::outcome::Sent;
use crate::idempotency::record::StoredAnswer;
use crate::idempotency::Begin;
use crate::route::Route;

pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

impl Proxy {
    /// Forwards `req` (a route the cache does not answer), deduplicated by its
    /// `Idempotency-Key` when its route is keyed.
    pub(super) async fn serve_write(
        self: Arc<Self>,
        route: Route,
        req: Request<Incoming>,
        ctx: &mut RequestContext,
        caller: Caller,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let idem = self.idempotency.clone();
        let keyed = idem
            .as_ref()
            .and_then(|i| Some((i, i.route(req.method(), req.uri().path())?)));
        let Some((idem, keyed)) = keyed else {
            return self.serve_forward(&route, req, ctx, &caller).await;
        };
        let key = idem.key(req.headers(), keyed).inspect_err(|e| {
            ctx.idempotency = Some(match e {
                GatewayError::IdempotencyKeyRequired => "missing_key",
                _ => "bad_key",
            });
        })?;
        let Some(key) = key else {
            return self.serve_forward(&route, req, ctx, &caller).await;
        };
        let (parts, body) = req.into_parts();
        let body = self
            .settings
            .request_body
            .read(body, &parts.headers)
            .await?;
        let fingerprint = Fingerprint::of(&parts.method, &parts.uri, &body);
        let ticket = match idem.begin(keyed, &caller, &key, fingerprint).await {
            Ok(Begin::First(ticket)) => ticket,
            Ok(Begin::Replay(answer)) => {
                ctx.idempotency = Some("replayed");
                return Ok(replay(answer));
            }
            Err(e) => {
                ctx.idempotency = Some(match e {
                    GatewayError::IdempotencyKeyReused => "mismatch",
                    GatewayError::IdempotencyInFlight => "in_flight",
                    GatewayError::IdempotencyOutcomeUnknown => "outcome_unknown",
                    _ => "refused",
                });
                return Err(e);
            }
        };
        ctx.idempotency = Some("first");
        let mut sending = fork(ctx);
        let idem = idem.clone();
        let proxy = self.clone();
        // Spawned: the exchange and its record must outlive a client that hangs up.
        let exchange = tokio::spawn(async move {
            let result = proxy
                .forward_read(&route, parts, body, &mut sending, &caller)
                .await;
            let (result, sent, answer) = whole(result).await;
            idem.finish(ticket, sent, answer).await;
            (result, sending.upstream)
        });
        match exchange.await {
            Ok((result, upstream)) => {
                ctx.upstream = upstream;
                result
            }
            // A panic: the claim stays until its lease ends, then reads "outcome unknown".
            Err(_) => Err(GatewayError::Internal),
        }
    }
}

/// The answer of a keyed write read whole (it is kept for replay), and what it says
/// about the send.
async fn whole(
    result: Result<Response<GatewayBody>, GatewayError>,
) -> (
    Result<Response<GatewayBody>, GatewayError>,
    Sent,
    Option<StoredAnswer>,
) {
    let resp = match result {
        Ok(resp) => resp,
        Err(e) => {
            let sent = Sent::of_error(&e);
            return (Err(e), sent, None);
        }
    };
    let (parts, body) = resp.into_parts();
    let bytes: Bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        // paycombat's answer broke off: it may have acted on the request.
        Err(_) => {
            return (
                Err(GatewayError::UpstreamProtocol),
                Sent::Unknown("connection_broken"),
                None,
            )
        }
    };
    let sent = Sent::of_status(parts.status);
    let answer = (sent == Sent::Answered)
        .then(|| StoredAnswer::capture(parts.status, &parts.headers, bytes.clone()));
    (
        Ok(Response::from_parts(parts, GatewayBody::full(bytes))),
        sent,
        answer,
    )
}

/// The stored answer again, marked as a replay.
fn replay(answer: StoredAnswer) -> Response<GatewayBody> {
    let (status, headers) = answer.head();
    let mut resp = Response::new(GatewayBody::full(answer.body));
    *resp.status_mut() = status;
    *resp.headers_mut() = headers;
    resp.headers_mut()
        .insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    resp
}

/// The request's context for its spawned exchange: the same request, with a span of
/// its own under the request's.
fn fork(ctx: &RequestContext) -> RequestContext {
    RequestContext {
        request_id: ctx.request_id.clone(),
        peer: ctx.peer,
        method: ctx.method.clone(),
        started: ctx.started,
        bytes_in: ctx.bytes_in,
        route: ctx.route,
        client: ctx.client.clone(),
        requests: ctx.requests.clone(),
        cache: None,
        trace_id: ctx.trace_id,
        span: ctx.span.trace().child(
            "idempotent write",
            opentelemetry::trace::SpanKind::Internal,
            Vec::new,
        ),
        upstream: None,
        // The answer's rate-limit fields are written from the request's own context.
        rate: None,
        client_ip: ctx.client_ip,
        tls: ctx.tls,
        flags: ctx.flags,
        idempotency: ctx.idempotency,
    }
}
