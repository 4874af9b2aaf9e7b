//! A table of `gateway_requests_total` handles over its closed label sets
//! (route × method × status class × cache result), for the family the proxy
//! registers and hands in. Plumbing, not a family: it lives under the registry
//! because each client's table is held by the client (`auth`), below the proxy.

use std::sync::OnceLock;

use prometheus::{IntCounter, IntCounterVec};

use super::{Configured, Family, Label};
use crate::outcome::LookupResult;
use crate::route::RouteLabel;

crate::label_enum! {
    /// `method` of the request families: the standard methods by name, anything else
    /// `OTHER`, so a client sending made-up methods cannot mint new series.
    pub enum MethodLabel {
        Get => "GET",
        Head => "HEAD",
        Post => "POST",
        Put => "PUT",
        Patch => "PATCH",
        Delete => "DELETE",
        Options => "OPTIONS",
        Connect => "CONNECT",
        Trace => "TRACE",
        Other => "OTHER",
    }
}

crate::label_enum! {
    /// `status_class` of `gateway_requests_total`.
    pub enum StatusClass {
        Informational => "1xx",
        Success => "2xx",
        Redirection => "3xx",
        ClientError => "4xx",
        ServerError => "5xx",
    }
}

/// `cache` of `gateway_requests_total`: how a cached route was answered, `none` on
/// every other route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CacheColumn(pub Option<LookupResult>);

impl Label for CacheColumn {
    fn as_str(&self) -> &str {
        self.0.map_or("none", LookupResult::label)
    }
}

impl MethodLabel {
    pub fn of(method: &http::Method) -> MethodLabel {
        use http::Method;
        match *method {
            Method::GET => MethodLabel::Get,
            Method::HEAD => MethodLabel::Head,
            Method::POST => MethodLabel::Post,
            Method::PUT => MethodLabel::Put,
            Method::PATCH => MethodLabel::Patch,
            Method::DELETE => MethodLabel::Delete,
            Method::OPTIONS => MethodLabel::Options,
            Method::CONNECT => MethodLabel::Connect,
            Method::TRACE => MethodLabel::Trace,
            _ => MethodLabel::Other,
        }
    }
}

impl StatusClass {
    pub fn of(status: http::StatusCode) -> StatusClass {
        match status.as_u16() {
            100..=199 => StatusClass::Informational,
            200..=299 => StatusClass::Success,
            300..=399 => StatusClass::Redirection,
            400..=499 => StatusClass::ClientError,
            _ => StatusClass::ServerError,
        }
    }
}

/// One caller's `gateway_requests_total` handles, each resolved on first use
/// and kept, so the request path indexes an array instead of hashing five label
/// strings. Per route a block is allocated only once that route is used.
pub struct RequestCounters {
    by_route: [OnceLock<Box<[OnceLock<IntCounter>]>>; RouteLabel::ALL.len()],
}

const METHODS: usize = MethodLabel::ALL.len();
const STATUS_CLASSES: usize = StatusClass::ALL.len();
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
        let (m, s) = (MethodLabel::of(method), StatusClass::of(status));
        let c = cache.map_or(0, |r| 1 + r.index());
        let block = self.by_route[route.index()].get_or_init(|| {
            (0..METHODS * STATUS_CLASSES * CACHE_RESULTS)
                .map(|_| OnceLock::new())
                .collect()
        });
        block[(m as usize * STATUS_CLASSES + s as usize) * CACHE_RESULTS + c]
            .get_or_init(|| requests.with([&route, &m, &s, &CacheColumn(cache), client]))
    }
}

/// The `method` label: the standard methods by name, anything else `OTHER`, so a client
/// sending made-up methods cannot mint new series. Spans name methods the same way.
pub fn method_label(method: &http::Method) -> &'static str {
    MethodLabel::of(method).as_str()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::labels::Vocabulary;
    use prometheus::Registry;

    fn status_class(status: http::StatusCode) -> &'static str {
        StatusClass::of(status).as_str()
    }

    #[test]
    fn method_label_is_a_closed_set() {
        assert_eq!(method_label(&http::Method::PATCH), "PATCH");
        let made_up = http::Method::from_bytes(b"CUSTOMER_67D8").unwrap();
        assert_eq!(method_label(&made_up), "OTHER");
    }

    #[test]
    fn request_counters_are_the_labelled_series() {
        let r = Registry::new();
        // The family as the proxy registers it (`proxy::RequestMetrics`).
        let requests = crate::metrics::counter(
            &r,
            "gateway_requests_total",
            "requests",
            &["route", "method", "status_class", "cache", "client"],
        )
        .unwrap();
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
                            requests
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
                            .get(&requests, &svc, route, &method, status, cache)
                            .inc();
                        assert_eq!(series(labels), before + 1, "{labels:?}");
                    }
                }
            }
        }
    }
}
