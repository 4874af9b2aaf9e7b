//! Consistency across replicas: a write through one is fresh on the others, a purge empties all
//! of them, and made-up senders on the channel are ignored.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use http::Method;

use crate::common::redis::RedisServer;
use crate::common::*;

use super::*;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Invalidation lags (µs) seen by an outside subscriber on the channel, from each
/// message's `sent_us` to its arrival: the delivery part of what every replica sees.
fn watch_lags(redis: &RedisServer) -> tokio::sync::mpsc::UnboundedReceiver<f64> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let url = redis.url();
    tokio::spawn(async move {
        let client = ::redis::Client::open(url).unwrap();
        let mut pubsub = client.get_async_pubsub().await.unwrap();
        pubsub.subscribe(CHANNEL).await.unwrap();
        let mut messages = pubsub.into_on_message();
        while let Some(msg) = messages.next().await {
            let v: serde_json::Value = serde_json::from_slice(msg.get_payload_bytes()).unwrap();
            if v["kind"] == "heartbeat" || v["kind"] == "ack" {
                continue;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_micros() as f64;
            let _ = tx.send(now - v["sent_us"].as_f64().unwrap());
        }
    });
    rx
}

#[tokio::test]
async fn a_write_through_one_replica_is_fresh_on_the_others_right_after_its_answer() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let apps = trio(&overlay(&redis, "")).await;
    let (a, others) = (&apps[0], &apps[1..]);
    let mut lags = watch_lags(&redis);
    tokio::time::sleep(Duration::from_millis(100)).await;

    let id = customer_id(1501);
    const PAIRS: usize = 40;
    for i in 0..PAIRS {
        for b in others {
            // Cached on B and C: without the broadcast they would answer this.
            warm(b, &id).await;
        }
        let written = format!("pair {i}");
        update(a, &id, &written).await;
        for (n, b) in others.iter().enumerate() {
            let r = b.get(&detail(&id)).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert_eq!(
                description(&r),
                written,
                "replica {} served pre-write data on pair {i} ({})",
                n + 1,
                cache_status(&r)
            );
            assert!(!is_hit(&r), "pair {i}: {}", cache_status(&r));
        }
    }

    let mut seen = Vec::new();
    while seen.len() < PAIRS {
        match tokio::time::timeout(Duration::from_secs(2), lags.recv()).await {
            Ok(Some(lag)) => seen.push(lag / 1000.0),
            _ => break,
        }
    }
    assert_eq!(seen.len(), PAIRS, "one published invalidation per write");
    seen.sort_by(f64::total_cmp);
    let (p50, p99) = (percentile(&seen, 0.5), percentile(&seen, 0.99));
    println!("cluster invalidation lag over {PAIRS} writes (publish to delivery): p50 {p50:.3} ms, p99 {p99:.3} ms");

    for (n, b) in others.iter().enumerate() {
        let scrape = b.metrics().await;
        let received = value(
            &scrape,
            "gateway_cluster_invalidations_received_total",
            &[("kind", "customer")],
        );
        assert_eq!(received, PAIRS as f64, "replica {}", n + 1);
        let count = value(
            &scrape,
            "gateway_cluster_invalidation_lag_seconds_count",
            &[],
        );
        let sum = value(&scrape, "gateway_cluster_invalidation_lag_seconds_sum", &[]);
        println!(
            "replica {}: applied {count} invalidations, mean lag to applied {:.3} ms",
            n + 1,
            sum / count * 1000.0
        );
    }
    let published = value(
        &a.metrics().await,
        "gateway_cluster_invalidations_published_total",
        &[("kind", "customer")],
    );
    assert_eq!(published, PAIRS as f64);
    let unconfirmed = value(
        &a.metrics().await,
        "gateway_cluster_write_waits_total",
        &[("outcome", "unconfirmed")],
    );
    assert_eq!(unconfirmed, 0.0, "Redis acknowledged every invalidation");
    assert_eq!(gauge(a, "gateway_cluster_peers").await, 2.0);
    for app in apps {
        app.stop().await;
    }
}

/// Heartbeats anyone who can publish on the channel could send, from senders that
/// are no replica (a name of 32 KiB, made-up words), over and over: none is kept
/// as a peer, so memory stays bounded and no write waits for their confirmations.
#[tokio::test]
async fn made_up_senders_on_the_channel_are_neither_kept_nor_waited_for() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let app = spawn_app_with(Options {
        overlay: overlay(&redis, ""),
        clients_toml: Some(clients()),
        ..Options::default()
    })
    .await;
    assert!(subscribed(&app, true).await, "the replica subscribes");
    let url = redis.url();
    let flood = tokio::spawn(async move {
        let client = ::redis::Client::open(url).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let huge = "x".repeat(32 * 1024);
        loop {
            for n in 0..50u64 {
                let from = if n == 0 {
                    huge.clone()
                } else {
                    format!("attacker-{n}")
                };
                let msg = serde_json::json!({
                    "from": from, "id": n, "sent_us": 0, "kind": "heartbeat", "subscribed": true,
                });
                let _: Result<i64, _> = ::redis::cmd("PUBLISH")
                    .arg(CHANNEL)
                    .arg(msg.to_string())
                    .query_async(&mut conn)
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    // More than a lease of the replica's own heartbeat rounds: its peer count is
    // refreshed, and its subscription is old enough for a write to be answered as soon
    // as every replica it counts confirmed (a made-up one never would: a full lease).
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let peers = gauge(&app, "gateway_cluster_peers").await;
    let started = Instant::now();
    update(&app, &customer_id(1510), "during the flood").await;
    let took = started.elapsed();
    flood.abort();
    println!(
        "with made-up senders flooding the channel: {peers} peers, a write answered in {took:?}"
    );
    assert_eq!(peers, 0.0, "no made-up sender is a peer");
    assert!(
        took < Duration::from_secs(1),
        "the write waited {took:?} for made-up replicas"
    );
    let unconfirmed = value(
        &app.metrics().await,
        "gateway_cluster_write_waits_total",
        &[("outcome", "unconfirmed")],
    );
    assert_eq!(unconfirmed, 0.0);
    app.stop().await;
}

#[tokio::test]
async fn an_admin_purge_empties_every_replica() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let apps = trio(&overlay(&redis, "")).await;
    let (x, y) = (customer_id(1503), customer_id(1504));
    for app in &apps {
        warm(app, &x).await;
        warm(app, &y).await;
    }
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let purge = |q: &str| format!("/admin/cache/purge?{q}");
    let r = apps[0]
        .admin(
            Method::POST,
            &purge(&format!("customer_id={x}")),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    for app in &apps {
        assert!(!is_hit(&app.get(&detail(&x)).await), "x purged everywhere");
        assert!(is_hit(&app.get(&detail(&y)).await), "y kept");
    }

    let r = apps[1]
        .admin(
            Method::POST,
            &purge("all=true"),
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    for app in &apps {
        assert!(
            !is_hit(&app.get(&detail(&y)).await),
            "purge all reached every replica"
        );
    }
    let received = value(
        &apps[2].metrics().await,
        "gateway_cluster_invalidations_received_total",
        &[],
    );
    assert_eq!(received, 2.0, "one customer purge and one purge-all");
    for app in apps {
        app.stop().await;
    }
}
