//! The admin listener and its metrics: exact counter movements from real scrapes, label hygiene, health and readiness.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;

use crate::common::metrics::{exact, exact_value, labels, parse, Labels};
use crate::common::*;

/// Counters a scripted step may move; every step states all their movements.
const COUNTERS: &[&str] = &[
    "gateway_requests_total",
    "gateway_request_duration_seconds_count",
    "gateway_upstream_requests_total",
    "gateway_upstream_duration_seconds_count",
    "gateway_upstream_retries_total",
    "gateway_cache_lookups_total",
    "gateway_masked_fields_total",
    "gateway_mask_failures_total",
    "gateway_client_rejections_total",
];

type Delta = (String, Labels, f64);
/// A series that moved, by a whole number (counters only).
type Moved = (String, Labels, u64);

fn d(name: &str, pairs: &[(&str, &str)], by: f64) -> Delta {
    (name.to_owned(), labels(pairs), by)
}

/// Every series of `COUNTERS` that moved between two scrapes, and by how much.
fn deltas(before: &str, after: &str) -> BTreeSet<Moved> {
    let index = |scrape: &str| -> BTreeMap<(String, Labels), f64> {
        parse(scrape)
            .into_iter()
            .filter(|s| COUNTERS.contains(&s.name.as_str()))
            .map(|s| ((s.name, s.labels), s.value))
            .collect()
    };
    let (b, a) = (index(before), index(after));
    a.iter()
        .filter_map(|((name, l), v)| {
            let moved = v - b.get(&(name.clone(), l.clone())).copied().unwrap_or(0.0);
            (moved != 0.0).then(|| (name.clone(), l.clone(), moved as u64))
        })
        .collect()
}

/// Asserts that exactly `expected` moved, and nothing else among `COUNTERS`.
fn assert_step(step: &str, before: &str, after: &str, expected: &[Delta]) {
    let got = deltas(before, after);
    let want: BTreeSet<_> = expected
        .iter()
        .map(|(n, l, v)| (n.clone(), l.clone(), *v as u64))
        .collect();
    let show = |set: Vec<&Moved>| -> String {
        set.iter()
            .map(|(n, l, v)| {
                let l: Vec<String> = l.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
                format!("\n    {n}{{{}}} +{v}", l.join(","))
            })
            .collect()
    };
    let missing = show(want.difference(&got).collect());
    let unexpected = show(got.difference(&want).collect());
    assert!(
        missing.is_empty() && unexpected.is_empty(),
        "step `{step}`:\n  expected but not seen:{missing}\n  seen but not expected:{unexpected}"
    );
}

async fn scrape(app: &TestApp) -> String {
    let r = app.admin(Method::GET, "/metrics", &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

// ---------------------------------------------------------------------------
// Closed label sets

const ROUTES: &[&str] = &[
    "customer_detail",
    "customer_wallet_ready",
    "customer_list",
    "customer_create",
    "customer_update",
    "customer_enable",
    "customer_disable",
    "customer_delete",
    "customer_other",
    "payin",
    "payout",
    "beneficiary",
    "checkout",
    "transaction",
    "wallet",
    "master_data",
    "payment_method",
    "other",
    "rejected",
];
const METHODS: &[&str] = &[
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "OTHER",
];
const CLIENTS: &[&str] = &["test", "readonly", "anonymous"];
const CACHE_RESULTS: &[&str] = &["hit", "miss", "stale", "collapsed", "bypass"];
const OUTCOMES: &[&str] = &[
    "ok",
    "http_4xx",
    "http_5xx",
    "timeout",
    "connect_error",
    "error",
    "circuit_open",
    "overloaded",
];

/// The `field` / `path` names of the default masking rules: the only values of
/// `gateway_masked_fields_total{field}`.
fn mask_rule_names() -> BTreeSet<String> {
    include_str!("../../config/default.toml")
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            l.strip_prefix("field = ")
                .or_else(|| l.strip_prefix("path = "))
        })
        .map(|v| v.split('"').nth(1).expect("quoted rule name").to_owned())
        .collect()
}

