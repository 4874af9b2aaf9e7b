//! The clock the cache, the client rate limits, the upstream circuit breakers and the retry
//! budget read: the system's, or, for tests, the system's plus whatever the test has
//! advanced it by. Freshness, retention, token refills, cool-downs and budget refills then
//! follow a test's `advance` instead of real sleeping, while everything else (socket
//! timeouts, deadlines, retry backoff) keeps real time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Cheap to clone; clones share one offset.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// Nanoseconds added to the system's monotonic time; `None` for the system's clock.
    offset: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system's monotonic clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// The system's clock plus an offset that [`Clock::advance`] grows. It still moves
    /// with real time, so it is never behind it: what the system clock would see expire
    /// (moka's own retention) has expired here too.
    pub fn adjustable() -> Self {
        Self {
            offset: Some(Arc::new(AtomicU64::new(0))),
        }
    }

    pub fn now(&self) -> Instant {
        let now = Instant::now();
        match &self.offset {
            None => now,
            Some(offset) => now + Duration::from_nanos(offset.load(Ordering::Acquire)),
        }
    }

    /// Moves an [`Clock::adjustable`] clock forward by `by` (saturating at about 584
    /// years). The system's clock cannot be moved: a test that advances it is wrong.
    pub fn advance(&self, by: Duration) {
        let Some(offset) = &self.offset else {
            panic!("the system clock cannot be advanced; use Clock::adjustable");
        };
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        // fetch_update never fails here: the closure always returns Some.
        let _ = offset.fetch_update(Ordering::AcqRel, Ordering::Acquire, |o| {
            Some(o.saturating_add(nanos))
        });
    }
}

/// The client rate limits' token buckets read this clock.
impl governor::clock::Clock for Clock {
    type Instant = Instant;

    fn now(&self) -> Instant {
        Clock::now(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adjustable_clock_moves_by_what_it_is_advanced_and_its_clones_agree() {
        let clock = Clock::adjustable();
        let clone = clock.clone();
        let before = clock.now();
        clock.advance(Duration::from_secs(60));
        let after = clone.now();
        assert!(after.duration_since(before) >= Duration::from_secs(60));
        assert!(Clock::system().now() + Duration::from_secs(59) < after);
    }

    #[test]
    #[should_panic(expected = "cannot be advanced")]
    fn the_system_clock_refuses_to_move() {
        Clock::system().advance(Duration::from_secs(1));
    }
}
