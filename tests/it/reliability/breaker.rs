//! The circuit breaker: opening, failing fast, serving stale, half-open probes, and which
//! failures open it for one client or for every client.

use std::time::Duration;

use http::Method;
use paycombat_sandbox::Fault;

use crate::common::*;

use super::*;

#[tokio::test]
async fn circuit_breaker_opens_fails_fast_serves_stale_and_recovers() {
    let app = spawn_app_overlay(BREAKER).await;
    let cached = customer_id(71);
    let r = app
        .get(&format!("/api/v1/customer/customer/{cached}"))
        .await;
    assert_eq!(r.status, 200);
    let cached_body = r.json();

    app.state().set_fault(Some(Fault::Status(503)));
    for i in 0..3 {
        assert_eq!(
            app.get(&format!("/api/v1/anything/fail-{i}")).await.status,
            503
        );
    }
    assert_eq!(app.state().request_count("echo"), 3);
    let scrape = app.metrics().await;
    assert_eq!(
        sample(&scrape, "gateway_circuit_breaker_state", &[]),
        Some(1.0),
        "open"
    );

    // Open: fail fast, upstream untouched, reads and writes alike.
    let r = app.get("/api/v1/anything/fast").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.error_code(), "UPSTREAM_CIRCUIT_OPEN");
    assert_eq!(r.header("retry-after"), "1");
    let r = app
        .send(Method::POST, "/api/v1/anything/fast", &[], br#"{"a":1}"#)
        .await;
    assert_eq!(r.error_code(), "UPSTREAM_CIRCUIT_OPEN");
    let never = app
        .get(&format!("/api/v1/customer/customer/{}", customer_id(72)))
        .await;
    assert_eq!(never.status, 503);
    assert_eq!(
        never.error_code(),
        "UPSTREAM_CIRCUIT_OPEN",
        "nothing cached to fall back on"
    );
    assert_eq!(
        app.state().request_count("echo"),
        3,
        "upstream never saw them"
    );

    // A cached customer past its ttl (by the gateway's clock) but within stale_if_error is
    // served stale instead.
    app.clock.advance(Duration::from_millis(350));
    let detail_before = app.state().request_count("customer_detail");
    let r = app
        .get(&format!("/api/v1/customer/customer/{cached}"))
        .await;
    assert_eq!(r.status, 200);
    let cs = r.header("cache-status").to_owned();
    assert!(
        cs.contains("fwd=stale")
            && cs.contains("fwd-status=503")
            && cs.contains("detail=stale-if-error"),
        "{cs}"
    );
    assert_eq!(r.json(), cached_body);
    assert_eq!(app.state().request_count("customer_detail"), detail_before);
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_upstream_requests_total",
            &[("outcome", "circuit_open")]
        ),
        Some(4.0)
    );

    // After the cool-down one probe goes through; success closes the circuit.
    app.state().set_fault(None);
    app.clock.advance(Duration::from_secs(1));
    let recovered = eventually(Duration::from_secs(3), || async {
        app.get("/api/v1/anything/probe").await.status == 200
    })
    .await;
    assert!(recovered);
    assert_eq!(
        app.state().request_count("echo"),
        4,
        "exactly one probe reached upstream"
    );
    let scrape = app.metrics().await;
    assert_eq!(
        sample(&scrape, "gateway_circuit_breaker_state", &[]),
        Some(0.0),
        "closed"
    );
    assert_eq!(app.get("/api/v1/anything/closed").await.status, 200);
    app.stop().await;
}

