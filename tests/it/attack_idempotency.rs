//! Attacks on idempotent writes (issue 27), on real sockets through the gateway to the
//! sandbox (and a real `redis-server`): each test is a way a retried write could reach
//! paycombat twice, or a client be refused for a key it never used.

use std::time::Duration;

use http::Method;
use tokio::io::AsyncWriteExt;

use crate::common::redis::RedisServer;
use crate::common::*;
use crate::idempotency::{creates, payin, replayed, PAYIN};
use crate::idempotency_cluster::{overlay as cluster, pair, redis_up};

const BODY: &str = r#"{"amount": 990, "currency": "EUR", "reference": "order-atk"}"#;

/// Every spelling of the payin create that paycombat executes is deduplicated by its
/// key: none reaches it twice.
#[tokio::test]
async fn no_spelling_of_a_keyed_route_is_sent_twice() {
    let app = spawn_app().await;
    let variants = [
        "/api/v1/payin/create/",
        "/api/v1/payin/create?",
        "/api/v1//payin/create",
        "/api/v1/payin/%63reate",
        "/API/v1/payin/create",
        "/api/v1/payin/create;x",
    ];
    for (i, path) in variants.iter().enumerate() {
        let key = format!("variant-{i}");
        let before = creates(&app);
        let headers = [
            ("content-type", "application/json"),
            ("idempotency-key", key.as_str()),
        ];
        let a = app
            .send(Method::POST, path, &headers, BODY.as_bytes())
            .await;
        let b = app
            .send(Method::POST, path, &headers, BODY.as_bytes())
            .await;
        eprintln!(
            "{path}: {} {} / {} {}",
            a.status,
            a.text(),
            b.status,
            b.text()
        );
        assert!(creates(&app) - before <= 1, "{path} was executed twice");
    }
    app.stop().await;
}

/// A lower-case method token: whatever the gateway does with it, a keyed create is
/// not executed twice.
#[tokio::test]
async fn a_lower_case_method_is_not_a_way_around_the_key() {
    let app = spawn_app().await;
    let raw = format!(
        "post {PAYIN} HTTP/1.1\r\nhost: x\r\nx-token: {CLIENT_KEY}\r\ncontent-type: application/json\r\nidempotency-key: lc\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    for _ in 0..2 {
        let out = raw_exchange(app.addr, raw.as_bytes()).await;
        eprintln!("{}", out.lines().next().unwrap_or(""));
    }
    assert!(creates(&app) <= 1, "lower-case post executed twice");
    app.stop().await;
}

/// `on_store_error = "local"` promises deduplication on each replica while Redis is
/// down. A key claimed in Redis whose Redis dies before its outcome is written must
/// still be known to its own replica: a retry there is replayed, never sent again.
#[tokio::test]
async fn redis_killed_between_claim_and_settle_with_local_fallback_never_resends_on_that_replica() {
    let mut redis = RedisServer::start();
    let app = spawn_app_overlay(&cluster(
        &redis,
        "[idempotency]\non_store_error = \"local\"",
    ))
    .await;
    assert!(redis_up(&app).await);
    let sending = payin(&app, Some("killed-mid"), BODY, Some("delay=600ms"));
    let kill = async {
        assert!(
            eventually(Duration::from_secs(5), || async {
                app.state().request_count("payin_create") == 1
            })
            .await
        );
        redis.kill();
        // While the first is still in flight, a retry on its replica is not sent.
        let during = payin(&app, Some("killed-mid"), BODY, None).await;
        assert_eq!(
            during.error_code(),
            "IDEMPOTENCY_IN_FLIGHT",
            "{}",
            during.text()
        );
    };
    let (first, ()) = tokio::join!(sending, kill);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(creates(&app), 1);
    let retry = payin(&app, Some("killed-mid"), BODY, None).await;
    assert_eq!(retry.status, 200, "{}", retry.text());
    assert!(replayed(&retry), "the retry was sent a second time");
    assert_eq!(retry.body, first.body);
    assert_eq!(creates(&app), 1, "never sent twice on one replica");
    app.stop().await;
}

