//! What tests observe and steer: counters, recorded requests, credentials, the global fault.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use bytes::Bytes;
use http::{HeaderMap, Method};

use super::customer_store::CustomerStore;
use super::fault::Fault;
use super::route::Route;

/// How many requests [`SandboxState::requests`] remembers.
pub(crate) const RECORDED_REQUESTS: usize = 1_000;
/// Recorded bodies are cut to this size so the ring stays small even under 8 MiB uploads.
pub(crate) const RECORDED_BODY_LIMIT: usize = 64 * 1024;

/// One request as the sandbox received it, credentials included (tests assert on them).
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    pub method: Method,
    /// HTTP version the request arrived with (HTTP/2 when ALPN chose h2).
    pub version: http::Version,
    pub path_and_query: String,
    pub headers: HeaderMap,
    /// The body, cut to its first 64 KiB.
    pub body: Bytes,
    /// The counter name of the route (see [`SandboxState::request_count`]).
    pub route: &'static str,
}

/// The shared state of a running sandbox.
pub struct SandboxState {
    token: RwLock<Arc<str>>,
    signature_key: RwLock<Arc<[u8]>>,
    fault: RwLock<Option<Arc<Fault>>>,
    counters: [AtomicU64; Route::ALL.len()],
    all: AtomicU64,
    /// Writes acted on (answered 2xx), by route.
    executed: [AtomicU64; Route::ALL.len()],
    recorded: Mutex<VecDeque<RecordedRequest>>,
    pub(crate) customers: CustomerStore,
}

impl SandboxState {
    pub(crate) fn new(token: &str, signature_key: &[u8]) -> Self {
        SandboxState {
            token: RwLock::new(Arc::from(token)),
            signature_key: RwLock::new(Arc::from(signature_key)),
            fault: RwLock::new(None),
            counters: std::array::from_fn(|_| AtomicU64::new(0)),
            all: AtomicU64::new(0),
            executed: std::array::from_fn(|_| AtomicU64::new(0)),
            recorded: Mutex::new(VecDeque::with_capacity(RECORDED_REQUESTS)),
            customers: CustomerStore::default(),
        }
    }

    /// Requests received for a route name (`customer_detail`, `echo`, …, `not_found`), or for
    /// `"all"`; unknown names count 0.
    pub fn request_count(&self, route: &str) -> u64 {
        if route == "all" {
            return self.all.load(Ordering::Relaxed);
        }
        Route::ALL
            .iter()
            .find(|r| r.name() == route)
            .map_or(0, |r| self.counters[r.index()].load(Ordering::Relaxed))
    }

    /// Every counter by name, plus `all`.
    pub fn request_counts(&self) -> Vec<(&'static str, u64)> {
        Route::ALL
            .iter()
            .map(|r| (r.name(), self.counters[r.index()].load(Ordering::Relaxed)))
            .chain(std::iter::once(("all", self.all.load(Ordering::Relaxed))))
            .collect()
    }

    /// Writes (any method but GET, HEAD and OPTIONS) the sandbox acted on — processed
    /// and answered 2xx, or processed and then faulted (`created_silence`,
    /// `created_reset`) — for a route name, or `"all"`. Faulted requests it never
    /// processed (`status`, `reset`, `silence`) do not count: this is how many creates
    /// paycombat would have made.
    pub fn executed_writes(&self, route: &str) -> u64 {
        if route == "all" {
            return self
                .executed
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .sum();
        }
        Route::ALL
            .iter()
            .find(|r| r.name() == route)
            .map_or(0, |r| self.executed[r.index()].load(Ordering::Relaxed))
    }

    /// Every executed-writes counter by name, plus `all`.
    pub fn executed_counts(&self) -> Vec<(&'static str, u64)> {
        Route::ALL
            .iter()
            .map(|r| (r.name(), self.executed[r.index()].load(Ordering::Relaxed)))
            .chain(std::iter::once(("all", self.executed_writes("all"))))
            .collect()
    }

    pub(crate) fn count_executed(&self, route: Route) {
        self.executed[route.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// The last 1,000 requests received, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Rotates the token `/api/v1` requests must carry.
    pub fn set_token(&self, token: &str) {
        *self.token.write().unwrap_or_else(PoisonError::into_inner) = Arc::from(token);
    }

    /// Rotates the key signatures are checked against.
    pub fn set_signature_key(&self, key: &[u8]) {
        *self
            .signature_key
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::from(key);
    }

    /// A fault applied to every request until cleared; an `x-sandbox-fault` header wins over it.
    pub fn set_fault(&self, fault: Option<Fault>) {
        *self.fault.write().unwrap_or_else(PoisonError::into_inner) = fault.map(Arc::new);
    }

    pub fn fault(&self) -> Option<Fault> {
        self.global_fault().map(|f| (*f).clone())
    }

    pub(crate) fn global_fault(&self) -> Option<Arc<Fault>> {
        self.fault
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn token(&self) -> Arc<str> {
        self.token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn signature_key(&self) -> Arc<[u8]> {
        self.signature_key
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn count(&self, route: Route) {
        self.counters[route.index()].fetch_add(1, Ordering::Relaxed);
        self.all.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record(&self, mut request: RecordedRequest) {
        if request.body.len() > RECORDED_BODY_LIMIT {
            request.body.truncate(RECORDED_BODY_LIMIT);
        }
        let mut ring = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        if ring.len() >= RECORDED_REQUESTS {
            ring.pop_front();
        }
        ring.push_back(request);
    }
}

// The token and key are secrets even in a test double.
impl fmt::Debug for SandboxState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxState")
            .field("requests", &self.all.load(Ordering::Relaxed))
            .field("fault", &self.global_fault())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(i: usize) -> RecordedRequest {
        RecordedRequest {
            method: Method::GET,
            version: http::Version::HTTP_11,
            path_and_query: format!("/{i}"),
            headers: HeaderMap::new(),
            body: Bytes::from(vec![0u8; RECORDED_BODY_LIMIT + 10]),
            route: "echo",
        }
    }

    #[test]
    fn ring_keeps_the_latest_thousand_with_bounded_bodies() {
        let state = SandboxState::new("t", b"k");
        for i in 0..RECORDED_REQUESTS + 5 {
            state.record(req(i));
        }
        let all = state.requests();
        assert_eq!(all.len(), RECORDED_REQUESTS);
        assert_eq!(all[0].path_and_query, "/5");
        assert_eq!(all[0].body.len(), RECORDED_BODY_LIMIT);
        state.clear_requests();
        assert!(state.requests().is_empty());
    }

    #[test]
    fn counters_by_name_and_all() {
        let state = SandboxState::new("t", b"k");
        state.count(Route::Echo);
        state.count(Route::Echo);
        state.count(Route::CustomerDetail);
        assert_eq!(state.request_count("echo"), 2);
        assert_eq!(state.request_count("customer_detail"), 1);
        assert_eq!(state.request_count("all"), 3);
        assert_eq!(state.request_count("nope"), 0);
    }

    #[test]
    fn debug_hides_credentials() {
        let state = SandboxState::new("secret-token", b"secret-key");
        let shown = format!("{state:?}");
        assert!(!shown.contains("secret"));
    }
}