#[tokio::test]
async fn half_open_admits_one_probe_and_a_failed_probe_reopens() {
    let app = spawn_app_overlay(BREAKER).await;
    app.state().set_fault(Some(Fault::Status(503)));
    for i in 0..3 {
        assert_eq!(
            app.get(&format!("/api/v1/anything/fail-{i}")).await.status,
            503
        );
    }
    // The cool-down passes on the gateway's clock, not by waiting it out.
    app.clock.advance(Duration::from_millis(1100));
    // Cool-down over: five concurrent reads, one slow failing probe among them.
    app.state()
        .set_fault(Some("delay=300ms,status=503".parse().unwrap()));
    let probe = {
        let client = app.client.clone();
        let url = format!("http://{}/api/v1/anything/probe", app.addr);
        tokio::spawn(async move {
            request(&client, Method::GET, &url, &[("x-token", CLIENT_KEY)], b"").await
        })
    };
    assert!(
        eventually(Duration::from_secs(2), || async {
            app.state().request_count("echo") == 4
        })
        .await
    );
    let scrape = app.metrics().await;
    assert_eq!(
        sample(&scrape, "gateway_circuit_breaker_state", &[]),
        Some(2.0),
        "half-open while the probe is out"
    );
    for i in 0..4 {
        let r = app.get(&format!("/api/v1/anything/during-probe-{i}")).await;
        assert_eq!(r.error_code(), "UPSTREAM_CIRCUIT_OPEN");
    }
    assert_eq!(probe.await.unwrap().status, 503);
    assert_eq!(
        app.state().request_count("echo"),
        4,
        "only the probe reached upstream"
    );
    let scrape = app.metrics().await;
    assert_eq!(
        sample(&scrape, "gateway_circuit_breaker_state", &[]),
        Some(1.0),
        "a failed probe reopens"
    );
    assert_eq!(
        app.get("/api/v1/anything/reopened").await.error_code(),
        "UPSTREAM_CIRCUIT_OPEN"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_abandoned_probe_does_not_wedge_the_breaker() {
    let app = spawn_app_overlay(BREAKER).await;
    app.state().set_fault(Some(Fault::Status(503)));
    for i in 0..3 {
        assert_eq!(
            app.get(&format!("/api/v1/anything/fail-{i}")).await.status,
            503
        );
    }
    // The cool-down passes on the gateway's clock, not by waiting it out.
    app.clock.advance(Duration::from_millis(1100));
    // The probe's client goes away while upstream is still thinking.
    app.state().set_fault(Some("delay=3s".parse().unwrap()));
    let probe = {
        let client = app.client.clone();
        let url = format!("http://{}/api/v1/anything/abandoned", app.addr);
        tokio::spawn(async move {
            request(&client, Method::GET, &url, &[("x-token", CLIENT_KEY)], b"").await
        })
    };
    assert!(
        eventually(Duration::from_secs(2), || async {
            app.state().request_count("echo") == 4
        })
        .await
    );
    probe.abort();
    app.state().set_fault(None);
    let recovered = eventually(Duration::from_secs(4), || async {
        app.get("/api/v1/anything/after").await.status == 200
    })
    .await;
    assert!(
        recovered,
        "a new probe is admitted once the abandoned one is gone"
    );
    let scrape = app.metrics().await;
    assert_eq!(
        sample(&scrape, "gateway_circuit_breaker_state", &[]),
        Some(0.0)
    );
    app.stop().await;
}

const OTHER_KEY: &str = "other-client-key";

/// Adds a third client with full access (the test files know two) and waits for the reload.
async fn with_other_client(app: &TestApp) {
    let file = clients::harness_clients_and([clients::ClientEntry::new("other")
        .key(OTHER_KEY)
        .allow_all()]);
    std::fs::write(app.path("clients.toml"), file).unwrap();
    let loaded = eventually(Duration::from_secs(5), || async {
        as_client(app, OTHER_KEY, Method::GET, "/api/v1/anything/hello", &[])
            .await
            .status
            == 200
    })
    .await;
    assert!(loaded, "the third client is known after the reload");
}

async fn as_client(
    app: &TestApp,
    key: &str,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> Resp {
    let mut all = vec![("x-token", key)];
    all.extend_from_slice(headers);
    app.send(method, path, &all, b"").await
}

#[tokio::test]
async fn one_clients_5xx_answers_fail_fast_only_that_client() {
    let app = spawn_app_overlay(BREAKER).await;
    with_other_client(&app).await;
    let boom = [("x-sandbox-fault", "status=500")];
    for i in 0..3 {
        let r = as_client(
            &app,
            CLIENT_KEY,
            Method::GET,
            &format!("/api/v1/anything/boom-{i}"),
            &boom,
        )
        .await;
        assert_eq!(r.status, 500, "upstream's own answer");
    }
    let echo_before = app.state().request_count("echo");
    // Its own circuit is open now: every route, for it alone.
    for path in [
        "/api/v1/anything/boom-3",
        &format!("/api/v1/customer/customer/{}", customer_id(80)),
    ] {
        let r = as_client(&app, CLIENT_KEY, Method::GET, path, &[]).await;
        assert_eq!(r.error_code(), "UPSTREAM_CIRCUIT_OPEN", "{path}");
    }
    assert_eq!(app.state().request_count("echo"), echo_before);

    // Everyone else is served, on the same route and on others.
    let detail = format!("/api/v1/customer/customer/{}", customer_id(81));
    for (method, path) in [
        (Method::GET, "/api/v1/anything/boom-0"),
        (Method::POST, "/api/v1/anything/write"),
        (Method::GET, detail.as_str()),
        (Method::GET, "/api/v1/customer/customer"),
    ] {
        let r = as_client(&app, OTHER_KEY, method.clone(), path, &[]).await;
        assert_eq!(r.status, 200, "{method} {path}: {}", r.text());
    }
    let r = as_client(&app, READONLY_KEY, Method::GET, &detail, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_circuit_breakers_open",
            &[("scope", "upstream")]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_circuit_breakers_open",
            &[("scope", "client")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&scrape, "gateway_circuit_breaker_state", &[]),
        Some(1.0),
        "some calls fail fast"
    );

    // Its cool-down over, the client's probe succeeds and closes its circuit.
    app.clock.advance(Duration::from_secs(1));
    let recovered = eventually(Duration::from_secs(3), || async {
        as_client(&app, CLIENT_KEY, Method::GET, "/api/v1/anything/probe", &[])
            .await
            .status
            == 200
    })
    .await;
    assert!(recovered);
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_circuit_breakers_open",
            &[("scope", "client")]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&scrape, "gateway_circuit_breaker_state", &[]),
        Some(0.0)
    );
    app.stop().await;
}

#[tokio::test]
async fn transport_failures_open_the_shared_circuit_for_every_client() {
    let app = spawn_app_overlay(BREAKER).await;
    with_other_client(&app).await;
    for i in 0..3 {
        let r = as_client(
            &app,
            CLIENT_KEY,
            Method::GET,
            &format!("/api/v1/anything/reset-{i}"),
            &[("x-sandbox-fault", "reset")],
        )
        .await;
        assert_eq!(r.error_code(), "UPSTREAM_ERROR");
    }
    let echo_before = app.state().request_count("echo");
    for key in [CLIENT_KEY, OTHER_KEY] {
        let r = as_client(&app, key, Method::GET, "/api/v1/anything/after", &[]).await;
        assert_eq!(r.error_code(), "UPSTREAM_CIRCUIT_OPEN", "{key}");
    }
    let r = as_client(
        &app,
        READONLY_KEY,
        Method::GET,
        &format!("/api/v1/customer/customer/{}", customer_id(82)),
        &[],
    )
    .await;
    assert_eq!(r.error_code(), "UPSTREAM_CIRCUIT_OPEN");
    assert_eq!(app.state().request_count("echo"), echo_before);
    let scrape = app.metrics().await;
    assert_eq!(
        sample(
            &scrape,
            "gateway_circuit_breakers_open",
            &[("scope", "upstream")]
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_circuit_breakers_open",
            &[("scope", "client")]
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&scrape, "gateway_circuit_breaker_state", &[]),
        Some(1.0)
    );
    app.stop().await;
}
