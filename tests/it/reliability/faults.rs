//! The upstream fault matrix: every kind of upstream fault gets its documented answer and metric,
//! and no raw personal value comes out.

use http::Method;

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
