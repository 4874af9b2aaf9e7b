//! Behaviour of [`CustomerCache`] as the handler drives it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::join_all;
use http::{HeaderMap, StatusCode};
use tokio::sync::{Barrier, Notify};

use super::*;

mod bounds;
mod fills;
mod freshness;
mod invalidation;

const ID: &str = "customer_0123456789abcdef0123456789abcdef";
const OTHER: &str = "customer_fedcba9876543210fedcba9876543210";

type Causes = Arc<Mutex<HashMap<EvictionCause, usize>>>;

fn cache_with(config: CacheConfig) -> (CustomerCache, Causes) {
    let settings = config.validate().expect("valid config");
    let causes: Causes = Arc::default();
    let seen = Arc::clone(&causes);
    let hook: EvictionHook = Arc::new(move |cause| {
        *seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(cause)
            .or_default() += 1;
    });
    // Freshness follows `CustomerCache::advance`, not sleeping.
    let cache = CustomerCache::on_clock(&settings, hook, crate::clock::Clock::adjustable());
    (cache, causes)
}

fn cache() -> CustomerCache {
    cache_with(crate::cache::default_config()).0
}

fn ok(body: &'static [u8]) -> CachedResponse {
    CachedResponse::new(StatusCode::OK, HeaderMap::new(), Bytes::from_static(body))
}

fn detail(cache: &CustomerCache, id: &str) -> CacheKey {
    cache
        .key(CachedRoute::CustomerDetail, id, None)
        .expect("cacheable")
}

async fn store(cache: &CustomerCache, key: &CacheKey, resp: CachedResponse) -> StoreOutcome {
    let gen = cache.generation(key.customer_id());
    cache.store_if_current(key, gen, resp).await
}

fn body_of(lookup: &Lookup) -> Option<&[u8]> {
    match lookup {
        Lookup::Fresh { entry, .. } | Lookup::Stale { entry, .. } => Some(&entry.body),
        Lookup::Miss => None,
    }
}
