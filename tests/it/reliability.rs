//! Upstream faults, retries and their budget, the circuit breaker, and restarts under load.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use paycombat_sandbox::Fault;

use crate::common::process::free_port;
use crate::common::*;

const PERSONAL_KEYS: &[&str] = &[
    "first_name",
    "last_name",
    "dob",
    "email",
    "identification_value",
    "address_line1",
    "address_line2",
    "address_city",
    "address_zip_code",
    "phone_number",
    "phone_number_e164",
    "name",
    "registration_number",
    "company_email",
];

/// Personal values of 8+ bytes anywhere in a JSON document (shorter names recur inside the
/// company domains that email masking keeps by design).
fn personal_values(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match v {
                    serde_json::Value::String(s)
                        if PERSONAL_KEYS.contains(&k.as_str()) && s.len() >= 8 =>
                    {
                        out.push(s.clone());
                    }
                    _ => personal_values(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| personal_values(v, out)),
        _ => {}
    }
}

/// What paycombat itself holds for a customer: the values that must never come out.
async fn raw_personal_values(app: &TestApp, id: &str) -> Vec<String> {
    let url = format!("{}/api/v1/customer/customer/{id}", app.sandbox.base_url());
    let raw = request(
        &app.client,
        Method::GET,
        &url,
        &[("x-token", app.sandbox_cfg.token.as_str())],
        b"",
    )
    .await;
    assert_eq!(raw.status, 200, "{}", raw.text());
    let mut out = Vec::new();
    personal_values(&raw.json(), &mut out);
    assert!(
        out.len() >= 3,
        "the sandbox customer has personal data: {out:?}"
    );
    out
}

fn assert_no_raw(body: &str, raw: &[String], what: &str) {
    for v in raw {
        assert!(
            !body.contains(v.as_str()),
            "{what}: raw personal value in the body"
        );
    }
}

/// The customer's own record, with its personal fields masked.
fn assert_masked_customer(r: &Resp, id: &str, what: &str) {
    let v = r.json();
    assert_eq!(v["status"], true, "{what}");
    assert_eq!(v["data"]["customer_id"], id, "{what}");
    assert!(r.text().contains("[REDACTED]"), "{what}: masked");
}

