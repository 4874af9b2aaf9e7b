//! Retries: reads only, on refused connections and 502/503, within the retry budget and the
//! total deadline.

use std::time::{Duration, Instant};

use http::Method;
use paycombat_sandbox::Fault;

use crate::common::*;

use super::*;

#[tokio::test]
async fn refused_connection_is_retried_for_reads_only_then_502() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let app = spawn_app_with(Options {
        upstream_override: Some(format!("http://127.0.0.1:{port}")),
        overlay: "[upstream.retry]\nbackoff = \"5ms\"".into(),
        ..Options::default()
    })
    .await;
    let r = app.get("/api/v1/anything/refused").await;
    assert_eq!(r.status, 502);
    assert_eq!(r.error_code(), "UPSTREAM_UNREACHABLE");
    let scrape = app.metrics().await;
    let connect = [("route", "other"), ("outcome", "connect_error")];
    assert_eq!(
        sample(&scrape, "gateway_upstream_requests_total", &connect),
        Some(3.0),
        "1 + max_retries attempts"
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_retries_total",
            &[("route", "other")]
        ),
        Some(2.0)
    );
    let r = app
        .send(Method::POST, "/api/v1/anything/refused", &[], br#"{"a":1}"#)
        .await;
    assert_eq!(r.status, 502);
    assert_eq!(r.error_code(), "UPSTREAM_UNREACHABLE");
    let scrape = app.metrics().await;
    assert_eq!(
        sample(&scrape, "gateway_upstream_requests_total", &connect),
        Some(4.0),
        "a write is sent once"
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_retries_total",
            &[("route", "other")]
        ),
        Some(2.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn reads_are_retried_on_502_503_and_writes_never() {
    let app = spawn_app_overlay("[upstream.retry]\nbackoff = \"5ms\"").await;
    app.state().set_fault(Some(Fault::Status(503)));
    let id = customer_id(61);
    let detail = format!("/api/v1/customer/customer/{id}");
    let r = app.get(&detail).await;
    assert_eq!(r.status, 503, "upstream's answer after the last attempt");
    assert_eq!(r.header("retry-after"), "1");
    assert_eq!(
        app.state().request_count("customer_detail"),
        3,
        "1 + max_retries"
    );
    let r = app.get("/api/v1/anything/read").await;
    assert_eq!(r.status, 503);
    assert_eq!(app.state().request_count("echo"), 3);
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_retries_total",
            &[("route", "customer_detail")]
        ),
        Some(2.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_retries_total",
            &[("route", "other")]
        ),
        Some(2.0)
    );

    let update = format!(r#"{{"customer_id":"{id}","description":"x"}}"#);
    let writes: [(Method, String, &[u8], &str); 5] = [
        (
            Method::PATCH,
            "/api/v1/customer/update".into(),
            update.as_bytes(),
            "customer_update",
        ),
        (
            Method::POST,
            "/api/v1/customer/create".into(),
            br#"{"type":"individual"}"#,
            "customer_create",
        ),
        (Method::DELETE, detail.clone(), b"", "customer_delete"),
        (
            Method::PATCH,
            format!("/api/v1/customer/disable/{id}"),
            b"",
            "customer_disable",
        ),
        (
            Method::POST,
            "/api/v1/anything/write".into(),
            br#"{"amount":1}"#,
            "echo",
        ),
    ];
    for (method, path, body, counter) in writes {
        let before = app.state().request_count(counter);
        let r = app
            .send(
                method.clone(),
                &path,
                &[("content-type", "application/json")],
                body,
            )
            .await;
        assert_eq!(r.status, 503, "{method} {path}");
        assert_eq!(
            app.state().request_count(counter) - before,
            1,
            "{method} {path} sent exactly once"
        );
    }
    let scrape = app.metrics().await;
    // Writes never retried: none of their routes has a retry series at all.
    for route in [
        "customer_update",
        "customer_create",
        "customer_delete",
        "customer_disable",
    ] {
        assert_eq!(
            sample(
                &scrape,
                "gateway_upstream_retries_total",
                &[("route", route)]
            ),
            None,
            "{route}"
        );
    }
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_retries_total",
            &[("route", "other")]
        ),
        Some(2.0)
    );
    // A 500 or 504 is an answer, not a transient refusal: not retried.
    app.state().set_fault(Some(Fault::Status(500)));
    let before = app.state().request_count("echo");
    assert_eq!(app.get("/api/v1/anything/500").await.status, 500);
    assert_eq!(app.state().request_count("echo") - before, 1);
    app.stop().await;
}

#[tokio::test]
async fn the_retry_budget_caps_retries() {
    // No earned retries and no per-second floor: only the initial allowance of 10.
    let app = spawn_app_overlay(
        "[upstream.retry]\nbackoff = \"1ms\"\nbudget_ratio = 0.0\nbudget_min_per_second = 0.0\n[upstream.circuit_breaker]\nfailure_threshold = 0",
    )
    .await;
    app.state().set_fault(Some(Fault::Status(503)));
    for i in 0..10 {
        assert_eq!(
            app.get(&format!("/api/v1/anything/budget-{i}"))
                .await
                .status,
            503
        );
    }
    assert_eq!(
        app.state().request_count("echo"),
        20,
        "10 requests + the 10 retries the budget allowed"
    );
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_retries_total",
            &[("route", "other")]
        ),
        Some(10.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn retries_stay_inside_the_total_deadline() {
    let app = spawn_app_overlay(
        "[upstream]\ntimeout = \"400ms\"\nconnect_timeout = \"200ms\"\n[upstream.retry]\nmax_retries = 10\nbackoff = \"5ms\"\n[upstream.circuit_breaker]\nfailure_threshold = 0",
    )
    .await;
    app.state()
        .set_fault(Some("delay=150ms,status=503".parse().unwrap()));
    let started = Instant::now();
    let r = app.get("/api/v1/anything/deadline").await;
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(700),
        "bounded by upstream.timeout: {took:?}"
    );
    assert!(matches!(r.status.as_u16(), 503 | 504), "{}", r.status);
    let attempts = app.state().request_count("echo");
    assert!(
        (2..=3).contains(&attempts),
        "150 ms attempts in a 400 ms deadline: {attempts}"
    );
    app.stop().await;
}
