//! Hits, TTLs and single flight: what a warm entry answers, when it expires, and how concurrent cold
//! reads and failed fills share one upstream request.

use std::time::Duration;

use http::Method;

use crate::common::*;

use super::*;

#[tokio::test]
async fn a_hit_never_reaches_upstream() {
    let app = spawn_app().await;
    // The documented example customer: its personal data is known.
    let id = FIXTURE_ID.to_owned();

    let first = get_with(&app, &detail(&id), &[("x-request-id", "first-read")]).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(cache_status(&first), MISS);
    assert_eq!(age(&first), 0);
    assert_eq!(detail_count(&app), 1);

    let second = get_with(&app, &detail(&id), &[("x-request-id", "second-read")]).await;
    assert_eq!(second.status, 200);
    assert_eq!(cache_status(&second), hit(30), "default detail TTL is 30 s");
    assert_eq!(age(&second), 0);
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("content-type"), first.header("content-type"));
    assert_eq!(
        second.header("x-request-id"),
        "second-read",
        "a hit carries its own request id"
    );

    // The stored bytes are the masked ones.
    assert_eq!(second.json()["data"]["customer_id"], id.as_str());
    let text = second.text();
    assert!(text.contains("[REDACTED]"), "{text}");
    for personal in [
        "fatur4@paycombat.com",
        "33777777",
        "GRAND RUDENSIA",
        "jennie",
        "85156781124",
    ] {
        assert!(!text.contains(personal), "{personal} in a cached body");
    }

    // A fault that upstream would apply changes nothing: upstream is not asked.
    let faulted = get_with(&app, &detail(&id), &[("x-sandbox-fault", "status=500")]).await;
    assert_eq!(faulted.status, 200);
    assert_eq!(cache_status(&faulted), hit(30));
    assert_eq!(faulted.body, first.body);

    // A change upstream stays invisible while the entry is fresh.
    update_behind_the_gateway(&app, &id, "changed elsewhere").await;
    let still = app.get(&detail(&id)).await;
    assert_eq!(still.body, first.body);
    assert_eq!(detail_count(&app), 1);

    // The wallet-ready route is cached too, with its own default TTL and its own key.
    let w1 = app.get(&wallet(&id)).await;
    assert_eq!(w1.status, 200, "{}", w1.text());
    assert_eq!(cache_status(&w1), MISS);
    let w2 = app.get(&wallet(&id)).await;
    assert_eq!(
        cache_status(&w2),
        hit(10),
        "default wallet-ready TTL is 10 s"
    );
    assert_eq!(w2.body, w1.body);
    assert_eq!(wallet_count(&app), 1);
    assert_eq!(detail_count(&app), 1);

    let scrape = app.metrics().await;
    let lookups = |route, result| {
        value(
            &scrape,
            "gateway_cache_lookups_total",
            &[("route", route), ("result", result)],
        )
    };
    assert_eq!(lookups("customer_detail", "hit"), 3.0);
    assert_eq!(lookups("customer_detail", "miss"), 1.0);
    assert_eq!(lookups("customer_wallet_ready", "hit"), 1.0);
    assert_eq!(lookups("customer_wallet_ready", "miss"), 1.0);
    assert_eq!(
        sample(
            &scrape,
            "gateway_requests_total",
            &[("route", "customer_detail"), ("cache", "hit")]
        ),
        Some(3.0)
    );
    assert_eq!(sample(&scrape, "gateway_cache_entries", &[]), Some(2.0));
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", "ok")]
        ),
        Some(1.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn a_hit_still_requires_a_permitted_client() {
    let app = spawn_app().await;
    let id = customer_id(34);
    warm(&app, &id).await;
    let r = app.send_raw(Method::GET, &detail(&id), &[], b"").await;
    assert_eq!(r.status, 401, "no key, no cached answer");
    let readonly = [("x-token", READONLY_KEY)];
    let r = get_with(&app, &wallet(&id), &readonly).await;
    assert_eq!(r.status, 403, "outside the client's allowlist");
    // The read-only client's rate (1/s, burst 3) applies to hits too.
    let mut served = 0;
    let limited = loop {
        let r = get_with(&app, &detail(&id), &readonly).await;
        if r.status != 200 {
            break r;
        }
        assert_eq!(cache_status(&r), hit(30));
        served += 1;
        assert!(served <= 6, "hits are not rate limited");
    };
    assert!(served >= 1, "the client's burst allows hits");
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.header("cache-status"),
        "",
        "refused before the cache"
    );
    assert_eq!((detail_count(&app), wallet_count(&app)), (1, 1));
    app.stop().await;
}