#[derive(Debug, Clone, Copy)]
enum Expect {
    /// Upstream's own status and envelope, passed through masked.
    Upstream(u16),
    /// The gateway's envelope with this status and code.
    Gateway(u16, &'static str),
    /// A normal, masked 200.
    Masked200,
}

/// (fault, expected answer, metric, its labels, its increase)
type FaultRow = (
    &'static str,
    Expect,
    &'static str,
    &'static [(&'static str, &'static str)],
    f64,
);

#[tokio::test]
async fn upstream_fault_matrix() {
    // 2 s: under the 3 s delay rows, and room for a debug-built sandbox on a
    // loaded machine to stream the oversized row's 1 MiB before it.
    let app = spawn_app_overlay(
        r#"
[upstream]
timeout = "2s"
max_response_body_bytes = 1048576
[upstream.retry]
backoff = "5ms"
"#,
    )
    .await;
    let rows: &[FaultRow] = &[
        (
            "status=500",
            Expect::Upstream(500),
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", "http_5xx")],
            1.0,
        ),
        (
            "status=503",
            Expect::Upstream(503),
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", "http_5xx")],
            3.0,
        ),
        (
            "status=502",
            Expect::Upstream(502),
            "gateway_upstream_retries_total",
            &[("route", "customer_detail")],
            2.0,
        ),
        (
            "reset",
            Expect::Gateway(502, "UPSTREAM_ERROR"),
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", "error")],
            1.0,
        ),
        (
            "silence",
            Expect::Gateway(504, "UPSTREAM_TIMEOUT"),
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", "timeout")],
            1.0,
        ),
        (
            "delay=3s",
            Expect::Gateway(504, "UPSTREAM_TIMEOUT"),
            "gateway_upstream_requests_total",
            &[("route", "customer_detail"), ("outcome", "timeout")],
            1.0,
        ),
        (
            "slow_body=3s",
            Expect::Gateway(504, "UPSTREAM_TIMEOUT"),
            "gateway_requests_total",
            &[("route", "customer_detail"), ("status_class", "5xx")],
            1.0,
        ),
        (
            "reset_mid_body",
            Expect::Gateway(502, "UPSTREAM_ERROR"),
            "gateway_requests_total",
            &[("route", "customer_detail"), ("status_class", "5xx")],
            1.0,
        ),
        (
            "malformed_json",
            Expect::Gateway(502, "UPSTREAM_UNMASKABLE"),
            "gateway_mask_failures_total",
            &[("reason", "parse_error")],
            1.0,
        ),
        (
            "truncated_json",
            Expect::Gateway(502, "UPSTREAM_UNMASKABLE"),
            "gateway_mask_failures_total",
            &[("reason", "parse_error")],
            1.0,
        ),
        (
            "oversized=2097152",
            Expect::Gateway(502, "UPSTREAM_UNMASKABLE"),
            "gateway_mask_failures_total",
            &[("reason", "too_large")],
            1.0,
        ),
        (
            "bogus_encoding",
            Expect::Gateway(502, "UPSTREAM_UNMASKABLE"),
            "gateway_mask_failures_total",
            &[("reason", "bad_encoding")],
            1.0,
        ),
        (
            "gzip",
            Expect::Masked200,
            "gateway_masked_fields_total",
            &[("field", "email")],
            1.0,
        ),
        (
            "wrong_content_type",
            Expect::Masked200,
            "gateway_masked_fields_total",
            &[("field", "email")],
            1.0,
        ),
    ];
    for (n, (fault, expect, metric, labels, delta)) in rows.iter().enumerate() {
        let id = customer_id(5000 + n as u64);
        let path = format!("/api/v1/customer/customer/{id}");
        let raw = raw_personal_values(&app, &id).await;
        let before = app.metrics().await;
        let count_before = app.state().request_count("customer_detail");

        let r = app
            .send(Method::GET, &path, &[("x-sandbox-fault", fault)], b"")
            .await;
        assert_no_raw(&r.text(), &raw, fault);
        match *expect {
            Expect::Upstream(status) => {
                assert_eq!(r.status, status, "{fault}: {}", r.text());
                let v = r.json();
                assert_eq!(v["status"], false, "{fault}");
                assert!(
                    v.get("error").is_none(),
                    "{fault}: upstream's envelope, not the gateway's"
                );
            }
            Expect::Gateway(status, code) => {
                assert_eq!(r.status, status, "{fault}: {}", r.text());
                assert_eq!(r.error_code(), code, "{fault}");
                assert_eq!(
                    r.header("content-type"),
                    "application/json; charset=utf-8",
                    "{fault}"
                );
                assert!(
                    r.header("cache-status").contains("fwd=miss"),
                    "{fault}: {}",
                    r.header("cache-status")
                );
            }
            Expect::Masked200 => {
                assert_eq!(r.status, 200, "{fault}: {}", r.text());
                assert_eq!(r.header("content-encoding"), "", "{fault}: decoded");
                assert_masked_customer(&r, &id, fault);
            }
        }
        let after = app.metrics().await;
        assert_eq!(
            metrics::moved(
                sample(&before, metric, labels),
                sample(&after, metric, labels)
            ),
            Some(*delta),
            "{fault}: {metric} {labels:?}"
        );

        // Nothing bad was cached: the next read is a correct answer, fresh from upstream
        // unless the faulted answer was itself a good one.
        let next = app.get(&path).await;
        assert_eq!(next.status, 200, "{fault}: after the fault {}", next.text());
        assert_masked_customer(&next, &id, fault);
        assert_no_raw(&next.text(), &raw, fault);
        if !matches!(expect, Expect::Masked200) {
            assert!(
                next.header("cache-status").contains("fwd=miss; stored"),
                "{fault}: {}",
                next.header("cache-status")
            );
            let attempts = if matches!(expect, Expect::Upstream(502 | 503)) {
                3
            } else {
                1
            };
            assert_eq!(
                app.state().request_count("customer_detail") - count_before,
                attempts + 1,
                "{fault}"
            );
        }
    }
    // The gateway is still up and serving everything else.
    assert_eq!(app.admin(Method::GET, "/healthz", &[]).await.status, 200);
    assert_eq!(app.get("/api/v1/anything/still-serving").await.status, 200);
    app.stop().await;
}

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

const BREAKER: &str = r#"
[upstream.circuit_breaker]
failure_threshold = 3
cool_down = "1s"
[upstream.retry]
max_retries = 0
[cache.routes.customer_detail]
ttl = "300ms"
"#;

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

// ---------------------------------------------------------------------------
// Restarts: the real binary, signals, and load.

struct Gateway {
    /// Taken when the test waits for the exit; killed on drop if a test fails first.
    child: Option<Child>,
    port: u16,
    admin_port: u16,
    sandbox: paycombat_sandbox::Sandbox,
    _dir: tempfile::TempDir,
}

fn catches_sighup(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .is_some_and(|mask| mask & 1 != 0)
}

async fn spawn_binary() -> Gateway {
    let sandbox = crate::common::process::demo_sandbox().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = paycombat_sandbox::SandboxConfig::demo();
    let (port, admin_port) = (free_port(), free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_paycombat-gateway"))
        .args(["serve", "--config-dir", "/nonexistent"])
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--admin-listen",
            &format!("127.0.0.1:{admin_port}"),
        ])
        .env_remove("GATEWAY_ENV")
        .envs(process::gateway_env(&sandbox.base_url(), &cfg, dir.path()))
        .env("GATEWAY__SERVER__DRAIN_TIMEOUT", "10s")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let gw = Gateway {
        child: Some(child),
        port,
        admin_port,
        sandbox,
        _dir: dir,
    };
    let client = plain_client();
    let url = format!("http://127.0.0.1:{port}/api/v1/anything/up");
    let up = eventually(Duration::from_secs(10), || async {
        matches!(try_get(&client, &url, "").await, Ok(200))
    })
    .await;
    assert!(up, "gateway started");
    let pid = gw.pid();
    assert!(
        eventually(
            Duration::from_secs(5),
            || async move { catches_sighup(pid) }
        )
        .await,
        "SIGHUP handler installed"
    );
    gw
}

