//! The request pipeline: phases in a fixed order over one per-request
//! context (`context.rs`), finished by a drop guard (`settle.rs`). The order,
//! what each phase receives and why each has its place, is in `pipeline.rs`;
//! each phase that is not a component of its own has a file in `phase/`.
//! [`Proxy`] holds the parts (settings, components, handles) once per
//! configuration generation and composes each phase's from them; no phase
//! receives the `Proxy` itself.
//!
//! With `[telemetry]` on, the admit phase also opens the request's span (a
//! child of the client's `traceparent` when honoured); the cache, upstream
//! and inspection phases open theirs under it, and it ends in the finish phase.

mod cached;
pub mod config;
mod context;
mod forward;
mod idempotent;
mod invalidate;
mod metrics;
mod phase;
mod pipeline;
mod settings;
mod settle;

use std::sync::Arc;

use crate::access::AuthMode;
use crate::cache::CustomerCache;
use crate::cluster::Cluster;
use crate::inspect::Inspector;
use crate::logging::access_log::AccessLog;
use crate::telemetry::Telemetry;
use crate::upstream::Upstream;
use cached::{CachedRead, Fetch, LookupCounters};
use forward::Forward;
use invalidate::Invalidation;
use phase::admit::Anonymous;
use phase::finish::Finisher;

pub use config::{RawPipeline, KEYS as RELOAD_KEYS};
pub use metrics::{PipelineMetrics, RequestMetrics};
pub use settings::ProxySettings;

pub use crate::inspect::Masking;

/// The request pipeline (`pipeline.rs` runs its phases in order), handing
/// upstream work to [`Upstream`], inspection to [`Inspector`] and cache
/// policy to the cache.
pub struct Proxy {
    /// The pipeline's own settings, by phase; never the whole configuration.
    settings: ProxySettings,
    /// Carried from one configuration generation to the next (`Proxy::next`): its pool,
    /// slots, breakers and retry budget hold state.
    upstream: Arc<Upstream>,
    inspector: Arc<Inspector>,
    metrics: PipelineMetrics,
    cache: Option<CustomerCache>,
    auth: AuthMode,
    /// Cluster mode: shared rate limits, published invalidations, cache hits only under a lease.
    cluster: Option<Arc<Cluster>>,
    /// The client label and request counters of unauthenticated requests.
    anonymous: Anonymous,
    /// Keyed writes (`[idempotency]`); None when it is off.
    idempotency: Option<Arc<crate::idempotency::Idempotency>>,
    /// Cache-lookup counters by cached route and result.
    cache_lookups: LookupCounters,
    /// None when tracing is off: then no request makes a span.
    telemetry: Option<Arc<Telemetry>>,
    /// The finish phase: what every request is recorded in, once.
    finish: Arc<Finisher>,
    /// The cache-decision phase with the phases after it (None: caching is off), and
    /// the forward branch's: composed from the parts above by [`Proxy::assembled`].
    cached: Option<CachedRead>,
    forward: Arc<Forward>,
}

impl Proxy {
    pub fn new(
        settings: ProxySettings,
        upstream: Upstream,
        inspector: Inspector,
        metrics: PipelineMetrics,
        cache: Option<CustomerCache>,
        auth: AuthMode,
        access_log: AccessLog,
    ) -> Proxy {
        let upstream = Arc::new(upstream);
        let inspector = Arc::new(inspector);
        Proxy {
            cached: None,
            forward: Proxy::forward(&settings, &upstream, &inspector, None, None, &metrics),
            settings,
            upstream,
            inspector,
            cache_lookups: LookupCounters::new(&metrics.cache),
            finish: Arc::new(Finisher::new(&metrics.requests, access_log)),
            metrics,
            cache,
            auth,
            cluster: None,
            anonymous: Anonymous {
                name: crate::metrics::Configured::anonymous(),
                requests: Arc::default(),
            },
            idempotency: None,
            telemetry: None,
        }
        .assembled()
    }

