use super::*;

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
    cache.advance(Duration::from_millis(250));
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
