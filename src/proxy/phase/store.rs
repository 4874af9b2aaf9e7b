//! Store: a cached route's inspected answer offered to the cache, which decides what
//! it may carry and whether it is stored (`CustomerCache::offer`, the one entry
//! point); a fill the cache refuses to store is counted in the cache's family
//! (`gateway_cache_uncacheable_total`), by route and reason.

use prometheus::IntCounterVec;

use crate::cache::{CacheKey, CustomerCache, Generation, StoreOutcome};
use crate::inspect::Inspected;
use crate::metrics::Family;
use crate::route::RouteLabel;

/// `target`: the fill's key and the generation read when it began; None when the
/// answer is not a fill's (a bypass, or a collapsed request asking for itself).
pub(in crate::proxy) async fn store(
    cache: &CustomerCache,
    uncacheable: &Family<IntCounterVec, 2>,
    label: RouteLabel,
    target: Option<(CacheKey, Generation)>,
    response: &mut Inspected,
) -> StoreOutcome {
    let offered = cache
        .offer(
            target.as_ref().map(|(key, gen)| (key, *gen)),
            response.status,
            &mut response.headers,
            response.directives,
            &response.body,
        )
        .await;
    offered.unwrap_or_else(|refusal| {
        uncacheable.with([&label, &refusal]).inc();
        refusal.store_outcome()
    })
}
