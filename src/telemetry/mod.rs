//! OpenTelemetry traces: a span per request with children for the cache
//! lookup and fill, the upstream call and each attempt, and masking, exported
//! over OTLP/HTTP. Off unless `telemetry.otlp_endpoint` is set; then the
//! pipeline holds a [`Telemetry`], otherwise nothing at all.
//!
//! The spans come from the OpenTelemetry API directly and travel with the
//! request (`RequestContext`), not through the process-wide `tracing`
//! subscriber: each [`crate::App`] owns its tracer provider, so several
//! gateways in one process (tests, the demo) each export their own traces, and
//! log filters never decide what is traced.
//!
//! Attributes are route templates, client names and outcomes from closed
//! sets — never customer ids, raw paths, query strings or personal data.

pub mod config;
mod export;
mod metrics;
pub mod propagation;
mod sampler;
mod span;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{HeaderMap, Method};
use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::span_processor_with_async_runtime::BatchSpanProcessor;
use opentelemetry_sdk::trace::{BatchConfigBuilder, Sampler, SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

pub use config::{RawTelemetry, TelemetrySettings};
pub use metrics::{ExportResult, TelemetryMetrics};
pub use span::{Span, Trace};

/// How long the final flush on shutdown may take.
const SHUTDOWN_FLUSH: Duration = Duration::from_secs(5);

/// The tracer and its export pipeline; one per app.
pub struct Telemetry {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    honour_traceparent: bool,
    /// `sampling_ratio`, which a configuration reload changes.
    ratio: sampler::Ratio,
    /// Set once `shutdown` ran.
    shut: AtomicBool,
}

/// An app dropped without a drain (a failed start, a test that panicked)
/// still stops its exporter, from a thread of its own: the SDK's own stop
/// blocks until the batch task answers, and on a single-threaded runtime that
/// task could never run while a runtime thread waits for it.
impl Drop for Telemetry {
    fn drop(&mut self) {
        if !self.shut.load(Ordering::Relaxed) {
            let provider = self.provider.clone();
            let _ = std::thread::Builder::new()
                .name("trace-shutdown".into())
                .spawn(move || provider.shutdown_with_timeout(SHUTDOWN_FLUSH));
        }
    }
}

impl Telemetry {
    /// The exporter the settings describe, or None when tracing is off.
    /// Must run inside the Tokio runtime that will carry the exports.
    pub fn start(
        settings: &TelemetrySettings,
        metrics: &TelemetryMetrics,
    ) -> anyhow::Result<Option<Telemetry>> {
        let Some(e) = &settings.exporter else {
            return Ok(None);
        };
        let batch = BatchSpanProcessor::builder(
            export::exporter(e, metrics)?,
            opentelemetry_sdk::runtime::Tokio,
        )
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_scheduled_delay(e.export_interval)
                .with_max_export_timeout(e.export_timeout)
                .with_max_queue_size(e.max_queue_size)
                .with_max_export_batch_size(e.max_export_batch_size)
                .build(),
        )
        .build();
        let ratio = sampler::Ratio::new(e.sampling_ratio);
        let provider = SdkTracerProvider::builder()
            .with_span_processor(batch)
            // A sampled parent's trace is kept, an unsampled one's is not; a
            // request without a (honoured) parent is kept at `sampling_ratio`.
            .with_sampler(Sampler::ParentBased(Box::new(sampler::LiveRatio(
                ratio.clone(),
            ))))
            .with_resource(
                Resource::builder()
                    .with_service_name(e.service_name.clone())
                    .with_attribute(KeyValue::new("service.version", crate::build::VERSION))
                    .build(),
            )
            .build();
        let tracer = provider.tracer("paycombat-gateway");
        tracing::info!(endpoint = %crate::urls::shown(&e.endpoint), ratio = e.sampling_ratio, "exporting traces over OTLP/HTTP");
        Ok(Some(Telemetry {
            provider,
            tracer,
            honour_traceparent: settings.honour_traceparent,
            ratio,
            shut: AtomicBool::new(false),
        }))
    }

    /// The request's root span: a child of the client's `traceparent` when it
    /// is honoured, else a new root.
    pub fn request(&self, headers: &HeaderMap, method: &Method) -> Span {
        let parent = if self.honour_traceparent {
            propagation::extract(headers)
        } else {
            Context::new()
        };
        Span::start(
            &self.tracer,
            &parent,
            "request",
            SpanKind::Server,
            vec![KeyValue::new(
                "http.request.method",
                crate::metrics::method_label(method),
            )],
        )
    }

    /// Exports what is still queued; bounded, and off the async workers (the
    /// SDK blocks while the batch task, on this runtime, flushes).
    /// `telemetry.sampling_ratio` from a reloaded configuration (None: tracing is off
    /// in it, which only a restart applies). Spans already sampled are kept.
    pub fn set_sampling_ratio(&self, settings: &TelemetrySettings) {
        if let Some(e) = &settings.exporter {
            self.ratio.set(e.sampling_ratio);
        }
    }

    pub async fn shutdown(&self) {
        self.shut.store(true, Ordering::Relaxed);
        let provider = self.provider.clone();
        let flushed = tokio::time::timeout(
            SHUTDOWN_FLUSH,
            tokio::task::spawn_blocking(move || provider.shutdown_with_timeout(SHUTDOWN_FLUSH)),
        )
        .await;
        match flushed {
            Ok(Ok(Ok(()))) => tracing::info!("traces flushed"),
            Ok(Ok(Err(e))) => tracing::warn!(error = %e, "trace flush on shutdown failed"),
            _ => tracing::warn!("trace flush on shutdown did not finish in time"),
        }
    }
}
