//! The open connections of one listener: the cap, shedding idle connections
//! to admit new ones, and the counts the metrics report.
//!
//! At the cap, a new connection is admitted by evicting the oldest idle one
//! (nothing being handled or sent), so a client holding idle connections
//! cannot lock others out; only when every connection is busy is the new one
//! refused. Evicted connections close gracefully (GOAWAY on h2) and count
//! against a hard ceiling until they have, so a burst of new connections
//! cannot push the total far past the cap.

use super::metrics::{Listener, ServerMetrics};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use prometheus::{IntCounter, IntGauge};
use tokio::sync::Notify;

use super::state::ConnState;

/// Why a connection ended: a closed set, the `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// The client closed it (or hyper finished it cleanly).
    ByClient,
    /// Nothing to do for `server.idle_timeout`.
    Idle,
    /// Shed at the cap to admit a new connection.
    Evicted,
    /// Refused at once: at the cap and every connection busy.
    RefusedCap,
    /// No complete request head within `server.header_read_timeout`.
    HeaderTimeout,
    /// A response waited on the client for `server.response_write_timeout`.
    WriteStall,
    /// Closed by shutdown.
    Drained,
    /// A protocol or I/O error.
    Error,
    /// The TLS handshake failed (gateway_tls_handshake_failures_total says why).
    TlsHandshake,
}

impl Closed {
    pub const ALL: [Closed; 9] = [
        Closed::ByClient,
        Closed::Idle,
        Closed::Evicted,
        Closed::RefusedCap,
        Closed::HeaderTimeout,
        Closed::WriteStall,
        Closed::Drained,
        Closed::Error,
        Closed::TlsHandshake,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Closed::ByClient => "client_closed",
            Closed::Idle => "idle",
            Closed::Evicted => "evicted",
            Closed::RefusedCap => "refused_cap",
            Closed::HeaderTimeout => "header_timeout",
            Closed::WriteStall => "write_stall",
            Closed::Drained => "drained",
            Closed::Error => "error",
            Closed::TlsHandshake => "tls_handshake",
        }
    }
}

pub struct Registry {
    cap: usize,
    conns: Mutex<Conns>,
    empty: Notify,
    open: IntGauge,
    closed: [IntCounter; Closed::ALL.len()],
}

#[derive(Default)]
struct Conns {
    next_id: u64,
    /// By admission order, so the oldest idle connection is found first.
    open: BTreeMap<u64, Arc<ConnState>>,
    evicting: usize,
}

/// An admitted connection; dropping it removes it from the registry.
pub struct Admitted {
    registry: Arc<Registry>,
    id: u64,
}

impl Registry {
    pub fn new(cap: usize, listener: Listener, metrics: &ServerMetrics) -> Arc<Registry> {
        let closed = Closed::ALL.map(|r| metrics.connections_closed.with([&listener, &r]));
        Arc::new(Registry {
            cap,
            conns: Mutex::new(Conns::default()),
            empty: Notify::new(),
            open: metrics.connections_open.with([&listener]),
            closed,
        })
    }

    pub fn closed(&self, reason: Closed) {
        self.closed[reason as usize].inc();
    }

    pub fn count(&self) -> usize {
        self.lock().open.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Conns> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits `state`, evicting the oldest idle connection if at the cap;
    /// None (counted as `refused_cap`) when none can be shed.
    pub fn admit(self: &Arc<Self>, state: Arc<ConnState>) -> Option<Admitted> {
        let mut c = self.lock();
        if c.open.len() - c.evicting >= self.cap {
            // Evicted connections still closing count up to a second cap's worth.
            let shed = (c.open.len() < self.cap * 2)
                .then(|| {
                    c.open
                        .values()
                        .find(|s| !s.is_evicted() && s.is_idle())
                        .cloned()
                })
                .flatten();
            match shed {
                Some(victim) if victim.evict() => c.evicting += 1,
                _ => {
                    drop(c);
                    self.closed(Closed::RefusedCap);
                    return None;
                }
            }
        }
        let id = c.next_id;
        c.next_id += 1;
        c.open.insert(id, state);
        self.open.inc();
        Some(Admitted {
            registry: self.clone(),
            id,
        })
    }

    /// Resolves once no connection is open.
    pub async fn drained(&self) {
        loop {
            let notified = self.empty.notified();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut c = self.registry.lock();
        if let Some(s) = c.open.remove(&self.id) {
            if s.is_evicted() {
                c.evicting -= 1;
            }
        }
        let empty = c.open.is_empty();
        drop(c);
        self.registry.open.dec();
        if empty {
            self.registry.empty.notify_waiters();
        }
    }
}

crate::label_by!(Closed);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::state::Busy;

    fn registry(cap: usize) -> Arc<Registry> {
        let m = ServerMetrics::register(&prometheus::Registry::new()).unwrap();
        Registry::new(cap, Listener::Api, &m)
    }

    #[test]
    fn at_the_cap_the_oldest_idle_connection_is_shed_and_busy_ones_never() {
        let r = registry(2);
        let (a, b) = (
            Arc::new(ConnState::default()),
            Arc::new(ConnState::default()),
        );
        let _busy_a = Busy::enter(&a);
        let _ga = r.admit(a.clone()).unwrap();
        let gb = r.admit(b.clone()).unwrap();
        let c = Arc::new(ConnState::default());
        let _gc = r.admit(c.clone()).expect("b was idle: shed for c");
        assert!(!a.is_evicted() && b.is_evicted() && !c.is_evicted());
        let _busy_c = Busy::enter(&c);
        assert!(
            r.admit(Arc::new(ConnState::default())).is_none(),
            "every live connection busy: refused"
        );
        assert_eq!(r.closed[Closed::RefusedCap as usize].get(), 1);
        drop(gb);
        assert_eq!((r.count(), r.lock().evicting, r.open.get()), (2, 0, 2));
    }

    #[test]
    fn evictions_still_closing_are_bounded() {
        let r = registry(1);
        let mut held = Vec::new();
        for _ in 0..5 {
            if let Some(g) = r.admit(Arc::new(ConnState::default())) {
                held.push(g);
            }
        }
        assert_eq!(
            r.count(),
            2,
            "at most twice the cap while evicted ones close"
        );
    }
}
