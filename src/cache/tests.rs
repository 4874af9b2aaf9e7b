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
    (CustomerCache::new(&settings, hook), causes)
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

#[tokio::test]
async fn hit_after_store() {
    let cache = cache();
    let key = detail(&cache, ID);
    assert!(matches!(cache.lookup(&key).await, Lookup::Miss));
    assert_eq!(
        store(&cache, &key, ok(b"{\"id\":1}")).await,
        StoreOutcome::Stored
    );
    match cache.lookup(&key).await {
        Lookup::Fresh {
            entry, remaining, ..
        } => {
            assert_eq!(&entry.body[..], b"{\"id\":1}");
            assert!(remaining > Duration::from_secs(29) && remaining <= Duration::from_secs(30));
        }
        other => panic!("expected a fresh hit, got {other:?}"),
    }
    // The other route of the same customer is a separate entry.
    let wallet = cache
        .key(CachedRoute::CustomerWalletReady, ID, None)
        .expect("cacheable");
    assert!(matches!(cache.lookup(&wallet).await, Lookup::Miss));
}

#[tokio::test]
async fn fresh_then_stale_if_error_then_gone() {
    let mut config = crate::cache::default_config();
    config.routes.customer_detail.ttl = Duration::from_millis(200);
    config.routes.customer_detail.stale_if_error = Duration::from_millis(400);
    let (cache, causes) = cache_with(config);
    let key = detail(&cache, ID);
    assert_eq!(store(&cache, &key, ok(b"{}")).await, StoreOutcome::Stored);
    assert!(matches!(cache.lookup(&key).await, Lookup::Fresh { .. }));

    tokio::time::sleep(Duration::from_millis(350)).await;
    match cache.lookup(&key).await {
        Lookup::Stale {
            within_stale_if_error,
            within_swr,
            staleness,
            ..
        } => {
            assert!(within_stale_if_error);
            assert!(!within_swr, "stale-while-revalidate is off");
            assert!(staleness >= Duration::from_millis(150));
        }
        other => panic!("expected stale, got {other:?}"),
    }

    tokio::time::sleep(Duration::from_millis(450)).await;
    assert!(matches!(cache.lookup(&key).await, Lookup::Miss));
    // Retention ended, so moka drops the entry too (its timer wheel ticks about once a
    // second, hence the bounded wait).
    for _ in 0..30 {
        cache.run_pending_tasks().await;
        if cache.entry_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(cache.entry_count(), 0);
    assert!(causes
        .lock()
        .expect("lock")
        .contains_key(&EvictionCause::Expired));
}

#[tokio::test]
async fn stale_while_revalidate_window() {
    let mut config = crate::cache::default_config();
    config.routes.customer_wallet_ready.ttl = Duration::from_millis(100);
    config.routes.customer_wallet_ready.stale_if_error = Duration::ZERO;
    config.routes.customer_wallet_ready.stale_while_revalidate = Duration::from_secs(5);
    let (cache, _) = cache_with(config);
    let key = cache
        .key(CachedRoute::CustomerWalletReady, ID, None)
        .expect("cacheable");
    assert_eq!(store(&cache, &key, ok(b"{}")).await, StoreOutcome::Stored);
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(matches!(
        cache.lookup(&key).await,
        Lookup::Stale {
            within_swr: true,
            within_stale_if_error: false,
            ..
        }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_fills_collapse_onto_one() {
    const CALLERS: usize = 200;
    let cache = cache();
    let key = detail(&cache, ID);
    let runs = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(Barrier::new(CALLERS));
    let tasks: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (cache, key, runs, barrier) = (
                cache.clone(),
                key.clone(),
                Arc::clone(&runs),
                Arc::clone(&barrier),
            );
            tokio::spawn(async move {
                barrier.wait().await;
                let fill_cache = cache.clone();
                let fill_key = key.clone();
                cache
                    .fill(key, move |gen| async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        let stored = fill_cache
                            .store_if_current(&fill_key, gen, ok(b"{\"filled\":true}"))
                            .await;
                        Ok::<_, Arc<str>>(stored)
                    })
                    .await
            })
        })
        .collect();
    let mut collapsed = 0;
    for task in tasks {
        let (outcome, role) = task.await.expect("task");
        assert_eq!(outcome, Ok(StoreOutcome::Stored));
        collapsed += usize::from(role.is_collapsed());
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one upstream call");
    assert_eq!(collapsed, CALLERS - 1);
    assert_eq!(cache.in_flight(), 0);
    assert!(matches!(cache.lookup(&key).await, Lookup::Fresh { .. }));
}

#[tokio::test]
async fn fill_survives_its_caller_going_away() {
    let cache = cache();
    let key = detail(&cache, ID);
    let (fill_cache, fill_key) = (cache.clone(), key.clone());
    let caller = cache.fill(key.clone(), move |gen| async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stored = fill_cache
            .store_if_current(&fill_key, gen, ok(b"{\"late\":true}"))
            .await;
        Ok::<_, ()>(stored)
    });
    // The client disconnects long before upstream answers.
    assert!(tokio::time::timeout(Duration::from_millis(10), caller)
        .await
        .is_err());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        body_of(&cache.lookup(&key).await),
        Some(&b"{\"late\":true}"[..])
    );
    assert_eq!(cache.in_flight(), 0);
}