/// Every label value in the scrape belongs to its documented closed set.
fn assert_closed_label_sets(scrape: &str) {
    let rules = mask_rule_names();
    assert!(rules.contains("email") && rules.len() > 30, "{rules:?}");
    for s in parse(scrape) {
        for (k, v) in &s.labels {
            let allowed: bool = match (s.name.as_str(), k.as_str()) {
                (_, "route") => ROUTES.contains(&v.as_str()),
                (_, "method") => METHODS.contains(&v.as_str()),
                (_, "client") => CLIENTS.contains(&v.as_str()),
                (_, "status_class") => ["1xx", "2xx", "3xx", "4xx", "5xx"].contains(&v.as_str()),
                ("gateway_requests_total", "cache") => {
                    CACHE_RESULTS.contains(&v.as_str()) || v == "none"
                }
                ("gateway_upstream_requests_total", "outcome") => OUTCOMES.contains(&v.as_str()),
                ("gateway_cache_lookups_total", "result") => CACHE_RESULTS.contains(&v.as_str()),
                (
                    "gateway_credential_reloads_total" | "gateway_clients_reloads_total",
                    "result",
                ) => ["ok", "failed"].contains(&v.as_str()),
                ("gateway_trace_export_spans_total", "result") => {
                    ["exported", "failed"].contains(&v.as_str())
                }
                ("gateway_mask_failures_total", "reason") => [
                    "parse_error",
                    "too_large",
                    "too_deep",
                    "bad_encoding",
                    "ambiguous_headers",
                    "passthrough_mismatch",
                    "content_range",
                ]
                .contains(&v.as_str()),
                ("gateway_secret_reflections_total", "location") => {
                    ["header", "body"].contains(&v.as_str())
                }
                ("gateway_upstream_credentials_rejected_total", "credential") => {
                    ["token", "token_or_signature"].contains(&v.as_str())
                }
                ("gateway_client_rejections_total", "reason") => {
                    ["unauthenticated", "forbidden", "rate_limited"].contains(&v.as_str())
                }
                ("gateway_cache_evictions_total", "cause") => {
                    ["expired", "size", "explicit", "replaced"].contains(&v.as_str())
                }
                ("gateway_cache_invalidations_total", "reason") => {
                    ["write", "write_all", "admin", "config_reload"].contains(&v.as_str())
                }
                ("gateway_cache_uncacheable_total", "reason") => {
                    ["status", "cache_control", "envelope", "vary"].contains(&v.as_str())
                }
                ("gateway_circuit_breakers_open", "scope") => {
                    ["upstream", "client"].contains(&v.as_str())
                }
                ("gateway_masked_fields_total", "field") => rules.contains(v),
                (
                    "gateway_mask_undeclared_fields_total" | "gateway_mask_policy_masked_total",
                    "family",
                ) => paycombat_gateway::mask::policy::PolicyFamily::from_label(v).is_some(),
                ("gateway_mask_policy_masked_total", "reason") => {
                    paycombat_gateway::mask::policy::MaskReason::ALL
                        .iter()
                        .any(|r| r.label() == v)
                }
                ("gateway_connections_open" | "gateway_connections_closed_total", "listener") => {
                    ["api", "admin"].contains(&v.as_str())
                }
                ("gateway_connections_closed_total", "reason") => [
                    "client_closed",
                    "idle",
                    "evicted",
                    "refused_cap",
                    "header_timeout",
                    "write_stall",
                    "drained",
                    "error",
                    "tls_handshake",
                ]
                .contains(&v.as_str()),
                ("gateway_tls_handshake_failures_total", "reason") => [
                    "no_client_certificate",
                    "bad_client_certificate",
                    "client_alert",
                    "not_tls",
                    "protocol",
                    "timeout",
                    "closed",
                ]
                .contains(&v.as_str()),
                ("gateway_tls_certificate_expiry_timestamp_seconds", "listener") => v == "api",
                ("gateway_tls_reloads_total", "result") => ["ok", "failed"].contains(&v.as_str()),
                ("gateway_config_reloads_total", "result") => {
                    ["applied", "unchanged", "invalid"].contains(&v.as_str())
                }
                (
                    "gateway_cluster_invalidations_published_total"
                    | "gateway_cluster_invalidations_received_total",
                    "kind",
                ) => ["customer", "all"].contains(&v.as_str()),
                ("gateway_cluster_rate_limit_decisions_total", "source") => {
                    ["redis", "local", "allow", "deny"].contains(&v.as_str())
                }
                ("gateway_cluster_rate_limit_decisions_total", "decision") => {
                    ["allowed", "limited"].contains(&v.as_str())
                }
                ("gateway_cluster_redis_errors_total", "operation") => [
                    "connect",
                    "subscribe",
                    "heartbeat",
                    "publish",
                    "ack",
                    "rate_limit",
                    "idempotency",
                ]
                .contains(&v.as_str()),
                ("gateway_idempotency_requests_total", "result") => {
                    paycombat_gateway::idempotency::metrics::RESULTS.contains(&v.as_str())
                }
                ("gateway_idempotency_outcomes_total", "outcome") => {
                    paycombat_gateway::idempotency::metrics::OUTCOMES.contains(&v.as_str())
                }
                ("gateway_idempotency_store_errors_total", "store" | "reason") => {
                    paycombat_gateway::idempotency::metrics::STORE_ERRORS
                        .iter()
                        .any(|(store, reason)| [*store, *reason].contains(&v.as_str()))
                }
                ("gateway_cluster_cache_drops_total", "reason") => {
                    ["subscribe", "stall"].contains(&v.as_str())
                }
                ("gateway_cluster_write_waits_total", "outcome") => {
                    ["confirmed", "lease", "unconfirmed"].contains(&v.as_str())
                }
                ("gateway_requests_abandoned_total", "reason") => [
                    "client_closed",
                    "stream_reset",
                    "write_timeout",
                    "drain_deadline",
                    "body_error",
                    "panicked",
                ]
                .contains(&v.as_str()),
                ("gateway_requests_abandoned_total", "phase") => {
                    ["waiting", "body"].contains(&v.as_str())
                }
                ("gateway_log_lines_dropped_total", "stream") => {
                    ["access", "log"].contains(&v.as_str())
                }
                (_, "le") => v == "+Inf" || v.parse::<f64>().is_ok(),
                ("gateway_build_info", "version" | "revision") => true,
                _ => false,
            };
            assert!(
                allowed,
                "label {k}=\"{v}\" on {} is outside its closed set",
                s.name
            );
        }
    }
}

