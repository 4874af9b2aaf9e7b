//! Idempotent writes in cluster mode: two gateways in front of one sandbox, sharing one
//! real `redis-server`. A retry through another replica is replayed, not resent; and
//! each way Redis can fail ends in a refusal or an "outcome unknown", never a second
//! send (or, with `on_store_error = "local"`, in the documented per-replica fallback).

use std::time::Duration;

use crate::common::redis::RedisServer;
use crate::common::*;
use crate::idempotency::{creates, payin, replayed};

const BODY: &str = r#"{"amount": 700, "currency": "EUR", "reference": "order-c"}"#;

pub(crate) fn overlay(redis: &RedisServer, extra: &str) -> String {
    format!(
        r#"
[cluster]
redis_url = "{url}"
connect_timeout = "300ms"
command_timeout = "200ms"
heartbeat_interval = "100ms"
heartbeat_timeout = "600ms"
lease = "1s"
publish_deadline = "2s"
{extra}
"#,
        url = redis.url()
    )
}

pub(crate) async fn redis_up(app: &TestApp) -> bool {
    eventually(Duration::from_secs(10), || async {
        sample(&app.metrics_now(), "gateway_cluster_redis_up", &[]) == Some(1.0)
    })
    .await
}

/// Two replicas on the first one's sandbox, both connected to Redis.
pub(crate) async fn pair(overlay: &str) -> (TestApp, TestApp) {
    let a = spawn_app_overlay(overlay).await;
    let b = spawn_app_with(Options {
        overlay: overlay.to_owned(),
        upstream_override: Some(a.sandbox.base_url()),
        ..Options::default()
    })
    .await;
    assert!(redis_up(&a).await && redis_up(&b).await, "both reach Redis");
    (a, b)
}

fn store_errors(app: &TestApp, store: &str, reason: &str) -> f64 {
    sample(
        &app.metrics_now(),
        "gateway_idempotency_store_errors_total",
        &[("store", store), ("reason", reason)],
    )
    .expect("every store error's series is exported from the start")
}

#[tokio::test]
async fn a_retry_through_another_replica_is_replayed_not_resent() {
    let redis = RedisServer::start();
    let (a, b) = pair(&overlay(&redis, "")).await;
    let first = payin(&a, Some("cross"), BODY, None).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let retry = payin(&b, Some("cross"), BODY, None).await;
    assert_eq!(retry.status, 200);
    assert!(replayed(&retry));
    assert_eq!(retry.body, first.body);
    let reused = payin(&b, Some("cross"), r#"{"amount": 1}"#, None).await;
    assert_eq!(reused.error_code(), "IDEMPOTENCY_KEY_REUSED");
    // Concurrent sends spread over both replicas: one create.
    let sends = (0..8).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        payin(app, Some("spread"), BODY, Some("delay=300ms"))
    });
    let answers = futures_util::future::join_all(sends).await;
    for r in &answers {
        assert!(
            r.status == 200 || r.error_code() == "IDEMPOTENCY_IN_FLIGHT",
            "{}: {}",
            r.status,
            r.text()
        );
    }
    assert_eq!(
        answers
            .iter()
            .filter(|r| r.status == 200 && !replayed(r))
            .count(),
        1
    );
    assert_eq!(creates(&a), 2);
    // An unknown outcome on one replica is unknown on the other.
    let lost = payin(&a, Some("lost"), BODY, Some("created_reset")).await;
    assert_eq!(lost.status, 502);
    let retry = payin(&b, Some("lost"), BODY, None).await;
    assert_eq!(retry.error_code(), "IDEMPOTENCY_OUTCOME_UNKNOWN");
    assert_eq!(creates(&a), 3);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn redis_unreachable_before_the_send_refuses_keyed_writes_only() {
    let mut redis = RedisServer::start();
    let (a, b) = pair(&overlay(&redis, "")).await;
    redis.kill();
    let refused = payin(&a, Some("while-down"), BODY, None).await;
    assert_eq!(refused.status, 503);
    assert_eq!(refused.error_code(), "IDEMPOTENCY_UNAVAILABLE");
    assert_eq!(refused.header("retry-after"), "1");
    assert_eq!(creates(&a), 0, "nothing was sent");
    assert!(store_errors(&a, "redis", "unavailable") >= 1.0);
    // Keyless writes and reads go on.
    assert_eq!(payin(&a, None, BODY, None).await.status, 200);
    assert_eq!(creates(&a), 1);
    // Redis back: the same key is sent once, and replayed through the other replica.
    redis.restart();
    assert!(
        eventually(Duration::from_secs(10), || async {
            payin(&a, Some("while-down"), BODY, None).await.status == 200
        })
        .await
    );
    assert!(replayed(&payin(&b, Some("while-down"), BODY, None).await));
    assert_eq!(creates(&a), 2);
    b.stop().await;
    a.stop().await;
}

