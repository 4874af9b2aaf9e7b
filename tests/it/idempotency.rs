//! Idempotent writes through the gateway to the sandbox, on real sockets: a retried
//! keyed create reaches paycombat once (sequential, concurrent, after the client hung
//! up), a reused key with another body is refused, an unknown outcome is never sent
//! again, and reads and keyless writes are unaffected. Cluster mode (a real
//! `redis-server`) is `idempotency_cluster`.

use std::time::Duration;

use http::Method;

use crate::common::*;

pub const PAYIN: &str = "/api/v1/payin/create";

pub fn creates(app: &TestApp) -> u64 {
    app.state().executed_writes("payin_create")
}

/// A payin create with `key` (none: keyless) and an optional sandbox fault.
pub async fn payin(app: &TestApp, key: Option<&str>, body: &str, fault: Option<&str>) -> Resp {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    if let Some(f) = fault {
        headers.push(("x-sandbox-fault", f));
    }
    app.send(Method::POST, PAYIN, &headers, body.as_bytes())
        .await
}

pub fn replayed(r: &Resp) -> bool {
    r.header("idempotent-replayed") == "true"
}

fn results(app: &TestApp, result: &str) -> f64 {
    sample(
        &app.metrics_now(),
        "gateway_idempotency_requests_total",
        &[("route", "payin"), ("result", result)],
    )
    .expect("every keyed route's series is exported from the start")
}

const BODY: &str = r#"{"amount": 1250, "currency": "EUR", "reference": "order-1"}"#;

