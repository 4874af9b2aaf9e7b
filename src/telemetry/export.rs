//! The OTLP/HTTP (protobuf) exporter: hyper over rustls (the TLS stack the
//! gateway already uses, Mozilla's roots), batched on the gateway's Tokio
//! runtime, every export counted by outcome.

use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use opentelemetry_http::hyper::HyperClient;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;
use prometheus::IntCounter;

use super::config::ExporterSettings;
use super::metrics::{ExportResult, TelemetryMetrics};

/// Counts the spans of every batch by whether the collector took them.
#[derive(Debug)]
pub struct Counted<E> {
    inner: E,
    exported: IntCounter,
    failed: IntCounter,
}

impl<E: SpanExporter> SpanExporter for Counted<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len() as u64;
        let result = self.inner.export(batch).await;
        match &result {
            Ok(()) => self.exported.inc_by(n),
            Err(e) => {
                self.failed.inc_by(n);
                tracing::warn!(spans = n, error = %e, "trace export failed");
            }
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

pub fn exporter(
    settings: &ExporterSettings,
    metrics: &TelemetryMetrics,
) -> anyhow::Result<Counted<opentelemetry_otlp::SpanExporter>> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
        .with_no_client_auth();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(settings.export_timeout));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client = HyperClient::new(https, settings.export_timeout, None);
    let inner = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(settings.endpoint.to_string())
        .with_timeout(settings.export_timeout)
        .build()?;
    let spans = |result: ExportResult| metrics.export_spans.with([&result]);
    Ok(Counted {
        inner,
        exported: spans(ExportResult::Exported),
        failed: spans(ExportResult::Failed),
    })
}
