//! Customer-read cache: masked responses of the customer detail and wallet-ready routes,
//! bounded in bytes, with single-flight fills and write invalidation.
//!
//! How the handler uses it, for a route [`crate::route::Route::cached`] names:
//! 1. [`CustomerCache::decide`] builds the key (a [`Bypass`] means: go upstream,
//!    `Cache-Status: fwd=bypass`), reads the client's `Cache-Control`
//!    ([`CacheSettings::request_mode`]) and looks the key up; the [`Decision`] says what to
//!    do: serve a hit, serve stale while [`CustomerCache::refresh_in_background`] runs, or
//!    fill (with a stale entry to fall back on if upstream fails, or without). What comes
//!    back from upstream is stored only if [`storable`].
//! 2. [`CustomerCache::fill`] runs the upstream call once per key however many requests wait
//!    for it. The fill gets the customer's [`Generation`] (read before upstream is called),
//!    masks the body and calls [`CustomerCache::store_if_current`] itself, so that storing
//!    happens even when every waiting client has gone.
//! 3. After any write to a customer reaches upstream (whatever its outcome),
//!    [`CustomerCache::invalidate_customer`] for every id [`CacheSettings::ids_in`] finds in
//!    it, or [`CustomerCache::invalidate_all`] when a customer write names none; once it
//!    returns, no read sees pre-write data.

mod config;
mod decision;
pub(crate) mod directives;
mod entry;
mod flight;
mod generation;
mod key;
mod metrics;
mod policy;
pub(crate) mod scan;
pub(crate) mod status;
mod storable;
mod written;

#[cfg(test)]
mod tests;

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;

use moka::future::Cache;

use crate::clock::Clock;
use moka::notification::RemovalCause;

pub use self::config::KEYS as RELOAD_KEYS;
pub use self::config::{
    default_config, default_settings, CacheConfig, CacheSettings, RouteCacheConfig,
    RouteCachePolicy, RoutesConfig,
};
pub use self::decision::{Decision, Fallback, LookupResult};
pub use self::directives::{cache_control, RequestMode, UpstreamDirectives};
pub use self::entry::{CachedResponse, Lookup};
pub use self::flight::{FillError, FillRole};
pub use self::generation::Generation;
pub use self::key::{Bypass, CacheKey, CachedRoute};
pub use self::metrics::{CacheMetrics, InvalidationReason};
pub use self::policy::{FillFailure, FillOutcome, Replica, StandIn};
pub use self::status::{cache_status, CacheStatus, Forward};
pub use self::storable::{storable, Refusal};
pub use self::written::Written;

// The `cause` and `reason` labels of the cache's metric families.
crate::label_by!(EvictionCause, Refusal);

use self::entry::{Lifetimes, Slot, SlotExpiry};
use self::flight::Flights;
use self::generation::Generations;
use self::key::{SlotKey, SlotKeyRef};

/// The store's key hash: foldhash (the hashbrown default), seeded at random per process,
/// in place of moka's default SipHash-1-3, which took about a third of a hit's lookup.
/// Customer ids come from callers, so the seed stays random: which ids share a bucket
/// (or a frequency-sketch counter) is not predictable from outside.
type KeyHasher = foldhash::quality::RandomState;

/// Why an entry left the cache (metric label via [`EvictionCause::label`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EvictionCause {
    /// Past its retention (freshness plus stale windows).
    Expired,
    /// Pushed out by the byte bound.
    Size,
    /// Invalidated by a write or an operator.
    Explicit,
    /// Overwritten by a newer response for the same customer and route.
    Replaced,
}

impl EvictionCause {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Size => "size",
            Self::Explicit => "explicit",
            Self::Replaced => "replaced",
        }
    }
}

impl From<RemovalCause> for EvictionCause {
    fn from(cause: RemovalCause) -> Self {
        match cause {
            RemovalCause::Expired => Self::Expired,
            RemovalCause::Size => Self::Size,
            RemovalCause::Explicit => Self::Explicit,
            RemovalCause::Replaced => Self::Replaced,
        }
    }
}

/// Called for every entry leaving the cache; must be cheap and must not panic (moka stops
/// calling a listener that panicked).
pub type EvictionHook = Arc<dyn Fn(EvictionCause) + Send + Sync>;

