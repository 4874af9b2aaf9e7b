//! Cluster mode's metric families (`gateway_cluster_*`) and their label
//! values, next to the component that counts them; registered by the app on
//! the same registry as every other family.

use prometheus::{HistogramOpts, IntCounter, IntCounterVec, IntGauge, Registry};

use super::publish::Published;
use crate::metrics::{counter, gauge, reg, Family};

crate::label_enum! {
    /// `kind` of the published and received invalidation counters.
    pub enum InvalidationKind {
        Customer => "customer",
        All => "all",
    }
}

crate::label_enum! {
    /// `reason` of `gateway_cluster_cache_drops_total`.
    pub enum CacheDrop {
        Subscribe => "subscribe",
        Stall => "stall",
    }
}

crate::label_enum! {
    /// `operation` of `gateway_cluster_redis_errors_total`.
    pub enum RedisOp {
        Connect => "connect",
        Subscribe => "subscribe",
        Heartbeat => "heartbeat",
        Publish => "publish",
        Ack => "ack",
        RateLimit => "rate_limit",
        Idempotency => "idempotency",
    }
}

crate::label_enum! {
    /// `source` of `gateway_cluster_rate_limit_decisions_total`: Redis, or
    /// the `cluster.rate_limit_on_error` fallback that decided instead.
    pub enum RateSource {
        Redis => "redis",
        Local => "local",
        Allow => "allow",
        Deny => "deny",
    }
}

crate::label_enum! {
    /// `decision` of `gateway_cluster_rate_limit_decisions_total`.
    pub enum RateDecision {
        Allowed => "allowed",
        Limited => "limited",
    }
}

/// Cluster mode (`[cluster]`); registered always, so dashboards and alerts see zeros in
/// single-process mode (where `gateway_cluster_enabled` is 0).
#[derive(Clone)]
pub struct ClusterMetrics {
    pub enabled: IntGauge,
    pub redis_up: IntGauge,
    pub subscribed: IntGauge,
    pub published: Family<IntCounterVec, 1>,
    pub received: Family<IntCounterVec, 1>,
    pub subscription_resets: IntCounter,
    pub invalidation_lag: prometheus::Histogram,
    pub rate_limit_decisions: Family<IntCounterVec, 2>,
    pub redis_errors: Family<IntCounterVec, 1>,
    pub no_lease_reads: IntCounter,
    pub peers: IntGauge,
    pub lease_held: IntGauge,
    pub lease_renewals: IntCounter,
    pub lease_losses: IntCounter,
    pub cache_drops: Family<IntCounterVec, 1>,
    pub write_waits: Family<IntCounterVec, 1>,
    pub write_wait: prometheus::Histogram,
    pub writes_refused: IntCounter,
    pub breaker_open: IntGauge,
    pub breaker_trips: IntCounter,
}

/// From a tenth of a millisecond (same host) to seconds (a backlog, or skewed clocks).
const LAG_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

impl ClusterMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<ClusterMetrics> {
        let m = ClusterMetrics {
            enabled: gauge(r, "gateway_cluster_enabled", "1 when cluster.redis_url is set (cluster mode).")?,
            redis_up: gauge(r, "gateway_cluster_redis_up", "1 while the last Redis command succeeded.")?,
            subscribed: gauge(r, "gateway_cluster_subscribed", "1 while the invalidation subscription is made (a replica answers from its cache only while it also holds a lease: gateway_cluster_lease_held).")?,
            published: counter(r, "gateway_cluster_invalidations_published_total", "Invalidations published to the other replicas, by kind (customer, all).", &["kind"])?,
            received: counter(r, "gateway_cluster_invalidations_received_total", "Invalidations received from other replicas and applied, by kind (customer, all).", &["kind"])?,
            subscription_resets: reg(r, IntCounter::new("gateway_cluster_subscription_resets_total", "Subscriptions made again after one was lost; each drops every cached customer entry.")?)?,
            invalidation_lag: reg(r, prometheus::Histogram::with_opts(HistogramOpts::new("gateway_cluster_invalidation_lag_seconds", "From publishing on one replica to applying on this one (wall clocks of both).").buckets(LAG_BUCKETS.to_vec()))?)?,
            rate_limit_decisions: counter(r, "gateway_cluster_rate_limit_decisions_total", "Rate-limit decisions in cluster mode, by source (redis, local, allow, deny) and decision (allowed, limited).", &["source", "decision"])?,
            redis_errors: counter(r, "gateway_cluster_redis_errors_total", "Failed Redis operations, by operation (connect, subscribe, heartbeat, publish, ack, rate_limit).", &["operation"])?,
            peers: gauge(r, "gateway_cluster_peers", "Other replicas heard from within cluster.lease (those a write may wait for).")?,
            no_lease_reads: reg(r, IntCounter::new("gateway_cluster_no_lease_reads_total", "Cacheable reads served from upstream, bypassing the cache, because this replica held no lease.")?)?,
            lease_held: gauge(r, "gateway_cluster_lease_held", "1 while this replica holds a lease (its own heartbeats come back through its subscription) and may answer from its cache.")?,
            lease_renewals: reg(r, IntCounter::new("gateway_cluster_lease_renewals_total", "Own heartbeats received back, each renewing the lease.")?)?,
            lease_losses: reg(r, IntCounter::new("gateway_cluster_lease_losses_total", "Times a held lease ran out without being renewed (cached reads then go upstream).")?)?,
            cache_drops: counter(r, "gateway_cluster_cache_drops_total", "Whole-cache drops by reason (subscribe: a new subscription; stall: a heartbeat got no reply from Redis in time).", &["reason"])?,
            write_waits: counter(r, "gateway_cluster_write_waits_total", "Invalidations published for writes and purges, by how the writer's wait ended (confirmed: every replica that may hold a lease confirmed; lease: waited for the leases to run out; unconfirmed: Redis never acknowledged the PUBLISH within cluster.publish_deadline).", &["outcome"])?,
            write_wait: reg(r, prometheus::Histogram::with_opts(HistogramOpts::new("gateway_cluster_write_wait_seconds", "How long a write's answer waited for its invalidation to be published and confirmed (or for the leases to run out).").buckets(LAG_BUCKETS.to_vec()))?)?,
            writes_refused: reg(r, IntCounter::new("gateway_cluster_writes_refused_total", "Customer writes refused with 503 before being sent upstream because this replica held no lease (cluster.on_unconfirmed_write = \"refuse\").")?)?,
            breaker_open: gauge(r, "gateway_cluster_rate_limit_breaker_open", "1 while the rate-limit breaker is open (Redis slow or failing: limits follow cluster.rate_limit_on_error without asking it).")?,
            breaker_trips: reg(r, IntCounter::new("gateway_cluster_rate_limit_breaker_trips_total", "Times the rate-limit breaker opened.")?)?,
        };
        for kind in InvalidationKind::ALL {
            m.published.with([&kind]);
            m.received.with([&kind]);
        }
        for outcome in Published::ALL {
            m.write_waits.with([&outcome]);
        }
        for reason in CacheDrop::ALL {
            m.cache_drops.with([&reason]);
        }
        for op in RedisOp::ALL {
            m.redis_errors.with([&op]);
        }
        Ok(m)
    }
}
