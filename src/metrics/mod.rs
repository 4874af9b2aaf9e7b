//! The registry's plumbing, on a registry the app creates and passes in
//! (never the global default one), so several gateways in one process — the
//! integration tests — each count only their own traffic: the constructors
//! every component registers its families with ([`counter`], [`histogram`],
//! [`gauge`]), [`Family`] and the [`Label`] trait its values go through, the
//! label vocabulary several components' families share, and the per-client
//! table of request-counter handles.
//!
//! No family lives here: each is registered by the component that decides
//! its values (`tests/architecture` fails on a metric name in this module).
//! Label values are route templates and outcomes from closed sets; customer
//! ids, raw paths and personal data never become labels.

mod family;
pub mod labels;
mod request_counters;
mod vocabulary;

pub use family::{Configured, Family, Label};
pub use labels::Vocabulary;
pub use request_counters::{method_label, RequestCounters};

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};

/// From tens of microseconds (a cache hit) to seconds (a slow upstream).
const LATENCY_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];

pub(crate) fn reg<C: prometheus::core::Collector + Clone + 'static>(
    r: &Registry,
    c: C,
) -> prometheus::Result<C> {
    r.register(Box::new(c.clone()))?;
    Ok(c)
}

/// A counter family with `N` labels, whose values are [`Label`]s.
pub(crate) fn counter<const N: usize>(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str; N],
) -> prometheus::Result<Family<IntCounterVec, N>> {
    Ok(Family::new(reg(
        r,
        IntCounterVec::new(Opts::new(name, help), labels)?,
    )?))
}

/// A latency histogram family with `N` labels, on the gateway's buckets.
pub(crate) fn histogram<const N: usize>(
    r: &Registry,
    name: &str,
    help: &str,
    labels: &[&str; N],
) -> prometheus::Result<Family<HistogramVec, N>> {
    Ok(Family::new(reg(
        r,
        HistogramVec::new(
            HistogramOpts::new(name, help).buckets(LATENCY_BUCKETS.to_vec()),
            labels,
        )?,
    )?))
}

pub(crate) fn gauge(r: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    reg(r, IntGauge::new(name, help)?)
}
