//! One request as the pipeline carries it: who asked and from where, which
//! route it took, and what the access log and request metrics say about it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::header::HeaderValue;
use http::Method;
use opentelemetry::KeyValue;

use crate::cache::LookupResult;
use crate::logging::access_log::UpstreamCall;
use crate::logging::trace_id::TraceId;
use crate::metrics::{Configured, RequestCounters};
use crate::outcome::Cause;
use crate::route::RouteLabel;
use crate::telemetry::Span;

pub(super) struct RequestContext {
    pub request_id: HeaderValue,
    pub peer: SocketAddr,
    pub method: Method,
    pub started: Instant,
    /// The declared request body size, for the access log.
    pub bytes_in: u64,
    /// `Rejected` until the request is routed.
    pub route: RouteLabel,
    /// The authenticated client, or the anonymous label.
    pub client: Configured,
    /// That caller's request counters.
    pub requests: Arc<RequestCounters>,
    /// How the cache took part; None when it did not.
    pub cache: Option<LookupResult>,
    /// For the access log: the trace the gateway's own span belongs to when
    /// tracing is on, else the caller's from a valid `traceparent`.
    pub trace_id: Option<TraceId>,
    /// The request's root span (empty when tracing is off); ends when the
    /// context is dropped, once the request is settled (`settle`).
    pub span: Span,
    /// The upstream call this request made itself (not one it waited on).
    pub upstream: Option<UpstreamCall>,
    /// The client's bucket once it was asked: its `RateLimit` fields.
    pub rate: Option<crate::auth::RateState>,
    /// For the access log: the client behind a trusted proxy (when not the
    /// peer), the connection's TLS version, and what went wrong.
    pub client_ip: Option<std::net::IpAddr>,
    pub tls: Option<&'static str>,
    pub flags: crate::logging::access_log::Flags,
    /// What an `Idempotency-Key` did for this request (`idempotency` in the access
    /// log); None when it carried none on a keyed route.
    pub idempotency: Option<&'static str>,
}

impl RequestContext {
    pub fn cache_label(&self) -> &'static str {
        self.cache.map_or("none", LookupResult::label)
    }

    /// Names the root span after the route template and records the outcome
    /// (`ended`: why it ended without its whole answer); the span ends when the
    /// context is dropped.
    pub fn close_span(&self, status: http::StatusCode, ended: Option<Cause>) {
        let span = &self.span;
        let route = self.route.name();
        if !span.is_on() {
            return;
        }
        // The method from a closed set: a made-up one must not mint span names.
        let method = crate::metrics::method_label(&self.method);
        span.rename(|| format!("{method} {route}"));
        span.set(|| {
            vec![
                KeyValue::new("http.route", route),
                KeyValue::new("http.response.status_code", i64::from(status.as_u16())),
                KeyValue::new("gateway.cache", self.cache_label()),
                KeyValue::new("gateway.client", self.client.to_string()),
            ]
        });
        if let Some(cause) = ended {
            span.set(|| vec![KeyValue::new("gateway.ended", cause.label())]);
        }
        match ended {
            Some(cause) if !cause.by_client() => span.fail(cause.label()),
            _ if status.is_server_error() => span.fail("server error"),
            _ => {}
        }
    }
}
