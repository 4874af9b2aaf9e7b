use super::*;

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

    cache.advance(Duration::from_millis(350));
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

    cache.advance(Duration::from_millis(450));
    assert!(matches!(cache.lookup(&key).await, Lookup::Miss));
    // Retention ended, so moka drops the entry too. moka keeps real time (its timer wheel
    // ticks about once a second), hence the bounded wait.
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
    cache.advance(Duration::from_millis(150));
    assert!(matches!(
        cache.lookup(&key).await,
        Lookup::Stale {
            within_swr: true,
            within_stale_if_error: false,
            ..
        }
    ));
}
