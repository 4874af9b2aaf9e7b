//! The `[telemetry]` section: raw serde settings, validated once into
//! [`TelemetrySettings`]. Tracing is off unless `otlp_endpoint` names a collector.

use std::time::Duration;

use http::Uri;
use serde::{Deserialize, Serialize};

use crate::problems::{positive, Problems};

/// Where OTLP/HTTP collectors take traces when the endpoint gives no path.
const TRACES_PATH: &str = "/v1/traces";

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawTelemetry {
    /// Shown as the URL traces go to (`…/v1/traces` added to a bare address).
    #[serde(serialize_with = "shown_endpoint")]
    pub otlp_endpoint: String,
    pub service_name: String,
    pub sampling_ratio: f64,
    pub honour_traceparent: bool,
    #[serde(with = "crate::duration_text")]
    pub export_timeout: Duration,
    #[serde(with = "crate::duration_text")]
    pub export_interval: Duration,
    pub max_queue_size: usize,
    pub max_export_batch_size: usize,
}

/// `[telemetry]` on a configuration reload: the sampling ratio is live; the exporter
/// (endpoint, batching, service name) is started once.
pub const KEYS: crate::reloadable::Keys = crate::reloadable::Keys {
    live: &["sampling_ratio"],
    restart: &[
        "otlp_endpoint",
        "service_name",
        "honour_traceparent",
        "export_timeout",
        "export_interval",
        "max_queue_size",
        "max_export_batch_size",
    ],
};

/// Validated `[telemetry]`; `exporter` is None when tracing is off.
#[derive(Debug, Clone)]
pub struct TelemetrySettings {
    pub exporter: Option<ExporterSettings>,
    pub honour_traceparent: bool,
}

#[derive(Debug, Clone)]
pub struct ExporterSettings {
    /// The full traces URL (`…/v1/traces`).
    pub endpoint: Uri,
    pub service_name: String,
    pub sampling_ratio: f64,
    pub export_timeout: Duration,
    pub export_interval: Duration,
    pub max_queue_size: usize,
    pub max_export_batch_size: usize,
}

impl RawTelemetry {
    /// Every value is checked, also when tracing is off, so turning it on later
    /// does not reveal a mistake made now.
    /// Keys relative to `[telemetry]`.
    pub fn check(self, p: &mut Problems) -> Option<TelemetrySettings> {
        let before = p.len();
        let endpoint = match self.otlp_endpoint.trim() {
            "" => None,
            url => p.check("otlp_endpoint", traces_url(url)),
        };
        if self.service_name.trim().is_empty() {
            p.add("service_name", "must not be empty");
        }
        if !(0.0..=1.0).contains(&self.sampling_ratio) {
            p.add(
                "sampling_ratio",
                format!("{} is not between 0 and 1", self.sampling_ratio),
            );
        }
        let export_timeout = p.check("export_timeout", positive(self.export_timeout));
        let export_interval = p.check("export_interval", positive(self.export_interval));
        let max_queue_size = p.check("max_queue_size", positive(self.max_queue_size));
        let batch = p.check(
            "max_export_batch_size",
            positive(self.max_export_batch_size),
        );
        if let (Some(queue), Some(batch)) = (max_queue_size, batch) {
            if batch > queue {
                p.add(
                    "max_export_batch_size",
                    "must not exceed `telemetry.max_queue_size`",
                );
            }
        }
        if p.len() > before {
            return None;
        }
        let exporter = endpoint.map(|endpoint| ExporterSettings {
            endpoint,
            service_name: self.service_name.trim().to_owned(),
            sampling_ratio: self.sampling_ratio,
            export_timeout: export_timeout.unwrap_or_default(),
            export_interval: export_interval.unwrap_or_default(),
            max_queue_size: max_queue_size.unwrap_or_default(),
            max_export_batch_size: batch.unwrap_or_default(),
        });
        Some(TelemetrySettings {
            exporter,
            honour_traceparent: self.honour_traceparent,
        })
    }
}

/// `otlp_endpoint` as traces are sent to it, printed as every URL is.
fn shown_endpoint<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    match v.trim() {
        "" => s.serialize_str(""),
        url => match traces_url(url) {
            Ok(u) => s.serialize_str(&crate::urls::shown(&u)),
            Err(_) => crate::redact::url(url, s),
        },
    }
}

/// The collector's traces URL: an http(s) URL with a host; a bare
/// `http://collector:4318` gets the standard `/v1/traces` path.
fn traces_url(v: &str) -> Result<Uri, String> {
    let url = crate::urls::parse(v, crate::urls::HTTP)?;
    if url.query().is_some() {
        return Err("a query is not allowed".to_owned());
    }
    if matches!(url.path(), "" | "/") {
        let authority = url.authority().map(|a| a.as_str()).unwrap_or("");
        let scheme = url.scheme_str().unwrap_or("http");
        return format!("{scheme}://{authority}{TRACES_PATH}")
            .parse()
            .map_err(|e| format!("{v:?} is not a URL ({e})"));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawTelemetry {
        crate::defaults::default_section("telemetry")
    }

    #[test]
    fn shipped_defaults_turn_tracing_off() {
        let mut p = Problems::default();
        let s = raw().check(&mut p).expect("defaults validate");
        assert!(p.is_empty());
        assert!(s.exporter.is_none());
    }

    #[test]
    fn a_bare_collector_address_gets_the_traces_path() {
        assert_eq!(
            traces_url("http://otel:4318").unwrap().to_string(),
            "http://otel:4318/v1/traces"
        );
        assert_eq!(
            traces_url("https://otel.example/custom/traces")
                .unwrap()
                .to_string(),
            "https://otel.example/custom/traces"
        );
        for bad in [
            "otel:4318",
            "ftp://otel/",
            "http:///v1/traces",
            "http://o/?a=1",
            "http://user:secret@otel:4318",
        ] {
            assert!(traces_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn every_wrong_value_is_reported_under_its_key() {
        let mut p = Problems::default();
        let r = RawTelemetry {
            otlp_endpoint: "nope".into(),
            service_name: " ".into(),
            sampling_ratio: 1.5,
            export_timeout: Duration::ZERO,
            export_interval: Duration::ZERO,
            max_queue_size: 10,
            max_export_batch_size: 20,
            ..raw()
        };
        assert!(p.within("telemetry", |p| r.check(p)).is_none());
        let keys: Vec<String> = p.into_vec().into_iter().map(|p| p.key).collect();
        assert_eq!(
            keys,
            [
                "telemetry.otlp_endpoint",
                "telemetry.service_name",
                "telemetry.sampling_ratio",
                "telemetry.export_timeout",
                "telemetry.export_interval",
                "telemetry.max_export_batch_size",
            ]
        );
    }
}