#[tokio::test]
async fn entries_expire_at_their_route_ttl_and_age_counts_up() {
    let app = spawn_app_overlay(
        r#"
[cache.routes.customer_detail]
ttl = "1s"
stale_if_error = "0s"
"#,
    )
    .await;
    let id = customer_id(2);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), MISS);
    assert_eq!(cache_status(&app.get(&wallet(&id)).await), MISS);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), hit(1));
    update_behind_the_gateway(&app, &id, "after expiry").await;

    // Past the 1 s TTL by the gateway's clock; no waiting.
    app.clock.advance(Duration::from_millis(1_150));

    // Past its 1 s TTL: upstream again, and the change made there is now visible.
    let expired = app.get(&detail(&id)).await;
    assert_eq!(cache_status(&expired), MISS);
    assert_eq!(expired.json()["data"]["description"], "after expiry");
    assert_eq!(detail_count(&app), 2);
    assert_eq!(cache_status(&app.get(&detail(&id)).await), hit(1));
    assert_eq!(detail_count(&app), 2);

    // The wallet-ready route kept its own 10 s TTL: ttl + Age is the lifetime.
    let w = app.get(&wallet(&id)).await;
    let ttl: u64 = cache_status(&w)
        .strip_prefix("paycombat-gateway; hit; ttl=")
        .and_then(|ttl| ttl.parse().ok())
        .unwrap_or_else(|| panic!("a hit: {}", cache_status(&w)));
    assert!(age(&w) >= 1, "Age counts whole seconds");
    assert_eq!(ttl + age(&w), 10, "ttl + Age is the lifetime");
    assert_eq!(wallet_count(&app), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_concurrent_cold_reads_make_one_upstream_request() {
    let app = spawn_app().await;
    // Open the client's 200 connections first, so that the burst below overlaps the fill.
    let warmup = concurrent_gets(&app, 200, &detail(&customer_id(300)), &[]).await;
    assert!(warmup.iter().all(|r| r.status == 200));
    let id = customer_id(3);
    let base = detail_count(&app);
    let collapsed_metric = |scrape: &str| {
        (
            sample(
                scrape,
                "gateway_cache_lookups_total",
                &[("route", "customer_detail"), ("result", "collapsed")],
            ),
            sample(
                scrape,
                "gateway_requests_total",
                &[("route", "customer_detail"), ("cache", "collapsed")],
            ),
        )
    };
    let before = collapsed_metric(&app.metrics().await);
    let responses = concurrent_gets(
        &app,
        200,
        &detail(&id),
        &[("x-sandbox-fault", "delay=300ms")],
    )
    .await;
    assert_eq!(
        detail_count(&app) - base,
        1,
        "one upstream request for 200 readers"
    );
    for r in &responses {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.body, responses[0].body);
        assert_eq!(age(r), 0);
    }
    // One request led the fill and the others waited on it; on a loaded machine a few may
    // only arrive after it stored its answer, and are hits.
    let counts = tally(&responses);
    let (collapsed, hits) = (
        counts.get(COLLAPSED).copied().unwrap_or(0),
        counts.get(&hit(30)).copied().unwrap_or(0),
    );
    assert_eq!(counts.get(MISS), Some(&1), "{counts:?}");
    assert_eq!(collapsed + hits, 199, "{counts:?}");
    assert!(collapsed >= 100, "{counts:?}");

    let after = collapsed_metric(&app.metrics().await);
    assert_eq!(
        (
            metrics::moved(before.0, after.0),
            metrics::moved(before.1, after.1)
        ),
        (Some(collapsed as f64), Some(collapsed as f64))
    );

    assert_eq!(cache_status(&app.get(&detail(&id)).await), hit(30));
    assert_eq!(detail_count(&app) - base, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_client_leaving_mid_fill_does_not_stop_the_fill() {
    let app = spawn_app().await;
    let id = customer_id(4);
    let leaver = {
        let (client, url) = (
            app.client.clone(),
            format!("http://{}{}", app.addr, detail(&id)),
        );
        tokio::spawn(async move {
            request(
                &client,
                Method::GET,
                &url,
                &[("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=400ms")],
                b"",
            )
            .await
        })
    };
    assert!(eventually(Duration::from_secs(5), || async { detail_count(&app) == 1 }).await);
    // The client disconnects while upstream is still answering.
    leaver.abort();
    assert!(matches!(leaver.await, Err(e) if e.is_cancelled()));

    let stored = eventually(Duration::from_secs(5), || async {
        sample(&app.metrics().await, "gateway_cache_entries", &[]) == Some(1.0)
    })
    .await;
    assert!(stored, "the abandoned fill still stored its answer");
    let later = app.get(&detail(&id)).await;
    assert_eq!(later.status, 200);
    assert_eq!(cache_status(&later), hit(30));
    assert_eq!(detail_count(&app), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_error_reaches_every_waiter_and_is_not_cached() {
    let app = spawn_app().await;
    let id = customer_id(5);
    let responses = concurrent_gets(
        &app,
        20,
        &detail(&id),
        &[("x-sandbox-fault", "delay=300ms,status=503")],
    )
    .await;
    // One fill: its first attempt plus the gateway's own retries of a 503.
    let retries = value(
        &app.metrics().await,
        "gateway_upstream_retries_total",
        &[("route", "customer_detail")],
    );
    assert_eq!(detail_count(&app), 1 + retries as u64);
    for r in &responses {
        assert_eq!(r.status, 503, "{}", r.text());
        assert_eq!(r.json()["status"], false);
    }
    let counts = tally(&responses);
    assert_eq!(counts.get(UNCACHEABLE), Some(&1), "{counts:?}");
    assert_eq!(counts.get(COLLAPSED_UNCACHEABLE), Some(&19), "{counts:?}");

    // Nothing was remembered: the next reader goes upstream and gets the real answer.
    let next = app.get(&detail(&id)).await;
    assert_eq!(next.status, 200);
    assert_eq!(cache_status(&next), MISS);
    assert_eq!(detail_count(&app), 2 + retries as u64);
    app.stop().await;
}

#[tokio::test]
async fn error_answers_are_never_cached() {
    // A looser id pattern lets an id through that upstream refuses with 400.
    // Retries off: each read below is exactly one upstream request.
    let app = spawn_app_overlay(
        "[cache]\nid_pattern = \"customer_[0-9a-z]+\"\n[upstream.retry]\nmax_retries = 0",
    )
    .await;
    let bad = "customer_zz";
    for n in 1..=2u64 {
        let r = app.get(&detail(bad)).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert_eq!(cache_status(&r), UNCACHEABLE);
        assert_eq!(age(&r), 0);
        assert_eq!(detail_count(&app), n);
    }

    let id = customer_id(6);
    let mut expected = 2;
    for status in ["500", "502", "503", "504"] {
        for _ in 0..2 {
            let fault = format!("status={status}");
            let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", &fault)]).await;
            assert_eq!(r.status.as_str(), status, "{}", r.text());
            assert_eq!(cache_status(&r), UNCACHEABLE);
            expected += 1;
            assert_eq!(detail_count(&app), expected);
        }
    }
    let ok = app.get(&detail(&id)).await;
    assert_eq!((ok.status.as_u16(), cache_status(&ok)), (200, MISS));

    // The gateway's own errors (broken connection, uninspectable body) are not cached either.
    let id = customer_id(7);
    for (fault, status) in [("reset", 502), ("malformed_json", 502)] {
        let r = get_with(&app, &detail(&id), &[("x-sandbox-fault", fault)]).await;
        assert_eq!(r.status, status, "{fault}: {}", r.text());
        assert_eq!(cache_status(&r), UNCACHEABLE, "{fault}");
    }
    let ok = app.get(&detail(&id)).await;
    assert_eq!((ok.status.as_u16(), cache_status(&ok)), (200, MISS));
    app.stop().await;
}
