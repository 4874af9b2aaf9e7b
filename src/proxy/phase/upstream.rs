//! Upstream: the request read within its bounds and prepared for paycombat
//! (`Upstream::prepare`: client credentials stripped, token injected, body signed),
//! a slot of the concurrency cap taken (`permit`, before anything is armed for
//! the call, so a refused slot leaves nothing behind), then the call made within
//! its deadline and recorded for the access log (`send`).

use std::time::Instant;

use http::{Request, Response};
use hyper::body::Incoming;

use super::super::context::RequestContext;
use super::super::settings::BodyLimits;
use crate::error::GatewayError;
use crate::fair::Caller;
use crate::logging::access_log::UpstreamCall;
use crate::metrics::Configured;
use crate::route::RouteLabel;
use crate::telemetry::Trace;
use crate::upstream::{Outgoing, Slot, Upstream};

/// A request on a cached route, read whole within `limits` and prepared. Cached
/// routes are JSON routes: a range of their body is never asked for, and none is
/// relayed.
pub(in crate::proxy) async fn prepare(
    limits: BodyLimits,
    upstream: &Upstream,
    req: Request<Incoming>,
    ctx: &RequestContext,
) -> Result<Outgoing, GatewayError> {
    let (parts, body) = req.into_parts();
    let body = limits.read(body, &parts.headers).await?;
    upstream.prepare(parts, body, ctx.peer.ip(), &ctx.request_id, false, false)
}

/// A slot taken for one call, and the call's deadline (read first: the slot's wait
/// counts against it).
pub(in crate::proxy) struct Permit {
    pub slot: Slot,
    pub deadline: tokio::time::Instant,
}

pub(in crate::proxy) fn permit(
    upstream: &Upstream,
    label: RouteLabel,
    caller: &Caller,
) -> Result<Permit, GatewayError> {
    let deadline = upstream.deadline();
    let slot = upstream.permit(label, caller)?;
    Ok(Permit { slot, deadline })
}

/// The call, and what the access log says of it; `called` is when it began.
pub(in crate::proxy) async fn send(
    upstream: &Upstream,
    out: &Outgoing,
    label: RouteLabel,
    client: &Configured,
    (deadline, called): (tokio::time::Instant, Instant),
    trace: &Trace,
) -> Result<(Response<Incoming>, UpstreamCall), GatewayError> {
    let resp = upstream.send(out, label, client, deadline, trace).await?;
    let call = UpstreamCall {
        status: resp.status().as_u16(),
        elapsed: called.elapsed(),
        addr: crate::upstream::answered_from(&resp),
    };
    Ok((resp, call))
}
