//! Admit: the request context is made (request id, trace, span) before
//! anything can fail, so every answer carries and counts them; then the
//! head is checked (header size, path hygiene) before anything is routed,
//! logged under a route or forwarded.

use std::net::SocketAddr;
use std::sync::Arc;

use http::Request;
use hyper::body::Incoming;

use super::super::context::RequestContext;
use super::super::settings::{AdmitLimits, TrustedPeers};
use crate::error::GatewayError;
use crate::http::headers as rules;
use crate::logging::trace_id::TraceId;
use crate::metrics::{Configured, RequestCounters};
use crate::path::ValidPath;
use crate::route::RouteLabel;
use crate::telemetry::{Span, Telemetry};

/// Whom an unauthenticated request is counted as, allocated once.
#[derive(Clone)]
pub(in crate::proxy) struct Anonymous {
    pub name: Configured,
    pub requests: Arc<RequestCounters>,
}

/// The request's context, before it is routed (`route: Rejected`) or
/// authenticated (the anonymous client).
pub(in crate::proxy) fn begin(
    telemetry: Option<&Telemetry>,
    anonymous: &Anonymous,
    trusted: &TrustedPeers,
    req: &Request<Incoming>,
    peer: SocketAddr,
) -> RequestContext {
    let started = std::time::Instant::now();
    let span = match telemetry {
        Some(t) => t.request(req.headers(), req.method()),
        None => Span::default(),
    };
    let trace_id = span.trace_id().map(TraceId::from_otel).or_else(|| {
        req.headers()
            .get(crate::telemetry::propagation::TRACEPARENT)
            .and_then(TraceId::from_traceparent)
    });
    RequestContext {
        trace_id,
        span,
        request_id: rules::request_id(req.headers()),
        peer,
        method: req.method().clone(),
        started,
        bytes_in: req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0),
        route: RouteLabel::Rejected,
        client: anonymous.name.clone(),
        requests: anonymous.requests.clone(),
        cache: None,
        upstream: None,
        rate: None,
        client_ip: Some(trusted.client_ip(peer.ip(), req.headers()))
            .filter(|ip| *ip != peer.ip().to_canonical()),
        tls: req
            .extensions()
            .get::<crate::http::TlsVersion>()
            .map(|v| v.0),
        flags: Default::default(),
        idempotency: None,
    }
}

/// The head's size and the path's hygiene.
pub(in crate::proxy) fn check(
    limits: AdmitLimits,
    req: &Request<Incoming>,
) -> Result<ValidPath<'_>, GatewayError> {
    let limit = limits.max_header_bytes;
    if rules::size(req.headers()) > limit {
        return Err(GatewayError::HeadersTooLarge { limit });
    }
    let path = ValidPath::check(req.uri().path()).map_err(GatewayError::BadPath)?;
    if req.uri().query().is_some_and(crate::path::overrides_method) {
        return Err(GatewayError::BadPath(
            "a method-override query parameter (`_method`, `x-http-method-override`, …) would make paycombat run another method than the one routed and authorised; send the method itself",
        ));
    }
    Ok(path)
}
