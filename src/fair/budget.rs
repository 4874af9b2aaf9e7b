//! A global bound on response bytes the gateway holds in memory.
//!
//! Every inspected body is buffered (it must be whole to be parsed and
//! masked), and the masked output then waits in memory until the client has
//! read it. Without a shared bound, many clients that ask for large bodies
//! and never read them grow memory without limit; with it, memory stays under
//! `upstream.max_buffered_bytes` whatever clients do, and an inspection that
//! finds the budget spent waits `upstream.buffer_wait` for room, then gets
//! 503 GATEWAY_OVERLOADED. One caller may hold at most its share of it
//! (`upstream.per_client.buffer_share`): beyond that its own inspections get
//! 503 CLIENT_CAPACITY_EXCEEDED at once, and other callers still find room.

use super::Resource;
use crate::metrics::{Configured, Family};
use std::sync::Arc;
use std::time::Duration;

use prometheus::{IntCounter, IntCounterVec, IntGauge};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::{share_of, Caller, Held, Shares};
use crate::error::GatewayError;

/// Granularity of the accounting: one semaphore operation per 64 KiB keeps
/// small JSON bodies at a single acquire.
const UNIT: usize = 64 * 1024;

pub struct BodyBudget {
    sem: Arc<Semaphore>,
    wait: Duration,
    units: usize,
    held: IntGauge,
    exhausted: IntCounter,
    /// Each caller's units; the semaphore alone bounds the total.
    shares: Arc<Shares>,
    refusals: Family<IntCounterVec, 2>,
}

/// Bytes reserved for one response; given back when dropped.
pub struct Reservation {
    permit: Option<OwnedSemaphorePermit>,
    units: usize,
    held: Option<IntGauge>,
    share: Held,
    caller: Configured,
}

impl Reservation {
    /// Gives back everything above `total` bytes (once the buffers a body
    /// went through are freed and only its final form is held).
    pub fn shrink_to(&mut self, total: usize) {
        let keep = total.div_ceil(UNIT);
        if keep >= self.units {
            return;
        }
        let excess = self.units - keep;
        if let Some(p) = &mut self.permit {
            drop(p.split(excess));
        }
        self.share.shrink_to(keep);
        self.units = keep;
        if let Some(g) = &self.held {
            g.sub((excess * UNIT) as i64);
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(g) = &self.held {
            g.sub((self.units * UNIT) as i64);
        }
    }
}

impl BodyBudget {
    pub fn new(
        max_bytes: usize,
        wait: Duration,
        buffer_share: f64,
        held: IntGauge,
        (exhausted, refusals): (IntCounter, Family<IntCounterVec, 2>),
    ) -> Self {
        let units = max_bytes.div_ceil(UNIT).max(1);
        BodyBudget {
            sem: Arc::new(Semaphore::new(units)),
            wait,
            units,
            held,
            exhausted,
            // The semaphore bounds the total; the shares only each caller (a
            // share of the whole budget is no bound at all).
            shares: Shares::new(
                usize::MAX,
                Some(share_of(units, buffer_share))
                    .filter(|&per| per < units)
                    .unwrap_or(usize::MAX),
            ),
            refusals,
        }
    }

    /// An empty reservation charged to `caller`'s share.
    pub fn reservation(&self, caller: &Caller) -> Reservation {
        Reservation {
            permit: None,
            units: 0,
            held: Some(self.held.clone()),
            share: self.shares.hold(&caller.key),
            caller: caller.label.clone(),
        }
    }

    /// Grows `r` to cover `total` bytes if there is room now, without
    /// waiting or counting a refusal (a relay spills to disk instead).
    pub fn try_cover(&self, r: &mut Reservation, total: usize) -> bool {
        let want = total.div_ceil(UNIT);
        if want <= r.units {
            return true;
        }
        let more = want - r.units;
        let Ok(n) = u32::try_from(more) else {
            return false;
        };
        if r.share.grow(more).is_err() {
            return false;
        }
        match self.sem.clone().try_acquire_many_owned(n) {
            Ok(permit) => {
                self.add(r, permit, want, more);
                true
            }
            Err(_) => {
                r.share.shrink_to(r.units);
                false
            }
        }
    }

    fn add(&self, r: &mut Reservation, permit: OwnedSemaphorePermit, want: usize, more: usize) {
        match &mut r.permit {
            Some(p) => p.merge(permit),
            None => r.permit = Some(permit),
        }
        r.units = want;
        self.held.add((more * UNIT) as i64);
    }

