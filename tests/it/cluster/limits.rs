//! Client rate limits across replicas, and what `rate_limit_on_error` does without Redis.

use std::time::{Duration, Instant};

use http::Method;

use crate::common::redis::RedisServer;
use crate::common::*;

use super::*;

#[tokio::test]
async fn a_client_limit_holds_across_three_replicas() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let apps = trio(&overlay(&redis, "")).await;
    let id = customer_id(1502);
    // Prime the cache, so the measured requests are cheap hits.
    warm(&apps[0], &id).await;

    let (rate, burst, run) = (20.0, 10.0, Duration::from_secs(3));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for app in &apps {
        let (client, url) = (
            app.client.clone(),
            format!("http://{}{}", app.addr, detail(&id)),
        );
        tasks.push(tokio::spawn(async move {
            let (mut ok, mut limited) = (0u32, 0u32);
            while started.elapsed() < run {
                let r = request(&client, Method::GET, &url, &[("x-token", LIMITED_KEY)], b"").await;
                match r.status.as_u16() {
                    200 => ok += 1,
                    429 => {
                        assert!(r.header("retry-after").parse::<u64>().unwrap_or(0) >= 1);
                        limited += 1;
                    }
                    s => panic!("unexpected {s}: {}", r.text()),
                }
                tokio::time::sleep(Duration::from_millis(4)).await;
            }
            (ok, limited)
        }));
    }
    let (mut ok, mut limited) = (0, 0);
    for t in tasks {
        let (o, l) = t.await.unwrap();
        ok += o;
        limited += l;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let expected = rate * elapsed + burst;
    println!(
        "shared limit {rate}/s burst {burst} over {elapsed:.2} s on 3 replicas: {ok} accepted (expected {expected:.0}), {limited} refused"
    );
    assert!(limited > ok, "the clients sent well over the limit");
    let error = (f64::from(ok) - expected).abs() / expected;
    assert!(
        error <= 0.10,
        "accepted {ok}, expected {expected:.0} ± 10 %"
    );

    let mut from_redis = 0.0;
    for app in &apps {
        from_redis += value(
            &app.metrics().await,
            "gateway_cluster_rate_limit_decisions_total",
            &[("source", "redis")],
        );
    }
    assert_eq!(
        from_redis,
        f64::from(ok + limited),
        "every decision came from Redis"
    );
    for app in apps {
        app.stop().await;
    }
}

/// What `rate_limit_on_error` says, with Redis unreachable from the start (the gateway
/// starts and is ready anyway).
#[tokio::test]
async fn rate_limit_on_error_allow_and_deny_do_what_they_say() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let mut redis = RedisServer::start();
    redis.kill();
    for (policy, expected) in [
        ("allow", [200, 200, 200, 200, 200]),
        ("deny", [429, 429, 429, 429, 429]),
    ] {
        let app = spawn_app_with(Options {
            overlay: overlay(&redis, &format!("rate_limit_on_error = \"{policy}\"")),
            ..Options::default()
        })
        .await;
        let r = app.admin(Method::GET, "/readyz", &[]).await;
        assert_eq!(r.status, 200);
        let mut got = Vec::new();
        for _ in 0..5 {
            let r = app
                .send(
                    Method::GET,
                    &detail(FIXTURE_ID),
                    &[("x-token", READONLY_KEY)],
                    b"",
                )
                .await;
            if r.status == 429 {
                assert_eq!(r.header("retry-after"), "1");
                assert_eq!(r.error_code(), "RATE_LIMITED");
            }
            // No bucket was read: the client is told its policy, not a count.
            assert_eq!(r.header("ratelimit-policy"), "\"client\";q=3;w=3");
            assert!(r.headers.get("ratelimit").is_none(), "{policy}");
            got.push(r.status.as_u16());
        }
        assert_eq!(got, expected, "{policy}");
        // Clients without a limit are never refused for Redis's absence.
        assert_eq!(app.get(&detail(FIXTURE_ID)).await.status, 200, "{policy}");
        app.stop().await;
    }
}
