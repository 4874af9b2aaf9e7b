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
use super::forward::Forward;
use crate::body::GatewayBody;
use crate::error::GatewayError;
use crate::fair::Caller;
use crate::idempotency::key::Fingerprint;
use crate::idempotency::outcome::Sent;
use crate::idempotency::record::StoredAnswer;
use crate::idempotency::{Begin, Idempotency};
use crate::route::Route;

pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// Forwards `req` (a route the cache does not answer), deduplicated by its
/// `Idempotency-Key` when its route is keyed (`idempotency`: None when it is off).
pub(super) async fn serve_write(
    idempotency: Option<&Arc<Idempotency>>,
    forward: &Arc<Forward>,
    route: Route,
    req: Request<Incoming>,
    ctx: &mut RequestContext,
    caller: Caller,
) -> Result<Response<GatewayBody>, GatewayError> {
    let keyed = idempotency.and_then(|i| Some((i, i.route(req.method(), req.uri().path())?)));
    let Some((idem, keyed)) = keyed else {
        return forward.serve(&route, req, ctx, &caller).await;
    };
    let key = idem.key(req.headers(), keyed).inspect_err(|e| {
        ctx.idempotency = Some(match e {
            GatewayError::IdempotencyKeyRequired => "missing_key",
            _ => "bad_key",
        });
    })?;
    let Some(key) = key else {
        return forward.serve(&route, req, ctx, &caller).await;
    };
    let (parts, body) = req.into_parts();
    let body = forward.request_body.read(body, &parts.headers).await?;
    let fingerprint = Fingerprint::of(&parts.method, &parts.uri, &body);
    let keyed = keyed.clone();
    let idem = idem.clone();
    let forward = forward.clone();
    let mut sending = fork(ctx);
    // Spawned from the claim on, not from the send: a claim asked of Redis may be
    // applied even if this future is dropped (the client hung up) while it is on
    // its way, and a claim nobody sends, settles or withdraws would hold the key
    // "in flight", then "outcome unknown", for a request never sent. In the task,
    // every claim ends in a send and its record, or is withdrawn; and the exchange
    // and its record outlive a client that hangs up.
    let exchange = tokio::spawn(async move {
        let ticket = match idem.begin(&keyed, &caller, &key, fingerprint).await {
            Ok(Begin::First(ticket)) => ticket,
            Ok(Begin::Replay(answer)) => return Keyed::Replayed(answer),
            Err(e) => return Keyed::Refused(e),
        };
        sending.idempotency = Some("first");
        let result = forward
            .forward_read(&route, parts, body, &mut sending, &caller)
            .await;
        let (result, sent, answer) = whole(result).await;
        idem.finish(ticket, sent, answer).await;
        Keyed::Sent(Box::new(SentWrite {
            result,
            upstream: sending.upstream,
        }))
    });
    match exchange.await {
        Ok(Keyed::Replayed(answer)) => {
            ctx.idempotency = Some("replayed");
            Ok(replay(answer))
        }
        Ok(Keyed::Refused(e)) => {
            ctx.idempotency = Some(match e {
                GatewayError::IdempotencyKeyReused => "mismatch",
                GatewayError::IdempotencyInFlight => "in_flight",
                GatewayError::IdempotencyOutcomeUnknown => "outcome_unknown",
                _ => "refused",
            });
            Err(e)
        }
        Ok(Keyed::Sent(sent)) => {
            ctx.idempotency = Some("first");
            ctx.upstream = sent.upstream;
            sent.result
        }
        // A panic: a claim it made stays until its lease ends, then reads "outcome
        // unknown".
        Err(_) => Err(GatewayError::Internal),
    }
}

/// A keyed write that was sent: its answer, and the upstream call it made.
struct SentWrite {
    result: Result<Response<GatewayBody>, GatewayError>,
    upstream: Option<crate::logging::access_log::UpstreamCall>,
}

/// What the keyed part of a write came to.
enum Keyed {
    Replayed(StoredAnswer),
    Refused(GatewayError),
    /// It held the key's claim and was sent: the answer, and the upstream it went to.
    /// Boxed: the answer's head is large, and the other variants small.
    Sent(Box<SentWrite>),
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
