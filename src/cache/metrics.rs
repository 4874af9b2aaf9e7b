//! The cache's metric families (lookups, size, evictions, invalidations,
//! answers not stored) and the label values only they use, next to the
//! component that decides them; registered by the app on the same registry as
//! every other family.
//!
//! The cache decides each value: a lookup's result ([`super::Decision`]), why
//! an answer is not stored ([`super::Refusal`]), why an entry left
//! ([`super::EvictionCause`]). The proxy, the admin API and a configuration
//! reload count what they carry out with a handle to one family.

use std::sync::Arc;

use prometheus::{IntCounterVec, IntGauge, Registry};

use super::{CustomerCache, EvictionCause, EvictionHook};

use crate::metrics::{counter, gauge, Family};

crate::label_enum! {
    /// `reason` of `gateway_cache_invalidations_total`.
    pub enum InvalidationReason {
        Write => "write",
        WriteAll => "write_all",
        Admin => "admin",
        ConfigReload => "config_reload",
    }
}

#[derive(Clone)]
pub struct CacheMetrics {
    pub lookups: Family<IntCounterVec, 2>,
    pub entries: IntGauge,
    pub weighted_bytes: IntGauge,
    pub max_bytes: IntGauge,
    pub evictions: Family<IntCounterVec, 1>,
    pub invalidations: Family<IntCounterVec, 1>,
    pub uncacheable: Family<IntCounterVec, 2>,
}

impl CacheMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<CacheMetrics> {
        let m = CacheMetrics {
            lookups: counter(r, "gateway_cache_lookups_total", "Customer cache lookups by route and result (hit, miss, stale, collapsed, bypass).", &["route", "result"])?,
            entries: gauge(r, "gateway_cache_entries", "Entries in the customer cache.")?,
            weighted_bytes: gauge(r, "gateway_cache_weighted_bytes", "Bytes held by the customer cache, as weighed against cache.max_bytes.")?,
            max_bytes: gauge(r, "gateway_cache_max_bytes", "The configured bound cache.max_bytes.")?,
            evictions: counter(r, "gateway_cache_evictions_total", "Cache entries removed, by cause (expired, size, explicit, replaced).", &["cause"])?,
            invalidations: counter(r, "gateway_cache_invalidations_total", "Customers purged from the cache, by reason (write, write_all, admin).", &["reason"])?,
            uncacheable: counter(r, "gateway_cache_uncacheable_total", "Upstream answers on cached routes not stored, by route and reason (status, cache_control, envelope, vary).", &["route", "reason"])?,
        };
        // Pre-created, so `increase()` sees a 0 before the first write.
        for reason in [InvalidationReason::Write, InvalidationReason::WriteAll] {
            m.invalidations.with([&reason]);
        }
        Ok(m)
    }

    /// Sets the size gauges from `cache` (read at scrape time: cheaper than keeping
    /// them per request).
    pub async fn observe(&self, cache: &CustomerCache) {
        cache.run_pending_tasks().await;
        self.entries.set(cache.entry_count() as i64);
        self.weighted_bytes.set(cache.weighted_size() as i64);
    }

    /// What the cache calls when an entry leaves it: counts the cause.
    pub fn on_eviction(&self) -> EvictionHook {
        let evictions = self.evictions.clone();
        Arc::new(move |cause: EvictionCause| evictions.with([&cause]).inc())
    }
}
