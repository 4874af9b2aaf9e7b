//! Cluster mode: three gateways in front of one sandbox, sharing one real `redis-server`.
//! Writes through one replica are fresh on the others, rate limits hold across them, a
//! purge empties all of them, and Redis going away degrades but fails nothing.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use http::Method;

use crate::common::redis::RedisServer;
use crate::common::*;

const LIMITED_KEY: &str = "limited-client-key";
const CHANNEL: &str = "paycombat-gateway:invalidate";

fn cache_status(r: &Resp) -> &str {
    r.header("cache-status")
}

fn is_hit(r: &Resp) -> bool {
    cache_status(r).starts_with("paycombat-gateway; hit;")
}

/// Short heartbeats and a short lease keep the failure scenarios quick.
fn overlay(redis: &RedisServer, extra: &str) -> String {
    format!(
        r#"
[cluster]
redis_url = "{url}"
connect_timeout = "500ms"
command_timeout = "250ms"
heartbeat_interval = "100ms"
heartbeat_timeout = "600ms"
lease = "1s"
publish_deadline = "2s"
{extra}
"#,
        url = redis.url()
    )
}

fn clients() -> String {
    clients::harness_clients_and([clients::ClientEntry::new("limited")
        .key(LIMITED_KEY)
        .rate_limit(20, 10)
        .allow(&["GET"], "/api/v1/**")])
}

/// Three gateways on the first one's sandbox, each subscribed.
async fn trio(overlay: &str) -> Vec<TestApp> {
    let first = spawn_app_with(Options {
        overlay: overlay.to_owned(),
        clients_toml: Some(clients()),
        ..Options::default()
    })
    .await;
    let upstream = first.sandbox.base_url();
    let mut apps = vec![first];
    for _ in 0..2 {
        apps.push(
            spawn_app_with(Options {
                overlay: overlay.to_owned(),
                clients_toml: Some(clients()),
                upstream_override: Some(upstream.clone()),
                ..Options::default()
            })
            .await,
        );
    }
    for app in &apps {
        assert!(subscribed(app, true).await, "every replica subscribes");
        assert!(leased(app, true).await, "every replica gets a lease");
    }
    apps
}

/// Waits (bounded) until the replica holds a lease (or has lost it).
async fn leased(app: &TestApp, held: bool) -> bool {
    let want = if held { 1.0 } else { 0.0 };
    eventually(Duration::from_secs(8), || async {
        gauge(app, "gateway_cluster_lease_held").await == want
    })
    .await
}

async fn gauge(app: &TestApp, name: &str) -> f64 {
    value(&app.metrics().await, name, &[])
}

/// Waits (bounded) until the replica's subscription is live (or lost).
async fn subscribed(app: &TestApp, live: bool) -> bool {
    let want = if live { 1.0 } else { 0.0 };
    eventually(Duration::from_secs(8), || async {
        gauge(app, "gateway_cluster_subscribed").await == want
    })
    .await
}

async fn update(app: &TestApp, id: &str, description: &str) {
    let body = format!(r#"{{"customer_id":"{id}","description":"{description}"}}"#);
    let r = app
        .send(
            Method::PATCH,
            "/api/v1/customer/update",
            &[("content-type", "application/json")],
            body.as_bytes(),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

/// Reads `id` until it is cached here (a hit), returning that hit.
async fn warm(app: &TestApp, id: &str) -> Resp {
    for _ in 0..3 {
        let r = app.get(&detail(id)).await;
        assert_eq!(r.status, 200, "{}", r.text());
        if is_hit(&r) {
            return r;
        }
    }
    panic!("{id} is not cached after three reads");
}

fn description(r: &Resp) -> String {
    r.json()["data"]["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

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