/// A client that hangs up while its key's claim is on its way to a slow Redis: the
/// request was never sent, so its retry must be sent (once) rather than told, for the
/// claim's whole lease and then for a day, that the key is in flight or its outcome
/// unknown.
#[tokio::test]
async fn a_client_hanging_up_during_its_claim_does_not_lock_its_key() {
    let redis = RedisServer::start();
    let app = spawn_app_overlay(&cluster(&redis, "")).await;
    assert!(redis_up(&app).await);
    redis.pause(true);
    let raw = format!(
        "POST {PAYIN} HTTP/1.1\r\nhost: x\r\nx-token: {CLIENT_KEY}\r\ncontent-type: application/json\r\nidempotency-key: hangup\r\ncontent-length: {}\r\n\r\n{BODY}",
        BODY.len()
    );
    let mut s = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    // Long enough for the claim to be written to Redis, shorter than its timeout.
    tokio::time::sleep(Duration::from_millis(80)).await;
    drop(s);
    tokio::time::sleep(Duration::from_millis(50)).await;
    redis.pause(false);
    // Redis may have applied the claim before its timeout (then the request is sent
    // and its retry replayed) or not (then the key is free): either way the key is
    // usable within moments, never "in flight" for the claim's whole lease (10 s here).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let retry = payin(&app, Some("hangup"), BODY, None).await;
        if retry.status == 200 {
            break;
        }
        let code = retry.error_code();
        assert!(
            ["IDEMPOTENCY_UNAVAILABLE", "IDEMPOTENCY_IN_FLIGHT"].contains(&code.as_str()),
            "{}",
            retry.text()
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the key stays locked: {code}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(creates(&app), 1);
    app.stop().await;
}

/// A record TTL shorter than a send (`ttl` below `upstream.timeout`): the claim must not
/// expire while its request is still with paycombat, or a retry is sent a second time.
#[tokio::test]
async fn a_claim_outlives_its_send_whatever_the_ttl() {
    let app = spawn_app_overlay("[idempotency]\nttl = \"300ms\"").await;
    let sending = payin(&app, Some("short-ttl"), BODY, Some("delay=1200ms"));
    let retry = async {
        assert!(
            eventually(Duration::from_secs(5), || async {
                app.state().request_count("payin_create") == 1
            })
            .await
        );
        tokio::time::sleep(Duration::from_millis(600)).await;
        payin(&app, Some("short-ttl"), BODY, None).await
    };
    let (first, retry) = tokio::join!(sending, retry);
    assert_eq!(first.status, 200);
    assert_eq!(
        retry.error_code(),
        "IDEMPOTENCY_IN_FLIGHT",
        "{}",
        retry.text()
    );
    assert_eq!(app.state().request_count("payin_create"), 1, "sent twice");
    app.stop().await;
}

/// An answer over `max_answer_bytes` is the client's, but not kept: its retry is told
/// to reconcile, never sent again, never given a truncated answer.
#[tokio::test]
async fn an_answer_too_large_to_keep_is_never_resent() {
    let app = spawn_app_overlay("[idempotency]\nmax_answer_bytes = 64").await;
    let first = payin(&app, Some("huge"), BODY, None).await;
    assert_eq!(first.status, 200);
    assert!(first.body.len() > 64);
    let retry = payin(&app, Some("huge"), BODY, None).await;
    assert_eq!(retry.error_code(), "IDEMPOTENCY_OUTCOME_UNKNOWN");
    assert_eq!(creates(&app), 1);
    app.stop().await;
}

/// paycombat's 4xx is an answer: replayed (status and body), not sent again, with the
/// retry's own request id and `Idempotent-Replayed`.
#[tokio::test]
async fn a_4xx_answer_is_replayed_not_resent() {
    let app = spawn_app().await;
    let first = payin(&app, Some("four"), BODY, Some("status=400")).await;
    assert_eq!(first.status, 400, "{}", first.text());
    let retry = payin(&app, Some("four"), BODY, None).await;
    assert_eq!(retry.status, 400, "{}", retry.text());
    assert!(replayed(&retry));
    assert!(!replayed(&first));
    assert_eq!(retry.body, first.body);
    assert_ne!(retry.header("x-request-id"), first.header("x-request-id"));
    assert_eq!(app.state().request_count("payin_create"), 1);
    app.stop().await;
}

/// A key on a route that is not keyed (a read, another write) changes nothing: it is
/// neither refused nor deduplicated, and never marked as a replay.
#[tokio::test]
async fn a_key_elsewhere_changes_nothing() {
    let app = spawn_app().await;
    let headers = [("idempotency-key", "\"bad key")];
    let path = "/api/v1/payin/retrieve-payin/payin_1";
    let a = app.send(Method::GET, path, &headers, b"").await;
    let b = app.send(Method::GET, path, &headers, b"").await;
    assert_eq!(a.status, 200, "{}", a.text());
    assert!(!replayed(&a) && !replayed(&b));
    app.stop().await;
}

/// With `on_store_error = "local"`, a key its replica recorded locally while Redis was
/// down is still known to that replica once Redis is back: its retry there is
/// replayed, not sent again (and the record reaches Redis, for the other replicas).
#[tokio::test]
async fn a_key_recorded_locally_during_an_outage_is_not_resent_after_it() {
    let mut redis = RedisServer::start();
    let overlay = cluster(&redis, "[idempotency]\non_store_error = \"local\"");
    let (a, b) = pair(&overlay).await;
    redis.kill();
    let first = payin(&a, Some("outage"), BODY, None).await;
    assert_eq!(first.status, 200, "{}", first.text());
    redis.restart();
    assert!(redis_up(&a).await && redis_up(&b).await);
    let retry = payin(&a, Some("outage"), BODY, None).await;
    assert_eq!(retry.status, 200, "{}", retry.text());
    assert!(
        replayed(&retry),
        "sent again by the replica that recorded it"
    );
    assert_eq!(creates(&a), 1);
    let elsewhere = payin(&b, Some("outage"), BODY, None).await;
    assert!(replayed(&elsewhere), "{}", elsewhere.text());
    assert_eq!(creates(&a), 1);
    b.stop().await;
    a.stop().await;
}

/// Concurrent sends of one key through two replicas: one reaches paycombat.
#[tokio::test]
async fn concurrent_sends_through_two_replicas_reach_paycombat_once() {
    let redis = RedisServer::start();
    let overlay = cluster(&redis, "");
    let (a, b) = pair(&overlay).await;
    let sends = (0..6).map(|i| {
        let app = if i % 2 == 0 { &a } else { &b };
        payin(app, Some("two-replicas"), BODY, Some("delay=300ms"))
    });
    let answers = futures_util::future::join_all(sends).await;
    assert_eq!(creates(&a), 1);
    let firsts = answers
        .iter()
        .filter(|r| r.status == 200 && !replayed(r))
        .count();
    assert_eq!(firsts, 1);
    for r in &answers {
        assert!(r.status == 200 || r.error_code() == "IDEMPOTENCY_IN_FLIGHT");
    }
    b.stop().await;
    a.stop().await;
}

/// An upstream cannot make a first answer look like a replay: `Idempotent-Replayed` is
/// the gateway's word alone; and the replay repeats only the listed headers.
#[tokio::test]
async fn only_the_gateway_says_replayed() {
    use crate::common::hostile::{response, Hostile};
    let h = Hostile::start().await;
    h.answer_bytes(response(
        "200 OK",
        &[
            ("content-type", "application/json"),
            ("idempotent-replayed", "true"),
            ("x-upstream-secret", "s3"),
        ],
        br#"{"status":true,"message":"OK","data":{"id":"c1"}}"#,
    ));
    let app = spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        ..Options::default()
    })
    .await;
    let first = payin(&app, Some("hostile"), BODY, None).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(
        !replayed(&first),
        "an upstream's header passed as the gateway's"
    );
    let retry = payin(&app, Some("hostile"), BODY, None).await;
    assert!(replayed(&retry));
    assert_eq!(retry.header("x-upstream-secret"), "");
    assert_eq!(h.count(), 1);
    app.stop().await;
}