#[tokio::test]
async fn errors_reach_every_waiter_and_are_not_stored() {
    let cache = cache();
    let key = detail(&cache, ID);
    let runs = Arc::new(AtomicUsize::new(0));
    let failing = |runs: Arc<AtomicUsize>| {
        move |_gen| async move {
            runs.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            Err::<Bytes, _>(Arc::<str>::from("upstream timed out"))
        }
    };
    let waiters = (0..10).map(|_| cache.fill(key.clone(), failing(Arc::clone(&runs))));
    let outcomes = join_all(waiters).await;
    for (outcome, _) in &outcomes {
        assert_eq!(
            outcome,
            &Err(FillError::Failed(Arc::from("upstream timed out")))
        );
    }
    assert_eq!(outcomes.iter().filter(|(_, r)| r.is_collapsed()).count(), 9);
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(matches!(cache.lookup(&key).await, Lookup::Miss));
    assert_eq!(cache.in_flight(), 0);

    // The failure is not remembered: the next request tries upstream again.
    let (_, role) = cache.fill(key, failing(Arc::clone(&runs))).await;
    assert_eq!(role, FillRole::Leader);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_panicking_fill_releases_its_waiters() {
    let cache = cache();
    let key = detail(&cache, ID);
    let panicking = |_gen| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if std::hint::black_box(true) {
            panic!("fill bug");
        }
        Ok::<u8, ()>(0)
    };
    let outcomes = tokio::time::timeout(
        Duration::from_secs(5),
        join_all((0..3).map(|_| cache.fill(key.clone(), panicking))),
    )
    .await
    .expect("waiters are released, not hung");
    for (outcome, _) in outcomes {
        assert_eq!(outcome, Err(FillError::Aborted));
    }
    assert_eq!(cache.in_flight(), 0);
    let (outcome, role) = cache.fill(key, |_gen| async { Ok::<u8, ()>(7) }).await;
    assert_eq!((outcome, role), (Ok(7), FillRole::Leader));
}

#[tokio::test]
async fn invalidate_customer_drops_every_route_and_variant() {
    let mut config = crate::cache::default_config();
    config.routes.customer_detail.query_allowlist = vec!["lang".to_owned()];
    let (cache, causes) = cache_with(config);
    let keys = [
        detail(&cache, ID),
        cache
            .key(CachedRoute::CustomerDetail, ID, Some("lang=en"))
            .expect("allowlisted"),
        cache
            .key(CachedRoute::CustomerWalletReady, ID, None)
            .expect("cacheable"),
    ];
    for key in &keys {
        assert_eq!(store(&cache, key, ok(b"{}")).await, StoreOutcome::Stored);
    }
    // Storing one variant kept the other.
    assert!(matches!(cache.lookup(&keys[0]).await, Lookup::Fresh { .. }));
    let other = detail(&cache, OTHER);
    assert_eq!(store(&cache, &other, ok(b"{}")).await, StoreOutcome::Stored);

    cache.invalidate_customer(ID).await;
    for key in &keys {
        assert!(matches!(cache.lookup(key).await, Lookup::Miss), "{key:?}");
    }
    assert!(matches!(cache.lookup(&other).await, Lookup::Fresh { .. }));
    cache.run_pending_tasks().await;
    assert_eq!(cache.entry_count(), 1);
    assert_eq!(
        causes.lock().expect("lock").get(&EvictionCause::Explicit),
        Some(&2)
    );
}

