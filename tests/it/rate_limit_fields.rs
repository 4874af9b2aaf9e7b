//! The gateway's own `RateLimit-Policy` / `RateLimit` fields (IETF httpapi draft,
//! structured form): on every answer to a client with a rate limit — a cache miss, a cache
//! hit, the 429 beside its `Retry-After` — read from that client's bucket at the gateway
//! (local, or shared by the replicas through a real `redis-server`), and never paycombat's.

use http::Method;

use crate::common::hostile::{response, Hostile};
use crate::common::redis::RedisServer;
use crate::common::*;

/// The `readonly` test client: `per_second = 1, burst = 3` → 3 requests per 3 s.
const POLICY: &str = "\"client\";q=3;w=3";

fn detail(id: &str) -> String {
    format!("/api/v1/customer/customer/{id}")
}

/// `"client";r=<remaining>;t=<reset>` → (remaining, reset).
fn left(r: &Resp) -> (u32, u64) {
    let v = r.header("ratelimit");
    let rest = v
        .strip_prefix("\"client\";r=")
        .unwrap_or_else(|| panic!("RateLimit {v:?}"));
    let (remaining, reset) = rest
        .split_once(";t=")
        .unwrap_or_else(|| panic!("RateLimit {v:?}"));
    (remaining.parse().unwrap(), reset.parse().unwrap())
}

async fn read_as_readonly(app: &TestApp, path: &str) -> Resp {
    app.send(Method::GET, path, &[("x-token", READONLY_KEY)], b"")
        .await
}

/// Four reads in a row, and whether they all fell within one second (one token's
/// refill at 1/s): only then is the exact sequence below owed.
async fn four_reads(apps: [&TestApp; 4], path: &str) -> (Vec<Resp>, bool) {
    let started = std::time::Instant::now();
    let mut answers = Vec::new();
    for app in apps {
        answers.push(read_as_readonly(app, path).await);
    }
    let quick = started.elapsed() < std::time::Duration::from_millis(950);
    if !quick {
        eprintln!("NOTICE: four reads took over a second (a loaded machine): a token came back meanwhile, only the weaker checks apply");
    }
    (answers, quick)
}

/// Three answers within the burst, then the refusal: the policy on each, what is left
/// going down to 0, the time until the bucket is full going up, and the 429 carrying
/// both fields and a `Retry-After` no later than that time. On a machine too loaded to
/// send four reads within a second, only what holds whatever the refill: the policy and
/// a count on every answer, and a 429 says 0 left and when.
fn assert_burst_then_refusal((answers, quick): &(Vec<Resp>, bool), what: &str) {
    for (i, r) in answers.iter().enumerate() {
        assert_eq!(r.header("ratelimit-policy"), POLICY, "{what} #{i}");
        let (remaining, reset) = left(r);
        assert!(remaining <= 2 && reset <= 3, "{what} #{i}");
        if r.status == 429 {
            assert_eq!(r.error_code(), "RATE_LIMITED", "{what}");
            let retry_after: u64 = r.header("retry-after").parse().expect("Retry-After");
            assert_eq!(remaining, 0, "{what}");
            assert!(
                retry_after >= 1 && retry_after <= reset,
                "{what}: Retry-After {retry_after}, t={reset}"
            );
        } else {
            assert_eq!(r.status, 200, "{what} #{i}: {}", r.text());
        }
    }
    if !quick {
        return;
    }
    let statuses: Vec<u16> = answers.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(statuses, [200, 200, 200, 429], "{what}");
    let counts: Vec<(u32, u64)> = answers.iter().map(left).collect();
    let remaining: Vec<u32> = counts.iter().map(|c| c.0).collect();
    assert_eq!(remaining, [2, 1, 0, 0], "{what}");
    assert!(
        counts.windows(2).all(|w| w[0].1 <= w[1].1),
        "{what}: t grows {counts:?}"
    );
    assert!(counts[0].1 >= 1 && counts[3].1 >= 2, "{what}: {counts:?}");
}

