//! Customer-read cache hot paths: building a key from a path id, and a hit served
//! in-process (key + lookup + `Arc` clone of a stored 1.6 KiB entry), and the same hit
//! through `CustomerCache::decide` (key + request directives + lookup + decision).

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion};
use http::{HeaderMap, HeaderValue, StatusCode};
use paycombat_gateway::cache::{
    CachedResponse, CachedRoute, CustomerCache, Decision, EvictionHook, Lookup, StoreOutcome,
};

const ID: &str = "customer_0123456789abcdef0123456789abcdef";

fn new_cache() -> CustomerCache {
    let hook: EvictionHook = Arc::new(|_| {});
    CustomerCache::new(&paycombat_gateway::cache::default_settings(), hook)
}

fn key(c: &mut Criterion) {
    let cache = new_cache();
    c.bench_function("cache_key_customer_detail", |b| {
        b.iter(|| cache.key(CachedRoute::CustomerDetail, black_box(ID), None))
    });
}

fn hit(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cache = new_cache();
    runtime.block_on(async {
        let key = cache
            .key(CachedRoute::CustomerDetail, ID, None)
            .expect("cacheable id");
        let mut headers = HeaderMap::new();
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        let body = Bytes::from(vec![b'x'; 1600]);
        let resp = CachedResponse::new(StatusCode::OK, headers, body);
        let gen = cache.generation(ID);
        let stored = cache.store_if_current(&key, gen, resp).await;
        assert_eq!(stored, StoreOutcome::Stored);
    });

    let mut group = c.benchmark_group("cache_hit");
    group.bench_function("key_lookup_clone", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, || async {
                let key = cache
                    .key(CachedRoute::CustomerDetail, black_box(ID), None)
                    .expect("cacheable id");
                hit_once(&cache, &key).await;
            })
        })
    });
    let request_headers = HeaderMap::new();
    group.bench_function("decide_clone", |b| {
        b.iter_custom(|iters| {
            timed(&runtime, iters, || async {
                let decision = cache
                    .decide(
                        CachedRoute::CustomerDetail,
                        black_box(ID),
                        None,
                        black_box(&request_headers),
                        paycombat_gateway::cache::Replica::Standalone,
                    )
                    .await;
                match decision {
                    Decision::Hit { entry, .. } => {
                        black_box(Arc::clone(&entry));
                    }
                    other => panic!("expected a fresh hit, got {other:?}"),
                }
            })
        })
    });
    group.bench_function("lookup_clone", |b| {
        let key = cache
            .key(CachedRoute::CustomerDetail, ID, None)
            .expect("cacheable id");
        b.iter_custom(|iters| timed(&runtime, iters, || hit_once(&cache, black_box(&key))))
    });
    group.finish();
}

/// Runs `one` `iters` times inside one `block_on`, so that runtime entry is not measured.
fn timed<F: Future<Output = ()>>(
    runtime: &tokio::runtime::Runtime,
    iters: u64,
    mut one: impl FnMut() -> F,
) -> Duration {
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            one().await;
        }
        start.elapsed()
    })
}

async fn hit_once(cache: &CustomerCache, key: &paycombat_gateway::cache::CacheKey) {
    match cache.lookup(key).await {
        Lookup::Fresh { entry, .. } => {
            black_box(Arc::clone(&entry));
        }
        other => panic!("expected a fresh hit, got {other:?}"),
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = key, hit
}
criterion_main!(benches);