    /// The forward branch's parts.
    fn forward(
        settings: &ProxySettings,
        upstream: &Arc<Upstream>,
        inspector: &Arc<Inspector>,
        cache: Option<&CustomerCache>,
        cluster: Option<&Arc<Cluster>>,
        metrics: &PipelineMetrics,
    ) -> Arc<Forward> {
        Arc::new(Forward {
            request_body: settings.request_body,
            upstream: upstream.clone(),
            inspector: inspector.clone(),
            invalidation: Invalidation {
                cache: cache.cloned(),
                cluster: cluster.cloned(),
                counter: metrics.cache.invalidations.clone(),
            },
        })
    }

    /// The phases' own parts, composed from this proxy's: each phase then holds what
    /// it reads, never the proxy. Called whenever a part they hold is set.
    fn assembled(mut self) -> Proxy {
        self.cached = self.cache.as_ref().map(|cache| CachedRead {
            lookups: self.cache_lookups.clone(),
            cluster: self.cluster.clone(),
            request_body: self.settings.request_body,
            fetch: Arc::new(Fetch {
                upstream: self.upstream.clone(),
                inspector: self.inspector.clone(),
                cache: cache.clone(),
                uncacheable: self.metrics.cache.uncacheable.clone(),
            }),
        });
        self.forward = Proxy::forward(
            &self.settings,
            &self.upstream,
            &self.inspector,
            self.cache.as_ref(),
            self.cluster.as_ref(),
            &self.metrics,
        );
        self
    }

    /// The pipeline of a reloaded configuration: `settings`, `inspector` and `cache`
    /// (a view with the new rules, or this one's) are the new generation's; everything
    /// that holds state is carried over, never rebuilt: the upstream side, the clients
    /// file, cluster, idempotency store, tracer, counters, and the finish phase (the
    /// access-log writer and the in-flight count that [`Proxy::settled`] waits on,
    /// which so covers the requests of every generation).
    pub fn next(
        &self,
        settings: ProxySettings,
        inspector: Inspector,
        cache: Option<CustomerCache>,
    ) -> Proxy {
        let inspector = Arc::new(inspector);
        Proxy {
            cached: None,
            forward: self.forward.clone(),
            settings,
            upstream: self.upstream.clone(),
            inspector,
            metrics: self.metrics.clone(),
            cache,
            auth: self.auth.clone(),
            cluster: self.cluster.clone(),
            anonymous: self.anonymous.clone(),
            idempotency: self.idempotency.clone(),
            cache_lookups: self.cache_lookups.clone(),
            telemetry: self.telemetry.clone(),
            finish: self.finish.clone(),
        }
        .assembled()
    }

    /// The cache view requests of this generation use (None: caching is off).
    pub fn cache(&self) -> Option<&CustomerCache> {
        self.cache.as_ref()
    }

    /// The inspector of this generation.
    pub fn inspector(&self) -> &Inspector {
        &self.inspector
    }

    /// Traces every request with `telemetry` (None: tracing off, the default).
    pub fn traced(mut self, telemetry: Option<Arc<Telemetry>>) -> Proxy {
        self.telemetry = telemetry;
        self
    }

    /// Cluster mode: shared rate limits, published invalidations, cache hits only under a lease.
    pub fn with_cluster(mut self, cluster: Option<Arc<Cluster>>) -> Proxy {
        self.cluster = cluster;
        self.assembled()
    }

    /// Waits, at most `within`, until no request is in flight (each one
    /// recorded): after the drain, so the last lines reach the access log.
    pub async fn settled(&self, within: std::time::Duration) {
        self.finish.settled(within).await;
    }

    /// Deduplicates keyed writes (None: `idempotency.enabled = false`).
    pub fn with_idempotency(
        mut self,
        idempotency: Option<Arc<crate::idempotency::Idempotency>>,
    ) -> Proxy {
        self.idempotency = idempotency;
        self
    }

    /// The access log, carried across generations: a reload of `log.format`
    /// sets its format (the reload, not the proxy, reads logging's settings).
    pub fn access_log(&self) -> &crate::logging::access_log::AccessLog {
        self.finish.access_log()
    }

    /// Writes what the access log still holds (bounded by `timeout`).
    pub fn close_access_log(&self, timeout: std::time::Duration) {
        self.finish.close_access_log(timeout);
    }
}
