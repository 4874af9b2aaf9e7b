//! The rate-limit breaker: a slow Redis is treated like a failing one. After
//! `rate_limit_breaker_failures` consecutive failed or timed-out limit calls, limited
//! requests go straight to `rate_limit_on_error` for `rate_limit_breaker_cooldown`;
//! then one PING, off the request path, closes it (or opens it for another cooldown).
//! No request ever waits on a Redis the breaker already knows is not answering.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::lease::{mono_ns, ns};
use super::settings::RedisSettings;

#[derive(Default)]
pub(super) struct Breaker {
    failures: AtomicU32,
    /// Open until then (mono ns); 0: closed.
    open_until: AtomicU64,
    probing: AtomicBool,
}

/// What a request may do.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Gate {
    /// Ask Redis.
    Ask,
    /// Do not; and the caller should start a probe.
    Probe,
    /// Do not.
    Skip,
}

impl Breaker {
    pub(super) fn gate(&self) -> Gate {
        let until = self.open_until.load(Ordering::Acquire);
        if until == 0 {
            return Gate::Ask;
        }
        if mono_ns() < until || self.probing.swap(true, Ordering::AcqRel) {
            return Gate::Skip;
        }
        Gate::Probe
    }

    /// True when this success closed an open breaker: a limit call already in flight
    /// when it opened may answer after all, and the caller must then say it closed (the
    /// gauge, the log line) as a probe would.
    pub(super) fn succeeded(&self) -> bool {
        self.failures.store(0, Ordering::Release);
        self.open_until.swap(0, Ordering::AcqRel) != 0
    }

    /// True when this failure opened a closed breaker.
    pub(super) fn failed(&self, s: &RedisSettings) -> bool {
        let n = self.failures.fetch_add(1, Ordering::AcqRel) + 1;
        if n < s.rate_limit_breaker_failures {
            return false;
        }
        let until = mono_ns() + ns(s.rate_limit_breaker_cooldown);
        self.open_until.swap(until, Ordering::AcqRel) == 0
    }

    /// A probe's outcome.
    pub(super) fn probed(&self, ok: bool, s: &RedisSettings) {
        if ok {
            let _ = self.succeeded();
        } else {
            let until = mono_ns() + ns(s.rate_limit_breaker_cooldown);
            self.open_until.store(until, Ordering::Release);
        }
        self.probing.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> RedisSettings {
        let mut raw: super::super::RawCluster = crate::defaults::default_section("cluster");
        raw.redis_url = "redis://127.0.0.1:6379".to_owned();
        raw.rate_limit_breaker_cooldown = std::time::Duration::from_millis(20);
        let mut p = crate::problems::Problems::default();
        raw.check(&mut p).and_then(|c| c.redis).expect("valid")
    }

    #[test]
    fn consecutive_failures_open_it_and_one_probe_closes_it() {
        let (b, s) = (Breaker::default(), settings());
        assert_eq!(b.gate(), Gate::Ask);
        assert!(!b.failed(&s));
        assert!(!b.succeeded(), "it was closed");
        assert!(!b.failed(&s) && !b.failed(&s), "not consecutive before");
        assert!(b.failed(&s), "the third in a row opens it");
        assert_eq!(b.gate(), Gate::Skip);
        std::thread::sleep(std::time::Duration::from_millis(25));
        assert_eq!(b.gate(), Gate::Probe);
        assert_eq!(b.gate(), Gate::Skip, "one probe at a time");
        b.probed(false, &s);
        assert_eq!(b.gate(), Gate::Skip, "failed probe: another cooldown");
        std::thread::sleep(std::time::Duration::from_millis(25));
        assert_eq!(b.gate(), Gate::Probe);
        b.probed(true, &s);
        assert_eq!(b.gate(), Gate::Ask);
    }

    #[test]
    fn a_call_in_flight_that_answers_after_it_opened_closes_it_and_says_so() {
        let (b, s) = (Breaker::default(), settings());
        for _ in 0..s.rate_limit_breaker_failures {
            b.failed(&s);
        }
        assert_eq!(b.gate(), Gate::Skip);
        assert!(b.succeeded(), "the caller must report it closed");
        assert_eq!(b.gate(), Gate::Ask);
        assert!(!b.succeeded());
    }
}
