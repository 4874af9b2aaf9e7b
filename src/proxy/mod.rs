//! The request path, in order (each step's place has a reason):
//!
//! 1. request id, in-flight gauge, timer — first, so every answer carries and counts them;
//! 2. header size and path hygiene — before anything is routed, logged or forwarded;
//! 3. route — method + path, once; everything after reads the `Route`;
//! 4. client auth, allowlist, rate limit — before the cache, so a hit never skips them (in
//!    cluster mode the bucket is shared through Redis: one round trip);
//! 5. routes the cache answers (`Route::cached`): the cache's `Decision` (hit, stale while
//!    revalidating, or a single-flight fill) in `cached.rs`; other routes: forward
//!    (`forward.rs`), both through `Upstream` (prepare, permit, send);
//! 6. write invalidation — as soon as upstream has answered, before the writer gets its answer
//!    (in cluster mode also published to the other replicas, still before that answer);
//! 7. response inspection by the `Inspector` (masking, header allowlist, secret guard) —
//!    before caching and before the client; see `inspect::response` for the exact rule;
//! 8. access log and metrics — last, from the `RequestContext` the steps above
//!    filled in, by the request's `Settle` guard when it is dropped: after the
//!    body was sent, or whenever the request is abandoned or cut off (see
//!    `settle.rs` for how a request can end and how each end is recorded).
//!
//! With `[telemetry]` on, step 1 also opens the request's span (a child of the
//! client's `traceparent` when honoured); the cache, upstream and inspection
//! steps open theirs under it, and it ends after step 8.

mod cached;
mod context;
mod forward;
mod invalidate;
mod settle;
mod traced;

use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;
use opentelemetry::KeyValue;
use prometheus::Histogram;

use crate::access::{AuthMode, Presented};
use crate::body::GatewayBody;
use crate::cache::CustomerCache;
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::credentials::CredentialStore;
use crate::error::GatewayError;
use crate::fair::Caller;
use crate::http::headers::{self as rules, X_REQUEST_ID};
use crate::inspect::Inspector;
use crate::logging::access_log::{AccessLog, Flag};
use crate::logging::trace_id::TraceId;
use crate::metrics::{Metrics, RequestCounters};
use crate::outcome::ConnEnd;
use crate::route::{Route, RouteLabel, API_PREFIX};
use crate::telemetry::{Span, Telemetry};
use crate::upstream::client::UpstreamClient;
use crate::upstream::Upstream;
use cached::LookupCounters;
use context::RequestContext;
use settle::Settle;

// Where the config has always found them.
pub use crate::inspect::{
    HeaderAllowlist, Masking, Passthrough, PassthroughConfig, PassthroughRule,
};

/// The request pipeline: runs the steps above in order, handing upstream work
/// to [`Upstream`], inspection to [`Inspector`] and cache policy to the cache.
pub struct Proxy {
    settings: Arc<Settings>,
    upstream: Upstream,
    inspector: Inspector,
    metrics: Metrics,
    cache: Option<CustomerCache>,
    auth: AuthMode,
    /// Cluster mode: shared rate limits, published invalidations, cache hits only under a lease.
    cluster: Option<Arc<Cluster>>,
    /// The client label for unauthenticated requests, allocated once.
    anonymous: Arc<str>,
    /// Their `gateway_requests_total` handles.
    anonymous_requests: Arc<RequestCounters>,
    /// Per-route histogram handles, indexed by `RouteLabel::index`.
    route_durations: Vec<Histogram>,
    /// Cache-lookup counters by cached route and result.
    cache_lookups: LookupCounters,
    /// None when tracing is off: then no request makes a span.
    telemetry: Option<Arc<Telemetry>>,
    access_log: AccessLog,
    /// Woken when the in-flight gauge reaches 0, once `settling` (`Proxy::settled`).
    settled: tokio::sync::Notify,
    settling: std::sync::atomic::AtomicBool,
}