/// What [`CustomerCache::store_if_current`] did (metric label and Cache-Status `detail`
/// via [`StoreOutcome::label`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreOutcome {
    Stored,
    /// Caching is off for this route.
    Disabled,
    /// Status not storable here: only 200, and 404 when `negative_ttl` > 0.
    Uncacheable,
    /// Upstream said the answer depends on request headers (`Vary`): it is one client's.
    Varies,
    /// Heavier than `max_entry_bytes`.
    TooLarge,
    /// Already past its retention when offered.
    Outdated,
    /// A write to this customer (or `invalidate_all`) came after the generation was read.
    Invalidated,
}

impl StoreOutcome {
    pub fn label(&self) -> &'static str {
        match self {
            Self::Stored => "stored",
            Self::Disabled => "disabled",
            Self::Uncacheable => "uncacheable",
            Self::Varies => "vary",
            Self::TooLarge => "too-large",
            Self::Outdated => "outdated",
            Self::Invalidated => "invalidated",
        }
    }
}

/// The customer-read cache. Cheap to clone; all clones share one store.
///
/// A clone is a *view*: the rules it decides, stores and answers by (`settings`). A
/// configuration reload makes a new view with [`CustomerCache::with_rules`] over the same
/// store; from then on only the newest view may store, so nothing masked or kept under
/// rules no longer in force is ever stored again, and each view answers only from entries
/// stored under its own rules (an entry carries its view's rules epoch), so an answer
/// stored before a reload is never served after it, dropped yet or not.
#[derive(Clone)]
pub struct CustomerCache {
    inner: Arc<Inner>,
    settings: Arc<CacheSettings>,
    /// The rules epoch of this view ([`Inner::rules`] when it was made).
    rules: u64,
    /// Fills in flight under this view's rules: a request under newer rules never joins
    /// one (its answer was masked under the old rules).
    flights: Arc<Flights>,
}

struct Inner {
    /// Freshness, `Age` and retention are read from this clock.
    clock: Clock,
    store: Cache<SlotKey, Slot, KeyHasher>,
    generations: Generations,
    /// The newest view's rules epoch; a store from an older view is refused.
    rules: AtomicU64,
    /// The newest view's retention per route, read by moka's expiry on insert.
    retention: Arc<ArcSwap<[RouteCachePolicy; 2]>>,
}

impl fmt::Debug for CustomerCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomerCache")
            .field("enabled", &self.settings.enabled)
            .field("entries", &self.entry_count())
            .field("weighted_size", &self.weighted_size())
            .finish_non_exhaustive()
    }
}

impl CustomerCache {
    pub fn new(settings: &CacheSettings, on_evict: EvictionHook) -> Self {
        Self::on_clock(settings, on_evict, Clock::system())
    }

    /// The gateway's cache: counted in `metrics` (evictions, and its bound
    /// `gateway_cache_max_bytes`, set here by the cache that holds it), deciding
    /// freshness by `clock`.
    pub fn counted(settings: &CacheSettings, metrics: &CacheMetrics, clock: Clock) -> Self {
        metrics
            .max_bytes
            .set(i64::try_from(settings.max_bytes).unwrap_or(i64::MAX));
        Self::on_clock(settings, metrics.on_eviction(), clock)
    }

    /// As [`Self::new`], deciding freshness by `clock`. moka's own expiry keeps real time;
    /// a clock that runs ahead of it (an adjustable one) only makes entries stale sooner,
    /// and a lookup past retention is a miss whether moka has dropped the entry yet or not.
    pub fn on_clock(settings: &CacheSettings, on_evict: EvictionHook, clock: Clock) -> Self {
        let retention = Arc::new(ArcSwap::from_pointee(
            CachedRoute::ALL.map(|route| settings.route(route).clone()),
        ));
        let store = Cache::builder()
            .name("customer-read")
            .max_capacity(settings.max_bytes)
            .weigher(|_key: &SlotKey, slot: &Slot| slot.weight())
            .expire_after(SlotExpiry {
                routes: retention.clone(),
            })
            .eviction_listener(move |_key, _slot, cause| on_evict(EvictionCause::from(cause)))
            .build_with_hasher(KeyHasher::default());
        Self {
            inner: Arc::new(Inner {
                clock,
                store,
                generations: Generations::new(),
                rules: AtomicU64::new(0),
                retention,
            }),
            settings: Arc::new(settings.clone()),
            rules: 0,
            flights: Arc::new(Flights::new()),
        }
    }

