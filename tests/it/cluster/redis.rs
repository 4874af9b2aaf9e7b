//! Redis going away, hanging, or behind TLS with a private CA: replicas degrade but fail nothing.

use std::time::{Duration, Instant};

use http::Method;

use crate::common::redis::RedisServer;
use crate::common::*;

use super::*;

#[tokio::test]
async fn with_redis_killed_replicas_keep_serving_and_after_a_restart_they_are_consistent_again() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let mut redis = RedisServer::start();
    let apps = trio(&overlay(&redis, "")).await;
    let id = customer_id(1505);
    for app in &apps {
        warm(app, &id).await;
    }

    redis.kill();
    for app in &apps {
        assert!(
            subscribed(app, false).await,
            "the lost subscription is noticed"
        );
        let r = app.admin(Method::GET, "/readyz", &[]).await;
        assert_eq!(r.status, 200, "readiness does not depend on Redis");
    }
    // No lease: writes and reads are all served, reads from upstream only (another
    // replica's invalidation may have been missed).
    for i in 0..3 {
        update(&apps[i % 3], &id, &format!("outage {i}")).await;
        for app in &apps {
            let r = app.get(&detail(&id)).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(description(&r), format!("outage {i}"));
            assert!(
                cache_status(&r).contains("detail=no-lease"),
                "{}",
                cache_status(&r)
            );
        }
    }
    assert!(gauge(&apps[1], "gateway_cluster_no_lease_reads_total").await >= 3.0);
    let unconfirmed = value(
        &apps[0].metrics().await,
        "gateway_cluster_write_waits_total",
        &[("outcome", "unconfirmed")],
    );
    assert!(
        unconfirmed >= 1.0,
        "a write Redis never acknowledged is counted"
    );
    // Rate limits fall back to each replica's own bucket (readonly: burst 3).
    let limited: Vec<u16> = {
        let mut out = Vec::new();
        for _ in 0..5 {
            let r = apps[2]
                .send(Method::GET, &detail(&id), &[("x-token", READONLY_KEY)], b"")
                .await;
            out.push(r.status.as_u16());
        }
        out
    };
    assert_eq!(limited, [200, 200, 200, 429, 429], "local fallback bucket");
    let local = value(
        &apps[2].metrics().await,
        "gateway_cluster_rate_limit_decisions_total",
        &[("source", "local")],
    );
    assert!(local >= 5.0, "{local}");

    redis.restart();
    for app in &apps {
        assert!(
            subscribed(app, true).await,
            "re-subscribed after the restart"
        );
        assert!(leased(app, true).await, "a lease again");
        let resets = gauge(app, "gateway_cluster_subscription_resets_total").await;
        assert_eq!(resets, 1.0);
    }
    for i in 0..5 {
        for b in &apps[1..] {
            warm(b, &id).await;
        }
        let written = format!("after restart {i}");
        update(&apps[0], &id, &written).await;
        for b in &apps[1..] {
            assert_eq!(description(&b.get(&detail(&id)).await), written);
        }
    }
    for app in apps {
        app.stop().await;
    }
}

#[tokio::test]
async fn a_hung_redis_is_noticed_by_missing_heartbeats_and_nothing_waits_on_it() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let apps = trio(&overlay(&redis, "")).await;
    let id = customer_id(1506);
    redis.pause(true);
    for app in &apps {
        assert!(
            subscribed(app, false).await,
            "silence is taken for a dead subscription"
        );
    }
    // No lease: reads go upstream; a write waits publish_deadline for a reply that
    // never comes, then is answered (unconfirmed) — nothing waits longer.
    let started = Instant::now();
    update(&apps[0], &id, "while hung").await;
    for app in &apps {
        assert!(leased(app, false).await, "the lease ran out");
        assert_eq!(description(&app.get(&detail(&id)).await), "while hung");
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    redis.pause(false);
    for app in &apps {
        assert!(
            subscribed(app, true).await,
            "subscribed again once Redis answers"
        );
    }
    for app in apps {
        app.stop().await;
    }
}

/// `rediss://` with a private CA (`cluster.ca_file`): subscribed, and limits decided by Redis.
#[tokio::test]
async fn cluster_mode_over_tls_with_a_private_ca() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ca, key) = (dir.path().join("ca.pem"), dir.path().join("key.pem"));
    std::fs::write(&ca, cert.cert.pem()).unwrap();
    std::fs::write(&key, cert.signing_key.serialize_pem()).unwrap();
    let redis = RedisServer::start_tls(&ca, &key);
    let app = spawn_app_with(Options {
        overlay: overlay(&redis, &format!("ca_file = \"{}\"", ca.display())),
        ..Options::default()
    })
    .await;
    assert!(subscribed(&app, true).await, "subscribed over TLS");
    let r = app
        .send(
            Method::GET,
            &detail(FIXTURE_ID),
            &[("x-token", READONLY_KEY)],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let from_redis = value(
        &app.metrics().await,
        "gateway_cluster_rate_limit_decisions_total",
        &[("source", "redis")],
    );
    assert_eq!(from_redis, 1.0);
    app.stop().await;
}
