//! What one client connection is doing, as a few atomics the request path
//! updates and the connection's watchdog samples.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

use crate::outcome::ConnEnd;

#[derive(Default)]
pub struct ConnState {
    /// Bytes the socket accepted.
    written: AtomicU64,
    /// The socket's last write returned `Pending` and none has succeeded since.
    write_blocked: AtomicBool,
    /// Requests the service was called for.
    requests: AtomicU64,
    /// Requests being handled, or whose response body is still alive.
    busy: AtomicUsize,
    /// Response bodies that handed hyper a frame (or have yet to be polled) and
    /// are waiting for hyper to take the next one: hyper only does that once the
    /// client made room (socket buffer on HTTP/1.1, flow-control window on h2).
    owed: AtomicUsize,
    /// Frames response bodies handed to hyper: progress on behalf of the client.
    pulled: AtomicU64,
    /// Set once by the registry when this idle connection is shed for a new one.
    evicted: AtomicBool,
    evict: Notify,
    /// Why the connection ended, for the requests it drops (`crate::outcome`).
    pub end: ConnEnd,
}

/// One look at a connection, for the watchdog.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    pub written: u64,
    pub write_blocked: bool,
    pub requests: u64,
    pub busy: usize,
    pub owed: usize,
    pub pulled: u64,
}

impl ConnState {
    pub fn sample(&self) -> Sample {
        Sample {
            written: self.written.load(Ordering::Relaxed),
            write_blocked: self.write_blocked.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            busy: self.busy.load(Ordering::Relaxed),
            owed: self.owed.load(Ordering::Relaxed),
            pulled: self.pulled.load(Ordering::Relaxed),
        }
    }

    pub fn wrote(&self, n: usize) {
        self.written.fetch_add(n as u64, Ordering::Relaxed);
        self.write_blocked.store(false, Ordering::Relaxed);
    }

    pub fn write_blocked(&self) {
        self.write_blocked.store(true, Ordering::Relaxed);
    }

    pub fn is_idle(&self) -> bool {
        self.busy.load(Ordering::Relaxed) == 0 && !self.write_blocked.load(Ordering::Relaxed)
    }

    pub fn set_owed(&self, owed: bool) {
        if owed {
            self.owed.fetch_add(1, Ordering::Relaxed);
        } else {
            self.owed.fetch_sub(1, Ordering::Relaxed);
        }
    }

    pub fn pulled(&self) {
        self.pulled.fetch_add(1, Ordering::Relaxed);
    }

    /// Asks the connection to close; false if it was already asked.
    pub fn evict(&self) -> bool {
        if self.evicted.swap(true, Ordering::Relaxed) {
            return false;
        }
        self.evict.notify_one();
        true
    }

    pub fn is_evicted(&self) -> bool {
        self.evicted.load(Ordering::Relaxed)
    }

    pub async fn evicted(&self) {
        self.evict.notified().await;
    }
}

/// Marks one request busy from the service call until its response body is
/// dropped (or, if the handler is cancelled, until the handler is).
pub struct Busy(Arc<ConnState>);

impl Busy {
    pub fn enter(state: &Arc<ConnState>) -> Busy {
        state.requests.fetch_add(1, Ordering::Relaxed);
        state.busy.fetch_add(1, Ordering::Relaxed);
        Busy(state.clone())
    }

    pub fn state(&self) -> &ConnState {
        &self.0
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}
