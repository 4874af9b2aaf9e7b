//! What is stored and under which key: client and upstream cache directives, id pattern and
//! query parameters, size and byte bounds, disabled routes and negative caching.

use futures_util::stream::{self, StreamExt};
use http::Method;

use crate::common::*;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_no_cache_refreshes_and_no_store_bypasses_when_allowed() {
    let app = spawn_app().await;
    let id = customer_id(23);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), MISS);
    update_behind_the_gateway(&app, &id, "refreshed by a client").await;
    let stale = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&stale), hit(30));
    assert_ne!(stale.json()["data"]["description"], "refreshed by a client");

    let fresh = get_with(&app, &detail(&id), &[("cache-control", "no-cache")]).await;
    assert_eq!(cache_status(&fresh), REFRESHED);
    assert_eq!(age(&fresh), 0);
    assert_eq!(fresh.json()["data"]["description"], "refreshed by a client");
    assert_eq!(detail_count(&app), 2);
    let r = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&r), hit(30));
    assert_eq!(r.body, fresh.body, "the refresh was stored");

    let r = get_with(&app, &detail(&id), &[("cache-control", "max-age=0")]).await;
    assert_eq!(cache_status(&r), REFRESHED);
    assert_eq!(detail_count(&app), 3);

    let r = get_with(&app, &detail(&id), &[("cache-control", "no-store")]).await;
    assert_eq!((r.status.as_u16(), cache_status(&r)), (200, NO_STORE));
    assert_eq!(age(&r), 0);
    assert_eq!(detail_count(&app), 4);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), hit(30));
    assert_eq!(detail_count(&app), 4);

    // no-store writes nothing either.
    let cold = customer_id(24);
    let r = get_with(&app, &detail(&cold), &[("cache-control", "no-store")]).await;
    assert_eq!(cache_status(&r), NO_STORE);
    assert_eq!(cache_status(&app.get(&detail(&cold)).await), MISS);

    // Forced refreshes are still single-flight.
    let before = detail_count(&app);
    let responses = concurrent_gets(
        &app,
        20,
        &detail(&id),
        &[
            ("cache-control", "no-cache"),
            ("x-sandbox-fault", "delay=300ms"),
        ],
    )
    .await;
    assert_eq!(detail_count(&app), before + 1);
    let counts = tally(&responses);
    assert_eq!(counts.get(REFRESHED), Some(&1), "{counts:?}");
    assert_eq!(
        counts.get("paycombat-gateway; fwd=request; collapsed; stored"),
        Some(&19),
        "{counts:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn client_directives_are_ignored_when_not_allowed() {
    let app =
        spawn_app_overlay("[cache]\nallow_client_no_cache = false\nallow_client_no_store = false")
            .await;
    let id = customer_id(25);
    let first = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&first), MISS);
    update_behind_the_gateway(&app, &id, "not seen yet").await;
    for directive in ["no-cache", "max-age=0", "no-store", "no-cache, no-store"] {
        let r = get_with(&app, &detail(&id), &[("cache-control", directive)]).await;
        assert_eq!(cache_status(&r), hit(30), "{directive}");
        assert_eq!(r.body, first.body, "{directive}");
    }
    assert_eq!(detail_count(&app), 1);
    // A no-store request is cached like any other.
    let cold = customer_id(26);
    let r = get_with(&app, &detail(&cold), &[("cache-control", "no-store")]).await;
    assert_eq!(cache_status(&r), MISS);
    assert_eq!(cache_status(&app.get(&detail(&cold)).await), hit(30));
    app.stop().await;
}