#[tokio::test]
async fn a_read_overtaken_by_a_write_is_not_stored() {
    let cache = cache();
    let key = detail(&cache, ID);
    let gen = cache.generation(ID);
    cache.invalidate_customer(ID).await;
    assert_eq!(
        cache.store_if_current(&key, gen, ok(b"pre-write")).await,
        StoreOutcome::Invalidated
    );
    assert!(matches!(cache.lookup(&key).await, Lookup::Miss));

    // The same through a fill: it reads its generation, the write lands while upstream is
    // answering, and the pre-write answer is served to its own waiters but not stored.
    let upstream_answered = Arc::new(Notify::new());
    let (fill_cache, fill_key, gate) = (cache.clone(), key.clone(), Arc::clone(&upstream_answered));
    let first = tokio::spawn({
        let cache = cache.clone();
        let key = key.clone();
        async move {
            cache
                .fill(key, move |gen| async move {
                    gate.notified().await;
                    Ok::<_, ()>(
                        fill_cache
                            .store_if_current(&fill_key, gen, ok(b"pre-write"))
                            .await,
                    )
                })
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    cache.invalidate_customer(ID).await;
    // A request arriving after the write does not join the pre-write fill.
    let (after, role) = tokio::time::timeout(
        Duration::from_secs(2),
        cache.fill(key.clone(), |_gen| async {
            Ok::<_, ()>(StoreOutcome::Disabled)
        }),
    )
    .await
    .expect("not stuck behind the pre-write fill");
    assert_eq!(
        (after, role),
        (Ok(StoreOutcome::Disabled), FillRole::Leader)
    );
    upstream_answered.notify_one();
    let (outcome, _) = first.await.expect("task");
    assert_eq!(outcome, Ok(StoreOutcome::Invalidated));
    assert!(matches!(cache.lookup(&key).await, Lookup::Miss));

    // A generation read after the write stores normally.
    assert_eq!(
        store(&cache, &key, ok(b"post-write")).await,
        StoreOutcome::Stored
    );
}

#[tokio::test]
async fn invalidate_all_drops_everything_and_fails_older_generations() {
    let cache = cache();
    let (a, b) = (detail(&cache, ID), detail(&cache, OTHER));
    assert_eq!(store(&cache, &a, ok(b"{}")).await, StoreOutcome::Stored);
    let gen_b = cache.generation(OTHER);
    cache.invalidate_all().await;
    assert!(matches!(cache.lookup(&a).await, Lookup::Miss));
    assert_eq!(
        cache.store_if_current(&b, gen_b, ok(b"{}")).await,
        StoreOutcome::Invalidated
    );
    assert_eq!(store(&cache, &b, ok(b"{}")).await, StoreOutcome::Stored);
}

#[tokio::test]
async fn memory_stays_within_max_bytes() {
    const MAX: u64 = 4 * 1024 * 1024;
    let config = CacheConfig {
        max_bytes: MAX,
        ..crate::cache::default_config()
    };
    let (cache, causes) = cache_with(config);
    let body = Bytes::from(vec![b'x'; 2048]);
    for i in 0..20_000u32 {
        let id = format!("customer_{i:032x}");
        let key = detail(&cache, &id);
        let resp = CachedResponse::new(StatusCode::OK, HeaderMap::new(), body.clone());
        assert_eq!(store(&cache, &key, resp).await, StoreOutcome::Stored);
    }
    cache.run_pending_tasks().await;
    let size = cache.weighted_size();
    assert!(size <= MAX, "weighted size {size} exceeds {MAX}");
    // ~2.3 KiB per entry: the bound holds well under 2,000 of the 20,000.
    assert!(cache.entry_count() < 2_000, "{}", cache.entry_count());
    assert!(size > MAX / 2, "the cache is actually used: {size}");
    let size_evictions = causes
        .lock()
        .expect("lock")
        .get(&EvictionCause::Size)
        .copied()
        .unwrap_or(0);
    assert!(size_evictions > 15_000, "{size_evictions} size evictions");
}

#[tokio::test]
async fn oversize_uncacheable_and_disabled_are_not_stored() {
    let config = CacheConfig {
        max_entry_bytes: 4096,
        ..crate::cache::default_config()
    };
    let (cache, _) = cache_with(config);
    let key = detail(&cache, ID);
    let big = CachedResponse::new(StatusCode::OK, HeaderMap::new(), Bytes::from(vec![0; 5000]));
    assert_eq!(store(&cache, &key, big).await, StoreOutcome::TooLarge);
    let error = CachedResponse::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        HeaderMap::new(),
        Bytes::new(),
    );
    assert_eq!(store(&cache, &key, error).await, StoreOutcome::Uncacheable);
    // negative_ttl is 0 by default: "not found" is not remembered.
    let missing = CachedResponse::new(StatusCode::NOT_FOUND, HeaderMap::new(), Bytes::new());
    assert_eq!(
        store(&cache, &key, missing).await,
        StoreOutcome::Uncacheable
    );
    let old = CachedResponse::received_at(
        StatusCode::OK,
        HeaderMap::new(),
        Bytes::new(),
        std::time::Instant::now() - Duration::from_secs(120),
    );
    assert_eq!(store(&cache, &key, old).await, StoreOutcome::Outdated);
    assert!(matches!(cache.lookup(&key).await, Lookup::Miss));

    let (disabled, _) = cache_with(CacheConfig {
        enabled: false,
        ..crate::cache::default_config()
    });
    assert_eq!(
        disabled.key(CachedRoute::CustomerDetail, ID, None),
        Err(Bypass::Disabled)
    );
    assert_eq!(
        store(&disabled, &key, ok(b"{}")).await,
        StoreOutcome::Disabled
    );
    assert!(matches!(disabled.lookup(&key).await, Lookup::Miss));
}

#[tokio::test]
async fn negative_entries_use_negative_ttl_and_never_go_stale() {
    let mut config = crate::cache::default_config();
    config.routes.customer_detail.negative_ttl = Duration::from_millis(150);
    let (cache, _) = cache_with(config);
    let key = detail(&cache, ID);
    let missing = CachedResponse::new(StatusCode::NOT_FOUND, HeaderMap::new(), Bytes::new());
    assert_eq!(store(&cache, &key, missing).await, StoreOutcome::Stored);
    match cache.lookup(&key).await {
        Lookup::Fresh {
            entry, remaining, ..
        } => {
            assert_eq!(entry.status, StatusCode::NOT_FOUND);
            assert!(remaining <= Duration::from_millis(150));
        }
        other => panic!("expected fresh 404, got {other:?}"),
    }
    tokio::time::sleep(Duration::from_millis(250)).await;
    assert!(matches!(cache.lookup(&key).await, Lookup::Miss));
}

#[tokio::test]
async fn key_bypasses_through_the_cache() {
    let cache = cache();
    assert_eq!(
        cache.key(CachedRoute::CustomerDetail, "customer_123", None),
        Err(Bypass::IdPattern)
    );
    assert_eq!(
        cache.key(CachedRoute::CustomerDetail, ID, Some("page=2")),
        Err(Bypass::Query)
    );
    let key = detail(&cache, ID);
    assert_eq!(key.customer_id(), ID);
    assert_eq!(key.route(), CachedRoute::CustomerDetail);
}

#[test]
fn debug_output_carries_no_response_data() {
    let resp = CachedResponse::new(
        StatusCode::OK,
        HeaderMap::new(),
        Bytes::from_static(b"{\"email\":\"j***@example.com\"}"),
    );
    let shown = format!("{resp:?}");
    assert!(!shown.contains("example.com"), "{shown}");
    assert!(shown.contains("body_len"));
}
