//! Cached customer reads: the cache-decision phase ([`CachedRead`]) carrying out
//! the cache's `Decision` (hit, stale-while-revalidate, single-flight fill with or
//! without a stale-if-error fallback, bypass), with `Cache-Status` and `Age`; a
//! read sent upstream runs the upstream, inspect and store phases ([`Fetch`]). Every freshness rule is the
//! cache's: this file describes what happened (the replica's lease, how a fill
//! ended) and asks it (`CustomerCache::decide`, `FillOutcome::shareable`,
//! `Fallback::stand_in`, `CustomerCache::offer`).
//!
//! A fill runs as its own task (inside `CustomerCache::fill`), so it finishes
//! and stores even if the client that started it disconnects, and every
//! concurrent reader of the same key waits on that one upstream call.

use std::sync::Arc;
use std::time::Duration;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use prometheus::IntCounter;

use super::context::RequestContext;
use super::phase::{inspect, store, upstream};
use super::settings::BodyLimits;
use crate::body::GatewayBody;
use crate::cache::status::age_value;
use crate::cache::{
    CacheKey, CacheMetrics, CacheStatus, CachedRoute, CustomerCache, Decision, FillError,
    FillFailure, FillOutcome, Generation, LookupResult, Replica, StoreOutcome,
};
use crate::cluster::Cluster;
use crate::error::GatewayError;
use crate::fair::Caller;
use crate::inspect::{Inspected, Inspector, Processed};
use crate::logging::access_log::UpstreamCall;
use crate::mask::policy::PolicyFamily;
use crate::metrics::Family;
use crate::route::RouteLabel;
use crate::telemetry::Trace;
use crate::upstream::{Outgoing, Upstream};
use opentelemetry::trace::SpanKind;
use opentelemetry::KeyValue;

const CACHE_STATUS: HeaderName = HeaderName::from_static("cache-status");

/// `gateway_cache_lookups_total` handles by cached route and result, resolved
/// once at start.
#[derive(Clone)]
pub(super) struct LookupCounters([[IntCounter; LookupResult::ALL.len()]; CachedRoute::ALL.len()]);

impl LookupCounters {
    pub(super) fn new(metrics: &CacheMetrics) -> Self {
        Self(
            CachedRoute::ALL.map(|route| {
                LookupResult::ALL.map(|result| metrics.lookups.with([&route, &result]))
            }),
        )
    }

    /// Counts one lookup; gives the result back for the access log.
    fn count(&self, route: CachedRoute, result: LookupResult) -> Option<LookupResult> {
        self.0[route.index()][result.index()].inc();
        Some(result)
    }
}

/// The route a read on a cached route is for: its metric label, and its field-policy
/// family (`PolicyFamily::of` the classified route).
#[derive(Clone, Copy)]
pub(super) struct Routed {
    pub label: RouteLabel,
    pub family: PolicyFamily,
}

/// What one fill produced, shared by every request that waited on it.
pub struct Filled {
    pub response: Inspected,
    pub store: StoreOutcome,
    /// The call that produced it, for the access log of the request that made it.
    pub upstream: UpstreamCall,
}

type FillOutput = Result<Arc<Filled>, Arc<GatewayError>>;

/// `fut` on the heap, for a branch the hit path does not take. Call it in a
/// statement of its own and await the box in the next: a future built inside
/// the awaited expression (`Box::pin(f()).await`) is a temporary whose storage
/// stays in the caller's state until the statement ends, so the caller would
/// hold the whole branch anyway, and hyper copies that state for every request
/// (kilobytes of `memcpy` per hit when this was not so).
fn boxed<F: std::future::Future>(fut: F) -> std::pin::Pin<Box<F>> {
    Box::pin(fut)
}

/// Builds the client's response from stored (or just fetched) parts.
fn replay(
    status: StatusCode,
    headers: &HeaderMap,
    body: &bytes::Bytes,
    age: Duration,
    cache_status: &CacheStatus,
    if_none_match: Option<&HeaderValue>,
) -> Response<GatewayBody> {
    // The stored headers were built at fill time, ETag included: answering a
    // conditional request is one comparison, and only when one was sent.
    let unchanged = status == StatusCode::OK
        && if_none_match.is_some_and(|inm| crate::inspect::headers::not_modified(inm, headers));
    let mut resp = if unchanged {
        let mut r = Response::new(GatewayBody::empty());
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let mut r = Response::new(GatewayBody::full(body.clone()));
        *r.status_mut() = status;
        r
    };
    // One allocation, sized for the stored headers plus Age, Cache-Status and
    // X-Request-Id, so nothing regrows on the hit path.
    let h = resp.headers_mut();
    h.reserve(headers.len() + 3);
    for (name, value) in headers {
        h.append(name.clone(), value.clone());
    }
    h.insert(header::AGE, age_value(age));
    h.insert(CACHE_STATUS, cache_status.header_value());
    resp
}