/// The fingerprint is the exact bytes: a body re-serialised (key order, whitespace) or a
/// query in another order is another request (422), never a replay of the first's answer
/// nor a second send.
#[tokio::test]
async fn a_request_that_differs_only_in_bytes_is_a_mismatch() {
    let app = spawn_app().await;
    let body = r#"{"amount":5,"currency":"EUR","reference":"o-bytes"}"#;
    assert_eq!(payin(&app, Some("bytes"), body, None).await.status, 200);
    for other in [
        r#"{"currency":"EUR","amount":5,"reference":"o-bytes"}"#,
        r#"{"amount": 5,"currency":"EUR","reference":"o-bytes"}"#,
        "{\"amount\":5,\"currency\":\"EUR\",\"reference\":\"o-bytes\"}\n",
    ] {
        let r = payin(&app, Some("bytes"), other, None).await;
        assert_eq!(r.status, 422, "{other}: {}", r.text());
        assert_eq!(r.error_code(), "IDEMPOTENCY_KEY_REUSED");
    }
    let h = [
        ("content-type", "application/json"),
        ("idempotency-key", "q"),
    ];
    let first = app
        .send(
            Method::POST,
            &format!("{PAYIN}?a=1&b=2"),
            &h,
            body.as_bytes(),
        )
        .await;
    assert_eq!(first.status, 200);
    let swapped = app
        .send(
            Method::POST,
            &format!("{PAYIN}?b=2&a=1"),
            &h,
            body.as_bytes(),
        )
        .await;
    assert_eq!(swapped.error_code(), "IDEMPOTENCY_KEY_REUSED");
    assert_eq!(creates(&app), 2);
    app.stop().await;
}

