//! Tracing's metric family and its label values, next to the component that
//! counts them; registered by the app on the same registry as every other
//! family, always (its series read 0 while telemetry is off).

use prometheus::{IntCounterVec, Registry};

use crate::metrics::{counter, Family};

crate::label_enum! {
    /// `result` of `gateway_trace_export_spans_total`.
    pub enum ExportResult {
        Exported => "exported",
        Failed => "failed",
    }
}

#[derive(Clone)]
pub struct TelemetryMetrics {
    pub export_spans: Family<IntCounterVec, 1>,
}

impl TelemetryMetrics {
    pub fn register(r: &Registry) -> prometheus::Result<TelemetryMetrics> {
        let m = TelemetryMetrics {
            export_spans: counter(r, "gateway_trace_export_spans_total", "Sampled spans handed to the OTLP collector, by result (exported, failed); 0 while telemetry is off.", &["result"])?,
        };
        for result in ExportResult::ALL {
            m.export_spans.with([&result]);
        }
        Ok(m)
    }
}