#[tokio::test]
async fn a_limited_client_sees_its_own_policy_on_misses_hits_and_the_429() {
    let app = spawn_app().await;
    let path = detail(&customer_id(25_001));
    let answers = four_reads([&app; 4], &path).await;
    // The first read fills the cache; the next ones are hits.
    assert!(answers.0[1].header("cache-status").contains("hit"));
    assert_burst_then_refusal(&answers, "local");
    // A client without a limit gets neither field.
    let r = app.get(&path).await;
    assert_eq!(r.status, 200);
    assert!(r.headers.get("ratelimit-policy").is_none());
    assert!(r.headers.get("ratelimit").is_none());
    app.stop().await;
}

/// paycombat's rate-limit fields are never forwarded beside the gateway's: one policy
/// per answer (the client's at the gateway), none for a client without a limit.
#[tokio::test]
async fn paycombats_rate_limit_fields_never_reach_the_client() {
    let h = Hostile::start().await;
    let app = spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        ..Options::default()
    })
    .await;
    let body = br#"{"status":true,"message":"OK","data":{"id":"c1"}}"#;
    h.answer_bytes(response(
        "200 OK",
        &[
            ("content-type", "application/json"),
            ("cache-control", "no-store"),
            ("ratelimit-policy", "\"merchant\";q=1000;w=60"),
            ("ratelimit", "\"merchant\";r=999;t=60"),
            ("x-ratelimit-remaining", "999"),
            ("ratelimit-remaining", "999"),
        ],
        body,
    ));
    let path = detail(&customer_id(25_002));
    let limited = read_as_readonly(&app, &path).await;
    assert_eq!(limited.status, 200, "{}", limited.text());
    assert_eq!(limited.header("ratelimit-policy"), POLICY);
    assert_eq!(left(&limited).0, 2);
    assert_eq!(limited.headers.get_all("ratelimit").iter().count(), 1);
    let unlimited = app.get(&path).await;
    assert_eq!(unlimited.status, 200);
    for r in [&limited, &unlimited] {
        for name in ["x-ratelimit-remaining", "ratelimit-remaining"] {
            assert!(r.headers.get(name).is_none(), "{name}");
        }
        assert!(!format!("{:?}", r.headers).contains("merchant"));
    }
    assert!(unlimited.headers.get("ratelimit").is_none());
    assert!(unlimited.headers.get("ratelimit-policy").is_none());
    app.stop().await;
}

/// Cluster mode: the bucket is shared through Redis, and so are the numbers — two
/// replicas, one burst.
#[tokio::test]
async fn in_cluster_mode_the_fields_come_from_the_shared_bucket() {
    if !require_program("redis-server", "redis-server") {
        return;
    }
    let redis = RedisServer::start();
    let overlay = format!("[cluster]\nredis_url = \"{}\"\n", redis.url());
    let a = spawn_app_overlay(&overlay).await;
    let b = spawn_app_with(Options {
        overlay: overlay.clone(),
        upstream_override: Some(a.sandbox.base_url()),
        ..Options::default()
    })
    .await;
    // Until a replica holds its lease its Redis connection may still be coming up,
    // and its decisions follow `rate_limit_on_error` (its own bucket).
    for app in [&a, &b] {
        let held = eventually(std::time::Duration::from_secs(8), || async {
            sample(&app.metrics().await, "gateway_cluster_lease_held", &[]) == Some(1.0)
        })
        .await;
        assert!(held, "each replica reaches Redis");
    }
    let path = detail(&customer_id(25_003));
    let answers = four_reads([&a, &b, &a, &b], &path).await;
    assert_burst_then_refusal(&answers, "cluster");
    let from_redis: f64 = [&a, &b]
        .iter()
        .map(|app| {
            sample(
                &app.metrics_now(),
                "gateway_cluster_rate_limit_decisions_total",
                &[("source", "redis")],
            )
            .expect("the decision series is exported")
        })
        .sum();
    assert_eq!(
        from_redis, 4.0,
        "every decision came from the shared bucket"
    );
    a.stop().await;
    b.stop().await;
}
