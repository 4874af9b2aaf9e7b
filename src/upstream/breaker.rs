//! Circuit breakers for the upstream: one shared, and one per client.
//!
//! After `failure_threshold` failures in a row a circuit opens: requests fail fast (503,
//! or stale where the cache allows) for `cool_down` instead of piling onto a paycombat
//! that is already down. Then one probe is let through (half-open): success closes the
//! circuit, failure opens it again.
//!
//! What counts as a failure, and for whom, is chosen so that no client can fail fast
//! anyone but itself:
//!
//! - **Transport failures** (connect errors, timeouts, connections broken mid-exchange)
//!   feed the **shared** circuit, which fails fast every client. They say the upstream
//!   itself is unreachable or hung; a request's content cannot make a TCP or TLS connect
//!   fail, and a paycombat that stops answering is exactly what the breaker is for.
//! - **HTTP 5xx answers** feed only the circuit of the **client** whose request got them,
//!   which fails fast that client's requests (all routes) and nobody else's. A 5xx is an
//!   answer: the upstream is reachable, and what made it answer 5xx may be the request
//!   (a body that crashes a handler, a known-bad id, a header paycombat's edge rejects
//!   with 503). Counting those on the shared circuit would let one client's requests
//!   take the gateway down for every client. When paycombat really is down and answers
//!   5xx to everyone, every client's circuit opens on its own within `failure_threshold`
//!   of its requests, so the upstream is still spared.
//!
//! Any other answer (1xx–4xx) is a success for both; an answer with 5xx is a success for
//! the shared circuit (the upstream answered). Clients are the authenticated client
//! names (bounded by the clients file; unauthenticated requests share `anonymous`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed,
    Open,
    HalfOpen,
}

impl State {
    /// Gauge value: 0 closed, 1 open, 2 half-open.
    pub fn gauge(self) -> i64 {
        match self {
            State::Closed => 0,
            State::Open => 1,
            State::HalfOpen => 2,
        }
    }
}

#[derive(Debug)]
struct Inner {
    state: State,
    consecutive_failures: u32,
    opened_at: Option<Instant>,
    probe_in_flight: bool,
}

#[derive(Debug)]
pub struct Breaker {
    threshold: u32,
    cool_down: Duration,
    inner: Mutex<Inner>,
}

/// Permission to call upstream; report how it went with `Breaker::record`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    Yes {
        probe: bool,
    },
    /// Fail fast; retry after this long.
    No(Duration),
}

