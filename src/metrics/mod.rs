//! Prometheus metrics, registered on a registry the app creates and passes in
//! (never the global default one), so several gateways in one process — the
//! integration tests — each count only their own traffic.
//!
//! Label values are route templates and outcomes from closed sets; customer
//! ids, raw paths and personal data never become labels.

mod family;
pub mod labels;
mod vocabulary;

use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

pub use family::{Configured, Family, Label};
pub use labels::Vocabulary;

use crate::outcome::LookupResult;
use crate::route::RouteLabel;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

/// From tens of microseconds (a cache hit) to seconds (a slow upstream).
const LATENCY_BUCKETS: &[f64] = &[
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
    2.5, 5.0, 10.0,
];

#[derive(Clone)]
pub struct Metrics {
    pub requests: Family<IntCounterVec, 5>,
    pub request_duration: Family<HistogramVec, 1>,
    pub inflight: IntGauge,
    pub requests_abandoned: Family<IntCounterVec, 2>,
    pub cache_lookups: Family<IntCounterVec, 2>,
    pub cache_entries: IntGauge,
    pub cache_weighted_bytes: IntGauge,
    pub cache_max_bytes: IntGauge,
    pub cache_evictions: Family<IntCounterVec, 1>,
    pub cache_invalidations: Family<IntCounterVec, 1>,
    pub cache_uncacheable: Family<IntCounterVec, 2>,
    pub mask_undeclared: Family<IntCounterVec, 1>,
    pub mask_policy_masked: Family<IntCounterVec, 2>,
    pub client_capacity_refusals: Family<IntCounterVec, 2>,
    pub client_rejections: Family<IntCounterVec, 2>,
    pub clients_reloads: Family<IntCounterVec, 1>,
    pub config_reloads: Family<IntCounterVec, 1>,
    pub config_last_reload_successful: IntGauge,
    pub config_last_reload_success_timestamp: IntGauge,
}

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

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

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

impl Metrics {
    pub fn register(r: &Registry) -> prometheus::Result<Metrics> {
        let m = Metrics {
            requests: counter(r, "gateway_requests_total", "Requests, however they ended, by route template, method, status class, cache result and client (a request abandoned by its client before the answer counts as 499, one cut off by the gateway as 503).", &["route", "method", "status_class", "cache", "client"])?,
            request_duration: histogram(r, "gateway_request_duration_seconds", "Time from request head to response head (for a request that got none, until it was abandoned or cut off).", &["route"])?,
            inflight: gauge(r, "gateway_inflight_requests", "Requests being served now, from request head until the response body is sent or the request is abandoned.")?,
            requests_abandoned: counter(r, "gateway_requests_abandoned_total", "Requests that ended without their whole answer, by reason (the client gave up: client_closed, stream_reset; the gateway cut them off: write_timeout, drain_deadline, body_error; a bug in the gateway: panicked) and phase (waiting: before the response head; body: while the body was sent).", &["reason", "phase"])?,
            cache_lookups: counter(r, "gateway_cache_lookups_total", "Customer cache lookups by route and result (hit, miss, stale, collapsed, bypass).", &["route", "result"])?,
            cache_entries: gauge(r, "gateway_cache_entries", "Entries in the customer cache.")?,
            cache_weighted_bytes: gauge(r, "gateway_cache_weighted_bytes", "Bytes held by the customer cache, as weighed against cache.max_bytes.")?,
            cache_max_bytes: gauge(r, "gateway_cache_max_bytes", "The configured bound cache.max_bytes.")?,
            cache_evictions: counter(r, "gateway_cache_evictions_total", "Cache entries removed, by cause (expired, size, explicit, replaced).", &["cause"])?,
            cache_invalidations: counter(r, "gateway_cache_invalidations_total", "Customers purged from the cache, by reason (write, write_all, admin).", &["reason"])?,
            cache_uncacheable: counter(r, "gateway_cache_uncacheable_total", "Upstream answers on cached routes not stored, by route and reason (status, cache_control, envelope, vary).", &["route", "reason"])?,
            mask_undeclared: counter(r, "gateway_mask_undeclared_fields_total", "JSON leaves seen that their route family's field policy does not declare non-personal, by family (the paths are on GET /admin/mask/undeclared).", &["family"])?,
            mask_policy_masked: counter(r, "gateway_mask_policy_masked_total", "Values the field policy masked (not a named rule), by family and reason (email, phone, digit_run, iban, card, key_word, undeclared).", &["family", "reason"])?,
            client_capacity_refusals: counter(r, "gateway_client_capacity_refusals_total", "Requests refused (503 CLIENT_CAPACITY_EXCEEDED) because their client held its whole upstream.per_client share, by client and resource (upstream_slots, response_buffer, spool).", &["client", "resource"])?,
            client_rejections: counter(r, "gateway_client_rejections_total", "Client requests refused, by client and reason (unauthenticated, forbidden, rate_limited).", &["client", "reason"])?,
            clients_reloads: counter(r, "gateway_clients_reloads_total", "Clients-file reloads by result (ok, failed).", &["result"])?,
            config_reloads: counter(r, "gateway_config_reloads_total", "Configuration reloads (SIGHUP or a change to the config file), by result: applied (valid, something changed), unchanged (valid, nothing changed), invalid (refused: the running settings stay).", &["result"])?,
            config_last_reload_successful: gauge(r, "gateway_config_last_reload_successful", "1 when the last configuration reload was valid (or none was tried), 0 when it was refused.")?,
            config_last_reload_success_timestamp: gauge(r, "gateway_config_last_reload_success_timestamp_seconds", "Unix time of the last valid configuration reload (of the start, until one).")?,
        };
        let build = IntGaugeVec::new(
            Opts::new(
                "gateway_build_info",
                "Build of the running gateway; always 1.",
            ),
            &["version", "revision"],
        )?;
        // The build's own constants, not label values of a closed set: the
        // one family that takes strings, and it is private to this function.
        build
            .with_label_values(&[env!("CARGO_PKG_VERSION"), crate::build::REVISION])
            .set(1);
        r.register(Box::new(build))?;
        #[cfg(target_os = "linux")]
        r.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        r.register(Box::new(LogDrops::new()?))?;
        // Pre-create the series SREs alert on, so `increase()` sees a 0 before the first event.
        for cause in crate::outcome::Cause::ALL {
            for phase in crate::outcome::Phase::ALL {
                m.requests_abandoned.with([&cause, &phase]);
            }
        }
        for reason in [
            labels::InvalidationReason::Write,
            labels::InvalidationReason::WriteAll,
        ] {
            m.cache_invalidations.with([&reason]);
        }
        for result in labels::ConfigReloadResult::ALL {
            m.config_reloads.with([&result]);
        }
        m.config_last_reload_successful.set(1);
        m.config_last_reload_success_timestamp.set(unix_now());
        for result in labels::ReloadResult::ALL {
            m.clients_reloads.with([&result]);
        }
        Ok(m)
    }
}