/// One key in both forms, or the header twice, is refused before anything is sent; the
/// bare form's surrounding whitespace is not part of the key, a quoted key's is, and
/// keys are case-sensitive.
#[tokio::test]
async fn key_spellings_are_read_strictly() {
    let app = spawn_app().await;
    let twice = app
        .send(
            Method::POST,
            PAYIN,
            &[("idempotency-key", "k1"), ("idempotency-key", "\"k1\"")],
            BODY.as_bytes(),
        )
        .await;
    assert_eq!(twice.error_code(), "IDEMPOTENCY_KEY_INVALID");
    assert_eq!(creates(&app), 0);
    assert_eq!(payin(&app, Some("k1"), BODY, None).await.status, 200);
    assert!(replayed(&payin(&app, Some("  k1 "), BODY, None).await));
    assert!(!replayed(&payin(&app, Some("\" k1\""), BODY, None).await));
    assert!(!replayed(&payin(&app, Some("K1"), BODY, None).await));
    assert_eq!(creates(&app), 3);
    app.stop().await;
}

/// `%63reate` is `create` to any upstream that decodes percent-encoded unreserved
/// characters (RFC 3986 §6.2.2.2): such a spelling of a keyed create must be
/// deduplicated (or refused), not forwarded as an unkeyed write every time.
#[tokio::test]
async fn an_encoded_spelling_of_a_keyed_create_is_not_sent_twice() {
    use crate::common::hostile::{response, Hostile};
    let h = Hostile::start().await;
    h.answer_bytes(response(
        "200 OK",
        &[("content-type", "application/json")],
        br#"{"status":true,"message":"OK","data":{"id":"c1"}}"#,
    ));
    let app = spawn_app_with(Options {
        upstream_override: Some(h.base.clone()),
        ..Options::default()
    })
    .await;
    let headers = [
        ("content-type", "application/json"),
        ("idempotency-key", "encoded"),
    ];
    for _ in 0..2 {
        let r = app
            .send(
                Method::POST,
                "/api/v1/payin/%63reate",
                &headers,
                BODY.as_bytes(),
            )
            .await;
        // Refused at the path check: a letter needs no encoding.
        assert_eq!(r.status, 400);
    }
    assert!(
        h.count() <= 1,
        "an encoded keyed create reached the upstream twice"
    );
    app.stop().await;
}
