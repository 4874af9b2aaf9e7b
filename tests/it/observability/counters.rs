//! Exact counter movements: a scripted request sequence and refused known clients move exactly
//! the series they should, and nothing else.

use http::Method;

use crate::common::metrics::exact;
use crate::common::*;

use super::*;

/// The personal fields of the documented example customer that hold a value
/// (nulls are not masked, so not counted).
const FIXTURE_MASKED: &[&str] = &[
    "first_name",
    "last_name",
    "dob",
    "email",
    "nationality",
    "address_country",
    "address_state",
    "address_city",
    "address_line1",
    "address_line2",
    "address_zip_code",
    "country_of_residence",
    "phone_number",
    "phone_country_code",
    "phone_number_e164",
    "identification_type",
    "identification_value",
];

fn up(route: &str, outcome: &str) -> Delta {
    d(
        "gateway_upstream_requests_total",
        &[("route", route), ("outcome", outcome)],
        1.0,
    )
}
fn up_hist(route: &str) -> Delta {
    d(
        "gateway_upstream_duration_seconds_count",
        &[("route", route)],
        1.0,
    )
}
fn lookup(route: &str, result: &str) -> Delta {
    d(
        "gateway_cache_lookups_total",
        &[("route", route), ("result", result)],
        1.0,
    )
}