fn plain_client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

/// One GET; an error instead of a panic when the connection fails.
async fn try_get(
    client: &Client<HttpConnector, Full<Bytes>>,
    url: &str,
    fault: &str,
) -> Result<u16, String> {
    let mut req = Request::get(url);
    if !fault.is_empty() {
        req = req.header("x-sandbox-fault", fault);
    }
    let req = req.body(Full::new(Bytes::new())).unwrap();
    let resp = tokio::time::timeout(Duration::from_secs(15), client.request(req))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    resp.into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(status)
}

impl Gateway {
    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Waits (bounded) for the process to exit.
    async fn exit_code(&mut self) -> Option<i32> {
        let mut child = self.child.take().expect("running");
        let waited = tokio::task::spawn_blocking(move || child.wait());
        let status = tokio::time::timeout(Duration::from_secs(15), waited)
            .await
            .expect("exits within 15 s");
        status.unwrap().unwrap().code()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

struct Outcome {
    started: Instant,
    finished: Instant,
    result: Result<u16, String>,
}

/// `workers` loops of GETs until `stop` is set or a request fails; every outcome is kept.
/// Worker `w` asks upstream to hold each request `delay_ms + (w % 5) * 10` ms, so the
/// workers do not move in lockstep.
fn load(
    port: u16,
    workers: usize,
    delay_ms: u64,
    stop: Arc<AtomicU64>,
) -> Vec<tokio::task::JoinHandle<Vec<Outcome>>> {
    let client = plain_client();
    (0..workers)
        .map(|w| {
            let client = client.clone();
            let stop = stop.clone();
            let fault = format!("delay={}ms", delay_ms + (w as u64 % 5) * 10);
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut n = 0;
                while stop.load(Ordering::Relaxed) == 0 {
                    n += 1;
                    let url = format!("http://127.0.0.1:{port}/api/v1/anything/load-{w}-{n}");
                    let started = Instant::now();
                    let result = try_get(&client, &url, &fault).await;
                    let failed = result.is_err();
                    let finished = Instant::now();
                    seen.push(Outcome {
                        started,
                        finished,
                        result,
                    });
                    if failed {
                        break;
                    }
                }
                seen
            })
        })
        .collect()
}

