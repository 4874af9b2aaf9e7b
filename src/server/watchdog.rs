//! When a connection should go, decided from periodic samples of its state
//! (no clock of its own, so it is tested without sleeping).
//!
//! - Write stall: a response is waiting on the client and the client made no
//!   room for `write_timeout`. With a body waiting, progress is a frame taken
//!   by hyper (bytes the socket accepted do not count: on HTTP/2 they may be
//!   the gateway's own PING or SETTINGS acknowledgements, which a client can
//!   provoke while keeping every stream's window shut). With only hyper's own
//!   buffer left to send, progress is bytes the socket accepted.
//! - Idle: nothing being handled or sent and no new request for `idle_timeout`.
//! - No first request within `first_request_timeout` (slowloris, or an h2
//!   preface that never completes).

use std::time::Duration;

use super::state::Sample;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Keep,
    Idle,
    WriteStall,
    NoFirstRequest,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub idle_timeout: Duration,
    pub write_timeout: Duration,
    pub first_request_timeout: Duration,
}

impl Limits {
    /// How often to sample: a quarter of the shortest limit, so each fires at
    /// most a quarter late, and never more than once a second per connection.
    pub fn tick(&self) -> Duration {
        let shortest = self
            .idle_timeout
            .min(self.write_timeout)
            .min(self.first_request_timeout);
        (shortest / 4).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }
}

pub struct Watchdog {
    limits: Limits,
    last: Sample,
    age: Duration,
    idle_for: Duration,
    stalled_for: Duration,
}

impl Watchdog {
    pub fn new(limits: Limits) -> Self {
        Watchdog {
            limits,
            last: Sample::default(),
            age: Duration::ZERO,
            idle_for: Duration::ZERO,
            stalled_for: Duration::ZERO,
        }
    }

    /// Takes a sample `elapsed` after the previous one.
    pub fn observe(&mut self, now: Sample, elapsed: Duration) -> Verdict {
        let last = std::mem::replace(&mut self.last, now);
        self.age += elapsed;
        let stalled = if now.owed > 0 {
            now.pulled == last.pulled
        } else {
            now.write_blocked && now.written == last.written
        };
        self.stalled_for = if stalled {
            self.stalled_for + elapsed
        } else {
            Duration::ZERO
        };
        let idle = now.busy == 0 && !now.write_blocked && now.requests == last.requests;
        self.idle_for = if idle {
            self.idle_for + elapsed
        } else {
            Duration::ZERO
        };
        if self.stalled_for >= self.limits.write_timeout {
            Verdict::WriteStall
        } else if now.requests == 0 && self.age >= self.limits.first_request_timeout {
            Verdict::NoFirstRequest
        } else if self.idle_for >= self.limits.idle_timeout {
            Verdict::Idle
        } else {
            Verdict::Keep
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(1);

    fn dog() -> Watchdog {
        Watchdog::new(Limits {
            idle_timeout: 5 * T,
            write_timeout: 3 * T,
            first_request_timeout: 2 * T,
        })
    }

    fn run(d: &mut Watchdog, s: Sample, ticks: u32) -> Verdict {
        let mut v = Verdict::Keep;
        for _ in 0..ticks {
            v = d.observe(s, T);
        }
        v
    }

    #[test]
    fn a_connection_without_a_request_goes_at_the_first_request_timeout() {
        let mut d = dog();
        assert_eq!(run(&mut d, Sample::default(), 1), Verdict::Keep);
        assert_eq!(run(&mut d, Sample::default(), 1), Verdict::NoFirstRequest);
    }

    #[test]
    fn idle_counts_from_the_last_request_and_not_while_busy() {
        let mut d = dog();
        let busy = Sample {
            requests: 1,
            busy: 1,
            ..Sample::default()
        };
        assert_eq!(run(&mut d, busy, 20), Verdict::Keep, "waiting on upstream");
        let done = Sample { busy: 0, ..busy };
        assert_eq!(run(&mut d, done, 4), Verdict::Keep);
        let again = Sample {
            requests: 2,
            ..done
        };
        assert_eq!(
            run(&mut d, again, 1),
            Verdict::Keep,
            "a new request resets idle"
        );
        assert_eq!(run(&mut d, again, 4), Verdict::Keep);
        assert_eq!(run(&mut d, again, 1), Verdict::Idle);
    }

    #[test]
    fn a_body_the_client_never_takes_stalls_even_if_other_bytes_flow() {
        let mut d = dog();
        let mut s = Sample {
            requests: 1,
            busy: 1,
            owed: 1,
            pulled: 3,
            ..Sample::default()
        };
        d.observe(s, T);
        for _ in 0..2 {
            // PING acknowledgements: bytes written, but no frame taken.
            s.written += 17;
            assert_eq!(d.observe(s, T), Verdict::Keep);
        }
        s.written += 17;
        assert_eq!(d.observe(s, T), Verdict::WriteStall);
    }

    #[test]
    fn a_slow_reader_that_keeps_taking_frames_is_kept() {
        let mut d = dog();
        let mut s = Sample {
            requests: 1,
            busy: 1,
            owed: 1,
            ..Sample::default()
        };
        for _ in 0..50 {
            s.pulled += 1;
            assert_eq!(d.observe(s, 2 * T), Verdict::Keep);
        }
    }

    #[test]
    fn a_body_waiting_on_upstream_is_not_a_stall() {
        let mut d = dog();
        let s = Sample {
            requests: 1,
            busy: 1,
            owed: 0,
            ..Sample::default()
        };
        assert_eq!(run(&mut d, s, 30), Verdict::Keep);
    }

    #[test]
    fn a_full_socket_with_the_body_already_buffered_stalls() {
        let mut d = dog();
        let mut s = Sample {
            requests: 1,
            write_blocked: true,
            written: 100,
            ..Sample::default()
        };
        assert_eq!(run(&mut d, s, 2), Verdict::Keep);
        s.written += 1;
        assert_eq!(
            run(&mut d, s, 1),
            Verdict::Keep,
            "progress resets the stall"
        );
        assert_eq!(run(&mut d, s, 2), Verdict::Keep);
        assert_eq!(run(&mut d, s, 1), Verdict::WriteStall);
    }

    proptest::proptest! {
        /// Whatever else happens, a connection that takes a frame and writes every tick is
        /// never a stall, and one with a request in hand is never idle.
        #[test]
        fn progress_is_never_a_stall_and_busy_is_never_idle(
            steps in proptest::collection::vec((0u64..3, 1u64..100, proptest::bool::ANY, 1usize..4, 0usize..4, 1u64..3000), 1..60),
        ) {
            let mut d = dog();
            let mut s = Sample { requests: 1, ..Sample::default() };
            for (new_requests, written, blocked, busy, owed, ms) in steps {
                s.requests += new_requests;
                s.written += written;
                s.write_blocked = blocked;
                s.busy = busy;
                s.owed = owed.min(busy);
                s.pulled += 1;
                let v = d.observe(s, Duration::from_millis(ms));
                proptest::prop_assert!(v != Verdict::WriteStall && v != Verdict::Idle, "{v:?} at {s:?}");
            }
        }
    }

    #[test]
    fn ticks_are_bounded() {
        let l = Limits {
            idle_timeout: Duration::from_secs(60),
            write_timeout: Duration::from_secs(20),
            first_request_timeout: Duration::from_secs(10),
        };
        assert_eq!(l.tick(), Duration::from_secs(1));
        let short = Limits {
            idle_timeout: Duration::from_millis(400),
            ..l
        };
        assert_eq!(short.tick(), Duration::from_millis(100));
    }
}
