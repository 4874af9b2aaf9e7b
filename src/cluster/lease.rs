//! The lease: how long this replica may answer from its cache.
//!
//! A heartbeat this replica sent at `t0` (its monotonic clock) and received back through
//! its own subscription proves that every invalidation Redis ran before that heartbeat
//! has been read, and applied, by this replica (one connection delivers messages in the
//! order Redis ran them, and they are applied in the order read). A writer waits `lease`
//! after Redis acknowledged its invalidation; so a lease from a heartbeat sent at `t0`
//! may be trusted until `t0 + lease` and no longer. Checking it is one atomic load and
//! one clock read, on every cache hit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

/// The process's monotonic zero.
static ZERO: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Nanoseconds on the monotonic clock (never 0, so 0 can mean "never").
pub(crate) fn mono_ns() -> u64 {
    ZERO.elapsed().as_nanos() as u64 + 1
}

pub(crate) fn ns(d: Duration) -> u64 {
    d.as_nanos() as u64
}

/// Sent heartbeats kept waiting for their echo at most this many (a bound, not a limit
/// reached in practice: one a `heartbeat_interval`, forgotten after a lease).
const MAX_SENT: usize = 1024;

#[derive(Default)]
pub(super) struct Lease {
    /// Valid while `mono_ns() < until`.
    until: AtomicU64,
    /// When each of this replica's heartbeats still in flight was sent, by message id.
    sent: Mutex<HashMap<u64, u64>>,
    /// One of this replica's heartbeats got no reply within `command_timeout`: Redis (or
    /// the link to it) stalled. Another replica's invalidation sent during the stall may
    /// run after heartbeats this one sends at its end, so the next echo drops the cache
    /// before it renews anything.
    stalled: AtomicBool,
    /// Whether `until` was in the future at the last check (for counting losses).
    was_held: AtomicBool,
}

/// What an echo did.
pub(super) enum Renewal {
    /// Not one of this replica's heartbeats in flight (an old one, or forgotten).
    Unknown,
    /// Renewed; the lease was not held just before.
    Acquired,
    Renewed,
}

impl Lease {
    pub(super) fn held(&self) -> bool {
        mono_ns() < self.until.load(Ordering::Acquire)
    }

    /// Records a heartbeat about to be sent.
    pub(super) fn sending(&self, id: u64, lease: Duration) {
        let now = mono_ns();
        let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        if sent.len() >= MAX_SENT {
            sent.retain(|_, at| now.saturating_sub(*at) < ns(lease));
        }
        if sent.len() < MAX_SENT {
            sent.insert(id, now);
        }
    }

    /// A heartbeat's PUBLISH got no reply in time.
    pub(super) fn stalled(&self) {
        self.stalled.store(true, Ordering::Release);
    }

    /// Whether the next echo must drop the cache first (and clears the mark).
    pub(super) fn take_stalled(&self) -> bool {
        self.stalled.swap(false, Ordering::AcqRel)
    }

    /// Heartbeat `id` came back through the subscription (after everything read before
    /// it was applied, and the cache dropped if [`Self::take_stalled`] said so).
    pub(super) fn echoed(&self, id: u64, lease: Duration) -> Renewal {
        let Some(sent_at) = self
            .sent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id)
        else {
            return Renewal::Unknown;
        };
        let was = self.held();
        self.until.fetch_max(sent_at + ns(lease), Ordering::AcqRel);
        if was {
            Renewal::Renewed
        } else {
            Renewal::Acquired
        }
    }

    /// Gives the lease up at once (a subscription that ends delivers nothing more, so
    /// nothing would renew it anyway; this just stops trusting the cache sooner).
    pub(super) fn drop_now(&self) {
        self.until.store(0, Ordering::Release);
    }

    /// True once for each time a held lease was found expired.
    pub(super) fn lost_since_last_check(&self) -> bool {
        let held = self.held();
        let was = self.was_held.swap(held, Ordering::AcqRel);
        was && !held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_runs_from_when_the_heartbeat_was_sent() {
        let lease = Lease::default();
        assert!(!lease.held(), "nothing came back yet");
        lease.sending(1, Duration::from_millis(40));
        std::thread::sleep(Duration::from_millis(50));
        assert!(matches!(
            lease.echoed(1, Duration::from_millis(40)),
            Renewal::Acquired
        ));
        assert!(
            !lease.held(),
            "sent 50 ms ago with a 40 ms lease: already over"
        );
        lease.sending(2, Duration::from_secs(5));
        assert!(matches!(
            lease.echoed(2, Duration::from_secs(5)),
            Renewal::Acquired
        ));
        assert!(lease.held());
        assert!(matches!(
            lease.echoed(2, Duration::from_secs(5)),
            Renewal::Unknown
        ));
        lease.drop_now();
        assert!(!lease.held());
    }

    #[test]
    fn a_stall_is_reported_once() {
        let lease = Lease::default();
        assert!(!lease.take_stalled());
        lease.stalled();
        assert!(lease.take_stalled());
        assert!(!lease.take_stalled());
    }

    #[test]
    fn losses_are_counted_once() {
        let lease = Lease::default();
        lease.sending(1, Duration::from_millis(20));
        lease.echoed(1, Duration::from_millis(20));
        assert!(!lease.lost_since_last_check());
        std::thread::sleep(Duration::from_millis(30));
        assert!(lease.lost_since_last_check());
        assert!(!lease.lost_since_last_check());
    }
}
