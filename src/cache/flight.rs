//! Single-flight fills: concurrent misses on one key share one upstream call.

use std::any::Any;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::future::Future;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures_util::future::{BoxFuture, FutureExt, Shared};
use tokio::sync::oneshot;

use super::generation::Generation;
use super::key::CacheKey;

const SHARDS: usize = 64;

/// Whether this caller started the fill or joined one already running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FillRole {
    Leader,
    /// Answered by another caller's fill (Cache-Status `collapsed`).
    Collapsed,
}

impl FillRole {
    pub fn is_collapsed(self) -> bool {
        self == Self::Collapsed
    }
}

/// Why a fill produced no value; shared by every caller of that fill and never stored.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FillError<E> {
    /// The fill future returned an error.
    #[error("{0}")]
    Failed(E),
    /// The fill task panicked or was cancelled (runtime shutting down).
    #[error("cache fill ended without an outcome")]
    Aborted,
}

pub(crate) type SharedFill<T, E> = Shared<BoxFuture<'static, Result<T, FillError<E>>>>;

struct Flight {
    id: u64,
    generation: Generation,
    /// A `SharedFill<T, E>` for the caller's `T` and `E`; erased so that the cache itself
    /// is not generic over what the handler computes.
    shared: Box<dyn Any + Send + Sync>,
}

type Shard = Mutex<HashMap<CacheKey, Flight>>;

pub(crate) struct Flights {
    hasher: RandomState,
    next_id: AtomicU64,
    shards: Box<[Shard]>,
}

impl Flights {
    pub(crate) fn new() -> Self {
        Self {
            hasher: RandomState::new(),
            next_id: AtomicU64::new(0),
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        }
    }

    fn shard(&self, key: &CacheKey) -> MutexGuard<'_, HashMap<CacheKey, Flight>> {
        let index = (self.hasher.hash_one(key) as usize) % SHARDS;
        // A panic while holding the lock leaves the map consistent (each operation is a
        // single insert or remove), so a poisoned lock is still usable.
        self.shards[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Joins the running fill for `key` if it started at generation `current`, or spawns
    /// `make(current)` as a new one. A fill that started before a write is not joined: its
    /// answer may predate the write.
    pub(crate) fn start_or_join<F, Fut, T, E>(
        self: &Arc<Self>,
        key: CacheKey,
        current: Generation,
        make: F,
    ) -> (SharedFill<T, E>, FillRole)
    where
        F: FnOnce(Generation) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Clone + Send + Sync + 'static,
        E: Clone + Send + Sync + 'static,
    {
        let mut shard = self.shard(&key);
        if let Some(flight) = shard.get(&key) {
            if flight.generation == current {
                if let Some(shared) = flight.shared.downcast_ref::<SharedFill<T, E>>() {
                    return (shared.clone(), FillRole::Collapsed);
                }
            }
        }

        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (done, outcome) = oneshot::channel::<Result<T, E>>();
        let route = key.route().name();
        let shared: SharedFill<T, E> = async move {
            match outcome.await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(err)) => Err(FillError::Failed(err)),
                // The task dropped the sender without an outcome: it panicked or the runtime
                // is shutting down.
                Err(_) => {
                    tracing::error!(route, "cache fill task ended without an outcome");
                    Err(FillError::Aborted)
                }
            }
        }
        .boxed()
        .shared();
        shard.insert(
            key.clone(),
            Flight {
                id,
                generation: current,
                shared: Box::new(shared.clone()),
            },
        );
        // Neither `make` nor the spawn run under the shard lock: the guard's drop takes it,
        // and a spawn onto a runtime that is shutting down drops the task in place.
        drop(shard);
        let guard = FlightGuard {
            flights: Arc::clone(self),
            key,
            id,
        };
        let fill = make(current);
        // Spawned so that the fill finishes (and stores) even when every caller has gone.
        // The flight leaves the map before its outcome is sent (and on panic, as the guard
        // unwinds), so a caller arriving later starts afresh rather than joining a finished
        // fill.
        tokio::spawn(async move {
            let outcome = fill.await;
            drop(guard);
            // Nobody waiting is fine: the fill has done its work (storing included).
            let _ = done.send(outcome);
        });
        (shared, FillRole::Leader)
    }

    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().unwrap_or_else(PoisonError::into_inner).len())
            .sum()
    }
}

/// Removes its flight from the map when the fill task ends, unless a newer flight for the
/// same key has replaced it.
struct FlightGuard {
    flights: Arc<Flights>,
    key: CacheKey,
    id: u64,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        let mut shard = self.flights.shard(&self.key);
        if shard
            .get(&self.key)
            .is_some_and(|flight| flight.id == self.id)
        {
            shard.remove(&self.key);
        }
    }
}