#[tokio::test]
async fn upstream_no_store_and_private_answers_are_not_stored() {
    let app = spawn_app().await;
    for (n, fault, header) in [(27, "no_store", "no-store"), (28, "private", "private")] {
        let id = customer_id(n);
        let base = detail_count(&app);
        for _ in 0..2 {
            let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", fault)]).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(cache_status(&r), UNCACHEABLE, "{fault}");
            assert_eq!(r.header("cache-control"), header);
        }
        assert_eq!(detail_count(&app), base + 2, "{fault}");
        assert_eq!(
            cache_status(&app.get(&detail(&id)).await),
            MISS,
            "{fault}: nothing was stored"
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn id_pattern_and_query_bypass_and_allowlisted_parameters_are_cached_apart() {
    let app =
        spawn_app_overlay("[cache.routes.customer_detail]\nquery_allowlist = [\"lang\"]").await;
    const BYPASS_ID: &str = "paycombat-gateway; fwd=bypass; detail=id-pattern";
    const BYPASS_QUERY: &str = "paycombat-gateway; fwd=bypass; detail=query";

    let upper = format!("customer_{}", "A".repeat(32));
    let mut upstream = 0;
    for bad in [
        "customer_123",
        upper.as_str(),
        "customer_67d84b19d50b490a8fa75ab20bbf275a0",
    ] {
        for _ in 0..2 {
            let r = app.get(&detail(bad)).await;
            assert_eq!(cache_status(&r), BYPASS_ID, "{bad}");
            assert_eq!(age(&r), 0);
            upstream += 1;
            assert_eq!(detail_count(&app), upstream, "{bad}: forwarded every time");
        }
    }

    let id = customer_id(29);
    for query in ["page=2", "lang=en&page=2", "LANG=en"] {
        for _ in 0..2 {
            let r = app.get(&format!("{}?{query}", detail(&id))).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(cache_status(&r), BYPASS_QUERY, "{query}");
            assert_eq!(age(&r), 0);
            upstream += 1;
            assert_eq!(detail_count(&app), upstream, "{query}");
        }
    }
    let r = app.get(&format!("{}?lang=en", wallet(&id))).await;
    assert_eq!(
        cache_status(&r),
        BYPASS_QUERY,
        "no allowlist on the wallet-ready route"
    );

    // Each allowlisted variant is its own entry; the plain path is another.
    let steps = [
        ("?lang=en", MISS.to_owned()),
        ("?lang=en", hit(30)),
        ("?lang=id", MISS.to_owned()),
        ("", MISS.to_owned()),
        ("", hit(30)),
        ("?lang=en", hit(30)),
        ("?lang=id", hit(30)),
    ];
    for (query, expected) in &steps {
        let r = app.get(&format!("{}{query}", detail(&id))).await;
        assert_eq!(&cache_status(&r), expected, "{query:?}");
        if expected.as_str() == MISS {
            upstream += 1;
        }
        assert_eq!(detail_count(&app), upstream, "{query:?}");
    }
    let seen = app.state().requests();
    assert!(
        seen.iter()
            .any(|r| r.path_and_query == format!("{}?lang=id", detail(&id))),
        "query forwarded"
    );

    // A write drops every variant.
    let body = format!(r#"{{"customer_id":"{id}","description":"all variants"}}"#);
    write(&app, Method::PATCH, "/api/v1/customer/update", &body).await;
    for query in ["?lang=en", "?lang=id", ""] {
        let r = app.get(&format!("{}{query}", detail(&id))).await;
        assert_eq!(cache_status(&r), MISS, "{query:?}");
        assert_eq!(r.json()["data"]["description"], "all variants");
    }
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_cache_lookups_total",
            &[("route", "customer_detail"), ("result", "bypass")]
        ),
        Some(12.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn oversized_entries_and_disabled_routes_are_not_stored() {
    let app = spawn_app_overlay(
        r#"
[cache]
max_entry_bytes = 600
[cache.routes.customer_wallet_ready]
enabled = false
"#,
    )
    .await;
    let id = customer_id(30);
    for n in 1..=2u64 {
        let r = app.get(&detail(&id)).await;
        assert_eq!(r.status, 200);
        assert!(r.body.len() > 600, "a detail body outweighs the limit");
        assert_eq!(
            cache_status(&r),
            "paycombat-gateway; fwd=miss; detail=too-large"
        );
        assert_eq!(detail_count(&app), n);
        let w = app.get(&wallet(&id)).await;
        assert_eq!(w.status, 200);
        assert_eq!(
            cache_status(&w),
            "paycombat-gateway; fwd=bypass; detail=disabled"
        );
        assert_eq!(age(&w), 0);
        assert_eq!(wallet_count(&app), n);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_byte_bound_holds_over_twenty_thousand_customers() {
    const MAX_BYTES: u64 = 2 * 1024 * 1024;
    const READS: u64 = 20_000;
    let app = spawn_app_overlay(&format!("[cache]\nmax_bytes = {MAX_BYTES}")).await;
    let results: Vec<(u16, bool)> = stream::iter(0..READS)
        .map(|n| {
            let (client, url) = (
                app.client.clone(),
                format!("http://{}{}", app.addr, detail(&customer_id(1_000_000 + n))),
            );
            async move {
                let r = request(&client, Method::GET, &url, &[("x-token", CLIENT_KEY)], b"").await;
                (r.status.as_u16(), cache_status(&r) == MISS)
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert_eq!(results.len() as u64, READS);
    assert!(
        results.iter().all(|&(status, miss)| status == 200 && miss),
        "every read a stored miss"
    );
    assert_eq!(detail_count(&app), READS);

    let scrape = app.metrics().await;
    let weighted = value(&scrape, "gateway_cache_weighted_bytes", &[]);
    let entries = value(&scrape, "gateway_cache_entries", &[]);
    assert_eq!(
        value(&scrape, "gateway_cache_max_bytes", &[]),
        MAX_BYTES as f64
    );
    assert!(
        weighted <= MAX_BYTES as f64,
        "{weighted} bytes held, bound {MAX_BYTES}"
    );
    assert!(
        weighted > (MAX_BYTES / 2) as f64,
        "the cache is in use: {weighted}"
    );
    assert!(
        entries > 0.0 && entries < READS as f64 / 4.0,
        "{entries} entries"
    );
    assert!(
        value(
            &scrape,
            "gateway_cache_evictions_total",
            &[("cause", "size")]
        ) > 0.0
    );
    app.stop().await;
}

#[tokio::test]
async fn not_found_is_cached_only_when_negative_ttl_is_set() {
    let app = spawn_app_overlay("[cache.routes.customer_detail]\nnegative_ttl = \"5s\"").await;
    let id = customer_id(35);
    warm(&app, &id).await;
    write(&app, Method::DELETE, &detail(&id), "").await;
    let r = app.get(&detail(&id)).await;
    assert_eq!((r.status.as_u16(), cache_status(&r)), (404, MISS));
    let r = app.get(&detail(&id)).await;
    assert_eq!(
        (r.status.as_u16(), cache_status(&r)),
        (404, hit(5).as_str())
    );
    assert_eq!(r.json()["status"], false);
    assert_eq!(detail_count(&app), 2);
    // The wallet-ready route keeps its own negative_ttl (0): never stored there.
    for n in 2..=3 {
        let w = app.get(&wallet(&id)).await;
        assert_eq!((w.status.as_u16(), cache_status(&w)), (404, UNCACHEABLE));
        assert_eq!(wallet_count(&app), n);
    }
    app.stop().await;
}
