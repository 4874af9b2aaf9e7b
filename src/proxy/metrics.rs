//! The request families (`gateway_requests_total`, the duration, in-flight,
//! abandoned requests), next to the phase that records them (finish,
//! `phase/finish.rs`), and the handles the pipeline holds to the families of
//! the components whose decisions it carries out: the cache's (a lookup's
//! result, an answer not stored, an invalidation) and the clients' (a refusal).

use prometheus::{HistogramVec, IntCounterVec, IntGauge, Registry};

use crate::auth::ClientMetrics;
use crate::cache::CacheMetrics;
use crate::metrics::{counter, gauge, histogram, Family};
use crate::outcome::{Cause, Phase};

#[derive(Clone)]
pub struct RequestMetrics {
    /// `{route, method, status_class, cache, client}`, filled through a client's
    /// [`crate::metrics::RequestCounters`].
    pub requests: Family<IntCounterVec, 5>,
    pub duration: Family<HistogramVec, 1>,
    pub inflight: IntGauge,
    pub abandoned: Family<IntCounterVec, 2>,
}

impl RequestMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<RequestMetrics> {
        let m = RequestMetrics {
            requests: counter(r, "gateway_requests_total", "Requests, however they ended, by route template, method, status class, cache result and client (a request abandoned by its client before the answer counts as 499, one cut off by the gateway as 503).", &["route", "method", "status_class", "cache", "client"])?,
            duration: histogram(r, "gateway_request_duration_seconds", "Time from request head to response head (for a request that got none, until it was abandoned or cut off).", &["route"])?,
            inflight: gauge(r, "gateway_inflight_requests", "Requests being served now, from request head until the response body is sent or the request is abandoned.")?,
            abandoned: counter(r, "gateway_requests_abandoned_total", "Requests that ended without their whole answer, by reason (the client gave up: client_closed, stream_reset; the gateway cut them off: write_timeout, drain_deadline, body_error; a bug in the gateway: panicked) and phase (waiting: before the response head; body: while the body was sent).", &["reason", "phase"])?,
        };
        // Pre-created, so the alerts' `increase()` sees a 0 before the first event.
        for cause in Cause::ALL {
            for phase in Phase::ALL {
                m.abandoned.with([&cause, &phase]);
            }
        }
        Ok(m)
    }
}

/// What the pipeline counts in: its own request families, and handles to the
/// cache's and the clients' families.
#[derive(Clone)]
pub struct PipelineMetrics {
    pub requests: RequestMetrics,
    pub cache: CacheMetrics,
    pub clients: ClientMetrics,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_are_independent() {
        let (a, b) = (Registry::new(), Registry::new());
        let ma = RequestMetrics::register(&a).unwrap();
        RequestMetrics::register(&b).unwrap();
        ma.inflight.inc();
        let value = |r: &Registry| {
            r.gather()
                .iter()
                .find(|f| f.name() == "gateway_inflight_requests")
                .map(|f| f.get_metric()[0].get_gauge().value())
        };
        assert_eq!((value(&a), value(&b)), (Some(1.0), Some(0.0)));
    }
}