/// A gateway error on a cached route still says how the cache took part.
fn error_response(
    e: &GatewayError,
    request_id: &HeaderValue,
    status: &CacheStatus,
) -> Response<GatewayBody> {
    let mut resp = e.to_response(request_id.to_str().unwrap_or(""));
    resp.headers_mut()
        .insert(header::AGE, age_value(Duration::ZERO));
    resp.headers_mut()
        .insert(CACHE_STATUS, status.header_value());
    resp
}

/// What a fill came to, described for the cache's policy (which judges it).
fn outcome(result: &FillOutput) -> FillOutcome {
    match result {
        Ok(f) => FillOutcome::Answered {
            status: f.response.status,
            store: f.store,
        },
        Err(e) => FillOutcome::Failed(FillFailure {
            status: e.status(),
            upstream_to_blame: e.is_upstream_failure(),
            // The filling client's own circuit or its own share refused it.
            callers_own: matches!(
                **e,
                GatewayError::CircuitOpen { .. } | GatewayError::ClientCapacity { .. }
            ),
        }),
    }
}

/// The cache-decision phase and the cached branch it heads: what they read, and
/// nothing else of the pipeline. One per configuration generation, composed by the
/// `Proxy` (None when caching is off) and borrowed by each request: a hit takes no
/// reference count, and its future holds one pointer for all of it.
pub(super) struct CachedRead {
    pub lookups: LookupCounters,
    /// Cluster mode: where this replica stands (`Cluster::replica_for_read`).
    pub cluster: Option<Arc<Cluster>>,
    /// Reading the request body of a read sent upstream.
    pub request_body: BodyLimits,
    /// The phases after the decision (and the cache and upstream they use), handed to
    /// a fill's own task.
    pub fetch: Arc<Fetch>,
}

impl CachedRead {
    pub(super) async fn serve(
        &self,
        route: CachedRoute,
        family: PolicyFamily,
        customer_id: &str,
        req: Request<Incoming>,
        ctx: &mut RequestContext,
        caller: &Caller,
    ) -> Result<Response<GatewayBody>, GatewayError> {
        let routed = Routed {
            label: ctx.route,
            family,
        };
        let if_none_match = req.headers().get(header::IF_NONE_MATCH).cloned();
        let lookup = ctx
            .span
            .trace()
            .child("cache lookup", SpanKind::Internal, Vec::new);
        let replica = self
            .cluster
            .as_deref()
            .map_or(Replica::Standalone, Cluster::replica_for_read);
        let cache = &self.fetch.cache;
        let decision = cache
            .decide(
                route,
                customer_id,
                req.uri().query(),
                req.headers(),
                replica,
            )
            .await;
        lookup.set(|| vec![KeyValue::new("gateway.cache.decision", decision.label())]);
        drop(lookup);
        let (key, forward, fallback) = match decision {
            Decision::Hit {
                entry,
                age,
                remaining,
            } => {
                ctx.cache = self.lookups.count(route, LookupResult::Hit);
                let status = CacheStatus::Hit { remaining };
                return Ok(replay(
                    entry.status,
                    &entry.headers,
                    &entry.body,
                    age,
                    &status,
                    if_none_match.as_ref(),
                ));
            }
            Decision::Bypass(status) => {
                ctx.cache = self.lookups.count(route, LookupResult::Bypass);
                // Boxed here and below, each box made in a statement of its own
                // (`boxed`): the hit path's future then holds only pointers for
                // the upstream branches, not their whole state.
                let out = boxed(upstream::prepare(
                    self.request_body,
                    &self.fetch.upstream,
                    req,
                    ctx,
                ));
                let out = out.await?;
                let fetched = boxed(self.fetch.clone().fetch(
                    Arc::new(out),
                    routed,
                    caller.clone(),
                    None,
                    ctx.span.trace().clone(),
                ));
                return Ok(match fetched.await {
                    Ok(f) => {
                        ctx.upstream = Some(f.upstream);
                        let r = &f.response;
                        replay(
                            r.status,
                            &r.headers,
                            &r.body,
                            Duration::ZERO,
                            &status,
                            if_none_match.as_ref(),
                        )
                    }
                    Err(e) => error_response(&e, &ctx.request_id, &status),
                });
            }
            Decision::Revalidate {
                key,
                entry,
                age,
                staleness,
            } => {
                // Answer now from the expired entry; refresh it once in the background.
                ctx.cache = self.lookups.count(route, LookupResult::Stale);
                let out = boxed(upstream::prepare(
                    self.request_body,
                    &self.fetch.upstream,
                    req,
                    ctx,
                ));
                if let Ok(out) = out.await {
                    let me = self.fetch.clone();
                    let fill_key = key.clone();
                    let client = caller.clone();
                    let parent = ctx.span.trace().clone();
                    cache.refresh_in_background(key, move |gen| {
                        me.fill_traced(
                            "cache refresh",
                            parent,
                            Arc::new(out),
                            routed,
                            client,
                            (fill_key, gen),
                        )
                    });
                }
                let status = CacheStatus::StaleWhileRevalidate { staleness };
                return Ok(replay(
                    entry.status,
                    &entry.headers,
                    &entry.body,
                    age,
                    &status,
                    if_none_match.as_ref(),
                ));
            }
            Decision::Fill {
                key,
                reason,
                fallback,
            } => (key, reason, fallback),
        };

        let out = boxed(upstream::prepare(
            self.request_body,
            &self.fetch.upstream,
            req,
            ctx,
        ));
        let out = Arc::new(out.await?);
        let client = caller.clone();
        let me = self.fetch.clone();
        let fill_key = key.clone();
        let (fill_out, fill_client) = (out.clone(), client.clone());
        let parent = ctx.span.trace().clone();
        let filled = boxed(cache.fill(key, move |gen| {
            me.fill_traced(
                "cache fill",
                parent,
                fill_out,
                routed,
                fill_client,
                (fill_key, gen),
            )
        }));
        let (result, role) = filled.await;
        let mut collapsed = role.is_collapsed();
        let mut result: FillOutput = result.map_err(|e| match e {
            FillError::Failed(e) => e,
            FillError::Aborted => Arc::new(GatewayError::Internal),
        });
        if collapsed && !outcome(&result).shareable() {
            // The fill was made with another client's request and the cache says its
            // outcome is that client's alone. Ask for this one.
            let parent = ctx.span.trace().clone();
            let own = boxed(self.fetch.clone().fetch(out, routed, client, None, parent));
            result = own.await;
            collapsed = false;
        }
        if let (false, Ok(f)) = (collapsed, &result) {
            ctx.upstream = Some(f.upstream);
        }

        if let Some(stand_in) = fallback
            .as_ref()
            .and_then(|f| f.stand_in(&outcome(&result), collapsed))
        {
            ctx.cache = self.lookups.count(route, LookupResult::Stale);
            return Ok(replay(
                stand_in.entry.status,
                &stand_in.entry.headers,
                &stand_in.entry.body,
                stand_in.age,
                &stand_in.status,
                if_none_match.as_ref(),
            ));
        }

        ctx.cache = self.lookups.count(route, LookupResult::filled(collapsed));
        match result {
            Ok(f) => {
                let status = CacheStatus::Forwarded {
                    reason: forward,
                    store: f.store,
                    collapsed,
                };
                let r = &f.response;
                Ok(replay(
                    r.status,
                    &r.headers,
                    &r.body,
                    Duration::ZERO,
                    &status,
                    if_none_match.as_ref(),
                ))
            }
            Err(e) => {
                let status = CacheStatus::Forwarded {
                    reason: forward,
                    store: StoreOutcome::Uncacheable,
                    collapsed,
                };
                Ok(error_response(&e, &ctx.request_id, &status))
            }
        }
    }
}

