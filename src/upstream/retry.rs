//! Retry policy for idempotent reads: which failures are worth a second try,
//! how long to wait, and a budget so retries cannot multiply load on a
//! struggling upstream (at most `ratio` extra requests per request, plus a
//! small floor so a quiet gateway can still retry).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::Rng;

#[derive(Debug)]
pub struct RetryBudget {
    ratio: f64,
    floor_per_second: f64,
    max_tokens: f64,
    state: Mutex<(f64, Instant)>,
}

impl RetryBudget {
    /// Full at `now`; refilled by the times [`RetryBudget::withdraw`] is given.
    pub fn new(ratio: f64, floor_per_second: f64, now: Instant) -> RetryBudget {
        let max_tokens = (floor_per_second * 10.0).max(10.0);
        RetryBudget {
            ratio,
            floor_per_second,
            max_tokens,
            state: Mutex::new((max_tokens, now)),
        }
    }

    /// Every original request earns `ratio` of a retry.
    pub fn deposit(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.0 = (s.0 + self.ratio).min(self.max_tokens);
    }

    /// Takes one retry from the budget, if there is one.
    pub fn withdraw(&self, now: Instant) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let refill = now.saturating_duration_since(s.1).as_secs_f64() * self.floor_per_second;
        s.0 = (s.0 + refill).min(self.max_tokens);
        s.1 = now;
        // Tolerance: ten deposits of 0.2 sum to 1.999…98 in floating point, and must still
        // pay for two retries.
        if s.0 >= 1.0 - 1e-9 {
            s.0 = (s.0 - 1.0).max(0.0);
            true
        } else {
            false
        }
    }
}

/// Full-jitter exponential backoff: uniform in [0, base * 2^attempt], capped.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let cap = base
        .saturating_mul(1 << attempt.min(6))
        .min(Duration::from_secs(2));
    let nanos = cap.as_nanos().min(u128::from(u64::MAX)) as u64;
    Duration::from_nanos(rand::rng().random_range(0..=nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_bounds_retries() {
        let now = Instant::now();
        let b = RetryBudget::new(0.2, 0.0, now);
        let mut granted = 0;
        while b.withdraw(now) {
            granted += 1;
        }
        assert_eq!(granted, 10, "initial allowance");
        for _ in 0..10 {
            b.deposit();
        }
        assert!(b.withdraw(now), "10 requests at 20% earn 2 retries");
        assert!(b.withdraw(now));
        assert!(!b.withdraw(now));
    }

    #[test]
    fn backoff_is_jittered_and_grows() {
        let base = Duration::from_millis(100);
        let waits: Vec<Duration> = (0..200).map(|_| backoff(base, 0)).collect();
        assert!(waits.iter().all(|w| *w <= base));
        let distinct: std::collections::BTreeSet<_> = waits.iter().collect();
        assert!(distinct.len() > 100, "full jitter, not a fixed wait");
        // The cap doubles per attempt: some third-attempt waits exceed the first cap.
        assert!((0..200).any(|_| backoff(base, 2) > base));
        assert!((0..200).all(|_| backoff(base, 2) <= base * 4));
    }

    #[test]
    fn backoff_is_bounded() {
        for attempt in 0..20 {
            assert!(backoff(Duration::from_millis(50), attempt) <= Duration::from_secs(2));
        }
    }
}
