//! The root sampler: `telemetry.sampling_ratio`, read from an atomic so a
//! configuration reload changes it without restarting the exporter.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingResult, ShouldSample};

/// The share of new traces kept (0 to 1), as `f64` bits; shared with the sampler.
#[derive(Debug, Clone)]
pub struct Ratio(Arc<AtomicU64>);

impl Ratio {
    pub fn new(ratio: f64) -> Ratio {
        Ratio(Arc::new(AtomicU64::new(ratio.to_bits())))
    }

    pub fn set(&self, ratio: f64) {
        self.0.store(ratio.to_bits(), Ordering::Relaxed);
    }

    pub fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// Trace-id ratio sampling at the current [`Ratio`] (the SDK's own decision, so the
/// same trace id is kept at the same ratio as before).
#[derive(Debug, Clone)]
pub struct LiveRatio(pub Ratio);

impl ShouldSample for LiveRatio {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        Sampler::TraceIdRatioBased(self.0.get()).should_sample(
            parent_context,
            trace_id,
            name,
            span_kind,
            attributes,
            links,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_sdk::trace::SamplingDecision;

    #[test]
    fn a_new_ratio_applies_to_the_next_decision() {
        let ratio = Ratio::new(0.0);
        let sampler = LiveRatio(ratio.clone());
        let decide = |s: &LiveRatio| {
            s.should_sample(
                None,
                TraceId::from_bytes([7; 16]),
                "r",
                &SpanKind::Server,
                &[],
                &[],
            )
            .decision
        };
        assert_eq!(decide(&sampler), SamplingDecision::Drop);
        ratio.set(1.0);
        assert_eq!(decide(&sampler), SamplingDecision::RecordAndSample);
    }
}
