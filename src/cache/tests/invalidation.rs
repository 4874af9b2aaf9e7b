use super::*;

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

/// A reload's new view shares the store, decides by its own rules, and is the only one
/// that may store from then on: a fill under the old rules (read before the reload)
/// cannot put back what the reload dropped.
#[tokio::test]
async fn a_view_with_new_rules_shares_the_store_and_the_old_view_stores_nothing() {
    let old = cache();
    let key = detail(&old, ID);
    assert_eq!(store(&old, &key, ok(b"old")).await, StoreOutcome::Stored);
    let gen_before = old.generation(ID);

    let mut config = crate::cache::default_config();
    config.routes.customer_detail.ttl = Duration::from_secs(5);
    let new = old.with_rules(&config.validate().expect("valid"));
    assert_eq!(
        new.settings().route(CachedRoute::CustomerDetail).ttl,
        Duration::from_secs(5)
    );
    // Same store, but stored under the old rules: never the new view's answer, before
    // the reload drops it too; the old view still sees its own.
    assert!(matches!(new.lookup(&key).await, Lookup::Miss));
    assert_eq!(body_of(&old.lookup(&key).await), Some(&b"old"[..]));
    new.invalidate_all().await;
    assert!(matches!(new.lookup(&key).await, Lookup::Miss));

    // The old view's fill, whatever generation it read, is refused.
    assert_eq!(
        old.store_if_current(&key, gen_before, ok(b"stale-rules"))
            .await,
        StoreOutcome::Invalidated
    );
    assert_eq!(
        store(&old, &key, ok(b"stale-rules")).await,
        StoreOutcome::Invalidated
    );
    assert!(matches!(new.lookup(&key).await, Lookup::Miss));
    // The new view stores, and a write still reaches it through any view.
    assert_eq!(store(&new, &key, ok(b"new")).await, StoreOutcome::Stored);
    assert_eq!(body_of(&new.lookup(&key).await), Some(&b"new"[..]));
    old.invalidate_customer(ID).await;
    assert!(matches!(new.lookup(&key).await, Lookup::Miss));
}
