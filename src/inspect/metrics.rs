//! Inspection's metric families (masking, refused answers, response
//! headers, the buffer budget and the spool), next to the component that
//! counts them; registered by the app on the same registry as every other
//! family.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Registry};

use crate::metrics::labels::{MaskFailure, SecretLocation};
use crate::metrics::{counter, gauge, reg, Family, Metrics};

#[derive(Clone)]
pub struct InspectMetrics {
    pub masked_fields: Family<IntCounterVec, 1>,
    pub mask_failures: Family<IntCounterVec, 1>,
    pub secret_reflections: Family<IntCounterVec, 1>,
    pub response_headers_dropped: IntCounter,
    pub response_header_values_refused: Family<IntCounterVec, 1>,
    pub buffered_bytes: IntGauge,
    pub buffer_exhausted: IntCounter,
    pub spool_bytes: IntGauge,
    pub spool_max_bytes: IntGauge,
    pub spooled_bytes: IntCounter,
    pub spool_files: IntGauge,
    /// `gateway_client_capacity_refusals_total`: not this component's own
    /// (every pool fair divides counts there, upstream's slots too), so a
    /// handle to the shared family.
    pub client_capacity_refusals: Family<IntCounterVec, 2>,
}

impl InspectMetrics {
    pub fn register(r: &Registry, shared: &Metrics) -> prometheus::Result<InspectMetrics> {
        let m = InspectMetrics {
            masked_fields: counter(r, "gateway_masked_fields_total", "Personal values masked, by rule (field name or path).", &["field"])?,
            mask_failures: counter(r, "gateway_mask_failures_total", "Upstream bodies refused because they could not be inspected, by reason.", &["reason"])?,
            secret_reflections: counter(r, "gateway_secret_reflections_total", "Upstream responses refused because a header or body carried a gateway secret, by location (header, body).", &["location"])?,
            response_headers_dropped: reg(r, IntCounter::new("gateway_upstream_response_headers_dropped_total", "Upstream response header lines dropped because they are not on upstream.response_headers.")?)?,
            response_header_values_refused: counter(r, "gateway_upstream_response_header_values_refused_total", "Listed upstream response headers whose value did not fit the header's vocabulary, refused (dropped or replaced by a stricter value), by header.", &["header"])?,
            buffered_bytes: gauge(r, "gateway_response_buffer_bytes", "Bytes of upstream and masked response bodies held in memory, as counted against upstream.max_buffered_bytes.")?,
            buffer_exhausted: reg(r, IntCounter::new("gateway_response_buffer_exhausted_total", "Inspections refused (503) because upstream.max_buffered_bytes was in use for longer than upstream.buffer_wait.")?)?,
            spool_bytes: gauge(r, "gateway_spool_bytes", "Bytes of passthrough bodies in spool files on disk now, as counted against upstream.buffering.spool_total.")?,
            spool_max_bytes: gauge(r, "gateway_spool_max_bytes", "The configured bound upstream.buffering.spool_total.")?,
            spooled_bytes: reg(r, IntCounter::new("gateway_spooled_bytes_total", "Bytes of passthrough bodies written to spool files (a client read more slowly than paycombat sent).")?)?,
            spool_files: gauge(r, "gateway_spool_files", "Spool files open now (each already unlinked: they have no name on disk).")?,
            client_capacity_refusals: shared.client_capacity_refusals.clone(),
        };
        // Pre-created, so the alerts' `increase()` sees a 0 before the first event.
        for reason in MaskFailure::ALL {
            m.mask_failures.with([&reason]);
        }
        for location in SecretLocation::ALL {
            m.secret_reflections.with([&location]);
        }
        Ok(m)
    }
}
