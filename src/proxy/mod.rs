//! The request path, in order (each step's place has a reason):
//!
//! 1. request id, in-flight gauge, timer — first, so every answer carries and counts them;
//! 2. header size and path hygiene — before anything is routed, logged or forwarded;
//! 3. route — method + path, once; everything after reads the `Route`;
//! 4. client auth, allowlist, rate limit — before the cache, so a hit never skips them;
//! 5. cached routes: cache lookup / single-flight fill; other routes: forward;
//! 6. write invalidation — as soon as upstream has answered, before the writer gets its answer;
//! 7. response inspection (masking, header allowlist, secret guard) — before caching and
//!    before the client; see `response.rs` for the exact rule;
//! 8. access log and metrics — last, with the final status.

pub mod budget;
mod cached;
mod forward;
mod headers_out;
mod invalidate;
mod passthrough;
pub mod reflect;
mod response;

use std::net::SocketAddr;
use std::sync::Arc;

use http::header::HeaderValue;
use http::uri::{Authority, Scheme};
use http::{Request, Response};
use hyper::body::Incoming;
use prometheus::{Histogram, IntCounter};
use tokio::sync::Semaphore;

use crate::access::AuthMode;
use crate::body::GatewayBody;
use crate::cache::CustomerCache;
use crate::config::Settings;
use crate::credentials::CredentialStore;
use crate::error::GatewayError;
use crate::mask::Masker;
use crate::metrics::{method_label, status_class, Metrics};
use crate::route::{Route, API_PREFIX, REJECTED, ROUTE_LABELS};
use crate::upstream::breaker::Breakers;
use crate::upstream::client::UpstreamClient;
use crate::upstream::headers::{self as rules, X_REQUEST_ID};
use crate::upstream::retry::RetryBudget;

pub use headers_out::{framing, HeaderAllowlist};
pub use passthrough::{Passthrough, PassthroughConfig, PassthroughRule};
pub use response::Inspected;

/// The masker (None when masking is off) and its HMAC key, kept only so the
/// secret guard can look for the key in responses.
pub type Masking = (Option<Arc<Masker>>, Option<Box<[u8]>>);

pub struct Proxy {
    pub settings: Arc<Settings>,
    pub client: UpstreamClient,
    pub credentials: Arc<CredentialStore>,
    pub metrics: Metrics,
    pub masker: Option<Arc<Masker>>,
    pub cache: Option<CustomerCache>,
    pub auth: AuthMode,
    base_scheme: Scheme,
    base_authority: Authority,
    upstream_slots: Arc<Semaphore>,
    breakers: Breakers,
    retry_budget: RetryBudget,
    /// One counter handle per masking rule, resolved once: the hot path
    /// must not hash label strings per masked field.
    masked_counters: Vec<IntCounter>,
    /// The client label for unauthenticated requests, allocated once.
    anonymous: Arc<str>,
    /// Per-route histogram handles, indexed like `ROUTE_LABELS`.
    route_durations: Vec<Histogram>,
    /// Cache-lookup counters by cached route and result (see `cached.rs`).
    cache_lookups: [[IntCounter; 5]; 2],
    /// Bound on response bytes held in memory, shared by every request.
    budget: budget::BodyBudget,
    /// The mask HMAC key, only so the secret guard can look for it.
    mask_key: Option<Box<[u8]>>,
}

/// What the access log and the request metrics say about one request.
struct Outcome {
    /// Index into `ROUTE_LABELS`.
    route: usize,
    cache: &'static str,
    client: Arc<str>,
}

impl Proxy {
    pub fn new(
        settings: Arc<Settings>,
        client: UpstreamClient,
        credentials: Arc<CredentialStore>,
        metrics: Metrics,
        (masker, mask_key): Masking,
        cache: Option<CustomerCache>,
        auth: AuthMode,
    ) -> Proxy {
        let base = &settings.upstream.base_url;
        let base_scheme = base.scheme().cloned().unwrap_or(Scheme::HTTPS);
        let base_authority = base
            .authority()
            .cloned()
            .unwrap_or_else(|| Authority::from_static("api.paycombat.com"));
        let masked_counters = masker
            .as_ref()
            .map(|m| {
                m.rule_names()
                    .map(|name| metrics.masked_fields.with_label_values(&[name]))
                    .collect()
            })
            .unwrap_or_default();
        let u = &settings.upstream;
        let breakers = Breakers::new(u.breaker_failure_threshold, u.breaker_cool_down);
        let retry_budget = RetryBudget::new(u.retry.budget_ratio, u.retry.budget_min_per_second);
        let route_durations = ROUTE_LABELS
            .iter()
            .map(|r| metrics.request_duration.with_label_values(&[r]))
            .collect();
        let cache_lookups = cached::lookup_counters(&metrics);
        let budget = budget::BodyBudget::new(
            u.max_buffered_bytes,
            u.buffer_wait,
            metrics.buffered_bytes.clone(),
            metrics.buffer_exhausted.clone(),
        );
        Proxy {
            budget,
            mask_key,
            breakers,
            retry_budget,
            upstream_slots: Arc::new(Semaphore::new(settings.upstream.max_concurrent_requests)),
            settings,
            client,
            credentials,
            metrics,
            masker,
            cache,
            auth,
            base_scheme,
            base_authority,
            masked_counters,
            anonymous: Arc::from("anonymous"),
            route_durations,
            cache_lookups,
        }
    }