    /// A view of the same store under `settings` (a configuration reload), which from now
    /// on is the only view that may store. The store's size (`enabled`, `max_bytes`) is
    /// this view's: it was fixed when the store was built. Entries already stored stay;
    /// the caller drops them with [`Self::invalidate_all`] when what they hold changed.
    pub fn with_rules(&self, settings: &CacheSettings) -> CustomerCache {
        let mut settings = settings.clone();
        settings.enabled = self.settings.enabled;
        settings.max_bytes = self.settings.max_bytes;
        let rules = self.inner.rules.fetch_add(1, Ordering::AcqRel) + 1;
        self.inner.retention.store(Arc::new(
            CachedRoute::ALL.map(|route| settings.route(route).clone()),
        ));
        CustomerCache {
            inner: self.inner.clone(),
            settings: Arc::new(settings),
            rules,
            flights: Arc::new(Flights::new()),
        }
    }

    pub(super) fn settings(&self) -> &CacheSettings {
        &self.settings
    }

    /// Now, by the cache's clock: what `stored_at` and ages are measured against.
    pub fn now(&self) -> Instant {
        self.inner.clock.now()
    }

    /// The key for `customer_id` on `route` with the request's raw query string (without
    /// `?`), or why this request must bypass the cache.
    pub fn key(
        &self,
        route: CachedRoute,
        customer_id: &str,
        query: Option<&str>,
    ) -> Result<CacheKey, Bypass> {
        CacheKey::build(&self.settings, route, customer_id, query)
    }

    /// The stored response for `key`, classified by age. A hit is one moka lookup and two
    /// reference-count increments. Async because moka 0.12's `future::Cache::get` is.
    pub async fn lookup(&self, key: &CacheKey) -> Lookup {
        let slot = SlotKeyRef {
            route: key.route(),
            customer_id: key.customer_id(),
        };
        self.lookup_at(slot, key.variant()).await
    }

    /// [`Self::lookup`] by a borrowed key: what a hit runs, allocating nothing.
    async fn lookup_at(&self, key: SlotKeyRef<'_>, variant: Option<&str>) -> Lookup {
        let settings = &self.settings;
        if !settings.route_enabled(key.route) {
            return Lookup::Miss;
        }
        let Some(slot) = self.inner.store.get(&key).await else {
            return Lookup::Miss;
        };
        let Some(entry) = slot.find(variant) else {
            return Lookup::Miss;
        };
        // Stored under other rules (before or after a reload this view does not know
        // of): masked or kept by rules not this view's, so never this view's answer,
        // whether or not the reload has dropped it yet.
        if entry.rules != self.rules {
            return Lookup::Miss;
        }
        match Lifetimes::of(settings.route(key.route), entry.status) {
            Some(lifetimes) => lifetimes.classify(Arc::clone(entry), self.now()),
            None => Lookup::Miss,
        }
    }

    /// Single flight: the first caller for `key` spawns `make_fill(generation)` as a task
    /// (it completes even if that caller goes away); callers arriving while it runs await
    /// the same outcome and get [`FillRole::Collapsed`]. A fill that started before the
    /// customer's latest write is not joined. Errors reach every waiter and are never
    /// stored; a panicking fill gives [`FillError::Aborted`]. `make_fill` runs on the
    /// caller's task and should only build the future.
    pub async fn fill<F, Fut, T, E>(
        &self,
        key: CacheKey,
        make_fill: F,
    ) -> (Result<T, FillError<E>>, FillRole)
    where
        F: FnOnce(Generation) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Clone + Send + Sync + 'static,
        E: Clone + Send + Sync + 'static,
    {
        let current = self.inner.generations.current(key.customer_id());
        let (shared, role) = self.flights.start_or_join(key, current, make_fill);
        (shared.await, role)
    }