#[tokio::test]
async fn sigterm_under_load_loses_no_accepted_request() {
    let mut gw = spawn_binary().await;
    let stop = Arc::new(AtomicU64::new(0));
    let workers = load(gw.port, 50, 80, stop.clone());
    let state = gw.sandbox.state();
    assert!(
        eventually(Duration::from_secs(10), || async {
            state.request_count("echo") > 200
        })
        .await
    );
    let signalled = Instant::now();
    signal(gw.pid(), "-TERM");
    assert_eq!(gw.exit_code().await, Some(0));
    stop.store(1, Ordering::Relaxed);
    let mut outcomes = Vec::new();
    for w in workers {
        outcomes.extend(
            tokio::time::timeout(Duration::from_secs(20), w)
                .await
                .unwrap()
                .unwrap(),
        );
    }
    // Requests sent well before the signal (allowing for the request to reach the gateway).
    let margin = Duration::from_millis(30);
    let mut in_flight_at_signal = 0;
    for o in &outcomes {
        if let Ok(status) = &o.result {
            assert_eq!(*status, 200, "every answer is a 200");
        }
        if o.started + margin < signalled {
            assert_eq!(
                o.result,
                Ok(200),
                "a request accepted before SIGTERM completed"
            );
            if o.finished > signalled {
                in_flight_at_signal += 1;
            }
        }
    }
    assert!(
        in_flight_at_signal >= 25,
        "the signal arrived under load ({in_flight_at_signal} in flight)"
    );
}

#[tokio::test]
async fn sighup_reload_under_load_drops_nothing() {
    let mut gw = spawn_binary().await;
    let client = plain_client();
    let metrics_url = format!("http://127.0.0.1:{}/metrics", gw.admin_port);
    let scrape = request(&client, Method::GET, &metrics_url, &[], b"")
        .await
        .text();
    let reloads_before = value(
        &scrape,
        "gateway_credential_reloads_total",
        &[("result", "ok")],
    );

    let stop = Arc::new(AtomicU64::new(0));
    let workers = load(gw.port, 20, 10, stop.clone());
    let pid = gw.pid();
    for _ in 0..15 {
        signal(pid, "-HUP");
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    stop.store(1, Ordering::Relaxed);
    let mut total = 0;
    for w in workers {
        for o in tokio::time::timeout(Duration::from_secs(20), w)
            .await
            .unwrap()
            .unwrap()
        {
            assert_eq!(o.result, Ok(200), "request during SIGHUP reloads");
            total += 1;
        }
    }
    assert!(total > 100, "load was flowing: {total}");
    let scrape = request(&client, Method::GET, &metrics_url, &[], b"")
        .await
        .text();
    assert!(
        value(
            &scrape,
            "gateway_credential_reloads_total",
            &[("result", "ok")]
        ) > reloads_before
    );
    assert_eq!(
        sample(
            &scrape,
            "gateway_credential_reloads_total",
            &[("result", "failed")]
        ),
        Some(0.0)
    );
    assert!(
        gw.child.as_mut().unwrap().try_wait().unwrap().is_none(),
        "still running"
    );
    signal(pid, "-TERM");
    assert_eq!(gw.exit_code().await, Some(0));
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
