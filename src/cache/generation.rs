//! Write generations: how a fill learns that a write overtook it.
//!
//! A fill reads a [`Generation`] before calling upstream and may store only if the generation
//! is unchanged; an invalidation bumps it before removing entries. The check-and-insert of a
//! store and the bump-and-remove of an invalidation run under the same stripe lock, so one
//! of them happens entirely before the other: a store that passed its check is removed by the
//! invalidation that follows, and a store that comes after an invalidation fails its check.
//! Nothing stale can become visible after `invalidate_customer` returns.
//!
//! Generations are counted per stripe of customers, not per customer: a fixed array of
//! counters needs no pruning, so no entry can be evicted and come back at an older value (the
//! trap of a bounded per-customer map, where a forgotten generation would let a fill that read
//! it before the write store pre-write data). The price of sharing is that a write to one
//! customer also fails in-flight stores of the other customers of its stripe: a lost store,
//! never a stale one, with probability about writes-per-second × fill-duration / STRIPES.
//! `invalidate_all` bumps a global epoch that every generation carries as well.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{Mutex, MutexGuard};

/// Counter stripes; 32 KiB of counters keeps cross-customer store losses rare.
const STRIPES: usize = 4096;
/// Lock stripes (each guards `STRIPES / LOCK_STRIPES` counter stripes); stores only contend
/// with stores and invalidations of the same lock stripe.
const LOCK_STRIPES: usize = 64;

/// A snapshot of a customer's write generation, taken before an upstream read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Generation {
    epoch: u64,
    stripe: u32,
    counter: u64,
}

pub(crate) struct Generations {
    hasher: RandomState,
    epoch: AtomicU64,
    counters: Box<[AtomicU64]>,
    locks: Box<[Mutex<()>]>,
}

impl Generations {
    pub(crate) fn new() -> Self {
        Self {
            hasher: RandomState::new(),
            epoch: AtomicU64::new(0),
            counters: (0..STRIPES).map(|_| AtomicU64::new(0)).collect(),
            locks: (0..LOCK_STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    fn stripe(&self, customer_id: &str) -> usize {
        // `STRIPES` is a power of two, so masking keeps the hash uniform.
        (self.hasher.hash_one(customer_id) as usize) & (STRIPES - 1)
    }

    pub(crate) fn current(&self, customer_id: &str) -> Generation {
        let stripe = self.stripe(customer_id);
        Generation {
            epoch: self.epoch.load(Ordering::Acquire),
            stripe: stripe as u32,
            counter: self.counters[stripe].load(Ordering::Acquire),
        }
    }

    /// Whether `gen` is still current for `customer_id`. Decisive only under
    /// [`Self::lock_for`]; without it, a hint (used to decide whether to join a fill).
    pub(crate) fn is_current(&self, customer_id: &str, gen: Generation) -> bool {
        self.current(customer_id) == gen
    }

    /// The lock serialising stores and invalidations of `customer_id`'s stripe.
    pub(crate) async fn lock_for(&self, customer_id: &str) -> MutexGuard<'_, ()> {
        self.locks[self.stripe(customer_id) % LOCK_STRIPES]
            .lock()
            .await
    }

    /// Bumps `customer_id`'s generation; call with [`Self::lock_for`] held.
    pub(crate) fn bump(&self, customer_id: &str) {
        self.counters[self.stripe(customer_id)].fetch_add(1, Ordering::AcqRel);
    }

    /// Takes every lock in index order (stores take one, so this cannot deadlock) and bumps
    /// the epoch; the caller clears the store before dropping the guards.
    pub(crate) async fn bump_epoch(&self) -> Vec<MutexGuard<'_, ()>> {
        let mut guards = Vec::with_capacity(self.locks.len());
        for lock in self.locks.iter() {
            guards.push(lock.lock().await);
        }
        self.epoch.fetch_add(1, Ordering::AcqRel);
        guards
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bumps_change_the_generation() {
        let gens = Generations::new();
        let a = "customer_a";
        let before = gens.current(a);
        assert!(gens.is_current(a, before));
        {
            let _lock = gens.lock_for(a).await;
            gens.bump(a);
        }
        assert!(!gens.is_current(a, before));
        let after_write = gens.current(a);
        drop(gens.bump_epoch().await);
        assert!(!gens.is_current(a, after_write));
    }

    #[test]
    fn a_generation_belongs_to_one_stripe() {
        let gens = Generations::new();
        // Find two ids in different stripes; a generation read for one is never current
        // for the other, even when both counters are zero.
        let a = "customer_a";
        let other = (0..1000)
            .map(|i| format!("customer_{i}"))
            .find(|id| gens.stripe(id) != gens.stripe(a))
            .expect("ids spread over stripes");
        assert!(!gens.is_current(&other, gens.current(a)));
    }
}