    /// Starts (or joins) the fill for `key` without waiting for it: stale-while-revalidate.
    pub fn refresh_in_background<F, Fut, T, E>(&self, key: CacheKey, make_fill: F) -> FillRole
    where
        F: FnOnce(Generation) -> Fut,
        Fut: Future<Output = Result<T, E>> + Send + 'static,
        T: Clone + Send + Sync + 'static,
        E: Clone + Send + Sync + 'static,
    {
        let current = self.inner.generations.current(key.customer_id());
        let (_shared, role) = self.flights.start_or_join(key, current, make_fill);
        role
    }

    /// The customer's write generation; read it before calling upstream and hand it to
    /// [`Self::store_if_current`]. [`Self::fill`] does this for its fills.
    pub fn generation(&self, customer_id: &str) -> Generation {
        self.inner.generations.current(customer_id)
    }

    /// Stores `resp` under `key` unless caching is off for the route, the status is not
    /// storable, it is too large or already too old, or the customer was invalidated after
    /// `gen` was read (a write overtook this read).
    pub async fn store_if_current(
        &self,
        key: &CacheKey,
        gen: Generation,
        mut resp: CachedResponse,
    ) -> StoreOutcome {
        let settings = &self.settings;
        let route = key.route();
        if !settings.route_enabled(route) {
            return StoreOutcome::Disabled;
        }
        let policy = settings.route(route);
        let Some(lifetimes) = Lifetimes::of(policy, resp.status) else {
            return StoreOutcome::Uncacheable;
        };
        resp.variant.clone_from(&key.variant);
        resp.rules = self.rules;
        let weight = resp.weight() + key.customer_id().len() as u64;
        if weight > settings.max_entry_bytes {
            return StoreOutcome::TooLarge;
        }
        if self.now().saturating_duration_since(resp.stored_at) >= lifetimes.retention() {
            return StoreOutcome::Outdated;
        }

        let generations = &self.inner.generations;
        let _lock = generations.lock_for(key.customer_id()).await;
        // Under the lock an `invalidate_all` takes too: a view a reload has replaced
        // stores nothing once the reload has dropped the entries.
        if !generations.is_current(key.customer_id(), gen)
            || self.inner.rules.load(Ordering::Acquire) != self.rules
        {
            return StoreOutcome::Invalidated;
        }
        let resp = Arc::new(resp);
        // Other query variants of the slot are kept; without an allowlist there are none,
        // so the read is skipped.
        let existing = if policy.query_allowlist.is_empty() {
            None
        } else {
            self.inner.store.get(&key.slot).await
        };
        let slot = Slot::merge(
            &key.slot,
            existing,
            resp,
            policy,
            settings.max_entry_bytes,
            self.now(),
        );
        self.inner.store.insert(key.slot.clone(), slot).await;
        StoreOutcome::Stored
    }

    /// Drops every cached route and query variant of `customer_id`. The generation is
    /// bumped first, under the lock stores take, so a fill already in flight cannot store
    /// what it read before the write, and later requests do not join it.
    pub async fn invalidate_customer(&self, customer_id: &str) {
        let generations = &self.inner.generations;
        let _lock = generations.lock_for(customer_id).await;
        generations.bump(customer_id);
        for route in CachedRoute::ALL {
            self.inner
                .store
                .invalidate(&SlotKeyRef { route, customer_id })
                .await;
        }
    }

    /// Drops everything, for writes whose customer cannot be told (and for operators).
    pub async fn invalidate_all(&self) {
        let guards = self.inner.generations.bump_epoch().await;
        self.inner.store.invalidate_all();
        drop(guards);
    }

    /// Stored customer-route slots (each holds that route's query variants). Exact after
    /// [`Self::run_pending_tasks`].
    pub fn entry_count(&self) -> u64 {
        self.inner.store.entry_count()
    }

    /// Sum of entry weights in bytes, bounded by `max_bytes`. Exact after
    /// [`Self::run_pending_tasks`].
    pub fn weighted_size(&self) -> u64 {
        self.inner.store.weighted_size()
    }

    /// Runs moka's pending maintenance now (evictions, expirations, listener calls).
    pub async fn run_pending_tasks(&self) {
        self.inner.store.run_pending_tasks().await;
    }

    /// Moves the cache's (adjustable) clock forward.
    #[cfg(test)]
    fn advance(&self, by: std::time::Duration) {
        self.inner.clock.advance(by);
    }

    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.flights.in_flight()
    }
}