impl Proxy {
    pub fn new(
        settings: Arc<Settings>,
        client: UpstreamClient,
        credentials: Arc<CredentialStore>,
        metrics: Metrics,
        masking: Masking,
        cache: Option<CustomerCache>,
        auth: AuthMode,
    ) -> Proxy {
        let route_durations = RouteLabel::ALL
            .iter()
            .map(|r| metrics.request_duration.with_label_values(&[r.name()]))
            .collect();
        Proxy {
            upstream: Upstream::new(
                settings.clone(),
                client,
                credentials.clone(),
                metrics.clone(),
            ),
            inspector: Inspector::new(settings.clone(), credentials, metrics.clone(), masking),
            cache_lookups: LookupCounters::new(&metrics),
            settings,
            metrics,
            cache,
            auth,
            cluster: None,
            anonymous: Arc::from("anonymous"),
            anonymous_requests: Arc::default(),
            route_durations,
            telemetry: None,
            access_log: AccessLog::off(),
            settled: tokio::sync::Notify::new(),
            settling: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Traces every request with `telemetry` (None: tracing off, the default).
    pub fn traced(mut self, telemetry: Option<Arc<Telemetry>>) -> Proxy {
        self.telemetry = telemetry;
        self
    }

    /// Cluster mode: shared rate limits, published invalidations, cache hits only under a lease.
    pub fn with_cluster(mut self, cluster: Option<Arc<Cluster>>) -> Proxy {
        self.cluster = cluster;
        self
    }

    /// Where access-log lines go (none until this is called).
    pub fn with_access_log(mut self, access_log: AccessLog) -> Proxy {
        self.access_log = access_log;
        self
    }

    /// Serves one request. Never fails: every error becomes an envelope.
    /// `conn` says why the connection ended if the request is dropped unfinished.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        conn: ConnEnd,
    ) -> Response<GatewayBody> {
        let started = std::time::Instant::now();
        let span = match &self.telemetry {
            Some(t) => t.request(req.headers(), req.method()),
            None => Span::default(),
        };
        let trace_id = span.trace_id().map(TraceId::from_otel).or_else(|| {
            req.headers()
                .get(crate::telemetry::propagation::TRACEPARENT)
                .and_then(TraceId::from_traceparent)
        });
        let ctx = RequestContext {
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
            client: self.anonymous.clone(),
            requests: self.anonymous_requests.clone(),
            cache: None,
            upstream: None,
            rate: None,
            client_ip: Some(
                self.settings
                    .server
                    .trusted_proxies
                    .client_ip(peer.ip(), req.headers()),
            )
            .filter(|ip| *ip != peer.ip().to_canonical()),
            tls: req
                .extensions()
                .get::<crate::server::TlsVersion>()
                .map(|v| v.0),
            flags: Default::default(),
        };
        // From here the request is recorded exactly once, when `settle` is
        // dropped: with the response body, or with this future if hyper drops it.
        let h2 = req.version() == http::Version::HTTP_2;
        let mut settle = Settle::begin(self.clone(), ctx, conn, h2);
        let result = self.clone().dispatch(req, &mut settle.ctx).await;
        if let Err(e) = &result {
            settle.ctx.flags.set(Flag::of_error(e));
        }
        let ctx = &settle.ctx;
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
            // one is also what lets `settle` count it as sent whole.
            *resp.body_mut() = GatewayBody::empty();
        }
        resp.headers_mut()
            .insert(X_REQUEST_ID, ctx.request_id.clone());
        // The client's own rate-limit policy, on every answer once its bucket
        // was asked (the 429 and cached hits included); upstream's never pass.
        if let Some(rate) = &ctx.rate {
            rate.write(resp.headers_mut());
        }
        settle.answered(resp.status());
        resp.map(|body| body.watched(settle))
    }

    /// Writes what the access log still holds (bounded by `timeout`).
    pub fn close_access_log(&self, timeout: std::time::Duration) {
        self.access_log.close(timeout);
    }

    async fn dispatch(
        self: Arc<Self>,
        req: Request<Incoming>,
        ctx: &mut RequestContext,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let limit = self.settings.server.max_header_bytes;
        if rules::size(req.headers()) > limit {
            return Err(GatewayError::HeadersTooLarge { limit });
        }
        let checked =
            crate::path::ValidPath::check(req.uri().path()).map_err(GatewayError::BadPath)?;
        let path = checked.as_str();
        if !path.starts_with(API_PREFIX) {
            return Err(GatewayError::NotFound);
        }
        let route = Route::classify(req.method(), path);
        ctx.route = route.label_kind();

        let mut client = None;
        let presented = Presented {
            headers: req.headers(),
            certificate: req
                .extensions()
                .get::<Arc<crate::auth::ClientCertificate>>()
                .map(|c| &**c),
            method: req.method(),
            path: checked,
        };
        let checked = match &self.cluster {
            None => self
                .auth
                .check(&presented, &self.metrics, &mut client, &mut ctx.rate),
            Some(cluster) => {
                let shared = self.auth.check_shared(
                    cluster,
                    &presented,
                    &self.metrics,
                    &mut client,
                    &mut ctx.rate,
                );
                Box::pin(shared).await
            }
        };
        if let Some(client) = &client {
            ctx.client = client.name.clone();
            ctx.requests = client.requests.clone();
        }
        checked?;
        // Whose share of upstream slots and buffers this request draws on.
        let caller = Caller::new(
            client.as_ref().map(|c| &c.name),
            ctx.peer.ip(),
            &self.anonymous,
        );

        if let (Some((cached, customer_id)), Some(cache)) = (route.cached(), &self.cache) {
            let cache = cache.clone();
            return self
                .serve_cached(cache, cached, customer_id, req, ctx, &caller)
                .await;
        }
        // Boxed: the forward path's state stays out of every request's future.
        Box::pin(self.serve_forward(&route, req, ctx, &caller)).await
    }
}