#[tokio::test]
async fn scripted_sequence_moves_exactly_the_expected_series() {
    let app =
        spawn_app_overlay("[upstream]\ntimeout = \"300ms\"\nconnect_timeout = \"200ms\"").await;
    let detail = format!("/api/v1/customer/customer/{FIXTURE_ID}");
    let other_id = customer_id(2);

    // 1. miss: fetched, masked, stored.
    let s0 = scrape(&app).await;
    let r = app.get(&detail).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_ne!(r.json()["data"]["individual"]["first_name"], "kim");
    let s1 = scrape(&app).await;
    let mut expected = vec![
        req("customer_detail", "GET", "2xx", "miss", "test"),
        req_hist("customer_detail"),
        up("customer_detail", "ok"),
        up_hist("customer_detail"),
        lookup("customer_detail", "miss"),
    ];
    expected.extend(
        FIXTURE_MASKED
            .iter()
            .map(|f| d("gateway_masked_fields_total", &[("field", f)], 1.0)),
    );
    assert_step("miss", &s0, &s1, &expected);

    // 2. hit: answered from the cache, already masked.
    let r = app.get(&detail).await;
    assert_eq!(r.status, 200);
    let s2 = scrape(&app).await;
    assert_step(
        "hit",
        &s1,
        &s2,
        &[
            req("customer_detail", "GET", "2xx", "hit", "test"),
            req_hist("customer_detail"),
            lookup("customer_detail", "hit"),
        ],
    );
    assert_eq!(app.state().request_count("customer_detail"), 1);

    // 3. upstream 5xx on a passthrough route (a write: sent exactly once).
    let r = app
        .send(
            Method::POST,
            "/api/v1/payin/create",
            &[("x-sandbox-fault", "status=503")],
            br#"{"amount":"10.00"}"#,
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.text());
    let s3 = scrape(&app).await;
    assert_step(
        "upstream 5xx",
        &s2,
        &s3,
        &[
            req("payin", "POST", "5xx", "none", "test"),
            req_hist("payin"),
            up("payin", "http_5xx"),
            up_hist("payin"),
        ],
    );

    // 4. upstream timeout.
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/slow",
            &[("x-sandbox-fault", "delay=2s")],
            b"",
        )
        .await;
    assert_eq!(r.status, 504);
    assert_eq!(r.error_code(), "UPSTREAM_TIMEOUT");
    let s4 = scrape(&app).await;
    assert_step(
        "timeout",
        &s3,
        &s4,
        &[
            req("other", "GET", "5xx", "none", "test"),
            req_hist("other"),
            up("other", "timeout"),
            up_hist("other"),
        ],
    );

    // 5. a masked body whose personal fields the test controls (the echo reflects request headers).
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/masked",
            &[
                ("email", "jane.doe@example.com"),
                ("iban", "GB33BUKB20201555555555"),
                ("first_name", "Jane"),
            ],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let echoed = &r.json()["data"]["headers"];
    assert_ne!(echoed["email"][0], "jane.doe@example.com");
    assert_ne!(echoed["email"], "jane.doe@example.com");
    assert_ne!(echoed["first_name"][0], "Jane");
    assert_ne!(echoed["first_name"], "Jane");
    let s5 = scrape(&app).await;
    assert_step(
        "masked body",
        &s4,
        &s5,
        &[
            req("other", "GET", "2xx", "none", "test"),
            req_hist("other"),
            up("other", "ok"),
            up_hist("other"),
            d("gateway_masked_fields_total", &[("field", "email")], 1.0),
            d("gateway_masked_fields_total", &[("field", "iban")], 1.0),
            d(
                "gateway_masked_fields_total",
                &[("field", "first_name")],
                1.0,
            ),
        ],
    );

    // 6. a body that cannot be masked: refused, on a cached route.
    let r = app
        .send(
            Method::GET,
            &format!("/api/v1/customer/customer/{other_id}"),
            &[("x-sandbox-fault", "malformed_json")],
            b"",
        )
        .await;
    assert_eq!(r.status, 502);
    assert_eq!(r.error_code(), "UPSTREAM_UNMASKABLE");
    let s6 = scrape(&app).await;
    assert_step(
        "mask failure",
        &s5,
        &s6,
        &[
            req("customer_detail", "GET", "5xx", "miss", "test"),
            req_hist("customer_detail"),
            up("customer_detail", "ok"),
            up_hist("customer_detail"),
            lookup("customer_detail", "miss"),
            d(
                "gateway_mask_failures_total",
                &[("reason", "parse_error")],
                1.0,
            ),
        ],
    );

    // 7. no client key: 401 before the cache and upstream.
    let r = app.send_raw(Method::GET, &detail, &[], b"").await;
    assert_eq!(r.status, 401);
    let s7 = scrape(&app).await;
    assert_step(
        "401",
        &s6,
        &s7,
        &[
            req("customer_detail", "GET", "4xx", "none", "anonymous"),
            req_hist("customer_detail"),
            d(
                "gateway_client_rejections_total",
                &[("client", "anonymous"), ("reason", "unauthenticated")],
                1.0,
            ),
        ],
    );

    // 8. outside /api/v1/: the `rejected` route, no client resolved.
    let r = app.get("/not-an-api-path").await;
    assert_eq!(r.status, 404);
    let s8 = scrape(&app).await;
    assert_step(
        "404",
        &s7,
        &s8,
        &[
            req("rejected", "GET", "4xx", "none", "anonymous"),
            req_hist("rejected"),
        ],
    );

    // Totals over the whole run.
    assert_eq!(
        exact(
            &s8,
            "gateway_request_duration_seconds_count",
            &[("route", "customer_detail")]
        ),
        Some(4.0)
    );
    assert_eq!(
        exact(
            &s8,
            "gateway_upstream_duration_seconds_count",
            &[("route", "customer_detail")]
        ),
        Some(2.0)
    );
    assert_eq!(exact(&s8, "gateway_inflight_requests", &[]), Some(0.0));
    assert_eq!(exact(&s8, "gateway_circuit_breaker_state", &[]), Some(0.0));
    // Every response had been sent, so its request had left the in-flight gauge.
    assert_closed_label_sets(&s8);
    assert_absent(
        &s8,
        &[
            FIXTURE_ID,
            "67d84b19d50b490a8fa75ab20bbf275a",
            &other_id,
            "/api/",
            "/not-an-api-path",
            "anything",
            "payin/create",
            "\"create\"",
            "jane",
            "GB33",
            CLIENT_KEY,
            READONLY_KEY,
            &app.sandbox_cfg.token,
        ],
    );
    app.stop().await;
}

#[tokio::test]
async fn refused_known_clients_keep_their_name_in_request_metrics() {
    let app = spawn_app().await;
    let s0 = scrape(&app).await;
    // A known client outside its allowlist: 403, counted under its name.
    let r = app
        .send(
            Method::POST,
            "/api/v1/payin/create",
            &[("x-token", READONLY_KEY)],
            b"{}",
        )
        .await;
    assert_eq!(r.status, 403);
    let s1 = scrape(&app).await;
    assert_step(
        "403",
        &s0,
        &s1,
        &[
            req("payin", "POST", "4xx", "none", "readonly"),
            req_hist("payin"),
            d(
                "gateway_client_rejections_total",
                &[("client", "readonly"), ("reason", "forbidden")],
                1.0,
            ),
        ],
    );
    app.stop().await;
}