/// Redis restarted while a replica was idle: the connection Redis closed is forgotten
/// when it closes, so the replica's first command afterwards is sent on a new one
/// instead of failing on the dead one (a keyed write would be refused for nothing).
#[tokio::test]
async fn the_first_keyed_write_after_a_redis_restart_is_not_refused() {
    let mut redis = RedisServer::start();
    let (a, b) = pair(&overlay(&redis, "")).await;
    redis.kill();
    // The replicas run on this test's runtime: let it read the closed connections (a
    // separate process would at once) before the blocking restart holds the thread.
    tokio::time::sleep(Duration::from_millis(100)).await;
    redis.restart();
    let first = payin(&b, Some("after-restart"), BODY, None).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(creates(&a), 1);
    assert!(replayed(
        &payin(&a, Some("after-restart"), BODY, None).await
    ));
    assert_eq!(creates(&a), 1);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn a_claim_that_timed_out_in_a_hung_redis_is_withdrawn() {
    let redis = RedisServer::start();
    let (a, b) = pair(&overlay(&redis, "")).await;
    redis.pause(true);
    let refused = payin(&a, Some("hung-claim"), BODY, None).await;
    assert_eq!(refused.error_code(), "IDEMPOTENCY_UNAVAILABLE");
    redis.pause(false);
    // Redis runs the late claim, then its withdrawal: the key is free, and sent once.
    assert!(
        eventually(Duration::from_secs(10), || async {
            payin(&b, Some("hung-claim"), BODY, None).await.status == 200
        })
        .await
    );
    assert_eq!(creates(&a), 1);
    assert!(replayed(&payin(&a, Some("hung-claim"), BODY, None).await));
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn redis_unreachable_with_the_local_fallback_deduplicates_per_replica() {
    let mut redis = RedisServer::start();
    let (a, b) = pair(&overlay(
        &redis,
        "[idempotency]\non_store_error = \"local\"",
    ))
    .await;
    redis.kill();
    let first = payin(&a, Some("fallback"), BODY, None).await;
    assert_eq!(first.status, 200);
    assert!(replayed(&payin(&a, Some("fallback"), BODY, None).await));
    assert_eq!(creates(&a), 1);
    // The documented cost: another replica does not know the key while Redis is down.
    let other = payin(&b, Some("fallback"), BODY, None).await;
    assert_eq!(other.status, 200);
    assert!(!replayed(&other));
    assert_eq!(creates(&a), 2);
    b.stop().await;
    a.stop().await;
}

#[tokio::test]
async fn redis_hanging_after_the_send_leaves_an_unknown_outcome_never_a_resend() {
    let redis = RedisServer::start();
    let (a, b) = pair(&overlay(
        &redis,
        "[upstream]\ntimeout = \"2s\"\nconnect_timeout = \"300ms\"\n[idempotency]\nlease_margin = \"300ms\"",
    ))
    .await;
    let sending = payin(&a, Some("hung"), BODY, Some("delay=600ms"));
    let hang = async {
        // Once the claim is in Redis (the create has not been answered yet), Redis hangs.
        assert!(
            eventually(Duration::from_secs(5), || async {
                a.state().request_count("payin_create") == 1
            })
            .await
        );
        redis.pause(true);
    };
    let (answer, ()) = tokio::join!(sending, hang);
    // The client still gets paycombat's answer: it was made.
    assert_eq!(answer.status, 200);
    assert_eq!(creates(&a), 1);
    assert_eq!(store_errors(&a, "redis", "record_lost"), 1.0);
    redis.pause(false);
    // Within the claim's lease a retry is "in flight"; after it, "outcome unknown" —
    // unless the outcome Redis was sent while it hung lands once it resumes (a hung
    // server still runs what it had read): then the answer is replayed. Never a resend.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let retry = payin(&b, Some("hung"), BODY, None).await;
        if retry.status == 200 {
            assert!(replayed(&retry), "a retry is never sent again");
            break;
        }
        let code = retry.error_code();
        if code == "IDEMPOTENCY_OUTCOME_UNKNOWN" {
            break;
        }
        assert!(
            ["IDEMPOTENCY_IN_FLIGHT", "IDEMPOTENCY_UNAVAILABLE"].contains(&code.as_str()),
            "{code}"
        );
        assert!(tokio::time::Instant::now() < deadline, "the lease ends");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(creates(&a), 1, "never sent twice");
    b.stop().await;
    a.stop().await;
}