/// What a read sent upstream on a cached route runs through after the decision —
/// upstream, inspect, store — owned, as a fill runs as its own task (every request
/// collapsed onto it waits on that one call).
pub(super) struct Fetch {
    pub upstream: Arc<Upstream>,
    pub inspector: Arc<Inspector>,
    pub cache: CustomerCache,
    /// `gateway_cache_uncacheable_total`, the cache's family.
    pub uncacheable: Family<prometheus::IntCounterVec, 2>,
}

impl Fetch {
    /// A fetch that may store, as its own span (`cache fill` or `cache
    /// refresh`) under the request that started it; requests collapsed onto
    /// it have none of their own.
    async fn fill_traced(
        self: Arc<Self>,
        name: &'static str,
        parent: Trace,
        out: Arc<Outgoing>,
        routed: Routed,
        client: Caller,
        store: (CacheKey, Generation),
    ) -> FillOutput {
        let span = parent.child(name, SpanKind::Internal, Vec::new);
        let result = self
            .fetch(out, routed, client, Some(store), span.trace().clone())
            .await;
        match &result {
            Ok(f) => span.set(|| vec![KeyValue::new("gateway.cache.store", f.store.label())]),
            Err(e) => span.fail(e.code()),
        }
        result
    }

    /// One upstream read, read whole and masked; stored when cacheable and no
    /// write invalidated the customer since `gen` was taken.
    async fn fetch(
        self: Arc<Self>,
        out: Arc<Outgoing>,
        routed: Routed,
        client: Caller,
        store: Option<(CacheKey, Generation)>,
        trace: Trace,
    ) -> FillOutput {
        let permit = upstream::permit(&self.upstream, routed.label, &client)?;
        let called = std::time::Instant::now();
        let (resp, call) = upstream::send(
            &self.upstream,
            &out,
            routed.label,
            &client.label,
            (permit.deadline, called),
            &trace,
        )
        .await?;
        // Cached routes are never passthrough: every body is inspected. The
        // buffer reservation ends with the fill; the stored bytes are then
        // bounded by `cache.max_bytes`.
        let Processed::Inspected(mut response, _reservation) = inspect::inspect(
            &self.inspector,
            &trace,
            routed.family,
            resp,
            permit.slot,
            permit.deadline,
            None,
            None,
        )
        .await?
        else {
            return Err(Arc::new(GatewayError::Internal));
        };
        let outcome = store::store(
            &self.cache,
            &self.uncacheable,
            routed.label,
            store,
            &mut response,
        )
        .await;
        Ok(Arc::new(Filled {
            response,
            store: outcome,
            upstream: call,
        }))
    }
}
