use super::*;

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