    /// Grows `r` so it covers at least `total` bytes.
    pub async fn cover(&self, r: &mut Reservation, total: usize) -> Result<(), GatewayError> {
        let want = total.div_ceil(UNIT);
        if want <= r.units {
            return Ok(());
        }
        let more = want - r.units;
        if more > self.units {
            // Larger than the whole budget: waiting cannot help.
            self.exhausted.inc();
            return Err(GatewayError::Overloaded);
        }
        // `more` fits in u32: it is at most `self.units`, itself from a usize
        // byte count divided by 64 KiB, and semaphores cap permits far lower.
        let n = u32::try_from(more).map_err(|_| GatewayError::Overloaded)?;
        if r.share.grow(more).is_err() {
            self.refusals
                .with([&r.caller, &Resource::ResponseBuffer])
                .inc();
            return Err(GatewayError::ClientCapacity {
                resource: "response buffers",
            });
        }
        let permit = match self.sem.clone().try_acquire_many_owned(n) {
            Ok(p) => p,
            Err(_) => {
                match tokio::time::timeout(self.wait, self.sem.clone().acquire_many_owned(n)).await
                {
                    Ok(Ok(p)) => p,
                    _ => {
                        r.share.shrink_to(r.units);
                        self.exhausted.inc();
                        tracing::warn!(
                            bytes = total,
                            "response buffer budget exhausted; refusing the inspection"
                        );
                        return Err(GatewayError::Overloaded);
                    }
                }
            }
        };
        self.add(r, permit, want, more);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget_shared(bytes: usize, share: f64) -> BodyBudget {
        BodyBudget::new(
            bytes,
            Duration::from_millis(20),
            share,
            IntGauge::new("held", "h").unwrap(),
            (
                IntCounter::new("exhausted", "e").unwrap(),
                Family::new(
                    IntCounterVec::new(prometheus::Opts::new("r", "r"), &["client", "resource"])
                        .unwrap(),
                ),
            ),
        )
    }

    fn budget(bytes: usize) -> BodyBudget {
        budget_shared(bytes, 1.0)
    }

    fn caller(name: &str) -> Caller {
        let name = Configured::declared(name);
        Caller::new(Some(&name), [127, 0, 0, 1].into(), &name)
    }

    #[tokio::test]
    async fn one_caller_holds_at_most_its_share() {
        let b = budget_shared(4 * UNIT, 0.5);
        let mut hog = b.reservation(&caller("hog"));
        b.cover(&mut hog, 2 * UNIT).await.unwrap();
        let refused = b.cover(&mut hog, 3 * UNIT).await.unwrap_err();
        assert_eq!(refused.code(), "CLIENT_CAPACITY_EXCEEDED");
        assert_eq!(
            b.refusals
                .with([&Configured::declared("hog"), &Resource::ResponseBuffer])
                .get(),
            1
        );
        assert!(!b.try_cover(&mut hog, 3 * UNIT));
        // Another caller still has room for its own share.
        let mut other = b.reservation(&caller("other"));
        assert!(b.try_cover(&mut other, 2 * UNIT));
        hog.shrink_to(UNIT);
        b.cover(&mut hog, 2 * UNIT).await.unwrap();
        drop((hog, other));
        assert_eq!(b.sem.available_permits(), 4);
        assert_eq!(b.held.get(), 0);
    }

    #[tokio::test]
    async fn reservations_are_bounded_and_given_back() {
        let b = budget(4 * UNIT);
        let mut first = b.reservation(&caller("a"));
        b.cover(&mut first, 3 * UNIT).await.unwrap();
        assert_eq!(b.held.get(), (3 * UNIT) as i64);
        let mut second = b.reservation(&caller("a"));
        assert!(b.cover(&mut second, 2 * UNIT).await.is_err());
        assert_eq!(b.exhausted.get(), 1);
        // Growing by what is left works; growing to what is held is free.
        b.cover(&mut second, UNIT).await.unwrap();
        b.cover(&mut second, 10).await.unwrap();
        drop(first);
        assert_eq!(b.held.get(), UNIT as i64);
        b.cover(&mut second, 4 * UNIT).await.unwrap();
        second.shrink_to(UNIT + 1);
        assert_eq!(b.held.get(), (2 * UNIT) as i64);
        assert_eq!(b.sem.available_permits(), 2);
        drop(second);
        assert_eq!(b.held.get(), 0);
        assert_eq!(b.sem.available_permits(), 4);
    }

    #[tokio::test]
    async fn a_waiting_inspection_gets_room_freed_meanwhile() {
        let b = Arc::new(budget(2 * UNIT));
        let mut held = b.reservation(&caller("a"));
        b.cover(&mut held, 2 * UNIT).await.unwrap();
        let b2 = b.clone();
        let waiter = tokio::spawn(async move {
            let mut r = b2.reservation(&caller("b"));
            b2.cover(&mut r, UNIT).await.map(|()| r.units)
        });
        tokio::task::yield_now().await;
        drop(held);
        assert_eq!(waiter.await.unwrap().unwrap(), 1);
    }

    #[tokio::test]
    async fn larger_than_the_whole_budget_fails_at_once() {
        let b = budget(UNIT);
        let mut r = b.reservation(&caller("a"));
        assert!(b.cover(&mut r, 2 * UNIT).await.is_err());
    }
}