impl Breaker {
    /// `threshold == 0` disables the breaker.
    pub fn new(threshold: u32, cool_down: Duration) -> Breaker {
        Breaker {
            threshold,
            cool_down,
            inner: Mutex::new(Inner {
                state: State::Closed,
                consecutive_failures: 0,
                opened_at: None,
                probe_in_flight: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave it inconsistent (plain fields).
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn admit(&self, now: Instant) -> Admit {
        if self.threshold == 0 {
            return Admit::Yes { probe: false };
        }
        let mut s = self.lock();
        match s.state {
            State::Closed => Admit::Yes { probe: false },
            State::Open => {
                let opened = s.opened_at.unwrap_or(now);
                let elapsed = now.saturating_duration_since(opened);
                if elapsed >= self.cool_down {
                    s.state = State::HalfOpen;
                    s.probe_in_flight = true;
                    Admit::Yes { probe: true }
                } else {
                    Admit::No(self.cool_down - elapsed)
                }
            }
            State::HalfOpen if !s.probe_in_flight => {
                s.probe_in_flight = true;
                Admit::Yes { probe: true }
            }
            // One probe at a time; the others wait for its verdict by failing fast.
            State::HalfOpen => Admit::No(Duration::from_secs(1)),
        }
    }

    /// Records an upstream outcome; returns the state after it.
    pub fn record(&self, success: bool, probe: bool, now: Instant) -> State {
        if self.threshold == 0 {
            return State::Closed;
        }
        let mut s = self.lock();
        if probe {
            s.probe_in_flight = false;
        }
        if success {
            s.consecutive_failures = 0;
            s.state = State::Closed;
            s.opened_at = None;
        } else {
            s.consecutive_failures = s.consecutive_failures.saturating_add(1);
            let trips = s.state == State::HalfOpen || s.consecutive_failures >= self.threshold;
            if trips && s.state != State::Open {
                s.state = State::Open;
                s.opened_at = Some(now);
            }
        }
        s.state
    }

    pub fn state(&self) -> State {
        self.lock().state
    }

    /// Closed with no failures counted: nothing to remember.
    fn is_idle(&self) -> bool {
        let s = self.lock();
        s.state == State::Closed && s.consecutive_failures == 0 && !s.probe_in_flight
    }

    /// Frees the probe slot of a probe whose outcome will never be known
    /// (its request was cancelled): without this the circuit would stay
    /// half-open with a probe "in flight" forever, refusing everything.
    pub fn abandon_probe(&self) {
        let mut s = self.lock();
        if s.state == State::HalfOpen {
            s.probe_in_flight = false;
        }
    }

    /// Tracks one admitted call; if it is dropped before `record`, a probe is abandoned.
    pub fn track(&self, probe: bool) -> Tracked<'_> {
        Tracked {
            breaker: self,
            probe,
            recorded: false,
        }
    }
}

/// Client circuits kept before idle ones are forgotten; well above any clients file.
const MAX_IDLE_CLIENTS: usize = 1024;

/// The shared circuit and the per-client ones (see the module documentation).
#[derive(Debug)]
pub struct Breakers {
    threshold: u32,
    cool_down: Duration,
    shared: Breaker,
    clients: Mutex<HashMap<Arc<str>, Arc<Breaker>>>,
}

impl Breakers {
    /// `threshold == 0` disables every circuit.
    pub fn new(threshold: u32, cool_down: Duration) -> Breakers {
        Breakers {
            threshold,
            cool_down,
            shared: Breaker::new(threshold, cool_down),
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// The circuit every client shares (transport failures).
    pub fn shared(&self) -> &Breaker {
        &self.shared
    }

    /// `client`'s own circuit (5xx answers to its requests).
    pub fn client(&self, client: &str) -> Arc<Breaker> {
        let mut map = self.lock();
        if let Some(b) = map.get(client) {
            return b.clone();
        }
        if map.len() >= MAX_IDLE_CLIENTS {
            map.retain(|_, b| !b.is_idle());
        }
        let b = Arc::new(Breaker::new(self.threshold, self.cool_down));
        map.insert(Arc::from(client), b.clone());
        b
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Arc<Breaker>>> {
        self.clients.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state of every circuit, for the gauges.
    pub fn summary(&self) -> Summary {
        let rank = |s: State| match s {
            State::Closed => 0,
            State::HalfOpen => 1,
            State::Open => 2,
        };
        let shared = self.shared.state();
        let mut worst = shared;
        let mut clients_not_closed = 0;
        for b in self.lock().values() {
            let state = b.state();
            if state != State::Closed {
                clients_not_closed += 1;
            }
            if rank(state) > rank(worst) {
                worst = state;
            }
        }
        Summary {
            shared,
            worst,
            clients_not_closed,
        }
    }
}

/// See [`Breakers::summary`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub shared: State,
    /// Open if any circuit is open, else half-open if any is, else closed: whether some
    /// calls fail fast (`gateway_circuit_breaker_state`).
    pub worst: State,
    /// Clients whose own circuit is open or half-open.
    pub clients_not_closed: usize,
}

/// An admitted upstream call whose outcome is still to be recorded.
pub struct Tracked<'a> {
    breaker: &'a Breaker,
    probe: bool,
    recorded: bool,
}

impl Tracked<'_> {
    /// Records the outcome; returns the state after it.
    pub fn record(mut self, success: bool, now: Instant) -> State {
        self.recorded = true;
        self.breaker.record(success, self.probe, now)
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        if self.probe && !self.recorded {
            self.breaker.abandon_probe();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_threshold_then_probes_once() {
        let b = Breaker::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(b.admit(t0), Admit::Yes { probe: false });
            assert_eq!(b.record(false, false, t0), State::Closed);
        }
        assert_eq!(b.record(false, false, t0), State::Open);
        assert!(
            matches!(b.admit(t0 + Duration::from_secs(4)), Admit::No(d) if d == Duration::from_secs(6))
        );
        let later = t0 + Duration::from_secs(10);
        assert_eq!(b.admit(later), Admit::Yes { probe: true });
        assert!(matches!(b.admit(later), Admit::No(_)), "only one probe");
        assert_eq!(
            b.record(false, true, later),
            State::Open,
            "failed probe reopens"
        );
        assert!(matches!(
            b.admit(later + Duration::from_secs(1)),
            Admit::No(_)
        ));
        let again = later + Duration::from_secs(10);
        assert_eq!(b.admit(again), Admit::Yes { probe: true });
        assert_eq!(b.record(true, true, again), State::Closed);
        assert_eq!(b.admit(again), Admit::Yes { probe: false });
    }

    #[test]
    fn success_resets_the_count() {
        let b = Breaker::new(2, Duration::from_secs(1));
        let t = Instant::now();
        b.record(false, false, t);
        b.record(true, false, t);
        assert_eq!(b.record(false, false, t), State::Closed);
    }

    #[test]
    fn an_abandoned_probe_frees_the_slot() {
        let b = Breaker::new(1, Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(b.record(false, false, t0), State::Open);
        let later = t0 + Duration::from_secs(1);
        assert_eq!(b.admit(later), Admit::Yes { probe: true });
        drop(b.track(true));
        assert_eq!(b.state(), State::HalfOpen);
        assert_eq!(
            b.admit(later),
            Admit::Yes { probe: true },
            "a new probe may go"
        );
        assert_eq!(b.track(true).record(true, later), State::Closed);
        // A recorded probe is not abandoned again.
        assert_eq!(b.record(false, false, later), State::Open);
        let again = later + Duration::from_secs(1);
        assert_eq!(b.admit(again), Admit::Yes { probe: true });
        assert_eq!(b.track(true).record(false, again), State::Open);
        assert!(matches!(b.admit(again), Admit::No(_)));
    }

    #[test]
    fn one_clients_circuit_leaves_the_others_and_the_shared_one_closed() {
        let b = Breakers::new(2, Duration::from_secs(10));
        let t = Instant::now();
        let a = b.client("a");
        for _ in 0..2 {
            assert_eq!(a.admit(t), Admit::Yes { probe: false });
            a.record(false, false, t);
        }
        assert!(
            matches!(b.client("a").admit(t), Admit::No(_)),
            "the same circuit"
        );
        assert_eq!(b.client("b").admit(t), Admit::Yes { probe: false });
        assert_eq!(b.shared().admit(t), Admit::Yes { probe: false });
        assert_eq!(
            b.summary(),
            Summary {
                shared: State::Closed,
                worst: State::Open,
                clients_not_closed: 1,
            }
        );
        b.shared().record(false, false, t);
        b.shared().record(false, false, t);
        assert_eq!(b.summary().shared, State::Open);
        assert!(matches!(b.shared().admit(t), Admit::No(_)));
    }

    #[test]
    fn idle_client_circuits_are_forgotten_past_the_bound() {
        let b = Breakers::new(1, Duration::from_secs(10));
        let t = Instant::now();
        b.client("tripped").record(false, false, t);
        for n in 0..MAX_IDLE_CLIENTS + 10 {
            b.client(&format!("c{n}"));
        }
        assert!(b.lock().len() <= MAX_IDLE_CLIENTS + 1);
        assert_eq!(b.client("tripped").state(), State::Open, "kept: not idle");
    }

    #[test]
    fn zero_threshold_disables() {
        let b = Breaker::new(0, Duration::from_secs(1));
        let t = Instant::now();
        for _ in 0..100 {
            b.record(false, false, t);
        }
        assert_eq!(b.admit(t), Admit::Yes { probe: false });
    }
}