/// Lines dropped because their queue was full, per stream, for the whole
/// process (every gateway in it shares stdout): bumped by the log queues
/// (`crate::logging`), read by [`LogDrops`] at scrape time.
pub static ACCESS_DROPPED: AtomicU64 = AtomicU64::new(0);
pub static LOG_DROPPED: AtomicU64 = AtomicU64::new(0);

/// `gateway_log_lines_dropped_total{stream}`: read at scrape time from
/// [`ACCESS_DROPPED`] and [`LOG_DROPPED`], since the queues, like stdout,
/// belong to the process rather than to one gateway.
struct LogDrops {
    lines: IntCounterVec,
    /// Two scrapes at once must not both add the same difference.
    sync: std::sync::Mutex<()>,
}

impl LogDrops {
    fn new() -> prometheus::Result<LogDrops> {
        let lines = IntCounterVec::new(
            Opts::new(
                "gateway_log_lines_dropped_total",
                "Log lines dropped because their output did not keep up (the queue in front of it was full), by stream (access, log).",
            ),
            &["stream"],
        )?;
        for stream in labels::LogStream::ALL {
            lines.with_label_values(&[stream.as_str()]);
        }
        Ok(LogDrops {
            lines,
            sync: std::sync::Mutex::new(()),
        })
    }
}

impl prometheus::core::Collector for LogDrops {
    fn desc(&self) -> Vec<&prometheus::core::Desc> {
        self.lines.desc()
    }

    fn collect(&self) -> Vec<prometheus::proto::MetricFamily> {
        use std::sync::atomic::Ordering;
        let _one = self.sync.lock().unwrap_or_else(|e| e.into_inner());
        for (stream, total) in [
            (labels::LogStream::Access, &ACCESS_DROPPED),
            (labels::LogStream::Log, &LOG_DROPPED),
        ] {
            let counter = self.lines.with_label_values(&[stream.as_str()]);
            let now = total.load(Ordering::Relaxed);
            counter.inc_by(now.saturating_sub(counter.get()));
        }
        self.lines.collect()
    }
}