    fn record_masked(&self, masked: &crate::mask::Masked) {
        for (rule, n) in masked.counts() {
            if let Some(c) = self.masked_counters.get(rule) {
                c.inc_by(u64::from(n));
            }
        }
    }

    /// Serves one request. Never fails: every error becomes an envelope.
    pub async fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> Response<GatewayBody> {
        let started = std::time::Instant::now();
        self.metrics.inflight.inc();
        let request_id = rules::request_id(req.headers());
        let method = req.method().clone();
        let mut outcome = Outcome {
            route: REJECTED,
            cache: "none",
            client: self.anonymous.clone(),
        };
        let bytes_in = req
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let result = self
            .clone()
            .dispatch(req, peer, &request_id, &mut outcome)
            .await;
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => e.to_response(request_id.to_str().unwrap_or("")),
        };
        if method == http::Method::HEAD {
            // Whoever produced the answer (the gateway's own errors included),
            // a HEAD response has no body: on HTTP/2 a DATA frame would be a
            // protocol error and the client would never see the status.
            *resp.body_mut() = GatewayBody::empty();
        }
        resp.headers_mut().insert(X_REQUEST_ID, request_id.clone());

        let status = resp.status();
        let elapsed = started.elapsed();
        self.metrics
            .requests
            .with_label_values(&[
                ROUTE_LABELS[outcome.route],
                method_label(&method),
                status_class(status),
                outcome.cache,
                &outcome.client,
            ])
            .inc();
        self.route_durations[outcome.route].observe(elapsed.as_secs_f64());
        self.metrics.inflight.dec();
        let bytes_out = http_body::Body::size_hint(resp.body()).exact();
        tracing::info!(
            target: "access",
            request_id = request_id.to_str().unwrap_or(""),
            method = %method,
            route = ROUTE_LABELS[outcome.route],
            status = status.as_u16(),
            cache = outcome.cache,
            client = %outcome.client,
            duration_us = elapsed.as_micros() as u64,
            bytes_in,
            bytes_out,
            peer = %peer.ip(),
        );
        resp
    }

    async fn dispatch(
        self: Arc<Self>,
        req: Request<Incoming>,
        peer: SocketAddr,
        request_id: &HeaderValue,
        outcome: &mut Outcome,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let limit = self.settings.server.max_header_bytes;
        if rules::size(req.headers()) > limit {
            return Err(GatewayError::HeadersTooLarge { limit });
        }
        let path = req.uri().path();
        crate::path::validate(path).map_err(GatewayError::BadPath)?;
        if !path.starts_with(API_PREFIX) {
            return Err(GatewayError::NotFound);
        }
        let route = Route::classify(req.method(), path);
        outcome.route = route.index();

        let mut client = None;
        let checked = self.auth.check(
            req.headers(),
            req.method(),
            path,
            &self.metrics,
            &mut client,
        );
        if let Some(name) = client {
            outcome.client = name;
        }
        checked?;

        match &route {
            Route::CustomerDetail { customer_id } | Route::CustomerWalletReady { customer_id }
                if self.cache.is_some() =>
            {
                self.serve_cached(&route, customer_id, req, peer, request_id, outcome)
                    .await
            }
            // Boxed: the forward path's state stays out of every request's future.
            _ => {
                let client = outcome.client.clone();
                Box::pin(self.serve_forward(&route, req, peer, request_id, &client)).await
            }
        }
    }

    /// The uncached path: forward, inspect, invalidate on writes.
    async fn serve_forward(
        &self,
        route: &Route,
        req: Request<Incoming>,
        peer: SocketAddr,
        request_id: &HeaderValue,
        client: &str,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let (parts, body) = req.into_parts();
        let body = forward::read_body(
            body,
            &parts.headers,
            self.settings.server.max_request_body_bytes,
            self.settings.server.request_body_timeout,
        )
        .await?;
        let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
        let passthrough = self
            .settings
            .passthrough
            .for_request(&parts.method, parts.uri.path());
        let mut headers = parts.headers;
        if !passthrough.is_some_and(|p| p.ranges()) {
            // A range of a JSON body is not JSON (and a multi-range answer is
            // multipart): only passthrough routes that opt in may ask for one.
            headers.remove(http::header::RANGE);
            headers.remove(http::header::IF_RANGE);
        }
        let out = self.outgoing(
            parts.method,
            path_and_query,
            headers,
            body,
            peer.ip(),
            request_id,
        )?;
        let deadline = tokio::time::Instant::now() + self.settings.upstream.timeout;
        let permit = self.upstream_permit(route.label())?;
        let sent = self.send(&out, route.label(), client, deadline).await;
        let written = self.written_customers(route, &out);
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) => {
                // The write may or may not have been applied: forget the customer anyway.
                self.invalidate_written(&written).await;
                return Err(e);
            }
        };
        let status = resp.status();
        if !status.is_client_error() {
            self.invalidate_written(&written).await;
        }
        match self
            .process_response(
                resp,
                permit,
                deadline,
                passthrough,
                out.headers.get(rules::SIGNATURE),
            )
            .await?
        {
            response::Processed::Streamed(r) => Ok(r),
            response::Processed::Inspected(i, reservation) => Ok(i.into_response(reservation)),
        }
    }
}

impl Inspected {
    pub fn into_response(self, reservation: budget::Reservation) -> Response<GatewayBody> {
        let mut resp = Response::new(GatewayBody::buffered(self.body, reservation));
        *resp.status_mut() = self.status;
        *resp.headers_mut() = self.headers;
        resp
    }
}