#[tokio::test]
async fn a_sequential_retry_is_sent_once_and_gets_the_stored_answer() {
    let app = spawn_app().await;
    let first = payin(&app, Some("order-1-attempt"), BODY, None).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(!replayed(&first));
    // The draft's structured-field form names the same key.
    for key in ["order-1-attempt", "\"order-1-attempt\""] {
        let again = payin(&app, Some(key), BODY, None).await;
        assert_eq!(again.status, 200);
        assert!(replayed(&again), "{key}");
        assert_eq!(
            again.body, first.body,
            "the same masked answer, byte for byte"
        );
        assert_eq!(again.header("content-type"), first.header("content-type"));
        assert_ne!(again.header("x-request-id"), first.header("x-request-id"));
    }
    assert_eq!(creates(&app), 1);
    assert_eq!(results(&app, "first"), 1.0);
    assert_eq!(results(&app, "replayed"), 2.0);
    // Another key is another payment.
    assert!(!replayed(&payin(&app, Some("order-2"), BODY, None).await));
    assert_eq!(creates(&app), 2);
    let log = app.stop_and_read_access_log().await;
    let fields: Vec<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["idempotency"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(fields, ["first", "replayed", "replayed", "first"]);
}

#[tokio::test]
async fn concurrent_sends_with_one_key_reach_paycombat_once() {
    let app = spawn_app().await;
    let sends = (0..8).map(|_| payin(&app, Some("burst"), BODY, Some("delay=400ms")));
    let answers = futures_util::future::join_all(sends).await;
    assert_eq!(creates(&app), 1);
    let mut first = 0;
    for r in &answers {
        match r.status.as_u16() {
            200 if !replayed(r) => first += 1,
            200 => {}
            409 => {
                assert_eq!(r.error_code(), "IDEMPOTENCY_IN_FLIGHT");
                assert_eq!(r.header("retry-after"), "1");
            }
            other => panic!("{other}: {}", r.text()),
        }
    }
    assert_eq!(first, 1, "one send answered as the first");
    app.stop().await;
}

#[tokio::test]
async fn waiting_retries_get_the_first_answer() {
    let app =
        spawn_app_overlay("[idempotency]\non_in_flight = \"wait\"\nin_flight_wait = \"5s\"").await;
    let sends = (0..8).map(|_| payin(&app, Some("burst"), BODY, Some("delay=300ms")));
    let answers = futures_util::future::join_all(sends).await;
    assert_eq!(creates(&app), 1);
    assert!(
        answers.iter().all(|r| r.status == 200),
        "every one answered"
    );
    assert_eq!(answers.iter().filter(|r| !replayed(r)).count(), 1);
    assert!(answers.iter().all(|r| r.body == answers[0].body));
    app.stop().await;
}

#[tokio::test]
async fn a_key_reused_for_another_request_is_refused() {
    let app = spawn_app().await;
    assert_eq!(payin(&app, Some("k"), BODY, None).await.status, 200);
    let other = payin(&app, Some("k"), r#"{"amount": 9999}"#, None).await;
    assert_eq!(other.status, 422);
    assert_eq!(other.error_code(), "IDEMPOTENCY_KEY_REUSED");
    // The same bytes but one: another request too.
    let spaced = payin(&app, Some("k"), &format!("{BODY} "), None).await;
    assert_eq!(spaced.status, 422);
    assert_eq!(creates(&app), 1);
    assert_eq!(results(&app, "mismatch"), 2.0);
    app.stop().await;
}

#[tokio::test]
async fn an_unknown_outcome_is_recorded_and_never_sent_again() {
    let app =
        spawn_app_overlay("[upstream]\ntimeout = \"700ms\"\nconnect_timeout = \"300ms\"").await;
    // paycombat makes the payin, the answer never comes: 504 to the client.
    let lost = payin(&app, Some("lost"), BODY, Some("created_silence")).await;
    assert_eq!(lost.status, 504);
    assert_eq!(lost.error_code(), "UPSTREAM_TIMEOUT");
    assert_eq!(creates(&app), 1);
    let retry = payin(&app, Some("lost"), BODY, None).await;
    assert_eq!(retry.status, 409);
    assert_eq!(retry.error_code(), "IDEMPOTENCY_OUTCOME_UNKNOWN");
    assert!(retry.json()["message"]
        .as_str()
        .unwrap()
        .contains("look the resource up"));
    // A connection broken after the send, and paycombat's own 500: the same.
    let broken = payin(&app, Some("broken"), BODY, Some("created_reset")).await;
    assert_eq!(broken.status, 502);
    let failed = payin(&app, Some("failed"), BODY, Some("status=500")).await;
    assert_eq!(failed.status, 500);
    for key in ["broken", "failed"] {
        let retry = payin(&app, Some(key), BODY, None).await;
        assert_eq!(retry.error_code(), "IDEMPOTENCY_OUTCOME_UNKNOWN", "{key}");
    }
    assert_eq!(creates(&app), 2);
    let unknown = sample(
        &app.metrics_now(),
        "gateway_idempotency_outcomes_total",
        &[("route", "payin"), ("outcome", "unknown")],
    );
    assert_eq!(unknown, Some(3.0));
    app.stop().await;
}

#[tokio::test]
async fn a_write_paycombat_did_not_execute_is_sent_again_and_answers_are_replayed() {
    let app = spawn_app().await;
    // paycombat 503 and 429: not acted on, nothing stored, the retry is sent.
    for (key, fault) in [("shed", "status=503"), ("limited", "status=429")] {
        let refused = payin(&app, Some(key), BODY, Some(fault)).await;
        assert_eq!(refused.status.as_u16(), fault[7..].parse::<u16>().unwrap());
        let retry = payin(&app, Some(key), BODY, None).await;
        assert_eq!(retry.status, 200, "{key}");
        assert!(!replayed(&retry));
    }
    assert_eq!(creates(&app), 2);
    // A 4xx paycombat answered is an answer: replayed, not resent.
    let bad = payin(&app, Some("bad"), "not json", None).await;
    assert_eq!(bad.status, 400);
    let again = payin(&app, Some("bad"), "not json", None).await;
    assert_eq!(again.status, 400);
    assert!(replayed(&again));
    assert_eq!(again.body, bad.body);
    assert_eq!(app.state().request_count("payin_create"), 5);
    app.stop().await;
}

#[tokio::test]
async fn paycombat_unreachable_stores_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let app = spawn_app_with(Options {
        upstream_override: Some(closed),
        ..Options::default()
    })
    .await;
    for _ in 0..2 {
        let r = payin(&app, Some("never-sent"), BODY, None).await;
        assert_eq!(
            r.error_code(),
            "UPSTREAM_UNREACHABLE",
            "sent (and refused) each time"
        );
    }
    assert_eq!(results(&app, "first"), 2.0);
    app.stop().await;
}

#[tokio::test]
async fn a_client_that_hangs_up_leaves_its_outcome_recorded() {
    let app = spawn_app().await;
    let gone = tokio::time::timeout(
        Duration::from_millis(150),
        payin(&app, Some("impatient"), BODY, Some("delay=500ms")),
    )
    .await;
    assert!(gone.is_err(), "the client gave up first");
    assert!(eventually(Duration::from_secs(5), || async { creates(&app) == 1 }).await);
    // Polled: while the exchange is still running a retry is 409 (and never sent).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let retry = loop {
        let r = payin(&app, Some("impatient"), BODY, None).await;
        if r.status == 200 || tokio::time::Instant::now() > deadline {
            break r;
        }
        assert_eq!(r.error_code(), "IDEMPOTENCY_IN_FLIGHT");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(retry.status, 200);
    assert!(replayed(&retry));
    assert_eq!(creates(&app), 1);
    app.stop().await;
}

#[tokio::test]
async fn keys_are_checked_and_required_where_configured() {
    let app = spawn_app_overlay(
        r#"
[[idempotency.routes]]
name = "payin_create"
method = "POST"
path = "/api/v1/payin/create"
require = true
"#,
    )
    .await;
    let keyless = payin(&app, None, BODY, None).await;
    assert_eq!(keyless.status, 400);
    assert_eq!(keyless.error_code(), "IDEMPOTENCY_KEY_REQUIRED");
    let long = "k".repeat(256);
    for bad in ["two words", "\"open", "", long.as_str()] {
        let r = payin(&app, Some(bad), BODY, None).await;
        assert_eq!(r.status, 400, "{bad:?}");
        assert_eq!(r.error_code(), "IDEMPOTENCY_KEY_INVALID", "{bad:?}");
    }
    let twice = app
        .send(
            Method::POST,
            PAYIN,
            &[("idempotency-key", "a"), ("idempotency-key", "a")],
            BODY.as_bytes(),
        )
        .await;
    assert_eq!(twice.error_code(), "IDEMPOTENCY_KEY_INVALID");
    assert_eq!(creates(&app), 0, "nothing was sent");
    assert_eq!(results(&app, "missing_key"), 1.0);
    app.stop().await;
}

#[tokio::test]
async fn reads_and_keyless_writes_are_unaffected() {
    let app = spawn_app().await;
    for _ in 0..2 {
        let r = payin(&app, None, BODY, None).await;
        assert_eq!(r.status, 200);
        assert!(r.headers.get("idempotent-replayed").is_none());
    }
    assert_eq!(creates(&app), 2, "without a key, a retry is a second payin");
    // A key on a read or on a route that is not keyed changes nothing.
    for _ in 0..2 {
        let r = app
            .send(
                Method::GET,
                "/api/v1/payin/retrieve-payin/payin_1",
                &[("idempotency-key", "read")],
                b"",
            )
            .await;
        assert_eq!(r.status, 200);
        assert!(r.headers.get("idempotent-replayed").is_none());
    }
    assert_eq!(app.state().request_count("payin_retrieve"), 2);
    let scrape = app.metrics_now();
    assert_eq!(
        sample(&scrape, "gateway_idempotency_requests_total", &[]),
        Some(0.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn one_key_sent_by_two_clients_is_two_requests() {
    use paycombat_gateway::auth::hash_key;
    let clients = format!(
        "{}\n[[clients]]\nname = \"billing\"\nkeys_sha256 = [\"{}\"]\nallow = [{{ methods = [\"*\"], path = \"/api/v1/**\" }}]\n",
        clients_toml(),
        hash_key("billing-key")
    );
    let app = spawn_app_with(Options {
        clients_toml: Some(clients),
        ..Options::default()
    })
    .await;
    assert!(!replayed(&payin(&app, Some("same"), BODY, None).await));
    let other = app
        .send(
            Method::POST,
            PAYIN,
            &[("x-token", "billing-key"), ("idempotency-key", "same")],
            BODY.as_bytes(),
        )
        .await;
    assert_eq!(other.status, 200);
    assert!(!replayed(&other), "another client's key space");
    assert_eq!(creates(&app), 2);
    app.stop().await;
}
