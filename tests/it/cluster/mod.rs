//! Cluster mode: three gateways in front of one sandbox, sharing one real `redis-server`.
//! Writes through one replica are fresh on the others, rate limits hold across them, a
//! purge empties all of them, and Redis going away degrades but fails nothing.
//!
//! The helpers the tests share live here; each submodule holds the tests of one concern.

use std::time::Duration;

use http::Method;

use crate::common::redis::RedisServer;
use crate::common::*;

mod consistency;
mod limits;
mod redis;

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