/// One caller's `gateway_requests_total` handles over the closed label sets
/// (route × method × status class × cache result), each resolved on first use
/// and kept, so the request path indexes an array instead of hashing five label
/// strings. Per route a block is allocated only once that route is used.
pub struct RequestCounters {
    by_route: [OnceLock<Box<[OnceLock<IntCounter>]>>; RouteLabel::ALL.len()],
}

const METHODS: usize = 10;
const STATUS_CLASSES: usize = 5;
/// "none" and every [`LookupResult`].
const CACHE_RESULTS: usize = 1 + LookupResult::ALL.len();

impl Default for RequestCounters {
    fn default() -> Self {
        RequestCounters {
            by_route: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

impl RequestCounters {
    /// The handle of `requests{route, method, status_class, cache, client}`.
    pub fn get(
        &self,
        requests: &Family<IntCounterVec, 5>,
        client: &Configured,
        route: RouteLabel,
        method: &http::Method,
        status: http::StatusCode,
        cache: Option<LookupResult>,
    ) -> &IntCounter {
        let (m, s) = (method_index(method), status_index(status));
        let c = cache.map_or(0, |r| 1 + r.index());
        let block = self.by_route[route.index()].get_or_init(|| {
            (0..METHODS * STATUS_CLASSES * CACHE_RESULTS)
                .map(|_| OnceLock::new())
                .collect()
        });
        block[(m * STATUS_CLASSES + s) * CACHE_RESULTS + c].get_or_init(|| {
            let cache = Vocabulary(cache.map_or("none", LookupResult::label));
            requests.with([
                &route,
                &Vocabulary(METHOD_LABELS[m]),
                &Vocabulary(STATUS_LABELS[s]),
                &cache,
                client,
            ])
        })
    }
}

const METHOD_LABELS: [&str; METHODS] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "OTHER",
];
const STATUS_LABELS: [&str; STATUS_CLASSES] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

fn method_index(method: &http::Method) -> usize {
    use http::Method;
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::PATCH => 4,
        Method::DELETE => 5,
        Method::OPTIONS => 6,
        Method::CONNECT => 7,
        Method::TRACE => 8,
        _ => 9,
    }
}

fn status_index(status: http::StatusCode) -> usize {
    match status.as_u16() {
        100..=199 => 0,
        200..=299 => 1,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}

/// The `method` label (as the table above writes it): the standard methods by name, anything else `OTHER`,
/// so a client sending made-up methods cannot mint new series. Spans name methods the same way.
pub fn method_label(method: &http::Method) -> &'static str {
    METHOD_LABELS[method_index(method)]
}

#[cfg(test)]
fn status_class(status: http::StatusCode) -> &'static str {
    STATUS_LABELS[status_index(status)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_label_is_a_closed_set() {
        assert_eq!(method_label(&http::Method::PATCH), "PATCH");
        let made_up = http::Method::from_bytes(b"CUSTOMER_67D8").unwrap();
        assert_eq!(method_label(&made_up), "OTHER");
    }

    #[test]
    fn request_counters_are_the_labelled_series() {
        let r = Registry::new();
        let m = Metrics::register(&r).unwrap();
        let table = RequestCounters::default();
        let made_up = http::Method::from_bytes(b"BREW").unwrap();
        let svc = Configured::declared("svc");
        for route in RouteLabel::ALL {
            for method in [http::Method::GET, http::Method::TRACE, made_up.clone()] {
                for status in [200, 304, 429, 503] {
                    let status = http::StatusCode::from_u16(status).unwrap();
                    for cache in std::iter::once(None).chain(LookupResult::ALL.map(Some)) {
                        let labels = [
                            route.name(),
                            method_label(&method),
                            status_class(status),
                            cache.map_or("none", LookupResult::label),
                            "svc",
                        ];
                        let series = |l: [&'static str; 5]| {
                            m.requests
                                .with([
                                    &route,
                                    &Vocabulary(l[1]),
                                    &Vocabulary(l[2]),
                                    &Vocabulary(l[3]),
                                    &svc,
                                ])
                                .get()
                        };
                        let before = series(labels);
                        table
                            .get(&m.requests, &svc, route, &method, status, cache)
                            .inc();
                        assert_eq!(series(labels), before + 1, "{labels:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn registries_are_independent() {
        let (a, b) = (Registry::new(), Registry::new());
        let ma = Metrics::register(&a).unwrap();
        Metrics::register(&b).unwrap();
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

#[cfg(test)]
mod readme_tests {
    use super::labels::MaskFailure;

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