fn assert_absent(scrape: &str, needles: &[&str]) {
    for n in needles {
        assert!(
            !scrape.contains(n),
            "`{n}` appears in the scrape:\n{scrape}"
        );
    }
}

// ---------------------------------------------------------------------------
// The scripted sequence

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

fn req(route: &str, method: &str, class: &str, cache: &str, client: &str) -> Delta {
    d(
        "gateway_requests_total",
        &[
            ("route", route),
            ("method", method),
            ("status_class", class),
            ("cache", cache),
            ("client", client),
        ],
        1.0,
    )
}
fn req_hist(route: &str) -> Delta {
    d(
        "gateway_request_duration_seconds_count",
        &[("route", route)],
        1.0,
    )
}
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

#[tokio::test]
async fn ids_paths_methods_and_keys_never_become_label_values() {
    let app = spawn_app().await;
    let written = customer_id(9);
    type Case = (Method, String, Vec<(&'static str, &'static str)>, u16);
    let cases: Vec<Case> = vec![
        // Not a well-formed id: bypasses the cache, and upstream refuses it.
        (
            Method::GET,
            "/api/v1/customer/customer/LEAKid1".into(),
            vec![],
            400,
        ),
        (
            Method::GET,
            format!("/api/v1/leakfamily2/{written}"),
            vec![],
            200,
        ),
        (
            Method::GET,
            "/api/v1/customer/customer?page=1&limit=5&sort=LEAKq3".into(),
            vec![],
            200,
        ),
        (
            Method::GET,
            "/api/v1/anything/x".into(),
            vec![("x-token", "LEAKkey4")],
            401,
        ),
        (Method::GET, "/LEAKpath5".into(), vec![], 404),
        (
            Method::PATCH,
            format!("/api/v1/customer/disable/{written}"),
            vec![],
            200,
        ),
    ];
    for (method, path, headers, status) in &cases {
        let r = app.send(method.clone(), path, headers, b"").await;
        assert_eq!(r.status, *status, "{method} {path}: {}", r.text());
    }
    let s = scrape(&app).await;
    assert_eq!(
        exact(
            &s,
            "gateway_requests_total",
            &[
                ("route", "customer_detail"),
                ("method", "GET"),
                ("status_class", "4xx"),
                ("cache", "bypass"),
                ("client", "test")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_requests_total",
            &[
                ("route", "other"),
                ("method", "GET"),
                ("status_class", "2xx"),
                ("cache", "none"),
                ("client", "test")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_requests_total",
            &[
                ("route", "customer_list"),
                ("method", "GET"),
                ("status_class", "2xx"),
                ("cache", "none"),
                ("client", "test")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_requests_total",
            &[
                ("route", "customer_disable"),
                ("method", "PATCH"),
                ("status_class", "2xx"),
                ("cache", "none"),
                ("client", "test")
            ]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_client_rejections_total",
            &[("client", "anonymous"), ("reason", "unauthenticated")]
        ),
        Some(1.0)
    );
    assert_closed_label_sets(&s);
    assert_absent(&s, &["LEAK", "leak", &written, "customer_000", "/api/"]);
    app.stop().await;
}

#[tokio::test]
async fn arbitrary_request_methods_do_not_mint_label_values() {
    let app = spawn_app().await;
    for m in ["LEAKMETHODA", "LEAKMETHODB"] {
        let method = Method::from_bytes(m.as_bytes()).unwrap();
        let r = app.send(method, "/api/v1/anything/m", &[], b"").await;
        assert!(r.status.as_u16() >= 200, "{m}");
    }
    let s = scrape(&app).await;
    assert_absent(&s, &["LEAKMETHOD"]);
    assert_closed_label_sets(&s);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// What a fresh gateway exports

#[tokio::test]
async fn fresh_scrape_has_build_info_process_metrics_and_prometheus_content_type() {
    let app = spawn_app().await;
    let r = app.admin(Method::GET, "/metrics", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-type"),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let s = r.text();

    let build: Vec<_> = parse(&s)
        .into_iter()
        .filter(|x| x.name == "gateway_build_info")
        .collect();
    assert_eq!(build.len(), 1, "{build:?}");
    assert_eq!(build[0].value, 1.0);
    assert_eq!(build[0].labels["version"], "0.1.0");
    let rev = &build[0].labels["revision"];
    assert_eq!(rev, paycombat_gateway::build::REVISION);
    assert!(
        rev == "unknown" || (rev.len() == 12 && rev.bytes().all(|b| b.is_ascii_hexdigit())),
        "revision {rev}"
    );

    // The standard process collector (Linux).
    assert!(exact_value(&s, "process_resident_memory_bytes", &[]) > 1_000_000.0);
    assert!(exact_value(&s, "process_open_fds", &[]) >= 3.0);
    assert!(exact_value(&s, "process_max_fds", &[]) >= exact_value(&s, "process_open_fds", &[]));
    assert!(
        s.lines()
            .any(|l| l.starts_with("process_cpu_seconds_total ")),
        "{s}"
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = exact_value(&s, "process_start_time_seconds", &[]);
    assert!(started > 0.0 && started <= now + 1.0, "{started}");

    // Gauges with known values at start.
    assert_eq!(exact(&s, "gateway_ready", &[]), Some(1.0));
    assert_eq!(exact(&s, "gateway_inflight_requests", &[]), Some(0.0));
    assert_eq!(exact(&s, "gateway_circuit_breaker_state", &[]), Some(0.0));
    assert_eq!(exact(&s, "gateway_cache_entries", &[]), Some(0.0));
    assert_eq!(
        exact(&s, "gateway_cache_max_bytes", &[]),
        Some(67_108_864.0)
    );
    assert_eq!(
        exact(&s, "gateway_clients_reloads_total", &[("result", "ok")]),
        Some(1.0)
    );
    // Series alerts use `increase()` on exist at 0 before the first event.
    for reason in ["parse_error", "too_large", "too_deep", "bad_encoding"] {
        assert!(
            s.contains(&format!(
                "gateway_mask_failures_total{{reason=\"{reason}\"}} 0"
            )),
            "{reason}"
        );
    }
    assert!(
        s.contains("gateway_credential_reloads_total{result=\"failed\"} 0"),
        "{s}"
    );

    // After one request, its histogram has exactly the documented buckets, µs to seconds.
    assert_eq!(app.get("/api/v1/anything/one").await.status, 200);
    let s = scrape(&app).await;
    let les: Vec<String> = parse(&s)
        .into_iter()
        .filter(|x| {
            x.name == "gateway_request_duration_seconds_bucket" && x.labels["route"] == "other"
        })
        .map(|x| x.labels["le"].clone())
        .collect();
    let want = [
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
        1.0, 2.5, 5.0, 10.0,
    ];
    assert_eq!(les.len(), want.len() + 1, "{les:?}");
    for (le, w) in les.iter().zip(want) {
        assert_eq!(le.parse::<f64>().unwrap(), w, "{les:?}");
    }
    assert_eq!(les.last().map(String::as_str), Some("+Inf"));
    assert!(s.contains("# TYPE gateway_request_duration_seconds histogram"));
    assert!(s.contains("# TYPE gateway_requests_total counter"));
    assert_eq!(
        exact(
            &s,
            "gateway_request_duration_seconds_bucket",
            &[("route", "other"), ("le", "+Inf")]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_upstream_duration_seconds_count",
            &[("route", "other")]
        ),
        Some(1.0)
    );
    assert!(
        exact_value(
            &s,
            "gateway_request_duration_seconds_sum",
            &[("route", "other")]
        ) > 0.0
    );

    promtool_check(&s);
    app.stop().await;
}

/// `promtool check metrics` on a real scrape, when promtool is installed.
fn promtool_check(scrape: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("note: promtool is not on PATH; skipping `promtool check metrics` (CI runs scripts/check-metrics.sh)");
            return;
        }
        Err(e) => panic!("promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(scrape.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------
// Health, readiness, the admin listener itself

/// deploy/grafana/metrics.txt (what the dashboard and alert checks accept)
/// lists every family a live scrape has, with its type. (Label-vector
/// families appear only once a series exists, so the list may hold more.)
#[tokio::test]
async fn the_deploy_metrics_list_covers_the_exported_set() {
    let app = spawn_app().await;
    let scrape = app.metrics().await;
    let exported: BTreeSet<String> = scrape
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(str::to_owned)
        .collect();
    let listed: BTreeSet<String> = include_str!("../../deploy/grafana/metrics.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    assert!(exported.len() > 20, "{exported:?}");
    assert_eq!(
        exported.difference(&listed).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "exported but not in deploy/grafana/metrics.txt"
    );
    app.stop().await;
}

#[tokio::test]
async fn health_readiness_and_unknown_admin_paths() {
    let app = spawn_app().await;
    let r = app.admin(Method::GET, "/healthz", &[]).await;
    assert_eq!((r.status.as_u16(), r.text().as_str()), (200, "ok\n"));
    let r = app.admin(Method::GET, "/readyz", &[]).await;
    assert_eq!((r.status.as_u16(), r.text().as_str()), (200, "ready\n"));
    for (method, path) in [
        (Method::GET, "/"),
        (Method::GET, "/nope"),
        (Method::GET, "/metrics/extra"),
        (Method::GET, "/api/v1/customer/customer"),
    ] {
        let r = app.admin(method.clone(), path, &[]).await;
        assert_eq!(r.status, 404, "{method} {path}");
        assert_eq!(r.error_code(), "NOT_FOUND", "{method} {path}");
    }
    // A known endpoint with the wrong method is 405, naming the right one.
    let r = app.admin(Method::DELETE, "/metrics", &[]).await;
    assert_eq!((r.status.as_u16(), r.header("allow")), (405, "GET, HEAD"));
    assert_eq!(r.error_code(), "METHOD_NOT_ALLOWED");
    // The admin listener serves SREs only: nothing reached upstream, nothing counted as API traffic.
    assert_eq!(app.state().request_count("all"), 0);
    let s = scrape(&app).await;
    assert!(
        !s.lines().any(|l| l.starts_with("gateway_requests_total")),
        "{s}"
    );
    app.stop().await;
}

#[tokio::test]
async fn ready_and_inflight_gauges_follow_a_drain() {
    let mut app = spawn_app().await;
    let s = scrape(&app).await;
    assert_eq!(exact(&s, "gateway_ready", &[]), Some(1.0));
    assert_eq!(exact(&s, "gateway_inflight_requests", &[]), Some(0.0));
    let slow = {
        let client = app.client.clone();
        let url = format!("http://{}/api/v1/anything/slow", app.addr);
        tokio::spawn(async move {
            request(
                &client,
                Method::GET,
                &url,
                &[("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=1500ms")],
                b"",
            )
            .await
        })
    };
    assert!(
        eventually(Duration::from_secs(3), || async {
            app.state().request_count("all") == 1
        })
        .await
    );
    assert_eq!(
        exact(&scrape(&app).await, "gateway_inflight_requests", &[]),
        Some(1.0)
    );

    let stopping = app.begin_stop();
    let not_ready = eventually(Duration::from_secs(3), || async {
        app.admin(Method::GET, "/readyz", &[]).await.status == 503
    })
    .await;
    assert!(not_ready, "/readyz turns 503 while draining");
    let s = scrape(&app).await;
    assert_eq!(
        exact(&s, "gateway_ready", &[]),
        Some(0.0),
        "the gauge agrees with /readyz"
    );
    assert_eq!(
        exact(&s, "gateway_inflight_requests", &[]),
        Some(1.0),
        "still serving the slow request"
    );
    assert_eq!(
        app.admin(Method::GET, "/healthz", &[]).await.status,
        200,
        "alive while draining"
    );
    assert_eq!(slow.await.unwrap().status, 200);
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
}

// ---------------------------------------------------------------------------
// Credentials

async fn reloads(app: &TestApp, result: &str) -> f64 {
    exact_value(
        &scrape(app).await,
        "gateway_credential_reloads_total",
        &[("result", result)],
    )
}

#[tokio::test]
async fn credentials_age_and_a_failed_reload_that_keeps_the_previous_token() {
    let app = spawn_app().await;
    let s = scrape(&app).await;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert_eq!(
        exact(&s, "gateway_credential_reloads_total", &[("result", "ok")]),
        Some(1.0),
        "the load at start"
    );
    assert_eq!(
        exact(
            &s,
            "gateway_credential_reloads_total",
            &[("result", "failed")]
        ),
        Some(0.0)
    );
    let age = exact_value(&s, "gateway_credentials_age_seconds", &[]);
    assert!((0.0..30.0).contains(&age), "age {age}");
    let loaded = exact_value(&s, "gateway_credentials_last_load_timestamp_seconds", &[]);
    assert!((now - loaded).abs() < 30.0, "loaded at {loaded}, now {now}");

    // Rewrite the same token until a reload is seen: the file watcher is then running.
    let token = app.sandbox_cfg.token.clone();
    let mut watched = false;
    for _ in 0..20 {
        let before = reloads(&app, "ok").await;
        std::fs::write(app.path("token"), format!("{token}\n")).unwrap();
        if eventually(Duration::from_millis(750), || async {
            reloads(&app, "ok").await > before
        })
        .await
        {
            watched = true;
            break;
        }
    }
    assert!(watched, "a token file change causes a reload");
    let ok_before = reloads(&app, "ok").await;
    let loaded_before = exact_value(
        &scrape(&app).await,
        "gateway_credentials_last_load_timestamp_seconds",
        &[],
    );

    std::fs::write(app.path("token"), "").unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            reloads(&app, "failed").await >= 1.0
        })
        .await,
        "an empty token file is a failed reload"
    );
    let s = scrape(&app).await;
    assert_eq!(
        exact(
            &s,
            "gateway_credential_reloads_total",
            &[("result", "failed")]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact_value(&s, "gateway_credential_reloads_total", &[("result", "ok")]),
        ok_before
    );
    assert_eq!(
        exact_value(&s, "gateway_credentials_last_load_timestamp_seconds", &[]),
        loaded_before,
        "a failed reload is not a load"
    );

    // Requests still go out, with the previous token.
    let r = app.get("/api/v1/anything/after-failed-reload").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let last = app.state().requests().pop().unwrap();
    assert_eq!(last.headers["x-token"], token.as_str());

    // Fixing the file is an ok reload again.
    std::fs::write(app.path("token"), &token).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || async {
            reloads(&app, "ok").await > ok_before
        })
        .await
    );
    assert!(exact_value(&scrape(&app).await, "gateway_credentials_age_seconds", &[]) < 30.0);
    app.stop().await;
}

// ---------------------------------------------------------------------------
// Cache, retries, breaker, overload

#[tokio::test]
async fn cache_results_gauges_evictions_and_invalidations() {
    let app =
        spawn_app_overlay("[cache.routes.customer_detail]\nttl = \"1s\"\nstale_if_error = \"60s\"")
            .await;
    let detail = format!("/api/v1/customer/customer/{FIXTURE_ID}");
    let s0 = scrape(&app).await;
    let r = app.get(&detail).await;
    assert_eq!(r.status, 200);
    let s = scrape(&app).await;
    assert_eq!(exact(&s, "gateway_cache_entries", &[]), Some(1.0));
    let weighted = exact_value(&s, "gateway_cache_weighted_bytes", &[]);
    assert!(
        weighted >= r.body.len() as f64 && weighted < 64.0 * 1024.0,
        "weighted {weighted}"
    );

    assert_eq!(app.get(&detail).await.status, 200);
    let r = app
        .send(Method::GET, &detail, &[("cache-control", "no-store")], b"")
        .await;
    assert_eq!(r.status, 200);

    // Two readers of one missing customer share one upstream call.
    let id = customer_id(5);
    let path = format!("/api/v1/customer/customer/{id}");
    let first = {
        let client = app.client.clone();
        let url = format!("http://{}{path}", app.addr);
        tokio::spawn(async move {
            request(
                &client,
                Method::GET,
                &url,
                &[("x-token", CLIENT_KEY), ("x-sandbox-fault", "delay=400ms")],
                b"",
            )
            .await
        })
    };
    let detail_calls = app.state().request_count("customer_detail");
    assert!(
        eventually(Duration::from_secs(3), || async {
            app.state().request_count("customer_detail") > detail_calls
        })
        .await
    );
    let second = app.get(&path).await;
    assert_eq!(second.status, 200);
    assert_eq!(first.await.unwrap().status, 200);
    assert_eq!(
        app.state().request_count("customer_detail"),
        detail_calls + 1
    );

    // Past the TTL (by the gateway's clock), an upstream 5xx is answered from the stale entry.
    app.clock.advance(Duration::from_millis(1100));
    let r = app
        .send(
            Method::GET,
            &detail,
            &[("x-sandbox-fault", "status=503")],
            b"",
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());

    let s1 = scrape(&app).await;
    let lk = |s: &str, result: &str| {
        exact_value(
            s,
            "gateway_cache_lookups_total",
            &[("route", "customer_detail"), ("result", result)],
        ) - exact_value(
            &s0,
            "gateway_cache_lookups_total",
            &[("route", "customer_detail"), ("result", result)],
        )
    };
    assert_eq!(
        ["miss", "hit", "bypass", "collapsed", "stale"].map(|r| lk(&s1, r)),
        [2.0, 1.0, 1.0, 1.0, 1.0],
        "miss, hit, bypass, collapsed, stale"
    );
    for (cache, n) in [
        ("miss", 2.0),
        ("hit", 1.0),
        ("bypass", 1.0),
        ("collapsed", 1.0),
        ("stale", 1.0),
    ] {
        let l = [
            ("route", "customer_detail"),
            ("method", "GET"),
            ("status_class", "2xx"),
            ("cache", cache),
            ("client", "test"),
        ];
        assert_eq!(exact_value(&s1, "gateway_requests_total", &l), n, "{cache}");
    }

    // A write purges its customer: one invalidation, one explicit eviction.
    let entries = exact_value(&s1, "gateway_cache_entries", &[]);
    assert_eq!(
        entries, 2.0,
        "the fixture (stale, kept) and the collapsed fill"
    );
    let r = app
        .send(
            Method::PATCH,
            &format!("/api/v1/customer/disable/{id}"),
            &[],
            b"",
        )
        .await;
    assert_eq!(r.status, 200);
    let s2 = scrape(&app).await;
    assert_eq!(
        exact(
            &s2,
            "gateway_cache_invalidations_total",
            &[("reason", "write")]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s2,
            "gateway_cache_evictions_total",
            &[("cause", "explicit")]
        ),
        Some(1.0)
    );
    assert_eq!(exact(&s2, "gateway_cache_entries", &[]), Some(1.0));

    // An admin purge is counted under `admin` and empties the cache.
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let r = app
        .admin(
            Method::POST,
            "/admin/cache/purge?all=true",
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let s3 = scrape(&app).await;
    assert_eq!(
        exact(
            &s3,
            "gateway_cache_invalidations_total",
            &[("reason", "admin")]
        ),
        Some(1.0)
    );
    assert_eq!(exact(&s3, "gateway_cache_entries", &[]), Some(0.0));
    assert_eq!(exact(&s3, "gateway_cache_weighted_bytes", &[]), Some(0.0));
    app.stop().await;
}

#[tokio::test]
async fn get_retries_count_every_attempt() {
    let app = spawn_app_overlay("[upstream.retry]\nmax_retries = 2\nbackoff = \"10ms\"").await;
    let s0 = scrape(&app).await;
    let r = app
        .send(
            Method::GET,
            "/api/v1/anything/flaky",
            &[("x-sandbox-fault", "status=503")],
            b"",
        )
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(app.state().request_count("all"), 3);
    let s1 = scrape(&app).await;
    assert_step(
        "retried GET",
        &s0,
        &s1,
        &[
            req("other", "GET", "5xx", "none", "test"),
            req_hist("other"),
            d(
                "gateway_upstream_requests_total",
                &[("route", "other"), ("outcome", "http_5xx")],
                3.0,
            ),
            d(
                "gateway_upstream_duration_seconds_count",
                &[("route", "other")],
                3.0,
            ),
            d("gateway_upstream_retries_total", &[("route", "other")], 2.0),
        ],
    );
    app.stop().await;
}

#[tokio::test]
async fn breaker_gauge_and_circuit_open_outcome() {
    let app = spawn_app_overlay(
        "[upstream.circuit_breaker]\nfailure_threshold = 2\ncool_down = \"500ms\"",
    )
    .await;
    for _ in 0..2 {
        let r = app
            .send(
                Method::POST,
                "/api/v1/payin/create",
                &[("x-sandbox-fault", "status=503")],
                b"{}",
            )
            .await;
        assert_eq!(r.status, 503);
    }
    let s = scrape(&app).await;
    assert_eq!(
        exact(&s, "gateway_circuit_breaker_state", &[]),
        Some(1.0),
        "open"
    );
    let r = app
        .send(Method::POST, "/api/v1/payin/create", &[], b"{}")
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(
        app.state().request_count("all"),
        2,
        "refused without calling upstream"
    );
    let s = scrape(&app).await;
    assert_eq!(
        exact(
            &s,
            "gateway_upstream_requests_total",
            &[("route", "payin"), ("outcome", "circuit_open")]
        ),
        Some(1.0)
    );
    assert_eq!(
        exact(
            &s,
            "gateway_upstream_requests_total",
            &[("route", "payin"), ("outcome", "http_5xx")]
        ),
        Some(2.0)
    );
    // After the cool-down a successful probe closes it again.
    app.clock.advance(Duration::from_millis(500));
    let closed = eventually(Duration::from_secs(3), || async {
        app.get("/api/v1/anything/probe").await.status == 200
            && exact(&scrape(&app).await, "gateway_circuit_breaker_state", &[]) == Some(0.0)
    })
    .await;
    assert!(closed, "the breaker closes after a successful probe");
    app.stop().await;
}
