//! Inspection's metric families (masking, refused answers, response
//! headers, the buffer budget and the spool), next to the component that
//! counts them; registered by the app on the same registry as every other
//! family.

use prometheus::{IntCounter, IntCounterVec, IntGauge, Registry};

use crate::fair::FairMetrics;
use crate::metrics::{counter, gauge, reg, Family};

crate::label_enum! {
    /// `reason` of `gateway_mask_failures_total`: why an upstream body could
    /// not be inspected (the README's tables are checked against it).
    pub enum MaskFailure {
        ParseError => "parse_error",
        TooLarge => "too_large",
        TooDeep => "too_deep",
        BadEncoding => "bad_encoding",
        AmbiguousHeaders => "ambiguous_headers",
        PassthroughMismatch => "passthrough_mismatch",
        ContentRange => "content_range",
    }
}

impl MaskFailure {
    /// The failure a refusal's reason names (the reasons are the gateway's
    /// own words, from the framing, decoding, masking and header code).
    pub fn named(reason: &str) -> Option<MaskFailure> {
        MaskFailure::ALL.into_iter().find(|f| f.as_str() == reason)
    }
}

crate::label_enum! {
    /// `location` of `gateway_secret_reflections_total`: where a gateway
    /// secret was found in an upstream answer.
    pub enum SecretLocation {
        Header => "header",
        Body => "body",
    }
}

impl SecretLocation {
    pub fn label(self) -> &'static str {
        self.as_str()
    }
}

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
    /// `gateway_client_capacity_refusals_total`: fair's (every pool it divides
    /// counts there, upstream's slots too), so a handle to that one family.
    pub client_capacity_refusals: Family<IntCounterVec, 2>,
}

impl InspectMetrics {
    pub fn register(r: &Registry, fair: &FairMetrics) -> prometheus::Result<InspectMetrics> {
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
            client_capacity_refusals: fair.capacity_refusals.clone(),
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

#[cfg(test)]
mod readme_tests {
    use super::MaskFailure;

    const README: &str = include_str!("../../README.md");

    /// The backticked words of the README line that starts with `row`.
    fn words_of(row: &str) -> Vec<String> {
        let line = README
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("README has no line starting {row:?}"));
        // Label values are lower-case words; keys and header names are not.
        line.split('`')
            .skip(1)
            .step_by(2)
            .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_readme_list_of_mask_failure_reasons_is_the_codes_own() {
        let want: Vec<String> = MaskFailure::ALL.map(|r| r.as_str().to_string()).to_vec();
        let labels: Vec<String> = words_of("| `reason` (mask failures) |").split_off(1);
        assert_eq!(labels, want, "Metrics > Labels");
        let metric: Vec<String> = words_of("| `gateway_mask_failures_total{reason}` |");
        assert_eq!(metric, want, "Masking > Metrics");
        // "Fails closed": the reason column of the table under its header.
        let start = README
            .find("| what upstream sent | `reason` | client sees |")
            .expect("the fails-closed table");
        let column: Vec<String> = README[start..]
            .lines()
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .filter_map(|l| l.split('|').nth(2))
            .filter_map(|cell| {
                cell.trim()
                    .strip_prefix('`')?
                    .strip_suffix('`')
                    .map(str::to_owned)
            })
            .collect();
        assert_eq!(column, want, "Masking > Fails closed");
    }
}
